"""The arm and hand model of the synthetic speaker: key poses, inverse kinematics, joint rotations.

An arm is a vector of ``ARM_DIM`` parameters (:data:`ARM_FIELDS`: wrist target, elbow pole,
forearm twist, finger curls, thumb, spread, wrist flexion, shrug) in the arm's outward frame;
:class:`ArmKey` is the readable form of one such vector. Two-bone inverse kinematics on the
approximate SMPL-X skeleton (:mod:`eggesture.data.skeleton`) turns parameters ``(T, ARM_DIM)``
into local joint rotations (:func:`arm_pose_matrices`) and axis-angle poses; :data:`REST_POSE`
is the relaxed pose every sequence starts and ends in.

Rotation conversions go through roma (:mod:`eggesture.data.motion`), imported on first use so
that importing this module stays light.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from ..motion import axis_angle_to_matrix, matrix_to_axis_angle
from ..skeleton import SMPLX_REST_OFFSETS, forward_kinematics

#: SMPL-X joints (``eggesture.data.motion.NUM_SMPLX_JOINTS``, not imported here: that module
#: brings torch, and importing this package must stay light).
NUM_JOINTS = 55

# --- rotations (numpy, vectorised over leading axes) ------------------------------------------


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12)


def _rodrigues(axis: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Rotation matrices ``(..., 3, 3)`` about ``axis (..., 3)`` (normalised here) by
    ``angle (...)`` radians, float64 (roma keeps the dtype; it agrees with the closed-form
    Rodrigues formula to ~1e-12)."""
    axis = _unit(np.asarray(axis, dtype=np.float64))
    angle = np.asarray(angle, dtype=np.float64)
    return axis_angle_to_matrix(axis * angle[..., None])


def _rot_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The smallest rotation ``(..., 3, 3)`` taking direction ``a`` to ``b`` (not antiparallel)."""
    a, b = _unit(a), _unit(b)
    axis = np.cross(a, b)
    s = np.linalg.norm(axis, axis=-1)
    angle = np.arctan2(s, np.sum(a * b, axis=-1))
    axis = np.where(s[..., None] > 1e-9, axis, np.cross(a, [0.0, 1.0, 0.0]))
    return _rodrigues(axis, angle)


def _frame(a: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Orthonormal frame with columns ``a, c × a, c`` (``a ⊥ c`` unit vectors)."""
    return np.stack([a, np.cross(c, a), c], axis=-1)


_MIRROR = np.diag([-1.0, 1.0, 1.0])


def _mirror_matrices(m: np.ndarray) -> np.ndarray:
    """Left-right mirror image of rotations: ``M R M`` with ``M = diag(−1, 1, 1)``."""
    return _MIRROR @ m @ _MIRROR


# --- the arm and hand model -------------------------------------------------------------------
# Arms are solved in "left-arm space": a right arm is the mirror image of a left arm whose
# targets were mirrored (x → −x). Targets are in the body frame of the rest skeleton (metres,
# pelvis at the origin, y up, z forward, x to the body's left); for an arm, x is "outward".

_SPINE3 = 9
_L_COLLAR, L_SHOULDER, L_ELBOW, L_WRIST = 13, 16, 18, 20
_PALM_REST = np.array([0.0, -1.0, 0.0])  # palms face down in the T-pose
_BACK = _unit(np.array([0.0, -0.5, -1.0]))


@dataclass(frozen=True)
class _Geometry:
    """Facts of the approximate SMPL-X skeleton (:mod:`eggesture.data.skeleton`) that the arm
    model needs; built on first use, so importing this module stays light."""

    off: np.ndarray  # (55, 3) rest offsets from the parent
    rest_pos: np.ndarray  # (55, 3) T-pose positions (pelvis at the origin)
    upper_len: float
    fore_len: float
    o2: np.ndarray  # rest forearm direction (left arm)
    f0: np.ndarray  # (3, 3) rest frame of the upper arm: its direction, -, its flexion side
    flex_axis: np.ndarray  # wrist flexion bends the hand toward the palm
    max_reach: float  # the elbow never locks straight


@functools.cache
def geom() -> _Geometry:
    off = np.asarray(SMPLX_REST_OFFSETS, dtype=np.float64)
    identity = np.broadcast_to(np.eye(3), (1, NUM_JOINTS, 3, 3))  # every joint at rest
    pos = forward_kinematics(identity, off)[0]  # (55, 3)
    o1, o2 = _unit(off[L_ELBOW]), _unit(off[L_WRIST])
    upper, fore = float(np.linalg.norm(off[L_ELBOW])), float(np.linalg.norm(off[L_WRIST]))
    # Elbow flexion brings the forearm forward of the upper arm in the T-pose (palms down).
    f0 = _frame(o1, _unit(np.array([0.0, 0.0, 1.0]) - o1[2] * o1))
    return _Geometry(off=off, rest_pos=pos, upper_len=upper, fore_len=fore, o2=o2, f0=f0,
                     flex_axis=_unit(np.cross(o2, _PALM_REST)), max_reach=0.985 * (upper + fore))


