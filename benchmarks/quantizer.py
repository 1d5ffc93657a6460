"""Quantizer cost: forward + backward time and peak memory, against ``vector-quantize-pytorch``.

Question: what does the entropy-guided quantizer (eq. 5–9) cost over the vanilla VQ (eq. 1–4),
and over the codebook-diversity (entropy) loss of lucidrains' ``VectorQuantize``, at the same
codebook size K and code dimension, on a batch of the paper's shape (128 windows × 75 tokens)?

Methods (each one training step: forward, a downstream loss on the quantized output plus the
method's own losses, backward):

* ``vanilla`` — :class:`eggesture.models.quantizer.VectorQuantizer` as the vanilla baseline builds
  it (Euclidean nearest code, commitment loss, hard-usage moving average);
* ``entropy`` — :class:`eggesture.models.quantizer.EntropyGuidedQuantizer` as EGGesture builds it
  (cosine, Gumbel soft assignment over all K codes, moving average, entropy loss);
* ``vqp`` — ``VectorQuantize(dim, K)`` with its defaults (EMA codebook, rotation trick);
* ``vqp_entropy`` — the same with ``codebook_diversity_loss_weight=1`` (softmax over all K
  distances, entropy of the batch-average assignment).

Targets (issue 10): entropy ≤ 1.25× vanilla at K=512; entropy not slower than vqp_entropy at any
K; memory at K=10240 bounded (the soft assignment is chunked over rows, so doubling the batch
must not double the peak).

Run: ``python -m benchmarks.quantizer`` (CPU; ``--device cuda --bf16 --compile`` on a GPU).
"""

from __future__ import annotations

import argparse
import json
import sys

from .common import Run, interleaved, peak_memory, ratio, run_probe, set_threads, stats

METHODS = ("vanilla", "entropy", "vqp", "vqp_entropy")
SIZES = (512, 2048, 10240)
#: Repetitions per codebook size on the CPU (K = 10240 is seconds per step).
REPS = {512: 7, 2048: 4, 10240: 2}


def make(method: str, k: int, dim: int):
    """The quantizer module of ``method`` at codebook size ``k`` and code dimension ``dim``."""
    if method in ("vanilla", "entropy"):
        from eggesture.config import Config, ModelConfig, TrainConfig
        from eggesture.models.builders import build_quantizer

        cfg = Config(model=ModelConfig(codebook_size=k, code_dim=dim),
                     train=TrainConfig(method="vanilla" if method == "vanilla" else "eggesture"))
        return build_quantizer(cfg)
    try:
        from vector_quantize_pytorch import VectorQuantize
    except ImportError:
        raise SystemExit(f"benchmarks.quantizer: method {method!r} needs vector-quantize-pytorch: "
                         "pip install -e '.[bench]' (or leave it out with --methods)") from None

    weight = 1.0 if method == "vqp_entropy" else 0.0
    return VectorQuantize(dim=dim, codebook_size=k, codebook_diversity_loss_weight=weight)


def describe(method: str, q) -> dict:
    """The settings a method ran with (for the JSON)."""
    if method in ("vanilla", "entropy"):
        d = {"class": type(q).__name__, "distance": q.distance, "chunk_elements": q.chunk_elements}
        if method == "entropy":
            d.update(gumbel=q.gumbel, sim_temperature=q.sim_temperature, tau=q.tau)
        return d
    return {"class": "vector_quantize_pytorch.VectorQuantize",
            "codebook_diversity_loss_weight": q.codebook_diversity_loss_weight,
            "codebook_diversity_temperature": q.codebook_diversity_temperature,
            "ema_update": bool(q._codebook.ema_update), "rotation_trick": bool(q.rotation_trick)}


def step_fn(method: str, q, z, *, bf16: bool = False):
    """A closure running one forward + backward of ``q`` on the leaf tensor ``z (B, T, D)``."""
    import torch

    device_type = z.device.type

    def step():
        z.grad = None
        q.zero_grad(set_to_none=True)
        with torch.autocast(device_type, dtype=torch.bfloat16, enabled=bf16):
            if method in ("vanilla", "entropy"):
                out = q(z)
                quantized = out.quantized
                aux = out.losses["commit"] + out.losses["entropy"]
            else:
                quantized, _, aux = q(z)
            loss = quantized.float().square().mean() + aux
        loss.backward()

    return step


