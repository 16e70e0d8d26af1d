"""The checks of a storage root and its hierarchy, and the walk that validates each
object as it is found (in this process or a pool of them)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...processes import interrupts_held, leave_interrupts_to_parent
from ..validation_codes import (
    DIGEST_ALGORITHMS,
    REGISTERED_EXTENSIONS,
    SPEC_VERSIONS,
)
from .base import (
    _DIR_FLAGS,
    _ROOT_DECLARATION,
    _ROOT_DECLARATION_NO_T,
    _ROOT_DECLARATION_T,
    DIR,
    FILE,
    INVENTORY,
    LINK,
    MAX_DEPTH,
    MAX_SMALL_FILE,
    OTHER,
    Issue,
    ObjectReport,
    RootReport,
    _describe,
    _list_dir,
    _one_line,
    _open_dir,
    _parse_json,
    _read_file,
    _show,
    _show_bytes,
    _version_key,
    stop_on,
)
from .objects import (
    _ObjectValidator,
)

# -- storage roots -------------------------------------------------------------------------

LAYOUT_FILE = "ocfl_layout.json"
_LAYOUT_EXTENSIONS = frozenset(n for n in REGISTERED_EXTENSIONS if "layout" in n)
_VARIABLE_DEPTH_LAYOUTS = frozenset({"0011-direct-clean-path-layout"})
"""Layouts under which objects may legitimately sit at different depths."""
FEW_OBJECTS = 64
"""Fewer objects than this (with ``jobs > 1``) are validated by threads of this process:
worker processes pay off only over many objects, whose checks hold the GIL."""


def _is_object_root(entries: dict[str, str]) -> bool:
    """An object declaration, or an inventory (an object that lost its declaration)."""
    return entries.get(INVENTORY) == FILE or any(n.startswith("0=ocfl_object_") for n in entries)


def layout_path(layout: str, config: dict[str, Any], object_id: str) -> str | None:
    """Where ``layout`` puts ``object_id`` (relative to the root), or None if we cannot tell.

    Implemented: 0002 (flat direct) and 0004 (hashed n-tuple, with its config).
    """
    place = _layout_placer(layout, config)
    return None if place is None else place(object_id)


def _layout_placer(layout: str, config: dict[str, Any]) -> Callable[[str], str] | None:
    """:func:`layout_path` for one layout and config, checked once: a function of the id."""
    if layout == "0002-flat-direct-storage-layout":
        return lambda object_id: object_id
    if layout != "0004-hashed-n-tuple-storage-layout":
        return None
    algorithm = config.get("digestAlgorithm", "sha256")
    size, count = config.get("tupleSize", 3), config.get("numberOfTuples", 3)
    short = config.get("shortObjectRoot", False)
    if not (isinstance(algorithm, str) and isinstance(size, int) and isinstance(count, int)):
        return None
    if not isinstance(short, bool) or not (0 <= size <= 32 and 0 <= count <= 32):
        return None

    known = DIGEST_ALGORITHMS.get(algorithm)
    factory = known.factory if known is not None else None
    if factory is None or size * count > len(factory().hexdigest()):
        return None

    def place(object_id: str) -> str:
        h = factory()
        h.update(object_id.encode("utf-8"))
        digest: str = h.hexdigest()
        tuples = [digest[i * size : (i + 1) * size] for i in range(count)]
        return "/".join([*tuples, digest[size * count :] if short else digest])

    return place


class _RootValidator:
    """The checks of a storage root itself and of its hierarchy (not of the objects in it)."""

    def __init__(
        self, root: str, on_object_root: Callable[[int, dict[str, str], str], None] | None = None
    ) -> None:
        self.root = root
        self.on_object_root = on_object_root
        """Called with (descriptor, entries, path) of each object root as the walk finds it."""
        self.issues: list[Issue] = []
        self.objects: list[str] = []
        self.spec_version: str | None = None
        self.layout: str | None = None
        self.layout_config: dict[str, Any] = {}

    def add(
        self,
        code: str,
        path: str,
        message: str,
        expected: str | None = None,
        found: str | None = None,
    ) -> None:
        self.issues.append(Issue(code, path, _one_line(message), expected, found))

    def check(self, *, root_checks: bool = True, walk: bool = True) -> list[str]:
        """The root's own checks; returns the top-level directories of the hierarchy.

        With ``walk`` they are walked here too, collecting the objects in ``objects``.
        """
        try:
            fd = os.open(self.root, _DIR_FLAGS)
        except OSError as exc:
            self.add("E069", ".", f"the storage root cannot be opened: {_describe(exc)}")
            return []
        tops: list[str] = []
        try:
            listing = _list_dir(fd)
            if root_checks:
                self._check_declaration(fd, listing)
                self._check_layout(fd, listing)
            for name, kind in listing.items():
                if name.startswith("0=") or name == LAYOUT_FILE:
                    continue
                if name == "extensions" and kind == DIR:
                    if root_checks:
                        self._check_extensions(fd)
                elif kind == LINK:
                    self.add("E090", name, f"{name} is a symbolic link (not followed)")
                elif kind == OTHER:
                    self.add("E089", name, f"{name} is a special file (FIFO, socket or device)")
                elif kind == DIR:
                    tops.append(name)
            if walk:
                self._walk_tops(fd, tops)
        except OSError as exc:
            self.add("E069", ".", f"the storage root cannot be listed: {_describe(exc)}")
        finally:
            os.close(fd)
        return tops

    def walk_tops(self, names: list[str]) -> None:
        """Walk these top-level directories of the hierarchy (for a worker process)."""
        if not names:  # nothing to walk: a root that cannot be opened is reported once
            return
        try:
            fd = os.open(self.root, _DIR_FLAGS)
        except OSError as exc:
            self.add("E069", ".", f"the storage root cannot be opened: {_describe(exc)}")
            return
        try:
            self._walk_tops(fd, names)
        finally:
            os.close(fd)

    def _walk_tops(self, fd: int, names: list[str]) -> None:
        for name in names:
            if self._walk(fd, name, name, 1) == "dead":
                self.add("E088", name, f"{name} is neither an object hierarchy nor extensions")

    def _walk(self, parent_fd: int, name: str, rel: str, depth: int) -> str:
        """'object', 'ok' (objects below), 'dead' (things but no object below) or 'empty'."""
        try:
            fd = _open_dir(name, parent_fd)
        except OSError as exc:
            self.add("E085", rel, f"{rel} cannot be opened to find its objects: {_describe(exc)}")
            return "ok"
        try:
            entries = _list_dir(fd)
            if _is_object_root(entries):
                self.objects.append(rel)
                if self.on_object_root is not None:
                    self.on_object_root(fd, entries, rel)
                return "object"
            if not entries:
                self.add("E073", rel, f"{rel} is an empty directory")
                return "empty"
            if depth > MAX_DEPTH:
                self.add(
                    "E089",
                    rel,
                    f"{rel} is nested more than {MAX_DEPTH} levels deep and was not examined",
                )
                return "ok"
            return self._walk_entries(fd, rel, entries, depth)
        except OSError as exc:
            self.add("E085", rel, f"{rel} cannot be listed to find its objects: {_describe(exc)}")
            return "ok"
        finally:
            os.close(fd)

    def _walk_entries(self, fd: int, rel: str, entries: dict[str, str], depth: int) -> str:
        below: dict[str, str] = {}
        files = []
        for name, kind in entries.items():
            path = f"{rel}/{name}"
            if kind == DIR:
                below[path] = self._walk(fd, name, path, depth + 1)
            elif kind == LINK:
                self.add("E090", path, f"{path} is a symbolic link (not followed)")
            elif kind == OTHER:
                self.add("E089", path, f"{path} is a special file (FIFO, socket or device)")
            else:
                files.append(path)
        has_objects = any(state in ("object", "ok") for state in below.values())
        for path in files:
            if has_objects:
                self.add(
                    "E084",
                    path,
                    f"{path} is a file in an intermediate directory of the storage hierarchy",
                )
            else:
                self.add(
                    "E072", path, f"{path} is a file in the storage hierarchy outside any object"
                )
        if not has_objects:
            return "dead" if files or any(s == "dead" for s in below.values()) else "empty"
        for path, state in below.items():
            if state == "dead":
                self.add("E085", path, f"{path} leads to no OCFL object")
        return "ok"

    def _check_declaration(self, fd: int, listing: dict[str, str]) -> None:
        for name in listing:
            if _ROOT_DECLARATION_T.fullmatch(name):
                self.add("E078", name, f"root declaration {name}: T must be 0", "0=ocfl_1.1", name)
            elif _ROOT_DECLARATION_NO_T.fullmatch(name):
                self.add(
                    "E077",
                    name,
                    f"root declaration {name} is not named T=dvalue",
                    "0=ocfl_1.1",
                    name,
                )
        names = [n for n in listing if n.startswith("0=")]
        if not names:
            self.add(
                "E069", ".", "the storage root has no declaration 0=ocfl_1.1", "0=ocfl_1.1", None
            )
            return
        if len(names) > 1:
            self.add(
                "E076",
                ".",
                f"the storage root has {len(names)} declarations; one is allowed",
                None,
                ", ".join(names),
            )
        found = []
        for name in names:
            m = _ROOT_DECLARATION.fullmatch(name)
            if m is None or m.group(1) not in SPEC_VERSIONS:
                self.add(
                    "E079",
                    name,
                    f"declaration {name} does not name an OCFL version",
                    "0=ocfl_1.1",
                    name,
                )
                continue
            if listing[name] != FILE:
                self.add(
                    "E090" if listing[name] == LINK else "E076",
                    name,
                    f"declaration {name} is a {listing[name]}",
                )
                continue
            found.append(m.group(1))
            try:
                data = _read_file(name, fd, MAX_SMALL_FILE)
            except OSError as exc:
                self.add("E080", name, f"declaration {name} cannot be read: {_describe(exc)}")
                continue
            if data != f"{name[2:]}\n".encode():
                self.add(
                    "E080",
                    name,
                    f"declaration {name} does not hold {name[2:]!r} and a newline",
                    f"{name[2:]}\\n",
                    _show_bytes(data),
                )
        self.spec_version = max(found, key=_version_key) if found else None

    def _read_json(self, fd: int, name: str, code: str, where: str) -> Any:
        try:
            data, problem = _parse_json(_read_file(name, fd, MAX_SMALL_FILE))
        except OSError as exc:
            self.add(code, where, f"{where} cannot be read: {_describe(exc)}")
            return None
        if problem is not None:
            self.add(code, where, f"{where} is {problem}")
        return data

    def _check_layout(self, fd: int, listing: dict[str, str]) -> None:
        kind = listing.get(LAYOUT_FILE)
        if kind is None:
            return
        if kind != FILE:
            self.add(
                "E090" if kind == LINK else "E070",
                LAYOUT_FILE,
                f"{LAYOUT_FILE} is a {kind}, not a file",
            )
            return
        data = self._read_json(fd, LAYOUT_FILE, "E070", LAYOUT_FILE)
        if data is None:
            return
        if not isinstance(data, dict):
            self.add(
                "E070",
                LAYOUT_FILE,
                f"{LAYOUT_FILE} is not a JSON object",
                "a JSON object",
                _show(data),
            )
            return
        for key in ("extension", "description"):
            if not isinstance(data.get(key), str):
                self.add(
                    "E070",
                    LAYOUT_FILE,
                    f"{LAYOUT_FILE} has no {key} string",
                    "a string",
                    _show(data.get(key)),
                )
        extension = data.get("extension")
        if isinstance(extension, str):
            if extension in REGISTERED_EXTENSIONS:
                self.layout = extension
            else:
                self.add(
                    "E071",
                    LAYOUT_FILE,
                    f"layout extension {extension!r} is not a registered extension name",
                    None,
                    extension,
                )

    def _check_extensions(self, fd: int) -> None:
        try:
            efd = _open_dir("extensions", fd)
        except OSError as exc:
            self.add("E112", "extensions", f"extensions cannot be opened: {_describe(exc)}")
            return
        try:
            listing = _list_dir(efd)
            for name, kind in listing.items():
                path = f"extensions/{name}"
                if kind == LINK:
                    self.add("E090", path, f"{path} is a symbolic link (not followed)")
                elif kind != DIR:
                    self.add(
                        "E112",
                        path,
                        f"{path} is a {kind}; extensions holds only extension directories",
                    )
                elif name not in REGISTERED_EXTENSIONS:
                    self.add(
                        "W016",
                        path,
                        f"extension {name!r} is not a registered extension name",
                        None,
                        name,
                    )
            layouts = [n for n, k in listing.items() if k == DIR and n in _LAYOUT_EXTENSIONS]
            if self.layout is None and len(layouts) == 1:
                self.layout = layouts[0]
            if self.layout is not None and listing.get(self.layout) == DIR:
                self._read_layout_config(efd, self.layout)
        except OSError as exc:
            self.add("E112", "extensions", f"extensions cannot be listed: {_describe(exc)}")
        finally:
            os.close(efd)

    def _read_layout_config(self, efd: int, layout: str) -> None:
        lfd = _open_dir(layout, efd)
        try:
            if _list_dir(lfd).get("config.json") != FILE:
                return
            config = self._read_json(lfd, "config.json", "E070", f"extensions/{layout}/config.json")
        finally:
            os.close(lfd)
        if isinstance(config, dict):
            self.layout_config = config

    def check_objects(self, reports: list[ObjectReport]) -> None:
        """Checks across objects: conformance versions, unique ids, layout, depth patterns."""
        holders: dict[str, list[str]] = {}
        place = _layout_placer(self.layout, self.layout_config) if self.layout else None
        for r in reports:
            if (
                r.spec_version
                and self.spec_version
                and r.spec_version != self.spec_version  # the common case, and cheap
                and _version_key(r.spec_version) > _version_key(self.spec_version)
            ):
                self.add(
                    "E081",
                    r.path,
                    f"object conforms to OCFL {r.spec_version}, the root to {self.spec_version}",
                    f"OCFL {self.spec_version} or earlier",
                    f"OCFL {r.spec_version}",
                )
            if r.object_id is None:
                continue
            holders.setdefault(r.object_id, []).append(r.path)
            expected = place(r.object_id) if place is not None else None
            if expected is not None and expected != r.path:
                self.add(
                    "E083",
                    r.path,
                    f"the layout {self.layout} puts object {r.object_id!r} elsewhere",
                    expected,
                    r.path,
                )
        for object_id, paths in holders.items():
            if len(paths) > 1:
                for path in paths:
                    self.add(
                        "E037",
                        path,
                        f"id {object_id!r} is held by {len(paths)} objects",
                        None,
                        ", ".join(paths),
                    )
        depths = {p.count("/") + 1 for p in self.objects}
        if len(depths) > 1 and self.layout not in _VARIABLE_DEPTH_LAYOUTS:
            if 1 in depths:
                self.add("W015", ".", "some objects are top-level, others in a directory hierarchy")
            else:
                self.add(
                    "W014",
                    ".",
                    f"objects sit at {len(depths)} different depths: more than one layout pattern",
                    None,
                    ", ".join(map(str, sorted(depths))),
                )


def iter_object_roots(root: str | os.PathLike[str]) -> Iterator[Path]:
    """Every object root under the storage root ``root``, in a stable order.

    Found by walking the hierarchy without following symbolic links; a
    directory holding an object declaration (or an inventory) is an object
    root and is not descended into.
    """
    walker = _RootValidator(os.fspath(root))
    walker.check(root_checks=False)
    for rel in walker.objects:
        yield Path(root) / rel


Reduce = Callable[[ObjectReport], ObjectReport]
"""Applied to each object's report where it was validated (in the worker with
``jobs > 1``), before it is kept or sent back: to drop what the caller does not need."""


@dataclass(frozen=True)
class _Settings:
    root: str
    check_digests: bool
    reduce: Reduce | None

    def validate(
        self, rel: str, fd: int | None = None, entries: dict[str, str] | None = None
    ) -> ObjectReport:
        """The report of the object at ``rel`` (already open as ``fd``, listing ``entries``)."""
        validator = _ObjectValidator(os.path.join(self.root, rel), self.check_digests, None, rel)
        report = (
            validator.run() if fd is None or entries is None else validator.run_open(fd, entries)
        )
        return report if self.reduce is None else self.reduce(report)


def _validate_chunk(job: tuple[_Settings, list[str]]) -> list[ObjectReport]:
    settings, rels = job
    return [settings.validate(rel) for rel in rels]


class _WalkValidator:
    """Validates each object as the walk finds it, reusing the walk's open descriptor."""

    def __init__(
        self, settings: _Settings, on_object: Callable[[ObjectReport], None] | None
    ) -> None:
        self.settings = settings
        self.on_object = on_object
        self.reports: list[ObjectReport] = []

    def __call__(self, fd: int, entries: dict[str, str], rel: str) -> None:
        report = self.settings.validate(rel, fd, entries)
        if self.on_object is not None:
            self.on_object(report)
        self.reports.append(report)


