"""``python -m benchmarks``: run every benchmark (each in its own process), then the report.

On a machine with CUDA the quantizer and training benchmarks run again on the GPU, in fp32 and
with bf16 autocast + ``torch.compile``, and the training benchmark times a whole paper-scale
epoch there. ``--quick`` runs each at tiny sizes (a smoke test of seconds, results elsewhere).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

from .common import ROOT

ALL = ("quantizer", "training", "inference", "demo")


def plan(args) -> list[list[str]]:
    """The benchmark command lines to run, in order."""
    common = (["--quick"] if args.quick else []) + (["--out", args.out] if args.out else [])
    threads = ["--threads", str(args.threads)]
    cmds = []
    for name in args.only or ALL:
        extra = list(common)
        if name == "demo":
            extra = (["--out", args.out] if args.out else []) + sum(
                (["--demo-dir", d] for d in args.demo_dir or []), [])
        else:
            extra += threads
        cmds.append([name, *extra])
    if args.gpu:
        for name in ("quantizer", "training"):
            if args.only and name not in args.only:
                continue
            cmds.append([name, *common, "--device", "cuda"])
            cmds.append([name, *common, "--device", "cuda", "--bf16", "--compile"]
                        + (["--paper-epoch"] if name == "training" and not args.quick else []))
    return cmds


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    p.add_argument("--only", nargs="+", choices=ALL, help="run only these benchmarks")
    p.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test of seconds")
    p.add_argument("--threads", type=int, default=1,
                   help="torch CPU threads (default 1: see docs/benchmarks.md)")
    p.add_argument("--out", default=None, help="results folder (default benchmarks/results)")
    p.add_argument("--demo-dir", action="append", help="folder of a finished eggesture demo run")
    p.add_argument("--no-report", action="store_true", help="do not rewrite docs/benchmarks.md")
    p.add_argument("--gpu", action=argparse.BooleanOptionalAction, default=None,
                   help="also run on CUDA (default: when a GPU is present)")
    args = p.parse_args(argv)
    if args.gpu is None:
        import torch

        args.gpu = torch.cuda.is_available()
    failed = []
    t0 = time.perf_counter()
    for cmd in plan(args):
        print(f"$ python -m benchmarks.{' '.join(cmd)}", flush=True)
        rc = subprocess.run([sys.executable, "-m", f"benchmarks.{cmd[0]}", *cmd[1:]],
                            cwd=ROOT).returncode
        if rc:
            failed.append(" ".join(cmd))
    if not args.no_report and not args.quick and not args.out:
        subprocess.run([sys.executable, "-m", "benchmarks.report"], cwd=ROOT, check=False)
    print(f"benchmarks: {len(plan(args)) - len(failed)} ran, {len(failed)} failed"
          + (f" ({'; '.join(failed)})" if failed else "") + f", {time.perf_counter() - t0:.0f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
