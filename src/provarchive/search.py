"""Search over the archive: keeping the index in step with the catalog, querying it,
and auditing it.

Contract:
- The catalog is the truth. Each derivation records what the index last
  committed for it (``indexed``: nothing, "current" or "old"); :func:`sync_index`
  brings every version whose state differs up to date in one Whoosh commit,
  then records the new states. A crash in between only means the next sync
  does the same (idempotent) work again. Every writing command syncs when it
  starts (catch-up after a crash) and when it ends.
- A missing or unreadable index is recreated from the catalog by the next
  writer (logged as a repair); :func:`reindex` does it on demand.
- :func:`search` reads only the index and never waits for a writer.
- :func:`audit_index` compares index and catalog for ``verify``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, select, update

from .archive import Archive
from .catalog import DerivationRecord, Document, PassageRecord, Version, new_event
from .digests import sha256_hex
from .errors import SearchIndexError
from .findings import Finding
from .index import IndexEntry, PassageIndex, SearchResults

log = logging.getLogger(__name__)


def passage_index(archive: Archive) -> PassageIndex:
    """The archive's long-lived index handle (searches reuse its open searcher)."""
    return archive.index


def _on_disk(archive: Archive) -> PassageIndex:
    """A fresh handle: writers and the audit look at the index as it is on disk now."""
    return PassageIndex(archive.config.index_dir)


@dataclass
class SyncReport:
    versions: int = 0
    passages: int = 0
    recreated: str | None = None


def _desired() -> Any:
    return case(
        (DerivationRecord.current.is_(False), None),
        (Version.number == Document.head, "current"),
        else_="old",
    )


def sync_index(
    archive: Archive, *, on_progress: Callable[[int, int], None] | None = None
) -> SyncReport:
    """Bring the index up to the catalog (caller holds the writer lock)."""
    report = SyncReport()
    pi = _on_disk(archive)
    problem = None
    if not pi.exists():
        problem = "missing"
    else:
        try:
            pi.doc_count()
            pi.close()
        except SearchIndexError as exc:
            problem = f"unreadable ({exc})"
    if problem is not None:
        pi.create()
        with archive.catalog.session() as s:
            had_index = s.scalar(
                select(DerivationRecord.id).where(DerivationRecord.indexed.is_not(None)).limit(1)
            )
            s.execute(update(DerivationRecord).values(indexed=None))
        # A new archive simply gets its first index; anything else is a repair.
        if had_index is not None or problem != "missing":
            report.recreated = problem
    desired = _desired()
    with archive.catalog.session() as s:
        rows = s.execute(
            select(
                DerivationRecord.id,
                DerivationRecord.indexed,
                desired.label("desired"),
                DerivationRecord.current,
                Document.name,
                Version.number,
                Version.sha256,
                Version.ingested_at,
            )
            .join(Version, Version.id == DerivationRecord.version_id)
            .join(Document, Document.id == Version.document_id)
            .where(
                (DerivationRecord.indexed.is_(None) & desired.is_not(None))
                | (DerivationRecord.indexed.is_not(None) & desired.is_(None))
                | (DerivationRecord.indexed != desired)
            )
            .order_by(Document.name, Version.number)
        ).all()
    if not rows:
        return report
    todo = [r for r in rows if r.current]
    with pi.writing() as writer:
        for i, r in enumerate(todo, 1):
            with archive.catalog.session() as s:
                passages = s.execute(
                    select(PassageRecord)
                    .where(PassageRecord.derivation_id == r.id)
                    .order_by(PassageRecord.ordinal)
                ).scalars()
                entries = [
                    IndexEntry(
                        passage_id=p.passage_id,
                        document=r.name,
                        version=r.number,
                        ordinal=p.ordinal,
                        kind=p.kind,
                        text=p.text,
                        passage_sha256=p.sha256,
                        raw_sha256=r.sha256,
                        raw_start=p.raw_start,
                        raw_end=p.raw_end,
                        ingested=r.ingested_at,
                        current=r.desired == "current",
                    )
                    for p in passages
                ]
            writer.replace_version(r.name, r.number, entries)
            report.versions += 1
            report.passages += len(entries)
            if on_progress is not None:
                on_progress(i, len(todo))
    with archive.catalog.session() as s:
        for r in rows:
            s.execute(
                update(DerivationRecord)
                .where(DerivationRecord.id == r.id)
                .values(indexed=r.desired)
            )
        detail = f"{report.versions} version(s), {report.passages} passage(s) indexed"
        if report.recreated:
            detail = f"index was {report.recreated}; recreated from the catalog: " + detail
        s.add(
            new_event("indexing", detail, outcome="success" if not report.recreated else "warning")
        )
    return report


