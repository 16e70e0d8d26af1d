"""Whether a document name can be stored: path and file-name limits of the store's file system.

Contract:
- A document ``name`` becomes the file ``<store>/<3>/<3>/<3>/<64 hex>/v<N>/content/<name>``
  (:func:`provarchive.store.ocfl.object_path_for`) and, while a batch is staged,
  ``<staging>/txn-<32 hex>/obj-<k>/v<N>/content/<name>``
  (:meth:`provarchive.store.storage.Transaction.prepare`). :class:`StoreLimits`
  measures the longer of the two, in bytes of the absolute path, with room for
  version and batch numbers of up to six digits, against the file system's
  ``PC_PATH_MAX`` (less the terminating NUL) and each segment against
  ``PC_NAME_MAX`` (:func:`provarchive.store.storage.path_limits`).
- Issue #20: a 4,036-byte name was committed, could not be read back, and
  wedged every later command. Checked before anything is staged, such a seed
  is refused alone with its reason and the batch goes on. The store checks the
  exact paths again whoever commits (:meth:`Transaction.prepare`); this check comes
  first so that ``add`` refuses before copying and ``scan`` before reading.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import InvalidNameError
from ..store.storage import path_limits
from .names import display_name

DIGITS = 6
"""Version and batch numbers are assumed to stay below a million."""
_OBJECT = len("/aaa/bbb/ccc/") + 64 + len("/v") + DIGITS + len("/content/")
_STAGED = len("/txn-") + 32 + len("/obj-") + DIGITS + len("/v") + DIGITS + len("/content/")


@dataclass(frozen=True, slots=True)
class StoreLimits:
    """The longest storable name, measured once for a store."""

    path_max: int
    """Longest path in bytes a system call accepts (``PC_PATH_MAX`` less the NUL)."""
    name_max: int
    """Longest file name (one segment) in bytes."""
    prefix: int
    """Bytes before the name in the longest path the store writes it at."""

    @classmethod
    def probe(cls, store_root: Path, staging: Path | None = None) -> StoreLimits:
        """Limits of the file system holding ``store_root`` (which need not exist yet).

        ``staging`` defaults to ``staging/`` beside the store root, as in
        :class:`provarchive.config.ArchiveConfig`."""
        root = os.fsencode(os.path.abspath(store_root))
        stage = os.fsencode(os.path.abspath(staging or Path(store_root).parent / "staging"))
        path_max, name_max = path_limits(Path(store_root))
        return cls(
            path_max=path_max,
            name_max=name_max,
            prefix=max(len(root) + _OBJECT, len(stage) + _STAGED),
        )

    @property
    def longest_name(self) -> int:
        """The longest name in bytes that fits."""
        return self.path_max - self.prefix

    def problem(self, name: str) -> str | None:
        """Why ``name`` cannot be stored, or None."""
        for segment in name.split("/"):
            size = len(segment.encode("utf-8", "surrogateescape"))
            if size > self.name_max:
                shown = display_name(segment[:40])
                return (
                    f"the path segment '{shown}...' is {size} bytes, over the store file "
                    f"system's limit of {self.name_max} bytes per name"
                )
        size = len(name.encode("utf-8", "surrogateescape"))
        if size > self.longest_name:
            return (
                f"the name is {size} bytes; inside the store its path would be "
                f"{self.prefix + size} bytes, over the file system's limit of {self.path_max} "
                f"(names up to {self.longest_name} bytes fit here): shorten it"
            )
        return None


def check_storable(name: str, store_root: Path, *, staging: Path | None = None) -> None:
    """Raise InvalidNameError if ``name`` cannot be stored under ``store_root``."""
    reason = StoreLimits.probe(store_root, staging).problem(name)
    if reason is not None:
        raise InvalidNameError(display_name(name), reason)
