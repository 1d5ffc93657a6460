"""Evaluation networks trained on a dataset's real motion, and how they are stored.

* :mod:`.feature_ae` — the CNN motion autoencoder whose features FGD compares (paper eq. 12);
* :mod:`.recognizer` — the semantic-gesture recogniser behind semantic-gesture recall.

Both are kept as checkpoints of their kind (:mod:`eggesture.checkpoint`): ``model.safetensors``
(weights and the normalisation statistics they expect) and ``config.json`` (the joint set and
names, fps, window length, sizes, a training summary and the SHA-256 of the weights file).
Loading checks that the data matches what the net was trained on (:func:`check_data`); a
mismatch is a :class:`~eggesture.errors.DataError` naming the checkpoint and the difference.

Default place: ``ROOT/.eggesture/<kind>/<joint set>-<fps>fps-<length>/`` beside the dataset when
ROOT is writable and not marked read-only (a hidden folder, which the window cache's fingerprint
ignores), else ``$EGGESTURE_CACHE/<kind>/<hash of ROOT>/…``.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from ..checkpoint import CONFIG
from ..data.windows import cache_root
from ..errors import DataError


def settings_tag(joint_set: str, fps: float, length: int) -> str:
    """Folder name of one data setting, e.g. ``upper_hands-15fps-300``."""
    return f"{joint_set}-{fps:g}fps-{length}"


def default_dir(root: str | Path, kind: str, joint_set: str, fps: float, length: int) -> Path:
    """Default folder of the ``kind`` bundle (``fgd_ae``, ``recognizer``) of dataset ``root``."""
    root = Path(root).resolve()
    tag = settings_tag(joint_set, fps, length)
    beside = root / ".eggesture"
    if _writable(root) and (not beside.exists() or _writable(beside)):
        return beside / kind / tag
    key = hashlib.sha1(str(root).encode()).hexdigest()[:16]
    return cache_root() / kind / key / tag


def _writable(folder: Path) -> bool:
    """Writable for us *and* not marked read-only (no write bit: root may write anyway)."""
    try:
        return os.access(folder, os.W_OK) and bool(folder.stat().st_mode & 0o222)
    except OSError:
        return False


def check_data(config: dict, folder: str | Path, *, joint_names: list[str], fps: float,
               length: int | None = None) -> None:
    """Raise :class:`DataError` unless the data's joints, fps (and length) match ``config``."""
    where = Path(folder) / CONFIG
    if list(config["joint_names"]) != list(joint_names):
        raise DataError(where, f"trained on {len(config['joint_names'])} joints "
                               f"({config['joint_set']}), the data has {len(joint_names)} other "
                               "joints; train one for this joint set")
    if abs(float(config["fps"]) - float(fps)) > 1e-6:
        raise DataError(where, f"trained at {config['fps']:g} fps, the data is at {fps:g} fps")
    if length is not None and int(config["length"]) != int(length):
        raise DataError(where, f"trained on windows of {config['length']} frames, "
                               f"got windows of {length}")
