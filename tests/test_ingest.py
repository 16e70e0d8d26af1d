"""Ingest and add through the library: statuses, versions, stat cache, bad input."""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
import os
import time
from pathlib import Path

import pytest

from provarchive import Archive
from provarchive.errors import InvalidNameError, UsageError

from .conftest import SEED_NAME, ocfl_py_validate


def statuses(report) -> dict[str, str]:
    return {r.document: r.status for r in report.results}


def test_ingest_then_unchanged_then_new_version(
    archive: Archive, seeded: Path, seed_bytes: bytes
) -> None:
    first = archive.ingest()
    assert [(r.document, r.status, r.version) for r in first.results] == [(SEED_NAME, "new", 1)]
    assert first.results[0].sha256 == hashlib.sha256(seed_bytes).hexdigest()
    assert statuses(archive.ingest()) == {SEED_NAME: "unchanged"}
    (seeded / SEED_NAME).write_bytes(seed_bytes.replace(b"mystery", b"enigma"))
    third = archive.ingest()
    assert [(r.status, r.version) for r in third.results] == [("new-version", 2)]
    assert archive.read_bytes(SEED_NAME, 1) == seed_bytes
    assert archive.read_bytes(SEED_NAME, 2) == seed_bytes.replace(b"mystery", b"enigma")
    versions = archive.versions(SEED_NAME)
    assert [v.version for v in versions] == [1, 2]
    assert versions[0].source.endswith(f"seeds/{SEED_NAME}")
    ok, messages = ocfl_py_validate(archive.store.root)
    assert ok, messages


def test_events_record_ingestion_and_digest_calculation(archive: Archive, seeded: Path) -> None:
    archive.ingest()
    kinds = [(e.event_type, e.outcome, e.version) for e in archive.events(document=SEED_NAME)]
    assert ("ingestion", "success", 1) in kinds
    assert ("message digest calculation", "success", 1) in kinds
    assert all(e.agent.startswith("provarchive ") for e in archive.events())


def test_nested_names_are_posix_paths_relative_to_seeds(archive: Archive, seeds: Path) -> None:
    (seeds / "2024" / "june").mkdir(parents=True)
    (seeds / "2024" / "june" / "a.txt").write_text("a")
    (seeds / "b.txt").write_text("b")
    report = archive.ingest()
    assert sorted(statuses(report)) == ["2024/june/a.txt", "b.txt"]


def test_names_are_nfc_normalised(archive: Archive, seeds: Path) -> None:
    decomposed = "cafe\u0301.txt"
    (seeds / decomposed).write_text("x")
    report = archive.ingest()
    assert [r.document for r in report.results] == ["caf\u00e9.txt"]


def test_ingest_given_paths_only(archive: Archive, seeds: Path) -> None:
    (seeds / "a.txt").write_text("a")
    (seeds / "b.txt").write_text("b")
    report = archive.ingest([seeds / "b.txt"])
    assert statuses(report) == {"b.txt": "new"}


def test_path_outside_seeds_fails_with_reason(
    archive: Archive, seeds: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "elsewhere.txt"
    outside.write_text("x")
    report = archive.ingest([outside])
    [result] = report.results
    assert result.status == "failed"
    assert "not inside the seeds folder" in (result.error or "")


def test_stat_cache_skips_reading_unchanged_seeds(
    archive: Archive, seeds: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (seeds / "a.txt").write_text("a")
    old = time.time() - 60
    os.utime(seeds / "a.txt", (old, old))
    archive.ingest()
    opened: list[str] = []
    mod = importlib.import_module("provarchive.ingest")

    real = mod.open_seed

    def spy(root, seed):
        opened.append(seed.name)
        return real(root, seed)

    monkeypatch.setattr(mod, "open_seed", spy)
    assert statuses(archive.ingest()) == {"a.txt": "unchanged"}
    assert opened == []
    (seeds / "a.txt").write_text("changed")
    # A modification time not safely before the check (here: a minute ahead, so the
    # margin never depends on how fast this machine is) makes the entry "racy".
    future = time.time() + 60
    os.utime(seeds / "a.txt", (future, future))
    assert statuses(archive.ingest()) == {"a.txt": "new-version"}
    assert opened == ["a.txt"]
    opened.clear()
    assert statuses(archive.ingest()) == {"a.txt": "unchanged"}
    assert opened == ["a.txt"]  # racy: read again although its stat did not change


def test_same_size_same_mtime_edit_is_still_caught(archive: Archive, seeds: Path) -> None:
    """An edit that keeps size and mtime still changes ctime: the cache must not trust it."""
    path = seeds / "a.txt"
    path.write_text("aaaa")
    old = time.time() - 60
    os.utime(path, (old, old))
    archive.ingest()
    archive.ingest()
    st = path.stat()
    path.write_text("bbbb")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert statuses(archive.ingest()) == {"a.txt": "new-version"}


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (
            lambda seeds, tmp: (seeds / "link.txt").symlink_to(tmp / "outside.txt"),
            "symbolic link leads outside the seeds folder",
        ),
        (
            lambda seeds, tmp: (seeds / "dangling.txt").symlink_to(seeds / "nothing"),
            "symbolic link",
        ),
    ],
    ids=["symlink-outside", "dangling-symlink"],
)
def test_bad_entries_fail_alone(
    archive: Archive, seeds: Path, tmp_path: Path, make, reason: str
) -> None:
    (tmp_path / "outside.txt").write_text("secret")
    (seeds / "good.txt").write_text("good")
    make(seeds, tmp_path)
    report = archive.ingest()
    by_status = {r.status for r in report.results}
    assert statuses(report)["good.txt"] == "new"
    [bad] = report.failed
    assert reason in (bad.error or "")
    assert by_status == {"new", "failed"}


