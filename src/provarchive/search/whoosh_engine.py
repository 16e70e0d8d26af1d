"""The Whoosh search engine (the ``whoosh3`` distribution, pinned).

Contract: the only module that imports Whoosh; :class:`WhooshEngine` implements
:class:`~provarchive.search.engine.SearchEngine`. Whoosh errors become
:class:`~provarchive.errors.SearchIndexError`.

On disk (``index/`` of an archive home): ``CURRENT`` names the live generation,
a directory ``g-*`` holding one Whoosh index and ``provarchive-index.json`` (the
schema version, so an analyser change is detected, and the sha256 of every
index file recorded after each commit, so damage to a segment is found).
Incremental writes commit inside the live generation (Whoosh itself replaces
its table of contents atomically); :meth:`WhooshEngine.rebuilding` writes a new
generation aside and switches ``CURRENT`` with one atomic rename, so until then
every reader keeps the old index. The previous generation is kept for readers
that opened it a moment before the switch; older ones are removed.

Whoosh never fsyncs: the catalog is the truth and the index is rebuilt or
caught up from it (:mod:`provarchive.search.sync`).

Analysis: NFKC normalisation, lower-casing, accent folding (``resume`` finds
``résumé``), English (Porter) stemming (``labourer`` finds ``labourers``), and
CJK characters indexed one by one with positions, so ``東京`` is a phrase of
two characters and two-character queries work in Chinese and Japanese. Titles
are boosted at index time, and ranking is BM25F.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import queue
import re
import shutil
import time
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC
from functools import lru_cache
from pathlib import Path
from typing import Any

from whoosh import analysis, fields, index, qparser, query, scoring
from whoosh.analysis import Token
from whoosh.highlight import ContextFragmenter, Formatter, WholeFragmenter, get_text, highlight
from whoosh.support.charset import accent_map

from ..digests import load_json
from ..errors import QueryError, SearchIndexError, StorageError
from ..processes import die_with_parent, interrupts_held, leave_interrupts_to_parent
from ..store.durable import STORAGE_ERRNOS, describe_os_error
from .analysis import PROBE, TOKEN_PATTERN, multiterm_parts
from .engine import REMOVED, Hit, IndexEntry, SearchQuery, SearchResults
from .snippets import mark

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
        analysis.NormalizingRegexTokenizer("NFKC", expression=TOKEN_PATTERN)
        | analysis.LowercaseFilter()
        | CJKUnigramFilter()
        | analysis.CharsetFilter(accent_map)
        | analysis.StemFilter(lang="en", cachesize=50000)
    )


_MULTITERMS = {query.Prefix: "prefix", query.Wildcard: "wild", query.FuzzyTerm: "fuzzy"}
_PART_CLASSES = {"term": query.Term, "prefix": query.Prefix, "wild": query.Wildcard,
                 "fuzzy": query.FuzzyTerm}  # fmt: skip


class _Parts(query.And):
    """A prefix, wildcard or fuzzy term split where the analyser splits words
    (:func:`~provarchive.search.analysis.multiterm_parts`). The fuzzy-term plugin
    sets the distance on the query it gets back: here, on each fuzzy part."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in ("maxdist", "prefixlength"):
            for sub in self.subqueries:
                if isinstance(sub, query.FuzzyTerm | _Parts):
                    setattr(sub, name, value)
        super().__setattr__(name, value)


class QueryParser(qparser.QueryParser):
    """Whoosh's parser (with fuzzy terms) over the text field, reading a prefix,
    wildcard or fuzzy term that holds a ``.`` or ``_`` as its parts (as
    :func:`provarchive.search.query.parse_query` does)."""

    def __init__(self, schema_: fields.Schema) -> None:
        super().__init__("text", schema_)
        self.add_plugin(qparser.FuzzyTermPlugin())

    def term_query(self, fieldname: str, text: str, termclass: Any, boost: float = 1.0,
                   tokenize: bool = True, removestops: bool = True) -> Any:  # fmt: skip
        op = _MULTITERMS.get(termclass)
        parts = multiterm_parts(text, op) if op and fieldname == "text" else None
        if parts is None:
            return super().term_query(fieldname, text, termclass, boost, tokenize, removestops)
        subs = [
            super(QueryParser, self).term_query(
                fieldname, part, _PART_CLASSES[o], tokenize=o == "term", removestops=o == "term"
            )
            for o, part in parts
        ]
        return _Parts([s for s in subs if s is not None], boost=boost)


