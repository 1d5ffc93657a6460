"""Real speech in: how much the demo's models move on a real recording, with and without its
transcript, against the real speaker's own motion capture.

Question (issue "Real speech in, lively motion out"): given the real BEAT2 sample's speech
(speaker 2, 64 s, ``shared/data/beat2_sample/wave16k``), with and without its TextGrid, do the
demo's models (trained on the synthetic speaker only) move like the real speaker does?

* Arm-motion statistics (:mod:`eggesture.metrics.motion_stats`: SMPL-X arm joints, axis-angle,
  30 fps) of each generated motion against the real mocap of that speech. Targets (issue 31):
  arm speed and amplitude (std over time) each within 75–125 % of the real ones, each arm's
  amplitude at least half its real counterpart's (:func:`checks`), and the motion with the
  transcript at least as lively (arm speed) as without it.
* Gesture repetition: the demo corpus's gesture recogniser run on the generated motion and on
  the real mocap (resampled to the model's rate); per class the number of detected gestures.
  The check: the model's most repeated gesture occurs at most twice as often as the real
  speaker's most repeated one. The recogniser knows only the synthetic speaker's classes, so on
  real mocap it names the nearest synthetic gesture; a per-class comparison (classes the model
  makes more than ``2 × real + 2`` times) is reported beside it, not checked.
* The transcript's words the model never saw (they are read as "no text").
* A still strip per motion (``--stills DIR``): real mocap and each generated motion.
* Where liveliness is lost (:func:`ceiling`): on the demo corpus's own held-out split, arm speed
  and amplitude of the VQ-VAE's oracle and of the generated motion against the synthetic ground
  truth.

Run: ``python -m benchmarks.real_speech --demo-dir demo_out`` (after ``eggesture demo``); JSON to
``benchmarks/results/real_speech.json``. Deterministic given the bundles (seed 0, argmax).

One demo run is one training seed, which decides nothing about "with the transcript at least as
lively": give several (``--demo-dir demo_s0 demo_s1 demo_s2``, each ``eggesture demo --seed N``)
and the summary gives, per method, the mean over seeds and its 95 % t interval of the arm-speed
and amplitude ratios and of the difference with − without transcript (in × real speed). The
transcript is said to help or hurt only when that interval excludes 0; otherwise "not
resolved". The per-seed table is that of the first folder.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from eggesture.reporting.markdown import markdown_table

from .common import ROOT, replace_section

SAMPLE = ROOT.parent / "shared" / "data" / "beat2_sample"
SEQ = "2_scott_0_1_1"
METHODS = ("eggesture", "vanilla")
#: Issue 31's target: arm speed and amplitude each within this range of the real mocap's, and
#: each arm's amplitude at least ARM_FLOOR of its real counterpart's.
TARGET = (0.75, 1.25)
ARM_FLOOR = 0.5
RATIOS = ("speed", "amplitude", "amplitude_left", "amplitude_right")


def checks(entry: dict) -> dict:
    """The target, per motion (with and without transcript): all must hold."""
    runs = (entry["with transcript"], entry["without transcript"])
    lo, hi = TARGET
    return {"speed_within_75_125": all(lo <= e["speed_ratio"] <= hi for e in runs),
            "amplitude_within_75_125": all(lo <= e["amplitude_ratio"] <= hi for e in runs),
            "each_arm_amplitude_at_least_half": all(
                min(e["amplitude_left_ratio"], e["amplitude_right_ratio"]) >= ARM_FLOOR
                for e in runs),
            "transcript_at_least_as_lively": runs[0]["speed"] >= runs[1]["speed"]}


def _repetition(rec, motions6d: dict[str, np.ndarray], fps: float) -> dict:
    from eggesture.metrics.recall import detections

    counts = {}
    for name, m in motions6d.items():
        c = np.zeros(len(rec.classes), np.int64)
        for cls, _, _ in detections(rec.labels(m), fps):
            c[cls - 1] += 1
        counts[name] = c
    real = counts["real mocap"]
    out = {"classes": list(rec.classes), "counts": {k: v.tolist() for k, v in counts.items()},
           "real_most_repeated": rec.classes[int(np.argmax(real))], "real_max": int(real.max())}
    for name, c in counts.items():
        if name == "real mocap":
            continue
        top = int(np.argmax(c))
        out[name] = {"most_repeated": rec.classes[top], "count": int(c[top]),
                     "real_count_of_it": int(real[top]),
                     "at_most_twice_the_real_max": bool(c.max() <= 2 * real.max()),
                     "classes_over_2x_real_plus_2": [rec.classes[i] for i in
                                                     np.flatnonzero(c > 2 * real + 2)]}
    return out


def ceiling(demo_dir: Path, method: str) -> dict:
    """Where liveliness is lost, on the demo corpus's own held-out split (val + test): arm
    speed and amplitude of the VQ-VAE's oracle (ground truth encoded and decoded, no
    classifier) and of the generated motion, as ratios to that ground truth's."""
    from eggesture.bundle import load_bundle
    from eggesture.config import EVAL_SPLITS
    from eggesture.data.motion import sixd_to_axis_angle
    from eggesture.data.poses import smplx_poses
    from eggesture.data.windows import WindowSettings, prepare
    from eggesture.metrics.motion_stats import motion_profile
    from eggesture.recipes.evaluate import generate_split, oracle_motion

    b = load_bundle(demo_dir / "runs" / method / "bundle")
    data = prepare(demo_dir / "corpus", WindowSettings.from_config(b.cfg),
                   train_splits=tuple(b.cfg.data.train_splits))
    fps = data.settings.fps

    def profile(six):
        aa = sixd_to_axis_angle(six.astype(np.float64))
        return motion_profile(smplx_poses(aa, data.joint_names, fps, len(aa) / fps))

    res = generate_split(b, data, list(EVAL_SPLITS))
    gt = [profile(r.real6d) for r in res]
    # the synthetic speaker itself against the real one (its held-out motion, pooled)
    out = {f"truth_{key}": float(np.mean([x[key] for x in gt])) for key in RATIOS}
    for name, motions in (("oracle", [oracle_motion(b, r.real6d) for r in res]),
                          ("generated", [r.gen6d for r in res])):
        prof = [profile(m) for m in motions]
        for key in ("speed", "amplitude"):
            out[f"{name}_{key}_ratio"] = float(np.mean([x[key] for x in prof])
                                               / np.mean([x[key] for x in gt]))
    return out


