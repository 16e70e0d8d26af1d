"""A read-only archive (``chmod -R a-w``, read by a user who does not own it): every read
command exits 0 with the same output as on the writable original, no lock file is made,
and a writing command stops at once with exit 6, changing nothing."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from .conftest import crash_test

OTHER_UID = 65534  # nobody
DOC = "batch-0/doc-0000.txt"
READ_COMMANDS = {
    "verify": ["verify", "--json"],  # first: on a writable archive it logs an event
    "search": ["search", "dq*", "--json", "--limit", "1000"],
    "show": ["show", DOC, "--json"],
    "cat": ["cat", DOC],
    "history": ["history", DOC, "--json"],
    "log": ["log", "--json", "--limit", "50"],
    "explain": ["explain", DOC],
    "lineage": ["lineage", f"{DOC}@v1#1"],
    "checkpoint": ["checkpoint"],
    "key": ["key"],
    "list": ["list", "--json"],
    "stats": ["stats", "--json"],
}
"""Every read command (``list`` and ``stats`` when this build has them)."""


def _as(uid: int | None, args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "provarchive", *args]
    if uid is not None:
        command = ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", *command]
    return subprocess.run(command, env=env, capture_output=True, timeout=300)


def _open_up(path: Path) -> list[tuple[Path, int]]:
    """Let others traverse every folder above ``path`` (pytest's are 0700); returns the
    modes to restore."""
    changed = []
    for folder in [path, *path.parents]:
        mode = folder.stat().st_mode
        if not mode & 0o001:
            changed.append((folder, mode))
            folder.chmod(mode | 0o005)
    return changed


@pytest.fixture(scope="module")
def read_only(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReadOnly]:
    """An archive of 20 documents, each read command's output on it while writable, then
    the archive made read-only (``chmod -R a-w``) and readable by another user."""
    if os.geteuid() != 0:
        pytest.skip("running a command as another user needs root (setpriv)")
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv (util-linux) is not installed")
    # Outside pytest's base folder: other pytest runs reset that to 0700 at any moment.
    tmp_path = Path(tempfile.mkdtemp(prefix="provarchive-read-only-", dir="/tmp"))
    tmp_path.chmod(0o755)
    changed = _open_up(tmp_path)
    env = dict(
        os.environ,
        HOME=str(tmp_path),
        PROVARCHIVE_ARCHIVE=str(tmp_path / "archive"),
        PROVARCHIVE_SEEDS=str(tmp_path / "seeds"),
    )
    archive = tmp_path / "archive"
    try:
        probe = _as(OTHER_UID, ["--version"], env)
        if probe.returncode != 0:
            pytest.skip(
                f"user {OTHER_UID} cannot run this venv's provarchive ({sys.executable}): "
                f"{probe.stderr.decode(errors='replace').strip()[-200:]}"
            )
        crash_test.write_seeds(tmp_path / "seeds", random.Random(31), 20)
        assert _as(None, ["ingest"], env).returncode == 0
        original = {name: _as(None, args, env) for name, args in READ_COMMANDS.items()}
        for lock in archive.glob("writer.lock*"):
            lock.unlink()
        _chmod_tree(archive, writable=False)
        _chmod_tree(tmp_path / "seeds", writable=False)
        yield ReadOnly(archive, env, original, _tree(archive))
    finally:
        if archive.exists():
            _chmod_tree(archive, writable=True)
            _chmod_tree(tmp_path / "seeds", writable=True)
        for folder, mode in reversed(changed):
            folder.chmod(mode)
        shutil.rmtree(tmp_path, ignore_errors=True)


@dataclass
class ReadOnly:
    archive: Path
    env: dict[str, str]
    original: dict[str, subprocess.CompletedProcess]
    tree: dict[str, tuple[int, int]]


def _tree(root: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*")
    }


def _chmod_tree(root: Path, *, writable: bool) -> None:
    for p in [root, *root.rglob("*")]:
        mode = p.stat().st_mode
        p.chmod(mode | 0o200 if writable else mode & ~0o222)


@pytest.mark.slow
@pytest.mark.timeout(1800)
@pytest.mark.parametrize("name", sorted(READ_COMMANDS))
def test_a_read_command_on_a_read_only_archive_as_another_user(
    read_only: ReadOnly, name: str
) -> None:
    original = read_only.original[name]
    assert original.returncode == 0, original.stderr[-300:]
    done = _as(OTHER_UID, READ_COMMANDS[name], read_only.env)
    assert done.returncode == 0, done.stderr.decode()[-500:]
    assert done.stdout == original.stdout  # the same answer as on the writable original
    assert b"Traceback" not in done.stderr
    assert _tree(read_only.archive) == read_only.tree  # nothing written, no lock file
    assert not list(read_only.archive.glob("writer.lock*"))


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_a_writing_command_on_a_read_only_archive_stops_at_once(read_only: ReadOnly) -> None:
    write = _as(OTHER_UID, ["ingest"], read_only.env)
    assert write.returncode == 6, write.stderr
    message = write.stderr.decode()
    assert message.startswith("Error: cannot write ") and "read-only" in message
    assert "Traceback" not in message and len(message.strip().splitlines()) == 1
    assert _tree(read_only.archive) == read_only.tree
    assert not list(read_only.archive.glob("writer.lock*"))


@pytest.mark.slow
def test_a_reader_on_a_read_only_archive_says_recovery_was_skipped(tmp_path: Path) -> None:
    """An interrupted write is left in staging: a reader that may not write cannot
    finish or remove it, and says so once, on stderr; its answer is the last commit's."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("running a command as another user needs root and setpriv")
    base = Path(tempfile.mkdtemp(prefix="provarchive-skipped-", dir="/tmp"))
    base.chmod(0o755)
    changed = _open_up(base)
    env = dict(os.environ, HOME=str(base), PROVARCHIVE_ARCHIVE=str(base / "archive"))
    env["PROVARCHIVE_SEEDS"] = str(base / "seeds")
    try:
        crash_test.write_seeds(base / "seeds", random.Random(5), 2)
        assert _as(None, ["ingest"], env).returncode == 0
        before = _as(None, ["show", DOC, "--json"], env)
        pending = base / "archive" / "staging" / ("txn-" + "0" * 32)
        pending.mkdir(parents=True)
        _chmod_tree(base / "archive", writable=False)
        done = _as(OTHER_UID, ["show", DOC, "--json"], env)
        assert done.returncode == 0, done.stderr
        assert done.stdout == before.stdout
        told = [line for line in done.stderr.decode().splitlines() if "recovery skipped" in line]
        assert len(told) == 1 and "read-only: recovery skipped" in told[0]
        assert pending.is_dir()  # left for a writer
        _chmod_tree(base / "archive", writable=True)
        writable = _as(None, ["show", DOC, "--json"], env)  # a reader that could write: silent
        assert b"recovery skipped" not in writable.stderr
    finally:
        _chmod_tree(base / "archive", writable=True)
        for folder, mode in reversed(changed):
            folder.chmod(mode)
        shutil.rmtree(base, ignore_errors=True)
