"""``eggesture demo``: the main job (not built yet: prints its plan and exits non-zero)."""

from __future__ import annotations

import argparse
import sys

PLAN = """eggesture demo will: build a synthetic long-tailed corpus, train the FGD autoencoder,
train EGGesture and the vanilla VQ-VAE baseline with the same budget, evaluate both on the test
split, render a preview video and write report.md + results.json + plots.
It is not built yet in this version."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="the main job: synthetic corpus → train → evaluate → video")
    p.add_argument("--out", default="demo_out")
    p.add_argument("--minutes", type=float, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    print(PLAN, file=sys.stderr)
    return 2
