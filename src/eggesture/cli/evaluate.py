"""``eggesture evaluate --checkpoint BUNDLE --data ROOT``: every metric, as a table and JSON."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    from ..config import EVAL_SPLITS

    demo_split = " ".join(f"--split {s}" for s in EVAL_SPLITS)
    p = sub.add_parser(
        "evaluate", help="FGD, beat alignment, L1 diversity, codebook statistics, semantic recall",
        description="Generate every sequence of a dataset split from its audio and transcript "
                    "(seeded with its first ground-truth frames, as the paper does) and score it: "
                    "FGD (eq. 12), beat alignment (eq. 13 and the BEAT2/EMAGE protocol), L1 "
                    "diversity (eq. 14), codebook utilisation and perplexity, and semantic-gesture "
                    "recall on head and tail classes. Prints a markdown table with a ground-truth "
                    "reference row. The dataset's FGD autoencoder and gesture recogniser come "
                    "from `eggesture fgd-train` (trained on its training split); missing, they are "
                    "an error unless --train-eval-nets trains them here; in a folder without a "
                    "training split (e.g. BEAT2's test set alone) they are left out, with a line "
                    "saying so, and the rest is scored. By default "
                    "the bundle's test split is evaluated; the demo reports its held-out set, "
                    f"{' + '.join(EVAL_SPLITS)}: `{demo_split}` gives the same.",
    )
    p.add_argument("--checkpoint", required=True, help="inference bundle (or its run folder)")
    p.add_argument("--data", required=True, metavar="ROOT", help="dataset folder")
    p.add_argument("--split", action="append",
                   help="split to evaluate, repeatable (default: the bundle's test splits, "
                        f"test; the demo's held-out set: {demo_split})")
    p.add_argument("--json", metavar="FILE", help="write all results as JSON here")
    p.add_argument("--plots", metavar="DIR", help="write codebook-usage and recall plots here")
    p.add_argument("--fgd-dir", metavar="DIR", help="FGD autoencoder folder (default: beside data)")
    p.add_argument("--recognizer-dir", metavar="DIR", help="gesture recogniser folder")
    p.add_argument("--protocol", choices=("ours", "emage"), default="ours",
                   help="emage: also BC, L1div and FGD exactly as EMAGE's emage_evaltools compute "
                        "them (BEAT2 papers' tables), reported beside ours")
    p.add_argument("--fgd-model", metavar="FILE",
                   help="EMAGE's FGD autoencoder AESKConv_240_100.bin (default: ROOT/"
                        "weights/AESKConv_240_100.bin when there; without it no EMAGE FGD)")
    p.add_argument("--smplx-model", metavar="FILE",
                   help="an SMPL-X .npz model file, e.g. SMPLX_NEUTRAL_2020.npz, for exact joint "
                        "positions (default: ROOT/weights/SMPLX_NEUTRAL_2020.npz when there; else "
                        "the approximate skeleton)")
    p.add_argument("--posthoc-tau", type=float, default=None, metavar="T",
                   help="generate with post-hoc logit adjustment τ′ = T (default: the model's)")
    p.add_argument("--train-eval-nets", action="store_true",
                   help="train a missing FGD autoencoder / gesture recogniser on the dataset's "
                        "training split (as `eggesture fgd-train` does) instead of failing")
    # The default since evaluation trains nothing unless asked; kept so that old scripts run.
    p.add_argument("--no-train", action="store_true", help=argparse.SUPPRESS)
    p.set_defaults(handler=run)


def write_plots(results: dict, folder) -> list:
    """Code-usage histogram and per-class recall of one evaluation."""
    from pathlib import Path

    from ..export.plots import plot_codebook_usage, plot_recall_per_class

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    cb = results["codebook"]
    counts = {f"{results['method']} (ground-truth encoding)": cb["ground_truth_encoding"]["counts"]}
    counts[f"{results['method']} (predicted codes)"] = cb["generated"]["counts"]
    written.append(plot_codebook_usage(counts, folder / "codebook_usage.png"))
    if results.get("semantic_recall"):
        sr = results["semantic_recall"]
        written.append(plot_recall_per_class({results["method"]: sr["per_class"]},
                                             folder / "recall_per_class.png", rule=sr.get("rule")))
    return written


def split_summary(results: dict, available: set[str] | None = None) -> str:
    """One line: the split(s) evaluated, with their sequences, minutes and gesture events, and
    how to evaluate the demo's held-out set when it was another and the folder has its splits
    (``available``: the folder's splits; None: not known)."""
    from ..config import EVAL_SPLITS

    split = list(results["split"])
    sr = results.get("semantic_recall")
    events = (f"{sum(v['events'] for v in sr['per_class'].values())} gesture events"
              if sr else "no gesture annotations")
    line = (f"evaluated split {' + '.join(split)}: {results['n_sequences']} sequences, "
            f"{results['minutes']:.1f} min, {events}")
    demo_split = " ".join(f"--split {s}" for s in EVAL_SPLITS)
    if sorted(split) == sorted(EVAL_SPLITS):
        return f"{line} (the demo's held-out set)"
    if available is not None and not set(EVAL_SPLITS) <= available:
        return line  # no demo layout here: nothing to suggest
    return f"{line}; the demo reports {' + '.join(EVAL_SPLITS)}: `{demo_split}` gives that set"


def run(args: argparse.Namespace) -> int:
    from ..data.datasets import detect
    from ..errors import EggestureError
    from ..io import write_json
    from ..recipes.evaluate import evaluate, markdown_table
    from ..reporting.evaluation import emage_markdown

    results = evaluate(args.checkpoint, args.data, split=args.split, fgd_dir=args.fgd_dir,
                       recognizer_dir=args.recognizer_dir, train_missing=args.train_eval_nets,
                       progress=lambda m: print(m, file=sys.stderr, flush=True),
                       protocol=args.protocol, fgd_model=args.fgd_model,
                       smplx_model=args.smplx_model, posthoc_tau=args.posthoc_tau).to_dict()
    print(markdown_table(results))
    emage = emage_markdown({results["method"]: results})
    if emage:
        print("\n".join(emage) + "\n")
    try:
        available = {sp for _, sp in detect(args.data).list_sequences(Path(args.data))}
    except EggestureError:
        available = None
    print(split_summary(results, available))
    if args.json:
        write_json(args.json, results)
    if args.plots:
        for path in write_plots(results, args.plots):
            print(f"plot: {path}", file=sys.stderr)
    if not args.json:
        print(json.dumps({k: results[k] for k in ("fgd", "beat_alignment", "l1_diversity",
                                                  "codebook_utilization")}), file=sys.stderr)
    return 0
