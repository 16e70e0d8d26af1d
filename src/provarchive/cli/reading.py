"""Commands that read the archive: show, cat, history, log, clean, explain, lineage, search."""

import sys
from collections.abc import Collection
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import UsageError
from ..timestamps import iso
from ..timestamps import parse as parse_stamp
from .common import (
    JsonOpt,
    NameArg,
    VersionOpt,
    _archive,
    _print_json,
    command,
    display_name,
    err,
    escape,
    out,
)

# -- reading -------------------------------------------------------------------------------------


@command("show")
def show_cmd(
    ctx: typer.Context,
    name: NameArg,
    version: VersionOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A document's versions and digests, and how one version was cleaned.

    Example: provarchive show 2026/story.txt --rev 1 --json
    """
    with _archive(ctx) as archive:
        archive.require()
        name = archive.resolve_name(name)
        versions = archive.versions(name)
        if version is not None:
            archive.version(name, version)
        dv = archive.view(name, version)
        withdrawn = archive.document(name).withdrawn
        # The store's withdrawals; none although the catalog says withdrawn is a catalog
        # record verify reports (CATALOG_RECORD_MISMATCH): show what the store holds.
        gone = next(reversed(archive.withdrawals(name)), None) if withdrawn else None
    if as_json:
        _print_json(
            _show_json(name, versions, dv)
            | {"withdrawn": gone.to_json() if gone is not None else None}
        )
        return
    out.print(f"[bold]{escape(name)}[/]  ({len(versions)} version(s))")
    if gone is not None:
        out.print(_withdrawn_line(gone))
    for v in versions:
        if version is not None and v.version != version:
            continue
        out.print(
            f"v{v.version}  {v.ingested_at.strftime('%Y-%m-%d %H:%M:%S UTC')}  {v.size:,} bytes  "
            f"from {escape(v.source)}"
        )
        out.print(f"    sha256 {v.sha256}", markup=False)
        out.print(f"    sha512 {v.sha512}", markup=False)
    if dv is None:
        return
    out.print(
        f"v{dv.version}, derivation {dv.number} ({escape(dv.cleaner)}): "
        f"{escape(dv.title or '(no title)')}; {len(dv.passages)} passage(s), "
        f"{len(dv.removed)} line(s) removed ({dv.status}, {dv.encoding or 'no encoding'})"
    )
    if dv.page is not None:
        what = "a web page" if dv.page["is_page"] else "not a web page: every line kept"
        out.print(f"    judged {what} (score {dv.page['score']:.2f})")
        for reason in dv.page["evidence"]:
            out.print(f"      - {escape(reason)}")
    out.print(f"    published {dv.published or 'unknown (no date line found)'}")
    out.print("    'provarchive explain' shows the decision for every line.")


def _withdrawn_line(w: Any) -> str:
    return (
        f"[bold yellow]WITHDRAWN[/] at v{w.version} on {w.at.strftime('%Y-%m-%d %H:%M:%S UTC')}: "
        f"{escape(w.reason)} (v{w.withdrawn_version} stays archived; out of default search)"
    )


def _show_json(name: str, versions: list[Any], dv: Any) -> dict[str, Any]:
    derivation = None
    if dv is not None:
        derivation = {
            "version": dv.version,
            "number": dv.number,
            "cleaner": dv.cleaner,
            "rules_digest": dv.rules_digest,
            "status": dv.status,
            "encoding": dv.encoding,
            "output_sha256": dv.output_sha256,
            "page": dv.page,
            "environment": dv.environment,
        }
    return {
        "document": name,
        "versions": [v.to_json() for v in versions],
        "title": dv.title if dv else None,
        "published": dv.published if dv else None,
        "derivation": derivation,
        "passages": dv.passages if dv else [],
        "removed": dv.removed if dv else [],
    }


@command("cat")
def cat_cmd(
    ctx: typer.Context,
    name: NameArg,
    version: VersionOpt = None,
    force: Annotated[
        bool,
        typer.Option("--force", help="Write the bytes even if they are damaged (still exit 7)."),
    ] = False,
) -> None:
    """Write the exact raw bytes of a version to stdout, after checking them against their
    recorded digests: damaged bytes are not written (exit 7) unless --force.

    Example: provarchive cat 2026/story.txt --rev 1 > original.txt
    """
    with _archive(ctx) as archive:
        archive.require()
        name = archive.resolve_name(name)
        try:
            archive.copy_verified(name, version, sys.stdout.buffer, force=force)
        finally:
            sys.stdout.buffer.flush()


@command("history")
def history_cmd(
    ctx: typer.Context,
    name: NameArg,
    as_json: JsonOpt = False,
) -> None:
    """A document's versions and every event recorded about it.

    Example: provarchive history seeds/2026/story.txt
    """
    with _archive(ctx) as archive:
        archive.require()
        name = archive.resolve_name(name)
        versions = archive.versions(name)
        events = archive.events(document=name)
        withdrawals = archive.withdrawals(name)
        withdrawn = archive.document(name).withdrawn
    if as_json:
        _print_json(
            {
                "document": name,
                "withdrawn": withdrawn,
                "versions": [
                    v.to_json() | {"message": v.message, "user": v.user} for v in versions
                ],
                "withdrawals": [w.to_json() for w in withdrawals],
                "events": [_event_json(e) for e in events],
            }
        )
        return
    marker = " [bold yellow](withdrawn)[/]" if withdrawn else ""
    out.print(f"[bold]{escape(display_name(name))}[/]: {len(versions)} version(s){marker}")
    lines: list[tuple[int, str, str | None]] = [
        (
            v.version,
            f"v{v.version}  {v.ingested_at.strftime('%Y-%m-%d %H:%M:%S UTC')}  "
            f"by {escape(v.user)}: {escape(display_name(v.message))}",
            v.sha256,
        )
        for v in versions
    ] + [
        (
            w.version,
            f"v{w.version}  {w.at.strftime('%Y-%m-%d %H:%M:%S UTC')}  [bold yellow]withdrawn[/] "
            f"v{w.withdrawn_version}: {escape(w.reason)}",
            None,
        )
        for w in withdrawals
    ]
    for _number, line, sha256 in sorted(lines, key=lambda item: item[0]):
        out.print(line)
        if sha256 is not None:
            out.print(f"    sha256 {sha256}", markup=False)
    out.print(f"[bold]events[/] ({len(events)})")
    _print_events(events)


def _event_json(e: Any) -> dict[str, Any]:
    return {
        "id": e.id,
        "occurred_at": iso(e.occurred_at),
        "type": e.event_type,
        "outcome": e.outcome,
        "agent": e.agent,
        "document": e.document,
        "version": e.version,
        "detail": e.detail,
    }


def _print_events(events: list[Any]) -> None:
    """One event per line, then its detail indented: names and details never cut."""
    styles = {"success": "green", "failure": "red", "warning": "yellow"}
    for e in events:
        doc = display_name(e.document) if e.document else ""
        if e.version is not None:
            doc += f" v{e.version}"
        style = styles.get(e.outcome, "")
        out.print(
            f"{e.occurred_at.strftime('%Y-%m-%d %H:%M:%S')}  {e.event_type}  "
            f"[{style}]{e.outcome}[/]  {escape(doc)}"
        )
        out.print(f"    {escape(display_name(e.detail))}")


@command("log")
def log_cmd(
    ctx: typer.Context,
    document: Annotated[
        str | None, typer.Option("--document", help="Only events about this document.")
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", metavar="N", help="Most recent N events (0: all).")
    ] = 50,
    as_json: JsonOpt = False,
) -> None:
    """The archive's event log: ingestion, digests, fixity checks, repairs, withdrawals.

    Example: provarchive log --document 2026/story.txt --limit 0 --json
    """
    if limit < 0:
        raise typer.BadParameter(f"{limit} is negative: give 0 (all) or more", param_hint="--limit")
    with _archive(ctx) as archive:
        archive.require()
        if document is not None:
            document = archive.resolve_name(document)
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
            "--out-dir",
            metavar="DIR",
            help="Write DIR/<file name> with the body passages, one per line.",
        ),
    ] = None,
    keep_all: Annotated[
        bool, typer.Option("--keep-all", help="Strip nothing: every line is a passage.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Clean files without archiving them: a dry run of what ingest would keep.

    Example: provarchive clean page.txt --json
    """
    from ..cleaning.text import TEXT
    from ..dryrun import clean_files

    results = clean_files(files, out_dir, cleaner="keep-all" if keep_all else "default")
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
    if not as_json:  # a file with no text would otherwise pass without a word
        for r in results:
            d = r.derivation
            if d is not None and d.status != TEXT:
                why = escape(d.detail or d.status)
                err.print(f"no text: {escape(r.path)}: {escape(d.status)} ({why})")
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
    """Every raw line with KEEP/DROP and the passage kind or the rule that decided.

    Example: provarchive explain 2026/story.txt
    """
    with _archive(ctx) as archive:
        archive.require()
        name = archive.resolve_name(name)
        dv, lines = archive.explain(name, version)
    if as_json:
        _print_json(
            {
                "document": name,
                "version": dv.version if dv else None,
                "derivation": dv.number if dv else None,
                "status": dv.status if dv else None,
                "page": dv.page if dv else None,
                "published": dv.published if dv else None,
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
    if dv.page is not None:
        verdict = (
            "a web page: boilerplate dropped on evidence"
            if dv.page["is_page"]
            else ("not a web page: every line kept")
        )
        out.print(f"Judged {verdict} (score {dv.page['score']:.2f}).")
        for reason in dv.page["evidence"]:
            out.print(f"  - {escape(reason)}")
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
    passage_id: Annotated[
        str,
        typer.Argument(metavar="PASSAGE_ID", help="Passage id, NAME@vN#K (from show or search)."),
    ],
    fmt: Annotated[
        str,
        typer.Option("--format", metavar="FORMAT", help="text, json or prov-json (W3C PROV-JSON)."),
    ] = "text",
    derivation: Annotated[
        int | None,
        typer.Option(
            "--derivation",
            metavar="N",
            help="A superseded derivation number (default: current).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Same as --format json.")] = False,
) -> None:
    """The chain seeds file -> stored version -> cleaning run -> passage.

    Example: provarchive lineage '2026/story.txt@v1#3' --json
    """
    from ..lineage import to_json, to_prov, to_text

    if fmt not in ("text", "json", "prov-json"):
        raise typer.BadParameter("use text, json or prov-json", param_hint="--format")
    if as_json:
        fmt = "json"
    with _archive(ctx) as archive:
        archive.require()
        lin = archive.lineage(passage_id, derivation=derivation)
    if fmt == "json":
        _print_json(to_json(lin))
    elif fmt == "prov-json":
        sys.stdout.write(to_prov(lin).serialize(indent=2) + "\n")
    else:
        out.print(escape(to_text(lin)))


# -- search ------------------------------------------------------------------------------------


def _parse_when(value: str | None, option: str, end_of_day: bool) -> datetime | None:
    if value is None:
        return None
    try:
        when = parse_stamp(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a date (YYYY-MM-DD or ISO 8601)", param_hint=option
        ) from None
    if end_of_day and len(value) == 10:
        when = when + timedelta(days=1) - timedelta(microseconds=1)
    return when


KINDS = ("title", "standfirst", "byline", "dateline", "body", "removed")


def _date(value: str | None, option: str) -> str | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a date (YYYY-MM-DD)", param_hint=option
        ) from None


@command("search")
def search_cmd(
    ctx: typer.Context,
    query: Annotated[
        str,
        typer.Argument(
            metavar="QUERY",
            help='Words, "phrases", AND/OR/NOT, prefix*, fuzzy~, kind:title (Whoosh syntax).',
        ),
    ],
    document: Annotated[
        str | None,
        typer.Option("--document", metavar="NAME|FOLDER/|GLOB", help="Only these documents."),
    ] = None,
    kind: Annotated[
        str | None, typer.Option("--kind", metavar="KIND", help=f"One of: {', '.join(KINDS)}.")
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since", metavar="DATE", help="Ingested on or after (YYYY-MM-DD or ISO 8601)."
        ),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(
            "--until", metavar="DATE", help="Ingested on or before (YYYY-MM-DD or ISO 8601)."
        ),
    ] = None,
    published_since: Annotated[
        str | None,
        typer.Option(
            "--published-since", metavar="DATE", help="Published on or after (YYYY-MM-DD)."
        ),
    ] = None,
    published_until: Annotated[
        str | None,
        typer.Option(
            "--published-until", metavar="DATE", help="Published on or before (YYYY-MM-DD)."
        ),
    ] = None,
    all_versions: Annotated[
        bool,
        typer.Option(
            "--all-versions", help="Also search earlier versions (and withdrawn documents)."
        ),
    ] = False,
    withdrawn: Annotated[
        bool,
        typer.Option("--withdrawn", help="Search only withdrawn documents (every version)."),
    ] = False,
    everything: Annotated[
        bool,
        typer.Option("--everything", help="Also the lines the cleaner removed (and why)."),
    ] = False,
    limit: Annotated[
        int, typer.Option("--limit", metavar="N", help="Hits to show (at least 1).")
    ] = 10,
    offset: Annotated[
        int, typer.Option("--offset", min=0, metavar="N", help="Skip the first N hits (paging).")
    ] = 0,
    count: Annotated[bool, typer.Option("--count", help="Print only the number of hits.")] = False,
    files_only: Annotated[
        bool, typer.Option("--files-only", help="Print only the names of matching documents.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Full-text search; every hit cites document, version, file digest and raw byte span.

    Exits 1 when nothing matched (as grep does), 2 for a bad query.

    Example: provarchive search '"North Korean" labourers' --document 2026/ --limit 5
    """
    if limit < 1:
        raise typer.BadParameter(
            f"{limit} is not a number of hits to show: give 1 or more (--count gives the total)",
            param_hint="--limit",
        )
    if kind is not None and kind not in KINDS:
        raise typer.BadParameter(f"use one of {', '.join(KINDS)}", param_hint="--kind")
    with _archive(ctx) as archive:
        archive.require()
        names: list[str] = []
        if document is not None:
            names = archive.document_names(document)
            if not names:
                _no_document(archive, document)
        gone = set(archive.withdrawn_names())
        if withdrawn:
            names = [n for n in names if n in gone] if document is not None else sorted(gone)
            all_versions = True
            if not names:
                err.print("No withdrawn document" + (" matches --document." if document else "."))
                raise typer.Exit(1)
        results = archive.search(
            query,
            documents=names,
            kind=kind,
            since=_parse_when(since, "--since", False),
            until=_parse_when(until, "--until", True),
            published_since=_date(published_since, "--published-since"),
            published_until=_date(published_until, "--published-until"),
            all_versions=all_versions,
            everything=everything,
            limit=100_000 if files_only else limit,
            offset=offset,
        )
    _render_search(
        query, results, as_json=as_json, count=count, files_only=files_only, withdrawn=gone
    )
    if results.total == 0:
        raise typer.Exit(1)


def _no_document(archive: Any, document: str) -> None:
    """--document matched nothing: a usage error (exit 2, as the README documents) naming
    the closest documents and folders."""
    import difflib

    names = archive.document_names()
    folders = sorted({n.rsplit("/", 1)[0] + "/" for n in names if "/" in n})
    close = difflib.get_close_matches(document, names, n=3, cutoff=0.6)
    close += difflib.get_close_matches(document, folders, n=2, cutoff=0.6)
    close += [n for n in names if n.startswith(document)][:3]
    suggestions = tuple(dict.fromkeys(close))[:3]
    hint = f" (did you mean {', '.join(repr(n) for n in suggestions)}?)" if suggestions else ""
    raise UsageError(
        f"--document {document!r} matches no archived document{hint}; "
        "give a name, a folder ending in '/', or a glob"
    )


def _render_search(
    query: str,
    results: Any,
    *,
    as_json: bool,
    count: bool,
    files_only: bool,
    withdrawn: Collection[str] = (),
) -> None:
    if results.index_behind:
        err.print(
            f"Warning: the index is behind: {results.index_behind} version(s) are not "
            "searchable yet; the next writing command (or 'provarchive reindex') indexes them."
        )
    files = list(dict.fromkeys(h.document for h in results.hits))
    if as_json:
        data = results.to_json()
        if count:
            data = {k: data[k] for k in ("query", "total", "index_behind")}
        elif files_only:
            data = {"query": query, "total": results.total, "documents": files}
        _print_json(data)
        return
    if count:
        out.print(str(results.total))
        return
    if files_only:
        for name in files:
            out.print(escape(name))
        return
    if not results.hits and results.total:
        out.print(
            f"{results.total} hit(s) for [bold]{escape(query)}[/], none from "
            f"{results.offset + 1} on (--offset {results.offset} is past the last)."
        )
        return
    if not results.hits:
        out.print(f"No hits for {escape(query)}.")
        if results.removed_matches:
            err.print(
                f"{results.removed_matches} line(s) the cleaner removed match: "
                "'--everything' shows them with the rule that removed them."
            )
        return
    first = results.offset + 1
    out.print(
        f"{results.total} hit(s) for [bold]{escape(query)}[/], showing "
        f"{first}-{results.offset + len(results.hits)}:"
    )
    for rank, h in enumerate(results.hits, first):
        flag = "" if h.current else " [yellow](earlier version)[/]"
        if h.document in withdrawn:
            flag = " [bold yellow](withdrawn)[/]"
        if h.kind == "removed":
            flag += f" [red](removed by the cleaner: {escape(h.rule or '?')})[/]"
        out.print(
            f"\n[bold]{rank}.[/] [cyan]{escape(h.document)}[/] v{h.version} #{h.ordinal} "
            f"({h.kind}){flag}  score {h.score:.2f}  bytes [{h.raw_span[0]}, {h.raw_span[1]})"
        )
        out.print("   " + _bold_marks(h.snippet))
        out.print(f"   [dim]cite: {escape(h.passage_id)}[/]")
        out.print(f"   [dim]file sha256 {h.sha256}[/]")


def _bold_marks(snippet: str) -> str:
    """``**term**`` marks from the index as rich bold, everything else escaped."""
    parts = snippet.split("**")
    return "".join(
        f"[bold yellow]{escape(p)}[/]" if i % 2 else escape(p) for i, p in enumerate(parts)
    )


# -- list, stats, diff -------------------------------------------------------------------------


def _list(
    ctx: typer.Context,
    pattern: Annotated[
        str | None,
        typer.Argument(
            metavar="PATTERN", help="A name, a folder ending in '/', or a glob ('2026/*.txt')."
        ),
    ] = None,
    withdrawn: Annotated[
        bool, typer.Option("--withdrawn", help="Include withdrawn documents (flagged).")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Archived documents (alias: ls): latest version, size, date, cleaning status,
    passages, and the withdrawn flag. Withdrawn documents only with --withdrawn.

    Example: provarchive list 2026/ --json
    """
    with _archive(ctx) as archive:
        archive.require()
        rows = archive.list_documents(pattern, withdrawn=withdrawn)
    if as_json:
        _print_json({"documents": [r.to_json() for r in rows]})
        return
    if not rows:
        err.print("No documents" + (f" match {escape(pattern)}." if pattern else "."))
        return
    out.print(f"[dim]{'VER':<4} {'SIZE':>12}  {'INGESTED':<16}  {'STATUS':<8} PASSAGES NAME[/]")
    for r in rows:
        when = r.ingested_at.strftime("%Y-%m-%d %H:%M") if r.ingested_at else "-"
        flag = "  [bold yellow]withdrawn[/]" if r.withdrawn else ""
        out.print(
            f"v{r.version or 0:<3} {r.size or 0:>12,}  {when:<16}  {r.status or '-':<8} "
            f"{r.passages:>8} {escape(display_name(r.document))}{flag}"
        )
    out.print(f"{len(rows)} document(s).")


command("list")(_list)
command("ls", help="Alias of list.", hidden=True)(_list)


@command("stats")
def stats_cmd(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Documents, versions, bytes stored, passages, removed lines, index and catalog sizes,
    the last verify and the oldest verification.

    Example: provarchive stats --json
    """
    with _archive(ctx) as archive:
        archive.require()
        data = archive.stats().to_json()
    if as_json:
        _print_json(data)
        return
    last = data["last_verify"]
    catalog = f"{data['catalog_bytes']:,} bytes"
    lines = [
        f"documents      {data['documents']:,} ({data['withdrawn']:,} withdrawn)",
        f"versions       {data['versions']:,}",
        f"bytes          {data['bytes']:,} in versions, {data['store_bytes']:,} in the store",
        f"passages       {data['passages']:,} ({data['removed_lines']:,} removed lines)",
        f"index          {data['index_bytes']:,} bytes",
        f"catalog        {catalog}",
        "last verify    "
        + ("never" if last is None else f"{last['at']} {last['outcome']}: {last['detail']}"),
        "oldest check   "
        + (data["oldest_verified_at"] or "none")
        + f" ({data['never_verified']:,} version(s) never re-hashed)",
    ]
    for line in lines:
        out.print(line, markup=False)


@command("diff")
def diff_cmd(
    ctx: typer.Context,
    name: NameArg,
    old: Annotated[int, typer.Argument(metavar="V1", help="The older version number.")],
    new: Annotated[int, typer.Argument(metavar="V2", help="The newer version number.")],
    raw: Annotated[
        bool, typer.Option("--raw", help="Diff the raw text, not the kept (cleaned) text.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Unified diff of two versions: the kept passages (one per line) by default, the raw
    text with --raw; JSON adds the passages added and removed.

    Example: provarchive diff 2026/story.txt 1 2
    """
    with _archive(ctx) as archive:
        archive.require()
        name = archive.resolve_name(name)
        d = archive.diff(name, old, new, raw=raw)
    if as_json:
        _print_json(d.to_json())
        return
    sys.stdout.write("".join(d.lines))
    if not d.lines:
        err.print(f"v{old} and v{new} are the same ({'raw' if raw else 'kept'} text).")
