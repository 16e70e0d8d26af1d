"""Shared parts of the OCFL validator: results, path containment, descriptor-relative
file access that never follows a link, block hashing and strict JSON parsing."""

from __future__ import annotations

import json
import os
import re
import stat
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from ...errors import CorruptArchiveError
from ..validation_codes import (
    CODES,
    DIGEST_ALGORITHMS,
    ERROR,
    severity_of,
    spec_url,
)

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
    inventory_sha512: dict[str, str] = field(default_factory=dict)
    """Directory (``""`` for the object root, ``"v1/"``...) -> the sha512 of the inventory
    file in it as read, for each inventory whose sha512 sidecar was read and parsed
    (the sidecar check computes it); the others are not here."""
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


class Stopped(BaseException):
    """Raised in a validation thread whose run was interrupted (:func:`stop_on`): a
    BaseException, so that no check takes it for damage."""


def stop_on(event: threading.Event) -> None:
    """Make this thread's reads of large files stop at the next block once ``event`` is
    set (the initializer of the threads that validate a few objects at once)."""
    _buffers.stop = event


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
    """Feed every block to every hasher; with more than one hasher, the first hashes each
    block in this thread while a helper thread runs the others on it (hashlib lets go of
    the GIL on large updates), so a large file's sha512 and sha256 take the time of one."""
    buffer = getattr(_buffers, "block", None)
    if buffer is None:
        buffer = _buffers.block = bytearray(BLOCK_SIZE)
    view = memoryview(buffer)
    first, rest = hashers[0], hashers[1:]
    helper = _helper() if rest else None
    stop = getattr(_buffers, "stop", None)
    total = 0
    while n := os.readv(fd, [buffer]):
        if stop is not None and stop.is_set():
            raise Stopped
        chunk = view[:n]
        if helper is not None and n >= SMALL_READ:
            others = helper.submit(_update_all, rest, chunk)
            try:
                first.update(chunk)
            finally:
                others.result()  # the buffer is read into again only once both are done
        else:
            for h in hashers:
                h.update(chunk)
        total += n
    return total


def _update_all(hashers: list[Any], chunk: memoryview) -> None:
    for h in hashers:
        h.update(chunk)


def _helper() -> ThreadPoolExecutor:
    """This thread's hashing helper; a new one in a forked child, where the parent's
    helper thread does not exist."""
    pool = getattr(_buffers, "helper", None)
    if pool is None or _buffers.helper_pid != os.getpid():
        pool = _buffers.helper = ThreadPoolExecutor(1, thread_name_prefix="provarchive-hash")
        _buffers.helper_pid = os.getpid()
    return pool


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
    obj = _JsonObject(pairs)  # built in C; the last value of a repeated key wins, as before
    if len(obj) != len(pairs):
        seen: set[str] = set()
        dups = []
        for key, _value in pairs:
            if key in seen:
                dups.append(key)
            seen.add(key)
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
