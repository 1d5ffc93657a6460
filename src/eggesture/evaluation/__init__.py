"""Evaluation networks trained on a dataset's real motion, and how they are stored.

* :mod:`.feature_ae` — the CNN motion autoencoder whose features FGD compares (paper eq. 12);
* :mod:`.recognizer` — the semantic-gesture recogniser behind semantic-gesture recall.

Both are kept as a *bundle* folder: ``model.safetensors`` (weights and the normalisation
statistics they expect) and ``config.json`` (the joint set and names, fps, window length,
sizes, a training summary and the SHA-256 of the weights file, so a weights file from another
run is refused). Loading checks that the data matches what the net was trained on; a mismatch
is a :class:`~eggesture.errors.DataError` naming the bundle and the difference.

Default place: ``ROOT/.eggesture/<kind>/<joint set>-<fps>fps-<length>/`` beside the dataset when
ROOT is writable and not marked read-only (a hidden folder, which the window cache's fingerprint
ignores), else ``$EGGESTURE_CACHE/<kind>/<hash of ROOT>/…``.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from ..errors import CheckpointError, DataError

WEIGHTS, CONFIG = "model.safetensors", "config.json"


def settings_tag(joint_set: str, fps: float, length: int) -> str:
    """Folder name of one data setting, e.g. ``upper_hands-15fps-300``."""
    return f"{joint_set}-{fps:g}fps-{length}"


def default_dir(root: str | Path, kind: str, joint_set: str, fps: float, length: int) -> Path:
    """Default folder of the ``kind`` bundle (``fgd_ae``, ``recognizer``) of dataset ``root``."""
    from ..data.windows import cache_root

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


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def save_bundle(folder: str | Path, tensors: dict[str, Any], config: dict) -> Path:
    """Write ``tensors`` (name → torch tensor) and ``config`` into ``folder`` atomically.

    The weights go first, then the config with the weights' hash: an interrupted save leaves
    either the old pair or a config whose hash does not match (refused on load).
    """
    from safetensors.torch import save_file

    from ..io import atomic_path, write_json

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_path(folder / WEIGHTS) as tmp:
        save_file({k: v.detach().cpu().contiguous() for k, v in tensors.items()}, str(tmp))
    write_json(folder / CONFIG, {**config, "weights_sha256": _sha256(folder / WEIGHTS)})
    return folder


def load_bundle(folder: str | Path, kind: str) -> tuple[dict, dict]:
    """``(tensors, config)`` of a bundle written by :func:`save_bundle` for ``kind``."""
    from safetensors.torch import load_file

    folder = Path(folder)
    cfg_path, w_path = folder / CONFIG, folder / WEIGHTS
    if not cfg_path.is_file() or not w_path.is_file():
        raise CheckpointError(folder, f"no {kind} here (expected {CONFIG} and {WEIGHTS})")
    try:
        config = json.loads(cfg_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise CheckpointError(cfg_path, f"unreadable config ({e})") from None
    if config.get("kind") != kind:
        raise CheckpointError(cfg_path, f"holds a {config.get('kind')!r}, not a {kind!r}")
    if config.get("weights_sha256") != _sha256(w_path):
        raise CheckpointError(w_path, f"does not match {CONFIG} (hash differs): "
                                      "an interrupted save or a file from another run")
    try:
        tensors = load_file(str(w_path))
    except Exception as e:  # safetensors raises its own error types
        raise CheckpointError(w_path, f"unreadable weights ({e})") from None
    return tensors, config


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
