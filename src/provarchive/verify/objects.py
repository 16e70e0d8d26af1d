"""The storage-root half of verify: the OCFL validator's issues as the archive's findings.

Contract: every OCFL check is the validator's (:mod:`provarchive.store.validation`);
this module adds only what is particular to this archive (the layout parameters
it writes, paths in the storage root it does not know, documents' names) and turns
each issue into a :class:`~provarchive.findings.Finding` that keeps its OCFL code,
expected and found values. Nothing here raises for damage. An object is parsed
into an :class:`~provarchive.store.ocfl.ObjectState` when its root inventory is
one this archive could have written, for the checks against the catalog.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..digests import load_json
from ..errors import CorruptArchiveError
from ..findings import ERROR, Finding
from ..home import Home
from ..store.ocfl import (
    INVENTORY,
    LAYOUT_CONFIG,
    LAYOUT_EXTENSION,
    ROOT_DECLARATION,
    SIDECAR,
    ObjectState,
    is_foreign_id,
    name_for_object_id,
    versions_from_inventory,
)
from ..store.storage import Store
from ..store.validation import ObjectReport, validate_object, validate_root
from .mapping import finding_for

OWN_EXTENSIONS = frozenset({LAYOUT_EXTENSION, "provarchive-transparency-log"})
"""Storage-root extensions this archive writes: not worth a warning of its own."""
_ROOT_NAMES = frozenset({ROOT_DECLARATION, "extensions", "ocfl_layout.json"})
_HEX3 = re.compile(r"[0-9a-f]{3}")
_VERSION_DIR = re.compile(r"v([1-9][0-9]*)/")
_HEAD = re.compile(r"v0*([1-9][0-9]*)")
_TRANSIENT = frozenset({"E046", "E060", "E064", "E023", "E073", "E092", "E093", "E063"})
"""Issues a writer caught between two renames can cause: re-checked before reporting."""
RETRIES = 3
"""How often verify looks again at what a writer at work may cause (store, catalog, index,
log), waiting a little longer each time."""
_ROOT_TRANSIENT = frozenset({"E073"})
"""An empty folder in the storage hierarchy: what a writer leaves for a moment between
making an object's parent folders and renaming the object into them."""

ObjectProgress = Callable[[int], None]


@dataclass
class StoreResult:
    findings: list[Finding] = field(default_factory=list)
    states: dict[str, ObjectState] = field(default_factory=dict)
    paths: dict[str, str | None] = field(default_factory=dict)
    """Object path (relative to the storage root) -> document name (None if unknown)."""
    failed: set[str] = field(default_factory=set)
    """Object paths with an error finding."""
    digests: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)
    """Object path -> content path -> {algorithm: hex, "size": n}, as hashed."""
    inventory_sha512: dict[tuple[str, int], str] = field(default_factory=dict)
    """(object path, version number) -> sha512 of that version's inventory file, as read."""
    foreign: list[tuple[str, str]] = field(default_factory=list)
    """(object id, object path) of every object of another tool at a layout path."""
    objects: int = 0
    versions: int = 0
    files: int = 0
    bytes: int = 0


def check_root(
    home: Home,
    *,
    jobs: int,
    names: dict[str, str],
    on_object: ObjectProgress | None,
    busy: Callable[[], bool],
    fixity: bool = False,
) -> StoreResult:
    """Validate the whole storage root (``jobs`` processes); ``names``: object path ->
    document name from the catalog, for objects whose inventory no longer says.
    ``fixity``: the store alone is checked, so a sound object's parsed inventory and
    digests are dropped where it was validated (see :func:`fixity_only`)."""
    root = home.store.root
    done = 0

    def progress(_report: ObjectReport) -> None:
        nonlocal done
        done += 1
        if on_object is not None:
            on_object(done)

    reduce = fixity_only if fixity else None
    report = validate_root(root, jobs=jobs, on_object=progress, reduce=reduce)
    result = StoreResult()
    # A writer's new object folder, made just before its object moved in, is not damage.
    in_flight = _filled_since(root, {i.path for i in report.issues if i.code in _ROOT_TRANSIENT})
    for issue in report.issues:
        if issue.code == "W016" and issue.path.removeprefix("extensions/") in OWN_EXTENSIONS:
            continue
        if issue.code in _ROOT_TRANSIENT and issue.path in in_flight:
            continue
        result.findings.append(
            finding_for(issue, where=str(root / issue.path), document=None, object_level=False)
        )
    result.findings.extend(_archive_root_checks(root))
    for obj in report.objects:
        if obj.codes() & _TRANSIENT and busy():  # cheap test first: busy() reads the lock file
            obj = _recheck(root, obj.path, obj)
        add_object(result, root, obj, names.get(obj.path))
    return result


