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
import hashlib
import json
import math
import os
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigError
from ..io import write_json, write_text

METRICS = ("fgd", "beat_alignment", "l1_diversity", "codebook_utilization", "oracle_fgd",
           "token_accuracy", "token_accuracy_many", "token_accuracy_medium", "token_accuracy_few",
           "token_histogram_distance", "token_motion_error", "recall", "tail_recall", "precision",
           "emage_fgd", "emage_bc", "emage_l1div")
HEADERS = {"fgd": "FGD ↓", "beat_alignment": "BA ↑", "l1_diversity": "L1Div ↑",
           "codebook_utilization": "utilisation", "oracle_fgd": "oracle FGD ↓",
           "token_accuracy": "classifier token acc. ↑",
           "token_accuracy_many": "token acc. many ↑", "token_accuracy_medium": "token acc. medium ↑",
           "token_accuracy_few": "token acc. few ↑",
           "token_histogram_distance": "token histogram TV ↓",
           "token_motion_error": "token motion error ° ↓",
           "recall": "recall", "tail_recall": "tail recall", "precision": "gesture precision",
           "emage_fgd": "EMAGE FGD ↓", "emage_bc": "EMAGE BC ↑", "emage_l1div": "EMAGE L1div ↑ (m)"}
#: Columns shown only where measured: absent from tables stored before them, and EMAGE's FGD
#: without its checkpoint.
OPTIONAL_METRICS = frozenset({"token_accuracy", "token_accuracy_many", "token_accuracy_medium",
                              "token_accuracy_few", "token_histogram_distance", "token_motion_error",
                              "emage_fgd", "emage_bc", "emage_l1div"})
#: Rates over events: their interval is a bootstrap over the events (and seeds).
EVENT_RATES = {"recall": "all", "tail_recall": "tail", "precision": "precision"}


@dataclass(frozen=True)
class Row:
    """One line of a table: a name, config overrides, and the paper's numbers if it has them."""

    name: str
    overrides: tuple[str, ...]
    paper: dict = field(default_factory=dict)


def _p(fgd, ba, l1):
    return {"fgd": fgd, "beat_alignment": ba, "l1_diversity": l1}


#: The paper's Table 1, BEAT column (BEAT2 speaker 2): the vanilla baseline's row and EGGesture's.
BASELINE = _p(10.38, 0.4124, 542.9)
FULL = _p(5.74, 0.4117, 617.2)

#: Table 3's strategies weight the loss: eq. 10 as the paper writes it (on the vanilla codebook,
#: which has no eq. 8 average, its weights come from the hard code usage).
WEIGHTED = ("train.cls_loss=paper",)

