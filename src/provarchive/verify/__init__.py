"""Verify: fixity of every stored byte and consistency of everything derived from it.

Contract:
- :func:`verify` reads, never repairs, and never takes the writer lock. It
  collects every problem as a :class:`~provarchive.findings.Finding` instead of
  stopping at the first, and never raises for damage it was asked to look for.
- Store: the OCFL validator (:mod:`provarchive.store.validation`) checks the
  storage root and every object, each content file read once (in ``jobs``
  processes); each finding keeps its OCFL code, expected and found values
  (:mod:`.objects`). ``fixity=True`` stops there: nothing derived, no catalog.
- Catalog against store, in one catalog snapshot (:mod:`.catalog`); derived data
  (:mod:`.derived`); the search index by one digest per entry; with ``rederive``
  a fresh run of the recorded cleaner; seeds-folder drift (:mod:`.seeds`).
- The transparency log (``log``): its integrity, the given checkpoints, every leaf
  against store and catalog (:func:`check_ledger`). With ``jobs > 1`` the index
  audit and the log's own checks run in forked processes while the store is checked
  (:mod:`.side`); the findings do not depend on ``jobs``.
- Rolling audits (:mod:`.audit`): ``due``, ``sample`` and ``budget`` check only
  the versions chosen, least recently verified first, and record when each
  object passed (``versions.verified_at``).
- A concurrent writer is tolerated: what a commit in flight can cause is looked
  at again before it is reported, and versions journaled but not yet
  catalogued are ``PENDING_WRITE`` (info), not damage.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ArchiveError, UsageError
from ..findings import BAD_CATALOG_VALUE, ERROR, Finding, VerifyReport, bad_catalog_value
from ..home import Home
from ..processes import few_collections
from ..store.lock import writer_busy
from ..store.ocfl import JOURNAL, ObjectState, read_journal
from .objects import RETRIES, StoreResult, check_objects, check_root
from .side import LogRequest, SideChecks
from .standalone import validate_paths

# The catalog half (SQLAlchemy, the cleaner) is imported by the functions that use it,
# so that ``verify --fixity`` starts as fast as ``validate`` (#14).
if TYPE_CHECKING:
    from ..ledger import LogCheck
    from ..tlog.note import Verifier
    from .catalog import Catalog


__all__ = [
    "LogRequest",
    "ProgressCallback",
    "check_ledger",
    "invalid_objects",
    "validate_paths",
    "verify",
]

ProgressCallback = Callable[[str, int, int], None]

_EXPLAINS = {
    "CATALOG_DOCUMENT_MISSING": "INDEX_ENTRY_EXTRA",
    "CATALOG_VERSION_MISSING": "INDEX_ENTRY_EXTRA",
    "DERIVATION_MISSING": "INDEX_ENTRY_EXTRA",
    "CATALOG_DIGEST_MISMATCH": "INDEX_ENTRY_ALTERED",
    "PASSAGE_SPAN_MISMATCH": "INDEX_ENTRY_ALTERED",
    "PASSAGE_DIGEST_MISMATCH": "INDEX_ENTRY_ALTERED",
}
"""A damaged catalog row makes the (intact) index disagree with it: report the cause once."""


@dataclass
class _Run:
    home: Home
    checked: dict[str, int]
    findings: list[Finding]

    def busy(self) -> bool:
        """A writer is at work now (its commit may be in flight)."""
        return writer_busy(self.home.config.lock_path)

    def pending(self) -> set[str]:
        """Documents named by a journal in staging: their commit is in flight."""
        names: set[str] = set()
        for journal in _journals(self.home):
            with contextlib.suppress(OSError), open(journal, "rb") as fh:
                names.update(name for name, _path in read_journal(fh.read())[0])
        return names


def _journals(home: Home) -> list[Path]:
    staging = home.config.staging
    try:
        return [e / JOURNAL for e in sorted(staging.iterdir()) if (e / JOURNAL).is_file()]
    except OSError:
        return []


def verify(
    home: Home,
    *,
    full: bool = False,
    check_seeds: bool = True,
    rederive: bool = False,
    fixity: bool = False,
    jobs: int = 1,
    due: timedelta | None = None,
    sample: int | None = None,
    budget: float | None = None,
    on_progress: ProgressCallback | None = None,
    log: LogRequest | None = None,
) -> VerifyReport:
    """Check the archive; see the module docstring for what is checked (``log``: the
    transparency log too, unless only the store or a part of it is checked)."""
    partial = next(
        (name for name, given in (("--fixity", fixity), ("--due", due is not None),
                                  ("--sample", sample is not None),
                                  ("--budget", budget is not None)) if given),
        None,
    )  # fmt: skip
    asked = [("--rederive", rederive), ("--checkpoint", bool(log and log.checkpoints))]
    for option, given in asked:
        if given and partial:  # what the partial check leaves out: refused, not ignored
            raise UsageError(f"{option} needs a full verify; {partial} checks only a part")
    log = None if partial else log
    if log is not None:
        log.trusted()  # a verifier key that is not one fails before any work
    side = SideChecks(home, log=log, parallel=jobs > 1 and not partial)
    with few_collections():
        try:
            report, store = _verify(
                home,
                side,
                full=full,
                check_seeds=check_seeds,
                rederive=rederive,
                fixity=fixity,
                jobs=jobs,
                due=due,
                sample=sample,
                budget=budget,
                on_progress=on_progress,
            )
            if log is not None:
                first = side.log_check()
                report.findings.extend(_log_findings(home, report, store, log, first))
            return report
        finally:
            side.close()


def _log_findings(
    home: Home, report: VerifyReport, store: StoreResult, log: LogRequest, first: LogCheck | None
) -> list[Finding]:
    found = check_ledger(
        home, report.states, log.checkpoints, log.trusted(), first, store.inventory_sha512
    )
    # A version the store lost is reported by the store check already: once is enough.
    gone = {
        f.document
        for f in report.findings
        if f.code in ("STORE_OBJECT_MISSING", "STORE_VERSION_MISSING")
    }
    return [f for f in found if not (f.code == "LOG_VERSION_MISSING" and f.document in gone)]


def _verify(
    home: Home,
    side: SideChecks,
    *,
    full: bool,
    check_seeds: bool,
    rederive: bool,
    fixity: bool,
    jobs: int,
    due: timedelta | None,
    sample: int | None,
    budget: float | None,
    on_progress: ProgressCallback | None,
) -> tuple[VerifyReport, StoreResult]:
    run = _Run(home, {"objects": 0, "versions": 0, "content_files": 0, "bytes": 0, "seeds": 0}, [])
    store = home.store
    if not store.exists():
        run.findings.append(
            Finding("STORE_MISSING", str(store.root), path=str(store.root), ocfl_code="E069")
        )
        return VerifyReport(run.findings, run.checked), StoreResult()
    if not run.busy():
        _check_staging(run)
    audit = due is not None or sample is not None or budget is not None
    problem = None
    if not fixity or audit:
        from .catalog import catalog_problem

        problem = catalog_problem(home)
    if problem is not None:
        run.findings.append(problem)
    side.start(catalog=problem is None)  # a no-op for --fixity and the audits
    if audit:
        if problem is not None:
            return VerifyReport(run.findings, run.checked), StoreResult()
        result = _audit_store(run, due=due, sample=sample, budget=budget, on_progress=on_progress)
    else:
        total = 0

        def progress(done: int) -> None:
            if on_progress is not None:
                on_progress("objects", done, max(done, total))

        result = check_root(
            home, jobs=jobs, names={}, on_object=progress, busy=run.busy, fixity=fixity
        )
    run.findings.extend(result.findings)
    if not audit:
        run.findings.extend(_foreign(home, result))
    _count(run, result)
    catalog: Catalog | None = None
    if not fixity and problem is None:
        catalog = _check_catalog(run, result, side, whole=not audit)
    if catalog is not None and not audit:
        _check_index(run, side)
        if rederive:
            from .derived import check_rederive

            run.findings.extend(check_rederive(home))
        if check_seeds:
            from .seeds import check_seeds as check_seeds_drift

            run.findings.extend(
                check_seeds_drift(
                    home,
                    catalog,
                    run.checked,
                    full=full,
                    on_progress=on_progress,
                    may_write=lambda: not run.busy(),
                )
            )
    if (catalog is not None or audit) and not (audit and not run.checked["objects"]):
        # An audit that found nothing due (or --sample 0) checked nothing: no event,
        # so that stats' "last verify" still shows the last check that did.
        _record(run, result)
    return VerifyReport(run.findings, run.checked, result.states), result


def _foreign(home: Home, result: StoreResult) -> list[Finding]:
    """Objects of another tool in the storage root (rebuild lists them too), as the
    validator's walk found them: the root is not walked a second time."""
    return [
        Finding(
            "FOREIGN_OBJECT",
            f"foreign object {object_id}: not this archive's, never imported",
            path=str(home.store.root / path),
        )
        for object_id, path in sorted(result.foreign, key=lambda pair: pair[1])
    ]


