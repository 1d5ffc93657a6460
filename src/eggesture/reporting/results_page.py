"""The results page of ``eggesture ablate all``: the run, the paper's claims, every table, the plots.

:func:`write_page` reads an ablation folder (``OUT/<table>.json``, ``OUT/ablate_all.json``, the
runs' logs, snapshots and evaluations) and writes ``OUT/results.md`` with its plots beside it;
``page=docs/results.md`` writes the same page there, its plots in ``docs/images/ablation_*.png``.
The page is regenerated from the files alone, so it can be rewritten at any time
(``eggesture ablate page --out OUT [--page docs/results.md]``).

Sections: a header naming the run (date, corpus command, the ``ablate all`` command, budget,
seeds, split, machine, wall time), the claims with their verdicts
(:mod:`eggesture.reporting.claims`), then each table (mean ± half-width of the 95 % interval over
seeds, the paper's numbers beside), then the plots: Fig. 6 (utilisation and FGD over training,
both methods), Figs. 2 / 7 (utilisation and FGD against K) and the per-class recall head → tail
of the best EGGesture row and the vanilla baseline.
"""

from __future__ import annotations

import json
import math
import os
import platform
import shutil
import socket
from datetime import datetime
from pathlib import Path

import torch

from ..export.plots import plot_recall_per_class, plot_training_curves
from ..io import replace_section, split_section, write_json, write_text
from ..paper import TABLES
from ..runs import mutex
from .claims import curve_intervals, decide, fig6_curves
from .tables import relative_paths, table_markdown

#: The plots' file names in OUT, and their names beside a page written elsewhere (docs/images/).
PLOTS = {"fig6": "training_curves.png", "codebook": "codebook_size.png",
         "recall": "recall_per_class.png"}
BASELINE_ROW = ("methods", "vanilla VQ-VAE")


def load_info(out: Path) -> dict:
    """What ``eggesture ablate all`` recorded of its invocations (``OUT/ablate_all.json``)."""
    f = out / "ablate_all.json"
    return json.loads(f.read_text()) if f.is_file() else {}


def missing_tables(summaries: dict[str, dict]) -> list[str]:
    """The tables of :data:`TABLES` not written yet."""
    return [t for t in TABLES if t not in summaries]


def load_summaries(out: Path) -> dict[str, dict]:
    """The tables of ``out`` that exist, in the order of :data:`TABLES`."""
    return {t: json.loads((out / f"{t}.json").read_text()) for t in TABLES
            if (out / f"{t}.json").is_file()}


def _seed_dirs(out: Path, row: dict, seeds: int) -> list[Path]:
    return [out / row["runs"] / f"seed{k}" for k in range(seeds)] if row.get("runs") else []


def _is_eggesture(row: dict, overrides: list[str]) -> bool:
    methods = [o.split("=", 1)[1] for o in [*overrides, *row["overrides"]]
               if o.startswith("train.method=")]
    return (methods[-1] if methods else "eggesture") == "eggesture"


def best_eggesture(summaries: dict[str, dict]) -> tuple[str, dict] | None:
    """The EGGesture row (any table; ``train.method=eggesture``) with the lowest mean FGD."""
    best = None
    for t, s in summaries.items():
        for r in s["rows"]:
            m = (r.get("fgd") or {}).get("mean")
            if m is not None and _is_eggesture(r, s.get("overrides", [])) and (
                    best is None or m < best[1]["fgd"]["mean"]):
                best = (t, r)
    return best


def _merged_per_class(dirs: list[Path]) -> dict | None:
    """Per-class recall pooled over seeds (events and recalled events summed)."""
    merged: dict[str, dict] = {}
    for d in dirs:
        f = d / "eval.json"
        if not f.is_file():
            continue
        pc = (json.loads(f.read_text()).get("semantic_recall") or {}).get("per_class") or {}
        for c, v in pc.items():
            m = merged.setdefault(c, {"events": 0, "recalled": 0, "train_count": v.get("train_count"),
                                      "group": v.get("group")})
            m["events"] += v.get("events", 0)
            m["recalled"] += v.get("recalled", 0)
    for m in merged.values():
        m["recall"] = m["recalled"] / m["events"] if m["events"] else float("nan")
    return merged or None


