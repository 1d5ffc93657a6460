"""Shared helpers of the benchmarks: machine facts, interleaved timing, peak memory, JSON output.

Every benchmark writes ``<out>/<name>.json`` holding ``meta`` (date, command, machine, library
versions, load average before and after, a matmul reference speed) and ``results``, and prints one
summary line. Ratios between methods are always measured in one process, with the methods
interleaved repetition by repetition, so a busy machine slows all of them alike.

Peak memory on the CPU is the growth of the resident set of a *fresh* process over its level just
before the measured call (Linux: ``/proc/self/clear_refs`` resets the high-water mark ``VmHWM``);
``tracemalloc`` does not see torch's allocations. On CUDA it is ``torch.cuda.max_memory_allocated``
over the allocation before the call.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from eggesture.recipes.demo import cpu_model

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


# --- facts ----------------------------------------------------------------------------------

def _mem_total_gb() -> float | None:
    try:
        import psutil

        return round(psutil.virtual_memory().total / 2**30, 1)
    except ImportError:
        return None


def _cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def machine() -> dict:
    """CPU model, cores usable by this process, torch threads, memory, GPU (if any)."""
    import torch

    info = {
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "cores": _cores(),
        "torch_threads": torch.get_num_threads(),
        "memory_gb": _mem_total_gb(),
        "gpu": None,
    }
    if torch.cuda.is_available():
        p = torch.cuda.get_device_properties(0)
        info["gpu"] = {"name": p.name, "memory_gb": round(p.total_memory / 2**30, 1),
                       "capability": f"{p.major}.{p.minor}", "cuda": torch.version.cuda}
    return info


def versions() -> dict:
    """Versions of python, torch and the libraries the benchmarks touch; the git commit."""
    from importlib import metadata

    out = {"python": platform.python_version()}
    for pkg in ("torch", "numpy", "eggesture", "lightning", "librosa", "vector-quantize-pytorch",
                "psutil"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = None
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True,
                                capture_output=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "src"], cwd=ROOT, text=True,
                               capture_output=True, timeout=10).stdout.strip()
        out["git_commit"] = commit + ("+dirty-src" if dirty else "") if commit else None
    except (OSError, subprocess.SubprocessError):
        out["git_commit"] = None
    return out


def matmul_gflops(n: int = 1024, reps: int = 5) -> float:
    """Median fp32 matmul speed of this machine right now (a yardstick for absolute numbers)."""
    import torch

    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - t)
    return round(2 * n**3 / statistics.median(times) / 1e9, 1)


def loadavg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


class Run:
    """One benchmark run: collects ``results`` and writes them with ``meta`` as JSON."""

    def __init__(self, name: str, out_dir: str | Path | None = None):
        self.name = name
        self.out_dir = Path(out_dir) if out_dir else RESULTS
        self.t0 = time.perf_counter()
        self.meta = {
            "benchmark": name,
            "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "command": "python -m benchmarks." + name + (" " + " ".join(sys.argv[1:])
                                                          if sys.argv[1:] else ""),
            "machine": machine(),
            "versions": versions(),
            "loadavg_start": loadavg(),
            "matmul_gflops_start": matmul_gflops(),
        }
        self.results: dict = {}

    def write(self, summary: str) -> Path:
        """Write ``<out>/<name>.json`` atomically, print ``summary`` and return the path."""
        from eggesture.io import write_json

        self.meta["loadavg_end"] = loadavg()
        self.meta["wall_seconds"] = round(time.perf_counter() - self.t0, 1)
        self.meta["summary"] = summary
        self.out_dir.mkdir(parents=True, exist_ok=True)
        path = self.out_dir / f"{self.name}.json"
        write_json(path, {"meta": self.meta, "results": self.results})
        print(f"{self.name}: {summary}  [{path}]", flush=True)
        return path


def set_threads(n: int | None) -> int:
    """Use ``n`` torch CPU threads (default: every core this process may run on)."""
    import torch

    if n is None:
        n = _cores()
    torch.set_num_threads(max(1, int(n)))
    return torch.get_num_threads()


# --- timing ---------------------------------------------------------------------------------

def sync(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()


def interleaved(fns: dict[str, Callable[[], object]], reps: int, warmup: int = 1,
                device: str = "cpu") -> dict[str, list[float]]:
    """Seconds per call of each function, ``reps`` times, the order rotated every repetition."""
    names = list(fns)
    for _ in range(warmup):
        for n in names:
            fns[n]()
            sync(device)
    times: dict[str, list[float]] = {n: [] for n in names}
    for r in range(reps):
        order = names[r % len(names):] + names[:r % len(names)]
        for n in order:
            sync(device)
            t = time.perf_counter()
            fns[n]()
            sync(device)
            times[n].append(time.perf_counter() - t)
    return times


def stats(times: list[float]) -> dict:
    """Median, min and all samples (seconds, 4 decimals)."""
    return {"median_s": round(statistics.median(times), 4), "min_s": round(min(times), 4),
            "samples_s": [round(t, 4) for t in times]}


class StageTimer:
    """Wall time per named stage, collected by forward hooks or explicit ``with timer(name)``.

    Stages may nest (a hook on a module inside another timed module); each stage's total is its
    own wall time, so nested stages are not summed into a parent by this class.
    """

    def __init__(self, device: str = "cpu"):
        self.device = device
        self.totals: dict[str, float] = {}
        self._open: dict[str, float] = {}

    def start(self, name: str) -> None:
        sync(self.device)
        self._open[name] = time.perf_counter()

    def stop(self, name: str) -> None:
        sync(self.device)
        self.totals[name] = self.totals.get(name, 0.0) + time.perf_counter() - self._open.pop(name)

    @contextmanager
    def __call__(self, name: str):
        self.start(name)
        try:
            yield
        finally:
            self.stop(name)

    def hook(self, module, name: str) -> list:
        """Time every forward call of ``module`` under ``name``; returns the hook handles."""
        return [module.register_forward_pre_hook(lambda *_: self.start(name)),
                module.register_forward_hook(lambda *_: self.stop(name))]

    def reset(self) -> None:
        self.totals.clear()


# --- memory ---------------------------------------------------------------------------------

def _status_kb(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def rss_mb() -> float:
    """Current resident set size of this process, MiB."""
    kb = _status_kb("VmRSS")
    if kb is None:
        import psutil

        return psutil.Process().memory_info().rss / 2**20
    return kb / 1024


def reset_peak_rss() -> bool:
    """Reset the kernel's high-water mark of this process's RSS (Linux ≥ 4.0); True if it worked."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def peak_rss_mb() -> float:
    """Peak RSS of this process since start (or the last :func:`reset_peak_rss`), MiB."""
    kb = _status_kb("VmHWM")
    if kb is None:
        import resource

        kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024


