"""Motion files out and in: SMPL-X ``.npz`` in BEAT2's layout, and reading any motion file.

A generated motion covers a subset of SMPL-X joints (DESIGN §3: ``upper_hands`` by default) at the
model's rate (15 fps). :func:`motion_to_poses` turns it into full SMPL-X ``poses (T, 165)`` at the
output rate — rotations resampled by slerp, the joints that were not generated at the rest pose
(the SMPL-X zero pose) or copied from a base motion — and :func:`write_beat2_npz` writes exactly
what BEAT2's ``smplxflame_30/{id}.npz`` holds, with the same keys, dtypes and shapes::

    poses (T, 165) float32   trans (T, 3) float64   betas (300,) float32
    expressions (T, 100) float64   mocap_frame_rate () int32   model () "smplx2020"
    gender () "neutral"

so :func:`eggesture.data.beat2.read_motion` and BEAT2's own tools load it.
:func:`read_motion_file` reads a ``.npz`` of that layout (any frame rate) or a ``.bvh`` for the
renderer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..data.motion import NUM_SMPLX_JOINTS, SMPLX_PARENTS, resample_rotations
from ..errors import DataError
from ..io import atomic_path

#: Width of BEAT2's ``poses``: axis-angle of the 55 SMPL-X joints.
POSES_DIM = 3 * NUM_SMPLX_JOINTS
#: Sizes of BEAT2's shape and FLAME expression vectors.
NUM_BETAS, NUM_EXPRESSIONS = 300, 100
#: The ``model`` and ``gender`` fields of every BEAT2 file.
MODEL_NAME, GENDER = "smplx2020", "neutral"


def n_frames_for(duration_s: float, fps: float) -> int:
    """Frames of a motion lasting ``duration_s`` seconds at ``fps``: ``round(duration × fps)``.

    Halves round up (7.25 s at 30 fps → 218 frames), not to even as Python's ``round`` does, so
    the count grows monotonically with the duration.
    """
    return int(math.floor(duration_s * fps + 0.5 + 1e-9))


def motion_to_poses(
    rotvec: np.ndarray,
    joint_indices: tuple[int, ...] | list[int] | np.ndarray,
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
    ``base (T_out, 165)`` when given, else left at the rest pose (zeros: the SMPL-X zero pose,
    arms out in a T).
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
    if base is None:
        poses = np.zeros((n_out, NUM_SMPLX_JOINTS, 3), dtype=np.float64)
    else:
        base = np.asarray(base, dtype=np.float64)
        if base.shape != (n_out, POSES_DIM):
            raise ValueError(f"base must be ({n_out}, {POSES_DIM}), got {base.shape}")
        poses = base.reshape(n_out, NUM_SMPLX_JOINTS, 3).copy()
    poses[:, idx] = resample_rotations(rotvec, src_fps, out_fps, n_out=n_out)
    return poses.reshape(n_out, POSES_DIM).astype(np.float32)


def write_beat2_npz(
    path: str | Path,
    poses: np.ndarray,
    fps: int,
    trans: np.ndarray | None = None,
    betas: np.ndarray | None = None,
    expressions: np.ndarray | None = None,
) -> None:
    """Atomically write ``poses (T, 165)`` as a BEAT2 ``smplxflame_30`` npz (module docstring).

    ``trans (T, 3)`` defaults to zeros, ``betas (300,)`` to the mean shape (zeros) and
    ``expressions (T, 100)`` to the neutral face (zeros). ``fps`` is stored as
    ``mocap_frame_rate``; BEAT2's reader accepts only 30.
    """
    poses = np.asarray(poses)
    if poses.ndim != 2 or poses.shape[1] != POSES_DIM or poses.shape[0] == 0:
        raise ValueError(f"poses must be (T, {POSES_DIM}) with T ≥ 1, got shape {poses.shape}")
    n = poses.shape[0]
    if int(fps) != fps or fps <= 0:
        raise ValueError(f"fps must be a positive integer, got {fps}")
    arrays = {
        "betas": _checked("betas", betas, (NUM_BETAS,), np.float32),
        "poses": _checked("poses", poses, (n, POSES_DIM), np.float32),
        "expressions": _checked("expressions", expressions, (n, NUM_EXPRESSIONS), np.float64),
        "trans": _checked("trans", trans, (n, 3), np.float64),
        "model": np.array(MODEL_NAME),
        "gender": np.array(GENDER),
        "mocap_frame_rate": np.array(int(fps), dtype=np.int32),
    }
    with atomic_path(path, suffix=".npz") as tmp, open(tmp, "wb") as f:
        np.savez(f, **arrays)


def _checked(name: str, arr: np.ndarray | None, shape: tuple[int, ...], dtype) -> np.ndarray:
    if arr is None:
        return np.zeros(shape, dtype=dtype)
    arr = np.asarray(arr)
    if arr.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} holds NaN or infinite values")
    return arr.astype(dtype)


# --- reading any motion file ------------------------------------------------------------------

@dataclass
class MotionFile:
    """A motion file as the renderer needs it.

    ``poses (T, 165)`` and ``trans (T, 3)`` are set for SMPL-X npz files (positions come from
    :func:`eggesture.data.skeleton.smplx_positions`); ``positions (T, J, 3)`` and ``parents`` for
    BVH files, whose positions are already solved. Positions are y-up, the body facing +z.
    """

    path: Path
    fps: float
    parents: tuple[int, ...]
    poses: np.ndarray | None = None
    trans: np.ndarray | None = None
    positions: np.ndarray | None = None

    @property
    def n_frames(self) -> int:
        return int((self.poses if self.poses is not None else self.positions).shape[0])

    @property
    def duration(self) -> float:
        """Duration in seconds (frames / fps, as BEAT2 counts it)."""
        return self.n_frames / self.fps


def read_motion_file(path: str | Path) -> MotionFile:
    """Read a ``.npz`` in BEAT2's layout (any ``mocap_frame_rate``) or a ``.bvh``.

    Raises :class:`DataError` naming the file when it is missing, of another kind, unreadable,
    or holds poses of the wrong width, no frames, or non-finite values.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "motion file not found")
    suffix = path.suffix.lower()
    if suffix == ".npz":
        return _read_npz(path)
    if suffix == ".bvh":
        return _read_bvh(path)
    raise DataError(path, f"not a motion file (expected .npz in BEAT2 layout or .bvh, got "
                          f"'{path.suffix or 'no extension'}')")


