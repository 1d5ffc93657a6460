"""``eggesture data stats ROOT``: what a dataset folder holds, and what is wrong with it."""

from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("data", help="inspect a dataset folder")
    dsub = p.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    s = dsub.add_parser(
        "stats", help="sequences, splits, minutes, frames, joints, vocabulary and problems",
        description="Print what a dataset folder (BEAT2 or Trinity/GENEA layout) holds. Files "
                    "that cannot be used are listed under 'problems' with the reason; the exit "
                    "code is 1 when there are problems.",
    )
    s.add_argument("root", help="dataset folder")
    s.add_argument("--speaker", type=int, action="append", metavar="ID",
                   help="only this speaker id (repeatable)")
    s.add_argument("--json", action="store_true", help="print JSON instead of a table")
    s.set_defaults(handler=run_stats)


def run_stats(args: argparse.Namespace) -> int:
    from ..data.datasets import dataset_stats

    stats = dataset_stats(args.root, speakers=args.speaker)
    if args.json:
        print(json.dumps(stats, indent=2))
    else:
        print(f"dataset     {stats['dataset']}  ({stats['root']})")
        print(f"sequences   {stats['sequences']} usable of {stats['listed']} listed")
        print("splits      " + ", ".join(f"{k} {v}" for k, v in sorted(stats["splits"].items())))
        print(f"duration    {stats['minutes']:.2f} min  ({stats['frames']} frames at {stats['fps']} fps)")
        print(f"joints      {stats['joints']}")
        print(f"vocabulary  {stats['vocabulary']} distinct words")
        if stats.get("motion"):
            m = stats["motion"]
            print("arm motion  " + ", ".join(f"{k} {v['value']:.4g} (×{v['ratio']:.2f})"
                                             for k, v in m.items())
                  + "  — × the real BEAT2 sample's (eggesture.metrics.motion_stats)")
        print(f"problems    {len(stats['problems'])}")
        for p in stats["problems"]:
            print(f"  {p['file']}: {p['problem']}")
    return 1 if stats["problems"] else 0