def schema() -> fields.Schema:
    """The one index schema (bump :data:`SCHEMA_VERSION` on any change to it or the analyser)."""
    text_analyzer = analyzer()
    return fields.Schema(
        passage_id=fields.ID(unique=True, stored=True, sortable=True),
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
        entry_digest=fields.ID(stored=True, sortable=True),
        rule=fields.STORED(),
        published=fields.ID(stored=True),
    )


SCHEMA_VERSION = 5
"""Recorded in every generation; an index of another version is rebuilt, never read."""


@lru_cache(maxsize=1)
def analyzer_fingerprint() -> str:
    """The terms :func:`analyzer` makes of a probe text, digested: recorded in every
    generation beside the schema, so that an index built by an analyser that splits,
    folds or stems otherwise is rebuilt, never read, even where no one bumped
    :data:`SCHEMA_VERSION`."""
    terms = "|".join(f"{t.text}@{t.pos}" for t in analyzer()(PROBE, positions=True))
    return hashlib.sha256(terms.encode()).hexdigest()[:16]


CURRENT = "CURRENT"
PREVIOUS = "PREVIOUS"
"""Names the generation that was live before the last switch (kept for late readers)."""
META = "provarchive-index.json"


def version_key(document: str, version: int) -> str:
    return f"{document}@v{version}"


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

    def format_fragment(self, fragment: Any, replace: bool = False) -> str:
        """Whoosh's, with matches that touch marked as one (:func:`snippets.mark`)."""
        spans = [(t.startchar, t.endchar) for t in fragment.matches if t.startchar is not None]
        return mark(fragment.text, fragment.startchar, fragment.endchar, spans)


class _Writer:
    """Changes to one generation, committed together (see :meth:`WhooshEngine.writing`)."""

    def __init__(self, writer: Any, path: Path | None = None) -> None:
        self._writer = writer
        self._path = path or Path(".")

    def delete_version(self, document: str, version: int) -> None:
        with _whoosh_errors(self._path, "write"):
            self._writer.delete_by_term("version_key", version_key(document, version))

    def replace_version(self, document: str, version: int, entries: Iterable[IndexEntry]) -> None:
        self.delete_version(document, version)
        with _whoosh_errors(self._path, "write"):
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
        "entry_digest": e.digest(),
        "rule": e.rule,
        "published": e.published or "",
        # BM25F on boosted weights: a title's words count for more.
        "_boost": KIND_BOOST.get(e.kind, 1.0),
    }


def _entry(stored: dict[str, Any]) -> IndexEntry:
    return IndexEntry(
        passage_id=stored["passage_id"],
        document=stored["document"],
        version=stored["version"],
        ordinal=stored["ordinal"],
        kind=stored["kind"],
        text=stored["text"],
        passage_sha256=stored["passage_sha256"],
        raw_sha256=stored["raw_sha256"],
        raw_start=stored["raw_start"],
        raw_end=stored["raw_end"],
        ingested=stored["ingested"].replace(tzinfo=UTC),
        current=stored["current"],
        rule=stored.get("rule"),
        published=stored.get("published") or None,
    )


def _parse(parser: Any, text: str) -> Any:
    """Whoosh's parse of ``text``; what its parser refuses (``version:""``) or trips
    its own asserts on is a bad query (exit 2), not a damaged index."""
    from whoosh.qparser.common import QueryParserError

    try:
        return parser.parse(text)
    except (QueryParserError, AssertionError) as exc:
        raise QueryError(text, f"Whoosh cannot parse it ({exc or type(exc).__name__})") from exc


@contextlib.contextmanager
def _whoosh_errors(path: Path, action: str) -> Iterator[None]:
    try:
        yield
    except (SearchIndexError, QueryError, StorageError):
        raise
    except OSError as exc:
        if exc.errno not in STORAGE_ERRNOS:
            raise SearchIndexError(
                f"cannot {action} the search index at {path}: {describe_os_error(exc)}"
            ) from exc
        # Disk full, read-only: the archive's storage, not the index, is at fault.
        raise StorageError(exc.filename or path, describe_os_error(exc)) from exc
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


