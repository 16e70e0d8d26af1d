"""An archive in PostgreSQL mode as a whole: moving between modes with ``rebuild``, and
many writers at once on one PostgreSQL archive (real server, real processes)."""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from provarchive import Archive, ArchiveConfig
from provarchive.catalog import queries
from provarchive.errors import ArchiveError, UsageError

from .conftest import REPO, SEED_PATH, crash_test, ocfl_py_validate, run_provarchive, wait_until
from .postgres import PgServer

PAGES = REPO / "tests" / "data" / "pages"

CONFORMANCE_QUERIES: list[tuple[str, dict[str, Any]]] = [
    ("river", {}),
    ("Go Myong-hyun", {}),
    ('"Go Myong-hyun"', {}),
    ("budget AND spring", {}),
    ("flood OR ministry", {}),
    ("report NOT week", {}),
    ("minis*", {}),
    ("budgte~", {}),
    ("kind:title", {}),
    ("kind:title river", {}),
    ("東京都", {}),
    ("防災", {}),
    ("são paulo", {}),
    ("Sao Paulo", {}),
    ("Москве", {}),
    ("Advertisement", {"everything": True}),
    ('"share this article"', {"kind": "removed"}),
    ("document number", {"all_versions": True}),
    ("closing sentence", {"limit": 3, "offset": 2}),
]
"""Queries over the words of the seeds below: words, phrases, operators, prefix, fuzzy,
fields, scripts with and without word spaces, removed lines, dates, paging."""


def _write_seeds(seeds: Path, count: int, *, rng_seed: int = 16) -> None:
    seeds.mkdir(parents=True, exist_ok=True)
    shutil.copy(SEED_PATH, seeds / SEED_PATH.name)
    for page in PAGES.iterdir():
        shutil.copy(page, seeds / f"page-{page.name}")
    crash_test.write_seeds(seeds / "gen", random.Random(rng_seed), count)


def _answers(archive: Archive) -> dict[str, Any]:
    """What each conformance query finds, ranking aside (the engines rank differently):
    the total, and per hit everything cited and shown."""
    out: dict[str, Any] = {}
    for text, filters in CONFORMANCE_QUERIES:
        paged = "offset" in filters
        results = archive.search(text, **{"limit": 1000, **filters})
        hits = {
            h.passage_id: (h.kind, h.text, h.snippet, h.sha256, h.raw_span, h.passage_sha256,
                           h.rule, h.published, h.current)
            for h in results.hits
        }  # fmt: skip
        out[f"{text} {filters}"] = (results.total, len(hits) if paged else hits)
    return out


@pytest.mark.slow
def test_rebuild_moves_an_archive_to_postgresql_and_back(tmp_path: Path, pg_url: str) -> None:
    """``rebuild --db-url`` builds the PostgreSQL catalog and index from the store alone;
    the conformance queries find the same passages with the same citations and snippets
    as in the SQLite archive, and a rebuild without it moves the archive back."""
    seeds = tmp_path / "moving-seeds"
    _write_seeds(seeds, 40)
    root = tmp_path / "moving"
    embedded = ArchiveConfig(root=root, seeds=seeds, lock_timeout=30)
    with Archive(embedded) as archive:
        archive.ingest()
        assert archive.home.settings.engine == "whoosh"
        before = _answers(archive)
    assert [q for q, (total, _) in before.items() if not total] == []

    done = run_provarchive(
        "--archive", str(root), "--seeds", str(seeds), "--db-url", pg_url, "rebuild"
    )
    assert done.returncode == 0, done.stderr.decode()
    served = ArchiveConfig(root=root, seeds=seeds, lock_timeout=30, db_url=pg_url)
    with Archive(served) as archive:
        assert archive.home.settings.engine == "postgres"
        assert _answers(archive) == before
        report = archive.verify()
        assert report.is_ok(), report.findings

    with Archive(embedded) as archive:
        assert archive.rebuild() > 0
        assert archive.home.settings.engine == "whoosh"
        assert _answers(archive) == before
        report = archive.verify()
        assert report.is_ok(), report.findings


