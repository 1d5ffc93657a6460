"""Figures of the paper from our numbers: code usage (Fig. 1), utilisation (and FGD) over
training (Fig. 6), utilisation / FGD vs codebook size (Fig. 2, 7), and per-class semantic recall.

Every function takes plain numbers (the outputs of :mod:`eggesture.metrics`), draws with
matplotlib's object API on the Agg canvas (no pyplot state, no display needed) and writes a PNG
atomically (temporary file, then rename). Axis labels carry units; titles say what is shown.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..io import atomic_path
from ..metrics.codebook import sorted_usage, stats_from_counts
from ..metrics.recall import rule_for_shown

_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf")
_HEAD, _TAIL = "#1f77b4", "#ff7f0e"


def _save(fig: Figure, out: str | Path, dpi: int = 120) -> Path:
    out = Path(out)
    FigureCanvasAgg(fig)
    with atomic_path(out, suffix=".png") as tmp:
        fig.savefig(tmp, format="png", dpi=dpi, bbox_inches="tight")
    return out


def plot_codebook_usage(counts: Mapping[str, Sequence[int]], out: str | Path, *,
                        title: str = "Codebook usage (codes sorted by frequency)") -> Path:
    """Paper Fig. 1: each method's code-usage histogram, codes sorted by frequency, side by side.

    ``counts``: method name → per-code counts ``(K,)``. Each panel states utilisation
    (codes used / K) and perplexity; frequencies are in % of all tokens, on a shared y axis.
    """
    if not counts:
        raise ValueError("no methods to plot")
    n = len(counts)
    fig = Figure(figsize=(4.2 * n, 3.6), layout="constrained")
    axes = fig.subplots(1, n, sharey=True, squeeze=False)[0]
    for k, (ax, (name, c)) in enumerate(zip(axes, counts.items(), strict=True)):
        usage = 100 * sorted_usage(np.asarray(c))
        st = stats_from_counts(np.asarray(c))
        ax.bar(np.arange(usage.size), usage, width=1.0, color=_COLORS[k % len(_COLORS)])
        ax.set_title(f"{name}\nutilisation {100 * st.utilization:.0f}% "
                     f"({st.used}/{st.codebook_size}), perplexity {st.perplexity:.0f}", fontsize=10)
        ax.set_xlabel("code rank (most used first)")
        ax.set_xlim(-0.5, usage.size - 0.5)
        ax.axvline(st.used - 0.5, color="0.4", lw=0.8, ls="--")
        ax.axhline(100 / usage.size, color="k", lw=0.8, ls=":", label="uniform (1/K)")
    axes[0].legend(loc="upper right", fontsize=8)
    axes[0].set_ylabel("share of tokens (%)")
    fig.suptitle(title, fontsize=11)
    return _save(fig, out)


#: What the training log's utilisation measures (Fig. 6), unlike an evaluation's utilisation
#: (the VQ-VAE encoding a held-out split's ground truth in non-overlapping windows).
UTILIZATION_OVER_EPOCHS_TITLE = ("Codebook utilisation on the training batches, per epoch "
                                 "(from the training log)")


def plot_utilization_over_epochs(curves: Mapping[str, Sequence[tuple[int, float]]],
                                 out: str | Path, *, title: str = UTILIZATION_OVER_EPOCHS_TITLE,
                                 caption: str | None = None) -> Path:
    """Paper Fig. 6: utilisation (fraction of codes used, shown in %) against the epoch.

    ``curves``: method name → ``[(epoch, utilisation in [0, 1]), ...]`` (e.g. from
    :func:`eggesture.training.log.utilization_per_epoch`: the codes each epoch's training
    batches used). ``caption`` goes under the plot.
    """
    if not curves:
        raise ValueError("no curves to plot")
    fig = Figure(figsize=(6, 3.6), layout="constrained")
    ax = fig.subplots()
    for k, (name, pts) in enumerate(curves.items()):
        e = [p[0] for p in pts]
        u = [100 * p[1] for p in pts]
        ax.plot(e, u, marker="o", ms=3, color=_COLORS[k % len(_COLORS)], label=name)
    ax.set_xlabel("epoch")
    ax.set_ylabel("codes used in training (% of K)")
    ax.set_ylim(0, 105)
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title(title, fontsize=11)
    if caption:
        fig.supxlabel(textwrap.fill(caption, 100), fontsize=7, x=0.01, ha="left")
    return _save(fig, out)


def plot_training_curves(utilization: Mapping[str, Sequence[tuple[int, float, float, float]]],
                         out: str | Path,
                         fgd: Mapping[str, Sequence[tuple[int, float, float, float]]] | None = None,
                         *, title: str = "Utilisation and FGD over training (mean over seeds, "
                                         "95 % band)",
                         caption: str | None = None) -> Path:
    """Paper Fig. 6 over seeds: utilisation (%) — and FGD when given — against the epoch, each
    method's mean with its 95 % interval as a band.

    ``utilization`` / ``fgd``: method name → ``[(epoch, mean, low, high), ...]`` (low and high
    NaN where there is no interval: one seed). Utilisation in [0, 1], from the training log;
    FGD of the snapshots on the held-out split.
    """
    if not utilization:
        raise ValueError("no curves to plot")
    panels = 2 if fgd else 1
    fig = Figure(figsize=(5.5 * panels, 3.6), layout="constrained")
    axes = fig.subplots(1, panels, squeeze=False)[0]
    for ax, curves, scale, marker in ((axes[0], utilization, 100.0, "o"),
                                      *(((axes[1], fgd, 1.0, "s"),) if fgd else ())):
        for k, (name, pts) in enumerate(curves.items()):
            if not pts:
                continue
            e, m, lo, hi = (np.asarray(c, float) for c in zip(*pts, strict=True))
            if curves is utilization:  # a t band can pass the bounds of a fraction
                lo, hi = np.clip(lo, 0, 1), np.clip(hi, 0, 1)
            else:  # ... and below 0, which a distance cannot
                lo = np.clip(lo, 0, None)
            color = _COLORS[k % len(_COLORS)]
            ax.plot(e, scale * m, marker=marker, ms=3, color=color, label=name)
            ax.fill_between(e, scale * lo, scale * hi, color=color, alpha=0.2, linewidth=0)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend()
    axes[0].set_ylabel("codes used in training (% of K)")
    axes[0].set_ylim(0, 105)
    if fgd:
        axes[1].set_ylabel("held-out FGD ↓")
    fig.suptitle(title, fontsize=11)
    if caption:
        fig.supxlabel(textwrap.fill(caption, 110), fontsize=7, x=0.01, ha="left")
    return _save(fig, out)


def plot_vs_codebook_size(sizes: Sequence[int], utilization: Mapping[str, Sequence[float]],
                          out: str | Path, fgd: Mapping[str, Sequence[float]] | None = None, *,
                          title: str = "Utilisation and FGD vs codebook size") -> Path:
    """Paper Fig. 2 / 7: utilisation (%) — and FGD when given — against the codebook size K.

    ``utilization`` / ``fgd``: method name → one value per entry of ``sizes`` (NaN: not run).
    """
    sizes = list(sizes)
    panels = 2 if fgd else 1
    fig = Figure(figsize=(5 * panels, 3.6), layout="constrained")
    axes = fig.subplots(1, panels, squeeze=False)[0]
    for k, (name, u) in enumerate(utilization.items()):
        if len(u) != len(sizes):
            raise ValueError(f"{name}: {len(u)} utilisation values for {len(sizes)} sizes")
        axes[0].plot(sizes, 100 * np.asarray(u, float), marker="o",
                     color=_COLORS[k % len(_COLORS)], label=name)
    axes[0].set_ylabel("codebook utilisation (%)")
    axes[0].set_ylim(0, 105)
    if fgd:
        for k, (name, f) in enumerate(fgd.items()):
            if len(f) != len(sizes):
                raise ValueError(f"{name}: {len(f)} FGD values for {len(sizes)} sizes")
            axes[1].plot(sizes, np.asarray(f, float), marker="s",
                         color=_COLORS[k % len(_COLORS)], label=name)
        axes[1].set_ylabel("FGD (feature units², lower is better)")
    for ax in axes:
        ax.set_xscale("log", base=2)
        ax.set_xticks(sizes, [str(s) for s in sizes])
        ax.set_xlabel("codebook size K")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title, fontsize=11)
    return _save(fig, out)


def plot_recall_per_class(per_class: Mapping[str, Mapping[str, Mapping]], out: str | Path, *,
                          title: str = "Semantic-gesture recall per class (head → tail)",
                          rule: str | None = None) -> Path:
    """Per-class recall, classes ordered head → tail by training frequency, one bar per method.

    ``per_class``: method name → :attr:`SemanticRecall.per_class` (``{class: {"recall",
    "events", "train_count", "group"}}``). Classes are ordered by training count (then name);
    the head/tail boundary is a dashed line; ``rule`` (the split rule) goes under the plot.
    """
    if not per_class:
        raise ValueError("no methods to plot")
    info: dict[str, Mapping] = {}
    for pc in per_class.values():
        for c, v in pc.items():
            info.setdefault(c, v)
    classes = sorted(info, key=lambda c: (-int(info[c]["train_count"]), c))
    n_head = sum(1 for c in classes if info[c]["group"] == "head")
    n_tail = len(classes) - n_head
    m = len(per_class)
    width = 0.8 / m
    fig = Figure(figsize=(min(16.0, max(6.0, 0.3 * len(classes) * m + 2.5)), 4.6),
                 layout="constrained")
    ax = fig.subplots()
    x = np.arange(len(classes))
    for k, (name, pc) in enumerate(per_class.items()):
        r = [100 * pc[c]["recall"] if c in pc else np.nan for c in classes]
        bars = ax.bar(x + (k - (m - 1) / 2) * width, r, width=width,
                      color=_COLORS[k % len(_COLORS)], label=name)
        if len(classes) * m <= 40:  # value labels, so a 0 % bar is not mistaken for a gap
            ax.bar_label(bars, ["" if np.isnan(v) else f"{v:.0f}" for v in r], fontsize=6,
                         padding=1)
    if 0 < n_head < len(classes):
        ax.axvline(n_head - 0.5, color="0.3", ls="--", lw=1)
        ax.text(n_head - 0.6, 103, "head", ha="right", va="bottom", fontsize=9, color=_HEAD)
        ax.text(n_head - 0.4, 103, "tail", ha="left", va="bottom", fontsize=9, color=_TAIL)
    ax.set_xticks(x, [f"{c}\n({info[c]['train_count']})" for c in classes], rotation=45,
                  ha="right", fontsize=8)
    for lbl, c in zip(ax.get_xticklabels(), classes, strict=True):
        lbl.set_color(_HEAD if info[c]["group"] == "head" else _TAIL)
    ax.set_ylabel("recall (% of ground-truth events)")
    ax.set_xlabel("gesture class (training events)")
    ax.set_ylim(0, 112)
    ax.grid(axis="y", alpha=0.3)
    fig.legend(loc="outside right upper", fontsize=8)
    ax.set_title(title, fontsize=11)
    if rule:
        width = int(fig.get_figwidth() * 16)  # characters of 7-pt text per line
        fig.supxlabel(textwrap.fill(rule_for_shown(rule, n_head, n_tail), width), fontsize=7,
                      x=0.01, ha="left")
    return _save(fig, out)
