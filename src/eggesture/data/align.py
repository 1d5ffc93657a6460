"""Word timings for any English speech: forced alignment and recognition with pocketsphinx.

The words drive the semantic gestures (the paper's Fig. 5), and they must land where they are
said. ``pocketsphinx`` (CMU Sphinx; its PyPI wheel ships an English acoustic model, the CMU
pronunciation dictionary and a language model) aligns a known text to the audio with a
finite-state grammar — the words in order, optional silence and noise between them — and
recognises speech without a text. Nothing is downloaded and no separate tool is installed.

* :func:`align` — text known: the written text becomes spoken words (:mod:`.spoken`); a word
  the dictionary lacks gets a pronunciation from espeak-ng's letter-to-sound rules (mapped to
  the dictionary's ARPABET phones); a word with no pronunciation at all (no Latin letters) is
  timed by interpolation between its aligned neighbours. Both are counted in the result.
* :func:`transcribe` — no text: recognised words with their times (accuracy: docs/usage.md).
* :func:`check_words` — a timed transcript given by the user, aligned again to score whether its
  words are this recording's.

**Is the text this speech?** Every alignment has a score: the words' acoustic log-likelihood
per 10 ms frame, relative to the best-scoring model state of each frame (pocketsphinx
normalises each frame so; ln of the segment scores its Python API reports), silence and noise
between words left out. ``coverage`` is the words' time over the speech's (voice activity
detector). A text is refused when it cannot be aligned at all (most wrong texts), when its score
is below :data:`MATCH_SCORE`, or when its words cover less than :data:`MIN_COVERAGE` of the
speech (a few words placed in a long speech). Measured by ``python -m benchmarks.alignment``
(docs/usage.md): the right text scores −1.3 to −2.0 on real speech but −1.8 to −4.4 on espeak-ng's
synthetic voices; a wrong text that aligns at all scores −4.3 to −6.3. The threshold keeps real
speech's right texts and refuses its wrong ones with a margin, at the price of refusing the
right text for some synthetic speech (``check=False``, ``eggesture align --no-check``).

**Long audio** is aligned in chunks of :data:`CHUNK_SECONDS`: the chunk's grammar is the next
words with an exit after every word, the words up to the last pause before the chunk's last
third are kept, and the next chunk starts in that pause. Memory stays bounded by the chunk.
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass, field

import numpy as np
from pocketsphinx import Decoder, Vad

from ..errors import DataError
from .spoken import Token, is_latin_word, spoken_tokens
from .transcript import Word
from .wav import AUDIO_SR

#: What aligns and recognises (named in every output).
ALIGNER = "pocketsphinx en-us"
#: pocketsphinx's frame rate (frames per second): times are multiples of 10 ms.
FRAME_RATE = 100
#: Alignment score (nats per frame, see the module docstring) below which a text is taken not
#: to be what the speech says. Chosen on the ``choose`` pairs of ``python -m
#: benchmarks.alignment`` (docs/usage.md), reported on its ``confirm`` pairs.
MATCH_SCORE = -4.2
#: Share of the speech the words must cover for a text to count as complete (else a note) and
#: below which the text is refused as not this speech's (a few words placed in a long speech).
PARTIAL_COVERAGE = 0.6
MIN_COVERAGE = 0.25
#: Longest audio aligned in one pass; longer audio is aligned in chunks of this length.
CHUNK_SECONDS = 120.0
#: Recognition decodes voiced stretches of at most this length.
RECOGNITION_SECONDS = 30.0
#: Least speech (seconds, by pocketsphinx's voice activity detector) that counts as speech.
MIN_SPEECH_SECONDS = 0.2
#: A text is refused as not English when more than this share of its words are neither in the
#: pronunciation dictionary nor written in Latin letters, or more than twice this share are not
#: in the dictionary.
NOT_ENGLISH_SHARE = 0.25

_CHUNK_NAMES = itertools.count()
_ACTIVE: dict[int, str] = {}  # each decoder's chunk grammar in use

# espeak-ng's English phonemes → the ARPABET phones of pocketsphinx's en-us model.
_ESPEAK_TO_ARPABET = {
    "a": "AE", "aa": "AE", "a#": "AH", "A:": "AA", "A@": "AA R", "A": "AA", "aI": "AY",
    "aI@": "AY ER", "aI3": "AY ER", "aU": "AW", "aU@": "AW ER", "@": "AH", "@2": "AH", "@5": "AH",
    "@L": "AH L", "3": "ER", "3:": "ER", "e": "EH", "e@": "EH R", "E": "EH", "E2": "EH",
    "eI": "EY", "i": "IY", "i:": "IY", "i@": "IH R", "i@3": "IY ER", "I": "IH", "I#": "IH",
    "I2": "IH", "0": "AA", "O": "AO", "O:": "AO", "O@": "AO R", "o@": "AO R", "OI": "OY",
    "oU": "OW", "oU#": "OW", "u:": "UW", "U": "UH", "U@": "UH R", "u@": "UW ER", "V": "AH",
    "p": "P", "b": "B", "t": "T", "d": "D", "k": "K", "g": "G", "f": "F", "v": "V", "T": "TH",
    "D": "DH", "s": "S", "z": "Z", "S": "SH", "Z": "ZH", "h": "HH", "m": "M", "n": "N",
    "N": "NG", "l": "L", "r": "R", "j": "Y", "w": "W", "tS": "CH", "dZ": "JH", "t#": "T",
    "d#": "D", "n-": "N", "l-": "L", "m-": "M", "r-": "R", "x": "K", "*": "T",
}


@dataclass(frozen=True)
class Alignment:
    """Timed words (and phones) of speech, with how they were found.

    ``words`` are the spoken words (numbers written out); ``score`` the mean acoustic
    log-likelihood per frame (nats, ≤ 0; see the module docstring); ``letter_to_sound`` the
    words pronounced by espeak-ng's rules, ``interpolated`` those timed between neighbours,
    ``rewritten`` the written tokens that became other spoken words (``("5", "five")``);
    ``coverage`` the words' time over the speech's time.
    """

    words: list[Word]
    phones: list[Word] = field(default_factory=list)
    score: float = 0.0
    coverage: float = 1.0
    method: str = "aligned"
    letter_to_sound: list[str] = field(default_factory=list)
    interpolated: list[str] = field(default_factory=list)
    rewritten: list[tuple[str, str]] = field(default_factory=list)

    @property
    def matches(self) -> bool:
        """Whether the words are what the speech says: score ≥ :data:`MATCH_SCORE` and the
        words cover at least :data:`MIN_COVERAGE` of the speech."""
        return self.score >= MATCH_SCORE and self.coverage >= MIN_COVERAGE

    def summary(self) -> str:
        """One line: what was timed and how well it matched."""
        extra = [f"{len(self.letter_to_sound)} by letter-to-sound"] if self.letter_to_sound else []
        if self.interpolated:
            extra.append(f"{len(self.interpolated)} interpolated")
        if self.rewritten:
            extra.append(f"{len(self.rewritten)} written forms spoken out (e.g. "
                         f"{self.rewritten[0][0]!r} → {self.rewritten[0][1]!r})")
        if self.coverage < PARTIAL_COVERAGE:
            extra.append(f"the words cover only {self.coverage:.0%} of the speech: is the text "
                         "complete?")
        detail = f" ({'; '.join(extra)})" if extra else ""
        return (f"{len(self.words)} words {self.method} by {ALIGNER}{detail}, score "
                f"{self.score:.2f} per frame (matching speech scores ≥ {MATCH_SCORE})")

    def to_dict(self) -> dict:
        """Our JSON word list (read back by :func:`~.transcript.read_asr_json`)."""
        return {
            "aligner": ALIGNER, "method": self.method, "score_per_frame": round(self.score, 4),
            "match_threshold": MATCH_SCORE, "matches": self.matches,
            "speech_coverage": round(self.coverage, 4),
            "letter_to_sound": self.letter_to_sound, "interpolated": self.interpolated,
            "rewritten": [list(p) for p in self.rewritten],
            "words": [{"word": w.text, "start": round(w.start, 3), "end": round(w.end, 3)}
                      for w in self.words],
            "phones": [{"phone": p.text, "start": round(p.start, 3), "end": round(p.end, 3)}
                       for p in self.phones],
        }


@functools.cache
def _decoder(kind: str):
    """This process's decoders: ``"align"`` (grammar search; ``"align_wide"`` with wider
    beams, tried where it fails), ``"phones"`` (phone alignment inside a word) and
    ``"recognise"`` (the language model). Building one reads the model (0.1–0.3 s), so each is
    built once."""
    # bestpath off everywhere a grammar is searched: the lattice's best path can leave the
    # grammar (drop words, add a one-frame "</s>": pocketsphinx #339)
    if kind in ("align", "phones"):
        return Decoder(lm=None, bestpath=False, loglevel="FATAL")
    if kind == "align_wide":  # the retry: next to no pruning, for fast or synthetic speech
        # (half of the demo corpus's espeak sequences need it; 1.2 s instead of 1.0 s a minute)
        return Decoder(lm=None, bestpath=False, loglevel="FATAL", beam="1e-200",
                       wbeam="1e-200", pbeam="1e-200")
    return Decoder(loglevel="FATAL")


def _pcm(wave: np.ndarray) -> bytes:
    return (np.clip(wave, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()


def voiced(wave: np.ndarray) -> tuple[np.ndarray, float]:
    """pocketsphinx's voice activity decisions on ``wave (N,)`` (16 kHz): ``(F,)`` bools, one
    per frame of the returned length in seconds (30 ms)."""
    vad = Vad(Vad.LOOSE, AUDIO_SR)
    pcm, step = _pcm(wave), vad.frame_bytes
    flags = [vad.is_speech(pcm[i:i + step]) for i in range(0, len(pcm) - step + 1, step)]
    return np.asarray(flags, dtype=bool), vad.frame_length


def _check_speech(wave: np.ndarray, path) -> tuple[np.ndarray, float]:
    """The voice activity decisions of ``wave`` (:func:`voiced`); refuses audio with no speech."""
    flags, frame = voiced(wave) if wave.size else (np.zeros(0, bool), 0.03)
    if float(flags.sum()) * frame < MIN_SPEECH_SECONDS:
        raise DataError(path, "no speech found in the audio (the voice activity detector heard "
                              f"less than {MIN_SPEECH_SECONDS} s): nothing to align")
    return flags, frame


def pronunciation(word: str) -> str | None:
    """ARPABET phones for ``word`` by espeak-ng's letter-to-sound rules, or None if it has none."""
    from .speech import engine

    if not is_latin_word(word):
        return None
    phones = []
    for p in engine().phonemes(word):
        p = p.strip("',%=")
        phones += _ESPEAK_TO_ARPABET.get(p, "").split()
    return " ".join(phones) or None


