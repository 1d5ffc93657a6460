"""A training process killed with SIGKILL resumes to the same weights (issue 11, item 3).

``eggesture train`` runs as a real subprocess on a small BEAT2 folder and is killed with
``kill -9`` — once at a seeded random moment after its first checkpoint, once before any
checkpoint (while it prepares its data) — and the same command is then run to completion. The
bundle's weights must be bitwise equal to those of an uninterrupted run of the same config
(test_training.py shows in-process resume is exact; this is the real-signal version). A damaged
checkpoint is refused in one line, and ``--restart`` recovers from it.
"""

from __future__ import annotations

import csv
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from beat2_folder import write_folder
from eggesture.cli import main

EPOCHS = 30  # 2 steps each: ~4 s of training, long enough to be killed in the middle
REPO_SRC = str(Path(__file__).resolve().parents[1] / "src")


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    """The reference runs in-process with one thread, like the subprocesses (OMP_NUM_THREADS=1),
    so floating-point reductions happen in the same order."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("kill") / "beat2"
    return write_folder(root, {"1_x_0_1_1": "train", "1_x_0_2_2": "train", "1_x_0_3_3": "val"},
                        seconds=8)


def command(root: Path, out: Path) -> list[str]:
    return ["train", "--config", "tiny", f"data.root={root}", f"train.out={out}",
            "train.progress=false", f"train.epochs={EPOCHS}"]


@pytest.fixture(scope="module")
def reference(corpus, tmp_path_factory) -> dict:
    """Weights of an uninterrupted run."""
    out = tmp_path_factory.mktemp("ref") / "run"
    assert main(command(corpus, out)) == 0
    return load_file(str(out / "bundle" / "model.safetensors"))


def assert_same_weights(bundle: Path, reference: dict) -> None:
    weights = load_file(str(bundle / "model.safetensors"))
    assert weights.keys() == reference.keys()
    for k in weights:
        torch.testing.assert_close(weights[k], reference[k], rtol=0, atol=0, msg=k)


def start(corpus: Path, out: Path, cache: Path) -> subprocess.Popen:
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=REPO_SRC, EGGESTURE_CACHE=str(cache))
    return subprocess.Popen([sys.executable, "-m", "eggesture.cli", *command(corpus, out)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def wait_for(path: Path, proc: subprocess.Popen, timeout: float = 240) -> None:
    t0 = time.monotonic()
    while not path.exists():
        if proc.poll() is not None:
            pytest.fail(f"training ended (code {proc.returncode}) before {path.name} appeared: "
                        f"{proc.stderr.read().decode()[-2000:]}")
        if time.monotonic() - t0 > timeout:
            proc.kill()
            pytest.fail(f"{path} did not appear in {timeout} s")
        time.sleep(0.01)


def kill(proc: subprocess.Popen) -> None:
    assert proc.poll() is None, "training finished before the kill: raise EPOCHS"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL


def saved_epoch(ckpt: Path) -> int:
    return int(torch.load(ckpt, map_location="cpu", weights_only=True)["epoch"])


def test_killed_after_a_checkpoint_resumes_to_the_same_weights(corpus, reference, tmp_path):
    out = tmp_path / "run"
    proc = start(corpus, out, tmp_path / "cache")
    ckpt = out / "checkpoints" / "last.ckpt"
    wait_for(ckpt, proc)
    first = saved_epoch(ckpt)
    assert first < EPOCHS // 2, (
        f"the first checkpoint holds epoch {first} of {EPOCHS}: checkpoints are not written "
        "as training goes, so a kill loses everything before it")
    # A seeded random point of the remaining training: up to half the epochs' time further.
    t0, mtime = time.monotonic(), ckpt.stat().st_mtime_ns
    while ckpt.stat().st_mtime_ns == mtime and proc.poll() is None:  # one epoch's duration
        time.sleep(0.002)
    epoch_s = time.monotonic() - t0
    time.sleep(random.Random(11).uniform(0.0, EPOCHS // 2 * epoch_s))
    kill(proc)
    assert saved_epoch(ckpt) < EPOCHS - 1  # it was killed mid-run, with epochs still to go
    assert not (out / "bundle").exists()
    assert main(command(corpus, out)) == 0  # the same command, to the end
    assert_same_weights(out / "bundle", reference)
    with (out / "logs" / "metrics.csv").open() as f:  # the epochs before the kill are kept
        epochs = [int(r["epoch"]) for r in csv.DictReader(f) if r.get("codebook/utilization")]
    assert epochs == list(range(EPOCHS))


def test_killed_before_any_checkpoint_starts_fresh_to_the_same_weights(corpus, reference,
                                                                       tmp_path):
    out = tmp_path / "run"
    proc = start(corpus, out, tmp_path / "cache")  # its own, empty cache: killed while building it
    wait_for(out / "config.yaml", proc)  # written just before the data is prepared
    kill(proc)
    assert not (out / "checkpoints" / "last.ckpt").exists()
    assert main(command(corpus, out)) == 0
    assert_same_weights(out / "bundle", reference)


def test_a_damaged_checkpoint_is_refused_and_restart_recovers(corpus, reference, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(command(corpus, out)) == 0
    ckpt = out / "checkpoints" / "last.ckpt"
    blob = ckpt.read_bytes()
    ckpt.write_bytes(blob[: len(blob) // 2])  # e.g. a copy cut short
    capsys.readouterr()
    assert main(command(corpus, out)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"error: {ckpt}: damaged checkpoint"), err
    assert "--restart" in err
    assert main([*command(corpus, out), "--restart"]) == 0
    assert_same_weights(out / "bundle", reference)