def _walk_and_validate(
    job: tuple[_Settings, list[str]],
) -> tuple[list[Issue], list[ObjectReport]]:
    """A worker's share: walk some top-level directories, validate the objects found."""
    settings, tops = job
    collect = _WalkValidator(settings, None)
    walker = _RootValidator(settings.root, collect)
    walker.walk_tops(tops)
    return walker.issues, collect.reports


def _chunked(items: list[str], jobs: int, most: int) -> list[list[str]]:
    size = max(1, min(most, len(items) // (jobs * 8)))
    return [items[i : i + size] for i in range(0, len(items), size)]


def validate_root(
    path: str | os.PathLike[str],
    *,
    jobs: int = 1,
    check_digests: bool = True,
    on_object: Callable[[ObjectReport], None] | None = None,
    reduce: Reduce | None = None,
) -> RootReport:
    """Validate the storage root ``path`` and every object in it; see the module contract.

    Objects are validated as the walk finds them. ``jobs > 1`` shares the work
    out to that many processes: each walks a share of the top-level directories
    (or, when there are too few of them, validates a share of the objects; fewer
    than :data:`FEW_OBJECTS` are validated by that many threads of this process).
    ``on_object`` is called in this process, in path order, with each object's
    report as it arrives (e.g. for a progress bar). ``reduce`` (a module-level
    function, so that it can be sent to a worker) is applied to each object's
    report first. The result does not depend on ``jobs``.
    """
    root = os.fspath(path)
    settings = _Settings(root, check_digests, reduce)
    if jobs <= 1:
        collect = _WalkValidator(settings, on_object)
        checker = _RootValidator(root, collect)
        checker.check()
        reports = collect.reports
    else:
        checker = _RootValidator(root)
        reports = _validate_in_pool(checker, checker.check(walk=False), jobs, settings, on_object)
    checker.check_objects(reports)
    return RootReport(
        root, tuple(checker.issues), tuple(reports), checker.spec_version, checker.layout
    )


def _validate_in_pool(
    checker: _RootValidator,
    tops: list[str],
    jobs: int,
    settings: _Settings,
    on_object: Callable[[ObjectReport], None] | None,
) -> list[ObjectReport]:
    walk_in_workers = len(tops) >= max(
        FEW_OBJECTS, jobs * 8
    )  # else share out the objects, or none at all
    if not walk_in_workers:
        checker.walk_tops(tops)
        if len(checker.objects) < jobs * 2:  # starting the workers would cost more
            return _collect([_validate_chunk((settings, checker.objects))], on_object)
        if len(checker.objects) < FEW_OBJECTS:
            return _validate_in_threads(checker.objects, jobs, settings, on_object)
    from concurrent.futures import ProcessPoolExecutor  # its import alone costs ~13 ms

    with ProcessPoolExecutor(max_workers=jobs, initializer=leave_interrupts_to_parent) as pool:
        if walk_in_workers:
            reports: list[ObjectReport] = []
            work = [(settings, chunk) for chunk in _chunked(tops, jobs, 256)]
            with interrupts_held():  # map submits every chunk now, starting the workers
                walked = pool.map(_walk_and_validate, work)
            for issues, batch in walked:
                checker.issues.extend(issues)
                checker.objects.extend(r.path for r in batch)
                reports.extend(_collect([batch], on_object))
            return reports
        work = [(settings, chunk) for chunk in _chunked(checker.objects, jobs, 64)]
        with interrupts_held():
            batches = pool.map(_validate_chunk, work)
        return _collect(batches, on_object)


def _validate_in_threads(
    objects: list[str],
    jobs: int,
    settings: _Settings,
    on_object: Callable[[ObjectReport], None] | None,
) -> list[ObjectReport]:
    """A few objects, validated by ``jobs`` threads of this process: what they do at
    length is reading and hashing, which let go of the GIL, so threads use every core
    without the start-up of worker processes (the few, large objects of #14)."""
    from concurrent.futures import ThreadPoolExecutor

    stop = threading.Event()
    pool = ThreadPoolExecutor(
        jobs, thread_name_prefix="provarchive-validate", initializer=stop_on, initargs=(stop,)
    )
    try:
        return _collect([pool.map(settings.validate, objects)], on_object)
    except BaseException:  # an interrupt: the objects begun stop at their next block
        stop.set()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _collect(
    batches: Iterable[Iterable[ObjectReport]], on_object: Callable[[ObjectReport], None] | None
) -> list[ObjectReport]:
    reports: list[ObjectReport] = []
    for batch in batches:
        for report in batch:
            if on_object is not None:
                on_object(report)
            reports.append(report)
    return reports
