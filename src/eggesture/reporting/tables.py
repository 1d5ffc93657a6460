"""The multi-seed tables of ``eggesture ablate``: metrics per evaluation, mean and 95 % interval
per row, the markdown table beside the paper's numbers, the codebook-size plot."""

from __future__ import annotations

import math
import os
from pathlib import Path

from ..export.plots import plot_vs_codebook_size
from ..metrics.intervals import t_interval
from ..metrics.recall import recall_intervals
from .markdown import markdown_table

METRICS = ("fgd", "beat_alignment", "l1_diversity", "codebook_utilization", "oracle_fgd",
           "token_accuracy", "token_accuracy_many", "token_accuracy_medium", "token_accuracy_few",
           "token_histogram_distance", "token_motion_error", "recall", "tail_recall", "precision",
           "emage_fgd", "emage_bc", "emage_l1div")
HEADERS = {"fgd": "FGD ↓", "beat_alignment": "BA ↑", "l1_diversity": "L1Div ↑",
           "codebook_utilization": "utilisation", "oracle_fgd": "oracle FGD ↓",
           "token_accuracy": "classifier token acc. ↑",
           "token_accuracy_many": "token acc. many ↑", "token_accuracy_medium": "token acc. medium ↑",
           "token_accuracy_few": "token acc. few ↑",
           "token_histogram_distance": "token histogram TV ↓",
           "token_motion_error": "token motion error ° ↓",
           "recall": "recall", "tail_recall": "tail recall", "precision": "gesture precision",
           "emage_fgd": "EMAGE FGD ↓", "emage_bc": "EMAGE BC ↑", "emage_l1div": "EMAGE L1div ↑ (m)"}
#: Columns shown only where measured: absent from tables stored before them, and EMAGE's FGD
#: without its checkpoint.
OPTIONAL_METRICS = frozenset({"token_accuracy", "token_accuracy_many", "token_accuracy_medium",
                              "token_accuracy_few", "token_histogram_distance", "token_motion_error",
                              "emage_fgd", "emage_bc", "emage_l1div"})
#: Rates over events: their interval is a bootstrap over the events (and seeds).
EVENT_RATES = {"recall": "all", "tail_recall": "tail", "precision": "precision"}


def row_metrics(res: dict) -> dict:
    """One evaluation (``eval.json``) as the flat metrics of a table cell, by :data:`METRICS`."""
    sr = res.get("semantic_recall") or {}
    em = res.get("emage_protocol") or {}
    tok = res.get("classifier_tokens") or {}
    by_freq = tok.get("accuracy_by_frequency") or {}
    return {"fgd": res.get("fgd"), "beat_alignment": res.get("beat_alignment"),
            "l1_diversity": res.get("l1_diversity"),
            "codebook_utilization": res.get("codebook_utilization"),
            "oracle_fgd": (res.get("oracle") or {}).get("fgd"),
            # The decomposition: the oracle is the VQ-VAE alone, this the classifier against
            # the ground truth's own codes.
            "token_accuracy": res.get("classifier_token_accuracy"),
            # Where a spreading classifier shows (eggesture.metrics.tokens).
            "token_accuracy_many": by_freq.get("many"), "token_accuracy_medium": by_freq.get("medium"),
            "token_accuracy_few": by_freq.get("few"),
            "token_histogram_distance": tok.get("histogram_distance"),
            "token_motion_error": tok.get("motion_error_deg"),
            "recall": sr.get("all"), "tail_recall": sr.get("tail"), "precision": sr.get("precision"),
            # The EMAGE protocol (evaluation.emage_protocol), raw values; its FGD only with the
            # AESKConv checkpoint (``fgd_model``).
            "emage_fgd": em.get("fgd_generated"), "emage_bc": em.get("bc_generated"),
            "emage_l1div": em.get("l1div_generated")}


def cell_stats(metric: str, per_seed: list[dict], results: list[dict]) -> dict:
    """Mean, sample std and 95 % interval of one metric over a row's seeds."""
    values = [m[metric] for m in per_seed]
    mean, std = mean_std(values)
    outcomes = [(r.get("semantic_recall") or {}).get("outcomes") for r in results]
    if metric in EVENT_RATES and outcomes and all(outcomes):
        iv = recall_intervals(outcomes)[EVENT_RATES[metric]]
    else:
        iv = t_interval(values).to_dict()
    return {"mean": mean, "std": std, "low": iv["low"], "high": iv["high"],
            "interval": iv["method"]}


def mean_std(values: list[float | None]) -> tuple[float | None, float | None]:
    """Mean and sample standard deviation of the finite values (None where there are none)."""
    v = [x for x in values if x is not None and math.isfinite(x)]
    if not v:
        return None, None
    m = sum(v) / len(v)
    # One value has no spread: std None (shown as the mean alone), not a made-up 0.
    return m, (math.sqrt(sum((x - m) ** 2 for x in v) / (len(v) - 1)) if len(v) > 1 else None)


