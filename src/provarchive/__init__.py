"""provarchive: a provenance-tracking document archive.

Library use (the CLI is a thin layer over exactly this)::

    from pathlib import Path
    from provarchive import Archive, ArchiveConfig

    with Archive(ArchiveConfig(root=Path("archive"), seeds=Path("seeds"))) as archive:
        report = archive.ingest()
        hits = archive.search('"North Korean" labourers')
        assert archive.verify().is_ok()

Every method of :class:`Archive` that writes takes the archive's writer lock itself.
"""

import logging

from .archive import Archive, VersionInfo
from .config import ArchiveConfig
from .errors import ArchiveError
from .findings import Finding, VerifyReport
from .meta import __version__

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "Archive",
    "ArchiveConfig",
    "ArchiveError",
    "Finding",
    "VerifyReport",
    "VersionInfo",
    "__version__",
]
