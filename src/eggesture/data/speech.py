"""Offline speech synthesis with exact word timings: espeak-ng through its C library.

The synthetic corpus (:mod:`eggesture.data.synthetic`) needs real speech whose word timings are
known exactly. espeak-ng, shipped on PyPI as ``espeakng-loader`` (a shared library plus its
data), reports a WORD event at the start of every word and a PHONEME event at every phoneme, each
with its position in the generated audio. We drive it with ``ctypes`` in synchronous mode:

* a word starts at its WORD event (the first word at the first audible sample);
* a word ends where the next word starts, or earlier at a pause phoneme (``_``, ``_:``) that
  follows it; the last word ends at the last audible sample;
* the audio is trimmed to [first audible sample, last audible sample], so an utterance is speech
  from its first to its last sample and every silence around it is the caller's to place;
* a word is *stressed* when one of its phonemes carries espeak's primary-stress mark (``'``).

espeak-ng renders at 22 050 Hz; utterances are resampled to 16 kHz (soxr, the resampler librosa
uses). The library keeps global state, and some of it (pitch flutter) carries over from one call
to the next: output depends on everything synthesised before in the same process. Callers that
need byte-identical output must synthesise the same texts in the same order in a fresh process
(the corpus generator builds each sequence in its own worker process).
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass

import espeakng_loader
import numpy as np
import soxr

from .transcript import Word
from .wav import AUDIO_SR

#: Sample rate of the utterances this module returns (BEAT2's ``wave16k``).
OUTPUT_SR = AUDIO_SR
#: |sample| (int16 units) above which espeak output counts as audible.
AUDIBLE_THRESHOLD = 24

# espeak-ng API constants (speak_lib.h).
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_PHONEME_EVENTS = 0x0001
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_EVENT_LIST_TERMINATED, _EVENT_WORD, _EVENT_PHONEME = 0, 1, 7
_PARAM_RATE, _PARAM_VOLUME, _PARAM_PITCH, _PARAM_RANGE = 1, 2, 3, 4


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    """``espeak_EVENT`` of speak_lib.h."""

    _fields_ = [
        ("type", ctypes.c_int), ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int), ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int), ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p), ("id", _EventId),
    ]


_Callback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                             ctypes.POINTER(_Event))


@dataclass(frozen=True)
class Voice:
    """espeak-ng settings of one utterance.

    ``name`` is an espeak voice (``"en-us"``, ``"en-us+m3"``: language + variant); ``rate`` in
    words per minute (80–450); ``pitch`` and ``range`` 0–100 (espeak's 50 is the voice's
    default); ``volume`` 0–200 (100 normal).
    """

    name: str = "en-us"
    rate: int = 170
    pitch: int = 50
    range: int = 50
    volume: int = 100

    def __post_init__(self) -> None:
        if not 80 <= self.rate <= 450:
            raise ValueError(f"rate must be 80–450 words per minute, got {self.rate}")
        for field_name in ("pitch", "range"):
            if not 0 <= getattr(self, field_name) <= 100:
                raise ValueError(f"{field_name} must be 0–100, got {getattr(self, field_name)}")
        if not 0 <= self.volume <= 200:
            raise ValueError(f"volume must be 0–200, got {self.volume}")


@dataclass
class Utterance:
    """Synthesised speech with its words.

    ``audio (N,)`` float32 at :data:`OUTPUT_SR`, from the first to the last audible sample;
    ``words`` in seconds from the start of ``audio``, contiguous except at pauses;
    ``stressed[i]`` whether word i carries a primary stress.
    """

    audio: np.ndarray
    words: list[Word]
    stressed: list[bool]

    @property
    def duration(self) -> float:
        return self.audio.size / OUTPUT_SR


class Espeak:
    """The espeak-ng engine of this process (a C library with global state: use :func:`engine`)."""

    def __init__(self) -> None:
        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_SetParameter.restype = ctypes.c_int
        lib.espeak_Synth.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
                                     ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
        lib.espeak_Synth.restype = ctypes.c_int
        lib.espeak_Synchronize.restype = ctypes.c_int
        lib.espeak_ng_SetRandSeed.argtypes = [ctypes.c_long]
        lib.espeak_TextToPhonemes.argtypes = [ctypes.POINTER(ctypes.c_char_p), ctypes.c_int,
                                              ctypes.c_int]
        lib.espeak_TextToPhonemes.restype = ctypes.c_char_p
        data = espeakng_loader.get_data_path().encode()
        sr = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data, _INITIALIZE_PHONEME_EVENTS)
        if sr <= 0:
            raise RuntimeError(f"espeak-ng failed to initialise (data at {data.decode()})")
        self.sample_rate = sr
        self._lib = lib
        self._chunks: list[np.ndarray] = []
        self._events: list[tuple[int, int, int, bytes]] = []
        self._voice: str | None = None
        # Keep a reference: the C library calls it after this function returns.
        self._callback = _Callback(self._on_audio)
        lib.espeak_SetSynthCallback(self._callback)

    def _on_audio(self, wav, n: int, events) -> int:
        if n > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, (n,)).copy())
        i = 0
        while events[i].type != _EVENT_LIST_TERMINATED:
            e = events[i]
            if e.type in (_EVENT_WORD, _EVENT_PHONEME):
                name = bytes(e.id.string).split(b"\0", 1)[0] if e.type == _EVENT_PHONEME else b""
                self._events.append((e.type, e.text_position, e.audio_position, name))
            i += 1
        return 0

    def raw(self, text: str, voice: Voice) -> tuple[np.ndarray, list[tuple[int, int, int, bytes]]]:
        """Synthesise ``text``: int16 samples at :attr:`sample_rate` and the WORD/PHONEME events
        ``(type, text_position (1-based character), audio_position (ms), phoneme name)``."""
        lib = self._lib
        if voice.name != self._voice:
            if lib.espeak_SetVoiceByName(voice.name.encode()) != 0:
                raise ValueError(f"espeak-ng has no voice {voice.name!r}")
            self._voice = voice.name
        for param, value in ((_PARAM_RATE, voice.rate), (_PARAM_PITCH, voice.pitch),
                             (_PARAM_RANGE, voice.range), (_PARAM_VOLUME, voice.volume)):
            lib.espeak_SetParameter(param, int(value), 0)
        lib.espeak_ng_SetRandSeed(1)
        self._chunks, self._events = [], []
        data = text.encode("utf-8")
        err = lib.espeak_Synth(data, len(data) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
        lib.espeak_Synchronize()
        if err != 0:
            raise RuntimeError(f"espeak-ng failed on {text!r} (error {err})")
        audio = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int16)
        return audio.astype(np.int16), self._events

    def phonemes(self, word: str, voice: str = "en-us") -> list[str]:
        """espeak-ng's pronunciation of ``word`` by its letter-to-sound rules and dictionary:
        phoneme names in espeak's ASCII notation, stress marks attached (``"eggesture"`` →
        ``["'E", "g", "E", "s", "tS", "3"]``). Synthesis is not affected."""
        if voice != self._voice:
            if self._lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise ValueError(f"espeak-ng has no voice {voice!r}")
            self._voice = voice
        text = ctypes.c_char_p(word.encode("utf-8"))
        # text mode 1 = UTF-8; phoneme mode: ASCII names, "_" (bits 8-23) between phonemes
        out = self._lib.espeak_TextToPhonemes(ctypes.byref(text), _CHARS_UTF8, ord("_") << 8)
        return [p for p in (out or b"").decode("utf-8", "replace").strip().split("_") if p]

    def utterance(self, tokens: list[str], voice: Voice, end: str = ".") -> Utterance:
        """Speak ``tokens`` (plain words, no punctuation) followed by ``end`` punctuation.

        Returns the trimmed 16 kHz audio and one :class:`Word` per token. espeak speaks some
        word pairs as one ("in the", "was a"): such a group's time is shared among its words in
        proportion to their letters, each boundary moved to the nearest phoneme start.
        """
        if not tokens:
            raise ValueError("an utterance needs at least one word")
        text = " ".join(tokens) + end
        audio, events = self.raw(text, voice)
        sr = self.sample_rate
        loud = np.flatnonzero(np.abs(audio.astype(np.int32)) > AUDIBLE_THRESHOLD)
        if loud.size == 0:
            raise RuntimeError(f"espeak-ng produced no audible speech for {text!r}")
        a, b = int(loud[0]), int(loud[-1]) + 1

        spans = _word_spans(tokens, events, loud, a, b, sr)
        phonemes = [(round(pos_ms * sr / 1000), name) for etype, _, pos_ms, name in events
                    if etype == _EVENT_PHONEME]
        stressed = [any(s <= p < max(e, s + 1) and name.startswith(b"'") for p, name in phonemes)
                    for s, e in spans]

        speech = audio[a:b].astype(np.float32) / 32768.0
        out = soxr.resample(speech, sr, OUTPUT_SR, quality="HQ").astype(np.float32)
        scale = OUTPUT_SR / sr
        words = []
        for tok, (s, e) in zip(tokens, spans, strict=True):
            t0 = min(out.size, round((s - a) * scale)) / OUTPUT_SR
            t1 = min(out.size, round((e - a) * scale)) / OUTPUT_SR
            words.append(Word(t0, t1, tok))
        return Utterance(out, words, stressed)


def _word_spans(tokens: list[str], events: list[tuple[int, int, int, bytes]], loud: np.ndarray,
                a: int, b: int, sr: int) -> list[tuple[int, int]]:
    """Sample spans ``[start, end)`` of ``tokens`` within audio ``[a, b)`` from espeak's events.

    A WORD event belongs to the token whose characters hold its text position; tokens without
    an event of their own share their predecessor's (espeak spoke them as one word). A word
    followed by a pause ends at its last audible sample (``loud``: indices of the audible
    samples, sorted), since espeak's pause phoneme starts while the word still sounds.
    """
    char0 = np.cumsum([0] + [len(t) + 1 for t in tokens[:-1]]) + 1  # 1-based text positions
    head_start: dict[int, int] = {0: a}
    for etype, text_pos, pos_ms, _ in events:
        if etype == _EVENT_WORD:
            i = int(np.searchsorted(char0, text_pos, side="right")) - 1
            if i > 0 and i not in head_start:
                head_start[i] = min(b, max(a, round(pos_ms * sr / 1000)))
    phon = sorted(round(pos_ms * sr / 1000) for etype, _, pos_ms, _ in events
                  if etype == _EVENT_PHONEME)
    pauses = sorted(round(pos_ms * sr / 1000) for etype, _, pos_ms, name in events
                    if etype == _EVENT_PHONEME and name.startswith(b"_"))
    heads = sorted(head_start)
    spans: list[tuple[int, int]] = []
    for h, head in enumerate(heads):
        s = head_start[head]
        e = head_start[heads[h + 1]] if h + 1 < len(heads) else b
        pause = next((p for p in pauses if s < p < e), None)
        if pause is not None:  # the group ends where its sound does, before the next word
            k = int(np.searchsorted(loud, e)) - 1
            e = max(pause, int(loud[k]) + 1) if k >= 0 and loud[k] >= s else pause
        group = range(head, heads[h + 1] if h + 1 < len(heads) else len(tokens))
        letters = np.cumsum([len(tokens[i]) for i in group], dtype=np.float64)
        inner = [p for p in phon if s < p < e]
        bounds = [s]
        for frac in letters[:-1] / letters[-1]:
            target = s + frac * (e - s)
            free = [p for p in inner if p > bounds[-1]]
            bounds.append(min(free, key=lambda p: abs(p - target)) if free else round(target))
        bounds.append(e)
        spans.extend((bounds[k], max(bounds[k], bounds[k + 1])) for k in range(len(group)))
    return spans


_ENGINE: Espeak | None = None


def engine() -> Espeak:
    """This process's espeak-ng engine (created on first use)."""
    global _ENGINE
    if _ENGINE is None:
        _ENGINE = Espeak()
    return _ENGINE
