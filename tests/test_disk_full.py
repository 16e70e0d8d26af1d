"""Out of disk space on a real (small tmpfs) file system: a one-line error naming the file,
exit 6, never a traceback; what was committed stays archived and searchable and the
summary says so; the old catalog and index serve on after a failed rebuild or reindex."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import random
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import crash_test, ocfl_py_validate, run_provarchive


def _mount_tmpfs(where: Path, size: str) -> str | None:
    """Mount a tmpfs of ``size`` at ``where``; None, or why it cannot be done here."""
    if os.geteuid() != 0:
        return "mounting a small file system needs root (run the tests as root to test disk full)"
    if shutil.which("mount") is None:
        return "no mount command"
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
        capture_output=True,
        text=True,
    )
    return None if done.returncode == 0 else f"cannot mount a tmpfs: {done.stderr.strip()}"


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    where = tmp_path / "small"
    why = _mount_tmpfs(where, "2m")
    if why is not None:
        pytest.skip(why)
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def _resize(where: Path, size: str) -> None:
    subprocess.run(["mount", "-o", f"remount,size={size}", str(where)], check=True)


def _fill(where: Path) -> Path:
    """Fill the file system to the last byte; returns the filler file."""
    filler = where / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        for size in (65536, 4096, 1):
            with contextlib.suppress(OSError):
                while os.write(fd, b"\0" * size):
                    pass
    finally:
        os.close(fd)
    return filler


def _env(tmp_path: Path, small: Path) -> dict[str, str]:
    return dict(
        PROVARCHIVE_ARCHIVE=str(small / "archive"),
        PROVARCHIVE_SEEDS=str(tmp_path / "seeds"),
        PROVARCHIVE_LOCK_TIMEOUT="30",
    )


def _one_line_error(stderr: str) -> str:
    assert "Traceback" not in stderr, stderr[-2000:]
    errors = [line for line in stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, stderr
    return errors[0]


def _searchable(env: dict[str, str]) -> set[str]:
    found = run_provarchive("search", "dq*", "--json", "--limit", "100000", env=env, text=True)
    assert found.returncode in (0, 1), found.stderr
    return {h["document"] for h in json.loads(found.stdout)["hits"]}


def _events(env: dict[str, str]) -> int:
    log = run_provarchive("log", "--json", "--limit", "1000000", env=env, text=True)
    assert log.returncode == 0, log.stderr
    return len(json.loads(log.stdout)["events"])


@pytest.mark.slow
def test_ingest_onto_a_full_disk_says_what_it_saved_and_the_rest_follows(
    tmp_path: Path, small_fs: Path
) -> None:
    crash_test.write_seeds(tmp_path / "seeds", random.Random(21), 300)
    env = _env(tmp_path, small_fs)
    full = run_provarchive("ingest", "--json", env=env, text=True, timeout=900)
    assert full.returncode == 6, full.stderr
    line = _one_line_error(full.stderr)
    assert "no space left on device" in line and str(small_fs / "archive") in line
    report = json.loads(full.stdout)
    saved = {r["document"] for r in report["results"] if r["status"] == "new"}
    assert 0 < len(saved) < 300
    assert f"stopped: {len(saved)} file(s) of this run archived and searchable" in line
    assert f"{report['not_reached']} not archived" in line
    assert len(saved) + report["not_reached"] == 300
    assert _searchable(env) == saved  # exactly what the summary said, nothing half-done
    verify = run_provarchive("verify", "--json", "--no-seeds", env=env, text=True)
    assert verify.returncode == 0, verify.stdout[-2000:]
    _resize(small_fs, "64m")
    again = run_provarchive("ingest", "--json", env=env, text=True, timeout=900)
    assert again.returncode == 0, again.stderr
    verify = run_provarchive("verify", "--json", env=env, text=True)
    assert verify.returncode == 0 and json.loads(verify.stdout)["findings"] == []
    ok, messages = ocfl_py_validate(small_fs / "archive" / "ocfl")
    assert ok, messages


@pytest.mark.slow
def test_rebuild_and_reindex_on_a_full_disk_keep_the_old_catalog_and_index(
    tmp_path: Path, small_fs: Path
) -> None:
    crash_test.write_seeds(tmp_path / "seeds", random.Random(22), 40)
    env = _env(tmp_path, small_fs)
    _resize(small_fs, "16m")
    assert run_provarchive("ingest", env=env, timeout=600).returncode == 0
    names = _searchable(env)
    events = _events(env)
    filler = _fill(small_fs)
    with pytest.raises(OSError) as full:
        (small_fs / "probe").write_bytes(b"x" * 8192)
    assert full.value.errno == errno.ENOSPC
    for command in ("rebuild", "reindex"):
        result = run_provarchive(command, env=env, text=True, timeout=600)
        assert result.returncode == 6, (command, result.stderr)
        line = _one_line_error(result.stderr)
        assert "no space left on device" in line and str(small_fs / "archive") in line
        assert _searchable(env) == names, command  # the old index serves on
        assert _events(env) == events, command  # the old catalog, every event in it
    filler.unlink()
    (small_fs / "probe").unlink(missing_ok=True)
    assert run_provarchive("ingest", env=env, timeout=600).returncode == 0
    verify = run_provarchive("verify", "--json", env=env, text=True)
    assert verify.returncode == 0 and json.loads(verify.stdout)["findings"] == []
    assert not list((small_fs / "archive").glob("building-*"))
