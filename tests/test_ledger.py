"""The transparency log in the archive: tampering on purpose is found, proofs check offline.

Each tampering case does what an adversary with write access would do, consistently,
so that plain fixity would pass; ``verify --checkpoint`` against a checkpoint kept
outside the archive must still fail with a finding naming the document.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from provarchive import Archive
from provarchive.ledger import EXTENSION, log_dir, open_log
from provarchive.store.ocfl import INVENTORY, SIDECAR, sidecar_bytes
from provarchive.tlog.bundle import check_bundle
from provarchive.tlog.errors import ProofError
from provarchive.tlog.log import TransparencyLog

from .conftest import GO, SEED_NAME, run_provarchive

NOTE = "notes.txt"


@pytest.fixture
def two_versions(archive: Archive, seeded: Path, tmp_path: Path) -> tuple[Archive, str]:
    """The seed, and notes.txt in two versions; returns the archive and a checkpoint."""
    (seeded / NOTE).write_text("The harbour froze over during the coldest night of winter.\n")
    archive.ingest()
    (seeded / NOTE).write_text("The harbour froze over during the coldest night in years.\n")
    archive.ingest()
    return archive, archive.checkpoint()


def check(archive: Archive, checkpoint: str, **kw: object) -> list[tuple[str, str | None]]:
    report = Archive(archive.config).verify(
        check_seeds=False, checkpoints=[("cp.txt", checkpoint)], **kw
    )
    return sorted({(f.code, f.document) for f in report.errors()})


def test_no_tampering_passes_every_checkpoint_of_a_history(
    archive: Archive, seeded: Path, seed_bytes: bytes
) -> None:
    checkpoints = []
    archive.ingest()
    checkpoints.append(archive.checkpoint())
    (seeded / NOTE).write_text("A first note.\n")
    archive.ingest()
    checkpoints.append(archive.checkpoint())
    (seeded / SEED_NAME).write_bytes(seed_bytes + b"\nA correction was added on Monday.\n")
    archive.ingest()
    checkpoints.append(archive.checkpoint())
    archive.reclean()
    checkpoints.append(archive.checkpoint())
    archive.rebuild()
    checkpoints.append(archive.checkpoint())
    archive.reindex()
    checkpoints.append(archive.checkpoint())
    assert len(set(checkpoints)) == len(checkpoints)  # every writing command signed a new one
    report = archive.verify(checkpoints=[(f"cp{i}", c) for i, c in enumerate(checkpoints)])
    assert report.findings == [], [f.message for f in report.findings]


def _forge_content(archive: Archive, name: str, number: int, new: bytes) -> None:
    """Replace a stored version's bytes and every digest of them, consistently."""
    obj = archive.store.object_dir(name)
    state = archive.store.load(name)
    assert state is not None
    content = obj / state.version(number).content_path
    old = content.read_bytes()
    old512, old256 = hashlib.sha512(old).hexdigest(), hashlib.sha256(old).hexdigest()
    new512, new256 = hashlib.sha512(new).hexdigest(), hashlib.sha256(new).hexdigest()
    content.write_bytes(new)
    for inventory in [obj / INVENTORY, *obj.glob(f"v*/{INVENTORY}")]:
        text = inventory.read_text().replace(old512, new512).replace(old256, new256)
        inventory.write_text(text)
        (inventory.parent / SIDECAR).write_bytes(sidecar_bytes(text.encode()))
    with sqlite3.connect(archive.home.catalog_path) as db:
        db.execute(
            "UPDATE versions SET sha512 = ?, sha256 = ?, size = ? WHERE sha512 = ?",
            (new512, new256, len(new), old512),
        )


def test_a_rewritten_old_version_is_found(two_versions: tuple[Archive, str]) -> None:
    archive, checkpoint = two_versions
    _forge_content(
        archive, NOTE, 1, b"The harbour stayed open during the coldest night of winter.\n"
    )
    # Fixity alone is fooled: store, inventories, sidecars and catalog agree.
    fixity = {f.code for f in Archive(archive.config).verify(check_seeds=False).errors()}
    assert "CONTENT_DIGEST_MISMATCH" not in fixity and "FIXITY_MISMATCH" not in fixity
    assert ("LOG_VERSION_MISMATCH", NOTE) in check(archive, checkpoint)


