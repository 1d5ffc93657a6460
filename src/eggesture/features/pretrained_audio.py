"""Pretrained audio features: hidden states of a local wav2vec2 / HuBERT directory.

``model.audio_encoder=hf:DIR`` replaces the default features (log-mel + onset + RMS,
:mod:`eggesture.features.audio`) by the last hidden state of a frozen speech model loaded with
``transformers`` from the local directory ``DIR`` (nothing is downloaded). The model's frames
(50 Hz for wav2vec2 / HuBERT: a 320-sample hop, a 400-sample receptive field at 16 kHz) are
linearly interpolated onto the same grid as the default features, ``PER_FRAME`` feature frames
per motion frame, so the classifier's audio encoder takes them unchanged with ``n_features`` =
the model's hidden size.

Long audio is cut into chunks of ``chunk_s`` seconds, each run with ``context_s`` seconds of
audio on both sides, so memory does not grow with the audio's length. Training computes the
features of a whole prepared dataset once and caches them on disk
(:func:`eggesture.data.windows.attach_audio_features`); generation computes those of each window
with the same chunking, on the audio of that window and its context. The two agree up to the
model's attention to audio beyond the context (its transformer attends to the whole chunk).
"""

from __future__ import annotations

import hashlib
import json
from functools import cached_property
from pathlib import Path

import numpy as np

from ..errors import ConfigError
from .audio import PER_FRAME, SR, interpolate_frames


def receptive_field(kernels: list[int], strides: list[int]) -> tuple[int, int]:
    """``(hop, receptive field)`` in samples of a stack of 1D convolutions."""
    hop, field = 1, 1
    for k, s in zip(kernels, strides):
        field += (k - 1) * hop
        hop *= s
    return hop, field


