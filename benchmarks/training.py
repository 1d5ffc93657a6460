"""Training throughput: windows per second of a training step, and where the time goes.

Question: how many training windows per second does a step (forward, losses, backward, gradient
clipping, Adam) process for the packaged configs ``synthetic.yaml`` (the demo's model) and
``paper_beat2.yaml`` (the paper's model, batch 128 of 300-frame windows), and which stage costs
what: data loading, the VQ-VAE encoder, the quantizer, the VQ-VAE decoder, the classifier (its
audio encoder, text encoder and transformer decoder), the losses, backward, the optimizer.

The step is :class:`eggesture.training.module.EGGestureModule`'s own (``_losses`` + ``_total``
+ the per-epoch statistics), on random batches of the config's shapes; data loading is timed
separately on windows prepared from the real BEAT2 sample (``shared/data/beat2_sample``) when it
is present. Stage times come from forward hooks (wall clock, synchronised on CUDA); the top
operators from ``torch.profiler`` on one extra step.

Methods: ``eggesture`` (joint step, entropy-guided quantizer, reweighted classifier) and, for
comparison, the vanilla baseline's two phases (``vanilla:vq`` — VQ-VAE only; ``vanilla:cls`` —
classifier on the frozen VQ-VAE), interleaved step by step.

The paper-scale epoch time is the number of windows in a BEAT2-sized corpus (``--corpus-hours``
of speech, default 4, in sequences of ``--sequence-seconds``) divided by the measured throughput
(projected on the CPU; with ``--paper-epoch`` on a GPU a whole epoch of steps is run and timed).

Run: ``python -m benchmarks.training`` (``--device cuda --bf16 --compile --paper-epoch`` on a GPU).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time

from .common import ROOT, Run, StageTimer, interleaved, set_threads, stats, sync

CONFIGS = ("synthetic", "paper_beat2")
#: (warm-up, timed) steps on the CPU per config: a paper step at batch 128 takes tens of seconds.
STEPS = {"synthetic": (1, 8), "paper_beat2": (1, 2)}
METHODS = {"synthetic": ("eggesture", "vanilla:vq", "vanilla:cls"), "paper_beat2": ("eggesture",)}
VOCAB = 2000
BEAT2_SAMPLE = ROOT.parent / "shared" / "data" / "beat2_sample"


def build(cfg, method: str, motion_dim: int, device: str):
    """The Lightning module of ``method`` (``eggesture`` or ``vanilla:<phase>``) and its phase."""
    import torch

    from eggesture.features.audio import N_FEATURES
    from eggesture.recipes.train import config_with
    from eggesture.training.module import EGGestureModule

    name, _, phase = method.partition(":")
    cfg = config_with(cfg, train={"method": name})
    vocab = ["", "<unk>"] + [f"w{i}" for i in range(VOCAB - 2)]
    torch.manual_seed(0)
    module = EGGestureModule(cfg, motion_dim=motion_dim, vocab=vocab,
                             n_audio_features=N_FEATURES).to(device).train()
    phase = phase or module.phase()
    if phase == "cls":  # what on_train_epoch_start does in the classifier phase
        module.vqvae.requires_grad_(False)
        module.vqvae.eval()
    return module, phase


def random_batch(cfg, motion_dim: int, batch: int, device: str) -> dict:
    """Random batch: motion ``(B, L, D)``, audio features ``(B, 4L, F)``, words ``(B, L)``."""
    import torch

    from eggesture.features.audio import N_FEATURES, PER_FRAME

    g = torch.Generator().manual_seed(1)
    L = cfg.data.length
    return {"motion": torch.randn(batch, L, motion_dim, generator=g).to(device),
            "audio_feats": torch.randn(batch, PER_FRAME * L, N_FEATURES, generator=g).to(device),
            "words": torch.randint(0, VOCAB, (batch, L), generator=g).to(device)}


def make_step(module, phase: str, batch: dict, *, timer: StageTimer | None, bf16: bool):
    """One optimisation step of ``module`` on ``batch`` (what Lightning's loop does per batch)."""
    import torch

    params = [p for p in module.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=module.cfg.train.lr)
    clip = module.cfg.train.grad_clip
    device_type = batch["motion"].device.type
    t = timer or StageTimer()

    def step():
        t.start("forward")
        with torch.autocast(device_type, dtype=torch.bfloat16, enabled=bf16):
            out = module._losses(batch, phase)
            loss = module._total(out, phase)
        module._accumulate(out)
        t.stop("forward")
        t.start("backward")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        t.stop("backward")
        t.start("optimizer")
        if clip:
            torch.nn.utils.clip_grad_norm_(params, clip)
        opt.step()
        t.stop("optimizer")

    return step


def hook_stages(module, timer: StageTimer) -> list:
    """Forward hooks timing the VQ-VAE and classifier parts of ``module``."""
    parts = {"vq_encoder": module.vqvae.encoder, "quantizer": module.vqvae.quantizer,
             "vq_decoder": module.vqvae.decoder, "classifier": module.classifier,
             "cls_audio_encoder": module.classifier.audio_encoder,
             "cls_decoder": module.classifier.decoder}
    if module.classifier.text_encoder is not None:
        parts["cls_text_encoder"] = module.classifier.text_encoder
    handles = []
    for name, m in parts.items():
        handles += timer.hook(m, name)
    return handles


def breakdown(totals: dict[str, float], n_steps: int) -> dict[str, float]:
    """Seconds per step of each stage; ``losses_other`` = forward minus the hooked modules."""
    per = {k: v / n_steps for k, v in totals.items()}
    top = sum(per.get(k, 0.0) for k in ("vq_encoder", "quantizer", "vq_decoder", "classifier"))
    per["losses_other"] = per.get("forward", 0.0) - top
    return {k: round(v, 4) for k, v in per.items()}


def data_timing(cfg, batch: int, reps: int = 3) -> dict | None:
    """Seconds to load one batch of windows prepared from the real BEAT2 sample (if present)."""
    if not (BEAT2_SAMPLE / "train_test_split.csv").is_file():
        return None
    from torch.utils.data import default_collate

    from eggesture.data.windows import WindowSettings, prepare
    from eggesture.training.data import WindowDataset

    with tempfile.TemporaryDirectory() as cache:
        old = os.environ.get("EGGESTURE_CACHE")
        os.environ["EGGESTURE_CACHE"] = cache
        try:
            t = time.perf_counter()
            data = prepare(BEAT2_SAMPLE, WindowSettings.from_config(cfg), train_splits=("test",))
            prep = time.perf_counter() - t
            ds = WindowDataset(data, ["test"])
            n = len(ds)
            if n == 0:
                return None
            times = []
            for r in range(reps):
                t = time.perf_counter()
                default_collate([ds[(r * batch + i) % n] for i in range(batch)])
                times.append(time.perf_counter() - t)
        finally:
            if old is None:
                os.environ.pop("EGGESTURE_CACHE", None)
            else:
                os.environ["EGGESTURE_CACHE"] = old
    s = stats(times)
    return {"source": "shared/data/beat2_sample (64 s, prepared into a temporary cache)",
            "windows_available": n, "prepare_s": round(prep, 2), "batch": batch, **s,
            "per_window_ms": round(1000 * s["median_s"] / batch, 3)}


def profile_ops(module, phase: str, batch: dict, device: str, top: int = 12) -> list[dict]:
    """The ``top`` operators by self time of one step, from ``torch.profiler``."""
    from torch.profiler import ProfilerActivity, profile

    step = make_step(module, phase, batch, timer=None, bf16=False)
    step()
    acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.startswith("cuda") else [])
    with profile(activities=acts) as prof:
        step()
        sync(device)
    key = "self_device_time_total" if device.startswith("cuda") else "self_cpu_time_total"
    rows = sorted(prof.key_averages(), key=lambda e: getattr(e, key, 0.0), reverse=True)
    total = sum(getattr(e, key, 0.0) for e in prof.key_averages()) or 1.0
    return [{"op": e.key, "self_ms": round(getattr(e, key) / 1000, 2),
             "share": round(getattr(e, key) / total, 3), "calls": e.count} for e in rows[:top]]


