"""Binary glTF 2.0 (GLB) export: SMPL-X motion as a skinned, animated character.

glTF is the format game engines (Unity, Unreal, Godot), the web (three.js, Babylon.js) and
Blender all read. :func:`write_smplx_glb` writes BEAT2 ``poses (T, 165)`` as one ``.glb``:

* **Axes and units.** glTF 2.0 is y up, metres, right-handed, with the asset's front facing +z
  (glTF 2.0 spec, §3.4 "Coordinate System and Units") — exactly SMPL-X's frame (y up, the body
  facing +z, +x the body's left), so values are written unchanged.
* **Skeleton.** Node ``k`` is SMPL-X joint ``k`` under its name
  (:data:`~eggesture.data.motion.SMPLX_JOINT_NAMES`), child of node ``SMPLX_PARENTS[k]``, with
  its rest offset from the parent as translation and no rest rotation (SMPL-X's zero pose, a
  T-pose). The rest body stands on the floor: everything (joints, mesh) is raised by
  ``−ground``, the height of its lowest point (:attr:`SkinnedBody.ground`), so the rest pose's
  lowest point is at y = 0. The 55 nodes are the joints of one skin; the rest global transforms
  are pure translations to the standing rest joints ``J``, so inverse bind matrix ``k`` is the
  translation by ``−J[k]`` (spec §3.7.3 "Skins").
* **Animation.** One clip; each joint has a rotation channel of unit quaternions (glTF's
  ``x, y, z, w`` order, consecutive ones in the same hemisphere) at times ``k / fps``,
  ``k = 0 … T−1``, LINEAR (slerp); the pelvis has a translation channel when the motion moves
  it from its rest place: by :func:`~eggesture.data.skeleton.standing_trans` of ``trans``, on
  the floor at the first frame, then following ``trans``. The last keyframe is at
  ``(T−1) / fps``: ``T = round(duration × fps)`` frames shown at ``fps`` last ``T / fps`` s,
  the speech's duration to half a frame. glTF has no frame rate, so ``fps``, ``frames`` and
  ``duration`` (seconds) are in the scene's ``extras`` (Blender imports them as the scene's
  custom properties).
* **Body.** By default, low-poly capsules along the bones of the approximate skeleton of
  :mod:`eggesture.data.skeleton` (each rigidly skinned to the joint it turns with). With the
  user's SMPL-X ``.npz`` model (:func:`smplx_body`), the SMPL-X mesh shaped by ``betas``, its
  skin weights (the 4 largest per vertex, renormalised: glTF's ``JOINTS_0``/``WEIGHTS_0``) and
  that model's exact rest joints. glTF skinning is linear blend skinning, which is SMPL-X's
  (Pavlakos et al., CVPR 2019, Eq. 2-4) without the pose-corrective blend shapes, so joints
  match SMPL-X exactly and the surface differs only by those correctives.

The container (buffers, buffer views, accessors, the GLB chunks) is ``pygltflib``'s: a small,
maintained, pure-Python library that mirrors the glTF schema one dataclass per object, so this
module only lays out arrays and never writes the binary format by hand.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pygltflib as gl
import roma
import torch

from .. import __version__
from ..data.motion import JOINT_SETS, NUM_SMPLX_JOINTS, SMPLX_JOINT_NAMES, SMPLX_PARENTS
from ..data.poses import POSES_DIM, n_frames_for
from ..data.skeleton import SMPLX_REST_JOINTS, standing_trans
from ..data.smplx_model import SmplxModel, load_smplx_model
from ..errors import DataError
from ..io import write_bytes

#: Joints a glTF vertex may follow (``JOINTS_0`` / ``WEIGHTS_0`` hold four).
WEIGHTS_PER_VERTEX = 4
#: Sides of each capsule of the default body.
CAPSULE_SIDES = 6
_HANDS = JOINT_SETS["hands"]
_COMPONENT = {np.dtype(np.float32): gl.FLOAT, np.dtype(np.uint8): gl.UNSIGNED_BYTE,
              np.dtype(np.uint32): gl.UNSIGNED_INT}
_TYPE = {(): gl.SCALAR, (3,): gl.VEC3, (4,): gl.VEC4, (4, 4): gl.MAT4}


@dataclass(frozen=True, eq=False)
class SkinnedBody:
    """The rest skeleton and the visible body of a GLB (see the module docstring)."""

    rest_joints: np.ndarray
    """``(55, 3)`` rest-pose joint positions in metres: the skin's bind pose."""
    vertices: np.ndarray
    """``(V, 3)`` rest-pose vertex positions in metres."""
    faces: np.ndarray
    """``(F, 3)`` vertex indices of the triangles, counter-clockwise seen from outside."""
    joints: np.ndarray
    """``(V, 4)`` the joints that move each vertex."""
    weights: np.ndarray
    """``(V, 4)`` their skin weights, each row summing to 1."""
    hand_mean: np.ndarray | None = None
    """``(30, 3)`` axis-angle added to the hand joints' rotations (SMPL-X's mean hand pose)."""
    name: str = "body"
    """Name of the mesh, its node and its material (Blender's object name; the armature is
    ``smplx``, after the skin)."""
    ground: float | None = None
    """Height y of the floor under the rest body, in metres: its lowest point, which the GLB puts
    at y = 0. None (the default): its lowest rest joint, as for the capsules, a stick figure
    standing on its foot joints; :func:`smplx_body` gives the SMPL-X mesh's lowest vertex."""

    def __post_init__(self):
        rest = np.asarray(self.rest_joints, dtype=np.float64)
        v = np.asarray(self.vertices, dtype=np.float32)
        n = len(v)
        f = np.asarray(self.faces)
        j = np.asarray(self.joints)
        w = np.asarray(self.weights, dtype=np.float32)
        if rest.shape != (NUM_SMPLX_JOINTS, 3) or not np.isfinite(rest).all():
            raise ValueError(f"rest_joints must be finite ({NUM_SMPLX_JOINTS}, 3), got {rest.shape}")
        if v.ndim != 2 or v.shape[1] != 3 or n == 0 or not np.isfinite(v).all():
            raise ValueError(f"vertices must be finite (V, 3) with V ≥ 1, got {v.shape}")
        if f.ndim != 2 or f.shape[1] != 3 or len(f) == 0 or not np.issubdtype(f.dtype, np.integer):
            raise ValueError(f"faces must be integer (F, 3) with F ≥ 1, got {f.dtype} {f.shape}")
        if f.min() < 0 or f.max() >= n:
            raise ValueError(f"faces must index the {n} vertices, got indices {f.min()}..{f.max()}")
        if j.shape != (n, WEIGHTS_PER_VERTEX) or w.shape != (n, WEIGHTS_PER_VERTEX):
            raise ValueError(f"joints and weights must be ({n}, {WEIGHTS_PER_VERTEX}), got "
                             f"{j.shape} and {w.shape}")
        if j.min() < 0 or j.max() >= NUM_SMPLX_JOINTS:
            raise ValueError(f"joints must be SMPL-X joint indices, got {j.min()}..{j.max()}")
        if not (np.isfinite(w).all() and (w >= 0).all()) or np.abs(w.sum(1) - 1).max() > 1e-5:
            raise ValueError("weights must be non-negative and sum to 1 for every vertex")
        hand = self.hand_mean
        if hand is not None:
            hand = np.asarray(hand, dtype=np.float64)
            if hand.shape != (len(_HANDS), 3):
                raise ValueError(f"hand_mean must be ({len(_HANDS)}, 3), got {hand.shape}")
        ground = float(rest[:, 1].min() if self.ground is None else self.ground)
        if not np.isfinite(ground):
            raise ValueError(f"ground must be finite, got {ground}")
        for name, value in [("rest_joints", rest), ("vertices", v), ("faces", f.astype(np.uint32)),
                            ("joints", j.astype(np.uint8)), ("weights", w), ("hand_mean", hand)]:
            if value is not None:
                value.setflags(write=False)
            object.__setattr__(self, name, value)
        object.__setattr__(self, "ground", ground)


