"""``eggesture generate``: speech in, SMPL-X npz / BVH / preview video out."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

TEXT_SUFFIXES = (".TextGrid", ".textgrid", ".json", ".txt")

DESCRIPTION = """Generate co-speech gestures for a speech recording.

Audio: any length (under a second to hours), any sample rate and channel count (mixed to mono,
resampled to 16 kHz); WAV, FLAC, Ogg Vorbis/Opus, MP3, AIFF, AU or CAF. --audio may be a folder:
every audio file in it gets its own outputs in the folder --out (created), with a summary at the
end; other files in it (transcripts aside) are listed as skipped.

Transcript (--text, optional): a Praat TextGrid (word tier), a speech-recognition JSON with word
times (GENEA/Google layout with "0.400s" strings, or [{"word", "start", "end"}]), or plain text.
Plain-text words have no times: they are spread over the voiced parts of the audio (energy above
-35 dB of the peak) in reading order, each taking time in proportion to its length. Without a
transcript the model uses the audio alone. For a folder, a transcript next to each audio file
with the same name (NAME.TextGrid / NAME.json / NAME.txt) is used when present.

Output: --out OUT.npz at --fps (30 by default, 15 allowed) with T = round(duration x fps).
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
    p.add_argument("--checkpoint", required=True, help="inference bundle (or its run folder)")
    p.add_argument("--audio", required=True, help="audio file, or a folder of them")
    p.add_argument("--text", help="transcript (TextGrid, JSON with word times, or plain text)")
    p.add_argument("--out", required=True, help="output .npz (a folder when --audio is a folder)")
    p.add_argument("--bvh", help="also write BVH here (folder mode: add --bvh to write NAME.bvh)",
                   nargs="?", const="")
    p.add_argument("--glb", help="also write binary glTF here (folder mode: add --glb to write "
                                 "NAME.glb); SMPL-X models only", nargs="?", const="")
    p.add_argument("--video", help="also render a preview video here (folder mode: NAME.mp4)",
                   nargs="?", const="")
    p.add_argument("--fps", type=int, choices=(15, 30), default=30, help="output frame rate")
    p.add_argument("--seed", type=int, default=0, help="random seed (used with --temperature)")
    p.add_argument("--temperature", type=float, default=0.0,
                   help="0: most likely codes (deterministic); >0: sample codes")
    p.add_argument("--posthoc-tau", type=float, default=None, metavar="T",
                   help="post-hoc logit adjustment: choose codes by logit − T·log(code usage), "
                        "favouring rare codes (default: the model's model.posthoc_tau, usually 0)")
    p.set_defaults(handler=run)


def _transcript_for(audio: Path) -> Path | None:
    for suffix in TEXT_SUFFIXES:
        cand = audio.with_suffix(suffix)
        if cand.is_file():
            return cand
    return None


def _one(bundle, audio: Path, text: Path | None, out: Path, bvh: Path | None, glb: Path | None,
         video: Path | None, args) -> tuple[float, float]:
    from ..data.wav import AUDIO_SR
    from ..recipes.generate import check_duration, generate_motion, load_speech, save_outputs

    wave, words = load_speech(audio, text)
    check_duration(wave.size / AUDIO_SR, args.fps, audio)
    t0 = time.perf_counter()
    gen = generate_motion(bundle, wave, words, seed=args.seed, temperature=args.temperature,
                          posthoc_tau=args.posthoc_tau)
    elapsed = time.perf_counter() - t0
    save_outputs(gen, bundle, out=out, bvh=bvh, glb=glb, video=video, audio_path=audio,
                 fps=args.fps)
    return gen.duration, elapsed


