"""The seeds folder: document names, what may be archived, and how it is opened.

Contract:
- A document's name is its path relative to the seeds folder, POSIX separators,
  Unicode NFC. :func:`validate_name` is the single gatekeeper: it rejects
  absolute names, ``..``/``.``/empty segments, a leading ``~``, control
  characters, undecodable bytes and over-long segments, each with its reason.
- :func:`scan` lists the seeds to archive without opening them: regular files
  (and symbolic links that resolve to a regular file inside the folder).
  A link leading outside the folder is a failure; FIFOs, sockets and device
  nodes are skipped with a reason and never opened, so nothing can block.
- The stat cache (:func:`stat_trusted`) is git's index idea: a file whose
  size, mtime, ctime and inode match its cached entry is not read again,
  unless it was modified within two seconds of being cached (racy entry).
- :func:`open_seed` re-checks at open time (the folder may change under us) and
  opens without following a FIFO into a blocking read.
"""

from __future__ import annotations

import os
import stat
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from .catalog import SeedStat
from .errors import InputError, InvalidNameError

MAX_SEGMENT_BYTES = 255
RACY_WINDOW_NS = 2_000_000_000


@dataclass(frozen=True, slots=True)
class SeedFile:
    """A file to archive: its document name and where it is on disk."""

    name: str
    path: Path


@dataclass(frozen=True, slots=True)
class SeedProblem:
    """A seeds-folder entry that will not be archived, and why."""

    name: str
    path: str
    status: str  # "failed" | "skipped"
    reason: str


def printable(path: str | os.PathLike[str]) -> str:
    """A path as text that can always be printed and stored (undecodable bytes as \\xNN)."""
    text = os.fspath(path)
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def validate_name(name: str) -> str:
    """Return the canonical (NFC) form of a document name, or raise InvalidNameError."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidNameError(printable(name), "the file name is not valid UTF-8") from None
    canonical = unicodedata.normalize("NFC", name)
    if not canonical:
        raise InvalidNameError(name, "the name is empty")
    if canonical.startswith("/"):
        raise InvalidNameError(
            name, "absolute names are not allowed; give a path inside the seeds folder"
        )
    if canonical.startswith("~"):
        raise InvalidNameError(
            name, "a leading '~' is not allowed (it would mean a home directory)"
        )
    for ch in canonical:
        if unicodedata.category(ch) == "Cc":
            raise InvalidNameError(name, f"the name contains a control character (U+{ord(ch):04X})")
    for segment in canonical.split("/"):
        if segment == "..":
            raise InvalidNameError(name, "'..' would escape the seeds folder")
        if segment in ("", "."):
            raise InvalidNameError(name, "empty or '.' path segments are not allowed")
        if len(segment.encode("utf-8")) > MAX_SEGMENT_BYTES:
            raise InvalidNameError(name, f"a path segment is longer than {MAX_SEGMENT_BYTES} bytes")
    return canonical


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def name_for_path(seeds: Path, path: Path) -> str:
    """The document name of ``path`` (which must lie inside ``seeds``, links not followed)."""
    root = os.path.abspath(seeds)
    absolute = os.path.abspath(path)
    if not _inside(absolute, root) or absolute == root:
        raise InvalidNameError(
            str(path), f"not inside the seeds folder {seeds} (use 'provarchive add')"
        )
    relative = os.path.relpath(absolute, root)
    return validate_name(Path(relative).as_posix())


def _classify(seeds: Path, path: Path) -> tuple[str, str] | None:
    """None if ``path`` is archivable, else (status, reason). Does not open the file."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return "failed", "no such file"
    except OSError as exc:
        return "failed", exc.strerror or str(exc)
    if stat.S_ISLNK(st.st_mode):
        target = os.path.realpath(path)
        if not _inside(target, os.path.realpath(seeds)):
            return "failed", f"symbolic link leads outside the seeds folder (to {target})"
        try:
            st = os.stat(path)
        except OSError:
            return "failed", "broken symbolic link"
    if stat.S_ISDIR(st.st_mode):
        return "failed", "is a directory, not a file"
    if not stat.S_ISREG(st.st_mode):
        kind = (
            "a FIFO"
            if stat.S_ISFIFO(st.st_mode)
            else "a socket"
            if stat.S_ISSOCK(st.st_mode)
            else "a device node"
            if stat.S_ISBLK(st.st_mode) or stat.S_ISCHR(st.st_mode)
            else "not a regular file"
        )
        return "skipped", f"{kind}, not a regular file: not archived"
    return None


