"""``ingest --jobs N``: cleaning in worker processes gives exactly what one process gives."""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import sqlite3
from pathlib import Path

import pytest

from provarchive import Archive, ArchiveConfig
from provarchive.cleaning.passages import derive
from provarchive.cleaning.workers import CleaningPool
from provarchive.processes import interrupts_held, leave_interrupts_to_parent

from .conftest import SEED_PATH, crash_test

CATALOG_ROWS = """
SELECT d.name, v.number, r.status, r.title, r.encoding, r.output_sha256, r.rules_digest,
       (SELECT group_concat(p.passage_id || ' ' || p.kind || ' ' || p.sha256 || ' '
                            || p.raw_start || '-' || p.raw_end, '|')
        FROM passages p WHERE p.derivation_id = r.id)
FROM documents d JOIN versions v ON v.document_id = d.id
JOIN derivations r ON r.version_id = v.id AND r.current
ORDER BY d.name, v.number
"""


def _seeds(folder: Path) -> None:
    crash_test.write_seeds(folder, random.Random(7), 70)
    (folder / "page.txt").write_bytes(SEED_PATH.read_bytes())  # a news page: lines dropped
    (folder / "image.bin").write_bytes(bytes(range(256)) * 64)  # binary: said so, not cleaned
    (folder / "big.txt").write_text("A long line about the harbour. " * 2000)  # over the limit
    (folder / "empty.txt").write_bytes(b"")


def _ingest(tmp_path: Path, jobs: int) -> list[tuple[object, ...]]:
    home = tmp_path / f"jobs-{jobs}"
    _seeds(home / "seeds")
    config = ArchiveConfig(root=home / "archive", seeds=home / "seeds", max_text_bytes=40_000)
    with Archive(config) as archive:
        report = archive.ingest(jobs=jobs)
        assert not [r for r in report.results if r.status == "failed"]
        assert archive.verify(check_seeds=False).is_ok()
        hits = archive.search("harbour", limit=200)
    with sqlite3.connect(home / "archive" / "catalog.sqlite") as db:
        rows = db.execute(CATALOG_ROWS).fetchall()
    return [*rows, ("hits", hits.total)]


