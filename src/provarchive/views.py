"""What show and explain present of a version's current derivation.

Contract: readers only. :func:`view` gives the current derivation of a version
(passages, removed lines, cleaner, page verdict, publication date);
:func:`explain` every raw line with the recorded decision that covers it;
:func:`list_documents`, :func:`stats` and :func:`diff` what ``list``, ``stats``
and ``diff`` show.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from .catalog import queries
from .errors import DocumentNotFoundError, VersionNotFoundError, WithdrawnError
from .home import Home
from .timestamps import iso_or_none


@dataclass(frozen=True)
class DerivationView:
    """The current derivation of one version, as ``show`` and ``explain`` present it."""

    document: str
    version: int
    number: int
    status: str
    detail: str | None
    encoding: str | None
    title: str | None
    cleaner: str
    rules_digest: str
    output_sha256: str
    passages: list[dict[str, Any]]
    removed: list[dict[str, Any]]
    page: dict[str, Any] | None = None
    """The cleaner's verdict: is_page, score, evidence (None for keep-all)."""
    published: str | None = None
    environment: dict[str, str] | None = None


def view(home: Home, name: str, number: int | None = None) -> DerivationView | None:
    """The current derivation of ``name`` v``number`` (default latest), or None if none yet."""
    with home.catalog.session() as s:
        versions = queries.versions_of(s, name)
        if not versions:
            raise DocumentNotFoundError(name)
        number = versions[-1].number if number is None else number
        by_number = {v.number: v for v in versions}
        if number not in by_number:
            doc = queries.document(s, name)
            head = doc.head if doc is not None else versions[-1].number
            if 1 <= number <= head:  # a withdrawal: a version that holds no file
                earlier = [n for n in by_number if n < number]
                raise WithdrawnError(name, number, max(earlier) if earlier else None)
            raise VersionNotFoundError(name, number, head)
        version = by_number[number]
        rec = queries.current_derivation(s, version.id)
        if rec is None:
            return None
        passages = [
            {
                "passage_id": p.passage_id,
                "ordinal": p.ordinal,
                "kind": p.kind,
                "text": p.text,
                "passage_sha256": p.sha256,
                "raw_span": [p.raw_start, p.raw_end],
            }
            for p in queries.passages_of(s, rec.id)
        ]
        removed = [
            {
                "raw_span": [r.raw_start, r.raw_end],
                "text": r.text,
                "rule": r.rule,
                "reason": r.reason,
            }
            for r in queries.removals_of(s, rec.id)
        ]
        return DerivationView(
            document=name,
            version=number,
            number=rec.number,
            status=rec.status,
            detail=rec.detail,
            encoding=rec.encoding,
            title=rec.title,
            cleaner=f"{rec.cleaner_name} {rec.cleaner_version}",
            rules_digest=rec.rules_digest,
            output_sha256=rec.output_sha256,
            passages=passages,
            removed=removed,
            page=verdict.to_json() if (verdict := rec.page_verdict()) is not None else None,
            published=rec.published,
            environment=rec.json_field("environment"),
        )


@dataclass(frozen=True)
class ExplainedLine:
    """One raw line and what the recorded derivation did with it."""

    number: int
    raw_span: tuple[int, int]
    text: str
    action: str  # "KEEP" | "DROP" | ""
    label: str  # passage kind, or rule id
    reason: str


def explain(
    home: Home, name: str, number: int | None = None
) -> tuple[DerivationView | None, list[ExplainedLine]]:
    """Every raw line of a version with the recorded decision that covers it."""
    from .cleaning.text import decode_as, split_lines

    dv = view(home, name, number)
    if dv is None or dv.status != "text" or dv.encoding is None:
        return dv, []
    decoded = decode_as(home.read_bytes(name, dv.version), dv.encoding)
    spans = split_lines(decoded.text)
    positions = sorted({p for span in spans for p in span})
    lookup = dict(zip(positions, decoded.byte_offsets(positions), strict=True))
    covering: list[tuple[int, int, str, str, str]] = [
        (p["raw_span"][0], p["raw_span"][1], "KEEP", p["kind"], "") for p in dv.passages
    ] + [(r["raw_span"][0], r["raw_span"][1], "DROP", r["rule"], r["reason"]) for r in dv.removed]
    covering.sort()
    lines = []
    k = 0
    for i, (start, end) in enumerate(spans, 1):
        b_start, b_end = lookup[start], lookup[end]
        text = decoded.text[start:end]
        while k < len(covering) and covering[k][1] <= b_start:
            k += 1
        action = label = reason = ""
        if text.strip() and k < len(covering) and covering[k][0] < b_end:
            _, _, action, label, reason = covering[k]
        lines.append(ExplainedLine(i, (b_start, b_end), text, action, label, reason))
    return dv, lines


# -- list, stats, diff ------------------------------------------------------------------------


@dataclass(frozen=True)
class DocumentRow:
    """One document as ``list`` shows it: its latest version holding the file."""

    document: str
    version: int | None
    head: int
    size: int | None
    sha256: str | None
    ingested_at: datetime | None
    status: str | None
    passages: int
    withdrawn: bool
    withdrawn_at: datetime | None
    withdrawn_reason: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "document": self.document,
            "version": self.version,
            "head": self.head,
            "size": self.size,
            "sha256": self.sha256,
            "ingested_at": iso_or_none(self.ingested_at),
            "status": self.status,
            "passages": self.passages,
            "withdrawn": self.withdrawn,
            "withdrawn_at": iso_or_none(self.withdrawn_at),
            "withdrawn_reason": self.withdrawn_reason,
        }


