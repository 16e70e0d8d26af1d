"""A standalone OCFL 1.1 validator of objects and storage roots, made by any tool.

Contract:
- :func:`validate_object` and :func:`validate_root` never raise for damage: every
  problem is an :class:`Issue` carrying the OCFL validation code it breaks
  (:mod:`.validation_codes`), the path it concerns (relative to the object or
  the storage root), a one-line message and, where there is one, the expected
  and found value (digests in full). Warnings (W codes) do not make an object
  invalid. A broken inventory yields as many independent issues as can still
  be found, never one generic finding.
- Containment: the validator opens only names it listed itself, one directory at
  a time, through directory descriptors opened with ``O_NOFOLLOW``; a path read
  from an inventory or sidecar only ever *selects* among listed names and is
  never joined onto the file system. So no inventory can make it open, hash,
  stat or list anything outside the object, symbolic links are reported (E090)
  and never followed, and FIFOs or devices are reported (E089), never opened
  for reading. :func:`safe_join` and :func:`open_contained` give other code
  the same guarantee for a single path.
- Each content file is read at most once, in fixed blocks, feeding every
  algorithm any inventory or fixity block of the object records for it; the
  digests computed are returned (:attr:`ObjectReport.digests`) so a caller can
  cross-check its own records without reading a file twice.
- :func:`validate_root` walks the storage hierarchy (the walk alone is
  :func:`iter_object_roots`) and validates objects in this process or, with
  ``jobs > 1``, in a process pool; the issues do not depend on ``jobs``.
- Pure library: no printing, no logging, no state between calls (beyond a
  reused read buffer per thread).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import stat
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from ..errors import CorruptArchiveError
from .validation_codes import (
    CODES,
    CONTENT_ALGORITHMS,
    DIGEST_ALGORITHMS,
    ERROR,
    REGISTERED_EXTENSIONS,
    SPEC_VERSIONS,
    DigestAlgorithm,
    severity_of,
    spec_url,
)

__all__ = [
    "Issue",
    "ObjectReport",
    "RootReport",
    "iter_object_roots",
    "layout_path",
    "open_contained",
    "relative_path_problem",
    "safe_join",
    "validate_object",
    "validate_root",
]

INVENTORY = "inventory.json"
BLOCK_SIZE = 1024 * 1024
MAX_INVENTORY_BYTES = 256 * 1024 * 1024
"""An inventory larger than this is reported (E033), not parsed: a hostile object
must not exhaust memory."""
MAX_SMALL_FILE = 64 * 1024
SMALL_READ = 64 * 1024
"""Files smaller than this are read with a single call, without the block buffer."""
KEEP_OPEN = 64
"""Content directories kept open between the version checks and the content walk."""
MAX_DEPTH = 200
"""Directories nested deeper are reported (E089) and not descended into."""

_VERSION_NAME = re.compile(r"v\d+")
_INVENTORY_TYPE = re.compile(r"https://ocfl\.io/(\d+\.\d+)/spec/#inventory")
_URI = re.compile(
    r"[A-Za-z][A-Za-z0-9+.-]*:(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})+"
)
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?"
    r"(?:([Zz])|([+-])(\d{2}):(\d{2}))?"
)
_INVENTORY_KEYS = frozenset(
    {"id", "type", "digestAlgorithm", "head", "contentDirectory", "manifest", "versions", "fixity"}
)
_VERSION_KEYS = frozenset({"created", "state", "message", "user"})
_USER_KEYS = frozenset({"name", "address"})
_HEX = re.compile(r"[0-9a-fA-F]+")
_BAD_ELEMENTS = frozenset({"", ".", ".."})
"""Path elements that neither logical nor content paths may have."""
_SIDECAR = re.compile(r"([0-9a-fA-F]+)[ \t]+inventory\.json\s*")
_OBJECT_DECLARATION = re.compile(r"0=ocfl_object_(\d+\.\d+)")
_OBJECT_DECLARATION_T = re.compile(r"[1-9]\d*=ocfl_object_.*")
_ROOT_DECLARATION = re.compile(r"0=ocfl_(\d+\.\d+)")
_ROOT_DECLARATION_T = re.compile(r"[1-9]\d*=ocfl_\d+\.\d+")
_ROOT_DECLARATION_NO_T = re.compile(r"ocfl_\d+\.\d+")


# -- results -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Issue:
    """One breach of an OCFL requirement (E code) or recommendation (W code)."""

    code: str
    path: str
    """Relative to the object root (object issues) or storage root (root issues); "." is the root itself."""
    message: str
    expected: str | None = None
    found: str | None = None

    @property
    def severity(self) -> str:
        return severity_of(self.code)

    @property
    def requirement(self) -> str:
        """The requirement broken, in one line (see :func:`spec_url` for the normative text)."""
        return CODES.get(self.code, "")

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "path": self.path,
            "message": self.message,
            "expected": self.expected,
            "found": self.found,
            "spec": spec_url(self.code),
        }


@dataclass(frozen=True)
class ObjectReport:
    """What :func:`validate_object` found in one object."""

    path: str
    issues: tuple[Issue, ...]
    inventory: dict[str, Any] | None
    """The parsed root inventory, or None if it could not be read as a JSON object."""
    object_id: str | None
    head: str | None
    spec_version: str | None
    """From the object declaration (None if there is no valid one)."""
    digests: dict[str, dict[str, str]] = field(default_factory=dict)
    """Content path -> {algorithm: lower-case hex} for every file hashed, plus ``size``
    (its byte count in decimal, the ``size`` digest of extension 0009)."""
    bytes_read: int = 0
    files_hashed: int = 0

    def is_valid(self) -> bool:
        return not any(i.severity == ERROR for i in self.issues)

    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == ERROR]

    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity != ERROR]

    def codes(self) -> set[str]:
        return {i.code for i in self.issues}


@dataclass(frozen=True)
class RootReport:
    """What :func:`validate_root` found: the root's own issues and one report per object."""

    path: str
    issues: tuple[Issue, ...]
    objects: tuple[ObjectReport, ...]
    """In walk order (each directory's entries by name); ``path`` relative to the storage root."""
    spec_version: str | None
    layout: str | None
    """The storage layout extension the root declares, if any."""

    def is_valid(self) -> bool:
        return not any(i.severity == ERROR for i in self.issues) and all(
            o.is_valid() for o in self.objects
        )

    def all_issues(self) -> list[Issue]:
        """Root issues, then every object issue with its path made relative to the root."""
        result = list(self.issues)
        for report in self.objects:
            for issue in report.issues:
                where = report.path if issue.path == "." else f"{report.path}/{issue.path}"
                result.append(replace(issue, path=where))
        return result

    def codes(self) -> set[str]:
        return {i.code for i in self.all_issues()}


# -- path containment ----------------------------------------------------------------------


def relative_path_problem(path: object) -> str | None:
    """Why ``path`` is not a safe relative path of ``/``-separated names, or None.

    Rejected: non-strings, the empty path, absolute paths, empty, ``.`` and ``..``
    elements, NUL. A backslash is an ordinary character of a name, never a
    separator, so it cannot climb out of a directory.
    """
    if not isinstance(path, str) or not path:
        return "not a non-empty string"
    if "\x00" in path:
        return "contains NUL"
    if path.startswith("/"):
        return "is absolute"
    if not _BAD_ELEMENTS.isdisjoint(path.split("/")):
        return "has an empty, '.' or '..' element"
    return None


def safe_join(base: Path, relpath: str) -> Path | None:
    """``base / relpath`` resolved, or None if ``relpath`` is unsafe or leaves ``base``.

    Symbolic links are resolved before the containment check, so a link pointing
    outside ``base`` is refused. The answer holds at the time of the call; to
    open the file without a race use :func:`open_contained`.
    """
    if relative_path_problem(relpath) is not None:
        return None
    real_base = os.path.realpath(base)
    target = os.path.realpath(os.path.join(real_base, *relpath.split("/")))
    if os.path.commonpath([real_base, target]) != real_base or target == real_base:
        return None
    return Path(target)


