"""The ``coursekit`` command line.

Each sub-command lives in its own module under ``coursekit/commands/`` and
defines ``register(subparsers)``; this file only discovers and dispatches them,
so adding a command never means editing a shared list. Heavy imports happen
inside the command handlers, so ``coursekit --help`` answers instantly.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence

from coursekit import __version__, commands

DESCRIPTION = """\
Helper tool for the course "LLMs for e-commerce marketing".

Start here:
  coursekit doctor            check your set-up (packages, data, model, device)
  coursekit run               execute every notebook headless and print a summary
  coursekit check NOTEBOOK    grade your learner notebook's exercises
"""


class UserError(Exception):
    """An error whose message already tells the user what to do (no traceback)."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="coursekit",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"coursekit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except (UserError, FileNotFoundError, ValueError, RuntimeError, KeyError) as err:
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"coursekit {args.command}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
