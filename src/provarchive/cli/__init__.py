"""The ``provarchive`` command line: thin Typer commands over the library.

Each command parses its options, calls one :class:`~provarchive.archive.Archive`
method, and renders the result: rich tables for people, one JSON document with
``--json`` for scripts. Data goes to stdout; progress, warnings and errors go to
stderr. Every :class:`~provarchive.errors.ArchiveError` is printed as
``Error: ...`` and exits with that error's code (the table is in the README).
The commands live in modules by what they do; importing :data:`app` registers
them all.

Start-up is part of the interface (#14: ``--help`` and ``--version`` under 0.25 s):
this package imports the command modules on first use of :data:`app`, and the
library behind them is imported by each command when it runs.
"""

import importlib
import sys
from typing import Any

from ..meta import __version__

COMMAND_MODULES = ("proofs", "reading", "verifying", "writing")

__all__ = ["app", "main", *COMMAND_MODULES]


def main() -> None:
    """Console-script entry point."""
    if sys.argv[1:] == ["--version"]:  # the one answer that needs no command table
        sys.stdout.write(f"provarchive {__version__}\n")
        return
    app = __getattr__("app")
    from . import common

    common.WHOLE_PROCESS = True
    app()


def __getattr__(name: str) -> Any:
    if name == "app":
        for module in COMMAND_MODULES:
            importlib.import_module(f".{module}", __name__)
        from .common import app

        return app
    if name in COMMAND_MODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