def check_objects(
    home: Home,
    paths: Iterable[tuple[str, str]],
    *,
    on_object: ObjectProgress | None,
    deadline: float | None,
    busy: Callable[[], bool],
) -> StoreResult:
    """Validate only these objects ((object path, expected object id) pairs, in order),
    stopping before the next one once ``deadline`` (a ``time.monotonic()``) has passed."""
    root = home.store.root
    result = StoreResult()
    for i, (rel, object_id) in enumerate(paths, 1):
        if deadline is not None and i > 1 and time.monotonic() >= deadline:
            break
        obj = validate_object(root / rel, expected_id=object_id)
        if obj.codes() & _TRANSIENT and busy():  # cheap test first: busy() reads the lock file
            obj = _recheck(root, rel, obj, object_id)
        add_object(result, root, _relative(obj, rel), None)
        if on_object is not None:
            on_object(i)
    return result


def fixity_only(obj: ObjectReport) -> ObjectReport:
    """The report of an object without its parsed inventory and digests, when nothing but
    its findings and version count will be asked of it: it has no issue, and its root
    inventory is one this archive reads (:func:`add_object` checks again otherwise).

    Run in the validating worker, this spares the pickling of every inventory and digest
    to the parent, the largest cost of ``verify --fixity --jobs N`` after the reading."""
    if obj.issues or obj.inventory is None:
        return obj
    try:
        versions_from_inventory(obj.inventory, f"{obj.path}/{INVENTORY}")
    except CorruptArchiveError:
        return obj
    return replace(obj, inventory=None, digests={})


def _filled_since(root: Path, empty: set[str]) -> set[str]:
    """Those of the empty folders (paths relative to ``root``) that hold something or are
    gone when looked at again, a few times over 0.3 s at most whatever their number: only
    a writer fills one; a stale empty folder stays as it is."""
    filled: set[str] = set()
    for attempt in range(RETRIES + 1):
        for rel in sorted(empty - filled):
            with contextlib.suppress(OSError):
                path = root / rel
                if not path.is_dir() or any(path.iterdir()):
                    filled.add(rel)
        if filled == empty or attempt == RETRIES:
            break
        time.sleep(0.05 * (attempt + 1))
    return filled


def _relative(obj: ObjectReport, rel: str) -> ObjectReport:
    return replace(obj, path=rel)


def _recheck(root: Path, rel: str, obj: ObjectReport, object_id: str | None = None) -> ObjectReport:
    """A writer is at work: what looks damaged may be a commit in flight. Look again."""
    for attempt in range(RETRIES):
        time.sleep(0.05 * (attempt + 1))
        obj = _relative(validate_object(root / rel, expected_id=object_id), rel)
        if not obj.codes() & _TRANSIENT:
            break
    return obj


