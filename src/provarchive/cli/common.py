"""Shared parts of the command line: the Typer app, global options, consoles, rendering helpers.

Each command parses its options, calls one library function, and renders the
result: rich tables for people, one JSON document with ``--json`` for scripts.
Data goes to stdout; progress, warnings and errors go to stderr. Every
:class:`~provarchive.errors.ArchiveError` is printed as ``Error: ...`` and
exits with that error's code (the table is in the README).
"""

import functools
import inspect
import json
import logging
import math
import os
import re
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from typer.core import TyperCommand

from ..config import ArchiveConfig
from ..errors import ArchiveError
from ..meta import __version__

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress

    from ..archive import Archive
    from ..tlog.note import Verifier

_TYPE_TAG = re.compile(r" <[^<>]*>")


class ReadableCommand(TyperCommand):
    """Help as people read it: ``NAME``, ``[PATTERN]``, ``FILE...`` in the usage line, and
    option values named (``--document DOCUMENT``), never ``{name}`` or ``<list[Path]>``."""

    @staticmethod
    def _argument_name(param: Any) -> str:
        name = str(param.metavar or (param.name or "").upper())
        if param.nargs != 1 and not name.endswith("..."):
            name += "..."
        return name

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if param.param_type_name != "argument":
                pieces.extend(param.get_usage_pieces(ctx))
                continue
            name = self._argument_name(param)
            pieces.append(name if param.required else f"[{name}]")
        return pieces

    def format_options(self, ctx: Any, formatter: Any) -> None:
        args: list[tuple[str, str]] = []
        opts: list[tuple[str, str]] = []
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            name, text = record
            if param.param_type_name == "argument":
                args.append((self._argument_name(param), text))
            else:
                value = " " + str(param.name or "value").upper()
                opts.append((_TYPE_TAG.sub(value, name), text))
        if args:
            with formatter.section("Arguments"):
                formatter.write_dl(args)
        if opts:
            with formatter.section("Options"):
                formatter.write_dl(opts)


app = typer.Typer(
    name="provarchive",
    help="A provenance-tracking document archive: every byte stored immutably in OCFL, "
    "every passage traceable to its raw bytes.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


_TAG = re.compile(r"(\\*)(\[[a-z#/@][^[]*?])")
"""A console-markup tag, escaped or not, as ``rich.markup`` finds it."""
_NOT_PLAIN = re.compile(r"[\t\x07\x08\x0b\x0c\r]")
"""Characters rich renders by cell widths (tabs) or strips (control codes)."""
_FORCED = ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE")
"""Environment variables with which rich styles output that is not a terminal."""


class _LazyConsole:
    """A rich Console made on first use: a command that prints only JSON, plain lines to
    a file or a pipe, or nothing, does not pay for importing rich (30 ms of a start-up).

    A line of text (markup, no tabs or control codes) bound for a stream that is not a
    terminal is written as rich would write it there, its tags left out; the rest goes
    to rich. Emoji codes are never replaced: ``:warning:`` in a file name stays text."""

    def __init__(self, *, stderr: bool = False) -> None:
        self._stderr = stderr
        self._console: Console | None = None

    def _stream(self) -> Any:
        return sys.stderr if self._stderr else sys.stdout

    def _styled(self) -> bool:
        """Whether rich would style this stream (a terminal, or forced by environment)."""
        if any(os.environ.get(name) for name in _FORCED):
            return True
        isatty = getattr(self._stream(), "isatty", None)
        return bool(isatty and isatty())

    @property
    def is_terminal(self) -> bool:
        return self._styled() and bool(self.rich().is_terminal)

    def print(self, *objects: Any, **options: Any) -> None:
        text = objects[0] if len(objects) == 1 else None
        if (
            isinstance(text, str)
            and options.get("soft_wrap", True) is True
            and set(options) <= {"soft_wrap", "highlight"}
            and not _NOT_PLAIN.search(text)
            and not self._styled()
        ):
            stream = self._stream()
            stream.write(plain_markup(text) + "\n")
            stream.flush()  # as rich does: stdout and stderr keep their order in one file
            return
        self.rich().print(*objects, **options)

    def rich(self) -> "Console":
        """The rich Console itself (made now if need be), e.g. for a progress bar."""
        if self._console is None:
            from rich.console import Console

            self._console = Console(
                highlight=False, soft_wrap=True, emoji=False, stderr=self._stderr
            )
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self.rich(), name)