TABLES: dict[str, tuple[str, list[Row]]] = {
    "methods": ("EGGesture against the vanilla VQ-VAE baseline (the paper's Table 1 rows)", [
        Row("EGGesture", ("train.method=eggesture",), FULL),
        Row("vanilla VQ-VAE", ("train.method=vanilla",), BASELINE),
    ]),
    "reweighting": ("Table 3: reweighting strategies on the vanilla codebook vs EGGesture", [
        Row("baseline", ("train.method=vanilla",), BASELINE),
        Row("log x", ("train.method=reweight_only", "train.reweight=log", *WEIGHTED),
            _p(10.19, 0.4107, 552.4)),
        Row("sqrt x", ("train.method=reweight_only", "train.reweight=sqrt", *WEIGHTED),
            _p(9.82, 0.4064, 559.6)),
        Row("x (linear)", ("train.method=reweight_only", "train.reweight=linear", *WEIGHTED),
            _p(9.48, 0.4087, 573.4)),
        Row("x^2", ("train.method=reweight_only", "train.reweight=square", *WEIGHTED),
            _p(11.72, 0.3769, 531.1)),
        Row("e^x", ("train.method=reweight_only", "train.reweight=exp", *WEIGHTED), _p(13.64, 0.3319, 487.6)),
        Row("EGGesture", ("train.method=eggesture",), FULL),
    ]),
    "reweight": ("Table 4: classification reweighting", [
        Row("EGGesture", ("train.method=eggesture",), FULL),
        Row("w/o classification reweighting", ("train.method=no_reweight",), _p(8.11, 0.4037, 571.0)),
    ]),
    "joint-gumbel": ("Table 5: joint training and Gumbel softmax", [
        Row("full EGGesture", ("train.method=eggesture",), FULL),
        Row("w/o joint training", ("train.method=no_joint",), _p(22.64, 0.3093, 461.3)),
        Row("w/o gumbel softmax", ("train.method=no_gumbel",), _p(7.12, 0.4130, 592.4)),
    ]),
    "text-encoder": ("Table 6: text encoders (ours: learned embedding ≈ the paper's custom "
                     "encoder without pretraining; MiniLM ≈ its BERT)", [
        Row("learned embedding", ("model.text_encoder=learned",), _p(5.77, 0.4131, 610.8)),
        Row("MiniLM frozen", ("model.text_encoder=minilm",), _p(6.78, 0.4110, 589.9)),
        Row("MiniLM fine-tuned", ("model.text_encoder=minilm-ft",), FULL),
    ]),
    "architecture": ("Table 7: transformer vs LSTM", [
        Row("baseline transformer", ("train.method=vanilla", "model.classifier=transformer"), BASELINE),
        Row("EGGesture transformer", ("train.method=eggesture", "model.classifier=transformer"), FULL),
        Row("baseline LSTM", ("train.method=vanilla", "model.classifier=lstm"), _p(12.77, 0.4093, 533.3)),
        Row("EGGesture LSTM", ("train.method=eggesture", "model.classifier=lstm"),
            _p(7.16, 0.4089, 603.1)),
    ]),
    "codebook-size": ("Fig. 2 / Fig. 7: codebook size (paper: vanilla utilisation plateaus, 28% at "
                      "K=512 in Fig. 1; EGGesture's FGD improves with K; ours: the rows without "
                      "the reweighting tell the codebook's size from eq. 10's weights)", [
        *[Row(f"vanilla K={k}", ("train.method=vanilla", f"model.codebook_size={k}"),
              {"codebook_utilization": 0.28} if k == 512 else {}) for k in (32, 128, 512, 2048, 10240)],
        *[Row(f"EGGesture K={k}", ("train.method=eggesture", f"model.codebook_size={k}"))
          for k in (512, 2048, 10240)],
        # The decomposition of Fig. 7: the entropy-guided codebook without the classification
        # reweighting, to tell the codebook's size from the reweighting over its used codes.
        *[Row(f"EGGesture w/o reweighting K={k}",
              ("train.method=no_reweight", f"model.codebook_size={k}")) for k in (512, 2048, 10240)],
    ]),
}


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name).strip("_").lower()


def _row_metrics(res: dict) -> dict:
    sr = res.get("semantic_recall") or {}
    em = res.get("emage_protocol") or {}
    tok = res.get("classifier_tokens") or {}
    by_freq = tok.get("accuracy_by_frequency") or {}
    return {"fgd": res.get("fgd"), "beat_alignment": res.get("beat_alignment"),
            "l1_diversity": res.get("l1_diversity"),
            "codebook_utilization": res.get("codebook_utilization"),
            "oracle_fgd": (res.get("oracle") or {}).get("fgd"),
            # The decomposition: the oracle is the VQ-VAE alone, this the classifier against
            # the ground truth's own codes.
            "token_accuracy": res.get("classifier_token_accuracy"),
            # Where a spreading classifier shows (eggesture.metrics.tokens).
            "token_accuracy_many": by_freq.get("many"), "token_accuracy_medium": by_freq.get("medium"),
            "token_accuracy_few": by_freq.get("few"),
            "token_histogram_distance": tok.get("histogram_distance"),
            "token_motion_error": tok.get("motion_error_deg"),
            "recall": sr.get("all"), "tail_recall": sr.get("tail"), "precision": sr.get("precision"),
            # The EMAGE protocol (evaluation.emage_protocol), raw values; its FGD only with the
            # AESKConv checkpoint (``fgd_model``).
            "emage_fgd": em.get("fgd_generated"), "emage_bc": em.get("bc_generated"),
            "emage_l1div": em.get("l1div_generated")}