def _count(run: _Run, result: StoreResult) -> None:
    run.checked["objects"] += result.objects
    run.checked["content_files"] += result.files
    run.checked["bytes"] += result.bytes
    run.checked["versions"] += result.versions


def _check_staging(run: _Run) -> None:
    staging = run.home.config.staging
    if not staging.is_dir():
        return
    with contextlib.suppress(OSError):
        for entry in sorted(staging.iterdir()):
            run.findings.append(Finding("STAGING_LEFTOVER", entry.name, path=str(entry)))


def _audit_store(
    run: _Run,
    *,
    due: timedelta | None,
    sample: int | None,
    budget: float | None,
    on_progress: ProgressCallback | None,
) -> StoreResult:
    from ..catalog import queries
    from .audit import Selection, select_versions

    try:
        with run.home.catalog.session() as s:
            selection: Selection = select_versions(
                queries.audit_candidates(s), due=due, sample=sample, now=datetime.now(UTC)
            )
    except ArchiveError as exc:
        run.findings.append(Finding("CATALOG_UNREADABLE", str(exc), path=run.home.catalog_url))
        return StoreResult()
    except BAD_CATALOG_VALUE as exc:
        run.findings.append(bad_catalog_value(exc, run.home.catalog_url))
        return StoreResult()
    deadline = time.monotonic() + budget if budget is not None else None
    total = len(selection.objects)

    def progress(done: int) -> None:
        if on_progress is not None:
            on_progress("objects", done, total)

    return check_objects(
        run.home, selection.objects, on_object=progress, deadline=deadline, busy=run.busy
    )


