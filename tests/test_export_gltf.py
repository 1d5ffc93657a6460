"""glTF (GLB) export (export/gltf.py, ``eggesture export``, ``generate --glb``), read back with pygltflib.

The oracle is our own forward kinematics (:func:`eggesture.data.skeleton.smplx_positions`, or
:meth:`SmplxModel.joint_positions` for a model file) of the translation the exporters stand on
the floor (:func:`eggesture.data.skeleton.standing_trans`): the GLB's node hierarchy, posed with
its animated rotations and translation as any glTF viewer poses it, must put every joint there.
"""

from __future__ import annotations

import numpy as np
import pygltflib as gl
import pytest
from scipy.spatial.transform import Rotation

import test_generate
from conftest import SAMPLE_ID
from eggesture.cli import main
from eggesture.data.beat2 import read_smplx_npz
from eggesture.data.bvh import read_bvh
from eggesture.data.motion import NUM_SMPLX_JOINTS, SMPLX_JOINT_NAMES, SMPLX_PARENTS, axis_angle_to_matrix
from eggesture.data.poses import n_frames_for
from eggesture.data.skeleton import PELVIS_HEIGHT, smplx_positions, standing_trans
from eggesture.data.smplx_model import load_smplx_model
from eggesture.errors import DataError
from eggesture.export.bvh import write_smplx_bvh
from eggesture.export.gltf import (
    SkinnedBody,
    approximate_rest_joints,
    capsule_body,
    smplx_body,
    write_smplx_glb,
)
from eggesture.export.npz import write_beat2_npz
from test_export_bvh import random_poses
from test_generate import write_wav
from test_smplx_model import V, _model_arrays

# The tiny bundle of test_generate's fixtures (trained once for this module).
trained, bundle_dir, bundle = test_generate.trained, test_generate.bundle_dir, test_generate.bundle
LEFT_WRIST, RIGHT_WRIST = SMPLX_JOINT_NAMES.index("left_wrist"), SMPLX_JOINT_NAMES.index("right_wrist")
FEET = [SMPLX_JOINT_NAMES.index(n) for n in ("left_ankle", "right_ankle", "left_foot", "right_foot")]
#: The rest pose of the approximate skeleton as the writers stand it: feet on y = 0.
STANDING = np.array([0.0, PELVIS_HEIGHT, 0.0])
_DTYPE = {gl.FLOAT: np.float32, gl.UNSIGNED_BYTE: np.uint8, gl.UNSIGNED_SHORT: np.uint16,
          gl.UNSIGNED_INT: np.uint32}
_WIDTH = {gl.SCALAR: 1, gl.VEC3: 3, gl.VEC4: 4, gl.MAT4: 16}


def moving_trans(n: int) -> np.ndarray:
    """A root path ``(n, 3)`` in metres that moves on every axis."""
    t = np.arange(n) / 30
    return np.stack([0.2 * np.sin(t), 0.9 + 0.05 * t, -0.3 + 0.1 * np.cos(2 * t)], axis=1)


def accessor(gltf: gl.GLTF2, index: int) -> np.ndarray:
    """The values of accessor ``index``: ``(count,)``, ``(count, n)`` or ``(count, 4, 4)``."""
    acc = gltf.accessors[index]
    view = gltf.bufferViews[acc.bufferView]
    width = _WIDTH[acc.type]
    data = np.frombuffer(gltf.binary_blob(), _DTYPE[acc.componentType], count=acc.count * width,
                         offset=view.byteOffset + acc.byteOffset)
    if acc.type == gl.MAT4:
        return data.reshape(acc.count, 4, 4).transpose(0, 2, 1)  # stored column-major
    return data.reshape(acc.count, width) if width > 1 else data


def channels(gltf: gl.GLTF2) -> dict[tuple[int, str], tuple[np.ndarray, np.ndarray]]:
    """``(node, path) → (times, values)`` of the file's one animation."""
    (anim,) = gltf.animations
    out = {}
    for ch in anim.channels:
        s = anim.samplers[ch.sampler]
        assert s.interpolation == gl.ANIM_LINEAR
        out[ch.target.node, ch.target.path] = accessor(gltf, s.input), accessor(gltf, s.output)
    return out


