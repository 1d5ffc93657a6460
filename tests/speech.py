"""Speech whose words are known: espeak-ng utterances for the alignment tests."""

from __future__ import annotations

import functools

import numpy as np

from eggesture.data.speech import Voice, engine
from eggesture.data.transcript import Word

SR = 16000


@functools.cache
def _say(text: str, pad: float, rate: int) -> tuple[np.ndarray, tuple[Word, ...]]:
    u = engine().utterance(text.split(), Voice(rate=rate))
    silence = np.zeros(int(pad * SR), np.float32)
    wave = np.concatenate([silence, u.audio, silence])
    return wave, tuple(Word(w.start + pad, w.end + pad, w.text) for w in u.words)


def say(text: str, pad: float = 0.5, rate: int = 160) -> tuple[np.ndarray, list[Word]]:
    """espeak-ng speech of ``text`` (plain lower-case words) as ``(N,)`` float32 at 16 kHz with
    ``pad`` seconds of silence on each side, and each word's true time (espeak's own events)."""
    wave, words = _say(text, pad, rate)
    return wave.copy(), list(words)
