"""``eggesture evaluate`` end to end with ``tiny.yaml`` bundles: the real BEAT2 sample and a
small synthetic corpus (with ``sem/`` annotations, so semantic recall is scored too).

The evaluation nets are trained beforehand at a tiny budget into temporary folders and passed
with ``--fgd-dir`` / ``--recognizer-dir --no-train``, so the test takes seconds; the numbers
mean nothing, the keys, units, protocol, the reference row and the plots are checked.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from eggesture.cli import main
from eggesture.data.windows import WindowSettings, prepare
from eggesture.evaluation.feature_ae import FeatureAETraining, train_feature_ae
from eggesture.evaluation.recognizer import RecognizerConfig, RecognizerTraining, train_recognizer
from eggesture.recipes.train import train
from test_training import tiny

KEYS = ("fgd", "beat_alignment", "beat_alignment_emage", "l1_diversity", "codebook_utilization",
        "perplexity", "semantic_recall", "units", "protocol", "n_sequences")


def _tiny_run(root, out, *extra):
    cfg = tiny(root, out, *extra)
    return cfg, train(cfg)


def _evaluate(capsys, run, root, tmp_path, split, *extra):
    js, plots = tmp_path / "eval.json", tmp_path / "plots"
    rc = main(["evaluate", "--checkpoint", str(run.run_dir), "--data", str(root), "--split", split,
               "--json", str(js), "--plots", str(plots), *map(str, extra)])
    out = capsys.readouterr()
    assert rc == 0, out.err
    return json.loads(js.read_text()), out.out, plots


def _is_png(path, min_side=200):
    with Image.open(path) as im:
        return im.format == "PNG" and min(im.size) >= min_side


def test_evaluate_the_real_beat2_sample(beat2_sample, tmp_path, capsys):
    cfg, run = _tiny_run(beat2_sample, tmp_path / "run", "data.train_splits=[test]",
                         "data.val_splits=[]")
    data = prepare(beat2_sample, WindowSettings.from_config(cfg), train_splits=("test",))
    train_feature_ae(data, tmp_path / "fgd", train_splits=("test",),
                     training=FeatureAETraining(epochs=1))
    res, table, plots = _evaluate(capsys, run, beat2_sample, tmp_path, "test",
                                  "--fgd-dir", tmp_path / "fgd", "--no-train")
    assert set(KEYS) <= set(res)
    assert res["n_sequences"] == 1
    assert res["semantic_recall"] is None  # BEAT2's sample has no sem/ file
    assert np.isfinite(res["fgd"]) and res["fgd"] >= 0
    assert res["ground_truth"]["fgd"] == 0.0  # by definition (real against itself)
    assert 0 <= res["beat_alignment"] <= 1 and 0 <= res["ground_truth"]["beat_alignment"] <= 1
    assert res["minutes"] == pytest.approx(953 / 15 / 60, abs=0.01)  # the whole 64 s sequence
    # BEAT2's own mean-velocity file is used, not speeds computed on the training split.
    assert res["protocol"]["emage_mean_speed"] == str(beat2_sample / "weights" /
                                                       "mean_vel_smplxflame_30.npy")
    assert "| ground truth |" in table and f"{res['fgd']:.3f}" in table
    assert _is_png(plots / "codebook_usage.png")


def test_evaluate_a_synthetic_corpus_with_semantic_recall(tmp_path, capsys):
    from eggesture.data.synthetic import synthesize_corpus

    root = tmp_path / "synth"
    synthesize_corpus(root, minutes=3, seed=2)
    cfg, run = _tiny_run(root, tmp_path / "run")
    data = prepare(root, WindowSettings.from_config(cfg), train_splits=("train",))
    train_feature_ae(data, tmp_path / "fgd", training=FeatureAETraining(epochs=1))
    train_recognizer(data, tmp_path / "rec", net=RecognizerConfig(channels=16),
                     training=RecognizerTraining(steps=10))
    res, table, plots = _evaluate(capsys, run, root, tmp_path, "test", "--fgd-dir", tmp_path / "fgd",
                                  "--recognizer-dir", tmp_path / "rec", "--no-train")
    sr = res["semantic_recall"]
    assert set(sr) >= {"all", "head", "tail", "precision", "per_class", "rule"}
    assert "head = the most frequent classes" in sr["rule"]
    events = sum(v["events"] for v in sr["per_class"].values())
    assert events > 0 and sr["all"] == pytest.approx(
        sum(v["recalled"] for v in sr["per_class"].values()) / events)
    assert res["units"]["semantic_recall"].startswith("fraction")
    # No mean-velocity file in a synthetic corpus: the speeds are computed on its training split.
    assert res["protocol"]["emage_mean_speed"] == f"computed on the training split of {root} at 30 fps"
    assert "gesture precision" in table.splitlines()[0]
    assert sr["precision"] is None or 0 <= sr["precision"] <= 1
    assert _is_png(plots / "codebook_usage.png") and _is_png(plots / "recall_per_class.png")


def test_evaluate_without_eval_nets_and_no_train_is_one_error(tmp_path, capsys, beat2_sample):
    _, run = _tiny_run(beat2_sample, tmp_path / "run", "data.train_splits=[test]",
                       "data.val_splits=[]", "train.epochs=1")
    rc = main(["evaluate", "--checkpoint", str(run.run_dir), "--data", str(beat2_sample),
               "--split", "test", "--fgd-dir", str(tmp_path / "none"), "--no-train",
               "--json", str(tmp_path / "e.json")])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and [line for line in err if line.startswith("error: ")] == [err[-1]]
    assert "autoencoder" in err[-1]
    assert not (tmp_path / "e.json").exists()
