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
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from itertools import chain
from typing import TYPE_CHECKING, Any

from ..catalog import Session, new_event, queries
from ..digests import sha256_hex
from ..errors import QueryError, SearchIndexError
from ..findings import Finding
from ..home import Home
from .engine import (
    REMOVED,
    BackgroundWriter,
    EngineWriter,
    EntryPreparer,
    IndexEntry,
    SearchQuery,
    SearchResults,
    citation_digest,
    entries_of,
    in_catalog,
    removed_id,
)

if TYPE_CHECKING:
    from concurrent.futures import Future

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


def stored_entries(
    s: Session,
    derivation_id: int,
    name: str,
    number: int,
    raw_sha256: str,
    ingested: datetime,
    current: bool,
    published: str | None = None,
) -> list[IndexEntry]:
    """The index entries of a stored derivation: its passages and its removed lines."""
    return entries_of(
        name, number, raw_sha256, ingested, current,
        ((p.passage_id, p.ordinal, p.kind, p.text, p.sha256, p.raw_start, p.raw_end)
         for p in queries.passages_of(s, derivation_id)),
        ((r.ordinal, r.text, r.rule, r.raw_start, r.raw_end)
         for r in queries.removals_of(s, derivation_id)),
        published,
    )  # fmt: skip


def _entries(s: Session, row: Any) -> list[IndexEntry]:
    """The index entries of one pending (current) derivation."""
    return stored_entries(
        s, row.id, row.name, row.number, row.sha256, row.ingested_at, row.desired == "current",
        row.published,
    )  # fmt: skip


def _mark_indexed(home: Home, rows: list[Any], report: SyncReport, what: str = "indexing") -> None:
    """Record what the engine committed (after its commit, never before); after a
    ``reindex`` the index holds exactly ``rows``."""
    with home.catalog.session() as s:
        _record_indexed(s, rows, report, what)


def _record_indexed(s: Session, rows: list[Any], report: SyncReport, what: str) -> None:
    if what == "reindex":
        queries.clear_indexed(s)
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
    engine = in_catalog(home.fresh_engine())
    if engine is not None:  # entries and their marks in one catalog transaction
        with home.catalog.session() as s:
            _write(home, engine.write_in(s), rows, report, on_progress)
            _record_indexed(s, rows, report, "indexing")
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
        # Every derivation as if none were indexed, read in a savepoint rolled back: until
        # the switch the catalog keeps saying what the old index (still serving) holds,
        # so an interrupted or killed reindex leaves no false "index is behind".
        savepoint = s.begin_nested()
        queries.clear_indexed(s)
        rows = queries.index_pending(s)
        savepoint.rollback()
    engine = home.fresh_engine()
    rebuilding = getattr(engine, "rebuilding", None)
    if rebuilding is None:  # an engine without generations rebuilds in one transaction
        engine.create()
        rebuilding = engine.writing
    with rebuilding() as writer:
        _write(home, writer, rows, report, on_progress)
    _mark_indexed(home, rows, report, what="reindex")
    return report


IndexJob = tuple[str, int, list[IndexEntry]]
"""(document, version, the entries it must have): one replace_version."""