def approximate_rest_joints() -> np.ndarray:
    """Rest joints ``(55, 3)`` of :mod:`eggesture.data.skeleton`'s skeleton, pelvis at the origin."""
    return SMPLX_REST_JOINTS.copy()


def capsule_body(rest_joints: np.ndarray | None = None, *, sides: int = CAPSULE_SIDES) -> SkinnedBody:
    """A stick figure of pointed ``sides``-gon capsules, one along each bone of ``rest_joints``.

    ``rest_joints (55, 3)`` defaults to :func:`approximate_rest_joints`. The capsule from a joint
    to each child is skinned to that joint only (it turns with the joint's rotation); each leaf
    joint (feet, jaw, eyes, finger tips) gets one more, half its bone long, along its bone (as
    the BVH writer's End Sites).
    """
    rest = approximate_rest_joints() if rest_joints is None else np.asarray(rest_joints, np.float64)
    has_child = {p for p in SMPLX_PARENTS if p >= 0}
    starts, ends, owners = [], [], []
    for k, p in enumerate(SMPLX_PARENTS):
        if p < 0:
            continue
        starts.append(rest[p]), ends.append(rest[k]), owners.append(p)
        if k not in has_child:
            starts.append(rest[k]), ends.append(rest[k] + 0.5 * (rest[k] - rest[p])), owners.append(k)
    a, b = np.array(starts), np.array(ends)  # (N, 3) each
    length = np.linalg.norm(b - a, axis=1)  # (N,)
    keep = length > 1e-6
    a, b, length, owner = a[keep], b[keep], length[keep], np.array(owners)[keep]
    d = (b - a) / length[:, None]  # (N, 3) bone directions
    # A unit vector u ⟂ d (from whichever axis is least parallel to d), then v = d × u, so that
    # (u, v, d) is right-handed and rings run counter-clockwise seen from the bone's end.
    helper = np.eye(3)[np.argmin(np.abs(d), axis=1)]
    u = np.cross(helper, d)
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    v = np.cross(d, u)
    radius = np.clip(0.15 * length, 0.004, 0.035)[:, None, None]  # (N, 1, 1)
    theta = 2 * np.pi * np.arange(sides) / sides
    circle = np.cos(theta)[None, :, None] * u[:, None] + np.sin(theta)[None, :, None] * v[:, None]
    ring = radius * circle  # (N, sides, 3)
    near = a[:, None] + 0.2 * (b - a)[:, None] + ring
    far = a[:, None] + 0.8 * (b - a)[:, None] + ring
    verts = np.concatenate([a[:, None], near, far, b[:, None]], axis=1)  # (N, 2·sides + 2, 3)
    per = 2 * sides + 2
    i = np.arange(sides)
    n_ = 1 + i  # near ring
    n1 = 1 + (i + 1) % sides
    f_, f1 = n_ + sides, n1 + sides  # far ring
    tip_a, tip_b = np.zeros(sides, int), np.full(sides, per - 1)
    tris = np.concatenate([
        np.stack([n1, n_, tip_a], 1),  # start cap
        np.stack([n_, n1, f1], 1), np.stack([n_, f1, f_], 1),  # sides
        np.stack([f_, f1, tip_b], 1),  # end cap
    ])  # (4·sides, 3) within one capsule
    faces = (tris[None] + per * np.arange(len(a))[:, None, None]).reshape(-1, 3)
    joints = np.zeros((len(a) * per, WEIGHTS_PER_VERTEX), np.uint8)
    joints[:, 0] = np.repeat(owner, per)
    weights = np.zeros((len(a) * per, WEIGHTS_PER_VERTEX), np.float32)
    weights[:, 0] = 1.0
    return SkinnedBody(rest_joints=rest, vertices=verts.reshape(-1, 3), faces=faces,
                       joints=joints, weights=weights, name="capsules")


