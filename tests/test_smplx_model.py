"""Exact SMPL-X joints from a model file: known values on a made-up file with SMPL-X's layout."""

from __future__ import annotations

import numpy as np
import pytest

from eggesture.data.motion import NUM_SMPLX_JOINTS, SMPLX_PARENTS
from eggesture.data.skeleton import smplx_positions
from eggesture.data.smplx_model import SmplxModel, load_smplx_model, positions
from eggesture.errors import DataError

V = 200
J = NUM_SMPLX_JOINTS
LEFT_ELBOW, LEFT_WRIST = 18, 20


def _model_arrays(n_columns: int = 20, seed: int = 0) -> dict[str, np.ndarray]:
    """The keys of a real SMPL-X .npz, with small made-up values (V vertices)."""
    rng = np.random.default_rng(seed)
    reg = rng.random((J, V)) * (rng.random((J, V)) < 0.1)
    reg[:, 0] += 1e-3  # no empty row
    reg /= reg.sum(axis=1, keepdims=True)  # rows sum to 1, as in real files
    kintree = np.stack([np.array(SMPLX_PARENTS, dtype=np.int64) % 2**32, np.arange(J)])
    return {
        "v_template": rng.normal(size=(V, 3)),
        "shapedirs": rng.normal(scale=0.01, size=(V, 3, n_columns)),
        "J_regressor": reg,
        "kintree_table": kintree.astype(np.uint32),  # root parent 4294967295, as in real files
        "f": rng.integers(0, V, size=(300, 3)).astype(np.uint32),
        "weights": rng.random((V, J)),
        "posedirs": rng.normal(size=(V, 3, (J - 1) * 9)),
        "hands_meanl": rng.normal(scale=0.2, size=45),
        "hands_meanr": rng.normal(scale=0.2, size=45),
        "lmk_faces_idx": np.arange(51, dtype=np.int64),
    }


@pytest.fixture
def arrays() -> dict[str, np.ndarray]:
    return _model_arrays()


@pytest.fixture
def model_file(tmp_path, arrays):
    path = tmp_path / "SMPLX_NEUTRAL_2020.npz"
    np.savez(path, **arrays)
    return path


def _rodrigues(aa: np.ndarray) -> np.ndarray:
    """Axis-angle ``(..., 3)`` → matrix ``(..., 3, 3)`` in plain numpy (independent of roma)."""
    theta = np.linalg.norm(aa, axis=-1, keepdims=True)[..., None]  # (..., 1, 1)
    k = aa / np.maximum(np.linalg.norm(aa, axis=-1, keepdims=True), 1e-12)
    kx, ky, kz = k[..., 0], k[..., 1], k[..., 2]
    zero = np.zeros_like(kx)
    cross = np.stack([zero, -kz, ky, kz, zero, -kx, -ky, kx, zero], axis=-1).reshape(*aa.shape, 3)
    return np.eye(3) + np.sin(theta) * cross + (1 - np.cos(theta)) * cross @ cross


def _lbs_joints(arrays, poses, trans, coeffs, add_hand_mean=True):
    """Posed joints ``(T, 55, 3)`` as LBS computes them: shaped mesh → regressed joints → chained
    4×4 transforms with relative joint translations, the last column holding the joint."""
    n = arrays["shapedirs"].shape[2]
    poses = poses.reshape(len(poses), J, 3).copy()
    if add_hand_mean:
        poses[:, 25:] += np.concatenate([arrays["hands_meanl"], arrays["hands_meanr"]]).reshape(30, 3)
    out = np.zeros((len(poses), J, 3))
    for t in range(len(poses)):
        c = coeffs if coeffs.ndim == 1 else coeffs[t]
        v_shaped = arrays["v_template"] + arrays["shapedirs"] @ np.pad(c, (0, n - len(c)))
        rest = arrays["J_regressor"] @ v_shaped  # (55, 3)
        rot = _rodrigues(poses[t])
        chain = []
        for k in range(J):
            p = SMPLX_PARENTS[k]
            local = np.eye(4)
            local[:3, :3] = rot[k]
            local[:3, 3] = rest[k] - (rest[p] if p >= 0 else 0.0)
            chain.append(local if p < 0 else chain[p] @ local)
        out[t] = np.stack([g[:3, 3] for g in chain]) + trans[t]
    return out


def test_rest_joints_known_values(model_file, arrays):
    model = load_smplx_model(model_file)
    assert model.n_shape == 10 and model.n_expression == 10  # smplx's split of a 20-column file
    reg, v, dirs = arrays["J_regressor"], arrays["v_template"], arrays["shapedirs"]
    np.testing.assert_allclose(model.rest_joints(), reg @ v, atol=1e-12)
    betas = np.linspace(-2, 2, 10)
    np.testing.assert_allclose(model.rest_joints(betas) - reg @ v, reg @ (dirs[:, :, :10] @ betas),
                               atol=1e-12)
    psi = np.linspace(1, -1, 10)
    np.testing.assert_allclose(model.rest_joints(expression=psi) - reg @ v,
                               reg @ (dirs[:, :, 10:] @ psi), atol=1e-12)
    assert model.rest_joints().dtype == np.float64 and model.parents == SMPLX_PARENTS