def open_contained(base: Path, relpath: str) -> BinaryIO:
    """Open the regular file ``base/relpath`` for reading without following any link.

    Every directory on the way is opened relative to the previous one with
    ``O_NOFOLLOW``, so neither a hostile path nor a symbolic link swapped in
    meanwhile can lead outside ``base``. Raises :class:`CorruptArchiveError`
    when the path is unsafe, crosses a link, is not a regular file or cannot be
    opened.
    """
    problem = relative_path_problem(relpath)
    where = base / relpath if isinstance(relpath, str) else base
    if problem is not None:
        raise CorruptArchiveError(where, f"unsafe path: {problem}")
    *dirs, name = relpath.split("/")
    fds: list[int] = []
    try:
        fds.append(os.open(base, _DIR_FLAGS))
        for part in dirs:
            fds.append(os.open(part, _DIR_FLAGS | os.O_NOFOLLOW, dir_fd=fds[-1]))
        fd = os.open(name, _FILE_FLAGS, dir_fd=fds[-1])
    except OSError as exc:
        raise CorruptArchiveError(where, _describe(exc)) from exc
    finally:
        for d in fds:
            os.close(d)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise CorruptArchiveError(where, "not a regular file")
    os.set_blocking(fd, True)
    return open(fd, "rb")


# -- low-level file access (descriptor-relative, never following links) --------------------

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0)
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)

FILE, DIR, LINK, OTHER = "file", "directory", "symbolic link", "special file"


class _NotRegularError(OSError):
    """A name that is not a regular file where one is needed."""


def _describe(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def _list_dir(fd: int) -> dict[str, str]:
    """Name -> kind (FILE, DIR, LINK, OTHER) of every entry, sorted by name.

    Kinds come from the directory entry itself (no stat, links never followed).
    """
    entries: list[tuple[str, str]] = []
    with os.scandir(fd) as it:
        for e in it:
            if e.is_file(follow_symlinks=False):
                kind = FILE
            elif e.is_dir(follow_symlinks=False):
                kind = DIR
            elif e.is_symlink():
                kind = LINK
            else:
                kind = OTHER
            entries.append((e.name, kind))
    entries.sort()
    return dict(entries)


def _open_dir(name: str, dir_fd: int) -> int:
    return os.open(name, _DIR_FLAGS | os.O_NOFOLLOW, dir_fd=dir_fd)


def _open_file(name: str, dir_fd: int) -> tuple[int, int]:
    """(descriptor, size) of the regular file ``name``; raises OSError for anything else."""
    fd = os.open(name, _FILE_FLAGS, dir_fd=dir_fd)
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise _NotRegularError(0, "not a regular file")
    return fd, st.st_size


def _read_file(name: str, dir_fd: int, limit: int) -> bytes:
    """The whole file (at most ``limit`` + 1 bytes, so the caller can tell it is too long)."""
    fd, size = _open_file(name, dir_fd)
    try:
        # One read for the common case: a regular file returns less only at its end.
        want = min(size, limit) + 1
        data = os.read(fd, want)
        if len(data) < want:
            return data
        chunks = [data]
        total = len(data)
        while total <= limit and (chunk := os.read(fd, min(BLOCK_SIZE, limit + 1 - total))):
            chunks.append(chunk)
            total += len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


_buffers = threading.local()


def _feed(fd: int, size: int, hashers: list[Any]) -> int:
    """Read ``fd`` (of ``size`` bytes when opened) to its end, feeding every hasher.

    Returns the byte count. Small files are read whole with one call; others
    in BLOCK_SIZE blocks into one reused buffer per thread.
    """
    if size >= SMALL_READ:
        return _feed_blocks(fd, hashers)
    data = os.read(fd, size + 1)
    for h in hashers:
        h.update(data)
    if len(data) <= size:  # a regular file returns less than asked only at its end
        return len(data)
    return len(data) + _feed_blocks(fd, hashers)


def _feed_blocks(fd: int, hashers: list[Any]) -> int:
    buffer = getattr(_buffers, "block", None)
    if buffer is None:
        buffer = _buffers.block = bytearray(BLOCK_SIZE)
    view = memoryview(buffer)
    total = 0
    while n := os.readv(fd, [buffer]):
        chunk = view[:n]
        for h in hashers:
            h.update(chunk)
        total += n
    return total


def _new_hashers(algorithms: set[str]) -> dict[str, Any]:
    hashers: dict[str, Any] = {}
    for name in sorted(algorithms):
        algorithm = DIGEST_ALGORITHMS.get(name)
        if algorithm is not None and algorithm.factory is not None:
            hashers[name] = algorithm.factory()
    return hashers


def _hash_bytes(data: bytes, algorithm: str) -> str | None:
    hashers = _new_hashers({algorithm})
    if not hashers:
        return None
    (h,) = hashers.values()
    h.update(data)
    return str(h.hexdigest())


# -- JSON ----------------------------------------------------------------------------------


class _JsonObject(dict[str, Any]):
    """A parsed JSON object that remembers the keys it held more than once."""

    duplicates: tuple[str, ...] = ()


def _object_pairs(pairs: list[tuple[str, Any]]) -> _JsonObject:
    obj = _JsonObject()
    dups = []
    for key, value in pairs:
        if key in obj:
            dups.append(key)
        obj[key] = value
    if dups:
        obj.duplicates = tuple(dups)
    return obj


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _parse_json(data: bytes) -> tuple[Any, str | None]:
    """(value, None) or (None, why the bytes are not UTF-8 JSON)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, f"not UTF-8 ({exc.reason} at byte {exc.start})"
    try:
        return json.loads(
            text, object_pairs_hook=_object_pairs, parse_constant=_reject_constant
        ), None
    except RecursionError:
        return None, "nested too deeply"
    except ValueError as exc:
        return None, f"not JSON ({exc})"


def _duplicates(value: Any) -> tuple[str, ...]:
    return value.duplicates if isinstance(value, _JsonObject) else ()


def _show(value: Any) -> str:
    """A JSON value as it appears in a message (long values are cut, digests never are)."""
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    return text if len(text) <= 300 else text[:297] + "..."


def _one_line(text: str) -> str:
    """``text`` with control characters escaped, so that it prints on one line."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _show_bytes(data: bytes) -> str:
    return _one_line(_show(data.decode("utf-8", "backslashreplace")))


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(x) for x in version.split("."))


def _conflicts(paths: dict[str, Any]) -> list[tuple[str, str]]:
    """(prefix, path) for every path that is also used as a directory of another path."""
    found = []
    for path in paths:
        parts = path.split("/")
        for i in range(1, len(parts)):
            prefix = "/".join(parts[:i])
            if prefix in paths:
                found.append((prefix, path))
    return found


def _datetime_problem(text: str) -> str | None:
    """Why ``text`` is not an RFC 3339 date-time to the second with a time zone, or None."""
    m = _RFC3339.fullmatch(text)
    if m is None:
        return "is not an RFC 3339 date-time"
    year, month, day, hour, minute, second, _frac, zulu, sign, off_h, off_m = m.groups()
    if second is None:
        return "is not to the second"
    if zulu is None and sign is None:
        return "has no time zone"
    try:
        datetime(int(year), int(month), int(day), int(hour), int(minute), min(int(second), 59))
    except ValueError:
        return "is not a valid date and time"
    if int(second) > 60 or (sign is not None and (int(off_h) > 23 or int(off_m) > 59)):
        return "is not a valid date and time"
    return None


def _names(items: list[str], limit: int = 5) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


# -- inventories ---------------------------------------------------------------------------

AddIssue = Callable[[str, str, str, str | None, str | None], None]


@dataclass
class _Inventory:
    """What the checks made of one inventory; only its well-formed parts are kept."""

    where: str
    """Path of the inventory in the object: ``inventory.json``, ``v2/inventory.json``."""
    raw: bytes
    data: dict[str, Any] | None = None
    object_id: str | None = None
    spec_version: str | None = None
    algorithm: str | None = None
    head: str | None = None
    content_dir: str = "content"
    content_dir_set: bool = False
    versions: list[str] = field(default_factory=list)
    """Well-formed version names, in order of number."""
    versions_ok: bool = False
    manifest_ok: bool = False
    manifest: dict[str, str] = field(default_factory=dict)
    """Content path -> normalised digest."""
    paths_of: dict[str, list[str]] = field(default_factory=dict)
    fixity: dict[str, dict[str, str]] = field(default_factory=dict)
    """Algorithm -> content path -> normalised digest."""
    states: dict[str, dict[str, str]] = field(default_factory=dict)
    """Version -> logical path -> normalised digest."""
    blocks: dict[str, dict[str, Any]] = field(default_factory=dict)
    digest: str | None = None
    """Digest of ``raw`` with ``algorithm``, once the sidecar check computed it."""


