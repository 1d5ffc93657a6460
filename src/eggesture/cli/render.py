"""``eggesture render MOTION --out OUT.mp4``: a stick-figure preview video or a strip of stills.

MOTION is a ``.npz`` in BEAT2's layout (any frame rate) or a ``.bvh``. ``--audio`` muxes the
speech in; ``--compare`` draws a second motion beside it ("generated" / "reference");
``--frames N --png`` writes N stills in a row (paper Fig. 5) to a ``.png`` instead of a video.
"""

from __future__ import annotations

import argparse
import sys
import time


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "render", help="stick-figure preview video (with speech) or a strip of stills",
        description="Render a motion file (.npz in BEAT2 layout, or .bvh) as a 3D stick figure: "
                    "an .mp4 with the speech muxed in, or with --png a strip of stills. The "
                    "ffmpeg that imageio-ffmpeg ships is used; no system ffmpeg is needed.",
    )
    p.add_argument("motion", metavar="MOTION", help="motion file (.npz BEAT2 layout or .bvh)")
    p.add_argument("--out", required=True, metavar="OUT",
                   help="output .mp4 (or .png with --png)")
    p.add_argument("--audio", metavar="WAV", help="speech to mux into the video")
    p.add_argument("--compare", metavar="OTHER",
                   help="reference motion drawn beside MOTION (titles 'generated' / 'reference')")
    p.add_argument("--fps", type=float, default=15.0, help="video frame rate (default 15)")
    p.add_argument("--start", type=float, default=0.0, metavar="S",
                   help="start at S seconds into the motion and the audio (default 0)")
    p.add_argument("--duration", type=float, default=None, metavar="D",
                   help="render D seconds (default: to the end of MOTION)")
    p.add_argument("--png", action="store_true",
                   help="write a strip of stills to OUT (.png) instead of a video")
    p.add_argument("--frames", type=int, default=8, metavar="N",
                   help="number of stills in the --png strip (default 8)")
    p.add_argument("--smplx-model", metavar="FILE",
                   help="an SMPL-X .npz model file (e.g. SMPLX_NEUTRAL_2020.npz): exact joints of "
                        "the motion's body shape instead of the approximate skeleton")
    p.add_argument("--full-body", action="store_true",
                   help="draw the legs too (default: upper body and hands)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..errors import DataError
    from ..export.npz import read_motion_file
    from ..export.render import preview_positions, render_strip, render_video

    out = Path(args.out)
    want = ".png" if args.png else ".mp4"
    if out.suffix.lower() != want:
        raise DataError(out, f"output must be a {want} file" +
                        (" (or use --png for a strip of stills)" if not args.png else ""))
    if out.is_dir():
        raise DataError(out, "output is a folder, expected a file name")
    for name, value, ok in (("--fps", args.fps, args.fps > 0 and args.fps <= 120),
                            ("--start", args.start, args.start >= 0),
                            ("--frames", args.frames, 1 <= args.frames <= 64)):
        if not ok:
            raise DataError(None, f"{name} {value:g} is out of range")
    if args.duration is not None and not args.duration > 0:
        raise DataError(None, f"--duration {args.duration:g} must be positive")
    if args.audio is not None and not Path(args.audio).is_file():
        raise DataError(args.audio, "audio file not found")

    model = None
    if args.smplx_model is not None:
        from ..data.smplx_model import load_smplx_model

        model = load_smplx_model(args.smplx_model)
    motion = read_motion_file(args.motion)
    primary = preview_positions(motion, args.fps, args.start, args.duration, model=model)
    motions = [(primary, motion.parents, "generated" if args.compare else "")]
    if args.compare:
        other = read_motion_file(args.compare)
        ref = preview_positions(other, args.fps, args.start, n_frames=primary.shape[0], model=model)
        motions.append((ref, other.parents, "reference"))

    t0 = time.perf_counter()
    if args.png:
        render_strip(out, motions, args.fps, args.frames, time_offset=args.start,
                     upper_only=not args.full_body)
        print(f"wrote {out} ({args.frames} stills)", file=sys.stderr)
        return 0

    def progress(done: int, total: int) -> None:
        if done == total or done % 30 == 0:
            print(f"\rrendering frame {done}/{total}", end="", file=sys.stderr, flush=True)

    render_video(out, motions, args.fps, args.audio, audio_start=args.start,
                 upper_only=not args.full_body, progress=progress)
    seconds = primary.shape[0] / args.fps
    took = time.perf_counter() - t0
    print(f"\nwrote {out} ({seconds:.2f} s of video at {args.fps:g} fps"
          f"{', with audio' if args.audio else ''}; rendered in {took:.1f} s)", file=sys.stderr)
    return 0