def list_documents(home: Home) -> list[DocumentRow]:
    """Every document, by name (withdrawn ones included, flagged)."""
    with home.catalog.session() as s:
        counts = queries.current_derivation_counts(s)
        rows = []
        for d, v in queries.document_rows(s):
            status, passages, _removed = counts.get(v.id, (None, 0, 0)) if v else (None, 0, 0)
            rows.append(
                DocumentRow(
                    document=d.name,
                    version=v.number if v else None,
                    head=d.head,
                    size=v.size if v else None,
                    sha256=v.sha256 if v else None,
                    ingested_at=v.ingested_at if v else None,
                    status=status,
                    passages=passages,
                    withdrawn=d.withdrawn,
                    withdrawn_at=d.withdrawn_at,
                    withdrawn_reason=d.withdrawn_reason,
                )
            )
        return rows


def _tree_size(path: Path) -> int:
    """Bytes of the files under ``path`` (0 if absent); files that vanish are skipped."""
    if path.is_file():
        return path.stat().st_size
    total = 0
    for root, _dirs, files in os.walk(path):
        for f in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(root, f)).st_size
    return total


@dataclass(frozen=True)
class Stats:
    """What ``stats`` reports: counts from the catalog, sizes on disk."""

    totals: dict[str, Any]
    store_bytes: int
    index_bytes: int
    catalog_bytes: int
    """The catalog file(s), or its tables on a database server (--db-url)."""

    def to_json(self) -> dict[str, Any]:
        t = dict(self.totals)
        last = t.pop("last_verify")
        return {
            "documents": t["documents"],
            "withdrawn": t["withdrawn"],
            "versions": t["versions"],
            "bytes": t["bytes"],
            "passages": t["passages"],
            "removed_lines": t["removed_lines"],
            "store_bytes": self.store_bytes,
            "index_bytes": self.index_bytes,
            "catalog_bytes": self.catalog_bytes,
            "oldest_verified_at": iso_or_none(t["oldest_verified_at"]),
            "never_verified": t["never_verified"],
            "last_verify": None
            if last is None
            else {
                "at": iso_or_none(last.occurred_at),
                "outcome": last.outcome,
                "detail": last.detail,
            },
        }


def stats(home: Home) -> Stats:
    with home.catalog.session() as s:
        totals = queries.archive_totals(s)
        if totals["last_verify"] is not None:
            s.expunge(totals["last_verify"])
    index_bytes = _tree_size(home.config.index_dir)
    if home.config.db_url is None:
        path = home.catalog_path
        catalog_bytes = sum(
            _tree_size(p) for p in (path, Path(f"{path}-wal"), Path(f"{path}-journal"))
        )
    else:  # tables on the server: the PostgreSQL search engine's are the index
        from .catalog.postgres_search import TABLES

        sizes = home.catalog.table_bytes()
        catalog_bytes = sum(n for t, n in sizes.items() if t not in TABLES)
        index_bytes += sum(n for t, n in sizes.items() if t in TABLES)
    return Stats(
        totals=totals,
        store_bytes=_tree_size(home.store.root),
        index_bytes=index_bytes,
        catalog_bytes=catalog_bytes,
    )


@dataclass(frozen=True)
class Diff:
    """A unified diff between two versions, of the kept text or of the raw text."""

    document: str
    old: int
    new: int
    raw: bool
    lines: list[str]
    added: list[str]
    """Passage texts in the new version's kept text and not in the old one's (kept text only)."""
    removed: list[str]

    def to_json(self) -> dict[str, Any]:
        return {
            "document": self.document,
            "from": self.old,
            "to": self.new,
            "raw": self.raw,
            "diff": "".join(self.lines),
            "passages_added": self.added,
            "passages_removed": self.removed,
        }


def _kept_text(home: Home, name: str, number: int) -> list[str]:
    dv = view(home, name, number)
    if dv is None:
        return []
    return [p["text"] for p in dv.passages]


def _raw_text(home: Home, name: str, number: int) -> list[str]:
    """The raw lines, decoded as the version's derivation decoded them (else UTF-8, a bad
    byte shown as U+FFFD)."""
    from .cleaning.text import decode_as

    raw = home.read_bytes(name, number)
    dv = view(home, name, number)
    if dv is not None and dv.encoding is not None:
        return decode_as(raw, dv.encoding).text.splitlines()
    return raw.decode("utf-8", "replace").splitlines()


def diff(home: Home, name: str, old: int, new: int, *, raw: bool = False) -> Diff:
    """Unified diff (difflib) of version ``old`` against ``new``: the kept passages, one
    per line, or with ``raw`` the raw text (see :func:`_raw_text`)."""
    import difflib

    read = _raw_text if raw else _kept_text
    a, b = read(home, name, old), read(home, name, new)
    what = "raw" if raw else "kept text"
    lines = [
        line if line.endswith("\n") else line + "\n"
        for line in difflib.unified_diff(
            a, b, f"{name} v{old} ({what})", f"{name} v{new} ({what})", lineterm=""
        )
    ]
    added: list[str] = []
    removed: list[str] = []
    if not raw:
        old_set, new_set = set(a), set(b)
        added = [t for t in b if t not in old_set]
        removed = [t for t in a if t not in new_set]
    return Diff(name, old, new, raw, lines, added, removed)
