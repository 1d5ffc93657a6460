"""Inference bundles: everything generation and evaluation need, with no pickle.

A bundle is a folder::

    model.safetensors   VQ-VAE and classifier weights, plus the motion normalisation statistics
    config.json         the resolved run config, motion/joint/audio facts, the vocabulary

Loading builds the networks from ``config.json`` and loads the weights strictly: a truncated or
tampered weights file, or a config that does not match the weights, is a clear
:class:`~eggesture.errors.CheckpointError`, never a crash deep inside torch.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import torch

from .config import Config, from_dict
from .data.motion import NormStats
from .errors import CheckpointError, ConfigError
from .io import finish_dir_temp, make_dir_temp
from .models.classifier import IndexClassifier
from .models.vqvae import MotionVQVAE

FORMAT = "eggesture-bundle"
VERSION = 1
WEIGHTS, META = "model.safetensors", "config.json"


@dataclass
class Bundle:
    """A loaded bundle: networks in eval mode and the facts needed to use them."""

    cfg: Config
    vqvae: MotionVQVAE
    classifier: IndexClassifier
    norm: NormStats
    vocab: list[str]
    meta: dict
    path: Path | None = None

    @property
    def fps(self) -> float:
        return float(self.cfg.data.fps)

    @property
    def joint_names(self) -> list[str]:
        return list(self.meta["joint_names"])

    @cached_property
    def _word_index(self) -> dict[str, int]:
        return {w: i for i, w in enumerate(self.vocab)}

    def word_ids(self, words: list[str]) -> list[int]:
        """Vocabulary ids of frame words (``""`` → 0 padding, unknown → 1)."""
        return [0 if not w else self._word_index.get(w, 1) for w in words]


def save_bundle(path: str | Path, *, cfg: Config, vqvae: MotionVQVAE,
                classifier: IndexClassifier, norm: NormStats, vocab: list[str],
                facts: dict) -> Path:
    """Write a bundle folder atomically (a temporary folder renamed into place).

    ``facts`` holds what the data told us: ``joint_names``, ``joint_set``, ``motion_dim``,
    ``n_audio_features``, ``dataset`` and optionally ``sem_classes``, ``skeleton``.
    """
    from safetensors.torch import save_file

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {f"vqvae.{k}": v for k, v in vqvae.state_dict().items()}
    tensors.update({f"classifier.{k}": v for k, v in classifier.state_dict().items()})
    tensors.update(norm.tensors())
    tensors = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
    meta = {"format": FORMAT, "version": VERSION, "config": cfg.to_dict(), "vocab": vocab, **facts}
    tmp = make_dir_temp(path.parent, path.name)
    try:
        save_file(tensors, str(tmp / WEIGHTS), metadata={"format": FORMAT})
        (tmp / META).write_text(json.dumps(meta, indent=1))
        finish_dir_temp(tmp)
        if path.exists():
            old = path.with_name(f".{path.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return path


def _resolve(path: Path) -> Path:
    """Accept the bundle folder, a run folder holding ``bundle/``, or the weights file itself."""
    if path.is_file() and path.name == WEIGHTS:
        return path.parent
    if (path / "bundle" / META).is_file():
        return path / "bundle"
    return path


def load_bundle(path: str | Path, device: str | torch.device = "cpu") -> Bundle:
    """Load a bundle written by :func:`save_bundle` (safetensors + JSON only)."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    from .models.builders import build_classifier, build_vqvae

    path = _resolve(Path(path))
    meta_path, weights_path = path / META, path / WEIGHTS
    if not meta_path.is_file() or not weights_path.is_file():
        raise CheckpointError(path, f"not an inference bundle (needs {META} and {WEIGHTS})")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CheckpointError(meta_path, f"not valid JSON ({e})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(meta_path, f"not an eggesture bundle config (format != {FORMAT!r})")
    if meta.get("version") != VERSION:
        raise CheckpointError(meta_path, f"bundle version {meta.get('version')} is not {VERSION}")
    try:
        cfg = from_dict(meta["config"], meta_path)
        vocab = list(meta["vocab"])
        motion_dim, n_feat = int(meta["motion_dim"]), int(meta["n_audio_features"])
    except (KeyError, TypeError, ValueError, ConfigError) as e:
        raise CheckpointError(meta_path, f"incomplete or invalid bundle config ({e})") from None
    try:
        tensors = load_file(str(weights_path))
    except (SafetensorError, OSError, ValueError) as e:
        raise CheckpointError(weights_path, f"corrupt or truncated weights file ({e})") from None
    vqvae = build_vqvae(cfg, motion_dim)
    classifier = build_classifier(cfg, vocab, n_feat)
    for prefix, module in (("vqvae.", vqvae), ("classifier.", classifier)):
        state = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
        expected = module.state_dict()
        missing = sorted(set(expected) - set(state))
        if missing:
            raise CheckpointError(weights_path, f"weights do not match {META}: missing "
                                                f"{prefix}{missing[0]} (and {len(missing) - 1} more)")
        for k, v in expected.items():
            if state[k].shape != v.shape:
                raise CheckpointError(weights_path, f"weights do not match {META}: {prefix}{k} has "
                                                    f"shape {tuple(state[k].shape)}, expected "
                                                    f"{tuple(v.shape)}")
        module.load_state_dict(state, strict=True)
        module.to(device).eval()
    try:
        norm = NormStats.from_tensors(tensors)
    except KeyError:
        raise CheckpointError(weights_path, "weights file has no normalisation statistics") from None
    if norm.mean.shape != (motion_dim,):
        raise CheckpointError(weights_path, f"normalisation statistics have {norm.mean.shape[0]} "
                                            f"dimensions, the model {motion_dim}")
    return Bundle(cfg=cfg, vqvae=vqvae, classifier=classifier, norm=norm, vocab=vocab, meta=meta,
                  path=path)
