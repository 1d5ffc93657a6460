"""Training batches: windows of a prepared dataset as tensors, with a resumable shuffle.

Each item is one window: normalised 6D motion ``(L, D)``, audio features ``(4L, F)`` and word
ids ``(L,)``. The shuffle order of epoch e is a pure function of (seed, e) — not of the global
RNG — so a run resumed from a checkpoint sees exactly the batches an uninterrupted run would,
and each DDP rank takes its own slice of it. The sampler hands the dataset ``(epoch, index)``,
so a window's audio augmentation (``train.audio_augment``, :mod:`eggesture.features.augment`)
is a pure function of (seed, epoch, index) too, in the main process or a worker alike.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.distributed as dist
from torch.utils.data import DataLoader, Dataset, Sampler

from ..data.windows import PreparedData
from ..features.audio import audio_features
from ..features.augment import augment


class WindowDataset(Dataset):
    """Windows ``(sequence, start)`` of ``data`` in ``splits``. With ``augment`` > 0, each
    window's audio is augmented with that probability (draws from ``(seed, epoch, index)``) and
    its features computed again; items are then asked for as ``(epoch, index)``."""

    def __init__(self, data: PreparedData, splits: list[str], stride: int | None = None, *,
                 augment: float = 0.0, seed: int = 0):
        self.data = data
        self.index = data.windows(splits, stride)
        self.augment, self.seed = augment, seed

    def __len__(self) -> int:
        return len(self.index)

    def audio_feats(self, w: dict, epoch: int | None, i: int) -> np.ndarray:
        """The window's features: as prepared, or of its augmented audio."""
        if self.augment > 0 and epoch is not None:
            rng = np.random.default_rng([self.seed, epoch, i])
            if rng.random() < self.augment:
                wave = augment(np.asarray(w["audio"], dtype=np.float32), rng)
                return audio_features(wave, len(w["motion"]), self.data.settings.fps)
        return np.array(w["audio_feats"], dtype=np.float32)

    def __getitem__(self, key: int | tuple[int, int]) -> dict[str, torch.Tensor]:
        epoch, i = key if isinstance(key, tuple) else (None, key)
        seq, start = self.index[i]
        w = self.data.window(int(seq), int(start))
        motion = self.data.norm.normalize(w["motion"].reshape(w["motion"].shape[0], -1))
        return {
            "motion": torch.from_numpy(np.ascontiguousarray(motion, dtype=np.float32)),
            "audio_feats": torch.from_numpy(self.audio_feats(w, epoch, int(i))),
            "words": torch.from_numpy(w["words"].astype(np.int64)),
            "sem": torch.from_numpy(w["sem"].astype(np.int64)),
        }


class EpochShuffleSampler(Sampler[int]):
    """Permutation of epoch e from ``default_rng(seed + e)``; rank r of W takes items r::W,
    each as ``(e, index)``."""

    def __init__(self, n: int, seed: int, shuffle: bool = True):
        self.n, self.seed, self.shuffle, self.epoch = n, seed, shuffle, 0

    def set_epoch(self, epoch: int) -> None:  # called by Lightning before each epoch
        self.epoch = epoch

    def _rank_world(self) -> tuple[int, int]:
        if dist.is_available() and dist.is_initialized():
            return dist.get_rank(), dist.get_world_size()
        return 0, 1

    def __iter__(self):
        order = (np.random.default_rng(self.seed + self.epoch).permutation(self.n)
                 if self.shuffle else np.arange(self.n))
        rank, world = self._rank_world()
        per_rank = int(np.ceil(self.n / world))
        order = np.resize(order, per_rank * world)  # pad by wrapping so ranks stay in step
        return iter([(self.epoch, i) for i in order[rank::world].tolist()])

    def __len__(self) -> int:
        return int(np.ceil(self.n / self._rank_world()[1]))


def make_loader(dataset: WindowDataset, batch_size: int, seed: int, shuffle: bool,
                num_workers: int = 0) -> DataLoader:
    # The loader's own generator: creating an iterator must not draw from the global RNG,
    # or a resumed run would continue the random streams from a different state.
    return DataLoader(dataset, batch_size=batch_size,
                      sampler=EpochShuffleSampler(len(dataset), seed, shuffle),
                      num_workers=num_workers, drop_last=False,
                      persistent_workers=num_workers > 0,
                      generator=torch.Generator().manual_seed(seed))