@pytest.mark.slow
def test_four_writers_on_one_postgresql_archive(tmp_path: Path, pg_url: str) -> None:
    """Four ``ingest`` processes over 400 overlapping seeds (each sees 250 of them, every
    document is in at least two runs) against one PostgreSQL archive: all exit 0, every
    document is archived exactly once, the store is valid, verify is clean and every
    passage is searchable."""
    seeds = tmp_path / "many-seeds"
    crash_test.write_seeds(seeds, random.Random(4), 400)
    names = sorted(p.relative_to(seeds).as_posix() for p in seeds.rglob("*.txt"))
    root = tmp_path / "shared"
    env = {"PROVARCHIVE_DB_URL": pg_url, "PROVARCHIVE_LOCK_TIMEOUT": "600"}
    init = run_provarchive("--archive", str(root), "--seeds", str(seeds), "init", env=env)
    assert init.returncode == 0, init.stderr.decode()
    writers = []
    for w in range(4):
        part = [n for i, n in enumerate(names) if (i + w * 50) % 400 < 250]
        paths = [str(seeds / n) for n in (part if w % 2 else part[::-1])]
        writers.append(
            subprocess.Popen(
                [sys.executable, "-m", "provarchive", "--archive", str(root),
                 "--seeds", str(seeds), "ingest", *paths],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                env={**_env(), **env},
            )
        )  # fmt: skip
    for proc in writers:
        _out, err = proc.communicate(timeout=1200)
        assert proc.returncode == 0, err.decode()[-2000:]
    config = ArchiveConfig(root=root, seeds=seeds, lock_timeout=30, db_url=pg_url)
    with Archive(config) as archive:
        with archive.catalog.session() as s:
            heads = {name: number for name, (number, _) in queries.head_digests(s).items()}
            versions = [(v.number, name) for v, name in queries.versions_named(s, None)]
        assert heads == dict.fromkeys(names, 1)
        assert sorted(versions) == [(1, n) for n in names]
        report = archive.verify()
        assert report.is_ok(), report.findings
        for n in range(400):
            hits = archive.search(f'"Document number {n} ends here"', limit=5).hits
            assert [h.document for h in hits] == [f"batch-{n % 7}/doc-{n:04d}.txt"], n
    valid, messages = ocfl_py_validate(root / "ocfl")
    assert valid, messages


