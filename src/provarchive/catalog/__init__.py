"""The catalog: a relational view of the archive, through SQLAlchemy 2.0.

The only package that imports SQLAlchemy (a test checks it): models, the
database handle with its migrations, and every query.
"""

from .database import SCHEMA_HEAD, Catalog, load_seed_stats, save_seed_stats
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
    new_event,
    utcnow,
)

__all__ = [
    "SCHEMA_HEAD",
    "Base",
    "Catalog",
    "DerivationRecord",
    "Document",
    "Event",
    "PassageRecord",
    "RemovalRecord",
    "SeedStat",
    "UTCDateTime",
    "Version",
    "load_seed_stats",
    "new_event",
    "save_seed_stats",
    "utcnow",
]
