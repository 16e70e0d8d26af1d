"""What the seeds folder holds that is never archived.

Contract:
- :class:`IgnoreRules` are gitignore rules (matched by ``pathspec``, which
  replicates Git's own edge cases): built-in defaults first, then the lines of
  ``.provarchiveignore`` in the seeds folder, so a line of the file overrides a
  default, and a negation (``!important.swp``) re-includes. As in Git, a file
  inside an ignored folder cannot be re-included: the folder is never read.
- The defaults skip dotfiles and dot-folders (``.git/``, ``.DS_Store``, the
  ignore file itself), editor backups and swap files (``*~``, ``*.swp``,
  ``*.swo``, ``#*#``) and OS litter (``Thumbs.db``, ``desktop.ini``,
  ``__MACOSX/``, ...): issue #13 found all of them archived for ever.
- Two kinds of entry are ignored whatever the rules say: the temporary files
  of :func:`provarchive.seeds.copy.copy_into_seeds` (:func:`is_temp_name`), and
  a folder that is a provarchive archive or an OCFL storage root
  (:func:`archive_kind`), which is never descended into.
- Every match comes with a reason naming the rule ("default: dotfile",
  "matches '*.swp' in .provarchiveignore (line 3)").
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import pathspec

from ..errors import UsageError
from .names import display_name, nfc

IGNORE_FILE = ".provarchiveignore"
TEMP_PREFIX = ".provarchive-tmp-"
_TEMP_RE = re.compile(r"\.provarchive-tmp-(\d{1,10})-[0-9a-f]{16}")

DEFAULT_RULES: tuple[tuple[str, str], ...] = (
    (".*", "dotfile"),
    ("*~", "editor backup (*~)"),
    ("*.swp", "editor swap file (*.swp)"),
    ("*.swo", "editor swap file (*.swo)"),
    ("\\#*#", "editor autosave file (#*#)"),
    ("Thumbs.db", "OS litter (Thumbs.db)"),
    ("ehthumbs.db", "OS litter (ehthumbs.db)"),
    ("desktop.ini", "OS litter (desktop.ini)"),
    ("__MACOSX/", "OS litter (__MACOSX/)"),
    ("$RECYCLE.BIN/", "OS litter ($RECYCLE.BIN/)"),
)
"""(gitignore pattern, reason) of every built-in rule, in the order they apply."""


def is_temp_name(name: str) -> bool:
    """True for the name of a temporary file written by ``copy_into_seeds``."""
    return _TEMP_RE.fullmatch(name) is not None


def temp_pid(name: str) -> int | None:
    """The process id recorded in a temporary file's name, or None if it is not one."""
    match = _TEMP_RE.fullmatch(name)
    return int(match.group(1)) if match else None


_ARCHIVE_PARTS = frozenset({"ocfl", "staging", "index", "writer.lock"})


def archive_kind(names: set[str], directory: Path) -> str | None:
    """What kind of archive a folder holding ``names`` is, or None.

    A provarchive home has ``provarchive.json`` beside its parts, or
    ``writer.lock`` beside ``ocfl/`` or ``staging/``, or an ``ocfl/`` storage
    root; an OCFL storage root has its ``0=ocfl_1.x`` declaration. A lone
    ``provarchive.json`` is an ordinary file (it may be a document)."""
    if any(n.startswith("0=ocfl_1.") for n in names):
        return "an OCFL storage root"
    if "provarchive.json" in names and (
        names & _ARCHIVE_PARTS or any(n.startswith("catalog") for n in names)
    ):
        return "a provarchive archive"
    if "writer.lock" in names and names & {"ocfl", "staging"}:
        return "a provarchive archive"
    if "ocfl" in names:
        try:
            inner = os.listdir(directory / "ocfl")
        except OSError:
            return None
        if any(n.startswith("0=ocfl_1.") for n in inner):
            return "a provarchive archive"
    return None


@dataclass(frozen=True, eq=False)
class IgnoreRules:
    """Gitignore rules with a reason for each; see the module docstring."""

    spec: pathspec.GitIgnoreSpec
    reasons: tuple[str, ...]
    """One per pattern of ``spec``, in the same order."""

    @classmethod
    def defaults(cls) -> IgnoreRules:
        return cls.from_lines([], source=None)

    @classmethod
    def load(cls, seeds: Path) -> IgnoreRules:
        """The defaults plus ``seeds/.provarchiveignore`` (if it exists).

        Raises UsageError when the file cannot be read or a line is not a valid
        pattern: ingesting without the rules the user wrote would archive what
        they meant to keep out, for ever."""
        path = Path(seeds) / IGNORE_FILE
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return cls.defaults()
        except OSError as exc:
            raise UsageError(
                f"cannot read {display_name(path)}: {exc.strerror or exc}; fix it or remove it"
            ) from exc
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise UsageError(f"{display_name(path)} is not UTF-8 text ({exc.reason})") from None
        return cls.from_lines(text.splitlines(), source=str(path))

    @classmethod
    def from_lines(cls, lines: list[str], *, source: str | None) -> IgnoreRules:
        """Defaults, then ``lines`` (gitignore syntax) read from ``source``."""
        kept = [pattern for pattern, _ in DEFAULT_RULES]
        reasons = [f"default: {reason}" for _, reason in DEFAULT_RULES]
        shown = IGNORE_FILE if source is None else Path(source).name
        for number, raw in enumerate(lines, 1):
            line = nfc(raw)
            if not line.strip() or line.startswith("#"):
                continue  # blank lines and comments make no pattern
            try:
                pathspec.GitIgnoreSpec.from_lines([line])
            except (re.error, ValueError) as exc:
                raise UsageError(
                    f"{display_name(source or IGNORE_FILE)} line {number}: "
                    f"'{display_name(line)}' is not a valid pattern ({exc}); fix or remove it"
                ) from None
            kept.append(line)
            reasons.append(f"matches '{display_name(line.strip())}' in {shown} (line {number})")
        spec = pathspec.GitIgnoreSpec.from_lines(kept)
        # One pattern per kept line, so a match's index names its line.
        assert len(spec.patterns) == len(reasons)
        return cls(spec, tuple(reasons))

    def match(self, rel: str, *, is_dir: bool) -> str | None:
        """Why the entry at ``rel`` (POSIX, relative to the seeds folder) is ignored, or None.

        Only this entry's own name is matched: callers that did not walk down
        to it use :meth:`match_path`."""
        key = nfc(rel) + ("/" if is_dir else "")
        if not self.spec.match_file(key):
            return None
        index = self.spec.check_file(key).index
        assert index is not None
        if index == 0:  # DEFAULT_RULES[0], dotfiles: say which kind
            return "default: dot-folder" if is_dir else "default: dotfile"
        return self.reasons[index]

    def match_path(self, rel: str, *, is_dir: bool) -> str | None:
        """As :meth:`match`, but a path inside an ignored folder is ignored too."""
        parts = rel.split("/")
        for depth in range(1, len(parts)):
            folder = "/".join(parts[:depth])
            reason = self.match(folder, is_dir=True)
            if reason is not None:
                return f"inside {display_name(folder)}/ ({reason})"
        return self.match(rel, is_dir=is_dir)