def run(args: argparse.Namespace) -> int:
    from ..bundle import load_bundle
    from ..errors import DataError, EggestureError

    audio = Path(args.audio)
    if not audio.exists():
        raise DataError(audio, "audio file or folder not found")
    bundle = load_bundle(args.checkpoint)
    if args.glb is not None:
        from ..data.poses import is_smplx

        if not is_smplx(bundle.joint_names):
            raise DataError(bundle.path, "--glb needs a model on the SMPL-X skeleton (BEAT2, the "
                                         "synthetic corpus); this one was trained on a BVH "
                                         "dataset's skeleton: use --bvh")
    out = Path(args.out)
    if audio.is_file():
        if out.suffix.lower() != ".npz":
            raise DataError(out, "--out must end in .npz")
        for opt, suffix in (("bvh", ".bvh"), ("glb", ".glb"), ("video", ".mp4")):
            value = getattr(args, opt)
            if value == "" or (value and not value.lower().endswith(suffix)):
                raise DataError(value or out, f"--{opt} needs a file name ending in {suffix}")
        dur, sec = _one(bundle, audio, Path(args.text) if args.text else None, out,
                        Path(args.bvh) if args.bvh else None,
                        Path(args.glb) if args.glb else None,
                        Path(args.video) if args.video else None, args)
        print(f"{out}: {dur:.2f} s of speech, generated in {sec:.2f} s "
              f"({dur / max(sec, 1e-9):.0f}× real time)")
        return 0

    from ..data.wav import AUDIO_SUFFIXES, is_audio_file

    entries = sorted(p for p in audio.iterdir() if p.is_file() and not p.name.startswith("."))
    files = [p for p in entries if is_audio_file(p)]
    # Anything else that is not a transcript is listed, so a recording in a format we do not
    # read (.m4a, .aac, …) is seen to be left out rather than silently missing from the count.
    skipped = [p for p in entries if not is_audio_file(p) and p.suffix not in TEXT_SUFFIXES]
    if not files:
        found = f"; found {', '.join(f.name for f in skipped[:3])}" if skipped else ""
        raise DataError(audio, f"no audio files ({', '.join(AUDIO_SUFFIXES)}) in the folder{found}")
    if out.suffix or (out.exists() and not out.is_dir()):
        raise DataError(out, "--out must be a folder when --audio is a folder")
    text_dir = Path(args.text) if args.text else None
    if text_dir is not None and not text_dir.is_dir():
        raise DataError(text_dir, "--text must be a folder of transcripts (NAME.TextGrid, "
                                  "NAME.json or NAME.txt) when --audio is a folder")
    out.mkdir(parents=True, exist_ok=True)
    rows, failed, stems = [], 0, {}
    for f in files:
        text = _transcript_for(text_dir / f.name if text_dir else f)
        if f.stem in stems:  # a.wav and a.mp3 would both write a.npz
            failed += 1
            rows.append((f.name, "-", "-", f"error: {f}: has the name of {stems[f.stem]}, whose "
                                           f"outputs ({f.stem}.npz, …) it would overwrite"))
            continue
        stems[f.stem] = f.name
        try:
            dur, sec = _one(bundle, f, text, out / f"{f.stem}.npz",
                            out / f"{f.stem}.bvh" if args.bvh is not None else None,
                            out / f"{f.stem}.glb" if args.glb is not None else None,
                            out / f"{f.stem}.mp4" if args.video is not None else None, args)
            rows.append((f.name, f"{dur:.2f}", f"{sec:.2f}", "ok" + (" (transcript)" if text else "")))
        except EggestureError as e:
            failed += 1
            rows.append((f.name, "-", "-", f"error: {e}"))
    rows += [(f.name, "-", "-", "skipped: not an audio format eggesture reads") for f in skipped]
    print(f"{'file':30s} {'speech s':>9s} {'time s':>7s}  result")
    for name, dur, sec, res in rows:
        print(f"{name:30s} {dur:>9s} {sec:>7s}  {res}")
    note = (f"; skipped {len(skipped)} other file(s) ({', '.join(f.name for f in skipped)}): "
            f"audio is read from {', '.join(AUDIO_SUFFIXES)}" if skipped else "")
    print(f"{len(files) - failed} of {len(files)} generated into {out}{note}",
          file=sys.stderr)
    return 1 if failed else 0
