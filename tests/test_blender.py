"""Our BVH and GLB opened in Blender itself (``bpy``: Blender 5.0 as a Python module).

Marked ``blender`` and skipped unless ``bpy`` imports. ``bpy`` 5.0.1 pins numpy < 2, so it is
installed in an environment of its own (docs/animators.md, "Checking in Blender").

Blender is z up. Both importers turn SMPL-X's y-up frame into Blender's by
``(x, y, z) → (x, −z, y)`` (the BVH importer's defaults ``axis_forward="-Z", axis_up="Y"``, and
glTF's fixed y-up → z-up conversion), so the body faces −y (Blender's front view) with its left
on +x. Our BVH is in centimetres and is imported with ``global_scale=0.01``; glTF is in metres.
Checked for each file (:func:`check_in_blender`): frame count and rate, bone names and parents,
the world position of every joint (wrists included) at every frame against our forward
kinematics, bone rotations equal to ours up to each bone's constant rest orientation at every
frame, halfway between frames close to their neighbours (no joint flips while the curves
interpolate), and the rest pose upright with the body's left on +x, its feet on the floor z = 0
(our forward kinematics stand the motion there too: :func:`eggesture.data.skeleton.
standing_trans`, as the writers do). The wrists' largest error
is recorded as the property ``wrist_error_m`` (``pytest --junitxml=FILE -o
junit_family=xunit1``). Then the GLB's skinned body against our linear blend skinning, both
files on the skeleton of an SMPL-X model file, the BEAT2 sample's first frame on the floor, and
the retargeting recipe and GLB → FBX conversion of docs/animators.md.
"""

from __future__ import annotations

import numpy as np
import pytest

import test_generate
from conftest import SAMPLE_ID
from eggesture.data.beat2 import read_motion
from eggesture.data.motion import (
    JOINT_SETS,
    NUM_SMPLX_JOINTS,
    SMPLX_JOINT_NAMES,
    SMPLX_PARENTS,
    axis_angle_to_matrix,
    matrix_to_axis_angle,
)
from eggesture.data.skeleton import forward_kinematics, standing_trans
from eggesture.data.smplx_model import load_smplx_model
from eggesture.export.bvh import write_smplx_bvh
from eggesture.export.gltf import capsule_body, smplx_body, write_smplx_glb
from test_export_bvh import random_poses
from test_generate import speech
from test_smplx_model import _model_arrays

pytestmark = pytest.mark.blender
bpy = pytest.importorskip("bpy")
# The tiny bundle of test_generate's fixtures (trained here only for the "generated" motion).
trained, bundle_dir, bundle = test_generate.trained, test_generate.bundle_dir, test_generate.bundle

#: SMPL-X / glTF / our BVH (y up) → Blender (z up), as both importers convert.
TO_BLENDER = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
#: World positions must agree to 0.01 mm (measured: under 1e-6 m, float32 rounding).
POSITION_TOL = 1e-5
#: Frames of the BEAT2 sample checked (10 s at 30 fps keeps the test fast).
BEAT2_FRAMES = 300
LEFT_WRIST, RIGHT_WRIST = SMPLX_JOINT_NAMES.index("left_wrist"), SMPLX_JOINT_NAMES.index("right_wrist")
FEET = ("left_ankle", "right_ankle", "left_foot", "right_foot")
#: How far the BEAT2 sample's lowest foot may be from the floor at its first frame. The rest pose
#: is on the floor exactly; the first frame's legs are posed a little differently (measured: its
#: lowest foot 0.3 mm up, in our forward kinematics and in Blender alike). 1 cm still fails a
#: missing lift (0.33 m up, 0.95 m down) and the exact SMPL-X neutral leg instead of our
#: skeleton's (0.935 m instead of 0.954 m pelvis height: 1.9 cm).
FLOOR_TOL = 0.01


def _spinning_motion() -> tuple[np.ndarray, np.ndarray, float]:
    """60 frames whose pelvis turns a full circle about y while walking, its axis-angle in
    [0, π] as the generator writes it: it jumps from (0, π, 0) to (0, −π, 0) halfway, where a
    writer must keep Euler curves and quaternion signs continuous."""
    n = 60
    poses = random_poses(n, seed=1)
    spin = np.stack([np.zeros(n), np.linspace(0, 2 * np.pi, n), np.zeros(n)], axis=1)
    poses[:, :3] = matrix_to_axis_angle(axis_angle_to_matrix(spin))
    t = np.arange(n) / 30
    trans = np.stack([0.3 * np.sin(t), 0.95 + 0.02 * t, 0.4 * t], axis=1)
    return poses, trans, 30.0