def on_sample(bundle, sample: Path, real_profile: dict) -> tuple[dict, dict]:
    """A bundle on the sample's speech, with and without its TextGrid: per case the motion
    profile and its ratios to the real one (``entry``), and the motions ``{case: (Generated,
    poses)}``."""
    from eggesture.data.transcript import read_textgrid
    from eggesture.metrics.motion_stats import motion_profile
    from eggesture.recipes.generate import generate, to_smplx_poses

    wav, tg = sample / "wave16k" / f"{SEQ}.wav", sample / "textgrid" / f"{SEQ}.TextGrid"
    words = [w.text for w in read_textgrid(tg)]
    entry = {"transcript_words": len(words), "unknown_words": len(words) - bundle.known_words(words)}
    gens = {}
    for text, label in ((tg, "with transcript"), (None, "without transcript")):
        gen = generate(bundle, wav, text, seed=0)
        poses = to_smplx_poses(gen, 30)
        prof = motion_profile(poses)
        entry[label] = {**prof, **{f"{k}_ratio": prof[k] / real_profile[k] for k in RATIOS}}
        gens[label] = (gen, poses)
    return entry, gens


HELD_OUT_KEYS = ("fgd", "l1_diversity", "beat_alignment")


def held_out_scores(bundle: Path, corpus: Path, split: list[str]) -> dict:
    """The bundle on its own corpus's held-out ``split`` (``eggesture evaluate``'s numbers)."""
    from eggesture.recipes.evaluate import evaluate

    r = evaluate(bundle, corpus, split=split).to_dict()
    rec = r.get("semantic_recall") or {}
    return {**{k: r[k] for k in HELD_OUT_KEYS}, "tail_recall": rec.get("tail"),
            "gesture_precision": rec.get("precision")}


