"""``model.lookahead``: a classifier that never sees more of the future than it was told."""

import numpy as np
import pytest
import torch

from eggesture.config import load_config
from eggesture.errors import ConfigError
from eggesture.features.audio import FEATURE_REACH_S, N_FEATURES, SR, audio_features
from eggesture.models.builders import build_classifier
from eggesture.models.classifier import lookahead_plan, lookahead_reach
from eggesture.models.encoders import AudioEncoder

FEATS_PER_TOKEN = 16  # 4 feature frames per motion frame, 4 frames per token


@pytest.mark.parametrize("seconds,plan", [(0.25, (0, 7)), (0.5, (1, 8)), (1.0, (3, 10))])
def test_the_plan_reaches_as_far_as_allowed_and_no_further(seconds, plan):
    # by hand at 15 fps (60 feature frames a second): 0.5 s → ⌊(0.5 − 0.042)·60⌋ = 27 frames
    # past the token's first; its own 15 and the stem's 4 leave 8: one memory token (16) less 8
    assert lookahead_plan(seconds, 15.0) == plan
    n, d = plan
    assert lookahead_reach(n, d, 15.0) <= seconds
    assert lookahead_reach(n, d - 1, 15.0) > seconds  # one feature frame more would pass it


def test_a_lookahead_shorter_than_the_features_or_with_an_lstm_is_refused():
    with pytest.raises(ConfigError, match="shorter than the audio features"):
        load_config("tiny", ["model.lookahead=0.08"])
    with pytest.raises(ConfigError, match="needs model.classifier=transformer"):
        load_config("tiny", ["model.lookahead=0.5", "model.classifier=lstm"])
    # the shortest: the stem's 4 feature frames + the analysis window (0.042 s): 0.109 s at 15 fps
    with pytest.raises(ConfigError, match=r"reach \(0.109 s\)"):
        load_config("tiny", ["model.lookahead=0.1"])
    assert load_config("tiny", ["model.lookahead=0.11"]).model.lookahead == 0.11
    assert load_config("tiny", ["model.lookahead=0.1", "data.fps=30"]).model.lookahead == 0.1


def _classifier(lookahead):
    cfg = load_config("tiny", [f"model.lookahead={lookahead}", "model.dropout=0",
                               "model.text_dropout=0", "model.word_dropout=0"])
    torch.manual_seed(0)
    return build_classifier(cfg, ["<pad>", "<unk>", *[f"w{i}" for i in range(20)]],
                            N_FEATURES).eval(), cfg


@pytest.mark.parametrize("lookahead", [0.25, 0.5, 1.0])
def test_token_t_depends_on_audio_and_words_up_to_its_reach_only(lookahead):
    clf, cfg = _classifier(lookahead)
    n, d = lookahead_plan(lookahead, cfg.data.fps)
    tokens = cfg.data.length // 4
    g = torch.Generator().manual_seed(1)
    feats = torch.randn(1, tokens * FEATS_PER_TOKEN, N_FEATURES, generator=g)
    words = torch.randint(2, 22, (1, cfg.data.length), generator=g)
    seed = torch.randint(0, cfg.model.codebook_size, (1, 2), generator=g)
    codes = torch.randn(cfg.model.codebook_size, cfg.model.code_dim, generator=g)
    with torch.no_grad():
        base = clf(feats, words, seed, codes)
        t = 3
        reach = FEATS_PER_TOKEN * (t + n + 1) - 1 - d + AudioEncoder.STEM_REACH  # last frame seen
        later = feats.clone()
        later[:, reach + 1:] += torch.randn(later[:, reach + 1:].shape, generator=g)
        moved = clf(later, words, seed, codes)
        assert torch.allclose(moved[:, : t + 1], base[:, : t + 1], atol=1e-5)
        assert not torch.allclose(moved[:, t + 1:], base[:, t + 1:], atol=1e-3)
        at_reach = feats.clone()
        at_reach[:, reach] += 5 * torch.randn(N_FEATURES, generator=g)  # (a shift the norm would undo)
        assert not torch.allclose(clf(at_reach, words, seed, codes)[:, t], base[:, t], atol=1e-4)
        # words: the memory token t + n holds frames up to 4(t + n) + 3
        other = words.clone()
        other[:, 4 * (t + n + 1):] = 1
        assert torch.allclose(clf(feats, other, seed, codes)[:, : t + 1], base[:, : t + 1], atol=1e-5)


def test_without_a_lookahead_the_first_token_sees_the_last_audio():
    clf, cfg = _classifier("null")
    feats = torch.randn(1, cfg.data.length * 4, N_FEATURES)
    codes = torch.randn(cfg.model.codebook_size, cfg.model.code_dim)
    with torch.no_grad():
        base = clf(feats, None, None, codes)
        feats[:, -1] += 5 * torch.randn(N_FEATURES)
        assert not torch.allclose(clf(feats, None, None, codes)[:, 0], base[:, 0], atol=1e-5)


def test_a_feature_frame_depends_on_the_audio_up_to_the_features_reach():
    rng = np.random.default_rng(0)
    wave = rng.standard_normal(SR * 2).astype(np.float32) * 0.1
    fps, i = 15.0, 60  # feature frame 60 sits at 1.0 s
    base = audio_features(wave, 30, fps)
    cut = int(np.ceil((i / (4 * fps) + FEATURE_REACH_S) * SR)) + 1
    changed = wave.copy()
    changed[cut:] = rng.standard_normal(changed[cut:].shape) * 0.5
    after = audio_features(changed, 30, fps)
    np.testing.assert_allclose(after[: i + 1], base[: i + 1], atol=1e-5)
    assert not np.allclose(after[i + 4], base[i + 4], atol=1e-3)


def test_the_option_left_at_its_default_keeps_the_run_folders_of_runs_made_before_it():
    import hashlib
    import json
    import os

    from eggesture.runs import run_key

    cfg = load_config("tiny", ["data.root=somewhere"])
    d = cfg.to_dict()  # the key as it was computed before model.lookahead existed
    for k in ("seed", "out", "progress", "num_workers"):
        d["train"].pop(k)
    d["model"].pop("lookahead")  # the options added since, at their defaults
    d["train"].pop("audio_augment")
    d["data"]["root"] = os.path.abspath("somewhere")
    before = hashlib.sha256(json.dumps(d, sort_keys=True, default=str).encode()).hexdigest()[:12]
    assert run_key(cfg) == before
    assert run_key(load_config("tiny", ["data.root=somewhere", "model.lookahead=0.5"])) != before
    assert run_key(load_config("tiny", ["data.root=somewhere", "train.audio_augment=0.5"])) != before
