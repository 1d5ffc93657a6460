"""Inference bundles: everything generation and evaluation need, with no pickle.

A bundle is a folder::

    model.safetensors   VQ-VAE and classifier weights, plus the motion normalisation statistics
    config.json         the resolved run config, motion/joint/audio facts, the vocabulary, and
                        the SHA-256 of model.safetensors

Loading builds the networks from ``config.json`` and loads the weights strictly: a truncated or
tampered weights file (the hash differs, a tensor has another shape or dtype, is missing or
extra, or holds NaN), a pickle in place of safetensors, or a config that does not match the
weights, is a clear :class:`~eggesture.errors.CheckpointError`, never a crash deep inside torch.
Nothing is ever unpickled. The hash guards against damage and mix-ups, not against someone who
rewrites both files.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import torch

from .checkpoint import CONFIG as META
from .checkpoint import WEIGHTS, check_kind, check_weights_hash, read_weights, save_checkpoint
from .config import Config, from_dict
from .data.motion import NormStats
from .errors import CheckpointError, ConfigError
from .features.audio import window_features
from .features.pretrained_audio import load_extractor
from .models.builders import build_classifier, build_vqvae, resolved
from .models.classifier import IndexClassifier
from .models.vqvae import MotionVQVAE

FORMAT = "eggesture-bundle"
#: 2: one quantizer geometry (cosine codes are unit vectors in the decoder's input too) and the
#: hard-usage moving average; a version-1 bundle's decoder was trained on other inputs.
VERSION = 2


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

    @cached_property
    def audio_features(self):
        """``f(wave, start, n_frames, fps) → (n_frames·4, F)``: features of motion frames
        ``[start, start + n_frames)`` of ``wave``, of the kind this model was trained on."""
        ext = load_extractor(self.cfg.model.audio_encoder)
        if ext is None:
            return window_features
        if ext.n_features != int(self.meta["n_audio_features"]):
            raise CheckpointError(ext.model_dir, f"this audio model gives {ext.n_features} features "
                                                 f"per frame; the bundle was trained on "
                                                 f"{self.meta['n_audio_features']}")
        return ext.window_features

    @cached_property
    def output_gain(self) -> tuple[np.ndarray, np.ndarray] | None:
        """``(centre, scale)`` ``(D,)`` of the variance compensation fitted by ``eggesture
        calibrate`` (:mod:`eggesture.recipes.calibrate`), or None (none fitted)."""
        g = self.meta.get(OUTPUT_GAIN)
        if not g:
            return None
        return (np.asarray(g["centre"], dtype=np.float32), np.asarray(g["scale"], dtype=np.float32))

    def compensate(self, out: np.ndarray) -> np.ndarray:
        """Decoded motion ``(T, D)`` (normalised) with the output gain applied: each channel's
        distance from the centre times its scale (unchanged without a gain)."""
        if self.output_gain is None:
            return out
        centre, scale = self.output_gain
        return (centre + scale * (out - centre)).astype(out.dtype, copy=False)

    def word_ids(self, words: list[str]) -> list[int]:
        """Vocabulary ids of frame words: ``""`` and words the model never saw → 0 (padding,
        "no text": the model was trained to read it so, ``model.word_dropout``), which keeps a
        transcript with unknown words from freezing the motion."""
        return [self._word_index.get(w, 0) if w else 0 for w in words]

    def known_words(self, words: list[str]) -> int:
        """How many of ``words`` the model saw in training (the rest reach it as no word)."""
        return sum(i != 0 for i in self.word_ids(words))


def save_bundle(path: str | Path, *, cfg: Config, vqvae: MotionVQVAE,
                classifier: IndexClassifier, norm: NormStats, vocab: list[str],
                facts: dict) -> Path:
    """Write a bundle folder atomically (a temporary folder renamed into place).

    ``facts`` holds what the data told us: ``joint_names``, ``joint_set``, ``motion_dim``,
    ``n_audio_features``, ``dataset`` and optionally ``sem_classes``, ``skeleton``.
    """
    tensors = {f"vqvae.{k}": v for k, v in vqvae.state_dict().items()}
    tensors.update({f"classifier.{k}": v for k, v in classifier.state_dict().items()})
    tensors.update(norm.tensors())
    meta = {"format": FORMAT, "version": VERSION, "config": resolved(cfg).to_dict(),
            "vocab": vocab, **facts}
    return save_checkpoint(path, tensors, meta, kind="generation",
                           metadata={"format": FORMAT, "config_sha256": _definition_sha256(meta)})


#: config.json's optional variance compensation (``eggesture calibrate``): ``{"centre": [D],
#: "scale": [D], ...}`` in the normalised motion space, each scale in [1, MAX_GAIN].
OUTPUT_GAIN = "output_gain"
MAX_GAIN = 3.0

#: The parts of config.json that define the networks and how they are fed; their hash is kept in
#: the weights file's metadata, so a config.json from another run (or edited) is refused.
DEFINITION = ("config", "vocab", "joint_names", "motion_dim", "n_audio_features", "skeleton_bvh")


def _definition_sha256(meta: dict) -> str:
    core = json.loads(json.dumps({k: meta[k] for k in DEFINITION if k in meta}))
    return hashlib.sha256(json.dumps(core, sort_keys=True).encode()).hexdigest()


def _resolve(path: Path) -> Path:
    """Accept the bundle folder, a run folder holding ``bundle/``, or the weights file itself.

    A path that does not exist, and a Lightning training checkpoint (``checkpoints/last.ckpt``
    or the ``checkpoints/`` folder: what training resumes from, not what generation loads),
    are refused with what to pass instead.
    """
    if not path.exists():
        raise CheckpointError(path, "does not exist")
    if path.suffix == ".ckpt" or (path.is_dir() and path.name == "checkpoints"):
        run = (path.parent if path.is_dir() else
               path.parent.parent if path.parent.name == "checkpoints" else None)
        where = ""
        if run is not None:
            where = (f", here {run}" if (run / "bundle" / META).is_file()
                     else f" ({run / 'bundle'} is written when training finishes)")
        raise CheckpointError(path, "a training checkpoint (Lightning), not an inference bundle: "
                                    "pass the run folder (the folder holding bundle/) or its "
                                    f"bundle/{where}")
    if path.is_file() and path.name == WEIGHTS:
        return path.parent
    if (path / "bundle" / META).is_file():
        return path / "bundle"
    return path


def load_bundle(path: str | Path, device: str | torch.device = "cpu") -> Bundle:
    """Load a bundle written by :func:`save_bundle` (safetensors + JSON only).

    Every check names the file it failed on: the config (:func:`_read_meta`), the weights
    (:func:`_read_weights`), each network's tensors against the config (:func:`_load_state`),
    the normalisation statistics, and the two hashes tying the files to one run.
    """
    path = _resolve(Path(path))
    meta_path, weights_path = path / META, path / WEIGHTS
    if not meta_path.is_file() or not weights_path.is_file():
        raise CheckpointError(path, f"not an inference bundle (needs {META} and {WEIGHTS})")
    meta, cfg = _read_meta(meta_path)
    motion_dim, vocab = int(meta["motion_dim"]), meta["vocab"]
    tensors, header = read_weights(weights_path)
    stored = header.get("config_sha256")
    vqvae = build_vqvae(cfg, motion_dim)
    classifier = build_classifier(cfg, vocab, int(meta["n_audio_features"]))
    for prefix, module in (("vqvae.", vqvae), ("classifier.", classifier)):
        _load_state(module, prefix, tensors, weights_path)
        module.to(device).eval()
    norm = _read_norm(tensors, weights_path, motion_dim)
    # Bundles written before the hashes existed have neither; then the checks above are all.
    check_weights_hash(meta, weights_path)
    if stored is not None and stored != _definition_sha256(meta):
        raise CheckpointError(meta_path, f"does not match {WEIGHTS}: the model definition "
                                         f"({', '.join(DEFINITION[:4])}, …) was edited, or comes "
                                         "from another run")
    return Bundle(cfg=cfg, vqvae=vqvae, classifier=classifier, norm=norm, vocab=vocab, meta=meta,
                  path=path)


def _read_meta(meta_path: Path) -> tuple[dict, Config]:
    """The bundle's ``config.json``, checked: format, version, config, vocabulary, joints."""
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CheckpointError(meta_path, f"not valid JSON ({e})") from None
    if isinstance(meta, dict):
        check_kind(meta, meta_path, "generation")  # an evaluation net's folder: say which
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(meta_path, f"not an eggesture bundle config (format != {FORMAT!r})")
    if meta.get("version") != VERSION:
        hint = (" (written by an earlier eggesture, whose quantizer differs: retrain it)"
                if isinstance(meta.get("version"), int) and meta["version"] < VERSION else "")
        raise CheckpointError(meta_path, f"bundle version {meta.get('version')} is not "
                                         f"{VERSION}{hint}")
    try:
        cfg = from_dict(meta["config"], meta_path)
        vocab, joints = meta["vocab"], meta["joint_names"]
        motion_dim = int(meta["motion_dim"])
        int(meta["n_audio_features"])  # a number, or "invalid bundle config"
        for key, value in (("vocab", vocab), ("joint_names", joints)):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValueError(f"{key} must be a list of strings")
        if len(joints) * 6 != motion_dim:
            raise ValueError(f"{len(joints)} joint names but motion_dim {motion_dim} "
                             f"(6 per joint)")
        if meta.get(OUTPUT_GAIN):
            _check_gain(meta[OUTPUT_GAIN], motion_dim)
    except KeyError as e:
        raise CheckpointError(meta_path, f"incomplete bundle config (no {e})") from None
    except (TypeError, ValueError, ConfigError) as e:
        raise CheckpointError(meta_path, f"invalid bundle config ({e})") from None
    return meta, cfg


