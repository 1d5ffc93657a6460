"""Transcripts: word timings from Praat TextGrids, speech-recognition JSON or plain text.

All readers return a sorted list of :class:`Word` with times in seconds; :func:`frame_words`
turns that into one word per motion frame (``""`` for silence), which is what the text encoders
consume.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import librosa
import numpy as np
from praatio import textgrid as praat_textgrid
from praatio.utilities import textgrid_io

from ..errors import DataError
from .wav import AUDIO_SR


@dataclass(frozen=True)
class Word:
    """One spoken word: ``start`` and ``end`` in seconds, ``text`` lower-cased."""

    start: float
    end: float
    text: str


def normalize_word(text: str) -> str:
    """Lower-case a word and strip surrounding punctuation (``"Hello,"`` → ``"hello"``)."""
    return re.sub(r"^[^\w']+|[^\w']+$", "", text.strip().lower())


def read_textgrid(path: str | Path, tier: str | None = None) -> list[Word]:
    """Words of a Praat TextGrid (long or short text format; UTF-8, UTF-16 or Latin-1).

    The tier is ``tier`` if given, else the one named ``words`` (any case), else the first
    interval tier. Intervals with an empty mark are silence and are left out. Unsorted intervals
    are sorted; overlapping ones are an error.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "TextGrid file not found")
    text = _decode_textgrid(path)
    if '"IntervalTier"' not in text:
        raise DataError(path, "TextGrid has no word tier (no interval tier found)")
    try:
        tg = textgrid_io.parseTextgridStr(text, includeEmptyIntervals=False)
        tiers = [(t["name"], [tuple(e) for e in t["entries"]])
                 for t in tg["tiers"] if t["class"] == "IntervalTier"]
    except Exception as e:  # praatio raises assorted errors (IndexError, its own) on bad text
        raise DataError(path, f"invalid or truncated TextGrid ({' '.join(str(e).split())})"
                        ) from None
    names = [n for n, _ in tiers]
    if tier is None:
        by_lower = {n.lower(): n for n in reversed(names)}
        tier = by_lower.get("words", by_lower.get("word", names[0] if names else None))
    if tier is None or tier not in names:
        raise DataError(path, "TextGrid has no word tier (no interval tier found)")
    entries = tiers[names.index(tier)][1]
    words = [Word(float(a), float(b), normalize_word(str(label))) for a, b, label in entries]
    return check_words([w for w in words if w.text], path)


def decode_text(data: bytes) -> str:
    """Text of a file's bytes: UTF-16 (with a byte-order mark, or without one when zero bytes
    show it), else UTF-8 (a UTF-8 byte-order mark is dropped). Raises ``UnicodeDecodeError``."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return data.decode("utf-16")
    if b"\x00" in data[:64]:  # UTF-16 without a byte-order mark: ASCII has a zero byte beside it
        return data.decode("utf-16-le" if data[1:2] == b"\x00" else "utf-16-be")
    return data.decode("utf-8-sig")


def _decode_textgrid(path: Path) -> str:
    """The text of a TextGrid file, decoded as Praat does (UTF-16 with or without a byte-order
    mark, UTF-8, else Latin-1), checked to be a text TextGrid."""
    data = path.read_bytes()
    if not data.strip():
        raise DataError(path, "TextGrid file is empty")
    if data.startswith(b"ooBinaryFile"):
        raise DataError(path, "binary TextGrid: save it from Praat as a text file")
    try:
        text = decode_text(data)
    except UnicodeDecodeError:
        if data[:3] != b"\xef\xbb\xbf" and b"\x00" in data[:64]:
            raise DataError(path, "not a TextGrid (binary data, not UTF-8/UTF-16 text)") from None
        text = data.decode("latin-1")  # Praat reads 8-bit files that are not UTF-8 as Latin-1
    head = text.lstrip()[:200]
    if "ooTextFile" not in head or "TextGrid" not in head:
        raise DataError(path, "not a TextGrid (expected 'File type = \"ooTextFile\"' and "
                              "'Object class = \"TextGrid\"' at the top)")
    for n, line in enumerate(text.splitlines(), start=1):  # long format: name the bad time
        m = re.match(r"\s*(xmin|xmax|number|time)\s*=\s*(\S+)\s*$", line)
        if m:
            try:
                value = float(m.group(2))
            except ValueError:
                value = float("nan")
            if not np.isfinite(value) or value < 0:
                raise DataError(path, f"line {n}: {m.group(1)} = {m.group(2)} is not a time in "
                                      "seconds (finite, ≥ 0)")
    return text


def _seconds(value, path: Path) -> float:
    """A time from speech-recognition JSON: ``"0.400s"``, ``"0.4"`` or a number."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip().rstrip("s"))
        except ValueError:
            pass
    raise DataError(path, f"bad time value {value!r} in transcript (expected e.g. \"0.400s\")")