def _cell_stats(metric: str, per_seed: list[dict], results: list[dict]) -> dict:
    """Mean, sample std and 95 % interval of one metric over a row's seeds."""
    from ..metrics.intervals import t_interval
    from ..metrics.recall import recall_intervals

    values = [m[metric] for m in per_seed]
    mean, std = _mean_std(values)
    outcomes = [(r.get("semantic_recall") or {}).get("outcomes") for r in results]
    if metric in EVENT_RATES and outcomes and all(outcomes):
        iv = recall_intervals(outcomes)[EVENT_RATES[metric]]
    else:
        iv = t_interval(values).to_dict()
    return {"mean": mean, "std": std, "low": iv["low"], "high": iv["high"],
            "interval": iv["method"]}


def _mean_std(values: list[float | None]) -> tuple[float | None, float | None]:
    v = [x for x in values if x is not None and math.isfinite(x)]
    if not v:
        return None, None
    m = sum(v) / len(v)
    # One value has no spread: std None (shown as the mean alone), not a made-up 0.
    return m, (math.sqrt(sum((x - m) ** 2 for x in v) / (len(v) - 1)) if len(v) > 1 else None)


#: Config keys that do not change what a run computes: left out of the key of its folder.
NOT_IN_KEY = {"train": ("seed", "out", "progress", "num_workers")}
LOCK = ".lock"
#: A lock file still empty this many seconds after it was made is stale (its writer died between
#: creating it and writing its pid).
EMPTY_LOCK_GRACE_S = 30.0


def run_key(cfg) -> str:
    """The short hash of a run's resolved config, less :data:`NOT_IN_KEY` (``data.root`` made
    absolute): equal for every row, in any table, that trains the same thing."""
    d = cfg.to_dict()
    for section, keys in NOT_IN_KEY.items():
        for k in keys:
            d[section].pop(k, None)
    d["data"]["root"] = os.path.abspath(str(d["data"]["root"]))
    return hashlib.sha256(json.dumps(d, sort_keys=True, default=str).encode()).hexdigest()[:12]


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
    from ..config import load_config

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


# --- claiming a run: one process trains it, the others wait for its eval.json -------------

def _me() -> str:
    return f"{socket.gethostname()} {os.getpid()}"


@contextlib.contextmanager
def _mutex(path: Path) -> Iterator[None]:
    """An exclusive ``flock`` on ``path`` (created if missing), held for the block."""
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _create_lock(lock: Path) -> bool:
    try:
        fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w") as f:
        f.write(_me() + "\n")
    return True


def lock_held(run_dir: Path) -> bool:
    """Whether another live process holds ``run_dir``'s lock. A lock whose pid is dead, or our
    own (left over from an earlier call in this process), or still empty after
    :data:`EMPTY_LOCK_GRACE_S`, is stale; a lock from another host is taken as held."""
    lock = run_dir / LOCK
    try:
        text = lock.read_text().strip()
        age = time.time() - lock.stat().st_mtime
    except FileNotFoundError:
        return False
    if not text:
        return age < EMPTY_LOCK_GRACE_S
    try:
        host, pid = text.split()
        pid = int(pid)
    except ValueError:
        return False
    if host != socket.gethostname():
        return True
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def claim(run_dir: Path) -> bool:
    """Claim ``run_dir`` for this process: True if we now hold its lock, False if another live
    process does. A stale lock is taken over (under a ``flock`` so two processes cannot both
    take it over)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    lock = run_dir / LOCK
    if _create_lock(lock):
        return True
    with _mutex(run_dir / ".takeover"):
        if lock_held(run_dir):
            return False
        with contextlib.suppress(FileNotFoundError):
            lock.unlink()
        return _create_lock(lock)


def release(run_dir: Path) -> None:
    """Remove ``run_dir``'s lock if it is ours."""
    lock = run_dir / LOCK
    with contextlib.suppress(FileNotFoundError):
        if lock.read_text().strip() == _me():
            lock.unlink()


# --- running jobs ----------------------------------------------------------------------------

def _note_use(job: Job) -> None:
    """Record in ``runs/<key>/run.json`` the overrides of the run and the rows that use it."""
    path = job.run_dir.parent / "run.json"
    use = {"table": job.table, "row": job.row.name}
    with _mutex(job.run_dir.parent / ".run.json.lock"):
        meta = json.loads(path.read_text()) if path.is_file() else {
            "overrides": list(job.row.overrides), "used_by": []}
        if use not in meta["used_by"]:
            meta["used_by"].append(use)
            write_json(path, meta)


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


