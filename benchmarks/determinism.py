"""Which part of a training's result is the seed's and which the machine's (issue 28, item 6).

The same short training of the demo's config (``synthetic.yaml``, the vanilla method, 2 epochs of
``--batches`` batches, one thread) runs in fresh processes: twice as this machine runs it, once
with torch's CPU kernels held to AVX2 (``ATEN_CPU_CAPABILITY=avx2``, ``ONEDNN_MAX_CPU_ISA=AVX2``:
what a CPU without AVX-512 runs) and once on two threads. Reported: whether each run's weights are
bit-identical to the first, and the largest absolute difference.

Run: ``python -m benchmarks.determinism --corpus CORPUS`` (a corpus from ``eggesture corpus
synth``). JSON to ``benchmarks/results/determinism.json``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from .common import Run

VARIANTS = {
    "this machine": {},
    "this machine, again": {},
    "AVX2 kernels": {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2"},
    "two threads": {"OMP_NUM_THREADS": "2"},
}


def train_once(corpus: str, out: Path, env: dict, batches: int) -> dict:
    """Train in a fresh process; its bundle's tensors."""
    from safetensors.torch import load_file

    cmd = [sys.executable, "-m", "eggesture.cli", "train", "--config", "synthetic",
           f"data.root={corpus}", f"train.out={out}", "train.epochs=2",
           f"train.limit_train_batches={batches}", "train.progress=false", "train.method=vanilla"]
    full = {**os.environ, "OMP_NUM_THREADS": "1", **env}
    subprocess.run(cmd, env=full, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return load_file(str(out / "bundle" / "model.safetensors"))


def main(argv: list[str] | None = None) -> int:
    import torch

    p = argparse.ArgumentParser(prog="python -m benchmarks.determinism", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", required=True)
    p.add_argument("--batches", type=int, default=40)
    p.add_argument("--out", default=None)
    args = p.parse_args(argv)
    run = Run("determinism", args.out)
    weights = {}
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, env) in enumerate(VARIANTS.items()):
            weights[name] = train_once(args.corpus, Path(tmp) / f"run{i}", env, args.batches)
    first = next(iter(weights.values()))
    rows = {}
    for name, w in weights.items():
        rows[name] = {
            "env": VARIANTS[name],
            "bit_identical_to_first": all(torch.equal(first[k], w[k]) for k in first),
            "max_abs_difference": max(float((first[k] - w[k]).abs().max()) for k in first)}
    run.results = {"config": "synthetic, train.method=vanilla, 2 epochs", "batches": args.batches,
                   "cpu_capability": torch.backends.cpu.get_cpu_capability(), "runs": rows}
    run.write("; ".join(f"{n}: {'identical' if r['bit_identical_to_first'] else 'differs'} "
                        f"(max |Δw| {r['max_abs_difference']:.2g})" for n, r in rows.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