class _InventoryChecker:
    """The checks of one inventory on its own (no file system access)."""

    def __init__(self, inv: _Inventory, add: AddIssue, version_dir: str | None) -> None:
        self.inv = inv
        self._add = add
        self.version_dir = version_dir
        self.manifest_keys: dict[str, str] = {}
        """Normalised digest -> the manifest key as written."""
        self.manifest_exact: set[str] = set()
        self.states_complete = True

    def add(
        self, code: str, message: str, expected: str | None = None, found: str | None = None
    ) -> None:
        self._add(code, self.inv.where, message, expected, found)

    def run(self, data: Any) -> None:
        if not isinstance(data, dict):
            self.add("E033", f"{self.inv.where} is not a JSON object", "a JSON object", _show(data))
            return
        self.inv.data = data
        for key in _duplicates(data):
            self.add("E033", f"key {key!r} appears more than once", None, key)
        for key in sorted(data.keys() - _INVENTORY_KEYS):
            if key.lower() in ("versions", "version") and "versions" not in data:
                self.add("E044", f"the versions block is under the key {key!r}", "versions", key)
            elif key.lower() in ("fixity", "fixities") and "fixity" not in data:
                self.add("E055", f"the fixity block is under the key {key!r}", "fixity", key)
            else:
                self.add("E102", f"key {key!r} is not defined by the specification", None, key)
        self._check_id(data)
        self._check_type(data)
        self._check_algorithm(data)
        self._check_content_dir(data)
        versions = self._check_versions(data)
        self._check_manifest(data)
        used: set[str] = set()
        if versions is not None:
            for name in self.inv.versions:
                self._check_version(name, versions[name], used)
        self._check_head(data)
        if self.inv.manifest_ok and self.inv.versions_ok and self.states_complete:
            for norm, written in self.manifest_keys.items():
                if norm not in used:
                    paths = _names(self.inv.paths_of.get(norm, [])) or written
                    self.add(
                        "E107", f"manifest digest of {paths} is used by no version", None, written
                    )
        if "fixity" in data:
            self._check_fixity(data["fixity"])

    # -- basic keys

    def _check_id(self, data: dict[str, Any]) -> None:
        if "id" not in data:
            self.add("E036", "the inventory has no id")
            return
        value = data["id"]
        if not isinstance(value, str) or not value:
            self.add("E037", "id is not a non-empty string", "a string", _show(value))
            return
        self.inv.object_id = value
        if not _URI.fullmatch(value):
            self.add("W005", f"id {value!r} is not a URI", "a URI", value)

    def _check_type(self, data: dict[str, Any]) -> None:
        if "type" not in data:
            self.add("E036", "the inventory has no type")
            return
        value = data["type"]
        m = _INVENTORY_TYPE.fullmatch(value) if isinstance(value, str) else None
        if m is None or m.group(1) not in SPEC_VERSIONS:
            expected = "https://ocfl.io/1.1/spec/#inventory"
            self.add(
                "E038", "type is not the inventory URI of an OCFL version", expected, _show(value)
            )
            return
        self.inv.spec_version = m.group(1)

    def _check_algorithm(self, data: dict[str, Any]) -> None:
        if "digestAlgorithm" not in data:
            self.add("E036", "the inventory has no digestAlgorithm")
            return
        value = data["digestAlgorithm"]
        if not isinstance(value, str):
            self.add("E025", "digestAlgorithm is not a string", "sha512", _show(value))
            return
        self.inv.algorithm = value
        if value == "sha256":
            self.add("W004", "digestAlgorithm is sha256; sha512 is recommended", "sha512", value)
        elif value not in CONTENT_ALGORITHMS:
            self.add(
                "E025", f"digestAlgorithm {value!r} is neither sha512 nor sha256", "sha512", value
            )

    def _check_content_dir(self, data: dict[str, Any]) -> None:
        if "contentDirectory" not in data:
            return
        value = data["contentDirectory"]
        if not isinstance(value, str) or "/" in value:
            self.add(
                "E017",
                "contentDirectory is not a name without '/'",
                "a directory name",
                _show(value),
            )
        elif value in (".", ".."):
            self.add("E018", f"contentDirectory is {value!r}", "a directory name", value)
        elif not value or "\x00" in value:
            self.add(
                "E108", "contentDirectory is not a directory name", "a directory name", _show(value)
            )
        else:
            self.inv.content_dir = value
            self.inv.content_dir_set = True

    # -- versions

    def _check_versions(self, data: dict[str, Any]) -> dict[str, Any] | None:
        if "versions" not in data:
            if not any(k.lower() in ("versions", "version") for k in data):  # else E044
                self.add("E043", "the inventory has no versions block")
            return None
        versions = data["versions"]
        if not isinstance(versions, dict):
            self.add("E045", "versions is not a JSON object", "a JSON object", _show(versions))
            return None
        for key in _duplicates(versions):
            self.add("E033", f"version {key!r} appears more than once", None, key)
        if not versions:
            self.add("E008", "versions is empty: an object has at least one version")
            return None
        self.inv.versions = self._version_sequence(list(versions))
        self.inv.versions_ok = True
        return versions

    def _version_sequence(self, keys: list[str]) -> list[str]:
        """The well-formed version names in order; reports naming and sequence problems."""
        plain = [f"v{n}" for n in range(1, len(keys) + 1)]
        if set(keys) == set(plain):  # the common case: v1..vN, nothing to report
            return plain
        numbered: list[tuple[int, str]] = []
        for key in keys:
            if not _VERSION_NAME.fullmatch(key):
                self.add(
                    "E104", f"version name {key!r} is not 'v' and a number", "v1, v2, ...", key
                )
            elif int(key[1:]) == 0:
                self.add("E105", f"version {key}: version numbers start at 1", "v1, v2, ...", key)
            else:
                numbered.append((int(key[1:]), key))
        if len(numbered) < len(keys):
            self.states_complete = False
        if not numbered:
            return []
        numbered.sort()
        ones = [k for n, k in numbered if n == 1]
        if not ones:
            self.add(
                "E009",
                f"there is no version 1 (the first is {numbered[0][1]})",
                "v1",
                numbered[0][1],
            )
        ref = min(ones, key=len) if ones else numbered[0][1]
        width = len(ref) - 1 if ref[1] == "0" else 0
        if width:
            self.add("W001", f"version names are zero-padded ({ref})", "v1", ref)
        good: list[tuple[int, str]] = []
        for n, key in numbered:
            digits = key[1:]
            if width and not digits.startswith("0"):
                self.add(
                    "E011", f"{key} does not start with v0 although {ref} is zero-padded", None, key
                )
                self.add("E013", f"{key} breaks the naming convention set by {ref}", None, key)
            elif (width and len(digits) != width) or (not width and digits.startswith("0")):
                self.add("E012", f"{key} and {ref} use different naming conventions", None, key)
            else:
                good.append((n, key))
                continue
            self.states_complete = False
        numbers = {n for n, _ in good}
        top = max(numbers, default=0)
        missing = [
            f"v{n:0{width}d}" if width else f"v{n}" for n in range(2, top + 1) if n not in numbers
        ]
        if missing:
            self.add(
                "E010",
                f"versions are not continuous: {_names(missing)} missing",
                None,
                ", ".join(missing),
            )
        return [k for _, k in good]

    def _check_head(self, data: dict[str, Any]) -> None:
        if "head" not in data:
            self.add("E036", "the inventory has no head")
            return
        head = data["head"]
        highest = self.inv.versions[-1] if self.inv.versions else None
        if not isinstance(head, str):
            self.add("E040", "head is not a version name", highest, _show(head))
            return
        self.inv.head = head
        if self.version_dir is not None and head != self.version_dir:
            self.add(
                "E040",
                f"head is {head} in the inventory of {self.version_dir}",
                self.version_dir,
                head,
            )
        elif highest is not None and head != highest:
            self.add("E040", f"head is {head}, the highest version is {highest}", highest, head)

    def _check_version(self, name: str, block: Any, used: set[str]) -> None:
        if not isinstance(block, dict):
            self.add("E047", f"version {name} is not a JSON object", "a JSON object", _show(block))
            self.states_complete = False
            return
        for key in _duplicates(block):
            self.add("E033", f"version {name}: key {key!r} appears more than once", None, key)
        for key in sorted(block.keys() - _VERSION_KEYS):
            self.add(
                "E102",
                f"version {name}: key {key!r} is not defined by the specification",
                None,
                key,
            )
        self.inv.blocks[name] = block
        self._check_created(name, block)
        if "state" not in block:
            self.add("E048", f"version {name} has no state")
            self.states_complete = False
        else:
            self._check_state(name, block["state"], used)
        missing = [key for key in ("message", "user") if key not in block]
        if missing:
            self.add("W007", f"version {name} has no {' and no '.join(missing)}")
        if "message" in block and not isinstance(block["message"], str):
            self.add(
                "E094",
                f"version {name}: message is not a string",
                "a string",
                _show(block["message"]),
            )
        if "user" in block:
            self._check_user(name, block["user"])

    def _check_created(self, name: str, block: dict[str, Any]) -> None:
        if "created" not in block:
            self.add("E048", f"version {name} has no created")
            return
        value = block["created"]
        expected = "an RFC 3339 date-time with time zone, e.g. 2024-05-01T12:00:00Z"
        if not isinstance(value, str):
            self.add("E049", f"version {name}: created is not a string", expected, _show(value))
        elif (problem := _datetime_problem(value)) is not None:
            self.add("E049", f"version {name}: created {value!r} {problem}", expected, value)

    def _check_user(self, name: str, user: Any) -> None:
        if not isinstance(user, dict):
            self.add(
                "E054", f"version {name}: user is not a JSON object", "a JSON object", _show(user)
            )
            return
        for key in sorted(user.keys() - _USER_KEYS):
            self.add(
                "E102",
                f"version {name}: user key {key!r} is not defined by the specification",
                None,
                key,
            )
        if not isinstance(user.get("name"), str):
            self.add(
                "E054",
                f"version {name}: user has no name string",
                "a string",
                _show(user.get("name")),
            )
        if "address" not in user:
            self.add("W008", f"version {name}: user has no address")
        elif not isinstance(user["address"], str):
            self.add(
                "E054",
                f"version {name}: user address is not a string",
                "a URI",
                _show(user["address"]),
            )
        elif not _URI.fullmatch(user["address"]):
            self.add(
                "W009",
                f"version {name}: user address {user['address']!r} is not a URI",
                "a URI",
                user["address"],
            )

    def _check_state(self, name: str, state: Any, used: set[str]) -> None:
        if not isinstance(state, dict):
            self.add(
                "E050", f"version {name}: state is not a JSON object", "a JSON object", _show(state)
            )
            self.states_complete = False
            return
        for key in _duplicates(state):
            self.add("E050", f"version {name}: state lists digest {key} more than once", None, key)
        algorithm = DIGEST_ALGORITHMS.get(self.inv.algorithm or "")
        logical: dict[str, str] = {}
        for digest, paths in state.items():
            norm = algorithm.normalize(digest) if algorithm else digest.lower()
            used.add(norm)
            if self.inv.manifest_ok and digest not in self.manifest_exact:
                written = self.manifest_keys.get(norm)
                if written is not None:
                    self.add(
                        "E050",
                        f"version {name}: state digest differs in case from the manifest's",
                        written,
                        digest,
                    )
                else:
                    self.add(
                        "E050", f"version {name}: state digest is not in the manifest", None, digest
                    )
            if not isinstance(paths, list):
                self.add(
                    "E051",
                    f"version {name}: the logical paths of {digest} are not an array",
                    None,
                    _show(paths),
                )
                continue
            for path in paths:
                if self._logical_path_ok(name, path):
                    if path in logical:
                        self.add(
                            "E095",
                            f"version {name}: logical path {path!r} appears more than once",
                            None,
                            path,
                        )
                    else:
                        logical[path] = norm
        for prefix, path in _conflicts(logical):
            self.add(
                "E095",
                f"version {name}: logical path {prefix!r} is also a directory of {path!r}",
                None,
                prefix,
            )
        self.inv.states[name] = logical

    def _logical_path_ok(self, name: str, path: Any) -> bool:
        if not isinstance(path, str) or not path:
            self.add(
                "E051",
                f"version {name}: a logical path is not a non-empty string",
                None,
                _show(path),
            )
        elif path.startswith("/") or path.endswith("/"):
            self.add(
                "E053", f"version {name}: logical path {path!r} begins or ends with '/'", None, path
            )
        elif not _BAD_ELEMENTS.isdisjoint(path.split("/")):
            self.add(
                "E052",
                f"version {name}: logical path {path!r} has an empty, '.' or '..' element",
                None,
                path,
            )
        else:
            return True
        return False

    # -- manifest and fixity

    def _check_manifest(self, data: dict[str, Any]) -> None:
        if "manifest" not in data:
            self.add("E041", "the inventory has no manifest block")
            return
        manifest = data["manifest"]
        if not isinstance(manifest, dict):
            self.add("E106", "manifest is not a JSON object", "a JSON object", _show(manifest))
            return
        inv = self.inv
        inv.manifest_ok = True
        for key in _duplicates(manifest):
            self.add("E096", f"manifest digest {key} is listed more than once", None, key)
        algorithm = DIGEST_ALGORITHMS.get(inv.algorithm or "")
        for digest, paths in manifest.items():
            norm = self._digest_key(digest, algorithm, "manifest")
            self.manifest_exact.add(digest)
            if norm in self.manifest_keys:
                first = self.manifest_keys[norm]
                self.add(
                    "E096",
                    f"manifest digest {digest} repeats {first} (digests ignore case)",
                    first,
                    digest,
                )
            else:
                self.manifest_keys[norm] = digest
            if not isinstance(paths, list) or not paths:
                self.add(
                    "E092",
                    f"manifest entry {digest} is not a non-empty array of content paths",
                    None,
                    _show(paths),
                )
                continue
            for path in paths:
                if not self._content_path_ok(path, "E092", "manifest"):
                    continue
                if path in inv.manifest:
                    self.add("E101", f"content path {path} is listed more than once", None, path)
                    continue
                inv.manifest[path] = norm
                inv.paths_of.setdefault(norm, []).append(path)
        for prefix, path in _conflicts(inv.manifest):
            self.add("E101", f"content path {prefix} is also a directory of {path}", None, prefix)

    def _digest_key(self, digest: str, algorithm: DigestAlgorithm | None, block: str) -> str:
        """The normalised digest; reports a value that is not of ``algorithm``."""
        if algorithm is None:
            return digest.lower()
        if not algorithm.pattern.fullmatch(digest):
            is_hex = _HEX.fullmatch(digest) is not None
            if block == "manifest":
                code = "E039" if is_hex else (algorithm.hex_code or "E039")
            else:
                code = algorithm.hex_code if algorithm.hex_code and not is_hex else "E057"
            self.add(
                code,
                f"{block} key {digest!r} is not a {algorithm.name} value",
                f"a {algorithm.name} value",
                digest,
            )
        return algorithm.normalize(digest)

    def _content_path_ok(self, path: Any, code: str, block: str) -> bool:
        """Checks one content path of the manifest or a fixity block; reports and returns False if bad."""
        inv = self.inv
        if not isinstance(path, str):
            self.add(code, f"a {block} content path is not a string", None, _show(path))
            return False
        problem: tuple[str, str] | None = None
        parts = path.split("/")
        if not path or "\x00" in path:
            problem = ("E098", "is empty or contains NUL")
        elif path.startswith("/") or path.endswith("/"):
            problem = ("E100", "begins or ends with '/'")
        elif not _BAD_ELEMENTS.isdisjoint(parts):
            problem = ("E099", "has an empty, '.' or '..' element")
        elif len(parts) < 3:
            problem = (
                ("E035", "uses '\\' as separator")
                if "\\" in path
                else ("E042", f"is not inside a version's content directory ({inv.content_dir})")
            )
        elif inv.versions_ok and parts[0] not in inv.versions:
            problem = ("E014", f"is in {parts[0]}, which is not a version of this inventory")
        elif parts[1] != inv.content_dir and not inv.content_dir_set:
            problem = ("E021", "is not inside content/ (contentDirectory is not set)")
        elif parts[1] != inv.content_dir:
            problem = ("E042", f"is not inside the content directory {inv.content_dir!r}")
        if problem is None:
            return True
        self.add(problem[0], f"{block} content path {path!r} {problem[1]}", None, path)
        return False

    def _check_fixity(self, fixity: Any) -> None:
        if not isinstance(fixity, dict):
            self.add("E111", "fixity is not a JSON object", "a JSON object", _show(fixity))
            return
        for key in _duplicates(fixity):
            self.add("E056", f"fixity algorithm {key!r} appears more than once", None, key)
        for name, block in fixity.items():
            algorithm = DIGEST_ALGORITHMS.get(name)
            if algorithm is None:
                self.add(
                    "E056",
                    f"fixity algorithm {name!r} is not in the controlled vocabulary",
                    None,
                    name,
                )
                continue
            if not isinstance(block, dict):
                self.add(
                    "E057",
                    f"fixity block {name} is not a JSON object",
                    "a JSON object",
                    _show(block),
                )
                continue
            self.inv.fixity[name] = self._fixity_block(name, algorithm, block)

    def _fixity_block(
        self, name: str, algorithm: DigestAlgorithm, block: dict[str, Any]
    ) -> dict[str, str]:
        for key in _duplicates(block):
            self.add("E097", f"fixity {name} digest {key} is listed more than once", None, key)
        seen: dict[str, str] = {}
        result: dict[str, str] = {}
        for digest, paths in block.items():
            norm = self._digest_key(digest, algorithm, f"fixity {name}")
            if norm in seen:
                self.add(
                    "E097",
                    f"fixity {name} digest {digest} repeats {seen[norm]} (digests ignore case)",
                    seen[norm],
                    digest,
                )
            seen.setdefault(norm, digest)
            if not isinstance(paths, list):
                self.add(
                    "E057",
                    f"fixity {name} entry {digest} is not an array of content paths",
                    None,
                    _show(paths),
                )
                continue
            for path in paths:
                if not self._content_path_ok(path, "E057", f"fixity {name}"):
                    continue
                if self.inv.manifest_ok and path not in self.inv.manifest:
                    self.add(
                        "E057",
                        f"fixity {name} lists {path}, which the manifest does not",
                        None,
                        path,
                    )
                    continue
                result[path] = norm
        return result


