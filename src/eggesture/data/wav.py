"""Reading speech audio: any rate, channel count and sample format in, mono float32 out.

Every reader (BEAT2, Trinity, generation) loads audio through :func:`load_audio`, so a 44.1 kHz
stereo 24-bit file and BEAT2's own 16 kHz float wavs give the same kind of array.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from ..config import AUDIO_SR
from ..errors import DataError

__all__ = ["AUDIO_SR", "AUDIO_SUFFIXES", "audio_duration", "is_audio_file", "load_audio"]

#: File-name endings of the formats :func:`load_audio` reads (libsndfile's, through soundfile):
#: WAV and its 64-bit variants, FLAC, Ogg Vorbis / Opus, MP3, AIFF, AU, CAF. A folder given to
#: ``eggesture generate`` is searched for these.
AUDIO_SUFFIXES = (".wav", ".wave", ".w64", ".rf64", ".flac", ".ogg", ".oga", ".opus", ".mp3",
                  ".aiff", ".aif", ".aifc", ".au", ".snd", ".caf")

#: Sample rates accepted from a file's header. Outside this range the header is damaged or
#: forged: a 2 s file claiming 1 Hz would resample into 9 hours (gigabytes) of samples.
MIN_FILE_SR, MAX_FILE_SR = 1000, 768000
_BLOCK = 1 << 20  # frames decoded at a time


def load_audio(path: str | Path, sr: int = AUDIO_SR) -> np.ndarray:
    """Read ``path`` as mono float32 at ``sr`` Hz, shape ``(N,)``.

    Channels are averaged; other rates are resampled with soxr (librosa's default). Raises
    :class:`DataError` naming the file for a missing, empty, unreadable or non-finite file, or
    one whose header states an implausible sample rate. The file is decoded block by block, so
    memory follows the samples really present, not a frame count the header claims.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "audio file not found")
    if path.stat().st_size == 0:
        raise DataError(path, "audio file is empty (0 bytes)")
    try:
        with sf.SoundFile(str(path)) as f:
            file_sr = _check_rate(f.samplerate, path)
            blocks = []
            while True:
                block = f.read(_BLOCK, dtype="float32", always_2d=True)  # (n, C)
                if block.shape[0] == 0:
                    break
                blocks.append(block.mean(axis=1))
    except DataError:
        raise
    except Exception as e:  # soundfile raises several types for corrupt or non-audio files
        raise DataError(path, f"not a readable audio file ({_first_line(e)})") from None
    if not blocks:
        raise DataError(path, "audio file holds no samples")
    mono = np.concatenate(blocks)
    if not np.isfinite(mono).all():
        raise DataError(path, "audio holds NaN or infinite samples")
    if file_sr != sr:
        import librosa

        mono = librosa.resample(mono, orig_sr=file_sr, target_sr=sr, res_type="soxr_hq")
    return np.ascontiguousarray(mono, dtype=np.float32)


def is_audio_file(path: str | Path) -> bool:
    """Whether ``path``'s name ends in one of :data:`AUDIO_SUFFIXES` (any case)."""
    return Path(path).suffix.lower() in AUDIO_SUFFIXES


def audio_duration(path: str | Path) -> float:
    """Duration of an audio file in seconds, from its header (no decoding)."""
    try:
        info = sf.info(str(path))
    except Exception as e:
        raise DataError(path, f"not a readable audio file ({_first_line(e)})") from None
    if info.frames == 0:
        raise DataError(path, "audio file holds no samples")
    return info.frames / _check_rate(info.samplerate, path)


def _check_rate(rate: int, path: Path | str) -> int:
    if not MIN_FILE_SR <= rate <= MAX_FILE_SR:
        raise DataError(path, f"header states a sample rate of {rate} Hz (expected "
                              f"{MIN_FILE_SR}–{MAX_FILE_SR} Hz): damaged or not a recording")
    return int(rate)


def _first_line(e: Exception) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__