def _prepare(text: str, path) -> tuple[list[Token], list[str], list[str]]:
    """Spoken tokens of ``text`` with letter-to-sound pronunciations added to the dictionary;
    the words pronounced so and the words with no pronunciation. Refuses empty and non-English
    text."""
    dec = _decoder("align")
    tokens = spoken_tokens(text, known=lambda w: dec.lookup_word(w) is not None)
    if not tokens:
        raise DataError(path, "the text has no words to align")
    unknown = sorted({t.spoken for t in tokens if dec.lookup_word(t.spoken) is None})
    foreign = [w for w in unknown if not is_latin_word(w)]
    n_unknown = sum(dec.lookup_word(t.spoken) is None for t in tokens)
    if len(foreign) > NOT_ENGLISH_SHARE * len(tokens) or \
            n_unknown > 2 * NOT_ENGLISH_SHARE * len(tokens):
        example = ", ".join(repr(w) for w in (foreign or unknown)[:3])
        raise DataError(path, f"the text does not look like English: {n_unknown} of {len(tokens)} "
                              f"words are not in the English pronunciation dictionary (e.g. "
                              f"{example}); eggesture aligns English speech only")
    by_rule, none = [], []
    for w in unknown:
        phones = pronunciation(w)
        if phones:
            for kind in ("align", "align_wide"):
                _decoder(kind).add_word(w, phones, update=True)
            by_rule.append(w)
        else:
            none.append(w)
    return tokens, by_rule, none


