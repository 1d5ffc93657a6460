"""Every network we save, one way: a folder of ``model.safetensors`` and ``config.json``.

``config.json`` names the network's ``kind`` and holds the SHA-256 of the weights file, so a
weights file from another run, or one damaged in a save that was cut short, is refused on load.
The kinds:

* ``generation`` — the inference bundle (VQ-VAE, classifier, normalisation statistics, the
  resolved run config; :mod:`eggesture.bundle` builds and checks the networks);
* ``fgd_ae`` — the FGD feature autoencoder (:mod:`eggesture.evaluation.feature_ae`);
* ``recognizer`` — the semantic-gesture recogniser (:mod:`eggesture.evaluation.recognizer`).

Nothing is ever unpickled: a pickle in place of the safetensors file is refused before anything
reads it. Errors are one-line :class:`~eggesture.errors.CheckpointError`\\ s naming the file.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from .errors import CheckpointError
from .io import finish_dir_temp, make_dir_temp

WEIGHTS, CONFIG = "model.safetensors", "config.json"
KINDS = ("generation", "fgd_ae", "recognizer")


def sha256_file(path: str | Path) -> str:
    """The SHA-256 of a file, read in blocks."""
    h = hashlib.sha256()
    with Path(path).open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def save_checkpoint(folder: str | Path, tensors: dict[str, torch.Tensor], config: dict, *,
                    kind: str, metadata: dict[str, str] | None = None) -> Path:
    """Write ``tensors`` and ``config`` (with ``kind`` and the weights' hash added) as a
    checkpoint folder; ``metadata`` goes into the safetensors header.

    Both files are written into a temporary folder first. A new folder is renamed into place
    whole, so it exists complete or not at all; an existing one gets the weights, then the
    config, each replaced atomically (cut short in between, the config's hash does not match
    the weights: refused on load), and keeps whatever else it holds.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = make_dir_temp(folder.parent, folder.name)
    try:
        save_file({k: v.detach().cpu().contiguous() for k, v in tensors.items()},
                  str(tmp / WEIGHTS), metadata=metadata)
        config = {**config, "kind": kind, "weights_sha256": sha256_file(tmp / WEIGHTS)}
        (tmp / CONFIG).write_text(json.dumps(config, indent=1))
        finish_dir_temp(tmp)
        if folder.is_dir():
            os.replace(tmp / WEIGHTS, folder / WEIGHTS)
            os.replace(tmp / CONFIG, folder / CONFIG)
        else:
            os.replace(tmp, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


def read_weights(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """The tensors of a safetensors file and its header metadata; a pickle is refused before
    anything reads it."""
    with path.open("rb") as f:
        head = f.read(9)
    pickled = head[:4] == b"PK\x03\x04" or (head[:1] == b"\x80" and head[1:2] in b"\x02\x03\x04\x05")
    if pickled and head[8:9] != b"{":  # safetensors: 8-byte header length, then a JSON header
        raise CheckpointError(path, "a pickle / torch.save file, not safetensors: "
                                    "refused, as unpickling can run code")
    try:
        tensors = load_file(str(path))
        with safe_open(str(path), "pt") as f:
            metadata = f.metadata() or {}
    except (SafetensorError, OSError, ValueError) as e:
        raise CheckpointError(path, f"corrupt or truncated weights file ({e})") from None
    return tensors, metadata


def check_kind(config: dict, config_path: Path, kind: str) -> None:
    """Refuse a checkpoint of another kind. A generation bundle written before checkpoints
    named their kind has none: it is a generation bundle."""
    found = config.get("kind", "generation" if kind == "generation" else None)
    if found != kind:
        raise CheckpointError(config_path, f"holds a {found!r} checkpoint, not a {kind!r} one")


def check_weights_hash(config: dict, weights_path: Path) -> None:
    """Refuse weights whose SHA-256 is not the one ``config.json`` recorded (where it did)."""
    expected = config.get("weights_sha256")
    if expected is not None and expected != sha256_file(weights_path):
        raise CheckpointError(weights_path, f"does not match {CONFIG} (SHA-256 differs from the "
                                            "recorded hash): damaged, or a weights file from "
                                            "another run")


def load_checkpoint(folder: str | Path, kind: str) -> tuple[dict[str, Any], dict]:
    """``(tensors, config)`` of a checkpoint written by :func:`save_checkpoint` for ``kind``."""
    folder = Path(folder)
    cfg_path, w_path = folder / CONFIG, folder / WEIGHTS
    if not cfg_path.is_file() or not w_path.is_file():
        raise CheckpointError(folder, f"no {kind} here (expected {CONFIG} and {WEIGHTS})")
    try:
        config = json.loads(cfg_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise CheckpointError(cfg_path, f"unreadable config ({e})") from None
    check_kind(config, cfg_path, kind)
    if config.get("weights_sha256") is None:
        raise CheckpointError(cfg_path, "records no weights hash")
    check_weights_hash(config, w_path)
    tensors, _ = read_weights(w_path)
    return tensors, config
