"""From the joints a model generates to the full SMPL-X pose, and how many frames a motion has.

The one place that turns rotations of a joint subset (DESIGN §3: ``upper_hands`` by default)
into BEAT2's full ``poses (T, 165)`` — generation, evaluation and export all come here — and the
one rule for frame counts: a motion lasting ``d`` seconds at ``fps`` has ``round(d × fps)``
frames (:func:`n_frames_for`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .motion import NUM_SMPLX_JOINTS, SMPLX_JOINT_NAMES, resample_rotations, sixd_to_axis_angle
from .skeleton import smplx_positions

#: Width of BEAT2's ``poses``: axis-angle of the 55 SMPL-X joints.
POSES_DIM = 3 * NUM_SMPLX_JOINTS

_INDEX = {n: i for i, n in enumerate(SMPLX_JOINT_NAMES)}


def n_frames_for(duration_s: float, fps: float) -> int:
    """Frames of a motion lasting ``duration_s`` seconds at ``fps``: ``round(duration × fps)``.

    Halves round up (7.25 s at 30 fps → 218 frames), not to even as Python's ``round`` does, so
    the count grows monotonically with the duration.
    """
    return int(math.floor(duration_s * fps + 0.5 + 1e-9))


def is_smplx(joint_names: Sequence[str]) -> bool:
    """Whether every joint is an SMPL-X joint (so the motion has a full SMPL-X pose)."""
    return set(joint_names) <= set(_INDEX)


def smplx_indices(joint_names: Sequence[str]) -> list[int]:
    """SMPL-X indices of ``joint_names``; ValueError naming the first joint that is not one."""
    missing = [n for n in joint_names if n not in _INDEX]
    if missing:
        raise ValueError(f"the model's joints are not SMPL-X joints (e.g. {missing[0]!r}); "
                         "write BVH on its own skeleton instead")
    return [_INDEX[n] for n in joint_names]


def place_joints(rotvec: np.ndarray, joint_indices: Sequence[int] | np.ndarray,
                 base: np.ndarray | None = None) -> np.ndarray:
    """Full poses ``(T, 165)`` float64 from axis-angle ``rotvec (T, J, 3)`` of ``joint_indices``
    (same frames): the other joints from ``base (T, 165)``, else at the rest pose (zeros: the
    SMPL-X zero pose, arms out in a T)."""
    rotvec = np.asarray(rotvec, dtype=np.float64)
    n = rotvec.shape[0]
    if base is None:
        poses = np.zeros((n, NUM_SMPLX_JOINTS, 3), dtype=np.float64)
    else:
        poses = np.asarray(base, dtype=np.float64).reshape(n, NUM_SMPLX_JOINTS, 3).copy()
    poses[:, np.asarray(joint_indices, dtype=np.int64)] = rotvec
    return poses.reshape(n, POSES_DIM)


def motion_to_poses(
    rotvec: np.ndarray,
    joint_indices: Sequence[int] | np.ndarray,
    src_fps: float,
    duration_s: float,
    out_fps: float = 30,
    base: np.ndarray | None = None,
) -> np.ndarray:
    """Full SMPL-X ``poses (T_out, 165)`` float32 from rotations of a joint subset.

    ``rotvec (T, J, 3)`` is axis-angle of the SMPL-X joints ``joint_indices`` (length J) at
    ``src_fps``. The output has ``T_out = round(duration_s × out_fps)`` frames
    (:func:`n_frames_for`); output frame k samples the input at time k / out_fps by slerp, and
    frames past the input's last frame hold it. Joints not in ``joint_indices`` are copied from
    ``base (T_out, 165)`` when given, else left at the rest pose (:func:`place_joints`).
    """
    rotvec = np.asarray(rotvec, dtype=np.float64)
    idx = np.asarray(joint_indices, dtype=np.int64).reshape(-1)
    if rotvec.ndim != 3 or rotvec.shape[2] != 3:
        raise ValueError(f"rotvec must be (T, J, 3) axis-angle, got shape {rotvec.shape}")
    if rotvec.shape[0] == 0:
        raise ValueError("rotvec has no frames")
    if rotvec.shape[1] != idx.size:
        raise ValueError(f"rotvec has {rotvec.shape[1]} joints but {idx.size} joint indices")
    if idx.size and (idx.min() < 0 or idx.max() >= NUM_SMPLX_JOINTS):
        raise ValueError(f"joint indices must lie in [0, {NUM_SMPLX_JOINTS}), got {idx.tolist()}")
    if np.unique(idx).size != idx.size:
        raise ValueError(f"joint indices repeat: {idx.tolist()}")
    if not np.isfinite(rotvec).all():
        raise ValueError("rotvec holds NaN or infinite values")
    if src_fps <= 0 or out_fps <= 0:
        raise ValueError(f"frame rates must be positive, got src_fps={src_fps}, out_fps={out_fps}")
    n_out = n_frames_for(duration_s, out_fps)
    if n_out < 1:
        raise ValueError(f"duration {duration_s} s is shorter than one frame at {out_fps} fps")
    if base is not None and np.shape(base) != (n_out, POSES_DIM):
        raise ValueError(f"base must be ({n_out}, {POSES_DIM}), got {np.shape(base)}")
    moved = resample_rotations(rotvec, src_fps, out_fps, n_out=n_out)
    return place_joints(moved, idx, base).astype(np.float32)


def smplx_poses(rotvec: np.ndarray, joint_names: Sequence[str], src_fps: float,
                duration_s: float, out_fps: float = 30) -> np.ndarray:
    """:func:`motion_to_poses` for joints given by name (ValueError if not SMPL-X joints)."""
    return motion_to_poses(rotvec, smplx_indices(joint_names), src_fps, duration_s, out_fps)


def sixd_positions(six: np.ndarray, joint_names: list[str], fps: float, out_fps: float) -> np.ndarray:
    """Joint positions ``(round(T·out_fps/fps), 55, 3)`` on the approximate SMPL-X skeleton of
    6D rotations ``(T, J, 6)`` of the SMPL-X joints ``joint_names`` at ``fps`` (the other joints
    at rest), resampled to ``out_fps``."""
    n = n_frames_for(len(six) / fps, out_fps)
    aa = resample_rotations(sixd_to_axis_angle(six.astype(np.float64)), fps, out_fps, n_out=n)
    return smplx_positions(place_joints(aa, smplx_indices(joint_names)))
