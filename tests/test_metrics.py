"""Known-answer tests of each metric: FGD, beat alignment, L1 diversity, codebook, recall."""

from __future__ import annotations

import math

import numpy as np
import pytest

from eggesture.metrics import (
    audio_onsets,
    beat_alignment,
    beat_alignment_emage,
    codebook_stats,
    event_recalled,
    frechet_distance,
    frechet_distance_from_stats,
    l1_diversity,
    l1_diversity_per_sequence,
    semantic_recall,
    sorted_usage,
    split_head_tail,
)
from eggesture.metrics import fgd as fgd_mod
from eggesture.training.log import utilization_per_epoch

# --- FGD (eq. 12) ---------------------------------------------------------------------------


@pytest.mark.parametrize("n,d", [(50, 4), (300, 32), (40, 64)])
def test_fgd_of_identical_sets_is_zero(n, d):
    x = np.random.default_rng(d).normal(size=(n, d)) * np.linspace(0.01, 5, d)
    assert abs(frechet_distance(x, x)) < 1e-6


def test_fgd_closed_form_diagonal_gaussians():
    mu1, mu2 = np.array([0.0, 1.0, -2.0]), np.array([1.0, 1.0, 0.0])
    v1, v2 = np.array([1.0, 4.0, 0.25]), np.array([4.0, 1.0, 0.25])
    # Commuting covariances: ||mu1 - mu2||^2 + sum (sqrt v1 - sqrt v2)^2 = 5 + 1 + 1 + 0.
    got = frechet_distance_from_stats(mu1, np.diag(v1), mu2, np.diag(v2), eps=0.0)
    assert got == pytest.approx(7.0, abs=1e-9)


def test_fgd_closed_form_non_commuting_gaussians():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(4, 4))
    s2 = a @ a.T + 0.5 * np.eye(4)
    mu1, mu2 = np.zeros(4), np.array([0.5, -0.5, 1.0, 0.0])
    # With Σ1 = I: Tr(Σ1 Σ2)^{1/2} = Σ sqrt(eig Σ2).
    expected = 1.5 + 4.0 + np.trace(s2) - 2 * np.sqrt(np.linalg.eigvalsh(s2)).sum()
    got = frechet_distance_from_stats(mu1, np.eye(4), mu2, s2, eps=0.0)
    assert got == pytest.approx(expected, rel=1e-9)
    # From samples of those Gaussians the estimate converges to the closed form.
    x = rng.multivariate_normal(mu1, np.eye(4), size=200_000)
    y = rng.multivariate_normal(mu2, s2, size=200_000)
    assert frechet_distance(x, y) == pytest.approx(expected, rel=0.02)


def test_fgd_refuses_nan_and_invalid_covariance():
    x = np.random.default_rng(0).normal(size=(20, 3))
    bad = x.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        frechet_distance(x, bad)
    with pytest.raises(ValueError):  # a "covariance" with negative eigenvalues
        frechet_distance_from_stats(np.zeros(3), np.eye(3), np.zeros(3), -np.eye(3))
    with pytest.raises(ValueError, match="at least 2"):
        frechet_distance(x[:1], x)
    with pytest.raises(ValueError, match="dimensions differ"):
        frechet_distance(x, x[:, :2])


def test_fgd_refuses_an_unreliable_matrix_square_root(monkeypatch):
    """A SciPy whose sqrtm returns a wrong root gives an error, not a (negative) number."""
    x = np.random.default_rng(0).normal(size=(50, 3))
    y = x + 0.3
    monkeypatch.setattr(fgd_mod.linalg, "sqrtm", lambda m: 3.0 * np.eye(m.shape[0]))
    with pytest.raises(ValueError, match="sqrtm"):
        frechet_distance(x, y)
    monkeypatch.setattr(fgd_mod.linalg, "sqrtm", lambda m: np.eye(m.shape[0]) * (1 + 1j))
    with pytest.raises(ValueError, match="imaginary"):
        frechet_distance(x, y)


