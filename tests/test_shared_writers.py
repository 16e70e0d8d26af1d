"""Writers sharing one archive: ingests on a PostgreSQL catalog run at the same time,
each locking the documents it writes; a batch's lock says its writer is alive, so that
recovery in one writer finishes only what dead ones left (real processes, real server,
SIGKILL)."""

from __future__ import annotations

import contextlib
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from provarchive import Archive, ArchiveConfig
from provarchive.catalog import queries
from provarchive.catalog.locks import DocumentLocks, lock_key
from provarchive.errors import LockTimeoutError
from provarchive.store.lock import writer_busy, writer_lock
from provarchive.store.storage import Store

from .conftest import crash_test, ocfl_py_validate, run_provarchive, wait_until

# -- the lock and the batches (no server needed) -----------------------------------------------


def test_shared_writers_hold_the_lock_together_and_exclusive_ones_wait(tmp_path: Path) -> None:
    lock = tmp_path / "writer.lock"
    with writer_lock(lock, timeout=1, command="a", shared=True) as first:
        assert first.alone
        first.ready()
        with writer_lock(lock, timeout=1, command="b", shared=True) as second:
            assert not second.alone  # came in beside a live writer: leaves its work alone
            second.ready()
            assert writer_busy(lock)
        waits: list[str | None] = []
        with (
            pytest.raises(LockTimeoutError),
            writer_lock(lock, timeout=0.3, command="c", on_wait=waits.append),
        ):
            pass
        assert waits == [None]  # told it waits (shared writers leave no name)
    assert not writer_busy(lock)
    with writer_lock(lock, timeout=1, command="d"):
        assert writer_busy(lock)
        with (
            pytest.raises(LockTimeoutError),
            writer_lock(lock, timeout=0.3, command="e", shared=True),
        ):
            pass


def test_a_shared_writer_still_setting_up_keeps_the_others_out(tmp_path: Path) -> None:
    """Until ``ready()`` a shared writer that came in alone holds the lock exclusively:
    it may recover everything, and no writer can come in meanwhile."""
    lock = tmp_path / "writer.lock"
    with writer_lock(lock, timeout=1, command="a", shared=True) as first:
        with (
            pytest.raises(LockTimeoutError),
            writer_lock(lock, timeout=0.3, command="b", shared=True),
        ):
            pass
        first.ready()
        with writer_lock(lock, timeout=1, command="b", shared=True) as second:
            assert not second.alone


def test_recovery_leaves_a_live_writers_batch_alone(tmp_path: Path) -> None:
    root, staging = tmp_path / "ocfl", tmp_path / "staging"
    mine, other = Store(root, staging), Store(root, staging)
    mine.initialize()
    live = mine.begin()
    dead = mine.begin()
    dead._release()  # as the kernel does when its writer is killed
    (staging / "stray-0123456789abcdef0123456789abcdef").write_bytes(b"x")
    repairs, _ = other.recover(alone=False)
    assert [r.action for r in repairs] == ["staging-discarded"]
    assert live.directory.is_dir() and not dead.directory.exists()
    assert (staging / "stray-0123456789abcdef0123456789abcdef").exists()  # may be live
    assert other.recover(alone=False) == ([], set())
    mine.release_batches()  # the writer's run ended (an error): its batch is anyone's now
    repairs, _ = other.recover()
    assert [r.action for r in repairs] == ["staging-discarded", "staging-discarded"]
    assert list(staging.iterdir()) == []


def test_a_batch_being_made_when_a_recovery_takes_it_is_made_again(tmp_path: Path) -> None:
    """A recovery that finds a batch folder before its writer locked it (no lock file
    yet) takes it for a dead writer's; the writer then makes another folder instead of
    writing into one being removed."""
    from provarchive.store import storage

    staging = tmp_path / "staging"
    folder = staging / "txn-0"
    folder.mkdir(parents=True)
    taken = storage._lock_if_dead(folder)  # the recovery, first
    assert taken is not None
    assert storage._lock_batch(folder) is None  # the writer sees it and starts another
    os.close(taken)
    store = Store(tmp_path / "ocfl", staging)
    txn = store.begin()
    assert txn.directory != folder and (txn.directory / storage.BATCH_LOCK).is_file()
    assert storage._lock_if_dead(txn.directory) is None  # live


