"""EGGesture's classification loss at a codebook size of your choice (issue 28, DESIGN §3).

For each ``--k``, one table in ``eggesture ablate``'s layout: the vanilla baseline, EGGesture
without the classification reweighting, and EGGesture with each ``--loss`` (``train.cls_loss``),
every row trained and evaluated for ``--seeds`` seeds by :mod:`eggesture.recipes.ablate`
(resumable, shareable by two processes: start the same command twice on two cores). Then, per K
and loss, the criteria the issue sets, read from the means (intervals beside them):

* FGD ≤ the vanilla baseline's and ≤ EGGesture's without reweighting,
* tail recall ≥ the vanilla baseline's,
* gesture precision ≥ 0.9 × the vanilla baseline's.

Run::

    export OMP_NUM_THREADS=1
    python -m benchmarks.cls_loss --data CORPUS --out DIR --loss paper --loss logit_adjusted \\
        --k 64 --k 512 --seeds 3 --budget 0.5 --split val --split test   # twice, side by side

With two or more codebook sizes (``--k``, or tables measured before given with ``--with``), the
reading of the paper's Fig. 7 per loss: EGGesture's FGD at each K, and for each step to the next
larger K whether it fell (:func:`eggesture.reporting.claims.ordered`: the 95 % intervals must not
overlap). ``--no-baselines`` leaves out the vanilla and no-reweighting rows (Fig. 7 asks about
EGGesture alone; the criteria are then not computed)::

    python -m benchmarks.cls_loss --data CORPUS --out DIR --loss logit_adjusted --k 2048 --k 10240 \
        --no-baselines --with benchmarks/results/cls_loss/cls-loss-k512-b0.5.json --seeds 3

Writes ``DIR/cls-loss-k<K>-<budget>.md`` / ``.json`` and ``DIR/cls_loss.json`` (the criteria, the
Fig. 7 reading).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from eggesture.config import CLS_LOSSES, load_config
from eggesture.errors import ConfigError
from eggesture.io import write_json
from eggesture.paper import TABLES, Row
from eggesture.recipes.ablate import run_table
from eggesture.reporting.claims import fmt, interval, ordered

#: The issue's criteria: (metric, comparison row, factor, direction).
CRITERIA = (("fgd", "vanilla", 1.0, "≤"), ("fgd", "no_reweight", 1.0, "≤"),
            ("tail_recall", "vanilla", 1.0, "≥"), ("precision", "vanilla", 0.9, "≥"))


def table_name(k: int, budget: float) -> str:
    return f"cls-loss-k{k}-b{budget:g}"


def register(k: int, budget: float, losses: list[str], baselines: bool = True) -> str:
    """Put the table for codebook size ``k`` into ablate's tables; its name."""
    size = f"model.codebook_size={k}"
    # The two methods without reweighting ignore train.cls_loss; it is pinned so that their run
    # folders (keyed by the resolved config) do not move when EGGesture's default does.
    pin = "train.cls_loss=paper"
    rows = [*([Row("vanilla", ("train.method=vanilla", size, pin)),
               Row("no_reweight", ("train.method=no_reweight", size, pin))] if baselines else []),
            *[Row(f"EGGesture {loss}", ("train.method=eggesture", f"train.cls_loss={loss}", size))
              for loss in losses]]
    name = table_name(k, budget)
    TABLES[name] = (f"The classification loss at K = {k} (budget {budget:g})", rows)
    return name


def criteria(summary: dict, losses: list[str]) -> dict:
    """Each loss's row against the issue's criteria, from the table's means and intervals."""
    rows = {r["name"]: r for r in summary["rows"]}
    out = {}
    for loss in losses:
        row, checks = rows[f"EGGesture {loss}"], []
        for metric, other, factor, sign in CRITERIA:
            a, b = row[metric], rows[other][metric]
            if a["mean"] is None or b["mean"] is None:
                checks.append({"metric": metric, "against": other, "met": None})
                continue
            bound = factor * b["mean"]
            met = a["mean"] <= bound if sign == "≤" else a["mean"] >= bound
            separated = a["high"] < b["low"] or a["low"] > b["high"]
            checks.append({"metric": metric, "against": other, "factor": factor, "sign": sign,
                           "value": a["mean"], "interval": [a["low"], a["high"]],
                           "other": b["mean"], "other_interval": [b["low"], b["high"]],
                           "met": met, "intervals_separate": separated})
        out[loss] = {"all_met": all(c["met"] for c in checks), "checks": checks}
    return out


