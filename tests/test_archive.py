"""The library's front door: every writing method takes the writer lock itself (re-entrant
within one Archive, serialised across processes), and the README's Python example runs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from provarchive import Archive, ArchiveConfig
from provarchive.derivations import reclean
from provarchive.errors import LockTimeoutError, UsageError

from .conftest import REPO, SEED_NAME, SEED_PATH

HOLDER = """
import sys
from pathlib import Path
from provarchive import Archive, ArchiveConfig
config = ArchiveConfig.from_env(root=Path(sys.argv[1]), seeds=Path(sys.argv[2]))
with Archive(config) as archive, archive.writer("holder"):
    print("held", flush=True)
    sys.stdin.readline()
"""

WRITERS: dict[str, Callable[[Archive, Path], object]] = {
    "init": lambda a, _t: a.init(),
    "ingest": lambda a, _t: a.ingest(),
    "add": lambda a, t: a.add([t / "extra.txt"]),
    "reclean": lambda a, _t: a.reclean(),
    "reindex": lambda a, _t: a.reindex(),
    "rebuild": lambda a, _t: a.rebuild(),
}


@pytest.fixture
def built(archive: Archive, seeded: Path, tmp_path: Path) -> Archive:
    archive.ingest()
    (tmp_path / "extra.txt").write_text("An extra note about the harbour.\n")
    return archive


@pytest.mark.parametrize(
    "method",
    # One in the fast suite, the others with --all (each waits ~2 s for the holder).
    [m if m == "ingest" else pytest.param(m, marks=pytest.mark.slow) for m in sorted(WRITERS)],
)
def test_a_writing_method_waits_for_another_process_holding_the_lock(
    built: Archive, tmp_path: Path, method: str
) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(built.config.root), str(built.config.seeds)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdin is not None and holder.stdout is not None
    try:
        assert holder.stdout.readline().strip() == "held"
        impatient = Archive(ArchiveConfig(**{**built.config.__dict__, "lock_timeout": 0.3}))
        with pytest.raises(LockTimeoutError, match="pid"):
            WRITERS[method](impatient, tmp_path)
    finally:
        holder.stdin.write("\n")
        holder.stdin.flush()
        assert holder.wait(timeout=60) == 0
    WRITERS[method](impatient, tmp_path)  # the lock is free again: the same call succeeds
    assert impatient.verify().is_ok()


def test_the_lock_is_re_entrant_within_one_archive(built: Archive, tmp_path: Path) -> None:
    with built.writer("outer"):
        for method in ("reclean", "reindex", "add", "ingest"):
            WRITERS[method](built, tmp_path)
    assert built.verify().is_ok()


def test_services_refuse_to_write_without_the_lock(built: Archive) -> None:
    with pytest.raises(UsageError, match="writer lock"):
        reclean(built.home)


def _readme_example() -> str:
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Python API", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "the README's Python API section has no python example"
    return match.group(1)


def test_the_readme_python_example_runs(tmp_path: Path) -> None:
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / SEED_NAME).write_bytes(SEED_PATH.read_bytes())
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROVARCHIVE_")}
    result = subprocess.run(
        [sys.executable, "-c", _readme_example()],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert SEED_NAME in result.stdout
    assert (tmp_path / "archive" / "ocfl" / "0=ocfl_1.1").exists()
