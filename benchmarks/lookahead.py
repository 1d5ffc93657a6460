"""Live generation's cost in quality: a model trained with ``model.lookahead`` against the offline
model, offline and streamed (issue 32, item 2).

Rows (EGGesture, the config's defaults, ``--seeds`` training seeds each), trained and evaluated
offline by :mod:`eggesture.recipes.ablate` (resumable, shareable by two processes: start the same
command twice; the offline row shares its runs with ``eggesture ablate``'s EGGesture when OUT,
data and budget are the same):

* the offline model (no lookahead), offline and streamed at each ``--lookahead`` L,
* for each L, the model trained with ``model.lookahead=L``, offline and streamed at L.

Streaming is :func:`eggesture.recipes.stream.stream_wave` in 0.1 s chunks on the held-out split
(``--split``), seeded by ground truth as ``eggesture evaluate`` seeds offline generation, words
timed in advance as offline (``--no-words``: none, as a live stream without a recogniser has).
Each (row, seed, mode) evaluation is kept as ``stream_eval_<mode>.json`` in the run's folder.
FGD, beat alignment, L1 diversity, token accuracy: mean over seeds and its 95 % t interval;
recall and precision: bootstrap over events and seeds (the ablation tables' rules).

Run::

    export OMP_NUM_THREADS=1
    python -m benchmarks.lookahead --data CORPUS --out DIR --lookahead 0.25 --lookahead 0.5 \\
        --lookahead 1.0 --seeds 3 --budget 0.5 --split val --split test   # twice, side by side

Writes ``DIR/lookahead.md`` / ``DIR/lookahead.json`` (and ``-no-words`` with ``--no-words``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from eggesture.config import load_config
from eggesture.io import write_json, write_text
from eggesture.paper import TABLES, Row
from eggesture.recipes.ablate import plan_table, run_table
from eggesture.reporting.claims import AGREES, DISAGREES, fmt, interval, ordered
from eggesture.reporting.tables import summarise, table_markdown

TABLE = "lookahead"
OFFLINE = "offline model"


def register(lookaheads: list[float]) -> None:
    """Put the training rows into ablate's tables."""
    TABLES[TABLE] = ("EGGesture trained with a limited lookahead (model.lookahead)", [
        Row(OFFLINE, ("train.method=eggesture",)),
        *[Row(f"lookahead {la:g} s model", ("train.method=eggesture", f"model.lookahead={la:g}"))
          for la in lookaheads]])


def modes(row: str, lookaheads: list[float]) -> list[float | None]:
    """How a row's model is evaluated: offline (None) and streamed at each lookahead it allows."""
    if row == OFFLINE:
        return [None, *lookaheads]
    own = float(row.split()[1])
    return [None, own]


def _mode_name(la: float | None, words: bool) -> str:
    return ("offline" if la is None else f"stream {la:g}s") + ("" if words else " no words")


def evaluate_mode(run_dir: Path, data: str, split: list[str] | None, la: float | None,
                  words: bool) -> dict:
    """The run's evaluation in one mode, computed once and kept beside the run."""
    from eggesture.recipes.evaluate import evaluate

    base = json.loads((run_dir / "eval.json").read_text())
    if la is None and words:
        return base  # ablate's own evaluation
    path = run_dir / f"stream_eval_{_mode_name(la, words).replace(' ', '_')}.json"
    if path.is_file():
        return json.loads(path.read_text())
    res = evaluate(run_dir / "bundle", data, split=split, stream_lookahead=la,
                   words=words).to_dict()
    res["train_seconds"] = base.get("train_seconds")
    write_json(path, res)
    return res


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", required=True, help="dataset folder (eggesture corpus synth …)")
    p.add_argument("--out", required=True, help="output folder (runs, tables)")
    p.add_argument("--lookahead", action="append", type=float, required=True,
                   help="seconds; repeat")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--budget", type=float, default=0.5, help="share of the config's epochs")
    p.add_argument("--config", default="synthetic")
    p.add_argument("--split", action="append", default=None)
    p.add_argument("--no-words", dest="words", action="store_false",
                   help="evaluate without a transcript (training is the same)")
    args = p.parse_args(argv)
    load_config(args.config)  # a bad config name is one line, before anything trains
    register(args.lookahead)
    say = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    run_table(TABLE, args.data, config=args.config, seeds=args.seeds, out=args.out,
              budget=args.budget, split=args.split, progress=say)
    jobs = plan_table(TABLE, args.data, config=args.config, seeds=args.seeds, out=args.out,
                      budget=args.budget)
    rows, results, runs = [], {}, {}
    for row in TABLES[TABLE][1]:
        mine = [j for j in jobs if j.row.name == row.name]
        for la in modes(row.name, args.lookahead):
            name = f"{row.name}, {_mode_name(la, args.words)}"
            say(f"evaluating {name}")
            rows.append(Row(name, row.overrides))
            results[name] = [evaluate_mode(j.run_dir, args.data, args.split, la, args.words)
                             for j in mine]
            runs[name] = mine[0].run_dir.parent.relative_to(args.out).as_posix()
    summary = summarise(TABLES[TABLE][0], rows, results, runs, table=TABLE, data=args.data,
                        config=args.config, seeds=args.seeds, budget=args.budget, overrides=[],
                        split=args.split)
    summary["command"] = " ".join(["python -m benchmarks.lookahead", *(argv or sys.argv[1:])])
    summary["verdicts"] = verdicts(summary, args.lookahead, args.words)
    stem = Path(args.out) / (TABLE + ("" if args.words else "-no-words"))
    write_json(stem.with_suffix(".json"), summary)
    write_text(stem.with_suffix(".md"), table_markdown(summary) + "\n"
               + "\n".join(f"* {v}" for v in summary["verdicts"]) + "\n")
    for v in summary["verdicts"]:
        print(v)
    return 0


def verdicts(summary: dict, lookaheads: list[float], words: bool) -> list[str]:
    """Per lookahead: the streamed lookahead model's FGD against the offline model's offline
    FGD and against the offline model streamed at the same lookahead: lower, higher or not
    resolved (whether the 95 % intervals overlap)."""
    def versus(a: dict, b: dict) -> str:
        word = {AGREES: "lower", DISAGREES: "higher"}.get(ordered(interval(a), interval(b)),
                                                          "not resolved")
        return f"{fmt(interval(b), 2)}: {word}"

    by = {r["name"]: r for r in summary["rows"]}
    off = by[f"{OFFLINE}, {_mode_name(None, words)}"]
    lines = []
    for la in lookaheads:
        live = by[f"lookahead {la:g} s model, {_mode_name(la, words)}"]
        naive = by[f"{OFFLINE}, {_mode_name(la, words)}"]
        lines.append(
            f"lookahead {la:g} s: the lookahead model streamed, FGD {fmt(interval(live['fgd']), 2)}; "
            f"vs the offline model offline {versus(live['fgd'], off['fgd'])}; vs the offline "
            f"model streamed {versus(live['fgd'], naive['fgd'])}")
    return lines


if __name__ == "__main__":
    raise SystemExit(main())
