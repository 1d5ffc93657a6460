"""95 % intervals for results over training seeds and over evaluation events.

One training seed and a few dozen events decide nothing (one event moved tail recall by 0.04),
so every comparison this project prints carries an interval:

* :func:`t_interval` — over seeds: ``mean ± t_{0.975, n−1} · s / √n`` (Student's t; one value
  has no interval);
* :func:`bootstrap_rate` — for a rate over events (recall, precision): percentile bootstrap
  that resamples the events and, with several runs, the runs too (a two-level bootstrap: the
  events of one held-out split are shared by every seed's run, so they are resampled once per
  replicate and every resampled run scores the same resampled events).

Two methods are told apart only when their intervals do not overlap (:func:`separated`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy.stats import t as student

#: Confidence level of every interval.
LEVEL = 0.95
#: Bootstrap replicates.
N_BOOT = 2000


@dataclass(frozen=True)
class Interval:
    """A mean (or rate) and its 95 % interval ``[low, high]`` (None when it cannot be given)."""

    mean: float | None
    low: float | None
    high: float | None
    n: int
    """Seeds (t interval) or events (bootstrap) behind it."""
    method: str

    @property
    def half_width(self) -> float | None:
        if self.low is None or self.high is None:
            return None
        return (self.high - self.low) / 2

    def to_dict(self) -> dict:
        return asdict(self)

    def format(self, digits: int = 3) -> str:
        """``mean ± half-width`` (symmetric t interval) or ``mean [low, high]`` (bootstrap)."""
        if self.mean is None:
            return "–"
        m = f"{self.mean:.{digits}f}"
        if self.low is None:
            return m
        if self.method.startswith("t"):
            return f"{m} ± {self.half_width:.{digits}f}"
        return f"{m} [{self.low:.{digits}f}, {self.high:.{digits}f}]"


def t_interval(values: list[float | None], level: float = LEVEL) -> Interval:
    """Student-t interval of the mean of ``values`` (None and non-finite values left out)."""
    v = np.array([x for x in values if x is not None and math.isfinite(x)], dtype=np.float64)
    if v.size == 0:
        return Interval(None, None, None, 0, "t")
    m = float(v.mean())
    if v.size == 1:
        return Interval(m, None, None, 1, "t")
    half = float(student.ppf(0.5 + level / 2, v.size - 1) * v.std(ddof=1) / math.sqrt(v.size))
    return Interval(m, m - half, m + half, int(v.size), f"t over {v.size} seeds")


def bootstrap_rate(hits: list[np.ndarray], *, paired: bool = True, level: float = LEVEL,
                   n_boot: int = N_BOOT, seed: int = 0) -> Interval:
    """Interval of the mean over runs of each run's rate ``mean(hits[r])``.

    ``hits[r]`` is a 0/1 (or boolean) vector of run r: one entry per event (``paired``: the
    same events, in the same order, in every run) or per detection (not paired: each run has
    its own). Each replicate resamples the runs and the entries (once for all runs when
    paired, per run otherwise); the interval is the replicates' percentile range.
    """
    runs = [np.asarray(h, dtype=np.float64).reshape(-1) for h in hits]
    runs = [h for h in runs if h.size]
    if not runs:
        return Interval(None, None, None, 0, "bootstrap")
    if paired and len({h.size for h in runs}) != 1:
        raise ValueError("paired runs must score the same events")
    mean = float(np.mean([h.mean() for h in runs]))
    rng = np.random.default_rng(seed)
    n_runs = len(runs)
    stats = np.empty(n_boot)
    if paired:
        mat = np.stack(runs)  # (runs, events)
        n = mat.shape[1]
        for b in range(n_boot):
            r = rng.integers(0, n_runs, n_runs) if n_runs > 1 else np.zeros(1, np.int64)
            e = rng.integers(0, n, n)
            stats[b] = mat[np.ix_(r, e)].mean()
    else:
        for b in range(n_boot):
            r = rng.integers(0, n_runs, n_runs) if n_runs > 1 else np.zeros(1, np.int64)
            stats[b] = np.mean([runs[i][rng.integers(0, runs[i].size, runs[i].size)].mean()
                                for i in r])
    lo, hi = np.quantile(stats, [0.5 - level / 2, 0.5 + level / 2])
    n = runs[0].size if paired else int(sum(h.size for h in runs))
    what = "events" if paired else "detections"
    return Interval(mean, float(lo), float(hi), int(n),
                    f"bootstrap over {what}" + (f" and {n_runs} runs" if n_runs > 1 else ""))


def separated(a: Interval, b: Interval) -> bool:
    """Whether two intervals do not overlap (False when either has none)."""
    if None in (a.low, a.high, b.low, b.high):
        return False
    return a.high < b.low or b.high < a.low
