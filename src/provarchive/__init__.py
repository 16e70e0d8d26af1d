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

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

from .meta import __version__

if TYPE_CHECKING:
    from .archive import Archive, VersionInfo
    from .config import ArchiveConfig
    from .errors import ArchiveError
    from .findings import Finding, VerifyReport

logging.getLogger(__name__).addHandler(logging.NullHandler())

# The front door is imported on first use (PEP 562), so that ``provarchive --help`` and
# commands that never open an archive do not pay for SQLAlchemy, Whoosh and the rest.
_LAZY = {
    "Archive": "archive",
    "VersionInfo": "archive",
    "ArchiveConfig": "config",
    "ArchiveError": "errors",
    "Finding": "findings",
    "VerifyReport": "findings",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__all__ = [
    "Archive",
    "ArchiveConfig",
    "ArchiveError",
    "Finding",
    "VerifyReport",
    "VersionInfo",
    "__version__",
]
