"""verify: fixity and consistency checks with findings."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from ..findings import ERROR, INFO, WARNING
from .common import (
    JsonOpt,
    _archive,
    _print_json,
    _progress,
    command,
    out,
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
    checkpoint: Annotated[
        list[Path] | None,
        typer.Option(
            "--checkpoint",
            metavar="FILE",
            help="A checkpoint kept outside the archive: prove today's log extends it (repeatable).",
        ),
    ] = None,
    key: Annotated[
        str | None,
        typer.Option(
            "--key", metavar="PUBKEY", help="Check checkpoints against this verifier key."
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Check fixity of every stored byte and the consistency of catalog, index, log and seeds."""
    checkpoints = []
    for path in checkpoint or []:
        try:
            checkpoints.append((str(path), path.read_text()))
        except (OSError, UnicodeDecodeError) as exc:
            raise typer.BadParameter(
                f"cannot read {path}: {exc}", param_hint="--checkpoint"
            ) from exc
    with _archive(ctx) as archive, _progress(not as_json) as bar:
        report = archive.verify(
            full=full,
            check_seeds=not no_seeds,
            rederive=rederive,
            checkpoints=checkpoints,
            key=key,
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
