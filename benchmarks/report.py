"""Render the benchmark JSON results as Markdown tables into ``docs/benchmarks.md``.

The tables go between the markers ``<!-- results:begin -->`` and ``<!-- results:end -->``; the
prose around them is left alone. Each table states the machine, the command, the date and the
library versions of the run it comes from.

Run: ``python -m benchmarks.report`` (after the benchmarks; ``python -m benchmarks`` calls it).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from eggesture.reporting.markdown import markdown_table

from .common import RESULTS, ROOT

BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"
DOC = ROOT / "docs" / "benchmarks.md"


def _ms(s: float | None) -> str:
    return "–" if s is None else (f"{s * 1000:.0f}" if s < 100 else f"{s * 1000:.3g}")


def _x(r: float | None) -> str:
    return "–" if r is None else f"{r:.2f}×"


def _meta(meta: dict) -> list[str]:
    m, v = meta["machine"], meta["versions"]
    gpu = m.get("gpu")
    hw = (f"{m['cpu']}, {m['cores']} cores, {m['torch_threads']} torch threads, "
          f"{m.get('memory_gb')} GB" + (f"; GPU {gpu['name']} ({gpu['memory_gb']} GB)" if gpu else
                                        "; no GPU"))
    libs = ", ".join(f"{k} {val}" for k, val in v.items() if val and k != "git_commit")
    load = f"{meta.get('loadavg_start')} → {meta.get('loadavg_end')}"
    return [f"*Run {meta['date']} — `{meta['command']}` — commit {v.get('git_commit')} — "
            f"{meta.get('wall_seconds')} s.*  ",
            f"*Machine: {hw}; load average (1/5/15 min) {load}; fp32 matmul "
            f"{meta.get('matmul_gflops_start')} GFLOP/s at start.*  ",
            f"*Versions: {libs}.*", ""]


def _targets(targets: dict) -> list[str]:
    if not targets:
        return []
    rows = [[k, v["value"], "met" if v["met"] else "**MISSED**"] for k, v in targets.items()]
    return markdown_table(["target", "measured", ""], rows) + [""]


def quantizer(d: dict) -> list[str]:
    res = d["results"]
    sh = res["shape"]
    title = (f"Quantizer, forward + backward, {sh['batch']} × {sh['tokens']} tokens, "
             f"dim {sh['dim']}"
             f" — {res['device']}" + (" bf16" if res.get("bf16") else "")
             + (" torch.compile" if res.get("compile") else ""))
    out = [f"### {title}", ""] + _meta(d["meta"])
    methods = list(res["sizes"][0]["time"])
    rows = []
    for row in res["sizes"]:
        t = row["time"]
        rows.append([row["K"], row["reps"],
                     *[_ms(t[m]["median_s"]) if m in t else "–" for m in methods],
                     _x(row["ratios"].get("entropy/vanilla")),
                     _x(row["ratios"].get("entropy/vqp_entropy")),
                     _x(row["ratios"].get("vqp_entropy/vqp"))])
    out += markdown_table(["K", "reps", *[f"{m} ms" for m in methods], "entropy / vanilla",
                   "entropy / vqp_entropy", "vqp_entropy / vqp"], rows) + [""]
    mem = res.get("memory")
    if mem:
        keys = sorted({(r["K"], r["batch"]) for r in mem})
        ms = [m for m in methods if any(r["method"] == m for r in mem)]
        rows = []
        for k, b in keys:
            cells = {r["method"]: r["peak_mb"] for r in mem if r["K"] == k and r["batch"] == b}
            rows.append([k, f"{b} × {sh['tokens']}", *[cells.get(m, "–") for m in ms]])
        out += [f"Peak memory growth of one step, MB (a fresh process per cell; "
                f"{mem[0]['how']}, over the level before the step):", ""]
        out += markdown_table(["K", "tokens", *ms], rows) + [""]
    elif any("memory" in r for r in res["sizes"]):
        rows = [[r["K"], *[r["memory"].get(m, {}).get("peak_mb", "–") for m in methods]]
                for r in res["sizes"]]
        out += ["Peak memory over the step (MB, torch.cuda.max_memory_allocated):", ""]
        out += markdown_table(["K", *methods], rows) + [""]
    return out + _targets(res.get("targets", {}))


STAGE_ORDER = ("vq_encoder", "quantizer", "vq_decoder", "classifier", "cls_audio_encoder",
               "cls_text_encoder", "cls_decoder", "losses_other", "forward", "backward",
               "optimizer")


def training(d: dict) -> list[str]:
    res = d["results"]
    title = (f"Training step throughput — {res['device']}" + (" bf16" if res.get("bf16") else "")
             + (" torch.compile" if res.get("compile") else ""))
    out = [f"### {title}", ""] + _meta(d["meta"])
    rows = []
    for c in res["configs"]:
        for m, r in c["methods"].items():
            rows.append([c["config"], m, c["batch"], c["window_frames"], c["params_M"][m],
                         f"{r['step']['median_s']:.3g}", r["windows_per_s"], c["steps"]])
    out += markdown_table(["config", "method", "batch", "frames/window", "params (M)", "s/step",
                   "windows/s", "timed steps"], rows) + [""]
    for c in res["configs"]:
        r = c["methods"].get("eggesture") or next(iter(c["methods"].values()))
        st = r.get("stages_s_per_step")
        if st:
            step = r["step"]["median_s"]
            data = c.get("data")
            rows = []
            if data:
                rows.append(["data (load + collate a batch)", f"{data['median_s']:.3g}",
                             f"{100 * data['median_s'] / (step + data['median_s']):.0f} %"])
            for k in STAGE_ORDER:
                if k in st:
                    nested = k.startswith("cls_")
                    rows.append([("  ↳ " if nested else "") + k, f"{st[k]:.3g}",
                                 f"{100 * st[k] / step:.0f} %"])
            out += [f"Where a `{c['config']}` eggesture step goes (s per step; share of the "
                    f"{step:.3g} s step; forward = encoder + quantizer + decoder + classifier + "
                    "losses):", ""]
            out += markdown_table(["stage", "s", "share"], rows) + [""]
        prof = c.get("profile")
        if prof:
            rows = [[f"`{o['op']}`", o["self_ms"], f"{100 * o['share']:.0f} %", o["calls"]]
                    for o in prof["top_ops"][:8]]
            out += [f"Top operators by self time, torch.profiler, one `{prof['method']}` step at "
                    f"batch {prof['batch']}:", ""]
            out += markdown_table(["op", "self ms", "share", "calls"], rows) + [""]
        if "eggesture_step_over_vanilla_vq_plus_cls" in c:
            out += [f"EGGesture's joint step costs "
                    f"{c['eggesture_step_over_vanilla_vq_plus_cls']:.2f}× the vanilla baseline's "
                    "VQ-VAE step plus its classifier step.", ""]
        ep = c.get("paper_scale_epoch")
        if ep:
            line = (f"Paper-scale epoch ({ep['corpus_hours']} h of speech in "
                    f"{ep['sequence_seconds']:.0f} s sequences = {ep['windows']} windows, "
                    f"{ep['steps']} steps): projected {ep['projected_epoch_s']:.0f} s per epoch "
                    f"({ep['projected_compute_s']:.0f} s compute + {ep['projected_data_s']:.0f} s "
                    f"data), {ep['projected_120_epochs_h']} h for the paper's 120 epochs")
            if ep.get("measured"):
                line += f"; measured on the device: {ep['measured']['compute_s']} s compute"
            out += [line + ".", ""]
    return out


def inference(d: dict) -> list[str]:
    res = d["results"]
    out = [f"### Inference (`generate`), {res['threads']} torch thread(s)", ""] + _meta(d["meta"])
    rows = []
    for c, m in res["models"].items():
        for r in m["runs"]:
            rows.append([c, f"{r['seconds']:.0f}", r["reps"], f"{r['median_s']:.3g}",
                         f"**{r['rtf']}×**", r["windows"], r["ms_per_window"],
                         f"{m['load_s']:.2f}"])
    out += markdown_table(["model", "audio s", "reps", "wall s", "real-time factor", "windows",
                   "ms/window", "model load s"], rows) + [""]
    stage_names = []
    for m in res["models"].values():
        for r in m["runs"]:
            stage_names += [k for k in r["stages_share"] if k not in stage_names]
    rows = []
    for c, m in res["models"].items():
        for r in m["runs"]:
            rows.append([c, f"{r['seconds']:.0f}",
                         *[f"{100 * r['stages_share'].get(k, 0):.0f} %" for k in stage_names],
                         f"{r['export_poses_30fps_s']:.3g}"])
    out += ["Share of each stage (a separate hooked run):", ""]
    out += markdown_table(["model", "audio s", *stage_names, "export to 30 fps poses, s"], rows) + [""]
    cli = res.get("cli", {})
    if cli.get("runs"):
        rows = [[f"{r['seconds']:.0f}", r["wall_s"], r["generate_s"], r["rtf_generate"],
                 f"**{r['peak_rss_mb']:.0f}**", r["output_mb"]] for r in cli["runs"]]
        out += [f"`eggesture generate` in a fresh process (`{cli['config']}` model, "
                f"{res['threads']} threads): wall time includes start-up, model load, reading the "
                "WAV and writing the npz; peak RSS of the whole process:", ""]
        out += markdown_table(["audio s", "wall s", "generate s", "real-time factor (generate)",
                       "peak RSS MB", "npz MB"], rows) + [""]
    return out + _targets(res.get("targets", {}))


def demo(d: dict) -> list[str]:
    res = d["results"]
    out = ["### Demo wall time per stage", ""]
    if res["status"] != "measured":
        return out + [f"Pending: no finished `eggesture demo` run was found "
                      f"(looked in {', '.join(f'`{p}`' for p in res['looked_in'])}).", ""]
    out += _meta(d["meta"])
    for path, r in res["runs"].items():
        if "stage_seconds" not in r:
            out += [f"`{path}`: {r.get('error')}", ""]
            continue
        rows = [[k, v, f"{100 * r['stage_share'][k]:.0f} %"] for k, v in r["stage_seconds"].items()]
        rows.append(["**total**", r["total_seconds"], "100 %"])
        dm = r.get("demo_machine") or {}
        out += [f"`{r['results_json']}` — {r['minutes_of_corpus']} min corpus, "
                f"{r['epochs']} epochs per method; the demo's machine: "
                f"{dm.get('processor', '?')}, torch {dm.get('torch', '?')}:", ""]
        out += markdown_table(["stage", "seconds", "share"], rows) + [""]
    return out


RENDER = {"quantizer": quantizer, "training": training, "inference": inference, "demo": demo}


def render(results: Path) -> str:
    """The Markdown of every result file in ``results`` (known kinds, in a fixed order)."""
    lines: list[str] = []
    files = sorted(results.glob("*.json"))
    for kind in ("quantizer", "training", "inference", "demo"):
        for f in files:
            if f.stem == kind or f.stem.startswith(kind + "_"):
                lines += RENDER[kind](json.loads(f.read_text()))
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.report", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--results", default=str(RESULTS))
    p.add_argument("--doc", default=str(DOC), help="Markdown file with the two markers")
    p.add_argument("--print", action="store_true", help="print the tables instead")
    args = p.parse_args(argv)
    md = render(Path(args.results))
    if args.print:
        print(md)
        return 0
    doc = Path(args.doc)
    text = doc.read_text(encoding="utf-8")
    if BEGIN not in text or END not in text:
        print(f"error: {doc}: markers {BEGIN} / {END} not found", file=sys.stderr)
        return 2
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    from eggesture.io import write_text

    write_text(doc, f"{head}{BEGIN}\n\n{md}\n{END}{tail}")
    print(f"report: tables written to {doc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