def smplx_body(model_path: str | Path, betas: np.ndarray | None = None, *,
               flat_hand_mean: bool = False) -> SkinnedBody:
    """The SMPL-X mesh of the user's model file, shaped by ``betas``, as a skinned body.

    Read without pickle: the joint arrays through :func:`~eggesture.data.smplx_model.
    load_smplx_model`, the triangles ``f (F, 3)`` and skin weights ``weights (V, 55)`` here.
    The rest joints are the model's own for ``betas`` (zero expression). Unless
    ``flat_hand_mean``, the file's mean hand pose is added to the hand rotations, as
    :meth:`~eggesture.data.smplx_model.SmplxModel.joint_positions` and ``smplx`` do by default.
    """
    model = load_smplx_model(model_path)
    path = model.path
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = [k for k in ("f", "weights") if k not in archive.files]
            if missing:
                raise DataError(path, f"has no {', '.join(missing)}: the mesh needs the triangles "
                                      "(f) and skin weights (weights) of an SMPL-X model file")
            faces, weights = archive["f"], archive["weights"]
    except ValueError as e:
        raise DataError(path, f"cannot read f or weights ({_first_line(e)})") from None
    except (OSError, EOFError, zipfile.BadZipFile) as e:
        raise DataError(path, f"cannot read f or weights ({type(e).__name__})") from None
    n = model.v_template.shape[0]
    if faces.ndim != 2 or faces.shape[1] != 3 or not np.issubdtype(faces.dtype, np.integer):
        raise DataError(path, f"f must be integer (F, 3), got {faces.dtype} {faces.shape}")
    if len(faces) == 0 or faces.min() < 0 or faces.max() >= n:
        raise DataError(path, f"f must index the {n} vertices of v_template")
    if (weights.ndim != 2 or weights.shape[0] != n or weights.shape[1] < NUM_SMPLX_JOINTS
            or not np.issubdtype(weights.dtype, np.number)):
        raise DataError(path, f"weights must be ({n}, {NUM_SMPLX_JOINTS}), got {weights.shape}")
    weights = weights[:, :NUM_SMPLX_JOINTS].astype(np.float64)
    if not np.isfinite(weights).all() or (weights < 0).any():
        raise DataError(path, "weights must be finite and non-negative")
    top = np.argsort(-weights, axis=1, kind="stable")[:, :WEIGHTS_PER_VERTEX]  # (V, 4)
    w = np.take_along_axis(weights, top, axis=1)
    total = w.sum(axis=1, keepdims=True)
    if (total <= 0).any():
        raise DataError(path, f"vertex {int(np.argmax(total[:, 0] <= 0))} has no skin weight")
    vertices = smplx_vertices(model, betas)
    return SkinnedBody(rest_joints=model.rest_joints(betas), vertices=vertices, faces=faces,
                       joints=top, weights=w / total,
                       hand_mean=None if flat_hand_mean else model.hand_mean, name="smplx_mesh",
                       ground=float(vertices[:, 1].min()))


