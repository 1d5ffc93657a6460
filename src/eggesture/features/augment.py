"""Speech augmentation for training: what a recording does to a voice that synthetic speech lacks.

The synthetic speakers are espeak-ng voices rendered into digital silence; real recordings have a
noise floor, a room, a microphone's colour and other voices' pitch. ``train.audio_augment`` (the
probability per training window) passes a window's audio through :func:`augment` before its
features are computed, with draws that are a pure function of (seed, epoch, window), so a run
is deterministic and a resumed run sees what an uninterrupted one would
(:class:`eggesture.training.data.WindowDataset`). Each effect is applied on its own with its
probability, in this order:

=============  =====  ==========================================================================
effect         p      what
=============  =====  ==========================================================================
pitch          0.3    ``librosa.effects.pitch_shift`` by ±:data:`PITCH_SEMITONES` (duration kept,
                      so the words stay on their frames)
colour         0.5    a random spectral tilt of ±:data:`TILT_DB` per octave (the microphone, the
                      voice's brightness), applied in the frequency domain
reverb         0.5    a synthetic room: exponentially decaying noise, RT60 in :data:`RT60_S`,
                      mixed with the dry signal at a random direct-to-reverberant ratio
noise          0.6    white, pink or brown noise at an SNR (over the speech) in :data:`SNR_DB`
gain           1.0    ±:data:`GAIN_DB`
=============  =====  ==========================================================================

Pure functions of a wave ``(N,)`` float32 at 16 kHz and a ``numpy.random.Generator``.
"""

from __future__ import annotations

import numpy as np

from .audio import SR

PITCH_SEMITONES = 2.0
TILT_DB = 3.0
RT60_S = (0.15, 0.8)
SNR_DB = (5.0, 35.0)
GAIN_DB = 10.0
PROBABILITY = {"pitch": 0.3, "colour": 0.5, "reverb": 0.5, "noise": 0.6}


def tilt(wave: np.ndarray, db_per_octave: float, ref_hz: float = 1000.0) -> np.ndarray:
    """``wave`` with its spectrum multiplied by ``(f / ref_hz) ** (db_per_octave / 6.02)`` (0 dB
    at ``ref_hz``; the DC bin kept)."""
    spec = np.fft.rfft(wave)
    f = np.fft.rfftfreq(wave.size, 1.0 / SR)
    gain = np.ones_like(f)
    gain[1:] = (np.maximum(f[1:], 50.0) / ref_hz) ** (db_per_octave / 20.0 / np.log10(2.0))
    return np.fft.irfft(spec * gain, n=wave.size).astype(np.float32)


def room(rng: np.random.Generator, rt60: float) -> np.ndarray:
    """A synthetic impulse response: the direct path, then Gaussian noise decaying by 60 dB in
    ``rt60`` seconds, at a direct-to-reverberant energy ratio drawn in [−3, 12] dB."""
    n = max(2, int(rt60 * SR))
    tail = rng.standard_normal(n) * 10 ** (-3.0 * np.arange(n) / n)  # −60 dB at n
    tail[0] = 0.0
    drr = 10 ** (rng.uniform(-3.0, 12.0) / 10)
    tail *= np.sqrt(1.0 / (drr * max(np.sum(tail ** 2), 1e-12)))
    tail[0] = 1.0
    return tail


def coloured_noise(rng: np.random.Generator, n: int, slope: float) -> np.ndarray:
    """Unit-power noise whose power falls as ``f ** −slope`` (0 white, 1 pink, 2 brown)."""
    spec = rng.standard_normal(n // 2 + 1) + 1j * rng.standard_normal(n // 2 + 1)
    f = np.fft.rfftfreq(n, 1.0 / SR)
    spec[1:] /= np.maximum(f[1:], 20.0) ** (slope / 2)
    spec[0] = 0.0
    x = np.fft.irfft(spec, n=n)
    return (x / max(np.sqrt(np.mean(x ** 2)), 1e-12)).astype(np.float32)


def add_noise(wave: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """``wave + noise`` scaled so that the speech's power over the noise's is ``snr_db`` (the
    speech's power measured over its louder half of samples, so pauses do not count)."""
    loud = np.sort(wave ** 2)[wave.size // 2:]
    p = float(np.mean(loud)) if loud.size else 0.0
    scale = np.sqrt(p / 10 ** (snr_db / 10)) if p > 0 else 1e-4
    return (wave + scale * noise).astype(np.float32)


def augment(wave: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One draw of every effect of the module table on ``wave (N,)``; the same length back."""
    from scipy.signal import fftconvolve

    x = np.asarray(wave, dtype=np.float32)
    if x.size == 0:
        return x
    peak = float(np.abs(x).max())
    if rng.random() < PROBABILITY["pitch"] and peak > 0:
        import librosa

        steps = rng.uniform(-PITCH_SEMITONES, PITCH_SEMITONES)
        x = librosa.effects.pitch_shift(x, sr=SR, n_steps=steps).astype(np.float32)[: wave.size]
        x = np.pad(x, (0, wave.size - x.size))
    if rng.random() < PROBABILITY["colour"]:
        x = tilt(x, rng.uniform(-TILT_DB, TILT_DB))
    if rng.random() < PROBABILITY["reverb"]:
        x = fftconvolve(x, room(rng, rng.uniform(*RT60_S)))[: x.size].astype(np.float32)
    if rng.random() < PROBABILITY["noise"]:
        x = add_noise(x, coloured_noise(rng, x.size, float(rng.choice([0.0, 1.0, 2.0]))),
                      rng.uniform(*SNR_DB))
    x *= 10 ** (rng.uniform(-GAIN_DB, GAIN_DB) / 20)
    top = float(np.abs(x).max())
    return (x / top if top > 1.0 else x).astype(np.float32)  # no clipping