def node_positions(gltf: gl.GLTF2, frame: int | None) -> np.ndarray:
    """World positions ``(55, 3)`` of the joint nodes posed at ``frame`` (None: the rest pose),
    by glTF's node transforms: world = parent world · T(translation) · R(rotation)."""
    anim = channels(gltf) if frame is not None else {}
    parent = {c: i for i, node in enumerate(gltf.nodes) for c in node.children}
    world = {}
    for k in range(NUM_SMPLX_JOINTS):  # SMPL-X order: parents first
        node = gltf.nodes[k]
        m = np.eye(4)
        m[:3, 3] = anim[k, "translation"][1][frame] if (k, "translation") in anim else node.translation
        if (k, "rotation") in anim:
            m[:3, :3] = Rotation.from_quat(anim[k, "rotation"][1][frame]).as_matrix()  # x, y, z, w
        world[k] = world[parent[k]] @ m if k in parent else m
    return np.stack([world[k][:3, 3] for k in range(NUM_SMPLX_JOINTS)])


def test_skeleton_nodes_names_hierarchy_and_skin(tmp_path):
    write_smplx_glb(tmp_path / "m.glb", random_poses(5), 30)
    gltf = gl.GLTF2.load(tmp_path / "m.glb")
    assert [n.name for n in gltf.nodes[:NUM_SMPLX_JOINTS]] == list(SMPLX_JOINT_NAMES)
    parent = {c: i for i, node in enumerate(gltf.nodes) for c in node.children}
    assert [parent.get(k, -1) for k in range(NUM_SMPLX_JOINTS)] == list(SMPLX_PARENTS)
    (skin,) = gltf.skins
    assert skin.joints == list(range(NUM_SMPLX_JOINTS)) and skin.skeleton == 0
    (scene,) = gltf.scenes
    body = gltf.nodes[scene.nodes[1]]
    assert scene.nodes[0] == 0 and body.skin == 0 and body.mesh == 0  # pelvis and body are roots
    assert all(n.rotation is None for n in gltf.nodes)  # the rest pose is SMPL-X's zero pose
    np.testing.assert_allclose(node_positions(gltf, None), approximate_rest_joints() + STANDING,
                               atol=1e-12)


def test_inverse_bind_matrices_invert_the_rest_global_transforms(tmp_path):
    write_smplx_glb(tmp_path / "m.glb", random_poses(3), 30)
    gltf = gl.GLTF2.load(tmp_path / "m.glb")
    ibm = accessor(gltf, gltf.skins[0].inverseBindMatrices)  # (55, 4, 4)
    rest_global = np.tile(np.eye(4), (NUM_SMPLX_JOINTS, 1, 1))
    rest_global[:, :3, 3] = node_positions(gltf, None)  # no rest rotations: pure translations
    np.testing.assert_allclose(ibm @ rest_global, np.tile(np.eye(4), (NUM_SMPLX_JOINTS, 1, 1)),
                               atol=1e-7)


@pytest.mark.parametrize("fps", [30, 15, 24])
@pytest.mark.parametrize("with_trans", [False, True])
def test_animation_is_our_rotations_at_k_over_fps(tmp_path, fps, with_trans):
    n = 40
    poses = random_poses(n, seed=fps)
    trans = moving_trans(n) if with_trans else None
    write_smplx_glb(tmp_path / "m.glb", poses, fps, trans)
    gltf = gl.GLTF2.load(tmp_path / "m.glb")
    anim = channels(gltf)
    rots = {node: v for (node, path), (_, v) in anim.items() if path == "rotation"}
    assert sorted(rots) == list(range(NUM_SMPLX_JOINTS))
    assert set(anim) - {(k, "rotation") for k in rots} == ({(0, "translation")} if with_trans else set())
    expected_times = (np.arange(n) / fps).astype(np.float32)
    for times, values in anim.values():
        assert len(times) == len(values) == n
        np.testing.assert_array_equal(times, expected_times)
    acc = gltf.accessors[gltf.animations[0].samplers[0].input]
    assert acc.min == [0.0] and acc.max == pytest.approx([(n - 1) / fps])
    q = np.stack([rots[k] for k in range(NUM_SMPLX_JOINTS)], axis=1)  # (T, 55, 4) x, y, z, w
    np.testing.assert_allclose(np.linalg.norm(q, axis=-1), 1.0, atol=1e-6)
    assert ((q[1:] * q[:-1]).sum(-1) >= 0).all()  # consecutive keys in one hemisphere
    np.testing.assert_allclose(Rotation.from_quat(q.reshape(-1, 4)).as_matrix().reshape(n, -1, 3, 3),
                               axis_angle_to_matrix(poses.reshape(n, -1, 3)), atol=1e-6)
    if with_trans:
        np.testing.assert_allclose(anim[0, "translation"][1], standing_trans(trans, n), atol=1e-6)


