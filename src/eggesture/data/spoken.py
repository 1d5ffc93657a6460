"""Written text → the words a speaker says: what forced alignment needs.

A transcript is written ("Top 5 tips, 1990s & 50% off!"); an aligner matches *spoken* words
against the audio ("top five tips nineteen nineties and fifty percent off"). This module makes
that step, in reading order:

* Unicode quotes and dashes → ASCII (``it’s`` → ``it's``); ``&`` → ``and``; ``%`` → ``percent``,
  ``$5`` → ``five dollars``, ``€5`` / ``£5`` likewise;
* numbers in words (``num2words``): ``5`` → ``five``, ``1,000`` → ``one thousand``, ``3.5`` →
  ``three point five``, ``21st`` → ``twenty first``, a four-digit number from 1100 to 2099
  (without a comma) as a year (``1990`` → ``nineteen ninety``, ``1990s`` → ``nineteen nineties``);
* everything lower-cased, surrounding punctuation stripped (:func:`~.transcript.normalize_word`),
  hyphenated words split where the dictionary does not know them whole.

Each token remembers the written form it came from, so a caller can say what was rewritten.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from num2words import num2words

from .transcript import normalize_word

_UNICODE = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "`": "'", "“": '"', "”": '"',
                          "–": " ", "—": " ", "―": " ", "…": " ", "/": " "})
_CURRENCY = {"$": "dollars", "€": "euros", "£": "pounds"}
_NUMBER = re.compile(r"^([$€£]?)(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(st|nd|rd|th|s|'s|%)?$")


@dataclass(frozen=True)
class Token:
    """One spoken word and the written token it comes from (``"five"`` from ``"5"``)."""

    spoken: str
    written: str


def _plural(text: str) -> str:
    return text[:-1] + "ies" if text.endswith("y") else text + "s"


def _number_words(match: re.Match) -> list[str]:
    currency, whole, decimals, suffix = match.groups()
    value = int(whole.replace(",", ""))
    if suffix in ("st", "nd", "rd", "th"):
        text = num2words(value, to="ordinal")
    elif suffix in ("s", "'s") and "," not in whole and 1100 <= value <= 2099 and not decimals:
        text = _plural(num2words(value, to="year"))  # 1990s → nineteen nineties
    elif "," not in whole and 1100 <= value <= 2099 and not decimals and not currency \
            and suffix is None:
        text = num2words(value, to="year")
    else:
        text = num2words(value)
        if decimals:
            text += " point " + " ".join(num2words(int(d)) for d in decimals)
        if suffix in ("s", "'s"):
            text = _plural(text)  # 80s → eighties
    words = re.sub(r"[-,]", " ", text).split()
    if suffix == "%":
        words.append("percent")
    if currency:
        words.append(_CURRENCY[currency])
    return words


def spoken_tokens(text: str, known: Callable[[str], bool] = lambda w: True) -> list[Token]:
    """The spoken words of ``text`` in reading order (see the module docstring).

    ``known(word)`` says whether the pronunciation dictionary has a word; a hyphenated word it
    does not know is split at its hyphens (``"state-of-the-art"`` → four words).
    """
    tokens: list[Token] = []
    for raw in unicodedata.normalize("NFC", text).translate(_UNICODE).split():
        word = raw.strip("\"()[]{}<>«».,;:!?*")
        if word == "&":
            tokens.append(Token("and", raw))
            continue
        m = _NUMBER.match(word)
        if m:
            tokens += [Token(w, raw) for w in _number_words(m)]
            continue
        word = normalize_word(word).replace("&", " and ")
        if word.endswith("%"):
            word = word[:-1] + " percent"
        for part in word.split():
            for piece in [part] if known(part) or "-" not in part else part.split("-"):
                m = _NUMBER.match(piece)
                if m:  # "covid-19"
                    tokens += [Token(w, raw) for w in _number_words(m)]
                elif piece := normalize_word(piece):
                    tokens.append(Token(piece, raw))
    return tokens


def is_latin_word(word: str) -> bool:
    """Whether ``word`` is written in Latin letters (accents allowed) and apostrophes."""
    stripped = "".join(c for c in unicodedata.normalize("NFKD", word)
                       if not unicodedata.combining(c))
    return bool(re.fullmatch(r"[a-z']+", stripped))
