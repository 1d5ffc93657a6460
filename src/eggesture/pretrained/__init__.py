"""The model that ships with the package, so that ``eggesture generate`` and ``eggesture app``
work right after ``pip install`` with no ``--checkpoint``.

``synthetic/`` is the bundle of ``eggesture demo --seed 0`` (EGGesture, K = 64, 80 epochs), a
model of **four synthetic speakers** (espeak-ng voices with the synthetic speaker's gestures and
a vocabulary of 166 words), not of a person; its ``config.json`` carries ``provenance``: the
command that reproduces it, its training data, and what it measured (on its held-out synthetic
speech and on the real BEAT2 sample's speech, where it moves at about three quarters of the real
speaker's arm speed and half the amplitude). ``python -m eggesture.pretrained.build`` writes it
from a demo folder.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import CheckpointError

#: The packaged bundle (``model.safetensors`` + ``config.json``).
DEFAULT = Path(__file__).resolve().parent / "synthetic"


def default_checkpoint() -> Path:
    """The packaged bundle's folder; one line when this installation lacks it."""
    if not (DEFAULT / "model.safetensors").is_file():
        raise CheckpointError(DEFAULT, "the packaged model is missing from this installation; "
                                       "give --checkpoint (e.g. a bundle of `eggesture demo`)")
    return DEFAULT
