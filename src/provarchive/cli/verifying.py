"""verify: fixity and consistency checks with findings."""

import os
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from ..errors import UsageError
from ..findings import ERROR, INFO, WARNING, VerifyReport
from .common import (
    JsonOpt,
    _archive,
    _print_json,
    _progress,
    command,
    escape,
    out,
    verifier_option,
)

# -- verify / rebuild ----------------------------------------------------------------------------

SEVERITY_STYLE = {ERROR: "red", WARNING: "yellow", INFO: "blue"}

JobsOpt = Annotated[
    int | None,
    typer.Option("--jobs", "-j", min=1, help="Processes checking objects [default: cores]."),
]


def _jobs(jobs: int | None) -> int:
    return jobs or os.cpu_count() or 1


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
            "--key",
            metavar="PUBKEY",
            help="Check checkpoints against this verifier key (or a file holding it).",
        ),
    ] = None,
    fixity: Annotated[
        bool,
        typer.Option(
            "--fixity", help="Check the storage root only (every digest, inventory, sidecar)."
        ),
    ] = False,
    jobs: JobsOpt = None,
    due: Annotated[
        str | None,
        typer.Option(
            "--due", metavar="AGE", help="Only versions not verified for AGE (30d, 12h, 10m)."
        ),
    ] = None,
    sample: Annotated[
        int | None,
        typer.Option(
            "--sample",
            metavar="N",
            min=0,
            help="Only the objects of N versions chosen at random (each checked whole).",
        ),
    ] = None,
    budget: Annotated[
        str | None,
        typer.Option(
            "--budget", metavar="TIME", help="As many versions as fit in TIME, oldest first."
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Check fixity of every stored byte and the consistency of catalog, index, log and seeds.

    Example: provarchive verify --due 30d --budget 10m --json
    """
    trusted = verifier_option(key).verifier_key if key else None
    due_age = _duration(due, "--due")
    budget_time = _duration(budget, "--budget")
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
            key=trusted,
            on_progress=lambda stage, d, t: bar.stage(f"Verifying {stage}", d, t),
            fixity=fixity,
            jobs=_jobs(jobs),
            due=due_age,
            sample=sample,
            budget=budget_time.total_seconds() if budget_time is not None else None,
        )
    if as_json:
        _print_json(report.to_json())
    else:
        _print_findings(report)
        c = report.checked
        out.print(
            f"Verified {c['objects']} object(s), {c['versions']} version(s), "
            f"{c['content_files']} content file(s), {c['bytes']:,} bytes, {c['seeds']} seed(s): "
            f"{_verdict(report)}"
        )
    if not report.is_ok():
        raise typer.Exit(1)


def _duration(text: str | None, option: str) -> timedelta | None:
    if text is None:
        return None
    from ..verify.audit import parse_duration

    try:
        return parse_duration(text)
    except UsageError as exc:
        raise typer.BadParameter(str(exc), param_hint=option) from exc


def _verdict(report: VerifyReport) -> str:
    warnings = len(report.warnings())
    if not report.is_ok():
        return f"[red]FAILED[/] ({len(report.errors())} error(s), {warnings} warning(s))"
    return f"[yellow]OK with {warnings} warning(s)[/]" if warnings else "[green]OK[/]"


def _print_findings(report: VerifyReport) -> None:
    """One block per finding: codes, names and digests are never cut to fit a column."""
    for f in report.findings:
        code = f"{f.code} ({f.ocfl_code})" if f.ocfl_code else f.code
        out.print(f"[{SEVERITY_STYLE[f.severity]}]{f.severity}[/] {code}", soft_wrap=True)
        for label, value in (
            ("document", f.document),
            ("path", f.path),
            ("message", f.message),
            ("expected", f.expected),
            ("found", f.found),
        ):
            if value:
                out.print(f"  {label}: {escape(value)}", soft_wrap=True, highlight=False)
    if report.findings:
        out.print(
            f"{len(report.errors())} error(s), {len(report.warnings())} warning(s), "
            f"{len(report.findings) - len(report.errors()) - len(report.warnings())} note(s)"
        )


@command("validate")
def validate_cmd(
    paths: Annotated[
        list[Path], typer.Argument(help="OCFL objects or storage roots, made by any tool.")
    ],
    jobs: JobsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Validate OCFL 1.1 objects or storage roots (any tool's) against every OCFL code.

    Example: provarchive validate /mnt/other-repository/ocfl --json
    """
    from ..verify import validate_paths

    report = validate_paths(paths, jobs=_jobs(jobs))
    if as_json:
        _print_json(report.to_json())
    else:
        _print_findings(report)
        c = report.checked
        out.print(
            f"Validated {c['objects']} object(s), {c['content_files']} content file(s), "
            f"{c['bytes']:,} bytes: {_verdict(report)}"
        )
    if not report.is_ok():
        raise typer.Exit(1)
