"""Window preparation and its on-disk cache."""

from __future__ import annotations

import numpy as np
import pytest

from beat2_folder import write_folder
from eggesture.data import windows as W
from eggesture.data.motion import axis_angle_to_6d, resample_rotations
from eggesture.errors import DataError


def test_sample_window_counts_follow_stride_arithmetic(beat2_sample):
    data = W.prepare(beat2_sample, W.WindowSettings(stride=30), train_splits=("test",))
    assert data.motion.shape == (953, 43, 6)
    assert data.windows(["test"]).shape == ((953 - 300) // 30 + 1, 2)
    assert data.windows(["test"], stride=300).shape == (3, 2)
    assert data.windows(["train"]).shape == (0, 2)
    w = data.window(0, 300)
    assert w["motion"].shape == (300, 43, 6) and w["audio_feats"].shape == (1200, W.N_FEATURES)
    assert w["audio"].shape == (320000,) and w["words"].shape == (300,)
    # Words are frame-aligned: the window starting at 20 s holds the words spoken then.
    assert (w["words"] != W.PAD).mean() > 0.5


def test_prepared_motion_is_slerped_6d_of_the_joint_set(tmp_path):
    root = write_folder(tmp_path / "b", {"1_x_0_1_1": "train", "1_x_0_2_2": "test"}, seconds=6)
    data = W.prepare(root, W.WindowSettings(length=40, stride=10, joint_set="upper"))
    raw = np.load(root / "smplxflame_30" / "1_x_0_1_1.npz")["poses"].reshape(-1, 55, 3)
    upper = [3, 6, 9, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21]
    expected = axis_angle_to_6d(resample_rotations(raw[:, upper], 30, 15))
    np.testing.assert_allclose(data.sequence(0)["motion"], expected, atol=1e-5)
    assert data.n_frames(0) == 90 and data.windows(["train"]).shape == (6, 2)
    # Normalisation statistics come from the training split only.
    train = np.asarray(data.sequence(0)["motion"]).reshape(90, -1)
    np.testing.assert_allclose(data.norm.mean, train.mean(0), atol=1e-5)
    # The vocabulary is built from training words; PAD and UNK are reserved.
    assert data.vocab[:2] == ["<pad>", "<unk>"] and "hello" in data.vocab


def test_cache_is_reused_and_keyed_by_settings(tmp_path, monkeypatch):
    root = write_folder(tmp_path / "b", {"1_x_0_1_1": "train"}, seconds=4)
    first = W.prepare(root, W.WindowSettings(length=20, stride=5))
    calls = []
    monkeypatch.setattr(W, "_resample_clip", lambda *a: calls.append(a))
    again = W.prepare(root, W.WindowSettings(length=20, stride=5))
    assert calls == [] and isinstance(again.motion, np.memmap)
    np.testing.assert_array_equal(np.asarray(again.motion), np.asarray(first.motion))
    with pytest.raises(TypeError):  # a new setting misses the cache and rebuilds
        W.prepare(root, W.WindowSettings(length=20, stride=5, joint_set="upper"))


def test_interrupted_cache_build_is_rebuilt(tmp_path):
    root = write_folder(tmp_path / "b", {"1_x_0_1_1": "train"}, seconds=4)
    settings = W.WindowSettings(length=20, stride=5)
    W.prepare(root, settings)
    (folder,) = (W.cache_root() / "windows").iterdir()
    (folder / "motion.npy").write_bytes(b"truncated")
    data = W.prepare(root, settings)  # corrupt cache: detected and rebuilt
    assert data.motion.shape == (60, 43, 6)


def test_changed_data_invalidates_cache(tmp_path):
    root = write_folder(tmp_path / "b", {"1_x_0_1_1": "train"}, seconds=4)
    settings = W.WindowSettings(length=20, stride=5)
    assert W.prepare(root, settings).n_frames(0) == 60
    write_folder(root, {"1_x_0_1_1": "train"}, seconds=6)
    assert W.prepare(root, settings).n_frames(0) == 90


def test_no_training_sequences_is_a_clear_error(tmp_path):
    root = write_folder(tmp_path / "b", {"1_x_0_1_1": "test"}, seconds=3)
    with pytest.raises(DataError, match=r"no sequences in the training split\(s\) \['train'\]"):
        W.prepare(root, W.WindowSettings(length=20))


def test_settings_validation():
    with pytest.raises(ValueError, match="multiple of 4"):
        W.WindowSettings(length=30)
