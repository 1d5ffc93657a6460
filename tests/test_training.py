"""End-to-end training with tiny.yaml: the real sample, exact resume, bundles, methods, DDP."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import lightning as L
import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from beat2_folder import write_folder
from eggesture.bundle import load_bundle
from eggesture.config import METHODS, load_config
from eggesture.errors import CheckpointError, ConfigError
from eggesture.recipes.train import prepare_data, train


def tiny(root, out, *extra):
    return load_config("tiny", [f"data.root={root}", f"train.out={out}", "train.progress=false",
                                *extra])


@pytest.fixture(scope="module")
def small_corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus") / "b"
    return write_folder(root, {"1_x_0_1_1": "train", "1_x_0_2_2": "train", "1_x_0_3_3": "val",
                               "1_x_0_4_4": "test"}, seconds=8)


def read_metrics(run_dir):
    with open(run_dir / "logs" / "metrics.csv") as f:
        return [r for r in csv.DictReader(f) if r.get("codebook/utilization")]


def test_tiny_trains_on_the_real_sample(beat2_sample, tmp_path):
    cfg = tiny(beat2_sample, tmp_path / "run", "data.train_splits=[test]", "data.val_splits=[]")
    result = train(cfg)
    rows = read_metrics(result.run_dir)
    assert len(rows) == cfg.train.epochs
    for key in ("train/rec", "train/commit", "train/entropy", "train/cls", "cls/accuracy",
                "cls/top5", "cls/tail_accuracy", "codebook/utilization", "codebook/perplexity"):
        assert np.isfinite(float(rows[-1][key])), key
    assert 0 < float(rows[-1]["codebook/utilization"]) <= 1
    assert (result.run_dir / "checkpoints" / "last.ckpt").is_file()
    assert sorted(p.name for p in result.bundle.iterdir()) == ["config.json", "model.safetensors"]


@pytest.mark.parametrize("loss", ["paper", "logit_adjusted"])
def test_two_trainings_with_one_seed_give_the_same_weights_bit_for_bit(small_corpus, tmp_path, loss):
    # The demo's promise (issue 28): the same seed, the same numbers — on one machine and thread
    # count (other CPUs run other kernels: README, "What the demo shows").
    runs = [train(tiny(small_corpus, tmp_path / f"run{i}", "train.epochs=3", f"train.cls_loss={loss}"))
            for i in range(2)]
    a, b = (load_file(str(r.bundle / "model.safetensors")) for r in runs)
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    rows = [read_metrics(r.run_dir)[-1] for r in runs]
    assert rows[0]["train/cls"] == rows[1]["train/cls"]
    # Another seed trains other weights (the check above could not pass by accident).
    c = load_file(str(train(tiny(small_corpus, tmp_path / "other", "train.epochs=3",
                                 f"train.cls_loss={loss}", "train.seed=1")).bundle
                      / "model.safetensors"))
    assert any(not torch.equal(a[k], c[k]) for k in a)
    # The training log says where a spreading classifier shows.
    last = rows[0]
    assert 0 <= float(last["cls/histogram_distance"]) <= 1
    assert "cls/accuracy_many" in last


def _logits(bundle, batch):
    with torch.no_grad():
        return bundle.classifier(batch["audio_feats"], batch["words"], batch["seed"],
                                 codes=bundle.vqvae.quantizer.codes())


def test_bundle_reload_gives_identical_logits(small_corpus, tmp_path):
    cfg = tiny(small_corpus, tmp_path / "run")
    result = train(cfg)
    a, b = load_bundle(result.bundle), load_bundle(result.run_dir)  # folder or run dir
    torch.manual_seed(0)
    batch = {"audio_feats": torch.randn(2, 160, 66), "words": torch.randint(0, 5, (2, 40)),
             "seed": torch.randint(0, 32, (2, 2))}
    torch.testing.assert_close(_logits(a, batch), _logits(b, batch), rtol=0, atol=0)
    data = prepare_data(cfg)
    np.testing.assert_array_equal(a.norm.mean, data.norm.mean)
    assert a.vocab == data.vocab and a.joint_names == data.joint_names


def test_tampered_bundles_are_refused(small_corpus, tmp_path):
    result = train(tiny(small_corpus, tmp_path / "run"))
    weights = result.bundle / "model.safetensors"
    blob = weights.read_bytes()
    weights.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(CheckpointError, match="corrupt or truncated"):
        load_bundle(result.bundle)
    weights.write_bytes(blob)
    meta = json.loads((result.bundle / "config.json").read_text())
    meta["config"]["model"]["codebook_size"] = 64
    (result.bundle / "config.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="do not match config.json"):
        load_bundle(result.bundle)
    with pytest.raises(CheckpointError, match="not an inference bundle"):
        load_bundle(tmp_path)


class _Kill(L.Callback):
    """Raise in the middle of an epoch, as a killed process would stop."""

    def __init__(self, at_step: int):
        self.at_step = at_step

    def on_train_batch_start(self, trainer, module, batch, batch_idx):
        if trainer.global_step == self.at_step:
            raise RuntimeError("simulated kill")


def test_resume_after_a_mid_epoch_kill_gives_the_same_weights(small_corpus, tmp_path):
    extra = ["train.epochs=3"]
    full = train(tiny(small_corpus, tmp_path / "full", *extra))
    cfg = tiny(small_corpus, tmp_path / "killed", *extra)
    with pytest.raises(RuntimeError, match="simulated kill"):
        train(cfg, callbacks=[_Kill(at_step=4)])  # epoch 1 has 3 steps: killed inside epoch 2
    assert not (tmp_path / "killed" / "bundle").exists()
    assert (tmp_path / "killed" / "checkpoints" / "last.ckpt").is_file()  # epoch 1 was saved
    resumed = train(cfg)
    wa, wb = load_file(full.bundle / "model.safetensors"), load_file(resumed.bundle / "model.safetensors")
    assert wa.keys() == wb.keys()
    for k in wa:
        torch.testing.assert_close(wa[k], wb[k], rtol=0, atol=0, msg=k)
    # The metrics log keeps the epochs from before the kill.
    assert [r["epoch"] for r in read_metrics(resumed.run_dir)] == ["0", "1", "2"]


def test_resume_refuses_a_different_config(small_corpus, tmp_path):
    train(tiny(small_corpus, tmp_path / "run"))
    with pytest.raises(ConfigError, match="train.lr"):
        train(tiny(small_corpus, tmp_path / "run", "train.lr=0.01"))


@pytest.mark.parametrize("method", [m for m in METHODS if m != "eggesture"])
def test_every_method_trains(small_corpus, tmp_path, method):
    cfg = tiny(small_corpus, tmp_path / method, f"train.method={method}", "train.epochs=2")
    rows = read_metrics(train(cfg).run_dir)
    phases = [float(r["train/phase"]) for r in rows]
    if method in ("vanilla", "reweight_only", "no_joint"):
        assert phases == [1.0, 2.0]  # VQ-VAE epoch, then classifier epoch
        assert rows[0]["cls/accuracy"] == "" and rows[1]["cls/accuracy"] != ""
    else:
        assert phases == [0.0, 0.0]
    if method in ("vanilla", "reweight_only"):
        assert all(float(r["train/entropy"] or 0) == 0 for r in rows)


def test_lstm_classifier_trains(small_corpus, tmp_path):
    cfg = tiny(small_corpus, tmp_path / "lstm", "model.classifier=lstm")
    assert read_metrics(train(cfg).run_dir)


def test_ddp_two_processes_keep_ema_identical(small_corpus, tmp_path):
    out = tmp_path / "ddp"
    cmd = [sys.executable, "-m", "eggesture.cli", "train", "--config", "tiny",
           f"data.root={small_corpus}", f"train.out={out}", "train.progress=false",
           "train.accelerator=cpu", "train.devices=2", "train.strategy=ddp"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = read_metrics(out)
    assert rows and all(float(r["codebook/ema_rank_spread"]) == 0.0 for r in rows)
    assert (out / "bundle" / "model.safetensors").is_file()


@pytest.mark.parametrize("schedule", ["lr", "cls-ramp", "loss"])
def test_eq11_schedule(schedule):
    from eggesture.training.module import EGGestureModule

    cfg = load_config("tiny", ["data.root=x", f"train.schedule={schedule}", "train.epochs=4",
                               "train.lr=0.01", "train.gamma=2.0"])
    module = EGGestureModule(cfg, motion_dim=12, vocab=["<pad>", "<unk>", "a"], n_audio_features=66)
    sched = module.configure_optimizers()["lr_scheduler"]["scheduler"]
    lrs = []
    for _ in range(4):
        lrs.append([g["lr"] for g in sched.optimizer.param_groups])
        sched.optimizer.step()
        sched.step()
    from eggesture.training.module import StepOutput

    out = StepOutput(targets=torch.zeros(1, 1, dtype=torch.long), rec=torch.tensor(1.0),
                     commit=torch.tensor(0.5), entropy=torch.tensor(0.25), cls=torch.tensor(2.0))
    total = module._total(out, "joint")  # epoch 1 (no trainer: current_epoch 0)
    if schedule == "lr":  # VQ-VAE step × 1/e, classifier × e/E; losses unweighted
        expected = [[0.01 / e, 0.01 * e / 4] for e in (1, 2, 3, 4)]
        assert np.allclose(lrs, expected)
        assert total.item() == pytest.approx(2.0 + 1.75)
    elif schedule == "cls-ramp":  # VQ-VAE at the base rate, classifier × e/E
        expected = [[0.01, 0.01 * e / 4] for e in (1, 2, 3, 4)]
        assert np.allclose(lrs, expected)
        assert total.item() == pytest.approx(2.0 + 1.75)
    else:  # eq. 11 on the losses: (e/γ)·l_cls + (γ/e)·(l_rec + l_entropy + l_commit)
        assert np.allclose(lrs, 0.01)
        assert total.item() == pytest.approx(2.0 / 2.0 + 2.0 * 1.75)


def test_classification_weights_follow_the_hard_code_frequencies(small_corpus, tmp_path):
    # Eq. 10's weights came from the entropy's soft moving average, which the entropy loss
    # flattens: they spanned 0.84–1.39 against a 108× span of the real target frequencies.
    # From the hard-usage moving average (cls_loss=hard) they follow 1/frequency, and the log
    # says how well.
    result = train(tiny(small_corpus, tmp_path / "run", "train.epochs=3", "train.method=eggesture",
                        "train.cls_loss=hard"))
    last = read_metrics(result.run_dir)[-1]
    assert float(last["weights/rank_corr_inverse_freq"]) > 0.9
    assert float(last["weights/max"]) > 2 * float(last["weights/min"])
    assert np.isfinite(float(last["codebook/soft_hard_rank_corr"]))
    assert float(last["codebook/soft_perplexity"]) >= 1


@pytest.mark.parametrize("loss", ["hard", "paper"])
def test_the_weights_come_from_the_chosen_code_probabilities(small_corpus, monkeypatch, loss):
    import eggesture.training.module as M

    cfg = tiny(small_corpus, "unused", "train.method=eggesture", f"train.cls_loss={loss}")
    data = prepare_data(cfg)
    module = M.EGGestureModule(cfg, motion_dim=data.motion_dim, vocab=data.vocab,
                               n_audio_features=int(data.audio_feats.shape[1]))
    q = module.vqvae.quantizer
    k = q.codebook_size
    skewed = torch.linspace(1.0, 100.0, k)  # real code frequencies spanning 100×
    q.usage_probs.copy_(skewed / skewed.sum())
    q.ema_probs.fill_(1.0 / k)  # what the entropy loss makes of the soft average
    seen = {}
    real = M.classification_loss

    def spy(*args, **kwargs):
        value, seen["w"] = real(*args, **kwargs)
        return value, seen["w"]

    monkeypatch.setattr(M, "classification_loss", spy)
    from eggesture.training.data import WindowDataset

    ds = WindowDataset(data, ["train"])
    batch = {key: torch.stack([ds[i][key] for i in range(4)]) for key in ds[0]}
    module.train()
    module._losses(batch, "joint")
    span = (seen["w"].max() / seen["w"].min()).item()
    if loss == "hard":  # ~α-mixed with one batch: still tens of ×
        assert span > 10, span
    else:
        assert span < 1.5, span


def test_a_bundle_stores_what_auto_resolved_to(small_corpus, tmp_path):
    # A saved model must not change meaning when a default does: 'auto' is written resolved.
    result = train(tiny(small_corpus, tmp_path / "run", "train.epochs=1", "train.method=eggesture"))
    model = json.loads((result.bundle / "config.json").read_text())["config"]["model"]
    assert model["distance"] == "euclidean" and model["sim_temperature"] == 1.0
    assert model["tied_head"] is True
    bundle = load_bundle(result.bundle)
    assert bundle.vqvae.quantizer.distance == "euclidean" and bundle.classifier.tied_head


@pytest.mark.parametrize("distance, t", [("euclidean", 1.0), ("cosine", 0.1)])
def test_tied_head_starts_at_the_quantizers_soft_assignment_scale(distance, t):
    """s₀ = 1/t: in the Euclidean geometry a fixed s = 10 made the first logits ~100 apart."""
    from eggesture.features.audio import N_FEATURES
    from eggesture.models.builders import build_classifier

    cfg = load_config("synthetic", ["data.root=x", "train.method=eggesture",
                                    f"model.distance={distance}"])
    clf = build_classifier(cfg, ["<pad>", "<unk>", "a"], N_FEATURES)
    assert clf.tied_head and clf.logit_scale.exp().item() == pytest.approx(1 / t)
    with pytest.raises(ValueError, match="logit_scale"):
        type(clf)(codebook_size=4, n_tokens=4, seed_tokens=1, audio_encoder=clf.audio_encoder,
                  text_encoder=None, tied_head=True, code_dim=8, logit_scale=0.0)


def test_word_dropout_hides_whole_words_and_whole_transcripts():
    from eggesture.models.classifier import drop_words

    words = torch.tensor([[0, 5, 5, 5, 0, 7, 7, 9, 9, 9, 9, 0]] * 400)
    torch.manual_seed(0)
    out = drop_words(words, 0.3, 0.0)
    for row in out:  # each word is kept or hidden as a whole
        for w in (5, 7, 9):
            kept = row[words[0] == w]
            assert bool((kept == w).all()) or bool((kept == 0).all())
    hidden = (out[:, 1] == 0).float().mean().item()
    assert 0.22 < hidden < 0.38, hidden  # about word_p of the words
    assert torch.equal(drop_words(words, 0.0, 0.0), words)
    assert (drop_words(words, 0.0, 1.0) == 0).all() and (drop_words(words, 1.0, 0.0) == 0).all()
    whole = drop_words(words, 0.0, 0.5)
    assert set((whole != 0).any(dim=1).tolist()) == {True, False}  # some windows lose all text


def _killed_runs_log(logs) -> None:
    """A log as a run killed after epoch 1 leaves it: training and validation columns."""
    import csv

    logs.mkdir(parents=True, exist_ok=True)
    with (logs / "metrics.csv").open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["epoch", "step", "train/loss", "val/rec"])
        w.writeheader()
        for e in (0, 1):
            w.writerow({"epoch": e, "step": 10 * e + 9, "val/rec": 0.5 - 0.1 * e})
            w.writerow({"epoch": e, "step": 10 * e + 9, "train/loss": 2.0 - e})  # 2.0, 1.0


def _resumed_epoch(logs) -> None:
    """What a resumed Lightning run logs first: validation, then the training metrics."""
    from lightning.pytorch.loggers import CSVLogger

    logger = CSVLogger(logs, name="", version="")
    logger.log_metrics({"epoch": 2, "val/rec": 0.25}, step=29)
    logger.save()
    logger.log_metrics({"epoch": 2, "train/loss": 0.5, "lr-Adam": 1e-3}, step=29)
    logger.save()


def test_a_resumed_run_keeps_its_log(tmp_path):
    from eggesture.training.log import BEFORE_RESUME, prepare_log, read_log, restore_after_resume

    # Lightning's CSV logger alone, on the killed run's file: the history is gone.
    _killed_runs_log(tmp_path / "alone")
    _resumed_epoch(tmp_path / "alone")
    assert [r["epoch"] for r in read_log(tmp_path / "alone" / "metrics.csv")] == ["2", "2"]

    logs = tmp_path / "logs"
    _killed_runs_log(logs)
    prepare_log(logs, resume=True)
    assert not (logs / "metrics.csv").exists() and (logs / BEFORE_RESUME).is_file()
    _resumed_epoch(logs)
    restore_after_resume(logs)
    rows = read_log(logs / "metrics.csv")
    assert [(r["epoch"], r["train/loss"] or None) for r in rows] == [
        ("0", None), ("0", "2.0"), ("1", None), ("1", "1.0"), ("2", None), ("2", "0.5")]
    assert "lr-Adam" in rows[0] and not (logs / BEFORE_RESUME).exists()

    # A resume that dies again before logging keeps the rows; a fresh start drops both files.
    prepare_log(logs, resume=True)
    prepare_log(logs, resume=True)
    assert len(read_log(logs / BEFORE_RESUME)) == 6
    prepare_log(logs, resume=False)
    assert not (logs / BEFORE_RESUME).exists() and not (logs / "metrics.csv").exists()
