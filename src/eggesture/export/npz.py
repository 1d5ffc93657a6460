"""Motion files out and in: SMPL-X ``.npz`` in BEAT2's layout, and reading any motion file.

:func:`eggesture.data.poses.motion_to_poses` turns a generated motion (a subset of SMPL-X joints
at the model's rate) into full SMPL-X ``poses (T, 165)``; :func:`write_beat2_npz` writes exactly
what BEAT2's ``smplxflame_30/{id}.npz`` holds, with the same keys, dtypes and shapes::

    poses (T, 165) float32   trans (T, 3) float64   betas (300,) float32
    expressions (T, 100) float64   mocap_frame_rate () int32   model () "smplx2020"
    gender () "neutral"

so :func:`eggesture.data.beat2.read_motion` and BEAT2's own tools load it.
:func:`write_rotations_npz` writes the motion of a model on another skeleton (rotations by joint
name). :func:`read_motion_file` reads a ``.npz`` in BEAT2's layout (any frame rate) or a ``.bvh``
for the renderer.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..data.beat2 import read_smplx_npz
from ..data.bvh import read_bvh
from ..data.motion import SMPLX_PARENTS
from ..data.poses import POSES_DIM
from ..errors import DataError
from ..io import atomic_path

#: Sizes of BEAT2's shape and FLAME expression vectors.
NUM_BETAS, NUM_EXPRESSIONS = 300, 100
#: The ``model`` and ``gender`` fields of every BEAT2 file.
MODEL_NAME, GENDER = "smplx2020", "neutral"


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


def write_rotations_npz(path: str | Path, rotvec: np.ndarray, joint_names: list[str],
                        fps: int) -> None:
    """Atomically write the motion of a model on a non-SMPL-X skeleton: ``rotations (T, J, 3)``
    float32 axis-angle, ``joint_names (J,)`` and ``mocap_frame_rate``."""
    rotvec = np.asarray(rotvec)
    if rotvec.ndim != 3 or rotvec.shape[1:] != (len(joint_names), 3) or rotvec.shape[0] == 0:
        raise ValueError(f"rotvec must be (T ≥ 1, {len(joint_names)}, 3), got {rotvec.shape}")
    with atomic_path(path, suffix=".npz") as tmp, open(tmp, "wb") as f:
        np.savez(f, rotations=rotvec.astype(np.float32), joint_names=np.array(joint_names),
                 mocap_frame_rate=np.array(int(fps), np.int32))


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
    betas: np.ndarray | None = None
    """The npz's body shape, when it has one (used with an SMPL-X model file)."""

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
    data = read_smplx_npz(path, fps=None)  # raises DataError for bad files
    betas = data.get("betas")
    if betas is not None:
        betas = np.asarray(betas, dtype=np.float64).reshape(-1)
        if not np.isfinite(betas).all():
            raise DataError(path, "'betas' holds NaN or infinite values")
    return MotionFile(path=path, fps=data["mocap_frame_rate"], parents=SMPLX_PARENTS,
                      poses=data["poses"].astype(np.float64),
                      trans=data["trans"].astype(np.float64), betas=betas)


def _read_bvh(path: Path) -> MotionFile:
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
