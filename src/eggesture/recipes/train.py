"""``eggesture train``: prepare the data, fit with Lightning, write the inference bundle.

The run directory holds::

    config.yaml            the resolved config
    checkpoints/last.ckpt  Lightning checkpoint of the last finished epoch (for resuming)
    logs/metrics.csv       per-epoch metrics (CSV), and TensorBoard events under logs/
    bundle/                the inference bundle (safetensors + JSON; see eggesture.bundle)

A run directory that already holds a checkpoint is resumed when its config is the same, and
refused (with the differing key) otherwise.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import lightning as L
import torch
import yaml
from lightning.pytorch.callbacks import LearningRateMonitor, ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger
from lightning.pytorch.plugins.io import TorchCheckpointIO

from ..bundle import save_bundle
from ..config import Config, save_config
from ..data.datasets import detect
from ..data.windows import WindowSettings, prepare
from ..errors import ConfigError
from ..io import atomic_path
from ..training.callbacks import progress_bar
from ..training.data import WindowDataset, make_loader
from ..training.log import prepare_log, restore_after_resume
from ..training.module import EGGestureModule


@dataclass
class TrainResult:
    """Where a finished run put its outputs."""

    run_dir: Path
    bundle: Path
    metrics_csv: Path | None


def prepare_data(cfg: Config, progress: bool = True):
    """The prepared (cached) dataset of a config."""
    if not cfg.data.root:
        raise ConfigError(None, "data.root is not set (give data.root=PATH)")
    data = prepare(cfg.data.root, WindowSettings.from_config(cfg), train_splits=tuple(cfg.data.train_splits))
    if cfg.model.audio_encoder != "default":  # pretrained features, computed once and cached
        from ..data.windows import attach_audio_features
        from ..features.pretrained_audio import load_extractor

        def say(i, n, seq_id):
            if progress and cfg.train.progress:
                print(f"\raudio features ({cfg.model.audio_encoder}): {i}/{n} {seq_id}",
                      end="\n" if i == n else "", flush=True)

        data = attach_audio_features(data, load_extractor(cfg.model.audio_encoder), progress=say)
    return data


def _check_resume(run_dir: Path, cfg: Config) -> bool:
    """True when ``run_dir`` holds a checkpoint of the same config; error if the config differs."""
    ckpt = run_dir / "checkpoints" / "last.ckpt"
    saved = run_dir / "config.yaml"
    if not ckpt.is_file():
        return False
    if saved.is_file():
        old = yaml.safe_load(saved.read_text())
        new = cfg.to_dict()
        for section in new:
            for key, value in new[section].items():
                if key in ("progress", "num_workers"):
                    continue
                if (old.get(section) or {}).get(key) != value:
                    raise ConfigError(saved, f"the run in {run_dir} was started with "
                                             f"{section}.{key}={old.get(section, {}).get(key)!r}, "
                                             f"not {value!r}: use another train.out or --restart")
    return True


def train(cfg: Config, *, restart: bool = False, callbacks: list | None = None) -> TrainResult:
    """Train ``cfg`` to the end (resuming a matching interrupted run) and write its bundle.

    ``callbacks`` are extra Lightning callbacks (e.g. for custom logging).
    """
    t = cfg.train
    on_gpu = torch.cuda.is_available() and t.accelerator in ("auto", "gpu", "cuda")
    _check_devices(t, on_gpu)
    _quiet_lightning()
    run_dir = Path(t.out)
    if restart and (run_dir / "checkpoints").exists():
        import shutil

        shutil.rmtree(run_dir / "checkpoints")
    resume = _check_resume(run_dir, cfg)
    data = prepare_data(cfg)  # before anything is written: bad data leaves no run folder
    run_dir.mkdir(parents=True, exist_ok=True)
    save_config(cfg, run_dir / "config.yaml")

    L.seed_everything(t.seed, workers=True, verbose=False)
    train_set = WindowDataset(data, cfg.data.train_splits, augment=t.audio_augment, seed=t.seed)
    if len(train_set) == 0:
        raise ConfigError(None, f"no training windows: sequences of {cfg.data.train_splits} are "
                                f"shorter than data.length={cfg.data.length} frames")
    val_set = WindowDataset(data, cfg.data.val_splits, stride=cfg.data.length)
    train_loader = make_loader(train_set, t.batch_size, t.seed, True, t.num_workers)
    val_loader = (make_loader(val_set, t.batch_size, t.seed, False, t.num_workers)
                  if len(val_set) else None)

    module = EGGestureModule(cfg, motion_dim=data.motion_dim, vocab=data.vocab,
                             n_audio_features=int(data.audio_feats.shape[1]))
    logs = run_dir / "logs"
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", ".*does not have many workers.*")
        warnings.filterwarnings("ignore", ".*LeafSpec.*")
        warnings.filterwarnings("ignore", ".*no `val_dataloader`.*")
        trainer = _trainer(t, run_dir, logs, on_gpu, callbacks)
        ckpt_path = str(run_dir / "checkpoints" / "last.ckpt") if resume else None
        if ckpt_path and t.progress:
            print(f"resuming from {ckpt_path}", flush=True)
        prepare_log(logs, resume=resume)  # the epochs before a kill wait aside
        trainer.fit(module, train_loader, val_loader, ckpt_path=ckpt_path, weights_only=True)
        restore_after_resume(logs)

    bundle = run_dir / "bundle"
    if trainer.is_global_zero:
        _write_bundle(bundle, cfg, data, module, epochs_trained=trainer.current_epoch)
    csv = logs / "metrics.csv"
    return TrainResult(run_dir=run_dir, bundle=bundle, metrics_csv=csv if csv.is_file() else None)


def _trainer(t, run_dir: Path, logs: Path, on_gpu: bool, callbacks: list | None):
    """The Lightning trainer of ``cfg.train`` ``t``: CSV + TensorBoard logs, one resumable
    ``last.ckpt`` written atomically, deterministic on the CPU."""
    precision = t.precision if t.precision != "auto" else ("bf16-mixed" if on_gpu else "32-true")
    # One file, `last.ckpt`, rewritten after every epoch (Lightning writes `save_last` only
    # after a top-k save, so `save_top_k=0` would leave nothing to resume from until the end).
    checkpoint = ModelCheckpoint(dirpath=run_dir / "checkpoints", filename="last", monitor=None,
                                 save_top_k=1, every_n_epochs=1, save_on_train_epoch_end=True,
                                 enable_version_counter=False)
    return L.Trainer(
        max_epochs=t.epochs, accelerator=t.accelerator, devices=t.devices,
        strategy=t.strategy, num_nodes=t.num_nodes, precision=precision,
        logger=[CSVLogger(logs, name="", version=""), TensorBoardLogger(logs, name="", version="")],
        callbacks=[checkpoint, LearningRateMonitor(logging_interval="epoch"),
                   *(progress_bar() if t.progress else []), *(callbacks or [])],
        gradient_clip_val=t.grad_clip or None, deterministic=not on_gpu,
        enable_progress_bar=t.progress, enable_model_summary=False,
        log_every_n_steps=1, limit_train_batches=t.limit_train_batches,
        num_sanity_val_steps=0, use_distributed_sampler=False,
        plugins=[_atomic_checkpoint_io()],
    )


def _write_bundle(bundle: Path, cfg: Config, data, module, *, epochs_trained: int) -> None:
    """The inference bundle of a trained ``module``, with the facts generation needs."""
    reader = detect(cfg.data.root)
    facts = {
        "joint_names": data.joint_names, "joint_set": cfg.data.joint_set,
        "motion_dim": data.motion_dim, "n_audio_features": int(data.audio_feats.shape[1]),
        "dataset": reader.NAME, "sem_classes": data.sem_classes,
        "data_root": os.path.abspath(cfg.data.root), "epochs_trained": epochs_trained,
    }
    skeleton = reader.skeleton_bvh(cfg.data.root)  # not SMPL-X: generate on its own skeleton
    if skeleton is not None:
        facts["skeleton_bvh"] = skeleton
    save_bundle(bundle, cfg=cfg, vqvae=module.vqvae, classifier=module.classifier,
                norm=data.norm, vocab=data.vocab, facts=facts)


def _atomic_checkpoint_io():
    """Lightning's checkpoint writer, saving through a temporary file in the same folder."""
    class AtomicCheckpointIO(TorchCheckpointIO):
        def save_checkpoint(self, checkpoint, path, storage_options=None) -> None:
            with atomic_path(path) as tmp:
                torch.save(checkpoint, tmp)

    return AtomicCheckpointIO()