def test_betas_padded_and_truncated(model_file):
    model = load_smplx_model(model_file)
    betas = np.arange(1.0, 11.0)
    np.testing.assert_allclose(model.rest_joints(betas[:3]), model.rest_joints(np.r_[betas[:3], [0] * 7]))
    np.testing.assert_allclose(model.rest_joints(np.r_[betas, 5.0, 6.0]), model.rest_joints(betas))


@pytest.mark.parametrize("n_columns, n_shape, n_expression", [(20, 10, 10), (400, 300, 100),
                                                              (410, 300, 100), (10, 10, 0)])
def test_shape_expression_split_follows_smplx(tmp_path, n_columns, n_shape, n_expression):
    arrays = _model_arrays(n_columns)
    np.savez(tmp_path / "m.npz", **arrays)
    model = load_smplx_model(tmp_path / "m.npz")
    assert (model.n_shape, model.n_expression) == (n_shape, n_expression)
    dirs = arrays["shapedirs"]
    expr_start = 300 if n_columns >= 400 else 10
    np.testing.assert_array_equal(model.shapedirs[:, :, n_shape:],
                                  dirs[:, :, expr_start:expr_start + n_expression])
    assert load_smplx_model(tmp_path / "m.npz", n_shape=5).shapedirs.shape[2] == 5 + n_expression


def test_identity_pose_gives_rest_joints(model_file):
    model = load_smplx_model(model_file)
    betas = np.linspace(0, 1, 10)
    trans = np.array([[0.0, 0.0, 0.0], [0.5, -1.0, 2.0]])
    pos = model.joint_positions(np.zeros((2, 165)), trans, betas, flat_hand_mean=True)
    assert pos.shape == (2, J, 3)
    np.testing.assert_allclose(pos, model.rest_joints(betas)[None] + trans[:, None], atol=1e-12)


def test_hand_mean_added_by_default(model_file, arrays):
    model = load_smplx_model(model_file)
    zero = np.zeros((1, J, 3))
    with_mean = model.joint_positions(zero)
    np.testing.assert_allclose(with_mean[:, :25], model.rest_joints()[None, :25], atol=1e-12)
    assert not np.allclose(with_mean[:, 25:], model.rest_joints()[None, 25:])
    mean_pose = zero.copy()
    mean_pose[0, 25:] = np.concatenate([arrays["hands_meanl"], arrays["hands_meanr"]]).reshape(30, 3)
    np.testing.assert_allclose(with_mean, model.joint_positions(mean_pose, flat_hand_mean=True))


def test_elbow_rotation_moves_wrist_by_rotated_forearm(model_file):
    model = load_smplx_model(model_file)
    rest = model.rest_joints()
    poses = np.zeros((1, J, 3))
    poses[0, LEFT_ELBOW] = [0.0, np.pi / 2, 0.0]  # 90° about +y: (x, y, z) → (z, y, −x)
    pos = model.joint_positions(poses, flat_hand_mean=True)[0]
    fx, fy, fz = rest[LEFT_WRIST] - rest[LEFT_ELBOW]
    np.testing.assert_allclose(pos[LEFT_ELBOW], rest[LEFT_ELBOW], atol=1e-12)
    np.testing.assert_allclose(pos[LEFT_WRIST], rest[LEFT_ELBOW] + [fz, fy, -fx], atol=1e-9)
    untouched = [k for k in range(J) if k not in (LEFT_WRIST, *range(25, 40))]
    np.testing.assert_allclose(pos[untouched], rest[untouched], atol=1e-12)


@pytest.mark.parametrize("per_frame_expression", [False, True])
def test_fk_matches_direct_lbs_joints(model_file, arrays, per_frame_expression):
    model = load_smplx_model(model_file)
    rng = np.random.default_rng(1)
    t = 4
    poses = rng.normal(scale=0.6, size=(t, 165))
    trans = rng.normal(size=(t, 3))
    betas = rng.normal(size=10)
    psi = rng.normal(size=(t, 10)) if per_frame_expression else rng.normal(size=10)
    coeffs = np.concatenate([np.broadcast_to(betas, (t, 10)), psi], axis=1) if per_frame_expression \
        else np.r_[betas, psi]
    got = model.joint_positions(poses, trans, betas, psi)
    np.testing.assert_allclose(got, _lbs_joints(arrays, poses, trans, coeffs), atol=1e-9)


