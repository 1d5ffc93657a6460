"""``eggesture ablate TABLE``: the paper's ablations (Tables 3–7, Figs. 2 and 7) on your data.

Each table is a list of rows; a row is a name and the config overrides that make it. Every
(row, seed) is trained with :func:`eggesture.recipes.train.train` and evaluated with
:func:`eggesture.recipes.evaluate.evaluate`; its results go to ``eval.json`` beside the run.

**Shared runs.** A run folder is keyed by the row's *resolved* config (the loaded
:class:`~eggesture.config.Config` with the seed, the output folder and the display switches
taken out, hashed): ``OUT/runs/<hash>/seed<k>/``, with ``OUT/runs/<hash>/run.json`` naming the
overrides and the (table, row) pairs that use it. The same training (EGGesture appears in six
tables, the vanilla baseline in four) is therefore trained once and serves every table.

**Resumable, and several processes at once.** A finished (row, seed) has its ``eval.json`` and
is read back; an interrupted training resumes from its checkpoint. A process claims a (row, seed)
by creating ``.lock`` in its folder atomically (``O_CREAT | O_EXCL``, holding ``host pid``);
other processes skip it and come back to it at the end, waiting (polling) for its ``eval.json``.
A lock whose process is dead is stale and taken over. So ``eggesture ablate all`` started twice
on the same OUT uses two cores.

The table (``OUT/<table>.md`` and ``.json``) reports, over seeds, the mean and its 95 %
interval of FGD, beat alignment, L1 diversity, codebook utilisation, the oracle FGD (the VQ-VAE
decoding the ground truth's own codes), semantic-gesture recall (all and tail classes) and
gesture precision — a Student-t interval over seeds, and for recall and precision a bootstrap
over the held-out events (and seeds) — with each row's training wall time and the networks'
effective full-rate epochs, and the paper's numbers in adjacent columns, labelled as the
paper's (they were measured on BEAT2, not on your data). Table ``methods`` is EGGesture against
the vanilla baseline alone: the benchmark of the paper's central claim.
"""

from __future__ import annotations

import contextlib
import json
import shlex
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from safetensors.torch import load_file

from ..bundle import load_bundle
from ..config import load_config
from ..data import beat2
from ..errors import ConfigError
from ..io import write_json, write_text
from ..paper import TABLES, Row
from ..reporting.results_page import record_invocation, write_page
from ..reporting.tables import plot_codebook_size, summarise, table_markdown
from ..runs import claim, mutex, note_use, release, run_key
from ..training.callbacks import snapshot_callback, train_clock
from ..training.schedule import effective_epochs
from .evaluate import evaluate
from .train import train


@dataclass
class Job:
    """One (row, seed) of one table, and the run folder that serves it."""

    table: str
    row: Row
    seed: int
    cfg: object
    run_dir: Path

    @property
    def label(self) -> str:
        return f"{self.table}: {self.row.name} seed {self.seed}"


def plan_table(table: str, data: str | Path, *, config: str = "synthetic", seeds: int = 1,
               out: str | Path = "ablations", budget: float = 1.0,
               overrides: list[str] = ()) -> list[Job]:
    """The (row, seed) jobs of ``table``, each with its config and its shared run folder."""
    if table not in TABLES:
        raise ConfigError(None, f"unknown table {table!r}; choose one of {', '.join(TABLES)}")
    if seeds < 1 or budget <= 0:
        raise ConfigError(None, "--seeds must be ≥ 1 and --budget > 0")
    base = load_config(config, [f"data.root={data}", *overrides])
    epochs = max(2, round(base.train.epochs * budget))
    jobs = []
    for row in TABLES[table][1]:
        for seed in range(seeds):
            cfg = load_config(config, [f"data.root={data}", *overrides, *row.overrides,
                                       f"train.seed={seed}", f"train.epochs={epochs}"])
            if cfg.train.vq_epochs is not None and cfg.train.vq_epochs >= cfg.train.epochs:
                cfg.train.vq_epochs = None  # the budget shrank the epochs below it: default half
            run_dir = Path(out) / "runs" / run_key(cfg) / f"seed{seed}"
            cfg.train.out = str(run_dir)
            jobs.append(Job(table, row, seed, cfg, run_dir))
    return jobs




