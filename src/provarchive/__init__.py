"""provarchive: a provenance-tracking document archive.

Library use (the CLI is a thin layer over exactly this)::

    from provarchive import Archive, ArchiveConfig, ingest, verify

    with Archive(ArchiveConfig(root=Path("archive"), seeds=Path("seeds"))) as archive:
        report = ingest(archive)
        assert verify(archive).is_ok()
"""

import logging

from .archive import Archive, VersionInfo
from .config import ArchiveConfig
from .errors import ArchiveError
from .findings import Finding, VerifyReport
from .ingest import IngestReport, IngestResult, add, ingest, rebuild_catalog
from .meta import __version__
from .verify import verify

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "Archive",
    "ArchiveConfig",
    "ArchiveError",
    "Finding",
    "IngestReport",
    "IngestResult",
    "VerifyReport",
    "VersionInfo",
    "__version__",
    "add",
    "ingest",
    "rebuild_catalog",
    "verify",
]