# --- beat alignment (eq. 13) ----------------------------------------------------------------

FPS = 15.0


def _beating_positions(seconds: float, n_joints: int = 1, fps: float = FPS) -> np.ndarray:
    """Joint 0 moves as sin(2π·0.25·t) along x: speed minima (zeros) at t = 1, 3, 5, ... s."""
    t = np.arange(int(seconds * fps)) / fps
    pos = np.zeros((t.size, n_joints, 3))
    pos[:, 0, 0] = np.sin(2 * np.pi * 0.25 * t)
    return pos


def test_beat_alignment_is_one_when_beats_sit_on_onsets():
    pos = _beating_positions(12)
    onsets = np.array([1.0, 3.0, 5.0, 7.0, 9.0, 11.0])
    r = beat_alignment(pos, onsets, FPS)
    assert r.n_motion_beats == 6  # t = 1, 3, …, 11 s
    assert r.score == pytest.approx(1.0, abs=1e-12)
    # Extra onsets between the beats do not lower eq. 13 (it averages over gesture beats).
    more = np.sort(np.r_[onsets, onsets + 1.0])
    assert beat_alignment(pos, more, FPS).score == pytest.approx(1.0)


@pytest.mark.parametrize("d", [0.05, 0.1, 0.2])
@pytest.mark.parametrize("sigma", [0.1, 0.3])
def test_beat_alignment_follows_the_gaussian_of_the_offset(d, sigma):
    pos = _beating_positions(12)
    onsets = np.arange(1.0, 12.0, 2.0) + d
    r = beat_alignment(pos, onsets, FPS, sigma_s=sigma)
    assert r.score == pytest.approx(math.exp(-d * d / (2 * sigma * sigma)), rel=1e-9)
    assert r.sigma_s == sigma and "sigma" in r.protocol


def test_beat_alignment_without_beats_or_onsets():
    still = np.zeros((100, 3, 3))
    r = beat_alignment(still, np.array([1.0, 2.0]), FPS)
    assert r.score == 0.0 and r.n_motion_beats == 0 and r.per_joint == [None, None, None]
    r = beat_alignment(_beating_positions(12), np.zeros(0), FPS)
    assert r.score == 0.0 and r.n_audio_beats == 0
    assert beat_alignment(np.zeros((1, 2, 3)), np.array([0.5]), FPS).score == 0.0


def test_beat_alignment_averages_over_joints_with_beats():
    pos = _beating_positions(12, n_joints=3)
    pos[:, 1, 1] = np.sin(2 * np.pi * 0.25 * (np.arange(pos.shape[0]) / FPS - 0.2))  # 0.2 s late
    r = beat_alignment(pos, np.arange(1.0, 12.0, 2.0), FPS, sigma_s=0.1)
    assert r.per_joint[2] is None  # joint 2 never moves
    assert r.per_joint[1] == pytest.approx(math.exp(-0.04 / 0.02))
    assert r.score == pytest.approx((1.0 + math.exp(-2.0)) / 2)


def _emage_positions(period_s: float, seconds: float = 10.0) -> np.ndarray:
    """55 joints; the 13 upper-body ones move along x with speed 1 + 0.5·cos(2πt/P) (m/s)."""
    t = np.arange(int(seconds * 30)) / 30
    x = t + 0.5 * period_s / (2 * np.pi) * np.sin(2 * np.pi * t / period_s)
    pos = np.zeros((t.size, 55, 3))
    for j in (3, 6, 9, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21):
        pos[:, j, 0] = x
    return pos


