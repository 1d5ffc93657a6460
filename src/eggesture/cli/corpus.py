"""``eggesture corpus synth OUT``: build the synthetic long-tailed co-speech corpus (BEAT2
layout)."""

from __future__ import annotations

import argparse
import sys
import time


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("corpus", help="build a dataset folder (synthetic long-tailed speaker)")
    csub = p.add_subparsers(dest="corpus_command", metavar="ACTION", required=True)
    s = csub.add_parser(
        "synth", help="synthesise a co-speech gesture corpus with ground truth",
        description="Synthesise speech (espeak-ng) and SMPL-X motion with beat gestures and "
                    "semantic gestures whose keywords follow a Zipf law, written in BEAT2 "
                    "layout (smplxflame_30/, wave16k/, textgrid/, sem/, train_test_split.csv) "
                    "plus labels/ (per-frame class ids) and corpus.json. The same arguments "
                    "give byte-identical files.",
    )
    s.add_argument("out", help="output folder (new, empty, or a previous synthetic corpus)")
    s.add_argument("--minutes", type=float, default=10.0,
                   help="minutes of speech, in sequences of about one minute (default 10)")
    s.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    s.add_argument("--classes", type=int, default=24,
                   help="semantic gesture classes, 1–28 (default 24)")
    s.add_argument("--zipf", type=float, default=1.1,
                   help="Zipf exponent of the keyword frequencies (default 1.1)")
    s.add_argument("--speakers", type=int, default=1,
                   help="speakers with their own voice and gesture style, 1–10 (default 1)")
    s.add_argument("--held-out", type=float, default=0.2,
                   help="share of the sequences held out, half val and half test (default 0.2)")
    s.add_argument("--min-train-events", type=int, default=1,
                   help="every class at least this many times in the training split; the extra "
                        "keywords lengthen the training sequences (default 1)")
    s.add_argument("--workers", type=int, default=None,
                   help="worker processes (default: up to 2); the output does not depend on it")
    s.add_argument("--force", action="store_true",
                   help="write into a non-empty folder that holds no previous corpus "
                        "(nothing in it is deleted)")
    s.set_defaults(handler=run_synth)


def run_synth(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from ..data.synthetic import synthesize_corpus
    from ..errors import DataError

    if args.workers is not None and args.workers < 1:
        raise DataError(None, f"--workers must be at least 1, got {args.workers}")
    start = time.perf_counter()
    bar = None

    def progress(done: int, total: int, seq_id: str) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, unit="seq", desc="synthesising", file=sys.stderr)
        if done:
            bar.set_postfix_str(seq_id)
            bar.update(done - bar.n)

    try:
        meta = synthesize_corpus(
            args.out, minutes=args.minutes, seed=args.seed, classes=args.classes,
            zipf=args.zipf, speakers=args.speakers, held_out=args.held_out,
            min_train_events=args.min_train_events, progress=progress, workers=args.workers,
            force=args.force)
    finally:
        if bar is not None:
            bar.close()
    elapsed = time.perf_counter() - start
    sem = meta["counts"]["semantic"]
    per_class = sem["per_class"]
    names = list(per_class)
    splits = {}
    for s in meta["sequences"]:
        splits[s["split"]] = splits.get(s["split"], 0) + 1
    tail = meta["long_tail"]
    print(f"corpus      {args.out}  ({elapsed:.1f} s)")
    print(f"sequences   {len(meta['sequences'])}  ("
          + ", ".join(f"{k} {v}" for k, v in splits.items()) + f"), {meta['minutes']:.2f} min")
    print(f"semantic    {sem['total']} gestures of {len(names)} classes; beats "
          f"{meta['counts']['beats']['total']} ({meta['counts']['beat_share_of_strokes']:.0%} "
          "of strokes)")
    print(f"long tail   {names[0]} {per_class[names[0]]['total']} … {names[-1]} "
          f"{per_class[names[-1]]['total']} (×{tail['head_to_tail_ratio']:g}); fitted Zipf "
          f"exponent {tail['zipf_exponent_fit']:g}; rarest class in train "
          f"{tail['rarest_in_train']}")
    held = meta["held_out"]
    print(f"held out    {held['events']} gestures in val + test, {held['tail_events']} of them of "
          f"the {held['tail_classes']} tail classes")
    cal = meta["motion_calibration"]["statistics"]
    off = [k for k, v in cal.items() if not v["within"]]
    print("arm motion  " + ", ".join(f"{k} ×{v['ratio']:.2f}" for k, v in cal.items())
          + " of the real BEAT2 sample's; "
          + ("all within ±25 %" if not off else f"outside ±25 %: {', '.join(off)}"))
    return 0
