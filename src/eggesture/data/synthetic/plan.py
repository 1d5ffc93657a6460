"""The plan of a synthetic corpus, decided before any synthesis: the Zipf long tail of keyword
counts, the speakers, the sequences with their splits and keyword slots (:func:`plan_corpus`),
and the checks of the settings.

The long tail: how often each class's keywords are spoken follows a Zipf law,
``count(rank r) ∝ r^−zipf`` (:func:`zipf_counts`), allotted exactly per split, so the head class
is ~``N^zipf`` times as frequent as the rarest.

Split rule: ``n = max(3, K, round(minutes))`` sequences, dealt to the ``K`` speakers round robin.
When every speaker has at least 10 sequences, each speaker's last ``max(1, round(n_k · held_out
/ 2))`` sequences (at most ``(n_k − 1) // 2``) are test and as many before them val; otherwise
the same rule applies to the whole list. Every class gets at least ``min_train_events`` events
in the training split (this only matters for corpora of a few minutes, whose training sequences
then run longer than planned).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ...errors import DataError
from .gestures import MAX_CLASSES

# --- the long tail ----------------------------------------------------------------------------


def _largest_remainder(total: int, weights: np.ndarray) -> np.ndarray:
    """Integers ``(n,)`` summing to ``total`` in proportion to ``weights (n,)``: the floors of
    the quotas, plus one for the largest remainders (ties to the lower index)."""
    quota = total * weights / weights.sum()
    out = np.floor(quota).astype(np.int64)
    order = np.argsort(-(quota - out), kind="stable")
    out[order[: total - int(out.sum())]] += 1
    return out


def zipf_counts(total: int, classes: int, exponent: float) -> np.ndarray:
    """Event counts ``(classes,)`` summing to ``total`` with ``count[r − 1] ∝ r^−exponent``.

    Rounded by largest remainder, so the counts are the Zipf law up to ±1.
    """
    if total < 0 or classes < 1:
        raise ValueError("need total ≥ 0 and classes ≥ 1")
    weights = np.arange(1, classes + 1, dtype=np.float64) ** -float(exponent)
    return _largest_remainder(total, weights)


def keyword_sequence(n: int, *, classes: int = 24, zipf: float = 1.1, seed: int = 0) -> np.ndarray:
    """The order in which ``n`` keywords are spoken: class indices ``(n,)`` (0 = rank 1).

    Each class occurs exactly :func:`zipf_counts` times, in a random order from ``seed`` — the
    same allotment the corpus generator makes within each split.
    """
    rng = np.random.default_rng(seed)
    return rng.permutation(np.repeat(np.arange(classes), zipf_counts(n, classes, zipf)))


def fit_zipf(counts: np.ndarray) -> float:
    """Zipf exponent of per-rank counts: minus the least-squares slope of log count on log rank
    (classes with no events are left out); NaN with fewer than two such classes."""
    counts = np.asarray(counts, dtype=np.float64)
    ranks = np.arange(1, counts.size + 1)
    keep = counts > 0
    if keep.sum() < 2:
        return float("nan")
    slope = np.polyfit(np.log(ranks[keep]), np.log(counts[keep]), 1)[0]
    return float(-slope)


# --- speakers and the plan --------------------------------------------------------------------

#: Semantic gestures planned per minute of speech (the long tail needs many events: with 24
#: classes and exponent 1.1 the rarest class gets 0.9 % of them).
SEMANTIC_PER_MINUTE = 26.0
_NAMES = ("ava", "ben", "cleo", "dan", "eve", "finn", "gia", "hal", "ivy", "jon")
_VOICES = ("en-us+m3", "en-us+f3", "en-gb-x-rp+m1", "en+f4", "en-us+m7", "en-gb-scotland+f2",
           "en-us+m5", "en+f1", "en-us-nyc+m2", "en-029+f5")
MAX_SPEAKERS = len(_NAMES)


@dataclass(frozen=True)
class Speaker:
    """One synthetic speaker's voice and gesture style."""

    id: int
    name: str
    voice: str
    rate: int  #: espeak words per minute
    pitch: int  #: espeak pitch 0–100
    range: int  #: espeak pitch range 0–100
    handed: str  #: "right" or "left": the arm that performs one-handed gestures
    amplitude: float  #: scales beat strokes and (mildly) semantic gestures
    tempo: float  #: scales semantic gesture durations
    beat_prob: float  #: chance that a stressed word gets a beat
    both_hands: float  #: chance that a beat uses both hands
    ready: tuple[float, float, float]  #: offset of the speaking position of the wrists (m)

    def as_json(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}


def _speakers(k: int, seed: int) -> list[Speaker]:
    rng = np.random.default_rng([seed, 1])
    out = []
    for i in range(k):
        rate = int(rng.integers(130, 201))  # espeak words per minute: slow to fast speakers
        out.append(Speaker(
            id=i + 1, name=_NAMES[i], voice=_VOICES[i], rate=rate,
            pitch=int(rng.integers(35, 66)), range=int(rng.integers(40, 76)),
            handed="right" if i == 0 or rng.random() < 0.7 else "left",
            amplitude=round(float(rng.uniform(0.85, 1.15)), 3),
            tempo=round(float(np.sqrt(168.0 / rate) * rng.uniform(0.94, 1.06)), 3),
            beat_prob=round(float(min(1.0, 0.99 * rng.uniform(0.75, 0.92))), 3),  # calibrated: see Liveliness
            both_hands=round(float(1.86 * rng.uniform(0.15, 0.35)), 3),
            ready=tuple(round(float(v), 3) for v in rng.uniform(-0.025, 0.025, 3)),
        ))
    return out