def test_per_frame_expression_equals_frame_by_frame(model_file):
    model = load_smplx_model(model_file)
    rng = np.random.default_rng(2)
    poses, psi = rng.normal(scale=0.5, size=(5, J, 3)), rng.normal(size=(5, 12))  # 12 > 10: truncated
    got = model.joint_positions(poses, None, None, psi)
    want = np.concatenate([model.joint_positions(poses[i:i + 1], None, None, psi[i]) for i in range(5)])
    np.testing.assert_allclose(got, want, atol=1e-10)


def test_positions_without_model_is_approximate_skeleton(model_file):
    rng = np.random.default_rng(3)
    poses, trans = rng.normal(scale=0.3, size=(3, 165)), rng.normal(size=(3, 3))
    np.testing.assert_array_equal(positions(poses, trans, betas=np.ones(300)), smplx_positions(poses, trans))
    model = load_smplx_model(model_file)
    np.testing.assert_array_equal(positions(poses, trans, model=model, betas=np.ones(10)),
                                  model.joint_positions(poses, trans, np.ones(10)))


def test_extra_rows_beyond_55_are_dropped(tmp_path, arrays):
    arrays["J_regressor"] = np.concatenate([arrays["J_regressor"], arrays["J_regressor"][:3]])
    arrays["kintree_table"] = np.concatenate([arrays["kintree_table"], [[20, 20, 20], [55, 56, 57]]],
                                             axis=1).astype(np.uint32)
    np.savez(tmp_path / "m.npz", **arrays)
    assert load_smplx_model(tmp_path / "m.npz").j_regressor.shape == (J, V)


def test_pickled_extra_key_is_tolerated(tmp_path, arrays):
    np.savez(tmp_path / "m.npz", **arrays, joint2num=np.array({"pelvis": 0}, dtype=object))
    assert load_smplx_model(tmp_path / "m.npz").n_shape == 10


def _refusal(path) -> str:
    with pytest.raises(DataError) as err:
        load_smplx_model(path)
    assert err.value.file == str(path) and "\n" not in err.value.problem
    return err.value.problem


def test_refuses_pickled_required_key(tmp_path, arrays):
    arrays["J_regressor"] = np.array(arrays["J_regressor"], dtype=object)
    np.savez(tmp_path / "m.npz", **arrays)  # object arrays are pickled inside the archive
    assert "J_regressor" in _refusal(tmp_path / "m.npz") and "pickle" in _refusal(tmp_path / "m.npz")


def test_refuses_pickle_file(tmp_path, arrays):
    import pickle

    path = tmp_path / "SMPLX_NEUTRAL.pkl"
    path.write_bytes(pickle.dumps(arrays, protocol=2))
    assert "pickle" in _refusal(path)


@pytest.mark.parametrize("key", ["v_template", "shapedirs", "J_regressor", "kintree_table"])
def test_refuses_missing_key(tmp_path, arrays, key):
    del arrays[key]
    np.savez(tmp_path / "m.npz", **arrays)
    assert key in _refusal(tmp_path / "m.npz")


def test_refuses_other_kinematic_tree(tmp_path, arrays):
    arrays["kintree_table"][0, 20] = 16  # left wrist hung on the shoulder
    np.savez(tmp_path / "m.npz", **arrays)
    problem = _refusal(tmp_path / "m.npz")
    assert "kinematic tree" in problem and "left_wrist" in problem


def test_refuses_smpl_sized_file(tmp_path, arrays):
    arrays["J_regressor"] = arrays["J_regressor"][:24]
    arrays["kintree_table"] = arrays["kintree_table"][:, :24]
    np.savez(tmp_path / "m.npz", **arrays)
    assert "24 joints" in _refusal(tmp_path / "m.npz")


@pytest.mark.parametrize("key, shape", [("v_template", (V, 2)), ("shapedirs", (V + 1, 3, 20)),
                                        ("J_regressor", (J, V + 1))])
def test_refuses_wrong_shapes(tmp_path, arrays, key, shape):
    arrays[key] = np.zeros(shape)
    np.savez(tmp_path / "m.npz", **arrays)
    _refusal(tmp_path / "m.npz")


def test_refuses_missing_and_unreadable_files(tmp_path):
    assert "not found" in _refusal(tmp_path / "nope.npz")
    (tmp_path / "text.npz").write_text("hello")
    _refusal(tmp_path / "text.npz")
    (tmp_path / "broken.npz").write_bytes(b"PK\x03\x04 truncated")
    _refusal(tmp_path / "broken.npz")


def test_dataclass_validates_its_fields(arrays):
    with pytest.raises(ValueError, match="j_regressor"):
        SmplxModel(path="x", v_template=arrays["v_template"], shapedirs=arrays["shapedirs"], n_shape=10,
                   j_regressor=arrays["J_regressor"][:, :-1], parents=SMPLX_PARENTS)
