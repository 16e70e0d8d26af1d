"""The checks of a full ``verify`` that need neither the store check's results nor each
other's: the search index against the catalog, the transparency log's own checks
(its integrity, the given checkpoints, its events against the catalog's), and the
derived data of every catalogued version against its raw bytes.

With ``jobs > 1`` each runs in a forked process of its own while this one checks the
store, so a full verify keeps every core busy (#14). Before forking, this process closes
its catalog and index connections, so none is carried into a child; each child opens
its own from the archive's configuration, only reads, dies with its parent and leaves
interrupts to it. Plain processes and pipes, no pool: no helper thread runs in this
process when the store check forks its own workers.

The findings never depend on ``jobs``: what a child cannot answer (it failed, died, or
forking is not available) is computed here as with ``jobs=1``, and so is an index
audit whose answer has any finding, at the moment ``jobs=1`` would make it (its
findings may be a writer's commit in flight, judged by what is at work then). Log
findings with an error are looked at again by :func:`provarchive.verify.check_ledger`.
The derived check's answer is the versions it found sound, each with what it read
(:data:`~provarchive.verify.derived.Fingerprint`): the catalog check reads again only
the others, and those whose fingerprint its own snapshot does not share.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..config import ArchiveConfig
from ..errors import ArchiveError
from ..findings import BAD_CATALOG_VALUE, Finding, bad_catalog_value
from ..home import Home
from ..processes import die_with_parent, interrupts_held, leave_interrupts_to_parent
from ..store.lock import writer_busy
from .objects import RETRIES

if TYPE_CHECKING:  # multiprocessing is imported only where processes are started
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess

    from ..ledger import LogCheck
    from ..tlog.note import Verifier
    from .derived import Clean

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LogRequest:
    """Check the transparency log too: with these (source, text) checkpoints, signed by
    the key ``key`` names (a verifier key the caller trusts; default: the archive's)."""

    checkpoints: tuple[tuple[str, str], ...] = ()
    key: str | None = None

    def trusted(self) -> Verifier | None:
        """The verifier key given, parsed (:class:`SigningKeyError` if it is not one)."""
        if not self.key:
            return None
        from ..tlog.note import Verifier

        return Verifier.from_verifier_key(self.key)


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
        except BAD_CATALOG_VALUE as exc:  # the catalog's side of the audit
            return [bad_catalog_value(exc, home.catalog_url)]

    for attempt in range(RETRIES + 1):
        before = writer_busy(home.config.lock_path)
        found = audit()
        if not found or not (before or writer_busy(home.config.lock_path)):
            return found
        time.sleep(0.1 * (attempt + 1))
    return [
        f.pending() if f.code.startswith("INDEX_ENTRY_") or f.code == "INDEX_BEHIND" else f
        for f in found
    ]


def log_check(home: Home, request: LogRequest) -> LogCheck:
    """The log's checks that need no object state (:func:`provarchive.ledger.check_log`)."""
    from ..ledger import check_log

    return check_log(home, request.checkpoints, request.trusted())


def sound_versions(home: Home) -> Clean:
    """Every catalogued version whose derived data :func:`.derived.check_derived` finds
    sound, read in one catalog snapshot (the store's own state is not needed)."""
    from .catalog import load_catalog, object_path_for_name
    from .derived import check_derived

    sound: Clean = {}
    with home.catalog.snapshot() as s:
        objects = {
            name: (object_path_for_name(name), max((v.number for v in versions), default=0))
            for name, versions in load_catalog(s).items()
        }
        for _finding in check_derived(s, home, objects, set(), {}, record=sound, whole=True):
            pass  # the catalog check reports them, from its own snapshot
    return sound


def _index_in_child(config: ArchiveConfig) -> list[Finding]:
    home = Home(config)
    try:
        return index_findings(home)
    finally:
        home.close()


def _derived_in_child(config: ArchiveConfig) -> Clean:
    home = Home(config)
    try:
        return sound_versions(home)
    finally:
        home.close()


def _log_in_child(config: ArchiveConfig, request: LogRequest) -> LogCheck:
    home = Home(config)
    try:
        return log_check(home, request)
    finally:
        home.close()


def _child(send: Connection, work: Callable[..., Any], args: tuple[Any, ...]) -> None:
    """A forked child: do ``work`` and send (True, answer), or (False, why) if it failed."""
    die_with_parent()
    leave_interrupts_to_parent()
    if sys.__stderr__ is not None:  # not a progress display's stand-in: no inherited lock
        sys.stderr = sys.__stderr__
    try:
        answer: tuple[bool, Any] = (True, work(*args))
    except Exception as exc:
        answer = (False, f"{type(exc).__name__}: {exc}")
    with contextlib.suppress(OSError, ValueError):
        send.send(answer)
    send.close()


class SideChecks:
    """The index audit, the log check and the derived check of one verify: :meth:`start`
    forks them (before the store check), :meth:`index`, :meth:`log_check` and
    :meth:`derived` give their answers."""

    def __init__(self, home: Home, *, log: LogRequest | None, parallel: bool) -> None:
        self.home, self.log, self.parallel = home, log, parallel
        self._children: dict[str, tuple[BaseProcess, Connection]] = {}

    def start(self, *, catalog: bool) -> None:
        """Fork a process for the index audit and one for the derived check (if the
        ``catalog`` can be read) and one for the log check (if asked for): only with
        ``parallel`` and where forking is available."""
        if not self.parallel:
            return
        import multiprocessing

        if "fork" not in multiprocessing.get_all_start_methods():
            return
        work: dict[str, tuple[Callable[..., Any], tuple[Any, ...]]] = {}
        if self.log is not None:
            work["log"] = (_log_in_child, (self.home.config, self.log))
        if catalog:
            work["index"] = (_index_in_child, (self.home.config,))
            work["derived"] = (_derived_in_child, (self.home.config,))
        if not work:
            return
        self.home.close()  # reopened on next use: no connection is carried into a child
        context = multiprocessing.get_context("fork")
        # Objects inherited by the children are left out of their garbage collection, so
        # that it does not touch (and copy) every page of this process's memory.
        gc.freeze()
        try:
            for what, (target, args) in work.items():
                self._fork(context, what, target, args)
        finally:
            gc.unfreeze()

    def _fork(self, context: Any, what: str, target: Callable[..., Any], args: Any) -> None:
        try:
            receive, send = context.Pipe(duplex=False)
            child = context.Process(target=_child, args=(send, target, args), daemon=True)
            with interrupts_held():
                child.start()
        except OSError as exc:
            log.debug("verify: no process for the %s check (%s)", what, exc)
            return
        send.close()
        self._children[what] = (child, receive)

    def _answer(self, what: str) -> Any:
        """The child's answer, or None if it has none (then this process computes it)."""
        if what not in self._children:
            return None
        child, receive = self._children.pop(what)
        try:
            ok, answer = receive.recv()
        except (EOFError, OSError) as exc:
            ok, answer = False, f"the process ended without an answer ({exc or 'EOF'})"
        finally:
            receive.close()
            child.join()
        if not ok:
            log.debug("verify: the %s check is done here instead: %s", what, answer)
            return None
        return answer

    def index(self) -> list[Finding]:
        """The index audit's findings (taken again here if the child's answer has any)."""
        found: list[Finding] | None = self._answer("index")
        return found if found == [] else index_findings(self.home)

    def derived(self) -> Clean | None:
        """The versions the derived check's process found sound (None: it has no answer,
        so every version is checked here)."""
        sound: Clean | None = self._answer("derived")
        return sound

    def log_check(self) -> LogCheck | None:
        """The log check asked for, or None if none was."""
        if self.log is None:
            return None
        found: LogCheck | None = self._answer("log")
        return found if found is not None else log_check(self.home, self.log)

    def close(self) -> None:
        """Stop the children whose answer was not asked for (verify failed on the way)."""
        for child, receive in self._children.values():
            child.kill()
            child.join()
            receive.close()
        self._children.clear()
