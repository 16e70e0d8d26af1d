"""The single-writer lock of an archive.

Contract: every command that writes (ingest, add, rebuild, reindex, reclean,
init) holds :func:`writer_lock` for its whole run; readers (search, show, cat,
verify) never take it. The lock is an OS lock (``flock`` through the
``filelock`` library), so a writer killed with SIGKILL releases it at once and
the next writer finds the archive exactly as the crash left it (and repairs it).
Who holds the lock is written next to it so that a waiting process can say so.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from ..errors import LockTimeoutError, StorageError
from . import durable


def _holder_path(lock_path: Path) -> Path:
    return lock_path.with_name(lock_path.name + ".holder")


def describe_holder(lock_path: Path) -> str | None:
    """A short description of the current holder, if it left one."""
    try:
        info = json.loads(_holder_path(lock_path).read_text())
    except (OSError, ValueError):
        return None
    since = time.strftime("%H:%M:%S", time.localtime(info.get("since", 0)))
    return f"pid {info.get('pid')}: {info.get('command', '?')}, since {since}"


@contextlib.contextmanager
def writer_lock(
    lock_path: Path,
    *,
    timeout: float,
    command: str,
    on_wait: Callable[[str | None], None] | None = None,
) -> Iterator[None]:
    """Hold the archive's writer lock; wait up to ``timeout`` seconds for it."""
    import filelock  # only writers need it: readers start faster (#14)

    lock = filelock.FileLock(
        lock_path, fallback_to_soft=False, preserve_lock_file=True, thread_local=False
    )
    try:
        try:
            lock.acquire(timeout=0)
        except filelock.Timeout:
            if on_wait is not None:
                on_wait(describe_holder(lock_path))
            try:
                lock.acquire(timeout=timeout)
            except filelock.Timeout:
                raise LockTimeoutError(lock_path, timeout, describe_holder(lock_path)) from None
    except OSError as exc:
        raise StorageError(lock_path, durable.describe_os_error(exc)) from exc
    holder = _holder_path(lock_path)
    try:
        with contextlib.suppress(OSError):
            tmp = holder.with_name(holder.name + ".tmp")
            tmp.write_text(
                json.dumps({"pid": os.getpid(), "command": command, "since": time.time()})
            )
            os.replace(tmp, holder)
        yield
    finally:
        with contextlib.suppress(OSError):
            holder.unlink()
        lock.release()


def writer_pid(lock_path: Path) -> int | None:
    """The pid of the process holding the writer lock, if it left its name and still
    runs (a holder killed with SIGKILL leaves its name behind: it no longer counts)."""
    try:
        pid = int(json.loads(_holder_path(lock_path).read_text())["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except OSError:
        pass  # exists, owned by another user
    return pid


def writer_busy(lock_path: Path) -> bool:
    """A writer is at work now (its commit may be in flight): what readers that compare
    two things a writer changes one after the other look at before reporting."""
    return writer_pid(lock_path) is not None
