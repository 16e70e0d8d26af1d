"""Interrupting writing commands with real signals (issue #13 item 4): SIGINT/SIGTERM stop
after the batch in hand with the index up to date and a summary of what was saved, exit
130/143, the indexer child reaped; a second interrupt stops at once, still crash-safe.
In PostgreSQL mode too (``PROVARCHIVE_TEST_DB=postgres``): there the batch in hand may
be in its catalog transaction in a thread, and the child is the entries' preparer."""

from __future__ import annotations

import functools
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from .conftest import TEST_DB, crash_test, run_provarchive

SMALL_BATCHES = (
    "import provarchive.ingest as i; i.BATCH_FILES = 8; i.FIRST_BATCH_FILES = 4; "
    "from provarchive.cli import main; main()"
)
"""``provarchive`` with small batches, so that a short run has many of them."""

SLOW_TO_STOP = (
    "import time, provarchive.ingest as i, provarchive.cli.common as c\n"
    "i.BATCH_FILES = 8; i.FIRST_BATCH_FILES = 4\n"
    "handle = c.Interrupts._handle\n"
    "def slowly(self, signum, frame):\n"
    "    handle(self, signum, frame)\n"
    "    time.sleep(60)\n"
    "c.Interrupts._handle = slowly\n"
    "from provarchive.cli import main; main()"
)
"""Small batches, and the first interrupt's handler (the real one) then waits a minute
where it interrupted the program: a second interrupt always finds the run going on."""


def _env(tmp_path: Path) -> dict[str, str]:
    return dict(
        os.environ,
        PROVARCHIVE_ARCHIVE=str(tmp_path / "archive"),
        PROVARCHIVE_SEEDS=str(tmp_path / "seeds"),
        PROVARCHIVE_LOCK_TIMEOUT="60",
    )