def table_k(summary: dict) -> int:
    """The codebook size of a table written by this script (from its rows' overrides)."""
    for row in summary["rows"]:
        for o in row["overrides"]:
            if o.startswith("model.codebook_size="):
                return int(o.split("=", 1)[1])
    raise ConfigError(None, f"table {summary.get('table')!r} names no model.codebook_size")


def growth(tables: dict[int, dict], loss: str) -> dict:
    """Fig. 7's reading for one loss: its FGD per K (ascending), and per step to the next K
    whether FGD fell ("agrees"), rose ("disagrees") or neither is resolved by the intervals."""
    fgd = {}
    for k, summary in sorted(tables.items()):
        row = next((r for r in summary["rows"] if r["name"] == f"EGGesture {loss}"), None)
        if row is not None:
            fgd[k] = interval(row["fgd"])
    ks = list(fgd)
    steps = [{"from": a, "to": b, "verdict": ordered(fgd[b], fgd[a])} for a, b in zip(ks, ks[1:])]
    return {"fgd": {k: {"mean": iv.mean, "low": iv.low, "high": iv.high} for k, iv in fgd.items()},
            "steps": steps,
            "text": "FGD " + ", ".join(f"K={k}: {fmt(iv)}" for k, iv in fgd.items()) + "; "
                    + ", ".join(f"{s['from']}→{s['to']} {s['verdict']}" for s in steps)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", required=True, help="dataset folder (e.g. eggesture corpus synth …)")
    p.add_argument("--out", required=True, help="output folder (runs, tables)")
    p.add_argument("--loss", action="append", choices=[c for c in CLS_LOSSES if c != "none"],
                   required=True, help="train.cls_loss of an EGGesture row; repeat")
    p.add_argument("--k", action="append", type=int, required=True, help="codebook size; repeat")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--budget", type=float, default=0.5, help="share of synthetic.yaml's 80 epochs")
    p.add_argument("--config", default="synthetic")
    p.add_argument("--split", action="append", default=None)
    p.add_argument("--no-baselines", dest="baselines", action="store_false",
                   help="only the EGGesture rows (no vanilla / no_reweight; no criteria)")
    p.add_argument("--with", dest="previous", action="append", default=[], metavar="TABLE_JSON",
                   help="a table this script wrote before (same data, budget, seeds), for the "
                        "Fig. 7 reading across K; repeat")
    args = p.parse_args(argv)
    load_config(args.config)  # a bad config name is one line, before anything trains
    summaries: dict[int, dict] = {}
    for path in args.previous:
        prev = json.loads(Path(path).read_text())
        if (os.path.abspath(str(prev.get("data"))), prev.get("budget"), prev.get("seeds")) != (
                os.path.abspath(args.data), args.budget, args.seeds):
            raise ConfigError(path, f"measured on data {prev.get('data')}, budget "
                                    f"{prev.get('budget')}, {prev.get('seeds')} seeds: not this run's")
        summaries[table_k(prev)] = prev
    result = {"command": " ".join(["python -m benchmarks.cls_loss", *(argv or sys.argv[1:])]),
              "data": args.data, "seeds": args.seeds, "budget": args.budget,
              "with": args.previous, "tables": {}}
    for k in args.k:
        name = register(k, args.budget, args.loss, args.baselines)
        summary = run_table(name, args.data, config=args.config, seeds=args.seeds, out=args.out,
                            budget=args.budget, split=args.split,
                            progress=lambda m: print(m, file=sys.stderr, flush=True))
        summaries[k] = summary
        result["tables"][name] = {"k": k, "criteria": (criteria(summary, args.loss)
                                                        if args.baselines else None)}
        for loss, c in (result["tables"][name]["criteria"] or {}).items():
            print(f"K={k} {loss}: {'all criteria met' if c['all_met'] else 'not all met'}: "
                  + "; ".join(f"{x['metric']} {x['value']:.3f} {x['sign']} {x['factor']:g}×"
                              f"{x['against']} {x['other']:.3f}: {x['met']}"
                              for x in c["checks"] if x["met"] is not None))
    if len(summaries) > 1:
        result["fig7"] = {loss: growth(summaries, loss) for loss in args.loss}
        for loss, g in result["fig7"].items():
            print(f"Fig. 7, {loss}: {g['text']}")
    write_json(Path(args.out) / "cls_loss.json", result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
