"""``eggesture stream``: generation as the speech arrives, chunk by chunk (simulated live)."""

from __future__ import annotations

import argparse
from pathlib import Path

DESCRIPTION = """Stream a recording through the live generator (`eggesture.recipes.stream.GestureStream`)
in chunks of --chunk seconds, as a microphone would deliver it, and write the motion. The motion
for time t is emitted once audio up to t + --lookahead has arrived. Prints the compute per chunk
(p50, p99), each frame's latency on the audio's clock (chunk arrival + compute - the frame's
time) and the speed. A model trained with model.lookahead sees no further ahead than that (the
stream's default lookahead is then the model's); an offline model was trained seeing 4 s windows
of speech, and the part of a window that has not arrived is silence to it (docs/usage.md: what that
costs)."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("stream", help="speech → gestures chunk by chunk, with a fixed lookahead",
                       description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", help="inference bundle (default: the packaged model)")
    p.add_argument("--audio", required=True, help="speech recording")
    p.add_argument("--chunk", type=float, default=0.1, help="seconds per chunk (default 0.1)")
    p.add_argument("--lookahead", type=float, default=None,
                   help="seconds of speech the motion waits for (default: the model's "
                        "model.lookahead, else 0.5)")
    p.add_argument("--out", required=True, help="output .npz (BEAT2 layout at 30 fps)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..bundle import load_bundle
    from ..data.wav import AUDIO_SR, load_audio
    from ..errors import ConfigError, DataError
    from ..pretrained import default_checkpoint
    from ..recipes.generate import save_outputs
    from ..recipes.stream import stream_wave

    if args.chunk <= 0 or (args.lookahead is not None and args.lookahead < 0):
        raise ConfigError(None, "--chunk must be > 0 s and --lookahead ≥ 0 s")
    out = Path(args.out)
    if out.suffix.lower() != ".npz":
        raise DataError(out, "--out must end in .npz")
    bundle = load_bundle(args.checkpoint or default_checkpoint())
    wave = load_audio(args.audio, AUDIO_SR)
    try:
        run_ = stream_wave(bundle, wave, chunk=args.chunk, lookahead=args.lookahead)
    except ValueError as e:  # a lookahead shorter than the model's
        raise ConfigError(None, str(e)) from None
    save_outputs(run_.generated, bundle, out=out, fps=30)
    print(f"{out}: {run_.summary(args.chunk)}")
    return 0
