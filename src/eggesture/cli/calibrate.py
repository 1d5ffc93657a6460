"""``eggesture calibrate``: a bundle whose motion keeps the spread of the real thing."""

from __future__ import annotations

import argparse

DESCRIPTION = """Fit a model's variance compensation on held-out data and write the bundle with it
(a new folder). Decoding the most likely codes pulls motion towards its average; this gives each
channel back the spread it lost on --split (default: the config's validation split), as the
ratio of the true motion's spread to the generated one's (clamped to 1-3), applied to every
frame the new bundle generates (offline, live, in evaluation). Fit it on the model's own data,
never on the speech you judge it by (eggesture.recipes.calibrate)."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("calibrate", help="give a model's motion back the spread decoding takes away",
                       description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoint", help="inference bundle or run folder")
    p.add_argument("--data", required=True, help="dataset folder the model was trained on")
    p.add_argument("--split", action="append", default=None,
                   help="split(s) to fit on (default: the config's validation splits)")
    p.add_argument("--out", required=True, help="the new bundle folder (must not exist)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import sys

    import numpy as np

    from ..recipes.calibrate import calibrate

    gain = calibrate(args.checkpoint, args.data, args.out, split=args.split,
                     progress=lambda m: print(m, file=sys.stderr, flush=True))
    scale = np.asarray(gain["scale"])
    f = gain["fitted_on"]
    print(f"{args.out}: scale median {np.median(scale):.2f}, max {scale.max():.2f} over "
          f"{scale.size} channels ({(scale > 1).sum()} above 1); fitted on {f['sequences']} "
          f"sequences ({f['minutes']} min) of split {' + '.join(f['split'])}")
    return 0
