"""Words on time: forced alignment (``eggesture align``) against a real human alignment.

Questions (issue "Any speech in, words on time"):

* **Timing.** The BEAT2 sample (speaker 2, 64 s) with its human TextGrid as the reference: its
  words given as plain text, aligned (:func:`eggesture.data.align.align`, and in 20 s chunks, the
  long-audio path) and spread evenly (:func:`~eggesture.data.transcript.words_from_plain_text`,
  what plain text got before). Per word boundary (start and end): median and 90th-percentile
  absolute error, share within 50 / 100 ms; words dropped.
* **Speed.** 60 s of the sample aligned on one thread (median of 3; words only, and with the
  phones tier); recognition of the whole sample.
* **Recognition** (``--transcribe``): word error rate against the TextGrid's words (``jiwer``).
* **Is the text this speech?** Right and wrong (another passage's) text for real speech (BEAT2
  windows) and synthetic speech (espeak-ng sentences, several voices and rates): alignment
  failures and scores, and the decision of :func:`~eggesture.data.align.align` (refused or not).
  The thresholds were chosen on the ``choose`` set and are reported on the ``confirm`` set that
  was not looked at when choosing (other window cuts, other sentences and voices). Whole-file
  cases: the sample's text reversed, a six-word text, the first half of the text.
* **Gestures** (``--demo-dir``, after ``eggesture demo``): the demo model's motion on the
  sample's speech with (a) the TextGrid, (b) aligned plain text, (c) spread plain text, (d)
  recognised words — mean absolute joint-angle difference per frame of (b), (c), (d) from (a);
  and on the demo corpus's held-out sequences (whose true word times the corpus knows) the
  classifier's token accuracy with true, aligned, spread and no word times.

Run: ``python -m benchmarks.alignment [--demo-dir DEMO] [--readme docs/usage.md]``; JSON to
``benchmarks/results/alignment.json``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from eggesture.reporting.markdown import markdown_table

from .common import ROOT, Run, replace_section, set_threads

SAMPLE = ROOT.parent / "shared" / "data" / "beat2_sample"
SEQ = "2_scott_0_1_1"
BEGIN, END = "<!-- alignment:begin -->", "<!-- alignment:end -->"

#: espeak-ng sentences: the ``choose`` set (voice, rates) and the ``confirm`` set.
CHOOSE_SENTENCES = (
    "the first thing i like to do on weekends is relaxing",
    "i think it is very important to get a good sleep",
    "we went to the market to buy some fresh bread",
    "please open the window because it is hot in here",
    "my brother plays the guitar every evening",
    "the train was late again this morning",
    "she told me a story about her grandmother",
    "can you help me carry these boxes upstairs",
)
CONFIRM_SENTENCES = (
    "the weather will be sunny tomorrow afternoon",
    "three small dogs ran across the park",
    "i would like a cup of coffee with milk",
    "our teacher gave us a lot of homework today",
    "he forgot his keys at the office yesterday",
    "they are building a new bridge over the river",
    "could you tell me the way to the station",
    "the children were singing songs in the garden",
)
CHOOSE_VOICES = (("en-us", 130), ("en-us", 170), ("en-us", 210))
CONFIRM_VOICES = (("en-us+m3", 150), ("en-us+f2", 190), ("en", 170))


def boundary_errors(words, ref) -> dict:
    """Start and end errors (s) of ``words`` against ``ref``, matched in order."""
    n = min(len(words), len(ref))
    err = np.abs(np.array([[w.start - r.start, w.end - r.end]
                           for w, r in zip(words[:n], ref[:n])])).ravel()
    return {"words": len(words), "reference_words": len(ref),
            "dropped": len(ref) - len(words),
            "words_differ": sum(w.text != r.text for w, r in zip(words, ref)),
            "median_ms": round(float(np.median(err)) * 1000, 1),
            "p90_ms": round(float(np.percentile(err, 90)) * 1000, 1),
            "within_50ms": round(float((err <= 0.05 + 1e-9).mean()), 4),
            "within_100ms": round(float((err <= 0.1 + 1e-9).mean()), 4)}


def timing(wave, ref, quick: bool = False) -> dict:
    from eggesture.data.align import align
    from eggesture.data.transcript import words_from_plain_text

    text = " ".join(w.text for w in ref)
    out = {"aligned": boundary_errors(align(wave, text).words, ref)}
    if not quick:
        out["aligned_in_20s_chunks"] = boundary_errors(align(wave, text, chunk=20.0).words, ref)
    out["spread_evenly"] = boundary_errors(words_from_plain_text(text, wave, 16000), ref)
    return out


def speed(wave, ref, quick: bool = False) -> dict:
    from eggesture.data.align import align, transcribe

    cut = [w for w in ref if w.end <= 60.0]
    audio = wave[:60 * 16000]
    text = " ".join(w.text for w in cut)
    align(audio, text)  # the decoders are built once per process: not timed

    def seconds(fn, reps=1 if quick else 3):
        times = []
        for _ in range(reps):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        return round(float(np.median(times)), 3)

    out = {"audio_seconds": 60.0, "words": len(cut),
           "align_seconds": seconds(lambda: align(audio, text)),
           "align_with_phones_seconds": seconds(lambda: align(audio, text, phones=True)),
           "sample_seconds": round(wave.size / 16000, 2)}
    if not quick:
        transcribe(wave[:5 * 16000])  # builds the recogniser: not timed
        out["transcribe_seconds_whole_sample"] = seconds(lambda: transcribe(wave), reps=1)
    return out


def long_audio(wave, ref, times: int) -> dict:
    """The sample ``times`` over as one recording: seconds to align, boundary error, and the
    process's resident-set growth (the audio's own copies included)."""
    import resource

    from eggesture.data.align import align
    from eggesture.data.transcript import Word

    step = wave.size / 16000
    long_wave = np.tile(wave, times)
    truth = [Word(w.start + k * step, w.end + k * step, w.text) for k in range(times) for w in ref]
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t = time.perf_counter()
    words = align(long_wave, " ".join(w.text for w in truth)).words
    seconds = time.perf_counter() - t
    return {"audio_seconds": round(long_wave.size / 16000, 1), "align_seconds": round(seconds, 1),
            "peak_rss_growth_mb": round((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                                         - before) / 1024, 1),
            **boundary_errors(words, truth)}


def recognition(wave, ref) -> dict:
    import jiwer

    from eggesture.data.align import transcribe

    got = transcribe(wave)
    truth, hyp = " ".join(w.text for w in ref), " ".join(w.text for w in got.words)
    out = jiwer.process_words(truth, hyp)
    return {"wer": round(out.wer, 4), "substitutions": out.substitutions,
            "deletions": out.deletions, "insertions": out.insertions,
            "reference_words": len(ref), "recognised_words": len(got.words),
            "recognised_start": hyp[:200]}


def _trial(wave, text) -> dict:
    """One alignment of ``text`` to ``wave``: whether it aligned at all, its score and
    coverage, and whether :func:`align` refuses it."""
    from eggesture.data.align import align
    from eggesture.errors import DataError

    try:
        a = align(wave, text, check=False)
    except DataError:
        return {"aligned": False, "score": None, "coverage": None, "refused": True}
    try:
        align(wave, text)
        refused = False
    except DataError:
        refused = True
    return {"aligned": True, "score": round(a.score, 3), "coverage": round(a.coverage, 3),
            "refused": refused}


def _windows(ref, seconds: float, skip: int) -> list[tuple[int, int]]:
    out, i = [], skip
    while i < len(ref):
        j = i
        while j < len(ref) and ref[j].end - ref[i].start < seconds:
            j += 1
        if j >= len(ref):
            break
        out.append((i, j))
        i = j
    return out


def _beat2_pairs(wave, ref, seconds: float, skip: int) -> dict:
    wins = _windows(ref, seconds, skip)
    right, wrong = [], []
    for k, (i, j) in enumerate(wins):
        a, b = max(0.0, ref[i].start - 0.15), ref[j - 1].end + 0.15
        audio = wave[int(a * 16000):int(b * 16000)]
        right.append(_trial(audio, " ".join(w.text for w in ref[i:j])))
        for shift in (1, 3):
            i2, j2 = wins[(k + shift) % len(wins)]
            wrong.append(_trial(audio, " ".join(w.text for w in ref[i2:j2])))
    return {"right": right, "wrong": wrong}


def _espeak_pairs(sentences, voices) -> dict:
    from eggesture.data.speech import Voice, engine

    right, wrong = [], []
    for name, rate in voices:
        for k, s in enumerate(sentences):
            u = engine().utterance(s.split(), Voice(name=name, rate=rate))
            pad = np.zeros(8000, np.float32)
            audio = np.concatenate([pad, u.audio, pad])
            right.append(_trial(audio, s))
            for shift in (1, 3):
                wrong.append(_trial(audio, sentences[(k + shift) % len(sentences)]))
    return {"right": right, "wrong": wrong}


def _summary(trials: list[dict]) -> dict:
    scores = [t["score"] for t in trials if t["score"] is not None]
    return {"pairs": len(trials), "failed_to_align": sum(not t["aligned"] for t in trials),
            "refused": sum(t["refused"] for t in trials),
            "score_min": min(scores) if scores else None,
            "score_max": max(scores) if scores else None,
            "coverage_min": min((t["coverage"] for t in trials if t["coverage"] is not None),
                                default=None)}


def separation(wave, ref) -> dict:
    sets = {
        "choose": {"beat2": _beat2_pairs(wave, ref, 8.0, 0),
                   "espeak": _espeak_pairs(CHOOSE_SENTENCES, CHOOSE_VOICES)},
        "confirm": {"beat2": _beat2_pairs(wave, ref, 6.0, 7),
                    "espeak": _espeak_pairs(CONFIRM_SENTENCES, CONFIRM_VOICES)},
    }
    out = {name: {src: {kind: _summary(t) for kind, t in pairs.items()}
                  for src, pairs in d.items()} for name, d in sets.items()}
    text = [w.text for w in ref]
    out["whole_file"] = {
        "right": _trial(wave, " ".join(text)),
        "reversed": _trial(wave, " ".join(text[::-1])),
        "six_words": _trial(wave, "the cat sat on the mat"),
        "first_half": _trial(wave, " ".join(text[:len(text) // 2])),
    }
    out["trials"] = sets
    return out


def _angle_diff(a, b) -> float:
    """Mean absolute axis-angle difference (degrees) of the generated joints per frame."""
    import roma
    import torch

    n = min(len(a), len(b))
    ra = roma.rotvec_to_rotmat(torch.as_tensor(a[:n], dtype=torch.float64))
    rb = roma.rotvec_to_rotmat(torch.as_tensor(b[:n], dtype=torch.float64))
    return round(float(torch.rad2deg(roma.rotmat_geodesic_distance(ra, rb)).mean()), 3)


def gestures(demo_dir: Path, wave, ref, sample: Path) -> dict:
    """Item 4: the demo model's motion and token accuracy with each source of word times."""
    from eggesture.bundle import load_bundle
    from eggesture.data.align import align, transcribe
    from eggesture.data.transcript import words_from_plain_text
    from eggesture.recipes.generate import generate_motion

    bundle = load_bundle(demo_dir / "runs" / "eggesture")
    text = " ".join(w.text for w in ref)
    sources = {"textgrid": ref, "aligned": align(wave, text).words,
               "spread": words_from_plain_text(text, wave, 16000),
               "recognised": transcribe(wave).words, "no_words": []}
    motion = {k: generate_motion(bundle, wave, w).rotvec for k, w in sources.items()}
    out = {"sample_motion_difference_deg": {k: _angle_diff(motion[k], motion["textgrid"])
                                            for k in sources if k != "textgrid"}}
    out["held_out_token_accuracy"] = _held_out_tokens(bundle, demo_dir / "corpus")
    return out


