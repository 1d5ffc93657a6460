"""Exact SMPL-X joint positions from the user's own SMPL-X model file, without ``smplx`` or pickle.

SMPL-X's model files are licensed, so we never ship one; a user who has one (e.g.
``SMPLX_NEUTRAL_2020.npz``, the file EMAGE's evaluation uses) gets exact joints instead of the
approximate skeleton of :mod:`eggesture.data.skeleton`. The file is read with
``np.load(allow_pickle=False)``; only these keys are read, so a pickled extra key, if a file has
one, does no harm:

* ``v_template (V, 3)``, ``shapedirs (V, 3, S)``, ``J_regressor (J, V)`` (dense), ``kintree_table
  (2, J)`` — required;
* ``hands_meanl``, ``hands_meanr (45,)`` — optional, the mean hand pose (see ``flat_hand_mean``).

The joints follow the linear blend skinning of SMPL-X (Pavlakos et al., CVPR 2019, Sec. 3), as
the reference ``smplx`` package computes them (``smplx/lbs.py``, ``lbs``):

* rest joints ``J = J_regressor · (v_template + shapedirs · [β, ψ])`` — shape β and expression ψ
  coefficients share one blend-shape basis (``SMPLX.forward`` concatenates them);
* posed joints by the rigid chain of ``batch_rigid_transform``: joint ``k`` sits at
  ``G_parent(k) · (J[k] − J[parent(k)])`` from its parent, and the root at ``J[0]``, plus the
  translation. That is forward kinematics of the rest offsets, which
  :func:`eggesture.data.skeleton.forward_kinematics` does; pose blend shapes move vertices only.

How ``smplx`` splits ``shapedirs`` (``SMPL.__init__`` and ``SMPLX.__init__`` in
``smplx/body_models.py``): with at least 300 + 100 columns (SMPL-X 2020) columns ``0:300`` are
shape and ``300:400`` expression; with fewer (the 2019 release has 20) columns ``0:10`` are shape
and ``10:20`` expression. EMAGE builds its model with ``num_betas=300, num_expression_coeffs=100``
and the default ``flat_hand_mean=False`` (``emage_utils/motion_rep_transfer.py``).
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import DataError
from .motion import JOINT_SETS, NUM_SMPLX_JOINTS, SMPLX_JOINT_NAMES, SMPLX_PARENTS, axis_angle_to_matrix
from .skeleton import forward_kinematics, smplx_positions

#: Shape and expression columns of a full SMPL-X ``shapedirs`` (``smplx``: ``SHAPE_SPACE_DIM``,
#: ``EXPRESSION_SPACE_DIM``).
SHAPE_SPACE_DIM = 300
EXPRESSION_SPACE_DIM = 100
#: Shape and expression columns ``smplx`` uses when ``shapedirs`` is narrower (SMPL-X 2019).
LEGACY_SHAPE_DIM = 10
LEGACY_EXPRESSION_DIM = 10

_REQUIRED_KEYS = ("v_template", "shapedirs", "J_regressor", "kintree_table")
_HANDS = JOINT_SETS["hands"]  # joints 25..54: left hand then right hand, as smplx orders its pose


def _fit(coeffs: np.ndarray | None, n: int, lead: tuple[int, ...] = ()) -> np.ndarray:
    """Coefficients ``(*lead, n)``: zero-padded when shorter, truncated when longer (None: zeros).

    ``smplx`` keeps only the first ``num_betas`` columns of its basis and then expects exactly
    that many coefficients; padding with zeros (or dropping the tail) is the same as building the
    ``smplx`` model with ``num_betas = len(betas)``.
    """
    out = np.zeros((*lead, n))
    if coeffs is not None:
        c = np.asarray(coeffs, dtype=np.float64)
        k = min(n, c.shape[-1])
        out[..., :k] = c[..., :k]
    return out


def _offsets(rest: np.ndarray, parents: tuple[int, ...]) -> np.ndarray:
    """Offsets ``(J, 3)`` of each rest joint ``(J, 3)`` from its parent (the root's: zero)."""
    off = rest - rest[[max(p, 0) for p in parents]]
    off[0] = 0.0
    return off


@dataclass(frozen=True, eq=False)
class SmplxModel:
    """The joint-related part of an SMPL-X model file (see the module docstring)."""

    path: Path
    """The model file it was read from."""
    v_template: np.ndarray
    """Template mesh ``(V, 3)``, metres."""
    shapedirs: np.ndarray
    """Blend shapes ``(V, 3, S)``: ``n_shape`` shape columns, then ``S − n_shape`` expression."""
    n_shape: int
    """Number of shape (β) columns of ``shapedirs``; the rest are expression (ψ)."""
    j_regressor: np.ndarray
    """Dense joint regressor ``(55, V)``."""
    parents: tuple[int, ...]
    """Parent of each of the 55 joints (``kintree_table[0]``), -1 for the root."""
    hand_mean: np.ndarray | None = None
    """Mean hand pose ``(30, 3)`` axis-angle for joints 25..54 (``hands_meanl``, ``hands_meanr``)."""
    _j_template: np.ndarray = field(init=False, repr=False)  # (55, 3) J_regressor · v_template
    _j_dirs: np.ndarray = field(init=False, repr=False)  # (55, 3, S) J_regressor · shapedirs

    def __post_init__(self) -> None:
        v = np.asarray(self.v_template, dtype=np.float64)
        if v.ndim != 2 or v.shape[1] != 3:
            raise ValueError(f"v_template must be (V, 3), got {v.shape}")
        dirs = np.asarray(self.shapedirs, dtype=np.float64)
        if dirs.ndim != 3 or dirs.shape[:2] != v.shape:
            raise ValueError(f"shapedirs must be (V, 3, S) with V = {v.shape[0]}, got {dirs.shape}")
        if not 0 <= self.n_shape <= dirs.shape[2]:
            raise ValueError(f"n_shape must be in [0, {dirs.shape[2]}], got {self.n_shape}")
        reg = np.asarray(self.j_regressor, dtype=np.float64)
        if reg.shape != (NUM_SMPLX_JOINTS, v.shape[0]):
            raise ValueError(f"j_regressor must be ({NUM_SMPLX_JOINTS}, {v.shape[0]}), got {reg.shape}")
        parents = tuple(int(p) for p in self.parents)
        if len(parents) != NUM_SMPLX_JOINTS or parents[0] != -1 or any(
            not 0 <= p < k for k, p in enumerate(parents) if k
        ):
            raise ValueError("parents must list 55 joints, the root first (-1), parents before children")
        hand_mean = self.hand_mean
        if hand_mean is not None:
            hand_mean = np.asarray(hand_mean, dtype=np.float64).reshape(-1, 3)
            if hand_mean.shape != (len(_HANDS), 3):
                raise ValueError(f"hand_mean must be ({len(_HANDS)}, 3), got {hand_mean.shape}")
        # Regressing the joints once turns every later rest-joint query into a (55, 3, S) product
        # instead of one over all V vertices; it is exact, J_regressor being linear.
        j_template = reg @ v  # (55, 3)
        j_dirs = np.tensordot(reg, dirs, axes=(1, 0))  # (55, V) · (V, 3, S) → (55, 3, S)
        for name, value in [("path", Path(self.path)), ("v_template", v), ("shapedirs", dirs),
                            ("j_regressor", reg), ("parents", parents), ("hand_mean", hand_mean),
                            ("_j_template", j_template), ("_j_dirs", j_dirs)]:
            if isinstance(value, np.ndarray):
                value.setflags(write=False)
            object.__setattr__(self, name, value)

    @property
    def n_expression(self) -> int:
        """Number of expression (ψ) columns of ``shapedirs``."""
        return self.shapedirs.shape[2] - self.n_shape

    def rest_joints(self, betas: np.ndarray | None = None, expression: np.ndarray | None = None
                    ) -> np.ndarray:
        """Rest-pose joints ``(55, 3)`` float64 for shape ``betas (B,)`` and ``expression (E,)``.

        Either may be omitted (zeros), be shorter than the model's ``n_shape`` / ``n_expression``
        (zero-padded) or longer (truncated): the same as ``smplx`` built with ``num_betas = B``.
        """
        coeffs = np.concatenate([_fit(betas, self.n_shape), _fit(expression, self.n_expression)])
        return self._j_template + self._j_dirs @ coeffs  # (55, 3) + (55, 3, S) · (S,)

    def rest_offsets(self, betas: np.ndarray | None = None) -> np.ndarray:
        """Offsets ``(55, 3)`` of each rest joint from its parent for shape ``betas``, the
        root's being its rest position: the skeleton of :func:`eggesture.data.skeleton.
        forward_kinematics` and of BVH export for this body."""
        rest = self.rest_joints(betas)
        off = _offsets(rest, self.parents)
        off[0] = rest[0]
        return off

    def with_hand_mean(self, poses: np.ndarray, flat_hand_mean: bool = False) -> np.ndarray:
        """``poses (T, 165)`` as this model poses them: the file's mean hand pose added to the
        hand joints unless ``flat_hand_mean`` (what :meth:`joint_positions` does first)."""
        poses = np.asarray(poses, dtype=np.float64)
        t = len(poses)
        if flat_hand_mean or self.hand_mean is None:
            return poses.reshape(t, -1).copy()
        out = poses.reshape(t, NUM_SMPLX_JOINTS, 3).copy()
        out[:, _HANDS] += self.hand_mean
        return out.reshape(t, -1)

    def joint_positions(
        self,
        poses: np.ndarray,
        trans: np.ndarray | None = None,
        betas: np.ndarray | None = None,
        expression: np.ndarray | None = None,
        *,
        flat_hand_mean: bool = False,
    ) -> np.ndarray:
        """Posed joints ``(T, 55, 3)`` float64 of axis-angle ``poses (T, 165)`` or ``(T, 55, 3)``.

        ``trans (T, 3)`` translates the body (the root lands at ``rest_joints[0] + trans``, as in
        LBS); ``betas (B,)`` is one body shape; ``expression`` is ``(E,)`` for all frames or
        ``(T, E)`` per frame (``smplx`` regresses each frame's joints from its own shaped mesh, so
        do we). Unless ``flat_hand_mean``, the file's mean hand pose is added to the hand joints
        first, as ``smplx`` does by default — and as EMAGE's evaluation and renderer do.
        """
        poses = np.asarray(poses, dtype=np.float64)
        t = len(poses)
        poses = poses.reshape(t, NUM_SMPLX_JOINTS, 3)
        if not flat_hand_mean and self.hand_mean is not None:
            poses = poses.copy()
            poses[:, _HANDS] += self.hand_mean
        mats = axis_angle_to_matrix(poses)  # (T, 55, 3, 3), converted once for every FK pass below
        per_frame = expression is not None and np.ndim(expression) == 2
        rest = self.rest_joints(betas, None if per_frame else expression)  # (55, 3)
        root = np.broadcast_to(rest[0] if trans is None else rest[0] + np.asarray(trans), (t, 3))
        pos = forward_kinematics(mats, _offsets(rest, self.parents), self.parents, root)
        if per_frame:
            pos += self._expression_term(mats, np.asarray(expression))
        return pos

    def _expression_term(self, mats: np.ndarray, expression: np.ndarray) -> np.ndarray:
        """What a per-frame ``expression (T, E)`` adds to the posed joints ``(T, 55, 3)``.

        Posed joints are linear in the rest joints for fixed rotations, and the expression moves
        the rest joints within the span of ``J_regressor · expression dirs`` ``(165, E)``. So one
        FK pass per singular direction of that span (few: only the head's joints move) is exact,
        where one FK pass per frame would be slow.
        """
        t = len(mats)
        psi = _fit(expression, self.n_expression, (t,))  # (T, E)
        dirs = self._j_dirs[:, :, self.n_shape:].reshape(-1, self.n_expression)  # (165, E)
        if not dirs.size:
            return np.zeros((t, NUM_SMPLX_JOINTS, 3))
        u, s, vt = np.linalg.svd(dirs, full_matrices=False)  # (165, r), (r,), (r, E)
        keep = s > s[0] * 1e-12  # drop directions that move no joint (all, if none moves)
        coeffs = psi @ (vt[keep].T * s[keep])  # (T, r): each frame's rest-joint shift in the basis
        out = np.zeros((t, NUM_SMPLX_JOINTS, 3))
        for c, basis in zip(coeffs.T, u[:, keep].T):
            shift = basis.reshape(NUM_SMPLX_JOINTS, 3)  # a unit rest-joint displacement (55, 3)
            moved = forward_kinematics(mats, _offsets(shift, self.parents), self.parents, shift[0])
            out += c[:, None, None] * moved
        return out


def _default_split(n_columns: int) -> tuple[int, int, int]:
    """(shape columns, expression start, expression end) that ``smplx`` reads from ``shapedirs``."""
    if n_columns >= SHAPE_SPACE_DIM + EXPRESSION_SPACE_DIM:
        return SHAPE_SPACE_DIM, SHAPE_SPACE_DIM, SHAPE_SPACE_DIM + EXPRESSION_SPACE_DIM
    n_shape = min(LEGACY_SHAPE_DIM, n_columns)
    return n_shape, n_shape, min(n_shape + LEGACY_EXPRESSION_DIM, n_columns)


def _read_model_arrays(path: Path) -> dict[str, np.ndarray]:
    """The arrays :func:`load_smplx_model` needs, read without pickle, each checked numeric."""
    if not path.is_file():
        raise DataError(path, "SMPL-X model file not found")
    try:
        with open(path, "rb") as f:
            magic = f.read(2)
        if magic[:1] == b"\x80":  # the PROTO opcode every binary pickle starts with
            raise DataError(path, "is a pickle (.pkl), which eggesture never loads: use SMPL-X's "
                                  ".npz model file (e.g. SMPLX_NEUTRAL_2020.npz)")
        if magic != b"PK":
            raise DataError(path, "not an .npz archive, so not an SMPL-X .npz model file")
        archive = np.load(path, allow_pickle=False)
    except (OSError, EOFError, ValueError, zipfile.BadZipFile) as e:
        raise DataError(path, f"cannot read the SMPL-X model file ({type(e).__name__})") from None
    with archive:
        missing = [k for k in _REQUIRED_KEYS if k not in archive.files]
        if missing:
            raise DataError(path, f"not an SMPL-X model file: no {', '.join(missing)}")
        wanted = [*_REQUIRED_KEYS, *(k for k in ("hands_meanl", "hands_meanr") if k in archive.files)]
        arrays = {}
        for key in wanted:
            try:
                arrays[key] = archive[key]
            except ValueError as e:
                if "allow_pickle" in str(e):
                    # A pickled object, e.g. a scipy sparse J_regressor from a converted .pkl.
                    raise DataError(path, f"{key} is a pickled object, which eggesture never "
                                          "loads: re-save it as a dense numpy array") from None
                raise DataError(path, f"cannot read {key} (ValueError)") from None
            except (OSError, EOFError, zipfile.BadZipFile) as e:
                raise DataError(path, f"cannot read {key} ({type(e).__name__})") from None
            if not np.issubdtype(arrays[key].dtype, np.number):
                raise DataError(path, f"{key} holds {arrays[key].dtype} values, not numbers")
    return arrays


def load_smplx_model(path: str | Path, *, n_shape: int | None = None) -> SmplxModel:
    """Read the joint-related arrays of an SMPL-X ``.npz`` model file, without pickle.

    ``n_shape`` is how many shape columns to use (default: all of the file's shape space, 300 for
    SMPL-X 2020, 10 for older files); the expression columns are those ``smplx`` uses. Raises
    :class:`DataError` naming the file for a missing, unreadable, pickled or non-SMPL-X file.
    """
    path = Path(path)
    arrays = _read_model_arrays(path)
    kintree, reg = arrays["kintree_table"], arrays["J_regressor"]
    if kintree.ndim != 2 or kintree.shape[0] != 2 or reg.ndim != 2:
        raise DataError(path, f"kintree_table must be (2, J) and J_regressor (J, V), got "
                              f"{kintree.shape} and {reg.shape}")
    if reg.shape[0] < NUM_SMPLX_JOINTS or kintree.shape[1] < NUM_SMPLX_JOINTS:
        raise DataError(path, f"has {min(reg.shape[0], kintree.shape[1])} joints, SMPL-X has "
                              f"{NUM_SMPLX_JOINTS}: an SMPL or SMPL+H file?")
    # Joints past the 55th would be extras appended to SMPL-X's tree: BEAT2's 165 pose values
    # rotate only the first 55, and the first 55 regressor rows do not depend on the others.
    reg = reg[:NUM_SMPLX_JOINTS]
    parents = (-1, *(int(p) for p in kintree[0, 1:NUM_SMPLX_JOINTS]))  # root: 2**32 − 1 in files
    for k, (got, want) in enumerate(zip(parents, SMPLX_PARENTS)):
        if got != want:
            raise DataError(path, f"kinematic tree differs from SMPL-X's: joint {k} "
                                  f"({SMPLX_JOINT_NAMES[k]}) has parent {got}, expected {want}")

    shapedirs = arrays["shapedirs"]
    if shapedirs.ndim == 2:  # a single blend shape, stored without its last axis (smplx allows it)
        shapedirs = shapedirs[:, :, None]
    if shapedirs.ndim != 3:
        raise DataError(path, f"shapedirs must be (V, 3, S), got {shapedirs.shape}")
    space, expr_start, expr_end = _default_split(shapedirs.shape[2])
    if n_shape is None:
        n_shape = space
    elif not 0 <= n_shape <= space:
        raise DataError(path, f"n_shape={n_shape}, but the file has {space} shape components")
    shapedirs = np.concatenate([shapedirs[:, :, :n_shape], shapedirs[:, :, expr_start:expr_end]], axis=2)

    hand_mean = None
    if "hands_meanl" in arrays and "hands_meanr" in arrays:
        left, right = arrays["hands_meanl"].reshape(-1), arrays["hands_meanr"].reshape(-1)
        if left.size != 3 * len(_HANDS) // 2 or right.size != left.size:
            raise DataError(path, f"hands_meanl/hands_meanr must have 45 values, got {left.size}, "
                                  f"{right.size}")
        hand_mean = np.concatenate([left, right]).reshape(-1, 3)  # (30, 3)
    try:
        return SmplxModel(path=path, v_template=arrays["v_template"], shapedirs=shapedirs,
                          n_shape=n_shape, j_regressor=reg, parents=parents, hand_mean=hand_mean)
    except ValueError as e:
        raise DataError(path, f"not a consistent SMPL-X model file: {e}") from None


def positions(
    poses: np.ndarray,
    trans: np.ndarray | None = None,
    *,
    model: SmplxModel | None = None,
    betas: np.ndarray | None = None,
    expression: np.ndarray | None = None,
    flat_hand_mean: bool = False,
) -> np.ndarray:
    """SMPL-X joint positions ``(T, 55, 3)`` of BEAT2 ``poses (T, 165)`` — the one entry point.

    Exact (:meth:`SmplxModel.joint_positions`) when the user's ``model`` is given; otherwise the
    approximate skeleton (:func:`eggesture.data.skeleton.smplx_positions`), which has one fixed
    body, so ``betas``, ``expression`` and ``flat_hand_mean`` are then ignored.
    """
    if model is None:
        return smplx_positions(poses, trans)
    return model.joint_positions(poses, trans, betas, expression, flat_hand_mean=flat_hand_mean)