def _snapshot_curves(out: Path, methods: dict) -> dict[str, list[list[tuple[int, float]]]]:
    """Each methods-table row's FGD per snapshot epoch (one curve per seed)."""
    curves: dict[str, list[list[tuple[int, float]]]] = {}
    for r in methods.get("rows", []):
        for d in _seed_dirs(out, r, int(methods.get("seeds") or 0)):
            f = d / "snapshots.json"
            if f.is_file():
                eps = json.loads(f.read_text()).get("epochs", {})
                pts = sorted((int(e) - 1, v["fgd"]) for e, v in eps.items()  # 0-based, as the log
                             if v.get("fgd") is not None)
                if pts:
                    curves.setdefault(r["name"], []).append(pts)
    return curves


def _bands(curves: dict[str, list[list[tuple[int, float]]]]) -> dict[str, list[tuple]]:
    nan = float("nan")
    return {name: [(e, iv.mean, nan if iv.low is None else iv.low,
                    nan if iv.high is None else iv.high)
                   for e, iv in curve_intervals(c).items()] for name, c in curves.items()}


def make_plots(out: Path, summaries: dict[str, dict], util_curves: dict) -> dict[str, Path]:
    """Fig. 6 and the per-class recall plot in ``out`` (the codebook-size plot is the table's);
    the plots that exist, by :data:`PLOTS` key."""
    made = {}
    if util_curves:
        fgd = _bands(_snapshot_curves(out, summaries.get("methods", {})))
        made["fig6"] = plot_training_curves(
            _bands(util_curves), out / PLOTS["fig6"], fgd=fgd or None,
            caption="Utilisation: the codes the training batches used, per epoch (training log). "
                    "FGD: the weights kept at evenly spaced epochs, generating the held-out split. "
                    "Epochs counted from 0.")
    if (out / PLOTS["codebook"]).is_file():
        made["codebook"] = out / PLOTS["codebook"]
    best = best_eggesture(summaries)
    base = summaries.get(BASELINE_ROW[0])
    base_row = next((r for r in (base or {}).get("rows", []) if r["name"] == BASELINE_ROW[1]), None)
    if best is not None and base_row is not None:
        t, r = best
        per_class = {f"{r['name']} ({t}; best EGGesture)": _merged_per_class(
                         _seed_dirs(out, r, int(summaries[t].get("seeds") or 0))),
                     "vanilla VQ-VAE": _merged_per_class(_seed_dirs(out, base_row, int(base["seeds"])))}
        if all(per_class.values()):
            made["recall"] = plot_recall_per_class(
                per_class, out / PLOTS["recall"],
                title="Semantic-gesture recall per class, head → tail (events pooled over seeds)")
    return made


def _corpus_command(data: str) -> str | None:
    f = Path(data) / "corpus.json"
    if not f.is_file():
        return None
    s = json.loads(f.read_text()).get("settings") or {}
    flags = " ".join(f"--{k.replace('_', '-')} {v:g}" if isinstance(v, float) else
                     f"--{k.replace('_', '-')} {v}" for k, v in s.items())
    return f"eggesture corpus synth {data} {flags}".strip()


def _held_out(out: Path, summaries: dict[str, dict]) -> str | None:
    for s in summaries.values():
        for r in s["rows"]:
            for d in _seed_dirs(out, r, 1):
                f = d / "eval.json"
                if f.is_file():
                    e = json.loads(f.read_text())
                    rec = e.get("semantic_recall") or {}
                    ev = (rec.get("outcomes") or {}).get("group")
                    extra = (f", {len(ev)} gesture events ({sum(g == 'tail' for g in ev)} in "
                             f"tail classes)") if ev else ""
                    return (f"split {' + '.join(e.get('split') or [])}: {e.get('n_sequences')} "
                            f"sequences, {e.get('minutes')} min{extra}")
    return None