def _snapshot_callback(run_dir: Path, epochs: list[int]):
    """A Lightning callback writing the networks' weights (safetensors) to
    ``run_dir/snapshots/epoch<e>.safetensors`` after each epoch of ``epochs`` (paper Fig. 6:
    FGD over training). Kept outside the config so that it does not change the run's key."""
    import lightning as L
    from safetensors.torch import save_file

    from ..io import atomic_path

    class Snapshots(L.Callback):
        def on_train_epoch_end(self, trainer, module):
            e = trainer.current_epoch + 1
            if e not in epochs or not trainer.is_global_zero:
                return
            tensors = {f"{name}.{k}": v.detach().cpu().contiguous()
                       for name in ("vqvae", "classifier")
                       for k, v in getattr(module, name).state_dict().items()}
            with atomic_path(run_dir / "snapshots" / f"epoch{e:04d}.safetensors") as tmp:
                save_file(tensors, str(tmp))

    return Snapshots()


def _train_clock(path: Path):
    """A Lightning callback keeping the run's training seconds in ``path`` (``train.json``)
    after every epoch, summed over resumes: a run stopped and resumed counts the time of each
    part up to its last finished epoch, not only the last part's."""
    import lightning as L

    before = 0.0
    if path.is_file():
        old = json.loads(path.read_text())
        before = 0.0 if old.get("finished", True) else float(old.get("train_seconds") or 0)

    class TrainClock(L.Callback):
        t0: float | None = None  # set when training starts

        def on_train_start(self, trainer, module):
            self.t0 = time.perf_counter()

        def on_train_epoch_end(self, trainer, module):
            if trainer.is_global_zero:
                self.write(finished=False)

        def write(self, finished: bool) -> None:
            spent = 0.0 if self.t0 is None else time.perf_counter() - self.t0
            write_json(path, {"train_seconds": round(before + spent, 1), "finished": finished})

    return TrainClock()


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
    from safetensors.torch import load_file

    from ..bundle import load_bundle
    from .evaluate import evaluate

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
    with _mutex(runs / ".evaluation-nets.lock"):
        yield
        ready.touch()