# -- generations ------------------------------------------------------------------------------------


def _file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _read_meta(generation: Path) -> dict[str, Any]:
    try:
        meta = load_json((generation / META).read_bytes())
    except (OSError, ValueError):
        return {}
    return meta if isinstance(meta, dict) else {}


def _meta_problem(generation: Path) -> str:
    """Why :func:`_read_meta` found no record in ``generation`` (for an error message)."""
    try:
        data = (generation / META).read_bytes()
    except FileNotFoundError:
        return "is missing"
    except OSError as exc:
        return f"cannot be read: {exc.strerror or exc}"
    try:
        load_json(data)
    except ValueError:
        return "is not valid JSON"
    return "is not a JSON object"


def _recorded_files(generation: Path) -> dict[str, dict[str, Any]] | None:
    """The digests recorded for the generation's files, or None if the record is gone
    or damaged."""
    files = _read_meta(generation).get("files")
    if not isinstance(files, dict) or not all(isinstance(v, dict) for v in files.values()):
        return None
    return files


def _write_meta(generation: Path, meta: dict[str, Any]) -> None:
    tmp = generation / f".{META}.tmp"
    tmp.write_text(json.dumps(meta, sort_keys=True, indent=1))
    os.replace(tmp, generation / META)


def _committed_files(generation: Path) -> list[Path]:
    """The files the latest committed table of contents uses: the TOC and the files of
    its segments (files of a commit still being written are not among them)."""
    ix = index.open_dir(str(generation), indexname=INDEX_NAME)
    try:
        toc = f"_{INDEX_NAME}_{ix.latest_generation()}.toc"
        prefixes = tuple(seg.segment_id() + "." for seg in ix._segments())
    finally:
        ix.close()
    return sorted(
        p
        for p in generation.iterdir()
        if p.is_file() and (p.name == toc or (prefixes and p.name.startswith(prefixes)))
    )


def record_checksums(generation: Path) -> None:
    """Record the sha256 (and size, mtime) of every committed index file after a commit.

    Whoosh writes each segment file once and never changes it, so only files not yet
    recorded with the same size and mtime are hashed."""
    meta = _read_meta(generation)
    old: dict[str, Any] = meta.get("files", {})
    files: dict[str, Any] = {}
    for path in _committed_files(generation):
        st = path.stat()
        seen = old.get(path.name)
        if seen and seen["size"] == st.st_size and seen["mtime_ns"] == st.st_mtime_ns:
            files[path.name] = seen
        else:
            files[path.name] = {
                "size": st.st_size,
                "mtime_ns": st.st_mtime_ns,
                "sha256": _file_digest(path),
            }
    meta.update(
        {"schema": SCHEMA_VERSION, "analysis": analyzer_fingerprint(), "engine": "whoosh",
         "files": files}
    )  # fmt: skip
    _write_meta(generation, meta)