def _run_evals(out: Path, summaries: dict[str, dict]) -> list[dict]:
    """The ``eval.json`` of each distinct run (folder × seed) of the tables."""
    evals, seen = [], set()
    for s in summaries.values():
        for r in s["rows"]:
            for d in _seed_dirs(out, r, int(s.get("seeds") or 0)):
                if d in seen or not (d / "eval.json").is_file():
                    continue
                seen.add(d)
                evals.append(json.loads((d / "eval.json").read_text()))
    return evals


def _compute_seconds(evals: list[dict]) -> float:
    """Training + evaluation seconds summed over the runs' evaluations ``evals``."""
    return sum(x for e in evals for x in (e.get("train_seconds"), e.get("eval_seconds"))
               if isinstance(x, (int, float)) and math.isfinite(x))


def _evaluation_lines(evals: list[dict]) -> list[str]:
    """Which FGD autoencoder scored the runs (a run continued in another checkout may have
    trained its own: then FGDs of different runs are not comparable, and the page says so),
    and how many runs' training time is unknown."""
    nets = sorted({n for e in evals if (n := (e.get("protocol") or {}).get("fgd_autoencoder"))})
    lines = []
    if len(nets) == 1:
        lines.append(f"* Every run scored by the same evaluation nets (FGD autoencoder "
                     f"`{nets[0]}`, trained once on the corpus's training split).")
    elif nets:
        lines.append(f"* **Warning: the runs were scored by {len(nets)} different FGD "
                     f"autoencoders** ({', '.join(f'`{n}`' for n in nets)}): FGD of runs scored "
                     "by different ones is not comparable.")
    unknown = sum(e.get("train_seconds") is None for e in evals)
    if unknown:
        lines.append(f"* Training time unknown for {unknown} of {len(evals)} runs (not recorded "
                     "by the process that trained them); the rows' times average the others.")
    return lines


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:.2f} h" if seconds >= 3600 else f"{seconds / 60:.1f} min"


#: A markdown file in the ablation folder whose lines the page's header shows (one bullet per
#: plain line): what the run's maker has to say that the runs cannot (tables left out, runs kept
#: from an earlier folder).
NOTES = "notes.md"


