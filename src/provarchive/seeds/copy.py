"""Putting files into the seeds folder (``provarchive add``), and cleaning up after a crash.

Contract:
- :func:`copy_into_seeds` places one file under its document name: the target
  is resolved by :func:`provarchive.seeds.paths.locate_new` (never through a
  link, never out of the folder), written to a temporary file in the target
  folder, fsynced and renamed over the target, so a seed is never half-copied.
  Different content is never overwritten without ``replace``; identical content
  is a no-op. A name that ingest would ignore, or (given ``store_root``) that
  the store cannot hold, is refused before anything is written.
- The temporary file is named ``.provarchive-tmp-<pid>-<16 hex>``: ingest always
  ignores that name (issue #19), and :func:`remove_stale_temp_files` deletes
  exactly such files once their writer is gone, never anything else.
- :func:`expand_add_sources` turns ``add FILE...`` / ``add -r DIR`` /
  ``--into FOLDER`` into (source, document name) pairs, leaving out what
  ingest would ignore and never descending into links, archives or the seeds
  folder itself.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import secrets
import stat
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO

from ..errors import InputError, InvalidNameError, StorageError, UsageError
from ..store import durable
from .ignore import TEMP_PREFIX, IgnoreRules, archive_kind, is_temp_name, temp_pid
from .limits import check_storable
from .names import display_name, validate_name
from .paths import locate_new, real_root
from .scanner import FAILED, IGNORED, LINK_TO_FOLDER, SKIPPED, TEMP_REASON, SeedProblem

log = logging.getLogger(__name__)

CHUNK = 1024 * 1024
STALE_AFTER = 15 * 60.0
"""Seconds after its last write when a temporary file is stale even if its pid is alive
(the pid may have been reused); a copy in progress writes continuously."""


# -- copy -------------------------------------------------------------------------------------


def _open_source(source: Path) -> IO[bytes]:
    shown = display_name(source)
    try:
        fd = os.open(source, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise InputError(shown, "no such file") from None
    except OSError as exc:
        raise InputError(shown, exc.strerror or str(exc)) from exc
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise InputError(shown, "not a regular file")
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def _same_bytes(a: IO[bytes], b: IO[bytes]) -> bool:
    while True:
        x, y = a.read(CHUNK), b.read(CHUNK)
        if x != y:
            return False
        if not x:
            return True


def _unchanged(src: IO[bytes], source: Path, target: Path, replace: bool) -> bool:
    """True if ``target`` already holds ``src``'s bytes; raise if it may not be replaced."""
    try:
        st = os.lstat(target)
    except FileNotFoundError:
        return False
    shown = display_name(target)
    if not stat.S_ISREG(st.st_mode):
        raise InputError(display_name(source), f"{shown} exists and is not a regular file")
    mine = os.fstat(src.fileno())
    if (mine.st_dev, mine.st_ino) == (st.st_dev, st.st_ino):
        return True
    if mine.st_size == st.st_size:
        with open(target, "rb") as existing:
            if _same_bytes(src, existing):
                return True
        src.seek(0)
    if not replace:
        raise InputError(
            display_name(source),
            f"{shown} already exists with different content "
            "(use --replace to archive it as a new version)",
        )
    return False


def _too_long(exc: BaseException) -> bool:
    cause = exc.__cause__ if isinstance(exc, StorageError) else exc
    return isinstance(cause, OSError) and cause.errno == errno.ENAMETOOLONG


def _write(src: IO[bytes], source: Path, target: Path) -> None:
    """Copy ``src`` to a temporary file beside ``target``, fsync, rename over it."""
    folder = target.parent
    tmp = folder / f"{TEMP_PREFIX}{os.getpid()}-{secrets.token_hex(8)}"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    try:
        with durable.storage_errors(target):
            fd = os.open(tmp, flags, 0o666)
        with os.fdopen(fd, "wb") as dst:
            while True:
                try:
                    chunk = src.read(CHUNK)
                except OSError as exc:
                    raise InputError(display_name(source), exc.strerror or str(exc)) from exc
                if not chunk:
                    break
                with durable.storage_errors(target):
                    dst.write(chunk)
            with durable.storage_errors(target):
                dst.flush()
                os.fsync(dst.fileno())
        with durable.storage_errors(target):
            os.replace(tmp, target)
            durable.fsync_dir(folder)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def copy_into_seeds(
    seeds: Path,
    source: Path,
    name: str,
    *,
    replace: bool,
    store_root: Path | None = None,
    rules: IgnoreRules | None = None,
) -> Path:
    """Put ``source`` into the seeds folder as the document ``name``; returns the seed's path.

    The document's name is ``validate_name(name)``. Raises InvalidNameError
    (the name is refused: invalid, ignored by ingest, not storable, leads
    through a link, collides), InputError (the source cannot be read, or the
    target exists with other content and ``replace`` is false) or StorageError
    (the seeds folder cannot be written)."""
    canonical = validate_name(name)
    shown = display_name(canonical)
    rules = rules or IgnoreRules.load(seeds)
    if (reason := rules.match_path(canonical, is_dir=False)) is not None:
        raise InvalidNameError(
            shown,
            f"ingest would ignore it ({reason}): choose another name, "
            "or re-include it in .provarchiveignore",
        )
    if store_root is not None:
        check_storable(canonical, store_root)
    located = locate_new(seeds, canonical)
    target = located.path
    with _open_source(source) as src:
        if _unchanged(src, source, target, replace):
            return target
        try:
            durable.make_dirs(target.parent)
            if os.path.realpath(target.parent) != str(target.parent):
                raise InvalidNameError(shown, "a folder on its path changed into a link")
            _write(src, source, target)
        except StorageError as exc:
            if _too_long(exc):
                raise InvalidNameError(
                    shown, "the path is too long for the seeds folder's file system"
                ) from exc
            raise
    return target