def paper_epoch_windows(cfg, hours: float, seq_seconds: float) -> int:
    """Training windows of one epoch on ``hours`` of speech in sequences of ``seq_seconds``."""
    frames = int(seq_seconds * cfg.data.fps)
    per_seq = max(0, (frames - cfg.data.length) // cfg.data.stride + 1)
    return int(math.ceil(hours * 3600 / seq_seconds)) * per_seq


def measure_config(name: str, args, device: str) -> dict:

    from eggesture.config import load_config
    from eggesture.data.motion import joint_indices

    cfg = load_config(name)
    motion_dim = 6 * len(joint_indices(cfg.data.joint_set))
    batch_size = args.batch or cfg.train.batch_size
    warm, reps = STEPS[name]
    if args.steps:
        reps = args.steps
    if args.quick:
        batch_size, warm, reps = 2, 1, 2
    methods = args.methods or METHODS[name]
    if args.quick:  # shorter windows too
        from eggesture.recipes.train import config_with

        cfg = config_with(cfg, data={"length": 16, "seed_frames": 4})
    batch = random_batch(cfg, motion_dim, batch_size, device)
    fns, timers, modules, handles = {}, {}, {}, []
    for m in methods:
        module, phase = build(cfg, m, motion_dim, device)
        timer = StageTimer(device)
        if not args.compile:
            handles += hook_stages(module, timer)
        else:
            module.vqvae.compile()
            module.classifier.compile()
        fns[m] = make_step(module, phase, batch, timer=timer, bf16=args.bf16)
        timers[m], modules[m] = timer, (module, phase)
    compile_s = {}
    if args.compile:
        for m, fn in fns.items():
            t = time.perf_counter()
            fn()
            sync(device)
            compile_s[m] = round(time.perf_counter() - t, 2)
    for _ in range(warm):
        for fn in fns.values():
            fn()
    for t in timers.values():
        t.reset()
    times = interleaved(fns, reps=reps, warmup=0, device=device)
    for h in handles:
        h.remove()
    row: dict = {"config": name, "batch": batch_size, "window_frames": cfg.data.length,
                 "motion_dim": motion_dim, "codebook_size": cfg.model.codebook_size,
                 "params_M": {m: round(sum(p.numel() for p in modules[m][0].parameters()) / 1e6, 2)
                              for m in methods},
                 "warmup_steps": warm, "steps": reps, "methods": {}}
    for m in methods:
        s = stats(times[m])
        row["methods"][m] = {
            "step": s, "windows_per_s": round(batch_size / s["median_s"], 2),
            "stages_s_per_step": breakdown(timers[m].totals, reps) if not args.compile else None,
        }
    if compile_s:
        row["compile_first_step_s"] = compile_s
    if "eggesture" in row["methods"] and "vanilla:vq" in row["methods"]:
        e = row["methods"]["eggesture"]["step"]["median_s"]
        v = (row["methods"]["vanilla:vq"]["step"]["median_s"]
             + row["methods"].get("vanilla:cls", {"step": {"median_s": 0.0}})["step"]["median_s"])
        row["eggesture_step_over_vanilla_vq_plus_cls"] = round(e / v, 3)
    if not args.no_data and not args.quick:
        row["data"] = data_timing(cfg, batch_size)
    if not args.no_profile:
        pb = min(batch_size, args.profile_batch)
        module, phase = build(cfg, methods[0], motion_dim, device)
        row["profile"] = {"method": methods[0], "batch": pb,
                          "top_ops": profile_ops(module, phase,
                                                 random_batch(cfg, motion_dim, pb, device), device)}
    # Paper-scale epoch: BEAT2-sized corpus, windows of this config.
    if name == "paper_beat2" and not args.quick:
        n_win = paper_epoch_windows(cfg, args.corpus_hours, args.sequence_seconds)
        main = row["methods"][methods[0]]
        data_s = (row.get("data") or {}).get("per_window_ms", 0.0) / 1000
        epoch = {"corpus_hours": args.corpus_hours, "sequence_seconds": args.sequence_seconds,
                 "windows": n_win, "steps": math.ceil(n_win / batch_size),
                 "projected_compute_s": round(n_win / main["windows_per_s"], 1),
                 "projected_data_s": round(n_win * data_s, 1)}
        epoch["projected_epoch_s"] = round(epoch["projected_compute_s"]
                                           + epoch["projected_data_s"], 1)
        epoch["projected_120_epochs_h"] = round(120 * epoch["projected_epoch_s"] / 3600, 2)
        if args.paper_epoch:
            epoch["measured"] = run_epoch(modules[methods[0]], batch, epoch["steps"], device,
                                          args.bf16)
        row["paper_scale_epoch"] = epoch
    return row


def run_epoch(module_phase, batch: dict, steps: int, device: str, bf16: bool) -> dict:
    """Run ``steps`` training steps back to back (random batches already on the device)."""
    module, phase = module_phase
    step = make_step(module, phase, batch, timer=None, bf16=bf16)
    step()
    sync(device)
    t = time.perf_counter()
    for _ in range(steps):
        step()
    sync(device)
    total = time.perf_counter() - t
    return {"steps": steps, "compute_s": round(total, 2), "note": "random batches on the device; "
            "data loading not included"}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.training", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=CONFIGS)
    p.add_argument("--methods", nargs="+", default=None,
                   help="eggesture, vanilla:vq, vanilla:cls (default per config)")
    p.add_argument("--batch", type=int, default=None, help="batch size (default: the config's)")
    p.add_argument("--steps", type=int, default=None, help="timed steps (default per config)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=1,
                   help="torch CPU threads (default 1: see docs/benchmarks.md)")
    p.add_argument("--bf16", action="store_true", help="bf16 autocast (GPU)")
    p.add_argument("--compile", action="store_true", help="torch.compile the VQ-VAE and classifier")
    p.add_argument("--paper-epoch", action="store_true",
                   help="run a whole paper-scale epoch of steps (GPU; projected otherwise)")
    p.add_argument("--corpus-hours", type=float, default=4.0)
    p.add_argument("--sequence-seconds", type=float, default=60.0)
    p.add_argument("--profile-batch", type=int, default=16, help="batch of the profiled step")
    p.add_argument("--no-profile", action="store_true")
    p.add_argument("--no-data", action="store_true", help="skip the data-loading timing")
    p.add_argument("--quick", action="store_true", help="tiny batches (smoke test, seconds)")
    p.add_argument("--out", default=None)
    p.add_argument("--name", default=None)
    args = p.parse_args(argv)
    set_threads(args.threads)
    device = args.device
    name = args.name or "training" + ("" if device == "cpu" else "_" + device.split(":")[0]) + (
        "_bf16" if args.bf16 else "") + ("_compile" if args.compile else "")
    run = Run(name, args.out)
    run.results = {"device": device, "bf16": args.bf16, "compile": args.compile, "configs": []}
    parts = []
    for c in args.configs:
        row = measure_config(c, args, device)
        run.results["configs"].append(row)
        main_m = next(iter(row["methods"]))
        parts.append(f"{c} {row['methods'][main_m]['windows_per_s']:.1f} windows/s "
                     f"(batch {row['batch']})")
        print("  " + parts[-1], flush=True)
    run.write("; ".join(parts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
