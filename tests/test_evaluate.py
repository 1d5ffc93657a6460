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
    # The sample has only a test split: no advice to evaluate val + test.
    assert "evaluated split test" in table and "--split val" not in table
    # An autoencoder trained for other windows is refused with that reason (not "missing"),
    # and is not replaced by one trained here, even when training is allowed.
    other = WindowSettings.from_config(cfg)
    other = WindowSettings(**{**other.__dict__, "length": other.length // 2})
    train_feature_ae(prepare(beat2_sample, other, train_splits=("test",)), tmp_path / "fgd_half",
                     train_splits=("test",), training=FeatureAETraining(epochs=1))
    before = (tmp_path / "fgd_half" / "model.safetensors").read_bytes()
    rc = main(["evaluate", "--checkpoint", str(run.run_dir), "--data", str(beat2_sample),
               "--split", "test", "--fgd-dir", str(tmp_path / "fgd_half"), "--train-eval-nets"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and f"windows of {other.length} frames" in err[-1], err[-1]
    assert "no FGD autoencoder" not in err[-1]
    assert (tmp_path / "fgd_half" / "model.safetensors").read_bytes() == before


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
    # The classifier against its own targets: the groups' targets add up to every scored token,
    # the overall accuracy is their weighted mean, and the motion error is an angle.
    tok = res["classifier_tokens"]
    n = tok["targets_by_frequency"]
    assert sum(n.values()) == tok["tokens"] > 0
    assert tok["accuracy"] == pytest.approx(res["classifier_token_accuracy"])
    assert tok["accuracy"] == pytest.approx(sum(
        (tok["accuracy_by_frequency"][g] or 0) * n[g] for g in n) / tok["tokens"])
    assert 0 <= tok["histogram_distance"] <= 1 and 0 <= tok["motion_error_deg"] <= 180


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
    # The same without --no-train: evaluation trains nothing unless asked, and says how to ask.
    rc = main(["evaluate", "--checkpoint", str(run.run_dir), "--data", str(beat2_sample),
               "--split", "test", "--fgd-dir", str(tmp_path / "none"),
               "--json", str(tmp_path / "e.json")])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and "eggesture fgd-train" in err[-1] and "--train-eval-nets" in err[-1]
    assert not (tmp_path / "e.json").exists() and not (tmp_path / "none").exists()


# --- a bundle trained on one corpus, evaluated on a folder without its training split --------

@pytest.fixture(scope="module")
def other_corpus_run(tmp_path_factory):
    """A 1-epoch tiny bundle trained on a one-sequence BEAT2-layout corpus (its own cache, as
    the per-test cache fixture is not there yet at module scope)."""
    from beat2_folder import write_folder

    tmp = tmp_path_factory.mktemp("other_corpus")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EGGESTURE_CACHE", str(tmp / "cache"))
        root = write_folder(tmp / "corpus", {"1_x_0_1_1": "train"}, seconds=8)
        return _tiny_run(root, tmp / "run", "data.val_splits=[]", "train.epochs=1")[1]


def _test_only_folder(root, mean_speeds: bool):
    """One test sequence and no training split, as BEAT2's test set alone (or its sample)."""
    from beat2_folder import write_folder

    write_folder(root, {"2_y_0_1_1": "test"}, seconds=8)
    if mean_speeds:  # BEAT2 ships them: the EMAGE protocol then needs no training split
        (root / "weights").mkdir()
        np.save(root / "weights" / "mean_vel_smplxflame_30.npy", np.full(55, 0.5))
    return root


def test_a_folder_without_the_training_split_is_evaluated_with_the_bundles_own(
        other_corpus_run, tmp_path, capsys, monkeypatch):
    import eggesture.recipes.evaluate as G  # where evaluation calls generate_motion

    root = _test_only_folder(tmp_path / "test_only", mean_speeds=True)
    seen = []
    real = G.generate_motion

    def spy(bundle, wave, words, **kw):
        seen.extend(w.text for w in words)
        return real(bundle, wave, words, **kw)

    monkeypatch.setattr(G, "generate_motion", spy)
    js = tmp_path / "e.json"
    rc = main(["evaluate", "--checkpoint", str(other_corpus_run.run_dir), "--data", str(root),
               "--protocol", "emage", "--json", str(js)])
    out = capsys.readouterr()
    assert rc == 0, out.err
    res = json.loads(js.read_text())
    # The words reach the model as words (the folder's vocabulary comes from the evaluated
    # split here), not as <unk>: the bundle knows them from its own corpus.
    assert seen and set(seen) <= {"hello", "big", "world", "one", "stop", "i"}
    # Our FGD needs this folder's own autoencoder, which it has no training split to train:
    # left out in one line, everything else scored.
    assert res["fgd"] is None and res["ground_truth"]["fgd"] is None
    assert "no sequences in the training split(s) ['train']" in res["left_out"]["fgd"]
    assert "our FGD not computed" in out.err and "our FGD not computed" in out.out
    assert "| ground truth | – | – |" in out.out  # not "– (definition)"
    assert res["beat_alignment"] is not None and res["ground_truth"]["l1_diversity"] > 0
    e = res["emage_protocol"]
    assert 0 < e["bc_ground_truth"] <= 1 and e["l1div_ground_truth"] > 0
    assert e["mean_speed_source"] == str(root / "weights" / "mean_vel_smplxflame_30.npy")
    assert "EMAGE protocol" in out.out and "| ground truth | – | " in out.out


def test_without_mean_speeds_or_training_split_bc_is_left_out(other_corpus_run, tmp_path, capsys):
    root = _test_only_folder(tmp_path / "test_only", mean_speeds=False)
    js = tmp_path / "e.json"
    rc = main(["evaluate", "--checkpoint", str(other_corpus_run.run_dir), "--data", str(root),
               "--protocol", "emage", "--json", str(js)])
    out = capsys.readouterr()
    assert rc == 0, out.err
    res = json.loads(js.read_text())
    e = res["emage_protocol"]
    assert e["bc_generated"] is None and e["bc_ground_truth"] is None
    assert res["beat_alignment_emage"] is None and res["beat_alignment"] is not None
    assert "mean_vel_smplxflame_30.npy" in res["left_out"]["beat_alignment_emage"]
    assert e["l1div_ground_truth"] > 0


def _bad_fgd_model(path):
    import torch

    torch.save({"model_state": {"module.encoder.weight": torch.zeros(2)}}, path)
    return "not an EMAGE AESKConv_240_100 checkpoint"


def _pickled_smplx_model(path):
    from test_smplx_model import _model_arrays

    arrays = _model_arrays()
    arrays["J_regressor"] = np.array([arrays["J_regressor"]], dtype=object)
    np.savez(path, **arrays)
    return "J_regressor is a pickled object"


@pytest.mark.parametrize("flag, write", [("--fgd-model", _bad_fgd_model),
                                         ("--smplx-model", _pickled_smplx_model)])
def test_a_bad_emage_file_fails_before_anything_is_generated(other_corpus_run, tmp_path, capsys,
                                                             monkeypatch, flag, write):
    import eggesture.data.windows as W
    import eggesture.recipes.evaluate as E

    def never(*a, **k):
        raise AssertionError("prepared or generated before the EMAGE files were checked")

    monkeypatch.setattr(E, "generate_split", never)
    monkeypatch.setattr(W, "prepare", never)
    monkeypatch.setattr(E, "prepare", never)  # as evaluate imports it
    root = _test_only_folder(tmp_path / "test_only", mean_speeds=True)
    bad = tmp_path / ("AESKConv_240_100.bin" if flag == "--fgd-model" else "SMPLX_NEUTRAL_2020.npz")
    problem = write(bad)
    rc = main(["evaluate", "--checkpoint", str(other_corpus_run.run_dir), "--data", str(root),
               "--protocol", "emage", flag, str(bad), "--json", str(tmp_path / "e.json")])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and err[-1].startswith(f"error: {bad}: ") and problem in err[-1]
    assert not (tmp_path / "e.json").exists()


def test_words_the_folders_vocabulary_lacks_are_no_text_not_unk():
    from eggesture.recipes.evaluate import _words_from_ids

    vocab = ["<pad>", "<unk>", "a", "b"]
    words = _words_from_ids(np.array([0, 0, 2, 2, 1, 1, 3]), vocab, fps=1.0)
    assert [(w.start, w.end, w.text) for w in words] == [(2.0, 4.0, "a"), (6.0, 7.0, "b")]
