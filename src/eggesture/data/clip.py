"""What a dataset reader hands to windowing: a :class:`Clip`, and the reader protocol.

A reader is a module of :mod:`eggesture.data` (``beat2``, ``trinity``) that owns its dataset's
facts — its name, native frame rate, split rule and skeleton — and offers the functions of
:class:`Reader`. Windowing (:mod:`eggesture.data.windows`) and training talk to readers only
through this protocol; :mod:`eggesture.data.datasets` picks the reader of a folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from .transcript import Word


@dataclass
class Clip:
    """A recording in the model's terms: rotations of the chosen joints, audio, words, events.

    ``rotvec (T, J, 3)`` axis-angle at the dataset's native ``fps``; ``audio (N,)`` 16 kHz mono.
    ``sem`` holds ``(class_name, start_s, end_s)`` ground-truth gesture events when annotated.
    """

    id: str
    split: str
    fps: float
    rotvec: np.ndarray
    joint_names: list[str]
    audio: np.ndarray
    words: list[Word]
    sem: list[tuple[str, float, float]] | None = None


class Reader(Protocol):
    """The interface every dataset reader module offers."""

    NAME: str
    """Dataset name (``beat2``, ``trinity``)."""
    FPS: float
    """Native motion frame rate."""

    def detect(self, root: str | Path) -> bool:
        """Whether ``root`` is a folder of this dataset."""

    def split_file(self, root: str | Path) -> Path:
        """Where the dataset's split is decided (a file, or the folder whose names decide it),
        for error messages about splits."""

    def skeleton_bvh(self, root: str | Path) -> str | None:
        """The dataset's own skeleton as BVH text when it is not SMPL-X (generation writes on
        it), else None."""

    def list_sequences(self, root: str | Path, speakers: list[int] | None = None,
                       splits: list[str] | None = None) -> list[tuple[str, str]]:
        """``(sequence id, split)`` of the folder."""

    def load_clip(self, root: str | Path, seq_id: str, split: str, joint_set: str) -> Clip:
        """One sequence as a :class:`Clip`."""

    def describe_sequence(self, root: str | Path, seq_id: str) -> dict:
        """Frames, joints, words and problems of one sequence (``eggesture data stats``)."""