# --- running jobs ----------------------------------------------------------------------------



def _finished(job: Job, settings: dict, snapshots: int = 0) -> dict | None:
    """The run's evaluation if it is complete: ``eval.json`` with these settings and, when
    ``snapshots`` are wanted, every snapshot evaluated."""
    path = job.run_dir / "eval.json"
    if not path.is_file():
        return None
    res = json.loads(path.read_text())
    if res.get("eval_settings") != settings:
        return None
    if snapshots and _missing_snapshots(job, settings, snapshots):
        return None
    return res


def snapshot_epochs(epochs: int, n: int) -> list[int]:
    """The epochs (1-based, finished) after which a run with ``n`` snapshots keeps its weights:
    evenly spaced, the last one the end of training (the run's bundle)."""
    return sorted({max(1, round(epochs * i / n)) for i in range(1, n + 1)}) if n else []






def _missing_snapshots(job: Job, settings: dict, n: int) -> list[int]:
    path = job.run_dir / "snapshots.json"
    have = json.loads(path.read_text()) if path.is_file() else {}
    if have.get("eval_settings") != settings:
        have = {}
    return [e for e in snapshot_epochs(job.cfg.train.epochs, n)[:-1]
            if str(e) not in have.get("epochs", {})
            and (job.run_dir / "snapshots" / f"epoch{e:04d}.safetensors").is_file()]


def _evaluate_snapshots(job: Job, data, settings: dict, n: int, final: dict, say) -> None:
    """FGD and utilisation of each kept snapshot on the held-out split, into
    ``snapshots.json`` (the last epoch is the run's own evaluation)."""
    path = job.run_dir / "snapshots.json"
    have = json.loads(path.read_text()) if path.is_file() else {}
    if have.get("eval_settings") != settings:
        have = {"eval_settings": settings, "epochs": {}}
    for e in _missing_snapshots(job, settings, n):
        say(f"{job.label}: evaluating the snapshot of epoch {e}")
        bundle = load_bundle(job.run_dir / "bundle")
        tensors = load_file(str(job.run_dir / "snapshots" / f"epoch{e:04d}.safetensors"))
        for name in ("vqvae", "classifier"):
            getattr(bundle, name).load_state_dict(
                {k[len(name) + 1:]: v for k, v in tensors.items() if k.startswith(name + ".")})
        res = evaluate(bundle, data, split=settings["split"]).to_dict()
        have["epochs"][str(e)] = {"fgd": res.get("fgd"),
                                  "codebook_utilization": res.get("codebook_utilization")}
        write_json(path, have)
    have["epochs"][str(job.cfg.train.epochs)] = {
        "fgd": final.get("fgd"), "codebook_utilization": final.get("codebook_utilization")}
    write_json(path, have)


@contextlib.contextmanager
def _first_evaluation(runs: Path) -> Iterator[None]:
    """The first evaluation in an OUT trains the dataset's evaluation nets (FGD autoencoder,
    gesture recogniser): one process at a time until it has, so that every run is measured
    with the same nets."""
    ready = runs / ".evaluation-nets-ready"
    if ready.is_file():
        yield
        return
    with mutex(runs / ".evaluation-nets.lock"):
        yield
        ready.touch()


