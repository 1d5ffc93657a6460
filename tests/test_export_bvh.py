"""BVH export (export/bvh.py): SMPL-X skeleton and a dataset's own skeleton, bvhio as the oracle."""

from __future__ import annotations

import numpy as np
import pytest

from eggesture.data import trinity
from eggesture.data.bvh import parse_bvh, read_bvh
from eggesture.data.motion import (
    SMPLX_JOINT_NAMES,
    SMPLX_PARENTS,
    axis_angle_to_matrix,
    matrix_to_axis_angle,
)
from eggesture.data.skeleton import PELVIS_HEIGHT, SMPLX_REST_OFFSETS, smplx_positions, standing_trans
from eggesture.errors import DataError
from eggesture.export.bvh import (
    skeleton_motion,
    smplx_order,
    smplx_skeleton,
    write_skeleton_bvh,
    write_smplx_bvh,
)
from test_bvh import bvh_text, bvhio_positions, genea_skeleton, smooth_motion
from test_trinity import write_genea_folder

pytestmark = pytest.mark.filterwarnings("ignore:Importing PyGLM:PendingDeprecationWarning")


def random_poses(n: int, seed: int = 0, scale: float = 0.6) -> np.ndarray:
    """Smooth random SMPL-X poses ``(n, 165)`` axis-angle, large enough to turn every joint."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)[:, None] / 30
    return (scale * np.sin(2 * np.pi * rng.uniform(0.2, 1, 165) * t + rng.uniform(0, 6, 165))
            * rng.uniform(0.3, 1, 165))


@pytest.mark.parametrize("units, scale", [("cm", 100.0), ("m", 1.0)])
def test_smplx_bvh_positions_match_the_skeleton_via_bvhio(tmp_path, units, scale):
    poses = random_poses(20)
    trans = np.stack([0.2 * np.sin(np.arange(20) / 5), 0.9 + 0.01 * np.arange(20),
                      -0.3 * np.ones(20)], axis=1)
    path = tmp_path / "m.bvh"
    write_smplx_bvh(path, poses, 30, trans, units=units)
    names, oracle = bvhio_positions(path)
    expected = smplx_positions(poses, standing_trans(trans, 20)) * scale  # (T, 55, 3) SMPL-X order
    order = [SMPLX_JOINT_NAMES.index(n) for n in names]
    assert sorted(order) == list(range(55))
    np.testing.assert_allclose(oracle, expected[:, order], atol=2e-5 * scale + 1e-4)
    # Our own reader agrees too, and gets the input rotations back.
    b = read_bvh(path)
    assert b.fps == 30.0 and b.joint_names == names
    np.testing.assert_allclose(b.forward_kinematics(), expected[:, order], atol=1e-5 * scale)
    np.testing.assert_allclose(
        b.local_rotations(),
        axis_angle_to_matrix(poses.reshape(20, 55, 3))[:, order], atol=1e-6)


def test_smplx_bvh_on_the_exact_skeleton_of_a_model_file(tmp_path):
    """With the user's SMPL-X model (a made-up file with the real keys), the BVH's joints sit
    where the exact forward kinematics puts them, body shape and mean hand pose included."""
    from eggesture.data.smplx_model import load_smplx_model
    from eggesture.data.smplx_model import positions as exact_positions
    from eggesture.export.gltf import smplx_vertices
    from test_smplx_model import _model_arrays

    np.savez(tmp_path / "SMPLX_NEUTRAL_2020.npz", **_model_arrays())
    model = load_smplx_model(tmp_path / "SMPLX_NEUTRAL_2020.npz")
    poses, betas = random_poses(12, seed=3), np.linspace(-1, 1, 10)
    trans = np.stack([0.1 * np.arange(12), np.zeros(12), np.ones(12)], axis=1)
    write_smplx_bvh(tmp_path / "m.bvh", poses, 30, trans, model=model, betas=betas)
    names, oracle = bvhio_positions(tmp_path / "m.bvh")
    ground = smplx_vertices(model, betas)[:, 1].min()  # the mesh's soles go on the floor
    expected = exact_positions(poses, standing_trans(trans, 12, ground), model=model, betas=betas) * 100
    order = [SMPLX_JOINT_NAMES.index(n) for n in names]
    np.testing.assert_allclose(oracle, expected[:, order], atol=1e-3)
    b = read_bvh(tmp_path / "m.bvh")
    np.testing.assert_allclose(b.forward_kinematics(), expected[:, order], atol=1e-3)
    # Not the approximate skeleton's positions.
    assert np.abs(b.forward_kinematics() - smplx_positions(poses, trans)[:, order] * 100).max() > 1


def rest_pose(b) -> np.ndarray:
    """Joint positions ``(J, 3)`` of a BVH's rest pose: its OFFSETs, all rotations zero."""
    return b.with_motion(b.rest_frame()[None]).forward_kinematics()[0]


FEET = [SMPLX_JOINT_NAMES.index(n) for n in ("left_ankle", "right_ankle", "left_foot", "right_foot")]