@contextmanager
def peak_memory(device: str = "cpu"):
    """Measure the peak memory growth of the block: yields a dict filled on exit with
    ``peak_mb`` (growth over the level at entry), ``base_mb`` and ``how`` (the measure)."""
    out: dict = {}
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()
        base = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        yield out
        torch.cuda.synchronize()
        out.update(peak_mb=round((torch.cuda.max_memory_allocated() - base) / 2**20, 1),
                   base_mb=round(base / 2**20, 1), how="torch.cuda.max_memory_allocated")
        return
    import gc

    gc.collect()
    exact = reset_peak_rss()
    base = rss_mb()
    yield out
    out.update(peak_mb=round(peak_rss_mb() - base, 1), base_mb=round(base, 1),
               how="VmHWM after clear_refs" if exact else "ru_maxrss (includes start-up)")


def run_probe(module: str, args: list[str], timeout: float = 900) -> dict:
    """Run ``python -m <module> <args>`` in a fresh process; it prints one JSON line last."""
    proc = subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, text=True,
                          capture_output=True, timeout=timeout,
                          env={**os.environ, "PYTHONWARNINGS": "ignore"})
    if proc.returncode != 0:
        raise RuntimeError(f"{module} {' '.join(args)} failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def ratio(a: float, b: float) -> float:
    return round(a / b, 3) if b else float("nan")


def replace_section(readme: Path, begin: str, end: str, block: str) -> None:
    """Replace the text between the markers ``begin`` and ``end`` of ``readme`` with ``block``
    (:func:`eggesture.io.replace_section`; a README without them ends the script in one line)."""
    from eggesture.errors import DataError
    from eggesture.io import replace_section as replace

    try:
        replace(readme, begin, end, block)
    except DataError as e:
        raise SystemExit(str(e)) from None