def _segments(dec, offset: float) -> list[tuple[str, float, float, float]]:
    """``(word, start s, end s, acoustic score in nats)`` of the last decode, shifted by
    ``offset``. The grammar search reports scores shifted right by 10 bits (``SENSCR_SHIFT`` in
    pocketsphinx's source) as linear values: ln of them × 1024 gives back nats, and a
    language-model decode (``bestpath``) reports them unshifted."""
    shift = 1024.0 if dec.get_config()["bestpath"] is False else 1.0
    out = []
    for s in dec.seg() or []:
        ascore = math.log(s.ascore) * shift if s.ascore > 0 else -745.0 * shift
        out.append((s.word, offset + s.start_frame / FRAME_RATE,
                    offset + (s.end_frame + 1) / FRAME_RATE, ascore))
    return out


def _is_word(label: str) -> bool:
    """Whether a segment is a word (not silence, noise or the grammar's empty exit)."""
    return not (label.startswith(("<", "[", "+", "(NULL)")))


def _decode_chunk(dec, pcm: bytes, words: list[str], offset: float,
                  exits: range | None = None) -> list[tuple[str, float, float, float]] | None:
    """Align ``words`` to one chunk of audio that starts ``offset`` s into the recording: all
    of them, or (``exits``) the first k of them for some k in ``exits``. The segments
    (:func:`_segments`, the grammar's empty exit left out), or None where no path fits."""
    final = len(words) + 1
    exits = exits if exits is not None else range(len(words), len(words) + 1)
    trans = [(k, k + 1, 1.0, w) for k, w in enumerate(words)]
    trans += [(k, final, 1.0 if k == len(words) else 0.01) for k in exits]
    name = f"chunk{next(_CHUNK_NAMES)}"  # a grammar per chunk; the previous one is removed
    dec.add_fsg(name, dec.create_fsg(name, 0, final, trans))
    dec.activate_search(name)
    if id(dec) in _ACTIVE:  # (the active search cannot be removed, and a grammar-only decoder
        dec.remove_search(_ACTIVE[id(dec)])  # has no other to switch to)
    _ACTIVE[id(dec)] = name
    dec.start_utt()
    dec.process_raw(pcm, full_utt=True)
    dec.end_utt()
    return [g for g in _segments(dec, offset) if g[0] != "(NULL)"] if dec.hyp() else None


