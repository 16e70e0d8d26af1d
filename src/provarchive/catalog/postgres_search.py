"""The PostgreSQL search engine: passages in catalog tables, GIN-indexed ``tsvector``\\ s.

Contract:
- :class:`PostgresEngine` implements :class:`~provarchive.search.engine.SearchEngine`
  on the tables of catalog migrations 0006, 0008 and 0010 (``search_entries``,
  ``search_index``, ``search_words``, ``search_meta``) in the catalog's own database.
  Every write is one transaction (all or nothing); :meth:`PostgresEngine.write_in`
  writes inside a caller's transaction, so passages are indexed with their catalog
  rows (ingest does so); readers never wait (MVCC), and a rebuild is one transaction
  that readers do not see until it commits. There is no background indexer and
  nothing for a crash to leave behind.
- Terms are the archive's own analysis (:mod:`provarchive.search.analysis`), the
  query language Whoosh's (:mod:`provarchive.search.query`), snippets Whoosh's
  (:mod:`provarchive.search.snippets`); :mod:`provarchive.catalog.postgres_sql` turns
  them into SQL. So results match the Whoosh engine's on the conformance suite, with
  the differences listed there (ranking, limits of ``tsvector``).
Database errors leave as :class:`~provarchive.errors.SearchIndexError`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import create_engine, event, exc, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from ..errors import QueryError, SearchIndexError
from ..processes import interrupts_held, stop_pool, worker_pool
from ..search.analysis import analysis_fingerprint
from ..search.engine import Hit, IndexEntry, SearchQuery, SearchResults
from ..search.query import highlighter, parse_query
from ..search.snippets import snippet
from .database import Catalog, copy_rows
from .models import key_of
from .postgres_sql import (
    Prepared,
    count_prefixed,
    expand,
    passage_terms,
    prepare,
    rank_bound,
    ranked_prefixes,
    search_plan,
    simplify,
    tsvector_literal,
)

if TYPE_CHECKING:
    from concurrent.futures import Future

_COLUMNS = (
    "seq", "passage_key", "passage_id", "document", "document_key", "version", "ordinal",
    "kind", "text", "passage_sha256", "raw_sha256", "raw_start", "raw_end", "ingested",
    "current", "entry_digest", "rule", "published",
)  # fmt: skip
_INDEX_COLUMNS = ("seq", "current", "kind", "ingested", "tsv", "published", "bound")
_ENTRY_COLUMNS = (
    "passage_id, document, version, ordinal, kind, text, passage_sha256, raw_sha256, "
    "raw_start, raw_end, ingested, current, rule, published"
)
TABLES = ("search_entries", "search_index", "search_words", "search_meta")
_PLANNER = "SET LOCAL plan_cache_mode = force_custom_plan"


def _first_line(e: BaseException) -> str:
    message = str(getattr(e, "orig", None) or e)
    return message.splitlines()[0] if message else e.__class__.__name__


@contextlib.contextmanager
def _db_errors(where: str, action: str) -> Iterator[None]:
    """Database errors (SQLAlchemy's or psycopg's own, from COPY) as SearchIndexError."""
    try:
        yield
    except (SearchIndexError, QueryError):
        raise
    except Exception as e:
        import psycopg

        if not isinstance(e, exc.SQLAlchemyError | psycopg.Error):
            raise
        hint = ""
        if "search_" in str(e) and "does not exist" in str(e):
            hint = " (the catalog has no search tables yet: a writing command migrates it)"
        raise SearchIndexError(
            f"cannot {action} the search index in {where}: {_first_line(e)}{hint}"
        ) from e


def entry_rows(
    seq: int, e: IndexEntry, prepared: Prepared | None = None
) -> tuple[tuple[Any, ...], tuple[Any, ...], set[str]]:
    """The ``search_entries`` and ``search_index`` rows of an entry, and its lexemes
    (for ``search_words``; none if ``prepared`` had the entry: they are among its words)."""
    ahead = prepared.vector(e.text, e.kind) if prepared is not None else None
    if ahead is not None:
        tsv, bound = ahead
        lexemes: set[str] = set()
    else:
        terms = passage_terms(e.text)
        tsv, bound, lexemes = tsvector_literal(terms, e.kind), rank_bound(terms, e.kind), set(terms)
    row = (
        seq, key_of(e.passage_id), e.passage_id, e.document, key_of(e.document), e.version,
        e.ordinal, e.kind, e.text, e.passage_sha256, e.raw_sha256, e.raw_start, e.raw_end,
        e.ingested, e.current, e.digest(), e.rule, e.published,
    )  # fmt: skip
    return row, (seq, e.current, e.kind, e.ingested, tsv, e.published, bound), lexemes


ENTRY_BUFFER = 5000
"""Entries a writer holds before it writes them (one DELETE, one sequence call and one
COPY per table for all of them: per version, the round trips cost more than the rows)."""


class PostgresWriter:
    """Changes to the index on one connection, inside that connection's transaction
    (see :meth:`PostgresEngine.writing` and :meth:`PostgresEngine.write_in`). Entries
    are written in groups of up to :data:`ENTRY_BUFFER`, the rest by :meth:`flush`,
    which the engine calls before the transaction commits; their words (the vocabulary
    that fuzzy and prefix terms expand against) by :meth:`flush` too.

    The words go in one statement, sorted, because writers sharing an archive insert
    them at the same time: rows of one table taken in one global order never make two
    transactions wait for each other (``deadlock detected`` when each inserted its
    words version by version).

    One writer per transaction: entries it holds are not seen by another writer on the
    same connection (nor by reads) until :meth:`flush`. Entries ``prepared`` holds are
    written from it (see :class:`Preparer`), with all its words."""

    def __init__(self, conn: Connection, where: str, prepared: Prepared | None = None) -> None:
        self._conn = conn
        self._where = where
        self._prepared = prepared
        self._words: set[str] = set()
        self._pending: set[str] = set(prepared.words) if prepared is not None else set()
        self._versions: dict[tuple[str, int], list[IndexEntry]] = {}
        self._held = 0

    def delete_version(self, document: str, version: int) -> None:
        self._held -= len(self._versions.pop((document, version), []))
        with _db_errors(self._where, "write"):
            self._conn.execute(
                text("DELETE FROM search_entries WHERE document_key = :k AND version = :v"),
                {"k": key_of(document), "v": version},
            )

    def replace_version(self, document: str, version: int, entries: Iterable[IndexEntry]) -> None:
        todo = list(entries)
        self._held += len(todo) - len(self._versions.get((document, version), []))
        self._versions[(document, version)] = todo
        if self._held >= ENTRY_BUFFER:
            self._write_versions()

    def flush(self) -> None:
        """Write the entries held, then insert the words of every entry written since the
        last flush (see the class)."""
        self._write_versions()
        new = sorted(self._pending - self._words)
        self._pending.clear()
        if not new:
            return
        with _db_errors(self._where, "write"):
            self._conn.execute(
                text("INSERT INTO search_words (word) SELECT unnest(CAST(:w AS text[])) "
                     "ON CONFLICT DO NOTHING"),
                {"w": new},
            )  # fmt: skip
        self._words.update(new)

    def _write_versions(self) -> None:
        """Replace the entries of every version held: its old rows go first (a passage's
        key is unique), then the new ones in one COPY per table."""
        if not self._versions:
            return
        versions, self._versions, self._held = self._versions, {}, 0
        todo = [e for entries in versions.values() for e in entries]
        with _db_errors(self._where, "write"):
            self._conn.execute(
                text("DELETE FROM search_entries e USING unnest(CAST(:k AS text[]), "
                     "CAST(:v AS integer[])) AS d(k, v) "
                     "WHERE e.document_key = d.k AND e.version = d.v"),
                {"k": [key_of(d) for d, _v in versions], "v": [v for _d, v in versions]},
            )  # fmt: skip
            if not todo:
                return
            seqs = self._conn.execute(
                text("SELECT nextval(pg_get_serial_sequence('search_entries', 'seq')) "
                     "FROM generate_series(1, :n)"),
                {"n": len(todo)},
            ).scalars().all()  # fmt: skip
            rows, index_rows = [], []
            for seq, e in zip(seqs, todo, strict=True):
                row, index_row, lexemes = entry_rows(seq, e, self._prepared)
                rows.append(row)
                index_rows.append(index_row)
                self._pending |= lexemes
            self._copy("search_entries", _COLUMNS, rows)
            self._copy("search_index", _INDEX_COLUMNS, index_rows)

    def _copy(self, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
        copy_rows(self._conn, table, columns, rows)


class Preparer:
    """A child process that does the costly part of writing entries (their analysis into
    ``tsvector`` literals, :func:`~provarchive.catalog.postgres_sql.prepare`) while the
    caller goes on: on a second core, what Whoosh's background writer is to Whoosh.
    It never touches the database; what it returns is a pure function of the entries'
    texts, so a writer given it writes what it would have computed itself."""

    def __init__(self) -> None:
        self._executor = worker_pool(1)

    def submit(self, jobs: Iterable[tuple[str, int, list[IndexEntry]]]) -> Future[Prepared]:
        items = list({(e.text, e.kind) for _document, _version, entries in jobs for e in entries})
        with interrupts_held():  # the first submit starts the child
            return self._executor.submit(prepare, items)

    def close(self, *, at_once: bool = False) -> None:
        """Stop the child (``at_once``: without waiting for a batch in hand)."""
        stop_pool(self._executor, at_once=at_once)


class PostgresEngine:
    """The search index in the catalog's PostgreSQL database."""

    name = "postgres"

    def __init__(self, target: str | Catalog | Engine) -> None:
        self._owned = not isinstance(target, Catalog | Engine)
        try:
            if isinstance(target, Catalog):
                self.engine: Engine = target.engine
            elif isinstance(target, Engine):
                self.engine = target
            else:
                self.engine = create_engine(target, pool_pre_ping=True)
        except ImportError as e:
            raise SearchIndexError(
                f"the PostgreSQL engine needs psycopg: install provarchive[postgres] ({e})"
            ) from e
        except (exc.SQLAlchemyError, ValueError) as e:
            raise SearchIndexError(f"cannot open {target}: {e}") from e
        self.url = self.engine.url.render_as_string(hide_password=True)
        if self.engine.dialect.name != "postgresql":
            raise SearchIndexError(
                f"the postgres search engine needs a PostgreSQL catalog, not {self.url}"
            )
        self._checked = False

    # -- lifecycle ----------------------------------------------------------------------------

    def _meta(self, conn: Connection) -> dict[str, str] | None:
        """search_meta, or None if the tables are missing."""
        if conn.execute(text("SELECT to_regclass('search_meta')")).scalar() is None:
            return None
        return {k: v for k, v in conn.execute(text("SELECT key, value FROM search_meta"))}

    def exists(self) -> bool:
        with _db_errors(self.url, "open"), self.engine.connect() as conn:
            meta = self._meta(conn)
        return bool(meta and "created" in meta)

    def _record(self, conn: Connection) -> None:
        conn.execute(text("DELETE FROM search_meta"))
        conn.execute(
            text("INSERT INTO search_meta (key, value) VALUES ('created', :c), ('analysis', :a)"),
            {"c": datetime.now(UTC).isoformat(), "a": analysis_fingerprint()},
        )

    def _tables(self, conn: Connection) -> None:
        if self._meta(conn) is None:
            raise SearchIndexError(
                f"{self.url} has no search tables (catalog schema older than 0005): "
                "a writing command migrates it"
            )

    def create(self) -> None:
        with _db_errors(self.url, "create"), self.engine.begin() as conn:
            self._tables(conn)
            conn.execute(text("TRUNCATE search_index, search_entries, search_words"))
            self._record(conn)
        self._checked = False

    def check(self) -> None:
        with _db_errors(self.url, "open"), self.engine.connect() as conn:
            meta = self._meta(conn)
            if not meta or "created" not in meta:
                raise SearchIndexError(f"no search index in {self.url} (run 'provarchive reindex')")
            if meta.get("analysis") != analysis_fingerprint():
                raise SearchIndexError(
                    f"the search index in {self.url} was built by another provarchive "
                    "(analysis differs); run 'provarchive reindex'"
                )
            conn.execute(text("SELECT 1 FROM search_entries LIMIT 1")).all()
        self._checked = True

    def _require(self) -> None:
        if not self._checked:
            self.check()

    def damage(self, *, thorough: bool) -> list[str]:
        """Nothing to find: PostgreSQL checks its own pages, and the audit compares digests."""
        return []

    def tidy(self) -> list[str]:
        """Nothing to remove: an interrupted write is a rolled-back transaction."""
        return []

    def close(self) -> None:
        if self._owned:
            self.engine.dispose()

    # -- writing ------------------------------------------------------------------------------

    def write_in(
        self, target: Session | Connection, prepared: Prepared | None = None
    ) -> PostgresWriter:
        """A writer inside the caller's transaction (a catalog session or connection on
        this database): the entries commit or roll back with the catalog rows. In a
        session its words are flushed as the session commits; the caller of a bare
        connection calls :meth:`PostgresWriter.flush` before it commits. ``prepared``:
        what :meth:`preparer` made of the entries about to be written."""
        conn = target.connection() if isinstance(target, Session) else target
        writer = PostgresWriter(conn, self.url, prepared)
        if isinstance(target, Session):
            event.listen(target, "before_commit", lambda _s: writer.flush())
        return writer

    @contextlib.contextmanager
    def writing(self) -> Iterator[PostgresWriter]:
        """One transaction: committed if the block succeeds, rolled back otherwise."""
        self._require()
        with _db_errors(self.url, "write"), self.engine.connect() as conn, conn.begin():
            writer = PostgresWriter(conn, self.url)
            yield writer
            writer.flush()

    @contextlib.contextmanager
    def rebuilding(self) -> Iterator[PostgresWriter]:
        """Empty the index and refill it in one transaction: readers see the old index
        until it commits (MVCC), and nothing if it fails."""
        with _db_errors(self.url, "rebuild"), self.engine.connect() as conn, conn.begin():
            self._tables(conn)
            for table in ("search_index", "search_entries", "search_words"):
                conn.execute(text(f"DELETE FROM {table}"))
            writer = PostgresWriter(conn, self.url)
            yield writer
            writer.flush()
            self._record(conn)
        self._checked = False

    def background_writer(self) -> None:
        """None: entries are written in the caller's transaction."""
        return None

    def preparer(self) -> Preparer:
        """A child process that prepares entries for :meth:`write_in` ahead of time."""
        return Preparer()

    # -- reading ------------------------------------------------------------------------------

    def doc_count(self) -> int:
        self._require()
        with _db_errors(self.url, "read"), self.engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM search_entries")).scalar_one())

    def entry_digests(self) -> dict[str, str]:
        self._require()
        with _db_errors(self.url, "read"), self.engine.connect() as conn:
            # The driver's own cursor: SQLAlchemy's rows cost more than the query here.
            cursor = conn.connection.cursor()
            try:
                cursor.execute("SELECT passage_id, entry_digest FROM search_entries")
                return dict(cursor.fetchall())
            finally:
                cursor.close()

    def entries(self) -> Iterator[IndexEntry]:
        self._require()
        with _db_errors(self.url, "read"), self.engine.connect() as conn:
            rows = conn.execution_options(stream_results=True, yield_per=1000).execute(
                text(f"SELECT {_ENTRY_COLUMNS} FROM search_entries ORDER BY seq")
            )
            for r in rows:
                yield IndexEntry(
                    passage_id=r.passage_id, document=r.document, version=r.version,
                    ordinal=r.ordinal, kind=r.kind, text=r.text, passage_sha256=r.passage_sha256,
                    raw_sha256=r.raw_sha256, raw_start=r.raw_start, raw_end=r.raw_end,
                    ingested=r.ingested.astimezone(UTC), current=r.current, rule=r.rule,
                    published=r.published,
                )  # fmt: skip

    def search(self, q: SearchQuery) -> SearchResults:
        """Ranked hits in one snapshot: expansion, count and top hits agree."""
        parsed = parse_query(q.text)
        self._require()
        with _db_errors(self.url, "search"), self.engine.connect() as conn, conn.begin():
            conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"))
            conn.execute(text(_PLANNER))
            expanded = expand(parsed, conn)
            matching = simplify(expanded)
            if matching.op == "null":
                return SearchResults(q.text, 0, [], offset=q.offset)
            prefixed = count_prefixed(conn, ranked_prefixes(expanded))
            plan = search_plan(matching, expanded, q, prefixed)
            floor = None
            if plan.probe is not None:
                floor = conn.execute(text(plan.probe), plan.params).scalar()
            if floor is None or plan.pruned is None:
                rows = conn.execute(text(plan.full), plan.params).all()
            else:
                rows = conn.execute(text(plan.pruned), {**plan.params, "floor": floor}).all()
        matched = highlighter(expanded)  # every term, as Whoosh marks them (ANDMAYBE's too)
        found = [r for r in rows if r.passage_id is not None]  # the count's row comes always
        hits = [_hit(r, matched) for r in found[: max(q.limit, 0)]]
        return SearchResults(q.text, int(rows[0].total), hits, offset=q.offset)


def _hit(r: Any, matched: Callable[[str], bool]) -> Hit:
    return Hit(
        passage_id=r.passage_id, document=r.document, version=r.version, ordinal=r.ordinal,
        kind=r.kind, score=float(r.score), text=r.text, snippet=snippet(r.text, matched),
        sha256=r.raw_sha256, raw_span=(r.raw_start, r.raw_end), current=r.current,
        rule=r.rule, published=r.published, passage_sha256=r.passage_sha256,
    )  # fmt: skip
