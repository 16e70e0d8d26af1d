"""Ingest: seeds folder -> OCFL store -> catalog, in crash-safe batches.

Contract:
- Each seed is read once: copied into staging while sha512 and sha256 are
  computed (:meth:`Transaction.stage`). Same name + same bytes is ``unchanged``
  and writes nothing; new bytes become the next version.
- A stat cache (size, mtime, ctime, inode; git-index style, racy entries
  re-hashed) lets unchanged seeds be recognised without reading them.
- Work is committed in batches: store first (journaled), then one catalog
  transaction, then the journal is dropped. A crash between the two is
  repaired by :func:`provarchive.recovery.recover`, which replays the journal into the
  catalog; the store is always the truth.
- The caller holds the writer lock (:meth:`Archive.ingest` does). A ``shared``
  ingest (on PostgreSQL) runs beside others: it archives only documents it holds
  the catalog's advisory lock for (:mod:`provarchive.catalog.locks`), from before it
  reads their state until their batch is in the catalog; the ones another writer
  holds are tried again after the rest, and are then usually ``unchanged``.
- Bad input fails only its own file, with a one-line reason; a storage failure
  (disk full, read-only) stops the run: the batches committed before it stay
  archived and searchable, the batch in hand is rolled back, and the
  :class:`StorageError` raised says which (its ``report`` holds what was saved).
- ``should_stop`` (checked before each batch: an interrupt) ends the run after the
  batch in hand; the report says what was saved and how many files were not reached.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .catalog import Catalog, SeedStat, Session, Version, new_event, queries, utcnow
from .catalog.locks import DocumentLocks, document_locks
from .cleaning.passages import Derivation
from .cleaning.workers import CleaningPool
from .derivations import (
    derivation_entries,
    derive_missing,
    derive_version,
    record_many,
    stored_text,
)
from .errors import (
    ArchiveError,
    CorruptArchiveError,
    InputError,
    InvalidNameError,
    StorageError,
    UsageError,
)
from .home import Home
from .processes import interrupts_held
from .recovery import source_from_message, sync_state
from .search.sync import BatchIndexer, IndexJob, stored_entries, sync_index
from .seeds import (
    CachedStat,
    SeedFile,
    copy_into_seeds,
    expand_add_sources,
    open_seed,
    printable,
    same_content_stat,
    same_stat,
    scan,
    stat_row,
    stat_trusted,
    validate_name,
    within_archive,
)
from .store import durable
from .store.ocfl import ObjectState, versions_from_inventory
from .store.storage import PreparedVersion, Transaction
from .timestamps import iso_micro
from .timestamps import parse as parse_stamp

if TYPE_CHECKING:
    from concurrent.futures import Future

log = logging.getLogger(__name__)

NEW = "new"
NEW_VERSION = "new-version"
UNCHANGED = "unchanged"
FAILED = "failed"
WITHDRAWN = "withdrawn"
"""A seed whose bytes are those of a withdrawn document: left out (``add`` re-adds it)."""

BATCH_FILES = 200
FIRST_BATCH_FILES = 25
BATCH_BYTES = 4 * 1024 * 1024
"""A batch ends past this many bytes. An interrupt waits for the batches in hand (the
one being indexed and the one being stored), and Whoosh indexes some 600-1,200
passages a second: Debian changelogs are ~9,000 passages a MB, and with 64 MiB
batches a Ctrl-C 40 s into an ingest of 1,182 of them waited 706 s; with 4 MiB,
179 s. Throughput is the same: 147 changelogs (15 MB) took 340 s against 332 s."""
CLAIM_RETRY = 0.05
"""Seconds a shared writer waits before it tries again for documents others hold."""


@dataclass
class IngestResult:
    """What happened to one input."""

    document: str
    status: str
    version: int | None = None
    sha256: str | None = None
    error: str | None = None
    path: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "document": self.document,
            "version": self.version,
            "status": self.status,
            "sha256": self.sha256,
            "error": self.error,
        }


@dataclass
class IngestReport:
    results: list[IngestResult] = field(default_factory=list)
    repairs: list[Any] = field(default_factory=list)
    not_reached: int = 0
    """Files the run never came to (it was interrupted or stopped by a storage failure)."""
    interrupted: bool = False

    @property
    def failed(self) -> list[IngestResult]:
        return [r for r in self.results if r.status == FAILED]

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for r in self.results:
            counts[r.status] = counts.get(r.status, 0) + 1
        return counts


ProgressCallback = Callable[[IngestResult], None]
StopCheck = Callable[[], bool]


def saved_summary(report: IngestReport) -> str:
    """What a stopped run saved, in words (for the error that stopped it)."""
    counts = report.counts()
    saved = sum(counts.get(k, 0) for k in (NEW, NEW_VERSION))
    if saved == 0:
        return (
            f"the archive was left as it was; {report.not_reached} file(s) not archived "
            "(run the command again to archive them)"
        )
    return (
        f"stopped: {saved} file(s) of this run archived and searchable before it, "
        f"{report.not_reached} not archived (run the command again to archive them)"
    )


# -- ingest -------------------------------------------------------------------------------------


@dataclass
class _Staged:
    seed: SeedFile
    prepared: PreparedVersion | None
    result: IngestResult
    stat_row: dict[str, Any] | None
    derivation: Derivation | None = None
    previous_reindexed: bool = False
    """The previous version's entries were sent to the index as not current."""


