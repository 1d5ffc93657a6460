"""Motion representation: SMPL-X joints, rotation formats, resampling and normalisation.

The model works on joint rotations in the continuous 6D representation of Zhou et al. (2019),
the first two *columns* of each rotation matrix, ``[R00, R10, R20, R01, R11, R21]`` (DESIGN §3).
Conversions go through ``roma``; resampling interpolates rotations on SO(3) (slerp), never by a
plain lerp of axis-angles, which is wrong across the ±π wrap and off the geodesic.

Shapes: ``T`` frames, ``J`` joints. Axis-angle ``(..., J, 3)``, matrices ``(..., J, 3, 3)``,
6D ``(..., J, 6)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import roma
import torch
from safetensors.torch import load_file, save_file

from ..io import atomic_path

# SMPL-X body model: 55 joints (22 body, jaw, 2 eyes, 2 × 15 finger joints), in the order of the
# 165 values of BEAT2's `poses` (joint j occupies columns 3j:3j+3).
SMPLX_JOINT_NAMES: tuple[str, ...] = (
    "pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2",
    "left_ankle", "right_ankle", "spine3", "left_foot", "right_foot", "neck", "left_collar",
    "right_collar", "head", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist", "jaw", "left_eye_smplhf", "right_eye_smplhf",
    "left_index1", "left_index2", "left_index3", "left_middle1", "left_middle2", "left_middle3",
    "left_pinky1", "left_pinky2", "left_pinky3", "left_ring1", "left_ring2", "left_ring3",
    "left_thumb1", "left_thumb2", "left_thumb3",
    "right_index1", "right_index2", "right_index3", "right_middle1", "right_middle2",
    "right_middle3", "right_pinky1", "right_pinky2", "right_pinky3", "right_ring1", "right_ring2",
    "right_ring3", "right_thumb1", "right_thumb2", "right_thumb3",
)
NUM_SMPLX_JOINTS = len(SMPLX_JOINT_NAMES)

# Kinematic tree: parent index of each joint (-1 for the root).
SMPLX_PARENTS: tuple[int, ...] = (
    -1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 15, 15, 15,
    20, 25, 26, 20, 28, 29, 20, 31, 32, 20, 34, 35, 20, 37, 38,
    21, 40, 41, 21, 43, 44, 21, 46, 47, 21, 49, 50, 21, 52, 53,
)

_UPPER = (3, 6, 9, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21)
_HANDS = tuple(range(25, 55))

# Joint sets of DESIGN §3, as SMPL-X joint indices in ascending order.
JOINT_SETS: dict[str, tuple[int, ...]] = {
    "upper": _UPPER,
    "hands": _HANDS,
    "upper_hands": _UPPER + _HANDS,
    "full": tuple(range(NUM_SMPLX_JOINTS)),
}


def joint_indices(joint_set: str) -> tuple[int, ...]:
    """SMPL-X indices of a named joint set (``upper``, ``hands``, ``upper_hands``, ``full``)."""
    try:
        return JOINT_SETS[joint_set]
    except KeyError:
        raise ValueError(
            f"unknown joint set {joint_set!r}; choose one of {', '.join(JOINT_SETS)}"
        ) from None


def joint_names(joint_set: str) -> list[str]:
    """SMPL-X joint names of a named joint set."""
    return [SMPLX_JOINT_NAMES[i] for i in joint_indices(joint_set)]


# --- rotation conversions -------------------------------------------------------------------

def _as_tensor(x: np.ndarray | torch.Tensor) -> torch.Tensor:
    return x if isinstance(x, torch.Tensor) else torch.as_tensor(np.asarray(x))


def _like(x_in: np.ndarray | torch.Tensor, y: torch.Tensor) -> np.ndarray | torch.Tensor:
    """Return ``y`` as the same kind of array as ``x_in`` (numpy in → numpy out)."""
    return y if isinstance(x_in, torch.Tensor) else y.detach().cpu().numpy()


def axis_angle_to_matrix(aa: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
    """Axis-angle ``(..., 3)`` → rotation matrix ``(..., 3, 3)``."""
    return _like(aa, roma.rotvec_to_rotmat(_as_tensor(aa)))


def matrix_to_axis_angle(mat: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
    """Rotation matrix ``(..., 3, 3)`` → axis-angle ``(..., 3)`` with angle in [0, π]."""
    return _like(mat, roma.rotmat_to_rotvec(_as_tensor(mat)))


def matrix_to_6d(mat: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
    """Rotation matrix ``(..., 3, 3)`` → 6D ``(..., 6)``: first column, then second column."""
    m = _as_tensor(mat)
    six = m[..., :, :2].transpose(-1, -2).reshape(*m.shape[:-2], 6)  # (..., 2, 3) → (..., 6)
    return _like(mat, six)


def sixd_to_matrix(six: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
    """6D ``(..., 6)`` → rotation matrix ``(..., 3, 3)`` by Gram-Schmidt (any 6D input is valid)."""
    s = _as_tensor(six)
    cols = s.reshape(*s.shape[:-1], 2, 3).transpose(-1, -2)  # (..., 3, 2)
    return _like(six, roma.special_gramschmidt(cols))


def axis_angle_to_6d(aa: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
    """Axis-angle ``(..., 3)`` → 6D ``(..., 6)``."""
    return _like(aa, matrix_to_6d(roma.rotvec_to_rotmat(_as_tensor(aa))))


def sixd_to_axis_angle(six: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
    """6D ``(..., 6)`` → axis-angle ``(..., 3)``."""
    return _like(six, roma.rotmat_to_rotvec(sixd_to_matrix(_as_tensor(six))))


def euler_to_matrix(
    angles_deg: np.ndarray | torch.Tensor, order: str
) -> np.ndarray | torch.Tensor:
    """Intrinsic Euler angles in degrees ``(..., 3)`` → matrix ``(..., 3, 3)``.

    ``order`` is the channel order as written in a BVH file, e.g. ``"ZXY"``: the rotation is
    ``R = R_Z(a0) · R_X(a1) · R_Y(a2)`` (each axis of the already-rotated frame).
    """
    order = order.upper()
    if sorted(order) != ["X", "Y", "Z"]:
        raise ValueError(f"Euler order must be a permutation of XYZ, got {order!r}")
    return _like(angles_deg, roma.euler_to_rotmat(order, _as_tensor(angles_deg), degrees=True))


def matrix_to_euler(mat: np.ndarray | torch.Tensor, order: str) -> np.ndarray | torch.Tensor:
    """Rotation matrix ``(..., 3, 3)`` → intrinsic Euler angles in degrees ``(..., 3)``."""
    order = order.upper()
    angles = roma.rotmat_to_euler(order, _as_tensor(mat), degrees=True)
    return _like(mat, angles)


# --- resampling -----------------------------------------------------------------------------

def resampled_length(n_frames: int, src_fps: float, dst_fps: float) -> int:
    """Frames at ``dst_fps`` that lie within the span of ``n_frames`` frames at ``src_fps``.

    Frame k of the output sits at time k / dst_fps; the last one is at or before the last input
    frame's time (n_frames − 1) / src_fps. 1906 frames at 30 fps → 953 frames at 15 fps.
    """
    if n_frames <= 0:
        return 0
    span = (n_frames - 1) * dst_fps / src_fps
    return int(np.floor(span + 1e-9)) + 1


def _sample_positions(n_in: int, src_fps: float, dst_fps: float, n_out: int) -> np.ndarray:
    """Fractional input-frame positions of ``n_out`` output frames, clamped to the input span."""
    pos = np.arange(n_out, dtype=np.float64) * (src_fps / dst_fps)
    near = np.round(pos)
    pos = np.where(np.abs(pos - near) < 1e-9, near, pos)  # exact hits stay exact
    return np.clip(pos, 0.0, n_in - 1)


_CHUNK = 4096  # output frames converted at a time


def resample_rotations(
    aa: np.ndarray, src_fps: float, dst_fps: float, n_out: int | None = None
) -> np.ndarray:
    """Resample axis-angle rotations ``(T, J, 3)`` from ``src_fps`` to ``dst_fps`` by slerp.

    Each output frame is the geodesic interpolation between its two neighbouring input frames
    (``R = R0 · exp(f · log(R0ᵀ R1))``). ``n_out`` defaults to :func:`resampled_length`; frames
    past the end of the input hold the last input frame.
    """
    aa = np.asarray(aa)
    n_in = aa.shape[0]
    if n_out is None:
        n_out = resampled_length(n_in, src_fps, dst_fps)
    if n_in == 0 or n_out == 0:
        return np.zeros((n_out, *aa.shape[1:]), dtype=aa.dtype)
    pos = _sample_positions(n_in, src_fps, dst_fps, n_out)
    out = np.empty((n_out, *aa.shape[1:]), dtype=aa.dtype)
    for a in range(0, n_out, _CHUNK):  # chunks keep memory flat for hour-long motion
        p = pos[a:a + _CHUNK]
        i0 = np.floor(p).astype(np.int64)
        i1 = np.minimum(i0 + 1, n_in - 1)
        lo, hi = int(i0[0]), int(i1[-1]) + 1
        r = roma.rotvec_to_rotmat(torch.as_tensor(aa[lo:hi], dtype=torch.float64))  # (t, J, 3, 3)
        r0, r1 = r[i0 - lo], r[i1 - lo]
        rel = roma.rotmat_to_rotvec(r0.transpose(-1, -2) @ r1)  # (chunk, J, 3), angle ≤ π
        frac = torch.as_tensor(p - i0)[:, None, None]  # (chunk, 1, 1)
        out[a:a + _CHUNK] = roma.rotmat_to_rotvec(r0 @ roma.rotvec_to_rotmat(rel * frac)).numpy()
    return out


def resample_linear(x: np.ndarray, src_fps: float, dst_fps: float, n_out: int | None = None):
    """Resample a Euclidean signal ``(T, ...)`` (translations, expressions) by linear interpolation."""
    x = np.asarray(x)
    n_in = x.shape[0]
    if n_out is None:
        n_out = resampled_length(n_in, src_fps, dst_fps)
    if n_in == 0 or n_out == 0:
        return np.zeros((n_out, *x.shape[1:]), dtype=x.dtype)
    pos = _sample_positions(n_in, src_fps, dst_fps, n_out)
    i0 = np.floor(pos).astype(np.int64)
    i1 = np.minimum(i0 + 1, n_in - 1)
    f = (pos - i0).reshape(-1, *([1] * (x.ndim - 1)))
    return ((1 - f) * x[i0] + f * x[i1]).astype(x.dtype)


# --- normalisation --------------------------------------------------------------------------

@dataclass(frozen=True)
class NormStats:
    """Per-dimension mean and standard deviation of the model's motion features ``(D,)``.

    Computed on the training split only, saved with the prepared data and with every inference
    bundle, so generation de-normalises with exactly the statistics the model was trained on.
    """

    mean: np.ndarray
    std: np.ndarray

    #: Floor for the standard deviation: dimensions that never move (a joint held still in the
    #: data) would otherwise blow up under normalisation.
    MIN_STD = 1e-3

    @classmethod
    def compute(cls, features: np.ndarray) -> NormStats:
        """Statistics of ``features (..., D)`` over all leading axes."""
        flat = np.asarray(features, dtype=np.float64).reshape(-1, np.shape(features)[-1])
        if flat.shape[0] == 0:
            raise ValueError("cannot compute normalisation statistics of an empty training split")
        mean = flat.mean(axis=0)
        std = np.maximum(flat.std(axis=0), cls.MIN_STD)
        return cls(mean.astype(np.float32), std.astype(np.float32))

    def normalize(self, x):
        """``(x − mean) / std`` for numpy arrays or tensors ``(..., D)``."""
        mean, std = self._cast(x)
        return (x - mean) / std

    def denormalize(self, x):
        """Inverse of :meth:`normalize`."""
        mean, std = self._cast(x)
        return x * std + mean

    def _cast(self, x):
        if isinstance(x, torch.Tensor):
            return (torch.as_tensor(self.mean, device=x.device, dtype=x.dtype),
                    torch.as_tensor(self.std, device=x.device, dtype=x.dtype))
        return self.mean, self.std

    def tensors(self, prefix: str = "norm.") -> dict[str, torch.Tensor]:
        """The statistics as named tensors, for a safetensors file."""
        return {f"{prefix}mean": torch.as_tensor(self.mean), f"{prefix}std": torch.as_tensor(self.std)}

    @classmethod
    def from_tensors(cls, tensors: dict[str, torch.Tensor], prefix: str = "norm.") -> NormStats:
        """Inverse of :meth:`tensors`."""
        return cls(tensors[f"{prefix}mean"].numpy(), tensors[f"{prefix}std"].numpy())

    def save(self, path: str | Path) -> None:
        """Write the statistics as a safetensors file (atomically)."""
        with atomic_path(path) as tmp:
            save_file({k: v.contiguous() for k, v in self.tensors().items()}, str(tmp))

    @classmethod
    def load(cls, path: str | Path) -> NormStats:
        """Read statistics written by :meth:`save`."""
        return cls.from_tensors(load_file(str(path)))