def _check_devices(t, on_gpu: bool) -> None:
    """Refuse more devices than the machine has (Lightning would start that many processes)."""
    if isinstance(t.devices, str) and t.devices != "auto":
        try:
            count = int(t.devices)
        except ValueError:
            return  # a list such as "0,1" is Lightning's to check
    elif isinstance(t.devices, int):
        count = t.devices
    else:
        return
    have = torch.cuda.device_count() if on_gpu else (os.cpu_count() or 1)
    kind = "GPUs" if on_gpu else "CPU cores"
    if count < 1 or count > have:
        raise ConfigError(None, f"train.devices={count}, but this machine has {have} {kind}")


def _quiet_lightning() -> None:
    """Keep Lightning's start-up chatter (GPU/TPU lines, tips) out of the user's terminal."""
    os.environ.setdefault("LITLOGGER_DISABLE_TIP", "1")
    for name in ("lightning.pytorch.utilities.rank_zero", "lightning.pytorch.accelerators.cuda",
                 "lightning.fabric.utilities.seed"):
        logging.getLogger(name).setLevel(logging.WARNING)


def config_with(cfg: Config, **sections) -> Config:
    """A copy of ``cfg`` with fields replaced: ``config_with(cfg, train={"epochs": 3})``."""
    return Config(**{name: dataclasses.replace(getattr(cfg, name), **sections.get(name, {}))
                     for name in ("data", "model", "train")})