@pytest.mark.parametrize("motion", ["generated", "beat2"])
def test_smplx_bvh_rest_pose_stands_on_the_floor(tmp_path, motion):
    """Generated motion (trans 0) and BEAT2-like motion (the pelvis ~1.29 m up, as SMPL-X's
    template pelvis is 0.35 m below its origin) both give a rest pose whose lowest foot joint is
    on y = 0, and a first frame at the rest pose's height, while the npz's trans is untouched."""
    n = 15
    poses = random_poses(n, seed=4)
    trans = None if motion == "generated" else np.stack(
        [0.2 + 0.01 * np.arange(n), 1.29 - 0.002 * np.arange(n), -0.37 * np.ones(n)], axis=1)
    write_smplx_bvh(tmp_path / "m.bvh", poses, 30, trans)
    b = read_bvh(tmp_path / "m.bvh")
    rest = rest_pose(b) / 100  # (55, 3) metres, file order
    feet = [b.index(SMPLX_JOINT_NAMES[k]) for k in FEET]
    assert rest[feet, 1].min() == pytest.approx(0.0, abs=1e-5)
    assert rest[:, 1].min() == pytest.approx(0.0, abs=1e-5)  # the feet are the lowest joints
    assert b.joints[0].offset[1] == pytest.approx(100 * PELVIS_HEIGHT)
    root = b.root_positions() / 100  # (T, 3)
    assert root[0, 1] == pytest.approx(PELVIS_HEIGHT, abs=1e-6)
    if trans is None:
        np.testing.assert_allclose(root, [[0.0, PELVIS_HEIGHT, 0.0]] * n, atol=1e-6)
    else:  # the horizontal path as it is, the rise and fall from the first frame kept
        np.testing.assert_allclose(root[:, [0, 2]], trans[:, [0, 2]], atol=1e-6)
        np.testing.assert_allclose(root[:, 1] - root[0, 1], trans[:, 1] - trans[0, 1], atol=1e-6)


def test_smplx_bvh_on_a_model_stands_its_meshs_soles_on_the_floor(tmp_path):
    """With the user's SMPL-X model the floor is under the lowest vertex of its mesh shaped by
    betas (what the GLB shows), whatever the motion's trans."""
    from eggesture.data.smplx_model import load_smplx_model
    from eggesture.export.gltf import smplx_vertices
    from test_smplx_model import _model_arrays

    np.savez(tmp_path / "model.npz", **_model_arrays())
    model, betas = load_smplx_model(tmp_path / "model.npz"), np.linspace(-1, 1, 10)
    trans = np.tile([0.1, 1.3, -0.2], (6, 1))
    write_smplx_bvh(tmp_path / "m.bvh", random_poses(6), 30, trans, model=model, betas=betas)
    b = read_bvh(tmp_path / "m.bvh")
    rest = rest_pose(b) / 100
    lift = rest[b.index("pelvis")] - model.rest_joints(betas)[0]  # the rest pelvis raised
    assert lift[[0, 2]] == pytest.approx([0.0, 0.0], abs=1e-6)
    assert (smplx_vertices(model, betas) + lift)[:, 1].min() == pytest.approx(0.0, abs=1e-5)
    assert b.root_positions()[0, 1] / 100 == pytest.approx(rest[0, 1], abs=1e-6)


def test_smplx_skeleton_structure():
    skel = smplx_skeleton()
    order = smplx_order()
    assert skel.joint_names[0] == "pelvis" and len(skel.joints) == 55
    assert skel.joints[0].channels == ("Xposition", "Yposition", "Zposition",
                                       "Zrotation", "Xrotation", "Yrotation")
    assert all(j.channels == ("Zrotation", "Xrotation", "Yrotation") for j in skel.joints[1:])
    for k, old in enumerate(order):
        assert skel.joint_names[k] == SMPLX_JOINT_NAMES[old]
        p = SMPLX_PARENTS[old]
        assert skel.parents[k] == (-1 if p < 0 else order.index(p))
        np.testing.assert_allclose(skel.joints[k].offset, SMPLX_REST_OFFSETS[old] * 100)
    leaves = {skel.joint_names[k] for k in range(55) if not skel.children(k)}
    assert {j.name for j in skel.joints if j.end_site is not None} == leaves
    assert {"left_foot", "jaw", "right_thumb3"} <= leaves and "head" not in leaves
    with pytest.raises(ValueError, match="units"):
        smplx_skeleton("inch")


def test_smplx_bvh_euler_curves_are_unwrapped(tmp_path):
    """A pelvis spinning about y through ±180° gives a continuous Y curve, same rotations."""
    poses = np.zeros((60, 165))
    angle = np.linspace(0, 3 * np.pi, 60)
    poses[:, 1] = (angle + np.pi) % (2 * np.pi) - np.pi  # wrapped axis-angle about y
    write_smplx_bvh(tmp_path / "spin.bvh", poses, 30)
    b = read_bvh(tmp_path / "spin.bvh")
    y = b.motion[:, b.channel_index(0, "Yrotation")]
    assert np.abs(np.diff(y)).max() < 10 and y[-1] - y[0] == pytest.approx(540, abs=1e-3)
    np.testing.assert_allclose(b.local_rotations()[:, 0],
                               axis_angle_to_matrix(poses[:, :3]), atol=1e-6)