def _index_rows(url: str) -> tuple[list[tuple[Any, ...]], list[str]]:
    """Every index entry's cited fields and stored analysis, and the index's words."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT e.passage_id, e.kind, e.entry_digest, i.tsv::text, i.bound "
                "FROM search_entries e JOIN search_index i USING (seq) ORDER BY e.passage_id"
            )).all()  # fmt: skip
            words = conn.execute(text("SELECT word FROM search_words ORDER BY word")).scalars()
            return [tuple(r) for r in rows], list(words)
    finally:
        engine.dispose()


def test_ingest_analyses_entries_in_a_child_and_writes_what_it_would_itself(
    tmp_path: Path, pg_server: PgServer, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    """With several batches, a child process analyses each batch's entries while the
    parent goes on (the parent analyses none); if that child is killed, the parent
    analyses the rest itself, and the index holds exactly the same rows."""
    import multiprocessing
    import signal

    import provarchive.ingest as ingest_module
    from provarchive.catalog import postgres_search
    from provarchive.search.sync import BatchIndexer

    seeds = tmp_path / "seeds"
    _write_seeds(seeds, 30)
    monkeypatch.setattr(ingest_module, "BATCH_FILES", 8)
    monkeypatch.setattr(ingest_module, "FIRST_BATCH_FILES", 4)
    analysed = []
    real_terms = postgres_search.passage_terms
    monkeypatch.setattr(postgres_search, "passage_terms",
                        lambda t: analysed.append(t) or real_terms(t))  # fmt: skip

    def ingest(name: str) -> tuple[list[tuple[Any, ...]], list[str]]:
        url = pg_server.url(pg_server.create_database())
        config = ArchiveConfig(root=tmp_path / name, seeds=seeds, lock_timeout=30, db_url=url)
        with Archive(config) as archive:
            results = archive.ingest().results
            assert len(results) > 4 + 4 * 8 and all(r.status == "new" for r in results)
            report = archive.verify()
            assert report.is_ok(), report.findings
        return _index_rows(url)

    prepared = ingest("prepared")
    assert analysed == []
    assert len(prepared[0]) > 100 and len(prepared[1]) > 100

    real_submit = BatchIndexer.submit

    def submit_then_kill_the_child(self: BatchIndexer, jobs: Any) -> int:
        ticket = real_submit(self, jobs)
        if ticket == 2:
            children = multiprocessing.active_children()
            assert children
            for child in children:
                os.kill(child.pid, signal.SIGKILL)  # type: ignore[arg-type]
        return ticket

    monkeypatch.setattr(BatchIndexer, "submit", submit_then_kill_the_child)
    with caplog.at_level("WARNING"):
        after_kill = ingest("killed")
    assert analysed  # the parent analysed what the child no longer could
    assert "preparing index entries in a child process failed" in caplog.text
    assert after_kill == prepared


def _each_once_and_clean(archive: Archive, seeds: Path) -> None:
    """Every seeds file is a document of exactly one version, verify is clean and the
    words of the generated seeds are found."""
    names = sorted(p.relative_to(seeds).as_posix() for p in seeds.rglob("*") if p.is_file())
    assert archive.document_names() == names
    assert {n: [v.version for v in archive.versions(n)] for n in names} == {n: [1] for n in names}
    report = archive.verify()
    assert report.is_ok(), report.findings
    assert archive.search("river", limit=1000).total > 0


def test_a_batch_is_recorded_in_a_thread_while_the_next_is_stored_and_a_failed_one_is_finished_next_run(
    tmp_path: Path, pg_server: PgServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL each batch's catalog transaction runs in a thread of its own while
    this one stores and cleans the next batch. When that transaction fails, the run
    stops with its error; the batches recorded before stay; the batches the store
    holds already are recorded by the next run: each document one version, all
    searchable, verify clean."""
    import threading

    from provarchive.errors import CatalogError
    from provarchive.ingest import _Ingestor

    seeds = tmp_path / "seeds"
    _write_seeds(seeds, 30)
    monkeypatch.setattr(_Ingestor.__module__ + ".BATCH_FILES", 8)
    monkeypatch.setattr(_Ingestor.__module__ + ".FIRST_BATCH_FILES", 4)
    recording = threading.Event()
    stores: list[bool] = []  # per store of a batch after the first: was one recorded meanwhile
    recorders: list[bool] = []  # per recording: in a thread of its own
    real_store, real_record = _Ingestor._store, _Ingestor._record

    def store(self: _Ingestor, batch: Any) -> Any:
        if recorders:
            stores.append(recording.wait(20))
        recording.clear()
        return real_store(self, batch)

    def record(self: _Ingestor, staged: Any, index_in: Any = None) -> None:
        recorders.append(threading.current_thread() is not threading.main_thread())
        recording.set()
        if len(recorders) == 3:
            raise CatalogError("catalog error: the third batch's transaction fails")
        real_record(self, staged, index_in)

    monkeypatch.setattr(_Ingestor, "_store", store)
    monkeypatch.setattr(_Ingestor, "_record", record)
    url = pg_server.url(pg_server.create_database())
    config = ArchiveConfig(root=tmp_path / "archive", seeds=seeds, lock_timeout=30, db_url=url)
    with Archive(config) as archive, pytest.raises(CatalogError, match="third batch"):
        archive.ingest()
    assert recorders == [True, True, True]
    assert stores[:3] == [True, True, True]  # batch 2 stored while 1 was recorded, ...
    with Archive(config) as archive:
        assert len(archive.document_names()) == 4 + 8  # batches 1 and 2

    monkeypatch.setattr(_Ingestor, "_store", real_store)
    monkeypatch.setattr(_Ingestor, "_record", real_record)
    with Archive(config) as archive:
        archive.ingest()
        _each_once_and_clean(archive, seeds)