@dataclass(frozen=True)
class SequencePlan:
    """What one sequence must hold, decided before any synthesis."""

    id: str
    index: int
    split: str
    speaker: Speaker
    seconds: float  #: target duration
    slots: tuple[int, ...]  #: class index (rank − 1) of each keyword, in speaking order
    seed: int
    classes: int


#: Share of the sequences held out (val + test) by default.
HELD_OUT = 0.2


def _split_sizes(n: int, held_out: float = HELD_OUT) -> tuple[int, int]:
    """(val, test) sizes for ``n ≥ 3`` sequences: ``max(1, round(n · held_out / 2))`` each,
    leaving at least one sequence for training."""
    held = min((n - 1) // 2, max(1, round(n * held_out / 2)))
    return held, held


def _assign_splits(speaker_of: list[int], k: int, held_out: float = HELD_OUT) -> list[str]:
    n = len(speaker_of)
    groups = [[i for i in range(n) if speaker_of[i] == s] for s in range(k)]
    if min(len(g) for g in groups) < 10:  # too few to hold some out per speaker
        groups = [list(range(n))]
    split = ["train"] * n
    for g in groups:
        n_val, n_test = _split_sizes(len(g), held_out)
        for i in g[len(g) - n_test:]:
            split[i] = "test"
        for i in g[len(g) - n_test - n_val: len(g) - n_test]:
            split[i] = "val"
    return split


def plan_corpus(*, minutes: float, seed: int, classes: int = 24, zipf: float = 1.1,
                speakers: int = 1, held_out: float = HELD_OUT,
                min_train_events: int = 1) -> list[SequencePlan]:
    """The sequences of a corpus: ids, splits, speakers, durations and keyword slots.

    ``held_out`` is the share of sequences in val + test. Keywords are allotted per split with
    :func:`zipf_counts`, every class at least ``min_train_events`` times in the training split
    (the extra keywords lengthen the training sequences), and shuffled over that split's
    sequences in proportion to their length.
    """
    _check_settings(minutes=minutes, seed=seed, classes=classes, zipf=zipf, speakers=speakers,
                    held_out=held_out, min_train_events=min_train_events)
    n = max(3, speakers, round(minutes))
    seconds = minutes * 60.0 / n
    who = [i % speakers for i in range(n)]
    splits = _assign_splits(who, speakers, held_out)
    people = _speakers(speakers, seed)
    rng = np.random.default_rng([seed, 0])
    planned = np.array([round(SEMANTIC_PER_MINUTE * seconds / 60.0)] * n, dtype=np.int64)
    slots: list[tuple[int, ...]] = [()] * n
    for split in ("train", "val", "test"):
        idx = [i for i in range(n) if splits[i] == split]
        counts = zipf_counts(int(planned[idx].sum()), classes, zipf)
        if split == "train":
            counts = np.maximum(counts, min_train_events)
        order = rng.permutation(np.repeat(np.arange(classes), counts))
        sizes = _largest_remainder(len(order), planned[idx].astype(np.float64) + 1e-9)
        start = 0
        for i, size in zip(idx, sizes, strict=True):
            slots[i] = tuple(int(c) for c in order[start:start + size])
            start += size
    count_per_speaker = [0] * speakers
    plans = []
    for i in range(n):
        sp = people[who[i]]
        count_per_speaker[who[i]] += 1
        m = count_per_speaker[who[i]]
        plans.append(SequencePlan(
            id=f"{sp.id}_{sp.name}_0_{m}_{m}", index=i, split=splits[i], speaker=sp,
            seconds=seconds, slots=slots[i], seed=seed, classes=classes))
    return plans


def _check_settings(*, minutes: float, seed: int, classes: int, zipf: float, speakers: int,
                    held_out: float = HELD_OUT, min_train_events: int = 1) -> None:
    def bad(msg: str) -> None:
        raise DataError(None, msg)

    if not (math.isfinite(held_out) and 0.0 < held_out < 1.0):
        bad(f"--held-out must be a share between 0 and 1, got {held_out}")
    if not isinstance(min_train_events, (int, np.integer)) or not 1 <= min_train_events <= 100:
        bad(f"--min-train-events must be an integer in 1–100, got {min_train_events}")

    if not (isinstance(minutes, (int, float)) and math.isfinite(minutes) and minutes > 0):
        bad(f"--minutes must be a positive number, got {minutes}")
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        bad(f"--seed must be a non-negative integer, got {seed}")
    if not 1 <= classes <= MAX_CLASSES:
        bad(f"--classes must be 1–{MAX_CLASSES} (the size of the gesture library), "
            f"got {classes}")
    if not (math.isfinite(zipf) and 0.0 <= zipf <= 4.0):
        bad(f"--zipf must be between 0 and 4, got {zipf}")
    if not 1 <= speakers <= MAX_SPEAKERS:
        bad(f"--speakers must be 1–{MAX_SPEAKERS}, got {speakers}")
    n = max(3, speakers, round(minutes))
    if minutes * 60.0 / n < 10.0:
        need = 10.0 * max(3, speakers) / 60.0
        bad(f"--minutes {minutes:g} is too short: {n} sequences need at least {need:g} minutes "
            "(10 s each)")