# Left-hand finger joints (SMPL-X order index, middle, pinky, ring, thumb; 3 joints each).
_FINGER_JOINTS = {"index": (25, 26, 27), "middle": (28, 29, 30), "ring": (34, 35, 36),
                  "pinky": (31, 32, 33)}
_THUMB_JOINTS = (37, 38, 39)
_CURL_DEG = (65.0, 90.0, 60.0)  # full curl of the three joints of a finger
_SPREAD_DEG = {"index": 12.0, "middle": 3.0, "ring": -6.0, "pinky": -14.0}
# Thumb opposition: about this axis (left hand) the thumb swings from its rest direction across
# the palm (positive) or away from the index into a "thumbs up" (negative).
_THUMB_AXIS = _unit(np.array([0.27, 0.95, -0.12]))
_THUMB_DEG = (40.0, 20.0, 12.0)

#: Layout of one arm's parameter vector (``(…, ARM_DIM)``), in left-arm space.
#: ``twist`` is the forearm twist in radians that turns the palm where the key wants it.
ARM_FIELDS = {"wrist": slice(0, 3), "elbow": slice(3, 6), "twist": 6, "curl": slice(7, 11),
              "thumb": 11, "spread": 12, "flex": 13, "shrug": 14}
ARM_DIM = 15

#: Hand shapes: finger curls (index, middle, ring, pinky; 0 straight, 1 fist), thumb
#: (−1 up/out, 0 rest, 1 across the palm), spread (0 together, 1 fanned).
HAND_SHAPES: dict[str, tuple[tuple[float, float, float, float], float, float]] = {
    "relaxed": ((0.25, 0.3, 0.35, 0.4), 0.15, 0.15),
    "open": ((0.02, 0.02, 0.03, 0.04), -0.2, 0.9),
    "flat": ((0.0, 0.0, 0.0, 0.0), 0.1, 0.0),
    "cupped": ((0.35, 0.35, 0.4, 0.4), 0.2, 0.2),
    "curled": ((0.75, 0.8, 0.8, 0.8), 0.4, 0.0),
    "fist": ((1.0, 1.0, 1.0, 1.0), 1.0, 0.0),
    "point": ((0.0, 1.0, 1.0, 1.0), 1.0, 0.0),
    "v": ((0.0, 0.0, 1.0, 1.0), 1.0, 0.8),
    "three": ((0.0, 0.0, 0.0, 1.0), 1.0, 0.5),
    "thumb_up": ((1.0, 1.0, 1.0, 1.0), -1.0, 0.0),
    "pinch": ((0.6, 0.95, 1.0, 1.0), 0.75, 0.0),
    "pinch_closed": ((0.75, 0.95, 1.0, 1.0), 1.0, 0.0),
    "rub": ((0.55, 0.55, 0.9, 0.9), 0.35, 0.0),
    "rub_in": ((0.55, 0.55, 0.9, 0.9), 0.85, 0.0),
}


@dataclass(frozen=True)
class ArmKey:
    """A key pose of one arm, in that arm's outward frame (x away from the body's midline).

    ``wrist`` (out, up, forward) in metres from the pelvis of the rest skeleton; ``palm`` the
    direction the palm faces; ``elbow`` the direction the elbow points; ``hand`` a
    :data:`HAND_SHAPES` name; ``flex`` wrist flexion in degrees (negative bends the hand back);
    ``shrug`` collar-bone elevation in degrees.
    """

    wrist: tuple[float, float, float]
    palm: tuple[float, float, float]
    hand: str = "relaxed"
    elbow: tuple[float, float, float] = (0.5, -1.0, -0.4)
    flex: float = 0.0
    shrug: float = 0.0

    def vector(self) -> np.ndarray:
        """The key as an ``(ARM_DIM,)`` parameter vector (the palm becomes a forearm twist)."""
        curl, thumb, spread = HAND_SHAPES[self.hand]
        wrist, elbow = np.array([self.wrist], float), _unit(np.array([self.elbow], float))
        twist = _palm_twist(wrist, elbow, np.array([self.shrug], float),
                            np.array([self.palm], float))[0]
        return np.array([*wrist[0], *elbow[0], twist, *curl, thumb, spread, self.flex,
                         self.shrug], dtype=np.float64)

    def moved(self, dx: float = 0.0, dy: float = 0.0, dz: float = 0.0, **changes) -> ArmKey:
        """A copy with the wrist shifted by ``(dx, dy, dz)`` and other fields replaced."""
        x, y, z = self.wrist
        fields = {"wrist": (x + dx, y + dy, z + dz), "palm": self.palm, "hand": self.hand,
                  "elbow": self.elbow, "flex": self.flex, "shrug": self.shrug}
        fields.update(changes)
        return ArmKey(**fields)


