"""The catalog: schema = migrations, UTC times, and a full rebuild from the store."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from provarchive import Archive, ArchiveConfig
from provarchive.catalog import READ_WRITE, Base, Catalog, new_event, queries
from provarchive.errors import CatalogError

from .conftest import SEED_NAME


def test_migrations_produce_exactly_the_models(tmp_path: Path) -> None:
    catalog = Catalog(f"sqlite:///{tmp_path / 'c.sqlite'}")
    assert catalog.migrate() is True
    assert catalog.migrate() is False
    with catalog.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_schema_head_constant_is_the_newest_migration(tmp_path: Path) -> None:
    """Commands compare the catalog against SCHEMA_HEAD; a new migration must move it."""
    from alembic.script import ScriptDirectory

    from provarchive.catalog import SCHEMA_HEAD

    catalog = Catalog(f"sqlite:///{tmp_path / 'c.sqlite'}")
    with catalog.engine.connect() as conn:
        scripts = ScriptDirectory.from_config(catalog._alembic_config(conn))
        assert scripts.get_heads() == [SCHEMA_HEAD]
    assert catalog.schema_status() == (None, SCHEMA_HEAD)
    catalog.migrate()
    assert catalog.schema_status() == (SCHEMA_HEAD, SCHEMA_HEAD)
    with catalog.engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == SCHEMA_HEAD
    catalog.require_current_schema()


def test_an_old_schema_is_refused_by_readers_and_upgraded_by_writers(tmp_path: Path) -> None:
    from alembic import command

    catalog = Catalog(f"sqlite:///{tmp_path / 'c.sqlite'}")
    with catalog.engine.begin() as conn:
        command.upgrade(catalog._alembic_config(conn), "0002")
    assert catalog.schema_status()[0] == "0002"
    with pytest.raises(CatalogError, match="older than this provarchive"):
        catalog.require_current_schema()
    assert catalog.migrate() is True
    catalog.require_current_schema()


def test_reader_refuses_a_missing_catalog_without_creating_it(tmp_path: Path) -> None:
    path = tmp_path / "none.sqlite"
    catalog = Catalog(f"sqlite:///{path}", mode=READ_WRITE)
    with pytest.raises(CatalogError):
        catalog.require_current_schema()
    assert not path.exists()


def test_times_are_stored_and_returned_in_utc(tmp_path: Path) -> None:
    catalog = Catalog(f"sqlite:///{tmp_path / 'c.sqlite'}")
    catalog.migrate()
    local = datetime(2026, 5, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    with catalog.session() as s:
        s.add(new_event("test", "x", when=local))
    with catalog.session() as s:
        [event] = queries.events(s)
    assert event.occurred_at == local
    assert event.occurred_at.tzinfo == UTC
    with pytest.raises(CatalogError, match="naive datetime"), catalog.session() as s:
        s.add(new_event("test", "naive", when=datetime(2026, 1, 1)))


def _catalog_rows(path: Path) -> dict[str, list[tuple]]:
    with sqlite3.connect(path) as db:
        return {
            "documents": db.execute(
                "SELECT name, object_id, object_path, head, created_at FROM documents ORDER BY name"
            ).fetchall(),
            "versions": db.execute(
                "SELECT d.name, v.number, v.sha256, v.sha512, v.size, v.source, v.message, v.user_name, v.user_address, v.content_path, v.ingested_at "
                "FROM versions v JOIN documents d ON d.id = v.document_id ORDER BY d.name, v.number"
            ).fetchall(),
            "passages": db.execute(
                "SELECT p.passage_id, p.kind, p.text, p.sha256, p.raw_start, p.raw_end FROM passages p "
                "JOIN derivations r ON r.id = p.derivation_id WHERE r.current ORDER BY p.passage_id"
            ).fetchall(),
            "removals": db.execute(
                "SELECT text, rule, reason, raw_start, raw_end FROM removals ORDER BY raw_start"
            ).fetchall(),
        }


def test_rebuild_recreates_the_catalog_from_the_store_alone(
    archive: Archive, seeded: Path, seed_bytes: bytes
) -> None:
    (seeded / "sub").mkdir()
    (seeded / "sub" / "b.txt").write_text("b1")
    archive.ingest()
    (seeded / "sub" / "b.txt").write_text("b2")
    (seeded / SEED_NAME).write_bytes(seed_bytes + b"\nUpdate.\n")
    archive.ingest()
    before = _catalog_rows(archive.home.catalog_path)
    events_before = [(e.event_type, e.document, e.version) for e in archive.events()]
    archive.close()
    # Lose the catalog entirely: only archive/ocfl is left.
    for p in archive.config.root.glob("catalog.sqlite*"):
        p.unlink()
    fresh = Archive(archive.config)
    count = fresh.rebuild()
    assert count == 2
    assert _catalog_rows(fresh.home.catalog_path) == before
    # With the old catalog gone, its event log comes back from the transparency log (which
    # holds every event of every writing command), followed by the rebuild's own.
    events = [(e.event_type, e.document, e.version) for e in fresh.events()]
    assert events[: len(events_before)] == events_before
    assert [t for t, _d, _v in events[len(events_before) :]][-2:] == ["rebuild", "reindex"]
    assert fresh.verify().is_ok()


def test_rebuild_keeps_the_event_log_and_the_old_catalog(archive: Archive, seeded: Path) -> None:
    archive.ingest()
    old = archive.home.catalog_path
    events_before = [(e.event_type, e.document, e.detail) for e in archive.events()]
    archive.rebuild()
    after = [(e.event_type, e.document, e.detail) for e in archive.events()]
    assert after[: len(events_before)] == events_before
    assert [e[0] for e in after[-2:]] == ["rebuild", "reindex"]
    # The new catalog was built aside and switched to; the old file stays as a backup.
    assert archive.home.catalog_path != old
    assert old.exists()


@pytest.mark.slow
def test_rebuild_keeps_at_most_three_earlier_catalogs(archive: Archive, seeded: Path) -> None:
    archive.ingest()
    seen = {archive.home.catalog_path.name}
    for _ in range(5):
        archive.rebuild()
        seen.add(archive.home.catalog_path.name)
    on_disk = {p.name for p in archive.config.root.glob("catalog*.sqlite")}
    assert len(seen) == 6
    assert archive.home.catalog_path.name in on_disk
    assert len(on_disk) == 4  # the live one and the last three


def test_an_empty_catalog_is_rebuilt_automatically_by_the_next_writer(
    archive: Archive, seeded: Path
) -> None:
    archive.ingest()
    archive.close()
    for p in archive.config.root.glob("catalog.sqlite*"):
        p.unlink()
    fresh = Archive(archive.config)
    report = fresh.ingest()
    assert [r.status for r in report.results] == ["unchanged"]
    assert "catalog-rebuilt" in [r.action for r in report.repairs]
    assert fresh.verify().is_ok()


def test_catalog_url_is_configurable(tmp_path: Path, seeded: Path) -> None:
    db = tmp_path / "elsewhere" / "cat.db"
    db.parent.mkdir()
    config = ArchiveConfig(root=tmp_path / "arch", seeds=seeded, db_url=f"sqlite:///{db}")
    with Archive(config) as a:
        a.ingest()
        assert db.exists()
        assert not (tmp_path / "arch" / "catalog.sqlite").exists()
        assert [v.version for v in a.versions(SEED_NAME)] == [1]
        assert a.verify().is_ok()


KILL_DURING_MIGRATION = """
import os, signal, sys
from alembic.operations import Operations
from provarchive.catalog import Catalog
real = Operations.create_index
calls = []
def create_index(self, *args, **kwargs):
    calls.append(1)
    if len(calls) == 3:
        os.kill(os.getpid(), signal.SIGKILL)
    return real(self, *args, **kwargs)
