"""The seeds folder: document names, what may be archived, and how it is read and written.

Contract:
- A document's name is its path relative to the seeds folder, POSIX separators,
  Unicode NFC (:mod:`.names`; :func:`validate_name` is the single gatekeeper and
  :func:`display_name` shows any name safely).
- Every user path reaches the folder through :func:`resolve_in_seeds` (:mod:`.paths`):
  nothing outside the real seeds folder is ever read or written through a link.
- :func:`scan` (:mod:`.scanner`) lists what to archive and every entry that will not
  be (failed, skipped or ignored) with a one-line reason; :func:`open_seed`
  re-checks and opens. What is ignored is :mod:`.ignore`'s; whether a name fits
  the store is :mod:`.limits`'; :mod:`.copy` writes into the folder for ``add``.
- The stat cache (:func:`stat_trusted`, below) is git's index idea: a file whose
  size, mtime, ctime and inode match its cached entry is not read again, unless
  it was modified within two seconds of being cached (racy entry).

Pure functions and file-system reads and writes only: no catalog, no printing.
"""

from __future__ import annotations

import os
import time
from typing import Any, Protocol

from .copy import copy_into_seeds, expand_add_sources, remove_stale_temp_files, within_archive
from .ignore import DEFAULT_RULES, IGNORE_FILE, TEMP_PREFIX, IgnoreRules, archive_kind, is_temp_name
from .limits import StoreLimits, check_storable
from .names import MAX_SEGMENT_BYTES, display_name, printable, validate_name
from .paths import name_for_path, resolve_in_seeds
from .scanner import FAILED, IGNORED, SKIPPED, SeedFile, SeedProblem, open_seed, scan

__all__ = [
    "DEFAULT_RULES",
    "FAILED",
    "IGNORED",
    "IGNORE_FILE",
    "MAX_SEGMENT_BYTES",
    "RACY_WINDOW_NS",
    "SKIPPED",
    "TEMP_PREFIX",
    "CachedStat",
    "IgnoreRules",
    "SeedFile",
    "SeedProblem",
    "StoreLimits",
    "archive_kind",
    "check_storable",
    "copy_into_seeds",
    "display_name",
    "expand_add_sources",
    "is_temp_name",
    "name_for_path",
    "open_seed",
    "printable",
    "remove_stale_temp_files",
    "resolve_in_seeds",
    "same_content_stat",
    "same_stat",
    "scan",
    "stat_row",
    "stat_trusted",
    "validate_name",
    "within_archive",
]

RACY_WINDOW_NS = 2_000_000_000


class CachedStat(Protocol):
    """A stat-cache entry: a catalog ``SeedStat`` row, or a plain row of its columns."""

    name: str
    size: int
    mtime_ns: int
    ctime_ns: int
    inode: int
    sha256: str
    sha512: str
    checked_at_ns: int


def stat_trusted(cached: CachedStat | None, st: os.stat_result, head_sha512: str | None) -> bool:
    """True if the stat cache proves ``st``'s file still has the bytes of ``head_sha512``."""
    return (
        cached is not None
        and head_sha512 is not None
        and cached.sha512 == head_sha512
        and cached.size == st.st_size
        and cached.mtime_ns == st.st_mtime_ns
        and cached.ctime_ns == st.st_ctime_ns
        and cached.inode == st.st_ino
        # "racy" entries: a file modified within the window of the last check may
        # have changed again without changing its timestamps; hash it again.
        and st.st_mtime_ns + RACY_WINDOW_NS < cached.checked_at_ns
    )


def stat_row(name: str, st: os.stat_result, sha256: str, sha512: str) -> dict[str, Any]:
    return {
        "name": name,
        "size": st.st_size,
        "mtime_ns": st.st_mtime_ns,
        "ctime_ns": st.st_ctime_ns,
        "inode": st.st_ino,
        "sha256": sha256,
        "sha512": sha512,
        "checked_at_ns": time.time_ns(),
    }


def same_content_stat(a: os.stat_result, b: os.stat_result) -> bool:
    """The same file with the same bytes, as far as a stat can tell: size, modification
    time and inode (not the change time, which chmod, chown or a new hard link move)."""
    return (a.st_size, a.st_mtime_ns, a.st_ino) == (b.st_size, b.st_mtime_ns, b.st_ino)


def same_stat(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_size, a.st_mtime_ns, a.st_ctime_ns, a.st_ino) == (
        b.st_size,
        b.st_mtime_ns,
        b.st_ctime_ns,
        b.st_ino,
    )
