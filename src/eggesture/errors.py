"""User-facing errors: one line that names the file and the problem.

Every reader and command raises :class:`EggestureError` (or a subclass) for bad input; the CLI
prints ``error: <file>: <problem>`` and exits non-zero, never a traceback.
"""

from __future__ import annotations

from pathlib import Path


class EggestureError(Exception):
    """An error caused by the user's input (a file, a setting), not by a bug."""

    def __init__(self, file: str | Path | None, problem: str):
        self.file = str(file) if file is not None else None
        self.problem = problem
        super().__init__(f"{self.file}: {problem}" if self.file else problem)

    def __reduce__(self):
        # Rebuilt from (file, problem), so an error raised in a worker process (the demo trains
        # in child processes) reaches the parent as the same one-line error.
        return type(self), (self.file, self.problem)


class DataError(EggestureError):
    """A dataset file is missing, unreadable or inconsistent."""


class ConfigError(EggestureError):
    """A config file or a ``key=value`` override is invalid."""


class CheckpointError(EggestureError):
    """A checkpoint or inference bundle is missing, tampered with or inconsistent."""


class EggestureWarning(UserWarning):
    """Something the user should know about their input that does not stop the work (the CLI
    prints it as one ``warning: …`` line)."""
