"""The search-engine seam: what the archive needs from a full-text engine, and nothing more.

Contract:
- A :class:`SearchEngine` holds one entry per indexed passage (:class:`IndexEntry`)
  and answers :class:`SearchQuery` objects with ranked, citable
  :class:`SearchResults`. The archive never talks to an engine in any other way;
  which engine an archive uses is configuration (:func:`open_engine`).
- Writes go through :meth:`SearchEngine.writing`: every change made inside one
  ``with`` block is committed together on success and discarded on error.
- Engines are derived data: the catalog is the truth, and
  :mod:`provarchive.search.sync` brings an engine up to it. An engine therefore
  need not be durable, but it must never report an entry it did not commit.
- :meth:`IndexEntry.digest` is computed from the citation fields when an entry
  is written and kept by the engine; ``verify`` audits an engine by comparing
  these digests with the catalog's (:meth:`SearchEngine.entry_digests`).
- Every engine must pass the conformance suite in ``tests/test_search_engines.py``.

This module is pure (dataclasses and Protocols): importing it loads no engine.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from ..digests import canonical_json_plain, sha256_hex

if TYPE_CHECKING:
    from concurrent.futures import Future

KINDS = ("title", "standfirst", "body", "byline", "dateline", "removed")
"""Passage kinds an entry may have; ``removed`` marks a line the cleaner dropped."""


@dataclass(frozen=True)
class IndexEntry:
    """One passage (or removed line) as an engine holds it, with what it takes to cite it."""

    passage_id: str
    document: str
    version: int
    ordinal: int
    kind: str
    text: str
    passage_sha256: str
    raw_sha256: str
    raw_start: int
    raw_end: int
    ingested: datetime
    current: bool
    rule: str | None = None
    """For a line the cleaner dropped (kind ``removed``): the rule that dropped it."""
    published: str | None = None
    """The publication date the derivation found in the document (YYYY-MM-DD)."""

    def digest(self) -> str:
        """See :func:`citation_digest`."""
        return citation_digest(
            self.passage_id,
            self.document,
            self.version,
            self.ordinal,
            self.kind,
            sha256_hex(self.text),
            self.raw_sha256,
            self.raw_start,
            self.raw_end,
            self.current,
        )


def citation_digest(
    passage_id: str,
    document: str,
    version: int,
    ordinal: int,
    kind: str,
    text_sha256: str,
    raw_sha256: str,
    raw_start: int,
    raw_end: int,
    current: bool,
) -> str:
    """Digest (hex sha256 of canonical JSON) of every field a citation depends on, the
    text by its sha256. An engine computes it from the text it indexes; the audit
    from the catalog's passage (whose text ``verify`` checks against its sha256)."""
    return sha256_hex(
        canonical_json_plain(
            [
                passage_id,
                document,
                version,
                ordinal,
                kind,
                text_sha256,
                raw_sha256,
                raw_start,
                raw_end,
                current,
            ]
        )
    )


REMOVED = "removed"


def removed_id(document: str, version: int, ordinal: int) -> str:
    """The index id of a line the cleaner dropped: ``NAME@vN#rK`` (never a passage id)."""
    return f"{document}@v{version}#r{ordinal}"


def parse_removed_id(value: str) -> tuple[str, int, int] | None:
    """(document, version, ordinal) of a removed-line id (:func:`removed_id`), or None."""
    m = re.fullmatch(r"(?s)(.+)@v([1-9][0-9]*)#r([1-9][0-9]*)", value)
    if m is None:
        return None
    return m.group(1), int(m.group(2)), int(m.group(3))


def entries_of(
    document: str,
    version: int,
    raw_sha256: str,
    ingested: datetime,
    current: bool,
    passages: Iterable[tuple[str, int, str, str, str, int, int]],
    removals: Iterable[tuple[int, str, str, int, int]] = (),
    published: str | None = None,
) -> list[IndexEntry]:
    """Index entries of one version: its passages (passage id, ordinal, kind, text, sha256,
    raw start, raw end) and the lines the cleaner dropped (ordinal, text, rule, raw start,
    raw end), so that nothing archived is unfindable (``search --everything``)."""
    entries = [
        IndexEntry(pid, document, version, ordinal, kind, text, sha, raw_sha256, start, end,
                   ingested, current, None, published)
        for pid, ordinal, kind, text, sha, start, end in passages
    ]  # fmt: skip
    entries += [
        IndexEntry(removed_id(document, version, ordinal), document, version, ordinal, REMOVED,
                   text, sha256_hex(text), raw_sha256, start, end, ingested, current, rule,
                   published)
        for ordinal, text, rule, start, end in removals
    ]  # fmt: skip
    return entries


@dataclass(frozen=True)
class SearchQuery:
    """A query in the archive's query language, with its filters."""

    text: str
    documents: tuple[str, ...] = ()
    """Only these documents (none: all)."""
    kind: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    all_versions: bool = False
    limit: int = 10
    everything: bool = False
    """Also lines the cleaner dropped (kind ``removed``; also implied by kind="removed")."""
    published_since: str | None = None
    published_until: str | None = None
    """Publication dates (YYYY-MM-DD, inclusive) found in the documents."""
    offset: int = 0
    """Skip this many hits (paging)."""