@contextlib.contextmanager
def _left_recording(
    tmp_path: Path, pg_server: PgServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[ArchiveConfig, Path, Path]]:
    """An ingest on PostgreSQL interrupted (a stop at once) while the catalog transaction
    of its second batch is open in its thread: yields (config, seeds, that batch's
    staging folder) while the thread is held there, and lets it go on the way out."""
    import threading

    from provarchive.ingest import _Ingestor

    seeds = tmp_path / "seeds"
    _write_seeds(seeds, 30)
    monkeypatch.setattr(_Ingestor.__module__ + ".BATCH_FILES", 8)
    monkeypatch.setattr(_Ingestor.__module__ + ".FIRST_BATCH_FILES", 4)
    inside, go = threading.Event(), threading.Event()
    real_store, real_record = _Ingestor._store, _Ingestor._record
    stores: list[int] = []

    def store(self: _Ingestor, batch: Any) -> Any:
        stores.append(len(batch))
        if len(stores) == 3:
            assert inside.wait(30)
            raise KeyboardInterrupt  # the second Ctrl-C, while batch 2 is being recorded
        return real_store(self, batch)

    def record(self: _Ingestor, staged: Any, index_in: Any = None) -> None:
        def held(s: Any) -> None:
            index_in(s)
            if len(stores) == 3:
                inside.set()
                go.wait(60)

        real_record(self, staged, held)

    monkeypatch.setattr(_Ingestor, "_store", store)
    monkeypatch.setattr(_Ingestor, "_record", record)
    url = pg_server.url(pg_server.create_database())
    config = ArchiveConfig(root=tmp_path / "archive", seeds=seeds, lock_timeout=30, db_url=url)
    try:
        with Archive(config) as archive, pytest.raises(KeyboardInterrupt):
            archive.ingest()
        batches = [p for p in config.staging.iterdir() if p.name.startswith("txn-")]
        assert len(batches) == 1  # batch 2's: stored, its recording still running
        yield config, seeds, batches[0]
    finally:
        go.set()
        monkeypatch.setattr(_Ingestor, "_store", real_store)
        monkeypatch.setattr(_Ingestor, "_record", real_record)


def test_a_batch_left_recording_by_an_interrupt_keeps_its_lock_until_its_thread_ends(
    tmp_path: Path, pg_server: PgServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An interrupt (stop at once) while a batch's catalog transaction is open in its
    thread: the ingest raises at once, but the batch's staging lock stays held, past
    the Archive's own release of its batches, until that thread ends (else another
    writer could recover the batch while the thread still commits it); then it goes,
    and the next ingest leaves each document one version, verify clean."""
    from provarchive.store.storage import _lock_if_dead

    with _left_recording(tmp_path, pg_server, monkeypatch) as (config, seeds, batch):
        assert _lock_if_dead(batch) is None  # its writer still holds it
    for _ in range(300):
        fd = _lock_if_dead(batch) if batch.exists() else None
        if fd is not None:
            os.close(fd)
            break
        time.sleep(0.1)
    else:
        raise AssertionError("the batch's lock was never let go")
    with Archive(config) as archive:
        archive.ingest()
        _each_once_and_clean(archive, seeds)


def test_a_batch_left_recording_whose_staging_cannot_be_let_go_still_frees_its_documents(
    tmp_path: Path,
    pg_server: PgServer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """When the recording thread of an interrupted batch ends and closing the batch's
    staging fails there, it says so in one warning, and still lets go of the run's
    document locks (else no other writer could archive them until this process ends)."""
    import threading

    from provarchive.catalog import Catalog
    from provarchive.catalog.locks import DocumentLocks
    from provarchive.store.storage import Transaction

    real_close = Transaction.close_uncommitted

    def close_uncommitted(self: Transaction) -> None:
        real_close(self)  # it lets go of the batch whatever fails (its fd is closed)
        if threading.current_thread() is not threading.main_thread():
            raise OSError(5, "Input/output error")

    monkeypatch.setattr(Transaction, "close_uncommitted", close_uncommitted)
    failed = "letting go of an interrupted batch's locks failed: [Errno 5] Input/output error"
    with caplog.at_level("WARNING"):
        with _left_recording(tmp_path, pg_server, monkeypatch) as (config, seeds, _batch):
            assert failed not in caplog.text
        wait_until(lambda: failed in caplog.text, timeout=30)
    names = sorted(p.relative_to(seeds).as_posix() for p in seeds.rglob("*.txt"))
    catalog = Catalog(config.db_url)
    others = DocumentLocks(catalog)
    try:  # the locks go just after the warning: retried, those taken stay taken
        wait_until(lambda: all(others.try_lock(names)), timeout=30)
    finally:
        others.close()
        catalog.close()


_SLOW_RECORDING = """
import pathlib, sys, time
from provarchive import ingest
from provarchive.cli import main

