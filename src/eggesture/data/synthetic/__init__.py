"""The synthetic long-tailed speaker: a co-speech gesture corpus with ground truth, in BEAT2 layout.

``synthesize_corpus(out, minutes=M, seed=S)`` writes exactly what :mod:`eggesture.data.beat2`
reads (DESIGN §4), so every tool works on it unchanged (the layout: :mod:`.writer`). A sequence
(ids ``{speaker}_{name}_0_{n}_{n}``, about a minute each) holds espeak-ng speech, a relaxed rest
pose (:data:`REST_POSE`), idle motion, beat gestures on stressed words and semantic gestures
(:data:`GESTURES`) on their keywords, whose frequencies follow a Zipf law (:func:`zipf_counts`).

The package, in the order a corpus is made:

* :mod:`.arm` — the arm and hand model: :class:`ArmKey`, inverse kinematics, joint rotations,
  the rest and speaking positions;
* :mod:`.gestures` — the gesture library :data:`GESTURES`;
* :mod:`.grammar` — the phrases the speaker says and :func:`vocabulary`;
* :mod:`.plan` — the long tail, the speakers, splits and keyword slots (:func:`plan_corpus`);
* :mod:`.synthesis` — one sequence's speech, events, beats and motion (:func:`build_sequence`);
* :mod:`.writer` — the files and ``corpus.json`` (:func:`synthesize_corpus`).

Determinism: everything random comes from ``numpy.random.default_rng`` seeded by the arguments,
and the files are written byte-for-byte reproducibly, whatever the number of worker processes.
Importing the package is light: torch, scipy, espeak-ng and praatio are imported on first use.
"""

from __future__ import annotations

import numpy as np

from . import arm
from .arm import (
    ARM_DIM,
    ARM_FIELDS,
    HAND_SHAPES,
    NUM_JOINTS,
    READY_ARM,
    REST_ARM,
    ArmKey,
    arm_pose_matrices,
)
from .gestures import GESTURES, MAX_CLASSES, GestureClass
from .grammar import vocabulary
from .plan import (
    HELD_OUT,
    MAX_SPEAKERS,
    SEMANTIC_PER_MINUTE,
    SequencePlan,
    Speaker,
    fit_zipf,
    keyword_sequence,
    plan_corpus,
    zipf_counts,
)
from .synthesis import (
    FPS,
    MAX_GESTURE_S,
    MIN_GESTURE_S,
    PEAK_DEG_PER_FRAME,
    PHASES,
    REST_TRANS,
    Beat,
    SemanticEvent,
    SequenceData,
    build_sequence,
)
from .writer import (
    CORPUS_JSON,
    FORMAT_VERSION,
    GENERATOR,
    LABELS_DIR,
    corpus_summary,
    npz_bytes,
    synthesize_corpus,
    wav_bytes,
    write_sequence,
)

#: The relaxed rest pose ``(55, 3)`` axis-angle (:data:`.arm.REST_POSE`; computed on first
#: access, each access returns a fresh copy).
REST_POSE: np.ndarray

__all__ = [
    "ARM_DIM", "ARM_FIELDS", "CORPUS_JSON", "FORMAT_VERSION", "FPS", "GENERATOR", "GESTURES",
    "HAND_SHAPES", "HELD_OUT", "LABELS_DIR", "MAX_CLASSES", "MAX_GESTURE_S", "MAX_SPEAKERS",
    "MIN_GESTURE_S", "NUM_JOINTS", "PEAK_DEG_PER_FRAME", "PHASES", "READY_ARM", "REST_ARM",
    "REST_POSE", "REST_TRANS", "SEMANTIC_PER_MINUTE", "ArmKey", "Beat", "GestureClass",
    "SemanticEvent", "SequenceData", "SequencePlan", "Speaker", "arm_pose_matrices",
    "build_sequence", "corpus_summary", "fit_zipf", "keyword_sequence", "npz_bytes",
    "plan_corpus", "synthesize_corpus", "vocabulary", "wav_bytes", "write_sequence",
    "zipf_counts",
]


def __getattr__(name: str):
    # Lazy names (PEP 562), computed by their module on first access.
    if name == "REST_POSE":
        return getattr(arm, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
