"""Per-document locks of writers that share an archive, held in the catalog's database.

Contract: on PostgreSQL, :class:`DocumentLocks` holds session-level advisory locks
(``pg_try_advisory_lock``) on one connection of its own, one per document name, so
that writers on any machine that reach the server archive different documents at
once and the same document never twice. A writer that dies loses its connection
and with it its locks: the server lets them go, as the kernel lets go of a
``flock``. So does this writer's own connection when an interrupt lands inside one
of its queries (SQLAlchemy invalidates it): letting go then has nothing left to do,
and does not fail. Keys are the first 8 bytes of a SHA-256 of the name (a collision
only makes two documents take turns). Other databases have no such locks:
:func:`document_locks` returns None there (SQLite writers take turns through the
archive's writer lock).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from sqlalchemy import Connection, text

from .database import Catalog

_NAMESPACE = b"provarchive document lock\n"
_TRY = text(
    "SELECT pg_try_advisory_lock(k) FROM unnest(CAST(:keys AS bigint[])) "
    "WITH ORDINALITY AS t(k, i) ORDER BY i"
)
_UNLOCK = text("SELECT pg_advisory_unlock(k) FROM unnest(CAST(:keys AS bigint[])) AS t(k)")


def lock_key(name: str) -> int:
    """The advisory lock key of a document name (a signed 64-bit integer)."""
    digest = hashlib.sha256(_NAMESPACE + name.encode("utf-8", "surrogateescape")).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class DocumentLocks:
    """Advisory locks on documents, on a connection of their own (autocommit)."""

    def __init__(self, catalog: Catalog) -> None:
        self._conn: Connection = catalog.engine.connect().execution_options(
            isolation_level="AUTOCOMMIT"
        )
        self._held: set[int] = set()

    def try_lock(self, names: Sequence[str]) -> list[bool]:
        """Lock each name that no other writer holds; True where this one now holds it
        (a name it held already stays held, once)."""
        keys = [lock_key(n) for n in names]
        fresh = [k for k in dict.fromkeys(keys) if k not in self._held]
        got = dict.fromkeys(keys, True)
        if fresh:
            rows = self._conn.execute(_TRY, {"keys": fresh}).scalars().all()
            for key, ok in zip(fresh, rows, strict=True):
                got[key] = bool(ok)
                if ok:
                    self._held.add(key)
        return [got[k] for k in keys]

    def unlock(self, names: Sequence[str]) -> None:
        keys = [k for k in dict.fromkeys(map(lock_key, names)) if k in self._held]
        if keys and self._any_held():
            self._conn.execute(_UNLOCK, {"keys": keys})
            self._held.difference_update(keys)

    def close(self) -> None:
        """Let every lock go (closing the connection would too)."""
        try:
            if self._any_held():
                self._conn.execute(_UNLOCK, {"keys": sorted(self._held)})
                self._held.clear()
        finally:
            self._conn.close()

    def _any_held(self) -> bool:
        """Whether this writer still holds a lock: none once its connection is invalidated
        (by an interrupt in a query: the socket is closed, the server lets them go)."""
        if self._conn.invalidated:
            self._held.clear()
        return bool(self._held)


def document_locks(catalog: Catalog) -> DocumentLocks | None:
    """Per-document locks for shared writers, where the catalog's database has them."""
    return DocumentLocks(catalog) if catalog.dialect == "postgresql" else None
