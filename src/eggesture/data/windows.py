"""Training windows and their on-disk cache.

A dataset folder is *prepared* once per setting: every sequence is read through its reader
(:mod:`eggesture.data.datasets`), resampled to ``fps`` by slerp, turned into 6D rotations of the
chosen joint set, and stored with its audio features, frame-aligned word ids and ground-truth
gesture labels as flat memory-mapped arrays. Windows are then just ``(sequence, start)`` pairs
into those arrays, so a 4-hour corpus costs no more than its frames, and a second run starts in
seconds.

Cache location: ``$EGGESTURE_CACHE`` or ``~/.cache/eggesture``, one folder per key (the
absolute data path, the files' sizes and times, the settings and ``CACHE_VERSION``). A folder
is written under a temporary name and renamed when complete, so an interrupted build is never
mistaken for a finished one.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from ..config import Config, DataConfig
from ..errors import DataError
from ..features.audio import N_FEATURES, PER_FRAME, audio_features
from ..io import atomic_path, finish_dir_temp, make_dir_temp
from .clip import Clip
from .datasets import detect
from .motion import NormStats, axis_angle_to_6d, resample_rotations, resampled_length
from .transcript import frame_words
from .wav import AUDIO_SR

CACHE_VERSION = 1
#: Reserved word ids: padding/silence and out-of-vocabulary.
PAD, UNK = 0, 1


@dataclass(frozen=True)
class WindowSettings:
    """How a dataset folder is cut into model windows (defaults: :class:`DataConfig`'s)."""

    fps: float = DataConfig.fps
    """Motion frame rate of the model (the paper: 15)."""
    length: int = DataConfig.length
    """Window length in frames (the paper: 300 = 20 s)."""
    stride: int = DataConfig.stride
    """Frames between the starts of consecutive training windows."""
    joint_set: str = DataConfig.joint_set
    """Generated joints (see :data:`eggesture.data.motion.JOINT_SETS`)."""
    speakers: tuple[int, ...] | None = None
    """Keep only these speaker ids (BEAT2: the id's first field); None keeps all."""
    min_word_count: int = 1
    """Training-split words seen fewer times than this map to the unknown id."""

    def __post_init__(self):
        if self.fps <= 0:
            raise ValueError(f"fps must be positive, got {self.fps}")
        if self.length < 4 or self.length % 4:
            raise ValueError(f"length must be a positive multiple of 4 (4× downsampling), got {self.length}")
        if self.stride < 1:
            raise ValueError(f"stride must be ≥ 1, got {self.stride}")

    @classmethod
    def from_config(cls, cfg: Config) -> WindowSettings:
        """The window settings of a run config's data section (training and evaluation alike)."""
        d = cfg.data
        return cls(fps=d.fps, length=d.length, stride=d.stride, joint_set=d.joint_set,
                   speakers=tuple(d.speakers) if d.speakers else None)

    def key(self) -> dict:
        d = asdict(self)
        d["speakers"] = list(self.speakers) if self.speakers else None
        return d


@dataclass
class PreparedData:
    """All sequences of a dataset folder at the model's frame rate, as flat arrays.

    Frame arrays are concatenated over sequences; ``offsets[i]`` is the first frame of
    sequence ``i`` (``offsets[-1]`` the total). Audio samples and audio feature frames are
    concatenated the same way with their own offsets.
    """

    root: str
    settings: WindowSettings
    ids: list[str]
    splits: list[str]
    joint_names: list[str]
    motion: np.ndarray  # (F, J, 6) float32, 6D rotations, not normalised
    words: np.ndarray  # (F,) int32 vocabulary ids (PAD = silence)
    sem: np.ndarray  # (F,) int16 ground-truth gesture class (0 = none; classes 1..C)
    audio: np.ndarray  # (S,) float32 at 16 kHz
    audio_feats: np.ndarray  # (F·PER_FRAME, N_FEATURES) float32
    offsets: np.ndarray  # (n_seq + 1,) frame offsets
    audio_offsets: np.ndarray  # (n_seq + 1,) sample offsets
    vocab: list[str]  # id → word; ids 0, 1 are PAD, UNK
    sem_classes: list[str]  # class id c ≥ 1 is sem_classes[c − 1]
    norm: NormStats  # statistics of the flattened 6D motion over the training split
    sem_events: list[list[tuple[str, float, float]] | None] = field(default_factory=list)
    key: str = ""
    """The cache key of this preparation (data files + settings + training splits)."""

    @property
    def n_joints(self) -> int:
        return int(self.motion.shape[1])

    @property
    def motion_dim(self) -> int:
        return int(self.motion.shape[1] * 6)

    def sequence_indices(self, splits: list[str] | tuple[str, ...]) -> list[int]:
        """Indices of the sequences in ``splits``."""
        return [i for i, s in enumerate(self.splits) if s in splits]

    def n_frames(self, i: int) -> int:
        return int(self.offsets[i + 1] - self.offsets[i])

    def windows(self, splits: list[str] | tuple[str, ...], stride: int | None = None) -> np.ndarray:
        """``(W, 2)`` array of ``(sequence, start_frame)`` of every full window in ``splits``.

        A sequence of T frames holds ``max(0, (T − length) // stride + 1)`` windows.
        """
        length, stride = self.settings.length, stride or self.settings.stride
        rows = [(i, s) for i in self.sequence_indices(splits)
                for s in range(0, self.n_frames(i) - length + 1, stride)]
        return np.asarray(rows, dtype=np.int64).reshape(-1, 2)

    def word_id(self, word: str) -> int:
        if not word:
            return PAD
        return self._word_index().get(word, UNK)

    def _word_index(self) -> dict[str, int]:
        if not hasattr(self, "_windex"):
            self._windex = {w: i for i, w in enumerate(self.vocab)}
        return self._windex

    def sequence(self, i: int) -> dict[str, np.ndarray]:
        """The arrays of sequence ``i`` (views into the cache)."""
        a, b = self.offsets[i], self.offsets[i + 1]
        sa, sb = self.audio_offsets[i], self.audio_offsets[i + 1]
        return {
            "motion": self.motion[a:b], "words": self.words[a:b], "sem": self.sem[a:b],
            "audio": self.audio[sa:sb], "audio_feats": self.audio_feats[a * PER_FRAME:b * PER_FRAME],
        }

    def window(self, seq: int, start: int, length: int | None = None) -> dict[str, np.ndarray]:
        """Arrays of one window: motion ``(L, J, 6)``, words ``(L,)``, sem ``(L,)``,
        audio features ``(L·PER_FRAME, F)`` and audio samples ``(L/fps·16000,)``."""
        length = length or self.settings.length
        a = self.offsets[seq] + start
        fps = self.settings.fps
        s0 = self.audio_offsets[seq] + int(round(start / fps * AUDIO_SR))
        n_s = int(round(length / fps * AUDIO_SR))
        audio = np.asarray(self.audio[s0:min(s0 + n_s, self.audio_offsets[seq + 1])])
        return {
            "motion": np.asarray(self.motion[a:a + length]),
            "words": np.asarray(self.words[a:a + length]),
            "sem": np.asarray(self.sem[a:a + length]),
            "audio_feats": np.asarray(self.audio_feats[a * PER_FRAME:(a + length) * PER_FRAME]),
            "audio": np.pad(audio, (0, n_s - audio.size)),
        }


# --- building -------------------------------------------------------------------------------

def cache_root() -> Path:
    return Path(os.environ.get("EGGESTURE_CACHE", Path.home() / ".cache" / "eggesture"))


def _fingerprint(root: Path, settings: WindowSettings) -> str:
    files = []
    for p in sorted(root.rglob("*")):
        # Hidden paths (e.g. `.eggesture/` with a trained FGD autoencoder) are not data.
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts):
            st = p.stat()
            files.append((str(p.relative_to(root)), st.st_size, st.st_mtime_ns))
    blob = json.dumps({"root": str(root.resolve()), "files": files, "settings": settings.key(),
                       "version": CACHE_VERSION}, sort_keys=True)
    return hashlib.sha1(blob.encode()).hexdigest()[:16]


