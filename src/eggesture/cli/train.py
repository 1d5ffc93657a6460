"""``eggesture train --config FILE [key=value ...]``."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train", help="train EGGesture, the vanilla baseline or an ablation",
        description="Train with Lightning. FILE is a YAML path or a packaged config (tiny, "
                    "synthetic, paper_beat2, paper_trinity); overrides are section.key=value, e.g. "
                    "data.root=PATH train.method=vanilla train.epochs=10 train.devices=4. An "
                    "interrupted run with the same config resumes from its last checkpoint.",
    )
    p.add_argument("--config", default="synthetic", help="YAML file or packaged config name")
    p.add_argument("overrides", nargs="*", metavar="key=value")
    p.add_argument("--restart", action="store_true", help="ignore an existing checkpoint")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..config import load_config
    from ..recipes.train import train

    cfg = load_config(args.config, args.overrides)
    if not args.restart:
        check_resume_checkpoint(Path(cfg.train.out) / "checkpoints" / "last.ckpt")
    result = train(cfg, restart=args.restart)
    print(f"run directory: {result.run_dir}\ninference bundle: {result.bundle}")
    return 0


def check_resume_checkpoint(ckpt: Path) -> None:
    """Refuse (one line) a damaged checkpoint the run would resume from, instead of letting
    torch fail deep inside Lightning. Loaded with ``weights_only``: nothing arbitrary is unpickled."""
    if not ckpt.is_file():
        return
    import torch

    from ..errors import CheckpointError

    try:
        torch.load(ckpt, map_location="cpu", weights_only=True)
    except Exception as e:  # zip, unpickler and EOF errors all mean the same to the user
        reason = " ".join(str(e).split())[:120] or type(e).__name__
        raise CheckpointError(ckpt, f"damaged checkpoint, cannot resume ({reason}); rerun with "
                                    "--restart to start over") from None
