"""Every finding code has a damaging case: a table of damages, one per code in the findings
table, each applied to an archive the archive itself wrote and asserted through verify.

The table is checked against :data:`provarchive.findings.FINDING_TYPES`: a code added to
the table of findings without a damage here fails ``test_every_code_has_a_damaging_case``.
Each damage must make verify report its code without raising; findings about the OCFL
structure must carry the OCFL code and, where the validator has them, full digests.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from provarchive import Archive
from provarchive.catalog import new_event
from provarchive.findings import FINDING_TYPES
from provarchive.home import SETTINGS
from provarchive.ledger import log_dir, open_log
from provarchive.search.engine import IndexEntry
from provarchive.store.ocfl import INVENTORY, SIDECAR, sidecar_bytes
from provarchive.tlog.log import TransparencyLog

from .conftest import GO, SEED_NAME, built_copy

NOTE = "notes.txt"
Damage = Callable[[Archive, Path], dict[str, Any] | None]


@pytest.fixture
def built(archive: Archive, seeded: Path, tmp_path_factory: pytest.TempPathFactory) -> Archive:
    return built_copy("verify-codes", archive, build, tmp_path_factory)


def build(archive: Archive, seeded: Path) -> Archive:
    """The seed (one version) and notes.txt (two versions), with a transparency log."""
    (seeded / NOTE).write_text("The harbour froze over during the coldest night of winter.\n")
    archive.ingest()
    (seeded / NOTE).write_text("The harbour froze over during the coldest night in years.\n")
    archive.ingest()
    return archive


def obj(a: Archive, name: str = SEED_NAME) -> Path:
    return a.store.object_dir(name)


def content(a: Archive, name: str = SEED_NAME, version: int = 1) -> Path:
    return a.content_path(name, version)


def sql(a: Archive, *statements: str) -> None:
    with sqlite3.connect(a.home.catalog_path) as db:
        db.execute("PRAGMA foreign_keys=ON")
        for statement in statements:
            db.execute(statement)


def rewrite_inventories(a: Archive, name: str, change: Callable[[str], str]) -> None:
    """Change every inventory of an object consistently (sidecars recomputed)."""
    o = obj(a, name)
    for inventory in [o / INVENTORY, *o.glob(f"v*/{INVENTORY}")]:
        text = change(inventory.read_text())
        inventory.write_text(text)
        (inventory.parent / SIDECAR).write_bytes(sidecar_bytes(text.encode()))


def flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[0] ^= 0x01
    path.write_bytes(bytes(data))


def edit_inventory(a: Archive, _s: Path) -> None:
    path = obj(a) / INVENTORY
    inv = json.loads(path.read_bytes())
    inv["versions"]["v1"]["message"] = "something else"
    path.write_text(json.dumps(inv, indent=2, sort_keys=True) + "\n")


def move_object(a: Archive, _s: Path) -> None:
    target = a.store.root / "abc" / "def" / "012" / ("0" * 64)
    target.parent.mkdir(parents=True)
    shutil.move(obj(a), target)


def staged_journal(a: Archive, _s: Path) -> None:
    txn = a.config.staging / "txn-0"
    txn.mkdir(parents=True)
    path = a.store.object_dir(NOTE).relative_to(a.store.root).as_posix()
    (txn / "journal.json").write_text(json.dumps([{"name": NOTE, "object_path": path}]))
    sql(a, f"DELETE FROM versions WHERE number = 2 AND document_id = {doc_id(a, NOTE)}")


def doc_id(a: Archive, name: str) -> int:
    with sqlite3.connect(a.home.catalog_path) as db:
        return int(db.execute("SELECT id FROM documents WHERE name = ?", (name,)).fetchone()[0])


def wrong_fixity(a: Archive, _s: Path) -> None:
    old = hashlib.sha256(content(a).read_bytes()).hexdigest()
    rewrite_inventories(a, SEED_NAME, lambda t: t.replace(old, "0" * 64))


def index_entries(a: Archive, change: Callable[[list[IndexEntry]], list[IndexEntry]]) -> None:
    engine = a.home.fresh_engine()
    entries = [e for e in engine.entries() if e.document == SEED_NAME and e.version == 1]
    with engine.writing() as w:
        w.replace_version(SEED_NAME, 1, change(entries))
    engine.close()


def with_(e: IndexEntry, **changes: object) -> IndexEntry:
    return IndexEntry(**{**e.__dict__, **changes})


def index_extra(a: Archive, _s: Path) -> None:
    engine = a.home.fresh_engine()
    [some] = [e for e in engine.entries() if e.passage_id == GO]
    with engine.writing() as w:
        w.replace_version(
            "ghost.txt", 1, [with_(some, passage_id="ghost.txt@v1#1", document="ghost.txt")]
        )
    engine.close()


def live_index(a: Archive) -> Path:
    from provarchive.search.whoosh_engine import WhooshEngine

    gen = WhooshEngine(a.config.index_dir).generation()
    assert gen is not None
    return gen


def index_segment(a: Archive, _s: Path) -> None:
    segment = sorted(live_index(a).glob("*.seg"))[0]
    data = bytearray(segment.read_bytes())
    data[len(data) // 2] ^= 0xFF
    segment.write_bytes(bytes(data))


def index_toc(a: Archive, _s: Path) -> None:
    for f in live_index(a).glob("*.toc"):
        f.write_bytes(b"garbage")


def checkpoint_then(change: Callable[[Archive], None]) -> Damage:
    def damage(a: Archive, _s: Path) -> dict[str, Any]:
        checkpoint = a.checkpoint()
        change(a)
        return {"checkpoints": [("cp.txt", checkpoint)]}

    return damage


def truncate_log(a: Archive) -> None:
    with open_log(a.home) as tl:
        leaves = tl.entries(0, tl.size // 2)
    shutil.rmtree(log_dir(a.home))
    with TransparencyLog.create(log_dir(a.home)) as tl:
        tl.append(leaves)


def bad_signature(a: Archive, _s: Path) -> dict[str, Any]:
    text, signature = a.checkpoint().rsplit(" ", 1)
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    return {"checkpoints": [("cp.txt", text + " " + flipped)]}


def damage_log(a: Archive, _s: Path) -> None:
    for path in sorted(log_dir(a.home).rglob("*")):
        if path.is_file() and path.stat().st_size > 0 and "leaves" in path.as_posix():
            flip(path)
            return
    raise AssertionError("no log file to damage")


def forge_version(a: Archive, _s: Path) -> None:
    """Rewrite notes.txt v1 and every digest of it, consistently: only the log knows."""
    path = content(a, NOTE, 1)
    old = path.read_bytes()
    new = b"The harbour stayed open during the coldest night of winter.\n"
    pairs = [(hashlib.sha512, "sha512"), (hashlib.sha256, "sha256")]
    swaps = [(h(old).hexdigest(), h(new).hexdigest()) for h, _ in pairs]
    path.write_bytes(new)

    def swap(text: str) -> str:
        for before, after in swaps:
            text = text.replace(before, after)
        return text

    rewrite_inventories(a, NOTE, swap)
    sql(
        a,
        f"UPDATE versions SET sha512 = '{swaps[0][1]}', sha256 = '{swaps[1][1]}', "
        f"size = {len(new)} WHERE sha512 = '{swaps[0][0]}'",
    )


def drop_latest_version(a: Archive, _s: Path) -> None:
    o = obj(a, NOTE)
    shutil.rmtree(o / "v2")
    for name in (INVENTORY, SIDECAR):
        shutil.copy(o / "v1" / name, o / name)
    sql(
        a,
        f"DELETE FROM versions WHERE number = 2 AND document_id = {doc_id(a, NOTE)}",
        f"UPDATE documents SET head = 1 WHERE name = '{NOTE}'",
    )


def first_ingestion_event(a: Archive) -> int:
    with sqlite3.connect(a.home.catalog_path) as db:
        return int(
            db.execute(
                "SELECT id FROM events WHERE document = ? AND event_type = 'ingestion' "
                "ORDER BY id LIMIT 1",
                (NOTE,),
            ).fetchone()[0]
        )


def event_marked_logged(a: Archive, _s: Path) -> None:
    with a.home.catalog.session() as s:
        event = new_event("fixity check", "never logged", outcome="success")
        event.logged = True
        s.add(event)


def no_log_yet(a: Archive, _s: Path) -> None:
    shutil.rmtree(log_dir(a.home))
    settings = a.config.root / SETTINGS
    data = json.loads(settings.read_text())
    data.pop("origin", None)
    settings.write_text(json.dumps(data))


def sparse_content(a: Archive, _s: Path) -> None:
    """Over 64 MB: the streaming path. A sparse file of the wrong size."""
    with open(content(a), "r+b") as fh:
        fh.truncate(65 * 1024 * 1024)


def unarchivable_seed(_a: Archive, seeds: Path) -> None:
    (seeds / "outside.txt").symlink_to("/etc/hostname")


def foreign_object(a: Archive, _s: Path) -> None:
    """A valid object another tool (ocfl-py) wrote at its layout path."""
    import ocfl

    from provarchive.store.ocfl import object_path_for

    foreign_id = "urn:example:another-tool:1"
    where = a.store.root / object_path_for(foreign_id)
    where.parent.mkdir(parents=True)
    source = a.config.root.parent / "foreign-source"
    source.mkdir()
    (source / "a.txt").write_text("another tool's file")
    meta = ocfl.VersionMetadata(message="m", name="n", address="mailto:n@example.org")
    ocfl.Object(identifier=foreign_id).create(srcdir=str(source), metadata=meta, objdir=str(where))


def remove_object(a: Archive, _s: Path) -> None:
    o = obj(a, NOTE)
    shutil.rmtree(o)
    for parent in o.parents[:3]:
        parent.rmdir()


DAMAGES: dict[str, Damage] = {
    # storage root
    "STORE_MISSING": lambda a, s: (a.store.root / "0=ocfl_1.1").unlink(),
    "LAYOUT_CONFIG_INVALID": lambda a, s: (
        a.store.root / "extensions/0004-hashed-n-tuple-storage-layout/config.json"
    ).write_text("{}"),
    "STRAY_PATH": lambda a, s: (a.store.root / "notes-from-admin.txt").write_text("x"),
    "FOREIGN_OBJECT": foreign_object,
    "STORAGE_HIERARCHY_INVALID": lambda a, s: (a.store.root / "abc" / "def").mkdir(parents=True),
    "OCFL_WARNING": lambda a, s: (obj(a) / "extensions" / "my-notes").mkdir(parents=True),
    "STAGING_LEFTOVER": lambda a, s: (a.config.staging / "txn-1").mkdir(parents=True),
    "PENDING_WRITE": staged_journal,
    # objects
    "OBJECT_DECLARATION_INVALID": lambda a, s: (obj(a) / "0=ocfl_object_1.1").write_text("x\n"),
    "OBJECT_PATH_MISMATCH": move_object,
    "INVENTORY_MISSING": lambda a, s: (obj(a) / INVENTORY).unlink(),
    "INVENTORY_INVALID": lambda a, s: (obj(a) / INVENTORY).write_text("{not json"),
    "INVENTORY_MODIFIED": edit_inventory,
    "SIDECAR_MISSING": lambda a, s: (obj(a) / SIDECAR).unlink(),
    "SIDECAR_MISMATCH": lambda a, s: (obj(a) / SIDECAR).write_text(
        "0" * 128 + "  inventory.json\n"
    ),
    "VERSION_INVENTORY_MISMATCH": lambda a, s: (obj(a, NOTE) / "v1" / INVENTORY).write_text("{}"),
    "VERSION_DIR_MISSING": lambda a, s: shutil.rmtree(obj(a, NOTE) / "v1"),
    "VERSION_DIR_EXTRA": lambda a, s: shutil.copytree(obj(a, NOTE) / "v2", obj(a, NOTE) / "v3"),
    "CONTENT_MISSING": lambda a, s: content(a).unlink(),
    "CONTENT_DIGEST_MISMATCH": lambda a, s: flip(content(a)),
    "CONTENT_SIZE_MISMATCH": sparse_content,
    "FIXITY_MISMATCH": wrong_fixity,
    "EXTRA_FILE": lambda a, s: (content(a).parent / "extra.txt").write_text("x"),
    # catalog against store
    "CATALOG_UNREADABLE": lambda a, s: a.home.catalog_path.write_bytes(b"not a database" * 100),
    "CATALOG_DOCUMENT_MISSING": lambda a, s: sql(a, f"DELETE FROM documents WHERE name = '{NOTE}'"),
    "CATALOG_VERSION_MISSING": lambda a, s: sql(a, "DELETE FROM versions WHERE number = 2"),
    "STORE_OBJECT_MISSING": remove_object,
    "STORE_VERSION_MISSING": lambda a, s: sql(
        a,
        "INSERT INTO versions (document_id, number, sha256, sha512, size, source, message, "
        "user_name, content_path, ingested_at) SELECT document_id, 3, sha256, sha512, size, "
        "source, message, user_name, content_path, ingested_at FROM versions WHERE number = 2",
    ),
    "CATALOG_RECORD_MISMATCH": lambda a, s: sql(
        a, "UPDATE versions SET user_name = 'mallory', message = 'forged' WHERE number = 2"
    ),
    "CATALOG_DIGEST_MISMATCH": lambda a, s: sql(
        a, f"UPDATE versions SET sha256 = '{'0' * 64}' WHERE number = 2"
    ),
    # derived data
    "DERIVATION_MISSING": lambda a, s: sql(
        a,
        f"DELETE FROM derivations WHERE version_id IN (SELECT id FROM versions "
        f"WHERE document_id = {doc_id(a, NOTE)} AND number = 2)",
    ),
    "PASSAGE_DIGEST_MISMATCH": lambda a, s: sql(
        a, f"UPDATE passages SET sha256 = '{'0' * 64}' WHERE passage_id = '{GO}'"
    ),
    "PASSAGE_SPAN_MISMATCH": lambda a, s: sql(
        a, f"UPDATE passages SET raw_start = raw_start + 1 WHERE passage_id = '{GO}'"
    ),
    "DERIVATION_OUTPUT_MISMATCH": lambda a, s: sql(
        a, f"UPDATE derivations SET output_sha256 = 'sha256:{'0' * 64}'"
    ),
    "DERIVATION_DRIFT": lambda a, s: (
        sql(a, "UPDATE removals SET rule = 'navigation' WHERE ordinal = 1"),
        {"rederive": True},
    )[1],
    "DERIVATION_UNAVAILABLE": lambda a, s: (
        sql(a, "UPDATE derivations SET cleaner_version = '0.0.0-gone'"),
        {"rederive": True},
    )[1],
    # search index
    "INDEX_MISSING": lambda a, s: shutil.rmtree(a.config.index_dir),
    "INDEX_UNREADABLE": index_toc,
    "INDEX_ENTRY_MISSING": lambda a, s: index_entries(
        a, lambda es: [e for e in es if e.passage_id != GO]
    ),
    "INDEX_ENTRY_EXTRA": index_extra,
    "INDEX_ENTRY_ALTERED": lambda a, s: index_entries(
        a, lambda es: [with_(e, raw_start=0) if e.passage_id == GO else e for e in es]
    ),
    "INDEX_DAMAGED": index_segment,
    "INDEX_BEHIND": lambda a, s: sql(a, "UPDATE derivations SET indexed = NULL"),
    # seeds folder
    "SEED_NEW": lambda a, s: (s / "new.txt").write_text("A new page.\n"),
    "SEED_CHANGED": lambda a, s: (s / NOTE).write_text("Rewritten since.\n"),
    "SEED_MISSING": lambda a, s: (s / NOTE).unlink(),
    "SEED_UNARCHIVABLE": unarchivable_seed,
    # transparency log
    "LOG_NOT_STARTED": no_log_yet,
    "LOG_MISSING": lambda a, s: shutil.rmtree(log_dir(a.home)),
    "LOG_DAMAGED": damage_log,
    "LOG_INCONSISTENT": checkpoint_then(truncate_log),
    "CHECKPOINT_INVALID": bad_signature,
    "CHECKPOINT_MISSING": lambda a, s: (log_dir(a.home) / "checkpoint").unlink(),
    "SIGNING_KEY_UNUSABLE": lambda a, s: a.config.key_path.unlink(),
    "LOG_VERSION_MISSING": drop_latest_version,
    "LOG_VERSION_MISMATCH": forge_version,
    "LOG_VERSION_UNLOGGED": checkpoint_then(truncate_log),
    "LOG_EVENT_MISSING": lambda a, s: sql(
        a, f"DELETE FROM events WHERE id = {first_ingestion_event(a)}"
    ),
    "LOG_EVENT_ALTERED": lambda a, s: sql(
        a, f"UPDATE events SET detail = 'nothing happened' WHERE id = {first_ingestion_event(a)}"
    ),
    "LOG_EVENT_UNLOGGED": event_marked_logged,
}

OCFL_LEVEL = {
    "STORE_MISSING",
    "STORAGE_HIERARCHY_INVALID",
    "OCFL_WARNING",
    "OBJECT_DECLARATION_INVALID",
    "OBJECT_PATH_MISMATCH",
    "INVENTORY_MISSING",
    "INVENTORY_INVALID",
    "INVENTORY_MODIFIED",
    "SIDECAR_MISSING",
    "SIDECAR_MISMATCH",
    "VERSION_INVENTORY_MISMATCH",
    "VERSION_DIR_MISSING",
    "VERSION_DIR_EXTRA",
    "CONTENT_MISSING",
    "CONTENT_DIGEST_MISMATCH",
    "CONTENT_SIZE_MISMATCH",
    "FIXITY_MISMATCH",
    "EXTRA_FILE",
}
"""Codes that come from the OCFL validator and must name the OCFL code."""


def test_every_code_has_a_damaging_case() -> None:
    assert sorted(set(FINDING_TYPES) - set(DAMAGES)) == [], "add a damage for each new code"
    assert sorted(set(DAMAGES) - set(FINDING_TYPES)) == []


@pytest.mark.parametrize("code", sorted(DAMAGES))
def test_damage_is_reported_with_its_code(built: Archive, seeded: Path, code: str) -> None:
    made = DAMAGES[code](built, seeded)
    kwargs = made if isinstance(made, dict) else {}
    built.close()
    report = Archive(built.config).verify(**kwargs)
    assert code in report.codes(), [f.to_json() for f in report.findings]
    if FINDING_TYPES[code][0] == "error":
        assert not report.is_ok()
    if code in OCFL_LEVEL:
        for f in (f for f in report.findings if f.code == code):
            assert f.ocfl_code is not None, f.to_json()
            assert f.ocfl_code[0] in "EW" and f.ocfl_code[1:].isdigit()


SIDE_CHECKED = sorted(
    c for c in DAMAGES if c.startswith(("INDEX_", "LOG_", "CHECKPOINT_", "PASSAGE_", "DERIVATION_"))
)
"""Codes of the checks a full verify with ``jobs > 1`` runs in other processes."""
AROUND_THEM = [
    "CATALOG_DIGEST_MISMATCH",
    "CATALOG_UNREADABLE",
    "CONTENT_MISSING",
    "PENDING_WRITE",
    "STORE_MISSING",
    "STORE_OBJECT_MISSING",
    "STORE_VERSION_MISSING",
]
"""Codes that change what the others report, or where verify stops early."""


def _findings(a: Archive, **kwargs: Any) -> list[dict[str, Any]]:
    return [f.to_json() for f in Archive(a.config).verify(**kwargs).findings]


@pytest.mark.parametrize("code", SIDE_CHECKED + AROUND_THEM)
def test_jobs_give_the_same_findings_on_damage(built: Archive, seeded: Path, code: str) -> None:
    made = DAMAGES[code](built, seeded)
    kwargs = made if isinstance(made, dict) else {}
    built.close()
    one = _findings(built, jobs=1, **kwargs)
    assert code in {f["code"] for f in one}
    assert _findings(built, jobs=2, **kwargs) == one


DERIVED = sorted(
    c
    for c in DAMAGES
    if c.startswith("PASSAGE_") or c in ("DERIVATION_MISSING", "DERIVATION_OUTPUT_MISMATCH")
)
"""Codes of :func:`provarchive.verify.derived.check_derived`."""


@pytest.mark.parametrize("code", [*DERIVED, "CATALOG_DIGEST_MISMATCH", "STORE_VERSION_MISSING"])
def test_derived_rows_of_the_whole_catalog_at_once_give_the_same_findings(
    built: Archive, seeded: Path, code: str
) -> None:
    """A full verify reads every version in one query (``whole``), an audit of some
    objects by their names: the derived check finds the same either way."""
    from provarchive.verify.catalog import load_catalog, object_path_for_name
    from provarchive.verify.derived import check_derived

    made = DAMAGES[code](built, seeded)
    built.close()
    assert code in {f["code"] for f in _findings(built, **(made if isinstance(made, dict) else {}))}
    with Archive(built.config) as archive, archive.home.catalog.session() as s:
        objects = {
            name: (object_path_for_name(name), max(v.number for v in versions))
            for name, versions in load_catalog(s).items()
        }
        found = {
            whole: [
                f.to_json() for f in check_derived(s, archive.home, objects, set(), {}, whole=whole)
            ]
            for whole in (False, True)
        }
    assert found[True] == found[False]
    if code in DERIVED:
        assert code in {f["code"] for f in found[True]}


@pytest.fixture
def here(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The side checks computed in this process (a forked child's calls stay in it)."""
    import provarchive.catalog.queries as queries
    import provarchive.verify.side as side

    calls: list[str] = []
    for module, name in (
        (side, "index_findings"),
        (side, "log_check"),
        (queries, "derived_passages"),
    ):
        real = getattr(module, name)

        def spy(*args: Any, _real: Any = real, _name: str = name) -> Any:
            calls.append(_name)
            return _real(*args)

        monkeypatch.setattr(module, name, spy)
    return calls


