"""The open parts of one archive home: store, catalog, search engine, and its settings file.

Contract:
- :class:`Home` is what every service (ingest, recovery, verify, ...) works on.
  It opens the catalog and the search engine lazily, never takes a lock and never
  repairs anything: :class:`provarchive.archive.Archive` does that around it.
- ``provarchive.json`` in the archive home records what the archive is (format,
  search engine) and which catalog file is live. It is replaced atomically, so a
  ``rebuild`` can build a new catalog file aside and switch to it in one rename;
  until then every reader keeps the old one. A home without the file is a
  pre-settings archive whose catalog is ``catalog.sqlite``.
- A home is opened for reading (readers never create or change anything; on an
  archive the user cannot write, SQLite is opened read-only) or, by
  :meth:`Archive.writer`, for writing.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from .config import ArchiveConfig
from .digests import hash_bytes, hash_stream, load_json
from .errors import (
    CorruptArchiveError,
    DocumentNotFoundError,
    UsageError,
    VersionNotFoundError,
    WithdrawnError,
)
from .search.engine import ENGINES, SearchEngine
from .store import durable
from .store.ocfl import ObjectState
from .store.storage import Store

if TYPE_CHECKING:
    from .catalog import Catalog

SETTINGS = "provarchive.json"
VERIFY_IN_MEMORY = 64 * 1024 * 1024
"""``cat`` checks a file up to this size in memory before writing any of it."""
SETTINGS_FORMAT = 1
DEFAULT_CATALOG = "catalog.sqlite"


@dataclass(frozen=True)
class Settings:
    """What ``provarchive.json`` records."""

    format: int = SETTINGS_FORMAT
    catalog: str = DEFAULT_CATALOG
    """File name of the live SQLite catalog, inside the archive home."""
    engine: str = ENGINES[0]
    origin: str | None = None
    """The transparency log's origin (the name its checkpoints are signed under)."""
    seeds: str | None = None
    """The seeds folder, relative to the archive home when they share a tree."""
    verifier_key: str | None = None
    """The public key that signs the archive's checkpoints (note verifier-key format)."""

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "format": self.format,
            "catalog": self.catalog,
            "engine": self.engine,
        }
        if self.origin:
            data["origin"] = self.origin
        if self.verifier_key:
            data["verifier_key"] = self.verifier_key
        if self.seeds:
            data["seeds"] = self.seeds
        return data


