"""BVH export: generated motion on the approximate SMPL-X skeleton, or on a dataset's own skeleton.

* :func:`write_smplx_bvh` writes SMPL-X ``poses (T, 165)`` (BEAT2's layout) on the skeleton of
  :mod:`eggesture.data.skeleton`: the 55 SMPL-X joints under their SMPL-X names, offsets in
  centimetres (``units="m"`` for metres), y up and the body facing +z as in SMPL-X, the root
  ``pelvis`` with six channels (``Xposition Yposition Zposition Zrotation Xrotation
  Yrotation``) and every other joint with ``Zrotation Xrotation Yrotation``. Leaf joints (feet,
  jaw, eyes, finger tips) end in an End Site half their own bone long, along the same bone. The
  rest pose stands on the floor: the pelvis's OFFSET is its standing height, and its position
  channels are :func:`~eggesture.data.skeleton.standing_trans` of the motion's ``trans``, as
  the GLB writer has them.
* :func:`write_skeleton_bvh` writes rotations of named joints on a dataset's skeleton template
  (e.g. :func:`eggesture.data.trinity.skeleton_template`), keeping its hierarchy, offsets and
  channels; joints that were not generated keep the template's rest values.

Euler angles come from the rotation matrices with ``roma`` in each joint's own channel order
and are unwrapped over time (±360° steps removed), which leaves every rotation unchanged but
spares animation curves the jumps at ±180°.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..data.bvh import POSITION_CHANNELS, Bvh, BvhJoint, preorder, write_bvh
from ..data.motion import (
    NUM_SMPLX_JOINTS,
    SMPLX_JOINT_NAMES,
    SMPLX_PARENTS,
    axis_angle_to_matrix,
    matrix_to_euler,
)
from ..data.skeleton import PELVIS_HEIGHT, SMPLX_REST_OFFSETS, standing_trans
from ..errors import DataError

#: Channel order of every exported joint (the one of CMU, Trinity/GENEA and most mocap BVH).
EULER_ORDER = "ZXY"
_ROT_CHANNELS = tuple(f"{a}rotation" for a in EULER_ORDER)
UNITS = {"cm": 100.0, "m": 1.0}


def smplx_skeleton(units: str = "cm", offsets: np.ndarray | None = None) -> Bvh:
    """The SMPL-X skeleton as a BVH hierarchy with no frames (55 joints, file order depth first,
    so joint ``k`` of the file is SMPL-X joint ``smplx_order()[k]``): the approximate one, or
    the rest ``offsets (55, 3)`` in metres of the user's SMPL-X model
    (:meth:`eggesture.data.smplx_model.SmplxModel.rest_offsets`)."""
    if units not in UNITS:
        raise ValueError(f"units must be one of {', '.join(UNITS)}, got {units!r}")
    scale = UNITS[units]
    order = smplx_order()
    new_index = {old: new for new, old in enumerate(order)}
    has_child = {p for p in SMPLX_PARENTS if p >= 0}
    joints = []
    for old in order:
        parent = SMPLX_PARENTS[old]
        offset = (SMPLX_REST_OFFSETS if offsets is None else np.asarray(offsets))[old] * scale
        joints.append(BvhJoint(
            name=SMPLX_JOINT_NAMES[old],
            parent=-1 if parent < 0 else new_index[parent],
            offset=offset,
            channels=(POSITION_CHANNELS + _ROT_CHANNELS) if parent < 0 else _ROT_CHANNELS,
            end_site=None if old in has_child else 0.5 * offset,
        ))
    return Bvh(joints=joints, frame_time=1 / 30, motion=np.zeros((0, 6 + 3 * (len(order) - 1))))


def smplx_order() -> list[int]:
    """SMPL-X joint indices in BVH file order (depth first from the pelvis)."""
    return preorder(SMPLX_PARENTS)


def write_smplx_bvh(
    path: str | Path,
    poses: np.ndarray,
    fps: float,
    trans: np.ndarray | None = None,
    *,
    units: str = "cm",
    model=None,
    betas: np.ndarray | None = None,
) -> None:
    """Write SMPL-X ``poses (T, 165)`` axis-angle as a BVH file on the approximate skeleton, or
    on the exact skeleton of the user's SMPL-X ``model`` (:class:`eggesture.data.smplx_model.
    SmplxModel`) for body shape ``betas``.

    ``trans (T, 3)`` is BEAT2's root translation in metres (default: zeros, as generated motion
    has). The body stands on the floor: the pelvis follows
    :func:`eggesture.data.skeleton.standing_trans` of ``trans``, whose ``ground`` is the
    approximate skeleton's lowest joint, or with a ``model`` the lowest vertex of its mesh shaped
    by ``betas`` (as :func:`eggesture.export.gltf.smplx_body` stands the GLB's mesh). The
    file's joint positions are :func:`eggesture.data.skeleton.smplx_positions` of that
    translation times 100 (``units="cm"``) or equal to them (``units="m"``); with a ``model``
    :func:`eggesture.data.smplx_model.positions`' (the model's mean hand pose written into the
    hand rotations). The rest pose (the OFFSETs, all rotations zero) has its lowest point on
    y = 0, and so has the first frame's root with all rotations zero.
    """
    poses = np.asarray(poses, dtype=np.float64)
    if poses.ndim != 2 or poses.shape[1] != 3 * NUM_SMPLX_JOINTS:
        raise ValueError(f"poses must be (T, {3 * NUM_SMPLX_JOINTS}), got {poses.shape}")
    t = poses.shape[0]
    if model is None:
        offsets, ground = SMPLX_REST_OFFSETS.copy(), -PELVIS_HEIGHT
    else:
        from .gltf import smplx_vertices

        offsets, ground = model.rest_offsets(betas), float(smplx_vertices(model, betas)[:, 1].min())
        poses = model.with_hand_mean(poses)
    root = offsets[0] + standing_trans(trans, t, ground)  # (T, 3) metres
    offsets[0] += (0.0, -ground, 0.0)  # the rest pose standing on y = 0
    template = smplx_skeleton(units, offsets)
    write_skeleton_bvh(path, template, poses.reshape(t, NUM_SMPLX_JOINTS, 3),
                       list(SMPLX_JOINT_NAMES), fps, root_positions=root * UNITS[units])


def skeleton_motion(
    template: Bvh,
    rotvec: np.ndarray,
    joint_names: list[str],
    fps: float,
    root_positions: np.ndarray | None = None,
) -> Bvh:
    """``template``'s skeleton carrying ``rotvec (T, J, 3)`` (local axis-angle of the joints
    ``joint_names``) at ``fps``; see :func:`write_skeleton_bvh`."""
    rotvec = np.asarray(rotvec, dtype=np.float64)
    if rotvec.ndim != 3 or rotvec.shape[1:] != (len(joint_names), 3):
        raise ValueError(f"rotvec must be (T, {len(joint_names)}, 3), got {rotvec.shape}")
    if not np.isfinite(rotvec).all():
        raise ValueError("rotations hold NaN or infinite values")
    if fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    t = rotvec.shape[0]
    rest = template.motion[0] if template.n_frames else template.rest_frame()
    motion = np.tile(rest, (t, 1))  # (T, C)
    slices = template.channel_slices()
    mats = axis_angle_to_matrix(rotvec)  # (T, J, 3, 3)
    for k, name in enumerate(joint_names):
        try:
            j = template.index(name)
        except KeyError:
            raise DataError(template.path, f"the skeleton has no joint {name!r} to carry the "
                                           "generated motion") from None
        joint = template.joints[j]
        order = joint.rotation_order
        if len(order) != 3:
            raise DataError(template.path, f"joint {name!r} has rotation channels {order or 'none'}"
                                           "; a generated rotation needs all three")
        angles = np.unwrap(matrix_to_euler(mats[:, k], order), period=360.0, axis=0)  # (T, 3)
        for a, axis in enumerate(order):
            motion[:, slices[j].start + joint.channels.index(f"{axis}rotation")] = angles[:, a]
    if root_positions is not None:
        root_positions = np.asarray(root_positions, dtype=np.float64)
        if root_positions.shape != (t, 3):
            raise ValueError(f"root_positions must be ({t}, 3), got {root_positions.shape}")
        for a, c in enumerate(POSITION_CHANNELS):
            col = template.channel_index(0, c)
            if col is None:
                raise DataError(template.path, f"the root joint has no {c} channel")
            motion[:, col] = root_positions[:, a]
    return template.with_motion(motion, frame_time=1.0 / fps)


def write_skeleton_bvh(
    path: str | Path,
    template: Bvh,
    rotvec: np.ndarray,
    joint_names: list[str],
    fps: float,
    root_positions: np.ndarray | None = None,
) -> None:
    """Write generated motion on a dataset's own skeleton, atomically.

    ``rotvec (T, J, 3)`` are local axis-angle rotations of the joints ``joint_names`` (each
    must exist in ``template`` with three rotation channels); they become Euler angles in each
    joint's channel order. Every other channel keeps the template's rest value: its first
    frame if it has frames, else rotation 0 and position = offset. ``root_positions (T, 3)``,
    in the template's units, fill the root's position channels when given.
    """
    write_bvh(path, skeleton_motion(template, rotvec, joint_names, fps, root_positions))