def _check_catalog(
    run: _Run, result: StoreResult, side: SideChecks, *, whole: bool
) -> Catalog | None:
    """Catalog against store and derived data, in one catalog snapshot (the versions the
    side check found sound are not read again)."""
    from .catalog import cross_check, load_catalog, settle
    from .derived import check_derived

    home = run.home
    scope = None if whole else {n for n in result.paths.values() if n}
    reuse = side.derived() if whole else None
    try:
        with home.catalog.snapshot() as s:
            catalog = load_catalog(s, scope)
            _name_unnamed(run, result, catalog)
            present = {n for n in result.paths.values() if n}
            cross = cross_check(catalog, result.states, present, whole=whole)
            damaged = _damaged(home, result)
            known = {n: (st.path, st.head) for n, st in result.states.items() if n in catalog}
            derived = list(
                check_derived(s, home, known, damaged, run.checked, reuse=reuse, whole=whole)
            )
    except ArchiveError as exc:
        run.findings.append(Finding("CATALOG_UNREADABLE", str(exc), path=home.catalog_url))
        return None
    except BAD_CATALOG_VALUE as exc:
        run.findings.append(bad_catalog_value(exc, home.catalog_url))
        return None
    cross = settle(home, cross, lambda names: _reload(home, names), run.pending, run.busy)
    # Where the inventory itself was altered, it is the damaged side, already reported.
    altered = {f.document for f in run.findings if f.code in _INVENTORY_ALTERED}
    cross = [f for f in cross if f.code != "CATALOG_RECORD_MISMATCH" or f.document not in altered]
    _sizes(run, result, catalog)
    run.findings.extend(cross)
    run.findings.extend(derived)
    return catalog


