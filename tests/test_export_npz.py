"""BEAT2-layout npz export: frame counts, slerp upsampling, rest-pose fill, layout, round trip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from eggesture.data.beat2 import read_motion
from eggesture.data.motion import axis_angle_to_matrix, joint_indices
from eggesture.data.poses import motion_to_poses, n_frames_for
from eggesture.errors import DataError
from eggesture.export.npz import read_motion_file, write_beat2_npz

UPPER_HANDS = joint_indices("upper_hands")  # 43 joints


def _random_rotvec(t: int, j: int, seed: int = 0, max_angle: float = 2.5) -> np.ndarray:
    """Random axis-angle ``(t, j, 3)`` with angles up to ``max_angle`` rad."""
    rng = np.random.default_rng(seed)
    axes = rng.normal(size=(t, j, 3))
    axes /= np.linalg.norm(axes, axis=-1, keepdims=True)
    return axes * rng.uniform(0, max_angle, size=(t, j, 1))


@pytest.mark.parametrize(("duration", "out_fps", "expected"), [
    (0.5, 30, 15), (7.0, 30, 210), (21.0, 30, 630), (7.0, 15, 105), (21.0, 15, 315),
    (7.25, 30, 218), (0.15, 30, 5), (0.05, 30, 2),  # halves round up, despite float error
])
def test_frame_count_is_round_duration_times_fps(duration, out_fps, expected):
    assert n_frames_for(duration, out_fps) == expected
    n_in = max(1, round(duration * 15))
    poses = motion_to_poses(_random_rotvec(n_in, len(UPPER_HANDS)), UPPER_HANDS, 15, duration,
                            out_fps=out_fps)
    assert poses.shape == (expected, 165)
    assert poses.dtype == np.float32


def test_slerp_upsampling_is_exact_at_shared_frames_and_geodesic_between():
    rot = _random_rotvec(20, len(UPPER_HANDS), seed=1)
    poses = motion_to_poses(rot, UPPER_HANDS, 15, 20 / 15, out_fps=30)  # 40 frames
    out = poses.reshape(40, 55, 3)[:, list(UPPER_HANDS)]
    # Even output frames are the input frames (as rotations: rotvecs may differ by the π wrap).
    np.testing.assert_allclose(axis_angle_to_matrix(out[0::2].astype(np.float64)),
                               axis_angle_to_matrix(rot), atol=2e-6)
    # Odd frames: the geodesic midpoint R0·exp(½·log(R0ᵀR1)); check it for one rotation axis
    # where the answer is known in closed form: angles a and b about z → (a + b) / 2.
    axis = np.array([0.0, 0.0, 1.0])
    angles = np.array([0.2, 1.0, 2.8, -2.9])  # the last step is short the other way, across π
    rz = angles[:, None, None] * axis  # (4, 1, 3)
    mid = motion_to_poses(rz, [15], 15, 4 / 15, out_fps=30).reshape(8, 55, 3)[:, 15]
    expect = [0.2, 0.6, 1.0, 1.9, 2.8, (2.8 + 2 * np.pi - 2.9) / 2, -2.9]  # not lerp's −0.05
    np.testing.assert_allclose(mid[:7] @ axis, expect, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(mid[:7], axis=-1), np.abs(expect), atol=1e-5)
    # Past the input's last frame (t = 3/15 s) the output holds it.
    np.testing.assert_allclose(mid[7] @ axis, -2.9, atol=1e-5)


def test_joints_not_generated_are_rest_pose_or_copied_from_base():
    rot = _random_rotvec(15, len(UPPER_HANDS), seed=2)
    poses = motion_to_poses(rot, UPPER_HANDS, 15, 1.0).reshape(30, 55, 3)
    others = [j for j in range(55) if j not in UPPER_HANDS]
    assert others == [0, 1, 2, 4, 5, 7, 8, 10, 11, 22, 23, 24]
    assert np.all(poses[:, others] == 0)
    assert np.abs(poses[:, list(UPPER_HANDS)]).max() > 0.5

    base = np.random.default_rng(3).normal(size=(30, 165)).astype(np.float32)
    with_base = motion_to_poses(rot, UPPER_HANDS, 15, 1.0, base=base).reshape(30, 55, 3)
    np.testing.assert_array_equal(with_base[:, others], base.reshape(30, 55, 3)[:, others])
    np.testing.assert_array_equal(with_base[:, list(UPPER_HANDS)], poses[:, list(UPPER_HANDS)])


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"rotvec": np.zeros((10, 42, 3))}, "43 joint indices"),
    ({"rotvec": np.zeros((10, 43, 4))}, r"\(T, J, 3\)"),
    ({"rotvec": np.full((10, 43, 3), np.nan)}, "NaN"),
    ({"duration_s": 0.01}, "shorter than one frame"),
    ({"base": np.zeros((29, 165))}, r"base must be \(30, 165\)"),
    ({"joint_indices": (*UPPER_HANDS[:-1], 55)}, r"\[0, 55\)"),
])
def test_motion_to_poses_rejects_inconsistent_input(kwargs, match):
    args = {"rotvec": np.zeros((15, 43, 3)), "joint_indices": UPPER_HANDS, "src_fps": 15,
            "duration_s": 1.0} | kwargs
    with pytest.raises(ValueError, match=match):
        motion_to_poses(**args)


def test_written_file_has_beat2_layout_and_loads_with_read_motion(tmp_path):
    rng = np.random.default_rng(4)
    poses = motion_to_poses(_random_rotvec(105, len(UPPER_HANDS)), UPPER_HANDS, 15, 7.0)
    trans = rng.normal(size=(210, 3))
    betas = rng.normal(size=300)
    expr = rng.normal(size=(210, 100))
    path = tmp_path / "gen.npz"
    write_beat2_npz(path, poses, 30, trans=trans, betas=betas, expressions=expr)
    with np.load(path, allow_pickle=False) as d:
        layout = {k: (d[k].dtype.str, d[k].shape) for k in d.files}
        assert str(d["model"]) == "smplx2020" and str(d["gender"]) == "neutral"
        assert int(d["mocap_frame_rate"]) == 30
    assert layout == {
        "poses": ("<f4", (210, 165)), "trans": ("<f8", (210, 3)), "betas": ("<f4", (300,)),
        "expressions": ("<f8", (210, 100)), "mocap_frame_rate": ("<i4", ()),
        "model": ("<U9", ()), "gender": ("<U7", ()),
    }
    back = read_motion(path)
    np.testing.assert_array_equal(back["poses"], poses)
    np.testing.assert_allclose(back["trans"], trans, rtol=1e-6)
    np.testing.assert_allclose(back["betas"], betas, rtol=1e-6)
    np.testing.assert_allclose(back["expressions"], expr, rtol=1e-6)
    assert [p.name for p in tmp_path.iterdir()] == ["gen.npz"]  # no temp file left


def test_layout_matches_the_real_beat2_file(beat2_sample, tmp_path):
    real = beat2_sample / "smplxflame_30" / "2_scott_0_1_1.npz"
    path = tmp_path / "gen.npz"
    write_beat2_npz(path, np.zeros((12, 165)), 30)
    with np.load(real) as a, np.load(path) as b:
        assert sorted(a.files) == sorted(b.files)
        for k in a.files:
            assert a[k].dtype == b[k].dtype, k
            assert a[k].ndim == b[k].ndim and a[k].shape[1:] == b[k].shape[1:], k
            if a[k].ndim == 0:
                assert a[k] == b[k], k


def test_defaults_are_zero_and_fps_15_is_stored(tmp_path):
    path = tmp_path / "m15.npz"
    write_beat2_npz(path, np.zeros((5, 165)), 15)
    with np.load(path) as d:
        assert int(d["mocap_frame_rate"]) == 15
        assert not d["trans"].any() and not d["betas"].any() and not d["expressions"].any()
    m = read_motion_file(path)
    assert m.fps == 15 and m.n_frames == 5 and m.duration == pytest.approx(1 / 3)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"poses": np.zeros((10, 162))}, r"\(T, 165\)"),
    ({"poses": np.full((10, 165), np.nan)}, "NaN"),
    ({"trans": np.zeros((9, 3))}, r"trans must have shape \(10, 3\)"),
    ({"expressions": np.zeros((10, 50))}, "expressions"),
    ({"fps": 29.97}, "positive integer"),
])
def test_bad_arrays_raise_and_write_nothing(tmp_path, kwargs, match):
    args = {"path": tmp_path / "x.npz", "poses": np.zeros((10, 165)), "fps": 30} | kwargs
    with pytest.raises(ValueError, match=match):
        write_beat2_npz(**args)
    assert list(tmp_path.iterdir()) == []


def test_failed_write_leaves_no_partial_file(tmp_path, monkeypatch):
    def boom(f, **arrays):
        f.write(b"PK half a zip")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", boom)
    with pytest.raises(OSError, match="disk full"):
        write_beat2_npz(tmp_path / "x.npz", np.zeros((10, 165)), 30)
    assert list(tmp_path.iterdir()) == []


def _write(path: Path, **arrays) -> Path:
    np.savez(path, **arrays)
    return path


@pytest.mark.parametrize(("make", "match"), [
    (lambda p: p / "missing.npz", "motion file not found"),
    (lambda p: (p / "m.txt").write_text("x") and p / "m.txt", "not a motion file"),
    (lambda p: (p / "bad.npz").write_text("not a zip") and p / "bad.npz", "not a readable npz"),
    (lambda p: _write(p / "k.npz", foo=np.zeros(3)), "no 'poses'"),
    (lambda p: _write(p / "w.npz", poses=np.zeros((4, 100))), r"expected \(T, 165\)"),
    (lambda p: _write(p / "e.npz", poses=np.zeros((0, 165))), "no frames"),
    (lambda p: _write(p / "n.npz", poses=np.r_[np.zeros((2, 165)), np.full((1, 165), np.nan)]),
     "frame 2"),
    (lambda p: _write(p / "t.npz", poses=np.zeros((4, 165)), trans=np.zeros((3, 3))), "'trans'"),
    (lambda p: _write(p / "f.npz", poses=np.zeros((4, 165)), mocap_frame_rate=0), "frame rate"),
])
def test_read_motion_file_errors_name_the_file(tmp_path, make, match):
    path = make(tmp_path)
    with pytest.raises(DataError, match=match) as info:
        read_motion_file(path)
    assert info.value.file == str(path)
    assert "\n" not in str(info.value)


def test_read_motion_file_reads_the_real_sample(beat2_sample):
    m = read_motion_file(beat2_sample / "smplxflame_30" / "2_scott_0_1_1.npz")
    assert m.fps == 30 and m.n_frames == 1906 and m.poses.shape == (1906, 165)
    assert m.trans.shape == (1906, 3) and len(m.parents) == 55


@pytest.mark.parametrize(("write", "what"), [
    (lambda p: p.write_text("hello"), "not a zip"),
    (lambda p: p.write_bytes(b"\x93NUMPY" + b"\0" * 64), "single-array .npy"),
    (lambda p: np.savez(p, poses=np.array([{"a": 1}], dtype=object)), "object arrays"),
])
def test_export_of_a_file_that_is_no_beat2_npz_says_so_without_numpys_pickle_hint(
        tmp_path, capsys, write, what):
    """Friction met in a fresh-clone trial: numpy's 'load it unsafely using allow_pickle' hint
    for a text file; the line now says what the file is and what was expected."""
    from eggesture.cli import main

    path = tmp_path / "m.npz"
    write(path)
    assert main(["export", str(path), "--glb", str(tmp_path / "o.glb")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {path}: not a readable npz file") and what in err
    assert "BEAT2-layout .npz" in err and "allow_pickle" not in err and "pickle.load" not in err
    assert not (tmp_path / "o.glb").exists()
