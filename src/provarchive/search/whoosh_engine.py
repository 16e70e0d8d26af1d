"""The passage search index, on Whoosh (the ``whoosh3`` distribution, pinned).

Contract: this is the only module that imports Whoosh. It offers a small
interface that another engine could implement beside it:

- :meth:`PassageIndex.writing` yields an :class:`IndexWriter` whose
  :meth:`~IndexWriter.replace_version` / :meth:`~IndexWriter.delete_version`
  change the entries of one document version; the writer commits once on
  success and cancels on any error (never one commit per passage).
- :meth:`PassageIndex.search` runs a Whoosh query-language query with filters
  and returns hits carrying everything needed to cite them.
- :meth:`PassageIndex.entries` iterates the stored entries (for the audit).

Whoosh errors become :class:`~provarchive.errors.SearchIndexError`. Whoosh
never fsyncs: the catalog is the truth and the index is rebuilt or caught up
from it (:mod:`provarchive.search`), so nothing here needs to be durable.

Analysis: NFKC normalisation, lower-casing, accent folding (``resume`` finds
``résumé``), English (Porter) stemming (``labourer`` finds ``labourers``), and
CJK characters indexed one by one with positions, so ``東京`` is a phrase of
two characters and two-character queries work in Chinese and Japanese. Titles
are indexed in a second, boosted field, and ranking is BM25F.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import re
import shutil
import signal
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from whoosh import analysis, fields, index, qparser, query, scoring
from whoosh.analysis import Token
from whoosh.highlight import ContextFragmenter, Formatter, WholeFragmenter, get_text, highlight
from whoosh.support.charset import accent_map

from ..errors import QueryError, SearchIndexError

log = logging.getLogger(__name__)

INDEX_NAME = "passages"
WRITER_LIMIT_MB = 256
KIND_BOOST = {"title": 3.0, "standfirst": 1.5}
"""Index-time boosts: BM25F ranks a title passage above a body passage that says as much."""


_CJK = (
    "\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9d"
    "\u1100-\u11ff\u3130-\u318f\ua960-\ua97f\uac00-\ud7a3\ud7b0-\ud7ff"
    "\U00020000-\U0002a6df\U0002a700-\U0002ebef\U0002f800-\U0002fa1f"
)
_HAS_CJK = re.compile(f"[{_CJK}]")
_CJK_PIECES = re.compile(f"[{_CJK}]|[^{_CJK}]+")


class CJKUnigramFilter(analysis.Filter):
    """whoosh3's ``CJKFilter`` (same character ranges, same tokens and positions),
    with the per-character Python test replaced by a compiled character class: in
    profiles of ingest that test alone took about a third of indexing time."""

    def __call__(self, tokens: Iterable[Token]) -> Iterator[Token]:  # type: ignore[override]  # whoosh3 declares Filter and Composable.__call__ differently
        pos: int | None = None
        for t in tokens:
            text = t.text
            if not _HAS_CJK.search(text):
                if t.positions:
                    pos = t.pos if pos is None else pos + 1
                    t.pos = pos
                yield t
                continue
            chars = t.chars
            startchar = t.startchar if chars else 0
            for m in _CJK_PIECES.finditer(text):
                t.text = m.group()
                if t.positions:
                    pos = t.pos if pos is None else pos + 1
                    t.pos = pos
                if chars:
                    t.startchar = startchar + m.start()
                    t.endchar = startchar + m.end()
                yield t


def analyzer() -> analysis.Analyzer:
    return (
        analysis.NormalizingRegexTokenizer("NFKC")
        | analysis.LowercaseFilter()
        | CJKUnigramFilter()
        | analysis.CharsetFilter(accent_map)
        | analysis.StemFilter(lang="en", cachesize=50000)
    )


def schema() -> fields.Schema:
    """The one index schema (bump :data:`SCHEMA_VERSION` on any change)."""
    text_analyzer = analyzer()
    return fields.Schema(
        passage_id=fields.ID(unique=True, stored=True),
        version_key=fields.ID(),
        document=fields.ID(stored=True),
        version=fields.NUMERIC(int, stored=True),
        ordinal=fields.NUMERIC(int, stored=True),
        kind=fields.ID(stored=True),
        text=fields.TEXT(analyzer=text_analyzer, stored=True, multitoken_query="phrase"),
        passage_sha256=fields.ID(stored=True),
        raw_sha256=fields.STORED(),
        raw_start=fields.STORED(),
        raw_end=fields.STORED(),
        ingested=fields.DATETIME(stored=True),
        current=fields.BOOLEAN(stored=True),
    )


SCHEMA_VERSION = 2


def version_key(document: str, version: int) -> str:
    return f"{document}@v{version}"


@dataclass(frozen=True)
class IndexEntry:
    """One passage as the index holds it."""

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


@dataclass(frozen=True)
class Hit:
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
            "sha256": self.sha256,
            "raw_span": list(self.raw_span),
        }


@dataclass(frozen=True)
class SearchResults:
    query: str
    total: int
    hits: list[Hit]

    def to_json(self) -> dict[str, Any]:
        return {"query": self.query, "total": self.total, "hits": [h.to_json() for h in self.hits]}


_SNIPPET_CHARS = 200


def _head(text: str) -> str:
    """The snippet of a hit with no words to highlight (e.g. a ``kind:title`` query)."""
    return text if len(text) <= _SNIPPET_CHARS else text[:_SNIPPET_CHARS].rstrip() + " …"


class MarkFormatter(Formatter):
    """Marks matched terms as ``**term**`` (readable as plain text and in JSON)."""

    between = " … "

    def format(self, fragments: Any, replace: bool = False) -> str:
        """Fragments joined by an ellipsis, with one where the passage is cut at either end."""
        fragments = list(fragments)
        if not fragments:
            return ""
        text = super().format(fragments, replace)
        if fragments[0].startchar > 0:
            text = "… " + text
        if fragments[-1].endchar < len(fragments[-1].text):
            text += " …"
        return text

    def format_token(self, text: str, token: Any, replace: bool = False) -> str:
        return f"**{get_text(text, token, replace)}**"


class IndexWriter:
    """Changes to the index, committed together by :meth:`PassageIndex.writing`."""

    def __init__(self, writer: Any) -> None:
        self._writer = writer
        self.changed = 0

    def delete_version(self, document: str, version: int) -> None:
        self._writer.delete_by_term("version_key", version_key(document, version))
        self.changed += 1

    def replace_version(self, document: str, version: int, entries: Iterable[IndexEntry]) -> None:
        """Make the index hold exactly ``entries`` for this version."""
        self.delete_version(document, version)
        for e in entries:
            self._writer.add_document(**document_fields(e))


def document_fields(e: IndexEntry) -> dict[str, Any]:
    """The Whoosh document of one entry (also used by the benchmark's bare baseline)."""
    return {
        "passage_id": e.passage_id,
        "version_key": version_key(e.document, e.version),
        "document": e.document,
        "version": e.version,
        "ordinal": e.ordinal,
        "kind": e.kind,
        "text": e.text,
        "passage_sha256": e.passage_sha256,
        "raw_sha256": e.raw_sha256,
        "raw_start": e.raw_start,
        "raw_end": e.raw_end,
        "ingested": e.ingested.replace(tzinfo=None),
        "current": e.current,
        # BM25F on boosted weights: a title's words count for more.
        "_boost": KIND_BOOST.get(e.kind, 1.0),
    }


@contextlib.contextmanager
def _whoosh_errors(path: Path, action: str) -> Iterator[None]:
    try:
        yield
    except (SearchIndexError, QueryError):
        raise
    except Exception as exc:  # Whoosh raises many unrelated types (struct, EOF, index errors)
        raise SearchIndexError(
            f"cannot {action} the search index at {path}: {exc.__class__.__name__}: {exc}"
        ) from exc


def _expand(q: Any, reader: Any) -> Any:
    """Rewrite prefix/fuzzy/wildcard terms as an OR of the index terms they match.

    (whoosh3's own ``Query.simplify`` fails on them with a TypeError.)"""
    if isinstance(q, query.MultiTerm):
        found = sorted(
            {
                t.decode("utf-8") if isinstance(t, bytes) else t
                for _f, t in q.existing_terms(reader, expand=True)
            }
        )
        if not found:
            return query.NullQuery
        field, boost = getattr(q, "fieldname", "text"), getattr(q, "boost", 1.0)
        return query.Or([query.Term(field, t) for t in found], boost=boost)
    if q.is_leaf():
        return q
    return q.apply(lambda child: _expand(child, reader))


class PassageIndex:
    """The Whoosh index in ``path`` (created on first write)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._reader: tuple[Any, Any, int] | None = None  # (index, searcher, generation)
        self._not_current: set[int] | None = None

    def exists(self) -> bool:
        """An index was created here (it may still be unreadable: opening tells)."""
        return self.path.is_dir() and any(self.path.glob(f"_{INDEX_NAME}_*.toc"))

    def _open(self) -> Any:
        if not self.exists():
            raise SearchIndexError(f"no search index at {self.path} (run 'provarchive reindex')")
        with _whoosh_errors(self.path, "open"):
            ix = index.open_dir(str(self.path), indexname=INDEX_NAME)
        if set(ix.schema.names()) != set(schema().names()):
            ix.close()
            raise SearchIndexError(
                f"the search index at {self.path} was built by another provarchive "
                "(schema differs); run 'provarchive reindex'"
            )
        return ix

    def close(self) -> None:
        self._not_current = None
        if self._reader is not None:
            ix, searcher, _ = self._reader
            with contextlib.suppress(Exception):
                searcher.close()
                ix.close()
            self._reader = None

    def _searcher(self) -> Any:
        """An open searcher on the latest committed generation."""
        if self._reader is not None:
            ix, searcher, generation = self._reader
            with _whoosh_errors(self.path, "read"):
                latest = ix.latest_generation()
            if latest == generation:
                return searcher
            self.close()
        ix = self._open()
        with _whoosh_errors(self.path, "read"):
            searcher = ix.searcher(weighting=scoring.BM25F())
            self._reader = (ix, searcher, ix.latest_generation())
        return searcher

    def create(self) -> None:
        """Create an empty index, replacing whatever is at ``path``."""
        self.close()
        with _whoosh_errors(self.path, "create"):
            if self.path.exists():
                shutil.rmtree(self.path)
            self.path.mkdir(parents=True)
            index.create_in(str(self.path), schema(), indexname=INDEX_NAME)

    @contextlib.contextmanager
    def writing(self) -> Iterator[IndexWriter]:
        """One Whoosh writer; commit on success (merging small segments), cancel on error."""
        ix = self._open()
        with _whoosh_errors(self.path, "write"):
            writer = ix.writer(limitmb=WRITER_LIMIT_MB, timeout=30.0)
        wrapped = IndexWriter(writer)
        try:
            yield wrapped
        except BaseException:
            with contextlib.suppress(Exception):
                writer.cancel()
            raise
        with _whoosh_errors(self.path, "commit"):
            writer.commit()
        ix.close()

    def doc_count(self) -> int:
        with _whoosh_errors(self.path, "read"):
            return int(self._searcher().doc_count())

    def entries(self) -> Iterator[dict[str, Any]]:
        """The stored fields of every entry."""
        searcher = self._searcher()
        with _whoosh_errors(self.path, "read"):
            for fields_ in searcher.all_stored_fields():
                yield dict(fields_)

    def _earlier_versions(self, searcher: Any) -> set[int]:
        """Document numbers of entries of earlier versions, computed once per searcher.

        A plain set, not a Whoosh query: Whoosh tests its bit sets for truth by
        scanning every byte, once per candidate document (quadratic on a big index)."""
        if self._not_current is None:
            self._not_current = set(searcher.docs_for_query(query.Term("current", False)))
        return self._not_current

    def search(
        self,
        text: str,
        *,
        document: str | None = None,
        kind: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        all_versions: bool = False,
        limit: int = 10,
    ) -> SearchResults:
        """Ranked hits for a Whoosh query-language query; snippets only for the hits shown."""
        if not text.strip():
            raise QueryError(text, "the query is empty")
        searcher = self._searcher()
        parser = qparser.QueryParser("text", searcher.schema)
        parser.add_plugin(qparser.FuzzyTermPlugin())
        with _whoosh_errors(self.path, "parse a query for"):
            parsed = parser.parse(text)
        if parsed is query.NullQuery:
            raise QueryError(
                text, "nothing searchable in it (check quotes, brackets and operators)"
            )
        filters: list[Any] = []
        if document is not None:
            filters.append(query.Term("document", document))
        if kind is not None:
            filters.append(query.Term("kind", kind))
        if since is not None or until is not None:
            filters.append(
                query.DateRange(
                    "ingested",
                    since.replace(tzinfo=None) if since else None,
                    until.replace(tzinfo=None) if until else None,
                )
            )
        with _whoosh_errors(self.path, "search"):
            # Expand prefix and fuzzy terms once, against this reader: otherwise Whoosh
            # expands them again to count the hits and once more for every snippet
            # (5 s of 7 s in a profile of 40 fuzzy queries at 10k passages).
            parsed = _expand(parsed, searcher.reader())
            words = {t for f, t in parsed.iter_all_terms() if f == "text"}
            results = searcher.search(
                parsed,
                filter=query.And(filters) if filters else None,
                mask=None if all_versions else self._earlier_versions(searcher),
                limit=max(limit, 1),
                # Score every match in one pass and count them as we go: with block
                # skipping Whoosh would need a second full pass for the total.
                optimize=False,
            )
            # A passage that fits in a snippet is shown whole; a longer one as up to two
            # fragments around the matches.
            whole = WholeFragmenter()
            fragmenter = ContextFragmenter(maxchars=_SNIPPET_CHARS, surround=60)
            formatter = MarkFormatter()
            analyzer_ = searcher.schema["text"].analyzer
            hits = []
            for hit in results[:limit]:
                stored = hit.fields()
                snippet = highlight(
                    stored["text"],
                    words,
                    analyzer_,
                    whole if len(stored["text"]) <= _SNIPPET_CHARS else fragmenter,
                    formatter,
                    top=2,
                ) or _head(stored["text"])
                hits.append(
                    Hit(
                        passage_id=stored["passage_id"],
                        document=stored["document"],
                        version=stored["version"],
                        ordinal=stored["ordinal"],
                        kind=stored["kind"],
                        score=float(hit.score or 0.0),
                        text=stored["text"],
                        snippet=snippet,
                        sha256=stored["raw_sha256"],
                        raw_span=(stored["raw_start"], stored["raw_end"]),
                        current=stored["current"],
                    )
                )
            total = len(results)
        return SearchResults(text, total, hits)


# -- indexing in a child process ---------------------------------------------------------------

_QUEUE_VERSIONS = 4000
"""At most this many versions wait in the queue (memory stays bounded if the child lags)."""


class BackgroundIndexWriter:
    """One Whoosh writer in a child process, fed through a bounded queue.

    :meth:`replace_version` returns as soon as the job is queued; :meth:`commit`
    waits until the child has indexed everything and committed once. The child
    dies with its parent (``PR_SET_PDEATHSIG`` on Linux, and it watches its
    parent's pid elsewhere) without committing, so a killed ingest never leaves
    a writer behind that commits later."""

    def __init__(self, path: Path) -> None:
        import multiprocessing

        # fork where there is one: it needs no re-import of the caller's __main__
        # (spawn fails when that is stdin or an interactive session). The child
        # touches nothing it inherits but the queues, and leaves with os._exit.
        methods = multiprocessing.get_all_start_methods()
        ctx: Any = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        self.path = path
        self._jobs: Any = ctx.Queue(maxsize=_QUEUE_VERSIONS)
        self._results: Any = ctx.Queue()
        self._total = 0
        self._process = ctx.Process(
            target=_background_main,
            args=(str(path), os.getpid(), self._jobs, self._results),
            name="provarchive-indexer",
            daemon=True,
        )
        self._process.start()

    def replace_version(self, document: str, version: int, entries: list[IndexEntry]) -> None:
        """Queue one version; raise SearchIndexError if the child is gone (a full
        queue would otherwise wait for it forever)."""
        while True:
            try:
                self._jobs.put(("replace", document, version, entries), timeout=1.0)
            except queue.Full:
                if not self._process.is_alive():
                    raise self._died() from None
                continue
            self._total += 1
            return

    def commit(self, on_progress: Any = None) -> None:
        """Wait for the child to index everything and commit; raise if it failed."""
        self._jobs.put(("commit",))
        while True:
            try:
                message = self._results.get(timeout=1.0)
            except queue.Empty:
                if not self._process.is_alive():
                    raise self._died() from None
                continue
            if message[0] == "progress":
                if on_progress is not None:
                    on_progress(message[1], self._total)
                continue
            self._process.join(timeout=60)
            if message[0] == "error":
                raise SearchIndexError(f"indexing failed for {self.path}: {message[1]}")
            return

    def cancel(self) -> None:
        with contextlib.suppress(Exception):
            self._jobs.put_nowait(("cancel",))
        self._process.join(timeout=10)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()
        self._discard_queue()

    def _died(self) -> SearchIndexError:
        self._discard_queue()
        return SearchIndexError(
            f"the indexing process for {self.path} died (exit {self._process.exitcode})"
        )

    def _discard_queue(self) -> None:
        """Never wait at exit to hand jobs to a child that is gone."""
        self._jobs.cancel_join_thread()
        self._jobs.close()


def _die_with_parent() -> None:
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            pr_set_pdeathsig = 1
            libc.prctl(pr_set_pdeathsig, signal.SIGKILL)


def _background_main(path: str, parent: int, jobs: Any, results: Any) -> None:
    """The child: apply jobs to one Whoosh writer, commit once on request."""
    _die_with_parent()
    if os.getppid() != parent:
        return
    writer = None
    done = 0
    try:
        pi = PassageIndex(Path(path))
        ix = pi._open()
        writer = ix.writer(limitmb=WRITER_LIMIT_MB, timeout=60.0)
        wrapped = IndexWriter(writer)
        while True:
            try:
                job = jobs.get(timeout=1.0)
            except queue.Empty:
                if os.getppid() != parent:  # orphaned: never commit on our own
                    writer.cancel()
                    return
                continue
            if job[0] == "replace":
                wrapped.replace_version(job[1], job[2], job[3])
                done += 1
                if done % 50 == 0:
                    results.put(("progress", done))
            elif job[0] == "commit":
                writer.commit()
                writer = None
                results.put(("ok", done))
                return
            else:
                writer.cancel()
                return
    except BaseException as exc:  # report anything to the parent, which raises it
        if writer is not None:
            with contextlib.suppress(Exception):
                writer.cancel()
        results.put(("error", f"{exc.__class__.__name__}: {exc}"))
