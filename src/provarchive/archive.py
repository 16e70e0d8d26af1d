"""The archive: the library's front door. Every operation is a method of :class:`Archive`.

Contract:
- :class:`Archive` never prints and never exits; it returns values or raises
  :class:`~provarchive.errors.ArchiveError` subclasses. The CLI is a thin layer
  over exactly these methods.
- Reading needs no lock and changes nothing (``show``, ``cat``, ``search``,
  ``verify``, ...): readers never wait for a writer.
- Every method that writes takes the writer lock itself, for its whole run;
  the lock is re-entrant within one :class:`Archive` (a method called inside
  :meth:`writer` does not wait for itself), and serialises writers across
  processes, except ``ingest`` on a PostgreSQL catalog: ingests share the
  lock and take a per-document lock in the database instead
  (:mod:`provarchive.store.lock`, :mod:`provarchive.catalog.locks`). On the way in, the writer creates or upgrades what is missing and
  repairs whatever a crashed writer left (each repair logged as an event); on
  the way out, the search index is brought up to the catalog.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from .config import ArchiveConfig
from .errors import (
    ArchiveError,
    ArchiveNotFoundError,
    CatalogError,
    CorruptArchiveError,
    DocumentNotFoundError,
    InvalidStoreError,
    NotFoundError,
    UsageError,
    VersionNotFoundError,
)
from .home import Home, foreign_entry, is_postgres_url, read_settings, require_folder
from .store import durable
from .store.lock import HeldLock, writer_lock
from .store.storage import Repair, Store
from .timestamps import iso

if TYPE_CHECKING:
    from .catalog import Catalog, Document, Event, Version
    from .derivations import RecleanReport
    from .findings import VerifyReport
    from .ingest import IngestReport, IngestResult
    from .lineage import Lineage
    from .search.engine import SearchResults
    from .search.sync import SyncReport
    from .views import DerivationView, Diff, DocumentRow, ExplainedLine, Stats
    from .withdrawal import Withdrawal

log = logging.getLogger(__name__)

WaitCallback = Callable[[str | None], None]
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class VersionInfo:
    """A version as reported to users (``show``, ``history``)."""

    version: int
    sha256: str
    sha512: str
    size: int
    ingested_at: datetime
    source: str
    message: str
    user: str

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "sha256": self.sha256,
            "sha512": self.sha512,
            "size": self.size,
            "ingested_at": iso(self.ingested_at),
            "source": self.source,
        }


def version_info(v: Version) -> VersionInfo:
    return VersionInfo(
        version=v.number,
        sha256=v.sha256,
        sha512=v.sha512,
        size=v.size,
        ingested_at=v.ingested_at,
        source=v.source,
        message=v.message,
        user=v.user_name,
    )


class Archive:
    """One archive home (see :mod:`provarchive.config` for its layout)."""

    def __init__(self, config: ArchiveConfig) -> None:
        self.config = config
        self.home = Home(config)
        self._depth = 0
        self._told_skipped = False

    @property
    def store(self) -> Store:
        return self.home.store

    @property
    def catalog(self) -> Catalog:
        return self.home.catalog

    def close(self) -> None:
        self.home.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- opening ------------------------------------------------------------------------

    def exists(self) -> bool:
        return self.store.exists()

    def require(self) -> None:
        """Check that the archive exists and its catalog is readable by this version."""
        require_folder(self.config.root)
        if not self.exists():
            raise ArchiveNotFoundError(self.config.root)
        if self._told_skipped is False and self.home.read_only() and self.store.needs_recovery():
            self._told_skipped = True
            # Readers never repair; on an archive they may write, the next writer will.
            log.warning(
                "read-only: recovery skipped (%s holds an interrupted write; "
                "answers are as of the last commit)",
                self.store.staging,
            )
        if self.config.db_url is None and not self.home.catalog_path.exists():
            if self._unfinished():
                raise ArchiveNotFoundError(self.config.root, unfinished=True)
            raise CorruptArchiveError(
                self.home.catalog_path,
                "the catalog is missing; run 'provarchive rebuild' to recreate it from the store",
            )
        try:
            self.catalog.require_current_schema()
        except CatalogError:
            if self.catalog.schema_status()[0] is None and self._unfinished():
                raise ArchiveNotFoundError(self.config.root, unfinished=True) from None
            raise

    def _require_store(self) -> None:
        """The archive exists: for what needs neither its catalog nor its index (the key
        and the log's checkpoint, which an auditor needs most when the catalog is
        damaged)."""
        require_folder(self.config.root)
        if not self.exists():
            raise ArchiveNotFoundError(self.config.root)

    def _unfinished(self) -> bool:
        """The first writer was stopped between making the storage root and making the
        catalog: no object is stored, so the archive holds nothing yet (not damage)."""
        return next(iter(self.store.iter_object_dirs()), None) is None

    @contextlib.contextmanager
    def writer(
        self,
        command: str,
        on_wait: WaitCallback | None = None,
        *,
        use_catalog: bool = True,
        shared: bool = False,
    ) -> Iterator[list[Repair]]:
        """Hold the writer lock with everything created, upgraded and repaired.

        Yields the repairs made on the way in (already logged as events). With
        ``use_catalog=False`` (for ``rebuild``) the catalog is not opened and only
        the store is repaired; the caller logs the returned repairs. Re-entrant:
        inside another ``writer`` block of this object it yields ``[]`` at once.
        ``shared`` (an ingest on a PostgreSQL catalog) runs beside other shared
        writers (see :mod:`provarchive.store.lock`); it is exclusive otherwise."""
        if self._depth:
            self._depth += 1
            try:
                yield []
            finally:
                self._depth -= 1
            return
        require_folder(self.config.root)
        foreign = foreign_entry(self.config.root)
        if foreign is not None:
            from .seeds import printable  # the seeds package is not needed to read (#14)

            raise UsageError(
                f"{self.config.root} is not an archive and is not empty (it holds "
                f"{printable(foreign.name)}); give --archive an empty or new folder"
            )
        self.home.seeds  # noqa: B018 - a wrong --seeds is refused before anything is written
        _require_writable(self.config.root)
        durable.make_dirs(self.config.root)
        with writer_lock(
            self.config.lock_path,
            timeout=self.config.lock_timeout,
            command=command,
            on_wait=on_wait,
            shared=shared,
        ) as held:
            self._depth = 1
            self.home.begin_writing()
            mode = "shared" if held.shared else "exclusive"
            log.info("%s: writer lock held on %s (%s)", command, self.config.root, mode)
            try:
                yield from self._written(use_catalog, held)
                log.info("%s: done; index up to date, checkpoint signed", command)
            finally:
                self._depth = 0
                self.home.end_writing()

    def _written(self, use_catalog: bool, held: HeldLock) -> Iterator[list[Repair]]:
        from . import ledger, recovery
        from .catalog import new_event

        home = self.home
        settings = read_settings(self.config.root)
        if settings is not None and settings.origin is not None:  # a new one gets its key
            ledger.signer(home)  # a key writers cannot use stops them before any change
        if settings is None:
            home.create_settings()  # first: its presence marks the folder as an archive home
        elif home.seeds_to_record() is not None:
            home.save_settings(seeds=home.seeds_to_record())
        created = home.store.initialize()
        # First: the others check against the store. A shared writer that came in beside
        # others leaves the store to recover_dead, in the log's turn.
        store_repairs, touched = home.store.recover() if held.alone else ([], set())
        if held.shared:
            home.catalog.migrate()  # before the log: recover_dead records in the catalog
        on_open = (lambda tl: recovery.recover_dead(home, tl)) if held.shared else None
        with ledger.LedgerWriter(home, shared=held.shared, on_open=on_open) as lw:
            if not use_catalog:
                yield [*store_repairs, *lw.repairs]
                lw.seal()
                return
            home.catalog.migrate()
            if not held.shared:
                repairs = recovery.recover(home, store_repairs, touched, before=lw.repairs)
            else:  # its turns of the log (recover_dead) logged their repairs themselves
                repairs = list(lw.repairs)
                if held.alone:
                    repairs += recovery.recover(home, store_repairs, touched)
            log.info(
                "catalog %s, store %s: %d repair(s) on the way in",
                home.catalog_url,
                home.store.root,
                len(repairs),
            )
            if created:
                with home.catalog.session() as s:
                    s.add(new_event("creation", f"storage root created at {home.store.root}"))
            held.ready()
            home.store.listener = lw
            try:
                yield repairs
            finally:
                home.store.listener = None
            # Whatever the command changed in the catalog reaches the index before
            # the lock is released (a no-op when the command synced already); shared
            # writers do it in the log's turn, one at a time.
            from .search.sync import sync_index

            with lw.turn() if held.shared else contextlib.nullcontext():
                sync_index(home)
            lw.seal()  # the command's events logged, a checkpoint signed: the last step

    # -- writing ------------------------------------------------------------------------

    def init(self, *, on_wait: WaitCallback | None = None) -> bool:
        """Create the archive if absent; True if it was created. A signing key given in the
        config that cannot be read is refused before anything is written."""
        from .tlog.keys import load_key, signer_from_env

        if self.config.signing_key is not None:
            load_key(self.config.signing_key)  # SigningKeyError naming the file and why
        else:
            signer_from_env()  # a malformed PROVARCHIVE_SIGNING_KEY, likewise
        existed = self.exists()
        with self.writer("init", on_wait=on_wait):
            pass
        return not existed

    def ingest(
        self,
        paths: list[Path] | None = None,
        *,
        on_wait: WaitCallback | None = None,
        on_start: Callable[[int], None] | None = None,
        on_result: Callable[[IngestResult], None] | None = None,
        on_index: Progress | None = None,
        should_stop: Callable[[], bool] | None = None,
        jobs: int = 1,
        part: tuple[int, int] | None = None,
    ) -> IngestReport:
        """Archive the seeds folder (or the given paths inside it), then index what changed.
        Once ``should_stop()`` is true (an interrupt), the run ends after the batch in hand.
        ``jobs`` > 1 cleans in that many worker processes, this one alone writing; on a
        PostgreSQL catalog it runs that many whole ingests at once instead (processes that
        hash, store, clean and record each their share of the documents: see
        :func:`_ingest_in_processes`)."""
        from .ingest import ingest

        if not self.home.seeds.is_dir():
            raise UsageError(
                f"no seeds folder at {self.home.seeds} (create it, or give --seeds DIR)"
            )
        # On PostgreSQL, ingests share the archive, each locking the documents it writes.
        shared = is_postgres_url(self.config.db_url)
        if shared and jobs > 1 and part is None and not self._depth:
            return _ingest_in_processes(
                self.config, paths, jobs, on_wait, on_start, on_result, should_stop
            )
        with self.writer("ingest", on_wait=on_wait, shared=shared) as repairs:
            report = ingest(
                self.home,
                paths,
                on_start=on_start,
                on_result=on_result,
                on_index=on_index,
                should_stop=should_stop,
                jobs=1 if part is not None else jobs,
                shared=shared,
                part=part,
            )
            report.repairs = repairs
        return report

    def add(
        self,
        files: list[Path],
        *,
        as_name: str | None = None,
        replace: bool = False,
        recursive: bool = False,
        into: str | None = None,
        on_wait: WaitCallback | None = None,
        on_result: Callable[[IngestResult], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
        jobs: int = 1,
    ) -> IngestReport:
        """Copy files (folders with ``recursive``) into the seeds folder (under ``into``),
        then archive them (``should_stop`` and ``jobs`` as for :meth:`ingest`)."""
        from .ingest import add

        with self.writer("add", on_wait=on_wait) as repairs:
            report = add(
                self.home,
                files,
                as_name=as_name,
                replace=replace,
                recursive=recursive,
                into=into,
                on_result=on_result,
                should_stop=should_stop,
                jobs=jobs,
            )
            report.repairs = repairs
        return report

    def reclean(
        self,
        names: list[str] | None = None,
        *,
        on_wait: WaitCallback | None = None,
        on_progress: Progress | None = None,
        jobs: int = 1,
    ) -> RecleanReport:
        """Re-run the current cleaner; a changed output becomes a new current derivation.
        ``jobs`` > 1 cleans in that many worker processes; this one alone writes."""
        from .derivations import reclean

        self.require()
        with self.writer("reclean", on_wait=on_wait):
            return reclean(self.home, names, jobs=jobs, on_progress=on_progress)

    def reindex(
        self, *, on_wait: WaitCallback | None = None, on_progress: Progress | None = None
    ) -> SyncReport:
        """Rebuild the search index from the catalog (aside, then one atomic switch)."""
        from .search.sync import reindex

        self.require()
        with self.writer("reindex", on_wait=on_wait):
            return reindex(self.home, on_progress=on_progress)

    def rebuild(
        self,
        *,
        on_wait: WaitCallback | None = None,
        accept_invalid: bool = False,
        jobs: int = 1,
    ) -> int:
        """Recreate the catalog from the OCFL store alone; returns the number of documents.
        Refuses (InvalidStoreError, nothing changed) when an object fails OCFL validation,
        unless ``accept_invalid``. ``jobs`` > 1 validates and cleans in that many worker
        processes; this one alone writes."""
        from . import recovery

        if not self.exists():
            raise ArchiveNotFoundError(self.config.root)
        with self.writer("rebuild", on_wait=on_wait, use_catalog=False) as repairs:
            if not accept_invalid:
                from .verify import invalid_objects

                invalid = invalid_objects(self.home, jobs)
                if invalid:
                    raise InvalidStoreError(self.store.root, [f.to_json() for f in invalid])
            return recovery.rebuild_catalog(self.home, repairs=repairs, jobs=jobs)

    def foreign_objects(self) -> list[tuple[str, str]]:
        """(object id, path in the store) of objects another tool put in the storage root:
        listed by ``rebuild``, never imported (see :meth:`Store.foreign_objects`)."""
        return self.home.store.foreign_objects()

    # -- reading ------------------------------------------------------------------------

    def verify(
        self,
        *,
        full: bool = False,
        check_seeds: bool = True,
        rederive: bool = False,
        checkpoints: Sequence[tuple[str, str]] = (),
        key: str | None = None,
        on_progress: Callable[[str, int, int], None] | None = None,
        fixity: bool = False,
        jobs: int = 1,
        due: timedelta | None = None,
        sample: int | None = None,
        budget: float | None = None,
    ) -> VerifyReport:
        """Check fixity of every stored byte and the consistency of everything derived, and
        the transparency log: every leaf re-derived from store and catalog, and each given
        checkpoint ((source, text) pairs) signed by the archive's key (or ``key``, a
        verifier key the caller trusts) and extended by today's log."""
        from .home import SETTINGS
        from .verify import LogRequest, verify

        root = self.config.root
        if not any(p.exists() for p in (root / SETTINGS, self.home.catalog_path, self.store.root)):
            raise ArchiveNotFoundError(root)  # not damage: nothing of an archive is here
        log = LogRequest(tuple(checkpoints), key) if self.exists() else None
        return verify(
            self.home,
            full=full,
            check_seeds=check_seeds,
            rederive=rederive,
            on_progress=on_progress,
            fixity=fixity,
            jobs=jobs,
            due=due,
            sample=sample,
            budget=budget,
            log=log,
        )

    def verifier_key(self) -> str:
        """The public key the archive's checkpoints are signed with (note verifier-key format)."""
        from . import ledger

        self._require_store()
        return ledger.verifier(self.home).verifier_key

    def checkpoint(self) -> str:
        """The latest signed checkpoint of the transparency log."""
        from . import ledger

        self._require_store()
        return ledger.latest_checkpoint(self.home)

    def prove(self, target: str, number: int | None = None) -> bytes:
        """A self-contained proof bundle for a document version or a passage id."""
        from . import ledger
        from .search.engine import parse_removed_id

        self.require()
        if self.store.load(target) is not None:
            return ledger.prove_version(self.home, target, number)
        removed = parse_removed_id(target)
        if removed is not None:
            self.lineage(target)  # PassageNotFoundError unless the line exists
            name, version, _ = removed
            raise NotFoundError(
                f"{target!r} is a line the cleaner removed: the log proves document versions "
                f"and passages, so prove the version it is in ('provarchive prove {name} --rev "
                f"{version}'; 'provarchive lineage {target}' gives its byte span)"
            )
        return ledger.prove_passage(self.home, target)

    def search(
        self,
        query: str,
        *,
        document: str | None = None,
        documents: Sequence[str] = (),
        kind: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        all_versions: bool = False,
        limit: int = 10,
        offset: int = 0,
        everything: bool = False,
        published_since: str | None = None,
        published_until: str | None = None,
    ) -> SearchResults:
        """Ranked, citable hits (reads the index only). ``everything`` adds the lines the
        cleaner dropped (kind ``removed``, with the rule that dropped them)."""
        from .search.engine import SearchQuery
        from .search.sync import search

        names = tuple(documents) + ((document,) if document is not None else ())
        return search(
            self.home,
            SearchQuery(
                query,
                documents=names,
                kind=kind,
                since=since,
                until=until,
                all_versions=all_versions,
                limit=limit,
                everything=everything,
                published_since=published_since,
                published_until=published_until,
                offset=offset,
            ),
        )

    def resolve_name(self, text: str, *, prefix: bool = True) -> str:
        """The archived document meant by ``text``: its exact name, the path of its seed
        as typed in a shell (``seeds/2024/x.txt``, relative or absolute), or a unique
        prefix (unless not ``prefix``: a command that changes the archive names what it
        changes in full). Otherwise DocumentNotFoundError with the closest names as
        suggestions."""
        import difflib
        import os
        import unicodedata

        names = self.document_names()
        if text in names:
            return text
        # Names are archived in NFC: "café" typed decomposed means the archived "café".
        text = unicodedata.normalize("NFC", text)
        if text in names:
            return text
        seeds = os.path.abspath(self.home.seeds)
        typed = os.path.abspath(text)
        if typed.startswith(seeds + os.sep):
            relative = Path(os.path.relpath(typed, seeds)).as_posix()
            if relative in names:
                return relative
        starting = [n for n in names if n.startswith(text)]
        if len(starting) == 1 and prefix:
            return starting[0]
        close = difflib.get_close_matches(text, names, n=3, cutoff=0.6)
        suggestions = tuple(dict.fromkeys([*starting[:3], *close]))[:3]
        raise DocumentNotFoundError(text, suggestions)

    def document_names(self, pattern: str | None = None) -> list[str]:
        """Archived document names: all, or those a name, folder prefix or glob matches."""
        import fnmatch

        from .catalog import queries

        with self.catalog.session() as s:
            names = [d.name for d in queries.documents(s)]
        if pattern is None:
            return names
        folder = pattern.rstrip("/") + "/"
        return [
            n
            for n in names
            if n == pattern or n.startswith(folder) or fnmatch.fnmatchcase(n, pattern)
        ]

    def document(self, name: str) -> Document:
        from .catalog import queries

        with self.catalog.session() as s:
            doc = queries.document(s, name)
            if doc is None:
                raise DocumentNotFoundError(name)
            s.expunge(doc)
            return doc

    def versions(self, name: str) -> list[VersionInfo]:
        from .catalog import queries

        with self.catalog.session() as s:
            versions = queries.versions_of(s, name)
            if not versions and queries.document(s, name) is None:
                raise DocumentNotFoundError(name)
            return [version_info(v) for v in versions]

    def version(self, name: str, number: int | None = None) -> VersionInfo:
        versions = self.versions(name)
        if number is None:
            return versions[-1]
        for v in versions:
            if v.version == number:
                return v
        head = self.document(name).head
        if 1 <= number <= head:
            from .errors import WithdrawnError

            earlier = [v.version for v in versions if v.version < number]
            raise WithdrawnError(name, number, earlier[-1] if earlier else None)
        raise VersionNotFoundError(name, number, head)

    def content_path(self, name: str, number: int | None = None) -> Path:
        return self.home.content_path(name, number)

    def read_bytes(self, name: str, number: int | None = None) -> bytes:
        return self.home.read_bytes(name, number)

    def copy_verified(
        self, name: str, number: int | None, sink: IO[bytes], *, force: bool = False
    ) -> int:
        """The raw bytes of a version written to ``sink``, checked against their digests
        first (CorruptArchiveError, exit 7, if they are damaged; see Home.copy_verified)."""
        return self.home.copy_verified(name, number, sink, force=force)

    def events(self, document: str | None = None, limit: int | None = None) -> list[Event]:
        from .catalog import queries

        with self.catalog.session() as s:
            events = queries.events(s, document=document, limit=limit)
            for e in events:
                s.expunge(e)
            return events

    def view(self, name: str, number: int | None = None) -> DerivationView | None:
        """The current derivation of a version: passages, removed lines, cleaner."""
        from .views import view

        return view(self.home, name, number)

    def explain(
        self, name: str, number: int | None = None
    ) -> tuple[DerivationView | None, list[ExplainedLine]]:
        """Every raw line of a version with the recorded decision that covers it."""
        from .views import explain

        return explain(self.home, name, number)

    def lineage(self, passage_id: str, *, derivation: int | None = None) -> Lineage:
        """seeds file -> stored version -> cleaning run -> passage."""
        from .lineage import lineage

        return lineage(self.home, passage_id, derivation=derivation)

    # -- everyday use -----------------------------------------------------------------------

    def withdraw(
        self, name: str, reason: str, *, on_wait: WaitCallback | None = None
    ) -> Withdrawal:
        """A new version without the file: out of default search and lists, nothing deleted
        (see :mod:`provarchive.withdrawal`)."""
        from .withdrawal import withdraw

        self.require()
        with self.writer("withdraw", on_wait=on_wait):
            return withdraw(self.home, name, reason)

    def list_documents(
        self, pattern: str | None = None, *, withdrawn: bool = False
    ) -> list[DocumentRow]:
        """Documents by name (a name, folder prefix or glob filters them); withdrawn ones
        only with ``withdrawn``."""
        from .views import list_documents

        self.require()
        rows = list_documents(self.home)
        if pattern is not None:
            chosen = set(self.document_names(pattern))
            rows = [r for r in rows if r.document in chosen]
        return [r for r in rows if withdrawn or not r.withdrawn]

    def withdrawals(self, name: str) -> list[Withdrawal]:
        """Every withdrawal of a document, oldest first (from its inventory)."""
        from .withdrawal import withdrawals

        return withdrawals(self.home, name)

    def withdrawn_names(self) -> list[str]:
        from .catalog import queries

        with self.catalog.session() as s:
            return sorted(queries.withdrawn_files(s))

    def stats(self) -> Stats:
        """Counts, bytes and sizes of the archive, and when it was last verified."""
        from .views import stats

        self.require()
        return stats(self.home)

    def diff(self, name: str, old: int, new: int, *, raw: bool = False) -> Diff:
        """Unified diff of two versions' kept text (or raw text)."""
        from .views import diff

        self.require()
        self.version(name, old)
        self.version(name, new)
        return diff(self.home, name, old, new, raw=raw)