def header(out: Path, summaries: dict[str, dict], info: dict) -> list[str]:
    """The lines naming the run."""
    any_s = next(iter(summaries.values()), {})
    data = info.get("data") or any_s.get("data", "?")
    seeds, budget = info.get("seeds", any_s.get("seeds")), info.get("budget", any_s.get("budget"))
    lines = ["# The paper's ablations, measured (`eggesture ablate all`)", "",
             f"Written {datetime.now().strftime('%Y-%m-%d')} from the ablation folder `{out}` "
             "(by `eggesture ablate all`, or `eggesture ablate page`): every number below "
             "comes from that one run.", ""]
    corpus = _corpus_command(data)
    if corpus:
        lines += ["```bash", relative_paths(corpus)]
    else:
        lines += ["```bash", f"# corpus: {data}"]
    cmd = info.get("command") or (
        f"eggesture ablate all --data {data} --config {any_s.get('config')} --seeds {seeds} "
        f"--budget {budget} --out {out}")
    lines += [relative_paths(cmd) + "   # run twice side by side: two processes", "```", ""]
    epochs = next((r["effective_epochs"]["epochs"] for s in summaries.values() for r in s["rows"]
                   if r.get("effective_epochs")), None)
    lines.append(f"* Config `{any_s.get('config')}` × budget {budget:g}"
                 + (f" = {epochs} epochs per run" if epochs else "") + f"; {seeds} seeds per row"
                 + (f"; overrides {' '.join(any_s.get('overrides') or [])}"
                    if any_s.get("overrides") else "") + ".")
    missing = missing_tables(summaries)
    if missing:
        lines.append(f"* **Not finished**: {', '.join(f'`{t}`' for t in missing)} — their claims "
                     "below read \"not measured\"; the command above continues the run (finished "
                     "runs are kept) and rewrites this page as each table completes.")
    held = _held_out(out, summaries)
    if held:
        lines.append(f"* Evaluation: {held}.")
    evals = _run_evals(out, summaries)
    lines += _evaluation_lines(evals)
    runs = {r["runs"] for s in summaries.values() for r in s["rows"] if r.get("runs")}
    lines.append(f"* {len(runs)} distinct trainings × {seeds} seeds serve the "
                 f"{sum(len(s['rows']) for s in summaries.values())} rows (a row with the same "
                 "config in several tables is trained once).")
    if info.get("machine"):
        lines.append(f"* Machine: {info['machine']}.")
    done = [p for p in info.get("processes", []) if p.get("finished")]
    if done:
        first, last = min(p["started"] for p in done), max(p["finished"] for p in done)
        compute = _compute_seconds(evals)
        lines.append(f"* Wall time {_hours(wall_seconds(done))} with {len(done)} `ablate all` "
                     f"processes ({datetime.fromtimestamp(first):%Y-%m-%d %H:%M} → "
                     f"{datetime.fromtimestamp(last):%Y-%m-%d %H:%M})"
                     + (f"; training + evaluation summed over the runs {_hours(compute)}"
                        if compute else "") + ".")
    lines += ["* Intervals: mean ± the half-width of the 95 % Student-t interval over seeds; "
              "recall and precision: 95 % bootstrap over the held-out events and seeds. Columns "
              "marked *paper* are the paper's numbers on BEAT2 speaker 2 — another dataset, FGD "
              "autoencoder and scale: compare directions, not values.", ""]
    notes = out / NOTES
    if notes.is_file():  # what the folder's maker says of it (e.g. runs kept from another)
        lines += [f"* {line}" if line and not line.startswith(("*", " ", "|", "#")) else line
                  for line in notes.read_text(encoding="utf-8").strip().splitlines()] + [""]
    return lines


def write_page(out: str | Path, page: str | Path | None = None) -> Path:
    """Write ``OUT/results.md`` (and ``page`` with its plots beside it, when given) from the
    ablation folder ``out``; also ``OUT/claims.json``. The page written."""
    out = Path(out)
    summaries = load_summaries(out)
    info = load_info(out)
    curves = fig6_curves(out, summaries.get("methods"))
    verdicts = decide(summaries, curves)
    write_json(out / "claims.json", [v.to_dict() for v in verdicts])
    plots = make_plots(out, summaries, curves)

    def render(image_dir: str, prefix: str) -> str:
        lines = header(out, summaries, info)
        lines += ["## The paper's claims", "",
                  "Each claim read as a comparison of rows, decided by whether the 95 % intervals "
                  "separate: **agrees** (in the paper's direction), **disagrees** (in the "
                  "opposite one), **not resolved at this budget** (they overlap). Definitions: "
                  "`eggesture.reporting.claims`.", ""]
        lines += [v.line() for v in verdicts] + [""]
        for s in summaries.values():
            lines += [table_markdown(s)]
        captions = {"fig6": "Fig. 6: utilisation and FGD over training, both methods",
                    "codebook": "Figs. 2 and 7: utilisation and FGD against the codebook size",
                    "recall": "per-class recall, head → tail: best EGGesture row and the baseline"}
        if plots:
            lines += ["## Plots", ""]
            for k, p in plots.items():
                lines += [f"![{captions[k]}]({image_dir}{prefix}{p.name})", ""]
        return "\n".join(lines).rstrip() + "\n"

    write_text(out / "results.md", render("", ""))
    if page is None:
        return out / "results.md"
    page = Path(page)
    images = page.parent / "images"
    images.mkdir(parents=True, exist_ok=True)
    for p in plots.values():
        shutil.copyfile(p, images / f"ablation_{p.name}")
    write_text(page, render("images/", "ablation_"))
    return page


