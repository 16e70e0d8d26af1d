"""Every error the library raises on purpose.

Contract: each error is an :class:`ArchiveError` subclass with structured fields,
a one-line ``str()`` fit for ``Error: ...`` on a terminal, and an ``exit_code``
class attribute that the CLI uses verbatim (the table is in the README).
Library code wraps third-party failures (SQLAlchemy, Whoosh, OS errors) into one
of these at the module boundary so callers never have to catch foreign types.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


class ArchiveError(Exception):
    """Base class of every deliberate provarchive error."""

    exit_code: int = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UsageError(ArchiveError):
    """The request itself is malformed (bad name, bad option combination)."""

    exit_code = 2


class InvalidNameError(UsageError):
    """A document name that cannot be stored or escapes the seeds folder."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"invalid document name {name!r}: {reason}")
        self.name = name
        self.reason = reason


class QueryError(UsageError):
    """A search query that is empty or cannot be parsed."""

    def __init__(self, query: str, reason: str) -> None:
        shown = query if len(query) <= 80 else query[:77] + "..."
        super().__init__(f"bad query {shown!r}: {reason}")
        self.query = query
        self.reason = reason


class ArchiveNotFoundError(ArchiveError):
    """The archive directory does not exist or was never initialised."""

    exit_code = 3

    def __init__(self, path: Path, *, unfinished: bool = False) -> None:
        super().__init__(
            f"no archive at {path} yet: its first run was stopped before anything was "
            "archived ('provarchive ingest' finishes it)"
            if unfinished
            else f"no archive at {path} (run 'provarchive init' or 'provarchive ingest' first)"
        )
        self.path = path


class NotFoundError(ArchiveError):
    """A document, version or passage that the archive does not hold."""

    exit_code = 4


class DocumentNotFoundError(NotFoundError):
    """No document with this name has been archived."""

    def __init__(self, name: str, suggestions: tuple[str, ...] = ()) -> None:
        hint = f" (did you mean {', '.join(repr(n) for n in suggestions)}?)" if suggestions else ""
        super().__init__(f"no archived document named {name!r}{hint}")
        self.name = name
        self.suggestions = suggestions


class VersionNotFoundError(NotFoundError):
    """The document exists but has no such version."""

    def __init__(self, name: str, version: int, head: int) -> None:
        super().__init__(f"document {name!r} has no version {version} (latest is v{head})")
        self.name = name
        self.version = version
        self.head = head


class WithdrawnError(NotFoundError):
    """The version asked for is a withdrawal: it holds no file (earlier versions do)."""

    def __init__(self, name: str, version: int, last: int | None) -> None:
        hint = f"; '--rev {last}' gives the bytes it withdrew" if last else ""
        super().__init__(f"{name!r} was withdrawn at v{version}{hint}")
        self.name = name
        self.version = version
        self.last = last


class PassageNotFoundError(NotFoundError):
    """No passage with this id exists in the catalog."""

    def __init__(self, passage_id: str) -> None:
        super().__init__(f"no passage with id {passage_id!r}")
        self.passage_id = passage_id


class LockTimeoutError(ArchiveError):
    """Another writer held the archive lock for longer than we were willing to wait."""

    exit_code = 5

    def __init__(self, lock_path: Path, timeout: float, holder: str | None) -> None:
        who = f" (held by {holder})" if holder else ""
        super().__init__(
            f"timed out after {timeout:g}s waiting for the writer lock {lock_path}{who}; "
            "another provarchive process is writing: retry later or raise --lock-timeout"
        )
        self.lock_path = lock_path
        self.timeout = timeout
        self.holder = holder


class StorageError(ArchiveError):
    """The store could not be written (disk full, read-only, permission denied)."""

    exit_code = 6

    def __init__(
        self, path: Path | str, reason: str, outcome: str = "the archive was left as it was"
    ) -> None:
        super().__init__(f"cannot write {path}: {reason}; {outcome}")
        self.path = Path(path)
        self.reason = reason

    def with_outcome(self, outcome: str) -> StorageError:
        """The same failure, saying what the run saved before it."""
        return StorageError(self.path, self.reason, outcome)


class CorruptArchiveError(ArchiveError):
    """Stored data needed for the request is damaged; run 'provarchive verify'."""

    exit_code = 7

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"damaged archive data at {path}: {reason} (run 'provarchive verify')")
        self.path = Path(path)
        self.reason = reason


class CatalogError(ArchiveError):
    """The catalog database failed (unreachable, locked, or schema mismatch)."""

    exit_code = 8


class CatalogValueError(CatalogError):
    """A value read from the catalog is not of its column's type (a hand-edited row)."""


class CatalogBusyError(LockTimeoutError, CatalogError):
    """Another program held the SQLite catalog locked for longer than we would wait (a
    catalog failure, reported as a lock timeout: exit 5)."""

    def __init__(self, path: Path, timeout: float) -> None:
        ArchiveError.__init__(
            self,
            f"timed out after {timeout:g}s: the catalog {path} is locked by another program "
            "(a database tool, a backup?); retry once it is done, or raise --lock-timeout",
        )
        self.lock_path = path
        self.timeout = timeout
        self.holder = None


class SearchIndexError(ArchiveError):
    """The search index failed to open, read or write."""

    exit_code = 8


class InputError(ArchiveError):
    """One input file could not be archived; the batch goes on without it."""

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason


class InvalidStoreError(ArchiveError):
    """Objects of the store fail OCFL validation: ``rebuild`` will not trust them."""

    exit_code = 1

    def __init__(self, path: Path | str, findings: list[dict[str, Any]]) -> None:
        first = findings[0]
        where = first.get("document") or first.get("path")
        code = first.get("ocfl_code") or first["code"]
        more = f" and {len(findings) - 1} more finding(s)" if len(findings) > 1 else ""
        super().__init__(
            f"{where} fails validation ({first['code']}, {code}: {first['message']}){more}; "
            "nothing was changed (run 'provarchive verify', or rebuild --accept-invalid)"
        )
        self.path = Path(path)
        self.findings = findings
