"""Recovery and catalog sync: making catalog and index agree with the store.

Contract:
- :func:`recover` runs at the start of every writing command, under the writer
  lock: it finishes or discards what a crashed writer left in the store, brings
  the catalog up to the store, derives what was not derived and catches the index
  up; each repair is logged as a ``recovery`` event and returned.
- :func:`sync_state` inserts what the store has and the catalog lacks; the store
  always wins (a differing digest is left for ``verify`` to report).
- :func:`rebuild_catalog` builds a whole new catalog from the store alone, aside
  (a new SQLite file), carrying the event log over, and switches to it with one
  atomic rename of the settings file: a crash at any point leaves the old catalog
  or the new one, never a mix, and never an empty one. A rebuild that cannot read
  the old event log stops instead of dropping it.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from . import ledger
from .catalog import CREATE, Catalog, Document, Session, Version, new_event, queries
from .derivations import derive_missing
from .errors import CatalogError, CorruptArchiveError
from .findings import BAD_CATALOG_VALUE
from .home import Home, default_engine, sqlite_url
from .search.sync import reindex, sync_index
from .seeds import remove_stale_temp_files
from .store import durable
from .store.ocfl import ObjectState
from .store.storage import Repair
from .timestamps import parse as parse_stamp
from .tlog.log import TransparencyLog

log = logging.getLogger(__name__)

CATALOG_BACKUPS = 3
"""Earlier catalog files kept after a rebuild (older ones are removed)."""
BUILDING = "building-"
"""Prefix of a catalog file a rebuild is still writing (removed if the rebuild died)."""


def source_from_message(message: str) -> str:
    """The source recorded in a version message ("ingest SRC" / "add SRC")."""
    for prefix in ("ingest ", "add "):
        if message.startswith(prefix):
            return message[len(prefix) :]
    return message


def sync_state(
    s: Session,
    home: Home,
    state: ObjectState,
    *,
    known_sizes: dict[int, int] | None = None,
    new_document: bool = False,
) -> list[Version]:
    """Insert the versions the store has and the catalog lacks; returns the new rows."""
    doc = None if new_document else queries.document(s, state.name)
    if doc is None:
        doc = Document(
            name=state.name,
            object_id=state.object_id,
            object_path=state.path,
            head=0,
            created_at=parse_stamp(state.versions[0].created),
        )
        s.add(doc)
        existing: set[int] = set()
    else:
        existing = queries.version_numbers(s, doc.id)
    added = []
    for sv in state.versions:
        if sv.number in existing or sv.withdrawn:
            continue  # a withdrawal holds no file: it shows as the document's state
        size = (known_sizes or {}).get(sv.number)
        if size is None:
            try:
                size = (home.store.root / state.path / sv.content_path).stat().st_size
            except OSError:
                size = -1
        version = Version(
            number=sv.number,
            sha256=sv.sha256,
            sha512=sv.sha512,
            size=size,
            source=source_from_message(sv.message),
            message=sv.message,
            user_name=sv.user_name,
            user_address=sv.user_address,
            content_path=sv.content_path,
            ingested_at=parse_stamp(sv.created),
        )
        doc.versions.append(version)
        added.append(version)
    doc.head = max(doc.head, state.head)
    _sync_withdrawn(doc, state)
    return added


def _sync_withdrawn(doc: Document, state: ObjectState) -> None:
    """The withdrawn state is the store's: its head version holds no file, or it does."""
    head = state.versions[-1]
    if not state.withdrawn:
        doc.withdrawn, doc.withdrawn_at, doc.withdrawn_reason = False, None, None
    elif not doc.withdrawn or doc.withdrawn_at is None:
        doc.withdrawn = True
        doc.withdrawn_at = parse_stamp(head.created)
        doc.withdrawn_reason = withdrawal_reason(head.message)


WITHDRAW_PREFIX = "withdraw: "
"""How a withdrawal's version message starts (the reason follows)."""


def withdrawal_reason(message: str) -> str:
    return message[len(WITHDRAW_PREFIX) :] if message.startswith(WITHDRAW_PREFIX) else message


def sync_documents(home: Home, names: Iterable[str]) -> list[tuple[str, int]]:
    """Bring the catalog up to the store for ``names``; returns (name, version) added."""
    added: list[tuple[str, int]] = []
    with home.catalog.session() as s:
        for name in names:
            state = home.store.load(name)
            if state is None:
                continue
            before = queries.document(s, name)
            was_withdrawn = before is not None and before.withdrawn
            for v in sync_state(s, home, state):
                added.append((name, v.number))
                s.add(
                    new_event(
                        "ingestion",
                        f"v{v.number} recorded from the store after an interrupted run",
                        document=name,
                        version=v.number,
                        when=v.ingested_at,
                    )
                )
            if state.withdrawn and not was_withdrawn:
                head = state.versions[-1]
                s.add(
                    new_event(
                        "withdrawal",
                        f"withdrawn at v{head.number}, recorded from the store after an "
                        f"interrupted run: {withdrawal_reason(head.message)}",
                        document=name,
                        version=head.number,
                        when=parse_stamp(head.created),
                    )
                )
    return added