def _check_gain(gain: dict, motion_dim: int) -> None:
    centre, scale = (np.asarray(gain[k], dtype=np.float64) for k in ("centre", "scale"))
    if centre.shape != (motion_dim,) or scale.shape != (motion_dim,):
        raise ValueError(f"{OUTPUT_GAIN} needs {motion_dim} centres and scales")
    if not (np.isfinite(centre).all() and np.isfinite(scale).all()
            and (scale >= 1).all() and (scale <= MAX_GAIN).all()):
        raise ValueError(f"{OUTPUT_GAIN} scales must be finite, in [1, {MAX_GAIN:g}]")


def _load_state(module: torch.nn.Module, prefix: str, tensors: dict[str, torch.Tensor],
                weights_path: Path) -> None:
    """Load the ``prefix`` tensors into ``module``: the same names, shapes, dtypes, all finite."""
    state = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
    expected = module.state_dict()
    missing = sorted(set(expected) - set(state))
    if missing:
        raise CheckpointError(weights_path, f"weights do not match {META}: missing "
                                            f"{prefix}{missing[0]} (and {len(missing) - 1} more)")
    extra = sorted(set(state) - set(expected))
    if extra:
        more = f" (and {len(extra) - 1} more)" if len(extra) > 1 else ""
        raise CheckpointError(weights_path, f"weights do not match {META}: unexpected "
                                            f"{prefix}{extra[0]}{more}")
    for k, v in expected.items():
        if state[k].shape != v.shape or state[k].dtype != v.dtype:
            raise CheckpointError(weights_path, f"weights do not match {META}: {prefix}{k} is "
                                                f"{tuple(state[k].shape)} {state[k].dtype}, "
                                                f"expected {tuple(v.shape)} {v.dtype}")
        if v.is_floating_point() and not torch.isfinite(state[k]).all():
            raise CheckpointError(weights_path, f"{prefix}{k} holds NaN or infinite values")
    module.load_state_dict(state, strict=True)


def _read_norm(tensors: dict[str, torch.Tensor], weights_path: Path, motion_dim: int) -> NormStats:
    """The motion normalisation statistics: of the model's width, finite, positive std."""
    try:
        norm = NormStats.from_tensors(tensors)
    except KeyError:
        raise CheckpointError(weights_path, "weights file has no normalisation statistics") from None
    if norm.mean.shape != (motion_dim,) or norm.std.shape != (motion_dim,):
        raise CheckpointError(weights_path, f"normalisation statistics have shapes "
                                            f"{norm.mean.shape}/{norm.std.shape}, the model "
                                            f"({motion_dim},)")
    if not (np.isfinite(norm.mean).all() and np.isfinite(norm.std).all() and (norm.std > 0).all()):
        raise CheckpointError(weights_path, "normalisation statistics hold NaN, infinite or "
                                            "non-positive values")
    return norm