def record_invocation(out: Path, *, started: float, finished: float | None, command: str,
                      data: str, seeds: int, budget: float) -> None:
    """Keep in ``OUT/ablate_all.json`` each ``ablate all`` process on ``out`` (host, pid, start,
    finish), the command and the machine. Called at a process's start (``finished=None``),
    after each run it finishes and at its end, so a killed process counts up to its last run."""
    f = out / "ablate_all.json"
    me = {"host": socket.gethostname(), "pid": os.getpid(), "started": started}
    with mutex(out / ".ablate_all.lock"):
        info = json.loads(f.read_text()) if f.is_file() else {}
        procs = info.setdefault("processes", [])
        if finished is None:
            procs.append(me)
        else:
            for p in procs:
                if all(p.get(k) == v for k, v in me.items()):
                    p["finished"] = finished
        info.update(command=command, data=data, seeds=seeds, budget=budget)
        torch_v = f"torch {torch.__version__}, {torch.get_num_threads()} threads per process"
        info["machine"] = (f"{platform.processor() or platform.machine()}, {os.cpu_count()} "
                           f"CPU cores, {platform.system()} {platform.release()}, Python "
                           f"{platform.python_version()}, {torch_v}").rstrip(", ")
        write_json(f, info)


def wall_seconds(processes: list[dict]) -> float:
    """Seconds during which at least one finished process ran (their intervals merged), so a
    run resumed a day later does not count the day between."""
    spans = sorted((p["started"], p["finished"]) for p in processes if p.get("finished"))
    total, end = 0.0, -math.inf
    for a, b in spans:
        if a > end:
            total += b - a
        elif b > end:
            total += b - end
        end = max(end, b)
    return total


README_BEGIN, README_END = "<!-- ablation:begin -->", "<!-- ablation:end -->"


def readme_summary(out: str | Path, page: str | Path, readme: str | Path) -> str:
    """The README's summary of the page: each claim's verdict and its headline numbers, from
    the same verdicts as the page (``OUT/claims.json``, written by :func:`write_page`)."""
    out = Path(out)
    verdicts = json.loads((out / "claims.json").read_text())
    summaries = load_summaries(out)
    info = load_info(out)
    any_s = next(iter(summaries.values()), {})  # a folder made by single-table runs has no info
    seeds, budget = info.get("seeds", any_s.get("seeds", "?")), info.get("budget", any_s.get("budget", "?"))
    missing = missing_tables(summaries)
    link = Path(os.path.relpath(Path(page).resolve(), Path(readme).resolve().parent)).as_posix()
    lines = [f"The paper's claims as measured by one run of `eggesture ablate all` "
             f"({seeds} seeds, budget {budget}; every table, "
             f"interval and plot in [{link}]({link})), decided by whether the 95 % intervals "
             "separate:", ""]
    lines += [f"- {v['claim']} — **{v['verdict']}** ({v['headline']})"
              if v["verdict"] != "not measured" else f"- {v['claim']} — not measured yet"
              for v in verdicts]
    if missing:
        lines += ["", f"Tables not finished in that run: {', '.join(missing)}."]
    return "\n".join(lines)


def write_readme_summary(out: str | Path, page: str | Path, readme: str | Path) -> Path:
    """Replace the README's section between :data:`README_BEGIN` and :data:`README_END` with
    :func:`readme_summary`; a README without the markers is refused in one line."""
    replace_section(readme, README_BEGIN, README_END, readme_summary(out, page, readme))
    return Path(readme)


def check_readme(readme: str | Path) -> None:
    """Refuse, in one line, a README without the summary's section (before anything is written)."""
    split_section(readme, README_BEGIN, README_END)