class BatchIndexer:
    """Indexing of an ingest, batch by batch, each batch committed to the index before
    the batch's catalog commit: whatever the catalog holds is searchable, even if the
    ingest is killed right after.

    With ``background=True`` the entries go to the engine's background writer (for
    Whoosh a child process on the second core) while the caller hashes, stores and
    cleans the next batch; :meth:`wait` blocks only until that batch's checkpoint is
    committed. If the background writer dies, the batches it had not committed are
    indexed in this process instead: a dead indexer costs time, never entries. For an
    engine in the catalog, the background work is the engine's preparer (the entries'
    analysis), and the entries are written in the catalog transaction; if the preparer
    fails, the writer analyses them itself.

    :meth:`in_transaction` may run in another thread than :meth:`submit` (one batch
    recorded while the next is submitted): the preparer is shared under a lock."""

    def __init__(self, home: Home, *, background: bool) -> None:
        self.home = home
        self._lock = threading.Lock()
        self._jobs: dict[int, list[IndexJob]] = {}
        self._tickets: dict[int, int] = {}
        self._count = 0
        self._writer: BackgroundWriter | None = None
        self._preparer: EntryPreparer | None = None
        self._prepared: dict[int, Future[Any]] = {}
        self._in_catalog = in_catalog(home.fresh_engine())
        if background and self._in_catalog is not None:
            self._preparer = self._in_catalog.preparer()
        elif background:
            try:
                self._writer = home.fresh_engine().background_writer()
            except (OSError, SearchIndexError) as exc:
                log.warning("indexing in the background is not possible here: %s", exc)

    def submit(self, jobs: list[IndexJob]) -> int:
        """Queue one batch's index changes; returns the batch's number for :meth:`wait`."""
        self._count += 1
        self._jobs[self._count] = jobs
        failed: BaseException | None = None
        with self._lock:  # the recording thread takes what it prepared (_prepared_for)
            if self._preparer is not None:
                try:
                    self._prepared[self._count] = self._preparer.submit(jobs)
                except (OSError, RuntimeError) as exc:  # BrokenProcessPool: a RuntimeError
                    failed = exc
        if failed is not None:
            self._stop_preparing(failed)
        if self._writer is not None:
            try:
                for document, version, entries in jobs:
                    self._writer.replace_version(document, version, entries)
                self._tickets[self._count] = self._writer.checkpoint()
            except SearchIndexError as exc:
                self._give_up(exc)
        return self._count

    @property
    def in_catalog(self) -> bool:
        """The engine lives in the catalog: entries are written by :meth:`in_transaction`."""
        return self._in_catalog is not None

    def in_transaction(self, s: Session, batch: int) -> None:
        """For an engine that lives in the catalog database: write ``batch``'s entries in the
        caller's catalog transaction (committed or rolled back with it). Other engines
        committed the batch in :meth:`wait` already; nothing to do."""
        if self._in_catalog is None:
            return
        writer = self._in_catalog.write_in(s, self._prepared_for(batch))
        for document, version, entries in self._jobs.pop(batch):
            writer.replace_version(document, version, entries)

    def _prepared_for(self, batch: int) -> Any:
        """What the preparer made of ``batch``, or None (the writer then does it)."""
        with self._lock:
            future = self._prepared.pop(batch, None)
        if future is None:
            return None
        try:
            return future.result()
        except Exception as exc:  # whatever went wrong there, the writer can do it here
            self._stop_preparing(exc)
            return None

    def _stop_preparing(self, exc: BaseException) -> None:
        if self._close_preparer():  # else another thread stopped it (and said so)
            log.warning("preparing index entries in a child process failed (%s); "
                        "preparing them in this process instead", exc)  # fmt: skip

    def wait(self, batch: int) -> None:
        """Return once the index holds ``batch`` (committed; for an engine in the catalog,
        once :meth:`in_transaction` wrote it)."""
        if self._in_catalog is not None:
            return
        jobs = self._jobs.pop(batch)
        if self._writer is not None:
            try:
                self._writer.wait(self._tickets.pop(batch))
                return
            except SearchIndexError as exc:
                self._give_up(exc)
        if jobs:
            with self.home.fresh_engine().writing() as writer:
                for document, version, entries in jobs:
                    writer.replace_version(document, version, entries)

    def close(self) -> None:
        """Finish the background writer (everything waited for is committed already)."""
        self._close_preparer()
        if self._writer is not None:
            writer, self._writer = self._writer, None
            try:
                writer.commit()
            except SearchIndexError as exc:
                log.warning("%s (nothing is lost: every batch was committed before)", exc)

    def abandon(self) -> None:
        """Stop indexing: nothing more is submitted or written (a preparer's child is
        stopped at once; what it was preparing is not wanted)."""
        self._close_preparer(at_once=True)
        if self._writer is not None:
            self._writer.cancel()
            self._writer = None

    def _close_preparer(self, *, at_once: bool = False) -> bool:
        """Close the preparer if one is open; says whether one was."""
        with self._lock:
            preparer, self._preparer = self._preparer, None
            self._prepared.clear()
        if preparer is not None:
            preparer.close(at_once=at_once)
        return preparer is not None

    def _give_up(self, exc: SearchIndexError) -> None:
        log.warning("%s; indexing in this process instead", exc)
        self.abandon()
        self._tickets.clear()


