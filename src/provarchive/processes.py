"""What a child process of a command does first: die with its parent, leave interrupts
to it; how the parent starts one so that no interrupt reaches it half-started; and how
a long command keeps Python's garbage collector from rescanning what it holds.
Standard library only, so that any layer's children can use it."""

from __future__ import annotations

import contextlib
import gc
import signal
import sys
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

_INTERRUPTS = {signal.SIGINT, signal.SIGTERM}


def die_with_parent() -> None:
    """Be killed (SIGKILL) when the parent dies, even by SIGKILL (Linux; elsewhere a
    child notices its parent is gone when its pipe closes)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            pr_set_pdeathsig = 1
            libc.prctl(pr_set_pdeathsig, signal.SIGKILL)


def leave_interrupts_to_parent() -> None:
    """Ignore SIGINT and SIGTERM: a Ctrl-C reaches the whole process group, and the
    parent decides, at its next safe point, what stops."""
    for signum in _INTERRUPTS:
        signal.signal(signum, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _INTERRUPTS)  # see interrupts_held


@contextlib.contextmanager
def interrupts_held() -> Iterator[None]:
    """Start children inside this: SIGINT and SIGTERM are blocked (held back, not lost)
    in the calling thread meanwhile. A child inherits the blocked mask through fork and
    exec, so a Ctrl-C that reaches the process group while the child is still importing
    waits until :func:`leave_interrupts_to_parent` ignores it, instead of killing the
    child with a traceback; this thread gets its own copy as soon as the block ends.

    Make a spawn context's queues and pools before: the first of them starts
    multiprocessing's resource tracker, which unblocks SIGINT and SIGTERM as it does."""
    old = signal.pthread_sigmask(signal.SIG_BLOCK, _INTERRUPTS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


FEW_COLLECTIONS = 50_000
"""Allocations between two young-generation collections inside :func:`few_collections`
(Python's default is 700)."""


@contextlib.contextmanager
def few_collections() -> Iterator[None]:
    """Run the cyclic garbage collector less often meanwhile (in this process and the
    children forked in it). A command that reads a whole archive holds hundreds of
    thousands of rows at once, and with the default threshold each full collection
    rescans all of them: in a full ``verify`` of 10,000 documents the collector took
    0.8-1.1 s of the parent's 1.6-2.2 s of CPU. Nothing the archive makes relies on
    collection: its cycles are few and freed later all the same. Process-wide, like
    the collector itself: the old thresholds come back when the last of the runs that
    overlap ends. A caller that turned automatic collection off (threshold 0) keeps it
    off."""
    with _collections_lock:
        if not _few_holders:
            _saved_thresholds[:] = gc.get_threshold()
            young, *older = _saved_thresholds
            if young:  # 0: the caller turned collection off, and it stays off
                gc.set_threshold(max(young, FEW_COLLECTIONS), *older)
        _few_holders.append(None)
    try:
        yield
    finally:
        with _collections_lock:
            _few_holders.pop()
            if not _few_holders:
                gc.set_threshold(*_saved_thresholds)


_collections_lock = threading.Lock()
_few_holders: list[None] = []
"""One entry per :func:`few_collections` in progress, in any thread: the first sets the
threshold, the last puts back what the first found (runs that overlap in threads would
otherwise restore each other's setting)."""
_saved_thresholds: list[int] = []


def worker_pool(jobs: int) -> ProcessPoolExecutor:
    """``jobs`` worker processes for pure functions of what they are sent. Started with
    ``spawn`` (a fresh interpreter: no inherited descriptor, so no copy of the writer lock
    or of a database connection outlives the parent), they ignore SIGINT and SIGTERM
    (:func:`leave_interrupts_to_parent`); submit their first task inside
    :func:`interrupts_held`. A parent killed outright closes their pipe, and they exit;
    on Linux they also die with it at once (:func:`die_with_parent`), so a worker of a
    worker never outlives it holding its pipes."""
    import multiprocessing  # here: a reader that imports this module never starts children
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(
        max_workers=jobs,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_worker_start,
    )


def stop_pool(executor: ProcessPoolExecutor, *, at_once: bool = False) -> None:
    """Shut a :func:`worker_pool` down: wait for its running tasks, or (``at_once``: the
    caller no longer wants what they compute) kill its workers and wait for nothing, so
    that neither this call nor the interpreter's exit waits for a task in hand. Its
    pending futures are cancelled either way."""
    if at_once:
        kill = getattr(executor, "kill_workers", None)  # Python 3.14
        if kill is not None:
            kill()
        else:  # before 3.14 the pool does not say which processes are its own
            for process in list(getattr(executor, "_processes", {}).values()):
                with contextlib.suppress(OSError, ValueError):
                    process.kill()
    executor.shutdown(wait=not at_once, cancel_futures=True)


def _worker_start() -> None:
    die_with_parent()  # a worker of a worker must not outlive it (and keep its pipes open)
    leave_interrupts_to_parent()
