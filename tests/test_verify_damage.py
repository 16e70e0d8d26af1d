"""verify never raises for damage, and nothing read from an inventory leaves its object.

Damage: each case runs the real CLI and must exit 1 with its finding code and no
traceback. Containment: a hostile inventory (absolute path, ``..``) or a symbolic
link in a content directory points at a sentinel file outside the object, holding
the very bytes the inventory records, so that a reader who followed the path would
be fooled; ``verify``, ``cat``, ``rebuild`` and ``reclean`` must neither open nor
stat it, nor serve or report it as content.
"""

from __future__ import annotations

import builtins
import contextlib
import io
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from provarchive import Archive
from provarchive.store.ocfl import INVENTORY, SIDECAR, sidecar_bytes

from .conftest import SEED_NAME, built_copy

SENTINEL = "SENTINEL-outside.txt"


@pytest.fixture
def built(seeded: Path, archive: Archive, tmp_path_factory: pytest.TempPathFactory) -> Archive:
    return built_copy("seeded", archive, lambda a, _seeds: a.ingest(), tmp_path_factory)


def content(a: Archive) -> Path:
    return a.content_path(SEED_NAME, 1)


def verify_json(cli, *args: str) -> tuple[int, list[dict]]:
    result = cli("verify", "--json", *args)
    assert "Traceback" not in result.stderr + result.stdout
    return result.exit_code, json.loads(result.stdout)["findings"]


def assert_reported(cli, code: str, ocfl: str | None = None, *args: str) -> None:
    exit_code, findings = verify_json(cli, *args)
    assert exit_code == 1, findings
    codes = {(f["code"], f["ocfl_code"]) for f in findings}
    assert any(c == code and (ocfl is None or o == ocfl) for c, o in codes), codes