def _follows(segs, words: list[str], complete: bool) -> bool:
    """Whether the aligned words are ``words`` (``complete``) or a prefix of them: the lattice's
    best path can leave the grammar and end early (seen on synthetic speech with wide beams)."""
    got = [w.split("(")[0] for w, *_ in segs if _is_word(w)]
    return got == words if complete else got == words[:len(got)]


def _cut(segs, t0: float, commit_until: float) -> float | None:
    """Where to end a chunk: the middle of its last pause in the second half of
    ``[t0, commit_until]``, else the last word boundary before ``commit_until``."""
    half = (t0 + commit_until) / 2
    pauses = [(a + b) / 2 for w, a, b, _ in segs if not _is_word(w) and a > half
              and b <= commit_until]
    if pauses:
        return pauses[-1]
    ends = [b for w, a, b, _ in segs if _is_word(w) and t0 < b <= commit_until]
    return ends[-1] if ends else None


def _quiet_ends(wave: np.ndarray, a: float, b: float, tries: int = 3) -> list[float]:
    """Candidate chunk ends in ``[a, b]`` s, quietest first (20 ms frames, 1 s apart): an open
    grammar aligns best when the chunk ends in a pause, not inside a word."""
    hop = AUDIO_SR // 50
    seg = wave[int(a * AUDIO_SR):int(b * AUDIO_SR)]
    n = seg.size // hop
    if n == 0:
        return [b]
    energy = np.square(seg[:n * hop].reshape(n, hop)).mean(axis=1)  # (n,) per 20 ms
    ends: list[float] = []
    for k in np.argsort(energy, kind="stable"):
        t = a + (k + 0.5) * hop / AUDIO_SR
        if all(abs(t - e) >= 1.0 for e in ends):
            ends.append(float(t))
        if len(ends) == tries:
            break
    return ends


