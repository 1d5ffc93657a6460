"""BEAT2 reader: the dataset exactly as ``beat_english_v2.0.0/`` stores it.

Layout (DESIGN §4)::

    ROOT/train_test_split.csv         id,type   (type: train / val / test / additional)
    ROOT/smplxflame_30/{id}.npz       poses (T,165) axis-angle of 55 SMPL-X joints, trans (T,3),
                                      betas (300,), expressions (T,100), mocap_frame_rate = 30,
                                      model, gender
    ROOT/wave16k/{id}.wav             speech (16 kHz mono in BEAT2; any rate/channels accepted)
    ROOT/textgrid/{id}.TextGrid       word tier first; empty marks are silence
    ROOT/sem/{id}.txt                 optional semantic-gesture annotations, tab separated:
                                      name, start, end, duration, score, keywords

Ids look like ``2_scott_0_1_1``; the first field is the speaker id (the paper trains on
speaker 2). Everything that is a fact of this dataset lives here.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import DataError
from ..metrics.motion_stats import motion_profile
from .clip import Clip
from .motion import NUM_SMPLX_JOINTS, SMPLX_JOINT_NAMES, joint_indices
from .transcript import Word, decode_text, read_textgrid
from .wav import AUDIO_SR, audio_duration, load_audio

NAME = "beat2"
FPS = 30
SPLITS = ("train", "val", "test", "additional")
SPLIT_FILE = "train_test_split.csv"
MOTION_DIR, WAVE_DIR, TEXTGRID_DIR, SEM_DIR = "smplxflame_30", "wave16k", "textgrid", "sem"
#: Audio and motion may disagree by this much (seconds) before a sequence is rejected; BEAT2's
#: own recordings differ by a few frames.
MAX_LENGTH_MISMATCH_S = 1.0


@dataclass(frozen=True)
class SemEvent:
    """One annotated semantic gesture (a row of ``sem/{id}.txt``)."""

    name: str
    start: float
    end: float
    duration: float
    score: float
    keywords: str


@dataclass
class Sequence:
    """One recording: motion at 30 fps, 16 kHz mono audio, words, optional semantic events."""

    id: str
    split: str
    poses: np.ndarray  # (T, 165) float32 axis-angle
    trans: np.ndarray  # (T, 3) float32
    betas: np.ndarray  # (300,) float32
    expressions: np.ndarray  # (T, 100) float32
    audio: np.ndarray  # (N,) float32 at AUDIO_SR
    words: list[Word]
    sem: list[SemEvent] | None = None
    fps: int = FPS
    extra: dict = field(default_factory=dict)

    @property
    def speaker(self) -> int:
        return speaker_of(self.id)

    @property
    def n_frames(self) -> int:
        return int(self.poses.shape[0])

    @property
    def duration(self) -> float:
        """Motion duration in seconds."""
        return self.n_frames / self.fps


def speaker_of(seq_id: str) -> int:
    """Speaker id of a BEAT2 sequence id (its first ``_`` field); -1 if it is not a number."""
    head = seq_id.split("_", 1)[0]
    return int(head) if head.isdigit() else -1


def is_beat2(root: str | Path) -> bool:
    """Whether ``root`` looks like a BEAT2 folder (has the split csv or the motion folder)."""
    root = Path(root)
    return (root / SPLIT_FILE).is_file() or (root / MOTION_DIR).is_dir()


def split_file(root: str | Path) -> Path:
    """Where BEAT2 decides the splits: ``train_test_split.csv``."""
    return Path(root) / SPLIT_FILE


def skeleton_bvh(root: str | Path) -> None:
    """BEAT2 is SMPL-X: no skeleton of its own."""
    return None


def read_split(root: str | Path) -> dict[str, str]:
    """``{id: split}`` from ``train_test_split.csv``."""
    path = Path(root) / SPLIT_FILE
    if not path.is_file():
        raise DataError(path, "split file not found (a BEAT2 folder has train_test_split.csv)")
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            rows = list(csv.DictReader(f))
    except (UnicodeDecodeError, csv.Error) as e:
        raise DataError(path, f"unreadable csv ({e})") from None
    if not rows or "id" not in rows[0] or "type" not in rows[0]:
        raise DataError(path, "expected a header 'id,type' and one row per sequence")
    out: dict[str, str] = {}
    for line, row in enumerate(rows, start=2):
        seq_id, split = (row.get("id") or "").strip(), (row.get("type") or "").strip().lower()
        if not seq_id:
            raise DataError(path, f"line {line}: empty id")
        if split not in SPLITS:
            raise DataError(path, f"line {line}: unknown split {split!r} for {seq_id}")
        out[seq_id] = split
    return out


def list_sequences(
    root: str | Path, *, speakers: list[int] | None = None, splits: list[str] | None = None
) -> list[tuple[str, str]]:
    """``(id, split)`` pairs of the split csv, filtered by speaker id and split, in file order."""
    table = read_split(root)
    return [
        (i, s) for i, s in table.items()
        if (speakers is None or speaker_of(i) in speakers) and (splits is None or s in splits)
    ]


def motion_path(root: str | Path, seq_id: str) -> Path:
    return Path(root) / MOTION_DIR / f"{seq_id}.npz"


def wave_path(root: str | Path, seq_id: str) -> Path:
    return Path(root) / WAVE_DIR / f"{seq_id}.wav"


def textgrid_path(root: str | Path, seq_id: str) -> Path:
    return Path(root) / TEXTGRID_DIR / f"{seq_id}.TextGrid"


def sem_path(root: str | Path, seq_id: str) -> Path:
    return Path(root) / SEM_DIR / f"{seq_id}.txt"


def read_smplx_npz(path: str | Path, fps: int | None = FPS) -> dict[str, np.ndarray]:
    """``poses (T,165)`` float32, ``trans (T,3)``, the frame rate and the file's other arrays of
    an npz in BEAT2's ``smplxflame_30`` layout, checked (finite, matching lengths); the rate must
    be ``fps``, or any positive rate when ``fps`` is None (files written at 15 fps)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "motion file not found")
    with path.open("rb") as f:
        magic = f.read(6)
    # numpy reads anything that is not a zip as a pickle (and then asks for allow_pickle): say
    # what the file is instead.
    if magic == b"\x93NUMPY":
        raise DataError(path, "not a readable npz file: a single-array .npy, not a BEAT2-layout "
                              ".npz (a zip of named arrays: poses, trans, mocap_frame_rate, …)")
    if magic[:4] != b"PK\x03\x04":
        raise DataError(path, "not a readable npz file: not a zip, as a BEAT2-layout .npz is "
                              "(named arrays: poses, trans, mocap_frame_rate, …)")
    try:
        with np.load(path, allow_pickle=False) as d:
            data = {k: d[k] for k in d.files}
    except ValueError as e:
        if "allow_pickle" in str(e):
            raise DataError(path, "not a readable npz file: not a BEAT2-layout .npz, it holds "
                                  "object arrays (not read: unpickling can run code)") from None
        raise DataError(path, f"not a readable npz file ({_first_line(e)})") from None
    except Exception as e:  # zipfile and format errors all mean "not a usable npz"
        raise DataError(path, f"not a readable npz file ({_first_line(e)})") from None
    if "poses" not in data:
        raise DataError(path, "npz has no 'poses' array (expected BEAT2 layout)")
    poses = _real_array(data["poses"], "poses", path)
    if poses.ndim != 2 or poses.shape[1] != 3 * NUM_SMPLX_JOINTS:
        raise DataError(path, f"'poses' has shape {poses.shape}, expected (T, {3 * NUM_SMPLX_JOINTS})")
    if poses.shape[0] == 0:
        raise DataError(path, "'poses' has no frames")
    bad = ~np.isfinite(poses).all(axis=1)  # after the float32 cast: 1e39 is infinite there
    if bad.any():
        raise DataError(path, f"'poses' holds NaN or infinite values (first at frame {int(np.argmax(bad))})")
    rate = _real_array(data.get("mocap_frame_rate", FPS), "mocap_frame_rate", path)
    shown = f"{float(rate.reshape(())):g}" if rate.size == 1 else str(rate.tolist())
    if fps is not None and (rate.size != 1 or float(rate.reshape(())) != fps):
        raise DataError(path, f"mocap_frame_rate is {shown}, BEAT2 motion is {fps} fps")
    if rate.size != 1 or not np.isfinite(rate).all() or float(rate.reshape(())) <= 0:
        raise DataError(path, f"'mocap_frame_rate' is {shown}, expected a positive frame rate")
    n = poses.shape[0]
    trans = _checked_frames(data.get("trans", np.zeros((n, 3))), "trans", n, path, width=3)
    return {**data, "poses": poses, "trans": trans, "mocap_frame_rate": float(rate.reshape(()))}


