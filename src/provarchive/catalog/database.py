"""The catalog database: engine, sessions, schema migrations, and the SQLite specifics.

Contract:
- The catalog is derived data. Everything in it except the event log can be
  recreated from the OCFL store (``rebuild``); the store wins whenever the two
  disagree.
- Portable SQL only: the default is a SQLite file, but any SQLAlchemy URL
  works. SQLite-specific settings (foreign keys, WAL so that readers never
  wait for the writer, a busy timeout, read-only opening) live here and only here.
- The schema is created and upgraded by Alembic migrations shipped in
  ``catalog/migrations``; only writers migrate, readers refuse an old schema.
- Every database error leaves this package as :class:`~provarchive.errors.CatalogError`,
  except a file-system failure under SQLite (disk full, read-only, I/O error), which
  is a :class:`~provarchive.errors.StorageError` naming the database file (exit 6).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import shutil
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import create_engine, event, exc, inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from ..errors import (
    ArchiveError,
    CatalogBusyError,
    CatalogError,
    CatalogValueError,
    StorageError,
)
from .models import Base

log = logging.getLogger(__name__)

# The newest migration in migrations/versions/ (tests/test_catalog.py checks it).
SCHEMA_HEAD = "0010"
_VERSION_TABLE = "alembic_version"

CREATE = "create"
READ_WRITE = "rw"
READ_ONLY = "ro"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any, *, busy_ms: int = 30000) -> None:
    # Python's sqlite3 module only opens a transaction before INSERT/UPDATE/
    # DELETE, so each CREATE TABLE of a migration committed on its own: a crash
    # mid-migration left tables without a schema version (found by the SIGKILL
    # trials). We take transactions over: BEGIN is emitted on "begin" below.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={busy_ms:d}")
        with contextlib.suppress(Exception):
            # WAL lets readers run while a writer commits. It cannot be enabled
            # on a read-only database; then we simply read in the current mode.
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
    finally:
        cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN")


def sqlite_path(url: str) -> Path | None:
    """The file of a plain ``sqlite:///PATH`` URL, or None for any other URL."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or "?" in url or url.endswith(":memory:"):
        return None
    return Path(url[len(prefix) :])


def _url_for(url: str, mode: str) -> str:
    """For a SQLite file, the URL that opens it in ``mode``: a reader must never create
    an empty catalog, and a read-only one must not need to write anything."""
    path = sqlite_path(url)
    if path is None or mode == CREATE:
        return url
    no_room = _no_room_for_shm(path)
    if mode == READ_WRITE and not no_room:
        return f"sqlite:///file:{quote(str(path))}?mode=rw&uri=true"
    # immutable: on a read-only directory (or a full disk) SQLite cannot create the -shm
    # file a WAL database needs; nothing can be writing there anyway.
    immutable = "&immutable=1" if no_room or not os.access(path.parent, os.W_OK) else ""
    return f"sqlite:///file:{quote(str(path))}?mode=ro{immutable}&uri=true"


def _no_room_for_shm(path: Path) -> bool:
    """True when a reader could not create the WAL index (``-shm``) beside ``path``: the
    disk is full. Readers then read the file as it is, so that a full disk still reads."""
    try:
        if shutil.disk_usage(path.parent).free >= 256 * 1024:
            return False
        return os.stat(f"{path}-shm").st_size < _SHM_SIZE
    except FileNotFoundError:
        return True
    except OSError:
        return False


_SHM_SIZE = 32768
"""The size of a WAL index (``-shm``) that a reader can use without growing it."""