def _start(
    args: list[str], env: dict[str, str], *, small: bool, program: str | None = None
) -> subprocess.Popen[str]:
    prefix = ["-c", program or SMALL_BATCHES] if small else ["-m", "provarchive"]
    return subprocess.Popen(
        [sys.executable, *prefix, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a shell job has
    )


@functools.cache
def _server(url: str) -> sa.Engine:
    return sa.create_engine(url)


def _documents(archive: Path) -> int:
    """Documents the catalog has committed (0 while it does not exist yet): in the
    archive's SQLite file, or in PostgreSQL mode in the server's database."""
    url = os.environ.get("PROVARCHIVE_DB_URL")
    if url:
        try:
            with _server(url).connect() as conn:
                return int(conn.execute(sa.text("SELECT count(*) FROM documents")).scalar_one())
        except sa.exc.SQLAlchemyError:
            return 0
    path = archive / "catalog.sqlite"
    if not path.exists():
        return 0
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return int(db.execute("SELECT count(*) FROM documents").fetchone()[0])
    except sqlite3.Error:
        return 0
    finally:
        db.close()


def _children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (Linux /proc), but multiprocessing's resource
    tracker (started with the first ``spawn`` pool): on Python 3.11 it exits only once
    its parent has (on end of file of its pipe), so init reaps it, not its parent, and
    how soon depends on the machine's init."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            tracker = b"resource_tracker" in (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if int(fields[1]) == pid and not tracker:
            found.append(int(stat.parent.name))
    return found


def _gone_or_reaped(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state != "Z"  # a zombie is a child nobody reaped


def _interrupt_mid_run(
    proc: subprocess.Popen[str], archive: Path, signum: int, *, group: bool, at_least: int
) -> list[int]:
    """Wait until ``at_least`` documents are committed, send ``signum``; returns the
    children the process had then."""
    while _documents(archive) < at_least:
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.02)
    children = _children(proc.pid)
    if group:
        os.killpg(proc.pid, signum)  # Ctrl-C in a terminal signals the whole job
    else:
        proc.send_signal(signum)  # kill -INT / kill -TERM of the main process only
    return children


def _search_all(env: dict[str, str]) -> tuple[set[str], int]:
    found = run_provarchive("search", "dq*", "--json", "--limit", "100000", env=env, text=True)
    assert found.returncode == 0, found.stderr
    data = json.loads(found.stdout)
    return {h["document"] for h in data["hits"]}, data["index_behind"]


def _saved(stdout: str) -> tuple[set[str], dict]:
    report = json.loads(stdout)
    return {r["document"] for r in report["results"] if r["status"] == "new"}, report


def _then_clean(env: dict[str, str]) -> None:
    """The next writing command finishes the rest; verify then has nothing to say."""
    again = run_provarchive("ingest", "--json", env=env, text=True, timeout=900)
    assert again.returncode == 0, again.stderr
    verify = run_provarchive("verify", "--json", env=env, text=True, timeout=600)
    report = json.loads(verify.stdout)
    assert verify.returncode == 0 and report["findings"] == [], report["findings"][:5]


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_ctrl_c_in_an_ingest_of_1000_files_saves_whole_batches_all_searchable(
    tmp_path: Path,
) -> None:
    crash_test.write_seeds(tmp_path / "seeds", random.Random(13), 1000)
    env = _env(tmp_path)
    proc = _start(["ingest", "--json"], env, small=False)
    children = _interrupt_mid_run(
        proc, tmp_path / "archive", signal.SIGINT, group=True, at_least=25
    )
    stdout, stderr = proc.communicate(timeout=600)
    assert proc.returncode == 130, stderr
    saved, report = _saved(stdout)
    assert report["interrupted"] is True and report["not_reached"] > 0
    assert 25 <= len(saved) < 1000 and len(saved) + report["not_reached"] == 1000
    assert f"Interrupted: {len(saved)} file(s) archived and searchable" in stderr
    assert "Traceback" not in stderr
    assert all(_gone_or_reaped(pid) for pid in children)
    found, behind = _search_all(env)  # no writing command in between
    assert saved <= found and behind == 0
    _then_clean(env)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_sigterm_stops_after_the_batch_in_hand_and_reaps_the_indexer(tmp_path: Path) -> None:
    crash_test.write_seeds(tmp_path / "seeds", random.Random(14), 120)
    env = _env(tmp_path)
    proc = _start(["ingest", "--json"], env, small=True)
    children = _interrupt_mid_run(
        proc, tmp_path / "archive", signal.SIGTERM, group=False, at_least=4
    )
    stdout, stderr = proc.communicate(timeout=600)
    assert proc.returncode == 143, stderr
    saved, report = _saved(stdout)
    assert report["interrupted"] is True and len(saved) + report["not_reached"] == 120
    assert len(saved) % 4 == 0  # whole batches only (4, then 8 at a time)
    assert all(_gone_or_reaped(pid) for pid in children)
    found, behind = _search_all(env)
    assert saved <= found and behind == 0
    _then_clean(env)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_a_second_interrupt_stops_at_once_and_the_archive_stays_valid(tmp_path: Path) -> None:
    crash_test.write_seeds(tmp_path / "seeds", random.Random(15), 120)
    env = _env(tmp_path)
    proc = _start(["ingest", "--json"], env, small=True, program=SLOW_TO_STOP)
    _interrupt_mid_run(proc, tmp_path / "archive", signal.SIGINT, group=False, at_least=4)
    time.sleep(0.3)  # the first is handled (and its handler waits: see SLOW_TO_STOP)
    assert proc.poll() is None
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=600)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    saved, report = _saved(stdout)  # --json still prints one document
    assert report["interrupted"] is True and report["signal"] == "SIGINT"
    assert report["stopped_at_once"] is True
    assert report["counts"].get("new", 0) == len(saved) >= 4
    found, behind = _search_all(env)  # what it says it saved is searchable
    assert saved <= found and behind == 0
    _then_clean(env)


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.skipif(TEST_DB == "postgres", reason="watches Whoosh's index generations")
def test_interrupted_reindex_leaves_the_old_index_serving(tmp_path: Path) -> None:
    crash_test.write_seeds(tmp_path / "seeds", random.Random(16), 60)
    env = _env(tmp_path)
    assert run_provarchive("ingest", env=env, timeout=600).returncode == 0
    before, _ = _search_all(env)
    proc = _start(["reindex"], env, small=False)
    index = tmp_path / "archive" / "index"
    generations = set(index.glob("g-*"))
    while proc.poll() is None and set(index.glob("g-*")) == generations:
        time.sleep(0.005)  # the new generation is being written
    if proc.poll() is not None:
        pytest.skip("the reindex finished before the interrupt could be sent")
    proc.send_signal(signal.SIGINT)  # while its entries are being indexed
    _stdout, stderr = proc.communicate(timeout=600)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    found, behind = _search_all(env)
    assert found == before and behind == 0
    _then_clean(env)


