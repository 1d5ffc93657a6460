"""The semantic-gesture recogniser behind semantic-gesture recall (ours, DESIGN §5).

A small non-causal temporal convolution net labels every frame of a motion sequence with a
gesture class (or 0 = none). It is trained on the *ground-truth* motion and ``sem/`` labels of a
corpus's training split; :func:`eggesture.metrics.recall.semantic_recall` then asks, for each
ground-truth event of a test sequence, whether the recogniser sees that class in the
*generated* motion within ±0.5 s. Its recall on held-out ground-truth motion is the ceiling of
that measurement and is stored with it (training summary) — below ~0.9 the metric would
measure the recogniser rather than the generator.

Input: 6D rotations of the joint set at the data's fps, normalised with the training split's
statistics, plus their frame-to-frame differences; dilated 1D convolutions (receptive field
``1 + 2·Σ dilations`` frames, 63 = 4.2 s at 15 fps by default); per-frame class logits.
Training samples fixed-length crops, half of them centred on an event of a uniformly chosen
class so tail classes are seen as often as head ones, with a class-weighted cross-entropy.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn

from ..checkpoint import load_checkpoint, save_checkpoint
from ..data.motion import NormStats, joint_names
from ..errors import DataError
from ..metrics.recall import SemanticRecall, semantic_recall
from . import check_data, default_dir

KIND = "recognizer"


@dataclass(frozen=True)
class RecognizerConfig:
    """Size of the recogniser net."""

    channels: int = 128
    """Hidden channels."""
    dilations: tuple[int, ...] = (1, 2, 4, 8, 16)
    """Dilation of each residual conv layer (kernel 3)."""
    dropout: float = 0.1
    """Dropout between layers (training only)."""

    def __post_init__(self):
        if self.channels < 1 or not self.dilations or min(self.dilations) < 1:
            raise ValueError("channels and dilations must be positive, with at least one layer")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")


@dataclass(frozen=True)
class RecognizerTraining:
    """How the recogniser is trained."""

    steps: int = 1500
    """Optimiser steps."""
    batch_size: int = 32
    """Crops per step."""
    crop_s: float = 6.0
    """Length of a training crop, seconds."""
    lr: float = 1e-3
    """Adam learning rate."""
    event_share: float = 0.5
    """Share of crops centred on an event of a uniformly drawn class (class balancing)."""
    smooth_s: float = 0.3
    """Probabilities are averaged over this window (seconds) before taking the label."""
    seed: int = 0
    """Seed of the initialisation and the sampling."""

    def __post_init__(self):
        if self.steps < 1 or self.batch_size < 1:
            raise ValueError("steps and batch_size must be ≥ 1")
        if self.crop_s <= 0 or self.lr <= 0 or self.smooth_s < 0:
            raise ValueError("crop_s and lr must be positive, smooth_s ≥ 0")
        if not 0 <= self.event_share <= 1:
            raise ValueError(f"event_share must be in [0, 1], got {self.event_share}")


class RecognizerNet(nn.Module):
    """Per-frame gesture logits ``(B, T, n_classes)`` from motion ``(B, T, motion_dim)``."""

    def __init__(self, *, motion_dim: int, n_classes: int, channels: int = 128,
                 dilations: tuple[int, ...] = (1, 2, 4, 8, 16), dropout: float = 0.1):
        super().__init__()
        self.inp = nn.Conv1d(2 * motion_dim, channels, 1)
        self.layers = nn.ModuleList(
            nn.Sequential(nn.Conv1d(channels, channels, 3, padding=d, dilation=d),
                          nn.GroupNorm(8 if channels % 8 == 0 else 1, channels), nn.GELU(),
                          nn.Dropout(dropout))
            for d in dilations)
        self.out = nn.Conv1d(channels, n_classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        vel = torch.diff(x, dim=1, prepend=x[:, :1])  # (B, T, D): frame-to-frame change
        h = self.inp(rearrange(torch.cat([x, vel], dim=-1), "b t d -> b d t"))  # (B, C, T)
        for layer in self.layers:
            h = h + layer(h)
        return rearrange(self.out(h), "b k t -> b t k")


@dataclass
class Recognizer:
    """A trained recogniser with its class list and the data setting it expects."""

    model: RecognizerNet
    norm: NormStats
    config: dict
    folder: Path

    @classmethod
    def load(cls, folder: str | Path) -> Recognizer:
        tensors, config = load_checkpoint(folder, KIND)
        net = dict(config["net"])
        net["dilations"] = tuple(net["dilations"])
        model = RecognizerNet(motion_dim=config["motion_dim"], n_classes=len(config["classes"]) + 1,
                              **net)
        model.load_state_dict({k[len("model."):]: v for k, v in tensors.items()
                               if k.startswith("model.")})
        model.eval()
        return cls(model=model, norm=NormStats.from_tensors(tensors), config=config,
                   folder=Path(folder))

    @property
    def classes(self) -> list[str]:
        """Class names; label ``c ≥ 1`` is ``classes[c − 1]``, 0 is no gesture."""
        return list(self.config["classes"])

    @property
    def fps(self) -> float:
        return float(self.config["fps"])

    def check(self, joint_names: list[str], fps: float) -> None:
        """Refuse motion whose joints or fps differ from the training data."""
        check_data(self.config, self.folder, joint_names=joint_names, fps=fps)

    @torch.no_grad()
    def recognize(self, motion: np.ndarray) -> np.ndarray:
        """Per-frame class probabilities ``(T, C + 1)`` of 6D motion ``(T, J, 6)`` (column 0:
        no gesture), averaged over the stored smoothing window."""
        m = np.asarray(motion, dtype=np.float32)
        if m.ndim != 3 or m.shape[1] * m.shape[2] != self.config["motion_dim"]:
            raise DataError(self.folder, f"expects motion (T, {len(self.config['joint_names'])}"
                                         f", 6), got {m.shape}")
        if m.shape[0] == 0:
            return np.zeros((0, len(self.classes) + 1), np.float32)
        x = torch.from_numpy(self.norm.normalize(m.reshape(m.shape[0], -1)))[None]  # (1, T, D)
        p = torch.softmax(self.model(x), dim=-1)  # (1, T, K)
        k = int(round(self.config["training"]["smooth_s"] * self.fps)) // 2 * 2 + 1
        if k > 1:
            p = F.avg_pool1d(rearrange(p, "b t k -> b k t"), k, stride=1, padding=k // 2,
                             count_include_pad=False)
            p = rearrange(p, "b k t -> b t k")
        return p[0].numpy()

    def labels(self, motion: np.ndarray) -> np.ndarray:
        """Per-frame class ids ``(T,)`` (0 = none) of 6D motion ``(T, J, 6)``."""
        return self.recognize(motion).argmax(axis=-1).astype(np.int64)

    def recall(self, motions: list[np.ndarray],
               events: list[list[tuple[str, float, float]] | None], **kwargs) -> SemanticRecall:
        """Semantic-gesture recall of ``events`` in ``motions[i] (T_i, J, 6)`` at this fps;
        keyword arguments go to :func:`eggesture.metrics.recall.semantic_recall`."""
        preds = [self.labels(m) for m in motions]
        return semantic_recall(preds, events, self.classes, self.fps,
                               self.config["train_counts"], **kwargs)


def _event_counts(data, splits) -> dict[str, int]:
    counts = {c: 0 for c in data.sem_classes}
    for i in data.sequence_indices(list(splits)):
        for name, _, _ in data.sem_events[i] or []:
            counts[name] = counts.get(name, 0) + 1
    return counts


class _CropSampler:
    """Training crops of ``crop`` frames: a share centred (roughly) on a gesture event of a
    uniformly chosen class, the rest anywhere, sequences in proportion to their length."""

    def __init__(self, data, seqs: list[int], crop: int, rng: np.random.Generator):
        self.offsets, self.seqs, self.crop, self.rng = data.offsets, seqs, crop, rng
        fps = data.settings.fps
        self.by_class: dict[int, list[int]] = {}  # class → flat frame index of each event's centre
        for i in seqs:
            for name, t0, t1 in data.sem_events[i] or []:
                c = data.sem_classes.index(name) + 1
                mid = min(int(round((t0 + t1) / 2 * fps)), data.n_frames(i) - 1)
                self.by_class.setdefault(c, []).append(int(data.offsets[i]) + max(0, mid))
        self.classes = sorted(self.by_class)
        self.lengths = np.array([data.n_frames(i) for i in seqs], dtype=np.float64)
        self.seq_of_frame = np.zeros(int(data.offsets[-1]), np.int64)
        for i in seqs:
            self.seq_of_frame[data.offsets[i]:data.offsets[i + 1]] = i

    def _start(self, i: int, centre: int | None) -> int:
        a, b, crop = int(self.offsets[i]), int(self.offsets[i + 1]), self.crop
        if b - a <= crop:
            return a
        if centre is None:
            return int(self.rng.integers(a, b - crop + 1))
        # The event centre lands anywhere but the outer eighths of the crop.
        lo = min(max(a, centre - crop + crop // 8), b - crop)
        hi = max(min(b - crop, centre - crop // 8), lo)
        return int(self.rng.integers(lo, hi + 1))

    def batch(self, size: int, event_share: float) -> torch.Tensor:
        """Flat frame indices ``(size, n)`` of one batch (its crops share the shortest length)."""
        rng, starts, lens = self.rng, [], []
        for _ in range(size):
            if self.classes and rng.random() < event_share:
                c = self.classes[int(rng.integers(len(self.classes)))]
                centre = self.by_class[c][int(rng.integers(len(self.by_class[c])))]
                i = int(self.seq_of_frame[centre])
            else:
                i = self.seqs[int(rng.choice(len(self.seqs), p=self.lengths / self.lengths.sum()))]
                centre = None
            st = self._start(i, centre)
            starts.append(st)
            lens.append(min(self.crop, int(self.offsets[i + 1]) - st))
        n = min(lens)
        return torch.as_tensor(np.asarray(starts)[:, None] + np.arange(n)[None, :])


def train_recognizer(
    data, folder: str | Path | None = None, *, train_splits: tuple[str, ...] = ("train",),
    net: RecognizerConfig = RecognizerConfig(),
    training: RecognizerTraining = RecognizerTraining(),
    progress: Callable[[int, int, float], None] | None = None,
) -> Recognizer:
    """Train a recogniser on ground-truth motion and ``sem`` labels of ``train_splits`` of
    prepared ``data`` and save it (default :func:`eggesture.evaluation.default_dir`).

    ``progress(step, steps, loss)`` every 50 steps. The saved training summary holds the
    recall on the ground-truth motion of every other split that has events.
    """
    s = data.settings
    if not data.sem_classes:
        raise DataError(data.root, "no semantic-gesture annotations (sem/) to train a recogniser")
    seqs = [i for i in data.sequence_indices(list(train_splits)) if data.n_frames(i) > 1]
    if not seqs:
        raise DataError(data.root, f"no sequences in split(s) {list(train_splits)}")
    train_counts = _event_counts(data, train_splits)
    if not any(train_counts.values()):
        raise DataError(data.root, f"no annotated events in split(s) {list(train_splits)}")
    n_classes = len(data.sem_classes) + 1
    flat = torch.from_numpy(data.norm.normalize(
        np.asarray(data.motion, dtype=np.float32).reshape(-1, data.motion_dim)))  # (F, D)
    labels = torch.from_numpy(np.asarray(data.sem, dtype=np.int64))  # (F,)
    frames = np.concatenate([np.arange(data.offsets[i], data.offsets[i + 1]) for i in seqs])
    freq = np.bincount(np.asarray(data.sem)[frames], minlength=n_classes).astype(np.float64)
    weight = np.where(freq > 0, 1.0 / np.sqrt(np.maximum(freq, 1)), 0.0)
    weight = torch.as_tensor(weight / weight[freq > 0].mean(), dtype=torch.float32)

    torch.manual_seed(training.seed)
    rng = np.random.default_rng(training.seed)
    sampler = _CropSampler(data, seqs, max(8, int(round(training.crop_s * s.fps))), rng)
    model = RecognizerNet(motion_dim=data.motion_dim, n_classes=n_classes, **asdict(net))
    opt = torch.optim.AdamW(model.parameters(), lr=training.lr, weight_decay=1e-4)
    # One-cycle schedule with a warm-up of ≥ 2 steps (torch divides by zero below that); a
    # run of fewer than 4 steps keeps the learning rate constant.
    sched = (torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=training.lr, total_steps=training.steps,
        pct_start=min(0.5, max(0.1, 2 / training.steps))) if training.steps >= 4 else None)

    t_start = time.time()
    running = math.nan
    for step in range(1, training.steps + 1):
        idx = sampler.batch(training.batch_size, training.event_share)  # (B, n)
        model.train()
        logits = model(flat[idx])  # (B, n, K)
        loss = F.cross_entropy(rearrange(logits, "b t k -> (b t) k"), labels[idx].reshape(-1),
                               weight=weight)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if sched is not None:
            sched.step()
        running = loss.item() if math.isnan(running) else 0.95 * running + 0.05 * loss.item()
        if progress and (step % 50 == 0 or step == training.steps):
            progress(step, training.steps, running)
    model.eval()

    folder = Path(folder) if folder is not None else default_dir(
        data.root, KIND, s.joint_set, s.fps, s.length)
    config = {
        "kind": KIND, "joint_set": s.joint_set, "joint_names": list(data.joint_names),
        "fps": s.fps, "length": s.length, "motion_dim": data.motion_dim,
        "classes": list(data.sem_classes), "train_counts": train_counts,
        "net": asdict(net),
        "training": {**asdict(training), "train_splits": list(train_splits),
                     "final_loss": running, "seconds": round(time.time() - t_start, 1),
                     "data_root": str(Path(data.root).resolve())},
    }
    rec = Recognizer(model=model, norm=data.norm, config=config, folder=folder)
    heldout = [sp for sp in sorted(set(data.splits) - set(train_splits))
               if any(data.sem_events[i] for i in data.sequence_indices([sp]))]
    if heldout:
        r = recall_on_ground_truth(rec, data, heldout)
        config["training"]["heldout"] = {"splits": heldout, "recall": r.all, "head": r.head,
                                         "tail": r.tail, "macro": r.macro, "events": r.events}
    tensors = {**{f"model.{k}": v for k, v in model.state_dict().items()}, **data.norm.tensors()}
    save_checkpoint(folder, tensors, config, kind=KIND)
    return Recognizer.load(folder)


def recall_on_ground_truth(rec: Recognizer, data, splits, **kwargs) -> SemanticRecall:
    """The recogniser's semantic-gesture recall on the ground-truth motion of ``splits`` —
    the ceiling of the generator's score (report it beside that score)."""
    rec.check(list(data.joint_names), data.settings.fps)
    idx = data.sequence_indices(list(splits))
    return rec.recall([np.asarray(data.sequence(i)["motion"]) for i in idx],
                      [data.sem_events[i] for i in idx], **kwargs)


def load_recognizer(root: str | Path, joint_set: str, fps: float, length: int,
                    folder: str | Path | None = None) -> Recognizer:
    """The recogniser of dataset ``root`` for a data setting (default place unless ``folder``),
    checked against that setting; a clear error when none was trained."""
    folder = Path(folder) if folder is not None else default_dir(root, KIND, joint_set, fps, length)
    if not (folder / "config.json").is_file():
        raise DataError(folder, "no gesture recogniser for this dataset and setting; train one "
                                "with eggesture.evaluation.recognizer.train_recognizer")
    rec = Recognizer.load(folder)
    rec.check(joint_names(joint_set), fps)
    return rec
