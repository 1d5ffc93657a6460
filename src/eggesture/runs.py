"""Runs shared between processes: a run's folder keyed by its resolved config, and the lock
files by which one process claims a run while the others wait for it.

A run folder is ``OUT/runs/<key>/seed<k>/``: the key is the short hash of the run's resolved
config (:func:`run_key`), so every row of every table that trains the same thing shares it.
A process claims a folder by creating ``.lock`` in it atomically (``O_CREAT | O_EXCL``, holding
``host pid``); others skip it and come back to it; a lock whose process is dead is stale and
taken over (:func:`claim`). Used by ``eggesture ablate`` (:mod:`eggesture.recipes.ablate`) on
one machine; on a cluster, a scheduler runs ``eggesture ablate plan``'s commands instead.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

from .io import write_json

#: Config keys that do not change what a run computes: left out of the key of its folder.
NOT_IN_KEY = {"train": ("seed", "out", "progress", "num_workers")}
#: Options added after runs were made, left out of the key at the value that means what those
#: runs did, so that adding an option does not orphan them.
KEY_DEFAULTS = {("model", "lookahead"): None, ("train", "audio_augment"): 0.0}
LOCK = ".lock"
#: A lock file still empty this many seconds after it was made is stale (its writer died between
#: creating it and writing its pid).
EMPTY_LOCK_GRACE_S = 30.0


def run_key(cfg) -> str:
    """The short hash of a run's resolved config, less :data:`NOT_IN_KEY` and the options of
    :data:`KEY_DEFAULTS` at their default (``data.root`` made absolute): equal for every row, in
    any table, that trains the same thing."""
    d = cfg.to_dict()
    for section, keys in NOT_IN_KEY.items():
        for k in keys:
            d[section].pop(k, None)
    for (section, k), default in KEY_DEFAULTS.items():
        if d[section].get(k, default) == default:
            d[section].pop(k, None)
    d["data"]["root"] = os.path.abspath(str(d["data"]["root"]))
    return hashlib.sha256(json.dumps(d, sort_keys=True, default=str).encode()).hexdigest()[:12]


def _me() -> str:
    return f"{socket.gethostname()} {os.getpid()}"


@contextlib.contextmanager
def mutex(path: Path) -> Iterator[None]:
    """An exclusive ``flock`` on ``path`` (created if missing), held for the block."""
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
    with mutex(run_dir / ".takeover"):
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


def note_use(run_dir: Path, overrides: list[str], use: dict) -> None:
    """Record in ``<run_dir>/../run.json`` (the folder of the run's seeds) the overrides that
    make the run and each use of it (e.g. ``{"table": …, "row": …}``)."""
    path = run_dir.parent / "run.json"
    with mutex(run_dir.parent / ".run.json.lock"):
        meta = json.loads(path.read_text()) if path.is_file() else {
            "overrides": list(overrides), "used_by": []}
        if use not in meta["used_by"]:
            meta["used_by"].append(use)
            write_json(path, meta)
