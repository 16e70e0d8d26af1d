"""Shared fixtures: every test gets its own archive and seeds folder under tmp_path.

An autouse fixture points the PROVARCHIVE_* environment at tmp_path so that no
test can touch a real archive, whatever command it runs.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from provarchive import Archive, ArchiveConfig
from provarchive.cli import app

pytest_plugins = ["tests.postgres"]
"""The throw-away PostgreSQL server and per-test databases (tests/postgres.py)."""

REPO = Path(__file__).resolve().parent.parent
SEED_NAME = "000_58c727a948331809.txt"
SEED_PATH = REPO / "seeds" / SEED_NAME
GO = f"{SEED_NAME}@v1#5"
"""The seed's passage naming Go Myong-hyun (a body paragraph the tests cite)."""


def _load_script(name: str):
    spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


crash_test = _load_script("crash_test")
"""scripts/crash_test.py: its seed generator, trials, and ocfl-py runner are shared."""
ocfl_validate = crash_test.ocfl_validate


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROVARCHIVE_ARCHIVE", str(tmp_path / "archive"))
    monkeypatch.setenv("PROVARCHIVE_SEEDS", str(tmp_path / "seeds"))
    monkeypatch.setenv("PROVARCHIVE_LOCK_TIMEOUT", "30")
    monkeypatch.delenv("PROVARCHIVE_DB_URL", raising=False)
    monkeypatch.delenv("PROVARCHIVE_SIGNING_KEY", raising=False)
    monkeypatch.setenv("COLUMNS", "200")


@pytest.fixture
def seeds(tmp_path: Path) -> Path:
    path = tmp_path / "seeds"
    path.mkdir()
    return path


@pytest.fixture
def seed_bytes() -> bytes:
    return SEED_PATH.read_bytes()


@pytest.fixture
def seeded(seeds: Path, seed_bytes: bytes) -> Path:
    """The seeds folder holding a copy of the project's seed document."""
    (seeds / SEED_NAME).write_bytes(seed_bytes)
    return seeds


@pytest.fixture
def config(tmp_path: Path, seeds: Path) -> ArchiveConfig:
    return ArchiveConfig(root=tmp_path / "archive", seeds=seeds, lock_timeout=30)


@pytest.fixture
def archive(config: ArchiveConfig) -> Iterator[Archive]:
    with Archive(config) as a:
        yield a


@pytest.fixture
def seeded_archive(archive: Archive, seeded: Path) -> Archive:
    """An archive holding the seed document."""
    archive.ingest()
    return archive


class Cli:
    """Run the real Typer app in-process, the way a user would call it."""

    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(self, *args: str, input: bytes | str | None = None):
        return self.runner.invoke(app, list(args), input=input, catch_exceptions=False)


@pytest.fixture
def cli() -> Cli:
    return Cli()


def run_provarchive(*args: str, env: dict[str, str] | None = None, timeout: float = 300, **kw):
    """Run provarchive in a real subprocess (for crash, concurrency and pipe tests)."""
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    return subprocess.run(
        [sys.executable, "-m", "provarchive", *args],
        capture_output=True,
        env=full_env,
        timeout=timeout,
        **kw,
    )


def ocfl_py_validate(root: Path) -> tuple[bool, list[str]]:
    """ocfl-py's storage-root validator through its API: (valid, messages logged)."""
    import ocfl

    store = ocfl.StorageRoot(root=str(root))
    ok = store.validate(log_warnings=True, log_errors=False)
    messages = list(store.log.messages) if store.log else []
    messages += [detail for _path, detail in store.errors]
    return ok and store.good_objects == store.num_objects, messages