def plain_markup(markup: str) -> str:
    """``rich.markup.render(markup).plain``, without importing rich (20 ms): tags left
    out, escaped tags and backslashes as written. A test holds the two equal."""
    parts: list[str] = []
    position = 0
    for match in _TAG.finditer(markup):
        parts.append(markup[position : match.start()].replace("\\[", "["))
        backslashes, escaped = divmod(len(match.group(1)), 2)
        parts.append("\\" * backslashes + (match.group(2) if escaped else ""))
        position = match.end()
    parts.append(markup[position:].replace("\\[", "["))
    return "".join(parts)


def escape(text: str) -> str:
    """``rich.markup.escape``, without importing rich: ``text`` printed as it is."""
    escaped = _TAG.sub(lambda m: f"{m.group(1)}{m.group(1)}\\{m.group(2)}", text)
    if escaped.endswith("\\") and not escaped.endswith("\\\\"):
        return escaped + "\\"
    return escaped


out: Any = _LazyConsole()
err: Any = _LazyConsole(stderr=True)

F = TypeVar("F", bound=Callable[..., Any])

# Options and arguments shared by several commands.
NameArg = Annotated[
    str,
    typer.Argument(
        metavar="NAME",
        help="Document name: its path inside the seeds folder, the seed's path as typed "
        "(seeds/2026/x.txt), or a unique prefix.",
    ),
]
VersionOpt = Annotated[
    int | None,
    typer.Option("--rev", "-r", metavar="N", help="Version N of the document (default: latest)."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document (stable shape).")]
CleanerOpt = Annotated[
    str,
    typer.Option(
        "--cleaner",
        metavar="CLEANER",
        help="default (strip a web page's boilerplate, on evidence) or keep-all (strip nothing).",
    ),
]


def command(*args: Any, **kwargs: Any) -> Callable[[F], F]:
    """Register a Typer command whose ArchiveErrors become 'Error: ...' + exit code."""

    def decorator(fn: F) -> F:
        if "short_help" not in kwargs and fn.__doc__:
            # The command list shows the whole first paragraph, never cut with "...".
            first = inspect.cleandoc(fn.__doc__).split("\n\n")[0]
            kwargs["short_help"] = " ".join(first.split())
        kwargs.setdefault("cls", ReadableCommand)

        @functools.wraps(fn)
        def wrapper(*a: Any, **k: Any) -> Any:
            try:
                return fn(*a, **k)
            except ArchiveError as exc:
                err.print(f"Error: {escape(str(exc))}")
                raise typer.Exit(exc.exit_code) from exc
            except KeyboardInterrupt as exc:
                code = _stopped_at_once(exc)
                if k.get("as_json"):  # a script still gets one JSON document
                    _print_json(_interrupted_json(exc))
                raise typer.Exit(code) from exc

        app.command(*args, **kwargs)(wrapper)
        return fn

    return decorator


def _version_callback(value: bool) -> None:
    if value:
        out.print(f"provarchive {__version__}")
        raise typer.Exit()


def _seconds(value: float) -> float:
    if not math.isfinite(value) or value < 0:
        raise typer.BadParameter(f"{value} is not a number of seconds (0 or more)")
    return value


@app.callback()
def main_options(
    ctx: typer.Context,
    archive: Annotated[
        Path | None,
        typer.Option(
            "--archive",
            envvar="PROVARCHIVE_ARCHIVE",
            metavar="DIR",
            help="Archive home (default: ./archive, or the nearest archive/ above, as git does).",
        ),
    ] = None,
    seeds: Annotated[
        Path | None,
        typer.Option(
            "--seeds",
            envvar="PROVARCHIVE_SEEDS",
            metavar="DIR",
            help="Seeds folder (default: the one the archive recorded, else ./seeds).",
        ),
    ] = None,
    seeds_here: Annotated[
        bool,
        typer.Option(
            "--seeds-here", help="Use --seeds although the archive recorded another seeds folder."
        ),
    ] = False,
    db_url: Annotated[
        str | None,
        typer.Option(
            "--db-url",
            envvar="PROVARCHIVE_DB_URL",
            metavar="URL",
            help="SQLAlchemy URL of the catalog (default: a SQLite file in the archive).",
        ),
    ] = None,
    lock_timeout: Annotated[
        float,
        typer.Option(
            "--lock-timeout",
            envvar="PROVARCHIVE_LOCK_TIMEOUT",
            metavar="SECONDS",
            callback=_seconds,
            help="Seconds a writer waits for another writer to finish.",
        ),
    ] = 600.0,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log what happens.")] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version_callback, is_eager=True, help="Show the version."
        ),
    ] = False,
) -> None:
    """Global options shared by every command."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)  # its plugin chatter is not ours
    ctx.obj = ArchiveConfig.from_env(
        root=archive or ArchiveConfig.discover(),
        seeds=seeds,
        seeds_given=seeds is not None,
        seeds_here=seeds_here,
        db_url=db_url,
        lock_timeout=lock_timeout,
    )


def _archive(ctx: typer.Context, **overrides: Any) -> "Archive":
    config: ArchiveConfig = ctx.obj
    if overrides:
        config = ArchiveConfig(**{**config.__dict__, **overrides})
    from ..archive import Archive  # first use: commands that never open one stay light

    return Archive(config)


def verifier_option(value: str, option: str = "--key") -> "Verifier":
    """A verifier key given inline or as a file; one that is not is a usage error."""
    from ..tlog.errors import SigningKeyError
    from ..tlog.keys import read_verifier_key

    try:
        return read_verifier_key(Path(value) if Path(value).is_file() else value)
    except SigningKeyError as exc:
        raise typer.BadParameter(str(exc), param_hint=option) from exc


def display_name(name: str) -> str:
    """A name as it is safe to print (the seeds package's rule, imported on first use)."""
    from ..seeds.names import display_name as shown

    return shown(name)


def _on_wait(holder: str | None) -> None:
    who = f" (held by {holder})" if holder else ""
    err.print(f"Waiting for the archive's writer lock{escape(who)}...")


def _print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2) + "\n")