def read_motion(path: str | Path) -> dict[str, np.ndarray]:
    """The arrays of a ``smplxflame_30`` npz, checked: poses (T,165) finite, 30 fps."""
    data = read_smplx_npz(path, fps=FPS)
    path, n = Path(path), data["poses"].shape[0]
    return {
        "poses": data["poses"],
        "trans": data["trans"],
        "betas": _real_array(data.get("betas", np.zeros(300)), "betas", path).reshape(-1),
        "expressions": _checked_frames(data.get("expressions", np.zeros((n, 100))),
                                       "expressions", n, path),
    }


def _checked_frames(value, key: str, n: int, path: Path, width: int | None = None) -> np.ndarray:
    """A per-frame array ``(n, width or D)`` of real, finite numbers, as float32."""
    arr = _real_array(value, key, path)
    if arr.ndim != 2 or arr.shape[0] != n or (width is not None and arr.shape[1] != width):
        raise DataError(path, f"'{key}' has shape {arr.shape}, expected ({n}, "
                              f"{width if width is not None else 'D'}) like 'poses'")
    if not np.isfinite(arr).all():
        raise DataError(path, f"'{key}' holds NaN or infinite values")
    return arr


def _first_line(e: Exception) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__


def _real_array(value, key: str, path: Path) -> np.ndarray:
    """``value`` as float32, or a :class:`DataError` when it is not real numbers (text, complex)."""
    arr = np.asarray(value)
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.integer)
                                 or np.issubdtype(arr.dtype, np.floating)):
        raise DataError(path, f"'{key}' is not an array of real numbers (dtype {arr.dtype})")
    with np.errstate(over="ignore"):
        return arr.astype(np.float32)