def _held_out_tokens(bundle, corpus: Path) -> dict:
    import torch

    from eggesture.config import EVAL_SPLITS
    from eggesture.data.align import align
    from eggesture.data.transcript import read_textgrid, words_from_plain_text
    from eggesture.models.vqvae import DOWNSAMPLE
    from eggesture.recipes.evaluate import _prepare, oracle_codes
    from eggesture.recipes.generate import generate_motion

    split = list(EVAL_SPLITS)
    data = _prepare(bundle, corpus, split)
    hits = {k: 0 for k in ("true", "aligned", "spread", "no_words")}
    total, errors = 0, []
    seed_tokens = bundle.cfg.data.seed_frames // DOWNSAMPLE
    for i in data.sequence_indices(split):
        s = data.sequence(i)
        real = np.asarray(s["motion"], dtype=np.float32)
        wave = np.asarray(s["audio"], dtype=np.float32)
        true = read_textgrid(corpus / "textgrid" / f"{data.ids[i]}.TextGrid")
        text = " ".join(w.text for w in true)
        aligned = align(wave, text, check=False).words
        errors.append(boundary_errors(aligned, true)["median_ms"])
        seed = bundle.norm.normalize(real[:bundle.cfg.data.seed_frames].reshape(
            bundle.cfg.data.seed_frames, -1))
        target = oracle_codes(bundle, real)[0].cpu().numpy()
        for k, words in (("true", true), ("aligned", aligned),
                         ("spread", words_from_plain_text(text, wave, 16000)), ("no_words", [])):
            with torch.no_grad():
                idx = generate_motion(bundle, wave, words, seed_motion=seed).indices
            n = min(len(idx), len(target))
            hits[k] += int((idx[seed_tokens:n] == target[seed_tokens:n]).sum())
        total += max(0, min(len(idx), len(target)) - seed_tokens)
    return {"sequences": len(errors), "tokens": total,
            "token_accuracy": {k: round(v / max(total, 1), 4) for k, v in hits.items()},
            "aligned_median_boundary_error_ms_per_sequence": errors}


