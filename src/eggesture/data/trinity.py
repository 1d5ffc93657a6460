"""Trinity Speech-Gesture / GENEA 2020 reader: BVH motion, speech wav, speech-recognition JSON.

Layout of the GENEA Challenge 2020 release (``Training_data/``), and what this reader accepts::

    ROOT/Motion/Recording_001.bvh        60 fps, Euler channels (Zrotation Xrotation Yrotation)
    ROOT/Audio/Recording_001.wav         speech (any rate/channels; read as 16 kHz mono)
    ROOT/Transcripts/Recording_001.json  [{"alternatives": [{"words": [{"start_time": "0.400s",
                                           "end_time": "0.800s", "word": "so"}, ...]}]}, ...]

``ROOT`` may also be the release folder holding ``Training_data/`` in that layout, or a flat
folder with ``{id}.bvh``, ``{id}.wav`` and ``{id}.json`` side by side (a user's own mocap). A
transcript may also be a Praat ``.TextGrid`` or a plain ``.txt`` (words then spread over the
voiced audio).

Split (the standard one of the Trinity/GENEA literature): recordings 1–2 are the development
set (``"val"``), 3–5 the test set, every other recording trains; the recording number is the
last number in the file name (``Recording_001`` → 1; a name without a number trains).

Motion: local rotations of the upper body, ``UPPER_BODY`` (Spine … Hand, the 15 joints the
GENEA 2020 baseline uses), as axis-angle at the file's frame rate. The root (``Hips``) is left
out, so its translation and heading are removed: the motion is hip-centred. Resampling to the
model's 15 fps and the 6D conversion happen in :mod:`eggesture.data.windows`, shared with BEAT2.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ..errors import DataError
from .bvh import Bvh, read_bvh
from .clip import Clip
from .motion import matrix_to_axis_angle
from .transcript import Word, read_asr_json, read_textgrid, read_transcript
from .wav import AUDIO_SR, audio_duration, load_audio

NAME = "trinity"
FPS = 60
#: The dataset has a single speaker; this is its id for ``--speaker`` / ``speakers`` filters.
SPEAKER = 1
ROOT_JOINT = "Hips"
#: The generated joints (GENEA 2020 skeleton names), parents before children.
UPPER_BODY: tuple[str, ...] = (
    "Spine", "Spine1", "Spine2", "Spine3", "Neck", "Neck1", "Head",
    "RightShoulder", "RightArm", "RightForeArm", "RightHand",
    "LeftShoulder", "LeftArm", "LeftForeArm", "LeftHand",
)
HANDS = ("RightHand", "LeftHand")
#: Joint sets: ``upper`` (default, the paper's), ``hands`` (every joint below the two hands
#: that has rotation channels: the fingers), ``upper_hands`` and ``full`` (every joint with
#: rotation channels, the root's rotation included). GENEA 2020's finger motion is of low
#: quality, which is why the paper's Trinity runs use ``upper``.
JOINT_SETS = ("upper", "hands", "upper_hands", "full")
DEFAULT_JOINT_SET = "upper"
DEV_RECORDINGS = (1, 2)
TEST_RECORDINGS = (3, 4, 5)
MOTION_DIR, AUDIO_DIR, TRANSCRIPT_DIR = "Motion", "Audio", "Transcripts"
RELEASE_SUBDIR = "Training_data"
TRANSCRIPT_SUFFIXES = (".json", ".TextGrid", ".txt")
#: Audio and motion may disagree by this much (seconds) before a recording is rejected.
MAX_LENGTH_MISMATCH_S = 1.0


# --- layout ---------------------------------------------------------------------------------

def _folders(root: str | Path) -> tuple[Path, Path, Path] | None:
    """``(motion, audio, transcript)`` folders of a Trinity folder, or None if it is not one."""
    root = Path(root)
    for base in (root, root / RELEASE_SUBDIR):
        if (base / MOTION_DIR).is_dir():
            return base / MOTION_DIR, base / AUDIO_DIR, base / TRANSCRIPT_DIR
    if root.is_dir() and any(root.glob("*.bvh")):
        return root, root, root
    return None


def _require_folders(root: str | Path) -> tuple[Path, Path, Path]:
    folders = _folders(root)
    if folders is None:
        raise DataError(root, f"not a Trinity/GENEA folder (expected {MOTION_DIR}/*.bvh, "
                              f"{RELEASE_SUBDIR}/{MOTION_DIR}/*.bvh or *.bvh)")
    return folders


def detect(root: str | Path) -> bool:
    """Whether ``root`` is a Trinity/GENEA folder (``Motion/``, ``Training_data/Motion/`` or
    BVH files at the top)."""
    return _folders(root) is not None


def motion_path(root: str | Path, seq_id: str) -> Path:
    return _require_folders(root)[0] / f"{seq_id}.bvh"


def audio_path(root: str | Path, seq_id: str) -> Path:
    return _require_folders(root)[1] / f"{seq_id}.wav"


def transcript_path(root: str | Path, seq_id: str) -> Path:
    """The recording's transcript: the first of ``.json``, ``.TextGrid``, ``.txt`` that exists
    (the ``.json`` path if none does, for the error message)."""
    folder = _require_folders(root)[2]
    for suffix in TRANSCRIPT_SUFFIXES:
        p = folder / f"{seq_id}{suffix}"
        if p.is_file():
            return p
    return folder / f"{seq_id}.json"


# --- split ----------------------------------------------------------------------------------

def recording_number(seq_id: str) -> int | None:
    """The last number in a recording id (``Recording_001`` → 1), or None."""
    nums = re.findall(r"\d+", seq_id)
    return int(nums[-1]) if nums else None


def split_of(seq_id: str) -> str:
    """``"val"`` for recordings 1–2, ``"test"`` for 3–5, ``"train"`` for the rest."""
    n = recording_number(seq_id)
    if n in DEV_RECORDINGS:
        return "val"
    if n in TEST_RECORDINGS:
        return "test"
    return "train"


def list_sequences(
    root: str | Path, *, speakers: list[int] | None = None, splits: list[str] | None = None
) -> list[tuple[str, str]]:
    """``(id, split)`` of every BVH file, by recording number, filtered by speaker and split."""
    motion_dir = _require_folders(root)[0]
    if speakers is not None and SPEAKER not in speakers:
        return []
    ids = sorted((p.stem for p in motion_dir.glob("*.bvh")),
                 key=lambda i: (recording_number(i) is None, recording_number(i) or 0, i))
    return [(i, split_of(i)) for i in ids if splits is None or split_of(i) in splits]


# --- skeleton and joint sets ----------------------------------------------------------------

def skeleton_template(root: str | Path) -> Bvh:
    """The dataset's skeleton (hierarchy, offsets, channels) with no frames.

    Taken from the first training recording (the first recording if none trains); generated
    motion is written back on it by :func:`eggesture.export.bvh.write_skeleton_bvh`.
    """
    seqs = list_sequences(root)
    if not seqs:
        raise DataError(_require_folders(root)[0], "no BVH files found")
    train = [i for i, s in seqs if s == "train"]
    return read_bvh(motion_path(root, (train or [seqs[0][0]])[0]), header_only=True)


def skeleton_bvh(root: str | Path) -> str:
    """:func:`skeleton_template` as BVH text (generation writes on the dataset's skeleton)."""
    return skeleton_template(root).to_text()


def split_file(root: str | Path) -> Path:
    """Trinity's splits follow the recording numbers in the file names: the dataset folder."""
    return Path(root)


def joint_set_names(skeleton: Bvh, joint_set: str = DEFAULT_JOINT_SET) -> list[str]:
    """Names of ``joint_set``'s joints on ``skeleton``, in hierarchy order.

    Raises :class:`DataError` naming the skeleton's file when a joint of the set is missing or
    has no rotation channels.
    """
    if joint_set not in JOINT_SETS:
        raise ValueError(f"unknown Trinity joint set {joint_set!r}; choose one of "
                         f"{', '.join(JOINT_SETS)}")
    names = skeleton.joint_names
    rotating = {j.name for j in skeleton.joints if j.rotation_order}
    need = UPPER_BODY if joint_set in ("upper", "upper_hands") else ()
    if joint_set in ("hands", "upper_hands"):
        need += HANDS  # the fingers are found below the hands
    for n in need:
        if n not in names:
            raise DataError(skeleton.path, f"skeleton has no joint {n!r} (needed by joint set "
                                           f"{joint_set!r}; joints: {', '.join(names[:8])}, …)")
        if n not in rotating:
            raise DataError(skeleton.path, f"joint {n!r} has no rotation channels")
    if joint_set == "upper":
        chosen = set(UPPER_BODY)
    elif joint_set == "full":
        chosen = set(rotating)
    else:
        fingers = {skeleton.joints[k].name for h in HANDS
                   for k in skeleton.descendants(skeleton.index(h))} & rotating
        chosen = fingers | (set(UPPER_BODY) if joint_set == "upper_hands" else set())
    return [n for n in names if n in chosen]


def clip_rotations(bvh: Bvh, names: list[str]) -> np.ndarray:
    """Local rotations of the named joints as axis-angle ``(T, J, 3)`` float32."""
    missing = [n for n in names if n not in bvh.joint_names]
    if missing:
        raise DataError(bvh.path, f"skeleton has no joint {missing[0]!r} (the dataset's other "
                                  f"recordings have it)")
    mats = bvh.local_rotations([bvh.index(n) for n in names])  # (T, J, 3, 3)
    return matrix_to_axis_angle(mats).astype(np.float32)


# --- reading --------------------------------------------------------------------------------

def read_words(root: str | Path, seq_id: str, audio: np.ndarray | None = None) -> list[Word]:
    """Words of a recording's transcript (JSON, TextGrid, or plain text placed on ``audio``)."""
    path = transcript_path(root, seq_id)
    if not path.is_file():
        raise DataError(path, "transcript not found (expected a .json, .TextGrid or .txt file "
                              f"named {seq_id})")
    if path.suffix == ".json":
        return read_asr_json(path)
    if path.suffix == ".TextGrid":
        return read_textgrid(path)
    if audio is None:
        audio = load_audio(audio_path(root, seq_id), AUDIO_SR)
    return read_transcript(path, audio, AUDIO_SR)


def _check_lengths(root: Path, seq_id: str, audio_s: float, motion_s: float) -> None:
    if abs(audio_s - motion_s) > MAX_LENGTH_MISMATCH_S:
        raise DataError(audio_path(root, seq_id),
                        f"audio lasts {audio_s:.2f} s but the motion lasts {motion_s:.2f} s "
                        f"(more than {MAX_LENGTH_MISMATCH_S:g} s apart)")


def load_clip(root: str | Path, seq_id: str, split: str, joint_set: str = DEFAULT_JOINT_SET
              ) -> Clip:
    """A recording as a :class:`~eggesture.data.clip.Clip`: hip-centred local rotations of
    ``joint_set`` at the file's frame rate (60 fps), 16 kHz mono audio and timed words.

    The joints of ``joint_set`` are those of the dataset's skeleton template, so every
    recording yields the same joints in the same order.
    """
    root = Path(root)
    names = joint_set_names(skeleton_template(root), joint_set)
    bvh = read_bvh(motion_path(root, seq_id))
    rotvec = clip_rotations(bvh, names)
    audio = load_audio(audio_path(root, seq_id), AUDIO_SR)
    audio_s, motion_s = audio.size / AUDIO_SR, bvh.n_frames / bvh.fps
    _check_lengths(root, seq_id, audio_s, motion_s)
    words = read_words(root, seq_id, audio)
    if words and words[-1].start > max(audio_s, motion_s) + MAX_LENGTH_MISMATCH_S:
        raise DataError(transcript_path(root, seq_id),
                        f"words run to {words[-1].end:.2f} s, past the end of the audio "
                        f"({audio_s:.2f} s)")
    return Clip(id=seq_id, split=split, fps=bvh.fps, rotvec=rotvec, joint_names=names,
                audio=audio, words=words, sem=None)


def describe_sequence(root: str | Path, seq_id: str) -> dict:
    """Frames, joints, words and problems of one recording, without decoding its audio.

    Returns ``{"frames": int | None, "joints": int, "words": [...], "problems": [{"file",
    "problem"}]}``. ``frames`` counts frames at :data:`FPS` (a file at another rate is
    converted by its duration) and is None when the recording cannot be used; ``joints`` is
    the number of joints of the recording's skeleton.
    """
    root = Path(root)
    problems: list[dict] = []
    words: list[str] = []
    frames = joints = None
    motion_s = None

    def note(e: DataError) -> None:
        problems.append({"file": e.file, "problem": e.problem})

    try:
        bvh = read_bvh(motion_path(root, seq_id))
        joints = len(bvh.joints)
        joint_set_names(bvh, DEFAULT_JOINT_SET)
        motion_s = bvh.n_frames / bvh.fps
        frames = int(round(motion_s * FPS))
    except DataError as e:
        note(e)
    ap = audio_path(root, seq_id)
    dur = None
    try:
        if not ap.is_file():
            raise DataError(ap, "audio file not found")
        if ap.stat().st_size == 0:
            raise DataError(ap, "audio file is empty (0 bytes)")
        dur = audio_duration(ap)
        if motion_s is not None:
            _check_lengths(root, seq_id, dur, motion_s)
    except DataError as e:
        note(e)
    try:
        tp = transcript_path(root, seq_id)
        if tp.suffix == ".txt" and tp.is_file():  # untimed: count the words only
            from .transcript import decode_text, normalize_word

            words = [w for w in map(normalize_word, decode_text(tp.read_bytes()).split()) if w]
        else:
            timed = read_words(root, seq_id)
            words = [w.text for w in timed]
            known = [d for d in (dur, motion_s) if d is not None]
            if timed and known and timed[-1].start > max(known) + MAX_LENGTH_MISMATCH_S:
                raise DataError(tp, f"words run to {timed[-1].end:.2f} s, past the end of the "
                                    f"audio ({max(known):.2f} s)")
    except (DataError, UnicodeDecodeError) as e:
        if isinstance(e, UnicodeDecodeError):
            e = DataError(transcript_path(root, seq_id), "transcript is not UTF-8 or UTF-16 text")
        note(e)
    return {"frames": None if problems else frames, "joints": joints, "words": words,
            "problems": problems}
