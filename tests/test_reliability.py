"""Reliability with real processes: SIGKILL crash trials, concurrent writers, readers
during writes, lock time-outs, read-only and full disks."""

from __future__ import annotations

import errno
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from provarchive import Archive, ArchiveConfig

from .conftest import crash_test, ocfl_py_validate, run_provarchive


@pytest.mark.slow
@pytest.mark.parametrize(
    "trial", range(3), ids=["kill-early", "kill-middle", "kill-during-indexing"]
)
def test_sigkill_during_ingest_then_rerun_leaves_a_valid_complete_archive(trial: int) -> None:
    result = crash_test.run_trial(trial, 7000 + trial, docs=120, keep=None)
    assert result.killed, "the ingest finished before it could be killed: the trial tested nothing"
    assert result.problems == []
    assert result.ok


@pytest.mark.slow
@pytest.mark.timeout(1800)
@pytest.mark.parametrize("command", ["add", "add-replace", "reclean", "reindex", "rebuild"])
def test_sigkill_during_each_writing_command_keeps_everything(command: str) -> None:
    """One trial per writing command (scripts/crash-test runs many): right after the kill
    every committed document is found and no event is lost; after the next writer the
    archive is valid, complete, and nothing is left behind. The kill lands in the first
    third of the command's run, so that it always finds the command running."""
    result = crash_test.run_trial(1, 7100, docs=30, keep=None, command=command, phase="early")
    assert result.killed, f"{command} finished before it could be killed: nothing was tested"
    assert result.problems == []
    assert result.ok and result.found == result.committed > 0
    assert result.events_after >= result.events_before


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        PROVARCHIVE_ARCHIVE=str(tmp_path / "archive"),
        PROVARCHIVE_SEEDS=str(tmp_path / "seeds"),
        PROVARCHIVE_LOCK_TIMEOUT="120",
    )
    env.update(extra)
    return env