def _align_spoken(wave: np.ndarray, words: list[str], chunk: float, path,
                  flags: np.ndarray, frame: float):
    """Segments of ``words`` aligned to ``wave``, chunk by chunk (the module docstring). An
    open chunk may end after k words only for k near its share of the remaining speech
    (0.7–1.3 times, by the voice activity detector): left free, the grammar stops early and
    calls the rest of the chunk silence, and the next chunks drift (seen on synthetic speech).
    ``flags`` are the voice activity decisions, one per ``frame`` seconds (:func:`voiced`)."""
    spoken = np.concatenate([[0.0], np.cumsum(flags) * frame])  # speech seconds before frame f

    def speech(a: float, b: float) -> float:
        return float(spoken[min(len(flags), int(b / frame))] - spoken[min(len(flags), int(a / frame))])

    segs: list[tuple[str, float, float, float]] = []
    pos, t0, duration = 0, 0.0, wave.size / AUDIO_SR
    while pos < len(words):
        last = t0 + chunk >= duration
        ends = [duration] if last else _quiet_ends(wave, t0 + chunk * 0.8, t0 + chunk)
        todo = words[pos:] if last else words[pos:pos + int(chunk * 8)]  # ≤ 8 words a second
        tries = ((_decoder(kind), end) for kind in ("align", "align_wide") for end in ends)
        for dec, end in tries:
            exits = None
            if not last:
                share = (len(words) - pos) * speech(t0, end) / max(speech(t0, duration), frame)
                exits = range(max(1, int(0.7 * share)), min(len(todo), int(1.3 * share) + 5) + 1)
            pcm = _pcm(wave[int(round(t0 * AUDIO_SR)):int(round(end * AUDIO_SR))])
            got = _decode_chunk(dec, pcm, todo, t0, exits)
            if got is not None and _follows(got, todo, complete=last):
                break
        else:
            where = "" if t0 == 0 and last else f" (in {t0:.0f}–{ends[0]:.0f} s)"
            raise DataError(path, "the text does not match the speech: the words could not be "
                                  f"aligned to the audio{where}; is it this recording's text?")
        if last:
            segs += got
            break
        cut = _cut(got, t0, t0 + (end - t0) * 2 / 3)
        if cut is None:  # no word ended in the chunk's first two thirds: music, a long pause
            t0 += (end - t0) * 2 / 3
            continue
        kept = [s for s in got if s[2] <= cut + 1e-9]
        segs += kept
        pos += sum(_is_word(s[0]) for s in kept)
        t0 = cut
    return segs


def _phones(wave: np.ndarray, words: list[Word]) -> list[Word]:
    """Phone timings inside aligned words (a second pass, word by word)."""
    dec, known = _decoder("phones"), _decoder("align")
    phones = []
    for w in words:
        if dec.lookup_word(w.text) is None:  # a letter-to-sound word of this text
            dec.add_word(w.text, known.lookup_word(w.text), update=True)
        pcm = _pcm(wave[int(round(w.start * AUDIO_SR)):int(round(w.end * AUDIO_SR))])
        try:
            dec.set_align_text(w.text)
            dec.start_utt()
            dec.process_raw(pcm, full_utt=True)
            dec.end_utt()
            dec.set_alignment()
            dec.start_utt()
            dec.process_raw(pcm, full_utt=True)
            dec.end_utt()
            alignment = dec.get_alignment()
        except RuntimeError:
            continue
        for word in alignment or []:
            for phone in word:
                if phone.name != "SIL":
                    phones.append(Word(w.start + phone.start / FRAME_RATE,
                                       w.start + (phone.start + phone.duration) / FRAME_RATE,
                                       phone.name))
    return phones


def _score(segs) -> float:
    """Mean log acoustic score per frame of the words (silence and noise left out: a text much
    shorter than the speech would otherwise score as well as silence does)."""
    words = [s for s in segs if _is_word(s[0])]
    frames = sum(round((b - a) * FRAME_RATE) for _, a, b, _ in words)
    return sum(s for *_, s in words) / max(frames, 1)


def align(wave: np.ndarray, text: str, *, path=None, phones: bool = False,
          chunk: float = CHUNK_SECONDS, check: bool = True) -> Alignment:
    """Time the words of ``text`` in ``wave (N,)`` (16 kHz mono float).

    Raises :class:`~eggesture.errors.DataError` naming ``path`` for empty or non-English text,
    audio without speech, and text that does not match the speech (no alignment, or — with
    ``check`` — a score below :data:`MATCH_SCORE`). ``phones`` adds phone timings (a second
    pass, about as long again).
    """
    if not text.strip():
        raise DataError(path, "the text is empty")
    flags, frame = _check_speech(wave, path)
    speech = float(flags.sum()) * frame
    tokens, by_rule, none = _prepare(text, path)
    timed = [t.spoken for t in tokens if t.spoken not in none]
    if not timed:
        raise DataError(path, "none of the text's words can be pronounced (no Latin letters)")
    segs = _align_spoken(wave, timed, chunk, path, flags, frame)
    aligned = [Word(a, b, w.split("(")[0]) for w, a, b, _ in segs if _is_word(w)]
    words = _with_interpolated([t.spoken for t in tokens], aligned, set(none))
    result = Alignment(
        words=words, phones=_phones(wave, aligned) if phones else [], score=_score(segs),
        coverage=sum(w.end - w.start for w in aligned) / speech,
        letter_to_sound=[t.spoken for t in tokens if t.spoken in by_rule],
        interpolated=[t.spoken for t in tokens if t.spoken in none],
        rewritten=_rewritten(tokens))
    if check and result.score < MATCH_SCORE:
        raise DataError(path, f"the text does not match the speech: alignment score "
                              f"{result.score:.2f} per frame, below {MATCH_SCORE} (the right text "
                              "scores about −2 on real speech); is it this recording's text?")
    if check and result.coverage < MIN_COVERAGE:
        raise DataError(path, f"the text does not match the speech: its words cover only "
                              f"{result.coverage:.0%} of the speech; is it this recording's text?")
    return result


