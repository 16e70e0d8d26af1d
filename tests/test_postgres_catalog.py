"""The catalog on PostgreSQL: migrations, the archive end to end, and the search tables.

A real server (tests/postgres.py). These prove that nothing in the catalog's code
path is SQLite-specific, that migration 0005 creates the search engine's tables
there and nothing at all on SQLite, and what the engine promises about
transactions and roles.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from provarchive import Archive, ArchiveConfig
from provarchive.catalog import SCHEMA_HEAD, Base, Catalog, new_event, queries
from provarchive.catalog.postgres_search import TABLES, PostgresEngine
from provarchive.errors import CatalogError, SearchIndexError
from provarchive.search.engine import IndexEntry, SearchQuery

from .conftest import GO, SEED_NAME
from .postgres import PgServer


def entry(doc: str, ordinal: int, text: str, version: int = 1) -> IndexEntry:
    return IndexEntry(
        f"{doc}@v{version}#{ordinal}", doc, version, ordinal, "body", text, "p" * 64, "r" * 64,
        0, len(text), datetime(2026, 1, 1, tzinfo=UTC), True,
    )  # fmt: skip


def _not_search_tables(name: str | None, type_: str, _parent: object) -> bool:
    return not (type_ == "table" and name in TABLES)


def test_migrations_produce_exactly_the_models_on_postgresql(pg_url: str) -> None:
    catalog = Catalog(pg_url)
    assert catalog.migrate() is True
    assert catalog.migrate() is False
    with catalog.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": _not_search_tables})
        assert compare_metadata(context, Base.metadata) == []
        tables = set(sa.inspect(conn).get_table_names())
        inspector = sa.inspect(conn)
        indexes = {i["name"] for t in TABLES for i in inspector.get_indexes(t)}
    assert set(TABLES) <= tables
    assert {"ix_search_index_tsv", "ix_search_entries_version", "ix_search_words_trgm"} <= indexes
    catalog.require_current_schema()
    catalog.close()


def test_the_postgres_migrations_do_nothing_on_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    catalog = Catalog(f"sqlite:///{path}")

    def schema() -> list[tuple[str, str]]:
        with sqlite3.connect(path) as db:
            return db.execute("SELECT name, sql FROM sqlite_master ORDER BY name").fetchall()

    with catalog.engine.begin() as conn:
        command.upgrade(catalog._alembic_config(conn), "0005")
    before = schema()
    with catalog.engine.begin() as conn:
        command.upgrade(catalog._alembic_config(conn), "0006")  # PostgreSQL only
    assert schema() == before
    with catalog.engine.begin() as conn:
        command.upgrade(catalog._alembic_config(conn), "0007")  # withdrawn: every backend
    before = schema()
    with catalog.engine.begin() as conn:
        command.upgrade(catalog._alembic_config(conn), "0008")  # PostgreSQL only
    assert schema() == before
    catalog.migrate()  # 0009, an index on every backend
    assert [n for n, _sql in schema() if (n, _sql) not in before] == [
        "ix_derivations_version_current"
    ]
    assert catalog.schema_status()[0] == SCHEMA_HEAD
    catalog.close()


def test_an_archive_ingests_searches_and_verifies_on_postgresql(
    tmp_path: Path, seeded: Path, pg_url: str
) -> None:
    """The archive with its catalog on PostgreSQL and, by default, its search index in
    the same database: nothing in the path is SQLite- or Whoosh-specific."""
    config = ArchiveConfig(root=tmp_path / "archive", seeds=seeded, db_url=pg_url)
    with Archive(config) as archive:
        archive.ingest()
        assert archive.home.settings.engine == "postgres"
        assert [v.version for v in archive.versions(SEED_NAME)] == [1]
        results = archive.search('"Go Myong-hyun"')
        assert [h.passage_id for h in results.hits] == [GO]
        assert results.index_behind == 0
        assert archive.lineage(GO).passage.passage_id == GO
        report = archive.verify()
        assert report.is_ok(), report.findings
        # stats sizes the tables on the server: the search engine's are the index.
        sizes = archive.home.catalog.table_bytes()
        stats = archive.stats()
        assert set(TABLES) < set(sizes)
        assert stats.index_bytes == sum(sizes[t] for t in TABLES)
        assert stats.catalog_bytes == sum(sizes.values()) - stats.index_bytes > 0
        assert archive.reindex().passages > 0
        assert archive.rebuild() == 1
        assert archive.verify().is_ok()
    assert not (tmp_path / "archive" / "catalog.sqlite").exists()
    assert not config.index_dir.exists()


def _derived_rows(archive: Archive) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    """Every passage and removed-line row but its database ids, in order."""
    from provarchive.catalog.models import PassageRecord, RemovalRecord

    with archive.home.catalog.session() as s:
        passages = s.execute(
            sa.select(PassageRecord.passage_id, PassageRecord.passage_key, PassageRecord.ordinal,
                      PassageRecord.kind, PassageRecord.text, PassageRecord.sha256,
                      PassageRecord.raw_start, PassageRecord.raw_end)
            .order_by(PassageRecord.passage_id)
        )  # fmt: skip
        removals = s.execute(
            sa.select(RemovalRecord.ordinal, RemovalRecord.text, RemovalRecord.rule,
                      RemovalRecord.reason, RemovalRecord.raw_start, RemovalRecord.raw_end)
            .order_by(RemovalRecord.raw_start)
        )  # fmt: skip
        return [tuple(r) for r in passages], [tuple(r) for r in removals]


def test_passages_copied_into_postgresql_are_those_sqlite_holds_and_a_refused_copy_is_a_catalog_error(
    tmp_path: Path, seeded: Path, pg_url: str
) -> None:
    """On PostgreSQL passages and removed lines are written by COPY: the rows are the
    ones a SQLite catalog holds after the same ingest (keys included), and a COPY the
    server refuses is a CatalogError in one line that leaves nothing written."""
    held = []
    for name, url in (("embedded", None), ("served", pg_url)):
        config = ArchiveConfig(root=tmp_path / name, seeds=seeded, db_url=url)
        with Archive(config) as archive:
            archive.ingest()
            assert archive.home.catalog.dialect == ("sqlite" if url is None else "postgresql")
            held.append(_derived_rows(archive))
    passages, removals = held[1]
    assert len(passages) >= 7 and len(removals) >= 8
    assert held[0] == held[1]

    catalog = Catalog(pg_url)
    orphan = {"derivation_id": 10**9, "passage_id": "x.txt@v1#1", "ordinal": 1, "kind": "body",
              "text": "an orphan", "sha256": "0" * 64, "raw_start": 0, "raw_end": 9}  # fmt: skip
    refused = r"^catalog error: ForeignKeyViolation: .*passages"
    with pytest.raises(CatalogError, match=refused), catalog.session() as s:
        s.add(new_event("test", "rolled back with the COPY"))
        queries.insert_passages(s, [orphan])
    with catalog.session() as s:
        assert "rolled back with the COPY" not in [e.detail for e in queries.events(s)]
    catalog.close()


def test_ingest_indexes_in_the_catalog_transaction(
    tmp_path: Path, seeded: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every batch's entries are written in its catalog transaction: nothing is left for
    a catch-up sync to index, and a failed catalog commit leaves no entries behind."""
    from provarchive.search import sync

    config = ArchiveConfig(root=tmp_path / "archive", seeds=seeded, db_url=pg_url)
    writes: list[int] = []
    original = sync.BatchIndexer.in_transaction

    def spy(self: sync.BatchIndexer, s: object, batch: int) -> None:
        writes.append(batch)
        original(self, s, batch)  # type: ignore[arg-type]

    monkeypatch.setattr(sync.BatchIndexer, "in_transaction", spy)
    monkeypatch.setattr(sync, "_write", lambda *a, **k: pytest.fail("a catch-up sync ran"))
    with Archive(config) as archive:
        archive.ingest()
        assert writes == [1]
        engine = archive.home.fresh_engine()
        with archive.home.catalog.session() as s:
            assert queries.index_pending(s) == []
        assert engine.doc_count() > 0
        assert archive.verify().is_ok()


