"""The catalog: a relational view of the archive, through SQLAlchemy 2.0.

The only package that imports SQLAlchemy (a test checks it): the models
(:mod:`.models`), the database handle with its migrations (:mod:`.database`),
and every query (:mod:`.queries`, used as ``queries.document(s, name)``).
``Session`` is re-exported so that callers can annotate the session they are
handed without importing SQLAlchemy themselves.
"""

from sqlalchemy.orm import Session

from . import queries
from .database import CREATE, READ_ONLY, READ_WRITE, SCHEMA_HEAD, Catalog, sqlite_path
from .models import (
    Base,
    DerivationRecord,
    Document,
    Event,
    PassageRecord,
    RemovalRecord,
    SeedStat,
    UTCDateTime,
    Version,
    key_of,
    new_event,
    utcnow,
)

__all__ = [
    "CREATE",
    "READ_ONLY",
    "READ_WRITE",
    "SCHEMA_HEAD",
    "Base",
    "Catalog",
    "DerivationRecord",
    "Document",
    "Event",
    "PassageRecord",
    "RemovalRecord",
    "SeedStat",
    "Session",
    "UTCDateTime",
    "Version",
    "key_of",
    "new_event",
    "queries",
    "sqlite_path",
    "utcnow",
]
