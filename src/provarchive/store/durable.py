"""Durable file-system primitives: the only place that decides what reaches the disk.

Contract:
- Nothing is written in place. Files are written under a temporary name in the
  archive's staging directory (same file system, outside the OCFL root),
  flushed with ``fsync``, then moved with ``os.replace``; the directory that
  received the entry is fsynced too, so the rename itself survives a power cut.
- Every ``OSError`` raised while writing becomes a :class:`StorageError` naming
  the path and the reason (disk full, read-only, permission denied), so a
  caller can stop cleanly with the previous state untouched.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import shutil
import sys
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ..errors import StorageError

_REASONS = {
    errno.ENOSPC: "no space left on device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "read-only file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.EIO: "input/output error",
}


STORAGE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO})
"""Errors of the file system itself (as opposed to a bad file): the run must stop."""


def describe_os_error(exc: OSError) -> str:
    """A short human reason for an OSError, without the repeated path."""
    if exc.errno in _REASONS:
        return _REASONS[exc.errno]
    return exc.strerror or str(exc)


@contextlib.contextmanager
def storage_errors(path: Path | str) -> Iterator[None]:
    """Turn any OSError raised inside the block into a StorageError for ``path``."""
    try:
        yield
    except StorageError:
        raise
    except OSError as exc:
        raise StorageError(path, describe_os_error(exc)) from exc


def fsync_dir(path: Path) -> None:
    """fsync a directory so that entries created or renamed in it are durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sync_file(path: Path) -> None:
    """fsync an existing file and the directory holding it."""
    with storage_errors(path):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        fsync_dir(path.parent)


def write_file(path: Path, data: bytes, *, sync: bool = True) -> None:
    """Create ``path`` (which must not exist) with ``data``; fsync it unless a
    later :func:`barrier` covers it."""
    with storage_errors(path):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            if sync:
                os.fsync(fd)
        finally:
            os.close(fd)


def temp_path(staging: Path, hint: str = "tmp") -> Path:
    """A fresh, unused path inside the staging directory."""
    return staging / f"{hint}-{uuid.uuid4().hex}"


def atomic_write(path: Path, data: bytes, staging: Path) -> None:
    """Replace ``path`` with ``data`` atomically: readers see the old or the new file, never half.

    The temporary file lives in ``staging`` (outside the OCFL root), so a crash
    never leaves a stray file inside an object.
    """
    tmp = temp_path(staging, path.name)
    write_file(tmp, data)
    with storage_errors(path):
        try:
            os.replace(tmp, path)
        except OSError:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        fsync_dir(path.parent)


def make_dirs(path: Path, *, sync: bool = True) -> list[Path]:
    """mkdir -p that returns the directories it created (outermost first); each new
    entry is fsynced unless a later :func:`barrier` covers it."""
    created: list[Path] = []
    missing: list[Path] = []
    probe = path
    while not probe.exists():
        missing.append(probe)
        probe = probe.parent
    with storage_errors(path):
        for directory in reversed(missing):
            try:
                directory.mkdir()
            except FileExistsError:
                continue
            created.append(directory)
            if sync:
                fsync_dir(directory.parent)
    return created


def fsync_tree(root: Path) -> None:
    """fsync every file and directory under ``root`` (used on a staged tree before it goes live)."""
    with storage_errors(root):
        for dirpath, _dirnames, filenames in os.walk(root):
            for filename in filenames:
                fd = os.open(os.path.join(dirpath, filename), os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
            fsync_dir(Path(dirpath))


_SYNCFS: Any = None


def _syncfs() -> Any:
    """libc's syncfs(2), or False where there is none (not Linux, no glibc)."""
    global _SYNCFS
    if _SYNCFS is None:
        _SYNCFS = False
        if sys.platform.startswith("linux"):
            with contextlib.suppress(OSError, AttributeError):
                libc = ctypes.CDLL(None, use_errno=True)
                _SYNCFS = libc.syncfs
    return _SYNCFS


def barrier(anchor: Path, paths: Iterable[Path]) -> None:
    """Make everything written so far durable, at once.

    On Linux this is one ``syncfs(2)`` on the file system holding ``anchor``: a
    single journal flush for a whole batch instead of one fsync per file and
    directory (which, interleaved with writes, made every file creation wait
    for the disk). Elsewhere each of ``paths`` (files and directories) is fsynced.
    """
    syncfs = _syncfs()
    with storage_errors(anchor):
        if syncfs:
            fd = os.open(anchor, os.O_RDONLY | os.O_DIRECTORY)
            try:
                if syncfs(fd) != 0:
                    err = ctypes.get_errno()
                    raise OSError(err, os.strerror(err))
            finally:
                os.close(fd)
            return
        for path in paths:
            if path.is_dir():
                fsync_tree(path)
            elif path.exists():
                fd = os.open(path, os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
                fsync_dir(path.parent)


def remove_tree(path: Path) -> None:
    """Remove a directory tree if it exists (staging clean-up; never used on the OCFL root)."""
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)
