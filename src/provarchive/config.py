"""Where an archive lives and how it is opened.

Contract: :class:`ArchiveConfig` is a frozen value describing one archive home;
every other module derives its paths from it and nothing reads the environment
except :func:`ArchiveConfig.from_env`. The catalog URL is free (any SQLAlchemy
URL); only the default points at a SQLite file inside the archive home.

Layout of an archive home (also described in ``archive/README.md``)::

    provarchive.json  what the archive is, and which catalog file is live
    ocfl/             OCFL 1.1 storage root (the truth: raw bytes + inventories)
    catalog*.sqlite   SQLAlchemy catalog (derived from ocfl/, rebuildable)
    index/            search index (derived from the catalog, rebuildable)
    staging/          work area for writes in progress (never inside ocfl/)
    writer.lock       the writer lock (readers never take it), and writer.lock.setup
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .meta import __version__

DEFAULT_ARCHIVE = Path("archive")
DEFAULT_SEEDS = Path("seeds")
DEFAULT_LOCK_TIMEOUT = 600.0
MAX_AGENT = 1024
"""Characters at most of the agent a transparency-log leaf names (:func:`agent_for`)."""
AGENT = f"provarchive {__version__}"


def _default_user() -> str:
    import getpass  # here, not at module level: every command's start-up pays for imports

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _default_address(user: str) -> str:
    # The local mailbox of the account that ran the command: a real identifier
    # of the agent, as OCFL asks for a mailto: or other URI.
    import socket

    return f"mailto:{user}@{socket.gethostname() or 'localhost'}"


def agent_for(user: dict[str, str] | None) -> str:
    """The agent of a version's log leaf: this program, for the user of its OCFL block."""
    if not user:
        return AGENT
    return f"{AGENT} for {user.get('name', '?')} <{user.get('address', '')}>"


@dataclass(frozen=True)
class ArchiveConfig:
    """Paths and settings of one archive."""

    root: Path = DEFAULT_ARCHIVE
    seeds: Path = DEFAULT_SEEDS
    db_url: str | None = None
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT
    user_name: str = field(default_factory=_default_user)
    user_address: str | None = None
    max_text_bytes: int = 64 * 1024 * 1024
    """Versions larger than this are archived but not cleaned or indexed."""
    cleaner: str = "default"
    """The cleaner new versions are derived with ("default", or "keep-all": no stripping)."""
    signing_key: Path | None = None
    """The checkpoint signing key file (default: ``signing.key`` in the archive home, or
    the key in ``PROVARCHIVE_SIGNING_KEY``)."""
    seeds_given: bool = True
    """The seeds folder was chosen for this run (``--seeds``, the environment, or a
    library caller); False when ``seeds`` is only the default, so the seeds folder the
    archive recorded at its creation is used (see :attr:`Home.seeds`)."""
    seeds_here: bool = False
    """Use (and record) ``seeds`` although the archive recorded another seeds folder."""

    @classmethod
    def from_env(cls, **overrides: object) -> ArchiveConfig:
        """Build a config from ``PROVARCHIVE_*`` variables, then explicit overrides."""
        env = os.environ
        values: dict[str, object] = {}
        if "PROVARCHIVE_ARCHIVE" in env:
            values["root"] = Path(env["PROVARCHIVE_ARCHIVE"])
        if "PROVARCHIVE_SEEDS" in env:
            values["seeds"] = Path(env["PROVARCHIVE_SEEDS"])
        if "PROVARCHIVE_DB_URL" in env:
            values["db_url"] = env["PROVARCHIVE_DB_URL"]
        if "PROVARCHIVE_LOCK_TIMEOUT" in env:
            values["lock_timeout"] = float(env["PROVARCHIVE_LOCK_TIMEOUT"])
        if "PROVARCHIVE_USER" in env:
            values["user_name"] = env["PROVARCHIVE_USER"]
        if "PROVARCHIVE_USER_ADDRESS" in env:
            values["user_address"] = env["PROVARCHIVE_USER_ADDRESS"]
        given = overrides.pop("seeds_given", None)
        values.update({k: v for k, v in overrides.items() if v is not None})
        values["seeds_given"] = (
            bool(given) or "PROVARCHIVE_SEEDS" in env or (given is None and "seeds" in values)
        )
        return cls(**values)  # type: ignore[arg-type]

    @staticmethod
    def discover(start: Path | None = None) -> Path:
        """The archive home for a command run in ``start`` (default: the current folder):
        ``./archive``, else the nearest ``archive`` folder above that holds an archive (as
        git finds its repository), else ``./archive`` (where a new one is made)."""
        here = (start or Path.cwd()).absolute()
        for folder in [here, *here.parents]:
            candidate = folder / DEFAULT_ARCHIVE
            if (candidate / "provarchive.json").is_file() or (candidate / "ocfl").is_dir():
                return candidate if folder != here else DEFAULT_ARCHIVE
        return DEFAULT_ARCHIVE

    @property
    def ocfl_root(self) -> Path:
        return self.root / "ocfl"

    @property
    def staging(self) -> Path:
        return self.root / "staging"

    @property
    def index_dir(self) -> Path:
        return self.root / "index"

    @property
    def key_path(self) -> Path:
        """The archive's own signing key file."""
        return self.root / "signing.key"

    @property
    def lock_path(self) -> Path:
        return self.root / "writer.lock"

    @property
    def user(self) -> dict[str, str]:
        """The OCFL ``user`` block for versions written by this process (UsageError if
        it is too long for a log leaf: refused before anything is written)."""
        from .errors import UsageError

        user = {
            "name": self.user_name,
            "address": self.user_address or _default_address(self.user_name),
        }
        if len(agent := agent_for(user)) > MAX_AGENT:
            raise UsageError(
                f"the user name and address make an agent of {len(agent):,} characters, "
                f"more than the {MAX_AGENT:,} a log entry holds: set a shorter "
                "PROVARCHIVE_USER or PROVARCHIVE_USER_ADDRESS"
            )
        return user