def test_emage_variant_reproduces_a_hand_computed_example():
    # P = 3 s: speed minima at 1.5, 4.5, 7.5 s; with the first and last 2 s excluded, the
    # beats are 4.5 and 7.5 s, i.e. 2.5 and 5.5 s after the 2 s mark. Onsets at 1.0 and 9.0 s
    # lie in the excluded parts; 2.5, 4.6 and 7.0 s are 0.5, 2.6 and 5.0 s after the mark.
    # Per audio beat, distance to the nearest motion beat: 2.0, 0.1, 0.5 s; σ = 0.3 s.
    pos = _emage_positions(3.0)
    onsets = np.array([1.0, 2.5, 4.6, 7.0, 9.0])
    r = beat_alignment_emage(pos, onsets, np.ones(55))
    hand = (math.exp(-2.0**2 / 0.18) + math.exp(-0.1**2 / 0.18) + math.exp(-0.5**2 / 0.18)) / 3
    assert r.score == pytest.approx(hand, rel=1e-9)  # ≈ 0.3985
    assert r.n_audio_beats == 3 and r.n_motion_beats == 2 * 13
    assert r.extra["weight"] == 300 - 2 * 60
    # A joint without beats counts 0 in the average over the 13 upper-body joints.
    pos[:, 21] = 0.0
    assert beat_alignment_emage(pos, onsets, np.ones(55)).score == pytest.approx(hand * 12 / 13)


def test_emage_threshold_and_its_frame_offset():
    # Minimum speed 0.5 m/s; with threshold 1.0 the speed at the minimum itself is too low,
    # but EMAGE's code tests the frame 2 s earlier (speed 1.25 there): kept only with the quirk.
    pos = _emage_positions(3.0)
    onsets = np.array([4.5, 7.5])
    quirk = beat_alignment_emage(pos, onsets, np.ones(55), threshold=1.0)
    fixed = beat_alignment_emage(pos, onsets, np.ones(55), threshold=1.0, emage_mask_offset=False)
    assert quirk.score == pytest.approx(1.0) and quirk.n_motion_beats == 26
    assert fixed.score == 0.0 and fixed.n_motion_beats == 0
    # The threshold applies to speed / mean speed: 0.5 / 2 = 0.25 passes 0.2, 0.5 / 4 does not.
    assert beat_alignment_emage(pos, onsets, np.full(55, 2.0), threshold=0.2,
                                emage_mask_offset=False).n_motion_beats == 26
    assert beat_alignment_emage(pos, onsets, np.full(55, 4.0), threshold=0.2,
                                emage_mask_offset=False).n_motion_beats == 0


def test_audio_onsets_find_clicks():
    sr = 16000
    rng = np.random.default_rng(0)
    y = 1e-4 * rng.normal(size=3 * sr).astype(np.float32)
    clicks = [0.5, 1.0, 1.7, 2.4]
    for c in clicks:
        i = int(c * sr)
        y[i:i + 800] += rng.normal(size=800).astype(np.float32) * np.exp(-np.arange(800) / 200)
    on = audio_onsets(y, sr)
    for c in clicks:
        assert np.abs(on - c).min() < 0.05
    late = audio_onsets(y, sr, start_s=0.8)
    assert late.min() > 0.8 and np.abs(late - 1.7).min() < 0.05  # times stay absolute
    assert audio_onsets(np.zeros(sr, np.float32), sr).size == 0


# --- L1 diversity (eq. 14) ------------------------------------------------------------------

def test_l1_diversity_identical_clips_is_zero():
    clip = np.random.default_rng(0).normal(size=(1, 20, 6))
    r = l1_diversity(np.repeat(clip, 40, axis=0))
    assert r.l1div == 0.0 and r.groups == 1 and r.group_size == 40


def test_l1_diversity_hand_computed():
    a = [[0.0], [0.0]]
    b = [[1.0], [1.0]]
    c = [[0.0], [3.0]]
    # Per-frame L1: |a-b| = 1, |a-c| = 1.5, |b-c| = 1.5; ordered-pair sum 8; 8 / (2·3·2).
    r = l1_diversity(np.array([a, b, c]), group=3)
    assert r.l1div == pytest.approx(8 / 12)
    assert r.mean_pairwise_l1 == pytest.approx(4 / 3)
    assert "per frame" in r.units