def measure_bundles(bundles: list[Path], sample: Path, corpus: Path | None = None,
                    split: list[str] | None = None) -> dict:
    """Bundles of one recipe, one per training seed (e.g. candidates for the packaged model),
    on the sample: per bundle the profiles, ratios and :func:`checks`; over them each ratio's
    mean and 95 % t interval, and whether the means meet the target. With ``corpus``, each
    bundle is also scored on that corpus's ``split`` (FGD, L1 diversity, BA, tail recall,
    gesture precision: does what moves more on real speech still fit its own data?)."""
    from eggesture.bundle import load_bundle
    from eggesture.data.beat2 import read_motion
    from eggesture.metrics.intervals import t_interval
    from eggesture.metrics.motion_stats import motion_profile

    real = motion_profile(read_motion(sample / "smplxflame_30" / f"{SEQ}.npz")["poses"])
    runs = []
    for b in bundles:
        entry = on_sample(load_bundle(b), sample, real)[0]
        entry["checks"] = checks(entry)
        if corpus is not None:
            entry["held_out"] = held_out_scores(b, corpus, split or ["test"])
        runs.append({"bundle": str(b), **entry})
    summary = {f"{k}_ratio, {label}": t_interval([r[label][f"{k}_ratio"] for r in runs]).to_dict()
               for k in RATIOS for label in ("with transcript", "without transcript")}
    means = {label: {f"{k}_ratio": summary[f"{k}_ratio, {label}"]["mean"] for k in RATIOS}
             | {"speed": 0.0} for label in ("with transcript", "without transcript")}
    if corpus is not None:
        summary.update({f"held-out {k}": t_interval([r["held_out"][k] for r in runs]).to_dict()
                        for k in runs[0]["held_out"]})
    return {"sample": str(sample), "real": real, "bundles": runs, "summary": summary,
            "held_out": {"corpus": str(corpus), "split": split or ["test"]} if corpus else None,
            "target_met_by_the_means": checks(means)}


def bundles_report(r: dict) -> str:
    from eggesture.metrics.intervals import Interval

    lines = [f"{len(r['bundles'])} bundles ({', '.join(Path(b['bundle']).as_posix() for b in r['bundles'])}) "
             "on the real BEAT2 sample's speech; mean ± 95 % t interval over them, × the real "
             f"mocap (target {TARGET[0]:g}–{TARGET[1]:g}; each arm ≥ {ARM_FLOOR:g}):", ""]
    rows = [[label, *(Interval(**r["summary"][f"{k}_ratio, {label}"]).format(2) for k in RATIOS)]
            for label in ("with transcript", "without transcript")]
    lines += markdown_table(["case", "arm speed", "amplitude", "left arm amplitude",
                             "right arm amplitude"], rows)
    if r.get("held_out"):
        h = r["held_out"]
        lines += ["", f"On their corpus's held-out split ({' + '.join(h['split'])} of {h['corpus']}):",
                  "", *markdown_table(["FGD", "L1 diversity", "BA", "tail recall",
                                       "gesture precision"],
                                      [[Interval(**r["summary"][f"held-out {k}"]).format(3)
                                        for k in (*HELD_OUT_KEYS, "tail_recall",
                                                  "gesture_precision")]])]
    met = r["target_met_by_the_means"]
    lines += ["", "Target by the means: " + ", ".join(f"{k} {'yes' if v else 'no'}"
                                                      for k, v in met.items()
                                                      if k != "transcript_at_least_as_lively")]
    return "\n".join(lines)


