"""Every query the archive runs against its catalog, as functions of an open session.

Contract: the rest of the package never builds SQL. It calls these functions
inside ``with catalog.session() as s:`` (one transaction), reads the ORM objects
or plain tuples they return, and may add new model objects with ``s.add``. The
functions use portable SQLAlchemy Core/ORM constructs only, so they run on
SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import case, func, insert, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from .database import copy_rows
from .models import (
    DerivationRecord,
    Document,
    Event,
    PassageRecord,
    RemovalRecord,
    SeedStat,
    Version,
    key_of,
)

_IN_CHUNK = 500
"""Bound parameters per IN (...) list: SQLite allows 32766, but plans stay small."""


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), _IN_CHUNK):
        yield values[start : start + _IN_CHUNK]


# -- documents and versions ------------------------------------------------------------------


def document(s: Session, name: str) -> Document | None:
    return s.scalars(select(Document).where(Document.name_key == key_of(name))).one_or_none()


def documents(s: Session) -> list[Document]:
    return list(s.scalars(select(Document).order_by(Document.name)))


def document_names(s: Session, names: Iterable[str]) -> set[str]:
    """Which of ``names`` the catalog holds."""
    found: set[str] = set()
    keys = [key_of(n) for n in names]
    for chunk in _chunks(keys):
        found.update(s.scalars(select(Document.name).where(Document.name_key.in_(chunk))))
    return found


def count_documents(s: Session) -> int:
    return s.scalar(select(func.count()).select_from(Document)) or 0


def versions_of(s: Session, name: str) -> list[Version]:
    return list(
        s.scalars(
            select(Version)
            .join(Document)
            .where(Document.name_key == key_of(name))
            .order_by(Version.number)
        )
    )


def version(s: Session, name: str, number: int) -> Version | None:
    return s.scalars(
        select(Version)
        .join(Document)
        .where(Document.name_key == key_of(name), Version.number == number)
    ).one_or_none()


def version_numbers(s: Session, document_id: int) -> set[int]:
    return set(s.scalars(select(Version.number).where(Version.document_id == document_id)))


def head_digests(s: Session) -> dict[str, tuple[int, str]]:
    """name -> (head version number, its sha512), for every document."""
    return {
        name: (number, sha512)
        for name, number, sha512 in s.execute(
            select(Document.name, Version.number, Version.sha512)
            .join(Version, Version.document_id == Document.id)
            .where(Version.number == Document.head)
        )
    }


def version_rows(s: Session) -> list[tuple[Any, ...]]:
    """(name, number, sha256, sha512, size, content path, message, user name, user
    address, time stored, the document's withdrawn flag) of every version; a document without
    versions gives one row with number None (for verify's cross-check)."""
    return [
        tuple(row)
        for row in s.execute(
            select(
                Document.name,
                Version.number,
                Version.sha256,
                Version.sha512,
                Version.size,
                Version.content_path,
                Version.message,
                Version.user_name,
                Version.user_address,
                Version.ingested_at,
                Document.withdrawn,
            )
            .join(Version, Version.document_id == Document.id, isouter=True)
            .order_by(Document.name, Version.number)
        )
    ]


def versions_named(s: Session, names: Iterable[str] | None) -> list[tuple[Version, str]]:
    """(version, document name) of every version (of ``names``), in name, number order."""
    query = select(Version, Document.name).join(Document).order_by(Document.name, Version.number)
    if names is not None:
        query = query.where(Document.name_key.in_([key_of(n) for n in names]))
    return [(v, n) for v, n in s.execute(query).all()]


# -- events ----------------------------------------------------------------------------------------

EVENT_COLUMNS = (
    "id",
    "occurred_at",
    "event_type",
    "outcome",
    "agent",
    "document",
    "version",
    "detail",
    "logged",
    "derivation_id",
)


def events(s: Session, *, document: str | None = None, limit: int | None = None) -> list[Event]:
    query = select(Event).order_by(Event.id.desc())
    if document is not None:
        query = query.where(Event.document_key == key_of(document))
    if limit is not None and limit <= SQL_INT_MAX:  # past it: more than there can be
        query = query.limit(limit)
    return list(reversed(list(s.scalars(query))))


def event_facts(s: Session) -> list[Any]:
    """Every event's columns (attributes as on :class:`Event`), oldest first: plain rows,
    no ORM objects, for the log check of a large archive (#14)."""
    columns = (
        Event.id, Event.occurred_at, Event.event_type, Event.outcome, Event.agent,
        Event.document, Event.version, Event.detail, Event.logged,
    )  # fmt: skip
    return list(s.execute(select(*columns).order_by(Event.id)))


def event_rows(s: Session) -> list[dict[str, Any]]:
    """Every event as a plain dict, oldest first (to carry the log into a new catalog)."""
    return [
        {c: getattr(e, c) for c in EVENT_COLUMNS}
        for e in s.scalars(select(Event).order_by(Event.id))
    ]


def unlogged_events(s: Session) -> list[Event]:
    """Events the transparency log does not hold yet, oldest first."""
    return list(s.scalars(select(Event).where(Event.logged.is_(False)).order_by(Event.id)))


def mark_events_logged(s: Session, ids: list[int]) -> None:
    """Mark these events logged, in the database only: the session's Event objects keep
    ``logged`` as loaded. (SQLAlchemy's default would evaluate every statement's WHERE
    against every Event in the session: quadratic, 15 s of a 5,000-document ingest.)"""
    for chunk in _chunks(ids):
        s.execute(
            update(Event).where(Event.id.in_(chunk)).values(logged=True),
            execution_options={"synchronize_session": False},
        )


def derivations_with_versions(
    s: Session, ids: list[int]
) -> dict[int, tuple[DerivationRecord, Version, str]]:
    """derivation id -> (derivation, its version, document name), for many ids at once."""
    found: dict[int, tuple[DerivationRecord, Version, str]] = {}
    for chunk in _chunks(ids):
        for rec, v, name in s.execute(
            select(DerivationRecord, Version, Document.name)
            .join(Version, Version.id == DerivationRecord.version_id)
            .join(Document, Document.id == Version.document_id)
            .where(DerivationRecord.id.in_(chunk))
        ):
            found[rec.id] = (rec, v, name)
    return found


def passages_for(s: Session, derivation_ids: list[int]) -> dict[int, list[Any]]:
    """The passages of many derivations, in ordinal order, by derivation id: rows of the
    columns a passages tree needs (passage_id, raw_start, raw_end, sha256), not ORM
    objects, which cost four times as much to load (a writer reads 100,000 at a time)."""
    found: dict[int, list[Any]] = {d: [] for d in derivation_ids}
    p = PassageRecord
    for chunk in _chunks(derivation_ids):
        for row in s.execute(
            select(p.derivation_id, p.passage_id, p.raw_start, p.raw_end, p.sha256)
            .where(p.derivation_id.in_(chunk))
            .order_by(p.derivation_id, p.ordinal)
        ):
            found[row.derivation_id].append(row)
    return found


def count_events(s: Session) -> int:
    return s.scalar(select(func.count()).select_from(Event)) or 0


def insert_events(s: Session, rows: list[dict[str, Any]]) -> None:
    """Insert events as they were (ids included: the transparency log refers to them)."""
    if not rows:
        return
    s.execute(insert(Event), rows)
    if s.get_bind().dialect.name == "postgresql":  # explicit ids leave the sequence behind
        s.execute(
            text("SELECT setval(pg_get_serial_sequence('events', 'id'), max(id)) FROM events")
        )


# -- derivations -------------------------------------------------------------------------------


def supersede_current(s: Session, version_ids: list[int], when: datetime) -> dict[int, int]:
    """Mark the current derivations of these versions superseded; returns, per version
    that has derivations, the highest derivation number so far."""
    numbers: dict[int, int] = {}
    for chunk in _chunks(version_ids):
        numbers.update(
            s.execute(
                select(DerivationRecord.version_id, func.max(DerivationRecord.number))
                .where(DerivationRecord.version_id.in_(chunk))
                .group_by(DerivationRecord.version_id)
            ).all()
        )
    for chunk in _chunks(list(numbers)):
        s.execute(
            update(DerivationRecord)
            .where(DerivationRecord.version_id.in_(chunk), DerivationRecord.current.is_(True))
            .values(current=False, superseded_at=when)
        )
    return numbers


def insert_passages(s: Session, rows: list[dict[str, Any]]) -> None:
    for row in rows:
        row.setdefault("passage_key", key_of(row["passage_id"]))
    _insert_rows(s, PassageRecord, rows)


def insert_removals(s: Session, rows: list[dict[str, Any]]) -> None:
    _insert_rows(s, RemovalRecord, rows)


def _insert_rows(s: Session, model: Any, rows: list[dict[str, Any]]) -> None:
    """Rows of one table (each with the same keys, every column but the id), in one
    statement: on PostgreSQL a COPY (after a flush, so the rows they refer to are
    there), elsewhere a multi-row INSERT."""
    if not rows:
        return
    if s.get_bind().dialect.name != "postgresql":
        s.execute(insert(model), rows)
        return
    s.flush()
    columns = list(rows[0])
    if any(len(r) != len(columns) for r in rows):  # a missing key fails below; an extra one
        raise ValueError(f"rows for {model.__tablename__} differ in their columns")
    copy_rows(s.connection(), model.__tablename__, columns, ([r[c] for c in columns] for r in rows))


def current_derivation(s: Session, version_id: int) -> DerivationRecord | None:
    return s.scalars(
        select(DerivationRecord).where(
            DerivationRecord.version_id == version_id, DerivationRecord.current.is_(True)
        )
    ).one_or_none()


def passages_of(s: Session, derivation_id: int) -> list[PassageRecord]:
    return list(
        s.scalars(
            select(PassageRecord)
            .where(PassageRecord.derivation_id == derivation_id)
            .order_by(PassageRecord.ordinal)
        )
    )


def removals_of(s: Session, derivation_id: int) -> list[RemovalRecord]:
    return list(
        s.scalars(
            select(RemovalRecord)
            .where(RemovalRecord.derivation_id == derivation_id)
            .order_by(RemovalRecord.ordinal)
        )
    )


def _with_current_derivation(*columns: Any) -> Any:
    """A select of ``columns`` over every version with its document and, where it has
    one, its current derivation (None columns where not)."""
    return (
        select(*columns)
        .select_from(Version)
        .join(Document, Document.id == Version.document_id)
        .outerjoin(
            DerivationRecord,
            (DerivationRecord.version_id == Version.id) & DerivationRecord.current.is_(True),
        )
    )


def versions_without_derivation(s: Session) -> list[tuple[Version, str]]:
    return [
        (v, n)
        for v, n in s.execute(
            _with_current_derivation(Version, Document.name)
            .where(DerivationRecord.id.is_(None))
            .order_by(Document.name, Version.number)
        ).all()
    ]


def current_derivations(s: Session) -> list[tuple[DerivationRecord, int, str]]:
    """(derivation, version number, document name) of every current derivation."""
    return [
        (d, number, name)
        for d, number, name in s.execute(
            select(DerivationRecord, Version.number, Document.name)
            .join(Version, Version.id == DerivationRecord.version_id)
            .join(Document, Document.id == Version.document_id)
            .where(DerivationRecord.current.is_(True))
            .order_by(Document.name, Version.number)
        ).all()
    ]


def derived_versions(s: Session, names: list[str] | None) -> list[tuple[Any, ...]]:
    """For verify: (name, number, content path, derivation id, encoding, output digest) of
    every version of these documents (of every document with None; the id and after are
    None where a version has no current derivation), by name and number. Looked up by
    the indexed name key: a chunk of names costs index seeks, not a scan of every
    version."""
    query = _with_current_derivation(
        Document.name,
        Version.number,
        Version.content_path,
        DerivationRecord.id,
        DerivationRecord.encoding,
        DerivationRecord.output_sha256,
    ).order_by(Document.name, Version.number)
    if names is None:
        return _plain_rows(s, query)
    rows: list[tuple[Any, ...]] = []
    for chunk in _chunks([key_of(n) for n in names]):
        rows.extend(_plain_rows(s, query.where(Document.name_key.in_(chunk))))
    return rows


def derived_passages(s: Session, derivation_ids: list[int]) -> dict[int, list[tuple[Any, ...]]]:
    """For verify: the passages (id, text, digest, start, end) of these derivations, in
    order, by derivation id."""
    passages: dict[int, list[tuple[Any, ...]]] = {}
    for chunk in _chunks(derivation_ids):
        query = (
            select(
                PassageRecord.derivation_id,
                PassageRecord.passage_id,
                PassageRecord.text,
                PassageRecord.sha256,
                PassageRecord.raw_start,
                PassageRecord.raw_end,
            )
            .where(PassageRecord.derivation_id.in_(chunk))
            .order_by(PassageRecord.derivation_id, PassageRecord.ordinal)
        )
        for did, *rest in _plain_rows(s, query):
            passages.setdefault(did, []).append(tuple(rest))
    return passages


def passage_chain(
    s: Session, name: str, number: int, ordinal: int, derivation: int | None
) -> tuple[PassageRecord, DerivationRecord, Version, Document] | None:
    """A passage with its derivation, version and document (current derivation by default)."""
    row: tuple[PassageRecord, DerivationRecord, Version, Document] | None
    row = _chain(s, PassageRecord, name, number, ordinal, derivation)
    return row


def removal_chain(
    s: Session, name: str, number: int, ordinal: int, derivation: int | None
) -> tuple[RemovalRecord, DerivationRecord, Version, Document] | None:
    """A removed line with its derivation, version and document (as :func:`passage_chain`)."""
    row: tuple[RemovalRecord, DerivationRecord, Version, Document] | None
    row = _chain(s, RemovalRecord, name, number, ordinal, derivation)
    return row


SQL_INT_MAX = 2**63 - 1
"""The largest integer a catalog column holds: a number past it names no row."""


def _chain(
    s: Session, model: Any, name: str, number: int, ordinal: int, derivation: int | None
) -> Any:
    if max(number, ordinal, derivation or 0) > SQL_INT_MAX:
        return None
    query = (
        select(model, DerivationRecord, Version, Document)
        .join(DerivationRecord, DerivationRecord.id == model.derivation_id)
        .join(Version, Version.id == DerivationRecord.version_id)
        .join(Document, Document.id == Version.document_id)
        .where(
            Document.name_key == key_of(name),
            Version.number == number,
            model.ordinal == ordinal,
        )
    )
    if derivation is None:
        query = query.where(DerivationRecord.current.is_(True))
    else:
        query = query.where(DerivationRecord.number == derivation)
    row = s.execute(query).first()
    return None if row is None else (row[0], row[1], row[2], row[3])


# -- search index state ------------------------------------------------------------------------


def _desired() -> Any:
    """What the index should hold for a derivation: nothing, or its entries marked as
    the current version's or an earlier version's."""
    return case(
        (DerivationRecord.current.is_(False), None),
        # A withdrawn document's head holds no file: its versions are all earlier ones.
        (Version.number == Document.head, "current"),
        else_="old",
    )


def index_pending(s: Session, names: list[str] | None = None) -> list[Any]:
    """Derivations whose indexed state differs from what the catalog wants."""
    desired = _desired()
    query = (
        select(
            DerivationRecord.id,
            desired.label("desired"),
            DerivationRecord.current,
            Document.name,
            Version.number,
            Version.sha256,
            Version.ingested_at,
            DerivationRecord.published,
        )
        .join(Version, Version.id == DerivationRecord.version_id)
        .join(Document, Document.id == Version.document_id)
        .where(
            (DerivationRecord.indexed.is_(None) & desired.is_not(None))
            | (DerivationRecord.indexed.is_not(None) & desired.is_(None))
            | (DerivationRecord.indexed != desired)
        )
        .order_by(Document.name, Version.number)
    )
    if names is None:
        return list(s.execute(query).all())
    rows: list[Any] = []
    for chunk in _chunks([key_of(n) for n in names]):
        rows.extend(s.execute(query.where(Document.name_key.in_(chunk))).all())
    return rows


def count_index_pending(s: Session) -> int:
    return len(index_pending(s))


def mark_indexed(s: Session, states: list[tuple[int, str | None]]) -> None:
    """Record what the index committed: (derivation id, indexed state) pairs."""
    for did, state in states:
        s.execute(update(DerivationRecord).where(DerivationRecord.id == did).values(indexed=state))


def mark_version_indexed(s: Session, name: str, number: int, state: str | None) -> None:
    """Record what the index holds for the current derivation of one version."""
    v = version(s, name, number)
    if v is not None:
        s.execute(
            update(DerivationRecord)
            .where(DerivationRecord.version_id == v.id, DerivationRecord.current.is_(True))
            .values(indexed=state)
        )


def clear_indexed(s: Session) -> bool:
    """Mark every derivation not indexed; True if any was indexed before."""
    had = s.scalar(
        select(DerivationRecord.id).where(DerivationRecord.indexed.is_not(None)).limit(1)
    )
    s.execute(update(DerivationRecord).values(indexed=None))
    return had is not None


class IndexExpectations(NamedTuple):
    """What the index entries of every current derivation must say, as plain rows:

    - ``derivations``: derivation id -> (document name, version number, desired state
      "current"/"old", the version's sha256, the indexed state);
    - ``passages``: (derivation id, passage id, ordinal, kind, text sha256, raw start,
      raw end) of each passage;
    - ``removals``: (derivation id, ordinal, text, raw start, raw end) of each removed
      line.

    The version's fields come once per derivation, not once per passage: on 464,292
    passages the rows of one join took 1.7 s, most of it making the same strings (#14).
    """

    derivations: dict[int, tuple[str, int, str, str, str | None]]
    passages: list[tuple[int, str, int, str, str, int, int]]
    removals: list[tuple[int, int, str, int, int]]


def index_expectations(s: Session) -> IndexExpectations:
    """For the index audit: every passage and removed line of a current derivation with
    what its index entry must say. Plain columns, no ORM objects: the audit of a large
    archive reads hundreds of thousands of rows (#14)."""
    versions = (
        select(
            DerivationRecord.id,
            Document.name,
            Version.number,
            _desired(),
            Version.sha256,
            DerivationRecord.indexed,
        )
        .join(Version, Version.id == DerivationRecord.version_id)
        .join(Document, Document.id == Version.document_id)
        .where(DerivationRecord.current.is_(True))
    )
    derivations = {r[0]: tuple(r[1:]) for r in _plain_rows(s, versions)}

    def rows(unit: Any, *fields: Any) -> list[Any]:
        query = (
            select(unit.derivation_id, *fields, unit.raw_start, unit.raw_end)
            .join(DerivationRecord, DerivationRecord.id == unit.derivation_id)
            .where(DerivationRecord.current.is_(True))
        )
        return _plain_rows(s, query)

    passages = rows(
        PassageRecord,
        PassageRecord.passage_id,
        PassageRecord.ordinal,
        PassageRecord.kind,
        PassageRecord.sha256,
    )
    removals = rows(RemovalRecord, RemovalRecord.ordinal, RemovalRecord.text)
    return IndexExpectations(derivations, passages, removals)


def _plain_rows(s: Session, query: Any) -> list[tuple[Any, ...]]:
    """The rows of a select of plain text and integer columns, fetched by the driver's
    own cursor in the session's transaction, its parameters bound by the driver:
    SQLAlchemy's result rows cost three times the query on the tens of thousands of rows
    of an index audit (#14). ``IN`` lists are expanded into bound parameters. Booleans would come back as the driver gives them (SQLite:
    0 and 1), and no type's processing applies: select plain columns only."""
    compiled = query.compile(s.get_bind(), compile_kwargs={"render_postcompile": True})
    params = compiled.params
    args = [params[k] for k in compiled.positiontup or ()] if compiled.positional else params
    dbapi = s.get_bind().dialect.loaded_dbapi
    cursor = s.connection().connection.cursor()
    try:
        cursor.execute(str(compiled), args)
        return list(cursor.fetchall())
    except dbapi.Error as e:  # as SQLAlchemy wraps it, so that the session reports it
        raise DBAPIError.instance(str(compiled), args, e, dbapi.Error) from e
    finally:
        cursor.close()


# -- seeds stat cache ------------------------------------------------------------------------------


def load_seed_stats(s: Session) -> dict[str, Any]:
    """The whole stat cache, by document name: plain rows with the attributes of
    :class:`SeedStat` (no ORM objects: a verify of 10,000 seeds reads them all)."""
    columns = list(SeedStat.__table__.columns)
    return {row.name: row for row in s.execute(select(*columns))}


def save_seed_stats(s: Session, rows: list[dict[str, Any]], known: set[str]) -> None:
    """Insert or update stat-cache rows (``known``: names already in the cache)."""
    for row in rows:
        row["name_key"] = key_of(row["name"])
    updates = [r for r in rows if r["name"] in known]
    inserts = [r for r in rows if r["name"] not in known]
    if updates:
        s.execute(update(SeedStat), updates)
    if inserts and s.get_bind().dialect.name == "postgresql":
        # Writers sharing the archive may each cache the same new file: last one wins.
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stmt = pg_insert(SeedStat)
        columns = [c.name for c in SeedStat.__table__.columns if c.name != "name_key"]
        s.execute(
            stmt.on_conflict_do_update(
                index_elements=["name_key"], set_={c: stmt.excluded[c] for c in columns}
            ),
            inserts,
        )
    elif inserts:
        s.execute(insert(SeedStat), inserts)


# -- withdrawn documents, listing and statistics -------------------------------------------------


def withdrawn_files(s: Session) -> dict[str, str]:
    """name -> sha512 of the file each withdrawn document last held."""
    rows = s.execute(
        select(Document.name, Version.sha512)
        .join(Version, Version.document_id == Document.id)
        .where(Document.withdrawn.is_(True))
        .order_by(Document.name, Version.number)
    )
    return {name: sha512 for name, sha512 in rows}


def document_rows(s: Session) -> list[tuple[Document, Version | None]]:
    """Every document with its latest version holding the file, by name."""
    latest = (
        select(Version.document_id, func.max(Version.number).label("number"))
        .group_by(Version.document_id)
        .subquery()
    )
    query = (
        select(Document, Version)
        .outerjoin(latest, latest.c.document_id == Document.id)
        .outerjoin(
            Version, (Version.document_id == Document.id) & (Version.number == latest.c.number)
        )
        .order_by(Document.name)
    )
    return [(d, v) for d, v in s.execute(query)]


def current_derivation_counts(s: Session) -> dict[int, tuple[str, int, int]]:
    """version id -> (status, passages, removed lines) of its current derivation."""
    passages = (
        select(PassageRecord.derivation_id, func.count().label("n"))
        .group_by(PassageRecord.derivation_id)
        .subquery()
    )
    removals = (
        select(RemovalRecord.derivation_id, func.count().label("n"))
        .group_by(RemovalRecord.derivation_id)
        .subquery()
    )
    query = (
        select(
            DerivationRecord.version_id,
            DerivationRecord.status,
            func.coalesce(passages.c.n, 0),
            func.coalesce(removals.c.n, 0),
        )
        .outerjoin(passages, passages.c.derivation_id == DerivationRecord.id)
        .outerjoin(removals, removals.c.derivation_id == DerivationRecord.id)
        .where(DerivationRecord.current.is_(True))
    )
    return {vid: (status, int(p), int(r)) for vid, status, p, r in s.execute(query)}


def archive_totals(s: Session) -> dict[str, Any]:
    """Counts and sums for ``stats``: documents, withdrawn, versions, bytes, passages and
    removed lines (current derivations), verification dates, the last fixity check."""
    documents = count_documents(s)
    withdrawn = s.scalar(
        select(func.count()).select_from(Document).where(Document.withdrawn.is_(True))
    )
    versions, size, oldest, never = s.execute(
        select(
            func.count(Version.id),
            func.coalesce(func.sum(Version.size), 0),
            func.min(Version.verified_at),
            func.sum(case((Version.verified_at.is_(None), 1), else_=0)),
        )
    ).one()
    current = DerivationRecord.current.is_(True)
    passages = s.scalar(
        select(func.count(PassageRecord.id))
        .join(DerivationRecord, DerivationRecord.id == PassageRecord.derivation_id)
        .where(current)
    )
    removed = s.scalar(
        select(func.count(RemovalRecord.id))
        .join(DerivationRecord, DerivationRecord.id == RemovalRecord.derivation_id)
        .where(current)
    )
    last_check = s.scalars(
        select(Event).where(Event.event_type == "fixity check").order_by(Event.id.desc()).limit(1)
    ).one_or_none()
    return {
        "documents": documents,
        "withdrawn": withdrawn or 0,
        "versions": versions or 0,
        "bytes": int(size or 0),
        "passages": passages or 0,
        "removed_lines": removed or 0,
        "oldest_verified_at": oldest,
        "never_verified": int(never or 0),
        "last_verify": last_check,
    }


def derivation_numbers(s: Session, name: str, number: int) -> list[int]:
    """The derivation numbers of one version, oldest first."""
    return list(
        s.scalars(
            select(DerivationRecord.number)
            .join(Version, Version.id == DerivationRecord.version_id)
            .join(Document, Document.id == Version.document_id)
            .where(Document.name_key == key_of(name), Version.number == number)
            .order_by(DerivationRecord.number)
        )
    )


# -- rolling audits (verify --due / --sample / --budget) -------------------------------------


def audit_candidates(s: Session) -> list[tuple[str, int, datetime | None]]:
    """(name, number, verified_at) of every version, the never verified first, then the
    least recently verified (ties by ingest time, name, number)."""
    return [
        (name, number, verified_at)
        for name, number, verified_at in s.execute(
            select(Document.name, Version.number, Version.verified_at)
            .join(Document, Document.id == Version.document_id)
            .order_by(
                Version.verified_at.is_not(None),
                Version.verified_at,
                Version.ingested_at,
                Document.name,
                Version.number,
            )
        )
    ]


def mark_verified(s: Session, names: Iterable[str], when: datetime) -> None:
    """Record ``when`` as the last verification of every version of these documents."""
    for chunk in _chunks(sorted(set(names))):
        s.execute(
            update(Version)
            .where(Version.document_id.in_(select(Document.id).where(Document.name.in_(chunk))))
            .values(verified_at=when)
        )


def oldest_verification(s: Session) -> tuple[datetime | None, int]:
    """(the oldest verified_at of any version, how many versions were never verified)."""
    oldest = s.scalar(select(func.min(Version.verified_at)))
    never = s.scalar(select(func.count()).where(Version.verified_at.is_(None))) or 0
    return oldest, int(never)