KILLED_BEFORE_THE_CATALOG = (
    "import os, signal, provarchive.catalog as c; "
    "c.Catalog.migrate = lambda self: os.kill(os.getpid(), signal.SIGKILL); "
    "from provarchive.cli import main; main()"
)
"""``provarchive`` killed (SIGKILL) just before its first run makes the catalog."""


@pytest.mark.skipif(TEST_DB == "postgres", reason="the catalog file of SQLite mode")
def test_a_first_run_killed_before_the_catalog_leaves_an_archive_not_yet_made(
    tmp_path: Path,
) -> None:
    """The storage root exists, the catalog does not, nothing is stored: readers say
    the archive holds nothing yet (exit 3), not that it is damaged; ingest finishes it."""
    env = _env(tmp_path)
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "a.txt").write_text("The lighthouse keeper wrote every night.\n")
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_BEFORE_THE_CATALOG, "ingest"], env=env, capture_output=True
    )
    assert killed.returncode == -signal.SIGKILL
    assert (tmp_path / "archive" / "ocfl" / "0=ocfl_1.1").is_file()
    assert not (tmp_path / "archive" / "catalog.sqlite").exists()
    for args in (["search", "lighthouse"], ["stats"], ["show", "a.txt"]):
        done = run_provarchive(*args, env=env, text=True)
        assert done.returncode == 3, (args, done.stderr)
        assert "first run was stopped before anything was archived" in done.stderr
        assert "Traceback" not in done.stderr
    # An empty catalog (the first migration never committed) is the same case.
    sqlite3.connect(tmp_path / "archive" / "catalog.sqlite").execute("CREATE TABLE t (x)")
    assert run_provarchive("search", "lighthouse", env=env).returncode == 3
    (tmp_path / "archive" / "catalog.sqlite").unlink()
    assert run_provarchive("ingest", env=env).returncode == 0
    found = run_provarchive("search", "lighthouse", "--json", env=env, text=True)
    assert found.returncode == 0 and json.loads(found.stdout)["total"] == 1
    # With something stored, a missing catalog is damage: rebuild recreates it.
    (tmp_path / "archive" / "catalog.sqlite").unlink()
    damaged = run_provarchive("search", "lighthouse", env=env, text=True)
    assert damaged.returncode == 7 and "the catalog is missing" in damaged.stderr


@pytest.mark.parametrize("whole_process", [False, True])
def test_interrupts_after_a_stop_at_once_are_ignored_until_the_command_is_done(
    monkeypatch: pytest.MonkeyPatch, whole_process: bool
) -> None:
    """The first interrupt asks for a stop, the second stops at once, and later ones are
    ignored, so that they cannot cut short what the stop at once tidies (nor its report,
    nor the process's exit: a console command keeps ignoring them to the end; a caller
    in the same process gets its own handlers back)."""
    from provarchive.cli import common

    monkeypatch.setattr(common, "WHOLE_PROCESS", whole_process)
    before, before_term = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    tidied = False
    try:
        with pytest.raises(common.Interrupted) as stopped, common.interrupts() as state:
            os.kill(os.getpid(), signal.SIGINT)
            assert state.requested() and not state.at_once
            try:
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(1)
                raise AssertionError("the second interrupt did not stop at once")
            finally:  # tidying up: a third interrupt here must not break it off
                os.kill(os.getpid(), signal.SIGINT)
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(0.05)
                tidied = True
        assert stopped.value.at_once and tidied
        after = signal.getsignal(signal.SIGINT)
        assert (after == signal.SIG_IGN) if whole_process else (after is before)
        if whole_process:
            os.kill(os.getpid(), signal.SIGINT)  # on its way out: nothing happens
            time.sleep(0.05)
    finally:
        signal.signal(signal.SIGINT, before)
        signal.signal(signal.SIGTERM, before_term)


def test_the_console_entry_point_says_the_command_is_the_whole_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``main()`` (what ``provarchive`` and ``python -m provarchive`` run) sets
    WHOLE_PROCESS before the command runs, so that a stop at once ignores interrupts
    through the exit; library callers and CliRunner never set it."""
    import provarchive.cli as cli
    from provarchive.cli import common

    monkeypatch.setattr(common, "WHOLE_PROCESS", False)
    seen: list[bool] = []
    monkeypatch.setattr(cli, "__getattr__", lambda name: lambda: seen.append(common.WHOLE_PROCESS))
    monkeypatch.setattr(sys, "argv", ["provarchive", "stats"])
    cli.main()
    assert seen == [True]