def measure(demo_dir: Path, sample: Path, stills: Path | None = None) -> dict:
    from eggesture.bundle import load_bundle
    from eggesture.data.beat2 import read_motion
    from eggesture.data.motion import axis_angle_to_6d, resample_rotations
    from eggesture.data.poses import n_frames_for, smplx_indices
    from eggesture.evaluation.recognizer import load_recognizer
    from eggesture.metrics.motion_stats import motion_profile

    real = read_motion(sample / "smplxflame_30" / f"{SEQ}.npz")["poses"]
    result = {"sample": str(sample), "sequence": SEQ, "demo": str(demo_dir),
              "real": motion_profile(real), "methods": {}}
    motions6d, posed = {}, {"real mocap": real}
    bundle = None
    for method in METHODS:
        bundle = load_bundle(demo_dir / "runs" / method / "bundle")
        entry, gens = on_sample(bundle, sample, result["real"])
        for label, (gen, poses) in gens.items():
            motions6d[f"{method}, {label}"] = axis_angle_to_6d(gen.rotvec).astype(np.float32)
            posed[f"{method}, {label}"] = poses
        entry["held_out_ceiling"] = ceiling(demo_dir, method)
        for key in RATIOS:  # the chain: the synthetic truth × real, then generation × truth
            entry["held_out_ceiling"][f"truth_{key}_x_real"] = (
                entry["held_out_ceiling"].pop(f"truth_{key}") / result["real"][key])
        entry["checks"] = checks(entry)
        result["methods"][method] = entry
    d = bundle.cfg.data
    rec = load_recognizer(demo_dir / "corpus", d.joint_set, d.fps, d.length)
    idx = smplx_indices(bundle.joint_names)
    n = n_frames_for(len(real) / 30, d.fps)
    real_aa = resample_rotations(real.reshape(-1, 55, 3)[:, idx].astype(np.float64), 30, d.fps,
                                 n_out=n)
    motions6d = {"real mocap": axis_angle_to_6d(real_aa).astype(np.float32), **motions6d}
    result["repetition"] = _repetition(rec, motions6d, d.fps)
    for method in METHODS:
        result["methods"][method]["checks"]["repetition_at_most_twice"] = all(
            result["repetition"][f"{method}, {label}"]["at_most_twice_the_real_max"]
            for label in ("with transcript", "without transcript"))
    if stills is not None:
        result["stills"] = str(_stills(stills, posed))
    return result


def _stills(folder: Path, posed: dict[str, np.ndarray]) -> Path:
    from eggesture.data.motion import SMPLX_PARENTS
    from eggesture.data.skeleton import smplx_positions
    from eggesture.export.render import render_strip, root_relative

    folder.mkdir(parents=True, exist_ok=True)
    n = min(len(p) for p in posed.values())
    motions = [(root_relative(smplx_positions(p[:n])), list(SMPLX_PARENTS), name)
               for name, p in posed.items() if "vanilla" not in name]
    return render_strip(folder / "real_speech_strip.png", motions, 30, n_stills=8)


def summarise(runs: list[dict]) -> dict:
    """Per method, over the runs (seeds): intervals of the ratios and of with − without."""
    from eggesture.metrics.intervals import t_interval

    out = {"n_seeds": len(runs), "demos": [r["demo"] for r in runs], "methods": {}}
    for m in runs[0]["methods"]:
        es = [r["methods"][m] for r in runs]
        entry = {}
        for key in (f"{k}_ratio" for k in RATIOS):
            for label in ("with transcript", "without transcript"):
                entry[f"{key}, {label}"] = t_interval([e[label][key] for e in es]).to_dict()
            diff = t_interval([e["with transcript"][key] - e["without transcript"][key] for e in es])
            entry[f"{key}, with - without"] = diff.to_dict()
        for key in es[0].get("held_out_ceiling", {}):
            entry[f"held-out {key}"] = t_interval([e["held_out_ceiling"][key] for e in es]).to_dict()
        d = entry["speed_ratio, with - without"]
        if d["low"] is None:
            verdict = "not resolved (one seed)"
        elif d["low"] > 0:
            verdict = "the transcript makes the motion livelier"
        elif d["high"] < 0:
            verdict = "the transcript makes the motion stiller"
        else:
            verdict = "not resolved: the interval of with - without contains 0"
        entry["transcript_verdict"] = verdict
        entry["checks_passed_per_seed"] = {k: sum(e["checks"][k] for e in es) for k in es[0]["checks"]}
        out["methods"][m] = entry
    return out


