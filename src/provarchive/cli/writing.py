"""Commands that change the archive: init, ingest, add, withdraw, reclean, reindex, rebuild."""

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from ..config import ArchiveConfig
from ..errors import StorageError
from .common import (
    CleanerOpt,
    Interrupts,
    JsonOpt,
    _archive,
    _on_wait,
    _print_json,
    _progress,
    command,
    display_name,
    err,
    escape,
    interrupts,
    out,
)

# -- init / ingest / add ------------------------------------------------------------------------


CleaningJobsOpt = Annotated[
    int,
    typer.Option(
        "--jobs", "-j", min=1, help="Worker processes cleaning the text (one process writes)."
    ),
]
IngestJobsOpt = Annotated[
    int,
    typer.Option(
        "--jobs",
        "-j",
        min=1,
        help="Worker processes cleaning the text (one process writes); on a PostgreSQL "
        "catalog, ingests at once, each hashing, storing, cleaning and recording its share.",
    ),
]


@command("init")
def init_cmd(
    ctx: typer.Context,
    key: Annotated[
        Path | None,
        typer.Option(
            "--key",
            metavar="FILE",
            help="Sign checkpoints with this existing key (default: a new one, signing.key).",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Create an empty archive (ingest and add also create it when absent), with the key
    that signs its checkpoints.

    Example: provarchive init --key ~/keys/newsroom.key
    """
    with _archive(ctx, signing_key=key) as archive:
        created = archive.init(on_wait=_on_wait)
        if as_json:
            _print_json({"archive": str(archive.config.root), "created": created})
        elif not created:
            out.print(f"Archive at {escape(str(archive.config.root))} already exists.")
        else:
            out.print(f"Initialised an empty archive at {escape(str(archive.config.root))}.")


STATUS_STYLE = {
    "ignored": "dim",
    "new": "green",
    "new-version": "cyan",
    "unchanged": "dim",
    "failed": "red",
    "skipped": "yellow",
    "withdrawn": "yellow",
}


def _render_ingest(
    report: Any, as_json: bool, *, quiet: bool = False, verbose: bool = False
) -> None:
    """One line per document that changed (full digest, never cut, for any batch size),
    then the summary; failures and skips on stderr; ignored files only with -v."""
    if as_json:
        data = {"results": [r.to_json() for r in report.results], "counts": report.counts()}
        if report.interrupted or report.not_reached:
            data.update(interrupted=report.interrupted, not_reached=report.not_reached)
        _print_json(data)
    else:
        for r in report.repairs:
            err.print(f"repaired: {escape(r.action)} {escape(r.name or '')} {escape(r.detail)}")
        if not quiet:
            for r in report.results:
                if r.status not in ("new", "new-version"):
                    continue
                style = STATUS_STYLE.get(r.status, "")
                out.print(
                    f"[{style}]{r.status:<11}[/] v{r.version:<3} {r.sha256}  "
                    f"{escape(display_name(r.document))}"
                )
        counts = report.counts()
        summary = (
            ", ".join(f"{counts[k]} {k}" for k in STATUS_STYLE if k in counts) or "nothing to do"
        )
        out.print(f"Summary: {summary}.")
    for r in report.results:
        shown = escape(display_name(r.path or r.document))
        if r.status in ("failed", "skipped"):
            err.print(f"{r.status}: {shown}: {escape(display_name(r.error or ''))}")
        elif r.status == "ignored" and verbose and not as_json:
            err.print(f"ignored: {shown}: {escape(r.error or '')}")
        elif r.status == "withdrawn" and verbose and not as_json:
            err.print(f"withdrawn: {shown}: left out ('provarchive add' archives it again)")
    if report.failed:
        raise typer.Exit(1)


def _verbose(ctx: typer.Context) -> bool:
    return bool(ctx.find_root().params.get("verbose"))


QuietOpt = Annotated[
    bool, typer.Option("--quiet", "-q", help="Print the summary only, not a line per document.")
]
DEFAULT_MAX_TEXT_BYTES = ArchiveConfig.max_text_bytes
MaxTextOpt = Annotated[
    int,
    typer.Option(
        "--max-text-bytes",
        metavar="BYTES",
        min=0,
        help="Larger files are archived and hashed but not cleaned or indexed.",
    ),
]


@command("ingest")
def ingest_cmd(
    ctx: typer.Context,
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Files or folders inside the seeds folder (default: all of it)."),
    ] = None,
    cleaner: CleanerOpt = "default",
    max_text_bytes: MaxTextOpt = DEFAULT_MAX_TEXT_BYTES,
    jobs: IngestJobsOpt = 1,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Archive the seeds folder: new files, and new versions of changed files.

    Example: provarchive ingest seeds/2026 --cleaner keep-all --jobs 4
    """
    _check_cleaner(cleaner)
    with (
        _archive(ctx, cleaner=cleaner, max_text_bytes=max_text_bytes) as archive,
        _progress(not as_json) as bar,
    ):
        step: dict[str, Callable[..., None]] = {}
        committed: list[Any] = []  # reported once its batch is in the catalog

        def on_start(total: int) -> None:
            step["file"] = bar.counter("Ingesting", total)

        def on_result(result: Any) -> None:
            committed.append(result)
            step["file"](result)

        with _partial_report(as_json, quiet, _verbose(ctx)), interrupts() as stop:
            try:
                report = archive.ingest(
                    paths or None,
                    on_wait=_on_wait,
                    on_start=on_start,
                    on_result=on_result,
                    on_index=lambda done, total: bar.stage("Indexing", done, total),
                    should_stop=stop.requested,
                    jobs=jobs,
                )
            except KeyboardInterrupt as exc:  # stopped at once: --json lists what was saved
                from ..ingest import IngestReport  # loaded by the ingest already

                exc.report = IngestReport(committed, interrupted=True)  # type: ignore[attr-defined]
                raise
    _render_stopped(report, as_json, stop, quiet=quiet, verbose=_verbose(ctx))


@contextlib.contextmanager
def _partial_report(as_json: bool, quiet: bool, verbose: bool) -> Iterator[None]:
    """A storage failure in mid-run: show what was saved before the one-line error."""
    try:
        yield
    except StorageError as exc:
        partial = getattr(exc, "report", None)
        if partial is not None:
            with contextlib.suppress(typer.Exit):
                _render_ingest(partial, as_json, quiet=quiet, verbose=verbose)
        raise


def _render_stopped(
    report: Any, as_json: bool, stop: Interrupts, *, quiet: bool, verbose: bool
) -> None:
    """The ingest's report, then (after an interrupt) what was not saved, exit 130/143."""
    if not report.interrupted:
        _render_ingest(report, as_json, quiet=quiet, verbose=verbose)
        return
    with contextlib.suppress(typer.Exit):
        _render_ingest(report, as_json, quiet=quiet, verbose=verbose)
    saved = sum(1 for r in report.results if r.status in ("new", "new-version"))
    err.print(
        f"Interrupted: {saved} file(s) archived and searchable, {report.not_reached} not "
        "reached (run the command again to archive them)."
    )
    raise typer.Exit(stop.exit_code)


def _check_cleaner(cleaner: str) -> None:
    from ..cleaning.passages import CLEANERS

    if cleaner not in CLEANERS:
        raise typer.BadParameter(f"use one of {', '.join(CLEANERS)}", param_hint="--cleaner")


@command("add")
def add_cmd(
    ctx: typer.Context,
    files: Annotated[
        list[Path],
        typer.Argument(metavar="FILE...", help="Files to copy into the seeds folder and archive."),
    ],
    as_name: Annotated[
        str | None,
        typer.Option("--as", metavar="NAME", help="Document name (path inside the seeds folder)."),
    ] = None,
    into: Annotated[
        str | None,
        typer.Option("--into", metavar="FOLDER", help="Put the files in this seeds sub-folder."),
    ] = None,
    recursive: Annotated[
        bool, typer.Option("--recursive", "-r", help="Add folders with everything in them.")
    ] = False,
    replace: Annotated[
        bool,
        typer.Option(
            "--replace", help="Overwrite a different seed of that name (archived as a new version)."
        ),
    ] = False,
    cleaner: CleanerOpt = "default",
    max_text_bytes: MaxTextOpt = DEFAULT_MAX_TEXT_BYTES,
    jobs: CleaningJobsOpt = 1,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Copy files into the seeds folder, then archive them.

    Examples: provarchive add ~/Downloads/story.txt --as 2026/story.txt;
    provarchive add -r ~/interviews --into 2026 --jobs 4
    """
    _check_cleaner(cleaner)
    with (
        _archive(ctx, cleaner=cleaner, max_text_bytes=max_text_bytes) as archive,
        _partial_report(as_json, quiet, _verbose(ctx)),
        interrupts() as stop,
    ):
        report = archive.add(
            files,
            as_name=as_name,
            replace=replace,
            recursive=recursive,
            into=into,
            jobs=jobs,
            on_wait=_on_wait,
            should_stop=stop.requested,
        )
    _render_stopped(report, as_json, stop, quiet=quiet, verbose=_verbose(ctx))


@command("withdraw")
def withdraw_cmd(
    ctx: typer.Context,
    name: Annotated[
        str,
        typer.Argument(
            metavar="NAME",
            help="Document name in full: its path inside the seeds folder, or the seed's "
            "path as typed (seeds/2026/x.txt); not a prefix.",
        ),
    ],
    reason: Annotated[
        str,
        typer.Option(
            "--reason", metavar="TEXT", help="Why it is withdrawn (kept in the event log)."
        ),
    ],
    as_json: JsonOpt = False,
) -> None:
    """Withdraw a document: a new version without the file. It leaves default search and
    list; nothing is deleted (history, cat --rev N and proofs still reach every earlier
    version). Adding the file again makes a new version.

    Example: provarchive withdraw 2026/leak.txt --reason "source asked, legal review"
    """
    with _archive(ctx) as archive:
        archive.require()
        name = archive.resolve_name(name, prefix=False)  # what it changes, named in full
        done = archive.withdraw(name, reason, on_wait=_on_wait)
    if as_json:
        _print_json(done.to_json())
        return
    out.print(
        f"Withdrawn: {escape(display_name(name))} at v{done.version}; "
        f"v{done.withdrawn_version} stays archived:"
    )
    out.print(f"    sha256 {done.sha256}", markup=False)


@command("reclean")
def reclean_cmd(
    ctx: typer.Context,
    names: Annotated[list[str] | None, typer.Argument(help="Documents (default: all).")] = None,
    jobs: CleaningJobsOpt = 1,
    as_json: JsonOpt = False,
) -> None:
    """Re-run the current cleaner; a changed output becomes a new current derivation.

    Example: provarchive reclean 2026/story.txt --json; provarchive reclean --jobs 4
    """
    with _archive(ctx) as archive, _progress(not as_json) as bar, interrupts() as stop:

        def progress(done: int, total: int) -> None:
            stop.check()  # all or nothing: an interrupt rolls the whole reclean back
            bar.stage("Re-cleaning", done, total)

        report = archive.reclean(names or None, on_wait=_on_wait, on_progress=progress, jobs=jobs)
    if as_json:
        _print_json(report.to_json())
    else:
        for doc, ver, number in report.changed:
            out.print(
                f"{escape(doc)} v{ver}: new derivation {number} (the old one is kept, superseded)"
            )
        for doc, ver, why in report.unreadable:
            err.print(
                f"not re-cleaned: {escape(display_name(doc))} v{ver}: {escape(why)}; "
                "its current derivation stays (run 'provarchive verify')"
            )
        out.print(f"Re-cleaned {report.checked} version(s): {len(report.changed)} changed.")
    if report.unreadable:
        raise typer.Exit(1)


@command("reindex")
def reindex_cmd(
    ctx: typer.Context,
    as_json: JsonOpt = False,
) -> None:
    """Rebuild the search index from the catalog (aside, then one atomic switch).

    Example: provarchive reindex
    """
    with _archive(ctx) as archive, _progress(not as_json) as bar, interrupts() as stop:

        def progress(done: int, total: int) -> None:
            stop.check()  # the new index is dropped; the old one serves on, unchanged
            bar.stage("Indexing", done, total)

        report = archive.reindex(on_wait=_on_wait, on_progress=progress)
    if as_json:
        _print_json({"versions": report.versions, "passages": report.passages})
    else:
        out.print(
            f"Search index rebuilt: {report.versions} version(s), {report.passages} passage(s)."
        )


@command("rebuild")
def rebuild_cmd(
    ctx: typer.Context,
    accept_invalid: Annotated[
        bool,
        typer.Option(
            "--accept-invalid", help="Rebuild even from objects that fail OCFL validation."
        ),
    ] = False,
    jobs: CleaningJobsOpt = 1,
    as_json: JsonOpt = False,
) -> None:
    """Recreate the catalog from the OCFL store alone (the old catalog is kept as a backup,
    at most the last 3); --jobs N validates and cleans in N worker processes.

    Example: provarchive rebuild --json; provarchive rebuild --jobs 4
    """
    with _archive(ctx) as archive:
        count = archive.rebuild(on_wait=_on_wait, accept_invalid=accept_invalid, jobs=jobs)
        foreign = archive.foreign_objects()
    if as_json:
        _print_json({"documents": count, "foreign": [{"id": i, "path": p} for i, p in foreign]})
    else:
        out.print(f"Catalog rebuilt from the store: {count} document(s).")
    for object_id, path in foreign:
        err.print(f"not imported: foreign object {escape(display_name(object_id))} at {path}")