count = 0

def record(self, staged, index_in=None):
    global count
    count += 1
    def slow(s, n=count):
        index_in(s)
        (marks / str(n)).touch()  # the test interrupts now: this transaction is open
        time.sleep(3600 if n >= 2 else 0)
    real_record(self, staged, slow)

if __name__ == "__main__":  # not in the spawned preparer child, which imports this file
    ingest.BATCH_FILES, ingest.FIRST_BATCH_FILES = 8, 4
    real_record, marks = ingest._Ingestor._record, pathlib.Path(sys.argv.pop(1))
    ingest._Ingestor._record = record
    sys.exit(main())
"""


def test_an_interrupt_stops_at_once_while_a_batch_is_recorded_in_its_thread(
    tmp_path: Path, pg_url: str
) -> None:
    """Three Ctrl-C while the recording thread is inside a batch's catalog transaction:
    the first asks for a stop after the batch, the second stops at once, without waiting
    for that transaction (which the server rolls back as the process goes) and the
    third finds nothing left to interrupt: exit 130, no traceback. The next ingest
    records what the store holds: each document one version, verify clean."""
    import signal

    seeds, root, marks = tmp_path / "seeds", tmp_path / "archive", tmp_path / "marks"
    _write_seeds(seeds, 30)
    marks.mkdir()
    (tmp_path / "slow.py").write_text(_SLOW_RECORDING)
    env = {**_env(), "PROVARCHIVE_DB_URL": pg_url}
    args = ["--archive", str(root), "--seeds", str(seeds), "ingest", "--json"]
    proc = subprocess.Popen(
        [sys.executable, str(tmp_path / "slow.py"), str(marks), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:  # a failure must not leave it sleeping for an hour, holding its connection
        deadline = time.monotonic() + 120
        while not (marks / "2").exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert (marks / "2").exists(), "the second batch's recording never started"
        started = time.monotonic()
        for _ in range(3):
            proc.send_signal(signal.SIGINT)
            time.sleep(0.3)
        out, err = proc.communicate(timeout=60)
        elapsed = time.monotonic() - started
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, err.decode()[-2000:]
    assert elapsed < 30, f"waited {elapsed:.0f} s for the recording"
    assert "Traceback" not in err.decode() and "Exception ignored" not in err.decode()
    assert "in a child process failed" not in err.decode()  # the preparer child was in use
    report = json.loads(out)
    assert report["stopped_at_once"] is True
    assert len(report["results"]) == 4  # the first batch; the second was rolled back

    again = run_provarchive(*args[:-1], env=env, timeout=600)
    assert again.returncode == 0, again.stderr.decode()[-2000:]
    with Archive(ArchiveConfig(root=root, seeds=seeds, db_url=pg_url)) as archive:
        _each_once_and_clean(archive, seeds)


def _env() -> dict[str, str]:
    return dict(os.environ)


def _server_archive(tmp_path: Path, seeded: Path, url: str) -> ArchiveConfig:
    config = ArchiveConfig(root=tmp_path / "served", seeds=seeded, lock_timeout=30, db_url=url)
    with Archive(config) as archive:
        archive.ingest()
    return config


def test_a_server_archive_is_not_opened_without_its_url(
    tmp_path: Path, seeded: Path, pg_url: str
) -> None:
    """Without --db-url a command would make a SQLite catalog beside the archive and log
    into its transparency log from there: it is refused, and nothing is written."""
    config = _server_archive(tmp_path, seeded, pg_url)
    before = sorted(p.name for p in config.root.iterdir())
    with Archive(replace(config, db_url=None)) as archive:
        with pytest.raises(UsageError, match="--db-url"):
            archive.ingest()
        with pytest.raises(UsageError, match="--db-url"):
            archive.search("harbour")
    assert sorted(p.name for p in config.root.iterdir()) == before
    with Archive(config) as archive:
        assert archive.verify().is_ok()


@pytest.mark.parametrize(
    ("tamper", "code"),
    [
        ("UPDATE versions SET sha256 = repeat('0', 64)", "CATALOG_DIGEST_MISMATCH"),
        ("DELETE FROM search_entries WHERE ordinal = 2", "INDEX_ENTRY_MISSING"),
    ],
    ids=["version-digest", "index-entry"],
)
def test_a_damaged_server_catalog_is_found_and_rebuilt(
    tmp_path: Path, seeded: Path, pg_url: str, pg_server: PgServer, tamper: str, code: str
) -> None:
    config = _server_archive(tmp_path, seeded, pg_url)
    pg_server.execute(tamper, database=pg_url.split("@/", 1)[1].split("?")[0])
    with Archive(config) as archive:
        assert code in archive.verify().codes()
        assert archive.rebuild() == 1
        report = archive.verify()
        assert report.is_ok(), report.findings
        assert archive.search('"Go Myong-hyun"').total == 1


def test_a_read_only_role_searches_and_verify_reports_what_it_cannot_read(
    tmp_path: Path, seeded: Path, pg_url: str, pg_server: PgServer
) -> None:
    """Least privilege: a role that may only SELECT searches and verifies; a role that
    may not read the catalog gets a verify finding, not a traceback."""
    config = _server_archive(tmp_path, seeded, pg_url)
    database = pg_url.split("@/", 1)[1].split("?")[0]
    reader, outsider = f"reader_{database}", f"outsider_{database}"
    pg_server.execute(
        f"CREATE ROLE {reader} LOGIN", f"CREATE ROLE {outsider} LOGIN",
        f'GRANT CONNECT ON DATABASE "{database}" TO {reader}, {outsider}',
    )  # fmt: skip
    pg_server.execute(
        f"GRANT USAGE ON SCHEMA public TO {reader}",
        f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {reader}",
        database=database,
    )
    try:
        as_reader = replace(config, db_url=pg_server.url(database, user=reader))
        with Archive(as_reader) as archive:
            assert archive.search('"Go Myong-hyun"').total == 1
            report = archive.verify()
            assert report.is_ok(), report.findings
            with pytest.raises(ArchiveError):
                archive.ingest()
        as_outsider = replace(config, db_url=pg_server.url(database, user=outsider))
        with Archive(as_outsider) as archive:
            report = archive.verify()
            assert not report.is_ok()
            assert "CATALOG_UNREADABLE" in report.codes()
    finally:
        pg_server.execute(f"DROP OWNED BY {reader}, {outsider}", database=database)
        pg_server.execute(f'REVOKE ALL ON DATABASE "{database}" FROM {reader}, {outsider}')
        pg_server.execute(f"DROP ROLE {reader}", f"DROP ROLE {outsider}")