@pytest.fixture(params=["spinning", "generated", "beat2"])
def motion(request) -> tuple[np.ndarray, np.ndarray | None, float]:
    """``(poses (T, 165), trans (T, 3) or None, fps)``: a hard synthetic motion, the tiny
    bundle's output for 3 s of speech (as the demo writes it), and the BEAT2 sample's first
    10 s of ground truth."""
    if request.param == "spinning":
        return _spinning_motion()
    if request.param == "generated":
        from eggesture.recipes.generate import generate, to_smplx_poses

        gen = generate(request.getfixturevalue("bundle"), speech(3.0))
        return to_smplx_poses(gen, 30).astype(np.float64), None, 30.0
    root = request.getfixturevalue("beat2_sample")
    data = read_motion(root / "smplxflame_30" / f"{SAMPLE_ID}.npz")
    return (data["poses"][:BEAT2_FRAMES].astype(np.float64),
            data["trans"][:BEAT2_FRAMES].astype(np.float64), 30.0)


def our_globals(poses: np.ndarray, trans: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Our joint positions ``(T, 55, 3)`` and global rotations ``(T, 55, 3, 3)``, in Blender's
    frame, the body standing on the floor as our writers stand it."""
    local = axis_angle_to_matrix(poses.reshape(len(poses), NUM_SMPLX_JOINTS, 3))
    glob = np.empty_like(local)
    for k, p in enumerate(SMPLX_PARENTS):
        glob[:, k] = local[:, k] if p < 0 else glob[:, p] @ local[:, k]
    pos = forward_kinematics(local, root_position=standing_trans(trans, len(poses)))
    return pos @ TO_BLENDER.T, TO_BLENDER @ glob @ TO_BLENDER.T


def empty_scene():
    bpy.ops.wm.read_factory_settings(use_empty=True)
    return bpy.context.scene


def the_armature():
    (arm,) = [o for o in bpy.context.scene.objects if o.type == "ARMATURE"]
    return arm


def import_file(kind: str, path, fps: float) -> tuple[object, int]:
    """Import our ``bvh`` or ``glb`` into an empty scene: ``(armature, Blender frame of k = 0)``."""
    scene = empty_scene()
    if kind == "bvh":
        bpy.ops.import_anim.bvh(filepath=str(path), global_scale=0.01, use_fps_scale=False,
                                update_scene_fps=True, update_scene_duration=True)
        return the_armature(), scene.frame_start
    scene.render.fps, scene.render.fps_base = int(fps), 1.0  # glTF has no rate: keys at t · fps
    bpy.ops.import_scene.gltf(filepath=str(path))
    return the_armature(), 0


def write_file(kind: str, path, poses, trans, fps) -> None:
    if kind == "bvh":
        write_smplx_bvh(path, poses, fps, trans)
    else:
        write_smplx_glb(path, poses, fps, trans)


def posed(arm, frame: int, subframe: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """World bone heads ``(55, 3)`` and rotations ``(55, 3, 3)`` at ``frame``, SMPL-X order."""
    bpy.context.scene.frame_set(frame, subframe=subframe)
    world = np.array(arm.matrix_world)
    mats = np.stack([world @ np.array(arm.pose.bones[n].matrix) for n in SMPLX_JOINT_NAMES])
    return mats[:, :3, 3], mats[:, :3, :3]


def angle(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Geodesic angle (rad) between rotations ``(..., 3, 3)``, from ``‖a − b‖ = 2√2 sin(θ/2)``,
    which stays exact for small angles where the arccos of the trace loses half the digits."""
    diff = np.linalg.norm(np.asarray(a, np.float64) - np.asarray(b, np.float64), axis=(-2, -1))
    return 2 * np.arcsin(np.minimum(diff / (2 * np.sqrt(2)), 1.0))


def action_keys(arm) -> np.ndarray:
    """Frames ``(K,)`` of the keys of the armature action's first rotation curve."""
    from bpy_extras.anim_utils import action_get_channelbag_for_slot

    anim = arm.animation_data
    curves = action_get_channelbag_for_slot(anim.action, anim.action_slot).fcurves
    curve = next(c for c in curves if "rotation" in c.data_path)
    return np.array([k.co[0] for k in curve.keyframe_points])


@pytest.mark.parametrize("kind", ["bvh", "glb"])
def test_our_file_in_blender(tmp_path, motion, kind, record_property):
    poses, trans, fps = motion
    write_file(kind, tmp_path / f"m.{kind}", poses, trans, fps)
    wrist_error = check_in_blender(kind, tmp_path / f"m.{kind}", poses, trans, fps)
    record_property("wrist_error_m", wrist_error)  # in --junitxml's report


def check_in_blender(kind: str, path, poses: np.ndarray, trans: np.ndarray | None, fps: float) -> float:
    """Import our ``bvh`` or ``glb`` file of ``poses (T, 165)`` and ``trans (T, 3)`` (metres) at
    ``fps`` into an empty scene and check it (the module docstring); returns the wrists' largest
    position error in metres. Also usable on a file written by ``eggesture generate``/``export``."""
    n = len(poses)
    arm, first = import_file(kind, path, fps)
    scene = bpy.context.scene

    # Frame count and rate: key k at Blender frame first + k, the scene at the motion's rate.
    assert scene.render.fps / scene.render.fps_base == fps
    np.testing.assert_allclose(action_keys(arm), first + np.arange(n), atol=1e-3)
    if kind == "bvh":
        assert scene.frame_end >= n  # the importer extends the scene (never shortens it)
    else:
        assert scene["fps"] == fps and scene["frames"] == n  # the GLB's scene extras

    # Joint names and hierarchy.
    bones = arm.data.bones
    assert sorted(b.name for b in bones) == sorted(SMPLX_JOINT_NAMES)
    for k, name in enumerate(SMPLX_JOINT_NAMES):
        parent = bones[name].parent
        assert (parent.name if parent else None) == (SMPLX_JOINT_NAMES[SMPLX_PARENTS[k]]
                                                     if SMPLX_PARENTS[k] >= 0 else None)

    # Rest pose upright (+z), facing −y, the body's left on +x: a right-handed body frame.
    world = np.array(arm.matrix_world)
    rest = {b.name: (world @ np.append(np.array(b.head_local), 1.0))[:3] for b in bones}
    up = rest["head"] - rest["pelvis"]
    left = rest["left_wrist"] - rest["right_wrist"]
    forward = rest["jaw"] - rest["head"]
    assert up[2] > 0.3 and abs(up[0]) < 1e-6
    assert left[0] > 1.0 and rest["left_hip"][0] > 0 > rest["right_hip"][0]
    assert forward[1] < 0 and np.dot(np.cross(left, up), forward) > 0
    assert min(rest[name][2] for name in FEET) == pytest.approx(0.0, abs=POSITION_TOL)  # on the floor

    # Every joint where our forward kinematics puts it; bone rotations ours times a constant.
    pos, rot = our_globals(poses, trans)
    got_pos, got_rot = zip(*(posed(arm, first + k) for k in range(n)))
    got_pos, got_rot = np.stack(got_pos), np.stack(got_rot)  # (T, 55, 3), (T, 55, 3, 3)
    wrist_error = float(np.abs(got_pos - pos)[:, [LEFT_WRIST, RIGHT_WRIST]].max())
    assert wrist_error < POSITION_TOL, f"wrists {wrist_error * 1000:.4f} mm off"
    np.testing.assert_allclose(got_pos, pos, atol=POSITION_TOL)
    rest_orient = np.swapaxes(rot[0], -1, -2) @ got_rot[0]  # (55, 3, 3): Blender's bone axes
    assert angle(rot @ rest_orient, got_rot).max() < 1e-4
    assert (got_pos[:, SMPLX_JOINT_NAMES.index("head"), 2] > got_pos[:, 0, 2]).all()  # stands

    # No flip between keys: halfway, each bone is within a frame's turn of both neighbours.
    step = angle(rot[1:], rot[:-1])  # (T − 1, 55)
    for k in range(0, n - 1, max(1, (n - 1) // 40)):
        _, mid = posed(arm, first + k, subframe=0.5)
        assert (angle(mid, got_rot[k]) <= step[k] + 1e-3).all(), k
        assert (angle(mid, got_rot[k + 1]) <= step[k] + 1e-3).all(), k
    return wrist_error


def skinned(body, poses: np.ndarray, trans: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """Linear blend skinning of ``body``'s vertices ``(V, 3)`` by our joints ``pos (T, 55, 3)``
    (SMPL-X frame) and ``poses`` (with the body's mean hand pose): ``(T, V, 3)``, Blender's frame."""
    rotvec = poses.reshape(len(poses), NUM_SMPLX_JOINTS, 3).copy()
    if body.hand_mean is not None:
        rotvec[:, JOINT_SETS["hands"]] += body.hand_mean
    _, rot = our_globals(rotvec.reshape(len(poses), -1), trans)  # (T, 55, 3, 3), Blender's frame
    rest = (body.vertices[:, None] - body.rest_joints[body.joints]) @ TO_BLENDER.T  # (V, 4, 3)
    moved = np.einsum("tvkab,vkb->tvka", rot[:, body.joints], rest) + (pos @ TO_BLENDER.T)[:, body.joints]
    return (body.weights[None, :, :, None] * moved).sum(2)  # (T, V, 3)


@pytest.mark.parametrize("mesh", ["capsules", "smplx"])
def test_glb_body_follows_the_skeleton_in_blender(tmp_path, mesh):
    """The visible body, skinned by Blender's armature modifier, is where our linear blend
    skinning puts it (the capsules, or an SMPL-X-layout model file's mesh with its weights)."""
    poses, trans, fps = _spinning_motion()
    if mesh == "capsules":
        body = capsule_body()
        pos = forward_kinematics(axis_angle_to_matrix(poses.reshape(len(poses), NUM_SMPLX_JOINTS, 3)),
                                 root_position=standing_trans(trans, len(poses), body.ground))
    else:
        np.savez(tmp_path / "model.npz", **_model_arrays())
        betas = np.linspace(-1, 1, 10)
        body = smplx_body(tmp_path / "model.npz", betas)
        pos = load_smplx_model(tmp_path / "model.npz").joint_positions(
            poses, standing_trans(trans, len(poses), body.ground), betas)
    write_smplx_glb(tmp_path / "m.glb", poses, fps, trans, body=body)
    import_file("glb", tmp_path / "m.glb", fps)
    # The importer adds an Icosphere (its bone display shape) besides our skinned mesh.
    (obj,) = [o for o in bpy.context.scene.objects if o.type == "MESH" and o.find_armature()]
    assert obj.find_armature() == the_armature()
    assert (obj.name, the_armature().name) == (body.name, "smplx")  # as docs/animators.md says
    # Blender's importer may reorder vertices: match them to ours by their rest position. (Capsule
    # ends at a joint coincide with the next capsule's start; both land on the posed joint.)
    from scipy.spatial import cKDTree

    rest = np.array([obj.matrix_world @ v.co for v in obj.data.vertices])
    standing = body.vertices + [0.0, -body.ground, 0.0]  # the rest body as the GLB stands it
    dist, index = cKDTree(standing @ TO_BLENDER.T).query(rest)
    assert len(rest) == len(body.vertices) and dist.max() < 1e-6
    expected = skinned(body, poses, trans, pos)
    for k in (0, 17, 45):
        bpy.context.scene.frame_set(k)
        evaluated = obj.evaluated_get(bpy.context.evaluated_depsgraph_get())
        world = np.array(evaluated.matrix_world)
        got = np.array([(world @ np.append(np.array(v.co), 1.0))[:3] for v in evaluated.data.vertices])
        np.testing.assert_allclose(got, expected[k, index], atol=POSITION_TOL)


@pytest.mark.parametrize("kind", ["bvh", "glb"])
def test_files_on_a_smplx_models_skeleton_in_blender(tmp_path, kind):
    """With the user's SMPL-X model (here an SMPL-X-layout file), both files carry its exact
    skeleton and mean hand pose: Blender's joints are the model's own joint positions."""
    poses, trans, fps = _spinning_motion()
    np.savez(tmp_path / "model.npz", **_model_arrays())
    model, betas = load_smplx_model(tmp_path / "model.npz"), np.linspace(-1, 1, 10)
    if kind == "bvh":
        write_smplx_bvh(tmp_path / "m.bvh", poses, fps, trans, model=model, betas=betas)
    else:
        write_smplx_glb(tmp_path / "m.glb", poses, fps, trans,
                        body=smplx_body(tmp_path / "model.npz", betas))
    arm, first = import_file(kind, tmp_path / f"m.{kind}", fps)
    ground = smplx_body(tmp_path / "model.npz", betas).ground  # the mesh's soles on the floor
    expected = model.joint_positions(poses, standing_trans(trans, len(poses), ground), betas)
    expected = expected @ TO_BLENDER.T  # (T, 55, 3)
    for k in (0, 17, 45):
        np.testing.assert_allclose(posed(arm, first + k)[0], expected[k], atol=POSITION_TOL)


@pytest.mark.parametrize("kind", ["bvh", "glb"])
def test_beat2_sample_stands_on_the_floor_in_blender(tmp_path, beat2_sample, kind, record_property):
    """The BEAT2 sample, whose trans (pelvis ~1.29 m up) is meant for SMPL-X's own pelvis 0.35 m
    below its origin: in Blender its rest pose has the lowest foot at z = 0 and its first frame's
    lowest foot is within FLOOR_TOL of the floor (it was 0.33 m above before the writers stood
    the body on the floor)."""
    data = read_motion(beat2_sample / "smplxflame_30" / f"{SAMPLE_ID}.npz")
    poses, trans = data["poses"][:30].astype(np.float64), data["trans"][:30].astype(np.float64)
    write_file(kind, tmp_path / f"m.{kind}", poses, trans, 30.0)
    arm, first = import_file(kind, tmp_path / f"m.{kind}", 30.0)
    world = np.array(arm.matrix_world)
    rest = [(world @ np.append(np.array(arm.data.bones[n].head_local), 1.0))[2] for n in FEET]
    assert min(rest) == pytest.approx(0.0, abs=POSITION_TOL)
    heads, _ = posed(arm, first)  # (55, 3) frame 0
    lowest = float(heads[[SMPLX_JOINT_NAMES.index(n) for n in FEET], 2].min())
    record_property("first_frame_lowest_foot_m", lowest)
    assert abs(lowest) < FLOOR_TOL, f"lowest foot {lowest * 100:.2f} cm from the floor"


# The recipe of docs/animators.md, "Retargeting in Blender" (test_export_gltf checks that the
# page shows BONE_MAP, follow, bake and glb_to_fbx exactly as written here).
BONE_MAP = {  # SMPL-X bone → the character's bone (Mixamo's names, without "mixamorig:")
    "pelvis": "Hips", "spine1": "Spine", "spine2": "Spine1", "spine3": "Spine2",
    "neck": "Neck", "head": "Head",
    "left_collar": "LeftShoulder", "left_shoulder": "LeftArm", "left_elbow": "LeftForeArm",
    "left_wrist": "LeftHand",
    "right_collar": "RightShoulder", "right_shoulder": "RightArm", "right_elbow": "RightForeArm",
    "right_wrist": "RightHand",
    "left_hip": "LeftUpLeg", "left_knee": "LeftLeg", "left_ankle": "LeftFoot",
    "left_foot": "LeftToeBase",
    "right_hip": "RightUpLeg", "right_knee": "RightLeg", "right_ankle": "RightFoot",
    "right_foot": "RightToeBase",
}


def follow(character, smplx, bone_map: dict[str, str]) -> None:
    """Make ``character``'s bones follow the imported SMPL-X armature ``smplx``."""
    for source, target in bone_map.items():
        bone = character.pose.bones[target]
        c = bone.constraints.new("COPY_ROTATION")
        c.target, c.subtarget = smplx, source
        c.target_space, c.owner_space = "LOCAL_OWNER_ORIENT", "LOCAL"
        if source == "pelvis":
            c = bone.constraints.new("COPY_LOCATION")
            c.target, c.subtarget = smplx, source
            c.target_space = c.owner_space = "WORLD"


def bake(character, frame_start: int, frame_end: int) -> None:
    """Key ``character``'s followed pose on every frame and remove the constraints."""
    bpy.context.view_layer.objects.active = character
    bpy.ops.object.mode_set(mode="POSE")
    bpy.ops.pose.select_all(action="SELECT")
    bpy.ops.nla.bake(frame_start=frame_start, frame_end=frame_end, visual_keying=True,
                     clear_constraints=True, bake_types={"POSE"})
    bpy.ops.object.mode_set(mode="OBJECT")


def make_character(smplx, bone_map: dict[str, str]):
    """An armature of the mapped bones under other names and another bone roll."""
    data = bpy.data.armatures.new("Character")
    character = bpy.data.objects.new("Character", data)
    bpy.context.scene.collection.objects.link(character)
    bpy.context.view_layer.objects.active = character
    bpy.ops.object.mode_set(mode="EDIT")
    for source, target in bone_map.items():
        src = smplx.data.bones[source]
        bone = data.edit_bones.new(target)
        bone.head, bone.tail, bone.roll = src.head_local, src.tail_local, 1.3
        if src.parent is not None and src.parent.name in bone_map:
            bone.parent = data.edit_bones[bone_map[src.parent.name]]
    bpy.ops.object.mode_set(mode="OBJECT")
    return character


@pytest.mark.parametrize("kind", ["bvh", "glb"])
def test_retargeting_recipe_makes_another_armature_follow(tmp_path, kind):
    poses, trans, fps = _spinning_motion()
    write_file(kind, tmp_path / f"m.{kind}", poses, trans, fps)
    smplx, first = import_file(kind, tmp_path / f"m.{kind}", fps)
    character = make_character(smplx, BONE_MAP)
    follow(character, smplx, BONE_MAP)

    def world_turn(obj, name):  # a bone's world rotation since its rest pose
        pb = obj.pose.bones[name]
        now = (obj.matrix_world @ pb.matrix).to_3x3()
        return np.array(now @ (obj.matrix_world @ pb.bone.matrix_local).to_3x3().inverted())

    pos, _ = our_globals(poses, trans)
    for k in (0, 17, 45):
        bpy.context.scene.frame_set(first + k)
        hand = np.array(character.matrix_world @ character.pose.bones["LeftHand"].head)
        np.testing.assert_allclose(hand, pos[k, LEFT_WRIST], atol=POSITION_TOL)
        for source, target in BONE_MAP.items():  # each bone turns as its SMPL-X bone
            np.testing.assert_allclose(world_turn(character, target), world_turn(smplx, source),
                                       atol=1e-5, err_msg=f"{target} at frame {k}")

    bake(character, first, first + len(poses) - 1)
    smplx.animation_data_clear()  # the baked keys alone now move the character
    assert not any(b.constraints for b in character.pose.bones)
    for k in (0, 17, 45):
        bpy.context.scene.frame_set(first + k)
        hand = np.array(character.matrix_world @ character.pose.bones["LeftHand"].head)
        np.testing.assert_allclose(hand, pos[k, LEFT_WRIST], atol=POSITION_TOL)


def glb_to_fbx(glb: str, fbx: str, fps: int = 30) -> None:
    """Our GLB as FBX through Blender's own exporter (run in an empty scene)."""
    bpy.context.scene.render.fps = fps  # glTF keys are in seconds: one key per frame at fps
    bpy.ops.import_scene.gltf(filepath=glb)
    bpy.ops.export_scene.fbx(filepath=fbx, bake_anim=True, add_leaf_bones=False)


def test_glb_to_fbx_snippet_keeps_the_motion(tmp_path):
    poses, trans, fps = _spinning_motion()
    write_smplx_glb(tmp_path / "m.glb", poses, fps, trans)
    empty_scene()
    glb_to_fbx(str(tmp_path / "m.glb"), str(tmp_path / "m.fbx"))

    scene = empty_scene()
    bpy.ops.import_scene.fbx(filepath=str(tmp_path / "m.fbx"))
    arm = the_armature()
    assert sorted(b.name for b in arm.data.bones) == sorted(SMPLX_JOINT_NAMES)
    assert scene.render.fps == 30
    pos, _ = our_globals(poses, trans)
    for k in (0, 20, len(poses) - 1):
        got, _ = posed(arm, 1 + k)  # Blender's FBX importer starts the animation at frame 1
        np.testing.assert_allclose(got, pos[k], atol=POSITION_TOL)