def scan(seeds: Path, paths: list[Path] | None = None) -> tuple[list[SeedFile], list[SeedProblem]]:
    """The seeds to archive (sorted by name) and the entries refused or skipped.

    With ``paths`` only those files (or the files under those directories) are
    considered; each must be inside ``seeds``.
    """
    found: dict[str, SeedFile] = {}
    problems: list[SeedProblem] = []
    roots = [Path(seeds)] if not paths else list(paths)
    for start in roots:
        candidates: list[Path] = []
        if os.path.isdir(start) and not os.path.islink(start):
            for dirpath, dirnames, filenames in os.walk(start, followlinks=False):
                dirnames.sort()
                for entry in sorted(filenames):
                    candidates.append(Path(dirpath) / entry)
                for entry in dirnames:
                    if os.path.islink(os.path.join(dirpath, entry)):
                        candidates.append(Path(dirpath) / entry)
        else:
            candidates.append(start)
        for path in candidates:
            shown = printable(path)
            try:
                name = name_for_path(seeds, path)
            except InvalidNameError as exc:
                problems.append(SeedProblem(exc.name, shown, "failed", exc.reason))
                continue
            problem = _classify(seeds, path)
            if problem is not None:
                if problem[1] == "is a directory, not a file" and os.path.islink(path):
                    problem = ("skipped", "symbolic link to a directory: not followed")
                problems.append(SeedProblem(name, shown, *problem))
                continue
            if name in found and found[name].path != path:
                problems.append(
                    SeedProblem(name, shown, "failed", f"name collides with {found[name].path}")
                )
                continue
            found[name] = SeedFile(name, path)
    return [found[k] for k in sorted(found)], problems


def open_seed(seeds: Path, seed: SeedFile) -> tuple[IO[bytes], os.stat_result]:
    """Open a seed for reading after re-checking it; returns the stream and its fstat."""
    problem = _classify(seeds, seed.path)
    if problem is not None:
        raise InputError(seed.path, problem[1])
    try:
        fd = os.open(seed.path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise InputError(seed.path, exc.strerror or str(exc)) from exc
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise InputError(seed.path, "not a regular file (it changed while we looked)")
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb"), st


def stat_trusted(cached: SeedStat | None, st: os.stat_result, head_sha512: str | None) -> bool:
    """True if the stat cache proves ``st``'s file still has the bytes of ``head_sha512``."""
    return (
        cached is not None
        and head_sha512 is not None
        and cached.sha512 == head_sha512
        and cached.size == st.st_size
        and cached.mtime_ns == st.st_mtime_ns
        and cached.ctime_ns == st.st_ctime_ns
        and cached.inode == st.st_ino
        # "racy" entries: a file modified within the window of the last check may
        # have changed again without changing its timestamps; hash it again.
        and st.st_mtime_ns + RACY_WINDOW_NS < cached.checked_at_ns
    )


def stat_row(name: str, st: os.stat_result, sha256: str, sha512: str) -> dict[str, Any]:
    return {
        "name": name,
        "size": st.st_size,
        "mtime_ns": st.st_mtime_ns,
        "ctime_ns": st.st_ctime_ns,
        "inode": st.st_ino,
        "sha256": sha256,
        "sha512": sha512,
        "checked_at_ns": time.time_ns(),
    }


def same_stat(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_size, a.st_mtime_ns, a.st_ctime_ns, a.st_ino) == (
        b.st_size,
        b.st_mtime_ns,
        b.st_ctime_ns,
        b.st_ino,
    )
