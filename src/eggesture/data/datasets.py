"""Dataset readers behind one interface (:class:`eggesture.data.clip.Reader`), and
``eggesture data stats``.

Windowing (:mod:`eggesture.data.windows`) only ever talks to readers through that interface —
one windowing path, whatever the dataset.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

from ..errors import DataError
from ..metrics.motion_stats import against_beat2_sample
from . import beat2, trinity


def readers() -> list[ModuleType]:
    """The dataset readers, in detection order."""
    return [beat2, trinity]


def detect(root: str | Path) -> ModuleType:
    """The reader that understands folder ``root``."""
    root = Path(root)
    if root.exists() and not root.is_dir():
        raise DataError(root, "is a file, not a dataset folder")
    if not root.is_dir():
        raise DataError(root, "dataset folder not found")
    for reader in readers():
        if reader.detect(root):
            return reader
    raise DataError(root, "not a dataset folder this tool reads (expected BEAT2 layout with "
                          "train_test_split.csv and smplxflame_30/, or a Trinity/GENEA folder)")


def dataset_stats(root: str | Path, speakers: list[int] | None = None) -> dict:
    """What a dataset folder holds (for ``eggesture data stats``); problems are listed, not raised."""
    reader = detect(root)
    seqs = reader.list_sequences(root, speakers=speakers)
    splits: dict[str, int] = {}
    frames = 0
    vocab: set[str] = set()
    problems: list[dict] = []
    if not seqs:
        problems.append({"file": str(Path(root)), "problem": "no sequences found" + (
            f" for speakers {sorted(speakers)}" if speakers else "")})
    joints = None
    ok = 0
    profiles: list[tuple[dict, int]] = []
    for seq_id, split in seqs:
        info = reader.describe_sequence(root, seq_id)
        problems.extend(info["problems"])
        if info["frames"] is None:
            continue
        ok += 1
        splits[split] = splits.get(split, 0) + 1
        frames += info["frames"]
        vocab.update(info["words"])
        joints = info["joints"]
        if info.get("motion"):  # readers of SMPL-X motion measure it
            profiles.append((info["motion"], info["frames"]))
    return {
        "dataset": reader.NAME,
        "root": str(Path(root)),
        "speakers": sorted(speakers) if speakers else None,
        "sequences": ok,
        "listed": len(seqs),
        "splits": splits,
        "minutes": round(frames / reader.FPS / 60, 3),
        "fps": reader.FPS,
        "frames": frames,
        "joints": joints,
        "vocabulary": len(vocab),
        "motion": _motion_summary(profiles),
        "problems": problems,
    }


def _motion_summary(profiles: list[tuple[dict, int]]) -> dict | None:
    """The arm-motion statistics pooled over the sequences, beside the real BEAT2 sample's."""
    if not profiles:
        return None

    table = against_beat2_sample([p for p, _ in profiles], [n for _, n in profiles])
    return {k: {"value": round(v["value"], 5), "beat2_sample": v["reference"],
                "ratio": round(v["ratio"], 3)} for k, v in table.items()}