# -- recovery ---------------------------------------------------------------------------------

Verdict = tuple[str, str]
"""(status, reason) of an entry left out."""
Entry = tuple[str, "os.DirEntry[str] | None", "Verdict | None"]
"""(relative path, the entry or None if its folder could not be read, verdict or None)."""


def _tree(top: str, skip: Callable[[str, os.DirEntry[str]], Verdict | None]) -> Iterator[Entry]:
    """Every entry below the folder ``top`` that is not a folder to walk (verdict None),
    every folder ``skip`` gives a verdict on, and every unreadable folder (entry None).
    Links are never followed."""
    stack = [""]
    while stack:
        rel_dir = stack.pop()
        try:
            with os.scandir(os.path.join(top, rel_dir) if rel_dir else top) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            yield rel_dir, None, (FAILED, f"cannot read the folder: {exc.strerror or exc}")
            continue
        folders = []
        for entry in entries:
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            try:
                folder = entry.is_dir(follow_symlinks=False)
            except OSError:
                folder = False
            if not folder:
                yield rel, entry, None
            elif (verdict := skip(rel, entry)) is not None:
                yield rel, entry, verdict
            else:
                folders.append(rel)
        stack.extend(reversed(folders))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def remove_stale_temp_files(
    seeds: Path, *, max_age: float = STALE_AFTER, rules: IgnoreRules | None = None
) -> list[str]:
    """Delete the temporary files left by interrupted copies; returns what was removed.

    Only files named exactly as :func:`copy_into_seeds` names them are touched,
    and only when the process that wrote them is gone or they have not been
    written for ``max_age`` seconds. Run it under the writer lock. Folders that
    are ignored, archives and links are not searched (no copy writes there).
    Each entry returned is the path relative to the seeds folder, as
    :func:`display_name` shows it."""
    try:
        root = real_root(seeds)
    except InputError:
        return []
    if rules is None:
        try:
            rules = IgnoreRules.load(seeds)
        except UsageError:
            rules = IgnoreRules.defaults()
    active = rules

    def skip(rel: str, entry: os.DirEntry[str]) -> Verdict | None:
        if (reason := active.match(rel, is_dir=True)) is not None:
            return IGNORED, reason
        with contextlib.suppress(OSError):
            if (kind := archive_kind(set(os.listdir(entry.path)), Path(entry.path))) is not None:
                return IGNORED, kind
        return None

    removed: list[str] = []
    now = time.time()
    for rel, entry, verdict in _tree(root, skip):
        if entry is None or verdict is not None or not is_temp_name(entry.name):
            continue
        pid = temp_pid(entry.name)
        try:
            st = entry.stat(follow_symlinks=False)
            if not stat.S_ISREG(st.st_mode):
                continue
            if pid is not None and _alive(pid) and now - st.st_mtime < max_age:
                continue
            os.unlink(entry.path)
        except OSError as exc:
            log.warning("could not remove %s: %s", display_name(rel), exc)
            continue
        removed.append(display_name(rel))
    return removed


# -- add sources ------------------------------------------------------------------------------