def read_asr_json(path: str | Path) -> list[Word]:
    """Words of a speech-recognition JSON transcript with word times.

    Accepts the GENEA/Trinity (Google speech API) layout
    ``[{"alternatives": [{"words": [{"start_time": "0.400s", "end_time": "0.800s", "word": ...}]}]}]``,
    a ``{"results": [...]}`` wrapper of it, and a flat ``[{"start": .., "end": .., "word": ..}]``
    (Whisper-style ``{"segments": [{"words": [...]}]}`` too).
    """
    path = Path(path)
    try:
        data = json.loads(decode_text(Path(path).read_bytes()))
    except FileNotFoundError:
        raise DataError(path, "transcript file not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise DataError(path, f"not valid JSON ({e})") from None
    except RecursionError:
        raise DataError(path, "JSON nested too deeply to be a transcript") from None

    entries: list[dict] = []

    def collect(node) -> None:
        if isinstance(node, list):
            for item in node:
                collect(item)
        elif isinstance(node, dict):
            if "word" in node and any(k in node for k in ("start_time", "start")):
                entries.append(node)
                return
            for key in ("results", "alternatives", "words", "segments"):
                if key in node:
                    collect(node[key] if key != "alternatives" else node[key][:1])

    try:
        collect(data)
    except RecursionError:
        raise DataError(path, "JSON nested too deeply to be a transcript") from None
    words = []
    for e in entries:
        start = _seconds(e.get("start_time", e.get("start")), path)
        end = _seconds(e.get("end_time", e.get("end")), path)
        if not isinstance(e["word"], str):
            raise DataError(path, f"word {e['word']!r} at {start} s is not text")
        text = normalize_word(e["word"])
        if text:
            words.append(Word(start, end, text))
    if not words and entries == []:
        raise DataError(path, "no words with start/end times found in transcript")
    return check_words(words, path)


def words_from_plain_text(text: str, wave: np.ndarray, sr: int) -> list[Word]:
    """Spread the words of a plain-text transcript over the voiced parts of the audio.

    Voiced parts are found by an energy threshold (``librosa.effects.split``, 35 dB below the
    peak); each word gets a share of the voiced time proportional to its length in letters,
    in reading order. This is an approximation for users without word timings.
    """
    tokens = [normalize_word(t) for t in text.split()]
    tokens = [t for t in tokens if t]
    if not tokens or wave.size == 0:
        return []
    spans = librosa.effects.split(wave, top_db=35, frame_length=1024, hop_length=256)
    if len(spans) == 0:
        spans = np.array([[0, wave.size]])
    seg = spans.astype(np.float64) / sr  # (S, 2) seconds
    seg_len = seg[:, 1] - seg[:, 0]
    total = seg_len.sum()
    weights = np.array([len(t) + 1 for t in tokens], dtype=np.float64)
    bounds = np.concatenate([[0.0], np.cumsum(weights) / weights.sum() * total])  # voiced time
    seg_start_cum = np.concatenate([[0.0], np.cumsum(seg_len)])

    def to_time(v: float) -> float:
        i = int(np.clip(np.searchsorted(seg_start_cum, v, side="right") - 1, 0, len(seg) - 1))
        return float(seg[i, 0] + min(v - seg_start_cum[i], seg_len[i]))

    return [Word(to_time(bounds[i]), to_time(bounds[i + 1]), t) for i, t in enumerate(tokens)]


def read_plain_text(path: str | Path) -> str:
    """The text of a plain-text transcript file (UTF-8 or UTF-16)."""
    path = Path(path)
    try:
        return decode_text(path.read_bytes())
    except FileNotFoundError:
        raise DataError(path, "transcript file not found") from None
    except UnicodeDecodeError:
        raise DataError(path, "transcript is not UTF-8 or UTF-16 text") from None


def read_transcript(path: str | Path, wave: np.ndarray | None = None,
                    sr: int = AUDIO_SR) -> list[Word]:
    """Read a transcript by its extension: ``.TextGrid``, ``.json``, else plain text, whose
    words are timed on ``wave`` by forced alignment (:func:`.word_timing.words_of_text`)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".textgrid":
        return read_textgrid(path)
    if suffix == ".json":
        return read_asr_json(path)
    text = read_plain_text(path)
    if wave is None:
        raise ValueError("plain-text transcripts need the audio to place the words")
    if sr != AUDIO_SR:
        wave = librosa.resample(np.asarray(wave, np.float32), orig_sr=sr, target_sr=AUDIO_SR)
    from .word_timing import words_of_text  # imported here: word_timing imports this module

    return words_of_text(text, wave, path).words


def check_words(words: list[Word], path: str | Path) -> list[Word]:
    """Sort words by start time; reject negative or inverted times and overlaps."""
    words = sorted(words, key=lambda w: (w.start, w.end))
    for w in words:
        if not (np.isfinite(w.start) and np.isfinite(w.end)) or w.start < 0 or w.end < w.start:
            raise DataError(path, f"word {w.text!r} has a bad time span {w.start}–{w.end} s")
    for a, b in zip(words, words[1:]):
        if b.start < a.end - 1e-6:
            raise DataError(
                path, f"words overlap in time: {a.text!r} ({a.start}–{a.end} s) and "
                f"{b.text!r} ({b.start}–{b.end} s)"
            )
    return words


def frame_words(words: list[Word], n_frames: int, fps: float) -> list[str]:
    """The word being spoken at each frame's time ``k / fps`` (``""`` for silence).

    A word too short to cover any frame time is put on its nearest frame if that is silent, so
    no word disappears at low frame rates.
    """
    out = [""] * n_frames
    for w in words:
        k0 = max(0, int(np.ceil(w.start * fps - 1e-9)))
        k1 = min(n_frames, int(np.ceil(w.end * fps - 1e-9)))  # frames with k/fps < end
        if k0 >= k1:  # a word shorter than a frame still gets its nearest free frame
            k = int(round(w.start * fps))
            if 0 <= k < n_frames and not out[k]:
                out[k] = w.text
        for k in range(k0, k1):
            out[k] = w.text
    return out


def write_textgrid(path: str | Path, words: list[Word], duration: float,
                   phones: list[Word] | None = None) -> None:
    """A Praat TextGrid (long text format, as BEAT2's) with a ``words`` tier and, when given, a
    ``phones`` tier; times clipped to ``[0, duration]``; silence is left unmarked."""
    tg = praat_textgrid.Textgrid(minTimestamp=0.0, maxTimestamp=duration)
    for name, items in (("words", words), ("phones", phones)):
        if items is None:
            continue
        entries = [(round(min(w.start, duration), 4), round(min(w.end, duration), 4), w.text)
                   for w in items]
        tier = praat_textgrid.IntervalTier(name, [e for e in entries if e[1] > e[0]],
                                           minT=0.0, maxT=duration)
        tg.addTier(tier)
    tg.save(str(path), format="long_textgrid", includeBlankSpaces=True)