def _name_unnamed(run: _Run, result: StoreResult, catalog: Catalog) -> None:
    """Objects whose inventory no longer names them get their document from the catalog."""
    from .catalog import object_path_for_name

    if None not in result.paths.values():
        return
    by_path = {object_path_for_name(n): n for n in catalog}
    root = run.home.store.root
    for rel, name in list(result.paths.items()):
        if name is not None or rel not in by_path:
            continue
        result.paths[rel] = by_path[rel]
        prefix = str(root / rel)
        run.findings[:] = [
            replace(f, document=by_path[rel])
            if f.document is None and f.path is not None and f.path.startswith(prefix)
            else f
            for f in run.findings
        ]


def _damaged(home: Home, result: StoreResult) -> set[tuple[str, str]]:
    """(object path, content path) of every content file that failed its check."""
    root = home.store.root
    out = set()
    for f in result.findings:
        if f.ocfl_code not in ("E092", "E093", "E090", "E024") or f.path is None:
            continue
        for rel in result.paths:
            prefix = str(root / rel) + os.sep
            if f.path.startswith(prefix):
                out.add((rel, f.path[len(prefix) :].replace(os.sep, "/")))
    return out


_INVENTORY_ALTERED = frozenset(
    {"INVENTORY_MODIFIED", "SIDECAR_MISMATCH", "SIDECAR_MISSING", "VERSION_INVENTORY_MISMATCH"}
)


def _sizes(run: _Run, result: StoreResult, catalog: Catalog) -> None:
    """A content file of the wrong length is truncated or extended, not just altered;
    a sound file whose catalogued size is not its length is a wrong catalog record."""
    root = run.home.store.root
    damaged = {f.path for f in run.findings if f.code.startswith("CONTENT_")}
    for name, state in sorted(result.states.items()):
        hashed = result.digests.get(state.path, {})
        for v in catalog.get(name, []):
            got = hashed.get(v.content_path, {}).get("size")
            if got is None or int(got) == v.size:
                continue
            path = str(root / state.path / v.content_path)
            if path not in damaged:
                run.findings.append(
                    Finding(
                        "CATALOG_RECORD_MISMATCH",
                        f"{name} v{v.number}: the catalog says {v.size} bytes, the file has {got}",
                        document=name,
                        path=state.path,
                        expected=str(got),
                        found=str(v.size),
                    )
                )
    for i, f in enumerate(run.findings):
        if f.code != "CONTENT_DIGEST_MISMATCH" or f.document not in result.states:
            continue
        state = result.states[f.document]
        content_path = os.path.relpath(f.path or "", root / state.path).replace(os.sep, "/")
        got = result.digests.get(state.path, {}).get(content_path, {}).get("size")
        want = {v.content_path: v.size for v in catalog.get(f.document, [])}.get(content_path)
        if got is not None and want is not None and int(got) != want:
            run.findings[i] = Finding(
                "CONTENT_SIZE_MISMATCH",
                f"{content_path} is {got} bytes, {want} were stored",
                document=f.document,
                path=f.path,
                expected=f.expected,
                found=f.found,
                ocfl_code=f.ocfl_code,
            )