@pytest.mark.parametrize("with_trans", [False, True])
def test_posed_nodes_reproduce_our_forward_kinematics(tmp_path, with_trans):
    n = 30
    poses = random_poses(n, seed=3, scale=1.2)
    trans = moving_trans(n) if with_trans else None
    write_smplx_glb(tmp_path / "m.glb", poses, 30, trans)
    gltf = gl.GLTF2.load(tmp_path / "m.glb")
    expected = smplx_positions(poses, standing_trans(trans, n))  # (T, 55, 3)
    for frame in (0, 7, n - 1):
        got = node_positions(gltf, frame)
        np.testing.assert_allclose(got[[LEFT_WRIST, RIGHT_WRIST]], expected[frame, [LEFT_WRIST, RIGHT_WRIST]],
                                   atol=1e-5)
        np.testing.assert_allclose(got, expected[frame], atol=1e-5)


@pytest.mark.parametrize("height", [0.0, 1.29])
def test_a_root_that_stays_put_writes_no_translation_channel(tmp_path, height):
    """trans 0 (generated motion) or at one constant height (the synthetic corpus's 1.29 m):
    the pelvis stays at its standing rest place, so only rotations are animated."""
    write_smplx_glb(tmp_path / "m.glb", random_poses(4), 30, np.tile([0.0, height, 0.0], (4, 1)))
    assert all(path == "rotation" for _, path in channels(gl.GLTF2.load(tmp_path / "m.glb")))


def beat2_like_trans(n: int) -> np.ndarray:
    """A root path ``(n, 3)`` as BEAT2 stores one: the pelvis ~1.29 m up (SMPL-X's template
    pelvis is 0.35 m below its origin), drifting a little."""
    t = np.arange(n) / 30
    return np.stack([0.2 + 0.05 * t, 1.29 - 0.01 * np.sin(t), -0.37 + 0.02 * t], axis=1)


@pytest.mark.parametrize("mesh", ["capsules", "smplx"])
@pytest.mark.parametrize("motion", ["generated", "beat2"])
def test_rest_pose_stands_on_the_floor(tmp_path, mesh, motion, request):
    """Whatever the trans (none, as generated; BEAT2's, 1.29 m up), the rest pose stands on
    y = 0: the capsules on their lowest (foot) joints, the SMPL-X mesh on its lowest vertex; the
    first frame's root is at the rest pose's height."""
    n = 20
    poses = random_poses(n, seed=6)
    trans = None if motion == "generated" else beat2_like_trans(n)
    body = capsule_body() if mesh == "capsules" else smplx_body(
        request.getfixturevalue("model_file"), np.linspace(-1, 1, 10))
    write_smplx_glb(tmp_path / "m.glb", poses, 30, trans, body=body)
    gltf = gl.GLTF2.load(tmp_path / "m.glb")
    rest = node_positions(gltf, None)  # (55, 3)
    position = gltf.accessors[gltf.meshes[0].primitives[0].attributes.POSITION]
    if mesh == "capsules":
        assert rest[FEET, 1].min() == pytest.approx(0.0, abs=1e-6)
        assert rest[:, 1].min() == pytest.approx(0.0, abs=1e-6)  # the feet are the lowest joints
    else:
        assert position.min[1] == pytest.approx(0.0, abs=1e-6)  # the mesh's soles
        np.testing.assert_allclose(rest, body.rest_joints - [0.0, body.ground, 0.0], atol=1e-6)
    np.testing.assert_allclose(node_positions(gltf, 0)[0, 1], rest[0, 1], atol=1e-6)
    ibm = accessor(gltf, gltf.skins[0].inverseBindMatrices)  # the bind pose stands there too
    np.testing.assert_allclose(ibm[:, :3, 3], -rest, atol=1e-6)