SIDE = ["derived_passages", "index_findings", "log_check"]


def test_on_a_sound_archive_the_side_checks_answer_from_their_processes(
    built: Archive, here: list[str]
) -> None:
    built.close()
    assert _findings(built, jobs=1) == [] and sorted(set(here)) == SIDE
    here.clear()
    assert _findings(built, jobs=2) == []
    assert here == []  # each answered by a child: nothing was computed twice, no passage read


def test_only_the_versions_the_side_check_found_unsound_are_read_again(
    built: Archive, seeded: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import provarchive.catalog.queries as queries

    DAMAGES["PASSAGE_DIGEST_MISMATCH"](built, seeded)  # one passage of the seed
    built.close()
    asked: list[list[int]] = []
    real = queries.derived_passages

    def spy(s: Any, ids: list[int]) -> Any:
        asked.append(list(ids))
        return real(s, ids)

    monkeypatch.setattr(queries, "derived_passages", spy)
    one = _findings(built, jobs=1)
    assert sum(len(ids) for ids in asked) > 1  # every version of the archive
    asked.clear()
    assert _findings(built, jobs=2) == one
    with sqlite3.connect(built.home.catalog_path) as db:
        [(seed,)] = db.execute(f"SELECT derivation_id FROM passages WHERE passage_id = '{GO}'")
    assert asked == [[seed]]


MARKS: Path | None = None
"""Where a dying side check leaves its mark (set by the test before verify forks)."""


def _die(*_args: object) -> None:
    assert MARKS is not None
    (MARKS / str(os.getpid())).touch()
    os._exit(3)


def _children_do(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, work: Any) -> Path:
    """The side checks' processes run ``work`` instead; each leaves its pid in the folder
    returned."""
    import provarchive.verify.side as side

    marks = tmp_path / "marks"
    marks.mkdir()
    monkeypatch.setattr(sys.modules[__name__], "MARKS", marks)
    for child in ("_index_in_child", "_log_in_child", "_derived_in_child"):
        monkeypatch.setattr(side, child, work)
    return marks


def test_a_side_check_that_dies_is_done_in_this_process(
    built: Archive, seeded: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, here: list[str]
) -> None:

    DAMAGES["INDEX_ENTRY_ALTERED"](built, seeded)
    DAMAGES["LOG_EVENT_ALTERED"](built, seeded)
    DAMAGES["DERIVATION_OUTPUT_MISMATCH"](built, seeded)
    built.close()
    one = _findings(built, jobs=1)
    here.clear()
    marks = _children_do(monkeypatch, tmp_path, _die)
    assert _findings(built, jobs=2) == one
    assert len(list(marks.iterdir())) == 3  # three processes ran, and died
    assert sorted(set(here)) == SIDE
    assert {"INDEX_ENTRY_ALTERED", "LOG_EVENT_ALTERED", "DERIVATION_OUTPUT_MISMATCH"} <= {
        f["code"] for f in one
    }


def _linger(*_args: object) -> None:
    assert MARKS is not None
    (MARKS / str(os.getpid())).touch()
    time.sleep(120)


def test_a_verify_that_fails_stops_its_side_checks(
    built: Archive, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import provarchive.verify as verify

    def fail(*_args: object, **_kwargs: object) -> None:
        deadline = time.monotonic() + 30
        while len(list(marks.iterdir())) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        raise RuntimeError("the store check failed")

    built.close()
    marks = _children_do(monkeypatch, tmp_path, _linger)
    monkeypatch.setattr(verify, "check_root", fail)
    started = time.monotonic()
    with pytest.raises(RuntimeError, match="store check failed"):
        Archive(built.config).verify(jobs=2)
    assert time.monotonic() - started < 60  # not waiting for the children to finish
    pids = [int(p.name) for p in marks.iterdir()]
    assert len(pids) == 3
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_the_log_check_takes_the_inventory_digests_the_store_check_read(
    built: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each version inventory is read once: the log check compares the digest the
    validator computed, and a version inventory rewritten with a matching sidecar (so
    OCFL-valid) is still not the one the log recorded."""
    import provarchive.ledger as ledger

    built.close()
    reads: list[bytes] = []
    real = ledger.sha512_hex
    monkeypatch.setattr(ledger, "sha512_hex", lambda data: reads.append(data) or real(data))
    assert "LOG_VERSION_MISMATCH" not in Archive(built.config).verify().codes()
    assert reads == []
    inventory = obj(built, NOTE) / "v1" / INVENTORY
    data = inventory.read_bytes() + b"\n"
    inventory.write_bytes(data)
    (inventory.parent / SIDECAR).write_bytes(sidecar_bytes(data))
    found = [f for f in Archive(built.config).verify().findings if f.severity == "error"]
    assert [(f.code, f.document) for f in found] == [("LOG_VERSION_MISMATCH", NOTE)]


def test_digests_in_findings_are_whole(built: Archive, seeded: Path) -> None:
    flip(content(built))
    [finding] = [f for f in built.verify().findings if f.code == "CONTENT_DIGEST_MISMATCH"]
    assert finding.ocfl_code == "E092"
    assert finding.expected == hashlib.sha512(flip_back(content(built))).hexdigest()
    assert finding.found == hashlib.sha512(content(built).read_bytes()).hexdigest()


def flip_back(path: Path) -> bytes:
    data = bytearray(path.read_bytes())
    data[0] ^= 0x01
    return bytes(data)


def test_a_large_file_is_streamed_and_verifies_when_intact(built: Archive, seeded: Path) -> None:
    """A sparse file of 65 MB with inventories and catalog made consistent: no finding."""
    path = content(built)
    old = path.read_bytes()
    with open(path, "r+b") as fh:
        fh.truncate(65 * 1024 * 1024)
    new512, new256 = hashlib.sha512(), hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            new512.update(block)
            new256.update(block)
    swaps = [
        (hashlib.sha512(old).hexdigest(), new512.hexdigest()),
        (hashlib.sha256(old).hexdigest(), new256.hexdigest()),
    ]

    def swap(text: str) -> str:
        for before, after in swaps:
            text = text.replace(before, after)
        return text

    rewrite_inventories(built, SEED_NAME, swap)
    report = built.verify(fixity=True)
    assert report.is_ok(), [f.to_json() for f in report.findings]
    assert report.checked["bytes"] >= 65 * 1024 * 1024
    assert os.path.getsize(path) == 65 * 1024 * 1024


def test_a_foreign_object_is_named_and_left_alone(built: Archive, seeded: Path, cli) -> None:
    foreign_object(built, seeded)
    before = sorted(p.read_bytes() for p in built.store.root.rglob("*") if p.is_file())
    result = cli("verify", "--json")
    assert result.exit_code == 0  # another tool's valid object is not damage
    [finding] = [f for f in json.loads(result.stdout)["findings"] if f["code"] == "FOREIGN_OBJECT"]
    assert "foreign object urn:example:another-tool:1" in finding["message"]
    assert sorted(p.read_bytes() for p in built.store.root.rglob("*") if p.is_file()) == before


def test_a_damaged_record_in_the_middle_of_the_log_is_a_finding_not_a_crash(
    built: Archive,
) -> None:
    """Verify reads on past nothing: the record's damage is the finding, and what the
    leaves after it would have logged is counted in one finding, not reported missing."""
    leaves = log_dir(built.home) / "leaves"
    with open_log(built.home) as tl:
        size = tl.size
        middle = int.from_bytes(tl._files.read("index", 8, 8 * (size // 2)), "big")
    data = bytearray(leaves.read_bytes())
    data[middle + 10] ^= 0x01  # inside the leaf's JSON: the record no longer matches its hash
    leaves.write_bytes(bytes(data))
    built.close()
    one = _findings(built, jobs=1)
    codes = [f["code"] for f in one if f["severity"] == "error"]
    assert set(codes) == {"LOG_DAMAGED"}, codes
    messages = " ".join(f["message"] for f in one)
    assert "does not match its hash" in messages and "cannot be checked" in messages
    assert _findings(built, jobs=2) == one


def test_a_forged_leaf_whose_record_is_intact_is_a_finding_not_a_crash(built: Archive) -> None:
    """A log rewritten whole (every hash recomputed) with one leaf that is no leaf: its
    records and caches agree, the content does not parse."""
    with open_log(built.home) as tl:
        leaves = tl.entries(0, tl.size)
    leaves[1] = b'{"type":"version","v":1}'  # canonical JSON, but no version leaf
    shutil.rmtree(log_dir(built.home))
    with TransparencyLog.create(log_dir(built.home)) as tl:
        tl.append(leaves)
    built.close()
    one = _findings(built, jobs=1)
    damaged = [f["message"] for f in one if f["code"] == "LOG_DAMAGED"]
    assert len(damaged) == 1 and "leaf 1: invalid log leaf: missing fields" in damaged[0]
    assert _findings(built, jobs=2) == one


def test_a_damaged_commit_record_is_one_finding_not_every_leaf_unlogged(built: Archive) -> None:
    from provarchive.tlog.log import HEADER

    commits = log_dir(built.home) / "commits"
    data = bytearray(commits.read_bytes())
    data[HEADER + 3] ^= 0x01  # the first commit record, not the one the log opens at
    commits.write_bytes(bytes(data))
    built.close()
    one = _findings(built, jobs=1)
    codes = {f["code"] for f in one if f["severity"] == "error"}
    assert codes == {"LOG_DAMAGED"}, one
    assert _findings(built, jobs=2) == one


@pytest.mark.parametrize("number", ["1.0", "123456789012345678901234567890"])
def test_a_leaf_whose_version_is_no_64_bit_integer_is_damage(built: Archive, number: str) -> None:
    with open_log(built.home) as tl:
        leaves = tl.entries(0, tl.size)
    leaves[0] = leaves[0].replace(b'"v":1', b'"v":' + number.encode())
    assert number.encode() in leaves[0]
    shutil.rmtree(log_dir(built.home))
    with TransparencyLog.create(log_dir(built.home)) as tl:
        tl.append(leaves)
    built.close()
    damaged = [f["message"] for f in _findings(built, jobs=1) if f["code"] == "LOG_DAMAGED"]
    assert any("leaf 0:" in m for m in damaged), damaged


def test_a_journaled_version_is_pending_in_every_check_not_damage(
    built: Archive, seeded: Path
) -> None:
    """A writer killed between its store commit and its catalog commit leaves a journal;
    until the next writer finishes it, the version is in store and index but not in the
    catalog. Verify (which does not finish it) reports that as PENDING_WRITE everywhere,
    the index audit included, and finds no damage."""
    staged_journal(built, seeded)
    built.close()
    report = Archive(built.config).verify()
    assert report.errors() == [], [f.to_json() for f in report.findings]
    assert "PENDING_WRITE" in report.codes()
