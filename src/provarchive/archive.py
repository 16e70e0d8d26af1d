"""The archive as one object: store + catalog (+ index), opened for reading or writing.

Contract:
- :class:`Archive` never prints and never exits; it returns values or raises
  :class:`~provarchive.errors.ArchiveError` subclasses.
- Reading needs no lock and changes nothing. Writing happens only inside
  :meth:`Archive.writer`, which takes the writer lock, creates or upgrades what
  is missing, and first repairs whatever a crashed writer left (logging each
  repair as an event) before the caller's work starts.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from .catalog import Catalog, Document, Event, Version, new_event
from .config import ArchiveConfig
from .errors import (
    ArchiveNotFoundError,
    CorruptArchiveError,
    DocumentNotFoundError,
    VersionNotFoundError,
)
from .store import durable
from .store.lock import writer_lock
from .store.storage import Repair, Store

if TYPE_CHECKING:
    from .search.whoosh_engine import PassageIndex

log = logging.getLogger(__name__)


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
            "ingested_at": self.ingested_at.isoformat().replace("+00:00", "Z"),
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
        self.store = Store(config.ocfl_root, config.staging)
        self._catalog: Catalog | None = None
        self._index: Any = None
        self._writing = False

    @property
    def catalog(self) -> Catalog:
        """The catalog; opened so that only a writer may create a missing database."""
        if self._catalog is None:
            self._catalog = Catalog(self.config.catalog_url, create=self._writing)
        return self._catalog

    @property
    def index(self) -> PassageIndex:
        """The search index (Whoosh is imported on first use, not at start-up)."""
        if self._index is None:
            from .search.whoosh_engine import PassageIndex

            self._index = PassageIndex(self.config.index_dir)
        return cast("PassageIndex", self._index)

    def close(self) -> None:
        if self._catalog is not None:
            self._catalog.close()
            self._catalog = None
        if self._index is not None:
            self._index.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- opening ------------------------------------------------------------------------

    def exists(self) -> bool:
        return self.store.exists()

    def require(self) -> None:
        """Check that the archive exists and its catalog is readable by this version."""
        if not self.exists():
            raise ArchiveNotFoundError(self.config.root)
        if self.config.db_url is None and not self.config.catalog_path.exists():
            raise CorruptArchiveError(
                self.config.catalog_path,
                "the catalog is missing; run 'provarchive rebuild' to recreate it from the store",
            )
        self.catalog.require_current_schema()

    @contextlib.contextmanager
    def writer(
        self,
        command: str,
        on_wait: Callable[[str | None], None] | None = None,
        *,
        use_catalog: bool = True,
    ) -> Iterator[list[Repair]]:
        """Hold the writer lock with everything created, upgraded and repaired.

        Yields the repairs made on the way in (already logged as events). With
        ``use_catalog=False`` (for ``rebuild``) the catalog is not opened at all and
        only the store is repaired; the caller logs the returned repairs.
        """
        durable.make_dirs(self.config.root)
        with writer_lock(
            self.config.lock_path,
            timeout=self.config.lock_timeout,
            command=command,
            on_wait=on_wait,
        ):
            if not self._writing:
                self.close()
                self._writing = True
            created = self.store.initialize()
            if not use_catalog:
                store_repairs, _touched = self.store.recover()
                yield store_repairs
                return
            self.catalog.migrate()
            repairs = self.recover()
            if created:
                with self.catalog.session() as s:
                    s.add(new_event("creation", f"storage root created at {self.store.root}"))
            yield repairs
            # Whatever the command changed in the catalog reaches the index before
            # the lock is released (a no-op when the command synced already).
            from .search.sync import sync_index

            sync_index(self)

    def recover(self) -> list[Repair]:
        """Repair what an interrupted writer left. Caller holds the writer lock."""
        from .ingest import rebuild_needed, sync_documents

        repairs, touched = self.store.recover()
        if rebuild_needed(self):
            from .ingest import rebuild_catalog

            count = rebuild_catalog(self, keep_backup=False)
            repairs.append(
                Repair(
                    "catalog-rebuilt",
                    None,
                    f"catalog was empty; {count} document(s) restored from the store",
                )
            )
        elif touched:
            added = sync_documents(self, sorted(touched))
            for name, number in added:
                repairs.append(
                    Repair("catalog-completed", name, f"v{number} recorded from the store")
                )
        from .derivations import derive_missing
        from .search.sync import sync_index

        with self.catalog.session() as s:
            for name, number in derive_missing(self, s, reason="recovery"):
                repairs.append(Repair("derivation-completed", name, f"v{number} cleaned"))
        synced = sync_index(self)
        if synced.recreated:
            repairs.append(Repair("index-recreated", None, f"the index was {synced.recreated}"))
        elif synced.versions:
            repairs.append(Repair("index-caught-up", None, f"{synced.versions} version(s) indexed"))
        if repairs:
            with self.catalog.session() as s:
                for r in repairs:
                    s.add(new_event("recovery", f"{r.action}: {r.detail}", document=r.name))
            for r in repairs:
                log.info("recovered: %s %s %s", r.action, r.name or "", r.detail)
        return repairs

    # -- reading ------------------------------------------------------------------------

    def document(self, name: str) -> Document:
        with self.catalog.session() as s:
            doc = self.catalog.document(s, name)
            if doc is None:
                raise DocumentNotFoundError(name)
            s.expunge(doc)
            return doc

    def versions(self, name: str) -> list[VersionInfo]:
        with self.catalog.session() as s:
            versions = self.catalog.versions_of(s, name)
            if not versions and self.catalog.document(s, name) is None:
                raise DocumentNotFoundError(name)
            return [version_info(v) for v in versions]

    def version(self, name: str, number: int | None = None) -> VersionInfo:
        versions = self.versions(name)
        if number is None:
            return versions[-1]
        if not 1 <= number <= len(versions):
            raise VersionNotFoundError(name, number, len(versions))
        return versions[number - 1]

    def content_path(self, name: str, number: int | None = None) -> Path:
        """Where the raw bytes of a version are in the store (read from the committed inventory)."""
        state = self.store.load(name)
        if state is None:
            raise DocumentNotFoundError(name)
        number = state.head if number is None else number
        if not 1 <= number <= state.head:
            raise VersionNotFoundError(name, number, state.head)
        return self.store.content_file(state, number)

    def read_bytes(self, name: str, number: int | None = None) -> bytes:
        path = self.content_path(name, number)
        try:
            return path.read_bytes()
        except OSError as exc:
            raise CorruptArchiveError(path, durable.describe_os_error(exc)) from exc

    def events(self, document: str | None = None, limit: int | None = None) -> list[Event]:
        with self.catalog.session() as s:
            events = self.catalog.events(s, document=document, limit=limit)
            for e in events:
                s.expunge(e)
            return events
