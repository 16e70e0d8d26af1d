"""The ``provarchive`` command line: thin Typer commands over the library.

Each command parses its options, calls one :class:`~provarchive.archive.Archive`
method, and renders the result: rich tables for people, one JSON document with
``--json`` for scripts. Data goes to stdout; progress, warnings and errors go to
stderr. Every :class:`~provarchive.errors.ArchiveError` is printed as
``Error: ...`` and exits with that error's code (the table is in the README).
The commands live in modules by what they do; importing this package registers
them all on :data:`app`.
"""

from . import proofs, reading, verifying, writing
from .common import app

__all__ = ["app", "main", "proofs", "reading", "verifying", "writing"]


def main() -> None:
    """Console-script entry point."""
    app()