def _train_and_evaluate(job: Job, data, settings: dict, say, snapshots: int = 0) -> dict:
    """Train the run (unless its bundle exists), evaluate it, then its snapshots."""
    bundle, timing = job.run_dir / "bundle", job.run_dir / "train.json"
    if not bundle.is_dir():  # the bundle is written at the end of training: it is finished
        say(f"{job.label}: training {job.cfg.train.epochs} epochs in {job.run_dir}")
        clock = train_clock(timing)
        callbacks = [clock] + ([snapshot_callback(
            job.run_dir, snapshot_epochs(job.cfg.train.epochs, snapshots)[:-1])]
            if snapshots else [])
        train(job.cfg, callbacks=callbacks)
        clock.write(finished=True)
    res = _finished(job, settings)
    if res is None:
        say(f"{job.label}: evaluating")
        t0 = time.perf_counter()
        with _first_evaluation(job.run_dir.parent.parent):
            res = evaluate(bundle, data, split=settings["split"], fgd_model=settings["fgd_model"],
                           train_missing=True,
                           protocol="emage" if beat2.detect(Path(data)) else "ours").to_dict()
        res.pop("codebook", None)  # per-code counts are large; kept in the run's own eval
        res["train_seconds"] = (json.loads(timing.read_text())["train_seconds"]
                                if timing.is_file() else None)
        res["eval_seconds"] = round(time.perf_counter() - t0, 1)
        res["effective_epochs"] = effective_epochs(job.cfg)
        res["eval_settings"] = settings
        write_json(job.run_dir / "eval.json", res)
    if snapshots:
        _evaluate_snapshots(job, data, settings, snapshots, res, say)
    return res


#: The tables whose runs keep snapshots for FGD over training (Fig. 6).
SNAPSHOT_TABLES = ("methods",)


def run_jobs(jobs: list[Job], data: str | Path, *, split: list[str] | None = None,
             fgd_model: str | Path | None = None, snapshots: int = 0,
             progress: Callable[[str], None] | None = None,
             after_each: Callable[[], None] | None = None,
             poll_s: float = 10.0) -> dict[Path, dict]:
    """Train and evaluate each distinct run folder of ``jobs`` once; the evaluations by folder.

    A folder another process holds is skipped and waited for at the end (polling every
    ``poll_s`` seconds; taken over if its process dies). The runs of :data:`SNAPSHOT_TABLES`
    keep ``snapshots`` evenly spaced snapshots, each evaluated after training (0: none).
    ``after_each`` is called after each run this process trains or evaluates."""
    say = progress or (lambda m: None)
    settings = {"split": split, "fgd_model": None if fgd_model is None else str(fgd_model)}
    done: dict[Path, dict] = {}
    firsts: dict[Path, Job] = {}  # the first job of each folder, in the order of the jobs
    for job in jobs:
        firsts.setdefault(job.run_dir, job)
        note_use(job.run_dir, job.row.overrides, {"table": job.table, "row": job.row.name})
    snap = {j.run_dir for j in jobs if j.table in SNAPSHOT_TABLES}

    def attempt(job: Job) -> dict | None:
        n = snapshots if job.run_dir in snap else 0
        res = _finished(job, settings, n)
        if res is not None:
            return res
        if not claim(job.run_dir):
            return None
        try:  # finished between our look and our claim, or ours to finish
            res = _finished(job, settings, n) or _train_and_evaluate(job, data, settings, say, n)
        finally:
            release(job.run_dir)
        if after_each:
            after_each()
        return res

    deferred = []
    for job in firsts.values():
        res = attempt(job)
        if res is None:
            say(f"{job.label}: another process is running it; coming back to it at the end")
            deferred.append(job)
        else:
            done[job.run_dir] = res
    for job in deferred:
        say(f"{job.label}: waiting for the process running it")
        while (res := attempt(job)) is None:
            time.sleep(poll_s)
        done[job.run_dir] = res
    return done