def summarise(title: str, rows: list, results: dict[str, list[dict]], runs: dict[str, str],
              **info) -> dict:
    """A table's summary: ``info`` (table, data, config, seeds, budget, overrides, split) and,
    per row (:class:`eggesture.paper.Row`), each metric's mean and interval over its seeds'
    evaluations ``results[row.name]``, its run folder ``runs[row.name]``, the mean training
    seconds and the effective epochs."""
    summary = {"table": info.pop("table"), "title": title, **info, "rows": []}
    for row in rows:
        per_seed = [row_metrics(r) for r in results[row.name]]
        entry = {"name": row.name, "overrides": list(row.overrides), "paper": row.paper,
                 "runs": runs[row.name]}
        for k in METRICS:
            entry[k] = cell_stats(k, per_seed, results[row.name])
        walls = [r.get("train_seconds") for r in results[row.name] if r.get("train_seconds")]
        entry["train_seconds"] = round(sum(walls) / len(walls), 1) if walls else None
        entry["effective_epochs"] = results[row.name][0].get("effective_epochs")
        summary["rows"].append(entry)
    return summary


def relative_paths(command: str) -> str:
    """``command`` with absolute paths under the working directory written relative to it, so
    the page shows a command a reader can run from their own checkout."""
    here = os.getcwd().rstrip("/") + "/"
    return " ".join("." if w == here[:-1] else w[len(here):] if w.startswith(here) else w
                    for w in command.split(" "))


def table_markdown(summary: dict) -> str:
    """The table: measured mean and 95 % interval next to the paper's numbers."""
    def cell(v: dict, digits: int) -> str:
        if v["mean"] is None:
            return "–"
        m = f"{v['mean']:.{digits}f}"
        if v.get("low") is None:
            return m
        if str(v.get("interval", "")).startswith("t"):
            return f"{m} ± {(v['high'] - v['low']) / 2:.{digits}f}"
        return f"{m} [{v['low']:.{digits}f}, {v['high']:.{digits}f}]"

    digits = {"fgd": 3, "beat_alignment": 4, "l1_diversity": 3, "codebook_utilization": 3,
              "oracle_fgd": 3, "token_accuracy": 3, "token_accuracy_many": 3,
              "token_accuracy_medium": 3, "token_accuracy_few": 3, "token_histogram_distance": 3,
              "token_motion_error": 2, "recall": 3, "tail_recall": 3, "precision": 3,
              "emage_fgd": 4, "emage_bc": 4, "emage_l1div": 2}
    shown = [k for k in METRICS if k not in OPTIONAL_METRICS
             or any((r.get(k) or {}).get("mean") is not None for r in summary["rows"])]
    cols = ["row"]
    for k in shown:
        cols.append(HEADERS[k])
        if k in ("fgd", "beat_alignment", "l1_diversity"):
            cols.append(f"paper {HEADERS[k].split()[0]}")
    cols += ["train s", "full-rate epochs VQ-VAE / classifier"]
    n = summary["seeds"]
    split = summary.get("split")
    lines = [f"## {summary['title']}", "",
             f"Measured on `{relative_paths(summary['data'])}`"
             + (f" (split {' + '.join(split)})" if split else "")
             + f" with config `{summary['config']}` × budget {summary['budget']:g}, "
             + (f"mean over {n} seeds ± the half-width of its 95 % t interval"
                if n > 1 else "one seed (no spread over seeds can be given)")
             + "; recall and precision: the rate and its 95 % bootstrap interval over the "
             "held-out events" + (" and seeds" if n > 1 else "") + ". Columns marked "
             "*paper* are the paper's numbers on BEAT2 speaker 2 (a different dataset, FGD "
             "autoencoder and scale) — compare directions, not values.", ""]
    body = []
    for r in summary["rows"]:
        cells = [r["name"]]
        for k in shown:
            cells.append(cell(r[k], digits[k]))
            if k in ("fgd", "beat_alignment", "l1_diversity"):
                p = r["paper"].get(k)
                cells.append("–" if p is None else f"{p:g}")
        cells.append("–" if r.get("train_seconds") is None else f"{r['train_seconds']:.0f}")
        ee = r.get("effective_epochs")
        cells.append("–" if not ee else f"{ee['vqvae']:g} / {ee['classifier']:g} of {ee['epochs']}")
        body.append(cells)
    lines += markdown_table(cols, body)
    if any("codebook_utilization" in r["paper"] for r in summary["rows"]):
        lines += ["", "Paper: vanilla utilisation 28% at K=512 (Fig. 1)."]
    return "\n".join(lines) + "\n"


def plot_codebook_size(summary: dict, out: Path) -> Path:
    """Fig. 2 / 7: utilisation and FGD against K for both methods."""
    by: dict[str, dict[int, dict]] = {}
    for r in summary["rows"]:
        method, k = r["name"].split(" K=")
        by.setdefault(method, {})[int(k)] = r
    sizes = sorted({k for d in by.values() for k in d})
    nan = float("nan")

    def series(metric):
        return {m: [d[k][metric]["mean"] if k in d and d[k][metric]["mean"] is not None else nan
                    for k in sizes] for m, d in by.items()}

    return plot_vs_codebook_size(sizes, series("codebook_utilization"), out, fgd=series("fgd"))
