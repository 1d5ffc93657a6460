"""Demo wall time per stage, read from a finished ``eggesture demo`` run.

Question: where do the minutes of ``eggesture demo`` go (corpus synthesis, evaluation networks,
training EGGesture and the baseline, evaluation, video, report)?

The demo times its own stages and writes them to ``DIR/results.json`` (``stage_seconds``,
``total_seconds``); this script reads that file — it does not run the demo, which takes many
minutes — and tables it with each stage's share. Without a finished run it writes a ``pending``
result saying which folders it looked in.

Run: ``eggesture demo --out demo_out`` once, then ``python -m benchmarks.demo --demo-dir demo_out``.
With ``--readme README.md`` it also rewrites the README's demo section (between
``<!-- demo:begin -->`` and ``<!-- demo:end -->``) from that run's ``results.json``, so the
numbers there are the run's, not retyped.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from eggesture.reporting.markdown import markdown_table

from .common import ROOT, Run, replace_section

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


BEGIN, END = "<!-- demo:begin -->", "<!-- demo:end -->"


def readme_block(summary: dict, run_label: str, other_seeds: bool = False) -> str:
    """The README's demo section, generated from a demo run's ``results.json`` content."""
    from eggesture.recipes.demo import LABELS, claim_lines, results_table

    c = summary["settings"]
    corpus = summary.get("corpus") or {}
    held = corpus.get("held_out") or {}
    cs = corpus.get("settings") or {}
    stages = summary.get("stage_seconds") or {}
    ee = summary.get("effective_epochs") or {}
    cfg = c.get("config") or {}
    lines = [
        "### What the demo shows (measured)", "",
        f"`eggesture demo` builds a {c['minutes']:g}-minute synthetic corpus of "
        f"{cs.get('speakers', 1)} speaker(s) (espeak-ng voices; arm motion calibrated to the real "
        f"BEAT2 sample) whose semantic "
        f"gestures follow a Zipf law ({cs.get('classes', '?')} classes, every class at least "
        f"{cs.get('min_train_events', '?')} times in training), trains EGGesture and the vanilla "
        f"VQ-VAE baseline with the same config and epochs (`synthetic.yaml`, "
        f"{cfg.get('train', {}).get('epochs', '?')} epochs, K = "
        f"{cfg.get('model', {}).get('codebook_size', '?')}; side by side in two processes) and "
        f"evaluates both on the held-out sequences ({held.get('events', '?')} gesture events, "
        f"{held.get('tail_events', '?')} of tail classes). {run_label}: "
        f"**{summary.get('total_seconds', 0) / 60:.1f} min** of `eggesture demo` (training "
        f"{stages.get('train', 0) / 60:.1f} min), seed {c['seed']}:", "",
        *results_table(summary["methods"]), "",
        "Recall and precision: the rate and its 95 % bootstrap interval over the held-out events. "
        "Oracle FGD: the ground truth encoded and decoded by the method's VQ-VAE (no "
        "classifier). Full-rate epochs (VQ-VAE / classifier): "
        + "; ".join(f"{LABELS.get(m, m)} {v['vqvae']:g} / {v['classifier']:g}"
                    for m, v in ee.items()) + ".", "",
        "In this run:", "", *claim_lines(summary["methods"]), "",
        machine_line(summary.get("machine") or {}), "",
        "One seed decides nothing: "
        + ("see the runs of other seeds below, and " if other_seeds else "")
        + "`eggesture ablate "
        "methods --seeds 3` gives intervals over training seeds on one corpus. The paper's numbers "
        "(Table 1, BEAT: FGD 5.74, BA 0.4117, L1Div 617.2) are on BEAT2 and not comparable with "
        "these.", "",
        "![stills: ground truth, EGGesture, vanilla](docs/images/demo_preview_strip.png)", "",
        "![code usage](docs/images/demo_codebook_usage.png)",
    ]
    return "\n".join(lines)


def machine_line(m: dict) -> str:
    """What a user on another machine will see: which part of the numbers is the machine's."""
    cpu = m.get("cpu") or m.get("processor") or "an unrecorded CPU"
    kernels = f" ({m['cpu_capability']} kernels)" if m.get("cpu_capability") else ""
    threads = (f", {m['threads_per_training']} thread(s) per training"
               if m.get("threads_per_training") else "")
    return (f"Measured on {cpu}{kernels}{threads}. On one machine the same command gives the same "
            "numbers (the trainings' weights are bit-identical; `tests/test_training.py` and "
            "docs/decisions.md, \"The demo's numbers and the machine\"). On a CPU with other "
            "vector instructions (AVX2 against AVX-512) or another core count, torch runs other "
            "kernels or splits its sums otherwise: the trained weights, and so every number in "
            "this table, differ — by as much as the spread between seeds below. The timings "
            "depend on the machine too.")