def smplx_vertices(model: SmplxModel, betas: np.ndarray | None = None) -> np.ndarray:
    """Rest vertices ``(V, 3)`` of ``model``'s mesh shaped by ``betas (B,)`` (zero expression;
    missing betas are zero, extra ones dropped, as :meth:`SmplxModel.rest_joints` does)."""
    coeffs = np.zeros(model.n_shape)
    if betas is not None:
        b = np.asarray(betas, dtype=np.float64).reshape(-1)[:model.n_shape]
        coeffs[:len(b)] = b
    return model.v_template + model.shapedirs[:, :, :model.n_shape] @ coeffs  # (V, 3)


class _Buffer:
    """Arrays packed into the GLB's one binary buffer, each with its buffer view and accessor."""

    def __init__(self, gltf: gl.GLTF2):
        self.gltf, self.data = gltf, bytearray()

    def add(self, array: np.ndarray, *, target: int | None = None, bounds: bool = False) -> int:
        """Append ``array (count, *element)``; returns its accessor's index. ``bounds`` stores
        min and max (required for positions and animation times)."""
        array = np.ascontiguousarray(array)
        if array.shape[1:] == (4, 4):  # glTF matrices are column-major
            array = np.ascontiguousarray(array.transpose(0, 2, 1))
        self.data.extend(b"\0" * (-len(self.data) % 4))  # every view 4-byte aligned
        self.gltf.bufferViews.append(gl.BufferView(buffer=0, byteOffset=len(self.data),
                                                   byteLength=array.nbytes, target=target))
        self.data.extend(array.tobytes())
        flat = array.reshape(len(array), -1)
        self.gltf.accessors.append(gl.Accessor(
            bufferView=len(self.gltf.bufferViews) - 1, componentType=_COMPONENT[array.dtype],
            count=len(array), type=_TYPE[array.shape[1:]],
            min=flat.min(0).tolist() if bounds else None,
            max=flat.max(0).tolist() if bounds else None))
        return len(self.gltf.accessors) - 1

    def finish(self) -> None:
        self.data.extend(b"\0" * (-len(self.data) % 4))
        self.gltf.buffers = [gl.Buffer(byteLength=len(self.data))]
        self.gltf.set_binary_blob(bytes(self.data))


