"""The writer lock of an archive: one writer at a time, or several ingests sharing it.

Contract: every command that writes (ingest, add, rebuild, reindex, reclean,
init) holds :func:`writer_lock` for its whole run; readers (search, show, cat,
verify) never take it. It is an OS lock (``flock``), so a writer killed with
SIGKILL releases it at once and the next writer finds the archive exactly as the
crash left it (and repairs it). Two modes:

- exclusive (the default): no other writer runs meanwhile;
- shared (``ingest`` on a PostgreSQL catalog, whose writers coordinate per
  document through the database): any number of shared writers at once, none
  beside an exclusive one.

Every writer first takes the *setup* lock (``writer.lock.setup``, exclusive),
then the writer lock, and lets the setup lock go once it is ready to run, so
that exclusive writers are not starved by a stream of shared ones and a shared
writer that found itself alone (``writer.lock.shared``: nobody else holds it)
can do the whole recovery before anyone joins. ``HeldLock.alone`` says whether
a shared writer had the archive to itself on the way in. Readers that must
know whether a writer is at work probe ``writer.lock``, which every writer
holds from its first moment to its last (:func:`writer_busy`).

We use ``fcntl.flock`` directly rather than ``filelock`` (still a dependency):
``filelock``'s read-write lock is an SQLite file that neither interlocks with the
``flock`` held by exclusive writers (and by earlier versions) nor converts modes.
The exclusive holder's name is written next to the lock so that a waiting process
can say who it waits for; shared writers write none.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..errors import LockTimeoutError, StorageError
from . import durable

SETUP_SUFFIX = ".setup"
COMPANY_SUFFIX = ".shared"
_POLL_FIRST, _POLL_MAX = 0.005, 0.1


def _holder_path(lock_path: Path) -> Path:
    return lock_path.with_name(lock_path.name + ".holder")


def setup_path(lock_path: Path) -> Path:
    return lock_path.with_name(lock_path.name + SETUP_SUFFIX)


def company_path(lock_path: Path) -> Path:
    return lock_path.with_name(lock_path.name + COMPANY_SUFFIX)


def describe_holder(lock_path: Path) -> str | None:
    """A short description of the current holder, if it left one."""
    try:
        info = json.loads(_holder_path(lock_path).read_text())
    except (OSError, ValueError):
        return None
    since = time.strftime("%H:%M:%S", time.localtime(info.get("since", 0)))
    return f"pid {info.get('pid')}: {info.get('command', '?')}, since {since}"


def _try(fd: int, mode: int) -> bool:
    try:
        fcntl.flock(fd, mode | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _wait(fd: int, mode: int, deadline: float) -> bool:
    """Take ``mode`` on ``fd`` by the deadline (polling: flock has no timeout)."""
    delay = _POLL_FIRST
    while not _try(fd, mode):
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        time.sleep(min(delay, left))
        delay = min(delay * 2, _POLL_MAX)
    return True


def wait_flock(fd: int, deadline: float) -> bool:
    """Take an exclusive ``flock`` on ``fd`` by the ``time.monotonic()`` deadline."""
    return _wait(fd, fcntl.LOCK_EX, deadline)


def _open(path: Path) -> int:
    return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)


@dataclass
class HeldLock:
    """The writer lock as held: ``alone`` is False for a shared writer that came in
    beside others (it must leave their work in progress alone)."""

    shared: bool
    alone: bool
    _fds: list[int]
    _setup: int | None
    _company: int | None

    def ready(self) -> None:
        """Set-up done: a shared writer that was alone lets others join from now on, and
        the setup lock goes to the next writer."""
        if self._setup is None:
            return
        if self._company is not None and self.alone:
            # Not atomic (flock(2)), and need not be: joining takes the setup lock first.
            fcntl.flock(self._company, fcntl.LOCK_SH)
        fcntl.flock(self._setup, fcntl.LOCK_UN)
        self._setup = None


@contextlib.contextmanager
def writer_lock(
    lock_path: Path,
    *,
    timeout: float,
    command: str,
    on_wait: Callable[[str | None], None] | None = None,
    shared: bool = False,
) -> Iterator[HeldLock]:
    """Hold the archive's writer lock (exclusive, or ``shared``); wait up to ``timeout``
    seconds for it. The caller calls :meth:`HeldLock.ready` once set up (exclusive
    writers are ready at once).

    A shared writer holds ``writer.lock`` shared from the start (so a reader's probe
    always sees it) and tells whether it is alone by ``writer.lock.shared``, which it
    holds exclusively while it sets up alone, then shared."""
    deadline = time.monotonic() + timeout
    fds: list[int] = []
    waited = False

    def take(fd: int, mode: int) -> bool:
        nonlocal waited
        if _try(fd, mode):
            return True
        if on_wait is not None and not waited:
            on_wait(describe_holder(lock_path))
        waited = True
        return _wait(fd, mode, deadline)

    def opened(path: Path) -> int:
        fds.append(_open(path))
        return fds[-1]

    company: int | None = None
    alone = True
    try:
        setup, main = opened(setup_path(lock_path)), opened(lock_path)
        if not take(setup, fcntl.LOCK_EX) or not take(
            main, fcntl.LOCK_SH if shared else fcntl.LOCK_EX
        ):
            raise LockTimeoutError(lock_path, timeout, describe_holder(lock_path))
        if shared:
            company = opened(company_path(lock_path))
            alone = _try(company, fcntl.LOCK_EX)  # no other shared writer is at work
            if not alone:
                fcntl.flock(company, fcntl.LOCK_SH)  # theirs are shared: at once
    except BaseException as exc:
        for fd in fds:
            os.close(fd)
        if isinstance(exc, OSError):
            raise StorageError(lock_path, durable.describe_os_error(exc)) from exc
        raise
    held = HeldLock(shared, alone, fds, setup, company)
    holder = _holder_path(lock_path)
    try:
        if not shared:
            held.ready()
            with contextlib.suppress(OSError):
                tmp = holder.with_name(holder.name + ".tmp")
                tmp.write_text(
                    json.dumps({"pid": os.getpid(), "command": command, "since": time.time()})
                )
                os.replace(tmp, holder)
        yield held
    finally:
        if not shared:
            with contextlib.suppress(OSError):
                holder.unlink()
        for fd in fds:
            os.close(fd)  # closing a descriptor releases its flock


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
    two things a writer changes one after the other look at before reporting. Probed on
    the lock itself (shared writers leave no name), without waiting and without creating
    anything; a lock that cannot be opened falls back to the holder's name."""
    try:  # to write if it may (flock on NFS needs it), else to read (read-only media)
        fd = os.open(lock_path, os.O_RDWR | os.O_CLOEXEC)
    except OSError:
        try:
            fd = os.open(lock_path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            return writer_pid(lock_path) is not None
    try:
        free = _try(fd, fcntl.LOCK_EX)
    except OSError:
        return writer_pid(lock_path) is not None
    finally:
        os.close(fd)  # also drops the probe's lock at once
    return not free
