"""The ``eggesture`` command.

Each sub-command lives in its own module of this package with ``register(subparsers)``; the
module is imported only to build the parser, and heavy imports (torch, librosa) happen inside
the command's handler, so ``eggesture --help`` is instant.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
import warnings

from ..errors import EggestureError, EggestureWarning

#: Sub-command modules in the order ``--help`` lists them.
COMMANDS = ("demo", "corpus", "data", "train", "calibrate", "generate", "stream", "align", "app",
            "render", "export", "fgd_train", "evaluate", "ablate")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="eggesture",
        description="EGGesture: entropy-guided VQ-VAE co-speech gesture generation.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        if importlib.util.find_spec(f"{__name__}.{name}") is not None:
            importlib.import_module(f"{__name__}.{name}").register(sub)
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("eggesture")
    except PackageNotFoundError:
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    # `key=value` overrides may follow options (e.g. `ablate TABLE --data D k=v`); argparse only
    # collects positionals given in one run, so the rest are gathered here.
    if extra:
        if hasattr(args, "overrides") and all("=" in e and not e.startswith("-") for e in extra):
            args.overrides = [*(args.overrides or []), *extra]
        else:
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    show = warnings.showwarning

    def one_line(message, category, *rest, **kw):
        if issubclass(category, EggestureWarning):
            print(f"warning: {message}", file=sys.stderr)
        else:
            show(message, category, *rest, **kw)

    warnings.showwarning = one_line
    try:
        return int(args.handler(args) or 0)
    except EggestureError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        warnings.showwarning = show


if __name__ == "__main__":
    sys.exit(main())