def _unit_quaternions(rotvec: np.ndarray) -> np.ndarray:
    """Axis-angle ``(T, J, 3)`` → quaternions ``(T, J, 4)`` float32 (x, y, z, w), each in the
    hemisphere of the previous frame's, so that slerp between keys never goes the long way."""
    q = roma.rotvec_to_unitquat(torch.as_tensor(rotvec, dtype=torch.float64)).numpy()  # xyzw
    flip = np.ones(q.shape[:2])
    flip[1:] = np.where((q[1:] * q[:-1]).sum(-1) < 0, -1.0, 1.0)
    return (q * np.cumprod(flip, axis=0)[..., None]).astype(np.float32)


def smplx_gltf(
    poses: np.ndarray,
    fps: float,
    trans: np.ndarray | None = None,
    *,
    body: SkinnedBody | None = None,
    duration: float | None = None,
) -> gl.GLTF2:
    """The glTF document of :func:`write_smplx_glb` (with its binary blob set)."""
    poses = np.asarray(poses, dtype=np.float64)
    if poses.ndim != 2 or poses.shape[1] != POSES_DIM or len(poses) == 0:
        raise ValueError(f"poses must be (T, {POSES_DIM}) with T ≥ 1, got {poses.shape}")
    if not np.isfinite(poses).all():
        raise ValueError("poses hold NaN or infinite values")
    if not (np.isfinite(fps) and fps > 0):
        raise ValueError(f"fps must be positive, got {fps}")
    t = len(poses)
    if trans is not None:
        trans = np.asarray(trans, dtype=np.float64)
        if trans.shape != (t, 3) or not np.isfinite(trans).all():
            raise ValueError(f"trans must be finite ({t}, 3), got {trans.shape}")
    if duration is not None and n_frames_for(duration, fps) != t:
        raise ValueError(f"duration {duration:g} s is {n_frames_for(duration, fps)} frames at "
                         f"{fps:g} fps, the motion has {t}")
    body = capsule_body() if body is None else body
    lift = np.array([0.0, -body.ground, 0.0])
    rest = body.rest_joints + lift  # (55, 3) the bind pose, standing on y = 0
    rotvec = poses.reshape(t, NUM_SMPLX_JOINTS, 3)
    if body.hand_mean is not None:
        rotvec = rotvec.copy()
        rotvec[:, _HANDS] += body.hand_mean


    gltf = gl.GLTF2(asset=gl.Asset(generator=f"eggesture {__version__} (pygltflib)"))
    buf = _Buffer(gltf)
    for k, name in enumerate(SMPLX_JOINT_NAMES):
        p = SMPLX_PARENTS[k]
        offset = rest[k] - (rest[p] if p >= 0 else 0.0)
        gltf.nodes.append(gl.Node(name=name, translation=offset.tolist(),
                                  children=[c for c, q in enumerate(SMPLX_PARENTS) if q == k]))
    inverse_bind = np.tile(np.eye(4, dtype=np.float32), (NUM_SMPLX_JOINTS, 1, 1))  # (55, 4, 4)
    inverse_bind[:, :3, 3] = -rest
    gltf.skins.append(gl.Skin(name="smplx", joints=list(range(NUM_SMPLX_JOINTS)), skeleton=0,
                              inverseBindMatrices=buf.add(inverse_bind)))

    gltf.materials.append(gl.Material(name=body.name, pbrMetallicRoughness=gl.PbrMetallicRoughness(
        baseColorFactor=[0.72, 0.74, 0.78, 1.0], metallicFactor=0.0, roughnessFactor=0.8)))
    attributes = gl.Attributes(
        POSITION=buf.add((body.vertices + lift).astype(np.float32), target=gl.ARRAY_BUFFER,
                         bounds=True),
        JOINTS_0=buf.add(body.joints, target=gl.ARRAY_BUFFER),
        WEIGHTS_0=buf.add(body.weights, target=gl.ARRAY_BUFFER))
    indices = buf.add(body.faces.reshape(-1), target=gl.ELEMENT_ARRAY_BUFFER)
    gltf.meshes.append(gl.Mesh(name=body.name, primitives=[
        gl.Primitive(attributes=attributes, indices=indices, material=0)]))
    gltf.nodes.append(gl.Node(name=body.name, mesh=0, skin=0))  # skinned: its own transform is unused

    times = buf.add((np.arange(t) / fps).astype(np.float32), bounds=True)
    quats = _unit_quaternions(rotvec)  # (T, 55, 4)
    samplers, channels = [], []
    for k in range(NUM_SMPLX_JOINTS):
        samplers.append(gl.AnimationSampler(input=times, output=buf.add(quats[:, k]),
                                            interpolation=gl.ANIM_LINEAR))
        channels.append(gl.AnimationChannel(sampler=k, target=gl.AnimationChannelTarget(
            node=k, path=gl.ROTATION)))
    root = body.rest_joints[0] + standing_trans(trans, t, body.ground)  # (T, 3)
    if np.any(root != rest[0]):
        samplers.append(gl.AnimationSampler(input=times, output=buf.add(root.astype(np.float32)),
                                            interpolation=gl.ANIM_LINEAR))
        channels.append(gl.AnimationChannel(sampler=len(samplers) - 1,
                                            target=gl.AnimationChannelTarget(node=0,
                                                                             path=gl.TRANSLATION)))
    gltf.animations.append(gl.Animation(name="gesture", samplers=samplers, channels=channels))
    gltf.scenes.append(gl.Scene(name="eggesture", nodes=[0, NUM_SMPLX_JOINTS], extras={
        "fps": float(fps), "frames": t, "duration": float(t / fps if duration is None else duration)}))
    gltf.scene = 0
    buf.finish()
    return gltf


def write_smplx_glb(
    path: str | Path,
    poses: np.ndarray,
    fps: float,
    trans: np.ndarray | None = None,
    *,
    body: SkinnedBody | None = None,
    duration: float | None = None,
) -> None:
    """Write SMPL-X ``poses (T, 165)`` axis-angle at ``fps`` as a skinned, animated GLB, atomically.

    ``trans (T, 3)`` is BEAT2's root translation in metres (default: zeros, as generated motion
    has); the pelvis follows :func:`~eggesture.data.skeleton.standing_trans` of it, so the rest
    pose stands on the floor y = 0 at the first frame and the joints are
    :func:`~eggesture.data.skeleton.smplx_positions` (or the model's ``joint_positions``) of that
    translation. ``body`` is the visible body and its rest skeleton (default:
    :func:`capsule_body`; :func:`smplx_body` for the SMPL-X mesh). ``duration`` (seconds), the
    speech's, must give ``T`` frames at ``fps`` (``round(duration × fps)``) and is stored in the
    scene's extras.
    """
    gltf = smplx_gltf(poses, fps, trans, body=body, duration=duration)
    write_bytes(path, b"".join(gltf.save_to_bytes()))


def _first_line(e: Exception) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__