@dataclass
class _Batch:
    """One batch between its store commit and its catalog commit."""

    txn: Transaction
    staged: list[_Staged]
    ticket: int = 0
    recording: Future[None] | None = None
    """Its catalog transaction, running in the recorder thread (see ``_Ingestor``)."""


def _batches(seeds: Sequence[SeedFile]) -> Iterator[list[SeedFile]]:
    """Batches of up to BATCH_FILES files or BATCH_BYTES bytes; the first one small,
    so that indexing (in a child process) can start early."""
    batch: list[SeedFile] = []
    size = 0
    limit = FIRST_BATCH_FILES
    for seed in seeds:
        with contextlib.suppress(OSError):
            size += os.stat(seed.path).st_size
        batch.append(seed)
        if len(batch) >= limit or size >= BATCH_BYTES:
            yield batch
            batch, size, limit = [], 0, BATCH_FILES
    if batch:
        yield batch


class _Ingestor:
    """One ingest run under the writer lock.

    Each batch goes: staged and committed to the store; cleaned (in memory); its
    index entries committed to the index; then one catalog transaction records
    versions, derivations, events and the stat cache. While the index commits a
    batch (in a child process), the next batch is staged and cleaned.

    With an engine in the catalog (PostgreSQL), the catalog transaction of a batch,
    index entries included, runs in a thread of its own while this one stages and
    cleans the next batch: the database server's work (and the wait for the entries'
    analysis in the preparer) overlaps ours. One batch is recorded at a time, in the
    order stored, and only this thread acts on the outcome (``_finish``)."""

    def __init__(
        self,
        home: Home,
        *,
        message_for: Callable[[SeedFile], str],
        on_result: ProgressCallback | None,
        readd: bool = False,
        jobs: int = 1,
        shared: bool = False,
    ) -> None:
        home.require_writer()
        self.home = home
        self.jobs = jobs
        self.shared = shared
        self.pool: CleaningPool | None = None
        self.threaded = False
        self.recording: _Batch | None = None
        """The batch whose recording thread was started and not yet waited for."""
        self.results: list[IngestResult] = []
        self.locks: DocumentLocks | None = None
        self.catalog: Catalog = home.catalog
        self.message_for = message_for
        self.on_result = on_result
        self.user = home.config.user
        with self.catalog.session() as s:
            self.heads: dict[str, tuple[int, str]] = queries.head_digests(s)
            self.stats: dict[str, CachedStat] = queries.load_seed_stats(s)
            self.withdrawn = {} if readd else queries.withdrawn_files(s)

    def run(
        self,
        seeds: Sequence[SeedFile],
        on_index: Callable[[int, int], None] | None = None,
        should_stop: StopCheck | None = None,
    ) -> list[IngestResult]:
        """Archive ``seeds`` batch by batch (see the class docstring); stop before the next
        batch once ``should_stop()`` is true (``self.stopped`` then says so). A
        StorageError carries the results committed before it (``results``)."""
        self.results = []
        planned = sum(1 for _ in _batches(seeds))
        indexer = BatchIndexer(self.home, background=planned > 1)
        self.threaded = indexer.in_catalog and planned > 1
        waiting: _Batch | None = None
        self.stopped = False
        self.locks = document_locks(self.catalog) if self.shared else None
        if self.jobs > 1 and len(seeds) > 1:
            self.pool = CleaningPool(self.jobs)
        try:
            n = 0
            for seeds_ in self._claimed(seeds):
                if should_stop is not None and should_stop():
                    self.stopped = True
                    break
                if not seeds_:  # the rest is other writers' for now: let ours go first
                    if waiting is not None:
                        batch_, waiting = waiting, None
                        self._finish(batch_, indexer)
                    continue
                try:
                    batch = self._store(seeds_)
                except StorageError:
                    if waiting is not None:  # in the store already: record it if we can
                        batch_, waiting = waiting, None
                        self._finish_before_stop(batch_, indexer)
                    raise
                batch.ticket = indexer.submit(self._index_jobs(batch))
                previous, waiting = waiting, batch
                if previous is not None:
                    self._finish(previous, indexer)
                self._start_recording(batch, indexer)
                n += 1
                if on_index is not None:
                    on_index(min(n, planned) - 1, planned)
            if waiting is not None:
                batch_, waiting = waiting, None
                self._finish(batch_, indexer)
            indexer.close()
        except BaseException as exc:
            try:
                if self.recording is not None and self.recording is not waiting:
                    self._abandon(self.recording, exc)
                if waiting is not None:
                    self._abandon(waiting, exc)
            finally:
                indexer.abandon()
                if self.pool is not None:  # what its workers clean is not wanted now
                    pool, self.pool = self.pool, None
                    pool.close(at_once=True)
            if isinstance(exc, StorageError):
                exc.results = self.results  # type: ignore[attr-defined]
            raise
        finally:
            self._let_go()
        if not self.shared:  # shared writers index what is left in a turn of the log
            sync_index(self.home, on_progress=on_index)  # a no-op unless something was left
        return self.results

    def _claimed(self, seeds: Sequence[SeedFile]) -> Iterator[list[SeedFile]]:
        """The batches to archive. A shared writer keeps, of each batch, the documents it
        could lock, and yields ``[]`` before it waits for the ones other writers hold
        (so that the caller first lets go of its own: two writers never wait for each
        other); once it holds a batch, what dead writers left is finished first."""
        if self.locks is None:
            yield from _batches(seeds)
            return
        pending = list(seeds)
        while pending:
            deferred: list[SeedFile] = []
            for batch in _batches(pending):
                got = self.locks.try_lock([seed.name for seed in batch])
                deferred += [seed for seed, ok in zip(batch, got, strict=True) if not ok]
                mine = [seed for seed, ok in zip(batch, got, strict=True) if ok]
                if mine:
                    # A recovery of a dead writer's batch (which may hold these documents)
                    # runs in a turn of the log: one turn here waits for it, or does it.
                    listener = self.home.store.listener
                    if listener is not None:
                        listener.settle()
                    yield mine
            if deferred:
                yield []
                if len(deferred) == len(pending):
                    time.sleep(CLAIM_RETRY)
            pending = deferred

    def _emit(self, result: IngestResult) -> None:
        if self.on_result is not None:
            self.on_result(result)

    def _store(self, seeds: list[SeedFile]) -> _Batch:
        """Stage a batch, commit it to the store and clean what it added."""
        txn = self.home.store.begin()
        try:
            staged = [self._stage(txn, seed) for seed in seeds]
            txn.commit()
        except BaseException:
            txn.close_uncommitted()
            raise
        stored = [item for item in staged if item.prepared is not None]
        for item, derivation in zip(stored, self._derive(stored), strict=True):
            item.derivation = derivation
        return _Batch(txn, staged)

    def _derive(self, stored: list[_Staged]) -> list[Derivation]:
        """Clean the batch's new versions: one at a time here, or in the worker processes
        of ``jobs`` (the batch's texts then in memory at once: at most BATCH_BYTES)."""
        versions = [item.prepared for item in stored if item.prepared is not None]
        if self.pool is None:
            return [
                derive_version(self.home, p.name, p.number, p.digests.size, p.digests.sha512)
                for p in versions
            ]
        texts = [
            stored_text(self.home, p.name, p.number, p.digests.size, p.digests.sha512)
            for p in versions
        ]
        raw = [t for t in texts if not isinstance(t, Derivation)]
        cleaned = iter(self.pool.derive_all(raw, self.home.config.cleaner))
        return [t if isinstance(t, Derivation) else next(cleaned) for t in texts]

    def _index_jobs(self, batch: _Batch) -> list[IndexJob]:
        """Each new version's entries, and its previous version's marked not current."""
        jobs: list[IndexJob] = []
        with self.catalog.session() as s:
            for item in batch.staged:
                p, d = item.prepared, item.derivation
                if p is None or d is None:
                    continue
                jobs.append(
                    (p.name, p.number, derivation_entries(p.name, p.number, p.digests.sha256,
                                                         parse_stamp(p.created), True, d))
                )  # fmt: skip
                previous = queries.version(s, p.name, p.number - 1) if p.number > 1 else None
                rec = queries.current_derivation(s, previous.id) if previous else None
                if previous is not None and rec is not None:
                    item.previous_reindexed = True
                    jobs.append(
                        (p.name, previous.number, stored_entries(s, rec.id, p.name,
                         previous.number, previous.sha256, previous.ingested_at, False,
                         rec.published))
                    )  # fmt: skip
        return jobs

    def _start_recording(self, batch: _Batch, indexer: BatchIndexer) -> None:
        """Start ``batch``'s catalog transaction in a thread, if recording is threaded (else
        ``_finish`` runs it). A daemon thread: a run stopped at once (an interrupt) does
        not wait for it, and a process that then exits leaves it as a kill would (its
        transaction committed, or rolled back by the server; the store's batch recovered
        by the next writer either way)."""
        if not self.threaded:
            return
        from concurrent.futures import Future

        recording: Future[None] = Future()

        def record() -> None:
            try:
                self._record_batch(batch, indexer)
            except BaseException as exc:
                recording.set_exception(exc)
            else:
                recording.set_result(None)

        thread = threading.Thread(target=record, name="provarchive-catalog", daemon=True)
        with interrupts_held():  # started and known as such, or neither (not one without
            batch.recording = recording  # the other: a Future no thread completes)
            self.recording = batch
            try:
                thread.start()
            except BaseException:  # no thread (RuntimeError: can't start a new one)
                batch.recording = self.recording = None
                raise

    def _record_batch(self, batch: _Batch, indexer: BatchIndexer) -> None:
        indexer.wait(batch.ticket)
        self._record(batch.staged, lambda s: indexer.in_transaction(s, batch.ticket))

    def _finish(self, batch: _Batch, indexer: BatchIndexer) -> None:
        """Record ``batch`` in the catalog (or wait for its recording), then let its
        staging and document locks go and report its results. If it cannot be
        recorded, the batch is left for recovery and the error raised."""
        try:
            if batch.recording is not None:
                batch.recording.result()
            else:
                self._record_batch(batch, indexer)
        except BaseException as exc:
            self._abandon(batch, exc)
            raise
        self._close(batch)

    def _finish_before_stop(self, batch: _Batch, indexer: BatchIndexer) -> None:
        """Record a stored batch before the run stops on a storage error. If that fails
        too, the storage error stays the one reported (with what was saved before it):
        it is why the run stopped, and the next run records the batch from the store."""
        try:
            self._finish(batch, indexer)
        except (ArchiveError, OSError) as exc:  # a bug is not hidden behind a warning
            log.warning("a stored batch could not be recorded before the stop either: %s", exc)

    def _abandon(self, batch: _Batch, error: BaseException) -> None:
        """After ``error``, wait for ``batch``'s recording, if it has one, and close the
        batch if that commits; leave any other batch for recovery. After an interrupt
        (stop at once), a recording still running is not waited for: it keeps the
        batch, and this run's locks, until it ends (``_let_go``)."""
        recording = batch.recording
        if recording is not None and not recording.done() and isinstance(error, KeyboardInterrupt):
            return  # left running, as self.recording
        # Waits: it may commit (an interrupt here leaves it running too).
        failure = None if recording is None else recording.exception()
        if self.recording is batch:
            self.recording = None
        if recording is not None and failure is None:
            self._close(batch)
            return
        if failure is not None and failure is not error:
            log.warning("the catalog did not record a batch either: %s", failure)
        batch.txn.close_uncommitted()

    def _close(self, batch: _Batch) -> None:
        """A recorded batch: its results first (they hold whatever happens next), then its
        staging, then its documents' locks."""
        if self.recording is batch:
            self.recording = None
        self.results.extend(item.result for item in batch.staged)
        for item in batch.staged:
            self._emit(item.result)
        batch.txn.close()
        if self.locks is not None:
            self.locks.unlock([item.seed.name for item in batch.staged])

    def _let_go(self) -> None:
        """Close the cleaning pool; let every staging and document lock of the run go
        (batches first: a document's lock must not go while its batch looks live). A
        recording an interrupt left running keeps its batch's lock and the document
        locks until it ends (then its thread lets them go)."""
        pool, self.pool = self.pool, None
        locks, self.locks = self.locks, None
        running, self.recording = self.recording, None
        if running is not None:
            running.txn.detach()  # not released with the others (nor by the Archive)

        def release_running(_: object = None) -> None:
            assert running is not None
            # Committed or not, recovery tidies the batch; each step whatever the other
            # did, and in the recording thread: one line each, no traceback.
            for step in (running.txn.close_uncommitted, locks.close if locks else None):
                try:
                    if step is not None:
                        step()
                except Exception as exc:
                    log.warning("letting go of an interrupted batch's locks failed: %s", exc)

        try:
            if pool is not None:
                pool.close()
        finally:
            try:
                if locks is not None:
                    self.home.store.release_batches()
            finally:
                if running is not None and running.recording is not None:
                    running.recording.add_done_callback(release_running)
                elif locks is not None:
                    locks.close()

    def _stage(self, txn: Transaction, seed: SeedFile) -> _Staged:
        """Hash and stage one seeds file, or say why it needs no new version (unchanged,
        withdrawn) or cannot have one (unreadable, refused by the store)."""
        name = seed.name
        try:
            before = os.stat(seed.path)
        except OSError as exc:
            return _failed(seed, exc.strerror or str(exc))
        skipped = self._skip_by_stat(seed, before)
        if skipped is not None:
            return skipped
        try:
            stream, opened = open_seed(self.home.seeds, seed)
            with stream:
                staged_file = txn.stage(stream)
                after = os.fstat(stream.fileno())
        except InputError as exc:
            return _failed(seed, exc.reason)
        except StorageError:
            raise
        except OSError as exc:
            return _failed(seed, exc.strerror or str(exc))
        if not same_content_stat(opened, after):  # what was read may be bytes it never held
            staged_file.path.unlink(missing_ok=True)
            return _failed(seed, CHANGED_WHILE_READ)
        digests = staged_file.digests
        cache_row = (  # a ctime that moved (chmod, a new link) is no change of content,
            stat_row(name, after, digests.sha256, digests.sha512)  # but not cached either
            if same_stat(opened, after)
            else None
        )
        if self.withdrawn.get(name) == digests.sha512:
            staged_file.path.unlink(missing_ok=True)
            result = IngestResult(name, WITHDRAWN, sha256=digests.sha256, path=str(seed.path))
            return _Staged(seed, None, result, cache_row)
        try:
            state = self.home.store.load(name)
        except CorruptArchiveError as exc:  # verify reports it; the other seeds go on
            staged_file.path.unlink(missing_ok=True)
            return _failed(seed, f"stored object damaged: {exc.path}: {exc.reason} (run 'verify')")
        try:
            prepared = txn.prepare(
                name,
                staged_file,
                current=state,
                created=iso_micro(utcnow()),
                message=self.message_for(seed),
                user=self.user,
            )
        except InputError as exc:  # the store cannot hold this name: refused alone
            return _failed(seed, exc.reason)
        if prepared is None:
            assert state is not None
            result = IngestResult(name, UNCHANGED, state.head, digests.sha256, path=str(seed.path))
        else:
            status = NEW if prepared.new_object else NEW_VERSION
            result = IngestResult(
                name, status, prepared.number, digests.sha256, path=str(seed.path)
            )
        return _Staged(seed, prepared, result, cache_row)

    def _skip_by_stat(self, seed: SeedFile, st: os.stat_result) -> _Staged | None:
        """Unchanged or still withdrawn, told by the stat cache alone (git's rule: the file
        is not read when its stat matches what was hashed)."""
        name = seed.name
        cached = self.stats.get(name)
        withdrawn = self.withdrawn.get(name)
        if withdrawn is not None and stat_trusted(cached, st, withdrawn):
            return _Staged(seed, None, IngestResult(name, WITHDRAWN, path=str(seed.path)), None)
        head = self.heads.get(name)
        if stat_trusted(cached, st, head[1] if head else None):
            assert head is not None and cached is not None
            result = IngestResult(name, UNCHANGED, head[0], cached.sha256, path=str(seed.path))
            return _Staged(seed, None, result, None)
        return None

    def _record(
        self, staged: list[_Staged], index_in: Callable[[Session], None] | None = None
    ) -> None:
        """One catalog transaction for the batch: versions, derivations, events, stat cache
        (and, for an engine that lives in the catalog, the index entries: ``index_in``)."""
        with self.catalog.session() as s:
            added: list[tuple[Version, str]] = []
            for item in staged:
                r = item.result
                if r.status == FAILED:
                    s.add(
                        new_event(
                            "ingestion",
                            f"{r.path}: {r.error}",
                            outcome="failure",
                            document=r.document,
                        )
                    )
                elif item.prepared is not None:
                    added += self._record_stored(s, item.prepared)
            rows = [item.stat_row for item in staged if item.stat_row is not None]
            queries.save_seed_stats(s, rows, known=set(self.stats))
            for row in rows:
                self.stats[row["name"]] = SeedStat(**row)
            s.flush()
            self._record_derived(s, staged, added)
            if index_in is not None:
                index_in(s)
            for item in staged:
                if item.prepared is not None and item.previous_reindexed:
                    queries.mark_version_indexed(
                        s, item.prepared.name, item.prepared.number - 1, "old"
                    )

    def _record_stored(self, s: Session, p: PreparedVersion) -> list[tuple[Version, str]]:
        """The catalog rows and events of one version the store has just committed (and of
        any earlier version the catalog lacked); returns the versions it added."""
        state = ObjectState(
            p.name,
            p.object_id,
            p.object_path,
            p.inventory,
            versions_from_inventory(p.inventory, p.object_path),
        )
        when = parse_stamp(p.created)
        added: list[tuple[Version, str]] = []
        # A new object cannot have catalog rows (the store is the truth and recovery
        # ran first): skip the lookup.
        known = {p.number: p.digests.size}
        for v in sync_state(s, self.home, state, known_sizes=known, new_document=p.new_object):
            added.append((v, p.name))
            if v.number != p.number:
                s.add(
                    new_event(
                        "ingestion",
                        f"v{v.number} recorded from the store",
                        document=p.name,
                        version=v.number,
                    )
                )
        s.add(
            new_event(
                "message digest calculation",
                f"sha512 and sha256 computed in one pass over {p.digests.size} bytes: sha256 {p.digests.sha256}",
                document=p.name,
                version=p.number,
                when=when,
            )
        )
        s.add(
            new_event(
                "ingestion",
                f"v{p.number} stored from {source_from_message(p.message)}",
                document=p.name,
                version=p.number,
                when=when,
            )
        )
        self.heads[p.name] = (p.number, p.digests.sha512)
        return added

    def _record_derived(
        self, s: Session, staged: list[_Staged], added: list[tuple[Version, str]]
    ) -> None:
        """Derivations: this batch's own cleaning results for its new heads, and a fresh
        cleaning of every other version the store had and the catalog lacked."""
        derived = {
            item.prepared.name: item.derivation
            for item in staged
            if item.prepared is not None and item.derivation is not None
        }
        ours = [(v, n) for v, n in added if n in derived and v.number == self.heads[n][0]]
        record_many(s, [(v, n, derived[n]) for v, n in ours], indexed="current")
        others = [pair for pair in added if pair not in ours]
        derive_missing(self.home, s, reason="ingest", only=others)