def read_settings(root: Path) -> Settings | None:
    """The settings of the archive at ``root``, or None if it has no settings file."""
    try:
        data = load_json((root / SETTINGS).read_bytes())
    except FileNotFoundError:
        return None
    except NotADirectoryError as exc:  # a path through a file: a usage error, said so
        require_folder(root)
        raise CorruptArchiveError(root / SETTINGS, f"unreadable settings ({exc})") from exc
    except (OSError, ValueError) as exc:
        raise CorruptArchiveError(root / SETTINGS, f"unreadable settings ({exc})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("catalog", ""), str):
        raise CorruptArchiveError(root / SETTINGS, "not a provarchive settings file")
    fmt = data.get("format", SETTINGS_FORMAT)
    if isinstance(fmt, bool) or not isinstance(fmt, int):
        raise CorruptArchiveError(root / SETTINGS, f"format {fmt!r} is not a number")
    for key in ("engine", "origin", "verifier_key", "seeds"):
        if not isinstance(data.get(key), str | None):
            raise CorruptArchiveError(root / SETTINGS, f"{key} {data[key]!r} is not text")
    catalog = data.get("catalog", DEFAULT_CATALOG)
    if "/" in catalog or catalog.startswith("."):
        raise CorruptArchiveError(root / SETTINGS, f"catalog file {catalog!r} is not a file name")
    return Settings(
        format=fmt,
        catalog=catalog,
        engine=str(data.get("engine", ENGINES[0])),
        origin=data.get("origin"),
        verifier_key=data.get("verifier_key"),
        seeds=data.get("seeds"),
    )


def write_settings(root: Path, staging: Path, settings: Settings) -> None:
    data = (json.dumps(settings.to_json(), indent=2, sort_keys=True) + "\n").encode()
    durable.make_dirs(staging)
    durable.atomic_write(root / SETTINGS, data, staging)


_LOCK_FILES = ("writer.lock", "writer.lock.holder", "writer.lock.setup", "writer.lock.shared")


def require_folder(root: Path) -> None:
    """A ``root`` that is there but is not a folder, or whose path goes through a file,
    is a wrong ``--archive``, not damage: a :class:`UsageError` (exit 2) that says so."""
    if root.is_dir():
        return
    if root.exists():
        raise UsageError(f"{root} is a file, not an archive folder; give --archive a folder")
    if any(p.exists() and not p.is_dir() for p in root.parents):
        raise UsageError(f"{root}: a part of this path is a file; give --archive a folder")


def foreign_entry(root: Path) -> Path | None:
    """Something in ``root`` that shows it is not an archive home (None: missing, empty,
    an archive, or what a first run that died at once leaves: its lock file). The archive
    never writes into, and so never deletes from, a folder that holds anything else."""
    if not root.exists():
        return None
    if not root.is_dir():
        return root
    if _is_home(root):
        return None
    for entry in sorted(root.iterdir()):
        if entry.name not in _LOCK_FILES and not _first_staging(entry):
            # A first run writes its settings before anything else: an entry that appeared
            # since the check above means the settings are there now (a concurrent first
            # run), not that the folder is foreign.
            return None if _is_home(root) else entry
    return None


def _is_home(root: Path) -> bool:
    return (root / SETTINGS).is_file() or (root / "ocfl" / "0=ocfl_1.1").is_file()


_TEMP_NAME = re.compile(r"[^/]+-[0-9a-f]{32}")


def _first_staging(entry: Path) -> bool:
    """The staging folder of a first run, before (or while) it writes the settings file:
    nothing in it but the temporary files the archive names (another writer waiting for
    the lock must not take a new archive being created for a foreign folder)."""
    if entry.name != "staging" or entry.is_symlink() or not entry.is_dir():
        return False
    try:
        names = os.listdir(entry)  # names only: a file renamed away meanwhile is fine
    except OSError:
        return False
    return all(_TEMP_NAME.fullmatch(name) for name in names)


def open_engine(name: str, location: Path | str | Catalog) -> SearchEngine:
    """The search engine called ``name`` (see :data:`~provarchive.search.engine.ENGINES`):
    ``location`` is the index folder for Whoosh, the catalog (or its URL) for PostgreSQL."""
    if name == "whoosh":
        from .search.whoosh_engine import WhooshEngine

        assert isinstance(location, Path)
        return WhooshEngine(location)
    if name == "postgres":
        from .catalog.postgres_search import PostgresEngine

        return PostgresEngine(location if not isinstance(location, Path) else str(location))
    raise UsageError(f"unknown search engine {name!r} (known: {', '.join(ENGINES)})")


class Home:
    """One archive home, opened for reading or (under the writer lock) for writing."""

    def __init__(self, config: ArchiveConfig) -> None:
        self.config = config
        self.store = Store(config.ocfl_root, config.staging)
        self.writing = False
        self._settings: Settings | None = None
        self._catalog: Catalog | None = None
        self._engine: SearchEngine | None = None

    # -- settings and locations ------------------------------------------------------------

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = read_settings(self.config.root) or Settings()
        return self._settings

    def create_settings(self) -> None:
        """Write the settings file of a new archive home (its first file after the lock)."""
        write_settings(
            self.config.root,
            self.config.staging,
            Settings(seeds=self.seeds_to_record(), engine=default_engine(self.config.db_url)),
        )
        self._settings = None

    def save_settings(self, **changes: Any) -> None:
        """Record new settings (writers only); the next catalog/engine opened uses them."""
        self.require_writer()
        settings = replace(self.settings, **changes)
        write_settings(self.config.root, self.config.staging, settings)
        self.close()
        self._settings = settings

    @property
    def seeds(self) -> Path:
        """The seeds folder: the one recorded for this archive, unless this run chose
        another with ``seeds_here`` (a different one without it is a usage error: a run in
        the wrong folder must not archive another project's files)."""
        given = self.config.seeds
        recorded = self.settings.seeds
        if recorded is None:
            return given
        path = Path(os.path.normpath(self.config.root / recorded))
        if not self.config.seeds_given:
            return path
        if _same_folder(path, given) or self.config.seeds_here:
            return given
        raise UsageError(
            f"this archive's seeds folder is {path}, not {given}; run where the seeds are, "
            "or pass --seeds-here to use (and record) the new folder"
        )

    def seeds_to_record(self) -> str | None:
        """What to record as the seeds folder, if it is not recorded yet or moves."""
        recorded = self.settings.seeds
        if recorded is not None and not self.config.seeds_here:
            return None
        seeds = self.config.seeds.absolute()
        root = self.config.root.absolute()
        common = os.path.commonpath([seeds, root])
        value = os.path.relpath(seeds, root) if common != os.sep else str(seeds)
        return None if value == recorded else value

    @property
    def catalog_path(self) -> Path:
        """The live SQLite catalog file (for the default catalog URL)."""
        return self.config.root / self.settings.catalog

    @property
    def catalog_url(self) -> str:
        if self.config.db_url:
            return self.config.db_url
        return sqlite_url(self.catalog_path)

    def read_only(self) -> bool:
        """True when this process cannot write the archive home (read-only media, or
        another user's archive): readers then open everything read-only."""
        if self.writing:
            return False
        root = self.config.root
        if not os.access(root, os.W_OK):
            return True
        return self.config.db_url is None and (
            self.catalog_path.exists() and not os.access(self.catalog_path, os.W_OK)
        )

    # -- parts -------------------------------------------------------------------------------

    @property
    def catalog(self) -> Catalog:
        """The catalog; only a writer may create a missing database."""
        if self._catalog is None:
            self._require_server()
            # Here, not at module level: commands that never open the catalog (verify
            # --fixity, validate) do not pay for SQLAlchemy (#14).
            from .catalog import CREATE, READ_ONLY, READ_WRITE, Catalog

            mode = CREATE if self.writing else READ_ONLY if self.read_only() else READ_WRITE
            busy = max(self.config.lock_timeout, 1.0)  # as for the writer lock
            self._catalog = Catalog(self.catalog_url, mode=mode, busy_timeout=busy)
        return self._catalog

    def _require_server(self) -> None:
        """An archive whose index is in PostgreSQL has its catalog there too: without its
        URL a command would open (or create) a SQLite catalog beside it and log into the
        archive's transparency log from there."""
        if self.settings.engine == "postgres" and not is_postgres_url(self.catalog_url):
            raise UsageError(
                "this archive's catalog and search index are on PostgreSQL: give its "
                "--db-url (or PROVARCHIVE_DB_URL)"
            )

    @property
    def engine(self) -> SearchEngine:
        """The long-lived search engine handle (searches reuse its open reader)."""
        if self._engine is None:
            self._engine = self.fresh_engine()
        return self._engine

    def fresh_engine(self) -> SearchEngine:
        """A new handle: writers and audits look at the index as it is on disk now.
        The PostgreSQL engine lives in the catalog's database (and shares its pool)."""
        name = self.settings.engine
        if name != "postgres":
            return open_engine(name, self.config.index_dir)
        return open_engine(name, self.catalog)

    def begin_writing(self) -> None:
        """Reopen everything for writing (called by the writer, under the lock)."""
        self.close()
        self._settings = None
        self.writing = True

    def end_writing(self) -> None:
        self.store.release_batches()
        self.close()
        self.writing = False

    def require_writer(self) -> None:
        if not self.writing:
            raise UsageError(
                "this operation changes the archive; call it through Archive (which takes "
                "the writer lock)"
            )

    def close(self) -> None:
        if self._catalog is not None:
            self._catalog.close()
            self._catalog = None
        if self._engine is not None:
            self._engine.close()
            self._engine = None

    # -- stored bytes --------------------------------------------------------------------------

    def _stored_version(
        self, name: str, number: int | None, state: ObjectState | None = None
    ) -> tuple[ObjectState, int]:
        """The committed state of a document (``state``, if the caller has just loaded it)
        and the number of a version holding a file."""
        state = state if state is not None else self.store.load(name)
        if state is None:
            raise DocumentNotFoundError(name)
        number = state.head if number is None else number
        if not 1 <= number <= state.head:
            raise VersionNotFoundError(name, number, state.head)
        if state.version(number).withdrawn:
            last = state.last_file(number)
            raise WithdrawnError(name, number, last.number if last else None)
        return state, number

    def content_path(
        self, name: str, number: int | None = None, state: ObjectState | None = None
    ) -> Path:
        """Where the raw bytes of a version are in the store (read from the committed
        inventory, or from ``state``, the object's state the caller has just loaded)."""
        state, number = self._stored_version(name, number, state)
        return self.store.content_file(state, number)

    def copy_verified(
        self, name: str, number: int | None, sink: IO[bytes], *, force: bool = False
    ) -> int:
        """Write a version's raw bytes to ``sink`` only once they are proven to be the
        archived ones (sha512 and sha256 against the committed inventory); returns the size.

        Small files are read once and checked before any byte is written; a file over
        :data:`VERIFY_IN_MEMORY` is hashed in a first pass and streamed in a second, checked
        again (a change between the passes stops the copy). With ``force`` damaged bytes
        are written all the same, and the damage is still raised afterwards."""
        state, number = self._stored_version(name, number)
        sv = state.version(number)
        path = self.store.content_file(state, number)
        expected = (sv.sha512, sv.sha256)
        outcome = "its damaged bytes were written (--force)" if force else "nothing was written"
        damaged = CorruptArchiveError(
            path, f"{name} v{number} does not match its recorded digests; {outcome}"
        )
        try:
            if path.stat().st_size <= VERIFY_IN_MEMORY:
                data = self._read_stored(path)
                got = hash_bytes(data)
                ok = (got.sha512, got.sha256) == expected
                if ok or force:
                    sink.write(data)
                if not ok:
                    raise damaged
                return got.size
            with self._open_stored(path) as fh:
                first = hash_stream(fh)
            if (first.sha512, first.sha256) != expected and not force:
                raise damaged
            with self._open_stored(path) as fh:
                second = hash_stream(fh, sink=sink)
        except OSError as exc:
            raise CorruptArchiveError(path, durable.describe_os_error(exc)) from exc
        if (second.sha512, second.sha256) != expected:
            raise CorruptArchiveError(path, f"{name} v{number} does not match its recorded digests")
        return second.size

    def read_bytes(
        self, name: str, number: int | None = None, state: ObjectState | None = None
    ) -> bytes:
        path = self.content_path(name, number, state)
        try:
            return self._read_stored(path)
        except OSError as exc:
            raise CorruptArchiveError(path, durable.describe_os_error(exc)) from exc

    def _open_stored(self, path: Path) -> IO[bytes]:
        """Open a file of the store without following any symbolic link on the way, so
        that no link (or hostile path) inside the storage root leads outside it."""
        from .store.validation import open_contained

        root = self.store.root
        return open_contained(root, path.relative_to(root).as_posix())

    def _read_stored(self, path: Path) -> bytes:
        with self._open_stored(path) as fh:
            return fh.read()


def _same_folder(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path.absolute()}"


def is_postgres_url(url: str | None) -> bool:
    """True for a PostgreSQL catalog URL (``postgresql+psycopg://...``)."""
    return bool(url) and str(url).split(":", 1)[0].split("+", 1)[0] in ("postgresql", "postgres")


def default_engine(db_url: str | None) -> str:
    """The search engine of a new archive: in the catalog's database when that is
    PostgreSQL (indexed in the catalog's transactions), else the embedded Whoosh index."""
    return "postgres" if is_postgres_url(db_url) else ENGINES[0]