def test_a_refused_move_does_not_roll_back_the_version_it_collided_with(tmp_path: Path) -> None:
    """Two batches prepared v2 of one document from the same head (two writers whose
    document lock failed): the second commit is refused, and its roll-back leaves the
    first's v2 in place (it deleted it)."""
    import io

    from provarchive.errors import StorageError

    store = Store(tmp_path / "ocfl", tmp_path / "staging")
    store.initialize()
    user = {"name": "t", "address": "mailto:t@example.org"}

    def prepared(data: bytes):  # type: ignore[no-untyped-def]
        txn = store.begin()
        staged = txn.stage(io.BytesIO(data))
        txn.prepare("x.txt", staged, current=store.load("x.txt"), created="2026-01-01T00:00:00Z",
                    message="m", user=user)  # fmt: skip
        return txn

    prepared(b"one\n").commit()
    first, second = prepared(b"two\n"), prepared(b"three\n")
    first.commit()
    with pytest.raises(StorageError, match="already exists"):
        second.commit()
    state = store.load("x.txt")
    assert state is not None and state.head == 2
    assert (store.root / state.path / state.version(2).content_path).read_bytes() == b"two\n"


def test_a_shared_writer_refuses_a_version_another_wrote_meanwhile(archive: Archive) -> None:
    """In its turn of the log, before the journal, a shared writer checks each version
    still follows its object's head: a document lock lost with its connection cannot
    make two writers commit one version number."""
    import io

    from provarchive.errors import StorageError

    archive.home.seeds.mkdir(parents=True, exist_ok=True)
    (archive.home.seeds / "x.txt").write_text("one\n")
    archive.ingest()
    user = {"name": "t", "address": "mailto:t@example.org"}
    with archive.writer("ingest", shared=True):
        store = archive.store
        current = store.load("x.txt")
        batches = []
        for data in (b"two\n", b"three\n"):
            txn = store.begin()
            txn.prepare("x.txt", txn.stage(io.BytesIO(data)), current=current,
                        created="2026-01-01T00:00:00Z", message="m", user=user)  # fmt: skip
            batches.append(txn)
        batches[0].commit()
        with pytest.raises(StorageError, match="another writer wrote it meanwhile"):
            batches[1].commit()
        assert not batches[1].journaled  # refused before anything was written
        batches[1].close_uncommitted()
        batches[0].close()
    state = store.load("x.txt")
    assert state is not None and state.head == 2


# -- on a PostgreSQL server ----------------------------------------------------------------------


def test_two_index_transactions_with_the_same_words_in_opposite_orders_both_commit(
    pg_catalog_url: str,
) -> None:
    """Two writers' batches at once, the second of each one's versions holding the words
    of the other's first: when each version's words were inserted as it was written, each
    transaction waited for the other's words (PostgreSQL: "deadlock detected"). Words now
    go in one sorted statement at commit, so one waits for the other and both commit."""
    from provarchive.catalog.postgres_search import PostgresEngine
    from tests.test_search_engines import entry

    engines = [PostgresEngine(pg_catalog_url), PostgresEngine(pg_catalog_url)]
    engines[0].create()
    texts = [("apple zebra", "banana"), ("banana", "apple")]
    both_wrote = threading.Barrier(2, timeout=30)
    errors: list[BaseException] = []

    def write(k: int) -> None:
        try:
            with engines[k].writing() as w:
                for j, words in enumerate(texts[k]):
                    w.replace_version(f"w{k}-{j}.txt", 1, [entry(f"w{k}-{j}.txt", 1, 1, words)])
                    if j == 0:
                        both_wrote.wait()
        except BaseException as exc:  # reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(k,)) for k in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    try:
        assert errors == []
        from provarchive.search.engine import SearchQuery

        for word, docs in (("banana", 2), ("apple", 2), ("zebr*", 1)):
            assert engines[0].search(SearchQuery(word)).total == docs, word
    finally:
        for engine in engines:
            engine.close()


def test_document_locks_are_held_by_one_writer_at_a_time(pg_url: str) -> None:
    from provarchive.catalog import Catalog

    catalog = Catalog(pg_url)
    a, b = DocumentLocks(catalog), DocumentLocks(catalog)
    try:
        assert a.try_lock(["x", "y", "x"]) == [True, True, True]
        assert b.try_lock(["y", "z"]) == [False, True]
        a.unlock(["y"])
        assert b.try_lock(["y"]) == [True]
        a.close()  # a dead writer's locks go with its connection
        assert b.try_lock(["x"]) == [True]
    finally:
        b.close()
        catalog.close()
    assert lock_key("x") != lock_key("y")


