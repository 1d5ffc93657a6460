"""``eggesture generate``: speech in, SMPL-X npz / BVH / preview video out."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

#: Highest output frame rate ``--fps`` accepts (as ``eggesture export``).
MAX_FPS = 240

DESCRIPTION = """Generate co-speech gestures for a speech recording.

Audio: any length (under a second to hours), any sample rate and channel count (mixed to mono,
resampled to 16 kHz); WAV, FLAC, Ogg Vorbis/Opus, MP3, AIFF, AU or CAF. --audio may be a folder:
every audio file in it gets its own outputs in the folder --out (created), with a summary at the
end; other files in it (transcripts aside) are listed as skipped.

Transcript (--text, optional): a Praat TextGrid (word tier), a speech-recognition JSON with word
times (GENEA/Google layout with "0.400s" strings, or [{"word", "start", "end"}]), or plain text
(a .txt file, or the words themselves: --text "what is said"). Plain text is aligned to the
speech (English; pocketsphinx, as `eggesture align` does): each word lands where it is said;
text that is not what the speech says is refused.
A TextGrid or JSON is used as timed, and aligned again only to warn when its words are not this
recording's. Without a transcript the model uses the audio alone, or with --transcribe the
words recognised in it (English; about 2 words in 5 are wrong on real speech: docs/usage.md).
For a folder, a transcript next to each audio file with the same name (NAME.TextGrid /
NAME.json / NAME.txt) is used when present. The words the model never saw in training reach it
as "no word"; the summary counts them.

Output: --out OUT.npz at --fps (30 by default; any whole rate up to 240) with T = round(duration x fps).
For SMPL-X models (BEAT2, the synthetic corpus) it has BEAT2's layout: poses (T,165) for all 55
SMPL-X joints (joints the model does not generate stay at the rest pose), trans, betas,
expressions, mocap_frame_rate. For models trained on a BVH dataset (Trinity/GENEA) it holds
rotations (T,J,3) axis-angle of the generated joints, joint_names and mocap_frame_rate.
--bvh writes the same motion as BVH: on the approximate SMPL-X skeleton, or on the training
dataset's own skeleton (its hierarchy, offsets and channels; other joints at rest).
--glb writes it as binary glTF 2.0 (Blender, Unity, Unreal, the web): the SMPL-X skeleton as a
skin with the animation and a simple body (SMPL-X models only; `eggesture export` converts an
npz later, also with the SMPL-X mesh).
--video renders a stick-figure preview with the speech.
The speed printed for the first file includes the audio library's one-time start-up."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("generate", help="speech → gestures (.npz, .bvh, preview .mp4)",
                       description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", help="inference bundle (or its run folder); default: the "
                                        "packaged model of four synthetic speakers (docs/usage.md)")
    p.add_argument("--audio", required=True, help="audio file, or a folder of them")
    p.add_argument("--text", help="transcript: a .TextGrid, a .json with word times, a .txt, or "
                                  "the words themselves (\"what is said\"); plain text is aligned "
                                  "to the speech")
    p.add_argument("--transcribe", action="store_true",
                   help="no transcript: recognise the words in the speech (English)")
    p.add_argument("--out", required=True, help="output .npz (a folder when --audio is a folder)")
    p.add_argument("--bvh", nargs="?", const="", metavar="FILE",
                   help="also write BVH: to FILE, or with a bare --bvh beside --out (OUT.bvh; "
                        "in folder mode NAME.bvh)")
    p.add_argument("--glb", nargs="?", const="", metavar="FILE",
                   help="also write binary glTF: to FILE, or with a bare --glb beside --out "
                        "(OUT.glb; in folder mode NAME.glb); SMPL-X models only")
    p.add_argument("--video", nargs="?", const="", metavar="FILE",
                   help="also render a preview video: to FILE, or with a bare --video beside "
                        "--out (OUT.mp4; in folder mode NAME.mp4)")
    p.add_argument("--fps", type=int, default=30, metavar="N",
                   help=f"output frame rate, a whole number from 1 to {MAX_FPS} (default 30; "
                        "the npz's mocap_frame_rate is an integer, as BEAT2's is)")
    p.add_argument("--seed", type=int, default=0, help="random seed (used with --temperature)")
    p.add_argument("--temperature", type=float, default=0.0,
                   help="0: most likely codes (deterministic); >0: sample codes")
    p.add_argument("--posthoc-tau", type=float, default=None, metavar="T",
                   help="post-hoc logit adjustment: choose codes by logit − T·log(code usage), "
                        "favouring rare codes (default: the model's model.posthoc_tau, usually 0)")
    p.set_defaults(handler=run)


