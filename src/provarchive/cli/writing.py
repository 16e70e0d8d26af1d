"""Commands that change the archive: init, ingest, add, reclean, reindex, rebuild."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from .common import (
    CleanerOpt,
    JsonOpt,
    _archive,
    _on_wait,
    _print_json,
    _progress,
    command,
    err,
    out,
)

# -- init / ingest / add ------------------------------------------------------------------------


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
    cleaner: CleanerOpt = "default",
    as_json: JsonOpt = False,
) -> None:
    """Archive the seeds folder: new files, and new versions of changed files.

    Example: provarchive ingest seeds/2026 --cleaner keep-all
    """
    _check_cleaner(cleaner)
    with _archive(ctx, cleaner=cleaner) as archive, _progress(not as_json) as bar:
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
    as_json: JsonOpt = False,
) -> None:
    """Copy files into the seeds folder, then archive them.

    Examples: provarchive add ~/Downloads/story.txt --as 2026/story.txt;
    provarchive add -r ~/interviews --into 2026
    """
    _check_cleaner(cleaner)
    with _archive(ctx, cleaner=cleaner) as archive:
        report = archive.add(
            files,
            as_name=as_name,
            replace=replace,
            recursive=recursive,
            into=into,
            on_wait=_on_wait,
        )
    _render_ingest(report, as_json)


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
