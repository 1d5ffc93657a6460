"""The VQ-VAE's liveliness ceiling: how much of the ground truth's arm motion survives encode →
decode, for training settings given as config overrides.

Question (issue "Real speech in, lively motion out"): the demo's generated motion moves at about
half the synthetic ground truth's arm speed, and so does the VQ-VAE's oracle (the ground truth
encoded and decoded, no classifier) — the ceiling of any generation. Which training setting
lifts that ceiling?

Each variant trains the VQ-VAE alone — the two-phase baseline's first phase: reconstruction L1 +
commitment (+ the entropy loss for the entropy-guided quantizer), the config's learning rate,
batch size and window stride, gradient clipping — for ``--epochs`` epochs on the corpus's
training split (the demo's VQ-VAE gets about 35 full-rate epochs of 80), then encodes and
decodes every held-out sequence (val + test) whole. Reported per variant: the oracle's arm
speed, amplitude (std over time), share of frames moving and velocity spectral centroid
(:mod:`eggesture.metrics.motion_stats`, SMPL-X arm joints at 30 fps), each as a ratio to the
ground truth's (pooled over the sequences), the codes in use, and the training steps and seconds.

Run: ``python -m benchmarks.vq_ceiling --corpus C [C ...] [--epochs 35] [--seed 0] --variant "" --variant
"data.stride=8 train.batch_size=8"`` (each ``--variant`` a space-separated list of overrides of
``synthetic.yaml``; "" is the config as it is). JSON to ``benchmarks/results/vq_ceiling.json``.
One torch thread; deterministic given the seed.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from .common import Run, set_threads

HELD_OUT = ("val", "test")
RATIOS = ("speed", "amplitude", "moving_share", "speed_centroid_hz")


def oracle_ceiling(corpus: str | Path, overrides: list[str], *, epochs: int, seed: int,
                   config: str = "synthetic") -> dict:
    """Train the VQ-VAE of ``config`` + ``overrides`` alone; the oracle's arm-motion ratios."""
    import torch
    import torch.nn.functional as F

    from eggesture.config import load_config
    from eggesture.data.motion import sixd_to_axis_angle
    from eggesture.data.poses import smplx_poses
    from eggesture.data.windows import WindowSettings, prepare
    from eggesture.metrics.motion_stats import motion_profile
    from eggesture.models.builders import build_vqvae
    from eggesture.models.vqvae import DOWNSAMPLE

    cfg = load_config(config, [f"data.root={corpus}", *overrides])
    torch.manual_seed(seed)
    data = prepare(corpus, WindowSettings.from_config(cfg), train_splits=tuple(cfg.data.train_splits))
    length = cfg.data.length
    starts = [data.offsets[i] + s for i, s in data.windows(tuple(cfg.data.train_splits))]
    windows = np.stack([data.norm.normalize(data.motion[a:a + length].reshape(length, -1))
                        for a in starts]).astype(np.float32)  # (W, L, D)
    x_all = torch.from_numpy(windows)
    vq = build_vqvae(cfg, data.motion_dim)
    opt = torch.optim.Adam(vq.parameters(), lr=cfg.train.lr)
    gen = torch.Generator().manual_seed(seed)
    bs, steps, t0 = cfg.train.batch_size, 0, time.perf_counter()
    vq.train()
    for _ in range(epochs):
        for idx in torch.randperm(len(x_all), generator=gen).split(bs):
            x = x_all[idx]  # (B, L, D)
            out = vq(x)
            loss = F.l1_loss(out.recon, x) + out.quant.losses["commit"] + out.quant.losses["entropy"]
            opt.zero_grad()
            loss.backward()
            if cfg.train.grad_clip:
                torch.nn.utils.clip_grad_norm_(vq.parameters(), cfg.train.grad_clip)
            opt.step()
            steps += 1
    seconds = time.perf_counter() - t0

    vq.eval()
    fps = data.settings.fps

    def profile(six: np.ndarray) -> tuple[dict, int]:
        aa = sixd_to_axis_angle(six.astype(np.float64))
        return motion_profile(smplx_poses(aa, data.joint_names, fps, len(aa) / fps)), len(aa)

    truth, oracle, used = [], [], set()
    with torch.no_grad():
        for i in data.sequence_indices(HELD_OUT):
            real = data.sequence(i)["motion"]  # (T, J, 6)
            t = len(real)
            x = data.norm.normalize(real.reshape(t, -1)).astype(np.float32)
            x = np.concatenate([x, np.repeat(x[-1:], (-t) % DOWNSAMPLE, axis=0)])
            codes = vq.encode(torch.from_numpy(x)[None])  # (1, ⌈T/4⌉)
            used.update(codes.flatten().tolist())
            rec = data.norm.denormalize(vq.decode(codes)[0, :t].numpy()).reshape(t, -1, 6)
            truth.append(profile(real))
            oracle.append(profile(rec))

    def pooled(profiles, key):
        return sum(p[key] * n for p, n in profiles) / sum(n for _, n in profiles)

    return {"overrides": overrides, "epochs": epochs, "seed": seed, "steps": steps,
            "train_seconds": round(seconds, 1), "codes_used": len(used),
            "codebook_size": cfg.model.codebook_size, "method": cfg.train.method,
            **{f"{k}_ratio": pooled(oracle, k) / pooled(truth, k) for k in RATIOS}}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", required=True, nargs="+",
                    help="synthetic corpora (eggesture corpus synth); every variant on each")
    ap.add_argument("--variant", action="append", default=None,
                    help='space-separated overrides of synthetic.yaml; repeat ("" = as it is)')
    ap.add_argument("--epochs", type=int, default=35)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None, help="folder of the JSON (default benchmarks/results)")
    args = ap.parse_args(argv)
    set_threads(1)
    run = Run("vq_ceiling", args.out)
    rows = []
    for corpus in args.corpus:
        for variant in args.variant or [""]:
            row = oracle_ceiling(corpus, variant.split(), epochs=args.epochs, seed=args.seed)
            rows.append({"corpus": str(corpus), **row})
            print(f"{corpus}, {variant or '(config)'}: oracle speed ×{row['speed_ratio']:.2f}, "
                  f"amplitude ×{row['amplitude_ratio']:.2f}, {row['steps']} steps, "
                  f"{row['train_seconds']:.0f} s", flush=True)
    run.results = {"variants": rows}
    run.write("; ".join(f"{Path(r['corpus']).name}, {' '.join(r['overrides']) or 'config'}: "
                        f"speed ×{r['speed_ratio']:.2f}" for r in rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