def _rewritten(tokens: list[Token]) -> list[tuple[str, str]]:
    """Written tokens that were spoken as other words, once each (``("5", "five")``)."""
    groups: dict[str, list[str]] = {}
    for t in tokens:
        groups.setdefault(t.written, []).append(t.spoken)
    out = []
    for written, spoken in groups.items():
        said = " ".join(dict.fromkeys(spoken))
        if said != written.lower().strip("\"()[]{}<>«».,;:!?*"):
            out.append((written, said))
    return out


def _with_interpolated(order: list[str], aligned: list[Word], none: set[str]) -> list[Word]:
    """All words in ``order``: the aligned ones, and those in ``none`` placed in the gap
    between their aligned neighbours (shared equally when several are in one gap)."""
    if not none:
        return aligned
    out: list[Word | str] = []
    it = iter(aligned)
    for w in order:
        out.append(w if w in none else next(it))
    words: list[Word] = []
    k = 0
    while k < len(out):
        if isinstance(out[k], Word):
            words.append(out[k])
            k += 1
            continue
        j = k
        while j < len(out) and not isinstance(out[j], Word):
            j += 1
        start = words[-1].end if words else (out[j].start if j < len(out) else 0.0)
        stop = out[j].start if j < len(out) else start
        step = (stop - start) / (j - k)
        words += [Word(start + i * step, start + (i + 1) * step, out[k + i]) for i in range(j - k)]
        k = j
    return words


def transcribe(wave: np.ndarray, *, path=None) -> Alignment:
    """Recognise the words of ``wave (N,)`` (16 kHz) with their times (pocketsphinx's English
    language model, voiced stretches of at most :data:`RECOGNITION_SECONDS` decoded one by one).
    """
    import librosa

    flags, frame = _check_speech(wave, path)
    speech = float(flags.sum()) * frame
    dec = _decoder("recognise")
    spans = librosa.effects.split(wave, top_db=40, frame_length=1024, hop_length=256)
    segs: list[tuple[str, float, float, float]] = []
    for a, b in _merge(spans, int(RECOGNITION_SECONDS * AUDIO_SR), int(0.3 * AUDIO_SR)):
        a = max(0, a - int(0.1 * AUDIO_SR))
        dec.start_utt()
        dec.process_raw(_pcm(wave[a:b + int(0.1 * AUDIO_SR)]), full_utt=True)
        dec.end_utt()
        segs += _segments(dec, a / AUDIO_SR)
    words = [Word(a, b, w.split("(")[0]) for w, a, b, _ in segs if _is_word(w)]
    return Alignment(words=words, score=_score(segs), method="recognised",
                     coverage=sum(w.end - w.start for w in words) / speech)


def _merge(spans: np.ndarray, longest: int, gap: int) -> list[tuple[int, int]]:
    """Voiced spans (samples) joined across gaps shorter than ``gap``, up to ``longest``."""
    out: list[list[int]] = []
    for a, b in spans:
        if out and a - out[-1][1] < gap and b - out[-1][0] <= longest:
            out[-1][1] = int(b)
        else:
            out.append([int(a), int(b)])
    return [(a, b) for a, b in out]


def check_words(wave: np.ndarray, words: list[Word], *, path=None) -> Alignment | None:
    """Align a timed transcript's words again to ``wave``: its :class:`Alignment` (``matches``
    says whether the words are this speech's), or None when they cannot be aligned at all."""
    try:
        return align(wave, " ".join(w.text for w in words), path=path, check=False)
    except DataError:
        return None