Operations.create_index = create_index
Catalog(sys.argv[1]).migrate()
"""


def test_sigkill_during_a_migration_leaves_nothing_behind(tmp_path: Path) -> None:
    """Each migration is one transaction. The SIGKILL trials once found tables without
    a schema version after a kill during the first migration (Python's sqlite3 ran
    each CREATE TABLE outside any transaction)."""
    import signal
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'c.sqlite'}"
    killed = subprocess.run([sys.executable, "-c", KILL_DURING_MIGRATION, url], capture_output=True)
    assert killed.returncode == -signal.SIGKILL
    with sqlite3.connect(tmp_path / "c.sqlite") as db:
        assert db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall() == []
    catalog = Catalog(url)
    assert catalog.migrate() is True
    with catalog.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []


def test_a_write_overtaken_by_another_commit_is_not_called_a_lock_timeout(
    tmp_path: Path,
) -> None:
    """SQLite says 'database is locked' at once (SQLITE_BUSY_SNAPSHOT) when a read
    transaction another connection's commit overtook tries to write: no wait helps, so
    it is no CatalogBusyError (exit 5, 'raise --lock-timeout')."""
    from provarchive.errors import CatalogBusyError

    url = f"sqlite:///{tmp_path / 'c.sqlite'}"
    one, two = Catalog(url, busy_timeout=5), Catalog(url, busy_timeout=5)
    one.migrate()
    with pytest.raises(CatalogError) as raised, one.session() as s:
        queries.events(s)  # a read: this transaction's snapshot
        with two.session() as other:
            other.add(new_event("test", "committed first"))
        s.add(new_event("test", "overtaken"))
        s.flush()
    assert not isinstance(raised.value, CatalogBusyError)
    assert "another connection wrote first" in str(raised.value)
    one.close()
    two.close()


def test_a_lock_timeout_past_sqlite_s_limit_still_waits(tmp_path: Path) -> None:
    catalog = Catalog(f"sqlite:///{tmp_path / 'c.sqlite'}", busy_timeout=1e9)
    with catalog.engine.connect() as conn:  # 2**31 ms did not parse: SQLite set 0
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 2**31 - 1
    catalog.close()