def read_sem(path: str | Path) -> list[SemEvent]:
    """Semantic-gesture annotations of ``sem/{id}.txt`` (tab separated, no header)."""
    path = Path(path)
    try:
        text = decode_text(path.read_bytes())
    except UnicodeDecodeError:
        raise DataError(path, "not UTF-8/UTF-16 text") from None
    events = []
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        cols = line.split("\t")
        if len(cols) < 5:
            raise DataError(path, f"line {line_no}: expected name, start, end, duration, score, keywords")
        try:
            start, end, dur, score = (float(c) for c in cols[1:5])
        except ValueError:
            raise DataError(path, f"line {line_no}: non-numeric time or score") from None
        if not all(np.isfinite((start, end, dur, score))) or start < 0:
            raise DataError(path, f"line {line_no}: times and score must be finite, start ≥ 0")
        if end < start:
            raise DataError(path, f"line {line_no}: end {end} is before start {start}")
        events.append(SemEvent(cols[0].strip(), start, end, dur, score,
                               cols[5].strip() if len(cols) > 5 else ""))
    return events


def load_sequence(root: str | Path, seq_id: str, split: str | None = None) -> Sequence:
    """Read one sequence: motion, audio (16 kHz mono), TextGrid words and sem events if present.

    Raises :class:`DataError` naming the file for anything missing or inconsistent, including
    audio and motion lengths that differ by more than ``MAX_LENGTH_MISMATCH_S``.
    """
    root = Path(root)
    if split is None:
        split = read_split(root).get(seq_id, "train")
    motion = read_motion(motion_path(root, seq_id))
    audio = load_audio(wave_path(root, seq_id), AUDIO_SR)
    words = read_textgrid(textgrid_path(root, seq_id))
    n = motion["poses"].shape[0]
    audio_s, motion_s = audio.size / AUDIO_SR, n / FPS
    if abs(audio_s - motion_s) > MAX_LENGTH_MISMATCH_S:
        raise DataError(
            wave_path(root, seq_id),
            f"audio lasts {audio_s:.2f} s but the motion lasts {motion_s:.2f} s "
            f"(more than {MAX_LENGTH_MISMATCH_S:g} s apart)",
        )
    if words and words[-1].start > max(audio_s, motion_s) + MAX_LENGTH_MISMATCH_S:
        raise DataError(
            textgrid_path(root, seq_id),
            f"words run to {words[-1].end:.2f} s, past the end of the audio ({audio_s:.2f} s)",
        )
    sp = sem_path(root, seq_id)
    return Sequence(
        id=seq_id, split=split, audio=audio, words=words,
        sem=read_sem(sp) if sp.is_file() else None, **motion,
    )