def _soft_reach(dist: np.ndarray) -> np.ndarray:
    """Distances beyond 85 % of the arm's reach saturate smoothly toward its maximum (a hard
    clip would put a kink in the motion of a target that passes it)."""
    reach = geom().max_reach
    knee = 0.85 * reach
    room = reach - knee
    soft = knee + room * np.tanh((dist - knee) / room)
    return np.maximum(np.where(dist > knee, soft, dist), 0.12)


def _arm_swing(wrist: np.ndarray, pole: np.ndarray, shrug: np.ndarray):
    """The untwisted arm reaching for ``wrist`` (outward frame, ``(T, 3)``).

    Two-bone inverse kinematics puts the wrist on its target (distances near the arm's reach
    saturate smoothly, so the elbow never locks straight) with the elbow toward ``pole``; the
    upper arm's twist makes elbow flexion anatomical (the forearm folds to the front of the
    upper arm).
    Returns the collar, shoulder-in-spine3 and elbow-bend matrices ``(T, 3, 3)``, the forearm
    direction ``(T, 3)`` and the palm normal before any forearm twist ``(T, 3)``.
    """
    t = wrist.shape[0]
    g = geom()
    target = wrist - g.rest_pos[_SPINE3]  # spine3 frame (its rest rotation is the identity)
    collar = _rodrigues(np.broadcast_to([0.0, 0.0, 1.0], (t, 3)), np.deg2rad(shrug))
    shoulder = g.off[_L_COLLAR] + collar @ g.off[L_SHOULDER]  # (T, 3)
    d = target - shoulder
    reach = _soft_reach(np.linalg.norm(d, axis=-1))
    dh = _unit(d)
    along = (g.upper_len**2 - g.fore_len**2 + reach**2) / (2 * reach)
    radius = np.sqrt(np.maximum(g.upper_len**2 - along**2, 0.0))
    # A little "elbow backward" keeps the swivel defined when the pole lines up with the reach.
    pole = _unit(pole) + 0.25 * _BACK
    side = _unit(pole - np.sum(pole * dh, -1, keepdims=True) * dh)
    elbow = shoulder + along[:, None] * dh + radius[:, None] * side
    upper = _unit(elbow - shoulder)  # (T, 3)
    fore = _unit(shoulder + reach[:, None] * dh - elbow)
    bend = _unit(fore - np.sum(fore * upper, -1, keepdims=True) * upper)
    g_shoulder = _frame(upper, bend) @ g.f0.T  # shoulder rotation in the spine3 frame
    fore_local = np.einsum("tji,tj->ti", g_shoulder, fore)
    r_bend = _rot_between(np.broadcast_to(g.o2, (t, 3)), fore_local)
    palm0 = (g_shoulder @ r_bend) @ _PALM_REST
    return collar, g_shoulder, r_bend, fore, palm0


def _palm_twist(wrist: np.ndarray, pole: np.ndarray, shrug: np.ndarray,
                palm: np.ndarray) -> np.ndarray:
    """Forearm twist ``(T,)`` in radians that turns the palm toward ``palm`` (both ⊥ forearm)."""
    _, _, _, fore, q = _arm_swing(wrist, pole, shrug)
    q = _unit(q - np.sum(q * fore, -1, keepdims=True) * fore)
    want = _unit(palm - np.sum(palm * fore, -1, keepdims=True) * fore)
    return np.arctan2(np.sum(np.cross(q, want) * fore, -1), np.sum(q * want, -1))


def arm_rotations(params: np.ndarray, hands: bool = True) -> dict[int, np.ndarray]:
    """Local rotation matrices of a *left* arm and hand from parameters ``(T, ARM_DIM)``.

    The arm reaches as in :func:`_arm_swing`; the forearm twist (a parameter, interpolated as
    an angle so the palm never flips) is shared by the elbow and the wrist. Returns
    ``{joint: (T, 3, 3)}`` for the collar, shoulder, elbow, wrist and (if ``hands``) the 15
    finger joints.
    """
    t = params.shape[0]
    g = geom()
    f_ = ARM_FIELDS
    collar, g_shoulder, r_bend, fore, _ = _arm_swing(
        params[:, f_["wrist"]], params[:, f_["elbow"]], params[:, f_["shrug"]])
    psi = params[:, f_["twist"]]
    fore_local = np.einsum("tji,tj->ti", g_shoulder, fore)
    r_shoulder = np.swapaxes(collar, -1, -2) @ g_shoulder
    r_elbow = _rodrigues(fore_local, psi / 2) @ r_bend
    r_wrist = (_rodrigues(np.broadcast_to(g.o2, (t, 3)), psi / 2)
               @ _rodrigues(np.broadcast_to(g.flex_axis, (t, 3)),
                            np.deg2rad(params[:, f_["flex"]])))
    out = {_L_COLLAR: collar, L_SHOULDER: r_shoulder, L_ELBOW: r_elbow, L_WRIST: r_wrist}
    if hands:
        out.update(_hand_rotations(params[:, f_["curl"]], params[:, f_["thumb"]],
                                   params[:, f_["spread"]]))
    return out


