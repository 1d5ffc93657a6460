"""Codebook statistics: utilisation, perplexity, entropy, usage histogram (paper Fig. 1, 2, 6, 7).

For code indices drawn from a codebook of K entries with empirical frequencies
``p_k = n_k / Σ n``:

* utilisation = |{k : n_k > 0}| / K — the fraction of codes used at least once (the paper's
  "28 % utilisation" of the vanilla VQ-VAE, Fig. 1);
* entropy H = −Σ_k p_k ln p_k (nats), perplexity = exp(H) (the effective number of codes,
  1 … K), normalised entropy = H / ln K (0 … 1; 1 = uniform use — what the paper's entropy
  loss drives towards, eq. 8–9);
* the sorted usage histogram is ``n_k`` in decreasing order (Fig. 1);
* :func:`utilization_per_epoch` reads utilisation over training from a training log (Fig. 6).
"""

from __future__ import annotations

import csv
import math
from dataclasses import asdict, dataclass
from pathlib import Path

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


def _find_column(columns: list[str], column: str | None) -> str:
    if column is not None:
        if column not in columns:
            raise ValueError(f"column {column!r} not in the log (columns: {', '.join(columns)})")
        return column
    cands = [c for c in columns if "utiliz" in c.lower() or "utilis" in c.lower()]
    if len(cands) > 1:
        narrowed = ([c for c in cands if "epoch" in c.lower()]
                    or [c for c in cands if "train" in c.lower()])
        cands = narrowed if len(narrowed) == 1 else cands
    if len(cands) != 1:
        raise ValueError("cannot tell which column holds the codebook utilisation "
                         f"(candidates: {cands or 'none'}); pass column=")
    return cands[0]


def utilization_per_epoch(
    log: str | Path | list[dict], column: str | None = None, epoch_column: str = "epoch",
) -> list[tuple[int, float]]:
    """``[(epoch, utilisation), ...]`` in epoch order from a training log (paper Fig. 6).

    ``log`` is a CSV file (e.g. Lightning's ``metrics.csv``: one row per logging step, empty
    cells where a metric was not logged) or its rows as dicts. ``column`` names the
    utilisation column (fraction in [0, 1]); by default the one column whose name contains
    "utilization"/"utilisation" (preferring one with "epoch" in its name). For each epoch the
    last logged value counts.
    """
    if isinstance(log, (str, Path)):
        path = Path(log)
        with path.open(newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
    else:
        rows = list(log)
    if not rows:
        raise ValueError("the training log has no rows")
    columns = list(rows[0].keys())
    col = _find_column(columns, column)
    if epoch_column not in columns:
        raise ValueError(f"the training log has no {epoch_column!r} column")
    last: dict[int, float] = {}
    for r in rows:
        v, e = r.get(col), r.get(epoch_column)
        if v in (None, "") or e in (None, ""):
            continue
        last[int(float(e))] = float(v)
    if not last:
        raise ValueError(f"no values logged in column {col!r}")
    return sorted(last.items())
