"""``eggesture demo``: synthetic corpus → train EGGesture and the baseline → evaluate → video."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo", help="the main job: synthetic corpus → train EGGesture + baseline → evaluate → video",
        description="Build a synthetic long-tailed co-speech corpus, train the FGD autoencoder, "
                    "train EGGesture and the vanilla VQ-VAE baseline with the same budget, "
                    "evaluate both on the held-out split (val + test) with 95% intervals, render "
                    "a preview video and write DIR/report.md, DIR/results.json and plots. No "
                    "download, no GPU needed (one is used when present). Re-running reuses the "
                    "corpus and finished trainings.",
    )
    p.add_argument("--out", default="demo_out", help="output folder (default: demo_out)")
    p.add_argument("--minutes", type=float, default=None,
                   help="corpus size in minutes of speech (default 14, 40 %% held out); every "
                        "stage scales with it")
    p.add_argument("--held-out", type=float, default=None,
                   help="share of the corpus's sequences held out for evaluation (default 0.4)")
    p.add_argument("--min-train-events", type=int, default=None,
                   help="every gesture class at least this many times in training (default 8)")
    p.add_argument("--speakers", type=int, default=None,
                   help="synthetic speakers, each its own voice, rate and style (default 4)")
    p.add_argument("--seed", type=int, default=0, help="seed of the corpus and training (default 0)")
    p.add_argument("--epochs", type=int, default=None,
                   help="training epochs of each method (default: synthetic.yaml's)")
    p.add_argument("--fgd-model", metavar="FILE", default=None,
                   help="EMAGE's AESKConv_240_100.bin: adds the EMAGE protocol's FGD to the report")
    p.add_argument("--smplx-model", metavar="FILE", default=None,
                   help="an SMPL-X .npz model file: exact joints for the EMAGE protocol's BC, L1div")
    p.add_argument("overrides", nargs="*", metavar="key=value",
                   help="config overrides for both methods, e.g. model.codebook_size=512")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..errors import ConfigError
    from ..recipes.demo import DemoSettings, run_demo

    kwargs = {"out": args.out, "seed": args.seed, "epochs": args.epochs,
              "overrides": list(args.overrides), "fgd_model": args.fgd_model,
              "smplx_model": args.smplx_model}
    for key in ("minutes", "held_out", "min_train_events", "speakers"):
        if getattr(args, key) is not None:
            kwargs[key] = getattr(args, key)
    try:
        settings = DemoSettings(**kwargs)
    except ValueError as e:
        raise ConfigError(None, str(e)) from None
    run_demo(settings)
    return 0