def test_beat2_sample_stands_on_the_floor_in_both_files(beat2_sample, tmp_path, capsys):
    """``eggesture export`` of the BEAT2 sample: in both files the rest pose's lowest foot joint
    is on y = 0 and the first frame's within 1 cm of it (measured: 0.03 cm; the first frame's
    leg pose is not quite the rest pose's); the BVH's joints are the GLB's. Over the clip the
    lowest foot joint stays near the floor (measured: −0.07 to +6.8 cm, median 2.2 cm), where
    BEAT2's own trans left it 0.33-0.40 m up on this skeleton."""
    src = beat2_sample / "smplxflame_30" / f"{SAMPLE_ID}.npz"
    rc, _, err = run_export(capsys, src, "--glb", tmp_path / "m.glb", "--bvh", tmp_path / "m.bvh")
    assert rc == 0, err
    gltf, b = gl.GLTF2.load(tmp_path / "m.glb"), read_bvh(tmp_path / "m.bvh")
    order = [b.index(name) for name in SMPLX_JOINT_NAMES]  # SMPL-X order from file order
    bvh_rest = b.with_motion(b.rest_frame()[None]).forward_kinematics()[0, order] / 100
    bvh_first = b.with_motion(b.motion[:1]).forward_kinematics()[0, order] / 100
    for rest, first in ((node_positions(gltf, None), node_positions(gltf, 0)), (bvh_rest, bvh_first)):
        assert rest[FEET, 1].min() == pytest.approx(0.0, abs=1e-5)
        assert abs(first[FEET, 1].min()) < 0.01
    np.testing.assert_allclose(bvh_first, node_positions(gltf, 0), atol=1e-5)
    data = read_smplx_npz(src, fps=None)
    feet = smplx_positions(data["poses"], standing_trans(data["trans"], len(data["trans"])))
    low = feet[:, FEET, 1].min(1)  # (T,) the lowest foot joint of each frame
    assert -0.01 < low.min() and 0 < np.median(low) < 0.03 and low.max() < 0.1


def test_duration_is_the_speech_and_must_match_the_frames(tmp_path):
    poses = random_poses(101)  # round(3.37 s × 30) frames
    write_smplx_glb(tmp_path / "m.glb", poses, 30, duration=3.37)
    gltf = gl.GLTF2.load(tmp_path / "m.glb")
    assert gltf.scenes[0].extras == {"fps": 30.0, "frames": 101, "duration": 3.37}
    times, _ = channels(gltf)[0, "rotation"]
    assert times[-1] == pytest.approx(100 / 30)
    with pytest.raises(ValueError, match="duration 3.5 s is 105 frames"):
        write_smplx_glb(tmp_path / "x.glb", poses, 30, duration=3.5)
    assert not (tmp_path / "x.glb").exists()


def test_capsule_body_is_rigidly_skinned_and_closed_outward():
    body = capsule_body()
    v, f = body.vertices.astype(np.float64), body.faces.astype(np.int64)
    assert v.shape[1] == 3 and f.shape[1] == 3 and f.max() < len(v)
    np.testing.assert_array_equal(body.weights[:, 0], 1.0)
    np.testing.assert_array_equal(body.weights.sum(1), 1.0)
    # Every capsule turns with one joint and is a closed surface wound counter-clockwise from
    # outside: each capsule's signed volume is positive, and their sum is the total volume.
    tet = np.einsum("ij,ij->i", v[f[:, 0]], np.cross(v[f[:, 1]], v[f[:, 2]])) / 6
    per_capsule = tet.reshape(-1, 4 * 6).sum(1)
    assert (per_capsule > 0).all()
    owners = body.joints[:, 0].reshape(-1, 2 * 6 + 2)
    assert (owners == owners[:, :1]).all()
    # Every bone has a capsule starting at its parent joint; the leaves one beyond them too.
    starts = v.reshape(-1, 2 * 6 + 2, 3)[:, 0]
    rest = approximate_rest_joints()
    for k, p in enumerate(SMPLX_PARENTS[1:], start=1):
        assert np.isclose(starts, rest[p]).all(1).any(), SMPLX_JOINT_NAMES[k]