class _Plan:
    """What ``add`` will copy, and what it leaves out."""

    def __init__(self, rules: IgnoreRules, seeds_id: tuple[int, int] | None) -> None:
        self.rules = rules
        self.seeds_id = seeds_id
        self.pairs: list[tuple[Path, str]] = []
        self.problems: list[SeedProblem] = []
        self.sources: dict[str, Path] = {}

    def refuse(self, name: str, source: Path, status: str, reason: str) -> None:
        self.problems.append(SeedProblem(display_name(name), display_name(source), status, reason))

    def add(self, source: Path, name: str, *, ignored: str | None = None) -> None:
        try:
            canonical = validate_name(name)
        except InvalidNameError as exc:
            self.refuse(name, source, FAILED, exc.reason)
            return
        reason = ignored or self.rules.match_path(canonical, is_dir=False)
        if reason is not None:
            self.refuse(canonical, source, IGNORED, reason)
        elif canonical in self.sources:
            self.refuse(
                canonical, source, FAILED,
                f"{display_name(self.sources[canonical])} is added under the same name",
            )  # fmt: skip
        else:
            self.sources[canonical] = source
            self.pairs.append((source, canonical))

    def skip_folder(self, prefix: str, rel: str, entry: os.DirEntry[str]) -> Verdict | None:
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError as exc:
            return FAILED, exc.strerror or str(exc)
        if self.seeds_id == (st.st_dev, st.st_ino):
            return IGNORED, "the seeds folder itself"
        with contextlib.suppress(OSError):
            kind = archive_kind(set(os.listdir(entry.path)), Path(entry.path))
            if kind is not None:
                return IGNORED, f"{kind}: never archived, not descended into"
        reason = self.rules.match(_join(prefix, rel), is_dir=True)
        return (IGNORED, reason) if reason is not None else None

    def folder(self, top: Path, prefix: str) -> None:
        real = os.path.realpath(top)
        for rel, entry, verdict in _tree(real, lambda r, e: self.skip_folder(prefix, r, e)):
            source = Path(top, rel) if rel else top
            if verdict is not None or entry is None:
                self.refuse(_join(prefix, rel) + "/", source, *(verdict or (FAILED, "unreadable")))
            elif is_temp_name(entry.name):
                self.refuse(_join(prefix, rel), source, IGNORED, TEMP_REASON)
            else:
                self.entry(source, _join(prefix, rel))

    def entry(self, source: Path, name: str) -> None:
        try:
            st = os.stat(source)
        except OSError as exc:
            broken = os.path.islink(source) and isinstance(exc, FileNotFoundError)
            self.refuse(
                name, source, FAILED, "broken symbolic link" if broken else exc.strerror or str(exc)
            )
            return
        if stat.S_ISDIR(st.st_mode):
            self.refuse(name, source, SKIPPED, LINK_TO_FOLDER)
        elif not stat.S_ISREG(st.st_mode):
            self.refuse(name, source, SKIPPED, "not a regular file: not added")
        else:
            self.add(source, name)


def _join(prefix: str, rel: str) -> str:
    return "/".join(p for p in (prefix, rel) if p)


def within_archive(source: Path, known: dict[Path, str | None] | None = None) -> str | None:
    """Why ``source`` (a file or folder given to ``add``) is part of an archive, or None:
    an archive's own files (its catalog, its private signing key) are never archived.
    ``known`` keeps each folder's verdict, so that many files of one folder list it once."""
    known = {} if known is None else known
    here = Path(os.path.realpath(source))
    for directory in (here, *here.parents):
        if directory not in known:
            try:
                known[directory] = archive_kind(set(os.listdir(directory)), directory)
            except OSError:
                known[directory] = None
        kind = known[directory]
        if kind is not None:
            return f"it is part of {kind} ({display_name(directory)}): never archived"
    return None


def expand_add_sources(
    files: Sequence[Path],
    recursive: bool = False,
    *,
    into: str | None = None,
    seeds: Path | None = None,
    rules: IgnoreRules | None = None,
) -> tuple[list[tuple[Path, str]], list[SeedProblem]]:
    """(source, document name) for each file ``add`` should copy, and what it leaves out.

    A FILE is named by its base name; with ``recursive`` a folder DIR adds every
    file below it as ``DIR's name/relative path``; ``into`` puts all of them under
    that folder of the seeds folder. Entries ingest would ignore (by ``rules``,
    default: the seeds folder's) are left out as ``ignored``; links to folders,
    archives and the ``seeds`` folder itself are not descended into. Raises
    InvalidNameError if ``into`` is not a valid folder name (one trailing "/", as a
    folder is often written, is allowed: ``--into 2026/``)."""
    folder = into[:-1] if into and len(into) > 1 and into.endswith("/") else into
    prefix = validate_name(folder) if folder else ""
    if rules is None:
        rules = IgnoreRules.load(seeds) if seeds is not None else IgnoreRules.defaults()
    seeds_id = None
    if seeds is not None:
        with contextlib.suppress(OSError):
            st = os.stat(seeds)
            seeds_id = (st.st_dev, st.st_ino)
    plan = _Plan(rules, seeds_id)
    folders: dict[Path, str | None] = {}
    for file in files:
        source = Path(file)
        base = Path(os.path.abspath(source)).name
        name = _join(prefix, base)
        if (inside := within_archive(source, folders)) is not None:
            plan.refuse(name, source, FAILED, inside)
        elif recursive and os.path.isdir(source):
            if seeds_id is not None and os.path.samefile(source, seeds or source):
                plan.refuse(name + "/", source, IGNORED, "the seeds folder itself")
            else:
                plan.folder(source, name)
        elif os.path.isdir(source):
            plan.refuse(name + "/", source, FAILED, "is a folder: use -r to add the files it holds")
        elif not os.path.lexists(source):
            plan.refuse(name, source, FAILED, "no such file")
        else:
            plan.entry(source, name)
    return plan.pairs, plan.problems