def test_symlink_inside_seeds_is_followed(archive: Archive, seeds: Path) -> None:
    (seeds / "real.txt").write_text("real")
    (seeds / "alias.txt").symlink_to(seeds / "real.txt")
    report = archive.ingest()
    assert statuses(report) == {"alias.txt": "new", "real.txt": "new"}


def test_fifo_is_skipped_and_never_blocks(archive: Archive, seeds: Path) -> None:
    os.mkfifo(seeds / "pipe")
    (seeds / "good.txt").write_text("good")
    report = archive.ingest()
    assert statuses(report) == {"good.txt": "new", "pipe": "skipped"}
    [skipped] = [r for r in report.results if r.status == "skipped"]
    assert "FIFO" in (skipped.error or "")
    assert not report.failed


def test_control_character_in_name_is_refused(archive: Archive, seeds: Path) -> None:
    (seeds / "bad\nname.txt").write_text("x")
    (seeds / "good.txt").write_text("good")
    report = archive.ingest()
    [bad] = report.failed
    assert "control character (U+000A)" in (bad.error or "")
    assert statuses(report)["good.txt"] == "new"


def test_undecodable_file_name_is_refused(archive: Archive, seeds: Path) -> None:
    os.close(os.open(os.path.join(os.fsencode(seeds), b"bad\xff.txt"), os.O_CREAT | os.O_WRONLY))
    report = archive.ingest()
    [bad] = report.failed
    assert "not valid UTF-8" in (bad.error or "")


