"""One synthetic sequence in memory: speech, the semantic gestures and beats scheduled on it, and
the motion that performs them (:func:`build_sequence` → :class:`SequenceData`).

* **speech**: phrases from the grammar (:mod:`.grammar`), synthesised by espeak-ng
  (:mod:`eggesture.data.speech`) with the speaker's voice, rate, pitch and loudness varied per
  phrase, and pauses of our own between phrases, so the TextGrid is silence exactly where the
  audio is silent;
* **motion** at :data:`FPS`: the relaxed rest pose, idle breathing/sway/head motion, the arms
  lifted to a speaking position while talking, **beat gestures** (a short down-stroke of the
  forearm and wrist whose lowest point falls on a stressed word's onset, amplitude following the
  speech energy: the majority of strokes) and **semantic gestures** (one distinct arm-and-hand
  trajectory per class, 0.6–1.6 s, its stroke starting at its keyword's onset with jitter in
  timing and amplitude; each phase long enough that no arm joint turns faster than
  :data:`PEAK_DEG_PER_FRAME`).

Everything random comes from the ``rng`` seeded by the plan; the order of the draws is part of
the corpus's bytes.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from scipy.interpolate import CubicSpline

from ..speech import Voice, engine
from ..transcript import Word
from ..wav import AUDIO_SR
from .arm import (
    ARM_DIM,
    ARM_FIELDS,
    L_ELBOW,
    L_SHOULDER,
    L_WRIST,
    NUM_JOINTS,
    READY_ARM,
    REST_ARM,
    ArmKey,
    arm_pose_matrices,
    arm_rotations,
    geom,
    to_rotvec,
)
from .gestures import GESTURES
from .grammar import carrier_phrase, filler_phrase
from .plan import SequencePlan, Speaker

#: Frame rate of the motion: BEAT2's (``eggesture.data.beat2.FPS``, not imported here: that
#: module brings torch, and importing this package must stay light).
FPS = 30

#: Root translation at rest (metres), as BEAT2 stores it for the real SMPL-X body (whose pelvis
#: joint sits ~0.35 m below the model origin): the feet are on the floor.
REST_TRANS = (0.0, 1.29, 0.0)
#: Phases of a semantic gesture as fractions of its duration: preparation (travel to the first
#: key; it ends at the keyword's onset ± jitter), stroke path through the keys, hold,
#: retraction. Preparation and retraction get longer for long journeys (and the gesture up to
#: 1.6 s), so that no arm joint turns faster than ``PEAK_DEG_PER_FRAME`` at 30 fps — about the
#: fastest a joint moves in the real BEAT2 sample.
PHASES = (0.28, 0.32, 0.15, 0.25)
PEAK_DEG_PER_FRAME = {L_SHOULDER: 9.0, L_ELBOW: 14.0, L_WRIST: 14.0}
MIN_GESTURE_S, MAX_GESTURE_S = 0.6, 1.6


@dataclass(frozen=True)
class Liveliness:
    """How much the arms move besides the semantic gestures, calibrated so that the speaker's
    motion statistics (:mod:`eggesture.metrics.motion_stats`: arm speed and its distribution,
    amplitude, share of frames moving, spectrum, holds, strokes, left/right use) lie within
    ±25 % of the real BEAT2 sample's (``tests/test_synthetic.py`` holds it; ``corpus.json``
    prints the comparison). The defaults were found by a random search over these fields and
    the speakers' beat probability and two-handed share (``plan._speakers``) on corpus seed 0,
    and confirmed on corpus seeds 1–4 (docs/decisions.md)."""

    drift_m: float = 0.05  #: slow wrist drift (metres), 0.08–0.4 Hz
    sway_m: float = 0.041  #: livelier wrist motion while talking (metres)
    sway_hz: tuple[float, float] = (0.5, 1.9)
    rest_sway: float = 0.8  #: share of ``sway_m`` kept while not talking
    burst: float = 1.0  #: slow swings of the liveliness (moving spells and holds), 0.15–0.5 Hz
    jitter_m: float = 0.002  #: fast small wrist motion (metres), 2–5 Hz
    elbow_swing: float = 0.26  #: noise on the elbow's pole direction (above ~0.4 the arm flips)
    shrug_deg: float = 11.3  #: collar-bone motion (degrees)
    beat_stroke: tuple[float, float, float] = (0.0, -0.102, 0.03)  #: wrist travel of a beat (m)
    beat_flex_deg: float = 17.6
    beat_shrug_deg: float = 4.5
    beat_gap_s: float = 0.65  #: beats at least this far apart
    beat_rise_s: float = 0.24  #: the stroke down, into the beat's lowest point
    beat_fall_s: float = 0.52  #: the recovery after it


#: The first version's liveliness (arms still between gestures: about half the real sample's
#: arm speed; kept to show the calibration test can fail).
STILL = Liveliness(drift_m=0.012, sway_m=0.0, rest_sway=0.4, burst=0.0, jitter_m=0.0,
                   elbow_swing=0.0, shrug_deg=0.0, beat_stroke=(0.0, -0.07, 0.02), beat_flex_deg=18.0,
                   beat_shrug_deg=0.0, beat_gap_s=0.35, beat_rise_s=0.2, beat_fall_s=0.25)
#: The calibrated default (see :class:`Liveliness`).
LIVELY = Liveliness()

# --- gesture timing ---------------------------------------------------------------------------


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
    rot = arm_rotations(poses, hands=False)
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


# --- what a sequence holds --------------------------------------------------------------------


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


# --- smooth curves ----------------------------------------------------------------------------


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


# --- speech, semantic events and beats --------------------------------------------------------


def _voice(rng: np.random.Generator, sp: Speaker):
    return Voice(
        name=sp.voice,
        rate=int(np.clip(round(sp.rate * rng.uniform(0.92, 1.08)), 120, 220)),
        pitch=int(np.clip(round(sp.pitch + rng.normal(0, 5)), 0, 100)),
        range=int(np.clip(round(sp.range + rng.normal(0, 8)), 0, 100)),
        volume=int(rng.integers(80, 126)),
    )


def _speech(plan: SequencePlan, rng: np.random.Generator):
    """Synthesise the sequence's phrases and schedule its semantic gestures.

    Returns ``(audio (N,), words, stressed, keyword_flags, phrases [(start, end)], events)``.
    Pauses between phrases are ours (zeros): short inside a sentence, longer between sentences,
    sometimes long enough for the arms to drop; a pause is stretched when a gesture would
    otherwise start before the previous one has finished.
    """
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
            tokens, kw_index, keyword, cls = filler_phrase(rng), -1, "", -1
        else:
            cls = queue.pop(0)
            tokens, kw_index, keyword = carrier_phrase(rng, GESTURES[cls])
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
           rng: np.random.Generator, gap_s: float = 0.35) -> list[Beat]:
    """Beats on stressed non-keyword words, at least ``gap_s`` apart.

    Near a semantic gesture (from 0.2 s before it to 0.1 s after) only the free hand of a
    one-handed gesture beats; during two-handed gestures nothing does.
    """
    beats: list[Beat] = []
    last = -10.0
    for w, st, kw in zip(words, stressed, is_keyword, strict=True):
        if not st or kw or w.start - last < gap_s or rng.random() > sp.beat_prob:
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


# --- motion -----------------------------------------------------------------------------------


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
    t_path = ev.start + ev.prep
    t_hold = t_path + ev.path
    t_ret = ev.end - ev.ret
    env = (_smoothstep((tt - ev.start) / ev.prep)
           * (1.0 - _smoothstep((tt - t_ret) / ev.ret)))
    k = keys.copy()
    wrist = k[:, ARM_FIELDS["wrist"]]
    shoulder = geom().rest_pos[L_SHOULDER]  # the same in both arms' outward frames
    k[:, ARM_FIELDS["wrist"]] = shoulder + ev.amplitude * (wrist - shoulder) + offset
    if len(keys) == 1:
        track = np.broadcast_to(k[0], (tt.size, ARM_DIM)).copy()
    else:
        spline = CubicSpline(np.linspace(t_path, t_hold, len(keys)), k, bc_type="clamped")
        track = spline(np.clip(tt, t_path, t_hold))
    return env, track


def _motion(n_frames: int, phrases, events: list[SemanticEvent], beats: list[Beat],
            sp: Speaker, rng: np.random.Generator,
            live: Liveliness = LIVELY) -> tuple[np.ndarray, np.ndarray]:
    """Poses ``(T, 55, 3)`` axis-angle and root translation ``(T, 3)`` at 30 fps."""
    tt = np.arange(n_frames) / FPS
    talk = _talk_envelope(tt, phrases)[:, None]
    rest = _arm_vector(REST_ARM)
    ready = _ready_vector(sp.ready)
    talking = live.rest_sway + (1.0 - live.rest_sway) * talk  # (T, 1)
    arms = {}
    for side in ("main", "other"):
        lively = talking if not live.burst else talking * np.clip(
            1.0 + live.burst * _smooth_noise(rng, tt, 1, 0.15, 0.5), 0.05, None)
        base = rest + talk * (ready - rest)
        base[:, ARM_FIELDS["wrist"]] += live.drift_m * _smooth_noise(rng, tt, 3, 0.08, 0.4)
        # Each livelier motion draws its noise only when it is on, so that a setting of 0
        # leaves the rest of the random stream (and the corpus) as without it.
        if live.sway_m:
            base[:, ARM_FIELDS["wrist"]] += live.sway_m * lively * _smooth_noise(
                rng, tt, 3, *live.sway_hz)
        if live.jitter_m:
            base[:, ARM_FIELDS["wrist"]] += live.jitter_m * _smooth_noise(rng, tt, 3, 2.0, 5.0)
        if live.elbow_swing:
            base[:, ARM_FIELDS["elbow"]] += live.elbow_swing * lively * _smooth_noise(
                rng, tt, 3, *live.sway_hz)
        if live.shrug_deg:
            base[:, ARM_FIELDS["shrug"]] += live.shrug_deg * lively[:, 0] * _smooth_noise(
                rng, tt, 1, *live.sway_hz)[:, 0]
        base[:, ARM_FIELDS["flex"]] += 3.0 * _smooth_noise(rng, tt, 1, 0.1, 0.4)[:, 0]
        base[:, ARM_FIELDS["curl"]] += 0.04 * _smooth_noise(rng, tt, 1, 0.1, 0.3)
        arms[side] = base
    stroke = np.asarray(live.beat_stroke)
    nod = np.zeros(n_frames)
    for b in beats:
        bump = _bump(tt, b.time - live.beat_rise_s, b.time, b.time + live.beat_fall_s)
        for side in (("main", "other") if b.hands == "both" else (b.hands,)):
            a = arms[side]
            a[:, ARM_FIELDS["wrist"]] += (b.amplitude * bump)[:, None] * stroke
            a[:, ARM_FIELDS["flex"]] += live.beat_flex_deg * b.amplitude * bump
            a[:, ARM_FIELDS["shrug"]] += live.beat_shrug_deg * b.amplitude * bump
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
        poses[:, j] = to_rotvec(m)
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
    beats = _beats(words, stressed, is_kw, events, audio, plan.speaker, rng, LIVELY.beat_gap_s)
    n_frames = audio.size * FPS // AUDIO_SR
    poses, trans = _motion(n_frames, phrases, events, beats, plan.speaker, rng, LIVELY)
    labels = np.zeros(n_frames, dtype=np.int16)
    for ev in events:
        k0, k1 = math.ceil(ev.start * FPS - 1e-9), math.ceil(ev.end * FPS - 1e-9)
        labels[max(0, k0):min(n_frames, k1)] = ev.cls + 1
    return SequenceData(plan, audio, words, events, beats, poses, trans, labels)
