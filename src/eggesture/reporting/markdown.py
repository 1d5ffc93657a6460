"""The one markdown table renderer: every table we write (evaluation results, the demo's
report, the ablation tables, the results page, the README sections) goes through it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def _line(cells: Sequence[object]) -> str:
    # An empty cell is one space ("| |"), as a hand-written table has it.
    return "|" + "|".join(f" {c} " if str(c) else " " for c in cells) + "|"


def markdown_table(header: Sequence[object], rows: Iterable[Sequence[object]]) -> list[str]:
    """A GitHub-flavoured markdown table as lines: the header, the separator, one line per row
    (cells written with ``str``)."""
    return [_line(header), "|" + "---|" * len(header), *(_line(r) for r in rows)]
