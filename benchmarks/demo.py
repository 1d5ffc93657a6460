"""Demo wall time per stage, read from a finished ``eggesture demo`` run.

Question: where do the minutes of ``eggesture demo`` go (corpus synthesis, evaluation networks,
training EGGesture and the baseline, evaluation, video, report)?

The demo times its own stages and writes them to ``DIR/results.json`` (``stage_seconds``,
``total_seconds``); this script reads that file — it does not run the demo, which takes many
minutes — and tables it with each stage's share. Without a finished run it writes a ``pending``
result saying which folders it looked in.

Run: ``eggesture demo --out demo_out`` once, then ``python -m benchmarks.demo --demo-dir demo_out``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .common import ROOT, Run

DEFAULT_DIRS = ("demo_out", "runs/demo")


def read_demo(folder: Path) -> dict | None:
    """Stage seconds and context of the demo run in ``folder`` (None if it has no results.json)."""
    path = folder / "results.json"
    if not path.is_file():
        return None
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        return {"results_json": str(path), "error": f"unreadable: {e}"}
    stages = summary.get("stage_seconds")
    if not isinstance(stages, dict) or not stages:
        return {"results_json": str(path), "error": "no stage_seconds in results.json",
                "keys": sorted(summary)}
    total = float(summary.get("total_seconds") or sum(stages.values()))
    settings = summary.get("settings") or {}
    return {
        "results_json": str(path),
        "minutes_of_corpus": settings.get("minutes"),
        "epochs": ((settings.get("config") or {}).get("train") or {}).get("epochs"),
        "demo_machine": summary.get("machine"),
        "stage_seconds": {k: float(v) for k, v in stages.items()},
        "stage_share": {k: round(float(v) / total, 3) if total else None
                        for k, v in stages.items()},
        "total_seconds": round(total, 1),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.demo", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--demo-dir", action="append", default=None,
                   help="folder of a finished demo run (repeatable; default: demo_out, runs/demo)")
    p.add_argument("--out", default=None)
    p.add_argument("--name", default="demo")
    args = p.parse_args(argv)
    dirs = [Path(d) for d in (args.demo_dir or DEFAULT_DIRS)]
    dirs = [d if d.is_absolute() else (Path.cwd() / d if (Path.cwd() / d).exists() else ROOT / d)
            for d in dirs]
    run = Run(args.name, args.out)
    found = {str(d): r for d in dirs if (r := read_demo(d)) is not None}
    ok = {k: v for k, v in found.items() if "stage_seconds" in v}
    run.results = {"runs": found, "looked_in": [str(d) for d in dirs],
                   "status": "measured" if ok else "pending"}
    if ok:
        first = next(iter(ok.values()))
        big = max(first["stage_seconds"], key=first["stage_seconds"].get)
        summary = (f"demo ({first['minutes_of_corpus']} min corpus) {first['total_seconds']:.0f} s "
                   f"in total; largest stage {big} {first['stage_seconds'][big]:.0f} s "
                   f"({100 * first['stage_share'][big]:.0f} %)")
    else:
        summary = "pending: no finished demo run (results.json with stage_seconds) in " + ", ".join(
            run.results["looked_in"])
    run.write(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
