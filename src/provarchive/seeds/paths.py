"""Turning a user's path into a place inside the seeds folder: the one resolver.

Contract:
- :func:`resolve_in_seeds` is the single function through which every user path
  reaches the seeds folder: an ``ingest PATH`` argument (absolute, relative to
  the current directory, else to the seeds folder) or an ``--as NAME`` target
  that may not exist yet. Every folder on the way is resolved (symbolic links
  followed) and the result must lie inside the *real* seeds folder, or it is
  refused with a one-line reason naming the link that leads out (issue #20:
  ``--as link/newdir/x.txt`` wrote outside; ``ingest seeds/etclink/passwd``
  archived ``/etc/passwd``).
- For an ``--as`` target no symbolic link is followed at all: a link inside the
  folder would make the document's name differ from the path ingest later finds
  it at, so it is refused with the real folder to use instead. Existing folders
  are matched up to Unicode normalisation, so ``--as café/x`` lands in the
  ``café`` folder however it is spelt on disk, and refused if two spellings exist.
- :func:`open_beneath` opens a file one segment at a time from the real seeds
  folder with ``O_NOFOLLOW``: a folder swapped for a link between the check and
  the open is refused instead of followed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError, InvalidNameError
from .ignore import archive_kind
from .names import collision_reason, display_name, nfc, validate_name

_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | _CLOEXEC


def inside(path: str, root: str) -> bool:
    """True if ``path`` is ``root`` or below it (both absolute and normalised)."""
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def real_root(seeds: Path) -> str:
    """The seeds folder with every symbolic link resolved; it must exist."""
    root = os.path.realpath(seeds)
    if not os.path.isdir(root):
        reason = "is not a folder" if os.path.lexists(root) else "does not exist"
        raise InputError(display_name(seeds), f"the seeds folder {reason}")
    return root


def name_for_path(seeds: Path, path: Path) -> str:
    """The document name of ``path`` (which must lie inside ``seeds``, links not followed)."""
    root = os.path.abspath(seeds)
    absolute = os.path.abspath(path)
    if not inside(absolute, root) or absolute == root:
        raise InvalidNameError(
            display_name(path),
            f"not inside the seeds folder {display_name(seeds)} (use 'provarchive add')",
        )
    relative = os.path.relpath(absolute, root)
    return validate_name(Path(relative).as_posix())


@dataclass(frozen=True, slots=True)
class Located:
    """A place inside the seeds folder."""

    root: str
    """The real seeds folder."""
    rel: str
    """Relative POSIX path below ``root`` as spelt on disk; "" for the folder itself."""

    @property
    def path(self) -> Path:
        return Path(self.root, self.rel) if self.rel else Path(self.root)


def _shown_link(seeds: Path, root: str, link: str) -> str:
    rel = os.path.relpath(
        os.path.join(os.path.realpath(os.path.dirname(link)), os.path.basename(link)), root
    )
    return display_name(Path(seeds) / rel)


def escape_reason(seeds: Path, root: str, path: str) -> str:
    """Why ``path`` (absolute, existing) is not inside the real seeds folder."""
    probe = os.sep
    for part in path.split(os.sep):
        probe = os.path.join(probe, part)
        if not part or not os.path.islink(probe):
            continue
        target = os.path.realpath(probe)
        if inside(os.path.realpath(os.path.dirname(probe)), root) and not inside(target, root):
            return (
                f"{_shown_link(seeds, root, probe)} is a symbolic link to "
                f"{display_name(target)}, outside the seeds folder"
            )
    return f"not inside the seeds folder {display_name(seeds)} (use 'provarchive add')"


def _absolute(seeds: Path, candidate: Path) -> Path:
    """The candidate as an absolute path: as given, else from the current directory,
    else from the seeds folder (whichever exists first)."""
    if candidate.is_absolute():
        found = [candidate]
    else:
        found = [Path.cwd() / candidate, Path(os.path.abspath(seeds)) / candidate]
    for path in found:
        if os.path.lexists(path):
            return path
    raise InputError(display_name(candidate), "no such file")


def locate(seeds: Path, candidate: Path | str, *, root: str | None = None) -> Located:
    """Where an existing ``candidate`` is inside the seeds folder; its last segment is
    not followed (a link there is for the caller to judge). Raises InputError or
    InvalidNameError (leads outside)."""
    root = root or real_root(seeds)
    path = _absolute(seeds, Path(candidate))
    if path.name in ("", ".", ".."):
        path = Path(os.path.realpath(path))
    try:
        parent = os.path.realpath(path.parent, strict=True)
    except OSError as exc:
        raise InputError(display_name(candidate), exc.strerror or str(exc)) from exc
    entry = os.path.join(parent, path.name) if path.name else parent
    if not inside(entry, root):
        raise InvalidNameError(display_name(candidate), escape_reason(seeds, root, str(path)))
    return Located(root, "" if entry == root else Path(os.path.relpath(entry, root)).as_posix())


def _listing(directory: str) -> list[str]:
    try:
        return os.listdir(directory)
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise InputError(display_name(directory), exc.strerror or str(exc)) from exc


def locate_new(seeds: Path, name: str, *, root: str | None = None) -> Located:
    """Where the document ``name`` (an ``--as`` target) goes; see the module docstring."""
    canonical = validate_name(name)
    root = root or real_root(seeds)
    shown = display_name(canonical)
    spelt: list[str] = []
    current: str | None = root
    segments = canonical.split("/")
    for depth, segment in enumerate(segments):
        if current is None:  # below a folder that does not exist yet
            spelt.append(segment)
            continue
        names = _listing(current)
        if depth and (kind := archive_kind(set(names), Path(current))):
            raise InvalidNameError(
                shown, f"it would land inside {kind} at {display_name(Path(seeds, *spelt))}"
            )
        matches = sorted(n for n in names if nfc(n) == segment)
        if len(matches) > 1:
            raise InvalidNameError(shown, collision_reason(matches[0], matches[1:]))
        raw = matches[0] if matches else segment
        spelt.append(raw)
        path = os.path.join(current, raw)
        last = depth == len(segments) - 1
        if not matches or last:
            current = None
            continue
        if os.path.islink(path):
            target = os.path.realpath(path)
            if not inside(target, root):
                reason = f"{display_name(Path(seeds, *spelt))} is a symbolic link to {display_name(target)}, outside the seeds folder"
            else:
                real = Path(os.path.relpath(target, root)).as_posix()
                reason = (
                    f"{display_name(Path(seeds, *spelt))} is a symbolic link (to "
                    f"{display_name(real)}): name the real folder instead"
                )
            raise InvalidNameError(shown, reason)
        if not os.path.isdir(path):
            raise InvalidNameError(
                shown, f"{display_name(Path(seeds, *spelt))} exists and is not a folder"
            )
        current = path
    return Located(root, "/".join(spelt))


def resolve_in_seeds(seeds: Path, candidate: Path | str, *, new: bool = False) -> tuple[Path, str]:
    """(real path, document name) of a user path inside the seeds folder, or raise.

    ``new=False``: ``candidate`` is an existing file or folder (an ``ingest PATH``
    argument); if it is a symbolic link, its target must be inside the folder
    too, but the returned path is the link's own (its name is the document's).
    The name is "" for the seeds folder itself.

    ``new=True``: ``candidate`` is a document name (``--as NAME``); the returned
    path is where the file goes, its folders possibly not created yet.

    Raises InvalidNameError (the path or name is not acceptable: it leads out of
    the folder, is not a valid name, collides) or InputError (it does not exist,
    a folder cannot be read)."""
    if new:
        located = locate_new(seeds, str(candidate))
        return located.path, validate_name(located.rel)
    located = locate(seeds, candidate)
    path = located.path
    if os.path.islink(path):
        target = os.path.realpath(path)
        if not inside(target, located.root):
            raise InvalidNameError(
                display_name(candidate),
                f"symbolic link leads outside the seeds folder (to {display_name(target)})",
            )
    return path, validate_name(located.rel) if located.rel else ""


def open_beneath(root: str, rel: str, flags: int) -> int:
    """Open ``root/rel`` without following any symbolic link below ``root``.

    ``rel`` must be a path with every link already resolved: meeting one means
    the folder changed since it was checked (``ELOOP`` or ``ENOTDIR``)."""
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | _CLOEXEC)
    try:
        *folders, last = rel.split("/")
        for folder in folders:
            inner = os.open(folder, _DIR_FLAGS, dir_fd=fd)
            os.close(fd)
            fd = inner
        return os.open(last, flags | os.O_NOFOLLOW | _CLOEXEC, dir_fd=fd)
    finally:
        os.close(fd)
