"""Sub-commands of the ``coursekit`` CLI: one module each, each with ``register(subparsers)``.

A module adds its parser with ``subparsers.add_parser(NAME, help=..., description=...)``
and sets ``func`` with ``parser.set_defaults(func=handler)``; the handler takes the
parsed ``argparse.Namespace`` and returns an exit code. Raise
``coursekit.cli.UserError`` (or ``FileNotFoundError``/``ValueError``/``RuntimeError``)
with a message naming the fix: the CLI prints it as one line and exits with 2.
"""
