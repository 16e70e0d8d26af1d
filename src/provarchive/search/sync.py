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
from sqlalchemy.orm import Session

from ..archive import Archive
from ..catalog import DerivationRecord, Document, PassageRecord, Version, new_event
from ..digests import sha256_hex
from ..errors import SearchIndexError
from ..findings import Finding
from .whoosh_engine import BackgroundIndexWriter, IndexEntry, PassageIndex, SearchResults

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


def _ensure_index(archive: Archive, report: SyncReport) -> None:
    """Create the index if missing, recreate it if unreadable (marking everything unindexed)."""
    pi = _on_disk(archive)
    problem = None
    if not pi.exists():
        problem = "missing"
    else:
        try:
            pi.doc_count()
        except SearchIndexError as exc:
            problem = f"unreadable ({exc})"
        finally:
            pi.close()
    if problem is None:
        return
    pi.create()
    with archive.catalog.session() as s:
        had_index = s.scalar(
            select(DerivationRecord.id).where(DerivationRecord.indexed.is_not(None)).limit(1)
        )
        s.execute(update(DerivationRecord).values(indexed=None))
    # A new archive simply gets its first index; anything else is a repair.
    if had_index is not None or problem != "missing":
        report.recreated = problem


def _pending(s: Session, names: list[str] | None = None) -> list[Any]:
    """Derivations whose indexed state differs from what the catalog wants."""
    desired = _desired()
    query = (
        select(
            DerivationRecord.id,
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
    )
    if names is not None:
        query = query.where(Document.name.in_(names))
    return list(s.execute(query).all())


def _entries(s: Session, row: Any) -> list[IndexEntry]:
    """The index entries of one pending (current) derivation."""
    return [
        IndexEntry(
            passage_id=p.passage_id,
            document=row.name,
            version=row.number,
            ordinal=p.ordinal,
            kind=p.kind,
            text=p.text,
            passage_sha256=p.sha256,
            raw_sha256=row.sha256,
            raw_start=p.raw_start,
            raw_end=p.raw_end,
            ingested=row.ingested_at,
            current=row.desired == "current",
        )
        for p in s.scalars(
            select(PassageRecord)
            .where(PassageRecord.derivation_id == row.id)
            .order_by(PassageRecord.ordinal)
        )
    ]


def _mark_indexed(archive: Archive, rows: list[Any], report: SyncReport) -> None:
    """Record what the index committed (after the Whoosh commit, never before)."""
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


def sync_index(
    archive: Archive, *, on_progress: Callable[[int, int], None] | None = None
) -> SyncReport:
    """Bring the index up to the catalog (caller holds the writer lock)."""
    report = SyncReport()
    _ensure_index(archive, report)
    with archive.catalog.session() as s:
        rows = _pending(s)
    if not rows:
        return report
    todo = [r for r in rows if r.current]
    with _on_disk(archive).writing() as writer:
        for i, r in enumerate(todo, 1):
            with archive.catalog.session() as s:
                entries = _entries(s, r)
            writer.replace_version(r.name, r.number, entries)
            report.versions += 1
            report.passages += len(entries)
            if on_progress is not None:
                on_progress(i, len(todo))
    _mark_indexed(archive, rows, report)
    return report


class IndexFeeder:
    """Indexing that overlaps the rest of an ingest.

    After each batch is in the catalog, :meth:`feed` sends that batch's pending
    entries to a Whoosh writer in a child process (:class:`BackgroundIndexWriter`),
    so that indexing (half of an ingest's CPU time) runs on the second core while
    the next batch is hashed, stored and cleaned. :meth:`finish` waits for the
    child's single commit and only then records what was indexed: a crash at any
    point leaves the catalog saying "not indexed", and the next sync redoes it."""

    def __init__(self, archive: Archive) -> None:
        self.archive = archive
        self.report = SyncReport()
        self.sent: list[Any] = []
        self._sent_ids: set[int] = set()
        self._writer: BackgroundIndexWriter | None = None

    def feed(self, names: list[str]) -> None:
        if not names:
            return
        if self._writer is None:
            _ensure_index(self.archive, self.report)
            try:
                self._writer = BackgroundIndexWriter(self.archive.config.index_dir)
            except OSError as exc:  # no processes left, no /dev/shm...: index at the end instead
                log.warning("indexing in the background is not possible here: %s", exc)
                self.feed = lambda names: None  # type: ignore[method-assign]
                return
        with self.archive.catalog.session() as s:
            rows = [r for r in _pending(s, names) if r.id not in self._sent_ids]
            for r in rows:
                self._sent_ids.add(r.id)
                self.sent.append(r)
                if r.current:
                    entries = _entries(s, r)
                    try:
                        self._writer.replace_version(r.name, r.number, entries)
                    except SearchIndexError as exc:
                        self._give_up(exc)
                        return
                    self.report.versions += 1
                    self.report.passages += len(entries)

    def finish(self, on_progress: Callable[[int, int], None] | None = None) -> SyncReport:
        """Wait for the child's commit and record what it indexed. If the child
        failed, nothing is recorded: the caller's :func:`sync_index` indexes it all
        in this process instead (and raises if the index itself is the problem)."""
        if self._writer is None:
            return self.report
        writer, self._writer = self._writer, None
        try:
            writer.commit(on_progress=on_progress)
        except SearchIndexError as exc:
            self._writer = writer
            self._give_up(exc)
            return self.report
        _mark_indexed(self.archive, self.sent, self.report)
        return self.report

    def _give_up(self, exc: SearchIndexError) -> None:
        log.warning("%s; indexing in this process instead", exc)
        self.abandon()
        self.feed = lambda names: None  # type: ignore[method-assign]
        self.report = SyncReport()
        self.sent = []

    def abandon(self) -> None:
        if self._writer is not None:
            self._writer.cancel()
            self._writer = None


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