def _ingest_in_processes(
    config: ArchiveConfig,
    paths: list[Path] | None,
    jobs: int,
    on_wait: WaitCallback | None,
    on_start: Callable[[int], None] | None,
    on_result: Callable[[IngestResult], None] | None,
    should_stop: Callable[[], bool] | None,
) -> IngestReport:
    """``jobs`` ingests at once on a PostgreSQL archive, each in a process of its own over
    its share of the documents (by a hash of the name): they share the archive as any
    ingests do (see :mod:`provarchive.store.lock`). This process relays their progress,
    passes an interrupt on (each stops after its batch in hand; a stop at once, or any
    exception here, kills them) and merges their reports; the first error stops nothing
    else and is raised once all have ended."""
    import multiprocessing

    from .ingest import IngestReport
    from .processes import interrupts_held

    ctx = multiprocessing.get_context("spawn")  # a fresh interpreter: no shared descriptors
    events: Any = ctx.Queue()
    stop = ctx.Event()
    procs = [
        ctx.Process(target=_ingest_part, args=(config, paths, (k, jobs), events, stop))
        for k in range(jobs)
    ]
    with interrupts_held():
        for proc in procs:
            proc.start()
    try:
        done, errors = _relay(procs, events, stop, on_wait, on_start, on_result, should_stop)
    except BaseException:  # a stop at once: what the workers have in hand is not wanted
        stop.set()
        for proc in procs:  # the archive survives them as it survives any kill
            proc.kill()
        for proc in procs:
            proc.join(10)
        raise
    report = IngestReport()
    for part_report in done.values():
        if part_report is not None:
            report.results += part_report.results
            report.repairs += part_report.repairs
            report.not_reached += part_report.not_reached
            report.interrupted |= part_report.interrupted
    if errors:
        message, code = errors[0]
        failure = ArchiveError(message)  # the worker's own message and exit code
        failure.exit_code = code
        failure.report = report  # type: ignore[attr-defined]
        raise failure
    return report


