"""Speech augmentation for training (``train.audio_augment``, eggesture.features.augment)."""

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from eggesture.config import load_config
from eggesture.errors import ConfigError
from eggesture.features import augment as A
from eggesture.features.audio import SR


def _tone(seconds=1.0, hz=1000.0):
    t = np.arange(int(seconds * SR)) / SR
    return (0.3 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def test_noise_is_added_at_the_asked_snr_over_the_speech_not_the_pauses():
    speech = np.concatenate([_tone(), np.zeros(SR, np.float32)])  # half of it digital silence
    noise = A.coloured_noise(np.random.default_rng(0), speech.size, 1.0)
    assert abs(np.mean(noise ** 2) - 1.0) < 1e-3
    out = A.add_noise(speech, noise, 20.0)
    added = out - speech
    snr = 10 * np.log10(np.mean(speech[:SR] ** 2) / np.mean(added ** 2))
    assert abs(snr - 20.0) < 0.3


def test_a_tilt_of_6_db_per_octave_doubles_the_amplitude_an_octave_up():
    for hz, factor in ((1000.0, 1.0), (2000.0, 2.0), (500.0, 0.5)):
        out = A.tilt(_tone(hz=hz), 6.02)
        assert abs(np.abs(out).max() / 0.3 - factor) < 0.02, hz
    np.testing.assert_allclose(A.tilt(_tone(hz=700.0), 0.0), _tone(hz=700.0), atol=1e-6)


def test_a_room_decays_by_60_db_over_its_rt60():
    ir = A.room(np.random.default_rng(1), 0.5)
    assert len(ir) == SR // 2 and ir[0] == 1.0
    first, last = np.mean(ir[1:800] ** 2), np.mean(ir[-800:] ** 2)
    assert 10 * np.log10(first / last) > 50


def test_augment_is_a_function_of_its_draws_and_keeps_length_and_range():
    wave = np.random.default_rng(2).standard_normal(SR * 2).astype(np.float32) * 0.2
    a = A.augment(wave, np.random.default_rng(5))
    b = A.augment(wave, np.random.default_rng(5))
    c = A.augment(wave, np.random.default_rng(6))
    assert a.shape == wave.shape and a.dtype == np.float32 and np.abs(a).max() <= 1.0
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_augmenting_needs_the_default_features():
    with pytest.raises(ConfigError, match="audio_augment needs model.audio_encoder=default"):
        load_config("tiny", ["train.audio_augment=0.5", "model.audio_encoder=hf:/nowhere"])
    with pytest.raises(ConfigError, match=r"audio_augment must be in \[0, 1\]"):
        load_config("tiny", ["train.audio_augment=1.5"])


@pytest.fixture(scope="module")
def small_corpus(tmp_path_factory):
    from beat2_folder import write_folder

    root = tmp_path_factory.mktemp("augment") / "b"
    return write_folder(root, {"1_x_0_1_1": "train", "1_x_0_2_2": "train", "1_x_0_3_3": "val"},
                        seconds=8)


def test_a_window_is_augmented_by_its_seed_epoch_and_index(small_corpus):
    from eggesture.recipes.train import prepare_data
    from eggesture.training.data import EpochShuffleSampler, WindowDataset

    data = prepare_data(load_config("tiny", [f"data.root={small_corpus}"]))
    plain = WindowDataset(data, ["train"])
    aug = WindowDataset(data, ["train"], augment=1.0, seed=3)
    assert torch.equal(plain[(0, 2)]["audio_feats"], plain[2]["audio_feats"])  # no augmentation
    x = aug[(0, 2)]["audio_feats"]
    assert x.shape == plain[2]["audio_feats"].shape
    assert not torch.allclose(x, plain[2]["audio_feats"], atol=1e-3)
    assert torch.equal(x, aug[(0, 2)]["audio_feats"])  # the same draws again
    assert not torch.equal(x, aug[(1, 2)]["audio_feats"])  # another epoch, other draws
    assert torch.equal(aug[(0, 2)]["motion"], plain[2]["motion"])  # the motion is untouched
    sampler = EpochShuffleSampler(5, seed=0)
    sampler.set_epoch(4)
    assert sorted(list(sampler)) == [(4, i) for i in range(5)]


def test_training_with_augmentation_is_deterministic_and_differs_from_without(small_corpus, tmp_path):
    from eggesture.recipes.train import train

    def run(name, *extra):
        cfg = load_config("tiny", [f"data.root={small_corpus}", f"train.out={tmp_path / name}",
                                   "train.progress=false", "train.epochs=2", *extra])
        return load_file(str(train(cfg).bundle / "model.safetensors"))

    a, b = run("a", "train.audio_augment=0.5"), run("b", "train.audio_augment=0.5")
    plain = run("plain")
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert any(not torch.equal(a[k], plain[k]) for k in a)
