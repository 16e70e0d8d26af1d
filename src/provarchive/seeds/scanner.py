"""Listing the seeds folder: what to archive, and every entry that will not be, with why.

Contract:
- :func:`scan` lists the seeds to archive without opening them: regular files,
  and symbolic links that resolve to a regular file inside the folder (archived
  under the link's own name). Every other entry becomes a :class:`SeedProblem`:
  ``failed`` (an error the user should fix: a link leading out, a bad or
  colliding name, a name too long for the store, an unreadable folder),
  ``skipped`` (FIFOs, sockets, device nodes, links to folders: never opened, so
  nothing can block) or ``ignored`` (see :mod:`provarchive.seeds.ignore`).
- Ignored folders, archives found inside the folder and links to folders are
  never descended into; the walk never leaves the real seeds folder.
- Names that differ only in Unicode normalisation are all refused, each with a
  reason naming the others; a folder so named is refused whole.
- Given ``store_root``, a seed whose name the store cannot hold is refused before
  anything is staged (:mod:`provarchive.seeds.limits`).
- :func:`open_seed` re-checks at open time (the folder may change under us) and
  opens beneath the real seeds folder without following a link or a FIFO.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from ..errors import InputError, InvalidNameError
from .ignore import IgnoreRules, archive_kind, is_temp_name
from .limits import StoreLimits
from .names import collision_reason, display_name, nfc, nfc_collisions, validate_name
from .paths import inside, locate, open_beneath, real_root

FAILED = "failed"
SKIPPED = "skipped"
IGNORED = "ignored"
TEMP_REASON = "temporary file of an unfinished copy into the seeds folder (recovery removes it)"
LINK_TO_FOLDER = "symbolic link to a directory: not followed"


@dataclass(frozen=True, slots=True)
class SeedFile:
    """A file to archive: its document name and where it is on disk."""

    name: str
    path: Path


@dataclass(frozen=True, slots=True)
class SeedProblem:
    """A seeds-folder entry that will not be archived, and why.

    ``name`` is the entry's name relative to the seeds folder as
    :func:`display_name` shows it (a folder ends with ``/``); ``path`` likewise
    shows where it is. Neither holds a raw control character."""

    name: str
    path: str
    status: str  # "failed" | "skipped" | "ignored"
    reason: str


def _special_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISBLK(mode) or stat.S_ISCHR(mode):
        return "a device node"
    return "not a regular file"


def classify(
    root: str, path: Path, entry: os.DirEntry[str] | None = None
) -> tuple[str, str] | None:
    """None if ``path`` is archivable, else (status, reason). Never opens the file.

    ``root`` is the real seeds folder; ``entry``, when the caller has it from a
    folder listing, saves a system call for plain files."""
    try:
        if entry is not None and entry.is_file(follow_symlinks=False):
            return None
        st = os.lstat(path)
    except FileNotFoundError:
        return FAILED, "no such file"
    except OSError as exc:
        return FAILED, exc.strerror or str(exc)
    link = stat.S_ISLNK(st.st_mode)
    if link:
        try:
            target = os.path.realpath(path)
        except OSError as exc:  # e.g. a link into /proc that this user may not follow
            return FAILED, f"symbolic link cannot be followed: {exc.strerror or exc}"
        if not inside(target, root):
            return (
                FAILED,
                f"symbolic link leads outside the seeds folder (to {display_name(target)})",
            )
        try:
            st = os.stat(path)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                return FAILED, "symbolic link loop"
            return FAILED, f"broken symbolic link (to {display_name(os.readlink(path))})"
    if stat.S_ISDIR(st.st_mode):
        return (SKIPPED, LINK_TO_FOLDER) if link else (FAILED, "is a directory, not a file")
    if not stat.S_ISREG(st.st_mode):
        return SKIPPED, f"{_special_kind(st.st_mode)}, not a regular file: not archived"
    return None


class _Scan:
    """One scan: the walk, its caches, and what it found."""

    def __init__(
        self,
        seeds: Path,
        rules: IgnoreRules,
        limits: StoreLimits | None,
        exclude: Iterable[Path],
    ) -> None:
        self.seeds = Path(seeds)
        self.root = real_root(seeds)
        self.rules = rules
        self.limits = limits
        self.excluded: set[tuple[int, int]] = set()
        for path in exclude:
            try:
                st = os.stat(path)
            except OSError:
                continue
            self.excluded.add((st.st_dev, st.st_ino))
        self.found: dict[str, SeedFile] = {}
        self.problems: list[SeedProblem] = []
        self.handled: set[str] = set()
        self.listings: dict[str, dict[str, os.DirEntry[str]] | None] = {}
        self.clashes: dict[str, dict[str, list[str]]] = {}

    # -- reporting ---------------------------------------------------------------------

    def report(self, rel: str, status: str, reason: str, *, folder: bool = False) -> None:
        shown = (
            display_name(nfc(rel)) + ("/" if folder else "") if rel else display_name(self.seeds)
        )
        self.problems.append(SeedProblem(shown, display_name(self.seeds / rel), status, reason))

    # -- folders -----------------------------------------------------------------------

    def listing(self, rel_dir: str) -> dict[str, os.DirEntry[str]] | None:
        """The entries of a folder (read once), or None if it cannot be read (reported)."""
        if rel_dir not in self.listings:
            try:
                with os.scandir(os.path.join(self.root, rel_dir)) as it:
                    self.listings[rel_dir] = {e.name: e for e in it}
            except OSError as exc:
                self.listings[rel_dir] = None
                reason = exc.strerror or str(exc)
                self.report(rel_dir, FAILED, f"cannot read the folder: {reason}", folder=True)
        return self.listings[rel_dir]

    def collisions(self, rel_dir: str) -> dict[str, list[str]]:
        if rel_dir not in self.clashes:
            self.clashes[rel_dir] = nfc_collisions(list(self.listings.get(rel_dir) or ()))
        return self.clashes[rel_dir]

    def folder_problem(self, rel: str, entry: os.DirEntry[str]) -> bool:
        """Report and return True if the folder at ``rel`` must not be descended into."""
        if self.excluded and self.is_excluded(entry):
            self.report(rel, IGNORED, "the archive's own folder", folder=True)
            return True
        names = self.listing(rel)
        if names is None:
            return True
        kind = archive_kind(set(names), Path(self.root, rel))
        if kind is not None:
            self.report(rel, IGNORED, f"{kind}: never archived, not descended into", folder=True)
            return True
        return False

    def is_excluded(self, entry: os.DirEntry[str]) -> bool:
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            return False
        return (st.st_dev, st.st_ino) in self.excluded

    def walk(self, start: str) -> None:
        """Visit every entry below the folder ``start`` (relative; "" is the seeds folder)."""
        stack = [start]
        while stack:
            rel_dir = stack.pop()
            entries = self.listing(rel_dir)
            if entries is None:
                continue
            folders = [sub for n in sorted(entries) if (sub := self.visit(rel_dir, entries[n]))]
            # Done with this folder: drop its listing so memory stays flat on big trees.
            self.listings.pop(rel_dir, None)
            self.clashes.pop(rel_dir, None)
            stack.extend(reversed(folders))

    # -- entries -----------------------------------------------------------------------

    def visit(self, rel_dir: str, entry: os.DirEntry[str]) -> str | None:
        """Judge one entry of ``rel_dir``; returns its path if it is a folder to walk."""
        raw = entry.name
        rel = f"{rel_dir}/{raw}" if rel_dir else raw
        if rel in self.handled:
            return None
        self.handled.add(rel)
        if is_temp_name(raw):
            self.report(rel, IGNORED, TEMP_REASON)
            return None
        try:
            folder = entry.is_dir(follow_symlinks=False)
        except OSError:
            folder = False
        reason = self.rules.match(rel, is_dir=folder)
        if reason is not None:
            self.report(rel, IGNORED, reason, folder=folder)
            return None
        if folder and self.folder_problem(rel, entry):
            return None
        try:
            name = validate_name(rel)
        except InvalidNameError as exc:
            self.report(rel, FAILED, exc.reason, folder=folder)
            return None
        others = self.collisions(rel_dir).get(raw)
        if others:
            self.report(rel, FAILED, collision_reason(raw, others, folder=folder), folder=folder)
            return None
        if folder:
            return rel
        self.add_file(rel, name, entry)
        return None

    def add_file(self, rel: str, name: str, entry: os.DirEntry[str] | None) -> None:
        path = self.seeds / rel
        problem = classify(self.root, path, entry)
        if problem is not None:
            self.report(rel, *problem)
            return
        if self.limits is not None and (reason := self.limits.problem(name)) is not None:
            self.report(rel, FAILED, f"cannot be stored: {reason}")
            return
        if name in self.found and self.found[name].path != path:
            # Only a folder changing while we walk can get here (collisions are refused above).
            self.report(rel, FAILED, f"name collides with {display_name(self.found[name].path)}")
            return
        self.found[name] = SeedFile(name, path)

    # -- paths given by the user -------------------------------------------------------

    def given(self, candidate: Path) -> None:
        """Scan one ``ingest PATH`` argument: a file, or every file under a folder."""
        try:
            rel = locate(self.seeds, candidate, root=self.root).rel
        except (InvalidNameError, InputError) as exc:
            name = exc.name if isinstance(exc, InvalidNameError) else display_name(candidate)
            self.problems.append(SeedProblem(name, display_name(candidate), FAILED, exc.reason))
            return
        if not rel:
            self.walk("")
            return
        parts = rel.split("/")
        for depth in range(1, len(parts)):
            if self.ancestor_problem(rel, parts, depth):
                return
        parent = "/".join(parts[:-1])
        entries = self.listing(parent)
        entry = entries.get(parts[-1]) if entries is not None else None
        if entry is None:
            if entries is not None:
                self.report(rel, FAILED, "no such file")
            return
        folder = self.visit(parent, entry)
        if folder is not None:
            self.walk(folder)

    def ancestor_problem(self, rel: str, parts: list[str], depth: int) -> bool:
        """Report ``rel`` and return True if its folder ``parts[:depth]`` keeps it out."""
        folder = "/".join(parts[:depth])
        shown = display_name(nfc(folder))
        reason = self.rules.match(folder, is_dir=True)
        if reason is not None:
            self.report(rel, IGNORED, f"inside {shown}/ ({reason})")
            return True
        entries = self.listing(folder)
        if entries is None:
            return True
        kind = archive_kind(set(entries), Path(self.root, folder))
        if kind is not None:
            self.report(rel, IGNORED, f"inside {kind} at {display_name(self.seeds / folder)}")
            return True
        parent = "/".join(parts[: depth - 1])
        if self.listing(parent) is not None and (
            others := self.collisions(parent).get(parts[depth - 1])
        ):
            self.report(
                rel, FAILED, "inside " + collision_reason(parts[depth - 1], others, folder=True)
            )
            return True
        return False


def scan(
    seeds: Path,
    paths: Sequence[Path] | None = None,
    *,
    store_root: Path | None = None,
    rules: IgnoreRules | None = None,
    exclude: Iterable[Path] = (),
) -> tuple[list[SeedFile], list[SeedProblem]]:
    """The seeds to archive (sorted by name) and the entries failed, skipped or ignored.

    With ``paths`` only those files (or the files under those folders) are
    considered; each is resolved by :func:`provarchive.seeds.paths.locate` and
    must be inside ``seeds``. ``store_root`` enables the storability check;
    ``rules`` defaults to :meth:`IgnoreRules.load` (which raises UsageError on a
    broken ignore file); folders in ``exclude`` (the archive home, say) are
    never descended into. A seeds folder that does not exist holds nothing (each
    of ``paths`` is then refused with that reason)."""
    limits = StoreLimits.probe(store_root) if store_root is not None else None
    try:
        run = _Scan(seeds, rules or IgnoreRules.load(seeds), limits, exclude)
    except InputError as exc:
        shown = [display_name(p) for p in paths or ()]
        return [], [SeedProblem(s, s, FAILED, exc.reason) for s in shown]
    if not paths:
        run.walk("")
    else:
        for candidate in paths:
            run.given(Path(candidate))
    return [run.found[k] for k in sorted(run.found)], run.problems


def open_seed(seeds: Path, seed: SeedFile) -> tuple[IO[bytes], os.stat_result]:
    """Open a seed for reading after re-checking it; returns the stream and its fstat."""
    shown = display_name(seed.path)
    root = real_root(seeds)
    problem = classify(root, seed.path)
    if problem is not None:
        raise InputError(shown, problem[1])
    real = os.path.realpath(seed.path)
    if not inside(real, root) or real == root:
        raise InputError(shown, "not inside the seeds folder (it changed while we looked)")
    try:
        fd = open_beneath(root, os.path.relpath(real, root), os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            raise InputError(shown, "a folder on its path changed while we looked") from exc
        raise InputError(shown, exc.strerror or str(exc)) from exc
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise InputError(shown, "not a regular file (it changed while we looked)")
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb"), st