@pytest.mark.parametrize("bad, match", [
    (dict(poses=np.zeros((5, 164))), "poses must be"),
    (dict(poses=np.full((5, 165), np.nan)), "NaN"),
    (dict(fps=0), "fps must be positive"),
    (dict(trans=np.zeros((4, 3))), "trans must be"),
])
def test_bad_inputs_raise_and_write_nothing(tmp_path, bad, match):
    args = dict(poses=np.zeros((5, 165)), fps=30, trans=None) | bad
    with pytest.raises(ValueError, match=match):
        write_smplx_glb(tmp_path / "m.glb", **args)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match="weights must"):
        SkinnedBody(rest_joints=approximate_rest_joints(), vertices=np.zeros((1, 3)),
                    faces=np.zeros((1, 3), int), joints=np.zeros((1, 4), int),
                    weights=np.full((1, 4), 0.5))


# --- the SMPL-X mesh from a model file --------------------------------------------------------

@pytest.fixture
def model_file(tmp_path):
    path = tmp_path / "SMPLX_NEUTRAL_2020.npz"
    np.savez(path, **_model_arrays())
    return path


def test_smplx_mesh_has_the_models_vertices_top4_weights_and_exact_joints(tmp_path, model_file):
    arrays = _model_arrays()
    betas = np.linspace(-1, 1, 300)
    body = smplx_body(model_file, betas)
    assert body.vertices.shape == (V, 3) and body.faces.shape == arrays["f"].shape
    np.testing.assert_allclose(body.weights.sum(1), 1.0, atol=1e-6)
    top = np.sort(arrays["weights"], axis=1)[:, ::-1][:, :4]  # the 4 largest of each vertex
    np.testing.assert_allclose(np.take_along_axis(arrays["weights"], body.joints.astype(int), 1),
                               top)
    np.testing.assert_allclose(body.weights, top / top.sum(1, keepdims=True), atol=1e-6)
    model = load_smplx_model(model_file)
    np.testing.assert_allclose(body.rest_joints, model.rest_joints(betas))

    n = 12
    poses, trans = random_poses(n, seed=5), moving_trans(n)
    write_smplx_glb(tmp_path / "m.glb", poses, 30, trans, body=body)
    gltf = gl.GLTF2.load(tmp_path / "m.glb")
    prim = gltf.meshes[0].primitives[0]
    assert gltf.accessors[prim.attributes.POSITION].count == V
    np.testing.assert_allclose(accessor(gltf, prim.attributes.WEIGHTS_0).sum(1), 1.0, atol=1e-6)
    np.testing.assert_array_equal(accessor(gltf, prim.indices), arrays["f"].reshape(-1))
    standing = standing_trans(trans, n, body.ground)  # the mesh's soles on the floor
    expected = model.joint_positions(poses, standing, betas)  # with the file's mean hand pose
    for frame in (0, n - 1):
        np.testing.assert_allclose(node_positions(gltf, frame), expected[frame], atol=1e-5)


def test_smplx_mesh_without_faces_or_weights_is_a_one_line_error(tmp_path):
    arrays = _model_arrays()
    del arrays["weights"]
    np.savez(tmp_path / "m.npz", **arrays)
    with pytest.raises(DataError, match=r"m\.npz: has no weights"):
        smplx_body(tmp_path / "m.npz")


# --- eggesture export -------------------------------------------------------------------------

def run_export(capsys, *args) -> tuple[int, str, str]:
    rc = main(["export", *map(str, args)])
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


@pytest.fixture
def motion_file(tmp_path):
    poses, trans = random_poses(45).astype(np.float32), moving_trans(45)
    write_beat2_npz(tmp_path / "motion.npz", poses, 30, trans)
    return tmp_path / "motion.npz"


