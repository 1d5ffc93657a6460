"""Live gestures: the streaming generator's speed, latency, memory and smoothness.

On one CPU thread, the real BEAT2 sample's speech (64 s) through :func:`eggesture.recipes.stream.
stream_wave` with the packaged model (or ``--checkpoint``):

* compute per chunk (p50, p99, max) at chunk sizes 0.1 and 0.5 s, lookahead 0.5 s; the speed
  (speech seconds per compute second);
* end-to-end latency of each frame on the audio's clock (the arrival of the chunk that let it
  out, plus the compute, minus the frame's time): p50 and max;
* peak memory (resident set growth) over a 10-minute stream (the sample 10 times over);
* smoothness: per transition between consecutive frames the largest joint-angle change; at
  chunk boundaries (the last frame of one chunk's output, the first of the next) its maximum
  and 99th percentile, against the same inside chunks and in offline generation of the speech;
* the streamed motion against the offline one (mean joint-angle difference) at lookahead 0.25,
  0.5, 1.0 s;
* with ``--demo-dir`` (an ``eggesture demo`` folder): its EGGesture model evaluated on the demo
  corpus's held-out split (val + test, ground-truth seeded as ``eggesture evaluate`` does)
  offline and streamed in 0.1 s chunks at lookahead 0.25, 0.5, 1.0 s: FGD, beat alignment,
  L1 diversity, token accuracy, tail recall (one training seed: no interval).

Run: ``python -m benchmarks.stream [--checkpoint RUN]``; JSON to ``benchmarks/results/stream.json``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from .common import ROOT, Run, set_threads

SAMPLE = ROOT.parent / "shared" / "data" / "beat2_sample" / "wave16k" / "2_scott_0_1_1.wav"


def _angles(rotvec: np.ndarray) -> np.ndarray:
    """Per frame transition, the largest joint-angle change (degrees) over the joints: (T−1,)."""
    import roma
    import torch

    r = roma.rotvec_to_rotmat(torch.as_tensor(rotvec, dtype=torch.float64))  # (T, J, 3, 3)
    d = roma.rotmat_geodesic_distance(r[1:], r[:-1])  # (T−1, J)
    return torch.rad2deg(d).amax(-1).numpy()


def smoothness(run, offline: np.ndarray) -> dict:
    jumps = _angles(run.generated.rotvec)
    owner = run.chunk_of_frame
    at_boundary = owner[1:] != owner[:-1]
    off = _angles(offline)
    return {"boundary_max_deg": round(float(jumps[at_boundary].max()), 3),
            "boundary_p99_deg": round(float(np.percentile(jumps[at_boundary], 99)), 3),
            "inside_chunks_p99_deg": round(float(np.percentile(jumps[~at_boundary], 99)), 3),
            "inside_chunks_max_deg": round(float(jumps[~at_boundary].max()), 3),
            "offline_p99_deg": round(float(np.percentile(off, 99)), 3),
            "offline_max_deg": round(float(off.max()), 3),
            "boundaries": int(at_boundary.sum())}


def difference(a: np.ndarray, b: np.ndarray) -> float:
    import roma
    import torch

    n = min(len(a), len(b))
    ra = roma.rotvec_to_rotmat(torch.as_tensor(a[:n], dtype=torch.float64))
    rb = roma.rotvec_to_rotmat(torch.as_tensor(b[:n], dtype=torch.float64))
    return round(float(torch.rad2deg(roma.rotmat_geodesic_distance(ra, rb)).mean()), 3)


def memory(bundle, wave: np.ndarray, repeat: int) -> dict:
    import psutil

    from eggesture.recipes.stream import GestureStream

    proc = psutil.Process()
    stream = GestureStream(bundle, 0.5)
    before, peak, step = proc.memory_info().rss, 0, 8000
    for _ in range(repeat):
        for a in range(0, wave.size, step):
            stream.push(wave[a:a + step])
            peak = max(peak, proc.memory_info().rss)
    stream.flush()
    return {"stream_seconds": round(repeat * wave.size / 16000, 1),
            "peak_rss_growth_mb": round((peak - before) / 2**20, 1),
            "buffer_seconds": round(stream.audio.size / 16000, 2)}


def held_out(demo: Path) -> dict:
    """The demo's EGGesture on its held-out split, offline and streamed (0.1 s chunks)."""
    from eggesture.recipes.evaluate import evaluate

    out = {}
    for la in (None, 0.25, 0.5, 1.0):
        r = evaluate(demo / "runs" / "eggesture", demo / "corpus", split=["val", "test"],
                     stream_lookahead=la).to_dict()
        recall = r.get("semantic_recall") or {}
        out["offline" if la is None else f"stream_lookahead_{la:g}s"] = {
            "fgd": round(r["fgd"], 3), "beat_alignment": round(r["beat_alignment"], 4),
            "l1_diversity": round(r["l1_diversity"], 3),
            "token_accuracy": round(r["classifier_token_accuracy"], 4),
            "tail_recall": recall.get("tail")}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--checkpoint", type=Path, default=None)
    ap.add_argument("--audio", type=Path, default=SAMPLE)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--quick", action="store_true", help="10 s of speech, no 10-minute stream")
    ap.add_argument("--demo-dir", type=Path, default=None,
                    help="an `eggesture demo` folder: evaluate offline vs streamed on its corpus")
    args = ap.parse_args(argv)
    from eggesture.bundle import load_bundle
    from eggesture.data.wav import load_audio
    from eggesture.pretrained import default_checkpoint
    from eggesture.recipes.generate import generate_motion
    from eggesture.recipes.stream import stream_wave

    if not args.audio.is_file():
        print(f"error: {args.audio}: not found", file=sys.stderr)
        return 2
    set_threads(1)
    bundle = load_bundle(args.checkpoint or default_checkpoint())
    wave = load_audio(args.audio, 16000)
    if args.quick:
        wave = wave[:10 * 16000]
    run = Run("stream", args.out)
    offline = generate_motion(bundle, wave).rotvec
    stream_wave(bundle, wave[:32000], chunk=0.1)  # first calls (allocations): not measured
    res = {}
    for chunk in (0.1, 0.5):
        r = stream_wave(bundle, wave, chunk=chunk, lookahead=0.5)
        c = r.compute[:-1] * 1000  # the flush is not a live chunk
        res[f"chunk_{chunk:g}s"] = {
            "chunks": len(c), "compute_ms": {"p50": round(float(np.median(c)), 2),
                                             "p99": round(float(np.percentile(c, 99)), 2),
                                             "max": round(float(c.max()), 2)},
            "latency_s": {"p50": round(float(np.median(r.latency)), 3),
                          "max": round(float(r.latency.max()), 3)},
            "real_time_factor": round(r.generated.duration / r.compute.sum(), 1),
            "smoothness": smoothness(r, offline),
            "frames": len(r.generated.rotvec), "offline_frames": len(offline)}
    res["difference_from_offline_deg"] = {
        f"lookahead_{la:g}s": difference(stream_wave(bundle, wave, chunk=0.1,
                                                     lookahead=la).generated.rotvec, offline)
        for la in (0.25, 0.5, 1.0)}
    if not args.quick:
        res["memory"] = memory(bundle, wave, 10)
    if args.demo_dir:
        res["held_out"] = held_out(args.demo_dir)
    run.results = res
    c5 = res["chunk_0.5s"]
    run.write(f"0.5 s chunks: compute p99 {c5['compute_ms']['p99']} ms, "
              f"{c5['real_time_factor']}× real time; 0.1 s chunks: latency max "
              f"{res['chunk_0.1s']['latency_s']['max']} s; boundary jump max "
              f"{res['chunk_0.1s']['smoothness']['boundary_max_deg']}° vs in-chunk p99 "
              f"{res['chunk_0.1s']['smoothness']['inside_chunks_p99_deg']}°")
    return 0


if __name__ == "__main__":
    sys.exit(main())
