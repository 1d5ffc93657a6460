"""The classifier against its own targets: where a spreading classifier shows (DESIGN §3).

Exact-match token accuracy says how often the classifier picks the VQ-VAE's code of the ground
truth. It is not comparable across codebooks in different use (a model using 309 codes has more
ways to be wrong than one using 70), and it hides *which* codes the classifier gets wrong. So,
beside it:

* **accuracy by code frequency**: the codes sorted by their training frequency and cut into three
  groups that each hold a third of the training tokens — ``many`` (the few frequent codes that
  make up the first third), ``medium`` (the next third), ``few`` (the many rare codes of the last
  third, and every code never seen in training). Accuracy over the target tokens of each group.
  (The long-tail literature's many/medium/few shots, cut by token mass, not by fixed counts, so
  that the groups mean the same for any K.)
* **histogram distance**: total variation ``½ Σ_k |p̂_k − p_k|`` between the histogram of the
  predicted codes ``p̂`` and that of the target codes ``p`` (0: the same usage; 1: disjoint). A
  classifier that spreads its predictions over rarely seen codes has a large one.
* **motion-space token error**: the mean geodesic angle (degrees, over frames and joints) between
  the motion decoded from the predicted tokens and the motion decoded from the target tokens —
  comparable across codebooks, since it is measured where the tokens end up.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

#: The frequency groups, from the most to the least frequent codes.
FREQUENCY_GROUPS = ("many", "medium", "few")


def frequency_groups(freq: np.ndarray) -> np.ndarray:
    """Group of each code ``(K,)`` in {0: many, 1: medium, 2: few} from training frequencies
    ``freq (K,)``: codes by decreasing frequency, each in the group of the token share that the
    codes before it hold (< ⅓ many, < ⅔ medium, else few); unseen codes are ``few``."""
    f = np.asarray(freq, dtype=np.float64).reshape(-1)
    if f.size == 0 or (f < 0).any() or f.sum() <= 0:
        raise ValueError("training frequencies must be non-negative with a positive total")
    f = f / f.sum()
    order = np.argsort(-f, kind="stable")
    before = np.concatenate([[0.0], np.cumsum(f[order])[:-1]])  # mass of the codes before each
    groups = np.full(f.size, 2, dtype=np.int64)
    groups[order] = np.where(before < 1 / 3 - 1e-12, 0, np.where(before < 2 / 3 - 1e-12, 1, 2))
    groups[f == 0] = 2
    return groups


def total_variation(p: np.ndarray, q: np.ndarray) -> float:
    """``½ Σ_k |p_k − q_k|`` of two count (or frequency) vectors, each normalised first."""
    p, q = np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)
    if p.sum() <= 0 or q.sum() <= 0:
        raise ValueError("no code indices to compare")
    return float(0.5 * np.abs(p / p.sum() - q / q.sum()).sum())


def histogram_distance(predicted: np.ndarray, target: np.ndarray, codebook_size: int) -> float:
    """Total variation distance in [0, 1] between the code histograms of two index arrays."""
    return total_variation(np.bincount(np.asarray(predicted).reshape(-1), minlength=codebook_size),
                           np.bincount(np.asarray(target).reshape(-1), minlength=codebook_size))


def rotation_error_deg(a: np.ndarray, b: np.ndarray) -> float:
    """Mean geodesic angle in degrees between rotation matrices ``a, b (..., 3, 3)``."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.shape[-2:] != (3, 3):
        raise ValueError(f"expected two (..., 3, 3) arrays of one shape, got {a.shape}, {b.shape}")
    trace = np.einsum("...ij,...ij->...", a, b)  # trace(aᵀ b)
    return float(np.degrees(np.arccos(np.clip((trace - 1) / 2, -1.0, 1.0))).mean())


@dataclass
class TokenDiagnostics:
    """The classifier's tokens against the VQ-VAE's codes of the ground truth."""

    accuracy: float
    """Share of predicted tokens equal to their target."""
    accuracy_by_frequency: dict[str, float | None]
    """Accuracy over the target tokens of each frequency group (None: no such target)."""
    targets_by_frequency: dict[str, int]
    """Target tokens in each group."""
    codes_by_frequency: dict[str, int]
    """Codes in each group (by training frequency)."""
    histogram_distance: float
    """Total variation between predicted and target code histograms, [0, 1]."""
    predicted_codes_used: int
    target_codes_used: int
    tokens: int
    motion_error_deg: float | None = None
    """Mean geodesic angle (degrees) between the motion decoded from the predicted tokens and
    from the target tokens; None when not measured."""
    definitions: dict[str, str] = field(default_factory=lambda: {
        "frequency_groups": "codes by decreasing training frequency (the VQ-VAE's moving average "
                            "of hard code usage); many/medium/few = the codes holding the first, "
                            "second and last third of the training tokens",
        "histogram_distance": "total variation between predicted and target code histograms",
        "motion_error_deg": "mean geodesic angle between the motion decoded from predicted and "
                            "from target tokens, over frames and joints"})

    def to_dict(self) -> dict:
        return asdict(self)


def token_diagnostics(predicted: np.ndarray, target: np.ndarray, train_freq: np.ndarray,
                      motion_error_deg: float | None = None) -> TokenDiagnostics:
    """Diagnostics of ``predicted`` against ``target`` code indices (same shape, any) with the
    codes' training frequencies ``train_freq (K,)``."""
    pred, tgt = np.asarray(predicted).reshape(-1), np.asarray(target).reshape(-1)
    if pred.shape != tgt.shape or pred.size == 0:
        raise ValueError(f"predicted and target indices must be non-empty and of one size, got "
                         f"{pred.size} and {tgt.size}")
    k = int(np.asarray(train_freq).size)
    groups = frequency_groups(train_freq)
    hit = pred == tgt
    acc, n_tgt, n_codes = {}, {}, {}
    for g, name in enumerate(FREQUENCY_GROUPS):
        sel = groups[tgt] == g
        n_tgt[name], n_codes[name] = int(sel.sum()), int((groups == g).sum())
        acc[name] = float(hit[sel].mean()) if sel.any() else None
    return TokenDiagnostics(
        accuracy=float(hit.mean()), accuracy_by_frequency=acc, targets_by_frequency=n_tgt,
        codes_by_frequency=n_codes, histogram_distance=histogram_distance(pred, tgt, k),
        predicted_codes_used=int(np.unique(pred).size), target_codes_used=int(np.unique(tgt).size),
        tokens=int(pred.size), motion_error_deg=motion_error_deg)
