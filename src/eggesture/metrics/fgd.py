"""Fréchet distance between feature distributions: FGD / FID (paper eq. 12).

    FGD(g, ĝ) = ‖μ_r − μ_p‖² + Tr(Σ_r + Σ_p − 2 (Σ_r Σ_p)^{1/2})                       (12)

μ and Σ are the mean and covariance of latent features of real (r) and generated (p) motion
windows; in this project the features come from the CNN motion autoencoder of
:mod:`eggesture.evaluation.feature_ae`. The value has the squared units of those features
(dimensionless for our autoencoder, whose input is normalised motion), so FGDs are comparable
only between runs that use the same feature extractor.

Numerics (the literature's recurring trouble: negative, NaN or complex FGDs depending on the
SciPy version):

* both covariances get the same tiny diagonal offset ``eps·I`` *in every term*, i.e. we compute
  the exact Fréchet distance between N(μ_r, Σ_r + εI) and N(μ_p, Σ_p + εI); unlike adding the
  offset inside the square root only, this keeps FGD(x, x) = 0;
* ``Tr (Σ_r Σ_p)^{1/2}`` comes from ``scipy.linalg.sqrtm`` (as in the reference FID code) and
  is cross-checked against the symmetric form ``Σ_i sqrt(λ_i(Σ_r^{1/2} Σ_p Σ_r^{1/2}))``,
  which needs no complex arithmetic; disagreement, a large imaginary part, a NaN or a negative
  result beyond rounding raise ``ValueError`` — such a number is never reported.
"""

from __future__ import annotations

import numpy as np
from scipy import linalg

#: Diagonal offset added to both covariances.
EPS = 1e-6
#: Largest imaginary part of sqrtm's diagonal, relative to its real part, taken as rounding.
IMAG_TOL = 1e-3
#: Negative results down to ``−NEG_TOL · scale`` are rounding and read as 0 (``scale`` =
#: ‖μ_r − μ_p‖² + Tr Σ_r + Tr Σ_p, the size of the terms that cancel).
NEG_TOL = 1e-6
#: sqrtm's trace and the symmetric eigenvalue form may differ by this fraction of ``scale``.
CROSS_CHECK_TOL = 1e-4


def gaussian_stats(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean ``(D,)`` and unbiased covariance ``(D, D)`` of ``features (N, D)`` (float64)."""
    f = np.asarray(features, dtype=np.float64)
    if f.ndim != 2:
        raise ValueError(f"features must be (N, D), got shape {f.shape}")
    if f.shape[0] < 2:
        raise ValueError(f"need at least 2 feature vectors for a covariance, got {f.shape[0]}")
    if not np.isfinite(f).all():
        raise ValueError("features hold NaN or infinite values")
    return f.mean(axis=0), np.atleast_2d(np.cov(f, rowvar=False))


def frechet_distance_from_stats(
    mu_r: np.ndarray, sigma_r: np.ndarray, mu_p: np.ndarray, sigma_p: np.ndarray,
    *, eps: float = EPS,
) -> float:
    """Eq. 12 from moments: means ``(D,)`` and covariances ``(D, D)``; returns a float ≥ 0.

    Raises ``ValueError`` for mismatched shapes, non-finite input, a complex-dominated matrix
    square root, a disagreement between the two trace computations or a negative result
    beyond rounding.
    """
    mu_r = np.atleast_1d(np.asarray(mu_r, np.float64))
    mu_p = np.atleast_1d(np.asarray(mu_p, np.float64))
    s_r = np.atleast_2d(np.asarray(sigma_r, np.float64))
    s_p = np.atleast_2d(np.asarray(sigma_p, np.float64))
    d = mu_r.shape[0]
    if mu_p.shape != (d,) or s_r.shape != (d, d) or s_p.shape != (d, d):
        raise ValueError(f"shape mismatch: means {mu_r.shape} / {mu_p.shape}, "
                         f"covariances {s_r.shape} / {s_p.shape}")
    for name, a in (("mu_r", mu_r), ("mu_p", mu_p), ("sigma_r", s_r), ("sigma_p", s_p)):
        if not np.isfinite(a).all():
            raise ValueError(f"{name} holds NaN or infinite values")
    s_r = s_r + eps * np.eye(d)
    s_p = s_p + eps * np.eye(d)
    diff = mu_r - mu_p
    mean_term = float(diff @ diff)
    tr_r, tr_p = float(np.trace(s_r)), float(np.trace(s_p))
    scale = max(mean_term + tr_r + tr_p, np.finfo(np.float64).tiny)

    covmean = linalg.sqrtm(s_r @ s_p)
    if not np.isfinite(covmean).all():
        raise ValueError("FGD: the matrix square root of Σ_r·Σ_p is not finite")
    if np.iscomplexobj(covmean):
        diag = np.diagonal(covmean)
        imag = float(np.abs(diag.imag).max())
        if imag > IMAG_TOL * max(float(np.abs(diag.real).max()), 1e-12):
            raise ValueError(f"FGD: the matrix square root has a large imaginary part "
                             f"({imag:.3g}); the covariances are not valid (too few or "
                             "degenerate features?)")
        covmean = covmean.real
    tr_sqrt = float(np.trace(covmean))
    tr_sym = _trace_sqrt_product_symmetric(s_r, s_p)
    if abs(tr_sqrt - tr_sym) > CROSS_CHECK_TOL * scale:
        raise ValueError(f"FGD: scipy.linalg.sqrtm gives Tr = {tr_sqrt:.6g} but the symmetric "
                         f"form gives {tr_sym:.6g}; refusing an unreliable number")

    fgd = mean_term + tr_r + tr_p - 2.0 * tr_sqrt
    if np.isnan(fgd):
        raise ValueError("FGD is NaN")
    if fgd < 0:
        if fgd < -NEG_TOL * scale:
            raise ValueError(f"FGD is negative ({fgd:.6g}) beyond rounding (scale {scale:.3g})")
        fgd = 0.0
    return float(fgd)


def frechet_distance(feats_real: np.ndarray, feats_gen: np.ndarray, *, eps: float = EPS) -> float:
    """FGD (eq. 12) between ``feats_real (N, D)`` and ``feats_gen (M, D)``: a float ≥ 0.

    Units: the square of the feature units. N and M should be well above D for a stable
    covariance; fewer samples still give a number (the offset keeps it defined) but a noisy one.
    """
    mu_r, s_r = gaussian_stats(feats_real)
    mu_p, s_p = gaussian_stats(feats_gen)
    if mu_r.shape != mu_p.shape:
        raise ValueError(f"feature dimensions differ: real {mu_r.shape[0]}, "
                         f"generated {mu_p.shape[0]}")
    return frechet_distance_from_stats(mu_r, s_r, mu_p, s_p, eps=eps)


def _trace_sqrt_product_symmetric(s_r: np.ndarray, s_p: np.ndarray) -> float:
    """``Tr (Σ_r Σ_p)^{1/2}`` as ``Σ sqrt λ(A Σ_p A)`` with ``A = Σ_r^{1/2}`` (both PSD).

    Σ_r Σ_p is similar to the symmetric PSD matrix A Σ_p A, so they share eigenvalues.
    """
    w, v = linalg.eigh(s_r)
    a = (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T  # Σ_r^{1/2}, (D, D)
    lam = linalg.eigvalsh(a @ s_p @ a)
    return float(np.sqrt(np.clip(lam, 0.0, None)).sum())