def test_an_interrupt_inside_a_lock_query_leaves_nothing_held_and_letting_go_quiet(
    pg_url: str,
) -> None:
    """The second Ctrl-C lands where it lands: here just after the server took the locks
    and before the writer learnt it. SQLAlchemy invalidates the connection; unlocking
    and closing must not fail (a traceback instead of exit 130, seen in CI), and the
    locks must be free for the next writer."""
    from sqlalchemy import event

    from provarchive.catalog import Catalog

    catalog, other = Catalog(pg_url), Catalog(pg_url)
    a, b = DocumentLocks(catalog), DocumentLocks(other)

    def interrupted(cursor, statement, parameters, context):  # type: ignore[no-untyped-def]
        cursor.execute(statement, parameters)
        raise KeyboardInterrupt

    try:
        assert a.try_lock(["x"]) == [True]
        event.listen(catalog.engine, "do_execute", interrupted)
        with pytest.raises(KeyboardInterrupt):
            a.try_lock(["y"])
        a.unlock(["x", "y"])  # would raise PendingRollbackError
        a.close()
        assert b.try_lock(["x", "y"]) == [True, True]
    finally:
        b.close()
        catalog.close()
        other.close()


def _env(pg_url: str) -> dict[str, str]:
    return {**os.environ, "PROVARCHIVE_DB_URL": pg_url, "PROVARCHIVE_LOCK_TIMEOUT": "600"}


