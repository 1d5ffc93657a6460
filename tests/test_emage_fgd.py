"""EMAGE's FGD (:mod:`eggesture.evaluation.emage_fgd`): the checkpoint layout of
``AESKConv_240_100.bin`` (written here from a seeded model; the real file is not shipped), its
loader's one-line errors, pytorch3d's row-convention 6D, the 32-frame trim and 16× downsampling,
and the reference's Fréchet variant on inputs whose answer is known."""

from __future__ import annotations

import argparse

import numpy as np
import pytest
import torch

from eggesture.errors import CheckpointError
from eggesture.evaluation import emage_fgd as EF


@pytest.fixture(scope="module")
def model() -> EF.AESKConv:
    torch.manual_seed(0)
    return EF.build_emage_fgd_model().eval()


def _poses(n_frames: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(scale=0.4, size=(n_frames, 55, 3))


def _save(path, state: dict[str, torch.Tensor]) -> None:
    torch.save({"model_state": {"module." + k: v for k, v in state.items()}}, path)


# --- layout and loading ---------------------------------------------------------------------

def test_layout_has_the_checkpoints_keys_and_sizes(model):
    state = model.state_dict()
    assert len(state) == EF.N_STATE_TENSORS == 56
    assert sum(p.numel() for p in model.parameters()) == EF.N_PARAMETERS == 4_384_500
    assert model.encoder.edge_counts == [55, 35, 20, 20, 20]
    shapes = {
        "fc_mu.weight": (240, 240),
        "encoder.layers.0.0.residual.0.mask": (330, 330, 4),
        "encoder.layers.0.0.residual.1.weight": (330,),  # GroupNorm
        "encoder.layers.0.0.shortcut.weight": (330, 330, 1),
        "encoder.layers.0.0.common.0.weight": (210, 330),  # pooling 55 → 35 edges
        "encoder.layers.1.0.common.0.weight": (120, 210),  # 35 → 20
        "encoder.layers.2.0.residual.0.weight": (240, 120, 4),
        "encoder.layers.3.0.residual.0.weight": (240, 240, 4),
        "decoder.main.0.model.2.weight": (240, 240, 3),
        "decoder.main.12.weight": (330, 240, 3),
        "decoder.main.14.weight": (330, 330, 3),
    }
    assert {k: tuple(state[k].shape) for k in shapes} == shapes
    # Layers 2 and 3 remove no edge, so they hold no pooling matrix.
    assert "encoder.layers.2.0.common.0.weight" not in state
    assert "encoder.layers.3.0.common.0.weight" not in state


def test_mask_of_the_root_edge_sees_its_neighbours_within_two():
    # Edge 0 is the virtual (0, 55); 1-3 leave the pelvis; 4-6 continue them (hips → knees,
    # spine1 → spine2): 7 edges × 6 channels = input channels 0..41, nothing else.
    conv = EF.build_emage_fgd_model().encoder.layers[0][0].residual[0]
    assert conv.mask[:6, :, 0].nonzero()[:, 1].unique().tolist() == list(range(42))
    assert not conv.mask.requires_grad


def test_checkpoint_round_trip_loads_strictly_and_gives_the_same_features(model, tmp_path):
    path = tmp_path / "AESKConv_240_100.bin"
    _save(path, model.state_dict())
    loaded = EF.load_emage_fgd_model(path)
    assert not loaded.training
    assert loaded.state_dict().keys() == model.state_dict().keys()
    assert sum(p.numel() for p in loaded.parameters()) == 4_384_500
    poses = _poses(64)
    feats = EF.emage_features(loaded, [poses])
    assert feats.shape == (4, 240) and feats.dtype == np.float64  # 64 frames / 16
    np.testing.assert_array_equal(feats, EF.emage_features(model, [poses]))
    fresh = EF.emage_features(EF.build_emage_fgd_model(), [poses])
    assert not np.allclose(feats, fresh)


def test_features_are_the_encoder_output_not_fc_mu():
    # variational=False: map2latent returns the encoder output; fc_mu / fc_logvar are unused.
    torch.manual_seed(0)
    net = EF.build_emage_fgd_model().eval()
    poses = _poses(32)
    before = EF.emage_features(net, [poses])
    with torch.no_grad():
        net.fc_mu.weight.normal_()
        net.fc_logvar.weight.normal_()
    np.testing.assert_array_equal(EF.emage_features(net, [poses]), before)
    x = torch.from_numpy(EF.emage_6d(poses))[None]  # (1, 32, 330)
    np.testing.assert_array_equal(before, net.encoder(x)[0].detach().numpy())


def test_wrong_shape_names_the_key(model, tmp_path):
    state = dict(model.state_dict())
    state["fc_logvar.bias"] = torch.zeros(7)
    _save(tmp_path / "bad.bin", state)
    with pytest.raises(CheckpointError, match=r"fc_logvar\.bias has shape \(7,\), expected \(240,\)"):
        EF.load_emage_fgd_model(tmp_path / "bad.bin")


def test_missing_and_unexpected_keys(model, tmp_path):
    state = dict(model.state_dict())
    del state["decoder.main.14.bias"]
    state["extra.weight"] = torch.zeros(1)
    _save(tmp_path / "bad.bin", state)
    with pytest.raises(CheckpointError, match="not an EMAGE AESKConv_240_100 checkpoint") as e:
        EF.load_emage_fgd_model(tmp_path / "bad.bin")
    assert "1 missing key(s) (decoder.main.14.bias)" in str(e.value)
    assert "1 unexpected key(s) (extra.weight)" in str(e.value)


def test_missing_file(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        EF.load_emage_fgd_model(tmp_path / "nope.bin")


@pytest.mark.parametrize("kind", ["text", "pickle"])
def test_unloadable_file_is_one_line(tmp_path, kind):
    path = tmp_path / "AESKConv_240_100.bin"
    if kind == "text":
        path.write_text("not a checkpoint\nat all\n")
    else:  # a pickle of an arbitrary object, refused by weights_only
        torch.save({"model_state": argparse.Namespace(a=1)}, path)
    with pytest.raises(CheckpointError, match=r"not loadable by torch\.load\(weights_only=True\)") as e:
        EF.load_emage_fgd_model(path)
    assert "\n" not in str(e.value) and str(path) in str(e.value)


# --- 6D ---------------------------------------------------------------------------------------

def test_emage_6d_takes_the_first_two_rows():
    aa = np.zeros((2, 55, 3))
    aa[1, 7] = [0.0, 0.0, np.pi / 2]  # 90° about z: R = [[0, -1, 0], [1, 0, 0], [0, 0, 1]]
    six = EF.emage_6d(aa)
    assert six.shape == (2, 330) and six.dtype == np.float32
    np.testing.assert_allclose(six[0].reshape(55, 6), np.tile([1, 0, 0, 0, 1, 0], (55, 1)))
    np.testing.assert_allclose(six[1, 42:48], [0, -1, 0, 1, 0, 0], atol=1e-7)  # rows, not columns
    np.testing.assert_allclose(six[1, 36:42], [1, 0, 0, 0, 1, 0])


def test_emage_6d_rejects_other_shapes():
    with pytest.raises(ValueError, match=r"\(T, 55, 3\)"):
        EF.emage_6d(np.zeros((4, 22, 3)))


# --- trimming and pooling ---------------------------------------------------------------------

@pytest.mark.parametrize(("n_frames", "rows"), [(32, 2), (70, 4), (100, 6)])
def test_trim_to_a_multiple_of_32_then_one_row_per_16_frames(model, n_frames, rows):
    poses = _poses(n_frames)
    feats = EF.emage_features(model, [poses])
    assert feats.shape == (rows, 240)
    kept = n_frames - n_frames % 32  # the tail is dropped, not the head
    np.testing.assert_array_equal(feats, EF.emage_features(model, [poses[:kept]]))


def test_sequences_pool_their_rows(model):
    a, b = _poses(64, seed=1), _poses(96, seed=2)
    both = EF.emage_features(model, [a, b])
    np.testing.assert_array_equal(
        both, np.concatenate([EF.emage_features(model, [a]), EF.emage_features(model, [b])]))


def test_too_short_and_wrong_fps_refused(model):
    with pytest.raises(ValueError, match="at least 32"):
        EF.emage_features(model, [_poses(64), _poses(31)])
    with pytest.raises(ValueError, match="30 fps"):
        EF.emage_features(model, [_poses(64)], fps=15)
    with pytest.raises(ValueError, match="30 fps"):
        EF.emage_fgd(model, [_poses(64)], [_poses(64)], fps=60)


# --- Fréchet distance -------------------------------------------------------------------------

def test_frechet_1d_closed_form_with_eps_inside_the_root():
    rng = np.random.default_rng(0)
    x, y = rng.normal(1.0, 2.0, size=(500, 1)), rng.normal(-0.5, 0.5, size=(400, 1))
    v1, v2 = x.var(ddof=1), y.var(ddof=1)  # np.cov's ddof
    eps = EF.EPS
    expected = (x.mean() - y.mean()) ** 2 + v1 + v2 - 2 * np.sqrt((v1 + eps) * (v2 + eps))
    got = EF.frechet_distance_emage(x, y)
    assert isinstance(got, float)
    assert got == pytest.approx(expected, rel=1e-12)
    # Without ε, or with ddof 0, the value differs beyond that tolerance.
    d2 = (x.mean() - y.mean()) ** 2
    assert got != pytest.approx(d2 + v1 + v2 - 2 * np.sqrt(v1 * v2), rel=1e-12)
    w1, w2 = x.var(), y.var()
    assert got != pytest.approx(d2 + w1 + w2 - 2 * np.sqrt((w1 + eps) * (w2 + eps)), rel=1e-12)


def test_frechet_of_a_set_with_itself_is_minus_two_eps_d():
    x = np.random.default_rng(1).normal(size=(300, 8))
    assert EF.frechet_distance_emage(x, x) == pytest.approx(-2 * EF.EPS * 8, abs=1e-10)
    shift = np.array([1.0, -2.0, 0, 0, 0, 0, 0, 0.5])
    assert EF.frechet_distance_emage(x, x + shift) == pytest.approx(
        shift @ shift - 2 * EF.EPS * 8, abs=1e-9)


def test_emage_fgd_is_the_frechet_of_the_features(model):
    gen, ref = [_poses(64, seed=3), _poses(70, seed=4)], [_poses(96, seed=5)]
    value = EF.emage_fgd(model, gen, ref)
    assert value == EF.frechet_distance_emage(EF.emage_features(model, gen),
                                              EF.emage_features(model, ref))
    assert value > 0.01
    assert abs(EF.emage_fgd(model, ref, ref)) < 1e-3  # −2εD = −4.8e-4 up to sqrtm's rounding