def test_a_deleted_latest_version_is_found(two_versions: tuple[Archive, str]) -> None:
    archive, checkpoint = two_versions
    obj = archive.store.object_dir(NOTE)
    shutil.rmtree(obj / "v2")
    for name in (INVENTORY, SIDECAR):
        shutil.copy(obj / "v1" / name, obj / name)
    with sqlite3.connect(archive.home.catalog_path) as db:
        db.execute("PRAGMA foreign_keys=ON")
        db.execute(
            "DELETE FROM versions WHERE number = 2 AND document_id = "
            "(SELECT id FROM documents WHERE name = ?)",
            (NOTE,),
        )
        db.execute("UPDATE documents SET head = 1 WHERE name = ?", (NOTE,))
    assert ("LOG_VERSION_MISSING", NOTE) in check(archive, checkpoint)


@pytest.mark.parametrize("how", ["edit", "delete"])
def test_an_edited_or_deleted_event_is_found(two_versions: tuple[Archive, str], how: str) -> None:
    archive, checkpoint = two_versions
    with sqlite3.connect(archive.home.catalog_path) as db:
        (event_id,) = db.execute(
            "SELECT id FROM events WHERE document = ? AND event_type = 'ingestion' "
            "ORDER BY id LIMIT 1",
            (NOTE,),
        ).fetchone()
        if how == "edit":
            db.execute("UPDATE events SET detail = 'nothing happened' WHERE id = ?", (event_id,))
        else:
            db.execute("DELETE FROM events WHERE id = ?", (event_id,))
    code = "LOG_EVENT_ALTERED" if how == "edit" else "LOG_EVENT_MISSING"
    assert (code, NOTE) in check(archive, checkpoint)


def _rewrite_log(archive: Archive, keep: int) -> None:
    """Replace the log by one holding only its first ``keep`` leaves."""
    with open_log(archive.home) as tl:
        leaves = tl.entries(0, keep)
    shutil.rmtree(log_dir(archive.home))
    with TransparencyLog.create(log_dir(archive.home)) as tl:
        tl.append(leaves)