def _train_and_evaluate(job: Job, data, settings: dict, say, snapshots: int = 0) -> dict:
    """Train the run (unless its bundle exists), evaluate it, then its snapshots."""
    from ..data import beat2
    from ..training.schedule import effective_epochs
    from .evaluate import evaluate
    from .train import train

    bundle, timing = job.run_dir / "bundle", job.run_dir / "train.json"
    if not bundle.is_dir():  # the bundle is written at the end of training: it is finished
        say(f"{job.label}: training {job.cfg.train.epochs} epochs in {job.run_dir}")
        clock = _train_clock(timing)
        callbacks = [clock] + ([_snapshot_callback(
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
        _note_use(job)
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
    and ``page`` when given: :func:`eggesture.recipes.results_page.write_page`). ``command``:
    the command line, for the page's header. The summaries by table."""
    from .results_page import record_invocation, write_page

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
    summary = {"table": table, "title": title, "data": str(data), "config": config, "seeds": seeds,
               "budget": budget, "overrides": list(overrides), "split": split, "rows": []}
    for row in rows:
        per_seed = [_row_metrics(r) for r in results[row.name]]
        entry = {"name": row.name, "overrides": list(row.overrides), "paper": row.paper,
                 "runs": runs[row.name]}
        for k in METRICS:
            entry[k] = _cell_stats(k, per_seed, results[row.name])
        walls = [r.get("train_seconds") for r in results[row.name] if r.get("train_seconds")]
        entry["train_seconds"] = round(sum(walls) / len(walls), 1) if walls else None
        entry["effective_epochs"] = results[row.name][0].get("effective_epochs")
        summary["rows"].append(entry)
    write_json(out / f"{table}.json", summary)
    write_text(out / f"{table}.md", table_markdown(summary))
    if table == "codebook-size":
        plot_codebook_size(summary, out / "codebook_size.png")
    return summary


def relative_paths(command: str) -> str:
    """``command`` with absolute paths under the working directory written relative to it, so
    the page shows a command a reader can run from their own checkout."""
    here = os.getcwd().rstrip("/") + "/"
    return " ".join("." if w == here[:-1] else w[len(here):] if w.startswith(here) else w
                    for w in command.split(" "))


def table_markdown(summary: dict) -> str:
    """The table: measured mean and 95 % interval next to the paper's numbers."""
    def cell(v: dict, digits: int) -> str:
        if v["mean"] is None:
            return "–"
        m = f"{v['mean']:.{digits}f}"
        if v.get("low") is None:
            return m
        if str(v.get("interval", "")).startswith("t"):
            return f"{m} ± {(v['high'] - v['low']) / 2:.{digits}f}"
        return f"{m} [{v['low']:.{digits}f}, {v['high']:.{digits}f}]"

    digits = {"fgd": 3, "beat_alignment": 4, "l1_diversity": 3, "codebook_utilization": 3,
              "oracle_fgd": 3, "token_accuracy": 3, "token_accuracy_many": 3,
              "token_accuracy_medium": 3, "token_accuracy_few": 3, "token_histogram_distance": 3,
              "token_motion_error": 2, "recall": 3, "tail_recall": 3, "precision": 3,
              "emage_fgd": 4, "emage_bc": 4, "emage_l1div": 2}
    shown = [k for k in METRICS if k not in OPTIONAL_METRICS
             or any((r.get(k) or {}).get("mean") is not None for r in summary["rows"])]
    cols = ["row"]
    for k in shown:
        cols.append(HEADERS[k])
        if k in ("fgd", "beat_alignment", "l1_diversity"):
            cols.append(f"paper {HEADERS[k].split()[0]}")
    cols += ["train s", "full-rate epochs VQ-VAE / classifier"]
    n = summary["seeds"]
    split = summary.get("split")
    lines = [f"## {summary['title']}", "",
             f"Measured on `{relative_paths(summary['data'])}`"
             + (f" (split {' + '.join(split)})" if split else "")
             + f" with config `{summary['config']}` × budget {summary['budget']:g}, "
             + (f"mean over {n} seeds ± the half-width of its 95 % t interval"
                if n > 1 else "one seed (no spread over seeds can be given)")
             + "; recall and precision: the rate and its 95 % bootstrap interval over the "
             "held-out events" + (" and seeds" if n > 1 else "") + ". Columns marked "
             "*paper* are the paper's numbers on BEAT2 speaker 2 (a different dataset, FGD "
             "autoencoder and scale) — compare directions, not values.", "",
             "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in summary["rows"]:
        cells = [r["name"]]
        for k in shown:
            cells.append(cell(r[k], digits[k]))
            if k in ("fgd", "beat_alignment", "l1_diversity"):
                p = r["paper"].get(k)
                cells.append("–" if p is None else f"{p:g}")
        cells.append("–" if r.get("train_seconds") is None else f"{r['train_seconds']:.0f}")
        ee = r.get("effective_epochs")
        cells.append("–" if not ee else f"{ee['vqvae']:g} / {ee['classifier']:g} of {ee['epochs']}")
        lines.append("| " + " | ".join(cells) + " |")
    if any("codebook_utilization" in r["paper"] for r in summary["rows"]):
        lines += ["", "Paper: vanilla utilisation 28% at K=512 (Fig. 1)."]
    return "\n".join(lines) + "\n"


def plot_codebook_size(summary: dict, out: Path) -> Path:
    """Fig. 2 / 7: utilisation and FGD against K for both methods."""
    from ..export.plots import plot_vs_codebook_size

    by: dict[str, dict[int, dict]] = {}
    for r in summary["rows"]:
        method, k = r["name"].split(" K=")
        by.setdefault(method, {})[int(k)] = r
    sizes = sorted({k for d in by.values() for k in d})
    nan = float("nan")

    def series(metric):
        return {m: [d[k][metric]["mean"] if k in d and d[k][metric]["mean"] is not None else nan
                    for k in sizes] for m, d in by.items()}

    return plot_vs_codebook_size(sizes, series("codebook_utilization"), out, fgd=series("fgd"))
