"""An SMPL-X skeleton without the SMPL-X model files: rest offsets and forward kinematics.

The exact joint positions of SMPL-X come from its (licensed) model files, which we cannot ship.
``SMPLX_REST_OFFSETS`` are *approximate* neutral-body offsets of each joint from its parent, in
metres, in SMPL-X's frame (y up, the body facing +z, +x the body's left), close enough for
stick-figure previews, BVH export and position-based metrics. Users with the model files get the
exact skeleton through the optional ``smplx`` package.

Where exported motion stands (:func:`standing_trans`): SMPL-X puts the posed pelvis at
``J_pelvis(β) + trans`` (Pavlakos et al., CVPR 2019, Eq. 1-4; ``smplx/lbs.py``), and its template's
pelvis ``J_pelvis`` is not at the origin but ~0.35 m below it, so BEAT2's ``trans`` (y ≈ 1.29 m)
stands the real body on the floor y = 0, while this skeleton's pelvis is at the origin (BEAT2's
``trans`` floats it 0.33-0.40 m up) and generated motion has ``trans`` = 0 (its feet 0.95 m below
the floor). The BVH and GLB writers therefore stand the rest pose on y = 0 themselves.
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


#: Rest-pose joints ``(55, 3)`` of the approximate skeleton (all rotations zero), pelvis at the origin.
SMPLX_REST_JOINTS = forward_kinematics(np.zeros((1, NUM_SMPLX_JOINTS, 3)))[0]
SMPLX_REST_JOINTS.setflags(write=False)
#: Pelvis height above the floor for the approximate neutral body, in metres: above its lowest
#: joints, the ``foot`` joints at the base of the toes (0.954 m; SMPL-X 2020's neutral template
#: has 0.935 m from its pelvis to its lowest foot joint).
PELVIS_HEIGHT = float(-SMPLX_REST_JOINTS[:, 1].min())


def standing_trans(trans: np.ndarray | None, n_frames: int, ground: float = -PELVIS_HEIGHT
                   ) -> np.ndarray:
    """The root translation ``(T, 3)`` our BVH and GLB carry instead of ``trans``: the body on the floor.

    ``trans (T, 3)`` is BEAT2's (None: zeros, as generated motion has); ``ground`` is the height y
    of the rest body's lowest point while its pelvis is at its rest place (the approximate
    skeleton: its foot joints, ``−PELVIS_HEIGHT``; an SMPL-X model: the lowest vertex of its
    shaped mesh). The result is ``trans`` raised by one constant, ``−ground − trans[0, y]``: the
    rest pose at the first frame's root has its lowest point on y = 0, and the motion keeps its
    horizontal path and its rise and fall from the first frame. Posed joints are then
    :func:`smplx_positions` (or the model's) of this translation.
    """
    out = np.zeros((n_frames, 3)) if trans is None else np.array(trans, dtype=np.float64)
    if out.shape != (n_frames, 3):
        raise ValueError(f"trans must be ({n_frames}, 3), got {out.shape}")
    if n_frames:
        out[:, 1] = (out[:, 1] - out[0, 1]) - ground  # exactly −ground wherever y is the first y
    return out
