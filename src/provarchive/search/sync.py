"""Keeping the search engine in step with the catalog, querying it, and auditing it.

Contract:
- The catalog is the truth. Each derivation records what the engine last
  committed for it (``indexed``: nothing, "current" or "old"); :func:`sync_index`
  brings every version whose state differs up to date in one engine commit,
  then records the new states. A crash in between only means the next sync
  does the same (idempotent) work again. Every writing command syncs when it
  starts (catch-up after a crash) and when it ends.
- A missing, unreadable or damaged index is recreated from the catalog by the
  next writer (logged as a repair); :func:`reindex` rebuilds it on demand,
  aside, switching to the new index only once it is complete.
- :func:`search` reads only the engine and never waits for a writer.
- :func:`audit_index` compares engine and catalog for ``verify``, one digest per entry.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..catalog import Session, new_event, queries
from ..errors import SearchIndexError
from ..findings import Finding
from ..home import Home
from .engine import (
    BackgroundWriter,
    EngineWriter,
    IndexEntry,
    SearchQuery,
    SearchResults,
    citation_digest,
)

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]


@dataclass
class SyncReport:
    versions: int = 0
    passages: int = 0
    recreated: str | None = None


def index_problem(home: Home) -> str | None:
    """Why the index cannot be used as it is (missing, unreadable, damaged), or None."""
    engine = home.fresh_engine()
    try:
        if not engine.exists():
            return "missing"
        engine.check()
        changed = engine.damage(thorough=False)
        if changed:
            return f"damaged ({', '.join(changed[:3])} changed since it was written)"
        return None
    except SearchIndexError as exc:
        return f"unreadable ({exc})"
    finally:
        engine.close()


def _ensure_index(home: Home, report: SyncReport) -> None:
    """Create the index if missing, recreate it if unusable (marking everything unindexed)."""
    problem = index_problem(home)
    if problem is None:
        return
    home.fresh_engine().create()
    with home.catalog.session() as s:
        had_index = queries.clear_indexed(s)
    # A new archive simply gets its first index; anything else is a repair.
    if had_index or problem != "missing":
        report.recreated = problem


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
        for p in queries.passages_of(s, row.id)
    ]


def _mark_indexed(home: Home, rows: list[Any], report: SyncReport, what: str = "indexing") -> None:
    """Record what the engine committed (after its commit, never before)."""
    with home.catalog.session() as s:
        queries.mark_indexed(s, [(r.id, r.desired) for r in rows])
        detail = f"{report.versions} version(s), {report.passages} passage(s) indexed"
        if report.recreated:
            detail = f"index was {report.recreated}; recreated from the catalog: " + detail
        s.add(new_event(what, detail, outcome="success" if not report.recreated else "warning"))


def _write(
    home: Home,
    writer: EngineWriter,
    rows: list[Any],
    report: SyncReport,
    on_progress: Progress | None,
) -> None:
    todo = [r for r in rows if r.current]
    for i, r in enumerate(todo, 1):
        with home.catalog.session() as s:
            entries = _entries(s, r)
        writer.replace_version(r.name, r.number, entries)
        report.versions += 1
        report.passages += len(entries)
        if on_progress is not None:
            on_progress(i, len(todo))


def sync_index(home: Home, *, on_progress: Progress | None = None) -> SyncReport:
    """Bring the index up to the catalog (writers only)."""
    home.require_writer()
    report = SyncReport()
    _ensure_index(home, report)
    with home.catalog.session() as s:
        rows = queries.index_pending(s)
    if not rows:
        return report
    with home.fresh_engine().writing() as writer:
        _write(home, writer, rows, report, on_progress)
    _mark_indexed(home, rows, report)
    return report


def reindex(home: Home, *, on_progress: Progress | None = None) -> SyncReport:
    """Rebuild the index from the catalog aside; the old index serves readers until the
    new one is complete, then one atomic switch replaces it (writers only)."""
    home.require_writer()
    report = SyncReport()
    with home.catalog.session() as s:
        queries.clear_indexed(s)
        rows = queries.index_pending(s)
        # Nothing is committed yet: a crash leaves the old index and "not indexed"
        # marks, which the next writer's sync resolves by indexing again.
    engine = home.fresh_engine()
    rebuilding = getattr(engine, "rebuilding", None)
    if rebuilding is None:  # an engine without generations rebuilds in one transaction
        engine.create()
        rebuilding = engine.writing
    with rebuilding() as writer:
        _write(home, writer, rows, report, on_progress)
    _mark_indexed(home, rows, report, what="reindex")
    return report


class IndexFeeder:
    """Indexing that overlaps the rest of an ingest.

    After each batch is in the catalog, :meth:`feed` sends that batch's pending
    entries to the engine's background writer (Whoosh: a child process), so that
    indexing (half of an ingest's CPU time) runs on the second core while the next
    batch is hashed, stored and cleaned. :meth:`finish` waits for the single
    commit and only then records what was indexed: a crash at any point leaves
    the catalog saying "not indexed", and the next sync redoes it."""

    def __init__(self, home: Home) -> None:
        self.home = home
        self.report = SyncReport()
        self.sent: list[Any] = []
        self._sent_ids: set[int] = set()
        self._writer: BackgroundWriter | None = None
        self._disabled = False

    def feed(self, names: list[str]) -> None:
        if not names or self._disabled:
            return
        if self._writer is None:
            _ensure_index(self.home, self.report)
            try:
                self._writer = self.home.fresh_engine().background_writer()
            except OSError as exc:  # no processes left, no /dev/shm...: index at the end instead
                log.warning("indexing in the background is not possible here: %s", exc)
            if self._writer is None:
                self._disabled = True
                return
        with self.home.catalog.session() as s:
            rows = [r for r in queries.index_pending(s, names) if r.id not in self._sent_ids]
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

    def finish(self, on_progress: Progress | None = None) -> SyncReport:
        """Wait for the commit and record what it indexed. If the background writer
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
        _mark_indexed(self.home, self.sent, self.report)
        return self.report

    def _give_up(self, exc: SearchIndexError) -> None:
        log.warning("%s; indexing in this process instead", exc)
        self.abandon()
        self._disabled = True
        self.report = SyncReport()
        self.sent = []

    def abandon(self) -> None:
        if self._writer is not None:
            self._writer.cancel()
            self._writer = None


def search(home: Home, query: SearchQuery) -> SearchResults:
    """Ranked, citable hits (reads the engine only)."""
    return home.engine.search(query)


def behind(home: Home) -> int:
    """How many versions the catalog holds that the index does not reflect yet."""
    with home.catalog.session() as s:
        return len({(r.name, r.number) for r in queries.index_pending(s) if r.current})


def audit_index(home: Home) -> list[Finding]:
    """Compare the index with the catalog: missing, extra, stale, altered and damaged."""
    engine = home.fresh_engine()
    where = str(home.config.index_dir)
    if not engine.exists():
        return [
            Finding(
                "INDEX_MISSING",
                f"no index at {where} ('provarchive reindex' rebuilds it)",
                path=where,
            )
        ]
    try:
        stored = engine.entry_digests()
        damaged = engine.damage(thorough=True)
    except SearchIndexError as exc:
        return [Finding("INDEX_UNREADABLE", str(exc), path=where)]
    finally:
        engine.close()
    findings = [
        Finding(
            "INDEX_DAMAGED",
            f"{name} differs from the digest recorded when it was written",
            path=f"{where}/{name}",
        )
        for name in damaged
    ]
    expected: dict[str, tuple[str, str, bool]] = {}
    behind_: set[str] = set()
    with home.catalog.session() as s:
        for p, name, number, want, raw_sha256, indexed in queries.index_expectations(s):
            if indexed != want:
                behind_.add(name)
                expected[p.passage_id] = (name, "", False)
                continue
            digest = citation_digest(
                p.passage_id,
                name,
                number,
                p.ordinal,
                p.kind,
                p.sha256,
                raw_sha256,
                p.raw_start,
                p.raw_end,
                want == "current",
            )
            expected[p.passage_id] = (name, digest, True)
    for pid, (name, digest, synced) in expected.items():
        if not synced:
            continue
        found = stored.get(pid)
        if found is None:
            findings.append(Finding("INDEX_ENTRY_MISSING", pid, document=name, path=where))
        elif found != digest:
            findings.append(
                Finding(
                    "INDEX_ENTRY_ALTERED",
                    f"{pid}: the index cites it differently from the catalog",
                    document=name,
                    path=where,
                    expected=digest,
                    found=found,
                )
            )
    for pid in sorted(set(stored) - set(expected)):
        findings.append(Finding("INDEX_ENTRY_EXTRA", pid, document=_document_of(pid), path=where))
    for name in sorted(behind_):
        findings.append(Finding("INDEX_BEHIND", name, document=name, path=where))
    return findings


def _document_of(passage_id: str) -> str | None:
    from ..cleaning.passages import parse_passage_id

    parsed = parse_passage_id(passage_id)
    return parsed[0] if parsed else None