def list_sequences(root: str | Path, settings: WindowSettings = WindowSettings()) -> list[tuple[str, str]]:
    """``(id, split)`` of every sequence of ``root`` that :func:`prepare` reads (its speakers
    only), from the dataset's listing alone; :class:`DataError` when there is none."""
    speakers = list(settings.speakers) if settings.speakers else None
    seqs = detect(root).list_sequences(Path(root), speakers=speakers)
    if not seqs:
        raise DataError(root, "no sequences listed" + (f" for speakers {speakers}" if speakers else ""))
    return seqs


def prepare(
    root: str | Path,
    settings: WindowSettings = WindowSettings(),
    *,
    train_splits: tuple[str, ...] = ("train",),
    use_cache: bool = True,
    progress: Callable[[int, int, str], None] | None = None,
) -> PreparedData:
    """Prepare (or load from the cache) every sequence of ``root`` for the model.

    Normalisation statistics and the vocabulary come from the sequences of ``train_splits``
    only. ``progress(done, total, id)`` is called after each sequence.
    """
    root = Path(root)
    reader = detect(root)
    key = _fingerprint(root, settings) + "-" + hashlib.sha1(
        json.dumps(sorted(train_splits)).encode()).hexdigest()[:6]
    folder = cache_root() / "windows" / key
    if use_cache and (folder / "meta.json").is_file():
        try:
            return replace(_load(folder), key=key)
        except Exception:  # damaged in any way (the cache is disposable): rebuild below
            shutil.rmtree(folder, ignore_errors=True)

    seqs = list_sequences(root, settings)
    clips: list[dict] = []
    for n, (seq_id, split) in enumerate(seqs, start=1):
        clip = reader.load_clip(root, seq_id, split, settings.joint_set)
        clips.append(_resample_clip(clip, settings.fps))
        if progress:
            progress(n, len(seqs), seq_id)
    if not any(c["split"] in train_splits for c in clips):
        have = sorted({c["split"] for c in clips})
        raise DataError(reader.split_file(root),
                        f"no sequences in the training split(s) {list(train_splits)}; it has "
                        f"{', '.join(have)} (to train on those anyway, e.g. on one sample: "
                        f"data.train_splits=[{','.join(have)}] data.val_splits=[])")
    data = replace(_assemble(str(root), settings, clips, train_splits), key=key)
    if use_cache:
        _save(data, folder)
        return replace(_load(folder), key=key)
    return data