def run_table(table: str, data: str | Path, *, config: str = "synthetic", seeds: int = 1,
              out: str | Path = "ablations", budget: float = 1.0, overrides: list[str] = (),
              split: list[str] | None = None, fgd_model: str | Path | None = None,
              snapshots: int = 0, progress: Callable[[str], None] | None = None) -> dict:
    """Train and evaluate every row × seed of ``table`` (resumable, shared); write the table.

    ``split``: the held-out splits evaluated (default: the config's test splits). Every row is
    also scored with the EMAGE protocol (BC, L1div; its FGD with ``fgd_model``, EMAGE's
    ``AESKConv_240_100.bin``) when the dataset is in BEAT2's layout."""
    jobs = plan_table(table, data, config=config, seeds=seeds, out=out, budget=budget,
                      overrides=overrides)
    done = run_jobs(jobs, data, split=split, fgd_model=fgd_model, snapshots=snapshots,
                    progress=progress)
    return write_table(table, jobs, done, out=out, data=data, config=config, seeds=seeds,
                       budget=budget, overrides=overrides, split=split)


def run_all(data: str | Path, *, config: str = "synthetic", seeds: int = 1,
            out: str | Path = "ablations", budget: float = 1.0, overrides: list[str] = (),
            split: list[str] | None = None, fgd_model: str | Path | None = None,
            tables: list[str] | None = None, snapshots: int = 4, page: str | Path | None = None,
            command: str | None = None,
            progress: Callable[[str], None] | None = None) -> dict[str, dict]:
    """Every table (in the order of :data:`TABLES`), sharing runs: all jobs are claimed first,
    then waited for, then each table is written, then the results page (``OUT/results.md``,
    and ``page`` when given: :func:`eggesture.reporting.results_page.write_page`). ``command``:
    the command line, for the page's header. The summaries by table."""
    tables = list(TABLES) if tables is None else tables
    kw = {"config": config, "seeds": seeds, "out": out, "budget": budget, "overrides": overrides}
    plans = {t: plan_table(t, data, **kw) for t in tables}
    started = time.time()
    command = command or (f"eggesture ablate all --data {data} --config {config} --seeds {seeds} "
                          f"--budget {budget:g} --out {out}"
                          + "".join(f" --split {s}" for s in split or [])
                          + "".join(f" {o}" for o in overrides))
    info = {"command": command, "data": str(data), "seeds": seeds, "budget": budget}
    Path(out).mkdir(parents=True, exist_ok=True)
    record_invocation(Path(out), started=started, finished=None, **info)
    settings = {"split": split, "fgd_model": None if fgd_model is None else str(fgd_model)}
    tables_written: set[str] = set()

    def after_each() -> None:
        # Each table as soon as all its runs are finished (by any process), and the page with
        # it: a run stopped after hours still leaves its finished tables on the page.
        record_invocation(Path(out), started=started, finished=time.time(), **info)
        ready = {t: _finished_runs(plans[t], settings, snapshots) for t in tables
                 if t not in tables_written}
        ready = {t: d for t, d in ready.items() if d is not None}
        for t, d in ready.items():
            write_table(t, plans[t], d, data=data, split=split, **kw)
            tables_written.add(t)
        if ready:
            write_page(out, page)

    done = run_jobs([j for t in tables for j in plans[t]], data, split=split,
                    fgd_model=fgd_model, snapshots=snapshots, progress=progress,
                    after_each=after_each)
    summaries = {t: write_table(t, plans[t], done, data=data, split=split, **kw) for t in tables}
    record_invocation(Path(out), started=started, finished=time.time(), **info)
    written = write_page(out, page)
    if progress:
        progress(f"results page: {written}")
    return summaries


