"""``eggesture evaluate --checkpoint BUNDLE --data ROOT``: every metric, as a table and JSON."""

from __future__ import annotations

import argparse
import json
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate", help="FGD, beat alignment, L1 diversity, codebook statistics, semantic recall",
        description="Generate every sequence of a dataset split from its audio and transcript "
                    "(seeded with its first ground-truth frames, as the paper does) and score it: "
                    "FGD (eq. 12), beat alignment (eq. 13 and the BEAT2/EMAGE protocol), L1 "
                    "diversity (eq. 14), codebook utilisation and perplexity, and semantic-gesture "
                    "recall on head and tail classes. Prints a markdown table with a ground-truth "
                    "reference row. The dataset's FGD autoencoder and gesture recogniser are "
                    "trained on first use (or beforehand with `eggesture fgd-train`).",
    )
    p.add_argument("--checkpoint", required=True, help="inference bundle (or its run folder)")
    p.add_argument("--data", required=True, metavar="ROOT", help="dataset folder")
    p.add_argument("--split", action="append", help="split(s) to evaluate (default: test)")
    p.add_argument("--json", metavar="FILE", help="write all results as JSON here")
    p.add_argument("--plots", metavar="DIR", help="write codebook-usage and recall plots here")
    p.add_argument("--fgd-dir", metavar="DIR", help="FGD autoencoder folder (default: beside data)")
    p.add_argument("--recognizer-dir", metavar="DIR", help="gesture recogniser folder")
    p.add_argument("--no-train", action="store_true",
                   help="fail instead of training a missing FGD autoencoder / recogniser")
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
        written.append(plot_recall_per_class({results["method"]: results["semantic_recall"]["per_class"]},
                                             folder / "recall_per_class.png"))
    return written


def run(args: argparse.Namespace) -> int:
    from ..io import write_json
    from ..recipes.evaluate import evaluate, markdown_table

    results = evaluate(args.checkpoint, args.data, split=args.split, fgd_dir=args.fgd_dir,
                       recognizer_dir=args.recognizer_dir, train_missing=not args.no_train,
                       progress=lambda m: print(m, file=sys.stderr, flush=True)).to_dict()
    print(markdown_table(results))
    if args.json:
        write_json(args.json, results)
    if args.plots:
        for path in write_plots(results, args.plots):
            print(f"plot: {path}", file=sys.stderr)
    if not args.json:
        print(json.dumps({k: results[k] for k in ("fgd", "beat_alignment", "l1_diversity",
                                                  "codebook_utilization")}), file=sys.stderr)
    return 0