def _reload(home: Home, names: set[str]) -> dict[str, ObjectState]:
    states = {}
    for name in names:
        with contextlib.suppress(ArchiveError, OSError):
            state = home.store.load(name)
            if state is not None:
                states[name] = state
    return states


def _check_index(run: _Run, side: SideChecks) -> None:
    found = side.index()
    explained = {(f.document, _EXPLAINS[f.code]) for f in run.findings if f.code in _EXPLAINS}
    found = [f for f in found if (f.document, f.code) not in explained]
    # A version journaled but not yet catalogued is indexed already (the writer indexes
    # before its catalog commit): its entries are the write in flight, not extra.
    journaled = run.pending() if any(f.code == "INDEX_ENTRY_EXTRA" for f in found) else set()
    run.findings.extend(
        f.pending() if f.code == "INDEX_ENTRY_EXTRA" and f.document in journaled else f
        for f in found
    )


def _record(run: _Run, result: StoreResult) -> None:
    """Best effort: the time each object passed, and the event of this check. A read-only
    or busy catalog just means the next audit checks these versions first again."""
    from ..catalog import new_event, queries

    if run.busy():
        # A writer's transaction fails (SQLITE_BUSY_SNAPSHOT) if another connection commits
        # between its first read and its first write: never commit while one is at work.
        return
    errors = [f for f in run.findings if f.severity == ERROR]
    passed = [
        name
        for rel, name in result.paths.items()
        if name is not None and rel not in result.failed and name in result.states
    ]
    c = run.checked
    detail = (
        f"{c['objects']} object(s), {c['content_files']} content file(s), "
        f"{c['bytes']} bytes: {len(errors)} error finding(s)"
    )
    with contextlib.suppress(ArchiveError), run.home.catalog.session() as s:
        queries.mark_verified(s, passed, datetime.now(UTC))
        s.add(new_event("fixity check", detail, outcome="success" if not errors else "failure"))


def invalid_objects(home: Home, jobs: int = 1) -> list[Finding]:
    """The error findings of every object of the store that fails OCFL validation (or
    holds an inventory this archive could not have written): what ``rebuild`` refuses."""
    result = check_root(home, jobs=jobs, names={}, on_object=None, busy=lambda: False)
    return [f for f in result.findings if f.severity == ERROR]


def check_ledger(
    home: Home,
    states: dict[str, ObjectState],
    checkpoints: Sequence[tuple[str, str]],
    trusted: Verifier | None,
    first: LogCheck | None = None,
    inventories: Mapping[tuple[str, int], str] | None = None,
) -> list[Finding]:
    """The transparency log's findings (:func:`provarchive.ledger.check`) on the object
    states verify read. ``first``: the log's own checks, if they were run already;
    ``inventories``: (object path, version) -> sha512 of its inventory, as verify read it.

    While a writer is at work its log append, store commit and catalog commit are not
    simultaneous: errors are looked at again on a fresh read of store, log and catalog,
    and those that last as long as the writer does are reported as ``PENDING_WRITE``."""
    from .. import ledger

    def busy() -> bool:
        return writer_busy(home.config.lock_path)

    def has_errors(found: list[Finding]) -> bool:
        return any(f.severity == ERROR for f in found)

    if first is None:
        first = ledger.check_log(home, checkpoints, trusted)
    found = ledger.with_versions(home, states, first, inventories)
    for attempt in range(RETRIES + 1):
        if not has_errors(found):
            return found
        # The states may predate a commit: look again at store, log and catalog as they are.
        before = busy()
        found = ledger.check(home, ledger.store_states(home), checkpoints, trusted)
        if not has_errors(found) or not (before or busy()):
            return found
        time.sleep(0.1 * (attempt + 1))
    return [
        f.pending() if f.severity == ERROR and f.code != "CHECKPOINT_INVALID" else f for f in found
    ]