def _popen(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "provarchive", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_concurrent_ingests_over_overlapping_seeds(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    crash_test.write_seeds(seeds, random.Random(5), 200)
    env = _env(tmp_path)
    # Three writers at once: two over the whole folder, one over part of it.
    procs = [
        _popen(["ingest", "--json"], env),
        _popen(["ingest", "--json"], env),
        _popen(["ingest", str(seeds / "batch-3"), "--json"], env),
    ]
    outs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [o[1][-500:] for o in outs]
    waited = [o[1] for o in outs if "Waiting for the archive's writer lock" in o[1]]
    assert waited, "no writer reported waiting for the lock"
    statuses: dict[str, list[str]] = {}
    for stdout, _ in outs:
        for r in json.loads(stdout)["results"]:
            statuses.setdefault(r["document"], []).append(r["status"])
    assert len(statuses) == 200
    assert all(s.count("new") == 1 for s in statuses.values())  # archived exactly once
    with Archive(
        ArchiveConfig(
            root=tmp_path / "archive", seeds=seeds, db_url=os.environ.get("PROVARCHIVE_DB_URL")
        )
    ) as a:
        assert all(len(a.versions(name)) == 1 for name in statuses)
        assert a.verify().is_ok()
    ok, messages = ocfl_py_validate(tmp_path / "archive" / "ocfl")
    assert ok, messages


def _hold_writer_lock(archive: Path) -> subprocess.Popen[str]:
    """Another process holding the archive's writer lock (it sleeps until killed)."""
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time, filelock; l = filelock.FileLock(sys.argv[1]); l.acquire(); print('held', flush=True); time.sleep(120)",
            str(archive / "writer.lock"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_readers_never_wait_for_the_writer_lock(tmp_path: Path) -> None:
    """With a writer holding the lock for as long as it likes, every reader answers:
    a reader that waited for the lock would wait 300 s and hit the 60 s timeout here."""
    seeds = tmp_path / "seeds"
    crash_test.write_seeds(seeds, random.Random(6), 30)
    env = _env(tmp_path, PROVARCHIVE_LOCK_TIMEOUT="300")
    assert run_provarchive("ingest", env=env, timeout=600).returncode == 0
    holder = _hold_writer_lock(tmp_path / "archive")
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        readers = {
            "show": ["show", "batch-0/doc-0000.txt", "--json"],
            "search": ["search", "harbour", "--json"],
            "verify": ["verify", "--json", "--no-seeds"],
            "log": ["log", "--json", "--limit", "5"],
            "cat": ["cat", "batch-0/doc-0000.txt"],
        }
        results = {k: run_provarchive(*v, env=env, timeout=60) for k, v in readers.items()}
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    for name, r in results.items():
        assert r.returncode == 0, (name, r.stderr[-500:])
    assert json.loads(results["show"].stdout)["versions"][0]["version"] == 1
    assert json.loads(results["verify"].stdout)["ok"] is True
    assert results["cat"].stdout == (seeds / "batch-0" / "doc-0000.txt").read_bytes()


@pytest.mark.slow
def test_a_second_writer_times_out_with_a_clear_error(tmp_path: Path) -> None:
    env = _env(tmp_path, PROVARCHIVE_LOCK_TIMEOUT="0.5")
    (tmp_path / "seeds").mkdir()
    (tmp_path / "archive").mkdir()
    holder = _hold_writer_lock(tmp_path / "archive")
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        result = run_provarchive("ingest", env=env, text=True, timeout=60)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert result.returncode == 5
    assert "Waiting for the archive's writer lock" in result.stderr
    assert "Error: timed out after 0.5s waiting for the writer lock" in result.stderr


def test_a_catalog_another_program_locks_times_out_as_the_lock_timeout_says(
    archive: Archive, seeded: Path
) -> None:
    if archive.config.db_url is not None:
        pytest.skip("a SQLite catalog file held locked by another program")
    archive.ingest()
    (seeded / "later.txt").write_text("A page that arrives while the catalog is locked.\n")
    env = {"PROVARCHIVE_ARCHIVE": str(archive.config.root), "PROVARCHIVE_LOCK_TIMEOUT": "1"}
    other = sqlite3.connect(archive.home.catalog_path, isolation_level=None)
    try:
        other.execute("BEGIN EXCLUSIVE")  # as a database tool or a backup would
        # Not 30 s (SQLite's busy timeout before): the subprocess timeout would fire.
        result = run_provarchive("ingest", env=env, text=True, timeout=20)
    finally:
        other.close()
    assert result.returncode == 5, result.stderr
    assert "timed out after 1s" in result.stderr
    assert str(archive.home.catalog_path) in result.stderr and "Traceback" not in result.stderr
    again = run_provarchive("ingest", "--json", env=env, text=True)
    assert again.returncode == 0, again.stderr
    assert archive.search("arrives").hits  # finished by the next run, nothing lost
    assert Archive(archive.config).verify().is_ok()


@pytest.mark.slow
def test_lock_is_released_when_its_holder_is_killed(tmp_path: Path) -> None:
    env = _env(tmp_path, PROVARCHIVE_LOCK_TIMEOUT="10")
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "a.txt").write_text("A short note about the river.\n")
    (tmp_path / "archive").mkdir()
    holder = _hold_writer_lock(tmp_path / "archive")
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    result = run_provarchive("ingest", env=env, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


# -- disk and permission faults ----------------------------------------------------------------


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_disk_full_during_a_version_write_keeps_the_previous_state(
    archive: Archive, seeded: Path, seed_bytes: bytes, monkeypatch: pytest.MonkeyPatch, cli
) -> None:
    archive.ingest()
    before = _files(archive.store.root)
    (seeded / "SEED2.txt").write_text(
        "Another document arrives with enough words to be a sentence.\n"
    )
    (seeded / "000_58c727a948331809.txt").write_bytes(seed_bytes + b"\nAn update.\n")
    import provarchive.store.storage as store_mod

    real = store_mod.hash_stream
    calls = {"n": 0}

    def fill_up(stream, sink=None, **kw):
        calls["n"] += 1
        if calls["n"] == 2:  # the second file of the batch hits a full disk
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(stream, sink=sink, **kw)

    monkeypatch.setattr(store_mod, "hash_stream", fill_up)
    result = cli("ingest")
    assert result.exit_code == 6
    assert (
        "no space left on device" in result.stderr
        and "the archive was left as it was" in result.stderr
    )
    monkeypatch.setattr(store_mod, "hash_stream", real)
    assert _files(archive.store.root) == before
    assert Archive(archive.config).verify(check_seeds=False).is_ok()
    ok, messages = ocfl_py_validate(archive.store.root)
    assert ok, messages
    assert cli("ingest").exit_code == 0  # once there is space, the same command succeeds


def test_a_storage_error_stays_the_reported_one_when_the_batch_before_cannot_be_recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The store fails on the second batch while the first, stored, waits to be
    recorded, and recording it fails too: the run stops with the storage error (what
    stopped it) and a warning for the batch; the next run archives every file once."""
    from provarchive.errors import CatalogError, StorageError
    from provarchive.ingest import _Ingestor

    seeds = tmp_path / "seeds"
    crash_test.write_seeds(seeds, random.Random(19), 12)
    monkeypatch.setattr(_Ingestor.__module__ + ".BATCH_FILES", 4)
    monkeypatch.setattr(_Ingestor.__module__ + ".FIRST_BATCH_FILES", 4)
    real_store, real_record = _Ingestor._store, _Ingestor._record
    stores = []

    def store(self: _Ingestor, batch: list) -> object:
        stores.append(len(batch))
        if len(stores) == 2:
            raise StorageError(tmp_path / "archive" / "ocfl", "No space left on device")
        return real_store(self, batch)

    def record(self: _Ingestor, *args: object) -> None:
        raise CatalogError("catalog error: database or disk is full")

    monkeypatch.setattr(_Ingestor, "_store", store)
    monkeypatch.setattr(_Ingestor, "_record", record)
    config = ArchiveConfig(root=tmp_path / "archive", seeds=seeds)
    with Archive(config) as archive, pytest.raises(StorageError, match="No space left") as stop:
        archive.ingest()
    assert stop.value.exit_code == 6  # the storage error's code, not the catalog's (8)
    assert stop.value.report.not_reached == 12  # type: ignore[attr-defined]  # none recorded
    assert len(stores) == 2
    assert "could not be recorded before the stop either: catalog error" in caplog.text

    monkeypatch.setattr(_Ingestor, "_store", real_store)
    monkeypatch.setattr(_Ingestor, "_record", real_record)
    with Archive(config) as archive:
        archive.ingest()
        names = sorted(p.relative_to(seeds).as_posix() for p in seeds.rglob("*") if p.is_file())
        assert archive.document_names() == names
        assert all([v.version for v in archive.versions(n)] == [1] for n in names)
        assert archive.verify().is_ok()


def test_read_only_archive_fails_clearly_and_changes_nothing(
    archive: Archive, seeded: Path, monkeypatch: pytest.MonkeyPatch, cli
) -> None:
    archive.ingest()
    before = _files(archive.config.root)
    (seeded / "new.txt").write_text("A new document that cannot be written anywhere today.\n")
    real_open = os.open

    def read_only(path, flags, *args, **kwargs):
        if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT) and str(archive.config.root) in str(path):
            raise OSError(errno.EROFS, "Read-only file system")
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", read_only)
    result = cli("ingest")
    monkeypatch.setattr(os, "open", real_open)
    assert result.exit_code == 6
    assert (
        result.stderr.startswith("Error: cannot write ")
        and "read-only file system" in result.stderr
    )
    assert _files(archive.config.root) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="permissions do not bind root")
def test_read_only_archive_by_permissions(archive: Archive, seeded: Path, cli) -> None:
    archive.ingest()
    (seeded / "new.txt").write_text("A new document.\n")
    for p in [archive.config.root, *archive.config.root.rglob("*")]:
        p.chmod(p.stat().st_mode & ~0o222)
    try:
        result = cli("ingest")
    finally:
        for p in [archive.config.root, *archive.config.root.rglob("*")]:
            p.chmod(p.stat().st_mode | 0o200)
    assert result.exit_code == 6
