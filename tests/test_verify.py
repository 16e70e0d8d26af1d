"""verify: a clean archive verifies; every kind of damage gives its own finding code.

Each damage test is named after the finding code it must produce.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import time
from pathlib import Path

import pytest

from provarchive import Archive
from provarchive.errors import ArchiveNotFoundError
from provarchive.findings import FINDING_TYPES, Finding
from provarchive.store.ocfl import INVENTORY, SIDECAR

from .conftest import SEED_NAME, built_copy


@pytest.fixture
def built(archive: Archive, seeded: Path, tmp_path_factory: pytest.TempPathFactory) -> Archive:
    """The seed (one version) and notes.txt (two versions)."""

    def build(a: Archive, seeds: Path) -> None:
        (seeds / "notes.txt").write_text("first draft\n")
        a.ingest()
        (seeds / "notes.txt").write_text("second draft\n")
        a.ingest()

    return built_copy("verify", archive, build, tmp_path_factory)


def obj(archive: Archive, name: str = SEED_NAME) -> Path:
    return archive.store.object_dir(name)


def content(archive: Archive, name: str = SEED_NAME, version: int = 1) -> Path:
    return archive.content_path(name, version)


def findings(archive: Archive, **kw) -> list[Finding]:
    return archive.verify(**kw).findings


def codes(archive: Archive) -> set[str]:
    return {f.code for f in findings(archive)}


def only_error(archive: Archive, code: str, document: str | None = SEED_NAME) -> Finding:
    report = archive.verify()
    assert not report.is_ok()
    errors = report.errors()
    assert [f.code for f in errors] == [code], [f.to_json() for f in errors]
    if document is not None:
        assert errors[0].document == document
    return errors[0]


def test_clean_archive_verifies(built: Archive) -> None:
    report = built.verify()
    assert report.is_ok(), [f.to_json() for f in report.findings]
    assert report.findings == []
    assert report.checked["objects"] == 2
    assert report.checked["versions"] == 3
    assert report.checked["content_files"] == 3


def test_every_finding_code_has_severity_and_message() -> None:
    for code, (severity, message) in FINDING_TYPES.items():
        assert severity in ("error", "warning", "info"), code
        assert message and message[0].islower(), code


def test_CONTENT_DIGEST_MISMATCH_on_a_bit_flip(built: Archive) -> None:
    path = content(built)
    data = bytearray(path.read_bytes())
    data[100] ^= 0x01
    path.write_bytes(bytes(data))
    f = only_error(built, "CONTENT_DIGEST_MISMATCH")
    assert f.path == str(path)


def test_CONTENT_SIZE_MISMATCH_on_truncation(built: Archive) -> None:
    path = content(built)
    path.write_bytes(path.read_bytes()[:500])
    f = only_error(built, "CONTENT_SIZE_MISMATCH")
    assert "500 bytes" in f.message


def test_CONTENT_MISSING_when_deleted(built: Archive) -> None:
    content(built, "notes.txt", 1).unlink()
    f = only_error(built, "CONTENT_MISSING", "notes.txt")
    assert "v1/content/notes.txt" in f.message


def test_EXTRA_FILE_when_a_stray_file_is_added(built: Archive) -> None:
    (obj(built) / "v1" / "content" / "stray.txt").write_text("who put this here?")
    f = only_error(built, "EXTRA_FILE")
    assert "stray.txt" in f.message


def test_INVENTORY_MODIFIED_when_the_inventory_is_edited(built: Archive) -> None:
    inv_path = obj(built) / INVENTORY
    inv = json.loads(inv_path.read_bytes())
    inv["versions"]["v1"]["message"] = "something else"
    inv_path.write_text(json.dumps(inv, indent=2, sort_keys=True) + "\n")
    only_error(built, "INVENTORY_MODIFIED")


def test_SIDECAR_MISMATCH_when_the_sidecar_is_edited(built: Archive) -> None:
    sidecar = obj(built) / SIDECAR
    sidecar.write_text("0" * 128 + "  inventory.json\n")
    only_error(built, "SIDECAR_MISMATCH")


def test_SIDECAR_MISSING(built: Archive) -> None:
    (obj(built) / SIDECAR).unlink()
    only_error(built, "SIDECAR_MISSING")


def test_INVENTORY_INVALID_when_not_json(built: Archive) -> None:
    (obj(built) / INVENTORY).write_text("{not json")
    report = built.verify()
    assert "INVENTORY_INVALID" in report.codes()
    assert not report.is_ok()


def test_VERSION_DIR_MISSING_when_a_version_directory_is_removed(built: Archive) -> None:
    import shutil

    shutil.rmtree(obj(built, "notes.txt") / "v1")
    report = built.verify()
    assert "VERSION_DIR_MISSING" in report.codes()
    assert all(f.document == "notes.txt" for f in report.errors())


def test_VERSION_DIR_EXTRA_for_a_half_written_version(built: Archive) -> None:
    extra = obj(built) / "v2"
    (extra / "content").mkdir(parents=True)
    (extra / "content" / SEED_NAME).write_text("half")
    only_error(built, "VERSION_DIR_EXTRA")


def test_STRAY_PATH_in_the_storage_root(built: Archive) -> None:
    (built.store.root / "notes-from-admin.txt").write_text("x")
    report = built.verify()
    assert "STRAY_PATH" in report.codes()


def test_CATALOG_DIGEST_MISMATCH_when_a_catalog_row_changes(built: Archive) -> None:
    with sqlite3.connect(built.home.catalog_path) as db:
        db.execute(
            "UPDATE versions SET sha256 = ? WHERE number = 1 AND document_id = (SELECT id FROM documents WHERE name = ?)",
            ("0" * 64, SEED_NAME),
        )
    only_error(built, "CATALOG_DIGEST_MISMATCH")


def test_CATALOG_VERSION_MISSING_when_the_catalog_lacks_a_stored_version(built: Archive) -> None:
    with sqlite3.connect(built.home.catalog_path) as db:
        db.execute("DELETE FROM versions WHERE number = 2")
    only_error(built, "CATALOG_VERSION_MISSING", "notes.txt")


def test_CATALOG_DOCUMENT_MISSING_when_the_catalog_lacks_a_stored_object(built: Archive) -> None:
    with sqlite3.connect(built.home.catalog_path) as db:
        db.execute("PRAGMA foreign_keys=ON")
        db.execute("DELETE FROM documents WHERE name = 'notes.txt'")
    only_error(built, "CATALOG_DOCUMENT_MISSING", "notes.txt")


def test_STORE_VERSION_MISSING_when_the_catalog_has_more_versions(built: Archive) -> None:
    with sqlite3.connect(built.home.catalog_path) as db:
        db.execute(
            "INSERT INTO versions (document_id, number, sha256, sha512, size, source, message, user_name, content_path, ingested_at) "
            "SELECT document_id, 3, sha256, sha512, size, source, message, user_name, content_path, ingested_at FROM versions WHERE number = 2"
        )
    only_error(built, "STORE_VERSION_MISSING", "notes.txt")


def test_STORE_OBJECT_MISSING_when_an_object_is_gone(built: Archive) -> None:
    import shutil

    shutil.rmtree(obj(built, "notes.txt"))
    for parent in obj(built, "notes.txt").parents[:3]:
        parent.rmdir()  # as the store prunes them: an empty directory is damage of its own
    report = built.verify()
    assert "STORE_OBJECT_MISSING" in report.codes()
    assert [f.document for f in report.errors()] == ["notes.txt"]


def test_CATALOG_UNREADABLE_when_the_catalog_file_is_missing(built: Archive) -> None:
    built.close()
    built.home.catalog_path.unlink()
    report = Archive(built.config).verify()
    assert "CATALOG_UNREADABLE" in report.codes()
    assert not report.is_ok()
    assert not built.home.catalog_path.exists()  # verify must not create it


def test_STORE_MISSING(built: Archive) -> None:
    shutil.rmtree(built.store.root)
    report = Archive(built.config).verify()
    assert "STORE_MISSING" in report.codes() and not report.is_ok()


def test_verify_where_there_is_no_archive_at_all_says_so(archive: Archive, cli) -> None:
    """A mistyped --archive is not a damaged archive: exit 3, as every other command."""
    with pytest.raises(ArchiveNotFoundError):
        archive.verify()
    result = cli("--archive", str(archive.config.root), "verify")
    assert result.exit_code == 3 and "no archive at" in result.stderr
    assert not archive.config.root.exists()  # and verify made nothing there


def test_STAGING_LEFTOVER_is_a_warning(built: Archive) -> None:
    (built.config.staging / "txn-dead").mkdir()
    report = built.verify()
    assert report.is_ok()
    assert "STAGING_LEFTOVER" in report.codes()


# -- seeds drift ---------------------------------------------------------------------------------


def test_seed_drift_new_changed_missing(built: Archive, seeded: Path) -> None:
    (seeded / "fresh.txt").write_text("not archived yet")
    (seeded / "notes.txt").write_text("third draft\n")
    (seeded / SEED_NAME).unlink()
    report = built.verify()
    assert report.is_ok()  # drift is information, not damage
    by_code = {f.code: f for f in report.findings}
    assert by_code["SEED_NEW"].document == "fresh.txt"
    assert by_code["SEED_CHANGED"].document == "notes.txt"
    assert by_code["SEED_MISSING"].document == SEED_NAME
    assert by_code["SEED_MISSING"].severity == "info"


def test_seed_drift_hashes_only_files_whose_stat_changed(
    built: Archive, seeded: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = time.time() - 60
    for p in seeded.iterdir():
        os.utime(p, (old, old))
    built.verify()  # stat changed (utime): hashed once, cache refreshed
    import importlib

    verify_mod = importlib.import_module("provarchive.verify.seeds")
    hashed: list[str] = []
    real = verify_mod.hash_stream

    def spy(stream, **kw):
        hashed.append(getattr(stream, "name", "?"))
        return real(stream, **kw)

    monkeypatch.setattr(verify_mod, "hash_stream", spy)
    built.verify()
    seed_reads = [h for h in hashed if str(seeded) in str(h)]
    assert seed_reads == []
    hashed.clear()
    built.verify(full=True)
    assert len([h for h in hashed if str(seeded) in str(h)]) == 2


# -- repairs of derived data ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "tamper",
    [
        "UPDATE versions SET sha256 = '0000000000000000000000000000000000000000000000000000000000000000' WHERE number = 1",
        "DELETE FROM versions WHERE number = 2",
        "UPDATE passages SET text = 'forged text' WHERE ordinal = 1",
        "UPDATE passages SET raw_end = raw_end - 1 WHERE ordinal = 1",
    ],
    ids=["version-digest", "missing-version", "passage-text", "passage-span"],
)
def test_rebuild_repairs_a_damaged_catalog(built: Archive, cli, tamper: str) -> None:
    with sqlite3.connect(built.home.catalog_path) as db:
        db.execute(tamper)
    assert cli("verify").exit_code == 1
    assert cli("rebuild").exit_code == 0
    result = cli("verify", "--json")
    assert result.exit_code == 0, result.stdout
    assert [f["code"] for f in json.loads(result.stdout)["findings"]] == []


def test_reindex_repairs_a_damaged_index(built: Archive, cli) -> None:
    engine = built.home.fresh_engine()
    with engine.writing() as w:
        w.delete_version("notes.txt", 1)
    engine.close()
    assert cli("verify").exit_code == 1
    assert cli("reindex").exit_code == 0
    assert cli("verify").exit_code == 0


def test_the_index_audit_reads_the_catalog_as_of_one_commit(
    seeded_archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The audit reads the current derivations first and their passages next: a writer
    that commits in between (here: the seed's derivation superseded) must not make the
    index's entries look extra. On PostgreSQL this needs a REPEATABLE READ snapshot."""
    from sqlalchemy import update

    from provarchive.catalog import queries
    from provarchive.catalog.models import DerivationRecord
    from provarchive.search.sync import audit_index

    home = seeded_archive.home
    assert audit_index(home) == []
    real = queries._plain_rows
    calls: list[int] = []

    def commit_in_between(s: object, query: object) -> list[tuple[object, ...]]:
        rows = real(s, query)  # type: ignore[arg-type]
        calls.append(len(rows))
        if len(calls) == 1:
            with home.catalog.session() as writer:  # another connection, committed now
                writer.execute(update(DerivationRecord).values(current=False))
        return rows

    monkeypatch.setattr(queries, "_plain_rows", commit_in_between)
    assert audit_index(home) == []  # the catalog as it was when the audit began
    assert len(calls) == 3 and calls[1] > 0  # derivations, then passages, then removals
    monkeypatch.setattr(queries, "_plain_rows", real)
    assert {f.code for f in audit_index(home)} == {"INDEX_ENTRY_EXTRA"}  # and as it is now
