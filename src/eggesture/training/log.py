"""The training log: Lightning's ``logs/metrics.csv`` read, merged across a resume, and
utilisation over training taken from it (paper Fig. 6)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from ..io import write_text


def read_log(path: str | Path) -> list[dict]:
    """The rows of a CSV training log as dicts (empty cells where a metric was not logged);
    ``[]`` when the file does not exist."""
    path = Path(path)
    if not path.is_file():
        return []
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


#: Where the log of the epochs before a resume waits while the resumed run writes its own.
BEFORE_RESUME = "metrics.before-resume.csv"


def _merged(earlier: list[dict], new: list[dict]) -> list[dict]:
    """``earlier`` rows of the epochs before the first of ``new``, then ``new``."""
    first = min((int(float(r["epoch"])) for r in new if r.get("epoch")), default=None)
    return [r for r in earlier
            if first is None or (r.get("epoch") and int(float(r["epoch"])) < first)] + new


def _write_log(path: Path, rows: list[dict]) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(dict.fromkeys(k for r in rows for k in r)))
    writer.writeheader()
    writer.writerows(rows)
    write_text(path, buf.getvalue())


def prepare_log(logs: str | Path, *, resume: bool) -> None:
    """Before training logs anything: on a resume, move ``logs/metrics.csv`` aside (with any
    rows an earlier resume that died set aside); on a fresh start, remove both.

    Lightning's CSV logger does not continue an existing ``metrics.csv``: it replaces it, or
    rewrites it under the header of its first save (a demo resumed over a killed run's log
    failed there with "dict contains fields not in fieldnames", and another kept only the
    validation columns). So it always starts from no file, and :func:`restore_after_resume`
    puts the rows set aside back in front of the resumed run's."""
    logs = Path(logs)
    current, aside = logs / "metrics.csv", logs / BEFORE_RESUME
    if resume and current.is_file():
        _write_log(aside, _merged(read_log(aside), read_log(current)))
    if not resume:
        aside.unlink(missing_ok=True)
    current.unlink(missing_ok=True)


def restore_after_resume(logs: str | Path) -> None:
    """One ``metrics.csv``: the rows set aside (epochs before the resume), then the resumed
    run's rows."""
    logs = Path(logs)
    current, aside = logs / "metrics.csv", logs / BEFORE_RESUME
    if not aside.is_file():
        return
    _write_log(current, _merged(read_log(aside), read_log(current)))
    aside.unlink()


def _find_column(columns: list[str], column: str | None) -> str:
    if column is not None:
        if column not in columns:
            raise ValueError(f"column {column!r} not in the log (columns: {', '.join(columns)})")
        return column
    cands = [c for c in columns if "utiliz" in c.lower() or "utilis" in c.lower()]
    if len(cands) > 1:
        narrowed = ([c for c in cands if "epoch" in c.lower()]
                    or [c for c in cands if "train" in c.lower()])
        cands = narrowed if len(narrowed) == 1 else cands
    if len(cands) != 1:
        raise ValueError("cannot tell which column holds the codebook utilisation "
                         f"(candidates: {cands or 'none'}); pass column=")
    return cands[0]


def utilization_per_epoch(
    log: str | Path | list[dict], column: str | None = None, epoch_column: str = "epoch",
) -> list[tuple[int, float]]:
    """``[(epoch, utilisation), ...]`` in epoch order from a training log (paper Fig. 6).

    ``log`` is a CSV file (e.g. Lightning's ``metrics.csv``: one row per logging step, empty
    cells where a metric was not logged) or its rows as dicts. ``column`` names the
    utilisation column (fraction in [0, 1]); by default the one column whose name contains
    "utilization"/"utilisation" (preferring one with "epoch" in its name). For each epoch the
    last logged value counts.
    """
    rows = read_log(log) if isinstance(log, (str, Path)) else list(log)
    if not rows:
        raise ValueError("the training log has no rows")
    columns = list(rows[0].keys())
    col = _find_column(columns, column)
    if epoch_column not in columns:
        raise ValueError(f"the training log has no {epoch_column!r} column")
    last: dict[int, float] = {}
    for r in rows:
        v, e = r.get(col), r.get(epoch_column)
        if v in (None, "") or e in (None, ""):
            continue
        last[int(float(e))] = float(v)
    if not last:
        raise ValueError(f"no values logged in column {col!r}")
    return sorted(last.items())
