"""Audio features for the audio encoder: log-mel, onset strength and RMS at 16 kHz.

Computed with ``torch.stft`` and librosa's mel filter bank (no numba JIT on this path), on a
100 Hz analysis grid, then linearly interpolated onto a grid of ``per_frame`` feature frames per
motion frame, so that feature frame ``i`` belongs to motion frame ``i // per_frame``. The same
function serves training (through the window cache) and generation, so both see identical inputs.
"""

from __future__ import annotations

from functools import lru_cache

import librosa
import numpy as np
import torch

from ..config import AUDIO_SR

SR = AUDIO_SR
N_FFT = 1024
HOP = 160  # 100 Hz analysis rate
N_MELS = 64
#: Feature channels: N_MELS log-mel bands, onset strength, RMS (log).
N_FEATURES = N_MELS + 2
#: Audio feature frames per motion frame (60 Hz at 15 fps).
PER_FRAME = 4
#: Seconds of audio past its own time that a feature frame depends on: half the centred STFT
#: window, and the next 100 Hz frame it is interpolated from.
FEATURE_REACH_S = (N_FFT // 2 + HOP) / SR


@lru_cache(maxsize=4)
def _mel_basis(sr: int, n_fft: int, n_mels: int) -> torch.Tensor:
    return torch.as_tensor(librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels), dtype=torch.float32)


def _analysis(wave: np.ndarray, sr: int) -> np.ndarray:
    """Features on the 100 Hz grid, ``(M, N_FEATURES)`` where frame m is centred at m·HOP."""
    x = torch.from_numpy(np.array(wave, dtype=np.float32))  # a copy: slices of memmaps are read-only
    if x.numel() < N_FFT // 2 + 1:  # reflect padding needs a few samples
        x = torch.nn.functional.pad(x, (0, N_FFT // 2 + 1 - x.numel()))
    spec = torch.stft(x, N_FFT, HOP, window=torch.hann_window(N_FFT), center=True,
                      return_complex=True).abs() ** 2  # (F, M)
    mel = _mel_basis(sr, N_FFT, N_MELS) @ spec  # (n_mels, M)
    log_mel = torch.log(mel + 1e-6)
    # Onset strength: half-wave rectified spectral flux of the log-mel, averaged over bands.
    flux = torch.relu(torch.diff(log_mel, dim=1, prepend=log_mel[:, :1])).mean(0, keepdim=True)
    rms = torch.log(spec.mean(0, keepdim=True).sqrt() + 1e-5)
    return torch.cat([log_mel, flux, rms], 0).T.numpy()  # (M, N_FEATURES)


def audio_features(wave: np.ndarray, n_frames: int, fps: float, sr: int = SR,
                   per_frame: int = PER_FRAME, t0: float = 0.0) -> np.ndarray:
    """Features of ``wave`` for ``n_frames`` motion frames at ``fps``: ``(n_frames·per_frame, F)``.

    Feature frame i sits at time ``t0 + i / (fps·per_frame)`` seconds after the first sample of
    ``wave``; audio shorter than that span is treated as silence past its end.
    """
    if sr != SR:
        raise ValueError(f"audio features expect {SR} Hz audio, got {sr}")
    n_out = n_frames * per_frame
    if n_out == 0:
        return np.zeros((0, N_FEATURES), np.float32)
    need = int(np.ceil((t0 + n_frames / fps) * sr)) + 1
    wave = np.asarray(wave, dtype=np.float32)
    if wave.size < need:
        wave = np.pad(wave, (0, need - wave.size))
    feats = _analysis(wave, sr)  # (M, F) at 100 Hz
    t_out = (t0 + np.arange(n_out) / (fps * per_frame)) * (sr / HOP)  # on the 100 Hz grid
    return interpolate_frames(feats, t_out)


def interpolate_frames(frames: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """Rows of ``frames (M, F)`` linearly interpolated at fractional indices ``pos (N,)``
    (clamped to ``[0, M − 1]``) → ``(N, F)`` float32."""
    pos = np.clip(pos, 0, frames.shape[0] - 1)
    i0 = np.floor(pos).astype(np.int64)
    i1 = np.minimum(i0 + 1, frames.shape[0] - 1)
    f = (pos - i0)[:, None]
    return ((1 - f) * frames[i0] + f * frames[i1]).astype(np.float32)


def window_features(wave: np.ndarray, start: int, n_frames: int, fps: float,
                    sr: int = SR) -> np.ndarray:
    """:func:`audio_features` of motion frames ``[start, start + n_frames)`` of a long ``wave``.

    Only a slice of the audio (with ``N_FFT`` samples of context, on the same 100 Hz analysis
    grid as the whole file) is analysed, so memory does not grow with the audio's length and the
    result equals the whole-file features of those frames.
    """
    s0 = int(round(start / fps * sr))
    lo = max(0, (s0 - N_FFT) // HOP * HOP)
    hi = int(np.ceil((start + n_frames) / fps * sr)) + N_FFT
    return audio_features(wave[lo:hi], n_frames, fps, sr, t0=start / fps - lo / sr)