def test_cli_export_writes_the_glb_and_bvh_of_our_writers(tmp_path, capsys, motion_file):
    out = tmp_path / "out"
    rc, stdout, err = run_export(capsys, motion_file, "--glb", out / "m.glb", "--bvh", out / "m.bvh")
    assert rc == 0, err
    assert "45 frames at 30 fps" in stdout
    with np.load(motion_file) as d:
        poses, trans = d["poses"], d["trans"].astype(np.float32)
    write_smplx_glb(tmp_path / "ref.glb", poses, 30, trans, duration=1.5)
    write_smplx_bvh(tmp_path / "ref.bvh", poses, 30, trans)
    assert (out / "m.glb").read_bytes() == (tmp_path / "ref.glb").read_bytes()
    assert (out / "m.bvh").read_text() == (tmp_path / "ref.bvh").read_text()
    assert sorted(p.name for p in out.iterdir()) == ["m.bvh", "m.glb"]  # no temporaries left


def test_cli_export_resamples_to_fps_and_uses_the_smplx_model(tmp_path, capsys, motion_file,
                                                              model_file):
    rc, _, err = run_export(capsys, motion_file, "--glb", tmp_path / "m.glb", "--fps", 15,
                            "--smplx-model", model_file)
    assert rc == 0, err
    gltf = gl.GLTF2.load(tmp_path / "m.glb")
    times, _ = channels(gltf)[0, "rotation"]
    assert len(times) == n_frames_for(45 / 30, 15) == 23 and times[1] == pytest.approx(1 / 15)
    assert gltf.scenes[0].extras["duration"] == 1.5
    assert gltf.accessors[gltf.meshes[0].primitives[0].attributes.POSITION].count == V


def test_cli_export_bvh_is_on_the_smplx_models_skeleton(tmp_path, capsys, model_file):
    poses, trans, betas = random_poses(20), moving_trans(20), np.linspace(-1, 1, 300)
    write_beat2_npz(tmp_path / "motion.npz", poses, 30, trans, betas=betas)
    rc, _, err = run_export(capsys, tmp_path / "motion.npz", "--glb", tmp_path / "m.glb",
                            "--bvh", tmp_path / "m.bvh", "--smplx-model", model_file)
    assert rc == 0, err
    data = read_smplx_npz(tmp_path / "motion.npz", fps=None)  # as the command reads it
    poses, trans, betas = data["poses"], data["trans"], data["betas"]
    model = load_smplx_model(model_file)
    write_smplx_bvh(tmp_path / "ref.bvh", poses, 30, trans, model=model, betas=betas)
    assert (tmp_path / "m.bvh").read_text() == (tmp_path / "ref.bvh").read_text()
    gltf = gl.GLTF2.load(tmp_path / "m.glb")
    standing = standing_trans(trans, 20, smplx_body(model_file, betas).ground)
    np.testing.assert_allclose(node_positions(gltf, 7), model.joint_positions(poses, standing, betas)[7],
                               atol=1e-5)
    b = read_bvh(tmp_path / "m.bvh")  # the two files on the same skeleton, standing at one height
    bvh = b.forward_kinematics()[7, [b.index(name) for name in SMPLX_JOINT_NAMES]] / 100
    np.testing.assert_allclose(bvh, node_positions(gltf, 7), atol=1e-5)