def plan_commands(table: str, data: str | Path, *, config: str = "synthetic", seeds: int = 1,
                  out: str | Path = "ablations", budget: float = 1.0, overrides: list[str] = (),
                  split: list[str] | None = None, fgd_model: str | Path | None = None,
                  snapshots: int = 4) -> list[str]:
    """One self-contained ``eggesture ablate … --run runs/<key>/seed<k>`` command per distinct
    run of ``table`` (a table or ``all``), for a cluster's scheduler (a job array, GNU parallel):
    each trains and evaluates its run, then writes every table whose runs are all finished
    (:func:`run_one`); ``eggesture ablate page --out OUT`` then collects them. The first
    command trains the dataset's evaluation nets that every later one shares: run it first."""
    tables = list(TABLES) if table == "all" else [table]
    kw = {"config": config, "seeds": seeds, "out": out, "budget": budget, "overrides": overrides}
    runs = dict.fromkeys(j.run_dir for t in tables for j in plan_table(t, data, **kw))
    base = ["eggesture", "ablate", table, "--data", str(data), "--config", config,
            "--seeds", str(seeds), "--budget", f"{budget:g}", "--out", str(out),
            *(a for s in split or [] for a in ("--split", s)),
            *(["--fgd-model", str(fgd_model)] if fgd_model else []), "--snapshots", str(snapshots)]
    return [shlex.join([*base, "--run", d.relative_to(out).as_posix(), *overrides]) for d in runs]


def run_one(table: str, run: str, data: str | Path, *, config: str = "synthetic", seeds: int = 1,
            out: str | Path = "ablations", budget: float = 1.0, overrides: list[str] = (),
            split: list[str] | None = None, fgd_model: str | Path | None = None,
            snapshots: int = 4, progress: Callable[[str], None] | None = None) -> list[str]:
    """Train and evaluate the one run ``run`` (``runs/<key>/seed<k>``, as
    :func:`plan_commands` names it) of ``table`` (a table or ``all``), then write every table
    of it whose runs are all finished; the names of the tables written."""
    tables = list(TABLES) if table == "all" else [table]
    kw = {"config": config, "seeds": seeds, "out": out, "budget": budget, "overrides": overrides}
    plans = {t: plan_table(t, data, **kw) for t in tables}
    jobs = [j for t in tables for j in plans[t] if j.run_dir == Path(out) / run]
    if not jobs:
        raise ConfigError(None, f"--run {run}: not a run of {table} with these arguments "
                                "(`eggesture ablate plan` lists them)")
    run_jobs(jobs, data, split=split, fgd_model=fgd_model, snapshots=snapshots, progress=progress)
    settings = {"split": split, "fgd_model": None if fgd_model is None else str(fgd_model)}
    written = []
    for t in tables:
        if (done := _finished_runs(plans[t], settings, snapshots)) is not None:
            write_table(t, plans[t], done, data=data, split=split, **kw)
            written.append(t)
    return written


def _finished_runs(jobs: list[Job], settings: dict, snapshots: int) -> dict[Path, dict] | None:
    """The evaluations of ``jobs`` by run folder if every one is finished, else None."""
    done = {}
    for job in jobs:
        res = _finished(job, settings, snapshots if job.table in SNAPSHOT_TABLES else 0)
        if res is None:
            return None
        done[job.run_dir] = res
    return done


def write_table(table: str, jobs: list[Job], done: dict[Path, dict], *, out: str | Path,
                data: str | Path, config: str, seeds: int, budget: float,
                overrides: list[str] = (), split: list[str] | None = None) -> dict:
    """Summarise the evaluations of ``table``'s jobs: ``OUT/<table>.json`` and ``.md``."""
    title, rows = TABLES[table]
    out = Path(out)
    results = {row.name: [done[j.run_dir] for j in jobs if j.row.name == row.name] for row in rows}
    # The run folder relative to OUT, so the summary reads the same from any working directory.
    runs = {row.name: next(j.run_dir.parent for j in jobs if j.row.name == row.name)
            .relative_to(out).as_posix() for row in rows}
    summary = summarise(title, rows, results, runs, table=table, data=str(data), config=config,
                        seeds=seeds, budget=budget, overrides=list(overrides), split=split)
    write_json(out / f"{table}.json", summary)
    write_text(out / f"{table}.md", table_markdown(summary))
    if table == "codebook-size":
        plot_codebook_size(summary, out / "codebook_size.png")
    return summary