def _read_npz(path: Path) -> MotionFile:
    try:
        with np.load(path, allow_pickle=False) as d:
            data = {k: d[k] for k in d.files}
    except Exception as e:  # zipfile, pickle and format errors all mean "not a usable npz"
        raise DataError(path, f"not a readable npz file ({_first_line(e)})") from None
    if "poses" not in data:
        raise DataError(path, "npz has no 'poses' array (expected BEAT2 layout)")
    from ..data.beat2 import _real_array

    poses = _real_array(data["poses"], "poses", path)
    if poses.ndim != 2 or poses.shape[1] != POSES_DIM:
        raise DataError(path, f"'poses' has shape {poses.shape}, expected (T, {POSES_DIM})")
    n = poses.shape[0]
    if n == 0:
        raise DataError(path, "'poses' has no frames")
    if not np.issubdtype(poses.dtype, np.number):
        raise DataError(path, f"'poses' is not numeric (dtype {poses.dtype})")
    bad = ~np.isfinite(poses).all(axis=1)
    if bad.any():
        raise DataError(path, "'poses' holds NaN or infinite values "
                              f"(first at frame {int(np.argmax(bad))})")
    try:
        fps = float(np.asarray(data.get("mocap_frame_rate", 30)))
    except (TypeError, ValueError):
        raise DataError(path, "'mocap_frame_rate' is not a number") from None
    if not np.isfinite(fps) or fps <= 0:
        raise DataError(path, f"'mocap_frame_rate' is {fps}, expected a positive frame rate")
    trans = _real_array(data.get("trans", np.zeros((n, 3))), "trans", path)
    if trans.shape != (n, 3) or not np.isfinite(trans).all():
        raise DataError(path, f"'trans' has shape {trans.shape} or non-finite values, expected "
                              f"finite ({n}, 3)")
    return MotionFile(path=path, fps=fps, parents=SMPLX_PARENTS, poses=poses.astype(np.float64),
                      trans=trans.astype(np.float64))


def _read_bvh(path: Path) -> MotionFile:
    from ..data.bvh import read_bvh

    bvh = read_bvh(path)  # raises DataError for bad files
    positions = np.asarray(bvh.forward_kinematics(), dtype=np.float64)  # (T, J, 3)
    if positions.ndim != 3 or positions.shape[0] == 0:
        raise DataError(path, "BVH file has no frames")
    if not np.isfinite(positions).all():
        raise DataError(path, "BVH motion holds NaN or infinite values")
    parents = tuple(int(_parent_index(bvh, j)) for j in bvh.joints)
    return MotionFile(path=path, fps=1.0 / float(bvh.frame_time), parents=parents,
                      positions=positions)


def _parent_index(bvh, joint) -> int:
    """Index of ``joint``'s parent in ``bvh.joints`` (-1 for the root); ``parent`` may be an
    index or a joint object."""
    p = joint.parent
    if p is None:
        return -1
    if isinstance(p, (int, np.integer)):
        return int(p)
    return next(i for i, j in enumerate(bvh.joints) if j is p)


def _first_line(e: Exception) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__