def test_entries_commit_or_roll_back_with_the_catalog_rows(pg_catalog_url: str) -> None:
    catalog = Catalog(pg_catalog_url)
    engine = PostgresEngine(catalog)
    engine.create()
    with pytest.raises(RuntimeError), catalog.session() as s:
        s.add(new_event("test", "rolled back"))
        engine.write_in(s).replace_version("a.txt", 1, [entry("a.txt", 1, "lighthouse keeper")])
        raise RuntimeError("the catalog transaction fails")
    assert engine.doc_count() == 0
    with catalog.session() as s:
        assert [e.detail for e in queries.events(s)] == []
    with catalog.session() as s:
        s.add(new_event("test", "committed"))
        engine.write_in(s).replace_version("a.txt", 1, [entry("a.txt", 1, "lighthouse keeper")])
    assert [h.passage_id for h in engine.search(SearchQuery("lighthouse")).hits] == ["a.txt@v1#1"]
    with catalog.session() as s:
        assert [e.detail for e in queries.events(s)] == ["committed"]
    engine.close()
    catalog.close()


def test_copied_rows_that_differ_in_their_columns_are_refused(pg_catalog_url: str) -> None:
    """Rows go to PostgreSQL by COPY in the first row's columns: a later row with a key
    more would lose its value in silence, so such rows are refused and nothing is written."""
    from provarchive.catalog.models import Event

    catalog = Catalog(pg_catalog_url)
    row = {
        "occurred_at": datetime(2026, 1, 1, tzinfo=UTC), "event_type": "test", "outcome": "ok",
        "agent": "tester", "document": None, "document_key": None, "version": None,
        "detail": "first", "logged": False,
    }  # fmt: skip
    try:
        with (
            pytest.raises(ValueError, match="events differ in their columns"),
            catalog.session() as s,
        ):
            queries._insert_rows(s, Event, [row, {**row, "detail": "second", "extra": 1}])
        with catalog.session() as s:
            assert [e.detail for e in queries.events(s)] == []
            queries._insert_rows(s, Event, [row, {**row, "detail": "second"}])
        with catalog.session() as s:
            assert sorted(e.detail for e in queries.events(s)) == ["first", "second"]
    finally:
        catalog.close()