def test_l1_diversity_groups_of_40():
    rng = np.random.default_rng(0)
    clips = rng.normal(size=(85, 4, 2))
    r = l1_diversity(clips)
    assert (r.groups, r.group_size, r.clips_unused) == (2, 40, 5)
    g0, g1 = l1_diversity(clips[:40], 40).l1div, l1_diversity(clips[40:80], 40).l1div
    assert r.l1div == pytest.approx((g0 + g1) / 2)
    with pytest.raises(ValueError, match="at least 2"):
        l1_diversity(clips[:1])


def test_l1_diversity_per_sequence_hand_computed():
    s1 = np.array([[0.0], [2.0]])  # mean 1: deviations 1 + 1 over 2 frames
    s2 = np.array([[0.0, 0.0], [0.0, 0.0], [3.0, 3.0]])  # mean (1, 1): 1+1+1+1+2+2 = 8, 3 frames
    assert l1_diversity_per_sequence([s1]) == pytest.approx(1.0)
    assert l1_diversity_per_sequence([s1, s2]) == pytest.approx(10 / 5)
    assert l1_diversity_per_sequence(np.zeros((5, 3))) == 0.0
    with pytest.raises(ValueError, match="list"):
        l1_diversity_per_sequence(np.zeros((5, 2, 3)))


# --- codebook -------------------------------------------------------------------------------

def test_codebook_stats_known_values():
    s = codebook_stats(np.array([[0, 0], [1, 1]]), 4)
    assert s.utilization == 0.5 and s.used == 2 and s.tokens == 4
    assert s.perplexity == pytest.approx(2.0)
    assert s.normalized_entropy == pytest.approx(0.5)
    assert s.counts == [2, 2, 0, 0]
    u = codebook_stats(np.arange(512), 512)
    assert u.utilization == 1.0 and u.perplexity == pytest.approx(512)
    assert u.normalized_entropy == pytest.approx(1.0)
    one = codebook_stats(np.full(10, 7), 512)
    assert one.perplexity == pytest.approx(1.0) and one.normalized_entropy == 0.0
    with pytest.raises(ValueError, match=r"\[0, 4\)"):
        codebook_stats(np.array([0, 4]), 4)


def test_sorted_usage():
    np.testing.assert_allclose(sorted_usage(np.array([1, 5, 0, 4])), [0.5, 0.4, 0.1, 0.0])


def test_utilization_per_epoch_from_a_lightning_style_csv(tmp_path):
    log = tmp_path / "metrics.csv"
    log.write_text("epoch,step,train/loss,val/codebook_utilization\n"
                   "0,10,1.0,\n0,19,0.9,0.25\n1,29,0.8,\n1,39,0.7,0.5\n2,49,0.6,0.75\n")
    assert utilization_per_epoch(log) == [(0, 0.25), (1, 0.5), (2, 0.75)]
    rows = [{"epoch": 0, "util": 0.1}, {"epoch": 0, "util": 0.2}, {"epoch": 3, "util": 0.9}]
    assert utilization_per_epoch(rows, column="util") == [(0, 0.2), (3, 0.9)]
    with pytest.raises(ValueError, match="which column"):
        utilization_per_epoch([{"epoch": 0, "loss": 1.0}])


# --- semantic recall ------------------------------------------------------------------------

def test_head_tail_split_rule():
    s = split_head_tail({"a": 50, "b": 30, "c": 10, "d": 5, "e": 5})
    assert s.head == ["a"] and s.tail == ["b", "c", "d", "e"]
    s = split_head_tail({"a": 40, "b": 30, "c": 30, "z": 0})
    assert s.head == ["a", "b"] and s.tail == ["c", "z"] and "50%" in s.rule