def report(r: dict) -> str:
    t = r["timing"]
    rows = [[name.replace("_", " "), str(v["words"]), str(v["dropped"]), f"{v['median_ms']:.0f}",
             f"{v['p90_ms']:.0f}", f"{v['within_50ms']:.1%}", f"{v['within_100ms']:.1%}"]
            for name, v in t.items()]
    lines = markdown_table(["plain text timed by", "words", "dropped", "median error (ms)",
                            "p90 (ms)", "within 50 ms", "within 100 ms"], rows)
    s, rec = r["speed"], r["recognition"]
    lines += ["", f"60 s of speech aligned in {s['align_seconds']:.2f} s on one thread "
                  f"({s['align_with_phones_seconds']:.2f} s with the phones tier); "
                  f"`--transcribe` of the {s['sample_seconds']:.0f} s sample took "
                  f"{s['transcribe_seconds_whole_sample']:.1f} s with word error rate "
                  f"{rec['wer']:.0%} ({rec['substitutions']} substituted, {rec['deletions']} "
                  f"deleted, {rec['insertions']} inserted of {rec['reference_words']} words)."]
    sep = r["separation"]
    rows = []
    for name in ("choose", "confirm"):
        for src, d in sep[name].items():
            for kind in ("right", "wrong"):
                v = d[kind]
                rng = ("—" if v["score_min"] is None else
                       f"{v['score_min']:.2f} … {v['score_max']:.2f}")
                rows.append([name, src, kind, str(v["pairs"]), str(v["failed_to_align"]), rng,
                             str(v["refused"])])
    lines += ["", *markdown_table(["set", "speech", "text", "pairs", "failed to align",
                                   "score range (aligned ones)", "refused"], rows)]
    wf = sep["whole_file"]
    lines += ["", "Whole sample (64 s): " + "; ".join(
        f"{k.replace('_', ' ')} text {'refused' if v['refused'] else 'accepted'}"
        + (f" (score {v['score']:.2f}, coverage {v['coverage']:.0%})" if v["aligned"] else
           " (does not align)") for k, v in wf.items()) + "."]
    g = r.get("gestures")
    if g:
        d = g["sample_motion_difference_deg"]
        acc = g["held_out_token_accuracy"]
        lines += ["", "Demo model on the sample's speech, mean joint-angle difference per frame "
                  "from the motion with the TextGrid: " + ", ".join(
                      f"{k.replace('_', ' ')} {v:.2f}°" for k, v in d.items()) + ". "
                  f"Token accuracy on the demo corpus's {acc['sequences']} held-out sequences "
                  f"({acc['tokens']} tokens): " + ", ".join(
                      f"{k.replace('_', ' ')} times {v:.3f}"
                      for k, v in acc["token_accuracy"].items()) + "."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sample", type=Path, default=SAMPLE)
    ap.add_argument("--demo-dir", type=Path, default=None,
                    help="an `eggesture demo` folder: also measure the effect on gestures")
    ap.add_argument("--out", type=Path, default=None, help="folder of the JSON (default: "
                                                           "benchmarks/results)")
    ap.add_argument("--readme", type=Path, default=None,
                    help="rewrite this README's alignment section from the measurement")
    ap.add_argument("--quick", action="store_true", help="timing and speed only (smoke test)")
    ap.add_argument("--long", type=int, default=0, metavar="N",
                    help="also align the sample N times over as one recording (long audio)")
    args = ap.parse_args(argv)
    from eggesture.data.transcript import read_textgrid
    from eggesture.data.wav import load_audio

    wav = args.sample / "wave16k" / f"{SEQ}.wav"
    if not wav.is_file():
        print(f"error: {args.sample}: the BEAT2 sample is not there", file=sys.stderr)
        return 2
    set_threads(1)
    run = Run("alignment", args.out)
    wave = load_audio(wav, 16000)
    ref = read_textgrid(args.sample / "textgrid" / f"{SEQ}.TextGrid")
    run.results["timing"] = timing(wave, ref, quick=args.quick)
    run.results["speed"] = speed(wave, ref, quick=args.quick)
    if args.long:
        run.results["long_audio"] = long_audio(wave, ref, args.long)
    if not args.quick:
        run.results["recognition"] = recognition(wave, ref)
        run.results["separation"] = separation(wave, ref)
        if args.demo_dir:
            run.results["gestures"] = gestures(args.demo_dir, wave, ref, args.sample)
    a = run.results["timing"]["aligned"]
    run.write(f"aligned: median {a['median_ms']} ms, p90 {a['p90_ms']} ms, "
              f"{a['within_50ms']:.1%} within 50 ms; 60 s in "
              f"{run.results['speed']['align_seconds']} s")
    if not args.quick:
        print(report(run.results))
        if args.readme:
            replace_section(args.readme, BEGIN, END,
                            f"Measured by `python -m benchmarks.alignment --demo-dir DEMO --readme "
                            f"{args.readme}` ({run.meta['date'][:10]}, {run.meta['machine']['cpu']}, "
                            f"{run.meta['machine']['cores']} cores, load average "
                            f"{run.meta['loadavg_start'][0]} at the start):"
                            f"\n\n{report(run.results)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