def _resample_clip(clip: Clip, fps: float) -> dict:
    n = resampled_length(clip.rotvec.shape[0], clip.fps, fps)
    rot = resample_rotations(clip.rotvec, clip.fps, fps, n)  # (n, J, 3)
    return {
        "id": clip.id, "split": clip.split, "joint_names": clip.joint_names,
        "motion": axis_angle_to_6d(rot.astype(np.float32)).astype(np.float32),  # (n, J, 6)
        "words": frame_words(clip.words, n, fps),
        "audio": clip.audio.astype(np.float32),
        "audio_feats": audio_features(clip.audio, n, fps),
        "sem": clip.sem,
    }


def _assemble(root: str, settings: WindowSettings, clips: list[dict],
              train_splits: tuple[str, ...]) -> PreparedData:
    counts: dict[str, int] = {}
    for c in clips:
        if c["split"] in train_splits:
            for w in c["words"]:
                if w:
                    counts[w] = counts.get(w, 0) + 1
    vocab = ["<pad>", "<unk>"] + sorted(w for w, k in counts.items() if k >= settings.min_word_count)
    index = {w: i for i, w in enumerate(vocab)}
    classes = sorted({name for c in clips if c["sem"] for name, _, _ in c["sem"]})
    cls_index = {name: i + 1 for i, name in enumerate(classes)}
    fps = settings.fps
    sem_frames = []
    for c in clips:
        lab = np.zeros(len(c["words"]), np.int16)
        for name, t0, t1 in c["sem"] or []:
            lab[max(0, int(np.ceil(t0 * fps))):max(0, int(np.ceil(t1 * fps)))] = cls_index[name]
        sem_frames.append(lab)
    offsets = np.cumsum([0] + [c["motion"].shape[0] for c in clips]).astype(np.int64)
    audio_offsets = np.cumsum([0] + [c["audio"].size for c in clips]).astype(np.int64)
    motion = np.concatenate([c["motion"] for c in clips])
    train_frames = np.concatenate(
        [c["motion"] for c in clips if c["split"] in train_splits]).reshape(-1, motion.shape[1] * 6)
    return PreparedData(
        root=root, settings=settings, ids=[c["id"] for c in clips],
        splits=[c["split"] for c in clips], joint_names=clips[0]["joint_names"],
        motion=motion,
        words=np.asarray([index.get(w, UNK) if w else PAD for c in clips for w in c["words"]],
                         dtype=np.int32),
        sem=np.concatenate(sem_frames),
        audio=np.concatenate([c["audio"] for c in clips]),
        audio_feats=np.concatenate([c["audio_feats"] for c in clips]).reshape(-1, N_FEATURES),
        offsets=offsets, audio_offsets=audio_offsets, vocab=vocab, sem_classes=classes,
        norm=NormStats.compute(train_frames),
        sem_events=[c["sem"] for c in clips],
    )


_ARRAYS = ("motion", "words", "sem", "audio", "audio_feats", "offsets", "audio_offsets")


#: A temporary cache folder this old is left over from a killed build (a save takes seconds).
STALE_TEMP_S = 3600


