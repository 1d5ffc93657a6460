"""The EMAGE evaluation protocol (``evaluate --protocol emage``): BC with the motion-length audio
cut on hand-made beats, positions as EMAGE computes them, L1div on positions, and the whole
command on a small synthetic corpus with an SMPL-X-layout model file and an AESKConv-layout
checkpoint written by the test (the real files are licensed / not here)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from eggesture.data.wav import AUDIO_SR
from eggesture.evaluation import emage_protocol as EP
from eggesture.metrics import beat as B

FPS = 30


def _positions_with_beats(seconds: float) -> np.ndarray:
    """Positions (T, 55, 3) whose every joint moves along x at speed 1.5 − cos(2πt) m/s: speed
    minima (0.5 m/s, above the 0.1 threshold with unit mean speeds) at every whole second."""
    t = np.arange(int(seconds * FPS)) / FPS
    x = 1.5 * t - np.sin(2 * np.pi * t) / (2 * np.pi)
    pos = np.zeros((len(t), 55, 3))
    pos[:, :, 0] = x[:, None]
    return pos


def _clicks(times_s, seconds: float) -> np.ndarray:
    rng = np.random.default_rng(0)
    w = np.zeros(int(seconds * AUDIO_SR), np.float32)
    for c in times_s:
        i = int(c * AUDIO_SR)
        w[i:i + 400] += 0.5 * rng.normal(size=400).astype(np.float32) * np.exp(-np.arange(400) / 80)
    return w


def test_bc_on_hand_made_beats_aligned_and_off_by_half_a_second():
    pos = _positions_with_beats(12)
    ones = np.ones(55)
    aligned = EP._bc([pos], [_clicks(range(3, 10), 20)], ones)
    off = EP._bc([pos], [_clicks(np.arange(3, 10) + 0.5, 20)], ones)
    # Onsets land within ~2 hops (64 ms) of a speed minimum: exp(−0.064²/(2·0.3²)) ≈ 0.98.
    assert aligned > 0.97
    # Half a second from the nearest minimum: exp(−0.5²/0.18) ≈ 0.25 per onset.
    assert off == pytest.approx(np.exp(-0.25 / 0.18), abs=0.05)


def test_bc_cuts_the_audio_at_the_motion_length_not_the_wave_length(monkeypatch):
    seen = []
    real = B.audio_onsets

    def spy(wave, sr, *, start_s=0.0, end_s=None, **kw):
        seen.append((start_s, end_s))
        return real(wave, sr, start_s=start_s, end_s=end_s, **kw)

    monkeypatch.setattr(B, "audio_onsets", spy)
    pos = _positions_with_beats(10)  # 300 frames at 30 fps, the wave is twice as long
    EP._bc([pos], [_clicks(range(3, 18), 20)], np.ones(55))
    assert seen == [(2.0, 8.0)]  # 2 s to (300 − 60)/30 s, as train_emage_audio.py:406


@pytest.mark.parametrize("t", [300, 302, 1906, 1907])
def test_bc_audio_cut_truncates_its_end_sample_as_the_reference(monkeypatch, t):
    # train_emage_audio.py:406 takes wave[2·16000 : int((t − 60)/30·16000)]; for t = 302 and
    # 1907 that is 129066.67 and 985066.67 samples, truncated (rounding would keep one more).
    import librosa

    lengths = []
    real = librosa.onset.onset_detect

    def spy(*, y, **kw):
        lengths.append(y.size)
        return real(y=y, **kw)

    monkeypatch.setattr(librosa.onset, "onset_detect", spy)
    wave = np.random.default_rng(0).normal(scale=0.1, size=70 * AUDIO_SR).astype(np.float32)
    B.emage_audio_onsets(wave, AUDIO_SR, t / FPS)
    assert lengths == [int((t - 60) / 30 * 16000) - 2 * 16000]


def test_bc_sequences_weighted_by_scored_frames():
    ones = np.ones(55)
    long, short = _positions_with_beats(12), _positions_with_beats(6)  # 240 and 60 scored frames
    a = EP._bc([long], [_clicks(range(3, 10), 12)], ones)
    b = EP._bc([short], [_clicks(np.arange(2, 4) + 0.5, 6)], ones)
    both = EP._bc([long, short], [_clicks(range(3, 10), 12), _clicks(np.arange(2, 4) + 0.5, 6)], ones)
    assert both == pytest.approx((240 * a + 60 * b) / 300)


def test_positions_zero_the_root_jaw_and_eyes():
    rng = np.random.default_rng(1)
    poses = rng.normal(scale=0.3, size=(5, 165))
    moved = poses.copy().reshape(5, 55, 3)
    moved[:, EP.ZEROED_JOINTS] += 0.7  # global orientation, jaw, eyes change nothing
    a = EP.protocol_positions(poses, None)
    b = EP.protocol_positions(moved.reshape(5, 165), None)
    np.testing.assert_allclose(a, b)
    moved[:, 18] += 0.3  # the left elbow moves the left wrist
    c = EP.protocol_positions(moved.reshape(5, 165), None)
    assert np.abs(c[:, 20] - a[:, 20]).max() > 0.01


def test_l1div_on_positions_in_metres():
    from eggesture.metrics.diversity import l1_diversity_per_sequence

    # Two frames: one joint 1 m apart on x, everything else still: Σ|x − mean| = 2 × 0.5, /2 frames.
    a = np.zeros((2, 55, 3))
    a[1, 20, 0] = 1.0
    assert l1_diversity_per_sequence([a]) == pytest.approx(0.5)
    # Pooled over sequences by frames (mertic.py L1div: sum / counter of frames).
    b = np.zeros((4, 55, 3))
    assert l1_diversity_per_sequence([a, b]) == pytest.approx(1.0 / 6)


def test_explicit_missing_files_are_errors_named(tmp_path):
    from eggesture.errors import DataError

    with pytest.raises(DataError, match="does not exist"):
        EP._resolve(tmp_path / "AESKConv_240_100.bin")
    assert EP._resolve(None, tmp_path / "a", tmp_path / "b") is None
    (tmp_path / "b").write_bytes(b"x")
    assert EP._resolve(None, tmp_path / "a", tmp_path / "b") == tmp_path / "b"


def test_evaluate_protocol_emage_end_to_end(tmp_path, capsys):
    """``evaluate --protocol emage --fgd-model F --smplx-model M`` on a small synthetic corpus
    (BEAT2 layout), with an AESKConv-layout checkpoint and an SMPL-X-layout model written here."""
    import torch

    from eggesture.cli import main
    from eggesture.data.synthetic import synthesize_corpus
    from eggesture.data.windows import WindowSettings, prepare
    from eggesture.evaluation.emage_fgd import build_emage_fgd_model
    from eggesture.evaluation.feature_ae import FeatureAETraining, train_feature_ae
    from eggesture.evaluation.recognizer import (
        RecognizerConfig,
        RecognizerTraining,
        train_recognizer,
    )
    from test_evaluate import _tiny_run
    from test_smplx_model import _model_arrays

    root = tmp_path / "synth"
    synthesize_corpus(root, minutes=3, seed=2)
    cfg, run = _tiny_run(root, tmp_path / "run")
    data = prepare(root, WindowSettings.from_config(cfg), train_splits=("train",))
    train_feature_ae(data, tmp_path / "fgd", training=FeatureAETraining(epochs=1))
    train_recognizer(data, tmp_path / "rec", net=RecognizerConfig(channels=16),
                     training=RecognizerTraining(steps=10))
    torch.manual_seed(0)
    net = build_emage_fgd_model()
    ckpt = tmp_path / "AESKConv_240_100.bin"
    torch.save({"model_state": {"module." + k: v for k, v in net.state_dict().items()}}, ckpt)
    smplx = tmp_path / "SMPLX_NEUTRAL_2020.npz"
    np.savez(smplx, **_model_arrays(n_columns=20))

    def evaluate(*extra):
        js = tmp_path / "eval.json"
        rc = main(["evaluate", "--checkpoint", str(run.run_dir), "--data", str(root), "--split",
                   "test", "--json", str(js), "--fgd-dir", str(tmp_path / "fgd"), "--recognizer-dir",
                   str(tmp_path / "rec"), "--no-train",
                   "--protocol", "emage", *map(str, extra)])
        out = capsys.readouterr()
        assert rc == 0, out.err
        return json.loads(js.read_text()), out.out

    res, table = evaluate("--fgd-model", ckpt, "--smplx-model", smplx)
    e = res["emage_protocol"]
    assert e["n_sequences"] == res["n_sequences"] >= 1
    assert np.isfinite(e["fgd_generated"]) and e["fgd_model"] == str(ckpt)
    assert e["fgd_missing"] is None and np.isfinite(e["fgd_ground_truth_filled"])
    assert 0 <= e["bc_generated"] <= 1 and 0 <= e["bc_ground_truth"] <= 1
    assert e["l1div_generated"] >= 0 and e["l1div_ground_truth"] > 0
    assert e["positions"].startswith(f"exact SMPL-X joints of {smplx}")
    assert e["units"]["l1div"].startswith("metres") and e["constants"]["bc_sigma_s"] == 0.3
    assert "of the 55 SMPL-X joints" in e["fill"]
    # Ours are unchanged and apart: the EMAGE numbers are not in our own keys.
    assert res["fgd"] != e["fgd_generated"] and "EMAGE protocol" in table
    # Real ground truth at 30 fps: the EMAGE frames are about twice the model-rate frames.
    assert e["frames"] == pytest.approx(res["minutes"] * 60 * 30, rel=0.02)

    res2, table2 = evaluate()  # no files anywhere: FGD None with the reason, approximate joints
    e2 = res2["emage_protocol"]
    assert e2["fgd_generated"] is None and "AESKConv_240_100.bin" in e2["fgd_missing"]
    assert e2["positions"].startswith("approximate") and "FGD not computed" in table2
    assert e2["bc_generated"] != e["bc_generated"] or e2["l1div_generated"] != e["l1div_generated"]

    # A misspelt file is an error naming it, not a silent fallback.
    rc = main(["evaluate", "--checkpoint", str(run.run_dir), "--data", str(root), "--fgd-dir",
               str(tmp_path / "fgd"), "--recognizer-dir", str(tmp_path / "rec"), "--no-train",
               "--protocol", "emage", "--fgd-model",
               str(tmp_path / "AESKConv.bin")])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc != 0 and err[-1].endswith("AESKConv.bin: does not exist")


def test_exact_joints_of_a_model_file_built_on_our_skeleton_equal_the_approximate_ones(tmp_path):
    """An SMPL-X-layout file whose rest joints are our approximate skeleton's (J_regressor = I
    on 55 vertices placed there) gives the same protocol positions through the exact path."""
    from eggesture.data.motion import SMPLX_PARENTS
    from eggesture.data.skeleton import smplx_positions
    from eggesture.data.smplx_model import load_smplx_model

    rest = smplx_positions(np.zeros((1, 165)))[0]
    kin = np.stack([np.array(SMPLX_PARENTS, np.int64) % 2**32, np.arange(55)]).astype(np.uint32)
    path = tmp_path / "on_our_skeleton.npz"
    np.savez(path, v_template=rest, shapedirs=np.zeros((55, 3, 20)), J_regressor=np.eye(55),
             kintree_table=kin)
    poses = np.random.default_rng(2).normal(scale=0.3, size=(8, 165))
    exact = EP.protocol_positions(poses, np.ones(10), load_smplx_model(path))
    np.testing.assert_allclose(exact, EP.protocol_positions(poses, None), atol=1e-12)


@pytest.mark.parametrize("fgd, row", [(None, "| ground truth | – | 0.7500 (7.500) | 13.53 |"),
                                      (1.5, "| ground truth | 0 (definition) | 0.7500 (7.500) | "
                                            "13.53 |")])
def test_emage_table_gives_the_ground_truths_fgd_only_where_the_fgd_was_computed(fgd, row):
    from eggesture.reporting.evaluation import emage_markdown

    e = {"fgd_generated": fgd, "bc_generated": 0.1, "l1div_generated": 2.0,
         "bc_ground_truth": 0.75, "l1div_ground_truth": 13.53,
         "fgd_ground_truth_filled": None if fgd is None else 0.2, "positions": "approximate",
         "fill": "the model generates 43", "mean_speed_source": "weights",
         "fgd_missing": "no AESKConv_240_100.bin" if fgd is None else None}
    lines = emage_markdown({"eggesture": {"emage_protocol": e}})
    assert row in lines
    assert ("FGD not computed: no AESKConv_240_100.bin." in lines) == (fgd is None)
    # Why the ground truth's BC differs from its "BA (EMAGE)" in the results table.
    assert any(ln.startswith("BC here and BA (EMAGE) in the results table are one measure")
               for ln in lines)
