"""The ``provarchive`` command line: thin Typer commands over the library.

Each command parses its options, calls one library function, and renders the
result: rich tables for people, one JSON document with ``--json`` for scripts.
Data goes to stdout; progress, warnings and errors go to stderr. Every
:class:`~provarchive.errors.ArchiveError` is printed as ``Error: ...`` and
exits with that error's code (the table is in the README).
"""

from __future__ import annotations

import functools
import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from .archive import Archive
from .config import ArchiveConfig
from .errors import ArchiveError
from .findings import ERROR, INFO, WARNING
from .meta import __version__

app = typer.Typer(
    name="provarchive",
    help="A provenance-tracking document archive: every byte stored immutably in OCFL, "
    "every passage traceable to its raw bytes.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

F = TypeVar("F", bound=Callable[..., Any])

# Options and arguments shared by several commands.
NameArg = Annotated[str, typer.Argument(help="Document name (its path inside the seeds folder).")]
VersionOpt = Annotated[
    int | None,
    typer.Option("--rev", "-r", metavar="N", help="Version N of the document (default: latest)."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document (stable shape).")]


def command(*args: Any, **kwargs: Any) -> Callable[[F], F]:
    """Register a Typer command whose ArchiveErrors become 'Error: ...' + exit code."""

    def decorator(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*a: Any, **k: Any) -> Any:
            try:
                return fn(*a, **k)
            except ArchiveError as exc:
                err.print(f"Error: {escape(str(exc))}")
                raise typer.Exit(exc.exit_code) from exc

        app.command(*args, **kwargs)(wrapper)
        return fn

    return decorator


def _version_callback(value: bool) -> None:
    if value:
        out.print(f"provarchive {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    ctx: typer.Context,
    archive: Annotated[
        Path,
        typer.Option("--archive", envvar="PROVARCHIVE_ARCHIVE", help="Archive home directory."),
    ] = Path("archive"),
    seeds: Annotated[
        Path,
        typer.Option("--seeds", envvar="PROVARCHIVE_SEEDS", help="Seeds folder to ingest from."),
    ] = Path("seeds"),
    db_url: Annotated[
        str | None,
        typer.Option(
            "--db-url",
            envvar="PROVARCHIVE_DB_URL",
            help="SQLAlchemy URL of the catalog (default: a SQLite file in the archive).",
        ),
    ] = None,
    lock_timeout: Annotated[
        float,
        typer.Option(
            "--lock-timeout",
            envvar="PROVARCHIVE_LOCK_TIMEOUT",
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
    ctx.obj = ArchiveConfig.from_env(
        root=archive, seeds=seeds, db_url=db_url, lock_timeout=lock_timeout
    )


def _archive(ctx: typer.Context) -> Archive:
    config: ArchiveConfig = ctx.obj
    return Archive(config)


def _on_wait(holder: str | None) -> None:
    who = f" (held by {holder})" if holder else ""
    err.print(f"Waiting for the archive's writer lock{escape(who)}...")


def _print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2) + "\n")


class _Bar:
    """A rich progress bar on stderr, fed by the library's progress callbacks.

    ``stage(label, done, total)`` matches every ``on_progress`` signature we use:
    a new label or total starts a new bar. Silent when stderr is not a terminal."""

    def __init__(self, progress: Progress | None) -> None:
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
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    )
    with progress:
        yield _Bar(progress)


# -- init / ingest / add ------------------------------------------------------------------------


@command("init")
def init_cmd(
    ctx: typer.Context,
    as_json: JsonOpt = False,
) -> None:
    """Create an empty archive (ingest and add also create it when absent)."""
    with _archive(ctx) as archive:
        created = archive.init(on_wait=_on_wait)
        if as_json:
            _print_json({"archive": str(archive.config.root), "created": created})
        elif not created:
            out.print(f"Archive at {escape(str(archive.config.root))} already exists.")
        else:
            out.print(f"Initialised an empty archive at {escape(str(archive.config.root))}.")


STATUS_STYLE = {
    "new": "green",
    "new-version": "cyan",
    "unchanged": "dim",
    "failed": "red",
    "skipped": "yellow",
}


def _render_ingest(report: Any, as_json: bool) -> None:
    if as_json:
        _print_json({"results": [r.to_json() for r in report.results]})
    else:
        for r in report.repairs:
            err.print(f"repaired: {escape(r.action)} {escape(r.name or '')} {escape(r.detail)}")
        changed = [
            r for r in report.results if r.status in ("new", "new-version", "failed", "skipped")
        ]
        if changed and len(changed) <= 50:
            table = Table(title=None)
            for column in ("document", "status", "version", "sha256"):
                table.add_column(column)
            for r in changed:
                table.add_row(
                    escape(r.document),
                    f"[{STATUS_STYLE.get(r.status, '')}]{r.status}[/]",
                    "" if r.version is None else f"v{r.version}",
                    (r.sha256 or "")[:16],
                )
            out.print(table)
        counts = report.counts()
        summary = (
            ", ".join(f"{counts[k]} {k}" for k in STATUS_STYLE if k in counts) or "nothing to do"
        )
        out.print(f"Summary: {summary}.")
    for r in report.results:
        if r.status == "failed":
            err.print(f"failed: {escape(r.path or r.document)}: {escape(r.error or '')}")
        elif r.status == "skipped":
            err.print(f"skipped: {escape(r.path or r.document)}: {escape(r.error or '')}")
    if report.failed:
        raise typer.Exit(1)


@command("ingest")
def ingest_cmd(
    ctx: typer.Context,
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Files or folders inside the seeds folder (default: all of it)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Archive the seeds folder: new files, and new versions of changed files."""
    with _archive(ctx) as archive, _progress(not as_json) as bar:
        step: dict[str, Callable[..., None]] = {}

        def on_start(total: int) -> None:
            step["file"] = bar.counter("Ingesting", total)

        report = archive.ingest(
            paths or None,
            on_wait=_on_wait,
            on_start=on_start,
            on_result=lambda r: step["file"](r),
            on_index=lambda done, total: bar.stage("Indexing", done, total),
        )
    _render_ingest(report, as_json)


@command("add")
def add_cmd(
    ctx: typer.Context,
    files: Annotated[
        list[Path], typer.Argument(help="Files to copy into the seeds folder and archive.")
    ],
    as_name: Annotated[
        str | None, typer.Option("--as", help="Document name (path inside the seeds folder).")
    ] = None,
    replace: Annotated[
        bool,
        typer.Option(
            "--replace", help="Overwrite a different seed of that name (archived as a new version)."
        ),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Copy files into the seeds folder, then archive them."""
    with _archive(ctx) as archive:
        report = archive.add(files, as_name=as_name, replace=replace, on_wait=_on_wait)
    _render_ingest(report, as_json)


# -- reading -------------------------------------------------------------------------------------


@command("show")
def show_cmd(
    ctx: typer.Context,
    name: NameArg,
    version: VersionOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A document's versions and digests, and the passages of one version."""
    with _archive(ctx) as archive:
        archive.require()
        versions = archive.versions(name)
        if version is not None:
            archive.version(name, version)
        dv = archive.view(name, version)
        if as_json:
            _print_json(
                {
                    "document": name,
                    "versions": [v.to_json() for v in versions],
                    "title": dv.title if dv else None,
                    "derivation": None
                    if dv is None
                    else {
                        "version": dv.version,
                        "number": dv.number,
                        "cleaner": dv.cleaner,
                        "rules_digest": dv.rules_digest,
                        "status": dv.status,
                        "encoding": dv.encoding,
                        "output_sha256": dv.output_sha256,
                    },
                    "passages": dv.passages if dv else [],
                    "removed": dv.removed if dv else [],
                }
            )
            return
        out.print(f"[bold]{escape(name)}[/]  ({len(versions)} version(s))")
        table = Table()
        for column in ("version", "ingested", "size"):
            table.add_column(column, no_wrap=True)
        table.add_column("sha256", overflow="fold", min_width=16)
        table.add_column("source", overflow="fold")
        for v in versions:
            if version is not None and v.version != version:
                continue
            table.add_row(
                f"v{v.version}",
                v.ingested_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
                f"{v.size:,}",
                v.sha256,
                escape(v.source),
            )
        out.print(table)
        if dv is not None:
            out.print(
                f"v{dv.version}: {escape(dv.title or '(no title)')} - {len(dv.passages)} passage(s), "
                f"{len(dv.removed)} line(s) removed ({dv.status}, {dv.encoding or 'no encoding'}; "
                f"{escape(dv.cleaner)}). 'provarchive explain' shows why."
            )


@command("cat")
def cat_cmd(
    ctx: typer.Context,
    name: NameArg,
    version: VersionOpt = None,
) -> None:
    """Write the exact raw bytes of a version to stdout."""
    with _archive(ctx) as archive:
        archive.require()
        data = archive.read_bytes(name, version)
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


@command("history")
def history_cmd(
    ctx: typer.Context,
    name: NameArg,
    as_json: JsonOpt = False,
) -> None:
    """A document's versions and every event recorded about it."""
    with _archive(ctx) as archive:
        archive.require()
        versions = archive.versions(name)
        events = archive.events(document=name)
    if as_json:
        _print_json(
            {
                "document": name,
                "versions": [
                    v.to_json() | {"message": v.message, "user": v.user} for v in versions
                ],
                "events": [_event_json(e) for e in events],
            }
        )
        return
    table = Table(title=f"{name}: versions")
    for column in ("version", "ingested", "sha256", "message", "user"):
        table.add_column(column)
    for v in versions:
        table.add_row(
            f"v{v.version}",
            v.ingested_at.strftime("%Y-%m-%d %H:%M:%S"),
            v.sha256[:16],
            escape(v.message),
            escape(v.user),
        )
    out.print(table)
    _print_events(events)


def _event_json(e: Any) -> dict[str, Any]:
    return {
        "id": e.id,
        "occurred_at": e.occurred_at.isoformat().replace("+00:00", "Z"),
        "type": e.event_type,
        "outcome": e.outcome,
        "agent": e.agent,
        "document": e.document,
        "version": e.version,
        "detail": e.detail,
    }


def _print_events(events: list[Any]) -> None:
    table = Table(title="events")
    for column in ("when (UTC)", "event", "outcome", "document", "detail"):
        table.add_column(column)
    for e in events:
        style = {"success": "green", "failure": "red", "warning": "yellow"}.get(e.outcome, "")
        doc = e.document or ""
        if e.version is not None:
            doc += f" v{e.version}"
        table.add_row(
            e.occurred_at.strftime("%Y-%m-%d %H:%M:%S"),
            e.event_type,
            f"[{style}]{e.outcome}[/]",
            escape(doc),
            escape(e.detail),
        )
    out.print(table)


@command("log")
def log_cmd(
    ctx: typer.Context,
    document: Annotated[
        str | None, typer.Option("--document", help="Only events about this document.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="Most recent N events (0: all).")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """The archive's event log (ingestion, digests, fixity checks, repairs...)."""
    with _archive(ctx) as archive:
        archive.require()
        events = archive.events(document=document, limit=limit or None)
    if as_json:
        _print_json({"events": [_event_json(e) for e in events]})
    else:
        _print_events(events)


# -- cleaning and lineage ----------------------------------------------------------------------

KIND_STYLE = {"title": "bold green", "standfirst": "green", "body": "green"}


@command("clean")
def clean_cmd(
    files: Annotated[list[Path], typer.Argument(help="Text files to clean (not archived).")],
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out-dir", help="Write DIR/<file name> with the body passages, one per line."
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Clean files without archiving them: a dry run of what ingest would keep."""
    from .derivations import clean_files

    results = clean_files(files, out_dir)
    if as_json:
        _print_json({"results": [r.to_json() for r in results]})
    elif out_dir is None:
        first = True
        for r in results:
            if r.derivation is None:
                continue
            if not first:
                sys.stdout.write("\n")
            first = False
            sys.stdout.write("".join(p.text + "\n" for p in r.derivation.body()))
    else:
        for r in results:
            if r.derivation is not None:
                err.print(
                    f"{escape(r.path)} -> {escape(r.output or '')}: {len(r.derivation.body())} body passage(s)"
                )
    failed = [r for r in results if r.error is not None]
    for r in failed:
        err.print(f"failed: {escape(r.path)}: {escape(r.error or '')}")
    if failed:
        raise typer.Exit(1)


@command("explain")
def explain_cmd(
    ctx: typer.Context,
    name: NameArg,
    version: VersionOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Every raw line with KEEP/DROP and the passage kind or the rule that decided."""
    with _archive(ctx) as archive:
        archive.require()
        dv, lines = archive.explain(name, version)
    if as_json:
        _print_json(
            {
                "document": name,
                "version": dv.version if dv else None,
                "derivation": dv.number if dv else None,
                "status": dv.status if dv else None,
                "lines": [
                    {
                        "line": x.number,
                        "raw_span": list(x.raw_span),
                        "action": x.action or None,
                        "label": x.label or None,
                        "reason": x.reason or None,
                        "text": x.text,
                    }
                    for x in lines
                ],
            }
        )
        return
    if dv is None:
        out.print(f"{escape(name)} has no derivation yet.")
        return
    out.print(
        f"[bold]{escape(name)}[/] v{dv.version}, derivation {dv.number} ({escape(dv.cleaner)}, {dv.encoding or dv.status})"
    )
    if dv.status != "text":
        out.print(f"No text to explain: {escape(dv.status)} ({escape(dv.detail or '')}).")
        return
    width = len(str(len(lines)))
    for x in lines:
        if not x.action:
            out.print(f"[dim]{x.number:>{width}}[/]")
            continue
        if x.action == "KEEP":
            tag = f"[{KIND_STYLE.get(x.label, 'green')}]KEEP {x.label:<14}[/]"
            body = escape(x.text.strip())
        else:
            tag = f"[red]DROP {x.label:<14}[/]"
            body = f"[dim]{escape(x.text.strip())}[/]  [italic red]({escape(x.reason)})[/]"
        out.print(f"[dim]{x.number:>{width}}[/] {tag} {body}")


@command("lineage")
def lineage_cmd(
    ctx: typer.Context,
    passage_id: Annotated[str, typer.Argument(help="Passage id, NAME@vN#K (from show or search).")],
    fmt: Annotated[
        str, typer.Option("--format", help="text, json or prov-json (W3C PROV-JSON).")
    ] = "text",
    derivation: Annotated[
        int | None,
        typer.Option("--derivation", help="A superseded derivation number (default: current)."),
    ] = None,
) -> None:
    """The chain seeds file -> stored version -> cleaning run -> passage."""
    from .lineage import to_json, to_prov, to_text

    if fmt not in ("text", "json", "prov-json"):
        raise typer.BadParameter("use text, json or prov-json", param_hint="--format")
    with _archive(ctx) as archive:
        archive.require()
        lin = archive.lineage(passage_id, derivation=derivation)
    if fmt == "json":
        _print_json(to_json(lin))
    elif fmt == "prov-json":
        sys.stdout.write(to_prov(lin).serialize(indent=2) + "\n")
    else:
        out.print(escape(to_text(lin)))


@command("reclean")
def reclean_cmd(
    ctx: typer.Context,
    names: Annotated[list[str] | None, typer.Argument(help="Documents (default: all).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Re-run the current cleaner; a changed output becomes a new current derivation."""
    with _archive(ctx) as archive, _progress(not as_json) as bar:
        report = archive.reclean(
            names or None,
            on_wait=_on_wait,
            on_progress=lambda d, t: bar.stage("Re-cleaning", d, t),
        )
    if as_json:
        _print_json(report.to_json())
        return
    for doc, ver, number in report.changed:
        out.print(
            f"{escape(doc)} v{ver}: new derivation {number} (the old one is kept, superseded)"
        )
    out.print(f"Re-cleaned {report.checked} version(s): {len(report.changed)} changed.")


# -- search ------------------------------------------------------------------------------------


def _parse_when(value: str | None, option: str, end_of_day: bool) -> datetime | None:
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a date (YYYY-MM-DD or ISO 8601)", param_hint=option
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    if end_of_day and len(value) == 10:
        when = when + timedelta(days=1) - timedelta(microseconds=1)
    return when


@command("search")
def search_cmd(
    ctx: typer.Context,
    query: Annotated[
        str,
        typer.Argument(
            help='Whoosh query: words, "phrases", AND/OR/NOT, prefix*, fuzzy~, kind:title.'
        ),
    ],
    document: Annotated[str | None, typer.Option("--document", help="Only this document.")] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="title, standfirst or body.")] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Ingested on or after (YYYY-MM-DD or ISO 8601).")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="Ingested on or before (YYYY-MM-DD or ISO 8601).")
    ] = None,
    all_versions: Annotated[
        bool, typer.Option("--all-versions", help="Also search earlier versions.")
    ] = False,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Number of hits to show.")] = 10,
    as_json: JsonOpt = False,
) -> None:
    """Full-text search; every hit cites document, version, digest and raw byte span."""
    if kind is not None and kind not in ("title", "standfirst", "body"):
        raise typer.BadParameter("use title, standfirst or body", param_hint="--kind")
    with _archive(ctx) as archive:
        archive.require()
        results = archive.search(
            query,
            document=document,
            kind=kind,
            since=_parse_when(since, "--since", False),
            until=_parse_when(until, "--until", True),
            all_versions=all_versions,
            limit=limit,
        )
    if as_json:
        _print_json(results.to_json())
        return
    if not results.hits:
        out.print(f"No hits for {escape(query)!s}.")
        return
    out.print(f"{results.total} hit(s) for [bold]{escape(query)}[/], showing {len(results.hits)}:")
    for rank, h in enumerate(results.hits, 1):
        flag = "" if h.current else " [yellow](earlier version)[/]"
        out.print(
            f"\n[bold]{rank}.[/] [cyan]{escape(h.document)}[/] v{h.version} #{h.ordinal} ({h.kind}){flag}  "
            f"score {h.score:.2f}  sha256 {h.sha256[:12]}…  bytes [{h.raw_span[0]}, {h.raw_span[1]})"
        )
        out.print("   " + _bold_marks(h.snippet))
        out.print(f"   [dim]cite: {escape(h.passage_id)}[/]")


def _bold_marks(snippet: str) -> str:
    """``**term**`` marks from the index as rich bold, everything else escaped."""
    parts = snippet.split("**")
    return "".join(
        f"[bold yellow]{escape(p)}[/]" if i % 2 else escape(p) for i, p in enumerate(parts)
    )


@command("reindex")
def reindex_cmd(
    ctx: typer.Context,
    as_json: JsonOpt = False,
) -> None:
    """Rebuild the search index from the catalog."""
    with _archive(ctx) as archive, _progress(not as_json) as bar:
        report = archive.reindex(
            on_wait=_on_wait, on_progress=lambda d, t: bar.stage("Indexing", d, t)
        )
    if as_json:
        _print_json({"versions": report.versions, "passages": report.passages})
    else:
        out.print(
            f"Search index rebuilt: {report.versions} version(s), {report.passages} passage(s)."
        )


# -- verify / rebuild ----------------------------------------------------------------------------

SEVERITY_STYLE = {ERROR: "red", WARNING: "yellow", INFO: "blue"}


@command("verify")
def verify_cmd(
    ctx: typer.Context,
    full: Annotated[
        bool, typer.Option("--full", help="Re-hash every seed, ignoring the stat cache.")
    ] = False,
    no_seeds: Annotated[
        bool, typer.Option("--no-seeds", help="Skip the seeds-folder drift check.")
    ] = False,
    rederive: Annotated[
        bool,
        typer.Option("--rederive", help="Also re-run the recorded cleaner and report any drift."),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Check fixity of every stored byte and the consistency of catalog and seeds."""
    with _archive(ctx) as archive, _progress(not as_json) as bar:
        report = archive.verify(
            full=full,
            check_seeds=not no_seeds,
            rederive=rederive,
            on_progress=lambda stage, d, t: bar.stage(f"Verifying {stage}", d, t),
        )
    if as_json:
        _print_json(report.to_json())
    else:
        if report.findings:
            table = Table()
            for column in ("severity", "code", "document", "message"):
                table.add_column(column)
            for f in report.findings:
                table.add_row(
                    f"[{SEVERITY_STYLE[f.severity]}]{f.severity}[/]",
                    f.code,
                    escape(f.document or ""),
                    escape(f.message),
                )
            out.print(table)
        c = report.checked
        verdict = (
            "[green]OK[/]"
            if report.is_ok()
            else f"[red]FAILED[/] ({len(report.errors())} error(s))"
        )
        out.print(
            f"Verified {c['objects']} object(s), {c['versions']} version(s), "
            f"{c['content_files']} content file(s), {c['bytes']:,} bytes, {c['seeds']} seed(s): {verdict}"
        )
    if not report.is_ok():
        raise typer.Exit(1)


@command("rebuild")
def rebuild_cmd(
    ctx: typer.Context,
    as_json: JsonOpt = False,
) -> None:
    """Recreate the catalog from the OCFL store alone (the old catalog is kept as a backup)."""
    with _archive(ctx) as archive:
        count = archive.rebuild(on_wait=_on_wait)
    if as_json:
        _print_json({"documents": count})
    else:
        out.print(f"Catalog rebuilt from the store: {count} document(s).")


def main() -> None:
    """Console-script entry point."""
    app()
