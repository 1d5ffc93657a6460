"""Write small BEAT2-format folders for tests (motion npz, wav, TextGrid, split csv)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf


def textgrid_text(words: list[tuple[float, float, str]], xmax: float) -> str:
    """A Praat long-format TextGrid with one `words` tier; gaps become empty intervals."""
    intervals, t = [], 0.0
    for a, b, w in words:
        if a > t:
            intervals.append((t, a, ""))
        intervals.append((a, b, w))
        t = b
    if t < xmax:
        intervals.append((t, xmax, ""))
    lines = [
        'File type = "ooTextFile"', 'Object class = "TextGrid"', "", "xmin = 0", f"xmax = {xmax}",
        "tiers? <exists>", "size = 1", "item []:", "    item [1]:", '        class = "IntervalTier"',
        '        name = "words"', "        xmin = 0", f"        xmax = {xmax}",
        f"        intervals: size = {len(intervals)}",
    ]
    for i, (a, b, w) in enumerate(intervals, start=1):
        lines += [f"        intervals [{i}]:", f"            xmin = {a}", f"            xmax = {b}",
                  f'            text = "{w}"']
    return "\n".join(lines) + "\n"


def write_sequence(root: Path, seq_id: str, seconds: float = 12.0, *, sr: int = 16000,
                   channels: int = 1, audio_seconds: float | None = None, seed: int = 0,
                   words: list[tuple[float, float, str]] | None = None) -> None:
    """One sequence of smooth random motion, a tone-burst wav and a word every 0.5 s."""
    rng = np.random.default_rng(seed)
    n = int(round(seconds * 30))
    t = np.arange(n) / 30
    poses = np.zeros((n, 165), np.float32)
    for j in range(55):
        phase, freq = rng.uniform(0, 6), rng.uniform(0.2, 1.5)
        poses[:, 3 * j:3 * j + 3] = 0.3 * np.sin(2 * np.pi * freq * t + phase)[:, None] * rng.normal(size=3)
    for sub in ("smplxflame_30", "wave16k", "textgrid"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    np.savez(root / "smplxflame_30" / f"{seq_id}.npz", poses=poses,
             trans=np.zeros((n, 3)), betas=np.zeros(300, np.float32),
             expressions=np.zeros((n, 100)), mocap_frame_rate=np.int32(30),
             model=np.array("smplx2020"), gender=np.array("neutral"))
    a_sec = seconds if audio_seconds is None else audio_seconds
    ts = np.arange(int(a_sec * sr)) / sr
    wave = (0.1 * np.sin(2 * np.pi * 220 * ts) * (np.sin(2 * np.pi * 2 * ts) > 0)).astype(np.float32)
    sf.write(root / "wave16k" / f"{seq_id}.wav", np.repeat(wave[:, None], channels, 1), sr)
    if words is None:
        vocab = ["hello", "big", "world", "one", "stop", "i"]
        words = [(round(k * 0.5 + 0.1, 3), round(k * 0.5 + 0.4, 3), vocab[k % len(vocab)])
                 for k in range(int(seconds * 2) - 1)]
    (root / "textgrid" / f"{seq_id}.TextGrid").write_text(textgrid_text(words, seconds))


def write_folder(root: Path, splits: dict[str, str], seconds: float = 12.0) -> Path:
    """A BEAT2 folder with one sequence per ``{id: split}`` entry."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "train_test_split.csv").write_text(
        "id,type\n" + "".join(f"{i},{s}\n" for i, s in splits.items()))
    for k, seq_id in enumerate(splits):
        write_sequence(root, seq_id, seconds, seed=k)
    return root
