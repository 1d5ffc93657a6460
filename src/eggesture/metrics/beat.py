"""Beat alignment between motion and speech (paper eq. 13), and the BEAT2/EMAGE protocol.

Paper, eq. 13, for one joint with gesture beats G and audio beats A (times in seconds)::

    BA = 1/|G| · Σ_{g ∈ G} exp(−min_{a ∈ A} (g − a)² / (2σ²))                          (13)

"The final score is the average beat alignment across all joints." Gesture beats are local
minima of a joint's speed; audio beats are onsets (:func:`audio_onsets`, librosa's
``onset_detect`` so the numbers compare with the literature). BA is dimensionless in [0, 1].

Choices the paper leaves open, stated here and in every result (:class:`BeatAlignment`):

* σ is not given in the paper; we use **σ = 0.1 s** by default (configurable);
* speed = ‖d position / dt‖ of each joint in metres per second, by central differences
  (one-sided at the ends) — the same scheme as the EMAGE code;
* a gesture beat is a strict local minimum of the speed over ±``order`` frames
  (``scipy.signal.argrelextrema``), default order 3 frames (±0.2 s at 15 fps);
* joints that never move (no beats) have no term in eq. 13 and are left out of the joint
  average; a motion with no beats at all, or audio with no onsets, scores 0.

The BEAT2/EMAGE variant (:func:`beat_alignment_emage`) follows that literature's evaluation
code instead: σ = 0.3 s, extrema order 7 at 30 fps, speeds divided by BEAT2's per-joint mean
speed (``weights/mean_vel_smplxflame_30.npy``) and kept only above a threshold (0.1), the first
and last 2 s excluded, the score averaged **per audio beat** (the roles of the two beat sets are
swapped with respect to eq. 13), joints without beats counted as 0, averaged over the 13 upper
body joints.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import librosa
import numpy as np
from scipy.signal import argrelextrema

#: Default σ of eq. 13, seconds (the paper does not give one).
SIGMA_S = 0.1
#: Default half-width of the local-minimum test, frames.
ORDER = 3
#: Onset detection hop in samples (EMAGE: 512 at 16 kHz = 32 ms).
HOP_LENGTH = 512

#: EMAGE protocol constants.
EMAGE_SIGMA_S = 0.3
EMAGE_ORDER = 7
EMAGE_THRESHOLD = 0.1
EMAGE_EXCLUDE_S = 2.0
EMAGE_FPS = 30.0
#: SMPL-X indices of the upper-body joints that EMAGE averages over.
EMAGE_UPPER_BODY = (3, 6, 9, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21)


@dataclass
class BeatAlignment:
    """A beat-alignment score with everything needed to read and reproduce it."""

    score: float
    """BA in [0, 1] (dimensionless)."""
    per_joint: list[float | None]
    """Score of each joint (None: the joint had no beats and is not averaged)."""
    n_motion_beats: int
    """Gesture beats over all joints."""
    n_audio_beats: int
    """Audio onsets used."""
    sigma_s: float
    """σ of the Gaussian, seconds."""
    protocol: str
    """How the number was computed (eq. 13 or the EMAGE variant, with its settings)."""
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def audio_onsets(
    wave: np.ndarray, sr: int, *, hop_length: int = HOP_LENGTH,
    start_s: float = 0.0, end_s: float | None = None,
) -> np.ndarray:
    """Audio beats: onset times in seconds ``(K,)`` of ``wave (N,)`` mono at ``sr`` Hz.

    ``librosa.onset.onset_detect(y, sr, hop_length, units="time")`` on ``wave[start_s:end_s]``;
    returned times are measured from the start of ``wave`` (``start_s`` is added back).
    """
    y = np.asarray(wave, dtype=np.float32)
    if y.ndim != 1:
        raise ValueError(f"wave must be mono (N,), got shape {y.shape}")
    a = int(round(start_s * sr))
    b = None if end_s is None else int(round(end_s * sr))
    clip = y[a:b]
    if clip.size < hop_length * 2 or not np.any(clip):
        return np.zeros(0)
    onsets = librosa.onset.onset_detect(y=clip, sr=sr, hop_length=hop_length, units="time")
    return np.asarray(onsets, dtype=np.float64) + a / sr


def joint_speeds(positions: np.ndarray, fps: float) -> np.ndarray:
    """Speed ``(T, J)`` in units/s of joint positions ``(T, J, 3)`` sampled at ``fps``.

    Central differences inside, one-sided at the two ends (``np.gradient``).
    """
    p = np.asarray(positions, dtype=np.float64)
    if p.ndim != 3 or p.shape[-1] != 3:
        raise ValueError(f"positions must be (T, J, 3), got shape {p.shape}")
    if p.shape[0] < 2:
        return np.zeros(p.shape[:2])
    vel = np.gradient(p, 1.0 / fps, axis=0)  # (T, J, 3)
    return np.linalg.norm(vel, axis=-1)


def speed_minima(speed: np.ndarray, order: int = ORDER) -> np.ndarray:
    """Frame indices of strict local minima of ``speed (T,)`` over ±``order`` frames."""
    s = np.asarray(speed, dtype=np.float64)
    if s.size < 3:
        return np.zeros(0, dtype=np.int64)
    return argrelextrema(s, np.less, order=order)[0].astype(np.int64)


def alignment_score(beats_s: np.ndarray, targets_s: np.ndarray, sigma_s: float) -> float | None:
    """``1/|B| Σ_{b∈B} exp(−min_{t∈T} (b − t)² / 2σ²)`` (eq. 13 for one joint), seconds in.

    None when ``beats_s`` is empty (no term to average); 0 when ``targets_s`` is empty.
    """
    b = np.asarray(beats_s, dtype=np.float64).reshape(-1)
    t = np.asarray(targets_s, dtype=np.float64).reshape(-1)
    if b.size == 0:
        return None
    if t.size == 0:
        return 0.0
    d = np.abs(b[:, None] - t[None, :]).min(axis=1)  # (|B|,)
    return float(np.exp(-(d ** 2) / (2.0 * sigma_s ** 2)).mean())


def beat_alignment(
    joint_positions: np.ndarray, audio_onsets_s: np.ndarray, fps: float, *,
    sigma_s: float = SIGMA_S, order: int = ORDER, joints: list[int] | None = None,
) -> BeatAlignment:
    """Eq. 13 averaged over joints: positions ``(T, J, 3)`` at ``fps``, onsets in seconds.

    ``joints`` selects joint indices (default: all). Gesture beat times are ``frame / fps``
    seconds from the first frame, so onsets must be measured from the same instant.
    """
    if sigma_s <= 0:
        raise ValueError(f"sigma_s must be positive, got {sigma_s}")
    speed = joint_speeds(joint_positions, fps)
    sel = list(range(speed.shape[1])) if joints is None else list(joints)
    onsets = np.asarray(audio_onsets_s, dtype=np.float64).reshape(-1)
    per_joint: list[float | None] = []
    n_beats = 0
    for j in sel:
        beats = speed_minima(speed[:, j], order)
        n_beats += beats.size
        per_joint.append(alignment_score(beats / fps, onsets, sigma_s))
    scored = [s for s in per_joint if s is not None]
    return BeatAlignment(
        score=float(np.mean(scored)) if scored else 0.0, per_joint=per_joint,
        n_motion_beats=n_beats, n_audio_beats=int(onsets.size), sigma_s=sigma_s,
        protocol=(f"paper eq. 13: mean over gesture beats (speed minima, order {order} frames "
                  f"at {fps:g} fps) of exp(-d^2/2sigma^2), sigma {sigma_s:g} s, d to the nearest "
                  "audio onset; mean over joints with beats; 0 when there are none"),
    )


def emage_audio_onsets(wave: np.ndarray, sr: int, duration_s: float, *,
                       exclude_s: float = EMAGE_EXCLUDE_S) -> np.ndarray:
    """Audio onsets as the EMAGE protocol detects them: on the audio cut to
    ``[exclude_s, duration_s − exclude_s]``, times in seconds from the start of ``wave``.

    ``duration_s`` is the motion's length, ``t`` frames at 30 fps. The cut ends at sample
    ``int((t − 60) / 30 · sr)``, truncated as ``train_emage_audio.py:406`` truncates it (rounding
    would take one sample more for a third of all lengths).
    """
    t = round(duration_s * EMAGE_FPS)  # motion frames
    s = round(exclude_s * EMAGE_FPS)
    end = max(int(exclude_s * sr), int((t - s) / EMAGE_FPS * sr))
    return audio_onsets(wave, sr, start_s=exclude_s, end_s=end / sr)


def beat_alignment_emage(
    joint_positions: np.ndarray, audio_onsets_s: np.ndarray, mean_speed: np.ndarray, *,
    fps: float = EMAGE_FPS, sigma_s: float = EMAGE_SIGMA_S, order: int = EMAGE_ORDER,
    threshold: float = EMAGE_THRESHOLD, exclude_s: float = EMAGE_EXCLUDE_S,
    joints: tuple[int, ...] = EMAGE_UPPER_BODY, emage_mask_offset: bool = True,
) -> BeatAlignment:
    """Beat alignment under the BEAT2/EMAGE evaluation protocol (the literature's "BC").

    ``joint_positions (T, 55, 3)`` in metres at ``fps`` (30 in that protocol), ``mean_speed
    (55,)`` BEAT2's per-joint mean speed in m/s (``mean_vel_smplxflame_30.npy``),
    ``audio_onsets_s`` in seconds from the first frame, detected on the audio without its first
    and last ``exclude_s`` seconds (:func:`emage_audio_onsets`).

    Steps: speed / mean_speed per joint; minima (order ``order``) of the speed within frames
    ``[s, T − s)`` with ``s = exclude_s·fps``; a minimum is kept when the normalised speed
    exceeds ``threshold``; per joint in ``joints`` the mean over *audio beats* of
    ``exp(−min_g (a − g)² / 2σ²)`` (0 for a joint without beats); mean over ``joints``.

    ``emage_mask_offset``: the EMAGE code tests the threshold at frame ``m`` for a minimum
    found at window frame ``m`` — i.e. ``s`` frames *before* the minimum. True (default)
    reproduces that, so numbers compare with published ones; False tests the speed at the
    minimum itself.

    The literature aggregates sequences weighted by ``T − 2s`` frames (``extra['weight']``).
    """
    pos = np.asarray(joint_positions, dtype=np.float64)
    mean_speed = np.asarray(mean_speed, dtype=np.float64).reshape(-1)
    if pos.ndim != 3 or pos.shape[1] != mean_speed.size:
        raise ValueError(f"positions {pos.shape} and mean_speed ({mean_speed.size},) disagree "
                         "on the number of joints")
    speed = joint_speeds(pos, fps) / mean_speed  # (T, J), dimensionless
    n = speed.shape[0]
    s = int(round(exclude_s * fps))
    e = n - s
    onsets = np.asarray(audio_onsets_s, dtype=np.float64).reshape(-1)
    keep = (onsets >= exclude_s) & (onsets <= e / fps) if e > s else np.zeros(onsets.size, bool)
    onsets = onsets[keep] - exclude_s  # seconds from the first scored frame
    per_joint: list[float | None] = []
    n_beats = 0
    for j in joints:
        minima = speed_minima(speed[s:e, j], order) if e > s else np.zeros(0, np.int64)
        probe = minima if emage_mask_offset else minima + s
        kept = minima[speed[probe, j] > threshold]
        n_beats += kept.size
        if kept.size == 0 or onsets.size == 0:
            per_joint.append(0.0)
            continue
        per_joint.append(alignment_score(onsets, kept / fps, sigma_s))
    return BeatAlignment(
        score=float(np.mean(per_joint)) if per_joint else 0.0, per_joint=per_joint,
        n_motion_beats=n_beats, n_audio_beats=int(onsets.size), sigma_s=sigma_s,
        protocol=(f"BEAT2/EMAGE: mean over audio onsets of exp(-d^2/2sigma^2), sigma {sigma_s:g} s,"
                  f" d to the nearest speed minimum (order {order} at {fps:g} fps, speed / BEAT2 "
                  f"mean speed > {threshold:g}), first and last {exclude_s:g} s excluded, joints "
                  f"without beats = 0, mean over {len(joints)} joints"),
        extra={"weight": max(0, e - s), "emage_mask_offset": emage_mask_offset},
    )
