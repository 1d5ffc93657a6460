"""The synthetic long-tailed speaker: a co-speech gesture corpus with ground truth, in BEAT2 layout.

``synthesize_corpus(out, minutes=M, seed=S)`` writes exactly what :mod:`eggesture.data.beat2`
reads (DESIGN §4), so every tool works on it unchanged::

    OUT/train_test_split.csv        id,type (train / val / test)
    OUT/smplxflame_30/{id}.npz      poses (T,165) axis-angle of 55 SMPL-X joints at 30 fps,
                                    trans (T,3), betas (300,) zeros, expressions (T,100) zeros,
                                    mocap_frame_rate 30, model "smplx2020", gender "neutral"
    OUT/wave16k/{id}.wav            espeak-ng speech, 16 kHz mono 16-bit PCM
    OUT/textgrid/{id}.TextGrid      Praat long format, tier "words"; empty intervals are silence
    OUT/sem/{id}.txt                one line per semantic gesture (BEAT2's sem columns):
                                    name, start, end, duration, score, keyword (tab separated)
    OUT/labels/{id}.npy             int16 per 30-fps frame: 0 = no semantic gesture, c ≥ 1 =
                                    class ``corpus.json["classes"][c - 1]``; frame k (time k/30)
                                    carries c when start ≤ k/30 < end of a sem event
    OUT/corpus.json                 settings, classes with keywords, event counts per class and
                                    split, beat counts, minutes, measured Zipf exponent

What a sequence holds (ids ``{speaker}_{name}_0_{n}_{n}``, about a minute each):

* **speech**: phrases from a small grammar (a few hundred words), synthesised by espeak-ng
  (:mod:`eggesture.data.speech`) with the speaker's voice, rate, pitch and loudness varied per
  phrase, and pauses of our own between phrases, so the TextGrid is silence exactly where the
  audio is silent;
* **motion**: a relaxed rest pose (:data:`REST_POSE`), idle breathing/sway/head motion, the
  arms lifted to a speaking position while talking, **beat gestures** (a short down-stroke of the
  forearm and wrist whose lowest point falls on a stressed word's onset, amplitude following the
  speech energy: the majority of strokes) and **semantic gestures** (:data:`GESTURES`: one distinct
  arm-and-hand trajectory per class, 0.6–1.6 s, its stroke starting at its keyword's onset with
  jitter in timing and amplitude);
* **the long tail**: how often each class's keywords are spoken follows a Zipf law,
  ``count(rank r) ∝ r^−zipf`` (:func:`zipf_counts`), allotted exactly per split, so the head class
  is ~``N^zipf`` times as frequent as the rarest.

Split rule: ``n = max(3, K, round(minutes))`` sequences, dealt to speakers round robin. When every
speaker has at least 10 sequences, each speaker's last ``max(1, round(n_k / 10))`` sequences are
test and the ``max(1, round(n_k / 10))`` before them val; otherwise the same rule applies to the
whole list. Every class gets at least one event in the training split (this only matters for
corpora of a few minutes, whose training sequences then run longer than planned).

Determinism: everything random comes from ``numpy.random.default_rng`` seeded by the arguments,
files are written byte-for-byte reproducibly (fixed zip timestamps, PCM wav, ordered json), and
each sequence is built in a fresh worker process because espeak-ng's output depends on what the
same process synthesised before.
"""

from __future__ import annotations

import functools
import io
import json
import math
import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError
from .wav import AUDIO_SR

FPS = 30
NUM_JOINTS = 55

# --- rotations (numpy, vectorised over leading axes) ------------------------------------------


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12)


