"""``eggesture align``: word timings for speech and its text (forced alignment)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

DESCRIPTION = """Time the words of a speech recording: forced alignment of its text (English),
written as a Praat TextGrid (words and phones tiers, as BEAT2's) or a JSON word list, both read
by `eggesture generate --text`. Offline: pocketsphinx's English model, shipped in its wheel.

The text is written as it is spoken first: numbers in words ("top 5" -> "top five", "1990" ->
"nineteen ninety"), punctuation and case dropped, Unicode apostrophes straightened. A word the
pronunciation dictionary lacks is pronounced by espeak-ng's letter-to-sound rules; one with no
pronunciation at all is timed between its neighbours; the summary counts both.

Refused with one line, nothing written: empty or non-English text, audio with no speech, and
text that is not what the speech says (it cannot be aligned, or its alignment score is below
the threshold measured on right and wrong text: docs/usage.md). Audio of any length (long audio is
aligned in 2-minute chunks)."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("align", help="speech + its text → word timings (TextGrid / JSON)",
                       description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("audio", help="speech recording (wav, flac, mp3, ogg, …)")
    p.add_argument("--text", help='the words said: "the text itself", or a file (.txt; the '
                                  "words of a .TextGrid or .json are aligned again)")
    p.add_argument("--transcribe", action="store_true",
                   help="no text: recognise the words (English; about 2 words in 5 are wrong "
                        "on real speech: docs/usage.md)")
    p.add_argument("--out", help="output .TextGrid or .json (default: AUDIO.TextGrid beside the "
                                 "audio, never over an existing file)")
    p.add_argument("--no-check", action="store_true",
                   help="write the alignment even when its score says the text is not what the "
                        "speech says (synthetic voices can score so with the right text); text "
                        "that cannot be aligned at all is still refused")
    p.add_argument("--no-phones", action="store_true",
                   help="words only (the phones tier takes a second pass)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..errors import ConfigError
    from ..recipes.align import align_file

    if args.text is not None and args.transcribe:
        raise ConfigError(None, "give --text or --transcribe, not both")
    t0 = time.perf_counter()
    out, result, duration = align_file(Path(args.audio), args.text, args.out,
                                       transcribe_words=args.transcribe,
                                       phones=not args.no_phones, check=not args.no_check)
    print(f"{out}: {result.summary()}; {duration:.1f} s of audio in "
          f"{time.perf_counter() - t0:.1f} s")
    return 0
