"""One or a few evaluations (the JSON layout of
:meth:`eggesture.evaluation.results.EvaluationResult.to_dict`, or a stored ``results.json``) as
markdown tables: the results table of ``eggesture evaluate`` and the demo, and the EMAGE-protocol
table."""

from __future__ import annotations

from ..metrics.recall import format_rate
from .markdown import markdown_table


def _f(v, digits: int = 3) -> str:
    return "–" if v is None else f"{v:.{digits}f}"


def results_markdown(results: dict[str, dict], labels: dict[str, str] | None = None,
                     oracle_rows: bool = False, split_label: str | None = None) -> list[str]:
    """The results table (markdown lines) of one or more evaluations in the JSON layout
    (``{key: result dict}``; ``labels`` name the rows): a row per result, its oracle's row if
    ``oracle_rows``, then the ground truth. Recall and precision carry their intervals. The
    codebook column names the evaluated split: ``split_label``, else the results' splits."""
    def recs(sr):
        return [format_rate(sr, k) for k in ("all", "head", "tail", "precision")]

    # The utilisation and perplexity are of the evaluated split (not of training batches, as
    # the training log's are): the header names it.
    split = (split_label or " + ".join(next(iter(results.values())).get("split") or [])
             or "evaluated split")
    header = ["", "FGD ↓", "oracle FGD ↓", "BA ↑", "BA (EMAGE) ↑", "L1Div ↑",
              f"codebook utilisation ({split}) of the ground truth's codes", "perplexity",
              "token accuracy", "recall all", "recall head", "recall tail", "gesture precision"]
    rows = []
    for key, r in results.items():
        name = (labels or {}).get(key, key)
        orc = r.get("oracle") or {}
        rows.append([name, _f(r["fgd"]), _f(orc.get("fgd")), _f(r["beat_alignment"], 4),
                     _f(r["beat_alignment_emage"], 4), _f(r["l1_diversity"]),
                     _f(r["codebook_utilization"]), _f(r["perplexity"], 1),
                     _f(r.get("classifier_token_accuracy")), *recs(r.get("semantic_recall"))])
        if oracle_rows:
            rows.append([f"{name}: oracle (its VQ-VAE decoding the ground truth's codes)",
                         _f(orc.get("fgd")), "–", "–", "–", _f(orc.get("l1_diversity")), "–", "–",
                         "–", *recs(orc.get("semantic_recall"))])
    gt = next(iter(results.values()))["ground_truth"]
    gt_fgd = "–" if gt["fgd"] is None else f"{_f(gt['fgd'])} (definition)"
    rows.append(["ground truth", gt_fgd, "–", _f(gt["beat_alignment"], 4),
                 _f(gt["beat_alignment_emage"], 4), _f(gt["l1_diversity"]), "–", "–", "–",
                 *recs(gt.get("semantic_recall"))])
    lines = markdown_table(header, rows)
    return lines


def emage_markdown(results: dict[str, dict], labels: dict[str, str] | None = None) -> list[str]:
    """The EMAGE-protocol table (markdown lines) of evaluations in the JSON layout (``{key:
    result dict}``, as :func:`results_markdown`): raw values, and in brackets the ×10 that
    EMAGE-style tables print; empty when none has ``emage_protocol``."""
    rows = {k: r["emage_protocol"] for k, r in results.items() if r.get("emage_protocol")}
    if not rows:
        return []

    def x10(v, digits=4):
        return "–" if v is None else f"{v:.{digits}f} ({10 * v:.{digits - 1}f})"

    body = [[(labels or {}).get(k, k), x10(e["fgd_generated"]), x10(e["bc_generated"]),
             _f(e["l1div_generated"], 2)] for k, e in rows.items()]
    e = next(iter(rows.values()))
    # 0 by definition only where the FGD was computed (the ground truth against itself).
    gt_fgd = "–" if e["fgd_generated"] is None else "0 (definition)"
    body.append(["ground truth", gt_fgd, x10(e["bc_ground_truth"]), _f(e["l1div_ground_truth"], 2)])
    if e.get("fgd_ground_truth_filled") is not None:
        body.append(["ground truth, joints the model does not generate zeroed",
                     x10(e["fgd_ground_truth_filled"]), "–", "–"])
    lines = ["EMAGE protocol (PantoMatrix emage_evaltools; in brackets ×10, as EMAGE-style tables "
             "print FGD and BC):", "", *markdown_table(["", "FGD ↓", "BC ↑", "L1div ↑ (m)"], body)]
    lines += ["", f"Joints: {e['positions']}. {e['fill'][0].upper()}{e['fill'][1:]}. BC's mean "
                  f"speeds: {e['mean_speed_source']}.",
              "BC here and BA (EMAGE) in the results table are one measure on two inputs, so "
              "their ground-truth values differ a little: BA (EMAGE) scores the joints the model "
              "generates at the model's frame rate, resampled to 30 fps on our approximate "
              "skeleton, for the generated motion and the ground truth alike; BC scores, as "
              "EMAGE's code does, the dataset's own 30 fps file (all 55 joints) for the ground "
              "truth, with the joint positions above."]
    if e.get("fgd_missing"):
        lines.append(f"FGD not computed: {e['fgd_missing']}.")
    return lines