def search(home: Home, query: SearchQuery) -> SearchResults:
    """Ranked, citable hits, and how far the index is behind the catalog (readers only:
    never waits for a writer). A ``kind:`` term naming no passage kind is refused."""
    from .engine import KINDS
    from .query import parse_query, unknown_values

    bad = unknown_values(parse_query(query.text), "kind", KINDS)
    if bad:
        raise QueryError(
            query.text, f"kind:{bad[0]} is no passage kind (use one of {', '.join(KINDS)})"
        )
    results = home.engine.search(query)
    removed = 0
    if results.total == 0 and not query.everything and query.kind is None:
        hidden = replace(query, kind=REMOVED, everything=True, limit=1, offset=0)
        removed = home.engine.search(hidden).total
    return replace(results, index_behind=behind(home), removed_matches=removed)


def behind(home: Home) -> int:
    """How many versions the catalog holds that the index does not reflect yet."""
    with home.catalog.session() as s:
        return len({(r.name, r.number) for r in queries.index_pending(s) if r.current})


def audit_index(home: Home) -> list[Finding]:
    """Compare the index with the catalog: missing, extra, stale, altered and damaged."""
    engine = home.fresh_engine()
    where = str(getattr(engine, "url", None) or home.config.index_dir)  # a database, or a folder
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
            name,
            path=f"{where}/{name}",
        )
        for name in damaged
    ]
    with home.catalog.snapshot() as s:  # derivations and their rows as of one commit
        expected = queries.index_expectations(s)
    return findings + _entry_findings(expected, stored, where)


def _entry_findings(
    ex: queries.IndexExpectations, stored: dict[str, str], where: str
) -> list[Finding]:
    """Each catalogued entry against the digest the index holds for it, then the index's
    entries the catalog does not hold, and the documents the index is behind on. A row
    whose derivation is not in ``ex.derivations`` lost its version or document row (the
    catalog check reports that damage): its index entries count as extra, as they did
    when the audit read one join."""
    findings: list[Finding] = []
    seen: set[str] = set()
    behind: set[str] = set()
    removals = [
        (did, removed_id(*ex.derivations[did][:2], o), o, REMOVED, sha256_hex(text), a, b)
        for did, o, text, a, b in ex.removals
        if did in ex.derivations
    ]
    for did, pid, ordinal, kind, text_sha256, start, end in chain(ex.passages, removals):
        version = ex.derivations.get(did)
        if version is None:
            continue
        name, number, desired, raw_sha256, indexed = version
        seen.add(pid)
        if indexed != desired:
            behind.add(name)
            continue
        digest = citation_digest(
            pid, name, number, ordinal, kind, text_sha256,
            raw_sha256, start, end, desired == "current",
        )  # fmt: skip
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
    for pid in sorted(stored.keys() - seen):
        findings.append(Finding("INDEX_ENTRY_EXTRA", pid, document=_document_of(pid), path=where))
    for name in sorted(behind):
        findings.append(Finding("INDEX_BEHIND", name, document=name, path=where))
    return findings


def _document_of(entry_id: str) -> str | None:
    """The document of a passage id (``NAME@vN#K``) or removed-line id (``NAME@vN#rK``)."""
    m = re.fullmatch(r"(?s)(.+)@v[1-9][0-9]*#r?[1-9][0-9]*", entry_id)
    return m.group(1) if m else None
