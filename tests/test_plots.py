"""Plots: each writes a readable, non-blank PNG atomically; bad input leaves no file."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.image import imread

from eggesture.export.plots import (
    plot_codebook_usage,
    plot_recall_per_class,
    plot_utilization_over_epochs,
    plot_vs_codebook_size,
)
from eggesture.metrics import semantic_recall


def _png_ok(path) -> np.ndarray:
    img = imread(path)
    assert img.ndim == 3 and img.shape[0] > 200 and img.shape[1] > 300
    assert img[..., :3].std() > 0.05  # something is drawn
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp.png")]
    return img


def test_codebook_usage_side_by_side(tmp_path):
    rng = np.random.default_rng(0)
    vanilla = np.zeros(512, int)
    vanilla[:140] = rng.zipf(1.6, 140).clip(max=500)
    eg = rng.poisson(20, 512)
    a = _png_ok(plot_codebook_usage({"VQ-VAE": vanilla}, tmp_path / "one.png"))
    b = _png_ok(plot_codebook_usage({"VQ-VAE": vanilla, "EGGesture": eg}, tmp_path / "fig1.png"))
    assert b.shape[1] > 1.5 * a.shape[1]  # two panels side by side


def test_utilization_over_epochs(tmp_path):
    curves = {"VQ-VAE": [(e, 0.3 + 0.01 * e) for e in range(10)],
              "EGGesture": [(e, min(1.0, 0.4 + 0.08 * e)) for e in range(10)]}
    _png_ok(plot_utilization_over_epochs(curves, tmp_path / "fig6.png"))


def test_training_curve_bands_stay_within_what_the_quantities_can_be(tmp_path, monkeypatch):
    # Three seeds' t bands pass 100 % and below 0 FGD; the plot draws them clipped.
    from matplotlib.axes import Axes

    from eggesture.export.plots import plot_training_curves

    bands = []
    real = Axes.fill_between
    monkeypatch.setattr(Axes, "fill_between", lambda self, x, lo, hi, **kw: (
        bands.append((np.asarray(lo), np.asarray(hi))), real(self, x, lo, hi, **kw))[1])
    util = {"EGGesture": [(1, 0.9, 0.7, 1.2), (2, 1.0, 1.0, 1.0)]}
    fgd = {"EGGesture": [(1, 190.0, -140.0, 520.0), (2, 40.0, 10.0, 70.0)]}
    _png_ok(plot_training_curves(util, tmp_path / "fig6.png", fgd))
    (u_lo, u_hi), (f_lo, f_hi) = bands
    assert u_hi.tolist() == [100.0, 100.0] and u_lo.tolist() == [70.0, 100.0]
    assert f_lo.tolist() == [0.0, 10.0] and f_hi.tolist() == [520.0, 70.0]


def test_vs_codebook_size(tmp_path):
    sizes = [128, 256, 512, 1024]
    util = {"VQ-VAE": [0.6, 0.45, 0.28, 0.15], "EGGesture": [1.0, 0.98, 0.95, 0.9]}
    fgd = {"VQ-VAE": [20.0, 18.0, 19.0, 21.0], "EGGesture": [15.0, 13.0, 12.0, 12.5]}
    _png_ok(plot_vs_codebook_size(sizes, util, tmp_path / "fig7.png", fgd=fgd))
    _png_ok(plot_vs_codebook_size(sizes, util, tmp_path / "fig2.png"))
    with pytest.raises(ValueError, match="4 sizes"):
        plot_vs_codebook_size(sizes, {"x": [0.1]}, tmp_path / "bad.png")
    assert not (tmp_path / "bad.png").exists()


def test_recall_per_class_head_to_tail(tmp_path):
    fps = 10.0
    classes = ["wave", "point", "shrug", "nod"]
    events = [[("wave", 1, 2), ("point", 3, 4), ("shrug", 5, 6), ("nod", 7, 8), ("wave", 9, 9.5)]]
    good = np.zeros(100, int)
    for c, (a, b) in zip((1, 2, 3, 4), ((1, 2), (3, 4), (5, 6), (7, 8)), strict=True):
        good[int(a * fps):int(b * fps)] = c
    weak = good.copy()
    weak[weak >= 3] = 0
    counts = {"wave": 40, "point": 12, "shrug": 5, "nod": 2}
    r_good = semantic_recall([good], events, classes, fps, counts)
    r_weak = semantic_recall([weak], events, classes, fps, counts)
    out = plot_recall_per_class({"EGGesture": r_good.per_class, "VQ-VAE": r_weak.per_class},
                                tmp_path / "recall.png", rule=r_good.rule)
    _png_ok(out)
