"""``eggesture demo``: the paper's claim, end to end, on a CPU in minutes.

Stages (each timed; progress with an estimate of the time left):

1. build a synthetic long-tailed corpus (:mod:`eggesture.data.synthetic`, BEAT2 layout);
2. train EGGesture (``synthetic.yaml``, method ``eggesture``), the vanilla VQ-VAE baseline with
   the same config and epochs (method ``vanilla``) and the dataset's evaluation nets (the FGD
   autoencoder and the gesture recogniser) — on a CPU with two or more cores in two worker
   processes side by side, each on half of the cores (a training step of the demo's small model
   keeps about one core busy); the evaluation nets follow the baseline in its worker;
3. evaluate both on the held-out split, val + test (FGD, beat alignment, L1 diversity,
   codebook, recall and gesture precision);
4. render a preview video of one test clip (ground truth | EGGesture | vanilla, with speech);
5. write ``report.md``, ``results.json`` and the plots.

Re-running with the same arguments reuses the corpus and resumes or reuses finished trainings.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import platform
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import lightning as L
import numpy as np
import torch

from ..bundle import load_bundle
from ..config import EVAL_SPLITS, load_config
from ..data.motion import SMPLX_PARENTS
from ..data.poses import sixd_positions
from ..data.synthetic import synthesize_corpus
from ..data.windows import WindowSettings, prepare
from ..errors import DataError
from ..evaluation.feature_ae import FeatureAETraining, load_feature_extractor, train_feature_ae
from ..evaluation.recognizer import (
    RecognizerConfig,
    RecognizerTraining,
    load_recognizer,
    recall_on_ground_truth,
    train_recognizer,
)
from ..export.plots import plot_codebook_usage, plot_recall_per_class, plot_utilization_over_epochs
from ..export.render import render_strip, render_video, root_relative
from ..io import write_json, write_text
from ..metrics.intervals import Interval, separated
from ..paper import FULL as PAPER_FULL
from ..reporting.evaluation import emage_markdown, results_markdown
from ..reporting.markdown import markdown_table
from ..training.log import utilization_per_epoch
from ..training.schedule import effective_epochs
from .evaluate import evaluate, generate_split
from .train import train

METHODS = ("eggesture", "vanilla")
LABELS = {"eggesture": "EGGesture", "vanilla": "vanilla VQ-VAE"}
#: Under the utilisation-over-training plot and in the report: it measures other codes than the
#: results table does, so its numbers are higher.
UTILIZATION_CAPTION = (
    "Measured on the training batches: the share of the K codes assigned to the windows of "
    "each epoch's training batches (from the training log). The results table's "
    "codebook utilisation is the VQ-VAE encoding the held-out split (val + test) in "
    "non-overlapping windows — fewer tokens, of unseen motion, so it is usually lower.")

#: Rough seconds of each stage per corpus minute on 2 CPU cores (measured: the seed-0 demo of
#: 2026-12-06 on a quiet machine, 774 s for 14 minutes; used for estimates).
STAGE_COST = {"corpus": 1.2, "train": 53.0, "evaluate": 1.0, "video": 0.4, "report": 0.1}
STAGE_TITLES = {
    "corpus": "building the synthetic corpus",
    "train": "training EGGesture, the vanilla baseline and the evaluation nets",
    "evaluate": "evaluating both on the held-out split (val + test)",
    "video": "rendering the preview video",
    "report": "writing the report and plots",
}


@dataclass
class DemoSettings:
    """What the demo does."""

    out: Path = Path("demo_out")
    """Output folder (corpus, runs, report)."""
    minutes: float = 14.0
    """Corpus size in minutes of speech; the time of every stage grows with it."""
    classes: int = 16
    """Semantic gesture classes of the corpus."""
    held_out: float = 0.4
    """Share of the corpus's sequences held out (val + test): with 14 minutes, 6 sequences and
    about 150 gesture events, so that recall has intervals narrow enough to tell methods apart."""
    min_train_events: int = 8
    """Every class at least this many times in the training split."""
    speakers: int = 4
    """Synthetic speakers (each its own espeak voice, speaking rate and gesture style), so the
    audio and text paths learn more than one voice."""
    seed: int = 0
    """Seed of the corpus and of training."""
    epochs: int | None = None
    """Training epochs of each method (default: synthetic.yaml's)."""
    overrides: list[str] = field(default_factory=list)
    """Extra ``section.key=value`` config overrides for both methods."""
    video_seconds: float = 12.0
    """Length of the preview clip."""
    fgd_epochs: int = 20
    """Training epochs of the FGD autoencoder."""
    recognizer_steps: int = 500
    """Training steps of the gesture recogniser."""
    fgd_model: Path | None = None
    """EMAGE's ``AESKConv_240_100.bin`` for the EMAGE protocol's FGD (else that FGD is not
    computed; its BC and L1div always are)."""
    smplx_model: Path | None = None
    """An SMPL-X ``.npz`` model file for exact joint positions in the EMAGE protocol."""

    def __post_init__(self):
        self.out = Path(self.out)
        if self.minutes < 2:
            raise ValueError("--minutes must be at least 2 (train, val and test need sequences)")
        for name in ("fgd_model", "smplx_model"):  # checked now, not after the training
            path = getattr(self, name)
            if path is not None:
                setattr(self, name, Path(path))
                if not Path(path).is_file():
                    raise ValueError(f"--{name.replace('_', '-')} {path}: does not exist")
        # Loaded once now as evaluation loads them (strict checkpoint, no pickle), so a file of
        # the wrong kind fails in seconds with its one-line error, not after the training.
        if self.fgd_model is not None:
            from ..evaluation.emage_fgd import load_emage_fgd_model

            load_emage_fgd_model(self.fgd_model)
        if self.smplx_model is not None:
            from ..data.smplx_model import load_smplx_model

            load_smplx_model(self.smplx_model)


class Progress:
    """Prints each stage with the estimated time left, re-scaled by how fast stages really run."""

    def __init__(self, settings: DemoSettings):
        self.cost = {k: v * settings.minutes for k, v in STAGE_COST.items()}
        self.seconds: dict[str, float] = {}
        self.t0 = time.perf_counter()

    def start(self, name: str) -> float:
        done_est = sum(self.cost[k] for k in self.seconds)
        done_real = sum(self.seconds.values())
        # How much slower (or faster) this machine is than the estimates, within reason.
        speed = min(4.0, max(0.5, done_real / done_est)) if done_est > 10 else 1.0
        left = sum(v for k, v in self.cost.items() if k not in self.seconds) * speed
        k = list(self.cost).index(name) + 1
        print(f"\n[{k}/{len(self.cost)}] {STAGE_TITLES[name]} — about {_fmt(self.cost[name] * speed)}"
              f" (about {_fmt(left)} left in total)", file=sys.stderr, flush=True)
        return time.perf_counter()

    def end(self, name: str, t: float) -> None:
        self.seconds[name] = round(time.perf_counter() - t, 1)
        print(f"    done in {_fmt(self.seconds[name])}", file=sys.stderr, flush=True)


def corpus_settings(settings: DemoSettings) -> dict:
    """The :func:`eggesture.data.synthetic.synthesize_corpus` arguments of the demo's corpus
    (``eggesture corpus synth`` with the same values builds the same corpus)."""
    return {"minutes": settings.minutes, "seed": settings.seed, "classes": settings.classes,
            "held_out": settings.held_out, "min_train_events": settings.min_train_events,
            "speakers": settings.speakers}


def _fmt(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"


def method_config(settings: DemoSettings, corpus: Path, method: str):
    """The demo's training config of ``method`` (``synthetic.yaml`` with its overrides)."""
    over = [f"data.root={corpus}", f"train.out={settings.out / 'runs' / method}",
            f"train.method={method}", f"train.seed={settings.seed}", *settings.overrides]
    if settings.epochs:
        over.append(f"train.epochs={settings.epochs}")
    return load_config("synthetic", over)


def run_demo(settings: DemoSettings) -> dict:
    """Run every stage; returns the content of ``results.json``."""
    out = settings.out
    out.mkdir(parents=True, exist_ok=True)
    prog = Progress(settings)
    corpus = out / "corpus"

    t = prog.start("corpus")
    info = _ensure_corpus(corpus, corpus_settings(settings))
    prog.end("corpus", t)

    def config(method: str):
        return method_config(settings, corpus, method)

    cfg = config("eggesture")
    d = cfg.data
    data = prepare(corpus, WindowSettings.from_config(cfg), train_splits=tuple(cfg.data.train_splits))
    t = prog.start("train")
    jobs = {m: (_train_job, config(m)) for m in METHODS}
    # The FGD autoencoder and the gesture recogniser; queued after the trainings, so on two
    # cores they run in the worker the shorter training frees.
    jobs["eval_nets"] = (_eval_nets_job, (corpus, cfg, settings.fgd_epochs,
                                          settings.recognizer_steps))
    done = run_jobs(jobs)
    runs = {m: done[m][0] for m in METHODS}
    train_seconds = {k: v[1] for k, v in done.items()}
    fx = load_feature_extractor(corpus, d.joint_set, d.fps, d.length)
    rec = load_recognizer(corpus, d.joint_set, d.fps, d.length)
    rec_gt = recall_on_ground_truth(rec, data, EVAL_SPLITS)
    prog.end("train", t)

    t = prog.start("evaluate")
    results = {m: evaluate(runs[m].bundle, corpus, split=EVAL_SPLITS, protocol="emage",
                           fgd_model=settings.fgd_model, smplx_model=settings.smplx_model).to_dict()
               for m in METHODS}
    for m in METHODS:  # in full (per-event outcomes included) beside each run
        write_json(Path(runs[m].run_dir) / "eval.json", results[m])
    prog.end("evaluate", t)

    t = prog.start("video")
    video, still = render_preview(runs, corpus, data, out, settings.video_seconds)
    prog.end("video", t)

    t = prog.start("report")
    summary = {
        "settings": {"minutes": settings.minutes, "seed": settings.seed, "config": cfg.to_dict(),
                     "overrides": settings.overrides},
        "machine": _machine(),
        "corpus": {k: info.get(k) for k in ("minutes", "settings", "long_tail", "held_out")
                   if k in info},
        "effective_epochs": {m: effective_epochs(config(m)) for m in METHODS},
        "fgd_autoencoder": fx.tag,
        "recognizer_ground_truth_recall": {"all": rec_gt.all, "head": rec_gt.head,
                                           "tail": rec_gt.tail},
        "methods": {m: _strip(results[m]) for m in METHODS},
        "paper_table1_beat": PAPER_FULL,
        "stage_seconds": prog.seconds,
        "train_seconds": train_seconds,
        "video": str(video.relative_to(out)) if video else None,
        "still": str(still.relative_to(out)) if still else None,
    }
    plots = write_plots(results, runs, out)
    summary["plots"] = [str(p.relative_to(out)) for p in plots]
    prog.end("report", t)
    summary["stage_seconds"] = prog.seconds
    summary["total_seconds"] = round(sum(prog.seconds.values()), 1)
    write_json(out / "results.json", summary)
    write_text(out / "report.md", report_markdown(summary, results))
    print(f"\nreport: {out / 'report.md'}\nresults: {out / 'results.json'}", file=sys.stderr)
    return summary


def _ensure_corpus(corpus: Path, wanted: dict) -> dict:
    """The demo's corpus at ``corpus``: kept when complete and made with ``wanted``, else
    (re)built; returns its ``corpus.json``."""
    info_path = corpus / "corpus.json"
    info = json.loads(info_path.read_text()) if info_path.is_file() else None
    have = (info or {}).get("settings", {})
    if info and info.get("complete") and all(have.get(k) == v for k, v in wanted.items()):
        return info
    if info:  # our own corpus from a run with other settings: replace it
        import shutil

        shutil.rmtree(corpus)
    return synthesize_corpus(corpus, **wanted)


def _machine() -> dict:
    """What the numbers depend on besides the seed: the CPU's vector instructions pick torch's
    kernels (AVX-512 or AVX2: other rounding, other trained weights) and the threads per
    training fix the order of its sums (docs/decisions.md, "The demo's numbers and the
    machine")."""
    return {"python": platform.python_version(), "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(), "cpu": cpu_model(),
            "cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "threads_per_training": _parallel_threads(), "torch": _torch_info()}


def cpu_model() -> str:
    """The CPU's model name (Linux: /proc/cpuinfo), else what ``platform`` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _parallel_threads() -> int | None:
    """Threads per training process when the two trainings run side by side (None: one after
    the other — on a GPU, or with a single core)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    if torch.cuda.is_available() or cores < 2:
        return None
    return max(1, cores // 2)


def _train_job(cfg, threads: int | None, progress_file: str | None):
    """Train one config (in a child process: on ``threads`` threads, quiet, writing its epoch
    count to ``progress_file``); returns the run and its seconds."""
    t = time.perf_counter()
    callbacks = []
    if threads:
        torch.set_num_threads(threads)
    if progress_file:
        class EpochFile(L.Callback):
            """Epochs done, and the wall time they took from the first one's start (data
            preparation and start-up left out): what :func:`job_seconds_left` reads."""

            def on_train_start(self, trainer, module):
                self.start, self.first = time.time(), trainer.current_epoch  # > 0 on a resume

            def on_train_epoch_end(self, trainer, module):
                now = time.time()
                write_json(progress_file, {"epoch": trainer.current_epoch + 1,
                                           "timed": trainer.current_epoch + 1 - self.first,
                                           "seconds": now - self.start, "at": now})

        cfg.train.progress = False
        callbacks.append(EpochFile())
    result = train(cfg, callbacks=callbacks)
    return result, round(time.perf_counter() - t, 1)


def _eval_nets_job(args, threads: int | None, progress_file: str | None):
    """Train the corpus's FGD autoencoder and gesture recogniser unless they exist (they are
    saved with the dataset, where evaluation finds them); returns None and the seconds."""
    corpus, cfg, fgd_epochs, recognizer_steps = args
    t = time.perf_counter()
    if threads:
        torch.set_num_threads(threads)
    d = cfg.data
    data = prepare(corpus, WindowSettings.from_config(cfg), train_splits=tuple(d.train_splits))
    try:
        load_feature_extractor(corpus, d.joint_set, d.fps, d.length)
    except DataError:
        train_feature_ae(data, train_splits=tuple(d.train_splits),
                         training=FeatureAETraining(epochs=fgd_epochs))
    try:
        load_recognizer(corpus, d.joint_set, d.fps, d.length)
    except DataError:
        train_recognizer(data, train_splits=tuple(d.train_splits), net=RecognizerConfig(channels=64),
                         training=RecognizerTraining(steps=recognizer_steps))
    return None, round(time.perf_counter() - t, 1)


def run_jobs(jobs: dict) -> dict:
    """Run ``{name: (job function, argument)}``; returns ``{name: (result, seconds)}``.

    On a multi-core CPU the jobs run in two child processes, in order, each on half of the
    cores, with one status line (training epochs done, time left); otherwise one after the
    other in this process with Lightning's progress bars. Each job is deterministic given its
    config and its thread count.
    """
    threads = _parallel_threads()
    if threads is None:
        return {name: fn(arg, None, None) for name, (fn, arg) in jobs.items()}

    epochs = {n: arg.train.epochs for n, (fn, arg) in jobs.items() if fn is _train_job}
    files = {n: Path(jobs[n][1].train.out) / "demo_progress.json" for n in epochs}
    for f in files.values():
        f.unlink(missing_ok=True)
    with ProcessPoolExecutor(2, mp_context=mp.get_context("spawn")) as pool:
        futures = {n: pool.submit(fn, arg, threads, str(files[n]) if n in files else None)
                   for n, (fn, arg) in jobs.items()}
        while not all(f.done() for f in futures.values()):
            time.sleep(2.0)
            parts, lefts = [], []
            for n, fut in futures.items():
                if n not in epochs:
                    # It starts when a worker is free: after the first training to finish.
                    started = any(f.done() for m, f in futures.items() if m in epochs)
                    state = "done" if fut.done() else "running" if started else "queued"
                    parts.append(f"evaluation nets {state}")
                    continue
                report = _read_report(files[n])
                done = epochs[n] if fut.done() else report["epoch"] if report else 0
                if not fut.done():
                    lefts.append(job_seconds_left(report, epochs[n], time.time()))
                parts.append(f"{LABELS.get(n, n)} {done}/{epochs[n]} epochs")
            print(f"\r    {' · '.join(parts)}{eta_text(lefts)}   ", end="", file=sys.stderr,
                  flush=True)
        print(file=sys.stderr)
        out = {n: f.result() for n, f in futures.items()}
    for f in files.values():
        f.unlink(missing_ok=True)
    return out


def _read_report(path: Path) -> dict | None:
    """A training job's last epoch report (written by :func:`_train_job`), or None."""
    try:
        report = json.loads(path.read_text())
        return report if {"epoch", "timed", "seconds", "at"} <= set(report) else None
    except (OSError, ValueError):
        return None


def job_seconds_left(report: dict | None, epochs: int, now: float) -> float | None:
    """Seconds a training job has left: the mean wall time of the epochs it completed (from the
    first one's start, so start-up and data preparation do not count) times the epochs to go,
    less the time already spent in the current one (at most one epoch's). None until it has
    completed an epoch — a guess from start-up time alone is what made the estimate jump."""
    if not report or report["timed"] < 1:
        return None
    per_epoch = report["seconds"] / report["timed"]
    in_epoch = min(per_epoch, max(0.0, now - report["at"]))
    return max(0.0, per_epoch * (epochs - report["epoch"]) - in_epoch)


def eta_text(lefts: list[float | None]) -> str:
    """`` — about X left`` for the running training jobs' :func:`job_seconds_left` (they run
    side by side: the longest counts); empty while one of them has no full epoch yet."""
    if not lefts or any(v is None for v in lefts):
        return ""
    return f" — about {_fmt(max(lefts))} left"


def _torch_info() -> str:
    dev = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "CPU"
    return f"{torch.__version__} on {dev}, {torch.get_num_threads()} threads"


def _strip(r: dict) -> dict:
    """Evaluation results without the per-code counts (they go to the plots)."""
    out = dict(r)
    out["codebook"] = {k: {kk: vv for kk, vv in (v or {}).items() if kk != "counts"}
                       for k, v in r["codebook"].items()}
    if out.get("semantic_recall"):  # per-event outcomes stay in the evaluation's own json
        out["semantic_recall"] = {k: v for k, v in out["semantic_recall"].items() if k != "outcomes"}
    return out


def render_preview(runs: dict, corpus: Path, data, out: Path, seconds: float):
    """Video (ground truth | EGGesture | vanilla, with the speech) and a strip of stills."""
    test = data.sequence_indices(["test"])  # the preview clip comes from the test split
    if not test:
        return None, None
    i = test[0]
    seq_id = data.ids[i]
    fps = data.settings.fps
    n = int(min(seconds * fps, data.n_frames(i)))
    panels = []
    real = np.asarray(data.sequence(i)["motion"])[:n]
    panels.append((root_relative(sixd_positions(real, data.joint_names, fps, 15)), list(SMPLX_PARENTS),
                   "ground truth"))
    for m in METHODS:
        bundle = load_bundle(runs[m].bundle)
        res = generate_split(bundle, data, ["test"], only=[i])[0]
        panels.append((root_relative(sixd_positions(res.gen6d[:n], data.joint_names, fps, 15)),
                       list(SMPLX_PARENTS), LABELS[m]))
    wav = corpus / "wave16k" / f"{seq_id}.wav"
    video = render_video(out / "preview.mp4", panels, fps=15, audio_path=wav)
    still = render_strip(out / "preview_strip.png", panels, 15, 6)
    return video, still


def write_plots(results: dict, runs: dict, out: Path) -> list[Path]:
    plots = []
    counts = {LABELS[m]: results[m]["codebook"]["ground_truth_encoding"]["counts"] for m in METHODS}
    plots.append(plot_codebook_usage(counts, out / "codebook_usage.png",
                                     title="Codes of the held-out ground truth, encoded by "
                                           "each VQ-VAE (sorted by frequency)"))
    curves = {}
    for m in METHODS:
        if runs[m].metrics_csv:
            curves[LABELS[m]] = utilization_per_epoch(runs[m].metrics_csv, column="codebook/utilization")
    if curves:
        plots.append(plot_utilization_over_epochs(curves, out / "utilization_over_training.png",
                                                  caption=UTILIZATION_CAPTION))
    per_class = {LABELS[m]: results[m]["semantic_recall"]["per_class"]
                 for m in METHODS if results[m].get("semantic_recall")}
    if per_class:
        rule = results[METHODS[0]]["semantic_recall"]["rule"]
        plots.append(plot_recall_per_class(per_class, out / "recall_per_class.png", rule=rule))
    return plots


def _f(v, digits=3) -> str:
    return "–" if v is None else f"{v:.{digits}f}"


def results_table(results: dict) -> list[str]:
    """The demo's table (markdown lines): one row per method of ``results`` (evaluation
    results in the JSON layout), then the ground truth."""
    return results_markdown(results, labels=LABELS,
                            split_label=f"held-out split: {' + '.join(EVAL_SPLITS)}")


def claim_lines(results: dict) -> list[str]:
    """Whether this run shows the paper's claims, EGGesture against the baseline: codebook
    utilisation, FGD and tail recall; recall differences are decided by their 95 % intervals
    (one seed: FGD has none, so its line says so)."""
    eg, va = results["eggesture"], results["vanilla"]

    def iv(r, key):
        d = ((r.get("semantic_recall") or {}).get("intervals") or {}).get(key)
        return Interval(**d) if d else Interval(None, None, None, 0, "")

    util_e, util_v = eg["codebook_utilization"] or 0, va["codebook_utilization"] or 0
    out = [f"* Codebook utilisation, EGGesture vs vanilla: {_f(util_e)} vs {_f(util_v)} — "
           + ("EGGesture uses more of its codebook." if util_e > util_v
              else "EGGesture does **not** use more of its codebook.")]
    fe, fv = eg["fgd"], va["fgd"]
    if fe is not None and fv is not None:
        out.append(f"* FGD: {_f(fe)} vs {_f(fv)} — EGGesture "
                   + ("lower" if fe < fv else "**higher**")
                   + " in this run (one training seed: no interval; `eggesture ablate methods "
                     "--seeds 3` gives one).")
    for key, name in (("all", "recall, all classes"), ("tail", "recall, tail classes")):
        a, b = iv(eg, key), iv(va, key)
        if a.mean is None or b.mean is None:
            continue
        verdict = ("not resolved (the 95 % intervals overlap)" if not separated(a, b) else
                   "EGGesture higher" if a.mean > b.mean else "EGGesture **lower**")
        out.append(f"* Semantic-gesture {name}: {a.format()} vs {b.format()} — {verdict}.")
    return out


def report_markdown(summary: dict, results: dict) -> str:
    """``report.md``: the measured table, the paper's row for reference, settings, stage times."""
    c = summary["settings"]
    held = (summary.get("corpus") or {}).get("held_out") or {}
    lines = ["# eggesture demo report", "",
             f"Synthetic long-tailed corpus of {c['minutes']:g} minutes (seed {c['seed']}); "
             "both methods trained with the same config (`synthetic.yaml`) and number of "
             "epochs, evaluated on the corpus's held-out sequences (val + test"
             + (f": {held['events']} gesture events, {held['tail_events']} of tail classes"
                if held else "") + "; no choice was made on val). "
             "All numbers below were measured in this run.", "",
             "## Results (this run)", "", *results_table(results)]
    p = summary["paper_table1_beat"]
    ee = summary.get("effective_epochs") or {}
    lines += [
        "", "Units: FGD in squared feature units of this corpus's FGD autoencoder "
        f"({summary['fgd_autoencoder']}); oracle FGD: the ground truth encoded and decoded by "
        "the method's VQ-VAE (no classifier), the ceiling its codes put on generation; BA "
        "dimensionless; L1Div in 6D-rotation units per frame; codebook utilisation: share of "
        "the K codes the VQ-VAE uses encoding the held-out split's ground truth (val + test; "
        "the utilisation-over-training plot below counts training batches instead); "
        "token accuracy: generated codes "
        "equal to the VQ-VAE's codes of the ground truth; "
        "recall = fraction of ground-truth semantic gesture events the recogniser finds within "
        "±0.5 s, with its 95 % bootstrap interval over the events; gesture precision = "
        "fraction of the gestures the recogniser detects in the "
        "motion that match a ground-truth event of their class (recall alone would reward "
        "gesturing all the time). The ground-truth row is the recogniser's ceiling.", ""]
    if ee:
        lines += ["Full-rate epochs each network got (sum of its learning-rate factors): "
                  + "; ".join(f"{LABELS.get(m, m)}: VQ-VAE {v['vqvae']:g}, classifier "
                              f"{v['classifier']:g} of {v['epochs']}" for m, v in ee.items())
                  + ".", ""]
    lines += [
        "## For reference: the paper's numbers (a different dataset)", "",
        "The paper's Table 1, BEAT column, EGGesture row — **the paper's numbers on BEAT2 "
        "speaker 2, not comparable with the synthetic corpus above** (different data, FGD "
        "autoencoder and scale):", "",
        *markdown_table(["", "FGD ↓", "BA ↑", "L1Div ↑"], [[
            "EGGesture (paper, BEAT)", p["fgd"], p["beat_alignment"], p["l1_diversity"]]]), "",
        "## Does the demo show the paper's claim?", "", *claim_lines(results), "",
        "## The EMAGE protocol (the BEAT2 papers' FGD, BC, L1div)", "",
        *(emage_markdown(results, LABELS) or ["Not computed in this run."]), "",
        "On this synthetic corpus these numbers compare the two methods with each other only; "
        "they are comparable with BEAT2 papers' tables only on BEAT2 with EMAGE's own files "
        "(docs/evaluation.md, \"Comparing with BEAT2 papers\").", "",
        "![codebook usage](codebook_usage.png)", "",
        "![utilisation over training](utilization_over_training.png)", "",
        UTILIZATION_CAPTION, "",
        "![recall per class](recall_per_class.png)", ""]
    if summary.get("video"):
        lines += ["## Preview", "", f"Video: [{summary['video']}]({summary['video']}) "
                  "(ground truth | EGGesture | vanilla, with the speech).", "",
                  f"![stills]({summary['still']})", ""]
    lines += ["## Settings", "", f"* corpus: {summary['settings']['minutes']:g} minutes, seed "
              f"{summary['settings']['seed']}",
              f"* machine: {summary['machine']['platform']}, torch {summary['machine']['torch']}",
              "* config (both methods; `train.method` differs):", "", "```json",
              json.dumps(summary["settings"]["config"], indent=1), "```", "",
              "## Wall time per stage", "", *markdown_table(["stage", "seconds"], [
                  *([STAGE_TITLES[k], v] for k, v in summary["stage_seconds"].items()),
                  ["**total**", round(sum(summary["stage_seconds"].values()), 1)]])]
    if summary.get("train_seconds"):
        lines += ["", "Training time of each method: " + ", ".join(
            f"{LABELS.get(m, m.replace('_', ' '))} {v} s" for m, v in summary["train_seconds"].items())
            + " (side by side in two processes when the stage is shorter than their sum)."]
    return "\n".join(lines) + "\n"