def _count_worker_texts(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many texts each call sends to a CleaningPool's workers, from now on."""
    counts: list[int] = []
    derive_all = CleaningPool.derive_all

    def counted(pool: CleaningPool, texts: list[bytes], cleaner: str) -> list[object]:
        counts.append(len(texts))
        return derive_all(pool, texts, cleaner)

    monkeypatch.setattr(CleaningPool, "derive_all", counted)
    return counts


@pytest.mark.sqlite_only("compares two archives' catalog files")
def test_two_workers_derive_exactly_what_one_process_derives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cleaned_in_workers = _count_worker_texts(monkeypatch)
    one = _ingest(tmp_path, 1)
    assert cleaned_in_workers == []
    two = _ingest(tmp_path, 2)
    assert sum(cleaned_in_workers) == 73  # every version but the oversized one
    assert len(one) == 75  # 74 documents and the search total
    statuses = {row[2] for row in one[:-1]}
    assert {"binary", "too-large"} <= statuses  # judged in a worker, and in the parent
    assert one == two


def test_a_pool_returns_each_derivation_in_order_and_ignores_interrupts() -> None:
    texts = [f"Paragraph {i} about the harbour.\n".encode() * (i + 1) for i in range(9)]
    texts.insert(4, b"")
    with CleaningPool(2) as pool:
        first = pool.derive_all(texts[:2], "default")
        for pid in list(pool._executor._processes):  # started by the first call
            os.kill(pid, signal.SIGINT)  # a Ctrl-C reaches the whole process group
        got = pool.derive_all(texts, "keep-all") + first
    expected = [derive(t, cleaner="keep-all") for t in texts]
    expected += [derive(t, cleaner="default") for t in texts[:2]]
    assert got == expected


_BUSY_POOL = """
import sys, time
from provarchive.processes import interrupts_held, stop_pool, worker_pool

pool = worker_pool(1)
with interrupts_held():
    task = pool.submit(time.sleep, 120)
while not task.running():
    time.sleep(0.01)
time.sleep(1)  # the spawned worker is inside the sleep now
workers = list(pool._processes)
stop_pool(pool, at_once=sys.argv[1] == "at-once")
print(*workers)
"""


@pytest.mark.parametrize("at_once", [True, pytest.param(False, marks=pytest.mark.slow)])
def test_a_pool_stopped_at_once_neither_waits_for_its_task_nor_leaves_a_worker(
    at_once: bool,
) -> None:
    """A stop at once (a second Ctrl-C) kills a pool's workers: neither the call nor the
    interpreter's exit waits for the two minutes of the task in hand, and no worker
    lives on. A plain stop waits for the task (here: until the test gives up)."""
    import subprocess
    import sys
    import time

    start = time.monotonic()
    try:
        done = subprocess.run(
            [sys.executable, "-c", _BUSY_POOL, "at-once" if at_once else "wait"],
            capture_output=True, text=True, timeout=10,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        assert not at_once
        return
    assert at_once, "a plain stop did not wait for its task"
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert time.monotonic() - start < 10
    for pid in map(int, done.stdout.split()):  # gone, or dead and not yet reaped by init
        stat = Path(f"/proc/{pid}/stat")
        assert not stat.exists() or stat.read_text().rsplit(")", 1)[1].split()[0] == "Z"


_INTERRUPTED_CLEANING = """
import signal, sys, threading, time
from provarchive.cleaning import workers

def slow(raw, cleaner):  # a text that takes two minutes to clean
    time.sleep(120)

def interrupt(pool, found):  # a Ctrl-C, delivered to the main thread
    found.extend(pool._executor._processes)
    signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)

if __name__ == "__main__":
    workers._derive = slow  # what derive_all sends its workers (by name, so they find it)
    found = []
    try:
        with workers.CleaningPool(1) as pool:
            threading.Timer(3, interrupt, (pool, found)).start()
            pool.derive_all([b"text"], "default")
    except KeyboardInterrupt:
        print(*found)
"""


def test_a_cleaning_pool_left_on_an_interrupt_kills_its_worker_at_once(tmp_path: Path) -> None:
    """What reclean and rebuild --jobs do on a Ctrl-C: the pool left on an interrupt
    neither waits for the text in hand (two minutes of cleaning here) nor, at the
    interpreter's exit, for its worker; and no worker lives on."""
    import subprocess
    import sys
    import time

    script = tmp_path / "busy_pool.py"  # a file: spawned workers import it for slow()
    script.write_text(_INTERRUPTED_CLEANING)
    start = time.monotonic()
    try:
        done = subprocess.run(
            [sys.executable, str(script)], capture_output=True, text=True, timeout=90
        )
    except subprocess.TimeoutExpired:
        raise AssertionError("the pool waited for its worker's task") from None
    assert done.returncode == 0 and done.stderr == "", done.stderr
    workers = list(map(int, done.stdout.split()))
    assert len(workers) == 1
    assert time.monotonic() - start < 90
    for pid in workers:  # gone, or dead and not yet reaped by init
        stat = Path(f"/proc/{pid}/stat")
        assert not stat.exists() or stat.read_text().rsplit(")", 1)[1].split()[0] == "Z"


@pytest.mark.parametrize("held", [True, False])
def test_a_child_started_with_interrupts_held_outlives_a_ctrl_c_while_it_starts(
    held: bool,
) -> None:
    """A spawned child takes tens of milliseconds to import; a Ctrl-C meant for the parent
    that comes meanwhile must not kill it (it did: CI saw a pool worker die so)."""
    from multiprocessing import resource_tracker

    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler, (
        "SIGINT is ignored here: started in the background by a shell without job control?"
    )
    ctx = multiprocessing.get_context("spawn")
    # As the archive's spawn pools and queues do when they are made, before any child
    # starts: the resource tracker they start unblocks SIGINT and SIGTERM as it starts.
    resource_tracker.ensure_running()
    child = ctx.Process(target=leave_interrupts_to_parent)
    if held:
        with interrupts_held():
            child.start()
    else:
        child.start()
    os.kill(child.pid, signal.SIGINT)  # long before the child reaches its target
    child.join(30)
    assert (child.exitcode == 0) is held
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # parent as it was
    assert signal.SIGINT not in signal.pthread_sigmask(signal.SIG_BLOCK, [])


def _archive_cleaned_by_keep_all(home: Path, monkeypatch: pytest.MonkeyPatch) -> ArchiveConfig:
    """An archive whose derivations say 'default cleaner' but kept every line (as an
    older cleaner might have): a reclean has a new derivation to make for the pages."""
    from dataclasses import replace

    import provarchive.derivations as derivations

    _seeds(home / "seeds")
    config = ArchiveConfig(root=home / "archive", seeds=home / "seeds", max_text_bytes=40_000)
    real = derivations.derive

    def keep_all(data: bytes, cleaner: str = "default") -> object:
        made = real(data, cleaner=cleaner)
        return replace(
            real(data, cleaner="keep-all"),
            cleaner_name=made.cleaner_name,
            rules_digest=made.rules_digest,
            page=made.page,
            environment=made.environment,
        )

    with monkeypatch.context() as m:
        m.setattr(derivations, "derive", keep_all)
        with Archive(config) as archive:
            archive.ingest()
    return config


@pytest.mark.sqlite_only("compares two archives' catalog files")
def test_reclean_with_two_workers_makes_exactly_what_one_process_makes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reports = []
    rows = []
    in_workers = _count_worker_texts(monkeypatch)
    for jobs in (1, 2):
        config = _archive_cleaned_by_keep_all(tmp_path / f"jobs-{jobs}", monkeypatch)
        with Archive(config) as archive:
            report = archive.reclean(jobs=jobs)
        assert sum(in_workers) == (0 if jobs == 1 else 73)  # all but the oversized one
        with Archive(config) as archive:
            assert archive.verify(check_seeds=False).is_ok()
        reports.append(report.to_json())
        with sqlite3.connect(config.root / "catalog.sqlite") as db:
            rows.append(db.execute(CATALOG_ROWS).fetchall())
    assert reports[0] == reports[1] and rows[0] == rows[1]
    changed = {c["document"] for c in reports[0]["changed"]}
    assert "page.txt" in changed  # the news page lost its boilerplate lines this time
    assert "big.txt" not in changed and "image.bin" not in changed  # not cleaned either time


@pytest.mark.sqlite_only("compares two archives' catalog files")
def test_add_with_two_workers_archives_exactly_what_one_process_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    incoming = tmp_path / "incoming"
    _seeds(incoming)
    in_workers = _count_worker_texts(monkeypatch)
    rows = []
    for jobs in (1, 2):
        home = tmp_path / f"add-{jobs}"
        config = ArchiveConfig(root=home / "archive", seeds=home / "seeds", max_text_bytes=40_000)
        with Archive(config) as archive:
            report = archive.add([incoming], recursive=True, into="in", jobs=jobs)
            assert not [r for r in report.results if r.status == "failed"]
            assert archive.verify(check_seeds=False).is_ok()
        assert sum(in_workers) == (0 if jobs == 1 else 73)  # all but the oversized one
        with sqlite3.connect(config.root / "catalog.sqlite") as db:
            rows.append(db.execute(CATALOG_ROWS).fetchall())
    assert len(rows[0]) == 74 and rows[0] == rows[1]


@pytest.mark.sqlite_only("compares two archives' catalog files")
def test_rebuild_with_two_workers_makes_exactly_the_catalog_one_process_makes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    home = tmp_path / "built"
    _seeds(home / "seeds")
    config = ArchiveConfig(root=home / "archive", seeds=home / "seeds", max_text_bytes=40_000)
    with Archive(config) as archive:
        archive.ingest()
    in_workers = _count_worker_texts(monkeypatch)
    rows = []
    for jobs in (1, 2):
        copied = tmp_path / f"rebuilt-{jobs}"
        shutil.copytree(home, copied)  # archive and seeds side by side, as recorded
        copy = ArchiveConfig(root=copied / "archive", seeds=copied / "seeds", max_text_bytes=40_000)
        with Archive(copy) as archive:
            assert archive.rebuild(jobs=jobs) == 74
            assert archive.verify(check_seeds=False).is_ok()
            catalog = archive.home.catalog_path
        assert sum(in_workers) == (0 if jobs == 1 else 73)  # all but the oversized one
        with sqlite3.connect(catalog) as db:
            rows.append(db.execute(CATALOG_ROWS).fetchall())
    assert len(rows[0]) == 74 and rows[0] == rows[1]