def _relay(
    procs: list[Any],
    events: Any,
    stop: Any,
    on_wait: WaitCallback | None,
    on_start: Callable[[int], None] | None,
    on_result: Callable[[IngestResult], None] | None,
    should_stop: Callable[[], bool] | None,
) -> tuple[dict[int, IngestReport | None], list[tuple[str, int]]]:
    """Relay the workers' events to the callbacks until every worker is done; their
    reports (None for one that died) and errors (message, exit code)."""
    import queue

    jobs = len(procs)
    totals: dict[int, int] = {}
    early: list[IngestResult] = []
    done: dict[int, IngestReport | None] = {}
    errors: list[tuple[str, int]] = []
    told_wait = False
    while len(done) < jobs:
        if should_stop is not None and should_stop():
            stop.set()
        try:
            kind, k, value = events.get(timeout=0.1)
        except queue.Empty:
            for k, proc in enumerate(procs):
                if k not in done and proc.exitcode not in (None, 0):  # died without a word
                    done[k] = None
                    errors.append((_died(k, jobs, proc.exitcode), 1))
            continue
        if kind == "wait" and on_wait is not None and not told_wait:
            told_wait = True
            on_wait(value)
        elif kind == "start":
            totals[k] = value
            if len(totals) == jobs:
                if on_start is not None:
                    on_start(sum(totals.values()))
                for r in early:
                    if on_result is not None:
                        on_result(r)
                early.clear()
        elif kind == "result":
            if len(totals) < jobs:
                early.append(value)
            elif on_result is not None:
                on_result(value)
        elif kind == "done":
            done[k] = value
        elif kind == "error":
            message, code, partial = value
            done[k] = partial
            errors.append((message, code))
    for proc in procs:
        proc.join()
    return done, errors