def _hand_rotations(curl: np.ndarray, thumb: np.ndarray,
                    spread: np.ndarray) -> dict[int, np.ndarray]:
    """Left-hand finger rotations ``{joint: (T, 3, 3)}`` from curls ``(T, 4)``, thumb ``(T,)``
    and spread ``(T,)``."""
    t = curl.shape[0]
    z_axis = np.broadcast_to([0.0, 0.0, -1.0], (t, 3))  # curls the fingers toward the palm
    y_axis = np.broadcast_to([0.0, -1.0, 0.0], (t, 3))  # fans them toward the thumb
    out = {}
    for i, name in enumerate(("index", "middle", "ring", "pinky")):
        for k, j in enumerate(_FINGER_JOINTS[name]):
            r = _rodrigues(z_axis, np.deg2rad(_CURL_DEG[k]) * curl[:, i])
            if k == 0:
                r = _rodrigues(y_axis, np.deg2rad(_SPREAD_DEG[name]) * spread) @ r
            out[j] = r
    axis = np.broadcast_to(_THUMB_AXIS, (t, 3))
    for k, j in enumerate(_THUMB_JOINTS):
        out[j] = _rodrigues(axis, np.deg2rad(_THUMB_DEG[k]) * thumb)
    return out


_RIGHT_OF = {13: 14, 16: 17, 18: 19, 20: 21, **{j: j + 15 for j in range(25, 40)}}


def arm_pose_matrices(left: np.ndarray, right: np.ndarray) -> dict[int, np.ndarray]:
    """Local rotations ``{joint: (T, 3, 3)}`` of both arms and hands.

    ``left`` and ``right`` are ``(T, ARM_DIM)`` parameter vectors in each arm's outward frame
    (see :class:`ArmKey`); the right arm is solved as the mirror image of a left arm.
    """
    out = arm_rotations(left)
    for j, m in arm_rotations(right).items():
        out[_RIGHT_OF[j]] = _mirror_matrices(m)
    return out


def to_rotvec(mats: np.ndarray) -> np.ndarray:
    """Rotation matrices ``(..., 3, 3)`` → axis-angle ``(..., 3)`` (float64, angle in [0, π])."""
    return matrix_to_axis_angle(np.asarray(mats, dtype=np.float64))


#: The arm at rest: hanging relaxed, elbow slightly bent, palm toward the thigh.
REST_ARM = ArmKey(wrist=(0.215, -0.03, 0.04), palm=(-1.0, 0.0, -0.15), hand="relaxed",
                  elbow=(0.3, -0.3, -1.0))
#: The arm while talking: forearm forward at waist height, palm inward and up.
READY_ARM = ArmKey(wrist=(0.17, 0.16, 0.25), palm=(-1.0, 0.25, 0.0), hand="relaxed",
                   elbow=(0.5, -1.0, -0.5), flex=8.0)


def _pose_from_arms(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Axis-angle poses ``(T, 55, 3)``: the two arms' rotations, every other joint zero."""
    poses = np.zeros((left.shape[0], NUM_JOINTS, 3))
    for j, m in arm_pose_matrices(left, right).items():
        poses[:, j] = to_rotvec(m)
    return poses


#: The relaxed rest pose ``(55, 3)`` axis-angle (SMPL-X joint order): standing straight, arms
#: hanging with slightly bent elbows, palms toward the thighs, fingers loosely curled. Every
#: synthetic sequence starts and ends here; other tools may use it for joints they do not
#: generate.
#: (Computed on first access; each access returns a fresh copy.)
REST_POSE: np.ndarray


@functools.cache
def _rest_pose() -> np.ndarray:
    return _pose_from_arms(REST_ARM.vector()[None], REST_ARM.vector()[None])[0]


def __getattr__(name: str):
    # REST_POSE is computed on first access (PEP 562), so importing this module stays light.
    if name == "REST_POSE":
        return _rest_pose().copy()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