@pytest.mark.parametrize("make, args, match", [
    (None, ["--glb", "{tmp}/o.glb"], "missing.npz: motion file not found"),
    ("text", ["--glb", "{tmp}/o.glb"], "bad.npz: not a readable npz file"),
    ("shape", ["--glb", "{tmp}/o.glb", "--bvh", "{tmp}/o.bvh"], "bad.npz: 'poses' has shape (4, 99)"),
    ("ok", [], "nothing to write"),
    ("ok", ["--glb", "{tmp}/o.gltf"], "--glb needs a file name ending in .glb"),
    ("ok", ["--glb", "{tmp}/o.glb", "--fps", "0"], "--fps must be in"),
    ("ok", ["--glb", "{tmp}/o.glb", "--smplx-model", "{tmp}/no.npz"], "no.npz: SMPL-X model file not found"),
])
def test_cli_export_bad_inputs_give_one_error_line_and_no_file(tmp_path, capsys, make, args, match):
    name = {None: "missing.npz", "text": "bad.npz", "shape": "bad.npz", "ok": "good.npz"}[make]
    src = tmp_path / name
    if make == "text":
        src.write_text("not an archive\n")
    elif make == "shape":
        np.savez(src, poses=np.zeros((4, 99), np.float32))
    elif make == "ok":
        write_beat2_npz(src, random_poses(4), 30)
    before = sorted(tmp_path.iterdir())
    rc, _, err = run_export(capsys, src, *(a.format(tmp=tmp_path) for a in args))
    assert rc != 0
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: ") and match in err, err
    assert sorted(tmp_path.iterdir()) == before  # no output, no temporary


# --- eggesture generate --glb ------------------------------------------------------------------

def test_generate_glb_is_the_npz_motion_for_the_speech(bundle_dir, tmp_path, capsys):
    wav = write_wav(tmp_path / "a.wav", 2.5)
    rc = main(["generate", "--checkpoint", str(bundle_dir), "--audio", str(wav),
               "--out", str(tmp_path / "a.npz"), "--glb", str(tmp_path / "a.glb")])
    assert rc == 0, capsys.readouterr().err
    gltf = gl.GLTF2.load(tmp_path / "a.glb")
    assert gltf.scenes[0].extras == {"fps": 30.0, "frames": 75, "duration": 2.5}
    with np.load(tmp_path / "a.npz") as d:
        poses, trans = d["poses"], d["trans"]
    assert not trans.any()  # BEAT2's layout: the generator writes no root translation
    np.testing.assert_allclose(node_positions(gltf, 40), smplx_positions(poses[40:41])[0] + STANDING,
                               atol=1e-5)  # standing on the floor

    (tmp_path / "in").mkdir()
    write_wav(tmp_path / "in" / "b.wav", 1.0)
    rc = main(["generate", "--checkpoint", str(bundle_dir), "--audio", str(tmp_path / "in"),
               "--out", str(tmp_path / "out"), "--glb"])
    assert rc == 0, capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["b.glb", "b.npz"]
    rc = main(["generate", "--checkpoint", str(bundle_dir), "--audio", str(wav),
               "--out", str(tmp_path / "c.npz"), "--glb", str(tmp_path / "c.bvh")])
    assert rc == 2 and "--glb needs a file name ending in .glb" in capsys.readouterr().err


def test_glb_of_a_model_on_another_skeleton_is_refused(bundle, tmp_path):
    from eggesture.recipes.generate import Generated, save_outputs

    gen = Generated(rotvec=np.zeros((10, 1, 3), np.float32), joint_names=["Hips"], fps=15,
                    duration=0.66, indices=np.zeros(3, int))
    with pytest.raises(DataError, match="GLB export needs a model on the SMPL-X skeleton"):
        save_outputs(gen, bundle, out=tmp_path / "a.npz", glb=tmp_path / "a.glb")
    assert list(tmp_path.iterdir()) == []


# --- docs/animators.md ------------------------------------------------------------------------

def test_animators_doc_shows_the_blender_recipes_as_tested():
    """The page's retargeting recipe and FBX conversion are test_blender's code, verbatim (read
    from its source: it imports bpy, which this environment may lack)."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    source = (Path(__file__).parent / "test_blender.py").read_text()
    doc = (root / "docs" / "animators.md").read_text()
    shown = {}
    for node in ast.parse(source).body:
        name = getattr(node, "name", None) or getattr(getattr(node, "targets", [None])[0], "id", None)
        if name in ("BONE_MAP", "follow", "bake", "glb_to_fbx"):
            shown[name] = ast.get_source_segment(source, node)
    assert sorted(shown) == ["BONE_MAP", "bake", "follow", "glb_to_fbx"]
    for name, code in shown.items():
        assert code in doc, f"docs/animators.md does not show test_blender's {name} as written"