def test_entries_held_by_a_writer_are_replaced_and_deleted_as_if_written_at_once(
    pg_catalog_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from provarchive.catalog import postgres_search

    monkeypatch.setattr(postgres_search, "ENTRY_BUFFER", 3)  # a write in mid-transaction
    engine = PostgresEngine(pg_catalog_url)
    engine.create()
    with engine.writing() as w:
        w.replace_version("a.txt", 1, [entry("a.txt", 1, "old lighthouse"), entry("a.txt", 2, "x")])
        w.replace_version("b.txt", 1, [entry("b.txt", 1, "harbour"), entry("b.txt", 2, "quay")])
        w.replace_version("a.txt", 1, [entry("a.txt", 1, "new lighthouse")])  # written ones
        w.delete_version("b.txt", 1)
        w.replace_version("c.txt", 1, [entry("c.txt", 1, "held lighthouse")])
        w.replace_version("c.txt", 1, [entry("c.txt", 1, "lighthouse at last")])  # held one
        w.replace_version("d.txt", 1, [entry("d.txt", 1, "harbour gone")])
        w.delete_version("d.txt", 1)  # held, then deleted: never written
    hits = engine.search(SearchQuery("lighthouse")).hits
    assert sorted((h.passage_id, h.text) for h in hits) == [
        ("a.txt@v1#1", "new lighthouse"),
        ("c.txt@v1#1", "lighthouse at last"),
    ]
    assert engine.doc_count() == 2 and engine.search(SearchQuery("harbour")).total == 0
    assert engine.search(SearchQuery("lighthou~")).total == 2  # the words were flushed
    engine.close()


KILLED_WRITER = """
import os, signal, sys
from datetime import UTC, datetime
from provarchive.catalog.postgres_search import PostgresEngine
from provarchive.search.engine import IndexEntry
engine = PostgresEngine(sys.argv[1])
with engine.writing() as w:
    for n in range(1, 200):
        w.replace_version(f"d{n}.txt", 1, [IndexEntry(f"d{n}.txt@v1#1", f"d{n}.txt", 1, 1,
            "body", "killed before commit", "p" * 64, "r" * 64, 0, 5,
            datetime.now(UTC), True)])
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_writer_killed_before_commit_leaves_nothing(pg_catalog_url: str) -> None:
    engine = PostgresEngine(pg_catalog_url)
    engine.create()
    killed = subprocess.run([sys.executable, "-c", KILLED_WRITER, pg_catalog_url], timeout=120)
    assert killed.returncode == -signal.SIGKILL
    assert engine.doc_count() == 0
    assert engine.tidy() == [] and engine.damage(thorough=True) == []
    engine.close()


def test_a_read_only_role_searches_but_cannot_write(
    pg_server: PgServer, pg_catalog_url: str
) -> None:
    database = sa.make_url(pg_catalog_url).database
    writer = PostgresEngine(pg_catalog_url)
    writer.create()
    with writer.writing() as w:
        w.replace_version("a.txt", 1, [entry("a.txt", 1, "lighthouse keeper")])
    role = f"reader_{os.getpid()}"
    pg_server.execute(
        f"DROP ROLE IF EXISTS {role}",
        f"CREATE ROLE {role} LOGIN",
        f'GRANT CONNECT ON DATABASE "{database}" TO {role}',
    )
    pg_server.execute(
        f"GRANT USAGE ON SCHEMA public TO {role}",
        f"GRANT SELECT ON {', '.join(TABLES)} TO {role}",
        database=database,
    )
    reader = PostgresEngine(pg_server.url(database, user=role))
    try:
        assert [h.passage_id for h in reader.search(SearchQuery("lighthous*")).hits] == [
            "a.txt@v1#1"
        ]
        assert reader.search(SearchQuery("lighthose~")).total == 1
        with pytest.raises(SearchIndexError, match="permission denied"), reader.writing() as w:
            w.delete_version("a.txt", 1)
        assert writer.doc_count() == 1
    finally:
        reader.close()
        writer.close()
        pg_server.execute(f'REVOKE ALL ON DATABASE "{database}" FROM {role}')
        pg_server.execute(
            f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}",
            f"REVOKE ALL ON SCHEMA public FROM {role}",
            database=database,
        )
        pg_server.execute(f"DROP ROLE {role}")


def test_an_index_built_by_another_analysis_is_refused(pg_catalog_url: str) -> None:
    engine = PostgresEngine(pg_catalog_url)
    engine.create()
    engine.check()
    with engine.engine.begin() as conn:
        conn.execute(sa.text("UPDATE search_meta SET value = '0:old' WHERE key = 'analysis'"))
    fresh = PostgresEngine(pg_catalog_url)
    with pytest.raises(SearchIndexError, match="analysis differs"):
        fresh.search(SearchQuery("anything"))
    with fresh.rebuilding() as w:
        w.replace_version("a.txt", 1, [entry("a.txt", 1, "rebuilt")])
    assert fresh.search(SearchQuery("rebuilt")).total == 1
    engine.close()
    fresh.close()


def test_an_engine_needs_a_postgresql_catalog(tmp_path: Path) -> None:
    with pytest.raises(SearchIndexError, match="needs a PostgreSQL catalog"):
        PostgresEngine(f"sqlite:///{tmp_path / 'c.sqlite'}")


def test_a_catalog_without_search_tables_says_how_to_get_them(pg_url: str) -> None:
    engine = PostgresEngine(pg_url)
    assert not engine.exists()
    with pytest.raises(SearchIndexError, match="writing command migrates it"):
        engine.create()
    engine.close()