class Catalog:
    """An open catalog database."""

    def __init__(self, url: str, *, mode: str = CREATE, busy_timeout: float = 30.0) -> None:
        """``busy_timeout``: seconds to wait for a SQLite file another program has locked."""
        self.url = url
        self.mode = mode
        self.busy_timeout = busy_timeout
        try:
            self.engine: Engine = create_engine(_url_for(url, mode))
        except (exc.SQLAlchemyError, ImportError, ValueError) as e:
            raise CatalogError(f"cannot open catalog {url}: {e}") from e
        if self.engine.dialect.name == "sqlite":
            busy_ms = min(int(busy_timeout * 1000), 2**31 - 1)  # SQLite's limit: a C int
            event.listen(
                self.engine, "connect", functools.partial(_sqlite_pragmas, busy_ms=busy_ms)
            )
            event.listen(self.engine, "begin", _sqlite_begin)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def path(self) -> Path | None:
        """The database file, for a SQLite catalog."""
        return sqlite_path(self.url)

    def close(self) -> None:
        self.engine.dispose()

    def table_bytes(self) -> dict[str, int]:
        """Bytes each table of the catalog's schema takes on a PostgreSQL server, its
        indexes and TOAST included (a SQLite catalog is sized by its file: empty)."""
        if self.dialect != "postgresql":
            return {}
        query = text(
            "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE c.relkind IN ('r', 'p') AND n.nspname = current_schema()"
        )
        with self.session() as s:
            return {str(name): int(size) for name, size in s.execute(query)}

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction, committed on success; DB errors become CatalogError.

        On SQLite the transaction is one snapshot. On PostgreSQL (READ COMMITTED) each
        statement sees the commits made before it: a reader whose statements must agree
        with each other takes :meth:`snapshot`."""
        try:
            with Session(self.engine, expire_on_commit=False) as s, s.begin():
                yield s
        except exc.SQLAlchemyError as e:
            raise self._error(e, f"catalog error: {e.__class__.__name__}: {_first_line(e)}") from e
        except (ValueError, TypeError) as e:
            if not _raised_reading_a_value(e):
                raise
            raise CatalogValueError(
                f"a value in the catalog is not of its column's type ({_first_line(e)}): run "
                "'provarchive verify'; 'provarchive rebuild' recreates the catalog from the store"
            ) from e
        except Exception as e:
            if not _driver_error(e, self.dialect):
                raise
            raise self._error(e, f"catalog error: {e.__class__.__name__}: {_first_line(e)}") from e

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[Session]:
        """A read-only :meth:`session` in which every statement reads as of one commit,
        on PostgreSQL too (REPEATABLE READ): e.g. an audit that reads derivations first
        and their passages next must not see a commit made in between."""
        with self.session() as s:
            if self.dialect == "postgresql":
                s.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"))
            yield s

    def _error(self, e: Exception, message: str) -> ArchiveError:
        """The error to raise for a database failure: a StorageError naming the file when
        SQLite could not write it (disk full, read-only, I/O error), else CatalogError."""
        reason = storage_reason(e) if self.dialect == "sqlite" else None
        if reason == LOCKED and _extended_code(e) != SQLITE_BUSY_SNAPSHOT:
            return CatalogBusyError(self.path or Path(self.url), self.busy_timeout)
        if reason == LOCKED:  # at once, not after a wait: another connection committed first
            return CatalogError(f"{message} (another connection wrote first: run it again)")
        if reason is None:
            return CatalogError(message)
        path = self.path
        if path is not None and reason.startswith("input/output error"):
            with contextlib.suppress(OSError):
                # SQLite reports a full disk met while growing its -shm/-wal as I/O.
                if shutil.disk_usage(path.parent).free < 1024 * 1024:
                    reason = "no space left on device"
        return StorageError(path or self.url, reason)

    def checkpoint_wal(self) -> None:
        """SQLite: move the write-ahead log into the database file (one file on its own)."""
        try:
            with self.engine.connect() as conn:
                # On the raw connection: outside the BEGIN that SQLAlchemy would emit.
                raw: Any = conn.connection.dbapi_connection
                raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except Exception as e:  # SQLAlchemy's, or the DB-API's own (sqlite3.OperationalError)
            raise self._error(e, f"cannot checkpoint catalog {self.url}: {_first_line(e)}") from e

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
            raise self._error(e, f"cannot read catalog {self.url}: {_first_line(e)}") from e
        if len(rows) > 1:
            raise CatalogError(f"catalog {self.url} records several schema revisions")
        return (rows[0][0] if rows else None), SCHEMA_HEAD

    def migrate(self) -> bool:
        """Create or upgrade the schema, all or nothing; True if anything was applied."""
        from alembic import command

        current, head = self.schema_status()
        if current == head:
            return False
        try:
            with self.engine.connect() as conn, _foreign_keys_off(conn), conn.begin():
                command.upgrade(self._alembic_config(conn), "head")
                if self.dialect == "sqlite":
                    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise CatalogError(f"migration broke {len(broken)} foreign key(s)")
        except exc.SQLAlchemyError as e:
            raise self._error(e, f"cannot upgrade catalog {self.url}: {_first_line(e)}") from e
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

    def drop_everything(self) -> None:
        """Drop every table (a server catalog that ``rebuild`` is about to recreate)."""
        try:
            with self.engine.begin() as conn:
                Base.metadata.drop_all(conn)
                conn.exec_driver_sql(f"DROP TABLE IF EXISTS {_VERSION_TABLE}")
        except exc.SQLAlchemyError as e:
            raise CatalogError(f"cannot reset catalog {self.url}: {_first_line(e)}") from e


@contextlib.contextmanager
def _foreign_keys_off(conn: Connection) -> Iterator[None]:
    """SQLite: no foreign-key actions while a migration recreates tables.

    Batch migrations copy a table, drop it and rename the copy; with foreign keys
    on, dropping a parent table deletes its children's rows (ON DELETE CASCADE).
    The pragma only works outside a transaction, so it is set on the raw
    connection before the migration's BEGIN (and checked after, as SQLite's
    documentation for schema changes advises)."""
    if conn.dialect.name != "sqlite":
        yield
        return
    raw: Any = conn.connection.dbapi_connection
    raw.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
    finally:
        raw.execute("PRAGMA foreign_keys=ON")


_STORAGE_FAILURES = {
    "database or disk is full": "no space left on device",
    "attempt to write a readonly database": "read-only (the archive cannot be written here)",
    "disk i/o error": "input/output error (disk full or failing?)",
    "database is locked": "locked",  # past the busy timeout: not a storage failure
}
LOCKED = "locked"


def storage_reason(e: BaseException) -> str | None:
    """The file-system reason behind a SQLite error (or :data:`LOCKED`), or None."""
    message = str(getattr(e, "orig", None) or e).lower()
    return next((why for text_, why in _STORAGE_FAILURES.items() if text_ in message), None)


SQLITE_BUSY_SNAPSHOT = 517
"""SQLite's extended code for 'database is locked' raised at once: a read transaction
that another connection's commit overtook cannot write (no wait would help)."""