CHANGED_WHILE_READ = (
    "the file changed while it was read (its size or modification time): "
    "not archived; run ingest again once it is complete"
)


def _failed(seed: SeedFile, reason: str) -> _Staged:
    return _Staged(
        seed, None, IngestResult(seed.name, FAILED, error=reason, path=str(seed.path)), None
    )


IGNORED = "ignored"


def ingest(
    home: Home,
    paths: list[Path] | None = None,
    *,
    on_start: Callable[[int], None] | None = None,
    on_result: ProgressCallback | None = None,
    on_index: Callable[[int, int], None] | None = None,
    should_stop: StopCheck | None = None,
    jobs: int = 1,
    shared: bool = False,
    part: tuple[int, int] | None = None,
) -> IngestReport:
    """Archive the seeds folder (or the given paths inside it), then index what changed;
    ``jobs`` > 1 cleans in that many worker processes (one process still writes);
    ``shared`` beside other writers (see the module docstring); ``part`` (k, n): only
    the seeds of share k of n (by a hash of the name; share 0 also reports the inputs
    refused), for one of n ingests run at once."""
    config = home.config
    seeds_display = str(home.seeds).rstrip("/") or "."
    report = IngestReport()
    seeds, problems = scan(home.seeds, paths, store_root=config.ocfl_root, exclude=[config.root])
    if part is not None:
        seeds = [seed for seed in seeds if share_of(seed.name, part[1]) == part[0]]
        problems = problems if part[0] == 0 else []
    if on_start is not None:
        on_start(len(seeds) + len(problems))
    _refused(
        home,
        report,
        [IngestResult(p.name, p.status, error=p.reason, path=p.path) for p in problems],
        on_result,
    )
    ingestor = _Ingestor(
        home,
        message_for=lambda seed: f"ingest {seeds_display}/{seed.name}",
        on_result=on_result,
        jobs=jobs,
        shared=shared,
    )
    _run(ingestor, report, seeds, on_index, should_stop)
    return report


