"""Writing a synthetic corpus: each sequence's files in BEAT2 layout, byte-for-byte reproducible,
and ``corpus.json`` (:func:`synthesize_corpus`, :func:`corpus_summary`)::

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

Reproducible bytes: fixed zip timestamps, PCM wav, ordered json, and each sequence built in a
fresh worker process because espeak-ng's output depends on what the same process synthesised
before.
"""

from __future__ import annotations

import io
import json
import multiprocessing as mp
import os
import tempfile
import wave
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from praatio import textgrid

from ...errors import DataError
from ...io import write_bytes, write_json, write_text
from ...metrics.motion_stats import (
    against_beat2_sample,
    motion_profile,  # here: importing the package stays light
)
from ...metrics.recall import split_head_tail
from ..wav import AUDIO_SR
from .arm import NUM_JOINTS
from .gestures import GESTURES
from .plan import HELD_OUT, SequencePlan, fit_zipf, plan_corpus
from .synthesis import FPS, SemanticEvent, SequenceData, build_sequence

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
        "motion": {k: round(v, 5) for k, v in motion_profile(data.poses).items()},
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
    methods = mp.get_all_start_methods()
    ctx = mp.get_context("forkserver" if "forkserver" in methods else "spawn")
    if ctx.get_start_method() == "forkserver":
        # Workers start with these imported (torch comes with the skeleton): imports are most
        # of a worker's time otherwise.
        ctx.set_forkserver_preload([__name__, "eggesture.data.skeleton", "eggesture.data.speech",
                                    "scipy.interpolate", "roma", "soxr", "praatio.textgrid"])
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
    held = per_split["val"] + per_split["test"]
    ht = split_head_tail({g.name: int(per_split["train"][i]) for i, g in enumerate(gestures)})
    tail = {g.name for g in gestures} & set(ht.tail)
    return {"events": int(held.sum()),
            "tail_events": int(sum(held[i] for i, g in enumerate(gestures) if g.name in tail)),
            "head_classes": len(ht.head), "tail_classes": len(ht.tail)}


def _calibration(summaries: list[dict]) -> dict:
    """The corpus's arm-motion statistics against the real BEAT2 sample's (ratio, ±25 %)."""
    table = against_beat2_sample([s["motion"] for s in summaries], [s["frames"] for s in summaries])
    return {
        "what": "arm-motion statistics (eggesture.metrics.motion_stats; SMPL-X joints 13, 14, "
                "16-21, axis-angle, 30 fps), pooled over the sequences, against the real BEAT2 "
                "sample (speaker 2, 64 s); 'within': the ratio lies in 0.75-1.25",
        "statistics": {k: {"corpus": round(v["value"], 5), "beat2_sample": v["reference"],
                           "ratio": round(v["ratio"], 3), "within": v["within"]}
                       for k, v in table.items()},
        "all_within": all(v["within"] for v in table.values()),
    }


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
        "motion_calibration": _calibration(summaries),
        "speakers": [speakers[k].as_json() for k in sorted(speakers)],
        "sequences": summaries,
    }