def test_unreadable_file_fails_alone(
    archive: Archive, seeds: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (seeds / "locked.txt").write_text("x")
    (seeds / "good.txt").write_text("good")
    import provarchive.seeds as seeds_mod

    real_open = os.open

    def deny(path, flags, *args, **kwargs):
        if str(path).endswith("locked.txt"):
            raise PermissionError(13, "Permission denied")
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(seeds_mod.os, "open", deny)
    report = archive.ingest()
    [bad] = report.failed
    assert bad.document == "locked.txt" and bad.error == "Permission denied"
    assert statuses(report)["good.txt"] == "new"


def test_empty_and_binary_files_are_archived_as_bytes(archive: Archive, seeds: Path) -> None:
    (seeds / "empty.txt").write_bytes(b"")
    blob = bytes(range(256)) * 10
    (seeds / "blob.bin").write_bytes(blob)
    report = archive.ingest()
    assert statuses(report) == {"blob.bin": "new", "empty.txt": "new"}
    assert archive.read_bytes("empty.txt") == b""
    assert archive.read_bytes("blob.bin") == blob
    ok, messages = ocfl_py_validate(archive.store.root)
    assert ok, messages


def test_failed_inputs_are_logged_as_failure_events(
    archive: Archive, seeds: Path, tmp_path: Path
) -> None:
    (seeds / "link.txt").symlink_to(tmp_path)
    (seeds / "x.txt").write_text("x")
    (seeds / "out.txt").symlink_to(tmp_path / "nowhere")
    report = archive.ingest()
    assert statuses(report) == {"link.txt": "failed", "out.txt": "failed", "x.txt": "new"}
    failures = {e.document: e.detail for e in archive.events() if e.outcome == "failure"}
    assert set(failures) == {"link.txt", "out.txt"}
    assert "symbolic link leads outside the seeds folder" in failures["link.txt"]
    assert "symbolic link leads outside the seeds folder" in failures["out.txt"]


# -- add ---------------------------------------------------------------------------------------


def test_add_copies_into_seeds_and_archives(archive: Archive, seeds: Path, tmp_path: Path) -> None:
    src = tmp_path / "incoming.txt"
    src.write_text("fresh news")
    report = archive.add([src])
    assert statuses(report) == {"incoming.txt": "new"}
    assert (seeds / "incoming.txt").read_text() == "fresh news"
    v = archive.version("incoming.txt")
    assert v.source == str(src) and v.message == f"add {src}"


def test_add_as_name_in_subfolder(archive: Archive, seeds: Path, tmp_path: Path) -> None:
    src = tmp_path / "x.txt"
    src.write_text("x")
    report = archive.add([src], as_name="2025/renamed.txt")
    assert statuses(report) == {"2025/renamed.txt": "new"}
    assert (seeds / "2025" / "renamed.txt").read_text() == "x"


@pytest.mark.parametrize("name", ["../x", "/etc/passwd", "~/x", "a/../../x", "a//b", "./a"])
def test_add_refuses_names_escaping_seeds(
    archive: Archive, seeds: Path, tmp_path: Path, name: str
) -> None:
    src = tmp_path / "x.txt"
    src.write_text("x")
    with pytest.raises(InvalidNameError):
        archive.add([src], as_name=name)
    assert not (tmp_path / "x").exists()
    assert list(seeds.iterdir()) == []


def test_add_refuses_to_overwrite_a_different_seed(
    archive: Archive, seeds: Path, tmp_path: Path
) -> None:
    (seeds / "doc.txt").write_text("original")
    archive.ingest()
    src = tmp_path / "doc.txt"
    src.write_text("impostor")
    report = archive.add([src])
    [bad] = report.failed
    assert "already exists with different content" in (bad.error or "")
    assert (seeds / "doc.txt").read_text() == "original"
    report = archive.add([src], replace=True)
    assert [(r.status, r.version) for r in report.results] == [("new-version", 2)]
    assert archive.read_bytes("doc.txt", 1) == b"original"
    assert archive.read_bytes("doc.txt", 2) == b"impostor"


def test_add_identical_file_is_unchanged(archive: Archive, seeds: Path, tmp_path: Path) -> None:
    (seeds / "doc.txt").write_text("same")
    archive.ingest()
    src = tmp_path / "doc.txt"
    src.write_text("same")
    assert statuses(archive.add([src])) == {"doc.txt": "unchanged"}


def test_add_as_requires_one_file(archive: Archive, tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_text("a")
    b.write_text("b")
    with pytest.raises(UsageError):
        archive.add([a, b], as_name="x.txt")


def test_add_through_a_symlinked_subfolder_leading_out_is_refused(
    archive: Archive, seeds: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (seeds / "sneaky").symlink_to(outside)
    src = tmp_path / "x.txt"
    src.write_text("x")
    report = archive.add([src], as_name="sneaky/x.txt")
    [bad] = report.failed
    assert "outside the seeds folder" in (bad.error or "")
    assert list(outside.iterdir()) == []


def test_batches_end_once_past_their_byte_bound(tmp_path: Path) -> None:
    # An interrupt waits for the batch in hand: a batch holds at most one file past
    # BATCH_BYTES, however many small files it could hold.
    from provarchive import ingest as ing
    from provarchive.seeds.scanner import SeedFile

    big = ing.BATCH_BYTES // 3 + 1
    seeds = []
    for i in range(8):
        path = tmp_path / f"f{i}.txt"
        with open(path, "wb") as fh:
            fh.truncate(big)  # sparse: the size is what counts
        seeds.append(SeedFile(path.name, path))
    batches = list(ing._batches(seeds))
    assert [len(b) for b in batches] == [3, 3, 2]
    assert ing.BATCH_BYTES <= 8 * 1024 * 1024


@pytest.mark.parametrize("how", ["file", "as", "folder"])
def test_add_refuses_the_archive_s_own_files(
    archive: Archive, seeds: Path, tmp_path: Path, how: str
) -> None:
    """``add archive/signing.key`` archived the private signing key for good (searchable,
    never deletable); ``add -r archive`` copied the catalog into the seeds folder."""
    archive.ingest()
    key = archive.config.root / "signing.key"
    assert key.is_file()
    before = sorted(p.relative_to(seeds) for p in seeds.rglob("*"))
    if how == "file":
        report = archive.add([key])
    elif how == "as":
        report = archive.add([key], as_name="notes/key.txt")
    else:
        report = archive.add([archive.config.root], recursive=True, into="copy")
    [result] = report.results
    assert result.status == "failed"
    assert result.error is not None and "part of a provarchive archive" in result.error
    assert sorted(p.relative_to(seeds) for p in seeds.rglob("*")) == before
    assert archive.search("PRIVATE").total == 0


def test_a_damaged_object_fails_its_seed_alone_and_the_rest_is_archived(
    archive: Archive, seeds: Path, cli, caplog: pytest.LogCaptureFixture
) -> None:
    (seeds / "a.txt").write_text("first text\n")
    (seeds / "b.txt").write_text("second text\n")
    archive.ingest()
    (archive.store.object_dir("a.txt") / "inventory.json").write_bytes(b"")
    (seeds / "a.txt").write_text("first text, changed\n")
    (seeds / "b.txt").write_text("second text, changed\n")
    (seeds / "c.txt").write_text("third text\n")
    result = cli("--archive", str(archive.config.root), "ingest", "--json")
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    by_name = {r["document"]: r for r in report["results"]}
    assert by_name["b.txt"]["status"] == "new-version"
    assert by_name["c.txt"]["status"] == "new"
    assert by_name["a.txt"]["status"] == "failed"
    assert "damaged" in by_name["a.txt"]["error"]
    assert "inventory.json" in by_name["a.txt"]["error"]
    assert archive.read_bytes("c.txt", 1) == b"third text\n"
    assert not list(archive.store.staging.iterdir())  # the failed seed's bytes are not left
    caplog.clear()
    checked = cli("--archive", str(archive.config.root), "verify", "--no-seeds")
    assert checked.exit_code == 1 and "INVENTORY_INVALID" in checked.stdout
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]  # said once


def test_a_file_that_changes_while_it_is_read_is_not_archived(
    archive: Archive, seeds: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A version must be bytes the file really held: one written to between the open and
    the end of the copy fails (and the rest of the batch is archived)."""
    import provarchive.ingest as ingest_module

    (seeds / "growing.txt").write_text("the first half of a download\n")
    (seeds / "steady.txt").write_text("a file nobody touches\n")
    real = ingest_module.open_seed

    def open_then_write(root: Path, seed):
        stream, opened = real(root, seed)
        if seed.name == "growing.txt":
            with open(seed.path, "ab") as other:  # another program, mid-read
                other.write(b"and the second half\n")
        return stream, opened

    monkeypatch.setattr(ingest_module, "open_seed", open_then_write)
    report = archive.ingest()
    status = {r.document: (r.status, r.error) for r in report.results}
    assert status["steady.txt"][0] == "new"
    assert status["growing.txt"] == ("failed", ingest_module.CHANGED_WHILE_READ)
    assert not list(archive.store.staging.iterdir())
    monkeypatch.setattr(ingest_module, "open_seed", real)
    again = {r.document: r.status for r in archive.ingest().results}
    assert again["growing.txt"] == "new"  # complete now: archived as it is
    assert archive.read_bytes("growing.txt", 1).endswith(b"and the second half\n")


def test_a_file_whose_change_time_alone_moves_while_it_is_read_is_archived(
    archive: Archive, seeds: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """chmod, chown or a backup's hard link move the change time, not the bytes: such a
    file is archived (its stat is not cached, so the next ingest hashes it again)."""
    import provarchive.ingest as ingest_module

    (seeds / "linked.txt").write_text("a page a backup tool hard-links while we read it\n")
    real = ingest_module.open_seed

    def open_then_link(root: Path, seed):
        stream, opened = real(root, seed)
        os.link(seed.path, seeds.parent / "backup-link")  # moves ctime only
        return stream, opened

    monkeypatch.setattr(ingest_module, "open_seed", open_then_link)
    [result] = archive.ingest().results
    assert (result.status, result.error) == ("new", None)
    monkeypatch.setattr(ingest_module, "open_seed", real)
    assert [r.status for r in archive.ingest().results] == ["unchanged"]
