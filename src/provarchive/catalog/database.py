"""The catalog: a relational view of the archive, through SQLAlchemy 2.0.

Contract:
- The catalog is derived data. Everything in it except the event log can be
  recreated from the OCFL store (:func:`provarchive.ingest.rebuild_catalog`);
  the store wins whenever the two disagree.
- Portable SQL only: the default is a SQLite file, but any SQLAlchemy URL
  works. SQLite-specific settings (foreign keys, WAL so that readers never
  wait for the writer, a busy timeout) are applied only on SQLite connections.
- The schema is created and upgraded by Alembic migrations shipped in
  ``provarchive/migrations``; only writers migrate, readers refuse an old schema.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import create_engine, event, exc, insert, inspect, select, text, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from ..errors import CatalogError
from .models import Document, Event, SeedStat, Version

log = logging.getLogger(__name__)

# The newest migration in migrations/versions/ (tests/test_catalog.py checks it).
SCHEMA_HEAD = "0003"
_VERSION_TABLE = "alembic_version"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Python's sqlite3 module only opens a transaction before INSERT/UPDATE/
    # DELETE, so each CREATE TABLE of a migration committed on its own: a crash
    # mid-migration left tables without a schema version (found by the SIGKILL
    # trials). We take transactions over: BEGIN is emitted on "begin" below.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        with contextlib.suppress(Exception):
            # WAL lets readers run while a writer commits. It cannot be enabled
            # on a read-only database; then we simply read in the current mode.
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
    finally:
        cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN")


class Catalog:
    """An open catalog database."""

    def __init__(self, url: str, *, create: bool = True) -> None:
        self.url = url
        if not create:
            url = _no_create_url(url)
        try:
            self.engine: Engine = create_engine(url)
        except (exc.SQLAlchemyError, ImportError, ValueError) as e:
            raise CatalogError(f"cannot open catalog {url}: {e}") from e
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
            event.listen(self.engine, "begin", _sqlite_begin)

    def close(self) -> None:
        self.engine.dispose()

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction, committed on success; DB errors become CatalogError."""
        try:
            with Session(self.engine, expire_on_commit=False) as s, s.begin():
                yield s
        except exc.SQLAlchemyError as e:
            raise CatalogError(f"catalog error: {e.__class__.__name__}: {_first_line(e)}") from e

    # -- schema -----------------------------------------------------------------------

    def _alembic_config(self, connection: Connection) -> Any:
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
        cfg.attributes["connection"] = connection
        return cfg

    def schema_status(self) -> tuple[str | None, str]:
        """(current revision in the database, newest revision shipped).

        Reads Alembic's version table directly and compares it with SCHEMA_HEAD:
        importing Alembic costs every read-only command ~140 ms, so only a
        migration does (a test keeps SCHEMA_HEAD equal to the newest script)."""
        try:
            with self.engine.connect() as conn:
                if not inspect(conn).has_table(_VERSION_TABLE):
                    return None, SCHEMA_HEAD
                rows = conn.execute(text(f"SELECT version_num FROM {_VERSION_TABLE}")).all()
        except exc.SQLAlchemyError as e:
            raise CatalogError(f"cannot read catalog {self.url}: {_first_line(e)}") from e
        if len(rows) > 1:
            raise CatalogError(f"catalog {self.url} records several schema revisions")
        return (rows[0][0] if rows else None), SCHEMA_HEAD

    def migrate(self) -> bool:
        """Create or upgrade the schema; True if anything was applied."""
        from alembic import command

        current, head = self.schema_status()
        if current == head:
            return False
        try:
            with self.engine.begin() as conn:
                command.upgrade(self._alembic_config(conn), "head")
        except exc.SQLAlchemyError as e:
            raise CatalogError(f"cannot upgrade catalog {self.url}: {_first_line(e)}") from e
        log.info("catalog schema upgraded from %s to %s", current, head)
        return True

    def require_current_schema(self) -> None:
        current, head = self.schema_status()
        if current is None:
            raise CatalogError(
                f"catalog {self.url} is empty; run 'provarchive rebuild' to recreate it from the store"
            )
        if current != head:
            raise CatalogError(
                f"catalog schema {current} is older than this provarchive ({head}); "
                "run a writing command such as 'provarchive ingest' to upgrade it"
            )

    # -- queries ------------------------------------------------------------------------

    def document(self, s: Session, name: str) -> Document | None:
        return s.scalars(select(Document).where(Document.name == name)).one_or_none()

    def documents(self, s: Session) -> list[Document]:
        return list(s.scalars(select(Document).order_by(Document.name)))

    def versions_of(self, s: Session, name: str) -> list[Version]:
        return list(
            s.scalars(
                select(Version).join(Document).where(Document.name == name).order_by(Version.number)
            )
        )

    def events(
        self, s: Session, *, document: str | None = None, limit: int | None = None
    ) -> list[Event]:
        query = select(Event).order_by(Event.id.desc())
        if document is not None:
            query = query.where(Event.document == document)
        if limit is not None:
            query = query.limit(limit)
        return list(reversed(list(s.scalars(query))))


def load_seed_stats(s: Session) -> dict[str, SeedStat]:
    """The whole stat cache, detached from the session."""
    stats = {row.name: row for row in s.scalars(select(SeedStat))}
    for row in stats.values():
        s.expunge(row)
    return stats


def save_seed_stats(s: Session, rows: list[dict[str, Any]], known: set[str]) -> None:
    """Insert or update stat-cache rows (``known``: names already in the cache)."""
    updates = [r for r in rows if r["name"] in known]
    inserts = [r for r in rows if r["name"] not in known]
    if updates:
        s.execute(update(SeedStat), updates)
    if inserts:
        s.execute(insert(SeedStat), inserts)


def _no_create_url(url: str) -> str:
    """For a SQLite file URL, the same file opened so that a missing file is an error.

    Readers use this: looking at an archive must never leave an empty catalog behind.
    """
    prefix = "sqlite:///"
    if not url.startswith(prefix) or "?" in url or url.endswith(":memory:"):
        return url
    return f"{prefix}file:{quote(url[len(prefix) :])}?mode=rw&uri=true"


def _first_line(e: BaseException) -> str:
    text = str(getattr(e, "orig", None) or e)
    return text.splitlines()[0] if text else e.__class__.__name__