def summary_report(s: dict) -> str:
    from eggesture.metrics.intervals import Interval

    def fmt(d: dict) -> str:
        return Interval(**d).format(2)

    lines = [f"Over {s['n_seeds']} training seeds ({', '.join(Path(d).name for d in s['demos'])}); "
             "mean ± 95 % t "
             "interval, ratios to the real mocap:", "",
             *markdown_table(["method", "speed × real, with transcript", "without", "with − without",
                              "amplitude × real, with", "without", "with − without"],
                             [[m, *(fmt(e[f"{k}, {lab}"]) for k in ("speed_ratio", "amplitude_ratio")
                                    for lab in ("with transcript", "without transcript",
                                                "with - without"))]
                              for m, e in s["methods"].items()])]
    lines += ["", f"Each arm's amplitude × its real counterpart's (target ≥ {ARM_FLOOR:g}):", "",
              *markdown_table(["method", "left arm, with transcript", "without", "right arm, with",
                               "without"],
                              [[m, *(fmt(e[f"{k}_ratio, {lab}"])
                                     for k in ("amplitude_left", "amplitude_right")
                                     for lab in ("with transcript", "without transcript"))]
                               for m, e in s["methods"].items()])]
    lines += ["", "Where it is lost, on the demo corpus's own held-out split (val + test), as ratios to "
              "its synthetic ground truth: the VQ-VAE's oracle (ground truth encoded and decoded, "
              "no classifier) is the ceiling of any generation; the synthetic truth itself against "
              "the real mocap in the last two columns.", "",
              *markdown_table(["method", "oracle speed", "oracle amplitude", "generated speed",
                               "generated amplitude", "truth speed × real", "truth amplitude × real"],
                              [[m, *(fmt(e[f"held-out {k}"]) for k in (
                                  "oracle_speed_ratio", "oracle_amplitude_ratio",
                                  "generated_speed_ratio", "generated_amplitude_ratio",
                                  "truth_speed_x_real", "truth_amplitude_x_real"))]
                               for m, e in s["methods"].items()
                               if "held-out truth_speed_x_real" in e])]
    lines.append("")
    for m, e in s["methods"].items():
        passed = ", ".join(f"{k} {v}/{s['n_seeds']}" for k, v in e["checks_passed_per_seed"].items())
        lines.append(f"* {m}: {e['transcript_verdict']}. Checks passed per seed: {passed}.")
    return "\n".join(lines)


def report(r: dict) -> str:
    real = r["real"]
    lines = [f"Real BEAT2 sample {r['sequence']} (speaker 2, 64 s) through the demo's models "
             f"({Path(r['demo']).name}); arm motion (SMPL-X 13, 14, 16–21, axis-angle, 30 fps):", ""]
    rows = [["real mocap", f"{real['speed']:.4f}", "1.00", f"{real['amplitude']:.3f}", "1.00",
             "1.00 / 1.00", f"{real['moving_share']:.0%}",
             f"{r['repetition']['real_most_repeated']} ({r['repetition']['real_max']})"]]
    for m, e in r["methods"].items():
        for label in ("with transcript", "without transcript"):
            s = e[label]
            rep = r["repetition"][f"{m}, {label}"]
            rows.append([f"{m}, {label}", f"{s['speed']:.4f}", f"{s['speed_ratio']:.2f}",
                         f"{s['amplitude']:.3f}", f"{s['amplitude_ratio']:.2f}",
                         f"{s['amplitude_left_ratio']:.2f} / {s['amplitude_right_ratio']:.2f}",
                         f"{s['moving_share']:.0%}",
                         f"{rep['most_repeated']} ({rep['count']}; {rep['real_count_of_it']})"])
    lines += markdown_table(["motion", "arm speed (rad/frame)", "× real", "amplitude (rad)", "× real",
                             "left / right arm amplitude × real", "frames moving",
                             "most repeated gesture (count; real speaker's count of it)"], rows)
    first = next(iter(r["methods"].values()))
    per_method = {m: e["checks"] for m, e in r["methods"].items()}
    lines += ["", f"{first['unknown_words']} of the transcript's {first['transcript_words']} "
              "words are not in the model's vocabulary (read as no text). Gestures: the demo "
              "corpus's recogniser, which knows only the synthetic classes (on real mocap it "
              "names the nearest one)."]
    yes = {True: "yes", False: "no"}
    for m, c in per_method.items():
        lines.append(f"* {m}: arm speed within 75–125 % of the real mocap "
                     f"{yes[c['speed_within_75_125']]}, amplitude "
                     f"{yes[c['amplitude_within_75_125']]}, each arm's amplitude at least half "
                     f"its real counterpart's {yes[c['each_arm_amplitude_at_least_half']]}; "
                     f"with the transcript at "
                     f"least as lively as without {'yes' if c['transcript_at_least_as_lively'] else 'no'}"
                     f"; most repeated gesture at most twice the real speaker's "
                     f"{'yes' if c['repetition_at_most_twice'] else 'no'}.")
    return "\n".join(lines)