# -- objects -------------------------------------------------------------------------------


def _parse_sidecar(data: bytes) -> tuple[str | None, bool]:
    """(the digest it records, whether it reads exactly ``DIGEST inventory.json``)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None, False
    m = _SIDECAR.fullmatch(text)
    if m:
        return m.group(1), True
    words = text.split()
    return (words[0] if words and _HEX.fullmatch(words[0]) else None), False


def validate_object(
    path: str | os.PathLike[str], *, check_digests: bool = True, expected_id: str | None = None
) -> ObjectReport:
    """Validate the OCFL object whose root is ``path``; see the module contract.

    ``check_digests=False`` skips hashing content files (inventories and their
    sidecars are still checked). ``expected_id``: the id the caller expects the
    object to hold (E083 if it holds another).
    """
    return _ObjectValidator(os.fspath(path), check_digests, expected_id).run()


@dataclass
class _Expectation:
    algorithm: str
    digest: str
    code: str
    where: str


class _ObjectValidator:
    """One run of the object checks; state shared by the steps of :meth:`run`."""

    def __init__(
        self,
        path: str,
        check_digests: bool,
        expected_id: str | None,
        report_path: str | None = None,
    ) -> None:
        self.path = path
        self.report_path = path if report_path is None else report_path
        self.check_digests = check_digests
        self.expected_id = expected_id
        self.issues: list[Issue] = []
        self.spec_version: str | None = None
        self.root: _Inventory | None = None
        self.reported: set[str] = set()
        """Object paths whose entry was already dealt with (declarations, sidecars...)."""
        self.listings: dict[str, dict[str, str]] = {}
        self.priors: dict[str, _Inventory] = {}
        self.spec_of: dict[str, str | None] = {}
        self.seen: dict[str, str] = {}
        """Kind of every entry found under a content directory, by object path."""
        self.files_by_version: dict[str, list[str]] = {}
        self.expect: dict[str, list[_Expectation]] = {}
        self.digests: dict[str, dict[str, str]] = {}
        self.unreadable: dict[str, str] = {}
        self.content_fds: dict[str, int] = {}
        self.bytes_read = 0
        self.files_hashed = 0

    def add(
        self,
        code: str,
        path: str,
        message: str,
        expected: str | None = None,
        found: str | None = None,
    ) -> None:
        self.issues.append(Issue(code, path, _one_line(message), expected, found))

    def run(self) -> ObjectReport:
        try:
            fd = os.open(self.path, _DIR_FLAGS)
        except OSError as exc:
            self.add("E003", ".", f"the object directory cannot be opened: {_describe(exc)}")
            return self._report()
        try:
            try:
                listing = _list_dir(fd)
            except OSError as exc:
                self.add("E003", ".", f"the object directory cannot be listed: {_describe(exc)}")
                return self._report()
            return self.run_open(fd, listing)
        finally:
            os.close(fd)

    def run_open(self, fd: int, listing: dict[str, str]) -> ObjectReport:
        """Validate the object whose root is open as ``fd`` and holds ``listing``."""
        try:
            self._validate(fd, listing)
        finally:
            for kept in self.content_fds.values():
                os.close(kept)
            self.content_fds.clear()
        return self._report()

    def _report(self) -> ObjectReport:
        root = self.root
        return ObjectReport(
            path=self.report_path,
            issues=tuple(self.issues),
            inventory=root.data if root is not None else None,
            object_id=root.object_id if root is not None else None,
            head=root.head if root is not None else None,
            spec_version=self.spec_version,
            digests=self.digests,
            bytes_read=self.bytes_read,
            files_hashed=self.files_hashed,
        )

    def _validate(self, fd: int, listing: dict[str, str]) -> None:
        self.spec_version = self._check_declaration(fd, listing)
        self.root = self._load_inventory(fd, listing, "", None)
        if self.root is not None:
            self._check_root_inventory(self.root)
        versions = self._version_dirs(listing)
        self._check_root_entries(fd, listing, versions)
        self._check_version_dirs(fd, listing, versions)
        self._collect_expectations()
        self._walk_contents(fd, versions)
        self._check_contents(versions)

    # -- declaration and root entries

    def _check_declaration(self, fd: int, listing: dict[str, str]) -> str | None:
        for name in listing:
            if "ocfl_object_" not in name or name.startswith("0="):
                continue
            if _OBJECT_DECLARATION_T.fullmatch(name):
                self.add(
                    "E005", name, f"declaration {name}: T must be 0", "0=ocfl_object_1.1", name
                )
                self.reported.add(name)
            elif name.startswith("ocfl_object_"):
                self.add(
                    "E004",
                    name,
                    f"declaration {name} is not named T=dvalue",
                    "0=ocfl_object_1.1",
                    name,
                )
                self.reported.add(name)
        names = [n for n in listing if n.startswith("0=")]
        if not names:
            self.add("E003", ".", "the object root has no declaration 0=ocfl_object_1.1")
            return None
        if len(names) > 1:
            self.add(
                "E003",
                ".",
                f"the object root has {len(names)} declarations; one is allowed",
                None,
                ", ".join(names),
            )
        found: list[str] = []
        for name in names:
            self.reported.add(name)
            m = _OBJECT_DECLARATION.fullmatch(name)
            if m is None or m.group(1) not in SPEC_VERSIONS:
                self.add(
                    "E006",
                    name,
                    f"declaration {name} does not name an OCFL object version",
                    "0=ocfl_object_1.1",
                    name,
                )
            elif listing[name] != FILE:
                self.add(
                    "E090" if listing[name] == LINK else "E003",
                    name,
                    f"declaration {name} is a {listing[name]}",
                )
            else:
                found.append(m.group(1))
                self._check_declaration_text(fd, name)
        return max(found, key=_version_key) if found else None

    def _check_declaration_text(self, fd: int, name: str) -> None:
        dvalue = name[2:]
        try:
            data = _read_file(name, fd, MAX_SMALL_FILE)
        except OSError as exc:
            self.add("E007", name, f"declaration {name} cannot be read: {_describe(exc)}")
            return
        if data != f"{dvalue}\n".encode():
            self.add(
                "E007",
                name,
                f"declaration {name} does not hold {dvalue!r} and a newline",
                f"{dvalue}\\n",
                _show_bytes(data),
            )

    def _version_dirs(self, listing: dict[str, str]) -> list[str]:
        """The version directories to examine: the inventory's, else the version-like ones."""
        if self.root is not None and self.root.versions_ok:
            return list(self.root.versions)
        names = [n for n, kind in listing.items() if kind == DIR and _VERSION_NAME.fullmatch(n)]
        return sorted(names, key=lambda n: int(n[1:]))

    def _check_root_entries(self, fd: int, listing: dict[str, str], versions: list[str]) -> None:
        known_versions = self.root is not None and self.root.versions_ok
        for name, kind in listing.items():
            if name in self.reported:
                continue
            if kind == LINK:
                self.add("E090", name, f"{name} is a symbolic link (not followed)")
            elif kind == OTHER:
                self.add("E089", name, f"{name} is a special file (FIFO, socket or device)")
            elif kind == DIR and (name in versions or name == "logs"):
                continue
            elif kind == DIR and name == "extensions":
                self._check_extensions(fd)
            elif kind == DIR and known_versions and _VERSION_NAME.fullmatch(name):
                self.add(
                    "E046", name, f"directory {name} is not a version of the inventory", None, name
                )
            elif name.lower() == INVENTORY or name.lower().startswith(INVENTORY + "."):
                self.add(
                    "E034",
                    name,
                    f"{name}: an inventory is named exactly {INVENTORY}",
                    INVENTORY,
                    name,
                )
            else:
                self.add("E001", name, f"unexpected {kind} {name} in the object root", None, name)

    def _check_extensions(self, fd: int) -> None:
        try:
            efd = _open_dir("extensions", fd)
            try:
                listing = _list_dir(efd)
            finally:
                os.close(efd)
        except OSError as exc:
            self.add("E067", "extensions", f"extensions cannot be listed: {_describe(exc)}")
            return
        for name, kind in listing.items():
            path = f"extensions/{name}"
            if kind == LINK:
                self.add("E090", path, f"{path} is a symbolic link (not followed)")
            elif kind != DIR:
                self.add(
                    "E067", path, f"{path} is a {kind}; extensions holds only extension directories"
                )
            elif name not in REGISTERED_EXTENSIONS:
                self.add(
                    "W013",
                    path,
                    f"extension {name!r} is not a registered extension name",
                    None,
                    name,
                )

    # -- inventories and sidecars

    def _load_inventory(
        self,
        fd: int,
        listing: dict[str, str],
        prefix: str,
        version_dir: str | None,
        raw: bytes | None = None,
    ) -> _Inventory | None:
        """Read, check and return the inventory of the directory ``prefix`` (None if unreadable)."""
        where = prefix + INVENTORY
        kind = listing.get(INVENTORY)
        self.reported.add(where)
        missing_code = "E063" if version_dir is None else "W010"
        if kind is None:
            holder = (
                "the object root" if version_dir is None else f"version directory {version_dir}"
            )
            self.add(missing_code, where, f"{holder} has no {INVENTORY}")
            return None
        if kind != FILE:
            self.add(
                "E090" if kind == LINK else missing_code, where, f"{where} is a {kind}, not a file"
            )
            return None
        if raw is None:
            try:
                raw = _read_file(INVENTORY, fd, MAX_INVENTORY_BYTES)
            except OSError as exc:
                self.add(
                    "E063" if version_dir is None else "E033",
                    where,
                    f"{where} cannot be read: {_describe(exc)}",
                )
                return None
        inv = _Inventory(where, raw)
        if len(raw) > MAX_INVENTORY_BYTES:
            self.add(
                "E033",
                where,
                f"{where} is larger than {MAX_INVENTORY_BYTES} bytes and was not parsed",
            )
            return inv
        data, problem = _parse_json(raw)
        if problem is not None:
            self.add("E033", where, f"{where} is {problem}")
        else:
            _InventoryChecker(inv, self.add, version_dir).run(data)
        self._check_sidecar(fd, listing, prefix, inv)
        return inv

    def _check_sidecar(
        self, fd: int, listing: dict[str, str], prefix: str, inv: _Inventory
    ) -> None:
        sidecars = [n for n in listing if n.startswith(INVENTORY + ".")]
        algorithm = inv.algorithm
        if algorithm is None and len(sidecars) == 1:
            algorithm = sidecars[0][len(INVENTORY) + 1 :]
        name = f"{INVENTORY}.{algorithm}" if algorithm else None
        if name is None and sidecars:  # several sidecars and no algorithm: none can be checked
            self.reported.update(prefix + s for s in sidecars)
            return
        if name is None or name not in listing:
            expected = prefix + (name or f"{INVENTORY}.<digestAlgorithm>")
            if sidecars and inv.algorithm is not None:
                other = prefix + sidecars[0]
                self.add(
                    "E059",
                    other,
                    f"the sidecar is {other}, but digestAlgorithm is {inv.algorithm}",
                    expected,
                    other,
                )
                self.reported.update(prefix + s for s in sidecars)
            else:
                self.add("E058", expected, f"{prefix}{INVENTORY} has no sidecar", expected, None)
            return
        where = prefix + name
        self.reported.add(where)
        if listing[name] != FILE:
            self.add(
                "E090" if listing[name] == LINK else "E058",
                where,
                f"{where} is a {listing[name]}, not a file",
            )
            return
        try:
            data = _read_file(name, fd, MAX_SMALL_FILE)
        except OSError as exc:
            self.add("E058", where, f"{where} cannot be read: {_describe(exc)}")
            return
        recorded, well_formed = _parse_sidecar(data)
        if not well_formed:
            self.add(
                "E061",
                where,
                f"{where} does not read 'DIGEST inventory.json'",
                "<digest> inventory.json",
                _show_bytes(data),
            )
        if recorded is None or algorithm is None:
            return
        actual = inv.digest if inv.digest is not None else _hash_bytes(inv.raw, algorithm)
        if actual is None:
            return
        inv.digest = actual
        if recorded.lower() != actual:
            self.add(
                "E060",
                where,
                f"{where} does not hold the {algorithm} of {prefix}{INVENTORY}",
                recorded,
                actual,
            )

    def _check_root_inventory(self, root: _Inventory) -> None:
        if self.spec_version and root.spec_version and root.spec_version != self.spec_version:
            self.add(
                "E038",
                INVENTORY,
                f"type is of OCFL {root.spec_version}, the declaration of OCFL {self.spec_version}",
                f"https://ocfl.io/{self.spec_version}/spec/#inventory",
                f"https://ocfl.io/{root.spec_version}/spec/#inventory",
            )
        if (
            self.expected_id is not None
            and root.data is not None
            and root.object_id != self.expected_id
        ):
            self.add(
                "E083",
                INVENTORY,
                "the object does not hold the id expected at its path",
                self.expected_id,
                root.object_id,
            )

    # -- version directories

    def _check_version_dirs(self, fd: int, listing: dict[str, str], versions: list[str]) -> None:
        present = []
        for index, name in enumerate(versions):
            kind = listing.get(name)
            if kind != DIR:
                detail = f" ({name} is a {kind})" if kind else ""
                self.add("E046", name, f"version {name} has no directory{detail}", name, kind)
                continue
            try:
                vfd = _open_dir(name, fd)
            except OSError as exc:
                self.add(
                    "E046", name, f"version directory {name} cannot be opened: {_describe(exc)}"
                )
                continue
            try:
                entries = _list_dir(vfd)
                self.listings[name] = entries
                self._check_version_inventory(vfd, entries, name, index, versions)
                self._keep_content_dir(vfd, name, entries)
            except OSError as exc:
                self.add(
                    "E046", name, f"version directory {name} cannot be listed: {_describe(exc)}"
                )
                continue
            finally:
                os.close(vfd)
            present.append(name)
            self._check_version_entries(name, entries)
        if self.root is not None and self.root.versions_ok and present:
            gaps = [v for v in versions[: versions.index(present[-1])] if v not in present]
            if gaps:
                self.add(
                    "E010",
                    ".",
                    f"version directories are not continuous: {_names(gaps)} missing",
                    None,
                    ", ".join(gaps),
                )
        self._check_spec_sequence(versions)

    def _keep_content_dir(self, vfd: int, version: str, entries: dict[str, str]) -> None:
        """Keep the content directory open for the content walk (saves reopening it)."""
        content_dir = self.root.content_dir if self.root is not None else "content"
        if entries.get(content_dir) == DIR and len(self.content_fds) < KEEP_OPEN:
            with contextlib.suppress(OSError):  # the content walk reports it
                self.content_fds[version] = _open_dir(content_dir, vfd)

    def _check_version_entries(self, version: str, entries: dict[str, str]) -> None:
        content_dir = self.root.content_dir if self.root is not None else "content"
        for name, kind in entries.items():
            path = f"{version}/{name}"
            if path in self.reported:
                continue
            if kind == LINK:
                self.add("E090", path, f"{path} is a symbolic link (not followed)")
            elif kind == OTHER:
                self.add("E089", path, f"{path} is a special file (FIFO, socket or device)")
            elif name == content_dir and kind == DIR:
                continue
            elif kind == DIR:
                self.add(
                    "W002",
                    path,
                    f"{path} is a directory other than the content directory (ignored)",
                )
            else:
                self.add(
                    "E015",
                    path,
                    f"{path}: a version directory holds only its inventory, sidecar and {content_dir}/",
                )

    def _check_version_inventory(
        self, vfd: int, entries: dict[str, str], version: str, index: int, versions: list[str]
    ) -> None:
        root = self.root
        prefix = version + "/"
        raw: bytes | None = None
        if index == len(versions) - 1 and root is not None and entries.get(INVENTORY) == FILE:
            try:
                raw = _read_file(INVENTORY, vfd, MAX_INVENTORY_BYTES)
            except OSError as exc:
                self.add(
                    "E033",
                    prefix + INVENTORY,
                    f"{prefix}{INVENTORY} cannot be read: {_describe(exc)}",
                )
                self.reported.add(prefix + INVENTORY)
                return
            if raw == root.raw:
                self.reported.add(prefix + INVENTORY)
                same = _Inventory(
                    prefix + INVENTORY, raw, algorithm=root.algorithm, digest=root.digest
                )
                self._check_sidecar(vfd, entries, prefix, same)
                self.spec_of[version] = root.spec_version
                return
            self.add(
                "E064",
                prefix + INVENTORY,
                f"{prefix}{INVENTORY} is not the same file as the root inventory",
            )
        inv = self._load_inventory(vfd, entries, prefix, version, raw)
        if inv is None:
            return
        self.spec_of[version] = inv.spec_version
        if inv.data is not None and root is not None and root.data is not None and root.versions_ok:
            self.priors[version] = inv
            self._compare_prior(inv, root, version, index)

    def _check_spec_sequence(self, versions: list[str]) -> None:
        previous: tuple[str, str] | None = None
        for name in versions:
            spec = self.spec_of.get(name)
            if spec is None:
                continue
            if previous is not None and _version_key(spec) < _version_key(previous[1]):
                self.add(
                    "E103",
                    f"{name}/{INVENTORY}",
                    f"{name} conforms to OCFL {spec}, older than {previous[0]} (OCFL {previous[1]})",
                    f"OCFL {previous[1]} or later",
                    f"OCFL {spec}",
                )
            previous = (name, spec)

    # -- prior inventories against the root inventory

    def _compare_prior(self, prior: _Inventory, root: _Inventory, version: str, index: int) -> None:
        where = prior.where
        expected = root.versions[: index + 1]
        if prior.versions_ok and prior.versions != expected:
            self.add(
                "E066",
                where,
                f"{where} has versions {_names(prior.versions)}, expected {_names(expected)}",
                ", ".join(expected),
                ", ".join(prior.versions),
            )
        if root.object_id and prior.object_id and prior.object_id != root.object_id:
            self.add(
                "E037",
                where,
                f"{where} has id {prior.object_id!r}, the root inventory {root.object_id!r}",
                root.object_id,
                prior.object_id,
            )
            self.add(
                "E110",
                where,
                "the object id changed between versions",
                root.object_id,
                prior.object_id,
            )
        if prior.content_dir != root.content_dir:
            self.add(
                "E019" if index == 0 else "E020",
                where,
                f"contentDirectory is {prior.content_dir!r} here, {root.content_dir!r} in the root inventory",
                root.content_dir,
                prior.content_dir,
            )
        elif index == 0 and root.content_dir_set and not prior.content_dir_set:
            self.add(
                "E019",
                where,
                "the root inventory sets contentDirectory, the first version did not",
                root.content_dir,
                None,
            )
        for name in prior.versions:
            if name in prior.states and name in root.states:
                self._compare_state(prior, root, name)
            if name in prior.blocks and name in root.blocks:
                for key in ("created", "message", "user"):
                    mine, theirs = prior.blocks[name].get(key), root.blocks[name].get(key)
                    if mine != theirs:
                        self.add(
                            "W011",
                            where,
                            f"version {name}: {key} differs from the root inventory",
                            _show(theirs),
                            _show(mine),
                        )

    def _compare_state(self, prior: _Inventory, root: _Inventory, name: str) -> None:
        where = prior.where
        mine, theirs = prior.states[name], root.states[name]
        extra, lost = sorted(mine.keys() - theirs.keys()), sorted(theirs.keys() - mine.keys())
        if extra or lost:
            self.add(
                "E066",
                where,
                f"version {name} has other logical paths than in the root inventory "
                f"(only here: {_names(extra) or '-'}; only in the root: {_names(lost) or '-'})",
                ", ".join(lost) or None,
                ", ".join(extra) or None,
            )
        same_algorithm = prior.algorithm == root.algorithm
        for path in sorted(mine.keys() & theirs.keys()):
            a, b = mine[path], theirs[path]
            if same_algorithm:
                if a != b:
                    self.add(
                        "E066",
                        where,
                        f"version {name}: {path!r} has another digest than in the root inventory",
                        b,
                        a,
                    )
                continue
            here, there = set(prior.paths_of.get(a, ())), set(root.paths_of.get(b, ()))
            if here and there and not here <= there:
                self.add(
                    "E066",
                    where,
                    f"version {name}: {path!r} is other content than in the root inventory",
                    _names(sorted(there)),
                    _names(sorted(here)),
                )

    # -- content

    def _collect_expectations(self) -> None:
        """Every digest some inventory records for a content path (each check once)."""
        sources = [self.root, *self.priors.values()]
        for inv in sources:
            if inv is None or inv.data is None:
                continue
            if inv.algorithm in DIGEST_ALGORITHMS:
                for path, digest in inv.manifest.items():
                    self._expect(path, _Expectation(inv.algorithm, digest, "E092", inv.where))
            for name, block in inv.fixity.items():
                for path, digest in block.items():
                    self._expect(path, _Expectation(name, digest, "E093", inv.where))

    def _expect(self, path: str, expectation: _Expectation) -> None:
        known = self.expect.setdefault(path, [])
        if not any(
            e.algorithm == expectation.algorithm and e.digest == expectation.digest for e in known
        ):
            known.append(expectation)

    def _walk_contents(self, fd: int, versions: list[str]) -> None:
        content_dir = self.root.content_dir if self.root is not None else "content"
        for name in versions:
            entries = self.listings.get(name)
            if entries is None:
                continue
            files: list[str] = []
            self.files_by_version[name] = files
            if entries.get(content_dir) != DIR:
                continue
            rel = f"{name}/{content_dir}"
            cfd = self.content_fds.pop(name, None)
            try:
                if cfd is None:
                    vfd = _open_dir(name, fd)
                    try:
                        cfd = _open_dir(content_dir, vfd)
                    finally:
                        os.close(vfd)
            except OSError as exc:
                self.add("E023", rel, f"{rel} cannot be opened: {_describe(exc)}")
                continue
            try:
                self._walk(cfd, rel, files, 0)
            finally:
                os.close(cfd)

    def _walk(self, dir_fd: int, rel: str, files: list[str], depth: int) -> None:
        try:
            entries = _list_dir(dir_fd)
        except OSError as exc:
            self.add("E023", rel, f"{rel} cannot be listed: {_describe(exc)}")
            return
        if not entries:
            if depth == 0:
                self.add(
                    "W003",
                    rel,
                    f"{rel} is empty: a version without content should have no content directory",
                )
            else:
                self.add("E024", rel, f"{rel} is an empty directory inside a content directory")
        for name, kind in entries.items():
            path = f"{rel}/{name}"
            self.seen[path] = kind
            if kind == FILE:
                files.append(path)
                self._hash(dir_fd, name, path)
            elif kind == DIR:
                self._descend(dir_fd, name, path, files, depth + 1)
            elif kind == LINK:
                self.add("E090", path, f"{path} is a symbolic link (not followed)")
            else:
                self.add(
                    "E089",
                    path,
                    f"{path} is a special file (FIFO, socket or device) and was not read",
                )

    def _descend(self, dir_fd: int, name: str, path: str, files: list[str], depth: int) -> None:
        if depth > MAX_DEPTH:
            self.add(
                "E089",
                path,
                f"{path} is nested more than {MAX_DEPTH} levels deep and was not examined",
            )
            return
        try:
            sub = _open_dir(name, dir_fd)
        except OSError as exc:
            self.add("E023", path, f"{path} cannot be opened: {_describe(exc)}")
            return
        try:
            self._walk(sub, path, files, depth)
        finally:
            os.close(sub)

    def _hash(self, dir_fd: int, name: str, path: str) -> None:
        """Read ``path`` once, feeding every algorithm recorded for it."""
        wanted = self.expect.get(path)
        if not wanted or not self.check_digests:
            return
        hashers = _new_hashers({e.algorithm for e in wanted})
        if not hashers:
            return
        try:
            fd, size = _open_file(name, dir_fd)
        except OSError as exc:
            self.unreadable[path] = _describe(exc)
            return
        try:
            count = _feed(fd, size, list(hashers.values()))
        except OSError as exc:
            self.unreadable[path] = _describe(exc)
            return
        finally:
            os.close(fd)
        self.bytes_read += count
        self.files_hashed += 1
        digests = {a: h.hexdigest() for a, h in hashers.items()}
        digests.setdefault("size", str(count))  # the "size" digest of extension 0009, for free
        self.digests[path] = digests

    def _check_contents(self, versions: list[str]) -> None:
        root = self.root
        if root is None or root.data is None:
            return
        if root.manifest_ok:
            self._check_manifest_files(root, versions)
        for name, block in root.fixity.items():
            for path in block:
                if self.seen.get(path) != FILE:
                    self.add(
                        "E093",
                        path,
                        f"fixity {name} lists {path}, {self._what(path)}",
                        "a file",
                        self.seen.get(path),
                    )
        for path, wanted in self.expect.items():
            if path in self.unreadable:
                self.add(wanted[0].code, path, f"{path} cannot be read: {self.unreadable[path]}")
                continue
            got = self.digests.get(path, {})
            for e in wanted:
                actual = got.get(e.algorithm)
                if (
                    actual is not None
                    and DIGEST_ALGORITHMS[e.algorithm].normalize(actual) != e.digest
                ):
                    # Located where the wrong record is: the content file when the root
                    # inventory disagrees with it, else the older inventory.
                    where = path if e.where == INVENTORY else e.where
                    message = f"{path} does not match its {e.algorithm} in {e.where}"
                    self.add(e.code, where, message, e.digest, actual)
        for version, prior in self.priors.items():
            if prior.manifest_ok:
                self._check_prior_files(prior, root, versions[: versions.index(version) + 1])

    def _what(self, path: str) -> str:
        kind = self.seen.get(path)
        return "which does not exist" if kind is None else f"which is a {kind}"

    def _check_manifest_files(self, root: _Inventory, versions: list[str]) -> None:
        for path in root.manifest:
            if self.seen.get(path) != FILE:
                self.add(
                    "E092",
                    path,
                    f"the manifest lists {path}, {self._what(path)}",
                    "a file",
                    self.seen.get(path),
                )
        for version in versions:
            for path in self.files_by_version.get(version, []):
                if path not in root.manifest:
                    self.add("E023", path, f"{path} is not in the manifest", None, path)
            entries = self.listings.get(version)
            prefix = f"{version}/{root.content_dir}/"
            if (
                entries is not None
                and entries.get(root.content_dir) != DIR
                and any(p.startswith(prefix) for p in root.manifest)
            ):
                self.add(
                    "E016",
                    version,
                    f"version {version} has content but no {root.content_dir}/ directory",
                )

    def _check_prior_files(self, prior: _Inventory, root: _Inventory, versions: list[str]) -> None:
        for version in versions:
            for path in self.files_by_version.get(version, []):
                if path not in prior.manifest:
                    self.add(
                        "E023",
                        prior.where,
                        f"{path} is not in the manifest of {prior.where}",
                        None,
                        path,
                    )
        for path in prior.manifest:
            if path not in root.manifest and self.seen.get(path) != FILE:
                self.add(
                    "E092",
                    prior.where,
                    f"{prior.where} lists {path}, {self._what(path)}",
                    "a file",
                    self.seen.get(path),
                )


