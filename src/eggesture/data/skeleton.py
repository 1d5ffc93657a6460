"""An SMPL-X skeleton without the SMPL-X model files: rest offsets and forward kinematics.

The exact joint positions of SMPL-X come from its (licensed) model files, which we cannot ship.
``SMPLX_REST_OFFSETS`` are *approximate* neutral-body offsets of each joint from its parent, in
metres, in SMPL-X's frame (y up, the body facing +z, +x the body's left), close enough for
stick-figure previews, BVH export and position-based metrics. Users with the model files get the
exact skeleton through the optional ``smplx`` package.
"""

from __future__ import annotations

import numpy as np

from .motion import NUM_SMPLX_JOINTS, SMPLX_PARENTS, axis_angle_to_matrix


def _mirror(offsets: dict[str, tuple[float, float, float]]) -> dict[str, tuple[float, float, float]]:
    """Add each ``left_*`` joint's mirror image as ``right_*`` (x negated)."""
    out = dict(offsets)
    for name, (x, y, z) in offsets.items():
        if name.startswith("left_"):
            out["right_" + name[5:]] = (-x, y, z)
    return out


_OFFSETS = _mirror({
    "pelvis": (0.0, 0.0, 0.0),
    "left_hip": (0.058, -0.082, -0.017), "spine1": (0.0, 0.108, -0.025),
    "left_knee": (0.043, -0.386, 0.008), "spine2": (0.0, 0.135, 0.003),
    "left_ankle": (-0.015, -0.426, -0.036), "spine3": (0.0, 0.056, 0.002),
    "left_foot": (0.025, -0.06, 0.125), "neck": (0.0, 0.21, -0.033),
    "left_collar": (0.073, 0.118, -0.011), "head": (0.0, 0.09, 0.05),
    "left_shoulder": (0.116, 0.045, -0.018), "left_elbow": (0.257, -0.013, -0.022),
    "left_wrist": (0.249, 0.009, -0.006), "jaw": (0.0, 0.023, 0.041),
    "left_eye_smplhf": (0.032, 0.052, 0.072),
    "left_index1": (0.094, -0.005, 0.025), "left_index2": (0.038, -0.002, 0.001),
    "left_index3": (0.024, -0.002, -0.001),
    "left_middle1": (0.098, -0.002, 0.003), "left_middle2": (0.04, -0.001, -0.003),
    "left_middle3": (0.026, -0.003, -0.002),
    "left_pinky1": (0.077, -0.01, -0.039), "left_pinky2": (0.026, -0.004, -0.006),
    "left_pinky3": (0.018, -0.003, -0.003),
    "left_ring1": (0.088, -0.006, -0.019), "left_ring2": (0.034, -0.002, -0.005),
    "left_ring3": (0.024, -0.002, -0.002),
    "left_thumb1": (0.03, -0.016, 0.029), "left_thumb2": (0.028, -0.006, 0.025),
    "left_thumb3": (0.026, -0.004, 0.017),
})

# Order of SMPLX_JOINT_NAMES; imported lazily to keep this table next to its names.
from .motion import SMPLX_JOINT_NAMES  # noqa: E402

SMPLX_REST_OFFSETS = np.array([_OFFSETS[n] for n in SMPLX_JOINT_NAMES], dtype=np.float64)  # (55, 3)
#: Pelvis height above the floor for the approximate neutral body, in metres.
PELVIS_HEIGHT = 0.95


def forward_kinematics(
    rotations: np.ndarray,
    offsets: np.ndarray = SMPLX_REST_OFFSETS,
    parents: tuple[int, ...] = SMPLX_PARENTS,
    root_position: np.ndarray | None = None,
) -> np.ndarray:
    """Global joint positions ``(T, J, 3)`` from local rotations.

    ``rotations`` are axis-angle ``(T, J, 3)`` or matrices ``(T, J, 3, 3)``, local to each
    joint's parent; ``offsets (J, 3)`` are rest offsets from the parent; ``root_position``
    ``(T, 3)`` places the root (default: the origin). Parents must precede children.
    """
    rotations = np.asarray(rotations, dtype=np.float64)
    mats = rotations if rotations.shape[-2:] == (3, 3) else axis_angle_to_matrix(rotations)
    t, j = mats.shape[:2]
    glob_r = np.empty_like(mats)
    pos = np.zeros((t, j, 3))
    for k in range(j):
        p = parents[k]
        if p < 0:
            glob_r[:, k] = mats[:, k]
            pos[:, k] = 0.0 if root_position is None else root_position
        else:
            glob_r[:, k] = glob_r[:, p] @ mats[:, k]
            pos[:, k] = pos[:, p] + glob_r[:, p] @ offsets[k]
    return pos


def smplx_positions(poses: np.ndarray, trans: np.ndarray | None = None) -> np.ndarray:
    """Joint positions ``(T, 55, 3)`` of BEAT2 ``poses (T, 165)`` on the approximate skeleton."""
    poses = np.asarray(poses).reshape(len(poses), NUM_SMPLX_JOINTS, 3)
    return forward_kinematics(poses, root_position=trans)