class _Bar:
    """A rich progress bar on stderr, fed by the library's progress callbacks.

    ``stage(label, done, total)`` matches every ``on_progress`` signature we use:
    a new label or total starts a new bar. Silent when stderr is not a terminal."""

    def __init__(self, progress: "Progress | None") -> None:
        self.progress = progress
        self.task: Any = None
        self.key: tuple[str, int] | None = None

    def stage(self, label: str, done: int, total: int) -> None:
        if self.progress is None:
            return
        if self.key != (label, total):
            if self.task is not None:
                self.progress.remove_task(self.task)
            self.task = self.progress.add_task(label, total=total)
            self.key = (label, total)
        self.progress.update(self.task, completed=done)

    def counter(self, label: str, total: int) -> Callable[..., None]:
        """A callback that advances one step per call (for per-item callbacks)."""
        done = [0]

        def step(*_args: Any) -> None:
            done[0] += 1
            self.stage(label, done[0], total)

        return step


@contextmanager
def _progress(enabled: bool) -> Iterator[_Bar]:
    if not enabled or not err.is_terminal:
        yield _Bar(None)
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err.rich(),
        transient=True,
    )
    with progress:
        yield _Bar(progress)


# -- interrupts --------------------------------------------------------------------------------

EXIT_FOR_SIGNAL = {signal.SIGINT: 130, signal.SIGTERM: 143}