def test_smplx_bvh_rejects_bad_shapes(tmp_path):
    with pytest.raises(ValueError, match=r"poses must be \(T, 165\)"):
        write_smplx_bvh(tmp_path / "x.bvh", np.zeros((5, 156)), 30)
    with pytest.raises(ValueError, match=r"trans must be \(5, 3\)"):
        write_smplx_bvh(tmp_path / "x.bvh", np.zeros((5, 165)), 30, np.zeros((4, 3)))
    assert not (tmp_path / "x.bvh").exists()


# --- a dataset's own skeleton -----------------------------------------------------------------

def test_skeleton_bvh_keeps_hierarchy_and_rest_values(tmp_path):
    spec = genea_skeleton()
    template = parse_bvh(bvh_text(spec, smooth_motion(spec, 3, seed=5)))  # rest = frame 0
    names = ["RightArm", "Spine1", "LeftHand"]
    rng = np.random.default_rng(0)
    rotvec = rng.normal(scale=0.8, size=(25, 3, 3))
    write_skeleton_bvh(tmp_path / "out.bvh", template, rotvec, names, fps=15)
    out = read_bvh(tmp_path / "out.bvh")
    assert out.joint_names == template.joint_names and out.parents == template.parents
    assert [j.channels for j in out.joints] == [j.channels for j in template.joints]
    for a, b in zip(out.joints, template.joints, strict=True):
        np.testing.assert_allclose(a.offset, b.offset)
    assert out.n_frames == 25 and out.fps == 15.0
    got = matrix_to_axis_angle(out.local_rotations([out.index(n) for n in names]))
    np.testing.assert_allclose(axis_angle_to_matrix(got), axis_angle_to_matrix(rotvec), atol=1e-6)
    # Every channel of the joints that were not generated holds the template's first frame.
    generated = {c for n in names for c in range(*out.channel_slices()[out.index(n)].indices(
        out.n_channels))}
    others = [c for c in range(out.n_channels) if c not in generated]
    np.testing.assert_allclose(out.motion[:, others],
                               np.tile(template.motion[0, others], (25, 1)), atol=1e-6)
    # bvhio reads it, and agrees on where the joints are.
    _, pos = bvhio_positions(tmp_path / "out.bvh")
    np.testing.assert_allclose(pos, out.forward_kinematics(), atol=2e-3)


def test_skeleton_bvh_root_positions_and_errors(tmp_path):
    spec = genea_skeleton()
    template = parse_bvh(bvh_text(spec, np.zeros((0, 3 + 3 * len(spec)))))
    rotvec = np.zeros((4, 1, 3))
    root = np.array([[1.0, 95, 2]] * 4)
    bvh = skeleton_motion(template, rotvec, ["Head"], 60, root_positions=root)
    np.testing.assert_allclose(bvh.root_positions(), root)
    # Without frames in the template, rest values are rotation 0 and position = offset.
    np.testing.assert_allclose(skeleton_motion(template, rotvec, ["Head"], 60).motion, 0)
    with pytest.raises(DataError, match="no joint 'Tail'"):
        skeleton_motion(template, rotvec, ["Tail"], 60)
    two_axis = genea_skeleton(lambda i: "Xrotation Zrotation")
    t2 = parse_bvh(bvh_text(two_axis, np.zeros((1, 6 + 2 * (len(two_axis) - 1)))))
    with pytest.raises(DataError, match="joint 'Head' has rotation channels XZ"):
        skeleton_motion(t2, rotvec, ["Head"], 60)
    with pytest.raises(ValueError, match=r"rotvec must be \(T, 2, 3\)"):
        skeleton_motion(template, rotvec, ["Head", "Neck"], 60)


def test_trinity_clip_written_back_on_its_own_skeleton(tmp_path):
    """A Trinity clip's upper body, written on the dataset's skeleton template, reads back as
    the same local rotations (part 3 of the BVH issue: BVH out on the input's skeleton)."""
    root = write_genea_folder(tmp_path / "g", [6, 7])
    clip = trinity.load_clip(root, "Recording_007", "train", "upper")
    template = trinity.skeleton_template(root)
    write_skeleton_bvh(tmp_path / "gen.bvh", template, clip.rotvec, clip.joint_names, clip.fps)
    out = read_bvh(tmp_path / "gen.bvh")
    src = read_bvh(root / "Motion" / "Recording_007.bvh")
    idx = [src.index(n) for n in trinity.UPPER_BODY]
    np.testing.assert_allclose(out.local_rotations(idx), src.local_rotations(idx), atol=1e-5)
    # Upper-body joint positions relative to the hips match the recording's (root zeroed).
    src_pos = src.forward_kinematics() - src.forward_kinematics()[:, :1]
    hips_rot = src.local_rotations([0])[:, 0]  # undo the recording's root rotation
    src_local = np.einsum("tji,tkj->tki", hips_rot, src_pos)
    out_pos = out.forward_kinematics() - out.forward_kinematics()[:, :1]
    np.testing.assert_allclose(out_pos[:, idx], src_local[:, idx], atol=1e-3)