def share_of(name: str, shares: int) -> int:
    """Which of ``shares`` parallel ingests archives ``name`` (stable, and independent of
    the other names, so a file added meanwhile cannot shift the rest)."""
    digest = hashlib.sha256(name.encode("utf-8", "surrogateescape")).digest()
    return int.from_bytes(digest[:8], "big") % shares


def _run(
    ingestor: _Ingestor,
    report: IngestReport,
    seeds: Sequence[SeedFile],
    on_index: Callable[[int, int], None] | None,
    should_stop: StopCheck | None,
) -> None:
    """Run the ingestor into ``report``; a StorageError leaves with the report of what
    was saved before it (``exc.report``) and says so in its message."""
    try:
        done = ingestor.run(seeds, on_index=on_index, should_stop=should_stop)
    except StorageError as exc:
        done = getattr(exc, "results", [])
        report.results.extend(done)
        report.not_reached = len(seeds) - len(done)
        stopped = exc.with_outcome(saved_summary(report))
        stopped.report = report  # type: ignore[attr-defined]
        raise stopped from exc
    report.results.extend(done)
    report.not_reached = len(seeds) - len(done)
    report.interrupted = ingestor.stopped


def _refused(
    home: Home,
    report: IngestReport,
    refused: list[IngestResult],
    on_result: ProgressCallback | None,
) -> None:
    """Report inputs that will not be archived; log each failed or skipped one as an
    ingestion event (ignored ones, by the ignore rules, are only counted)."""
    for result in refused:
        report.results.append(result)
        if on_result is not None:
            on_result(result)
    logged = [r for r in refused if r.status != IGNORED]
    if logged:
        with home.catalog.session() as s:
            for r in logged:
                s.add(
                    new_event(
                        "ingestion",
                        f"{r.path}: {r.error}",
                        outcome="failure" if r.status == FAILED else "warning",
                        document=r.document,
                    )
                )


