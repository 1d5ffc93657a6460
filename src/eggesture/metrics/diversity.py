"""L1 diversity of generated motion (paper eq. 14) and the per-sequence variant of BEAT2.

Paper, eq. 14, for a group of N generated clips r¹ … r^N of equal length::

    L1div = 1 / (2N(N − 1)) · Σ_{i=1}^{N} Σ_{j=1}^{N} ‖r^i − r^j‖₁                        (14)

with r_t "the rotation of joints in frame t" and groups of N = 40 ("prior works have set this
group size to 40, we follow this"). Our reading, stated in every result: ‖r^i − r^j‖₁ is the
L1 distance per frame, ``(1/T) Σ_t Σ_d |r^i_{t,d} − r^j_{t,d}|`` (summed over all joints and
rotation components, averaged over frames), and the double sum runs over all ordered pairs as
printed — so eq. 14 is *half* the mean pairwise distance that the paper's text describes ("the
average L1 distance between two randomly chosen gesture sequences"); both numbers are returned.
Units: those of the rotation values given (e.g. 6D components or radians of axis-angle) per frame.

The BEAT2/EMAGE literature instead reports a per-sequence spread
(:func:`l1_diversity_per_sequence`): ``Σ_t Σ_d |x_{t,d} − mean_t x_d|`` over all frames of all
sequences divided by the total frame count, on joint *positions* (metres, 55 joints × 3).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

#: Group size of eq. 14 (the paper and prior work).
GROUP = 40


@dataclass
class L1Diversity:
    """Eq. 14 averaged over groups, with its protocol."""

    l1div: float
    """Eq. 14 as printed, mean over groups."""
    mean_pairwise_l1: float
    """Mean L1 distance per frame between two different clips (= 2 · l1div)."""
    groups: int
    """Number of groups averaged."""
    group_size: int
    """Clips per group."""
    clips_unused: int
    """Clips left over after the last full group (not scored)."""
    units: str
    protocol: str

    def to_dict(self) -> dict:
        return asdict(self)


def _pairwise_l1_sum(group: np.ndarray) -> float:
    """``Σ_i Σ_j (1/T) Σ_{t,d} |g_i − g_j|`` over all ordered pairs of ``group (N, T, D)``."""
    n, t = group.shape[:2]
    flat = group.reshape(n, -1)
    total = 0.0
    for i in range(n):  # O(N) memory instead of O(N²·T·D)
        total += float(np.abs(flat[i + 1:] - flat[i]).sum())
    return 2.0 * total / t


def l1_diversity(
    clips: np.ndarray, group: int = GROUP, *, units: str = "rotation units",
) -> L1Diversity:
    """Eq. 14 on ``clips (N, T, D)`` (or ``(N, T, J, C)``, flattened) in consecutive groups.

    Clips ``[k·group, (k+1)·group)`` form group k; leftovers after the last full group are not
    scored (their count is reported). With fewer than ``group`` clips (but at least 2) a single
    group of all clips is used and ``group_size`` says so.
    """
    x = np.asarray(clips, dtype=np.float64)
    if x.ndim < 3:
        raise ValueError(f"clips must be (N, T, D), got shape {x.shape}")
    x = x.reshape(x.shape[0], x.shape[1], -1)
    n = x.shape[0]
    if n < 2:
        raise ValueError(f"L1 diversity needs at least 2 clips, got {n}")
    if x.shape[1] == 0:
        raise ValueError("clips have no frames")
    if not np.isfinite(x).all():
        raise ValueError("clips hold NaN or infinite values")
    if group < 2:
        raise ValueError(f"group must be ≥ 2, got {group}")
    size = group if n >= group else n
    n_groups = n // size
    values = []
    for k in range(n_groups):
        g = x[k * size:(k + 1) * size]
        values.append(_pairwise_l1_sum(g) / (2 * size * (size - 1)))
    l1div = float(np.mean(values))
    return L1Diversity(
        l1div=l1div, mean_pairwise_l1=2.0 * l1div, groups=n_groups, group_size=size,
        clips_unused=n - n_groups * size, units=f"{units} per frame",
        protocol=(f"paper eq. 14: 1/(2N(N-1)) sum over ordered pairs of the per-frame L1 "
                  f"distance, consecutive groups of N={size} clips of {x.shape[1]} frames, "
                  "mean over groups"),
    )


def l1_diversity_per_sequence(sequences: list[np.ndarray] | np.ndarray) -> float:
    """BEAT2/EMAGE L1div: ``Σ_seq Σ_t Σ_d |x_{t,d} − mean_t x_d| / Σ_seq T``.

    ``sequences``: a list of arrays ``(T, D)`` or ``(T, J, 3)`` (flattened per frame), or one
    ``(T, D)`` array. In the literature they are joint positions in metres of the 55 SMPL-X
    joints, so the result is metres per frame summed over 165 coordinates.
    """
    if isinstance(sequences, np.ndarray):
        if sequences.ndim != 2:
            raise ValueError("pass a list of sequences; a single array must be (T, D), "
                             f"got {sequences.shape}")
        sequences = [sequences]
    total, frames = 0.0, 0
    for s in sequences:
        a = np.asarray(s, dtype=np.float64)
        a = a.reshape(a.shape[0], -1)
        if not np.isfinite(a).all():
            raise ValueError("a sequence holds NaN or infinite values")
        total += float(np.abs(a - a.mean(axis=0)).sum())
        frames += a.shape[0]
    if frames == 0:
        raise ValueError("no frames to measure")
    return total / frames