def _rodrigues(axis: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Rotation matrices ``(..., 3, 3)`` about ``axis (..., 3)`` (normalised here) by
    ``angle (...)`` radians."""
    axis = _unit(np.asarray(axis, dtype=np.float64))
    angle = np.asarray(angle, dtype=np.float64)
    x, y, z = axis[..., 0], axis[..., 1], axis[..., 2]
    c, s = np.cos(angle), np.sin(angle)
    k = 1.0 - c
    m = np.stack([c + x * x * k, x * y * k - z * s, x * z * k + y * s,
                  y * x * k + z * s, c + y * y * k, y * z * k - x * s,
                  z * x * k - y * s, z * y * k + x * s, c + z * z * k], axis=-1)
    return m.reshape(*m.shape[:-1], 3, 3)


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
_L_COLLAR, _L_SHOULDER, _L_ELBOW, _L_WRIST = 13, 16, 18, 20
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
def _geom() -> _Geometry:
    from .motion import SMPLX_PARENTS
    from .skeleton import SMPLX_REST_OFFSETS

    off = np.asarray(SMPLX_REST_OFFSETS, dtype=np.float64)
    pos = np.zeros_like(off)
    for j, parent in enumerate(SMPLX_PARENTS):
        if parent >= 0:
            pos[j] = pos[parent] + off[j]
    o1, o2 = _unit(off[_L_ELBOW]), _unit(off[_L_WRIST])
    upper, fore = float(np.linalg.norm(off[_L_ELBOW])), float(np.linalg.norm(off[_L_WRIST]))
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
    reach = _geom().max_reach
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
    g = _geom()
    target = wrist - g.rest_pos[_SPINE3]  # spine3 frame (its rest rotation is the identity)
    collar = _rodrigues(np.broadcast_to([0.0, 0.0, 1.0], (t, 3)), np.deg2rad(shrug))
    shoulder = g.off[_L_COLLAR] + collar @ g.off[_L_SHOULDER]  # (T, 3)
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


def _arm_rotations(params: np.ndarray, hands: bool = True) -> dict[int, np.ndarray]:
    """Local rotation matrices of a *left* arm and hand from parameters ``(T, ARM_DIM)``.

    The arm reaches as in :func:`_arm_swing`; the forearm twist (a parameter, interpolated as
    an angle so the palm never flips) is shared by the elbow and the wrist. Returns
    ``{joint: (T, 3, 3)}`` for the collar, shoulder, elbow, wrist and (if ``hands``) the 15
    finger joints.
    """
    t = params.shape[0]
    g = _geom()
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
    out = {_L_COLLAR: collar, _L_SHOULDER: r_shoulder, _L_ELBOW: r_elbow, _L_WRIST: r_wrist}
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


_LEFT_ARM_JOINTS = (13, 16, 18, 20, *range(25, 40))
_RIGHT_OF = {13: 14, 16: 17, 18: 19, 20: 21, **{j: j + 15 for j in range(25, 40)}}


def arm_pose_matrices(left: np.ndarray, right: np.ndarray) -> dict[int, np.ndarray]:
    """Local rotations ``{joint: (T, 3, 3)}`` of both arms and hands.

    ``left`` and ``right`` are ``(T, ARM_DIM)`` parameter vectors in each arm's outward frame
    (see :class:`ArmKey`); the right arm is solved as the mirror image of a left arm.
    """
    out = _arm_rotations(left)
    for j, m in _arm_rotations(right).items():
        out[_RIGHT_OF[j]] = _mirror_matrices(m)
    return out


def _to_rotvec(mats: np.ndarray) -> np.ndarray:
    """Rotation matrices ``(..., 3, 3)`` → axis-angle ``(..., 3)``."""
    from scipy.spatial.transform import Rotation

    shape = mats.shape[:-2]
    return Rotation.from_matrix(mats.reshape(-1, 3, 3)).as_rotvec().reshape(*shape, 3)


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
        poses[:, j] = _to_rotvec(m)
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


# --- semantic gesture classes -----------------------------------------------------------------


@dataclass(frozen=True)
class GestureClass:
    """A semantic gesture class: its keywords and its arm-and-hand trajectory.

    ``main`` are the key poses of the speaker's dominant arm, ``other`` those of the other arm
    (empty: it stays where it is). The stroke starts at the keyword's onset, runs through the
    keys and holds the last one; before it the arms travel from wherever they are to the first
    key, after it they return. Keys are in each arm's outward frame, so a left-handed speaker
    performs the mirror image. ``carriers`` are phrases with a ``{}`` for the keyword.
    """

    name: str
    keywords: tuple[str, ...]
    carriers: tuple[str, ...]
    duration: float
    main: tuple[ArmKey, ...]
    other: tuple[ArmKey, ...] = ()
    description: str = ""


def _sym(*keys: ArmKey) -> dict:
    return {"main": keys, "other": keys}


_PALM_IN, _PALM_UP, _PALM_DOWN = (-1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, -1.0, 0.0)
_PALM_FWD, _PALM_BODY = (0.0, 0.0, 1.0), (0.0, 0.0, -1.0)
_ELBOW_OUT = (1.0, -0.6, -0.2)

_SELF = ArmKey((0.02, 0.30, 0.12), _PALM_BODY, "flat", _ELBOW_OUT, flex=5.0)
_BIG = ArmKey((0.56, 0.40, 0.22), (-1.0, 0.0, 0.3), "open", (0.2, -1.0, -0.6), flex=-10.0)
_ONE = ArmKey((0.20, 0.56, 0.26), _PALM_FWD, "point", (0.3, -1.0, 0.0))
_YOU = ArmKey((0.14, 0.36, 0.52), (-0.5, -1.0, 0.0), "point", (0.5, -1.0, -0.2))
_STOP = ArmKey((0.20, 0.43, 0.46), _PALM_FWD, "flat", (0.4, -1.0, -0.2), flex=-55.0)
_THINK = ArmKey((0.15, 0.50, 0.16), (-1.0, 0.0, -0.3), "point", (1.0, -0.5, 0.1), flex=-15.0)
_SMALL = ArmKey((0.12, 0.30, 0.36), (-1.0, -0.3, 0.0), "pinch", (0.5, -1.0, -0.3))
_NO = ArmKey((0.06, 0.17, 0.36), _PALM_DOWN, "flat", (0.5, -1.0, -0.3))
_YES = ArmKey((0.20, 0.26, 0.40), _PALM_IN, "thumb_up", (0.3, -1.0, -0.2))
_TWO = ArmKey((0.31, 0.58, 0.22), (0.3, 0.0, 1.0), "v", (0.6, -1.0, 0.0))
_ALL = ArmKey((0.12, 0.22, 0.45), _PALM_UP, "open", (0.4, -1.0, -0.3))
_UP = ArmKey((0.22, 0.12, 0.32), _PALM_UP, "open", (0.4, -1.0, -0.3), flex=-10.0)
_DOWN = ArmKey((0.22, 0.45, 0.35), _PALM_DOWN, "flat", (0.6, -1.0, -0.2))
_GIVE = ArmKey((0.15, 0.20, 0.30), (-0.2, 1.0, 0.0), "cupped", (0.3, -1.0, -0.4))
_HELLO = ArmKey((0.33, 0.62, 0.15), _PALM_FWD, "open", (0.6, -1.0, 0.0), flex=-10.0)
_COME = ArmKey((0.20, 0.28, 0.45), _PALM_UP, "open", (0.3, -1.0, -0.3))
_FAR = ArmKey((0.35, 0.45, 0.35), _PALM_DOWN, "point", (0.3, -1.0, -0.3))
_HEART_HI = ArmKey((-0.06, 0.37, 0.11), _PALM_BODY, "flat", _ELBOW_OUT)
_HEART_LO = ArmKey((-0.06, 0.29, 0.13), _PALM_BODY, "flat", _ELBOW_OUT)
_MONEY = ArmKey((0.16, 0.30, 0.38), _PALM_UP, "rub", (0.4, -1.0, -0.3))
_WHY = ArmKey((0.30, 0.18, 0.18), (0.3, 1.0, 0.0), "open", (0.3, -1.0, -0.4), shrug=8.0)
_THREE = ArmKey((0.14, 0.45, 0.35), _PALM_FWD, "three", (0.4, -1.0, -0.1))
_WATCH = ArmKey((-0.02, 0.22, 0.33), _PALM_DOWN, "relaxed", _ELBOW_OUT)
_TAP = ArmKey((0.17, 0.31, 0.36), _PALM_DOWN, "point", (0.5, -1.0, -0.2), flex=30.0)
_STRONG = ArmKey((0.40, 0.62, 0.06), (-1.0, 0.0, 0.3), "fist", (1.0, -0.5, -0.2))
_FAST = ArmKey((0.18, 0.32, 0.18), _PALM_IN, "flat", (0.4, -1.0, -0.4))
_CALM = ArmKey((0.25, 0.28, 0.35), _PALM_DOWN, "open", (0.5, -1.0, -0.3))
_LISTEN = ArmKey((0.17, 0.50, 0.02), _PALM_FWD, "cupped", (1.0, -0.5, 0.0), flex=-10.0)
_LOOK = ArmKey((0.07, 0.48, 0.25), _PALM_DOWN, "v", (0.5, -1.0, 0.0))

#: The gesture library, in Zipf rank order (the first ``classes`` are used; rank 1 is the most
#: frequent). Keywords never occur in any other phrase of the corpus.
GESTURES: tuple[GestureClass, ...] = (
    GestureClass(
        "self", ("myself", "personally"),
        ("i {} wanted to try it", "that is what i {} believe", "for me {} it was simple"),
        1.1, (_SELF, _SELF.moved(dz=0.04), _SELF),
        description="flat dominant hand patted on the chest"),
    GestureClass(
        "big", ("big", "huge", "enormous"),
        ("it was a {} change", "we saw a {} crowd there", "they built a {} house",
         "that was a {} problem"),
        1.2, **_sym(_BIG.moved(-0.16, -0.05, 0.08), _BIG),
        description="both arms spread wide, open hands facing each other"),
    GestureClass(
        "one", ("one", "single", "first"),
        ("there is only {} reason", "she made {} simple rule", "just {} more step"),
        0.9, (_ONE, _ONE.moved(dy=0.04)),
        description="dominant forearm up, index finger raised"),
    GestureClass(
        "you", ("you", "yourself"),
        ("this is for {}", "i made it for {}", "we waited for {}"),
        0.9, (_YOU.moved(dz=-0.12), _YOU),
        description="dominant arm reaching forward, index pointing at the listener"),
    GestureClass(
        "stop", ("stop", "wait", "halt"),
        ("please {} right there", "we had to {} again", "they told us to {}"),
        1.0, (_STOP.moved(dz=-0.14), _STOP),
        description="dominant palm pushed out toward the listener, fingers up"),
    GestureClass(
        "think", ("think", "imagine", "wonder"),
        ("i often {} about it", "we should {} about this", "people {} about the future"),
        1.3, (_THINK, _THINK.moved(-0.015, -0.02, 0.01), _THINK),
        description="index finger tapped at the temple"),
    GestureClass(
        "small", ("small", "tiny", "little"),
        ("it was a {} thing", "we had a {} garden", "she found a {} mistake"),
        1.1, (_SMALL, _SMALL.moved(hand="pinch_closed"), _SMALL),
        description="thumb and index pinching in front of the chest"),
    GestureClass(
        "no", ("no", "never", "nothing"),
        ("there was {} answer", "we said {} to that", "they had {} choice"),
        1.1, **_sym(_NO, _NO.moved(0.36, -0.02, -0.08)),
        description="both flat hands sweeping outward, palms down"),
    GestureClass(
        "yes", ("yes", "agree", "exactly"),
        ("we all said {}", "i have to {} with that", "she answered {} at once"),
        0.9, (_YES, _YES.moved(dy=-0.05), _YES),
        description="dominant thumb up, pumped once"),
    GestureClass(
        "two", ("two", "twice", "second"),
        ("we waited {} weeks", "she called {} days later", "he tried it {} more"),
        1.0, (_TWO, _TWO.moved(dy=0.04)),
        description="raised V sign, palm out, beside the head"),
    GestureClass(
        "everyone", ("everyone", "everybody", "together"),
        ("{} came to the party", "we sang it {}", "{} was very happy"),
        1.4, **_sym(_ALL, _ALL.moved(0.18, 0.02, -0.05), _ALL.moved(0.36, 0.0, -0.23)),
        description="both open palms up, sweeping a wide arc outward"),
    GestureClass(
        "up", ("up", "rise", "higher"),
        ("prices went {} again", "the sun came {} early", "the water started to {}"),
        1.1, (_UP, _UP.moved(0.04, 0.50, -0.02)),
        description="dominant palm up, lifted from the waist to above the shoulder"),
    GestureClass(
        "down", ("down", "fall", "lower"),
        ("the numbers went {}", "we walked {} the street", "the leaves began to {}"),
        1.1, (_DOWN, _DOWN.moved(0.03, -0.31, -0.07, flex=-25.0)),
        description="dominant palm down, pushed from chest height to the hip"),
    GestureClass(
        "give", ("give", "offer", "share"),
        ("we can {} them the book", "i want to {} something", "they {} help to people"),
        1.2, **_sym(_GIVE, _GIVE.moved(0.03, 0.05, 0.20)),
        description="both cupped palms up, offered forward"),
    GestureClass(
        "hello", ("hello", "welcome", "greetings"),
        ("{} to our show", "she said {} to the class", "we heard a loud {}"),
        1.5, (_HELLO, _HELLO.moved(-0.08), _HELLO.moved(0.07), _HELLO.moved(-0.07), _HELLO),
        description="raised open hand waving side to side"),
    GestureClass(
        "come", ("come", "join", "bring"),
        ("please {} with us", "they will {} tomorrow", "we asked him to {} along"),
        1.4, (_COME, _COME.moved(hand="curled", flex=25.0), _COME),
        description="dominant palm up, fingers beckoning twice"),
    GestureClass(
        "far", ("far", "away", "distant"),
        ("the village is {} from here", "they moved {} last year", "it looked very {}"),
        1.2, (_FAR, _FAR.moved(0.15, 0.17, -0.05)),
        description="dominant arm stretched high and outward, pointing into the distance"),
    GestureClass(
        "heart", ("heart", "love", "feel"),
        ("we {} it very much", "with all my {}", "they {} the music"),
        1.4, (_HEART_HI,), (_HEART_LO,),
        description="both flat hands crossed on the chest"),
    GestureClass(
        "money", ("money", "price", "cost"),
        ("the {} was too high", "we talked about the {}", "nobody asked about the {}"),
        1.3, (_MONEY, _MONEY.moved(hand="rub_in"), _MONEY, _MONEY.moved(hand="rub_in")),
        description="dominant palm up, thumb rubbing the fingertips"),
    GestureClass(
        "world", ("world", "everywhere", "planet"),
        ("people all over the {}", "we travelled the {}", "the {} keeps changing"),
        1.5, (_WORLD := ArmKey((0.22, 0.47, 0.38), (-1.0, 0.0, 0.3), "open", (0.5, -1.0, -0.2)),
              _WORLD.moved(0.12, -0.12), _WORLD.moved(0.0, -0.24), _WORLD.moved(-0.12, -0.12),
              _WORLD),
        description="open dominant hand drawing a circle in front of the body"),
    GestureClass(
        "why", ("why", "question", "puzzle"),
        ("that is the real {}", "nobody knew {}", "it remains a {}"),
        1.2, **_sym(_WHY, _WHY.moved(0.02, 0.03, shrug=14.0)),
        description="shrug: both palms up at the sides, shoulders raised"),
    GestureClass(
        "three", ("three", "third", "triple"),
        ("we stayed {} weeks", "she was the {} person", "it took {} tries"),
        1.0, (_THREE, _THREE.moved(dy=0.03)),
        description="three fingers raised in front of the chest, palm out"),
    GestureClass(
        "time", ("time", "late", "hour"),
        ("we ran out of {}", "it was already {}", "the {} went by"),
        1.4, (_TAP, _TAP.moved(dy=0.03), _TAP, _TAP.moved(dy=0.03), _TAP), (_WATCH,),
        description="dominant index tapping the other wrist"),
    GestureClass(
        "strong", ("strong", "power", "force"),
        ("she is very {}", "they felt the {} of it", "the wind was {}"),
        1.4, (_STRONG.moved(-0.04, -0.10, 0.03), _STRONG),
        description="fist raised beside the head, upper arm out (flexed biceps)"),
    GestureClass(
        "fast", ("fast", "quick", "rush"),
        ("the car was very {}", "it all happened so {}", "we made a {} decision"),
        0.7, (_FAST, _FAST.moved(-0.03, 0.03, 0.37)),
        description="flat dominant hand shooting forward"),
    GestureClass(
        "calm", ("calm", "slow", "relax"),
        ("please stay {}", "the lake was {}", "we tried to {}"),
        1.5, **_sym(_CALM, _CALM.moved(0.02, -0.14, -0.07, flex=-20.0)),
        description="both palms down, pressing slowly toward the floor"),
    GestureClass(
        "listen", ("listen", "hear", "sound"),
        ("we could {} the birds", "they did not {}", "the {} was beautiful"),
        1.3, (_LISTEN, _LISTEN.moved(dz=0.02)),
        description="cupped hand held behind the ear"),
    GestureClass(
        "look", ("look", "see", "watch"),
        ("just {} at this", "we went to {} the game", "i want to {} it again"),
        1.1, (_LOOK, _LOOK.moved(0.08, -0.03, 0.20)),
        description="V fingers moving from the eyes forward"),
)

#: Most classes one corpus can have.
MAX_CLASSES = len(GESTURES)


# --- text -------------------------------------------------------------------------------------

_SUBJECTS = ("we", "they", "my friends", "the team", "our teacher", "the students",
             "some people", "my brother", "my sister", "the children", "the doctor",
             "our neighbours", "the old man", "the young woman", "my parents", "the company",
             "the workers", "the farmer", "the artist", "the driver", "she", "he", "i")
_VERBS = ("bought", "painted", "cleaned", "visited", "found", "opened", "carried", "cooked",
          "repaired", "planted", "sold", "wrote", "read", "moved", "borrowed", "washed",
          "built", "tested", "ordered", "checked", "followed", "needed", "wanted", "liked",
          "enjoyed", "kept", "started", "finished", "picked", "packed", "counted",
          "collected", "described", "explained", "noticed", "remembered", "discussed",
          "covered", "signed", "printed", "painted", "fixed", "carried", "closed")
_DETS = ("the", "a", "our", "their", "this", "that", "some", "every")
_ADJS = ("new", "old", "red", "blue", "green", "wooden", "broken", "heavy", "simple",
         "strange", "quiet", "bright", "dark", "warm", "cold", "clean", "empty", "useful",
         "famous", "local", "early", "fresh", "soft", "round", "narrow", "modern", "ancient",
         "busy", "nice", "yellow")
_NOUNS = ("car", "house", "garden", "window", "kitchen", "letter", "book", "table", "chair",
          "bicycle", "boat", "bridge", "road", "river", "market", "school", "office",
          "station", "machine", "computer", "phone", "camera", "picture", "story", "song",
          "plan", "report", "project", "ticket", "map", "box", "bag", "door", "wall", "roof",
          "tree", "flower", "apple", "bread", "coffee", "dinner", "lunch", "breakfast", "shirt",
          "jacket", "shoes", "hat", "key", "lamp", "clock", "piano", "guitar", "paper",
          "bottle", "cup", "plate", "fence", "train", "bus", "airport", "museum", "library",
          "hospital", "restaurant", "hotel", "city", "island", "mountain", "forest", "beach")
_PLACES = ("in the morning", "last week", "after lunch", "on monday", "near the river",
           "at the station", "in the city", "before dinner", "last summer", "in the evening",
           "at school", "on the weekend", "after work", "in the kitchen", "yesterday", "today",
           "again", "outside", "at home", "on friday", "in april", "for a while")
_OPENERS = ("well", "so", "and then", "actually", "honestly", "of course", "in fact", "anyway",
            "but", "and", "then", "maybe", "luckily", "sadly", "suddenly", "usually")
_STATES = ("was", "seemed", "looked", "became")


def _pick(rng: np.random.Generator, options: tuple[str, ...]) -> str:
    return options[int(rng.integers(len(options)))]


def _filler_phrase(rng: np.random.Generator) -> list[str]:
    """A phrase without any keyword, 3–10 words."""
    adj = [_pick(rng, _ADJS)] if rng.random() < 0.5 else []
    obj = [_pick(rng, _DETS), *adj, _pick(rng, _NOUNS)]
    kind = rng.random()
    if kind < 0.55:
        words = [_pick(rng, _SUBJECTS), _pick(rng, _VERBS), *obj]
        if rng.random() < 0.5:
            words.append(_pick(rng, _PLACES))
    elif kind < 0.8:
        words = ["the", _pick(rng, _NOUNS), _pick(rng, _STATES), _pick(rng, _ADJS)]
        if rng.random() < 0.5:
            words.append(_pick(rng, _PLACES))
    else:
        words = [_pick(rng, _SUBJECTS), "said", "that", _pick(rng, _SUBJECTS), _pick(rng, _VERBS),
                 *obj]
    if rng.random() < 0.3:
        words.insert(0, _pick(rng, _OPENERS))
    return " ".join(words).split()


def _carrier_phrase(rng: np.random.Generator, cls: GestureClass) -> tuple[list[str], int, str]:
    """A phrase carrying one of ``cls``'s keywords: tokens, the keyword's index, the keyword."""
    keyword = _pick(rng, cls.keywords)
    template = _pick(rng, cls.carriers)
    head, _, tail = template.partition("{}")
    prefix = _pick(rng, _OPENERS).split() if rng.random() < 0.3 else []
    before = prefix + head.split()
    return before + [keyword] + tail.split(), len(before), keyword


def vocabulary(classes: int = MAX_CLASSES) -> set[str]:
    """Every word the generator can speak with the first ``classes`` gesture classes."""
    words = {w for group in (_SUBJECTS, _VERBS, _DETS, _ADJS, _NOUNS, _PLACES, _OPENERS, _STATES)
             for phrase in group for w in phrase.split()} | {"said", "that"}
    for cls in GESTURES[:classes]:
        words.update(cls.keywords)
        for c in cls.carriers:
            words.update(c.replace("{}", " ").split())
    return words


# --- the long tail ----------------------------------------------------------------------------


def zipf_counts(total: int, classes: int, exponent: float) -> np.ndarray:
    """Event counts ``(classes,)`` summing to ``total`` with ``count[r − 1] ∝ r^−exponent``.

    Rounded by largest remainder, so the counts are the Zipf law up to ±1.
    """
    if total < 0 or classes < 1:
        raise ValueError("need total ≥ 0 and classes ≥ 1")
    weights = np.arange(1, classes + 1, dtype=np.float64) ** -float(exponent)
    quota = total * weights / weights.sum()
    counts = np.floor(quota).astype(np.int64)
    order = np.argsort(-(quota - counts), kind="stable")
    counts[order[: total - int(counts.sum())]] += 1
    return counts


def keyword_sequence(n: int, *, classes: int = 24, zipf: float = 1.1, seed: int = 0) -> np.ndarray:
    """The order in which ``n`` keywords are spoken: class indices ``(n,)`` (0 = rank 1).

    Each class occurs exactly :func:`zipf_counts` times, in a random order from ``seed`` — the
    same allotment the corpus generator makes within each split.
    """
    rng = np.random.default_rng(seed)
    return rng.permutation(np.repeat(np.arange(classes), zipf_counts(n, classes, zipf)))


def fit_zipf(counts: np.ndarray) -> float:
    """Zipf exponent of per-rank counts: minus the least-squares slope of log count on log rank
    (classes with no events are left out); NaN with fewer than two such classes."""
    counts = np.asarray(counts, dtype=np.float64)
    ranks = np.arange(1, counts.size + 1)
    keep = counts > 0
    if keep.sum() < 2:
        return float("nan")
    slope = np.polyfit(np.log(ranks[keep]), np.log(counts[keep]), 1)[0]
    return float(-slope)


# --- speakers and the plan --------------------------------------------------------------------

#: Semantic gestures planned per minute of speech (the long tail needs many events: with 24
#: classes and exponent 1.1 the rarest class gets 0.9 % of them).
SEMANTIC_PER_MINUTE = 26.0
_NAMES = ("ava", "ben", "cleo", "dan", "eve", "finn", "gia", "hal", "ivy", "jon")
_VOICES = ("en-us+m3", "en-us+f3", "en-gb-x-rp+m1", "en+f4", "en-us+m7", "en-gb-scotland+f2",
           "en-us+m5", "en+f1", "en-us-nyc+m2", "en-029+f5")
MAX_SPEAKERS = len(_NAMES)


@dataclass(frozen=True)
class Speaker:
    """One synthetic speaker's voice and gesture style."""

    id: int
    name: str
    voice: str
    rate: int  #: espeak words per minute
    pitch: int  #: espeak pitch 0–100
    range: int  #: espeak pitch range 0–100
    handed: str  #: "right" or "left": the arm that performs one-handed gestures
    amplitude: float  #: scales beat strokes and (mildly) semantic gestures
    tempo: float  #: scales semantic gesture durations
    beat_prob: float  #: chance that a stressed word gets a beat
    both_hands: float  #: chance that a beat uses both hands
    ready: tuple[float, float, float]  #: offset of the speaking position of the wrists (m)

    def as_json(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}


def _speakers(k: int, seed: int) -> list[Speaker]:
    rng = np.random.default_rng([seed, 1])
    out = []
    for i in range(k):
        rate = int(rng.integers(150, 186))
        out.append(Speaker(
            id=i + 1, name=_NAMES[i], voice=_VOICES[i], rate=rate,
            pitch=int(rng.integers(35, 66)), range=int(rng.integers(40, 76)),
            handed="right" if i == 0 or rng.random() < 0.7 else "left",
            amplitude=round(float(rng.uniform(0.85, 1.15)), 3),
            tempo=round(float(np.sqrt(168.0 / rate) * rng.uniform(0.94, 1.06)), 3),
            beat_prob=round(float(rng.uniform(0.75, 0.92)), 3),
            both_hands=round(float(rng.uniform(0.15, 0.35)), 3),
            ready=tuple(round(float(v), 3) for v in rng.uniform(-0.025, 0.025, 3)),
        ))
    return out


@dataclass(frozen=True)
class SequencePlan:
    """What one sequence must hold, decided before any synthesis."""

    id: str
    index: int
    split: str
    speaker: Speaker
    seconds: float  #: target duration
    slots: tuple[int, ...]  #: class index (rank − 1) of each keyword, in speaking order
    seed: int
    classes: int


#: Share of the sequences held out (val + test) by default.
HELD_OUT = 0.2


def _split_sizes(n: int, held_out: float = HELD_OUT) -> tuple[int, int]:
    """(val, test) sizes for ``n ≥ 3`` sequences: ``max(1, round(n · held_out / 2))`` each,
    leaving at least one sequence for training."""
    held = min((n - 1) // 2, max(1, round(n * held_out / 2)))
    return held, held


def _assign_splits(speaker_of: list[int], k: int, held_out: float = HELD_OUT) -> list[str]:
    n = len(speaker_of)
    groups = [[i for i in range(n) if speaker_of[i] == s] for s in range(k)]
    if min(len(g) for g in groups) < 10:  # too few to hold some out per speaker
        groups = [list(range(n))]
    split = ["train"] * n
    for g in groups:
        n_val, n_test = _split_sizes(len(g), held_out)
        for i in g[len(g) - n_test:]:
            split[i] = "test"
        for i in g[len(g) - n_test - n_val: len(g) - n_test]:
            split[i] = "val"
    return split


def _largest_remainder(total: int, weights: np.ndarray) -> np.ndarray:
    quota = total * weights / weights.sum()
    out = np.floor(quota).astype(np.int64)
    order = np.argsort(-(quota - out), kind="stable")
    out[order[: total - int(out.sum())]] += 1
    return out


def plan_corpus(*, minutes: float, seed: int, classes: int = 24, zipf: float = 1.1,
                speakers: int = 1, held_out: float = HELD_OUT,
                min_train_events: int = 1) -> list[SequencePlan]:
    """The sequences of a corpus: ids, splits, speakers, durations and keyword slots.

    ``held_out`` is the share of sequences in val + test. Keywords are allotted per split with
    :func:`zipf_counts`, every class at least ``min_train_events`` times in the training split
    (the extra keywords lengthen the training sequences), and shuffled over that split's
    sequences in proportion to their length.
    """
    _check_settings(minutes=minutes, seed=seed, classes=classes, zipf=zipf, speakers=speakers,
                    held_out=held_out, min_train_events=min_train_events)
    n = max(3, speakers, round(minutes))
    seconds = minutes * 60.0 / n
    who = [i % speakers for i in range(n)]
    splits = _assign_splits(who, speakers, held_out)
    people = _speakers(speakers, seed)
    rng = np.random.default_rng([seed, 0])
    planned = np.array([round(SEMANTIC_PER_MINUTE * seconds / 60.0)] * n, dtype=np.int64)
    slots: list[tuple[int, ...]] = [()] * n
    for split in ("train", "val", "test"):
        idx = [i for i in range(n) if splits[i] == split]
        counts = zipf_counts(int(planned[idx].sum()), classes, zipf)
        if split == "train":
            counts = np.maximum(counts, min_train_events)
        order = rng.permutation(np.repeat(np.arange(classes), counts))
        sizes = _largest_remainder(len(order), planned[idx].astype(np.float64) + 1e-9)
        start = 0
        for i, size in zip(idx, sizes, strict=True):
            slots[i] = tuple(int(c) for c in order[start:start + size])
            start += size
    count_per_speaker = [0] * speakers
    plans = []
    for i in range(n):
        sp = people[who[i]]
        count_per_speaker[who[i]] += 1
        m = count_per_speaker[who[i]]
        plans.append(SequencePlan(
            id=f"{sp.id}_{sp.name}_0_{m}_{m}", index=i, split=splits[i], speaker=sp,
            seconds=seconds, slots=slots[i], seed=seed, classes=classes))
    return plans


def _check_settings(*, minutes: float, seed: int, classes: int, zipf: float, speakers: int,
                    held_out: float = HELD_OUT, min_train_events: int = 1) -> None:
    def bad(msg: str) -> None:
        raise DataError(None, msg)

    if not (math.isfinite(held_out) and 0.0 < held_out < 1.0):
        bad(f"--held-out must be a share between 0 and 1, got {held_out}")
    if not isinstance(min_train_events, (int, np.integer)) or not 1 <= min_train_events <= 100:
        bad(f"--min-train-events must be an integer in 1–100, got {min_train_events}")

    if not (isinstance(minutes, (int, float)) and math.isfinite(minutes) and minutes > 0):
        bad(f"--minutes must be a positive number, got {minutes}")
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        bad(f"--seed must be a non-negative integer, got {seed}")
    if not 1 <= classes <= MAX_CLASSES:
        bad(f"--classes must be 1–{MAX_CLASSES} (the size of the gesture library), "
            f"got {classes}")
    if not (math.isfinite(zipf) and 0.0 <= zipf <= 4.0):
        bad(f"--zipf must be between 0 and 4, got {zipf}")
    if not 1 <= speakers <= MAX_SPEAKERS:
        bad(f"--speakers must be 1–{MAX_SPEAKERS}, got {speakers}")
    n = max(3, speakers, round(minutes))
    if minutes * 60.0 / n < 10.0:
        need = 10.0 * max(3, speakers) / 60.0
        bad(f"--minutes {minutes:g} is too short: {n} sequences need at least {need:g} minutes "
            "(10 s each)")


# --- one sequence: speech, events, motion ---------------------------------------------------

#: Root translation at rest (metres), as BEAT2 stores it for the real SMPL-X body (whose pelvis
#: joint sits ~0.35 m below the model origin): the feet are on the floor.
REST_TRANS = (0.0, 1.29, 0.0)
#: Phases of a semantic gesture as fractions of its duration: preparation (travel to the first
#: key; it ends at the keyword's onset ± jitter), stroke path through the keys, hold,
#: retraction. Preparation and retraction get longer for long journeys (and the gesture up to
#: 1.6 s), so that no arm joint turns faster than ``PEAK_DEG_PER_FRAME`` at 30 fps — about the
#: fastest a joint moves in the real BEAT2 sample.
PHASES = (0.28, 0.32, 0.15, 0.25)
PEAK_DEG_PER_FRAME = {_L_SHOULDER: 9.0, _L_ELBOW: 14.0, _L_WRIST: 14.0}
MIN_GESTURE_S, MAX_GESTURE_S = 0.6, 1.6


@functools.cache
def _keys(cls: int, arm: str) -> np.ndarray:
    """Parameter vectors ``(m, ARM_DIM)`` of a class's key poses (``arm``: "main"/"other")."""
    keys = getattr(GESTURES[cls], arm)
    return np.stack([k.vector() for k in keys]) if keys else np.zeros((0, ARM_DIM))


@functools.cache
def _arm_vector(key: ArmKey) -> np.ndarray:
    return key.vector()


def _travel_times(poses: np.ndarray, pairs: list[tuple[int, int]]) -> list[float]:
    """Seconds a smoothstep move between arm parameters ``poses[a]`` and ``poses[b]`` needs,
    for each pair ``(a, b)``, to keep every arm joint under its peak speed (smoothstep peaks at
    1.875× its mean speed). ``poses (n, ARM_DIM)``."""
    rot = _arm_rotations(poses, hands=False)
    frames = np.zeros(len(pairs))
    for j, peak in PEAK_DEG_PER_FRAME.items():
        a, b = (np.array(i) for i in zip(*pairs, strict=True))
        rel = np.swapaxes(rot[j][a], -1, -2) @ rot[j][b]  # (pairs, 3, 3)
        cos = np.clip((np.trace(rel, axis1=1, axis2=2) - 1.0) / 2.0, -1.0, 1.0)
        frames = np.maximum(frames, 1.875 * np.degrees(np.arccos(cos)) / peak)
    return (frames / FPS).tolist()


@functools.cache
def _needs(cls: int, ready: tuple[float, float, float]) -> tuple[float, float, float]:
    """Least (preparation, stroke path, retraction) seconds of class ``cls`` for a speaker
    whose speaking position is offset by ``ready``: the arms may start from and return to the
    speaking position or the rest pose."""
    keys = [k for k in (_keys(cls, "main"), _keys(cls, "other")) if len(k)]
    poses = np.concatenate([_ready_vector(ready)[None], _arm_vector(REST_ARM)[None], *keys])
    prep, path, ret = [], [], []
    first = 2
    for k in keys:
        last = first + len(k) - 1
        prep += [(0, first), (1, first)]
        ret += [(last, 0), (last, 1)]
        path += [(i, i + 1) for i in range(first, last)]
        first = last + 1
    times = _travel_times(poses, prep + ret + path)
    n_prep, n_ret = len(prep), len(ret)
    steps = times[n_prep + n_ret:]
    path_need, start = 0.0, 0
    for k in keys:  # the arms move at once: the slower arm sets the pace
        path_need = max(path_need, sum(steps[start:start + len(k) - 1]))
        start += len(k) - 1
    return max(times[:n_prep]), path_need, max(times[n_prep:n_prep + n_ret])


def _gesture_timing(cls: int, dur: float, ready: tuple[float, float, float]):
    """``(duration, preparation, stroke path, retraction)`` in seconds of a gesture of nominal
    length ``dur``: each phase gets its share of ``dur`` (:data:`PHASES`) or the time it needs
    to stay under the joints' peak speeds; if that makes the gesture longer than
    ``MAX_GESTURE_S``, the hold goes first, then every phase shrinks alike."""
    need = _needs(cls, ready)
    prep, path, hold, ret = (max(f * dur, n) for f, n in
                             zip(PHASES, (need[0], need[1], 0.0, need[2]), strict=True))
    total = prep + path + hold + ret
    if total > MAX_GESTURE_S:
        hold = max(0.05 * MAX_GESTURE_S, hold - (total - MAX_GESTURE_S))
        total = prep + path + hold + ret
        if total > MAX_GESTURE_S:
            k = (MAX_GESTURE_S - hold) / (prep + path + ret)
            prep, path, ret = prep * k, path * k, ret * k
            total = MAX_GESTURE_S
    return float(total), float(prep), float(path), float(ret)


@dataclass(frozen=True)
class SemanticEvent:
    """One performed semantic gesture (times in seconds from the start of the sequence)."""

    cls: int  #: class index (rank − 1)
    keyword: str
    onset: float  #: the keyword's onset
    start: float  #: gesture start (preparation begins)
    end: float  #: gesture end (retraction done)
    amplitude: float
    prep: float  #: preparation time (s): the stroke begins at start + prep
    path: float  #: stroke time (s) through the key poses; a hold follows
    ret: float  #: retraction time (s)

    @property
    def name(self) -> str:
        return GESTURES[self.cls].name


@dataclass(frozen=True)
class Beat:
    """One beat stroke: lowest point at ``time`` (a stressed word's onset)."""

    time: float
    amplitude: float
    hands: str  #: "main", "other" or "both"


@dataclass
class SequenceData:
    """Everything one sequence writes."""

    plan: SequencePlan
    audio: np.ndarray  # (N,) float32, 16 kHz
    words: list  # list[Word]
    events: list[SemanticEvent]
    beats: list[Beat]
    poses: np.ndarray  # (T, 55, 3) axis-angle
    trans: np.ndarray  # (T, 3)
    labels: np.ndarray  # (T,) int16, 0 = none, c = class index + 1

    @property
    def n_frames(self) -> int:
        return int(self.poses.shape[0])


def _smoothstep(u: np.ndarray) -> np.ndarray:
    """Quintic ease ``(0 → 1)`` with zero velocity and acceleration at both ends."""
    u = np.clip(u, 0.0, 1.0)
    return u * u * u * (10.0 - 15.0 * u + 6.0 * u * u)


def _bump(tt: np.ndarray, t0: float, peak: float, t1: float) -> np.ndarray:
    """0 before ``t0``, rising smoothly to 1 at ``peak``, back to 0 at ``t1``."""
    rise = _smoothstep((tt - t0) / max(peak - t0, 1e-6))
    fall = 1.0 - _smoothstep((tt - peak) / max(t1 - peak, 1e-6))
    return np.where(tt <= peak, rise, fall)


def _smooth_noise(rng: np.random.Generator, tt: np.ndarray, dims: int, fmin: float,
                  fmax: float) -> np.ndarray:
    """Smooth random signals ``(T, dims)`` in about [−1, 1]: three sinusoids per dimension."""
    freq = rng.uniform(fmin, fmax, (3, dims))
    phase = rng.uniform(0.0, 2 * np.pi, (3, dims))
    weight = rng.uniform(0.5, 1.0, (3, dims))
    sig = np.sin(2 * np.pi * freq[None] * tt[:, None, None] + phase[None]) * weight[None]
    return sig.sum(axis=1) / weight.sum(axis=0)


def _voice(rng: np.random.Generator, sp: Speaker):
    from .speech import Voice

    return Voice(
        name=sp.voice,
        rate=int(np.clip(round(sp.rate * rng.uniform(0.92, 1.08)), 120, 220)),
        pitch=int(np.clip(round(sp.pitch + rng.normal(0, 5)), 0, 100)),
        range=int(np.clip(round(sp.range + rng.normal(0, 8)), 0, 100)),
        volume=int(rng.integers(80, 126)),
    )


def _speech(plan: SequencePlan, rng: np.random.Generator):
    """Synthesise the sequence's phrases and schedule its semantic gestures.

    Returns ``(audio (N,), words, stressed, keyword_flags, phrases [(start, end)], events,
    durations {event index: seconds})``. Pauses between phrases are ours (zeros): short inside a
    sentence, longer between sentences, sometimes long enough for the arms to drop; a pause is
    stretched when a gesture would otherwise start before the previous one has finished.
    """
    from .speech import engine
    from .transcript import Word

    eng = engine()
    sp = plan.speaker
    queue = list(plan.slots)
    t = float(rng.uniform(0.7, 1.1))  # lead-in silence
    pieces: list[tuple[int, np.ndarray]] = []
    words: list[Word] = []
    stressed: list[bool] = []
    is_keyword: list[bool] = []
    phrases: list[tuple[float, float]] = []
    events: list[SemanticEvent] = []
    busy_until = 0.0
    sentence_done = True
    first = True
    while True:
        remaining = plan.seconds - t
        if not queue and remaining < 1.5:
            break
        filler = not queue or (remaining - 2.4 * len(queue) > 3.0 and rng.random() < 0.5)
        if filler:
            tokens, kw_index, keyword, cls = _filler_phrase(rng), -1, "", -1
        else:
            cls = queue.pop(0)
            tokens, kw_index, keyword = _carrier_phrase(rng, GESTURES[cls])
        end = "," if rng.random() < 0.55 else ("?" if rng.random() < 0.1 else ".")
        utt = eng.utterance(tokens, _voice(rng, sp), end)
        if first:
            gap = 0.0
        elif sentence_done:
            gap = rng.uniform(1.4, 2.2) if rng.random() < 0.1 else rng.uniform(0.35, 0.8)
        else:
            gap = rng.uniform(0.12, 0.3)
        start = t + gap
        if cls >= 0:
            dur = float(np.clip(GESTURES[cls].duration * sp.tempo * rng.uniform(0.88, 1.12),
                                MIN_GESTURE_S, MAX_GESTURE_S))
            dur, prep, path, ret = _gesture_timing(cls, dur, sp.ready)
            lead = prep - rng.uniform(-0.1, 0.1)  # the stroke starts at the onset ± 0.1 s
            onset = start + utt.words[kw_index].start
            g_start = onset - lead
            wait = max(busy_until + rng.uniform(0.15, 0.3), 0.3) - g_start
            if wait > 0:
                start, onset, g_start = start + wait, onset + wait, g_start + wait
        start = round(start * AUDIO_SR) / AUDIO_SR  # phrases start on the sample grid
        if cls >= 0:
            onset = start + utt.words[kw_index].start
            g_start = onset - lead
            amp = float(rng.uniform(0.92, 1.06))
            events.append(SemanticEvent(cls, keyword, round(onset, 4), round(g_start, 4),
                                        round(g_start + dur, 4), round(amp, 3), prep, path, ret))
            busy_until = g_start + dur
        offset = round(start * AUDIO_SR)
        pieces.append((offset, utt.audio))
        for i, w in enumerate(utt.words):
            words.append(Word(round(start + w.start, 6), round(start + w.end, 6), w.text))
            stressed.append(utt.stressed[i])
            is_keyword.append(i == kw_index)
        phrases.append((start, start + utt.duration))
        t = start + utt.duration
        sentence_done = end != ","
        first = False
    total = max(t, busy_until) + float(rng.uniform(0.9, 1.3))
    n_frames = 3 * math.ceil(total * FPS / 3)  # a multiple of 3: 16 kHz samples stay whole
    audio = np.zeros(n_frames * AUDIO_SR // FPS, dtype=np.float32)
    for offset, piece in pieces:
        audio[offset:offset + piece.size] = piece
    return audio, words, stressed, is_keyword, phrases, events


def _beats(words, stressed, is_keyword, events, audio, sp: Speaker,
           rng: np.random.Generator) -> list[Beat]:
    """Beats on stressed non-keyword words, at least 0.35 s apart.

    Near a semantic gesture (from 0.2 s before it to 0.1 s after) only the free hand of a
    one-handed gesture beats; during two-handed gestures nothing does.
    """
    beats: list[Beat] = []
    last = -10.0
    for w, st, kw in zip(words, stressed, is_keyword, strict=True):
        if not st or kw or w.start - last < 0.35 or rng.random() > sp.beat_prob:
            continue
        busy = [e for e in events if e.start - 0.2 <= w.start <= e.end + 0.1]
        if busy and GESTURES[busy[0].cls].other:
            continue
        seg = audio[int(w.start * AUDIO_SR): int((w.start + 0.12) * AUDIO_SR)]
        energy = float(np.sqrt(np.mean(seg.astype(np.float64) ** 2))) if seg.size else 0.0
        amp = sp.amplitude * float(np.clip(energy / 0.09, 0.35, 1.4)) * rng.uniform(0.85, 1.15)
        u = rng.random()
        if busy:
            hands = "other"
        else:
            hands = "both" if u < sp.both_hands else ("other" if u > 0.92 else "main")
        beats.append(Beat(round(w.start, 4), round(float(amp), 3), hands))
        last = w.start
    return beats


#: Wrist displacement (m) at the lowest point of a beat of amplitude 1: down and a bit forward.
_BEAT_STROKE = np.array([0.0, -0.07, 0.02])


def _talk_envelope(tt: np.ndarray, phrases: list[tuple[float, float]]) -> np.ndarray:
    """1 while talking (phrases less than 1.3 s apart form one block), 0 at rest; smooth."""
    blocks: list[list[float]] = []
    for a, b in phrases:
        if blocks and a - blocks[-1][1] < 1.3:
            blocks[-1][1] = b
        else:
            blocks.append([a, b])
    env = np.zeros_like(tt)
    for a, b in blocks:
        env += _smoothstep((tt - (a - 0.5)) / 0.5) * (1.0 - _smoothstep((tt - (b + 0.1)) / 0.6))
    return env


def _ready_vector(offset: tuple[float, float, float]) -> np.ndarray:
    """Arm parameters ``(ARM_DIM,)`` of a speaking position whose wrist is moved by ``offset``."""
    ready = _arm_vector(READY_ARM).copy()
    ready[ARM_FIELDS["wrist"]] += np.asarray(offset)
    return ready


def _gesture_track(tt: np.ndarray, ev: SemanticEvent, keys: np.ndarray,
                   offset: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Envelope ``(T,)`` and arm parameters ``(T, ARM_DIM)`` of one gesture for one arm whose
    key poses are ``keys (m, ARM_DIM)``."""
    from scipy.interpolate import CubicSpline

    t_path = ev.start + ev.prep
    t_hold = t_path + ev.path
    t_ret = ev.end - ev.ret
    env = (_smoothstep((tt - ev.start) / ev.prep)
           * (1.0 - _smoothstep((tt - t_ret) / ev.ret)))
    k = keys.copy()
    wrist = k[:, ARM_FIELDS["wrist"]]
    shoulder = _geom().rest_pos[_L_SHOULDER]  # the same in both arms' outward frames
    k[:, ARM_FIELDS["wrist"]] = shoulder + ev.amplitude * (wrist - shoulder) + offset
    if len(keys) == 1:
        track = np.broadcast_to(k[0], (tt.size, ARM_DIM)).copy()
    else:
        spline = CubicSpline(np.linspace(t_path, t_hold, len(keys)), k, bc_type="clamped")
        track = spline(np.clip(tt, t_path, t_hold))
    return env, track


def _motion(n_frames: int, phrases, events: list[SemanticEvent], beats: list[Beat],
            sp: Speaker, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Poses ``(T, 55, 3)`` axis-angle and root translation ``(T, 3)`` at 30 fps."""
    tt = np.arange(n_frames) / FPS
    talk = _talk_envelope(tt, phrases)[:, None]
    rest = _arm_vector(REST_ARM)
    ready = _ready_vector(sp.ready)
    arms = {}
    for side in ("main", "other"):
        base = rest + talk * (ready - rest)
        base[:, ARM_FIELDS["wrist"]] += 0.012 * _smooth_noise(rng, tt, 3, 0.08, 0.4)
        base[:, ARM_FIELDS["flex"]] += 3.0 * _smooth_noise(rng, tt, 1, 0.1, 0.4)[:, 0]
        base[:, ARM_FIELDS["curl"]] += 0.04 * _smooth_noise(rng, tt, 1, 0.1, 0.3)
        arms[side] = base
    nod = np.zeros(n_frames)
    for b in beats:
        bump = _bump(tt, b.time - 0.2, b.time, b.time + 0.25)
        for side in (("main", "other") if b.hands == "both" else (b.hands,)):
            a = arms[side]
            a[:, ARM_FIELDS["wrist"]] += (b.amplitude * bump)[:, None] * _BEAT_STROKE
            a[:, ARM_FIELDS["flex"]] += 18.0 * b.amplitude * bump
            a[:, ARM_FIELDS["curl"]] -= (0.12 * b.amplitude * bump)[:, None]
        nod += 0.6 * b.amplitude * _bump(tt, b.time - 0.15, b.time + 0.05, b.time + 0.35)
    for ev in events:
        offset = rng.uniform(-0.015, 0.015, 3)
        for side in ("main", "other"):
            keys = _keys(ev.cls, side)
            if len(keys):
                env, track = _gesture_track(tt, ev, keys, offset)
                arms[side] += env[:, None] * (track - arms[side])
    if sp.handed == "right":
        left, right = arms["other"], arms["main"]
    else:
        left, right = arms["main"], arms["other"]
    poses = np.zeros((n_frames, NUM_JOINTS, 3))
    for j, m in arm_pose_matrices(left, right).items():
        poses[:, j] = _to_rotvec(m)
    # Body: sway of the pelvis (legs compensate, feet stay put), breathing, a slight lean
    # forward while talking, small head motion and nods on beats. Small angles: the rotation
    # vector's components are pitch (x), yaw (y) and roll (z) in radians.
    deg = np.pi / 180.0
    sway = _smooth_noise(rng, tt, 3, 0.04, 0.2) * (np.array([0.6, 1.5, 0.8]) * deg)
    poses[:, 0] = sway
    poses[:, 1] = poses[:, 2] = -sway
    breath = np.sin(2 * np.pi * rng.uniform(0.2, 0.3) * tt + rng.uniform(0, 2 * np.pi))
    poses[:, 3] = _smooth_noise(rng, tt, 3, 0.05, 0.2) * (np.array([0.8, 1.0, 0.6]) * deg)
    poses[:, 3, 0] += 2.0 * deg * talk[:, 0]
    poses[:, 6, 0] = 0.5 * deg * breath
    poses[:, 9, 0] = 0.7 * deg * breath
    head = _smooth_noise(rng, tt, 3, 0.1, 0.5) * (np.array([2.0, 3.0, 1.5]) * deg)
    poses[:, 12] = 0.4 * head
    poses[:, 15] = 0.6 * head
    poses[:, 15, 0] += 3.0 * deg * np.clip(nod, 0.0, 1.2)
    trans = np.zeros((n_frames, 3))
    trans[:] = REST_TRANS
    trans[:, [0, 2]] += _smooth_noise(rng, tt, 2, 0.03, 0.15) * np.array([0.01, 0.005])
    return poses, trans


def build_sequence(plan: SequencePlan) -> SequenceData:
    """Synthesise one sequence in memory (speech, events, beats, motion, labels)."""
    rng = np.random.default_rng([plan.seed, 2, plan.index])
    audio, words, stressed, is_kw, phrases, events = _speech(plan, rng)
    beats = _beats(words, stressed, is_kw, events, audio, plan.speaker, rng)
    n_frames = audio.size * FPS // AUDIO_SR
    poses, trans = _motion(n_frames, phrases, events, beats, plan.speaker, rng)
    labels = np.zeros(n_frames, dtype=np.int16)
    for ev in events:
        k0, k1 = math.ceil(ev.start * FPS - 1e-9), math.ceil(ev.end * FPS - 1e-9)
        labels[max(0, k0):min(n_frames, k1)] = ev.cls + 1
    return SequenceData(plan, audio, words, events, beats, poses, trans, labels)


# --- writing ----------------------------------------------------------------------------------

_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
GENERATOR = "eggesture synthetic long-tailed speaker"
FORMAT_VERSION = 1
LABELS_DIR = "labels"
CORPUS_JSON = "corpus.json"
_SEQ_FILES = (("smplxflame_30", ".npz"), ("wave16k", ".wav"), ("textgrid", ".TextGrid"),
              ("sem", ".txt"), (LABELS_DIR, ".npy"))


def _npy_bytes(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.asarray(arr), allow_pickle=False)
    return buf.getvalue()


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """A compressed ``.npz`` (what ``np.savez_compressed`` writes, loadable by ``np.load``) whose
    bytes depend only on the arrays: the zip entries carry a fixed timestamp."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for name, arr in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o644 << 16
            zf.writestr(info, _npy_bytes(arr), compresslevel=6)
    return buf.getvalue()


def wav_bytes(audio: np.ndarray, sr: int = AUDIO_SR) -> bytes:
    """16-bit PCM mono WAV of ``audio (N,)`` in [−1, 1] (no timestamps, unlike float WAVs)."""
    import wave

    pcm = np.clip(np.round(np.asarray(audio, np.float64) * 32767.0), -32768, 32767).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes(pcm.tobytes())
    return buf.getvalue()


def _textgrid_text(words, duration: float) -> str:
    """Praat long-format TextGrid with one tier "words"; gaps become empty (silent) intervals."""
    import tempfile

    from praatio import textgrid

    tg = textgrid.Textgrid()
    entries = [(w.start, w.end, w.text) for w in words if w.end > w.start]
    tg.addTier(textgrid.IntervalTier("words", entries, 0.0, duration))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "words.TextGrid"
        tg.save(str(path), format="long_textgrid", includeBlankSpaces=True)
        return path.read_text(encoding="utf-8")


def _sem_text(events: list[SemanticEvent]) -> str:
    """BEAT2 sem rows: name, start, end, duration, score, keyword (tab separated)."""
    return "".join(f"{e.name}\t{e.start:.4f}\t{e.end:.4f}\t{e.end - e.start:.4f}\t"
                   f"{e.amplitude:.3f}\t{e.keyword}\n" for e in events)


def write_sequence(out: str | Path, data: SequenceData) -> None:
    """Write one sequence's five files (each atomically)."""
    from ..io import write_bytes, write_text

    out = Path(out)
    sid = data.plan.id
    n = data.n_frames
    write_bytes(out / "smplxflame_30" / f"{sid}.npz", npz_bytes({
        "betas": np.zeros(300, np.float32),
        "poses": data.poses.reshape(n, 3 * NUM_JOINTS).astype(np.float32),
        "expressions": np.zeros((n, 100), np.float64),
        "trans": data.trans.astype(np.float64),
        "model": np.array("smplx2020"),
        "gender": np.array("neutral"),
        "mocap_frame_rate": np.array(FPS, dtype=np.int32),
    }))
    write_bytes(out / "wave16k" / f"{sid}.wav", wav_bytes(data.audio))
    write_text(out / "textgrid" / f"{sid}.TextGrid",
               _textgrid_text(data.words, data.audio.size / AUDIO_SR))
    write_text(out / "sem" / f"{sid}.txt", _sem_text(data.events))
    write_bytes(out / LABELS_DIR / f"{sid}.npy", _npy_bytes(data.labels))


def _summary(data: SequenceData) -> dict:
    """What ``corpus.json`` keeps of one sequence."""
    per_class = np.bincount([e.cls for e in data.events], minlength=data.plan.classes)
    return {
        "id": data.plan.id, "split": data.plan.split, "speaker": data.plan.speaker.id,
        "seconds": round(data.n_frames / FPS, 3), "frames": data.n_frames,
        "words": len(data.words), "semantic": len(data.events), "beats": len(data.beats),
        "per_class": per_class.tolist(),
    }


def _build_and_write(args: tuple[SequencePlan, str]) -> dict:
    """Worker: build one sequence, write its files, return its summary."""
    plan, out = args
    data = build_sequence(plan)
    write_sequence(out, data)
    return _summary(data)


# --- the corpus -------------------------------------------------------------------------------


def _is_corpus(out: Path) -> dict | None:
    """The ``corpus.json`` of a previous synthetic corpus in ``out``, else None."""
    try:
        meta = json.loads((out / CORPUS_JSON).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) and meta.get("generator") == GENERATOR else None


def _prepare_folder(out: Path, force: bool) -> list[str]:
    """Check that ``out`` may be written; return the sequence ids of a previous corpus there."""
    if out.exists() and not out.is_dir():
        raise DataError(out, "exists and is not a folder")
    if not out.exists() or not any(out.iterdir()):
        return []
    previous = _is_corpus(out)
    if previous is None:
        if not force:
            raise DataError(out, "folder is not empty and holds no synthetic corpus "
                                 f"({CORPUS_JSON}); choose another folder or pass --force")
        return []
    return [s["id"] for s in previous.get("sequences", []) if isinstance(s, dict) and "id" in s]


def _pool_context():
    import multiprocessing as mp

    methods = mp.get_all_start_methods()
    ctx = mp.get_context("forkserver" if "forkserver" in methods else "spawn")
    if ctx.get_start_method() == "forkserver":
        # Workers start with these imported (torch comes with the skeleton): imports are most
        # of a worker's time otherwise.
        ctx.set_forkserver_preload([__name__, "eggesture.data.skeleton", "eggesture.data.speech",
                                    "scipy.interpolate", "scipy.spatial.transform", "soxr",
                                    "praatio.textgrid"])
    return ctx


def synthesize_corpus(
    out: str | Path, *, minutes: float, seed: int, classes: int = 24, zipf: float = 1.1,
    speakers: int = 1, held_out: float = HELD_OUT, min_train_events: int = 1,
    progress: Callable[[int, int, str], None] | None = None,
    workers: int | None = None, force: bool = False,
) -> dict:
    """Build a synthetic corpus in ``out`` (BEAT2 layout + ``labels/`` + ``corpus.json``).

    ``minutes`` of speech in about one-minute sequences, ``classes`` semantic gesture classes
    (the first of :data:`GESTURES`) whose keywords follow a Zipf law with exponent ``zipf``,
    ``speakers`` speakers, ``held_out`` of the sequences in val + test, every class at least
    ``min_train_events`` times in train. The same arguments give byte-identical files, whatever ``workers``
    (processes; default: up to 2, the CPUs available). ``progress(done, total, id)`` is called
    once before the first sequence (``done`` 0, ``id`` "") and after each one.

    A non-empty ``out`` must hold a previous corpus (whose sequence files are replaced; files
    it listed that the new corpus lacks are removed) unless ``force``, which writes into it and
    deletes nothing. Returns the content of ``corpus.json``.
    """
    from ..io import write_json, write_text

    out = Path(out)
    plans = plan_corpus(minutes=minutes, seed=seed, classes=classes, zipf=zipf, speakers=speakers,
                        held_out=held_out, min_train_events=min_train_events)
    previous = _prepare_folder(out, force)
    settings = {"minutes": minutes, "seed": seed, "classes": classes, "zipf": zipf,
                "speakers": speakers, "held_out": held_out, "min_train_events": min_train_events}
    out.mkdir(parents=True, exist_ok=True)
    # Mark the folder as ours first, listing every sequence file that may appear: an
    # interrupted build can be rebuilt without --force, and its leftovers cleaned up.
    listed = sorted(set(previous) | {p.id for p in plans})
    write_json(out / CORPUS_JSON, {"generator": GENERATOR, "version": FORMAT_VERSION,
                                   "complete": False, "settings": settings,
                                   "sequences": [{"id": i} for i in listed]})
    if workers is None:
        workers = max(1, min(2, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                             else (os.cpu_count() or 1)))
    jobs = [(p, str(out)) for p in plans]
    summaries: list[dict] = []
    if progress:
        progress(0, len(jobs), "")
    # One fresh process per sequence: espeak-ng's output depends on what its process spoke
    # before, so sharing a process between sequences would make the bytes depend on scheduling.
    n_proc = max(1, min(workers, len(jobs)))
    with _pool_context().Pool(processes=n_proc, maxtasksperchild=1) as pool:
        for summary in pool.imap(_build_and_write, jobs):
            summaries.append(summary)
            if progress:
                progress(len(summaries), len(jobs), summary["id"])
    write_text(out / "train_test_split.csv",
               "id,type\n" + "".join(f"{p.id},{p.split}\n" for p in plans))
    new_ids = {p.id for p in plans}
    for sid in previous:
        if sid not in new_ids:
            for folder, ext in _SEQ_FILES:
                (out / folder / f"{sid}{ext}").unlink(missing_ok=True)
    meta = corpus_summary(plans, summaries, settings)
    write_json(out / CORPUS_JSON, meta)
    return meta


def _held_out_summary(per_split: dict[str, np.ndarray], gestures) -> dict:
    """Events of val + test, and how many of them are of tail classes (the evaluation's
    head/tail rule on the training counts: :func:`eggesture.metrics.recall.split_head_tail`)."""
    from ..metrics.recall import split_head_tail

    held = per_split["val"] + per_split["test"]
    ht = split_head_tail({g.name: int(per_split["train"][i]) for i, g in enumerate(gestures)})
    tail = {g.name for g in gestures} & set(ht.tail)
    return {"events": int(held.sum()),
            "tail_events": int(sum(held[i] for i, g in enumerate(gestures) if g.name in tail)),
            "head_classes": len(ht.head), "tail_classes": len(ht.tail)}


def corpus_summary(plans: list[SequencePlan], summaries: list[dict], settings: dict) -> dict:
    """The content of ``corpus.json``."""
    n_cls = settings["classes"]
    splits = ("train", "val", "test")
    per_split = {s: np.zeros(n_cls, np.int64) for s in splits}
    beats = dict.fromkeys(splits, 0)
    seconds = dict.fromkeys(splits, 0.0)
    for s in summaries:
        per_split[s["split"]] += np.asarray(s["per_class"])
        beats[s["split"]] += s["beats"]
        seconds[s["split"]] += s["seconds"]
    total = sum(per_split.values())
    speakers = {p.speaker.id: p.speaker for p in plans}
    semantic_total = int(total.sum())
    beat_total = sum(beats.values())
    return {
        "generator": GENERATOR,
        "version": FORMAT_VERSION,
        "complete": True,
        "settings": settings,
        "fps": FPS,
        "sample_rate": AUDIO_SR,
        "minutes": round(sum(seconds.values()) / 60.0, 3),
        "split_rule": "n = max(3, speakers, round(minutes)) sequences dealt to speakers round "
                      "robin; per speaker (or over all sequences if a speaker has fewer than 10) "
                      "the last max(1, round(n * held_out / 2)) are test and as many before "
                      "them val; keywords are allotted per split by a Zipf law, every class at "
                      "least min_train_events times in train",
        "labels": f"{LABELS_DIR}/{{id}}.npy: int16 per 30-fps frame; 0 = no semantic gesture, "
                  "c >= 1 = classes[c - 1]; frame k is labelled when start <= k/30 < end",
        "classes": [
            {"label": i + 1, "rank": i + 1, "name": g.name, "keywords": list(g.keywords),
             "hands": "both" if g.other else "dominant", "description": g.description}
            for i, g in enumerate(GESTURES[:n_cls])
        ],
        "counts": {
            "semantic": {
                "total": semantic_total,
                "per_split": {s: int(per_split[s].sum()) for s in splits},
                "per_class": {g.name: {"train": int(per_split["train"][i]),
                                       "val": int(per_split["val"][i]),
                                       "test": int(per_split["test"][i]),
                                       "total": int(total[i])}
                              for i, g in enumerate(GESTURES[:n_cls])},
            },
            "beats": {"total": beat_total, "per_split": beats},
            "beat_share_of_strokes": round(beat_total / max(1, beat_total + semantic_total), 3),
        },
        "long_tail": {
            "zipf_exponent_fit": round(fit_zipf(total), 3),
            "head_to_tail_ratio": round(float(total[0] / max(1, total[-1])), 2),
            "rarest_in_train": int(per_split["train"].min()),
        },
        "held_out": _held_out_summary(per_split, GESTURES[:n_cls]),
        "speakers": [speakers[k].as_json() for k in sorted(speakers)],
        "sequences": summaries,
    }