def add(
    home: Home,
    files: list[Path],
    *,
    as_name: str | None = None,
    replace: bool = False,
    recursive: bool = False,
    into: str | None = None,
    on_result: ProgressCallback | None = None,
    should_stop: StopCheck | None = None,
    jobs: int = 1,
) -> IngestReport:
    """Copy files (or, with ``recursive``, folders) into the seeds folder, then archive them
    (``jobs`` as for :func:`ingest`)."""
    home.require_writer()
    config = home.config
    report = IngestReport()
    refused: list[IngestResult] = []
    if as_name is not None:
        if len(files) != 1 or recursive or into is not None:
            raise UsageError("--as names one document: give exactly one FILE, without -r or --into")
        sources = [(Path(files[0]), validate_name(as_name))]  # a bad --as is a usage error
        if (inside := within_archive(sources[0][0])) is not None:
            refused.append(IngestResult(as_name, FAILED, error=inside, path=printable(files[0])))
            sources = []
    else:
        sources, problems = expand_add_sources(
            [Path(f) for f in files], recursive, into=into, seeds=home.seeds
        )
        refused += [IngestResult(p.name, p.status, error=p.reason, path=p.path) for p in problems]
    durable.make_dirs(home.seeds)
    to_ingest: list[tuple[SeedFile, str]] = []
    for source, name in sources:
        try:
            target = copy_into_seeds(
                home.seeds, source, name, replace=replace, store_root=config.ocfl_root
            )
            name = validate_name(name)
        except (InvalidNameError, InputError) as exc:
            refused.append(IngestResult(name, FAILED, error=exc.reason, path=printable(source)))
            continue
        to_ingest.append((SeedFile(name, target), os.path.abspath(source)))
    _refused(home, report, refused, on_result)
    origin = {seed.name: source for seed, source in to_ingest}
    ingestor = _Ingestor(
        home,
        message_for=lambda seed: f"add {origin[seed.name]}",
        on_result=on_result,
        readd=True,
        jobs=jobs,
    )
    _run(ingestor, report, [seed for seed, _ in to_ingest], None, should_stop)
    return report