# -- storage roots -------------------------------------------------------------------------

LAYOUT_FILE = "ocfl_layout.json"
_LAYOUT_EXTENSIONS = frozenset(n for n in REGISTERED_EXTENSIONS if "layout" in n)
_VARIABLE_DEPTH_LAYOUTS = frozenset({"0011-direct-clean-path-layout"})
"""Layouts under which objects may legitimately sit at different depths."""


def _is_object_root(entries: dict[str, str]) -> bool:
    """An object declaration, or an inventory (an object that lost its declaration)."""
    return entries.get(INVENTORY) == FILE or any(n.startswith("0=ocfl_object_") for n in entries)


def layout_path(layout: str, config: dict[str, Any], object_id: str) -> str | None:
    """Where ``layout`` puts ``object_id`` (relative to the root), or None if we cannot tell.

    Implemented: 0002 (flat direct) and 0004 (hashed n-tuple, with its config).
    """
    if layout == "0002-flat-direct-storage-layout":
        return object_id
    if layout != "0004-hashed-n-tuple-storage-layout":
        return None
    algorithm = config.get("digestAlgorithm", "sha256")
    size, count = config.get("tupleSize", 3), config.get("numberOfTuples", 3)
    short = config.get("shortObjectRoot", False)
    if not (isinstance(algorithm, str) and isinstance(size, int) and isinstance(count, int)):
        return None
    if not isinstance(short, bool) or not (0 <= size <= 32 and 0 <= count <= 32):
        return None
    digest = _hash_bytes(object_id.encode("utf-8"), algorithm)
    if digest is None or size * count > len(digest):
        return None
    tuples = [digest[i * size : (i + 1) * size] for i in range(count)]
    return "/".join([*tuples, digest[size * count :] if short else digest])


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
        for r in reports:
            if (
                r.spec_version
                and self.spec_version
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
            expected = (
                layout_path(self.layout, self.layout_config, r.object_id) if self.layout else None
            )
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


def _validate_chunk(job: tuple[str, list[str], bool]) -> list[ObjectReport]:
    root, rels, check_digests = job
    return [
        _ObjectValidator(os.path.join(root, rel), check_digests, None, rel).run() for rel in rels
    ]


class _WalkValidator:
    """Validates each object as the walk finds it, reusing the walk's open descriptor."""

    def __init__(
        self, root: str, check_digests: bool, on_object: Callable[[ObjectReport], None] | None
    ) -> None:
        self.root = root
        self.check_digests = check_digests
        self.on_object = on_object
        self.reports: list[ObjectReport] = []

    def __call__(self, fd: int, entries: dict[str, str], rel: str) -> None:
        path = os.path.join(self.root, rel)
        report = _ObjectValidator(path, self.check_digests, None, rel).run_open(fd, entries)
        if self.on_object is not None:
            self.on_object(report)
        self.reports.append(report)


def _walk_and_validate(job: tuple[str, list[str], bool]) -> tuple[list[Issue], list[ObjectReport]]:
    """A worker's share: walk some top-level directories, validate the objects found."""
    root, tops, check_digests = job
    collect = _WalkValidator(root, check_digests, None)
    walker = _RootValidator(root, collect)
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
) -> RootReport:
    """Validate the storage root ``path`` and every object in it; see the module contract.

    Objects are validated as the walk finds them. ``jobs > 1`` shares the work
    out to that many processes: each walks a share of the top-level directories
    (or, when there are too few of them, validates a share of the objects).
    ``on_object`` is called in this process, in path order, with each object's
    report as it arrives (e.g. for a progress bar). The result does not depend
    on ``jobs``.
    """
    root = os.fspath(path)
    if jobs <= 1:
        collect = _WalkValidator(root, check_digests, on_object)
        checker = _RootValidator(root, collect)
        checker.check()
        reports = collect.reports
    else:
        checker = _RootValidator(root)
        reports = _validate_in_pool(
            checker, checker.check(walk=False), jobs, check_digests, on_object
        )
    checker.check_objects(reports)
    return RootReport(
        root, tuple(checker.issues), tuple(reports), checker.spec_version, checker.layout
    )


def _validate_in_pool(
    checker: _RootValidator,
    tops: list[str],
    jobs: int,
    check_digests: bool,
    on_object: Callable[[ObjectReport], None] | None,
) -> list[ObjectReport]:
    root = checker.root
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        if len(tops) >= jobs * 8:
            reports: list[ObjectReport] = []
            work = [(root, chunk, check_digests) for chunk in _chunked(tops, jobs, 256)]
            for issues, batch in pool.map(_walk_and_validate, work):
                checker.issues.extend(issues)
                checker.objects.extend(r.path for r in batch)
                reports.extend(_collect([batch], on_object))
            return reports
        checker.walk_tops(tops)
        work = [(root, chunk, check_digests) for chunk in _chunked(checker.objects, jobs, 64)]
        return _collect(pool.map(_validate_chunk, work), on_object)


def _collect(
    batches: Iterable[list[ObjectReport]], on_object: Callable[[ObjectReport], None] | None
) -> list[ObjectReport]:
    reports: list[ObjectReport] = []
    for batch in batches:
        for report in batch:
            if on_object is not None:
                on_object(report)
            reports.append(report)
    return reports