def _ingest(root: Path, seeds: Path, paths: list[Path], env: dict[str, str]) -> subprocess.Popen:
    args = ["--archive", str(root), "--seeds", str(seeds), "ingest", *map(str, paths)]
    return subprocess.Popen(
        [sys.executable, "-m", "provarchive", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )


def _stored(root: Path) -> int:
    return sum(1 for _ in (root / "ocfl").glob("*/*/*/*/0=ocfl_object_1.1"))


def _check_archive(root: Path, seeds: Path, pg_url: str, names: list[str]) -> None:
    """Each document exactly one version, nothing left in staging, verify clean, every
    document searchable, ocfl-py valid."""
    assert [p.name for p in (root / "staging").iterdir() if p.name.startswith("txn-")] == []
    config = ArchiveConfig(root=root, seeds=seeds, lock_timeout=30, db_url=pg_url)
    with Archive(config) as archive:
        with archive.catalog.session() as s:
            versions = sorted((name, v.number) for v, name in queries.versions_named(s, None))
        assert versions == [(n, 1) for n in names]
        report = archive.verify()
        assert report.is_ok(), report.findings
        for name in names:
            n = int(name.split("-")[-1].split(".")[0])
            hits = archive.search(f'"Document number {n} ends here"', limit=5).hits
            assert [h.document for h in hits] == [name]
    valid, messages = ocfl_py_validate(root / "ocfl")
    assert valid, messages


def _holds_nothing_shared(root: Path, pg_url: str, app: str) -> bool:
    """Whether the writer whose connections are named ``app`` holds nothing another writer
    could wait for: no open transaction (whose new rows, such as search words, would make
    another wait) and not the transparency log's turn (held through each store commit)."""
    import fcntl

    import sqlalchemy as sa

    engine = sa.create_engine(pg_url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            busy = conn.execute(
                sa.text("SELECT count(*) FROM pg_stat_activity "
                        "WHERE application_name = :a AND xact_start IS NOT NULL"),
                {"a": app},
            ).scalar_one()  # fmt: skip
    finally:
        engine.dispose()
    if busy:
        return False
    commits = root / "ocfl" / "extensions" / "provarchive-transparency-log" / "commits"
    fd = os.open(commits, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # and with it the lock, if it was taken
    return True


def _pause_between_commits(proc: subprocess.Popen, root: Path, pg_url: str, app: str) -> None:
    """Stop ``proc`` (SIGSTOP) at a moment it holds nothing shared (see above): between
    its transactions, outside the log's turn, still holding its writer lock and its
    documents' locks. Probed twice, 50 ms apart, so that what it sent just before it
    stopped has reached the server."""
    for _ in range(2000):
        proc.send_signal(signal.SIGSTOP)
        if _holds_nothing_shared(root, pg_url, app):
            time.sleep(0.05)
            if _holds_nothing_shared(root, pg_url, app):
                assert proc.poll() is None, "the writer ended before it could be paused"
                return
        proc.send_signal(signal.SIGCONT)
        time.sleep(0.005)
    raise AssertionError("the writer was never found between two commits")


def _end(*procs: subprocess.Popen | None) -> None:
    """Let go of paused processes and kill what a failed test left running."""
    for proc in procs:
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGCONT)
            proc.kill()
            proc.wait()


@pytest.mark.slow
def test_two_ingests_on_postgresql_archive_at_the_same_time(tmp_path: Path, pg_url: str) -> None:
    """A second ingest started while the first is writing does not wait for it (as it would
    for an exclusive lock): with the first stopped mid-run (between two of its commits,
    its writer lock and document locks held), the second archives all of its documents;
    then the first goes on and finishes."""
    seeds = tmp_path / "seeds"
    crash_test.write_seeds(seeds, random.Random(11), 440)
    names = sorted(p.relative_to(seeds).as_posix() for p in seeds.rglob("*.txt"))
    big, small = names[:400], names[400:]
    root, env = tmp_path / "archive", _env(pg_url)
    first_url = f"{pg_url}&application_name=first-ingest"
    first = _ingest(root, seeds, [seeds / n for n in big], {**env, "PROVARCHIVE_DB_URL": first_url})
    second = None
    try:
        wait_until(lambda: _stored(root) >= 25 or first.poll() is not None)
        assert first.poll() is None, "the first ingest ended before it could be paused"
        _pause_between_commits(first, root, pg_url, "first-ingest")
        assert _stored(root) < len(big), "the first ingest was paused only at its end"
        second = _ingest(root, seeds, [seeds / n for n in small], env)
        assert second.wait(timeout=120) == 0, second.stderr.read().decode()[-2000:]  # type: ignore[union-attr]
        first.send_signal(signal.SIGCONT)
        assert first.wait(timeout=120) == 0, first.stderr.read().decode()[-2000:]  # type: ignore[union-attr]
    finally:
        _end(first, second)
    _check_archive(root, seeds, pg_url, names)


@pytest.mark.slow
@pytest.mark.parametrize("after", [30, 90])
def test_a_shared_writer_killed_mid_run_is_finished_by_the_other(
    tmp_path: Path, pg_url: str, after: int
) -> None:
    """Two ingests over the same 200 seeds (in opposite orders); one is killed with SIGKILL
    once ``after`` documents are stored. The other goes on and exits 0; what the dead one
    left (a journaled batch, prepared log leaves, versions the catalog lacks) is finished
    by the survivor, so that afterwards every document has exactly one version, staging
    is empty and verify is clean, with no other command in between."""
    seeds = tmp_path / "seeds"
    crash_test.write_seeds(seeds, random.Random(after), 200)
    names = sorted(p.relative_to(seeds).as_posix() for p in seeds.rglob("*.txt"))
    root, env = tmp_path / "archive", _env(pg_url)
    assert (
        run_provarchive("--archive", str(root), "--seeds", str(seeds), "init", env=env).returncode
        == 0
    )
    victim = _ingest(root, seeds, [seeds / n for n in names], env)
    survivor = _ingest(root, seeds, [seeds / n for n in reversed(names)], env)
    wait_until(lambda: _stored(root) >= after or victim.poll() is not None)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    assert victim.returncode == -signal.SIGKILL, "the victim ended before it was killed"
    assert survivor.wait(timeout=600) == 0, survivor.stderr.read().decode()[-2000:]  # type: ignore[union-attr]
    _check_archive(root, seeds, pg_url, names)


@pytest.mark.slow
def test_an_exclusive_command_waits_for_shared_ingests(tmp_path: Path, pg_url: str) -> None:
    """``reindex`` (exclusive) started while a shared ingest is paused mid-run says it
    waits for the writer lock, and starts only once the ingest, let go on, is done."""
    seeds = tmp_path / "seeds"
    crash_test.write_seeds(seeds, random.Random(12), 150)
    names = sorted(p.relative_to(seeds).as_posix() for p in seeds.rglob("*.txt"))
    root, env = tmp_path / "archive", _env(pg_url)
    ingest_env = {**env, "PROVARCHIVE_DB_URL": f"{pg_url}&application_name=ingest"}
    ingest = _ingest(root, seeds, [seeds / n for n in names], ingest_env)
    reindex = None
    try:
        wait_until(lambda: _stored(root) >= 25 or ingest.poll() is not None)
        assert ingest.poll() is None, "the ingest ended before it could be paused"
        _pause_between_commits(ingest, root, pg_url, "ingest")
        reindex = subprocess.Popen(
            [sys.executable, "-m", "provarchive", "--archive", str(root), "--seeds", str(seeds),
             "reindex"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
        )  # fmt: skip
        told = reindex.stderr.readline()  # type: ignore[union-attr]
        assert b"Waiting for the archive's writer lock" in told, told
        time.sleep(1)
        assert reindex.poll() is None, "reindex did not wait for the paused ingest"
        ingest.send_signal(signal.SIGCONT)
        assert ingest.wait(timeout=120) == 0, ingest.stderr.read().decode()[-2000:]  # type: ignore[union-attr]
        assert reindex.wait(timeout=120) == 0, reindex.stderr.read().decode()  # type: ignore[union-attr]
    finally:
        _end(ingest, reindex)
    _check_archive(root, seeds, pg_url, names)


def _pg_archive(tmp_path: Path, pg_url: str, count: int) -> tuple[ArchiveConfig, list[str]]:
    seeds = tmp_path / "seeds"
    crash_test.write_seeds(seeds, random.Random(count), count)
    names = sorted(p.relative_to(seeds).as_posix() for p in seeds.rglob("*.txt"))
    return ArchiveConfig(
        root=tmp_path / "archive", seeds=seeds, lock_timeout=60, db_url=pg_url
    ), names


def _checkpoints(root: Path) -> int:
    log = root / "ocfl" / "extensions" / "provarchive-transparency-log" / "checkpoints"
    return len(log.read_bytes().splitlines()) if log.exists() else 0


@pytest.mark.slow
def test_ingest_jobs_on_postgresql_runs_that_many_ingests_at_once(
    tmp_path: Path, pg_url: str
) -> None:
    """``ingest --jobs 3`` on PostgreSQL: three processes, each archiving its share and
    signing its own checkpoint; every result relayed once, one version per document."""
    config, names = _pg_archive(tmp_path, pg_url, 120)
    with Archive(config) as archive:
        archive.init()
        before = _checkpoints(config.root)
        started: list[int] = []
        seen: list[str] = []
        report = archive.ingest(
            jobs=3, on_start=started.append, on_result=lambda r: seen.append(r.document)
        )
    assert started == [len(names)]
    assert sorted(seen) == names == sorted(r.document for r in report.results)
    assert {r.status for r in report.results} == {"new"}
    assert _checkpoints(config.root) - before == 3  # three writers sealed a run each
    _check_archive(config.root, config.seeds, pg_url, names)


@pytest.mark.slow
def test_an_interrupted_ingest_jobs_stops_every_process_after_its_batch(
    tmp_path: Path, pg_url: str
) -> None:
    """An interrupt (``should_stop``) reaches every process: each stops after its batch in
    hand; what they saved is searchable and the rest is counted as not reached."""
    config, names = _pg_archive(tmp_path, pg_url, 400)
    started: list[int] = []
    with Archive(config) as archive:
        report = archive.ingest(jobs=2, on_start=started.append, should_stop=lambda: bool(started))
    assert report.interrupted
    saved = [r.document for r in report.results if r.status == "new"]
    assert len(saved) < len(names) and len(report.results) + report.not_reached == len(names)
    with Archive(config) as archive:
        for name in saved:
            n = int(name.split("-")[-1].split(".")[0])
            hits = archive.search(f'"Document number {n} ends here"', limit=5).hits
            assert [h.document for h in hits] == [name]
        assert archive.verify().is_ok()


def _ingest_workers(pid: int) -> list[int]:
    """The ingest worker processes of ``ingest --jobs`` (spawned interpreters; not the
    multiprocessing resource tracker)."""
    workers = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            try:
                cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
            except OSError:
                continue
            if b"spawn_main" in cmdline and b"resource_tracker" not in cmdline:
                workers.append(int(child))
    return workers


_HUNG_RECORDING = """
import os, pathlib, sys, time
from provarchive import ingest
from provarchive.cli import main

real_record = ingest._Ingestor._record

def record(self, staged, index_in=None):
    def hung(s):
        index_in(s)
        (pathlib.Path(os.environ["MARKS"]) / str(os.getpid())).touch()
        time.sleep(3600)  # inside the batch's catalog transaction
    real_record(self, staged, hung)

ingest._Ingestor._record = record  # also in the spawned workers, which import this file

if __name__ == "__main__":
    sys.exit(main())
"""


@pytest.mark.slow
def test_a_stop_at_once_of_ingest_jobs_kills_its_workers(tmp_path: Path, pg_url: str) -> None:
    """``ingest --jobs 2`` on PostgreSQL whose two workers are each stuck recording a
    batch (they ignore Ctrl-C, as workers do): two Ctrl-C, and the command exits 130
    at once instead of waiting for them, and kills them; the next ingest finishes what
    they left, one version per document, verify clean."""
    seeds = tmp_path / "seeds"
    crash_test.write_seeds(seeds, random.Random(13), 60)
    names = sorted(p.relative_to(seeds).as_posix() for p in seeds.rglob("*.txt"))
    root, env, marks = tmp_path / "archive", _env(pg_url), tmp_path / "marks"
    marks.mkdir()
    script = tmp_path / "hung.py"
    script.write_text(_HUNG_RECORDING)
    args = ["--archive", str(root), "--seeds", str(seeds), "ingest", "--jobs", "2"]
    parent = subprocess.Popen(
        [sys.executable, str(script), *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**env, "MARKS": str(marks)},
    )  # fmt: skip
    workers: list[int] = []
    try:
        wait_until(lambda: len(list(marks.iterdir())) == 2 or parent.poll() is not None)
        workers = _ingest_workers(parent.pid)
        assert len(workers) == 2, workers
        parent.send_signal(signal.SIGINT)
        time.sleep(0.3)
        parent.send_signal(signal.SIGINT)
        _out, err = parent.communicate(timeout=60)
    finally:
        _end(parent)
        for pid in workers:  # a failed run must not leave them sleeping in a transaction
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    assert parent.returncode == 130, err.decode()[-2000:]
    assert "Traceback" not in err.decode()
    for pid in workers:  # gone, or dead and not yet reaped by init
        stat = Path(f"/proc/{pid}/stat")
        assert not stat.exists() or stat.read_text().rsplit(")", 1)[1].split()[0] == "Z"
    again = run_provarchive(*args[:4], "ingest", env=env, timeout=600)
    assert again.returncode == 0, again.stderr.decode()[-2000:]
    _check_archive(root, seeds, pg_url, names)


@pytest.mark.slow
def test_an_ingest_jobs_worker_killed_mid_run_is_reported_and_the_next_run_finishes(
    tmp_path: Path, pg_url: str
) -> None:
    """``ingest --jobs 2`` on PostgreSQL, one of its two worker processes killed with
    SIGKILL once 30 documents are stored: the other finishes its share, the command
    exits 1 with a one-line error naming the dead worker (no traceback), and the next
    ingest archives the rest and finishes what the dead worker left, so that every
    document has exactly one version, verify is clean and ocfl-py agrees."""
    seeds = tmp_path / "seeds"
    crash_test.write_seeds(seeds, random.Random(21), 240)
    names = sorted(p.relative_to(seeds).as_posix() for p in seeds.rglob("*.txt"))
    root, env = tmp_path / "archive", _env(pg_url)
    args = ["--archive", str(root), "--seeds", str(seeds)]
    assert run_provarchive(*args, "init", env=env).returncode == 0
    parent = subprocess.Popen(
        [sys.executable, "-m", "provarchive", *args, "ingest", "--jobs", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    wait_until(lambda: _stored(root) >= 30 or parent.poll() is not None)
    workers = _ingest_workers(parent.pid)
    assert len(workers) == 2, "the ingest ended before a worker could be killed"
    os.kill(workers[0], signal.SIGKILL)
    out, err = parent.communicate(timeout=600)
    assert parent.returncode == 1, (out + err).decode()[-2000:]
    message = err.decode()
    assert "Traceback" not in message, message[-2000:]
    assert re.search(r"Error: ingest worker [12] of 2 died \(killed by SIGKILL\); what it", message)
    # How much of the victim's share reached the store before the kill is a matter of
    # timing (its objects are stored before its catalog batch): the next run says.
    assert _stored(root) >= 30
    again = run_provarchive(*args, "ingest", env=env, timeout=600)
    assert again.returncode == 0, again.stderr.decode()[-2000:]
    _check_archive(root, seeds, pg_url, names)