BEGIN, END = "<!-- real-speech:begin -->", "<!-- real-speech:end -->"


def write_readme(readme: Path, r: dict, run_label: str) -> None:
    """Replace the README's real-speech section (between the markers) with :func:`report`."""
    block = (f"{run_label} (`python -m benchmarks.real_speech --demo-dir DEMO [DEMO ...] --readme "
             f"{readme}`, {r['measured']}):\n\n{report(r)}")
    if "summary" in r:
        block += "\n\n" + summary_report(r["summary"])
    replace_section(readme, BEGIN, END, block)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--demo-dir", type=Path, nargs="+", default=[Path("demo_out")],
                    help="one or more demo folders (one per training seed)")
    ap.add_argument("--sample", type=Path, default=SAMPLE)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "real_speech.json")
    ap.add_argument("--stills", type=Path, default=None, help="write a still strip here")
    ap.add_argument("--readme", type=Path, default=None,
                    help="rewrite this README's real-speech section from the measurement")
    ap.add_argument("--run-label", default="One measurement")
    ap.add_argument("--bundle", type=Path, nargs="+", default=None,
                    help="instead of demo folders: bundles of one recipe, one per training seed "
                         "(e.g. candidates for the packaged model)")
    ap.add_argument("--held-out", type=Path, default=None, metavar="CORPUS",
                    help="with --bundle: also score each on this corpus's test split (its "
                         "evaluation nets must be there, as `eggesture demo` leaves them)")
    args = ap.parse_args(argv)
    if not (args.sample / "wave16k" / f"{SEQ}.wav").is_file():
        print(f"error: {args.sample}: the BEAT2 sample is not there", file=sys.stderr)
        return 2
    if args.bundle:
        from eggesture.io import write_json

        r = measure_bundles(args.bundle, args.sample, args.held_out)
        write_json(args.out, r)
        print(bundles_report(r) + f"\n\nJSON: {args.out}")
        return 0
    for d in args.demo_dir:
        if not (d / "runs" / "eggesture" / "bundle").is_dir():
            print(f"error: {d}: no demo run (run `eggesture demo --out DIR` first)",
                  file=sys.stderr)
            return 2
    runs = [measure(d, args.sample, args.stills if i == 0 else None)
            for i, d in enumerate(args.demo_dir)]
    r = runs[0]
    if len(runs) > 1:
        r["seeds"] = runs[1:]
        r["summary"] = summarise(runs)
    import datetime

    from eggesture.io import write_json

    r["measured"] = datetime.date.today().isoformat()
    write_json(args.out, r)
    if args.readme:
        write_readme(args.readme, r, args.run_label)
    print(report(r))
    if "summary" in r:
        print("\n" + summary_report(r["summary"]))
    print(f"\nJSON: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