def test_an_unreadable_content_file_is_a_finding(
    built: Archive, cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As for a non-root user without read permission (root reads everything anyway)."""
    from provarchive.store.validation import contents

    real = contents._open_file

    def refuse(name: str, dir_fd: int) -> tuple[int, int]:
        if name == SEED_NAME:
            raise PermissionError(13, "Permission denied")
        return real(name, dir_fd)

    monkeypatch.setattr(contents, "_open_file", refuse)
    assert_reported(cli, "CONTENT_MISSING", "E092")
    assert_reported(cli, "CONTENT_MISSING", "E092", "--fixity")


def test_a_directory_where_a_content_file_belongs(built: Archive, cli) -> None:
    path = content(built)
    path.unlink()
    path.mkdir()
    assert_reported(cli, "CONTENT_MISSING", "E092")


def test_a_file_where_the_content_directory_belongs(built: Archive, cli) -> None:
    directory = content(built).parent
    shutil.rmtree(directory)
    directory.write_text("not a directory\n")
    assert_reported(cli, "CONTENT_MISSING", "E092")


def test_a_file_where_a_version_directory_belongs(built: Archive, cli) -> None:
    vdir = content(built).parent.parent
    shutil.rmtree(vdir)
    vdir.write_text("not a directory\n")
    assert_reported(cli, "EXTRA_FILE", "E001")
    assert_reported(cli, "CONTENT_MISSING", "E092")


def test_a_broken_symlink_where_a_content_file_belongs(built: Archive, cli) -> None:
    path = content(built)
    path.unlink()
    path.symlink_to(path.parent / "nowhere")
    assert_reported(cli, "EXTRA_FILE", "E090")
    assert_reported(cli, "CONTENT_MISSING", "E092")


def test_invalid_json_in_the_inventory(built: Archive, cli) -> None:
    (built.store.object_dir(SEED_NAME) / INVENTORY).write_text('{"id": ')
    assert_reported(cli, "INVENTORY_INVALID", "E033")


def test_invalid_utf8_in_the_inventory(built: Archive, cli) -> None:
    path = built.store.object_dir(SEED_NAME) / INVENTORY
    path.write_bytes(path.read_bytes().replace(b"ingest", b"ing\xffst", 1))
    assert_reported(cli, "INVENTORY_INVALID", "E033")


def test_a_catalog_that_cannot_be_opened(built: Archive, cli) -> None:
    built.close()
    built.home.catalog_path.write_bytes(b"this is not a database" * 200)
    assert_reported(cli, "CATALOG_UNREADABLE")


def test_a_catalog_that_is_a_directory(built: Archive, cli) -> None:
    built.close()
    path = built.home.catalog_path
    path.unlink()
    path.mkdir()
    assert_reported(cli, "CATALOG_UNREADABLE")


def test_an_index_that_cannot_be_opened(built: Archive, cli) -> None:
    index = built.config.index_dir
    shutil.rmtree(index)
    index.write_text("not an index\n")
    exit_code, findings = verify_json(cli)
    assert exit_code == 1
    assert {f["code"] for f in findings} & {"INDEX_UNREADABLE", "INDEX_MISSING"}


def test_damage_in_one_object_does_not_hide_another(built: Archive, cli) -> None:
    """Damage in one object does not stop the run: the other object's damage is found too."""
    seeds = built.config.seeds
    (seeds / "other.txt").write_text("Another page about the harbour.\n")
    assert cli("ingest").exit_code == 0
    (built.store.object_dir(SEED_NAME) / INVENTORY).write_text("{")
    other = built.content_path("other.txt", 1)
    other.write_text("Altered.\n")
    exit_code, findings = verify_json(cli)
    assert exit_code == 1
    codes = {(f["code"], f["document"]) for f in findings}
    assert ("CONTENT_SIZE_MISMATCH", "other.txt") in codes
    assert ("INVENTORY_INVALID", SEED_NAME) in codes


# -- containment -----------------------------------------------------------------------------


@pytest.fixture
def touched(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every path opened or stat'ed from now on (in this process), and the real path of
    every file opened (from ``/proc/self/fd``): a name relative to a directory
    descriptor, or a link followed, still shows where the open landed."""
    seen: list[str] = []

    def spy(fn: Callable) -> Callable:
        def inner(path, *args, **kwargs):  # type: ignore[no-untyped-def]
            seen.append(os.fsdecode(path) if isinstance(path, str | bytes | os.PathLike) else "")
            result = fn(path, *args, **kwargs)
            with contextlib.suppress(OSError, ValueError, AttributeError):
                fd = result if type(result) is int else result.fileno()
                seen.append(os.readlink(f"/proc/self/fd/{fd}"))
            return result

        return inner

    for module, name in ((os, "open"), (os, "stat"), (os, "lstat"), (io, "open")):
        monkeypatch.setattr(module, name, spy(getattr(module, name)))
    monkeypatch.setattr(builtins, "open", spy(builtins.open))
    return seen


def _point_inventories_at(a: Archive, target: str) -> None:
    """Rewrite the seed object's inventories (consistently, sidecars included) so that
    its content path is ``target``."""
    o = a.store.object_dir(SEED_NAME)
    old = f"v1/content/{SEED_NAME}"
    for inventory in (o / INVENTORY, o / "v1" / INVENTORY):
        data = json.loads(inventory.read_bytes())
        data["manifest"] = {
            d: [target if p == old else p for p in ps] for d, ps in data["manifest"].items()
        }
        for block in data.get("fixity", {}).values():
            for d, ps in block.items():
                block[d] = [target if p == old else p for p in ps]
        text = json.dumps(data, indent=2, sort_keys=True) + "\n"
        inventory.write_text(text)
        (inventory.parent / SIDECAR).write_bytes(sidecar_bytes(text.encode()))


def _escape(a: Archive, how: str, tmp_path: Path) -> Path:
    """Make the seed's object point at a sentinel outside it, holding the recorded bytes."""
    sentinel = tmp_path / SENTINEL
    path = content(a)
    sentinel.write_bytes(path.read_bytes())
    obj = a.store.object_dir(SEED_NAME)
    if how == "absolute":
        _point_inventories_at(a, str(sentinel))
    elif how == "dotdot":
        _point_inventories_at(a, os.path.relpath(sentinel, obj))
    elif how == "dotdot-in-content":
        _point_inventories_at(a, "v1/content/../../" + os.path.relpath(sentinel, obj))
    elif how == "symlink":
        path.unlink()
        path.symlink_to(sentinel)
    elif how == "symlinked-dir":
        shutil.rmtree(path.parent)
        (tmp_path / "elsewhere").mkdir()
        shutil.copy(sentinel, tmp_path / "elsewhere" / SEED_NAME)
        shutil.move(tmp_path / "elsewhere" / SEED_NAME, tmp_path / "elsewhere" / SEED_NAME)
        path.parent.symlink_to(tmp_path / "elsewhere")
        sentinel.unlink()
        sentinel = tmp_path / "elsewhere" / SEED_NAME
    else:
        raise AssertionError(how)
    return sentinel


WAYS_OUT = ["absolute", "dotdot", "dotdot-in-content", "symlink", "symlinked-dir"]


def _untouched(seen: list[str], sentinel: Path) -> None:
    seen = list(seen)  # before resolve(), whose own stat calls the spy records
    assert any(p.startswith("/") and "/ocfl/" in p for p in seen), "the spy saw no open"
    real = str(sentinel.resolve())
    hits = [
        p
        for p in seen
        if (sentinel.name in p and str(sentinel.parent) in p) or p in (str(sentinel), real)
    ]
    assert hits == [], hits


@pytest.mark.parametrize("how", WAYS_OUT)
def test_verify_never_opens_a_path_outside_the_object(
    built: Archive, cli, tmp_path: Path, how: str, touched: list[str]
) -> None:
    sentinel = _escape(built, how, tmp_path)
    touched.clear()
    for args in ((), ("--fixity",)):
        exit_code, findings = verify_json(cli, *args)
        assert exit_code == 1
        assert any(f["document"] == SEED_NAME and f["severity"] == "error" for f in findings)
        assert not any(str(sentinel) == f["path"] for f in findings)
    _untouched(touched, sentinel)


@pytest.mark.parametrize("how", WAYS_OUT)
def test_cat_never_serves_a_path_outside_the_object(
    built: Archive, cli, tmp_path: Path, how: str, touched: list[str]
) -> None:
    sentinel = _escape(built, how, tmp_path)
    touched.clear()
    result = cli("cat", SEED_NAME)
    assert result.exit_code != 0
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    _untouched(touched, sentinel)


@pytest.mark.parametrize("how", WAYS_OUT)
def test_rebuild_refuses_and_never_reads_outside_the_object(
    built: Archive, cli, tmp_path: Path, how: str, touched: list[str]
) -> None:
    sentinel = _escape(built, how, tmp_path)
    catalogs = sorted(p.name for p in built.config.root.glob("*.sqlite"))
    touched.clear()
    refused = cli("rebuild")
    assert refused.exit_code == 1, refused.stderr
    assert "fails validation" in refused.stderr and "--accept-invalid" in refused.stderr
    assert sorted(p.name for p in built.config.root.glob("*.sqlite")) == catalogs
    accepted = cli("rebuild", "--accept-invalid")
    assert "Traceback" not in accepted.stderr
    _untouched(touched, sentinel)


@pytest.mark.parametrize("how", WAYS_OUT)
def test_reclean_never_reads_outside_the_object(
    built: Archive, cli, tmp_path: Path, how: str, touched: list[str]
) -> None:
    sentinel = _escape(built, how, tmp_path)
    touched.clear()
    result = cli("reclean", SEED_NAME)
    assert "Traceback" not in result.stderr
    assert result.exit_code in (1, 7), result.stderr  # not re-cleaned / damaged archive data
    _untouched(touched, sentinel)


def test_reclean_keeps_the_derivation_of_a_version_it_cannot_read(built: Archive, cli) -> None:
    """Damage in the store is verify's finding; reclean never replaces a version's passages
    with an empty 'unreadable' derivation (that would unindex the document)."""
    before = json.loads(cli("show", SEED_NAME, "--json").stdout)
    hits = cli("search", "Advertisement", "--everything", "--json").stdout
    path = content(built)
    kept = path.read_bytes()
    path.unlink()
    path.mkdir()  # a directory where the file belongs: unreadable, even for root
    result = cli("reclean", "--json")
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    doc = json.loads(result.stdout)
    assert doc["changed"] == []
    [bad] = doc["unreadable"]
    assert (bad["document"], bad["version"]) == (SEED_NAME, 1)
    assert bad["reason"].startswith("the stored bytes cannot be read (")
    text = cli("reclean")
    assert text.exit_code == 1
    assert text.stderr.startswith(f"not re-cleaned: {SEED_NAME} v1: the stored bytes cannot")
    assert json.loads(cli("show", SEED_NAME, "--json").stdout) == before
    assert cli("search", "Advertisement", "--everything", "--json").stdout == hits
    path.rmdir()
    path.write_bytes(kept)
    assert json.loads(cli("reclean", "--json").stdout) == {
        "checked": 1, "changed": [], "unreadable": []
    }  # fmt: skip


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_reclean_never_cleans_stored_bytes_that_fail_their_digest(
    built: Archive, cli, jobs: str
) -> None:
    """Tampered stored bytes (same size, one letter changed) must not become a derivation:
    its passages would cite the file's genuine digest for text it never held."""
    before = json.loads(cli("show", SEED_NAME, "--json").stdout)
    path = content(built)
    kept = path.read_bytes()
    assert b"mystery" in kept
    path.write_bytes(kept.replace(b"mystery", b"mastery"))
    result = cli("reclean", "--jobs", jobs, "--json")
    assert result.exit_code == 1, result.output
    [bad] = json.loads(result.stdout)["unreadable"]
    assert (bad["document"], bad["version"]) == (SEED_NAME, 1)
    assert "do not match their sha512 digest" in bad["reason"]
    assert json.loads(cli("show", SEED_NAME, "--json").stdout) == before
    assert cli("search", "mastery").exit_code == 1  # nothing cites the forged text
    assert cli("search", "mystery").exit_code == 0
    path.write_bytes(kept)
    assert json.loads(cli("reclean", "--json").stdout)["unreadable"] == []


def test_rebuild_accepting_a_missing_content_file_keeps_the_log_going(
    built: Archive, seeded: Path, cli
) -> None:
    """The rebuilt catalog has no size for the missing file's version: its derivation
    event has no bytes to attest. Making a leaf of it raised, after the catalog switch,
    and every later writer failed on the same unlogged event."""
    content(built).unlink()
    result = cli("rebuild", "--accept-invalid")
    assert result.exit_code == 0, result.output
    (seeded / "later.txt").write_text("A page archived after the rebuild.\n")
    assert cli("ingest").exit_code == 0
    assert cli("prove", "later.txt").exit_code == 0
    report = Archive(built.config).verify(check_seeds=False)
    assert {f.code for f in report.errors()} == {"CONTENT_MISSING"}  # and nothing of the log


CATALOG_VALUES = {
    "version time": "UPDATE versions SET ingested_at = 'garbage'",
    "event time": "UPDATE events SET occurred_at = 'garbage' WHERE id = 1",
    "passage start": "UPDATE passages SET raw_start = 'abc' WHERE ordinal = 1",
    "version number": "UPDATE versions SET number = 'x'",
    "version size": "UPDATE versions SET size = 'abc'",
}


@pytest.mark.parametrize("edit", sorted(CATALOG_VALUES))
@pytest.mark.parametrize("jobs", [1, 2])
def test_a_catalog_value_of_the_wrong_type_is_a_finding(
    built: Archive, edit: str, jobs: int
) -> None:
    """SQLite stores what it is given: text where a date or a number belongs raised
    ValueError or TypeError out of verify (found by a damage hunt)."""
    if built.config.db_url is not None:
        pytest.skip("a SQLite catalog edited by hand")
    import sqlite3

    with sqlite3.connect(built.home.catalog_path) as db:
        db.execute(CATALOG_VALUES[edit])
    built.close()
    report = Archive(built.config).verify(check_seeds=False, jobs=jobs)
    found = [f for f in report.errors() if f.code == "CATALOG_UNREADABLE"]
    assert found and "not of its column's type" in found[0].message
    assert not report.is_ok()


CATALOG_RECORDS = {
    "message": "UPDATE versions SET message = 'stored from seeds/evil.txt'",
    "user": "UPDATE versions SET user_name = 'mallory'",
    "size": "UPDATE versions SET size = 999",
    "time": "UPDATE versions SET ingested_at = '2020-01-01 00:00:00.000000'",
    "withdrawn": "UPDATE documents SET withdrawn = 1",
}


@pytest.mark.parametrize("edit", sorted(CATALOG_RECORDS))
def test_a_catalog_record_that_differs_from_the_store_is_found(
    built: Archive, cli, edit: str
) -> None:
    """history and lineage show the catalog's message and user, list and ingest its
    withdrawn flag, show and stats its size: an edit to any of them was never checked."""
    if built.config.db_url is not None:
        pytest.skip("a SQLite catalog edited by hand")
    import sqlite3

    with sqlite3.connect(built.home.catalog_path) as db:
        db.execute(CATALOG_RECORDS[edit])
    built.close()
    report = Archive(built.config).verify(check_seeds=False)
    assert [(f.code, f.document) for f in report.errors()] == [
        ("CATALOG_RECORD_MISMATCH", SEED_NAME)
    ]
    assert cli("show", SEED_NAME).exit_code == 0  # withdrawn, with no withdrawal: IndexError
    assert cli("rebuild").exit_code == 0  # the store's record wins
    assert Archive(built.config).verify(check_seeds=False).findings == []


@pytest.mark.parametrize("value", ["version time", "version size"])
@pytest.mark.parametrize("args", [("show", SEED_NAME), ("list",), ("history", SEED_NAME)])
def test_read_commands_on_a_catalog_value_of_the_wrong_type_fail_in_one_line(
    built: Archive, cli, args: tuple[str, ...], value: str
) -> None:
    if built.config.db_url is not None:
        pytest.skip("a SQLite catalog edited by hand")
    import sqlite3

    with sqlite3.connect(built.home.catalog_path) as db:
        db.execute(CATALOG_VALUES[value])
    built.close()
    result = cli(*args)
    assert result.exit_code == 8, result.output
    assert "not of its column's type" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "edit",
    [
        "UPDATE derivations SET page = 'not json'",
        "UPDATE derivations SET page = '[1, 2]'",
        """UPDATE derivations SET page = '{"x": 1}'""",
        "UPDATE derivations SET environment = '{{'",
    ],
)
@pytest.mark.parametrize("command", ["show", "explain"])
def test_a_derivation_s_json_that_is_not_as_written_fails_in_one_line(
    built: Archive, cli, edit: str, command: str
) -> None:
    if built.config.db_url is not None:
        pytest.skip("a SQLite catalog edited by hand")
    import sqlite3

    with sqlite3.connect(built.home.catalog_path) as db:
        db.execute(edit)
    built.close()
    result = cli(command, SEED_NAME)
    assert result.exit_code == 8, result.output
    assert "derivation 1: its" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_rebuild_refuses_events_it_cannot_read_in_one_line(built: Archive, cli) -> None:
    if built.config.db_url is not None:
        pytest.skip("a SQLite catalog edited by hand")
    import sqlite3

    with sqlite3.connect(built.home.catalog_path) as db:
        db.execute(CATALOG_VALUES["event time"])
    built.close()
    result = cli("rebuild")
    assert result.exit_code == 8 and "Traceback" not in result.output
    assert "cannot read the event log of the current catalog" in result.stderr


def test_rebuild_of_a_valid_store_is_not_refused(built: Archive, cli) -> None:
    assert cli("rebuild").exit_code == 0
    assert cli("verify").exit_code == 0


@pytest.mark.parametrize("args", [(), ("--rederive",)])
def test_a_catalog_with_damaged_pages_is_a_finding(
    built: Archive, cli, args: tuple[str, ...]
) -> None:
    """Pages of catalog.sqlite overwritten (its header page intact, so it still opens):
    the index audit's driver-level reads raised sqlite3.DatabaseError past verify."""
    path = built.home.catalog_path
    with open(path, "r+b") as fh:
        fh.seek(12288)
        fh.write(b"\xde\xad" * 2048)
    exit_code, findings = verify_json(cli, *args)
    assert exit_code == 1
    assert "CATALOG_UNREADABLE" in {f["code"] for f in findings}


@pytest.mark.parametrize("part", ["leaves", "commits", "hashes", "index"])
def test_a_log_file_that_is_a_directory_is_damage_not_a_traceback(
    built: Archive, cli, part: str
) -> None:
    from provarchive.ledger import log_dir

    path = log_dir(built.home) / part
    path.unlink()
    path.mkdir()  # IsADirectoryError escaped _Files, which caught FileNotFoundError only
    for args in (("prove", SEED_NAME), ("ingest",), ("rebuild",)):
        result = cli(*args)
        assert "Traceback" not in result.stderr, args
        assert result.exit_code == 7 and "cannot read it" in result.stderr, (args, result.stderr)
    exit_code, findings = verify_json(cli)
    assert exit_code == 1 and "LOG_DAMAGED" in {f["code"] for f in findings}


def test_an_index_pointer_of_invalid_utf8_is_reported_then_repaired(built: Archive, cli) -> None:
    (built.config.root / "index" / "CURRENT").write_bytes(b"\xff\xfe")
    result = cli("search", "Advertisement", "--everything")
    assert result.exit_code == 8 and "names no index generation" in result.stderr
    assert "Traceback" not in result.stderr
    assert verify_json(cli)[0] == 1
    repaired = cli("ingest")
    assert repaired.exit_code == 0 and "index-recreated" in repaired.stderr
    assert cli("search", "Advertisement", "--everything").exit_code == 0


NESTED = b"[" * 100_000 + b"]" * 100_000


@pytest.mark.parametrize("where", ["inventory", "index-meta", "layout-config"])
def test_deeply_nested_json_is_damage_not_recursion_error(built: Archive, cli, where: str) -> None:
    if where == "inventory":
        (built.store.object_dir(SEED_NAME) / INVENTORY).write_bytes(NESTED)
    elif where == "index-meta":
        [meta] = (built.config.root / "index").glob("g-*/provarchive-index.json")
        meta.write_bytes(NESTED)
    else:
        [config] = built.store.root.glob("extensions/0004-*/config.json")
        config.write_bytes(NESTED)
    for args in (("cat", SEED_NAME), ("search", "Advertisement", "--everything"), ("reclean",)):
        assert "Traceback" not in cli(*args).stderr, args
    exit_code, _findings = verify_json(cli, "--fixity")  # no traceback (verify_json)
    assert exit_code == (0 if where == "index-meta" else 1)  # the index is not the store's
    verify_json(cli)


@pytest.mark.parametrize(
    "settings",
    [NESTED, b'{"format": "x"}', b'{"seeds": 5}', b'{"verifier_key": 5}', b'{"format": true}'],
    ids=["nested", "format-text", "seeds-number", "key-number", "format-bool"],
)
def test_settings_of_the_wrong_shape_are_damage_not_a_traceback(
    built: Archive, cli, settings: bytes
) -> None:
    (built.config.root / "provarchive.json").write_bytes(settings)
    for args in (("show", SEED_NAME), ("search", "korean"), ("verify",), ("ingest",)):
        result = cli(*args)
        assert "Traceback" not in result.stderr, args
        assert result.exit_code == 7 and "provarchive.json" in result.stderr, (args, result.stderr)


def test_reclean_with_workers_keeps_the_derivation_it_cannot_read(
    built: Archive, cli, tmp_path: Path
) -> None:
    """The same with --jobs 2: the versions are read here and cleaned in worker processes."""
    other = tmp_path / "other.txt"
    other.write_text("A second note about the harbour and its quay.\n")
    assert cli("add", str(other)).exit_code == 0
    before = json.loads(cli("show", SEED_NAME, "--json").stdout)
    path = content(built)
    path.unlink()
    path.mkdir()
    result = cli("reclean", "--jobs", "2", "--json")
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    doc = json.loads(result.stdout)
    assert doc["checked"] == 2 and doc["changed"] == []
    assert [(u["document"], u["version"]) for u in doc["unreadable"]] == [(SEED_NAME, 1)]
    assert json.loads(cli("show", SEED_NAME, "--json").stdout) == before
