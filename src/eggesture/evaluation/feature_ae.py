"""The CNN motion autoencoder whose latent features FGD compares (paper eq. 12, §4.1.4).

The paper "pretrained a CNN-based gesture autoencoder" per dataset but released none; this is
ours, trained by ``eggesture fgd-train --data ROOT`` on the training split and stored with the
dataset (:mod:`eggesture.evaluation` describes the bundle). Input: normalised 6D rotations of
the joint set, windows ``(N, L, J·6)``; the 1D-conv encoder downsamples time by ``2^stages``
and its output ``(N, D, L / 2^stages)`` is average-pooled over time into one feature vector
``(N, D)`` per window (``pool="time"`` keeps every latent frame as a sample instead, as the
EMAGE code does). D = 256 by default, the paper's "fixed latent vector length 256".

FGD values are comparable only between runs that use the same bundle (same weights, data
setting and normalisation), which is why the bundle's hash goes into every FGD result.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from einops import rearrange
from torch import nn

from ..checkpoint import load_checkpoint, save_checkpoint
from ..data.motion import NormStats, joint_names
from ..errors import DataError
from . import check_data, default_dir

KIND = "fgd_ae"


@dataclass(frozen=True)
class FeatureAEConfig:
    """Size of the autoencoder."""

    channels: int = 128
    """Hidden channels of the convolutions."""
    feature_dim: int = 256
    """Latent channels = FGD feature dimension D (the paper: 256)."""
    stages: int = 2
    """Stride-2 stages: time is downsampled by 2^stages."""

    def __post_init__(self):
        for name in ("channels", "feature_dim", "stages"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be ≥ 1, got {getattr(self, name)}")


@dataclass(frozen=True)
class FeatureAETraining:
    """How the autoencoder is trained."""

    epochs: int = 30
    """Passes over the training windows."""
    batch_size: int = 32
    """Windows per step."""
    lr: float = 1e-3
    """Adam learning rate."""
    seed: int = 0
    """Seed of the initialisation and the batch order."""

    def __post_init__(self):
        if self.epochs < 1:
            raise ValueError(f"epochs must be ≥ 1, got {self.epochs}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be ≥ 1, got {self.batch_size}")
        if self.lr <= 0:
            raise ValueError(f"lr must be positive, got {self.lr}")


class _ResBlock(nn.Module):
    def __init__(self, *, channels: int):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv1d(channels, channels, 3, padding=1), nn.LeakyReLU(0.2),
            nn.Conv1d(channels, channels, 3, padding=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, T)
        return x + self.net(x)


class MotionAutoencoder(nn.Module):
    """1D-conv autoencoder on motion ``(B, L, motion_dim)``; L must be a multiple of 2^stages."""

    def __init__(self, *, motion_dim: int, channels: int = 128, feature_dim: int = 256,
                 stages: int = 2):
        super().__init__()
        self.stages = stages
        enc: list[nn.Module] = [nn.Conv1d(motion_dim, channels, 3, padding=1), nn.LeakyReLU(0.2)]
        for _ in range(stages):
            enc += [nn.Conv1d(channels, channels, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
                    _ResBlock(channels=channels)]
        enc.append(nn.Conv1d(channels, feature_dim, 3, padding=1))
        self.encoder = nn.Sequential(*enc)
        dec: list[nn.Module] = [nn.Conv1d(feature_dim, channels, 3, padding=1), nn.LeakyReLU(0.2)]
        for _ in range(stages):
            dec += [_ResBlock(channels=channels), nn.Upsample(scale_factor=2, mode="nearest"),
                    nn.Conv1d(channels, channels, 3, padding=1), nn.LeakyReLU(0.2)]
        dec.append(nn.Conv1d(channels, motion_dim, 3, padding=1))
        self.decoder = nn.Sequential(*dec)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Latents ``(B, feature_dim, L / 2^stages)`` of motion ``(B, L, motion_dim)``."""
        if x.shape[1] % (2 ** self.stages):
            raise ValueError(f"window length {x.shape[1]} is not a multiple of {2 ** self.stages}")
        return self.encoder(rearrange(x, "b l d -> b d l"))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Reconstruction ``(B, L, motion_dim)`` of ``x (B, L, motion_dim)``."""
        return rearrange(self.decoder(self.encode(x)), "b d l -> b l d")


@dataclass
class FeatureExtractor:
    """A trained autoencoder with the data setting it expects; turns windows into features."""

    model: MotionAutoencoder
    norm: NormStats
    config: dict
    folder: Path

    @classmethod
    def load(cls, folder: str | Path) -> FeatureExtractor:
        tensors, config = load_checkpoint(folder, KIND)
        norm = NormStats.from_tensors(tensors)
        model = MotionAutoencoder(motion_dim=config["motion_dim"], **config["net"])
        model.load_state_dict({k[len("model."):]: v for k, v in tensors.items()
                               if k.startswith("model.")})
        model.eval()
        return cls(model=model, norm=norm, config=config, folder=Path(folder))

    @property
    def feature_dim(self) -> int:
        return int(self.config["net"]["feature_dim"])

    @property
    def tag(self) -> str:
        """Identifies these weights in results (``fgd_ae:<first 12 hex digits of their hash>``)."""
        return f"{KIND}:{self.config['weights_sha256'][:12]}"

    def check(self, joint_names: list[str], fps: float, length: int | None = None) -> None:
        """Refuse data whose joints, fps or window length differ from the training data."""
        check_data(self.config, self.folder, joint_names=joint_names, fps=fps, length=length)

    @torch.no_grad()
    def features(self, windows: np.ndarray, *, pool: str = "window",
                 batch_size: int = 64) -> np.ndarray:
        """FGD features of 6D motion windows ``(N, L, J, 6)`` (not normalised).

        ``pool="window"``: ``(N, D)``, the time average of each window's latents;
        ``pool="time"``: ``(N · L', D)``, every latent frame a sample. Windows must have the
        length the autoencoder was trained on.
        """
        w = np.asarray(windows, dtype=np.float32)
        if w.ndim != 4 or w.shape[2] * w.shape[3] != self.config["motion_dim"]:
            raise DataError(self.folder, f"expects windows (N, L, {len(self.config['joint_names'])}"
                                         f", 6), got {w.shape}")
        if w.shape[1] != self.config["length"]:
            raise DataError(self.folder, f"trained on windows of {self.config['length']} frames, "
                                         f"got {w.shape[1]}")
        if pool not in ("window", "time"):
            raise ValueError(f"pool must be 'window' or 'time', got {pool!r}")
        out = []
        for i in range(0, w.shape[0], batch_size):
            x = torch.from_numpy(self.norm.normalize(w[i:i + batch_size].reshape(
                *w[i:i + batch_size].shape[:2], -1)))  # (B, L, J·6)
            z = self.model.encode(x)  # (B, D, L')
            out.append(z.mean(dim=-1) if pool == "window" else rearrange(z, "b d l -> (b l) d"))
        if not out:
            return np.zeros((0, self.feature_dim))
        return torch.cat(out).double().numpy()

    @torch.no_grad()
    def reconstruction_error(self, windows: np.ndarray) -> float:
        """Mean squared error of reconstructing ``windows (N, L, J, 6)``, in normalised units
        (1.0 ≈ predicting the training mean)."""
        w = np.asarray(windows, dtype=np.float32)
        x = torch.from_numpy(self.norm.normalize(w.reshape(*w.shape[:2], -1)))
        errs = [float(((self.model(x[i:i + 64]) - x[i:i + 64]) ** 2).sum())
                for i in range(0, x.shape[0], 64)]
        return sum(errs) / x.numel()


def _window_starts(data, splits, stride: int | None = None) -> np.ndarray:
    """Flat frame index of the first frame of every full window of ``splits``: ``(N,)``."""
    rows = data.windows(list(splits), stride=stride)
    if not len(rows):
        return np.zeros(0, np.int64)
    return (data.offsets[rows[:, 0]] + rows[:, 1]).astype(np.int64)


def _gather(flat: torch.Tensor, starts: np.ndarray, length: int) -> torch.Tensor:
    """Windows ``(B, L, D)`` of the flat motion ``(F, D)`` starting at ``starts (B,)``."""
    idx = torch.from_numpy(starts[:, None] + np.arange(length)[None, :])  # (B, L)
    return flat[idx]


def window_motion(data, splits, stride: int | None = None) -> np.ndarray:
    """6D motion of every full window of ``splits`` of prepared ``data``: ``(N, L, J, 6)``."""
    starts = _window_starts(data, splits, stride)
    idx = starts[:, None] + np.arange(data.settings.length)[None, :]
    return np.asarray(data.motion[idx.reshape(-1)], dtype=np.float32).reshape(
        len(starts), data.settings.length, data.n_joints, 6)


def train_feature_ae(
    data, folder: str | Path | None = None, *, train_splits: tuple[str, ...] = ("train",),
    net: FeatureAEConfig = FeatureAEConfig(), training: FeatureAETraining = FeatureAETraining(),
    progress: Callable[[int, int, float], None] | None = None,
) -> FeatureExtractor:
    """Train the FGD autoencoder on the windows of ``train_splits`` of ``data``
    (:class:`~eggesture.data.windows.PreparedData`) and save it to ``folder`` (default:
    :func:`eggesture.evaluation.default_dir`). ``progress(epoch, epochs, loss)`` after each epoch.

    Normalisation uses ``data.norm`` (statistics of the prepared data's training split, which
    should be ``train_splits``). The held-out reconstruction error (non-overlapping windows of
    every other split) is part of the saved training summary.
    """
    s = data.settings
    train = _window_starts(data, train_splits)
    if train.size == 0:
        raise DataError(data.root, f"no complete {s.length}-frame windows in split(s) "
                                   f"{list(train_splits)} to train the FGD autoencoder on")
    heldout_splits = sorted(set(data.splits) - set(train_splits))
    heldout = _window_starts(data, heldout_splits, stride=s.length)
    flat = torch.from_numpy(data.norm.normalize(
        np.asarray(data.motion, dtype=np.float32).reshape(-1, data.motion_dim)))  # (F, J·6)
    torch.manual_seed(training.seed)
    rng = np.random.default_rng(training.seed)
    model = MotionAutoencoder(motion_dim=data.motion_dim, **asdict(net))
    opt = torch.optim.Adam(model.parameters(), lr=training.lr)
    t0 = time.time()
    loss_epoch = math.nan
    for epoch in range(1, training.epochs + 1):
        model.train()
        order = rng.permutation(train)
        total, n = 0.0, 0
        for i in range(0, len(order), training.batch_size):
            x = _gather(flat, order[i:i + training.batch_size], s.length)  # (B, L, D)
            loss = torch.mean((model(x) - x) ** 2)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * x.shape[0]
            n += x.shape[0]
        loss_epoch = total / n
        if progress:
            progress(epoch, training.epochs, loss_epoch)
    model.eval()
    summary = {**asdict(training), "train_splits": list(train_splits),
               "train_windows": int(train.size), "stride": s.stride,
               "final_train_mse": loss_epoch, "seconds": round(time.time() - t0, 1),
               "data_root": str(Path(data.root).resolve())}
    if heldout.size:
        with torch.no_grad():
            batches = (_gather(flat, heldout[i:i + 64], s.length)
                       for i in range(0, heldout.size, 64))
            sq = sum(float(((model(x) - x) ** 2).sum()) for x in batches)
        summary.update(heldout_splits=heldout_splits, heldout_windows=int(heldout.size),
                       heldout_mse=sq / (heldout.size * s.length * data.motion_dim))
    folder = Path(folder) if folder is not None else default_dir(
        data.root, KIND, s.joint_set, s.fps, s.length)
    config = {
        "kind": KIND, "joint_set": s.joint_set, "joint_names": list(data.joint_names),
        "fps": s.fps, "length": s.length, "motion_dim": data.motion_dim,
        "representation": "6D rotations (first two matrix columns), normalised by the stored "
                          "mean/std",
        "net": asdict(net), "feature_dim": net.feature_dim, "training": summary,
    }
    tensors = {**{f"model.{k}": v for k, v in model.state_dict().items()}, **data.norm.tensors()}
    save_checkpoint(folder, tensors, config, kind=KIND)
    return FeatureExtractor.load(folder)


def load_feature_extractor(
    root: str | Path, joint_set: str, fps: float, length: int, folder: str | Path | None = None,
) -> FeatureExtractor:
    """The FGD autoencoder of dataset ``root`` for a data setting (default place unless
    ``folder``), checked against that setting; a clear error when none was trained."""
    folder = Path(folder) if folder is not None else default_dir(root, KIND, joint_set, fps, length)
    if not (folder / "config.json").is_file():
        raise DataError(folder, f"no FGD autoencoder for this dataset and setting; run "
                                f"`eggesture fgd-train --data {root}` first")
    fx = FeatureExtractor.load(folder)
    fx.check(joint_names(joint_set), fps, length)
    return fx
