"""Codebook statistics: utilisation, perplexity, entropy, usage histogram (paper Fig. 1, 2, 6, 7).

For code indices drawn from a codebook of K entries with empirical frequencies
``p_k = n_k / Σ n``:

* utilisation = |{k : n_k > 0}| / K — the fraction of codes used at least once (the paper's
  "28 % utilisation" of the vanilla VQ-VAE, Fig. 1);
* entropy H = −Σ_k p_k ln p_k (nats), perplexity = exp(H) (the effective number of codes,
  1 … K), normalised entropy = H / ln K (0 … 1; 1 = uniform use — what the paper's entropy
  loss drives towards, eq. 8–9);
* the sorted usage histogram is ``n_k`` in decreasing order (Fig. 1).

Utilisation over training (Fig. 6) is read from the training log by
:func:`eggesture.training.log.utilization_per_epoch`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np


@dataclass
class CodebookStats:
    """Usage statistics of one set of code indices."""

    utilization: float
    """Fraction of the K codes used at least once, in [0, 1]."""
    perplexity: float
    """exp(entropy): effective number of codes used, in [1, K]."""
    normalized_entropy: float
    """Entropy / ln K, in [0, 1]."""
    entropy_nats: float
    """Entropy of the empirical code distribution, nats."""
    used: int
    """Codes used at least once."""
    codebook_size: int
    """K."""
    tokens: int
    """Number of indices counted."""
    counts: list[int]
    """Occurrences of each code, index order, length K."""

    def to_dict(self, with_counts: bool = True) -> dict:
        d = asdict(self)
        if not with_counts:
            d.pop("counts")
        return d


def codebook_stats(indices: np.ndarray, codebook_size: int) -> CodebookStats:
    """Statistics of code ``indices`` (any shape, integers in ``[0, K)``), K = ``codebook_size``."""
    if codebook_size < 1:
        raise ValueError(f"codebook_size must be ≥ 1, got {codebook_size}")
    idx = np.asarray(indices).reshape(-1)
    if idx.size == 0:
        raise ValueError("no code indices to count")
    if not np.issubdtype(idx.dtype, np.integer):
        if not np.all(np.equal(np.mod(idx, 1), 0)):
            raise ValueError("code indices must be integers")
        idx = idx.astype(np.int64)
    if idx.min() < 0 or idx.max() >= codebook_size:
        raise ValueError(f"code indices must lie in [0, {codebook_size}), got "
                         f"[{int(idx.min())}, {int(idx.max())}]")
    counts = np.bincount(idx, minlength=codebook_size)
    return stats_from_counts(counts)


def stats_from_counts(counts: np.ndarray) -> CodebookStats:
    """Statistics from per-code counts ``(K,)`` (non-negative)."""
    c = np.asarray(counts, dtype=np.int64).reshape(-1)
    k = c.size
    total = int(c.sum())
    if k == 0 or total <= 0 or (c < 0).any():
        raise ValueError("counts must be non-negative with a positive total")
    p = c[c > 0] / total
    h = float(-(p * np.log(p)).sum())
    return CodebookStats(
        utilization=float((c > 0).sum() / k), perplexity=float(math.exp(h)),
        normalized_entropy=h / math.log(k) if k > 1 else 1.0, entropy_nats=h,
        used=int((c > 0).sum()), codebook_size=k, tokens=total, counts=c.tolist(),
    )


def sorted_usage(counts: np.ndarray, normalize: bool = True) -> np.ndarray:
    """Code usage in decreasing order ``(K,)`` (Fig. 1); as frequencies summing to 1 by default."""
    c = np.sort(np.asarray(counts, dtype=np.float64).reshape(-1))[::-1]
    if normalize:
        total = c.sum()
        if total <= 0:
            raise ValueError("counts sum to zero")
        c = c / total
    return c