def probe(method: str, k: int, dim: int, batch: int, tokens: int) -> dict:
    """Peak RSS growth of one training step in this fresh process (everything the step
    allocates, parameter gradients included, is live at some point of a first step too)."""
    import torch

    torch.manual_seed(0)
    q = make(method, k, dim).train()
    z = torch.randn(batch, tokens, dim, requires_grad=True)
    step = step_fn(method, q, z)
    with peak_memory("cpu") as mem:
        step()
    return {"method": method, "K": k, "batch": batch, "tokens": tokens, **mem}


def measure_size(k: int, args, device: str) -> dict:
    """Interleaved timing of every method at codebook size ``k`` (and CUDA memory in-process)."""
    import torch

    torch.manual_seed(0)
    fns, modules, errors = {}, {}, {}
    for m in args.methods:
        q = make(m, k, args.dim).to(device).train()
        if args.compile:
            q = torch.compile(q)
        z = torch.randn(args.batch, args.tokens, args.dim, device=device, requires_grad=True)
        fns[m] = step_fn(m, q, z, bf16=args.bf16)
        modules[m] = q
    if args.compile:  # compile time is reported, not folded into the medians
        import time

        for m in list(fns):
            t = time.perf_counter()
            try:
                fns[m]()
                torch.cuda.synchronize() if device.startswith("cuda") else None
            except Exception as e:  # a library that does not compile is a result, not a crash
                errors[m] = f"{type(e).__name__}: {str(e).splitlines()[0][:200]}"
                del fns[m]
                continue
            errors[m + "_compile_s"] = round(time.perf_counter() - t, 2)
    reps = args.reps or REPS.get(k, 5)
    times = interleaved(fns, reps=reps, warmup=1, device=device)
    row = {"K": k, "reps": reps, "time": {m: stats(t) for m, t in times.items()},
           "settings": {m: describe(m, getattr(modules[m], "_orig_mod", modules[m]))
                        for m in args.methods}}
    if errors:
        row["notes"] = errors
    med = {m: row["time"][m]["median_s"] for m in times}
    row["ratios"] = {f"{a}/{b}": ratio(med[a], med[b]) for a, b in
                     (("entropy", "vanilla"), ("entropy", "vqp_entropy"), ("vqp_entropy", "vqp"),
                      ("vqp", "vanilla")) if a in med and b in med}
    if device.startswith("cuda"):
        row["memory"] = {}
        for m, fn in fns.items():
            with peak_memory(device) as mem:
                fn()
            row["memory"][m] = mem
    return row


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.quantizer", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=int, nargs="+", default=list(SIZES), help="codebook sizes K")
    p.add_argument("--dim", type=int, default=256, help="code dimension")
    p.add_argument("--batch", type=int, default=128, help="windows per batch")
    p.add_argument("--tokens", type=int, default=75, help="tokens per window")
    p.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    p.add_argument("--reps", type=int, default=None, help="timed repetitions (default per K)")
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--threads", type=int, default=1,
                   help="torch CPU threads (default 1: see docs/benchmarks.md)")
    p.add_argument("--bf16", action="store_true", help="bf16 autocast (GPU)")
    p.add_argument("--compile", action="store_true", help="torch.compile each quantizer")
    p.add_argument("--no-memory", action="store_true", help="skip the fresh-process memory probes")
    p.add_argument("--quick", action="store_true", help="tiny sizes (smoke test, seconds)")
    p.add_argument("--out", default=None, help="results folder (default benchmarks/results)")
    p.add_argument("--name", default=None, help="result name (default quantizer[_cuda...])")
    p.add_argument("--probe", nargs=5, metavar=("METHOD", "K", "DIM", "B", "T"),
                   help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.probe:
        m, *nums = args.probe
        print(json.dumps(probe(m, *map(int, nums))))
        return 0
    mem_methods = list(args.methods)
    if args.quick:
        args.sizes, args.dim, args.batch, args.tokens = [64, 256], 32, 4, 16
        args.reps = args.reps or 2
        mem_methods = [m for m in mem_methods if m == "entropy"]
    set_threads(args.threads)
    device = args.device
    name = args.name or "quantizer" + ("" if device == "cpu" else "_" + device.split(":")[0]) + (
        "_bf16" if args.bf16 else "") + ("_compile" if args.compile else "")
    run = Run(name, args.out)
    run.results = {"shape": {"batch": args.batch, "tokens": args.tokens, "dim": args.dim,
                             "N": args.batch * args.tokens},
                   "device": device, "bf16": args.bf16, "compile": args.compile, "sizes": []}
    for k in args.sizes:
        row = measure_size(k, args, device)
        run.results["sizes"].append(row)
        print(f"  K={k}: " + ", ".join(f"{m} {t['median_s'] * 1000:.0f} ms"
                                      for m, t in row["time"].items()), flush=True)
    if device == "cpu" and not args.no_memory:
        mem = []
        for k in args.sizes:
            for m in mem_methods:
                mem.append(run_probe("benchmarks.quantizer",
                                     ["--probe", m, str(k), str(args.dim), str(args.batch),
                                      str(args.tokens)]))
        # Boundedness: the entropy quantizer at the largest K with twice the tokens.
        if "entropy" in mem_methods:
            mem.append(run_probe("benchmarks.quantizer",
                                 ["--probe", "entropy", str(max(args.sizes)), str(args.dim),
                                  str(2 * args.batch), str(args.tokens)]))
        run.results["memory"] = mem
    run.results["targets"] = targets(run.results)
    return _finish(run)


def _mem(results: dict, method: str, k: int, batch: int) -> float | None:
    for r in results.get("memory", []):
        if r["method"] == method and r["K"] == k and r["batch"] == batch:
            return r["peak_mb"]
    for row in results["sizes"]:
        if row["K"] == k and method in row.get("memory", {}):
            return row["memory"][method]["peak_mb"]
    return None


def targets(results: dict) -> dict:
    """The issue's targets, each with the measured value and whether it is met."""
    rows = {r["K"]: r for r in results["sizes"]}
    out = {}
    k0 = min(rows)
    r = rows[k0]["ratios"].get("entropy/vanilla")
    if r is not None:
        out[f"entropy/vanilla at K={k0} <= 1.25"] = {"value": r, "met": r <= 1.25}
    for k, row in rows.items():
        r = row["ratios"].get("entropy/vqp_entropy")
        if r is not None:
            out[f"entropy/vqp_entropy at K={k} <= 1.0"] = {"value": r, "met": r <= 1.0}
    k = max(rows)
    b = results["shape"]["batch"]
    one, two = _mem(results, "entropy", k, b), _mem(results, "entropy", k, 2 * b)
    vqp = _mem(results, "vqp_entropy", k, b)
    if one is not None and two is not None:
        out[f"entropy peak memory at K={k}: 2x tokens adds < 50 %"] = {
            "value": ratio(two, one), "met": two < 1.5 * one, "peak_mb": one, "peak_mb_2x": two}
    if one is not None and vqp is not None:
        out[f"entropy peak memory at K={k} <= vqp_entropy"] = {
            "value": ratio(one, vqp), "met": one <= vqp, "peak_mb": one, "vqp_entropy_mb": vqp}
    return out


def _finish(run: Run) -> int:
    parts = []
    for row in run.results["sizes"]:
        r = row["ratios"]
        nan = float("nan")
        parts.append(f"K={row['K']}: entropy {r.get('entropy/vanilla', nan):.2f}x vanilla, "
                     f"{r.get('entropy/vqp_entropy', nan):.2f}x vqp_entropy")
    missed = [k for k, v in run.results["targets"].items() if not v["met"]]
    summary = "; ".join(parts) + (f"; MISSED: {', '.join(missed)}" if missed else "; targets met")
    run.write(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
