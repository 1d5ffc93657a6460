"""How much and how a motion moves: the statistics the synthetic speaker is calibrated on.

All on the arm joints of SMPL-X (collars, shoulders, elbows, wrists: joints 13, 14, 16–21) as
axis-angle ``(T, 55, 3)`` — the joints a co-speech gesture is made of — at 30 fps. Per frame t the
*arm speed* is ``s_t = mean_{j, c} |a_{t+1, j, c} − a_{t, j, c}|`` (radians per frame, over the
arm joints' axis-angle components). From it:

* ``speed`` — the mean of ``s_t``; ``speed_p50`` / ``speed_p90`` — its median and 90th percentile
  (the speed distribution);
* ``amplitude`` — the standard deviation over time of each component, averaged (radians);
* ``moving_share`` — the fraction of frames with ``s_t > MOVING`` (0.005 rad per frame);
* ``speed_centroid_hz`` — the power-weighted mean frequency of the arm components' velocity
  (the spectrum: higher = faster, jerkier motion);
* ``hold_s`` — the mean duration of holds: runs of at least 0.2 s of frames slower than ``HOLD``
  (0.01 rad per frame);
* ``strokes_per_min`` / ``stroke_speed`` — the rate of motion beats, the strict local minima of
  ``s_t`` over ±``BEAT_ORDER`` frames (the kinematic beats of the BEAT2 beat-alignment protocol:
  order 7 at 30 fps), and the mean peak of ``s_t`` between consecutive ones (each stroke's size);
  beats and the strokes of other gestures alike. (A first definition counted prominent peaks of
  ``s_t``; it counted each semantic gesture's preparation, stroke and return apart, 2.5 peaks a
  gesture, which left no room for beats to be the majority of strokes, as DESIGN §4 has them.)
* ``left_share`` — the left arm's share of the arm speed, ``left / (left + right)``;
* ``amplitude_left`` / ``amplitude_right`` — ``amplitude`` of each arm's joints alone (a model
  may move one arm and keep the other still).

Pure functions on arrays (DESIGN §5); the numbers are comparable only between motions at 30 fps.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import argrelextrema

#: SMPL-X arm joints: left collar, right collar, shoulders, elbows, wrists (left, right each).
ARM_JOINTS = (13, 14, 16, 17, 18, 19, 20, 21)
LEFT_ARM, RIGHT_ARM = (13, 16, 18, 20), (14, 17, 19, 21)
FPS = 30
MOVING = 0.005
HOLD = 0.01
HOLD_MIN_S = 0.2
BEAT_ORDER = 7
#: :func:`motion_profile` of the real BEAT2 sample (speaker 2, ``2_scott_0_1_1``, 64 s), the
#: reference the synthetic speaker is calibrated to; ``tests/test_synthetic.py`` re-measures it
#: from ``shared/data/beat2_sample`` when present, so these numbers cannot drift from the file.
BEAT2_SAMPLE = {"speed": 0.0153, "speed_p50": 0.0133, "speed_p90": 0.0283, "amplitude": 0.1871,
                "moving_share": 0.895, "speed_centroid_hz": 1.9192, "hold_s": 0.4431,
                "strokes_per_min": 92.5984, "stroke_speed": 0.0281, "left_share": 0.4948}
#: The statistics :func:`motion_profile` returns, in the order tables show them.
KEYS = ("speed", "speed_p50", "speed_p90", "amplitude", "moving_share", "speed_centroid_hz",
        "hold_s", "strokes_per_min", "stroke_speed", "left_share")


def arm_speed(poses: np.ndarray, joints: tuple[int, ...] = ARM_JOINTS) -> np.ndarray:
    """``s_t`` ``(T − 1,)``: mean absolute change of the joints' axis-angle components per frame.

    ``poses`` is ``(T, 165)`` or ``(T, 55, 3)`` axis-angle.
    """
    a = np.asarray(poses, dtype=np.float64).reshape(len(poses), -1, 3)[:, list(joints)]
    return np.abs(np.diff(a, axis=0)).mean(axis=(1, 2))


def _runs(mask: np.ndarray) -> list[int]:
    """Lengths of the runs of True in ``mask``."""
    m = np.concatenate([[False], mask, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(m))
    return list(edges[1::2] - edges[::2])


def motion_profile(poses: np.ndarray, fps: float = FPS) -> dict[str, float]:
    """The statistics of the module docstring for one motion ``(T, 165)`` / ``(T, 55, 3)`` at
    ``fps`` (30 for numbers comparable with the real BEAT2 sample's)."""
    a = np.asarray(poses, dtype=np.float64).reshape(len(poses), -1, 3)
    if len(a) < 3:
        raise ValueError(f"motion has {len(a)} frames; its statistics need at least 3")
    arms = a[:, list(ARM_JOINTS)].reshape(len(a), -1)
    s = arm_speed(a)
    vel = np.diff(arms, axis=0)
    power = np.abs(np.fft.rfft(vel - vel.mean(axis=0), axis=0)) ** 2
    freqs = np.fft.rfftfreq(len(vel), d=1.0 / fps)
    holds = [n for n in _runs(s < HOLD) if n >= HOLD_MIN_S * fps]
    beats = argrelextrema(s, np.less, order=BEAT_ORDER)[0]
    peaks = [s[a:b].max() for a, b in zip(beats[:-1], beats[1:], strict=True)]
    left, right = arm_speed(a, LEFT_ARM).mean(), arm_speed(a, RIGHT_ARM).mean()
    minutes = len(s) / fps / 60.0
    return {
        "speed": float(s.mean()),
        "speed_p50": float(np.median(s)),
        "speed_p90": float(np.percentile(s, 90)),
        "amplitude": float(arms.std(axis=0).mean()),
        "moving_share": float((s > MOVING).mean()),
        "speed_centroid_hz": float((power.sum(axis=1) * freqs).sum() / max(power.sum(), 1e-300)),
        "hold_s": float(np.mean(holds) / fps) if holds else 0.0,
        "strokes_per_min": float(len(beats) / minutes),
        "stroke_speed": float(np.mean(peaks)) if peaks else 0.0,
        "left_share": float(left / max(left + right, 1e-300)),
        "amplitude_left": float(a[:, list(LEFT_ARM)].reshape(len(a), -1).std(axis=0).mean()),
        "amplitude_right": float(a[:, list(RIGHT_ARM)].reshape(len(a), -1).std(axis=0).mean()),
    }


def pooled_profile(motions: list[np.ndarray], fps: float = FPS) -> dict[str, float]:
    """:func:`motion_profile` of several motions, each statistic averaged with the motions'
    frame counts as weights."""
    return pool_profiles([motion_profile(m, fps) for m in motions], [len(m) for m in motions])


def pool_profiles(profiles: list[dict[str, float]], frames: list[int]) -> dict[str, float]:
    """Profiles of several motions averaged with their frame counts as weights."""
    w = np.asarray(frames, dtype=np.float64)
    return {k: float(np.average([p[k] for p in profiles], weights=w)) for k in KEYS}


def compare_profiles(measured: dict[str, float], reference: dict[str, float],
                     tolerance: float = 0.25) -> dict[str, dict]:
    """Per statistic: both values, the ratio measured / reference and whether it lies within
    ``1 ± tolerance``."""
    out = {}
    for k in KEYS:
        m, r = measured[k], reference[k]
        ratio = m / r if r else float("inf") if m else 1.0
        out[k] = {"value": m, "reference": r, "ratio": ratio,
                  "within": bool(abs(ratio - 1.0) <= tolerance)}
    return out


def against_beat2_sample(profiles: list[dict[str, float]], frames: list[int]) -> dict[str, dict]:
    """Profiles of several motions pooled (:func:`pool_profiles`) and compared with the real
    BEAT2 sample's (:func:`compare_profiles`, ±25 %)."""
    return compare_profiles(pool_profiles(profiles, frames), BEAT2_SAMPLE)
