"""Semantic-gesture recall (ours, DESIGN §5): does generated motion perform the annotated gestures?

For every ground-truth semantic gesture event ``(class, t0, t1)`` of a test sequence, the event
counts as *recalled* when a gesture recogniser (:mod:`eggesture.evaluation.recognizer`) labels
the generated motion with that class on at least ``min_duration_s`` worth of frames inside
``[t0 − tol, t1 + tol]`` (tol = 0.5 s by default)::

    recall(S) = |{e ∈ E_S : recalled(e)}| / |E_S|

for the set of events E_S of a class set S: all classes, the *head* classes or the *tail*
classes. Classes are split by their frequency in the **training** split: sorted by training
event count (most frequent first), the head is the shortest prefix holding at least
``head_share`` (default 50 %) of all training events; the tail is the rest (classes never seen
in training included). The rule is written into every result. Recall is a fraction in [0, 1].

Recall alone rewards a generator that gestures all the time, so the same function reports
event-level **precision**: a *detection* is a maximal run of at least ``min_duration_s`` of
frames labelled with one class; it is correct when it overlaps ``[t0 − tol, t1 + tol]`` of a
ground-truth event of that class::

    precision = |{correct detections}| / |{detections}|

The recogniser's own recall on ground-truth motion bounds what this can measure: report it
beside the generator's (the recogniser module does).
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field

import numpy as np

from .intervals import bootstrap_rate

#: Events may be matched this far (seconds) before their start and after their end.
TOLERANCE_S = 0.5
#: A class must be recognised on at least this long (seconds) within the tolerance window.
MIN_DURATION_S = 0.2
#: Head classes hold at least this share of the training events.
HEAD_SHARE = 0.5


@dataclass
class HeadTail:
    """Classes split by training frequency."""

    head: list[str]
    tail: list[str]
    rule: str


def split_head_tail(train_counts: dict[str, int], head_share: float = HEAD_SHARE) -> HeadTail:
    """Head = most frequent classes holding ≥ ``head_share`` of training events; tail = rest.

    Ties in count are broken by name, so the split is deterministic.
    """
    if not 0 < head_share <= 1:
        raise ValueError(f"head_share must be in (0, 1], got {head_share}")
    order = sorted(train_counts, key=lambda c: (-train_counts[c], c))
    total = sum(max(0, train_counts[c]) for c in order)
    head: list[str] = []
    acc = 0
    for c in order:
        if total > 0 and acc >= head_share * total:
            break
        if train_counts[c] <= 0:
            break
        head.append(c)
        acc += train_counts[c]
    tail = [c for c in order if c not in head]
    rule = (f"classes sorted by training-split event count; head = the most frequent classes "
            f"holding >= {head_share:.0%} of the {total} training events"
            f"{_counts(len(head), len(tail), 'classes')}")
    return HeadTail(head=head, tail=tail, rule=rule)


def _counts(n_head: int, n_tail: int, what: str) -> str:
    return f" ({n_head} of {n_head + n_tail} {what}), tail = the other {n_tail}"


_COUNTS = re.compile(r" \(\d+ of \d+ [^)]*\), tail = the other \d+$")


def rule_for_shown(rule: str, n_head: int, n_tail: int) -> str:
    """The head/tail ``rule`` of :func:`split_head_tail`, its class counts (over every class
    of the label space) replaced by those of the classes a figure shows — the ones with events
    in the evaluated split — so a footnote counts what is drawn above it."""
    base = _COUNTS.sub("", rule)
    if base == rule:  # not our wording: keep it, and say what is shown
        return f"{rule}; shown: {n_head} head and {n_tail} tail classes"
    return base + _counts(n_head, n_tail, "classes shown, those with events in the evaluated split")


def detections(pred_labels: np.ndarray, fps: float, *,
               min_duration_s: float = MIN_DURATION_S) -> list[tuple[int, int, int]]:
    """Maximal runs ``(class_id, first, last)`` (frames, inclusive) of one class ≥ 1 in
    ``pred_labels (T,)`` lasting at least ``max(1, ceil(min_duration_s·fps))`` frames."""
    labels = np.asarray(pred_labels).reshape(-1)
    need = max(1, int(math.ceil(min_duration_s * fps - 1e-9)))
    if labels.size == 0:
        return []
    edges = np.flatnonzero(np.diff(labels)) + 1
    starts = np.concatenate([[0], edges])
    ends = np.concatenate([edges, [labels.size]]) - 1
    return [(int(labels[a]), int(a), int(b)) for a, b in zip(starts, ends, strict=True)
            if labels[a] > 0 and b - a + 1 >= need]


def event_recalled(
    pred_labels: np.ndarray, class_id: int, t0: float, t1: float, fps: float, *,
    tolerance_s: float = TOLERANCE_S, min_duration_s: float = MIN_DURATION_S,
) -> bool:
    """Whether ``pred_labels (T,)`` (per-frame class ids at ``fps``) shows ``class_id`` on at
    least ``max(1, ceil(min_duration_s·fps))`` frames with times in ``[t0 − tol, t1 + tol]``."""
    labels = np.asarray(pred_labels).reshape(-1)
    a = max(0, int(math.ceil((t0 - tolerance_s) * fps - 1e-9)))
    b = min(labels.size, int(math.floor((t1 + tolerance_s) * fps + 1e-9)) + 1)
    if b <= a:
        return False
    need = max(1, int(math.ceil(min_duration_s * fps - 1e-9)))
    return int((labels[a:b] == class_id).sum()) >= need


@dataclass
class SemanticRecall:
    """Event-level recall overall, on head and on tail classes, and per class."""

    all: float | None
    """Recall over all scored events (None when there are none)."""
    head: float | None
    tail: float | None
    macro: float | None
    """Mean of the per-class recalls."""
    precision: float | None = None
    """Correct detections / detections (None when nothing was detected)."""
    detections: int = 0
    per_class: dict[str, dict] = field(default_factory=dict)
    """``{class: {"events", "recalled", "recall", "train_count", "group"}}``, head → tail order."""
    events: int = 0
    unknown_events: int = 0
    """Events of classes the label space does not know (not scored)."""
    rule: str = ""
    protocol: str = ""
    outcomes: dict[str, list] = field(default_factory=dict)
    """Per scored event, in order: ``class``, ``group`` (head/tail), ``recalled`` (0/1); per
    detection: ``detection_correct`` (0/1) — what the intervals resample."""
    intervals: dict[str, dict] = field(default_factory=dict)
    """95 % bootstrap intervals of ``all``, ``head``, ``tail`` (over events) and ``precision``
    (over detections): :class:`eggesture.metrics.intervals.Interval` as dicts."""

    def to_dict(self) -> dict:
        return asdict(self)


def outcome_vectors(outcomes: dict[str, list]) -> dict[str, np.ndarray]:
    """0/1 vectors of ``outcomes``: ``all``, ``head``, ``tail`` (recalled, per event of the
    group) and ``precision`` (correct, per detection)."""
    rec = np.asarray(outcomes.get("recalled", []), dtype=np.float64)
    group = np.asarray(outcomes.get("group", []))
    return {"all": rec, "head": rec[group == "head"], "tail": rec[group == "tail"],
            "precision": np.asarray(outcomes.get("detection_correct", []), dtype=np.float64)}


def format_rate(result: dict | None, key: str) -> str:
    """``result[key]`` (a :class:`SemanticRecall` as a dict) with its 95 % interval, for
    tables: ``0.615 [0.54, 0.69]``; ``–`` when missing."""
    if not result or result.get(key) is None:
        return "–"
    iv = (result.get("intervals") or {}).get(key) or {}
    if iv.get("low") is None:
        return f"{result[key]:.3f}"
    return f"{result[key]:.3f} [{iv['low']:.2f}, {iv['high']:.2f}]"


def recall_intervals(runs: list[dict[str, list]]) -> dict[str, dict]:
    """Bootstrap intervals of recall (all, head, tail: over the events shared by the runs) and
    precision (over each run's detections) for the ``outcomes`` of one or more runs."""
    vecs = [outcome_vectors(o) for o in runs]
    return {k: bootstrap_rate([v[k] for v in vecs], paired=k != "precision").to_dict()
            for k in ("all", "head", "tail", "precision")}


def semantic_recall(
    predictions: list[np.ndarray], events: list[list[tuple[str, float, float]] | None],
    classes: list[str], fps: float, train_counts: dict[str, int], *,
    tolerance_s: float = TOLERANCE_S, min_duration_s: float = MIN_DURATION_S,
    head_share: float = HEAD_SHARE,
) -> SemanticRecall:
    """Recall of ground-truth gesture ``events`` in per-frame ``predictions``.

    ``predictions[i] (T_i,)``: class ids of sequence i at ``fps`` (0 = no gesture, ``c ≥ 1`` is
    ``classes[c − 1]``); ``events[i]``: its ground-truth ``(class name, start s, end s)``
    (None or empty: no events). ``train_counts``: training-split event count per class name,
    for the head/tail split (:func:`split_head_tail`).
    """
    if len(predictions) != len(events):
        raise ValueError(f"{len(predictions)} prediction sequences but {len(events)} event lists")
    class_id = {name: i + 1 for i, name in enumerate(classes)}
    split = split_head_tail({c: train_counts.get(c, 0) for c in
                             set(classes) | set(train_counts)}, head_share)
    head = set(split.head)
    stats: dict[str, list[int]] = {}
    unknown = 0
    outcomes: dict[str, list] = {"class": [], "group": [], "recalled": [], "detection_correct": []}
    for pred, evs in zip(predictions, events, strict=True):
        for c, a, b in detections(pred, fps, min_duration_s=min_duration_s):
            name = classes[c - 1] if c <= len(classes) else None
            outcomes["detection_correct"].append(int(any(
                n == name and a / fps <= t1 + tolerance_s and b / fps >= t0 - tolerance_s
                for n, t0, t1 in evs or [])))
        for name, t0, t1 in evs or []:
            if name not in class_id:
                unknown += 1
                continue
            hit = event_recalled(pred, class_id[name], t0, t1, fps,
                                 tolerance_s=tolerance_s, min_duration_s=min_duration_s)
            s = stats.setdefault(name, [0, 0])
            s[0] += 1
            s[1] += int(hit)
            outcomes["class"].append(name)
            outcomes["group"].append("head" if name in head else "tail")
            outcomes["recalled"].append(int(hit))
    n_det, n_correct = len(outcomes["detection_correct"]), sum(outcomes["detection_correct"])

    def rate(names) -> float | None:
        n = sum(stats[c][0] for c in names if c in stats)
        return sum(stats[c][1] for c in names if c in stats) / n if n else None

    order = split.head + split.tail
    per_class = {
        c: {"events": stats[c][0], "recalled": stats[c][1], "recall": stats[c][1] / stats[c][0],
            "train_count": int(train_counts.get(c, 0)), "group": "head" if c in head else "tail"}
        for c in order if c in stats
    }
    return SemanticRecall(
        all=rate(stats), head=rate(split.head), tail=rate(split.tail),
        macro=float(np.mean([v["recall"] for v in per_class.values()])) if per_class else None,
        precision=n_correct / n_det if n_det else None, detections=n_det,
        per_class=per_class, events=sum(v[0] for v in stats.values()), unknown_events=unknown,
        rule=split.rule, outcomes=outcomes, intervals=recall_intervals([outcomes]),
        protocol=(f"an event (class, t0, t1) is recalled when the recogniser labels that class on "
                  f">= {min_duration_s:g} s of frames within [t0 - {tolerance_s:g} s, "
                  f"t1 + {tolerance_s:g} s] at {fps:g} fps; precision = detections (runs of "
                  f">= {min_duration_s:g} s of one class) overlapping that window of an event of "
                  f"their class / all detections"),
    )
