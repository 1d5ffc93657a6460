"""Inference speed and memory: real-time factor of generation, per stage, and an hour of audio.

Question: how many times faster than real time does ``eggesture generate`` turn speech into
gestures, after the model is loaded, for 60 s and 10 min of speech; which stage costs what
(audio features, classifier, VQ-VAE decoder, rotation conversion, export to 30 fps poses); how
much memory does it take — including an hour of audio in one file (issue 11: under 2 GB)?

Models are inference bundles with random weights built from the packaged configs (the speed of
a network does not depend on its weights): ``synthetic`` (the demo's model, 4 s windows) and
``paper_beat2`` (the paper's model, 20 s windows), default encoders (log-mel + onset + RMS audio
features; learned word embeddings over a 2000-word vocabulary). Speech is synthetic: noise shaped
by a 4 Hz syllable envelope with pauses, and a timed word every 0.4 s (the generator's cost does
not depend on what is said).

* In-process: ``generate_motion`` timed on 60 s (median of 3) and 10 min (once) after a warm-up,
  the real-time factor = audio seconds / wall seconds, stages by wrapping the stage functions and
  forward hooks.
* Fresh process: the real command ``eggesture generate --checkpoint B --audio X.wav --out Y.npz``
  on WAV files of 60 s, 10 min and 60 min; its peak RSS (``wait4``) and wall time (including
  start-up, model load, reading the WAV and writing the npz).

Run: ``python -m benchmarks.inference`` (``--threads 2`` is the target's setting on this machine).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .common import ROOT, Run, StageTimer, set_threads, stats

CONFIGS = ("synthetic", "paper_beat2")
VOCAB = 2000
#: (seconds, repetitions) of the in-process real-time-factor runs.
DURATIONS = ((60, 3), (600, 1))
#: Audio lengths (seconds) of the fresh-process CLI runs (peak memory).
CLI_DURATIONS = (60, 600, 3600)
TARGET_RTF = 100.0
TARGET_HOUR_MB = 2048.0


def make_bundle(cfg_name: str, folder: Path) -> Path:
    """Write an inference bundle with random weights for a packaged config; returns its path."""
    import numpy as np
    import torch

    from eggesture.bundle import save_bundle
    from eggesture.config import load_config
    from eggesture.data.motion import NormStats, joint_indices, joint_names
    from eggesture.features.audio import N_FEATURES
    from eggesture.models.builders import build_classifier, build_vqvae

    cfg = load_config(cfg_name)
    dim = 6 * len(joint_indices(cfg.data.joint_set))
    vocab = ["", "<unk>"] + [f"w{i}" for i in range(VOCAB - 2)]
    torch.manual_seed(0)
    norm = NormStats(np.zeros(dim, np.float32), np.full(dim, 0.1, np.float32))
    facts = {"joint_names": joint_names(cfg.data.joint_set), "joint_set": cfg.data.joint_set,
             "motion_dim": dim, "n_audio_features": N_FEATURES, "dataset": "benchmark"}
    return save_bundle(folder / cfg_name, cfg=cfg, vqvae=build_vqvae(cfg, dim),
                       classifier=build_classifier(cfg, vocab, N_FEATURES), norm=norm,
                       vocab=vocab, facts=facts)


def speechlike(seconds: float, seed: int = 0, sr: int = 16000):
    """``(seconds·sr,)`` float32: noise under a 4 Hz syllable envelope, with pauses."""
    import numpy as np

    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    out = np.empty(n, np.float32)
    block = 60 * sr  # build in one-minute blocks: an hour stays a few hundred MB
    for s in range(0, n, block):
        m = min(block, n - s)
        t = (np.arange(m) + s) / sr
        env = np.clip(np.sin(2 * np.pi * 4.0 * t), 0, None) ** 2
        env *= (np.sin(2 * np.pi * 0.15 * t) > -0.6)  # pauses
        out[s:s + m] = 0.3 * env * rng.standard_normal(m).astype(np.float32)
    return out


def timed_words(seconds: float, seed: int = 0):
    """A vocabulary word every 0.4 s, each lasting 0.3 s."""
    import numpy as np

    from eggesture.data.transcript import Word

    rng = np.random.default_rng(seed)
    ids = rng.integers(2, VOCAB, int(seconds / 0.4))
    return [Word(0.4 * i, 0.4 * i + 0.3, f"w{int(w) - 2}") for i, w in enumerate(ids)]


class StagePatch:
    """Time the stages of ``generate_motion``: its stage functions wrapped, modules hooked."""

    def __init__(self, bundle):
        import eggesture.recipes.generate as g

        self.g, self.bundle, self.timer = g, bundle, StageTimer()
        self._orig = {"sixd_to_axis_angle": g.sixd_to_axis_angle}
        self._orig_features = bundle.audio_features  # the bundle's feature function (cached)
        self.handles = (self.timer.hook(bundle.classifier, "classifier")
                        + self.timer.hook(bundle.vqvae.decoder, "decoder")
                        + self.timer.hook(bundle.vqvae.encoder, "seed_encoder"))
        g.sixd_to_axis_angle = self._wrap(self._orig["sixd_to_axis_angle"], "conversion")
        bundle.audio_features = self._wrap(self._orig_features, "audio_features")

    def _wrap(self, fn, stage):
        def wrapped(*a, **k):
            with self.timer(stage):
                return fn(*a, **k)
        return wrapped

    def close(self) -> None:
        for fn, orig in self._orig.items():
            setattr(self.g, fn, orig)
        self.bundle.audio_features = self._orig_features
        for h in self.handles:
            h.remove()


def in_process(bundle_path: Path, durations, quick: bool) -> dict:
    """Model load time, then real-time factor and stages of ``generate_motion`` per duration."""
    from eggesture.bundle import load_bundle
    from eggesture.recipes.generate import generate_motion, to_smplx_poses

    t = time.perf_counter()
    bundle = load_bundle(bundle_path)
    load_s = time.perf_counter() - t
    t = time.perf_counter()
    generate_motion(bundle, speechlike(5 if quick else 20, seed=9), timed_words(20))  # warm-up
    first_s = time.perf_counter() - t
    rows = []
    for seconds, reps in durations:
        wave, words = speechlike(seconds, seed=1), timed_words(seconds, seed=1)
        times = []
        for _ in range(reps):
            t = time.perf_counter()
            gen = generate_motion(bundle, wave, words)
            times.append(time.perf_counter() - t)
        patch = StagePatch(bundle)  # a separate, hooked run for the stage split
        try:
            t = time.perf_counter()
            gen = generate_motion(bundle, wave, words)
            hooked = time.perf_counter() - t
            stages = dict(patch.timer.totals)
        finally:
            patch.close()
        t = time.perf_counter()
        to_smplx_poses(gen, 30)
        export_s = time.perf_counter() - t
        stages["other"] = hooked - sum(stages.values())
        stages = {k: round(v, 4) for k, v in stages.items()}
        s = stats(times)
        n_windows = _n_windows(bundle, seconds)
        rows.append({"seconds": seconds, "reps": reps, **s,
                     "rtf": round(seconds / s["median_s"], 1),
                     "windows": n_windows,
                     "ms_per_window": round(1000 * s["median_s"] / n_windows, 2),
                     "stages_s": stages, "stages_share": {k: round(v / hooked, 3)
                                                          for k, v in stages.items()},
                     "export_poses_30fps_s": round(export_s, 4)})
        print(f"    {seconds:5.0f} s: {rows[-1]['rtf']:7.1f}x real time", flush=True)
    return {"load_s": round(load_s, 3), "first_call_s": round(first_s, 2), "runs": rows}


def _n_windows(bundle, seconds: float) -> int:
    d = bundle.cfg.data
    n = max(1, int(seconds * d.fps + 0.5))
    if n <= d.length:
        return 1
    step = d.length - d.seed_frames
    return 1 + -(-(n - d.length) // step)


def write_wav(path: Path, seconds: float) -> Path:
    """A 16 kHz mono 16-bit WAV of :func:`speechlike` audio, written minute by minute."""
    import numpy as np
    import soundfile as sf

    with sf.SoundFile(path, "w", samplerate=16000, channels=1, subtype="PCM_16") as f:
        done, minute = 0.0, 0
        while done < seconds:
            chunk = min(60.0, seconds - done)
            f.write(np.clip(speechlike(chunk, seed=100 + minute), -1, 1))
            done += chunk
            minute += 1
    return path


def cli_run(bundle: Path, wav: Path, out: Path, threads: int) -> dict:
    """``eggesture generate`` in a fresh process: wall time, peak RSS (wait4) and its own report."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "OMP_NUM_THREADS": str(threads)}
    log = out.with_suffix(".log")
    cmd = [sys.executable, "-m", "eggesture.cli", "generate", "--checkpoint", str(bundle),
           "--audio", str(wav), "--out", str(out)]
    t = time.perf_counter()
    with open(log, "w") as f:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=f, stderr=subprocess.STDOUT, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t
    text = log.read_text()
    if proc.returncode != 0:
        raise RuntimeError(f"eggesture generate failed ({proc.returncode}):\n{text[-2000:]}")
    m = re.search(r"generated in ([\d.]+) s", text)
    return {"wall_s": round(wall, 2), "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
            "generate_s": float(m.group(1)) if m else None,
            "command": "eggesture generate --checkpoint BUNDLE --audio X.wav --out Y.npz",
            "output_mb": round(out.stat().st_size / 2**20, 1)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.inference", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--configs", nargs="+", default=list(CONFIGS),
                   choices=(*CONFIGS, "tiny"))
    p.add_argument("--threads", type=int, default=1,
                   help="torch CPU threads (default 1: see docs/benchmarks.md)")
    p.add_argument("--cli-config", default="paper_beat2",
                   help="model of the fresh-process CLI runs (peak memory, the hour)")
    p.add_argument("--cli-seconds", type=float, nargs="*", default=list(CLI_DURATIONS))
    p.add_argument("--quick", action="store_true", help="tiny model, seconds of audio (smoke test)")
    p.add_argument("--out", default=None)
    p.add_argument("--name", default="inference")
    args = p.parse_args(argv)
    threads = set_threads(args.threads)
    durations = DURATIONS
    if args.quick:
        args.configs, args.cli_config, args.cli_seconds = ["tiny"], "tiny", [3.0]
        durations = ((10, 1),)
    run = Run(args.name, args.out)
    run.results = {"threads": threads, "targets": {}, "models": {}, "cli": {}}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for c in sorted(set(args.configs) | {args.cli_config}):
            make_bundle(c, tmp)
        for c in args.configs:
            print(f"  {c}:", flush=True)
            run.results["models"][c] = in_process(tmp / c, durations, args.quick)
        rows = []
        for seconds in args.cli_seconds:
            wav = write_wav(tmp / f"speech_{int(seconds)}s.wav", seconds)
            row = {"seconds": seconds, **cli_run(tmp / args.cli_config, wav,
                                                  tmp / f"out_{int(seconds)}.npz", threads)}
            row["rtf_generate"] = (round(seconds / row["generate_s"], 1) if row["generate_s"]
                                   else None)
            rows.append(row)
            wav.unlink()
            print(f"    CLI {seconds:6.0f} s: peak RSS {row['peak_rss_mb']:.0f} MB, "
                  f"wall {row['wall_s']:.1f} s", flush=True)
        run.results["cli"] = {"config": args.cli_config, "runs": rows}
    tg = run.results["targets"]
    for c, res in run.results["models"].items():
        for r in res["runs"]:
            tg[f"{c}: rtf at {r['seconds']} s >= {TARGET_RTF:.0f}"] = {
                "value": r["rtf"], "met": r["rtf"] >= TARGET_RTF}
    for r in rows:
        if r["seconds"] >= 3600:
            tg[f"peak RSS for {r['seconds'] / 3600:.0f} h of audio < 2 GB"] = {
                "value": r["peak_rss_mb"], "met": r["peak_rss_mb"] < TARGET_HOUR_MB}
    parts = [f"{c} {res['runs'][0]['rtf']:.0f}x real time at {res['runs'][0]['seconds']} s"
             for c, res in run.results["models"].items()]
    if rows:
        last = rows[-1]
        parts.append(f"CLI peak RSS {last['peak_rss_mb']:.0f} MB for {last['seconds']:.0f} s")
    missed = [k for k, v in tg.items() if not v["met"]]
    run.write("; ".join(parts) + (f"; MISSED: {', '.join(missed)}" if missed else "; targets met"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