class PretrainedAudioFeatures:
    """Frozen wav2vec2-style model of a local directory → features on the motion grid.

    >>> feats = PretrainedAudioFeatures("/models/wav2vec2-base")        # doctest: +SKIP
    >>> feats.features(wave, n_frames=150, fps=15).shape                # doctest: +SKIP
    (600, 768)
    """

    def __init__(self, model_dir: str | Path, *, chunk_s: float = 20.0, context_s: float = 1.0):
        from transformers import AutoConfig

        self.model_dir = Path(model_dir).expanduser()
        if not (self.model_dir / "config.json").is_file():
            raise ConfigError(self.model_dir, "model.audio_encoder=hf:<dir> needs a local Hugging "
                                              "Face model directory (no config.json here)")
        try:  # the config alone: the weights are loaded on first use (not on a cache hit)
            cfg = AutoConfig.from_pretrained(self.model_dir, local_files_only=True)
        except (OSError, ValueError, KeyError) as e:
            raise ConfigError(self.model_dir, f"cannot load the audio model: {e}".splitlines()[0]) from None
        kernels, strides = getattr(cfg, "conv_kernel", None), getattr(cfg, "conv_stride", None)
        if not kernels or not strides:
            raise ConfigError(self.model_dir, f"model type {cfg.model_type!r} is not a wav2vec2-style "
                                              "audio encoder (wav2vec2, HuBERT, WavLM)")
        self.hop, self.field = receptive_field(list(kernels), list(strides))
        self.n_features = int(cfg.hidden_size)
        pre = self.model_dir / "preprocessor_config.json"
        self.normalize = True  # zero mean, unit variance, as wav2vec2's feature extractor does
        if pre.is_file():
            try:
                self.normalize = bool(json.loads(pre.read_text()).get("do_normalize", True))
            except (ValueError, AttributeError):
                raise ConfigError(pre, "not a JSON object") from None
        # Chunk edges on the model's hop, so chunk frames are frames of the whole file.
        self.chunk = max(1, int(chunk_s * SR) // self.hop) * self.hop
        self.context = int(context_s * SR) // self.hop * self.hop

    @cached_property
    def model(self):
        """The frozen network, loaded on first use."""
        from transformers import AutoModel
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # no "Loading weights" bar on every load
        try:
            model = AutoModel.from_pretrained(self.model_dir, local_files_only=True).eval()
        except (OSError, ValueError, KeyError) as e:
            raise ConfigError(self.model_dir, f"cannot load the audio model: {e}".splitlines()[0]) from None
        return model.requires_grad_(False)

    def fingerprint(self) -> str:
        """Identity of the model files and the chunking (a cache key)."""
        files = [(p.name, p.stat().st_size, p.stat().st_mtime_ns)
                 for p in sorted(self.model_dir.iterdir()) if p.is_file()]
        blob = json.dumps({"dir": str(self.model_dir.resolve()), "files": files, "chunk": self.chunk,
                           "context": self.context, "normalize": self.normalize})
        return hashlib.sha1(blob.encode()).hexdigest()[:16]

    def _run(self, x: np.ndarray) -> np.ndarray:
        """Hidden states ``(M, H)`` of one chunk; frame m is centred at sample m·hop + (field−1)/2."""
        import torch

        if x.size < self.field:
            x = np.pad(x, (0, self.field - x.size))
        t = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))[None]
        if self.normalize:
            t = (t - t.mean()) / (t.std() + 1e-7)
        with torch.no_grad():
            return self.model(input_values=t).last_hidden_state[0].float().numpy()

    def frames(self, wave: np.ndarray) -> np.ndarray:
        """Model frames ``(M, H)`` of the whole ``wave``, computed chunk by chunk with context."""
        wave = np.asarray(wave, dtype=np.float32)
        n_frames = max(1, (max(wave.size, self.field) - self.field) // self.hop + 1)
        out = np.zeros((n_frames, self.n_features), np.float32)
        for c0 in range(0, n_frames * self.hop, self.chunk):
            lo = max(0, c0 - self.context)
            h = self._run(wave[lo:c0 + self.chunk + self.context + self.field])
            first = (c0 - lo) // self.hop  # chunk frame of whole-file frame c0 / hop
            j0 = c0 // self.hop
            n = min(self.chunk // self.hop, n_frames - j0, h.shape[0] - first)
            out[j0:j0 + n] = h[first:first + n]
        return out

    def features(self, wave: np.ndarray, n_frames: int, fps: float, t0: float = 0.0) -> np.ndarray:
        """Features of ``n_frames`` motion frames: ``(n_frames·PER_FRAME, H)``; feature frame i at
        ``t0 + i / (fps·PER_FRAME)`` s after ``wave``'s first sample (silence past its end)."""
        n_out = n_frames * PER_FRAME
        if n_out == 0:
            return np.zeros((0, self.n_features), np.float32)
        need = int(np.ceil((t0 + n_frames / fps) * SR)) + self.field
        wave = np.asarray(wave, dtype=np.float32)
        if wave.size < need:
            wave = np.pad(wave, (0, need - wave.size))
        h = self.frames(wave)  # (M, H)
        # Position of each output time on the model's frame grid.
        pos = ((t0 + np.arange(n_out) / (fps * PER_FRAME)) * SR - (self.field - 1) / 2) / self.hop
        return interpolate_frames(h, pos)

    def window_features(self, wave: np.ndarray, start: int, n_frames: int, fps: float) -> np.ndarray:
        """:meth:`features` of motion frames ``[start, start + n_frames)`` of a long ``wave``,
        analysing only that span and ``context_s`` around it."""
        s0 = int(round(start / fps * SR))
        lo = max(0, (s0 - self.context) // self.hop * self.hop)
        hi = int(np.ceil((start + n_frames) / fps * SR)) + self.context + self.field
        return self.features(wave[lo:hi], n_frames, fps, t0=start / fps - lo / SR)


def load_extractor(spec: str) -> PretrainedAudioFeatures | None:
    """The extractor of a ``model.audio_encoder`` setting (None for ``default``)."""
    if spec == "default":
        return None
    return PretrainedAudioFeatures(spec[3:])
