"""Rotation conversions, joint sets, slerp resampling and normalisation statistics."""

from __future__ import annotations

import numpy as np
import pytest
import roma
import torch

from eggesture.data import motion as m


def random_rotvec(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    axis = rng.normal(size=(n, 3))
    axis /= np.linalg.norm(axis, axis=1, keepdims=True)
    return axis * rng.uniform(0, np.pi * 0.999, size=(n, 1))


def test_joint_sets_match_design():
    assert m.NUM_SMPLX_JOINTS == 55 and len(m.SMPLX_PARENTS) == 55
    assert len(m.JOINT_SETS["upper"]) == 13
    assert m.JOINT_SETS["upper"] == (3, 6, 9, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21)
    assert m.JOINT_SETS["hands"] == tuple(range(25, 55))
    assert len(m.JOINT_SETS["upper_hands"]) == 43
    assert m.joint_names("upper")[-2:] == ["left_wrist", "right_wrist"]
    # Parents precede children, so forward kinematics can run in index order.
    assert all(p < j for j, p in enumerate(m.SMPLX_PARENTS))
    with pytest.raises(ValueError, match="unknown joint set"):
        m.joint_indices("legs")


def test_6d_round_trip_and_layout():
    aa = random_rotvec(500)
    six = m.axis_angle_to_6d(aa)
    assert six.shape == (500, 6)
    mat = m.axis_angle_to_matrix(aa)
    # The 6D vector is the first column followed by the second column.
    np.testing.assert_allclose(six[:, :3], mat[:, :, 0], atol=1e-12)
    np.testing.assert_allclose(six[:, 3:], mat[:, :, 1], atol=1e-12)
    back = m.sixd_to_axis_angle(six)
    np.testing.assert_allclose(m.axis_angle_to_matrix(back), mat, atol=1e-9)
    # Torch in, torch out.
    t = m.axis_angle_to_6d(torch.as_tensor(aa))
    assert isinstance(t, torch.Tensor)


def test_6d_to_matrix_orthonormalises_noisy_input():
    six = m.axis_angle_to_6d(random_rotvec(50)) + np.random.default_rng(1).normal(0, 0.1, (50, 6))
    mat = m.sixd_to_matrix(six)
    np.testing.assert_allclose(mat @ np.swapaxes(mat, -1, -2), np.broadcast_to(np.eye(3), mat.shape),
                               atol=1e-9)
    np.testing.assert_allclose(np.linalg.det(mat), 1.0, atol=1e-9)


@pytest.mark.parametrize("order", ["ZXY", "XYZ", "ZYX", "YXZ"])
def test_euler_is_intrinsic_in_channel_order(order):
    angles = np.array([[30.0, -45.0, 60.0]])
    mat = m.euler_to_matrix(angles, order)
    expected = np.eye(3)
    for axis, angle in zip(order, angles[0]):
        expected = expected @ roma.euler_to_rotmat(axis, [angle], degrees=True).numpy()
    np.testing.assert_allclose(mat[0], expected, atol=1e-9)
    np.testing.assert_allclose(m.matrix_to_euler(mat, order), angles, atol=1e-6)


def test_resampled_length():
    assert m.resampled_length(1906, 30, 15) == 953
    assert m.resampled_length(1, 30, 15) == 1
    assert m.resampled_length(0, 30, 15) == 0
    assert m.resampled_length(240, 60, 15) == 60


def test_resample_keeps_shared_frames_exact_and_slerps_between():
    aa = random_rotvec(20, seed=3).reshape(10, 2, 3)
    down = m.resample_rotations(aa, 30, 15)
    assert down.shape == (5, 2, 3)
    np.testing.assert_allclose(down, aa[::2], atol=1e-12)
    up = m.resample_rotations(aa, 30, 60, n_out=19)
    # Midpoint of the geodesic: equal angles to both ends.
    r = m.axis_angle_to_matrix(up[1])
    r0, r1 = m.axis_angle_to_matrix(aa[0]), m.axis_angle_to_matrix(aa[1])
    d0 = roma.rotmat_geodesic_distance(torch.as_tensor(r), torch.as_tensor(r0))
    d1 = roma.rotmat_geodesic_distance(torch.as_tensor(r), torch.as_tensor(r1))
    np.testing.assert_allclose(d0, d1, atol=1e-9)


def test_resample_crosses_the_pi_wrap_on_the_short_arc():
    # Rotations of 179° and 181° about z: a plain lerp of axis-angles passes through 0°;
    # slerp stays near 180°.
    a = np.array([[[0, 0, np.deg2rad(179)]], [[0, 0, np.deg2rad(181) - 2 * np.pi]]])
    mid = m.resample_rotations(a, 1, 2, n_out=3)[1, 0]
    assert np.rad2deg(np.linalg.norm(mid)) == pytest.approx(180, abs=1e-6)


def test_resample_linear():
    x = np.arange(10, dtype=np.float64)[:, None]
    np.testing.assert_allclose(m.resample_linear(x, 30, 60, n_out=19)[:, 0], np.arange(19) / 2)


def test_norm_stats_round_trip(tmp_path):
    x = np.random.default_rng(0).normal(3, 2, size=(100, 8)).astype(np.float32)
    x[:, 5] = 1.0  # a dimension that never moves
    stats = m.NormStats.compute(x)
    z = stats.normalize(x)
    np.testing.assert_allclose(z[:, :5].mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(z[:, :5].std(0), 1, atol=1e-4)
    assert np.isfinite(z).all() and stats.std[5] == pytest.approx(m.NormStats.MIN_STD)
    stats.save(tmp_path / "n.safetensors")
    again = m.NormStats.load(tmp_path / "n.safetensors")
    np.testing.assert_array_equal(again.mean, stats.mean)
    np.testing.assert_allclose(again.denormalize(z), x, atol=1e-5)
    with pytest.raises(ValueError, match="empty"):
        m.NormStats.compute(np.zeros((0, 4)))
