"""Reading speech audio: any rate, channel count and sample format in, mono float32 out.

Every reader (BEAT2, Trinity, generation) loads audio through :func:`load_audio`, so a 44.1 kHz
stereo 24-bit file and BEAT2's own 16 kHz float wavs give the same kind of array.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import DataError

#: Sample rate of every waveform inside eggesture (BEAT2's `wave16k`).
AUDIO_SR = 16000


def load_audio(path: str | Path, sr: int = AUDIO_SR) -> np.ndarray:
    """Read ``path`` as mono float32 at ``sr`` Hz, shape ``(N,)``.

    Channels are averaged; other rates are resampled with soxr (librosa's default). Raises
    :class:`DataError` naming the file for a missing, empty, unreadable or non-finite file.
    """
    import soundfile as sf

    path = Path(path)
    if not path.is_file():
        raise DataError(path, "audio file not found")
    if path.stat().st_size == 0:
        raise DataError(path, "audio file is empty (0 bytes)")
    try:
        wave, file_sr = sf.read(str(path), dtype="float32", always_2d=True)  # (N, C)
    except Exception as e:  # soundfile raises several types for corrupt or non-audio files
        raise DataError(path, f"not a readable audio file ({_first_line(e)})") from None
    if wave.shape[0] == 0:
        raise DataError(path, "audio file holds no samples")
    if not np.isfinite(wave).all():
        raise DataError(path, "audio holds NaN or infinite samples")
    mono = wave.mean(axis=1)
    if file_sr != sr:
        import librosa

        mono = librosa.resample(mono, orig_sr=file_sr, target_sr=sr, res_type="soxr_hq")
    return np.ascontiguousarray(mono, dtype=np.float32)


def audio_duration(path: str | Path) -> float:
    """Duration of an audio file in seconds, from its header (no decoding)."""
    import soundfile as sf

    try:
        info = sf.info(str(path))
    except Exception as e:
        raise DataError(path, f"not a readable audio file ({_first_line(e)})") from None
    return info.frames / info.samplerate


def _first_line(e: Exception) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__