def reindex(
    archive: Archive, *, on_progress: Callable[[int, int], None] | None = None
) -> SyncReport:
    """Rebuild the index from the catalog (caller holds the writer lock)."""
    _on_disk(archive).create()
    with archive.catalog.session() as s:
        s.execute(update(DerivationRecord).values(indexed=None))
        s.add(new_event("reindex", "search index recreated from the catalog"))
    return sync_index(archive, on_progress=on_progress)


def search(
    archive: Archive,
    query: str,
    *,
    document: str | None = None,
    kind: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    all_versions: bool = False,
    limit: int = 10,
) -> SearchResults:
    """Ranked, citable hits (reads the index only)."""
    return passage_index(archive).search(
        query,
        document=document,
        kind=kind,
        since=since,
        until=until,
        all_versions=all_versions,
        limit=limit,
    )


def audit_index(archive: Archive) -> list[Finding]:
    """Compare the index with the catalog: missing, extra, stale and altered entries."""
    pi = _on_disk(archive)
    where = str(pi.path)
    if not pi.exists():
        return [
            Finding(
                "INDEX_MISSING",
                f"no index at {where} ('provarchive reindex' rebuilds it)",
                path=where,
            )
        ]
    try:
        try:
            stored = {e["passage_id"]: e for e in pi.entries()}
        finally:
            pi.close()
    except SearchIndexError as exc:
        return [Finding("INDEX_UNREADABLE", str(exc), path=where)]
    desired = _desired()
    expected: dict[str, tuple[str, int, bool, str, bool]] = {}
    with archive.catalog.session() as s:
        for pid, name, number, want, sha, indexed in s.execute(
            select(
                PassageRecord.passage_id,
                Document.name,
                Version.number,
                desired,
                PassageRecord.sha256,
                DerivationRecord.indexed,
            )
            .join(DerivationRecord, DerivationRecord.id == PassageRecord.derivation_id)
            .join(Version, Version.id == DerivationRecord.version_id)
            .join(Document, Document.id == Version.document_id)
            .where(DerivationRecord.current.is_(True))
        ):
            expected[pid] = (name, number, want == "current", sha, indexed == want)
    findings: list[Finding] = []
    behind: set[str] = set()
    for pid, (name, number, current, sha, synced) in expected.items():
        entry = stored.get(pid)
        if entry is None:
            if synced:
                findings.append(Finding("INDEX_ENTRY_MISSING", pid, document=name, path=where))
            else:
                behind.add(name)
            continue
        if not synced:
            behind.add(name)
            continue
        if (
            entry.get("version") != number
            or entry.get("current") != current
            or entry.get("document") != name
        ):
            findings.append(
                Finding(
                    "INDEX_ENTRY_STALE",
                    f"{pid}: index says v{entry.get('version')} current={entry.get('current')}, "
                    f"catalog says v{number} current={current}",
                    document=name,
                    path=where,
                )
            )
        elif entry.get("passage_sha256") != sha or sha256_hex(entry.get("text", "")) != sha:
            findings.append(
                Finding(
                    "INDEX_ENTRY_ALTERED",
                    f"{pid}: indexed text or digest differs",
                    document=name,
                    path=where,
                )
            )
    for pid in sorted(set(stored) - set(expected)):
        findings.append(
            Finding("INDEX_ENTRY_EXTRA", pid, document=stored[pid].get("document"), path=where)
        )
    for name in sorted(behind):
        findings.append(Finding("INDEX_BEHIND", name, document=name, path=where))
    return findings