def describe_sequence(root: str | Path, seq_id: str) -> dict:
    """Frames, words and problems of one sequence, without decoding its audio.

    Returns ``{"frames": int | None, "joints": 55, "words": [...], "problems": [{"file",
    "problem"}], "motion": arm-motion statistics (:mod:`eggesture.metrics.motion_stats`) or
    None}``; ``frames`` is None when the sequence cannot be used.
    """
    root = Path(root)
    problems: list[dict] = []
    words: list[str] = []
    n = profile = None

    def note(e: DataError) -> None:
        problems.append({"file": e.file, "problem": e.problem})

    try:
        poses = read_motion(motion_path(root, seq_id))["poses"]
        n = poses.shape[0]
        profile = motion_profile(poses) if n >= 3 else None
    except DataError as e:
        note(e)
    wp = wave_path(root, seq_id)
    dur = None
    try:
        if not wp.is_file():
            raise DataError(wp, "audio file not found")
        if wp.stat().st_size == 0:
            raise DataError(wp, "audio file is empty (0 bytes)")
        dur = audio_duration(wp)
        if n is not None and abs(dur - n / FPS) > MAX_LENGTH_MISMATCH_S:
            raise DataError(wp, f"audio lasts {dur:.2f} s but the motion lasts {n / FPS:.2f} s "
                                f"(more than {MAX_LENGTH_MISMATCH_S:g} s apart)")
    except DataError as e:
        note(e)
    try:
        timed = read_textgrid(textgrid_path(root, seq_id))
        words = [w.text for w in timed]
        known = [d for d in (dur, None if n is None else n / FPS) if d is not None]
        if timed and known and timed[-1].start > max(known) + MAX_LENGTH_MISMATCH_S:
            raise DataError(textgrid_path(root, seq_id), f"words run to {timed[-1].end:.2f} s, past "
                                                         f"the end of the audio ({max(known):.2f} s)")
    except DataError as e:
        note(e)
    sp = sem_path(root, seq_id)
    if sp.is_file():
        try:
            read_sem(sp)
        except DataError as e:
            note(e)
    return {"frames": None if problems else n, "joints": NUM_SMPLX_JOINTS, "words": words,
            "problems": problems, "motion": None if problems else profile}


def detect(root: str | Path) -> bool:
    """Whether ``root`` is a BEAT2-layout folder."""
    return is_beat2(root)


def load_clip(root: str | Path, seq_id: str, split: str, joint_set: str) -> Clip:
    """A sequence as a :class:`~eggesture.data.clip.Clip` of the SMPL-X ``joint_set``."""
    seq = load_sequence(root, seq_id, split)
    idx = list(joint_indices(joint_set))
    rotvec = seq.poses.reshape(seq.n_frames, NUM_SMPLX_JOINTS, 3)[:, idx]
    sem = [(e.name, e.start, e.end) for e in seq.sem] if seq.sem is not None else None
    return Clip(id=seq.id, split=split, fps=FPS, rotvec=rotvec,
                joint_names=[SMPLX_JOINT_NAMES[i] for i in idx], audio=seq.audio,
                words=seq.words, sem=sem)