@dataclass(frozen=True)
class Hit:
    """One ranked passage, citable without asking the engine again."""

    passage_id: str
    document: str
    version: int
    ordinal: int
    kind: str
    score: float
    text: str
    snippet: str
    sha256: str
    raw_span: tuple[int, int]
    current: bool
    rule: str | None = None
    """For a removed line: the cleaner rule that dropped it."""
    published: str | None = None
    passage_sha256: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "passage_id": self.passage_id,
            "document": self.document,
            "version": self.version,
            "ordinal": self.ordinal,
            "kind": self.kind,
            "score": round(self.score, 4),
            "text": self.text,
            "snippet": self.snippet,
            "file_sha256": self.sha256,
            "passage_sha256": self.passage_sha256,
            "raw_span": list(self.raw_span),
            "current": self.current,
            "removed_by": self.rule,
            "published": self.published,
        }


@dataclass(frozen=True)
class SearchResults:
    query: str
    total: int
    hits: list[Hit]
    index_behind: int = 0
    """Versions the catalog holds that the index does not reflect yet (unsearchable)."""
    offset: int = 0
    removed_matches: int = 0
    """When nothing kept matched: how many lines the cleaner removed match (so a
    search never says "nothing" about words the archive holds)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "total": self.total,
            "offset": self.offset,
            "index_behind": self.index_behind,
            "removed_matches": self.removed_matches,
            "hits": [h.to_json() for h in self.hits],
        }


class EngineWriter(Protocol):
    """The changes of one write, committed together by :meth:`SearchEngine.writing`."""

    def replace_version(self, document: str, version: int, entries: Iterable[IndexEntry]) -> None:
        """Make the engine hold exactly ``entries`` for this document version."""

    def delete_version(self, document: str, version: int) -> None:
        """Remove every entry of this document version."""


class BackgroundWriter(EngineWriter, Protocol):
    """A writer that indexes in another process while the caller goes on."""

    def checkpoint(self) -> int:
        """Commit everything queued so far (asynchronously); returns a ticket."""

    def wait(self, ticket: int, on_progress: Any = None) -> None:
        """Block until the checkpoint ``ticket`` is committed; raise SearchIndexError on failure."""

    def commit(self, on_progress: Any = None) -> None:
        """Commit everything queued and finish; raise SearchIndexError on failure."""

    def cancel(self) -> None:
        """Discard everything queued; never commits."""


class SearchEngine(Protocol):
    """What the archive needs from a full-text engine."""

    name: str

    def exists(self) -> bool:
        """An index was created (it may still be unreadable: :meth:`check` tells)."""

    def create(self) -> None:
        """Create an empty index, replacing whatever was there."""

    def check(self) -> None:
        """Raise SearchIndexError unless the index can be opened and read."""

    def writing(self) -> AbstractContextManager[EngineWriter]:
        """A writer whose changes are committed together on success, discarded on error."""

    def background_writer(self) -> BackgroundWriter | None:
        """A writer in another process, or None if this engine has none."""

    def search(self, query: SearchQuery) -> SearchResults:
        """Ranked hits; raises QueryError for an empty or unparsable query."""

    def entry_digests(self) -> dict[str, str]:
        """passage id -> the :meth:`IndexEntry.digest` recorded when it was written."""

    def entries(self) -> Iterator[IndexEntry]:
        """Every entry as stored (slow: for tests and repairs, not for audits)."""

    def doc_count(self) -> int:
        """Number of entries."""

    def rebuilding(self) -> AbstractContextManager[EngineWriter]:
        """A writer on a new, empty index that replaces the current one atomically when it
        commits; until then readers keep the current one."""

    def damage(self, *, thorough: bool) -> list[str]:
        """Parts of the index (paths under its folder) that differ from what was
        committed: a cheap check (``thorough=False``, for writers) or a full one (for
        ``verify``)."""

    def tidy(self) -> list[str]:
        """Remove what interrupted writes left (writers only); returns what was removed."""

    def close(self) -> None:
        """Release open readers."""


class CatalogEngine(SearchEngine, Protocol):
    """An engine that lives in the catalog's database (PostgreSQL): it can write inside
    a catalog transaction, so that entries commit or roll back with their catalog rows."""

    def write_in(self, session: Any, prepared: Any = None) -> EngineWriter:
        """A writer inside the transaction of ``session`` (a catalog session);
        ``prepared``: what :meth:`preparer` returned for the entries it will write."""

    def preparer(self) -> EntryPreparer:
        """A child process that does the costly part of writing entries ahead of time."""


class EntryPreparer(Protocol):
    """Work on entries a :class:`CatalogEngine` writer would do, done in another process
    while the caller goes on; the result is a pure function of the entries, so a writer
    given it writes exactly what it would have computed itself."""

    def submit(self, jobs: Iterable[tuple[str, int, list[IndexEntry]]]) -> Future[Any]:
        """Start preparing the entries of ``jobs`` (document, version, entries)."""

    def close(self, *, at_once: bool = False) -> None:
        """Stop the child process (``at_once``: without waiting for what it prepares)."""


def in_catalog(engine: SearchEngine) -> CatalogEngine | None:
    """The engine as a :class:`CatalogEngine`, or None if it keeps its own storage."""
    return engine if callable(getattr(engine, "write_in", None)) else None  # type: ignore[return-value]


ENGINES = ("whoosh", "postgres")
"""Engines this build knows, by name (see :mod:`provarchive.home`): the first is the
default; ``postgres`` is the default for a catalog on PostgreSQL."""