def test_event_recalled_tolerance_and_duration():
    fps = 10.0
    pred = np.zeros(40, int)
    pred[21:24] = 2  # starts just after t1 + 0.5 s = 2.0 s (frame 20)
    assert not event_recalled(pred, 2, 1.0, 1.5, fps)
    pred[:] = 0
    pred[19:22] = 2  # frames 19, 20 are inside: 0.2 s
    assert event_recalled(pred, 2, 1.0, 1.5, fps)
    assert not event_recalled(pred, 2, 1.0, 1.5, fps, min_duration_s=0.3)
    assert not event_recalled(pred, 3, 1.0, 1.5, fps)


def test_semantic_recall_overall_head_tail():
    fps = 10.0
    classes = ["wave", "point", "shrug"]
    p1 = np.zeros(100, int)
    p1[10:20] = 1  # wave at 1-2 s
    p1[50:60] = 3  # shrug at 5-6 s
    p2 = np.zeros(100, int)
    p2[30:40] = 1
    events = [[("wave", 1.0, 2.0), ("point", 3.0, 4.0), ("shrug", 5.0, 6.0)],
              [("wave", 3.0, 4.0), ("nod", 6.0, 7.0)]]
    r = semantic_recall([p1, p2], events, classes, fps, {"wave": 10, "point": 3, "shrug": 1})
    assert r.events == 4 and r.unknown_events == 1
    assert r.all == pytest.approx(3 / 4)
    assert r.head == pytest.approx(1.0)  # wave holds 10/14 ≥ 50 %
    assert r.tail == pytest.approx(1 / 2)  # point missed, shrug recalled
    assert list(r.per_class) == ["wave", "point", "shrug"]
    assert r.per_class["point"]["recall"] == 0.0 and r.per_class["wave"]["group"] == "head"
    assert r.macro == pytest.approx((1 + 0 + 1) / 3)
    assert "head" in r.rule and "0.5 s" in r.protocol