def test_a_truncated_or_rewritten_log_is_found(two_versions: tuple[Archive, str]) -> None:
    archive, checkpoint = two_versions
    with open_log(archive.home) as tl:
        size = tl.size
    _rewrite_log(archive, size // 2)
    found = check(archive, checkpoint)
    assert ("LOG_INCONSISTENT", None) in found
    assert ("LOG_VERSION_UNLOGGED", NOTE) in found  # names what the log no longer covers


def test_a_checkpoint_with_a_bad_signature_is_found(two_versions: tuple[Archive, str]) -> None:
    archive, checkpoint = two_versions
    text, signature = checkpoint.rsplit(" ", 1)
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    assert ("CHECKPOINT_INVALID", None) in check(archive, text + " " + flipped)


def test_a_log_resigned_with_another_key_is_found(
    two_versions: tuple[Archive, str], tmp_path: Path
) -> None:
    archive, checkpoint = two_versions
    trusted = archive.verifier_key()
    # The adversary rewrites the log, makes a key of their own, and signs a new checkpoint.
    _rewrite_log(archive, 3)
    archive.config.key_path.unlink()
    settings = json.loads((archive.config.root / "provarchive.json").read_text())
    settings.pop("verifier_key")
    settings.pop("origin")
    (archive.config.root / "provarchive.json").write_text(json.dumps(settings))
    fresh = Archive(archive.config)
    fresh.reindex()  # any writing command: a new key, a new checkpoint
    assert fresh.verifier_key() != trusted
    # Against the archive's (new) key the old checkpoint no longer verifies; against the
    # key the journalist kept, the rewritten log does not extend it.
    assert ("CHECKPOINT_INVALID", None) in check(fresh, checkpoint)
    assert ("LOG_INCONSISTENT", None) in check(fresh, checkpoint, key=trusted)


@pytest.mark.slow
def test_prove_and_check_proof_in_an_empty_directory(
    two_versions: tuple[Archive, str], tmp_path: Path, seeded: Path
) -> None:
    archive, _ = two_versions
    env = {"PROVARCHIVE_ARCHIVE": str(archive.config.root)}
    key = run_provarchive("key", env=env, text=True).stdout.strip()
    elsewhere = tmp_path / "reader"
    elsewhere.mkdir()
    for target, name in ((NOTE, "note.json"), (GO, "passage.json")):
        made = run_provarchive("prove", target, "--out", str(elsewhere / name), env=env)
        assert made.returncode == 0, made.stderr
    raw = elsewhere / "note.txt"
    raw.write_bytes((seeded / NOTE).read_bytes())
    seed = elsewhere / "seed.txt"
    seed.write_bytes((seeded / SEED_NAME).read_bytes())
    reader = {"PROVARCHIVE_ARCHIVE": str(tmp_path / "no-archive-here")}
    ok = run_provarchive(
        "check-proof", str(elsewhere / "note.json"), "--key", key, "--file", str(raw),
        env=reader, text=True, cwd=elsewhere,
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert f"{NOTE} v2" in ok.stdout
    passage = run_provarchive(
        "check-proof", str(elsewhere / "passage.json"), "--key", key, "--file", str(seed),
        env=reader, text=True, cwd=elsewhere,
    )  # fmt: skip
    assert passage.returncode == 0, passage.stderr
    assert "span hash" in passage.stdout
    raw.write_bytes(raw.read_bytes().replace(b"years", b"yeers"))
    bad = run_provarchive(
        "check-proof", str(elsewhere / "note.json"), "--key", key, "--file", str(raw),
        env=reader, text=True,
    )  # fmt: skip
    assert bad.returncode == 1 and bad.stderr.startswith("Error: ")
    assert "Traceback" not in bad.stderr
    # Which file did not check, against which bundle.
    assert bad.stderr.startswith(
        f"Error: {raw} is not the file {elsewhere / 'note.json'} attests: "
    )


def test_changing_any_byte_of_a_bundle_fails_its_check(two_versions: tuple[Archive, str]) -> None:
    archive, _ = two_versions
    bundle = archive.prove(NOTE)
    key = archive.verifier_key()
    assert check_bundle(bundle, key).leaf.document == NOTE
    for i in range(len(bundle)):
        changed = bytearray(bundle)
        changed[i] = (changed[i] + 1) % 256
        with pytest.raises(ProofError):
            check_bundle(bytes(changed), key)


def test_an_archive_older_than_its_log_is_seeded(archive: Archive, seeded: Path) -> None:
    archive.ingest()
    shutil.rmtree(log_dir(archive.home))  # as made by a provarchive without the log
    settings = json.loads((archive.config.root / "provarchive.json").read_text())
    with sqlite3.connect(archive.home.catalog_path) as db:
        db.execute("UPDATE events SET logged = 0")
    repairs = Archive(archive.config).ingest().repairs
    assert "log-seeded" in [r.action for r in repairs]
    assert json.loads((archive.config.root / "provarchive.json").read_text()) == settings
    report = Archive(archive.config).verify(
        check_seeds=False, checkpoints=[("cp", archive.checkpoint())]
    )
    assert report.findings == [], [f.message for f in report.findings]


def test_the_log_lives_in_the_storage_roots_extensions(archive: Archive, seeded: Path) -> None:
    archive.ingest()
    assert log_dir(archive.home) == archive.store.root / "extensions" / EXTENSION
    with open_log(archive.home) as tl:
        assert tl.size > 0


def test_the_signing_key_is_private_and_never_printed(cli, seeded: Path, tmp_path: Path) -> None:
    result = cli("ingest")
    key_file = tmp_path / "archive" / "signing.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    # PRIVATE+KEY+name+id+base64: the base64 may itself hold a "+" (or end with one).
    secret = key_file.read_text().strip().split("+", 4)[4]
    assert len(secret) == 44
    for args in (("key",), ("key", "--json"), ("log", "--json"), ("checkpoint",)):
        assert secret not in cli(*args).stdout
    assert secret not in result.stdout + result.stderr


def test_checkpoint_json_gives_the_note_and_its_tree_head(cli, seeded: Path) -> None:
    assert cli("ingest").exit_code == 0
    note = cli("checkpoint").stdout
    data = json.loads(cli("checkpoint", "--json").stdout)
    assert data["note"] == note
    origin, size, root = note.split("\n")[:3]
    assert (data["origin"], data["size"], data["root_hash"]) == (origin, int(size), root)
    assert data["size"] > 0


def test_init_with_a_key_it_cannot_use_writes_nothing(tmp_path: Path) -> None:
    from provarchive.tlog.keys import generate_key

    root = tmp_path / "archive"
    env = {"PROVARCHIVE_ARCHIVE": str(root), "PROVARCHIVE_SIGNING_KEY": ""}
    loose = tmp_path / "loose.key"
    generate_key(loose, "newsroom.example/loose")
    loose.chmod(0o644)
    for key, why in ((tmp_path / "missing.key", "no such file"), (loose, "too open")):
        done = run_provarchive("init", "--key", str(key), env=env, text=True)
        assert done.returncode == 1, done.stderr
        assert str(key) in done.stderr and why in done.stderr and "Traceback" not in done.stderr
        assert not root.exists()  # no half-made archive for the next init to finish
    bad_env = dict(env, PROVARCHIVE_SIGNING_KEY="garbage")
    done = run_provarchive("init", env=bad_env, text=True)
    assert done.returncode == 1 and "Traceback" not in done.stderr and not root.exists()
    own = generate_key(tmp_path / "own.key", "newsroom.example/own")
    done = run_provarchive("init", "--key", str(tmp_path / "own.key"), env=env, text=True)
    assert done.returncode == 0, done.stderr
    shown = run_provarchive("key", env=env, text=True)
    assert shown.stdout.strip() == own.verifier.verifier_key


@pytest.mark.parametrize("damage", ["truncated", "not UTF-8", "missing"])
def test_a_damaged_latest_checkpoint_is_found_and_never_handed_out(
    cli, archive: Archive, seeded: Path, damage: str
) -> None:
    assert cli("ingest").exit_code == 0
    path = log_dir(archive.home) / "checkpoint"
    good = path.read_text()
    if damage == "missing":
        path.unlink()
    else:
        path.write_bytes(good.encode()[:40] if damage == "truncated" else b"\xff\xfe")
    report = Archive(archive.config).verify(check_seeds=False)
    [finding] = [f for f in report.findings if f.code.startswith("CHECKPOINT_")]
    assert finding.path == str(path)
    assert (finding.code, report.is_ok()) == (
        ("CHECKPOINT_MISSING", True) if damage == "missing" else ("CHECKPOINT_INVALID", False)
    )
    for args in (("checkpoint",), ("prove", SEED_NAME)):
        result = cli(*args)
        assert result.exit_code == 7, result.output
        assert result.stdout == "" and str(path.name) in result.stderr
    damaged = b"" if damage == "missing" else path.read_bytes()
    (seeded / "more.txt").write_text("Another page arrives.\n")
    assert cli("ingest").exit_code == 0  # the next writing command signs a new one
    assert Archive(archive.config).verify(check_seeds=False).findings == []
    assert cli("checkpoint").exit_code == 0
    kept = sorted(path.parent.glob("checkpoint.invalid-*"))
    if damage == "missing":
        assert kept == []
    else:  # the damaged file is kept aside, and a recovery event names it
        assert [k.read_bytes() for k in kept] == [damaged]
        assert "checkpoint-set-aside: the latest checkpoint was not valid" in cli("log").stdout
        assert kept[0].name in cli("log").stdout


def test_a_forged_checkpoint_is_kept_aside_not_signed_over(
    cli, archive: Archive, seeded: Path
) -> None:
    """A writer never erases what verify would report: a checkpoint whose signature is
    not the archive's (a forger's edit) is renamed aside with a logged recovery event."""
    assert cli("ingest").exit_code == 0
    path = log_dir(archive.home) / "checkpoint"
    text, signature = path.read_text().rstrip("\n").rsplit(" ", 1)
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    forged = f"{text} {flipped}\n"
    path.write_text(forged)
    assert [f.code for f in Archive(archive.config).verify(check_seeds=False).errors()] == [
        "CHECKPOINT_INVALID"
    ]
    assert cli("reindex").exit_code == 0  # any writing command
    [kept] = path.parent.glob("checkpoint.invalid-*")
    assert kept.read_text() == forged
    assert path.read_text() != forged
    assert Archive(archive.config).verify(check_seeds=False).findings == []
    log = cli("log").stdout
    assert "checkpoint-set-aside" in log and "invalid signature" in log and kept.name in log
    assert cli("reindex").exit_code == 0  # a sound checkpoint is left where it is
    assert list(path.parent.glob("checkpoint.invalid-*")) == [kept]


def test_a_set_aside_event_keeps_a_forged_checkpoint_fault_short(
    cli, archive: Archive, seeded: Path
) -> None:
    """A forger's checkpoint may hold anything; its recovery event holds a bounded part."""
    assert cli("ingest").exit_code == 0
    path = log_dir(archive.home) / "checkpoint"
    path.write_text("x" * 100_000 + "\n1\nAAAA\n\n\u2014 " + "y" * 100_000 + " AAAA\n")
    assert cli("reindex").exit_code == 0
    [kept] = path.parent.glob("checkpoint.invalid-*")
    assert len(kept.read_text()) > 200_000  # the evidence is kept whole...
    [line] = [ln for ln in cli("log").stdout.splitlines() if "checkpoint-set-aside" in ln]
    assert len(line) < 1_000  # ...its event holds only a short account of it
    assert kept.name in line


@pytest.mark.parametrize("damage", ["missing", "garbled", "another key"])
def test_a_signing_key_writers_cannot_use_is_a_warning(
    cli, archive: Archive, seeded: Path, damage: str
) -> None:
    from provarchive.tlog.keys import generate_key

    assert cli("ingest").exit_code == 0
    key = archive.config.key_path
    saved = key.read_text()
    key.unlink()
    if damage == "garbled":
        key.write_text("garbage\n")
        key.chmod(0o600)
    elif damage == "another key":
        generate_key(key, "someone.else/key")
    report = Archive(archive.config).verify(check_seeds=False)
    assert [f.code for f in report.findings] == ["SIGNING_KEY_UNUSABLE"]
    assert report.is_ok() and report.findings[0].path == str(key)
    (seeded / "more.txt").write_text("Another page arrives.\n")
    outside = seeded.parent / "outside.txt"
    outside.write_text("A file to add.\n")
    seeds_before = sorted(p.name for p in seeded.iterdir())
    for args in (("ingest",), ("add", str(outside))):  # what the warning warns of
        result = cli(*args)
        assert result.exit_code != 0 and "signing key" in result.stderr, result.output
    # ...and they fail before they change anything: no document, no copy in seeds.
    assert sorted(p.name for p in seeded.iterdir()) == seeds_before
    assert [d.document for d in Archive(archive.config).list_documents()] == [SEED_NAME]
    key.unlink(missing_ok=True)
    key.write_text(saved)
    key.chmod(0o600)
    assert Archive(archive.config).verify(check_seeds=False).findings == []


def test_prove_a_version_the_document_does_not_have_is_not_found(
    two_versions: tuple[Archive, str], cli
) -> None:
    for rev in ("0", "3", str(2**63)):
        result = cli("prove", NOTE, "--rev", rev)
        assert result.exit_code == 4, (rev, result.output)
        assert result.stdout == "" and "has no version" in result.stderr
    first = json.loads(cli("prove", NOTE, "--rev", "1").stdout)
    assert (first["document"], first["version"]) == (NOTE, 1)


def test_key_and_checkpoint_need_no_catalog(cli, archive: Archive, seeded: Path) -> None:
    """An auditor needs the key and the checkpoint most when the catalog is damaged:
    neither reads it."""
    assert cli("ingest").exit_code == 0
    key, checkpoint = cli("key").stdout, cli("checkpoint").stdout
    if archive.config.db_url is not None:
        pytest.skip("the damage below is to a SQLite catalog file")
    with archive.home.catalog_path.open("r+b") as fh:
        fh.truncate(4096)
    assert cli("list").exit_code == 8  # the catalog is damaged...
    for args, before in ((("key",), key), (("checkpoint",), checkpoint)):
        result = cli(*args)  # ...and these still answer, the same as before
        assert (result.exit_code, result.stdout) == (0, before), result.output