def _died(k: int, jobs: int, exitcode: int) -> str:
    import signal

    how = f"exit {exitcode}"
    if exitcode < 0:
        with contextlib.suppress(ValueError):
            how = f"killed by {signal.Signals(-exitcode).name}"
    return (
        f"ingest worker {k + 1} of {jobs} died ({how}); what it had not archived is "
        "archived by the next ingest"
    )


def _ingest_part(
    config: ArchiveConfig,
    paths: list[Path] | None,
    part: tuple[int, int],
    events: Any,
    stop: Any,
) -> None:
    """One process of :func:`_ingest_in_processes`: an ingest of its share, telling the
    parent everything through ``events`` and stopping when ``stop`` is set."""
    from .processes import die_with_parent, leave_interrupts_to_parent

    die_with_parent()
    leave_interrupts_to_parent()
    k = part[0]
    try:
        with Archive(config) as archive:
            report = archive.ingest(
                paths,
                on_wait=lambda holder: events.put(("wait", k, holder)),
                on_start=lambda total: events.put(("start", k, total)),
                on_result=lambda r: events.put(("result", k, r)),
                should_stop=stop.is_set,
                part=part,
            )
        events.put(("done", k, report))
    except ArchiveError as exc:
        events.put(("error", k, (str(exc), exc.exit_code, getattr(exc, "report", None))))
    except BaseException as exc:
        events.put(("error", k, (f"ingest worker {k + 1}: {type(exc).__name__}: {exc}", 1, None)))
        raise


def _require_writable(root: Path) -> None:
    """A writing command on an archive this user cannot write stops at once, before
    touching anything (read commands still work there)."""
    import os

    from .errors import StorageError

    if root.is_dir() and not os.access(root, os.W_OK | os.X_OK):
        raise StorageError(
            root,
            "the archive is read-only for this user (read commands still work)",
            "nothing was changed",
        )