def add_object(result: StoreResult, root: Path, obj: ObjectReport, known: str | None) -> None:
    """Findings and parsed state of one validated object (called once per object of the
    storage root: no path objects unless there is something to report)."""
    name = known
    if obj.object_id is not None:
        with contextlib.suppress(ValueError):
            name = name_for_object_id(obj.object_id)
    result.objects += 1
    result.files += obj.files_hashed
    result.bytes += obj.bytes_read
    result.paths[obj.path] = name
    result.digests[obj.path] = obj.digests
    for directory_, digest in obj.inventory_sha512.items():
        m = _VERSION_DIR.fullmatch(directory_)
        if m:
            result.inventory_sha512[(obj.path, int(m.group(1)))] = digest
    if is_foreign_id(obj.object_id) and Store.at_layout_path(obj.path):
        result.foreign.append((str(obj.object_id), obj.path))
    found = object_findings(obj, root / obj.path, name) if obj.issues else []
    state = None
    if obj.inventory is not None and name is not None and obj.object_id is not None:
        inventory = os.path.join(root, obj.path, INVENTORY)
        try:
            versions = versions_from_inventory(obj.inventory, inventory)
            state = ObjectState(name, obj.object_id, obj.path, obj.inventory, versions)
        except CorruptArchiveError as exc:
            if not any(f.severity == ERROR for f in found):
                found.append(
                    Finding(
                        "INVENTORY_INVALID",
                        f"not an inventory this archive writes: {exc.reason}",
                        document=name,
                        path=inventory,
                    )
                )
    if state is not None:
        result.states[name] = state  # type: ignore[index]
    result.versions += _head_number(obj.head)
    if any(f.severity == ERROR for f in found):
        result.failed.add(obj.path)
    result.findings.extend(found)


def _head_number(head: str | None) -> int:
    """The number of versions an object's inventory says it has (0 if it says nothing valid)."""
    m = _HEAD.fullmatch(head or "")
    return int(m.group(1)) if m else 0


def object_findings(obj: ObjectReport, directory: Path, name: str | None) -> list[Finding]:
    """One finding per OCFL issue of the object, folded where one cause shows twice: a
    content file whose sha512 is wrong is not reported again for its sha256, and an
    edited root inventory is one INVENTORY_MODIFIED, not a sidecar and a copy problem."""
    codes_at = {(i.code, i.path) for i in obj.issues}
    modified = ("E060", SIDECAR) in codes_at and any(
        c == "E064" and p.endswith("/" + INVENTORY) for c, p in codes_at
    )
    found_sizes = {p: int(d["size"]) for p, d in obj.digests.items() if "size" in d}
    out: list[Finding] = []
    for issue in obj.issues:
        if (issue.code == "E093" and ("E092", issue.path) in codes_at) or (
            modified and issue.code == "E064"
        ):
            continue
        where = directory if issue.path == "." else directory / issue.path
        finding = finding_for(
            issue, where=str(where), document=name, object_level=True, found_sizes=found_sizes
        )
        if modified and (issue.code, issue.path) == ("E060", SIDECAR):
            finding = Finding(
                "INVENTORY_MODIFIED",
                issue.message,
                document=name,
                path=str(directory / INVENTORY),
                expected=issue.expected,
                found=issue.found,
                ocfl_code=issue.code,
            )
        out.append(finding)
    return out


def _archive_root_checks(root: Path) -> list[Finding]:
    """What this archive's own storage root must hold beyond OCFL: its layout's exact
    parameters, and no top-level entry it does not know (OCFL lets validators ignore them)."""
    findings: list[Finding] = []
    config = root / "extensions" / LAYOUT_EXTENSION / "config.json"
    try:
        with open(config, "rb") as fh:
            data = load_json(fh.read())
        if data != LAYOUT_CONFIG:
            findings.append(
                Finding(
                    "LAYOUT_CONFIG_INVALID",
                    "parameters differ from 0004 sha256/3/3",
                    path=str(config),
                    expected=json.dumps(LAYOUT_CONFIG, sort_keys=True),
                    found=json.dumps(data, sort_keys=True),
                )
            )
    except (OSError, ValueError, RecursionError) as exc:  # (the last: dumping what parsed)
        findings.append(Finding("LAYOUT_CONFIG_INVALID", str(exc), path=str(config)))
    try:
        with os.scandir(root) as it:
            entries = sorted((e.name, e.is_dir(follow_symlinks=False)) for e in it)
    except OSError:
        return findings  # the validator reports an unreadable root
    for entry, is_dir in entries:
        if entry in _ROOT_NAMES or (_HEX3.fullmatch(entry) and is_dir):
            continue
        findings.append(
            Finding(
                "STRAY_PATH",
                "not part of the storage layout (ocfl-py rejects the root for it)",
                path=str(root / entry),
                ocfl_code="E072",
            )
        )
    return findings