def _save(data: PreparedData, folder: Path) -> None:
    folder.parent.mkdir(parents=True, exist_ok=True)
    for old in folder.parent.glob(".*"):  # builds killed before their rename
        try:
            if old.is_dir() and time.time() - old.stat().st_mtime > STALE_TEMP_S:
                shutil.rmtree(old, ignore_errors=True)
        except OSError:
            pass
    tmp = make_dir_temp(folder.parent, folder.name)
    try:
        for name in _ARRAYS:
            np.save(tmp / f"{name}.npy", getattr(data, name))
        data.norm.save(tmp / "norm.safetensors")
        meta = {
            "version": CACHE_VERSION, "root": data.root, "settings": data.settings.key(),
            "ids": data.ids, "splits": data.splits, "joint_names": data.joint_names,
            "vocab": data.vocab, "sem_classes": data.sem_classes,
            "sem_events": [[list(e) for e in ev] if ev is not None else None
                           for ev in data.sem_events],
        }
        (tmp / "meta.json").write_text(json.dumps(meta))
        finish_dir_temp(tmp)
        try:
            os.replace(tmp, folder)
        except OSError:  # another process finished the same cache first: keep theirs
            pass
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _load(folder: Path) -> PreparedData:
    meta = json.loads((folder / "meta.json").read_text())
    if meta.get("version") != CACHE_VERSION:
        raise ValueError("cache version mismatch")
    arrays = {name: np.load(folder / f"{name}.npy", mmap_mode="r") for name in _ARRAYS}
    _check_arrays(arrays, meta)
    norm = NormStats.load(folder / "norm.safetensors")
    if norm.mean.shape != (arrays["motion"].shape[1] * 6,):
        raise ValueError("cached normalisation statistics do not fit the motion")
    s = dict(meta["settings"])
    s["speakers"] = tuple(s["speakers"]) if s["speakers"] else None
    return PreparedData(
        root=meta["root"], settings=WindowSettings(**s), ids=meta["ids"], splits=meta["splits"],
        joint_names=meta["joint_names"], vocab=meta["vocab"], sem_classes=meta["sem_classes"],
        norm=norm,
        sem_events=[[tuple(e) for e in ev] if ev is not None else None for ev in meta["sem_events"]],
        **arrays,
    )


def _check_arrays(a: dict[str, np.ndarray], meta: dict) -> None:
    """Raise ValueError unless the cached arrays agree with each other and with ``meta`` (a
    damaged or hand-edited cache is rebuilt rather than read out of bounds)."""
    n_seq, frames = len(meta["ids"]), a["offsets"][-1] if len(a["offsets"]) else -1
    ok = (len(a["offsets"]) == len(a["audio_offsets"]) == n_seq + 1 == len(meta["splits"]) + 1
          and a["motion"].ndim == 3 and a["motion"].shape[0] == frames
          and a["motion"].shape[1] == len(meta["joint_names"]) and a["motion"].shape[2] == 6
          and a["words"].shape == (frames,) and a["sem"].shape == (frames,)
          and a["audio"].ndim == 1 and a["audio"].shape[0] == a["audio_offsets"][-1]
          and a["audio_feats"].shape == (frames * PER_FRAME, N_FEATURES)
          and bool(np.all(np.diff(a["offsets"]) >= 0)) and bool(np.all(np.diff(a["audio_offsets"]) >= 0)))
    if not ok:
        raise ValueError("cache arrays do not agree with each other")


# --- pretrained audio features ----------------------------------------------------------------

def attach_audio_features(data: PreparedData, extractor, *,
                          progress: Callable[[int, int, str], None] | None = None) -> PreparedData:
    """Replace ``data.audio_feats`` by ``extractor``'s features of every sequence, cached on disk.

    ``extractor`` is a :class:`eggesture.features.pretrained_audio.PretrainedAudioFeatures`.
    The cache file is keyed by the preparation's key and the extractor's fingerprint, written
    under a temporary name and renamed, and rebuilt if its shape does not fit the data.
    """
    fps, h = data.settings.fps, extractor.n_features
    key = hashlib.sha1((data.key + extractor.fingerprint()).encode()).hexdigest()[:16]
    path = cache_root() / "audio_features" / f"{key}.npy"
    shape = (int(data.offsets[-1]) * PER_FRAME, h)
    if path.is_file():
        try:
            arr = np.load(path, mmap_mode="r")
            if arr.shape == shape and arr.dtype == np.float32:
                data.audio_feats = arr
                return data
        except (OSError, ValueError):
            pass  # damaged: rebuilt below
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=shape)
        for i, seq_id in enumerate(data.ids):
            a, b = data.offsets[i], data.offsets[i + 1]
            wave = data.audio[data.audio_offsets[i]:data.audio_offsets[i + 1]]
            out[a * PER_FRAME:b * PER_FRAME] = extractor.features(wave, int(b - a), fps)
            if progress:
                progress(i + 1, len(data.ids), seq_id)
        out.flush()
        del out
    data.audio_feats = np.load(path, mmap_mode="r")
    return data