class WhooshEngine:
    """The Whoosh index under ``path`` (see the module docstring for its layout)."""

    name = "whoosh"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._reader: tuple[Any, Any, int, Path] | None = None  # index, searcher, gen, dir
        self._not_current: set[int] | None = None
        self._removed: set[int] = set()

    # -- where the live index is ---------------------------------------------------------------

    def generation(self) -> Path | None:
        """The live generation's directory, or None if no index was ever created."""
        try:
            name = (self.path / CURRENT).read_text().strip()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise SearchIndexError(f"cannot read {self.path / CURRENT}: {exc.strerror}") from exc
        except UnicodeDecodeError:
            name = ""  # not a name this archive writes: the check below reports it
        if not name.startswith("g-") or "/" in name:
            raise SearchIndexError(f"{self.path / CURRENT} names no index generation")
        return self.path / name

    def exists(self) -> bool:
        return (self.path / CURRENT).exists() or any(self.path.glob(f"_{INDEX_NAME}_*.toc"))

    def _open(self, generation: Path | None = None) -> Any:
        gen = generation or self.generation()
        if gen is None:
            if self.exists():
                raise SearchIndexError(
                    f"the search index at {self.path} was built by an older provarchive; "
                    "run 'provarchive reindex'"
                )
            raise SearchIndexError(f"no search index at {self.path} (run 'provarchive reindex')")
        meta = _read_meta(gen)
        if not meta:  # not the schema differing: the record itself is gone or garbled
            raise SearchIndexError(f"{gen / META} {_meta_problem(gen)}; run 'provarchive reindex'")
        # A generation of this schema written before analysers were recorded has none.
        analysis = meta.get("analysis", analyzer_fingerprint())
        for what, differs in (("schema", meta.get("schema") != SCHEMA_VERSION),
                              ("analysis", analysis != analyzer_fingerprint())):  # fmt: skip
            if differs:
                raise SearchIndexError(
                    f"the search index at {gen} was built by another provarchive "
                    f"({what} differs); run 'provarchive reindex'"
                )
        with _whoosh_errors(gen, "open"):
            return index.open_dir(str(gen), indexname=INDEX_NAME)

    def _new_generation(self) -> Path:
        gen = self.path / f"g-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
        with _whoosh_errors(gen, "create"):
            gen.mkdir(parents=True)
            index.create_in(str(gen), schema(), indexname=INDEX_NAME)
            record_checksums(gen)
        return gen

    def _switch(self, gen: Path) -> None:
        """Make ``gen`` live with one atomic rename; keep the previous one, drop older."""
        previous = None
        with contextlib.suppress(SearchIndexError):
            previous = self.generation()
        with _whoosh_errors(self.path, "switch"):
            # First, so that a kill before the switch keeps it ("-": there was none).
            tmp = self.path / f".{CURRENT}.{uuid.uuid4().hex}"
            tmp.write_text((previous.name if previous else "-") + "\n")
            os.replace(tmp, self.path / PREVIOUS)
            tmp = self.path / f".{CURRENT}.{uuid.uuid4().hex}"
            tmp.write_text(gen.name + "\n")
            os.replace(tmp, self.path / CURRENT)
        self.close()
        self.remove_stale({gen, *([previous] if previous else [])})

    def tidy(self) -> list[str]:
        """Remove generations left by an interrupted rebuild (never the live one or the
        one before it), index files of the pre-generation layout, and the temporary files
        a killed writer left in the generations kept (writers only: under the lock)."""
        live = self.generation()
        removed = self.remove_stale({live} if live else set(), keep_previous=True)
        kept = [g for g in self.path.glob("g-*") if g.is_dir()] if self.path.is_dir() else []
        for gen in sorted(kept):  # the live one and the previous: no writer is in them now
            for tmp in sorted(gen.glob("*.tmp")):  # Whoosh's writer's temporary storage
                if tmp.is_dir():
                    shutil.rmtree(tmp, ignore_errors=True)
                else:
                    tmp.unlink(missing_ok=True)
                removed.append(f"{gen.name}/{tmp.name}")
        return removed

    def remove_stale(self, keep: set[Path], *, keep_previous: bool = False) -> list[str]:
        """Remove generations (and pre-generation index files) other than ``keep``;
        with ``keep_previous``, also keep the newest generation older than the live one."""
        recorded = self._previous()
        if keep_previous and recorded is not None:
            keep = keep | ({recorded} if recorded.name != "-" else set())
        elif keep_previous:  # an index switched before PREVIOUS was recorded
            older = sorted(
                (
                    p
                    for p in self.path.glob("g-*")
                    if p.is_dir() and p not in keep and not any(p.glob("*.tmp"))
                ),
                key=lambda p: p.stat().st_mtime,
            )
            live_mtime = max((p.stat().st_mtime for p in keep if p.exists()), default=0)
            previous = [p for p in older if p.stat().st_mtime <= live_mtime]
            keep = keep | set(previous[-1:])
        removed: list[str] = []
        if not self.path.is_dir():
            return removed
        for entry in sorted(self.path.iterdir()):
            if entry.name in (CURRENT, PREVIOUS) or entry in keep:
                continue
            if entry.is_dir() and entry.name.startswith("g-"):
                shutil.rmtree(entry, ignore_errors=True)
            elif entry.is_file() and (
                entry.name.startswith(f"_{INDEX_NAME}_")
                or entry.name.endswith(".seg")
                or entry.name.startswith(f".{CURRENT}.")
            ):
                entry.unlink(missing_ok=True)
            else:
                continue
            removed.append(entry.name)
        return removed

    def _previous(self) -> Path | None:
        """The generation live before the last switch, if recorded and still there."""
        try:
            name = (self.path / PREVIOUS).read_text().strip()
        except OSError:
            return None
        if name != "-" and (not name.startswith("g-") or "/" in name):
            return None
        return self.path / name

    # -- SearchEngine -------------------------------------------------------------------------

    def create(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        self._switch(self._new_generation())

    def check(self) -> None:
        self.doc_count()

    def damage(self, *, thorough: bool) -> list[str]:
        return self.damaged_files() if thorough else self.changed_files()

    def damaged_files(self) -> list[str]:
        """Index files whose content differs from the digest recorded at commit, or the
        record itself if it is gone. (Files committed but not yet recorded are not
        damage: a writer records them just after its commit, or a crash came between.)"""
        gen = self.generation()
        if gen is None:
            return []
        recorded = _recorded_files(gen)
        if recorded is None:
            return [f"{gen.name}/{META}"]
        damaged = []
        for name, info in sorted(recorded.items()):
            path = gen / name
            try:
                if path.stat().st_size != info.get("size") or _file_digest(path) != info.get(
                    "sha256"
                ):
                    damaged.append(name)
            except FileNotFoundError:
                continue  # merged away by a later commit: no longer part of the index
            except OSError:
                damaged.append(name)
        return [f"{gen.name}/{name}" for name in sorted(damaged)]

    def changed_files(self) -> list[str]:
        """Index files whose size or mtime differs from the record (cheap; for writers)."""
        gen = self.generation()
        if gen is None:
            return []
        recorded = _recorded_files(gen)
        if recorded is None:  # nothing to check the files against: rebuild, bless nothing
            return [f"{gen.name}/{META}"]
        changed = []
        for name, info in recorded.items():
            try:
                st = (gen / name).stat()
            except FileNotFoundError:
                continue
            if (st.st_size, st.st_mtime_ns) != (info.get("size"), info.get("mtime_ns")):
                changed.append(name)
        return [f"{gen.name}/{name}" for name in sorted(changed)]

    def close(self) -> None:
        self._not_current = None
        if self._reader is not None:
            ix, searcher, _, _ = self._reader
            with contextlib.suppress(Exception):
                searcher.close()
                ix.close()
            self._reader = None

    def _searcher(self) -> Any:
        """An open searcher on the latest committed state of the live generation."""
        gen = self.generation()
        if self._reader is not None:
            ix, searcher, generation, where = self._reader
            if where == gen:
                with _whoosh_errors(self.path, "read"):
                    latest = ix.latest_generation()
                if latest == generation:
                    return searcher
            self.close()
        ix = self._open(gen)
        with _whoosh_errors(self.path, "read"):
            searcher = ix.searcher(weighting=scoring.BM25F())
            assert gen is not None
            self._reader = (ix, searcher, ix.latest_generation(), gen)
        return searcher

    @contextlib.contextmanager
    def _writing_in(self, gen: Path) -> Iterator[_Writer]:
        ix = self._open(gen)
        with _whoosh_errors(gen, "write"):
            writer = ix.writer(limitmb=WRITER_LIMIT_MB, timeout=30.0)
        try:
            yield _Writer(writer, gen)
        except BaseException:
            with contextlib.suppress(Exception):
                writer.cancel()
            raise
        with _whoosh_errors(gen, "commit"):
            writer.commit()
            ix.close()
            record_checksums(gen)

    @contextlib.contextmanager
    def writing(self) -> Iterator[_Writer]:
        """One Whoosh writer on the live generation; commit on success, cancel on error."""
        gen = self.generation()
        if gen is None:
            raise SearchIndexError(f"no search index at {self.path} (run 'provarchive reindex')")
        with self._writing_in(gen) as writer:
            yield writer

    @contextlib.contextmanager
    def rebuilding(self) -> Iterator[_Writer]:
        """A writer on a new, empty generation that becomes live only when it committed."""
        self.path.mkdir(parents=True, exist_ok=True)
        gen = self._new_generation()
        try:
            with self._writing_in(gen) as writer:
                yield writer
        except BaseException:
            shutil.rmtree(gen, ignore_errors=True)
            raise
        self._switch(gen)

    def background_writer(self) -> BackgroundIndexWriter | None:
        gen = self.generation()
        if gen is None:
            return None
        return BackgroundIndexWriter(gen)

    def doc_count(self) -> int:
        with _whoosh_errors(self.path, "read"):
            return int(self._searcher().doc_count())

    def entries(self) -> Iterator[IndexEntry]:
        searcher = self._searcher()
        with _whoosh_errors(self.path, "read"):
            for fields_ in searcher.all_stored_fields():
                yield _entry(dict(fields_))

    def entry_digests(self) -> dict[str, str]:
        """Read from two column stores, not the stored fields: one pass, no decompression."""
        searcher = self._searcher()
        with _whoosh_errors(self.path, "read"):
            reader = searcher.reader()
            if reader.doc_count_all() == 0:
                return {}
            # Iterating a column is several times faster than indexing it per document,
            # and its raw UTF-8 values twice as fast as Whoosh's translated ones;
            # deleted documents are still in the columns, so they are left out here.
            ids = reader.column_reader("passage_id", translate=False)
            digests = reader.column_reader("entry_digest", translate=False)
            pairs = zip(ids, digests, strict=True)
            if reader.has_deletions():
                live = set(reader.all_doc_ids())
                pairs = (pair for n, pair in enumerate(pairs) if n in live)  # type: ignore[assignment]
            return {i.decode(): d.decode() for i, d in pairs}

    def _mask(self, searcher: Any, q: SearchQuery) -> set[int] | None:
        """Document numbers a query leaves out by default (earlier versions; removed lines),
        computed once per searcher.

        A plain set, not a Whoosh query: Whoosh tests its bit sets for truth by
        scanning every byte, once per candidate document (quadratic on a big index)."""
        if self._not_current is None:
            self._not_current = set(searcher.docs_for_query(query.Term("current", False)))
            self._removed = set(searcher.docs_for_query(query.Term("kind", REMOVED)))
        everything = q.everything or q.kind == REMOVED
        mask = (set() if q.all_versions else self._not_current) | (
            set() if everything else self._removed
        )
        return mask or None

    def search(self, q: SearchQuery) -> SearchResults:
        """Ranked hits for a Whoosh query-language query; snippets only for the hits shown."""
        if not q.text.strip():
            raise QueryError(q.text, "the query is empty")
        searcher = self._searcher()
        parser = QueryParser(searcher.schema)
        with _whoosh_errors(self.path, "parse a query for"):
            parsed = _parse(parser, q.text)
        if parsed is query.NullQuery:
            raise QueryError(
                q.text, "nothing searchable in it (check quotes, brackets and operators)"
            )
        with _whoosh_errors(self.path, "search"):
            # Expand prefix and fuzzy terms once, against this reader: otherwise Whoosh
            # expands them again to count the hits and once more for every snippet
            # (5 s of 7 s in a profile of 40 fuzzy queries at 10k passages).
            parsed = _expand(parsed, searcher.reader())
            words = {t for f, t in parsed.iter_all_terms() if f == "text"}
            results = searcher.search(
                parsed,
                filter=_filters(q),
                mask=self._mask(searcher, q),
                limit=max(q.offset + q.limit, 1),
                # Score every match in one pass and count them as we go: with block
                # skipping Whoosh would need a second full pass for the total.
                optimize=False,
            )
            hits = [_hit(hit, words, searcher) for hit in results[q.offset : q.offset + q.limit]]
            return SearchResults(q.text, len(results), hits, offset=q.offset)


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _filters(q: SearchQuery) -> Any:
    filters: list[Any] = []
    if q.documents:
        filters.append(query.Or([query.Term("document", d) for d in q.documents]))
    if q.kind is not None:
        filters.append(query.Term("kind", q.kind))
    if q.published_since is not None or q.published_until is not None:
        filters.append(
            query.TermRange("published", q.published_since or "0000", q.published_until or "9999")
        )
    if q.since is not None or q.until is not None:
        filters.append(
            query.DateRange(
                "ingested",
                q.since.astimezone(UTC).replace(tzinfo=None) if q.since else None,
                q.until.astimezone(UTC).replace(tzinfo=None) if q.until else None,
            )
        )
    return query.And(filters) if filters else None


def _hit(hit: Any, words: set[str], searcher: Any) -> Hit:
    """A hit with its snippet: a passage that fits is shown whole, a longer one as up to
    two fragments around the matches."""
    stored = hit.fields()
    text = stored["text"]
    fragmenter = (
        WholeFragmenter()
        if len(text) <= _SNIPPET_CHARS
        else ContextFragmenter(maxchars=_SNIPPET_CHARS, surround=60)
    )
    analyzer_ = searcher.schema["text"].analyzer
    snippet = highlight(text, words, analyzer_, fragmenter, MarkFormatter(), top=2) or _head(text)
    return Hit(
        passage_id=stored["passage_id"],
        document=stored["document"],
        version=stored["version"],
        ordinal=stored["ordinal"],
        kind=stored["kind"],
        score=float(hit.score or 0.0),
        text=text,
        snippet=snippet,
        sha256=stored["raw_sha256"],
        raw_span=(stored["raw_start"], stored["raw_end"]),
        current=stored["current"],
        rule=stored.get("rule"),
        published=stored.get("published") or None,
        passage_sha256=stored["passage_sha256"],
    )


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
        self._tickets = 0
        self._acked = 0
        self._process = ctx.Process(
            target=_background_main,
            args=(str(path), os.getpid(), self._jobs, self._results),
            name="provarchive-indexer",
            daemon=True,
        )
        with interrupts_held():
            self._process.start()

    def replace_version(self, document: str, version: int, entries: Iterable[IndexEntry]) -> None:
        """Queue one version; raise SearchIndexError if the child is gone (a full
        queue would otherwise wait for it forever)."""
        self._put(("replace", document, version, list(entries)))

    def delete_version(self, document: str, version: int) -> None:
        self._put(("replace", document, version, []))

    def _put(self, job: tuple[Any, ...]) -> None:
        while True:
            try:
                self._jobs.put(job, timeout=1.0)
            except queue.Full:
                if not self._process.is_alive():
                    raise self._died() from None
                continue
            self._total += 1
            return

    def checkpoint(self) -> int:
        """Ask the child to commit what it has so far; returns a ticket for :meth:`wait`."""
        self._tickets += 1
        self._put(("checkpoint", self._tickets))
        return self._tickets

    def wait(self, ticket: int, on_progress: Any = None) -> None:
        """Block until the commit of ``ticket`` is done; raise if the child failed."""
        while self._acked < ticket:
            message = self._next_message()
            if message[0] == "progress":
                if on_progress is not None:
                    on_progress(message[1], self._total)
            elif message[0] == "checkpointed":
                self._acked = message[1]
                with _whoosh_errors(self.path, "record checksums of"):
                    record_checksums(self.path)
            elif message[0] == "error":
                self._process.join(timeout=60)
                raise SearchIndexError(f"indexing failed for {self.path}: {message[1]}")

    def commit(self, on_progress: Any = None) -> None:
        """Wait for the child to index everything, commit and exit; raise if it failed."""
        self.wait(self.checkpoint(), on_progress=on_progress)
        self._put(("stop",))
        self._process.join(timeout=60)

    def _next_message(self) -> Any:
        while True:
            try:
                return self._results.get(timeout=1.0)
            except queue.Empty:
                if not self._process.is_alive():
                    raise self._died() from None

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


def _background_main(path: str, parent: int, jobs: Any, results: Any) -> None:
    """The child: apply jobs to a Whoosh writer, commit at each checkpoint."""
    die_with_parent()
    # An interrupt must not kill the writer of a batch the parent is waiting for.
    leave_interrupts_to_parent()
    if os.getppid() != parent:
        return
    writer = None
    done = 0
    try:
        ix = index.open_dir(path, indexname=INDEX_NAME)
        writer = ix.writer(limitmb=WRITER_LIMIT_MB, timeout=60.0)
        wrapped = _Writer(writer)
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
            elif job[0] == "checkpoint":
                writer.commit()
                writer = None
                results.put(("checkpointed", job[1]))
                writer = ix.writer(limitmb=WRITER_LIMIT_MB, timeout=60.0)
                wrapped = _Writer(writer)
            else:  # "stop" after a checkpoint, or "cancel": nothing more is committed
                writer.cancel()
                return
    except BaseException as exc:  # report anything to the parent, which raises it
        if writer is not None:
            with contextlib.suppress(Exception):
                writer.cancel()
        results.put(("error", f"{exc.__class__.__name__}: {exc}"))
