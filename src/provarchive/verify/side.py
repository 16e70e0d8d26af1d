"""The checks of a full ``verify`` that need neither the store check's results nor each
other's: the search index against the catalog, and the transparency log's own checks
(its integrity, the given checkpoints, its events against the catalog's).

With ``jobs > 1`` they run in one forked process while this one checks the store, so a
full verify keeps both cores busy (#14). The process opens its own catalog, index and
log from the archive's configuration (nothing it inherits is used) and only reads.
Whatever it cannot answer (it failed, or forking is not available) is computed here,
in this process, as with ``jobs=1``: the findings never depend on ``jobs``.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import time
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from ..config import ArchiveConfig
from ..errors import ArchiveError
from ..findings import Finding
from ..home import Home
from ..store.lock import writer_pid
from .objects import RETRIES

T = TypeVar("T")

if TYPE_CHECKING:
    from ..ledger import LogCheck
    from ..tlog.note import Verifier


@dataclass(frozen=True)
class LogRequest:
    """Check the transparency log too: with these (source, text) checkpoints, signed by
    ``trusted`` (default: the archive's own key)."""

    checkpoints: tuple[tuple[str, str], ...] = ()
    trusted: Verifier | None = None


def index_findings(home: Home) -> list[Finding]:
    """The index audit. A writer indexes a batch before its catalog commit: while one is
    at work, index and catalog may differ for a moment, so a result with findings is
    taken again; one taken with no writer at work is the truth, and what lasts as long
    as the writer does is ``PENDING_WRITE``."""
    from ..search.sync import audit_index

    def audit() -> list[Finding]:
        try:
            return audit_index(home)
        except ArchiveError as exc:
            return [Finding("INDEX_UNREADABLE", str(exc), path=str(home.config.index_dir))]

    def busy() -> bool:
        return writer_pid(home.config.lock_path) is not None

    for attempt in range(RETRIES + 1):
        before = busy()
        found = audit()
        if not found or not (before or busy()):
            return found
        time.sleep(0.1 * (attempt + 1))
    return [
        Finding("PENDING_WRITE", f"{f.code}: {f.detail}", document=f.document, path=f.path)
        if f.code.startswith("INDEX_ENTRY_") or f.code == "INDEX_BEHIND"
        else f
        for f in found
    ]


def log_check(home: Home, request: LogRequest) -> LogCheck:
    from ..ledger import check_log

    return check_log(home, request.checkpoints, request.trusted)


def _index_in_child(config: ArchiveConfig) -> list[Finding]:
    """In a forked process: a fresh home of the same archive (nothing inherited is used)."""
    home = Home(config)
    try:
        return index_findings(home)
    finally:
        home.close()


def _log_in_child(config: ArchiveConfig, request: LogRequest) -> LogCheck:
    home = Home(config)
    try:
        return log_check(home, request)
    finally:
        home.close()


class SideChecks:
    """Started before the store check, asked for their answers after it."""

    def __init__(self, home: Home, *, index: bool, log: LogRequest | None, parallel: bool):
        self.home, self.log = home, log
        self._pool: ProcessPoolExecutor | None = None
        self._index: Future[list[Finding]] | None = None
        self._log: Future[LogCheck] | None = None
        wanted = int(index) + int(log is not None)
        if not (parallel and wanted and _can_fork()):
            return
        with contextlib.suppress(OSError, RuntimeError, ValueError):
            context = multiprocessing.get_context("fork")
            self._pool = ProcessPoolExecutor(wanted, mp_context=context)
            if log is not None:  # the longer of the two first
                self._log = self._pool.submit(_log_in_child, home.config, log)
            if index:
                self._index = self._pool.submit(_index_in_child, home.config)

    def index(self) -> list[Finding]:
        found = _result(self._index)
        return index_findings(self.home) if found is None else found

    def log_check(self) -> LogCheck | None:
        if self.log is None:
            return None
        found = _result(self._log)
        return log_check(self.home, self.log) if found is None else found

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def _result(future: Future[T] | None) -> T | None:
    """The future's answer; None if there is none (the process died or failed: the
    caller then computes it in this process)."""
    if future is None:
        return None
    try:
        return future.result()
    except Exception:
        return None


def _can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()
