"""``eggesture ablate TABLE|all --data ROOT``: the paper's Tables 3–7 and Figs. 2/7 on your data."""

from __future__ import annotations

import argparse
import sys

from ..paper import TABLES


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "ablate", help="reproduce the paper's ablation tables side by side with its numbers",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Train and evaluate every row of one of the paper's ablations: methods "
                    "(EGGesture vs the vanilla baseline),\nreweighting (Table 3), reweight "
                    "(Table 4), joint-gumbel (Table 5), text-encoder (Table 6), architecture "
                    "(Table 7),\ncodebook-size (Figs. 2 and 7); or `all` of them in that order. "
                    "Writes OUT/TABLE.md and OUT/TABLE.json (mean and\n95 % interval over seeds "
                    "— bootstrap over the held-out events for recall and precision — with the "
                    "paper's\nnumbers in adjacent columns) and, for codebook-size, a plot.\n\n"
                    "Runs are shared: a row with the same resolved config in several tables "
                    "(EGGesture, the vanilla baseline)\nis trained once, in OUT/runs/<config "
                    "hash>/seed<k>/. Interrupted ablations continue where they stopped when\n"
                    "run again with the same arguments.\n\n"
                    "Several processes: start the same command again (e.g. in a second "
                    "terminal) on the same OUT; each claims\nruns with a lock file, skips the "
                    "ones another process holds and waits for them at the end. On a 2-core\n"
                    "machine, two processes of one thread each:\n\n"
                    "  export OMP_NUM_THREADS=1\n"
                    "  eggesture ablate all --data D --seeds 3 --budget B --out OUT 2> OUT.1.log &\n"
                    "  eggesture ablate all --data D --seeds 3 --budget B --out OUT 2> OUT.2.log &\n"
                    "  wait\n\nThe results page (claims with verdicts, tables, plots) goes to "
                    "OUT/results.md; `eggesture ablate page --out OUT\n--page docs/results.md` "
                    "rewrites it from OUT alone.\n\n"
                    "A cluster: `eggesture ablate plan TABLE|all --data D --seeds 3 --budget B "
                    "--out OUT` prints one\ncommand per run; run the first alone (it trains the "
                    "evaluation nets the others share), the rest\nin any order or in parallel "
                    "(a job array, GNU parallel), then `eggesture ablate page --out OUT`.",
    )
    p.add_argument("table", choices=[*TABLES, "all", "page", "plan"],
                   help="a table, all of them (then the results page), page: rewrite the "
                        "results page from OUT alone, or plan TABLE|all: print one command per "
                        "run (for a cluster's scheduler)")
    p.add_argument("--data", metavar="ROOT", help="dataset folder (not for page)")
    p.add_argument("--config", default="synthetic", help="base config (default: synthetic)")
    p.add_argument("--seeds", type=int, default=1, help="seeds per row (default 1)")
    p.add_argument("--out", default="ablations", help="output folder (default: ablations)")
    p.add_argument("--split", action="append", default=None, metavar="NAME",
                   help="held-out split to evaluate on; repeat for several (default: the "
                        "config's test splits)")
    p.add_argument("--budget", type=float, default=1.0,
                   help="scale the config's epochs (e.g. 0.25 on a CPU; at least 2 epochs)")
    p.add_argument("--fgd-model", metavar="FILE", default=None,
                   help="EMAGE's AESKConv_240_100.bin: adds the EMAGE protocol's FGD column (its BC "
                        "and L1div columns are always there on BEAT2-layout data)")
    p.add_argument("--snapshots", type=int, default=4, metavar="N",
                   help="the methods table's runs keep N evenly spaced snapshots (the last one "
                        "the end of training), each evaluated for FGD over training (Fig. 6); "
                        "0: none (default 4)")
    p.add_argument("--page", metavar="FILE", default=None,
                   help="all, page: write the results page here too (e.g. docs/results.md; its "
                        "plots go to images/ablation_*.png beside it); it is always written to "
                        "OUT/results.md")
    p.add_argument("--run", metavar="runs/KEY/seedK", default=None,
                   help="train and evaluate only this run (a line of `eggesture ablate plan`), "
                        "then write the tables whose runs are all finished")
    p.add_argument("--readme", metavar="FILE", default=None,
                   help="page: also rewrite this README's summary of the claims (between "
                        "<!-- ablation:begin --> and <!-- ablation:end -->), linking the page")
    p.add_argument("overrides", nargs="*", metavar="key=value", help="config overrides for every row")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..errors import ConfigError
    from ..recipes.ablate import plan_commands, run_all, run_one, run_table
    from ..reporting.tables import table_markdown

    if args.table == "page":
        from ..reporting.results_page import check_readme, write_page, write_readme_summary

        if args.readme:  # a README it cannot write into is refused before the page is written
            check_readme(args.readme)
        page = write_page(args.out, args.page)
        print(page)
        if args.readme:
            print(write_readme_summary(args.out, page, args.readme))
        return 0
    if args.readme:
        raise ConfigError(None, "--readme is for `eggesture ablate page` (after the run)")
    if not args.data:
        raise ConfigError(None, "--data ROOT is needed (except for `eggesture ablate page`)")
    kw = {"config": args.config, "seeds": args.seeds, "out": args.out, "budget": args.budget,
          "overrides": args.overrides, "split": args.split, "fgd_model": args.fgd_model,
          "snapshots": args.snapshots}
    if args.table == "plan":
        # `plan TABLE|all`: the table to plan comes first among the positional words.
        if not args.overrides or args.overrides[0] not in (*TABLES, "all"):
            raise ConfigError(None, f"plan needs a table first: eggesture ablate plan "
                                    f"{{{','.join(TABLES)},all}} --data ROOT …")
        table, kw["overrides"] = args.overrides[0], args.overrides[1:]
        print("\n".join(plan_commands(table, args.data, **kw)))
        return 0
    kw["progress"] = lambda m: print(m, file=sys.stderr, flush=True)
    if args.run:
        written = run_one(args.table, args.run, args.data, **kw)
        print(f"tables written: {', '.join(written)}" if written else "tables written: none yet")
        return 0
    if args.table == "all":
        summaries = run_all(args.data, page=args.page,
                            command="eggesture ablate " + " ".join(sys.argv[2:]), **kw)
        print("\n".join(table_markdown(s) for s in summaries.values()))
    else:
        print(table_markdown(run_table(args.table, args.data, **kw)))
    return 0
