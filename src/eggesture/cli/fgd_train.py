"""``eggesture fgd-train --data ROOT``: train a dataset's evaluation nets.

The CNN motion autoencoder whose features FGD compares (paper eq. 12) and, when the dataset has
``sem/`` annotations, the gesture recogniser behind semantic-gesture recall — both on the
training split, stored as safetensors + JSON beside the dataset (``ROOT/.eggesture/``) or in
the cache when ROOT is read-only (see :mod:`eggesture.evaluation`).
"""

from __future__ import annotations

import argparse
import sys

from ..config import DataConfig


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "fgd-train", help="train the FGD feature autoencoder (and gesture recogniser) of a dataset",
        description="Train the CNN motion autoencoder used for FGD on a dataset's training split "
                    "and store it with the dataset (safetensors + JSON, with the joint set, fps "
                    "and window it expects). If the dataset has sem/ annotations, also train "
                    "the semantic-gesture recogniser and report its recall on held-out "
                    "ground truth.",
    )
    p.add_argument("--data", required=True, metavar="ROOT", help="dataset folder (BEAT2 layout)")
    p.add_argument("--out", metavar="DIR",
                   help="autoencoder folder (default: ROOT/.eggesture/fgd_ae/<setting>/, or the "
                        "cache when ROOT is read-only)")
    p.add_argument("--recognizer-out", metavar="DIR", help="recogniser folder (default: beside "
                   "the autoencoder's default, under recognizer/)")
    p.add_argument("--epochs", type=int, default=30, help="autoencoder epochs (default 30)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    d = DataConfig
    p.add_argument("--fps", type=float, default=d.fps, help=f"motion frame rate (default {d.fps:g})")
    p.add_argument("--length", type=int, default=d.length,
                   help=f"window length in frames (default {d.length})")
    p.add_argument("--stride", type=int, default=d.stride,
                   help=f"frames between training windows (default {d.stride})")
    p.add_argument("--joint-set", default=d.joint_set,
                   help=f"upper, hands, upper_hands or full (default {d.joint_set})")
    p.add_argument("--train-split", action="append", metavar="SPLIT",
                   help="training split(s) (repeatable; default train)")
    p.add_argument("--speaker", type=int, action="append", metavar="ID",
                   help="only this speaker id (repeatable)")
    p.add_argument("--feature-dim", type=int, default=256, help="FGD feature dimension (256)")
    p.add_argument("--channels", type=int, default=128, help="autoencoder hidden channels (128)")
    p.add_argument("--batch-size", type=int, default=32, help="windows per step (32)")
    rec = p.add_mutually_exclusive_group()
    rec.add_argument("--no-recognizer", dest="recognizer", action="store_false", default=None,
                     help="do not train the gesture recogniser")
    rec.add_argument("--recognizer", dest="recognizer", action="store_true",
                     help="require the gesture recogniser (an error without sem/ annotations)")
    p.add_argument("--recognizer-steps", type=int, default=1500,
                   help="recogniser optimiser steps (default 1500)")
    p.set_defaults(handler=run)


def _progress(what: str, done: int, total: int, value) -> None:
    tail = f"{value:.4f}" if isinstance(value, float) else str(value)
    print(f"\r{what} {done}/{total}  {tail}" + " " * 8, end="", file=sys.stderr, flush=True)
    if done == total:
        print(file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    from ..data.windows import WindowSettings
    from ..errors import ConfigError
    from ..evaluation.feature_ae import FeatureAEConfig, FeatureAETraining
    from ..evaluation.recognizer import RecognizerTraining
    from ..recipes.fgd_train import fgd_train

    splits = tuple(args.train_split or ["train"])
    try:
        settings = WindowSettings(fps=args.fps, length=args.length, stride=args.stride,
                                  joint_set=args.joint_set,
                                  speakers=tuple(args.speaker) if args.speaker else None)
        net = FeatureAEConfig(channels=args.channels, feature_dim=args.feature_dim)
        training = FeatureAETraining(epochs=args.epochs, batch_size=args.batch_size,
                                     seed=args.seed)
    except ValueError as e:
        raise ConfigError(None, str(e)) from None
    nets = fgd_train(args.data, settings, train_splits=splits, net=net, training=training,
                     out=args.out, recognizer=args.recognizer, recognizer_out=args.recognizer_out,
                     recognizer_training=RecognizerTraining(steps=args.recognizer_steps,
                                                            seed=args.seed),
                     progress=_progress)
    fx = nets.feature_ae
    t = fx.config["training"]
    print(f"FGD autoencoder  {fx.folder}")
    print(f"  {t['train_windows']} training windows of {settings.length} frames at "
          f"{settings.fps:g} fps ({settings.joint_set}, {len(fx.config['joint_names'])} joints), "
          f"features {fx.feature_dim}-d, {t['seconds']} s")
    print(f"  reconstruction MSE (normalised units, 1.0 = predicting the mean): "
          f"train {t['final_train_mse']:.4f}"
          + (f", held-out {t['heldout_mse']:.4f} ({', '.join(t['heldout_splits'])}, "
             f"{t['heldout_windows']} windows)" if "heldout_mse" in t else ", no held-out split"))
    rec = nets.recognizer
    if rec is None:
        if nets.recognizer_skipped == "no sem/ annotations":
            print("gesture recogniser  skipped (no sem/ annotations)")
        return 0
    print(f"gesture recogniser  {rec.folder}")
    h = rec.config["training"].get("heldout")
    if h:
        fmt = lambda v: "n/a" if v is None else f"{v:.3f}"  # noqa: E731
        print(f"  recall on held-out ground truth ({', '.join(h['splits'])}, {h['events']} events,"
              f" ±0.5 s): all {fmt(h['recall'])}, head {fmt(h['head'])}, tail {fmt(h['tail'])}")
        if h["recall"] is not None and h["recall"] < 0.9:
            print("  warning: below 0.9 — semantic recall would measure the recogniser, not the "
                  "generator", file=sys.stderr)
    else:
        print("  no held-out split with events to measure its recall")
    return 0