def rebuild_needed(home: Home) -> bool:
    """True when the catalog holds no document but the store does (catalog lost)."""
    with home.catalog.session() as s:
        count = queries.count_documents(s)
    return count == 0 and home.store.has_objects()


def log_repairs(home: Home, repairs: Sequence[Repair]) -> None:
    if not repairs:
        return
    with home.catalog.session() as s:
        for r in repairs:
            s.add(new_event("recovery", f"{r.action}: {r.detail}", document=r.name))
    for r in repairs:
        log.info("recovered: %s %s %s", r.action, r.name or "", r.detail)


def _catalog_completed(home: Home, touched: set[str]) -> list[Repair]:
    """The catalog brought up to the store for ``touched`` documents, as repairs."""
    return [
        Repair("catalog-completed", name, f"v{number} recorded from the store")
        for name, number in sync_documents(home, sorted(touched))
    ]


def _derivations_completed(home: Home) -> list[Repair]:
    """A derivation for every catalogued version without one, as repairs."""
    with home.catalog.session() as s:
        made = derive_missing(home, s, reason="recovery")
    return [Repair("derivation-completed", name, f"v{number} cleaned") for name, number in made]


def recover_dead(home: Home, tl: TransparencyLog) -> list[Repair]:
    """What a shared writer does each time it has the log to itself (its ``on_open``):
    finish or discard the batches of writers that died while others worked (theirs
    only: live writers' batches are locked), keep their log leaves exactly when the
    store holds the versions, and bring the catalog up to the store for the documents
    they touched. Each repair is logged as an event; returns them."""
    ledger.wait_for_committer(home, tl)
    store_repairs, touched = home.store.recover(alone=False)
    repairs = [*store_repairs, *ledger.recover_log(home, tl)]
    if touched:
        repairs += _catalog_completed(home, touched) + _derivations_completed(home)
        sync_index(home)  # in the log's turn: no other writer indexes the same versions
    log_repairs(home, repairs)
    return repairs


def recover(
    home: Home, store_repairs: Sequence[Repair], touched: set[str], before: Sequence[Repair] = ()
) -> list[Repair]:
    """Bring catalog and index up to the store, after :meth:`Store.recover` (whose
    repairs and touched names are given) and the transparency log's recovery (``before``);
    every repair is logged as an event. Writers only."""
    home.require_writer()
    repairs = [*store_repairs, *before]
    for name in remove_stale_temp_files(home.seeds):
        repairs.append(Repair("seeds-temp-removed", None, f"half-copied {name} removed"))
    if rebuild_needed(home):
        count = rebuild_catalog(home)
        repairs.append(
            Repair(
                "catalog-rebuilt",
                None,
                f"catalog was empty; {count} document(s) restored from the store",
            )
        )
    elif touched:
        repairs += _catalog_completed(home, touched)
    repairs += _derivations_completed(home)
    synced = sync_index(home)
    if synced.recreated:
        repairs.append(Repair("index-recreated", None, f"the index was {synced.recreated}"))
    elif synced.versions:
        repairs.append(Repair("index-caught-up", None, f"{synced.versions} version(s) indexed"))
    removed = home.fresh_engine().tidy()
    if removed:
        repairs.append(
            Repair("index-cleaned", None, f"left-over index data removed: {', '.join(removed[:5])}")
        )
    for name in prune_catalogs(home, interrupted_only=True):
        repairs.append(Repair("catalog-cleaned", None, f"unfinished rebuild {name} removed"))
    log_repairs(home, repairs)
    return repairs


# -- rebuild --------------------------------------------------------------------------------------


def _old_events(home: Home) -> list[dict[str, Any]]:
    """The event log of the live catalog; [] if there is no catalog at all.

    A catalog that exists but cannot be read stops the rebuild: the event log is the
    one thing the store cannot give back."""
    path = None if home.config.db_url else home.catalog_path
    if path is not None and (not path.exists() or home.settings.engine == "postgres"):
        # No catalog file, or one left from before the archive moved to PostgreSQL.
        return ledger.logged_events(home)
    try:
        catalog = home.catalog
        if catalog.schema_status()[0] is None:
            return ledger.logged_events(home)
        with catalog.session() as s:
            return queries.event_rows(s)
    except (CatalogError, *BAD_CATALOG_VALUE) as exc:
        raise CatalogError(
            f"cannot read the event log of the current catalog ({exc}); rebuild stopped so "
            "that no event is lost. Move the catalog file away to rebuild without its events."
        ) from exc


