"""A recording's words with their times, whatever the user gave: how ``generate`` gets them.

=====================  ================================================================
given                  words
=====================  ================================================================
TextGrid / JSON        read as timed; aligned again only to check that they are this
                       recording's (a warning when not: :func:`.align.check_words`)
plain text             timed by forced alignment (:func:`.align.align`); text that does not
                       match the speech is refused. Spread evenly over the voiced parts
                       (:func:`.transcript.words_from_plain_text`) only where pocketsphinx
                       cannot be imported, with a warning saying so
nothing                no words, or recognised ones with ``transcribe`` (:func:`.align.transcribe`)
=====================  ================================================================
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError, EggestureWarning
from .transcript import Word, read_asr_json, read_plain_text, read_textgrid, words_from_plain_text
from .wav import AUDIO_SR

#: Median word-start difference (s) between a timed transcript and the alignment of its words
#: above which the transcript's times are reported as off.
TIME_TOLERANCE = 0.25


class PlainText(str):
    """A transcript given as the text itself, not as a file name (``--text "what is said"``)."""


@dataclass
class TimedWords:
    """The words of one recording and how their times were found: ``how`` is ``"timed"`` (the
    user's TextGrid/JSON), ``"aligned"``, ``"spread"``, ``"recognised"`` or ``"none"``;
    ``score`` the alignment score where one was computed (:mod:`.align`)."""

    words: list[Word]
    how: str
    score: float | None = None


def check_words_fit(words: list[Word], duration: float, path) -> None:
    """Reject a transcript whose words start after the audio has ended (more than 1 s)."""
    if words and words[-1].start > duration + 1.0:
        raise DataError(path, f"transcript runs to {words[-1].end:.2f} s but the audio lasts "
                              f"{duration:.2f} s — is it the transcript of another recording?")


#: Suffixes that make a ``--text`` value a transcript file rather than the words themselves.
TRANSCRIPT_SUFFIXES = (".textgrid", ".json", ".txt")


def transcript_arg(text: str) -> Path | PlainText:
    """A ``--text`` value: a transcript file where it names one (it exists, or ends in a
    transcript suffix: a missing file is then an error, not words), else the words themselves."""
    if not text.strip():  # no words (Path("") would be the current folder)
        return PlainText(text)
    path = Path(text)
    try:
        exists = path.exists()
    except OSError:  # e.g. a name too long for a file: it is the words
        exists = False
    if exists or path.suffix.lower() in TRANSCRIPT_SUFFIXES:
        return path
    return PlainText(text)


def _aligner():
    """The aligner module, or None where pocketsphinx cannot be imported."""
    try:
        from . import align
    except ImportError:
        return None
    return align


def words_of_text(text: str, wave: np.ndarray, path=None) -> TimedWords:
    """Plain text timed on ``wave (N,)`` (16 kHz): aligned, or spread where no aligner is."""
    align = _aligner()
    if align is None:
        warnings.warn(EggestureWarning(
            f"{path or 'text'}: pocketsphinx is not installed, so the words are spread evenly "
            "over the voiced parts of the audio (they can land a second or more from where they "
            "are said); pip install pocketsphinx to align them"), stacklevel=2)
        return TimedWords(words_from_plain_text(text, wave, AUDIO_SR), "spread")
    result = align.align(wave, text, path=path)
    if result.coverage < align.PARTIAL_COVERAGE:
        warnings.warn(EggestureWarning(
            f"{path or 'text'}: the words cover only {result.coverage:.0%} of the speech; is the "
            "text all that is said?"), stacklevel=2)
    return TimedWords(result.words, "aligned", result.score)


def timed_words(wave: np.ndarray, text: str | Path | PlainText | None = None, *,
                transcribe: bool = False, check: bool = True) -> TimedWords:
    """The words of ``wave (N,)`` (16 kHz mono) from a transcript file or :class:`PlainText`, or
    recognised when there is none and ``transcribe`` is set (see the module docstring).
    ``check``: align a timed transcript again to warn when its words are not this speech's."""
    if isinstance(text, PlainText):
        return words_of_text(text, wave, "--text")
    if text is None:
        align = _aligner() if transcribe else None
        if transcribe and align is None:
            raise DataError(None, "--transcribe needs pocketsphinx (pip install pocketsphinx)")
        if align is None:
            return TimedWords([], "none")
        result = align.transcribe(wave)
        return TimedWords(result.words, "recognised", result.score)
    path = Path(text)
    suffix = path.suffix.lower()
    if suffix not in (".textgrid", ".json"):
        return words_of_text(read_plain_text(path), wave, path)
    words = read_textgrid(path) if suffix == ".textgrid" else read_asr_json(path)
    check_words_fit(words, wave.size / AUDIO_SR, path)
    timed = TimedWords(words, "timed")
    align = _aligner() if check and words else None
    if align is not None:
        found = align.check_words(wave, words, path=path)
        timed.score = None if found is None else found.score
        if found is None or not found.matches:
            if found is None:
                why = "its words could not be aligned to the audio"
            elif found.score < align.MATCH_SCORE:
                why = f"alignment score {found.score:.2f} per frame, below {align.MATCH_SCORE}"
            else:
                why = f"its words cover only {found.coverage:.0%} of the speech"
            warnings.warn(EggestureWarning(
                f"{path}: the transcript's words do not match the speech ({why}); is it this "
                "recording's transcript? The motion is generated with its words anyway"),
                stacklevel=2)
        elif len(found.words) == len(words):
            off = float(np.median([abs(a.start - b.start) for a, b in zip(found.words, words)]))
            if off > TIME_TOLERANCE:
                warnings.warn(EggestureWarning(
                    f"{path}: the transcript's words are this speech's, but their times are a "
                    f"median {off:.2f} s from where the aligner hears them; `eggesture align` "
                    "writes aligned times"), stacklevel=2)
    return timed
