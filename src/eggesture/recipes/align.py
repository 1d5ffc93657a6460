"""``eggesture align``: speech and its text in, word (and phone) timings out.

The recipe around :mod:`eggesture.data.align`: read the audio and the text (a string, a text
file, or a TextGrid/JSON whose words are aligned again), align — or recognise with
``transcribe`` — and write a Praat TextGrid (``words`` and ``phones`` tiers, as BEAT2's) or our
JSON word list (:meth:`~eggesture.data.align.Alignment.to_dict`). Either file is read back by
``eggesture generate --text``. Nothing is written when alignment fails.
"""

from __future__ import annotations

from pathlib import Path

from ..data.align import Alignment, align, transcribe
from ..data.transcript import read_asr_json, read_plain_text, read_textgrid, write_textgrid
from ..data.wav import AUDIO_SR, load_audio
from ..data.word_timing import PlainText, transcript_arg
from ..errors import DataError
from ..io import atomic_path, write_json

#: Suffixes ``--out`` may have, and the format each writes.
OUT_SUFFIXES = (".TextGrid", ".json")


def text_of(text: str | Path) -> tuple[str, Path | None]:
    """The words to align and the file they came from: ``text`` itself (no file), or read from
    the file it names (:func:`~eggesture.data.word_timing.transcript_arg`) — plain text, or the
    words of a TextGrid / speech-recognition JSON in order."""
    arg = transcript_arg(str(text)) if not isinstance(text, Path) else text
    if isinstance(arg, PlainText):
        return str(arg), None
    if not arg.is_file():
        raise DataError(arg, "text file not found")
    if arg.suffix.lower() == ".textgrid":
        return " ".join(w.text for w in read_textgrid(arg)), arg
    if arg.suffix.lower() == ".json":
        return " ".join(w.text for w in read_asr_json(arg)), arg
    return read_plain_text(arg), arg


def out_path(audio: Path, out: str | Path | None) -> Path:
    """``--out`` checked (``.TextGrid`` or ``.json``), or ``AUDIO.TextGrid`` beside the audio —
    refused there when a file of that name exists, so no human alignment is overwritten."""
    if out is None:
        default = audio.with_suffix(".TextGrid")
        if default.exists():
            raise DataError(default, "exists already (a transcript of this recording?); give "
                                     "--out to write the alignment elsewhere or over it")
        return default
    out = Path(out)
    if out.suffix.lower() not in (s.lower() for s in OUT_SUFFIXES):
        raise DataError(out, "--out must end in .TextGrid or .json")
    return out


def align_file(audio: str | Path, text: str | Path | None, out: str | Path | None = None, *,
               transcribe_words: bool = False, phones: bool = True,
               check: bool = True) -> tuple[Path, Alignment, float]:
    """Align (or with ``transcribe_words`` recognise) the words of ``audio`` and write them to
    ``out``; returns the file written, the alignment and the audio's duration in seconds.
    ``check=False`` writes an alignment whose score says the text is not this speech's."""
    audio = Path(audio)
    target = out_path(audio, out)
    if text is None and not transcribe_words:
        raise DataError(None, "give the text (--text \"…\" or --text FILE.txt), or --transcribe")
    words, source = text_of(text) if text is not None else ("", None)
    wave = load_audio(audio, AUDIO_SR)
    duration = wave.size / AUDIO_SR
    if text is None:
        result = transcribe(wave, path=audio)
    else:
        result = align(wave, words, path=source or audio, phones=phones, check=check)
    if target.suffix.lower() == ".json":
        write_json(target, result.to_dict())
    else:
        with atomic_path(target) as tmp:
            write_textgrid(tmp, result.words, duration, result.phones or None)
    return target, result, duration