#: What :func:`seeds_block` compares, EGGesture against the baseline: (label, getter, digits,
#: which way is better).
SEED_METRICS = (
    ("FGD", lambda r: r["fgd"], 2, "lower"),
    ("oracle FGD", lambda r: (r.get("oracle") or {}).get("fgd"), 2, "lower"),
    ("codebook utilisation", lambda r: r["codebook_utilization"], 2, "higher"),
    ("token accuracy", lambda r: r.get("classifier_token_accuracy"), 3, "higher"),
    ("recall, tail", lambda r: (r.get("semantic_recall") or {}).get("tail"), 3, "higher"),
    ("gesture precision", lambda r: (r.get("semantic_recall") or {}).get("precision"), 3,
     "higher"),
)


def seeds_block(summaries: list[dict], run_label: str) -> str:
    """The README's paragraph over several demo runs (``eggesture demo --seed N``: corpus and
    training seed N): each run's numbers and the mean over runs of EGGesture − baseline with
    its 95 % t interval, "not resolved" when it contains 0. Each run has its own corpus, FGD
    autoencoder and held-out split, so values are compared within a run (paired by seed)."""
    from eggesture.metrics.intervals import t_interval

    seeds = [s["settings"]["seed"] for s in summaries]
    events = sum(((s.get("corpus") or {}).get("held_out") or {}).get("events", 0)
                 for s in summaries)
    lines = [f"{run_label}: `eggesture demo --seed N` for N = {', '.join(map(str, seeds))} "
             f"(each a corpus and a training of its own; {events} held-out events in all). "
             "EGGesture / vanilla per run, then the mean over runs of the difference with its "
             "95 % t interval (FGD is in each corpus's own autoencoder units, so it is compared "
             "within a run):", ""]
    rows, verdicts = [], []
    for label, get, digits, better in SEED_METRICS:
        pairs = [(get(s["methods"]["eggesture"]), get(s["methods"]["vanilla"]))
                 for s in summaries]
        cells = ["–" if e is None or v is None else f"{e:.{digits}f} / {v:.{digits}f}"
                 for e, v in pairs]
        diff = t_interval([e - v for e, v in pairs if e is not None and v is not None])
        rows.append([label, *cells, diff.format(digits)])
        if diff.low is None:
            continue
        if diff.low <= 0 <= diff.high:
            verdicts.append(f"{label}: not resolved")
        else:
            good = (diff.mean < 0) == (better == "lower")
            verdicts.append(f"{label}: EGGesture {'better' if good else '**worse**'}")
    lines += markdown_table(["", *(f"seed {s}" for s in seeds), "EGGesture − vanilla"], rows)
    lines += ["", "Over these runs (the interval of the difference excludes 0 or not): "
              + "; ".join(verdicts) + "."]
    return "\n".join(lines)


def write_readme(readme: Path, summaries: list[dict], run_label: str,
                 seeds_label: str = "Runs of other seeds") -> None:
    """Replace the demo section of ``readme`` (between the markers) with :func:`readme_block`
    of the first run, followed by :func:`seeds_block` of all of them when there are several."""
    block = readme_block(summaries[0], run_label, other_seeds=len(summaries) > 1)
    if len(summaries) > 1:
        block += "\n\n" + seeds_block(summaries, seeds_label)
    replace_section(Path(readme), BEGIN, END, block)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.demo", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--demo-dir", action="append", default=None,
                   help="folder of a finished demo run (repeatable; default: demo_out, runs/demo)")
    p.add_argument("--out", default=None)
    p.add_argument("--name", default="demo")
    p.add_argument("--readme", default=None,
                   help="rewrite this README's demo section: the first run's table, then all "
                        "runs side by side")
    p.add_argument("--run-label", default="One run",
                   help="how the README names the run (e.g. 'One run on a fresh clone, 2026-12-02')")
    p.add_argument("--seeds-label", default="Runs of other seeds",
                   help="how the README names the runs of all the --demo-dir folders")
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
    if args.readme and ok:
        summaries = [json.loads((Path(d) / "results.json").read_text(encoding="utf-8"))
                     for d in ok]
        write_readme(Path(args.readme), summaries, args.run_label, args.seeds_label)
    return 0


if __name__ == "__main__":
    sys.exit(main())
