"""``eggesture ablate TABLE --data ROOT``: the paper's Tables 3–7 and Figs. 2/7 on your data."""

from __future__ import annotations

import argparse
import sys

from ..recipes.ablate import TABLES


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "ablate", help="reproduce the paper's ablation tables side by side with its numbers",
        description="Train and evaluate every row of one of the paper's ablations: methods "
                    "(EGGesture vs the vanilla baseline), reweighting "
                    "(Table 3), reweight (Table 4), joint-gumbel (Table 5), text-encoder (Table 6), "
                    "architecture (Table 7), codebook-size (Figs. 2 and 7). Writes OUT/TABLE.md and "
                    "OUT/TABLE.json (mean and 95 % interval over seeds — bootstrap over the "
                    "held-out events for recall and precision — with the paper's numbers in "
                    "adjacent columns) and, for codebook-size, a plot. Interrupted ablations "
                    "continue where they stopped when run again with the same arguments.",
    )
    p.add_argument("table", choices=list(TABLES))
    p.add_argument("--data", required=True, metavar="ROOT", help="dataset folder")
    p.add_argument("--config", default="synthetic", help="base config (default: synthetic)")
    p.add_argument("--seeds", type=int, default=1, help="seeds per row (default 1)")
    p.add_argument("--out", default="ablations", help="output folder (default: ablations)")
    p.add_argument("--split", action="append", default=None, metavar="NAME",
                   help="held-out split to evaluate on; repeat for several (default: the "
                        "config's test splits)")
    p.add_argument("--budget", type=float, default=1.0,
                   help="scale the config's epochs (e.g. 0.25 on a CPU; at least 2 epochs)")
    p.add_argument("--fgd-model", metavar="FILE", default=None,
                   help="EMAGE's AESKConv_240_100.bin: adds the EMAGE protocol's FGD column (its BC "
                        "and L1div columns are always there on BEAT2-layout data)")
    p.add_argument("overrides", nargs="*", metavar="key=value", help="config overrides for every row")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..recipes.ablate import run_table, table_markdown

    summary = run_table(args.table, args.data, config=args.config, seeds=args.seeds, out=args.out,
                        budget=args.budget, overrides=args.overrides, split=args.split,
                        fgd_model=args.fgd_model, progress=lambda m: print(m, file=sys.stderr, flush=True))
    print(table_markdown(summary))
    return 0