def test_metrics_import_neither_torch_nor_models():
    import subprocess
    import sys

    code = ("import sys, eggesture.metrics; "
            "print([m for m in ('torch', 'eggesture.models', 'eggesture.training') "
            "if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_gesture_precision_counts_detections_matching_an_event_of_their_class():
    from eggesture.metrics.recall import detections, semantic_recall

    fps = 10.0
    pred = np.zeros(100, int)
    pred[10:14] = 1   # 1.0–1.3 s: class a, on its event (1.2–1.8 s) → correct
    pred[40:43] = 2   # 4.0–4.2 s: class b, no b event near → wrong
    pred[60:62] = 1   # 6.0–6.1 s: class a, ends 0.4 s before an a event at 6.5 s → correct (tol 0.5)
    pred[80] = 1      # one frame: shorter than 0.2 s → not a detection
    assert detections(pred, fps) == [(1, 10, 13), (2, 40, 42), (1, 60, 61)]
    events = [[("a", 1.2, 1.8), ("a", 6.5, 7.0), ("b", 9.0, 9.5)]]
    r = semantic_recall([pred], events, ["a", "b"], fps, {"a": 5, "b": 1})
    assert r.detections == 3 and r.precision == pytest.approx(2 / 3)
    assert r.all == pytest.approx(2 / 3)  # both a events recalled, the b event not
    assert semantic_recall([np.zeros(100, int)], events, ["a", "b"], fps, {"a": 5}).precision is None


def test_t_interval_known_values():
    from eggesture.metrics.intervals import t_interval

    iv = t_interval([1.0, 3.0])
    assert iv.mean == 2.0 and iv.n == 2
    assert iv.half_width == pytest.approx(12.7062, rel=1e-4)  # t_{0.975, 1} · s / √n, s = √2
    iv3 = t_interval([1.0, 2.0, 3.0, None, float("nan")])
    assert iv3.n == 3 and iv3.half_width == pytest.approx(4.3027 / 3 ** 0.5, rel=1e-4)
    one = t_interval([5.0])
    assert one.mean == 5.0 and one.low is None and one.format() == "5.000"
    assert iv.format(1) == "2.0 ± 12.7"


def test_bootstrap_rate_covers_the_rate_and_shrinks_with_events():
    from eggesture.metrics.intervals import bootstrap_rate, separated

    rng = np.random.default_rng(0)
    small = bootstrap_rate([rng.random(40) < 0.5])
    big = bootstrap_rate([rng.random(1000) < 0.5])
    assert small.low < 0.5 < small.high and big.low < 0.5 < big.high
    assert big.high - big.low < 0.5 * (small.high - small.low)  # ∝ 1/√n
    # All recalled: no spread. Three runs on the same events: the mean of their rates.
    assert bootstrap_rate([np.ones(30)]).to_dict()["low"] == 1.0
    runs = [np.r_[np.ones(10), np.zeros(10)], np.ones(20), np.zeros(20)]
    iv = bootstrap_rate(runs)
    assert iv.mean == pytest.approx(0.5) and iv.n == 20 and "3 runs" in iv.method
    with pytest.raises(ValueError):
        bootstrap_rate([np.ones(3), np.ones(4)])  # paired runs must score the same events
    far = bootstrap_rate([np.ones(200)]), bootstrap_rate([np.zeros(200)])
    assert separated(*far) and not separated(small, big)
    a = np.arange(50) % 3 == 0  # deterministic given its seed; another seed, other replicates
    assert bootstrap_rate([a]).to_dict() == bootstrap_rate([a]).to_dict()
    assert bootstrap_rate([a], seed=1).low != bootstrap_rate([a], seed=2).low or \
        bootstrap_rate([a], seed=1).high != bootstrap_rate([a], seed=2).high


def test_semantic_recall_reports_outcomes_and_their_intervals():
    preds = [np.r_[np.zeros(10), np.ones(10), np.zeros(10)].astype(int)]
    events = [[("a", 0.7, 1.2), ("b", 1.5, 1.8)]]
    r = semantic_recall(preds, events, ["a", "b"], 10.0, {"a": 5, "b": 1})
    assert r.outcomes["recalled"] == [1, 0] and r.outcomes["group"] == ["head", "tail"]
    assert r.outcomes["detection_correct"] == [1]
    assert r.intervals["all"]["mean"] == 0.5 and r.intervals["head"]["low"] == 1.0
    assert r.intervals["tail"]["high"] == 0.0


# --- arm-motion statistics (the calibration of the synthetic speaker) -------------------------

def test_motion_profile_of_known_motions():
    from eggesture.metrics.motion_stats import LEFT_ARM, motion_profile

    t = np.arange(30 * 20) / 30.0
    still = np.zeros((len(t), 55, 3))
    p = motion_profile(still)
    assert p["speed"] == 0 and p["moving_share"] == 0 and p["strokes_per_min"] == 0
    assert p["hold_s"] == pytest.approx((len(t) - 1) / 30)  # one hold, the whole motion
    wave = still.copy()
    wave[:, list(LEFT_ARM), 0] = 0.3 * np.sin(2 * np.pi * 1.5 * t)[:, None]  # left arm only
    p = motion_profile(wave)
    assert p["left_share"] == pytest.approx(1.0)
    assert p["speed_centroid_hz"] == pytest.approx(1.5, abs=0.05)
    # |d/dt 0.3 sin(ωt)| averages 0.3·ω·2/π per second; 4 of 8 joints, 1 of 3 components move.
    expected = 0.3 * 2 * np.pi * 1.5 * 2 / np.pi / 30 * (4 / 8) / 3
    assert p["speed"] == pytest.approx(expected, rel=0.02)
    assert p["amplitude"] == pytest.approx(0.3 / np.sqrt(2) * (4 / 8) / 3, rel=0.02)
    assert p["strokes_per_min"] == pytest.approx(2 * 1.5 * 60, rel=0.05)  # two speed peaks a cycle
