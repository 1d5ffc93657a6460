"""Atomic file output: write to a temporary file beside the target, then rename.

A crash, a kill or an error leaves either the old file or the new one, never half of one.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .errors import DataError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def make_dir_temp(parent: Path, name: str) -> Path:
    """A temporary folder beside ``parent / name`` with the permissions of a normal mkdir."""
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=parent))
    os.chmod(tmp, 0o777 & ~_umask())
    return tmp


def finish_dir_temp(tmp: Path) -> None:
    """Give the files written into a :func:`make_dir_temp` folder normal permissions."""
    for f in tmp.rglob("*"):
        if f.is_file():
            os.chmod(f, 0o666 & ~_umask())


@contextlib.contextmanager
def atomic_path(path: str | Path, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path in ``path``'s folder; rename it onto ``path`` if the block succeeds.

    The temporary name ends in ``.tmp`` + the target's suffix (or ``suffix``), so writers that
    look at the extension (``np.savez``, ffmpeg) behave as for the final name.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=".tmp" + (path.suffix if suffix is None else suffix),
        dir=path.parent,
    )
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp makes 0600; a normal file is 0666 − umask
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_bytes(path: str | Path, data: bytes) -> None:
    """Atomically write ``data`` to ``path``."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text(path: str | Path, text: str) -> None:
    """Atomically write ``text`` (UTF-8) to ``path``."""
    write_bytes(path, text.encode("utf-8"))


def write_json(path: str | Path, obj: Any) -> None:
    """Atomically write ``obj`` as indented JSON."""
    write_text(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")


def split_section(path: str | Path, begin: str, end: str) -> tuple[str, str]:
    """The text of ``path`` before its ``begin`` marker and after the ``end`` marker that
    follows it; :class:`eggesture.errors.DataError` (one line) when it has no such section."""
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "does not exist")
    text = path.read_text(encoding="utf-8")
    if begin not in text or end not in text.split(begin, 1)[1]:
        raise DataError(path, f"no {begin} … {end} section to write into")
    head, rest = text.split(begin, 1)
    return head, rest.split(end, 1)[1]


def replace_section(path: str | Path, begin: str, end: str, block: str) -> None:
    """Atomically replace the text between the markers ``begin`` and ``end`` of ``path`` with
    ``block`` (see :func:`split_section`)."""
    head, tail = split_section(path, begin, end)
    write_text(path, f"{head}{begin}\n{block}\n{end}{tail}")