def _packaged():
    """The packaged model's folder, said on stderr (it is not a model of a person)."""
    from ..pretrained import default_checkpoint

    path = default_checkpoint()
    print("using the packaged model: EGGesture trained on four synthetic speakers, not a person "
          "(docs/usage.md, 'The packaged model'); --checkpoint chooses another", file=sys.stderr)
    return path


def run(args: argparse.Namespace) -> int:
    from ..bundle import load_bundle
    from ..data.wav import AUDIO_SUFFIXES
    from ..data.word_timing import transcript_arg
    from ..errors import ConfigError, DataError
    from ..recipes.generate import Options, check_glb, generate_file, generate_folder

    if not 1 <= args.fps <= MAX_FPS:
        raise ConfigError(None, f"--fps must be a whole number from 1 to {MAX_FPS}, got {args.fps}")
    audio = Path(args.audio)
    if not audio.exists():
        raise DataError(audio, "audio file or folder not found")
    bundle = load_bundle(args.checkpoint or _packaged())
    if args.glb is not None:
        check_glb(bundle)
    out = Path(args.out)
    options = Options(fps=args.fps, seed=args.seed, temperature=args.temperature,
                      posthoc_tau=args.posthoc_tau, transcribe=args.transcribe)
    if args.transcribe and args.text and audio.is_file():
        raise ConfigError(None, "--transcribe is for speech without a transcript; --text gives one")
    if audio.is_file():
        if out.suffix.lower() != ".npz":
            raise DataError(out, "--out must end in .npz")
        extra = {}
        for opt, suffix in (("bvh", ".bvh"), ("glb", ".glb"), ("video", ".mp4")):
            value = getattr(args, opt)
            if value and not value.lower().endswith(suffix):
                raise DataError(value, f"--{opt} needs a file name ending in {suffix}")
            if value is not None:  # a bare flag: beside --out, with its name
                extra[opt] = Path(value) if value else out.with_suffix(suffix)
        text = transcript_arg(args.text) if args.text else None
        res = generate_file(bundle, audio, text, out, options=options, **extra)
        print(f"{out}: {res.duration:.2f} s of speech, {res.describe()}, generated in "
              f"{res.seconds:.2f} s ({res.duration / max(res.seconds, 1e-9):.0f}× real time)")
        return 0
    items = generate_folder(bundle, audio, out, text_dir=Path(args.text) if args.text else None,
                            bvh=args.bvh is not None, glb=args.glb is not None,
                            video=args.video is not None, options=options)
    print(f"{'file':30s} {'speech s':>9s} {'time s':>7s}  result")
    for it in items:
        dur = "-" if it.duration is None else f"{it.duration:.2f}"
        sec = "-" if it.seconds is None else f"{it.seconds:.2f}"
        print(f"{it.name:30s} {dur:>9s} {sec:>7s}  {it.result}")
    skipped = [it.name for it in items if it.result.startswith("skipped")]
    failed = sum(it.failed for it in items)
    n = len(items) - len(skipped)
    note = (f"; skipped {len(skipped)} other file(s) ({', '.join(skipped)}): "
            f"audio is read from {', '.join(AUDIO_SUFFIXES)}" if skipped else "")
    print(f"{n - failed} of {n} generated into {out}{note}", file=sys.stderr)
    return 1 if failed else 0
