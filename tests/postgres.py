"""pytest plugin: a throw-away PostgreSQL server for the tests of the server mode.

One server per test session (``initdb`` + ``pg_ctl`` on a Unix socket in a temp
directory, no TCP), a fresh database per test (``CREATE DATABASE ... TEMPLATE``),
stopped and removed at the end of the session. PostgreSQL refuses to run as root,
so under root the server runs as ``nobody`` (through ``setpriv``) in a directory
owned by it.

The binaries are found under ``/usr/lib/postgresql/*/bin`` (newest version first),
or in ``$PROVARCHIVE_PG_BIN``. Without them the fixtures FAIL with a message
saying how to install them (``scripts/test`` does it when it runs as root), unless
``PROVARCHIVE_SKIP_POSTGRES=1`` asks explicitly to skip these tests.

Fixtures: ``pg_server`` (session), ``pg_url`` (an empty database),
``pg_catalog_url`` (a database with the catalog schema migrated; it is copied from
a template migrated once per session).
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import pwd
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SKIP_ENV = "PROVARCHIVE_SKIP_POSTGRES"
BIN_ENV = "PROVARCHIVE_PG_BIN"
SUPERUSER = "postgres"
CATALOG_TEMPLATE = "provarchive_catalog_template"
_counter = itertools.count(1)


def pg_bin_dir() -> Path | None:
    """The directory of the newest installed PostgreSQL server binaries, or None."""
    explicit = os.environ.get(BIN_ENV)
    candidates = [explicit] if explicit else []

    def version(path: str) -> tuple[int, ...]:
        found = re.search(r"postgresql/([0-9.]+)/bin", path)
        return tuple(int(x) for x in found.group(1).split(".")) if found else (0,)

    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True)
    for c in candidates:
        path = Path(c)
        if all(os.access(path / tool, os.X_OK) for tool in ("initdb", "pg_ctl", "postgres")):
            return path
    return None


def pg_available() -> bool:
    """True if a PostgreSQL server can be started for the tests."""
    return pg_bin_dir() is not None


def _require_binaries() -> Path:
    bin_dir = pg_bin_dir()
    if bin_dir is not None:
        return bin_dir
    message = (
        "PostgreSQL server binaries not found (looked in $PROVARCHIVE_PG_BIN and "
        "/usr/lib/postgresql/*/bin). Install them with 'apt-get install postgresql "
        "postgresql-contrib' (scripts/test does so when run as root), or set "
        f"{SKIP_ENV}=1 to skip the PostgreSQL tests explicitly."
    )
    if os.environ.get(SKIP_ENV) == "1":
        pytest.skip(f"{SKIP_ENV}=1: {message}")
    pytest.fail(message, pytrace=False)


@dataclass(frozen=True)
class PgServer:
    """A running throw-away server."""

    bin_dir: Path
    root: Path
    socket_dir: Path

    def url(self, database: str, user: str = SUPERUSER) -> str:
        """SQLAlchemy URL (psycopg 3) of ``database`` on this server."""
        return f"postgresql+psycopg://{user}@/{database}?host={self.socket_dir}"

    def conninfo(self, database: str = "postgres", user: str = SUPERUSER) -> str:
        return f"host={self.socket_dir} dbname={database} user={user}"

    def execute(self, *statements: str, database: str = "postgres") -> None:
        """Run statements in autocommit mode (CREATE/DROP DATABASE need it)."""
        import psycopg

        with psycopg.connect(self.conninfo(database), autocommit=True) as conn:
            for statement in statements:
                conn.execute(statement)  # type: ignore[arg-type]

    def create_database(self, template: str = "template0") -> str:
        name = f"t{os.getpid()}_{next(_counter)}"
        self.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return name

    def drop_database(self, name: str) -> None:
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _as_server_user(args: list[str]) -> list[str]:
    """The command run as the unprivileged ``nobody`` when we are root."""
    if os.geteuid() != 0:
        return args
    nobody = pwd.getpwnam("nobody")
    return [
        "setpriv", f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}", "--clear-groups",
        "--", *args,
    ]  # fmt: skip


def _run(args: list[str], log: Path) -> None:
    with open(log, "ab") as out:
        done = subprocess.run(
            _as_server_user(args), stdout=out, stderr=subprocess.STDOUT, cwd=log.parent
        )
    if done.returncode != 0:
        tail = log.read_text(errors="replace")[-3000:]
        pytest.fail(f"{' '.join(args)} failed (exit {done.returncode}):\n{tail}", pytrace=False)


SERVER_SETTINGS = {
    # A throw-away server: durability buys nothing here, and tests get faster.
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "listen_addresses": "''",
    "max_connections": "200",
    "shared_buffers": "128MB",
    "log_min_messages": "warning",
}


def start_server(root: Path, bin_dir: Path, settings: dict[str, str] | None = None) -> PgServer:
    """initdb a cluster under ``root`` and start it on a Unix socket there."""
    data, sockets, log = root / "data", root / "socket", root / "server.log"
    sockets.mkdir()
    log.touch()
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        for path in (root, sockets, log):
            os.chown(path, nobody.pw_uid, nobody.pw_gid)
    _run(
        [str(bin_dir / "initdb"), "-D", str(data), "-U", SUPERUSER, "--auth=trust",
         "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"],
        log,
    )  # fmt: skip
    conf = {**SERVER_SETTINGS, "unix_socket_directories": f"'{sockets}'", **(settings or {})}
    with open(data / "postgresql.conf", "a") as fh:
        fh.writelines(f"{key} = {value}\n" for key, value in conf.items())
    _run([str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "start"], log)
    return PgServer(bin_dir, root, sockets)


def stop_server(server: PgServer) -> None:
    data = server.root / "data"
    with contextlib.suppress(Exception):
        subprocess.run(
            _as_server_user([str(server.bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast",
                             "-w", "stop"]),
            capture_output=True,
            timeout=60,
        )  # fmt: skip
    shutil.rmtree(server.root, ignore_errors=True)


@contextlib.contextmanager
def running_server(settings: dict[str, str] | None = None) -> Iterator[PgServer]:
    """A server for the duration of the block (also used by scripts/bench_postgres.py)."""
    bin_dir = _require_binaries()
    # Not under pytest's temp root: that is private to root, and nobody must reach it.
    root = Path(tempfile.mkdtemp(prefix="provarchive-pg-"))
    try:
        server = start_server(root, bin_dir, settings)
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    try:
        yield server
    finally:
        stop_server(server)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    with running_server() as server:
        yield server


@pytest.fixture
def pg_url(pg_server: PgServer) -> Iterator[str]:
    """URL of a fresh, empty database (dropped after the test)."""
    name = pg_server.create_database()
    yield pg_server.url(name)
    pg_server.drop_database(name)


@pytest.fixture(scope="session")
def _pg_catalog_template(pg_server: PgServer) -> str:
    from provarchive.catalog import Catalog

    pg_server.execute(f'CREATE DATABASE "{CATALOG_TEMPLATE}" TEMPLATE template0')
    catalog = Catalog(pg_server.url(CATALOG_TEMPLATE))
    try:
        catalog.migrate()
    finally:
        catalog.close()
    return CATALOG_TEMPLATE


@pytest.fixture
def pg_catalog_url(pg_server: PgServer, _pg_catalog_template: str) -> Iterator[str]:
    """URL of a fresh database holding the migrated, empty catalog schema."""
    name = pg_server.create_database(template=_pg_catalog_template)
    yield pg_server.url(name)
    pg_server.drop_database(name)