def _fill(
    home: Home,
    catalog: Catalog,
    events: list[dict[str, Any]],
    repairs: Sequence[Repair],
    jobs: int = 1,
) -> int:
    """Write a complete catalog from the store into ``catalog`` (one transaction)."""
    count = 0
    problems: list[str] = []
    with catalog.session() as s:
        queries.insert_events(s, events)
        foreign: list[str] = []
        for directory in home.store.iter_object_dirs():
            try:
                state = home.store.load_dir(directory)
            except CorruptArchiveError as exc:
                object_id = home.store.foreign_id(directory)
                if object_id is not None:
                    foreign.append(f"{object_id} at {directory.relative_to(home.store.root)}")
                else:
                    problems.append(str(exc))
                continue
            if state is None:
                continue
            sync_state(s, home, state)
            count += 1
        detail = f"catalog rebuilt from the store: {count} document(s)"
        if problems:
            detail += f"; {len(problems)} object(s) unreadable: " + "; ".join(problems[:5])
        if foreign:
            detail += f"; {len(foreign)} foreign object(s) not imported: " + "; ".join(foreign)
        for r in repairs:
            s.add(new_event("recovery", f"{r.action}: {r.detail}", document=r.name))
        s.flush()
        derived = derive_missing(home, s, reason="rebuild", jobs=jobs)
        detail += f"; {len(derived)} version(s) cleaned again"
        s.add(new_event("rebuild", detail, outcome="success" if not problems else "warning"))
    return count


def rebuild_catalog(home: Home, *, repairs: Sequence[Repair] = (), jobs: int = 1) -> int:
    """Recreate the catalog (then the index) from the OCFL store alone; returns the
    number of documents (``jobs`` > 1 cleans in worker processes). See the module
    docstring for what makes it atomic."""
    home.require_writer()
    events = _old_events(home)
    if home.config.db_url is not None:
        # A server catalog: drop and recreate (PostgreSQL runs it as one transaction).
        home.catalog.drop_everything()
        home.catalog.migrate()
        count = _fill(home, home.catalog, events, repairs, jobs)
    else:
        count = _rebuild_sqlite(home, events, repairs, jobs)
    _engine_for_catalog(home)
    reindex(home)
    return count


def _engine_for_catalog(home: Home) -> None:
    """A rebuild moves the index with the catalog: into the PostgreSQL database when the
    catalog is built there, back into the Whoosh folder when it is built in SQLite."""
    engine = default_engine(home.config.db_url)
    if home.settings.engine != engine:
        home.save_settings(engine=engine)


def _rebuild_sqlite(
    home: Home, events: list[dict[str, Any]], repairs: Sequence[Repair], jobs: int
) -> int:
    root = home.config.root
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    new_name = f"catalog-{stamp}-{uuid.uuid4().hex[:8]}.sqlite"
    building = root / f"{BUILDING}{new_name}"
    catalog = Catalog(sqlite_url(building), mode=CREATE)
    try:
        catalog.migrate()
        count = _fill(home, catalog, events, repairs, jobs)
        catalog.checkpoint_wal()  # one self-contained file: no -wal beside it when it goes live
    except BaseException:
        catalog.close()
        remove_catalog_files(building)
        raise
    catalog.close()
    durable.sync_file(building)
    os.replace(building, root / new_name)
    home.save_settings(catalog=new_name)  # the switch: one atomic rename
    prune_catalogs(home)
    return count


def remove_catalog_files(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(str(path) + suffix).unlink(missing_ok=True)


def prune_catalogs(home: Home, *, interrupted_only: bool = False) -> list[str]:
    """Remove what an interrupted rebuild left and, unless ``interrupted_only``, catalog
    files beyond the last :data:`CATALOG_BACKUPS` earlier ones (writers only)."""
    home.require_writer()
    if home.config.db_url is not None:
        return []
    root = home.config.root
    removed = []
    for path in sorted(root.glob(f"{BUILDING}catalog*.sqlite")):
        remove_catalog_files(path)
        removed.append(path.name)
    if interrupted_only:
        return removed
    live = home.settings.catalog
    earlier = sorted(
        (p for p in root.glob("catalog*.sqlite") if p.name != live),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for path in earlier[CATALOG_BACKUPS:]:
        remove_catalog_files(path)
        removed.append(path.name)
    return removed
