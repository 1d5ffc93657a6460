"""Lightning callbacks: the progress bar of every training (epochs counted from 1), and two that
``eggesture ablate`` adds without changing a run's config (and so its run key): weight snapshots
for FGD over training (Fig. 6), and a clock of the training seconds that survives a resume."""

from __future__ import annotations

import importlib.util
import json
import time
from pathlib import Path

import lightning as L
from lightning.pytorch.callbacks import RichProgressBar
from safetensors.torch import save_file

from ..io import atomic_path, write_json


class EpochProgressBar(RichProgressBar):
    """Lightning's rich progress bar, its epochs counted as a person counts them: "Epoch 2/2"
    on the last of two (Lightning's own reads "Epoch 1/1")."""

    def _get_train_description(self, current_epoch: int) -> str:
        text = f"Epoch {current_epoch + 1}"
        if self.trainer.max_epochs is not None:
            text += f"/{self.trainer.max_epochs}"
        # Padded as Lightning pads it, so that the bar does not flicker beside "Validation".
        return f"{text:{len(self.validation_description)}}"


def progress_bar() -> list:
    """The progress bar callback for a training that shows one (rich installed), else none:
    Lightning then falls back to its own."""
    return [EpochProgressBar()] if importlib.util.find_spec("rich") else []


def snapshot_callback(run_dir: Path, epochs: list[int]):
    """A Lightning callback writing the networks' weights (safetensors) to
    ``run_dir/snapshots/epoch<e>.safetensors`` after each epoch of ``epochs`` (paper Fig. 6:
    FGD over training). Kept outside the config so that it does not change the run's key."""
    class Snapshots(L.Callback):
        def on_train_epoch_end(self, trainer, module):
            e = trainer.current_epoch + 1
            if e not in epochs or not trainer.is_global_zero:
                return
            tensors = {f"{name}.{k}": v.detach().cpu().contiguous()
                       for name in ("vqvae", "classifier")
                       for k, v in getattr(module, name).state_dict().items()}
            with atomic_path(run_dir / "snapshots" / f"epoch{e:04d}.safetensors") as tmp:
                save_file(tensors, str(tmp))

    return Snapshots()


def train_clock(path: Path):
    """A Lightning callback keeping the run's training seconds in ``path`` (``train.json``)
    after every epoch, summed over resumes: a run stopped and resumed counts the time of each
    part up to its last finished epoch, not only the last part's."""
    before = 0.0
    if path.is_file():
        old = json.loads(path.read_text())
        before = 0.0 if old.get("finished", True) else float(old.get("train_seconds") or 0)

    class TrainClock(L.Callback):
        t0: float | None = None  # set when training starts

        def on_train_start(self, trainer, module):
            self.t0 = time.perf_counter()

        def on_train_epoch_end(self, trainer, module):
            if trainer.is_global_zero:
                self.write(finished=False)

        def write(self, finished: bool) -> None:
            spent = 0.0 if self.t0 is None else time.perf_counter() - self.t0
            write_json(path, {"train_seconds": round(before + spent, 1), "finished": finished})

    return TrainClock()