def _extended_code(e: BaseException) -> int | None:
    return getattr(getattr(e, "orig", None), "sqlite_errorcode", None)


def _raised_reading_a_value(e: BaseException) -> bool:
    """Whether SQLAlchemy's result processors raised ``e`` turning a stored value into
    Python (a text where SQLite holds a date, say: SQLite keeps what it is given), not
    the caller's code nor a misuse of the ORM."""
    tb = e.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    where = tb.tb_frame.f_code.co_filename if tb is not None else ""
    return f"{os.sep}sqlalchemy{os.sep}" in where and "processors" in os.path.basename(where)


def _driver_error(e: Exception, dialect: str) -> bool:
    """``e`` is psycopg's own error (from :func:`copy_rows`, which SQLAlchemy does not wrap)."""
    if dialect != "postgresql":
        return False
    import psycopg

    return isinstance(e, psycopg.Error)


def copy_rows(
    conn: Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """Rows into a PostgreSQL table by ``COPY ... FROM STDIN`` on ``conn``, in its
    transaction: a third of the time of a multi-row INSERT, most of it on the server.
    Omitted columns take their server defaults (ids from their sequences); psycopg's
    errors are raised as they are (a :meth:`Catalog.session` turns them into
    CatalogError)."""
    raw: Any = conn.connection.dbapi_connection
    with raw.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _first_line(e: BaseException) -> str:
    text_ = str(getattr(e, "orig", None) or e)
    return text_.splitlines()[0] if text_ else e.__class__.__name__
