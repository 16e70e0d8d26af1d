"""Shared fixtures: every test gets its own archive and seeds folder under tmp_path.

An autouse fixture points the PROVARCHIVE_* environment at tmp_path so that no
test can touch a real archive, whatever command it runs.

Two modes, chosen by ``PROVARCHIVE_TEST_DB``: ``sqlite`` (the default: SQLite catalog,
Whoosh index) and ``postgres`` (every archive of the ``config``/``archive`` fixtures,
every CLI run and subprocess gets its catalog and search index in a fresh database of
the throw-away server of tests/postgres.py). ``.ci/run`` runs the storage, catalog,
search, verify, ingest and concurrency tests in both. A test that is about the
embedded mode itself (catalog files, the Whoosh folder) is marked
``@pytest.mark.sqlite_only("why")`` and is skipped, with that reason, in the other mode.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from provarchive import Archive, ArchiveConfig
from provarchive.cli import app

pytest_plugins = ["tests.postgres"]
TEST_DB = os.environ.get("PROVARCHIVE_TEST_DB", "sqlite")
"""The mode the suite runs in: ``sqlite`` or ``postgres`` (see the module docstring)."""
if TEST_DB not in ("sqlite", "postgres"):
    raise SystemExit(f"PROVARCHIVE_TEST_DB must be sqlite or postgres, not {TEST_DB!r}")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sqlite_only(reason): about the embedded mode; skipped with PostgreSQL"
    )


_TAMPERS = (
    "tampers with the SQLite catalog file (tests/test_postgres_modes.py does it in PostgreSQL)"
)
SQLITE_ONLY = {
    "test_catalog.py::test_rebuild_recreates_the_catalog_from_the_store_alone": _TAMPERS,
    "test_catalog.py::test_rebuild_keeps_the_event_log_and_the_old_catalog":
        "catalog files kept as backups (a server catalog is rebuilt in place)",
    "test_catalog.py::test_rebuild_keeps_at_most_three_earlier_catalogs":
        "catalog files kept as backups (a server catalog is rebuilt in place)",
    "test_catalog.py::test_an_empty_catalog_is_rebuilt_automatically_by_the_next_writer":
        "deletes the catalog file",
    "test_verify.py::test_CATALOG_DIGEST_MISMATCH_when_a_catalog_row_changes": _TAMPERS,
    "test_verify.py::test_CATALOG_VERSION_MISSING_when_the_catalog_lacks_a_stored_version":
        _TAMPERS,
    "test_verify.py::test_CATALOG_DOCUMENT_MISSING_when_the_catalog_lacks_a_stored_object":
        _TAMPERS,
    "test_verify.py::test_STORE_VERSION_MISSING_when_the_catalog_has_more_versions": _TAMPERS,
    "test_verify.py::test_CATALOG_UNREADABLE_when_the_catalog_file_is_missing":
        "deletes the catalog file (tests/test_postgres_catalog.py: a catalog it cannot read)",
    "test_verify.py::test_rebuild_repairs_a_damaged_catalog": _TAMPERS,
    "test_search.py::test_INDEX_MISSING_and_reindex_restores": "deletes the Whoosh folder",
    "test_search.py::test_index_behind_the_catalog_is_an_error_until_the_next_writer": _TAMPERS,
    "test_search.py::test_ingest_indexes_everything_when_its_indexer_is_killed":
        "kills Whoosh's background indexer (PostgreSQL indexes in the catalog transaction)",
}  # fmt: skip
"""Tests about the embedded mode itself, by node id (without parameters), and why."""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if TEST_DB != "postgres":
        return
    for item in items:
        marker = item.get_closest_marker("sqlite_only")
        reason = SQLITE_ONLY.get(item.nodeid.split("[")[0].removeprefix("tests/"))
        if marker is not None:
            reason = marker.args[0] if marker.args else "about the embedded mode"
        if reason is not None:
            item.add_marker(pytest.mark.skip(reason=f"sqlite only: {reason}"))


"""The throw-away PostgreSQL server and per-test databases (tests/postgres.py)."""

REPO = Path(__file__).resolve().parent.parent
OCFL_FIXTURES = (
    Path(os.environ["PROVARCHIVE_OCFL_FIXTURES"])
    if os.environ.get("PROVARCHIVE_OCFL_FIXTURES")
    else next(
        (
            p
            for p in (REPO.parent / "shared" / "ocfl-fixtures", Path("/work/shared/ocfl-fixtures"))
            if p.is_dir()
        ),
        REPO.parent / "shared" / "ocfl-fixtures",
    )
) / "1.1"
"""The OCFL specification's official fixtures: ../shared/ocfl-fixtures next to this
repository (or $PROVARCHIVE_OCFL_FIXTURES), never copied into it."""
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


@pytest.fixture
def db_url(request: pytest.FixtureRequest) -> str | None:
    """The catalog URL of this test's archive: None (SQLite in the archive home), or in
    PostgreSQL mode a fresh database holding the migrated, empty catalog schema."""
    if TEST_DB != "postgres":
        return None
    return str(request.getfixturevalue("pg_catalog_url"))


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db_url: str | None) -> None:
    monkeypatch.setenv("PROVARCHIVE_ARCHIVE", str(tmp_path / "archive"))
    monkeypatch.setenv("PROVARCHIVE_SEEDS", str(tmp_path / "seeds"))
    monkeypatch.setenv("PROVARCHIVE_LOCK_TIMEOUT", "30")
    if db_url is None:
        monkeypatch.delenv("PROVARCHIVE_DB_URL", raising=False)
    else:
        monkeypatch.setenv("PROVARCHIVE_DB_URL", db_url)
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
def config(tmp_path: Path, seeds: Path, db_url: str | None) -> ArchiveConfig:
    return ArchiveConfig(root=tmp_path / "archive", seeds=seeds, lock_timeout=30, db_url=db_url)


@pytest.fixture
def archive(config: ArchiveConfig) -> Iterator[Archive]:
    with Archive(config) as a:
        yield a


@pytest.fixture
def seeded_archive(
    archive: Archive, seeded: Path, tmp_path_factory: pytest.TempPathFactory
) -> Archive:
    """An archive holding the seed document."""
    return built_copy("seeded", archive, lambda a, _seeds: a.ingest(), tmp_path_factory)


_BUILT: dict[str, Path] = {}
"""Archives built once per test process, by key: the folder holding archive/ and seeds/."""


def built_copy(
    key: str,
    archive: Archive,
    build: Callable[[Archive, Path], object],
    factory: pytest.TempPathFactory,
) -> Archive:
    """``archive`` as ``build(archive, seeds)`` leaves it, built by the real commands once
    per test process and copied for each test after (an ingest is ~0.5 s, a copy ~10 ms).

    The copy is byte for byte (an archive holds no absolute path: its seeds folder is
    ``../seeds``); the seeds files get new inodes, so the stat cache hashes them again,
    as after a restore from backup. Built in place, as before, when the test's archive
    already exists, its seeds folder is elsewhere, or the catalog is on PostgreSQL."""
    cfg = archive.config
    if cfg.db_url is not None or cfg.root.exists() or cfg.seeds != cfg.root.parent / "seeds":
        build(archive, cfg.seeds)
        return archive
    base = _BUILT.get(key)
    if base is None:
        base = factory.mktemp(f"built-{key}")
        shutil.copytree(cfg.seeds, base / "seeds", symlinks=True)
        template = ArchiveConfig(root=base / "archive", seeds=base / "seeds", lock_timeout=30)
        with Archive(template) as a:
            build(a, base / "seeds")
        _BUILT[key] = base
    shutil.copytree(base / "archive", cfg.root, symlinks=True)
    shutil.copytree(base / "seeds", cfg.seeds, symlinks=True, dirs_exist_ok=True)
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


def wait_until(predicate: Callable[[], object], timeout: float = 120) -> None:
    """Poll ``predicate`` until it is true; fail the test after ``timeout`` seconds."""
    import time

    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def ocfl_py_validate(root: Path) -> tuple[bool, list[str]]:
    """ocfl-py's storage-root validator through its API: (valid, messages logged)."""
    import ocfl

    store = ocfl.StorageRoot(root=str(root))
    ok = store.validate(log_warnings=True, log_errors=False)
    messages = list(store.log.messages) if store.log else []
    messages += [detail for _path, detail in store.errors]
    return ok and store.good_objects == store.num_objects, messages