class Interrupted(KeyboardInterrupt):
    """Raised at a safe point once an interrupt was asked for (or at once on the second)."""

    def __init__(self, signum: int, *, at_once: bool = False) -> None:
        super().__init__(signum)
        self.signum = signum
        self.at_once = at_once


class Interrupts:
    """SIGINT/SIGTERM while a writing command runs: the first asks it to stop after the
    batch in hand (:meth:`requested`, checked by the library between batches); the
    second stops at once (an :class:`Interrupted` raised wherever the program is, which
    the archive survives as it survives a kill). Later ones are ignored: the stop at
    once is under way, and cutting short what it tidies (or the report it prints, or
    the interpreter's exit) would only leave a traceback and a lost report."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self.at_once = False

    def requested(self) -> bool:
        return self.signum is not None

    def check(self) -> None:
        """Raise :class:`Interrupted` if an interrupt was asked for (a safe point)."""
        if self.signum is not None:
            raise Interrupted(self.signum)

    @property
    def exit_code(self) -> int:
        return EXIT_FOR_SIGNAL.get(signal.Signals(self.signum or signal.SIGINT), 130)

    def _handle(self, signum: int, _frame: Any) -> None:
        if self.at_once:
            return
        if self.signum is not None:
            self.at_once = True
            raise Interrupted(signum, at_once=True)
        self.signum = signum
        err.print(
            "Interrupted: stopping after the batch in hand (interrupt again to stop at once)."
        )


WHOLE_PROCESS = False
"""Set by the console entry point: the command is the whole process, so that after a
stop at once interrupts stay ignored until it exits (see :func:`interrupts`)."""


@contextmanager
def interrupts() -> Iterator[Interrupts]:
    """Install the two-step interrupt handling for the block (main thread only). After
    a stop at once, a process that is the command alone (:data:`WHOLE_PROCESS`) keeps
    ignoring interrupts through its exit; in-process callers get their handlers back."""
    state = Interrupts()
    signals = (signal.SIGINT, signal.SIGTERM)
    try:
        previous = {s: signal.signal(s, state._handle) for s in signals}
    except ValueError:  # not the main thread: leave the default behaviour
        yield state
        return
    try:
        yield state
    finally:
        for s, handler in previous.items():
            # SIG_IGN, not a Python handler: the interpreter's finalisation puts back
            # SIG_DFL for those, and a signal then would kill the process (exit -2).
            signal.signal(s, signal.SIG_IGN if state.at_once and WHOLE_PROCESS else handler)


def _interrupt_of(exc: KeyboardInterrupt) -> tuple[signal.Signals, bool]:
    """(the signal, whether it stopped at once): a bare KeyboardInterrupt is a Ctrl-C
    that nothing deferred."""
    if isinstance(exc, Interrupted):
        return signal.Signals(exc.signum), exc.at_once
    return signal.SIGINT, True


def _interrupted_json(exc: KeyboardInterrupt) -> dict[str, Any]:
    """What ``--json`` prints for a command stopped by an interrupt it did not finish:
    the signal and whether it stopped at once; ``results`` and ``counts`` when the
    command attached the report of what it had committed (``ingest``: each result was
    archived and searchable)."""
    signum, at_once = _interrupt_of(exc)
    data: dict[str, Any] = {"interrupted": True, "stopped_at_once": at_once, "signal": signum.name}
    report = getattr(exc, "report", None)
    if report is not None:
        data.update(results=[r.to_json() for r in report.results], counts=report.counts())
    return data


def _stopped_at_once(exc: KeyboardInterrupt) -> int:
    signum, at_once = _interrupt_of(exc)
    if at_once:
        err.print(
            "Interrupted: stopped at once. What was committed is kept; the next writing "
            "command finishes or discards what was in hand."
        )
    else:
        err.print("Interrupted: stopped; nothing of the step in hand was saved.")
    return EXIT_FOR_SIGNAL.get(signum, 130)
