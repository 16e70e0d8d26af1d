"""The catalog's tables (SQLAlchemy 2.0 declarative models) and event constructor.

Contract: the schema as Python; every change here comes with an Alembic
migration in ``migrations/versions`` (a test compares the two).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from ..config import AGENT
from ..digests import load_json
from ..errors import CatalogValueError

if TYPE_CHECKING:
    from ..cleaning.verdict import PageVerdict


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite has no time zones)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the catalog; use UTC-aware datetimes")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class CheckedBigInteger(TypeDecorator[int]):
    """An integer read back as one: SQLite keeps any text it is given in an integer
    column (a hand-edited row), which would otherwise reach the caller as a str."""

    impl = BigInteger
    cache_ok = True

    def process_result_value(self, value: Any, dialect: Dialect) -> int | None:
        if value is None or type(value) is int:
            return value
        if isinstance(value, Decimal | float) and float(value).is_integer():
            return int(value)  # an aggregate of the column: PostgreSQL's sum is numeric
        raise CatalogValueError(
            f"a value in the catalog is not of its column's type ({value!r} is no integer): "
            "run 'provarchive verify'; 'provarchive rebuild' recreates the catalog from the store"
        )


class Base(DeclarativeBase):
    pass


def key_of(value: str | None) -> str | None:
    """The digest key of a long text column (hex sha256 of its UTF-8): what is indexed
    and unique instead of the text, which other databases refuse as an index key."""
    if value is None:
        return None
    return hashlib.sha256(value.encode("utf-8", "surrogateescape")).hexdigest()


def _key_default(column: str) -> Any:
    """A column default computing :func:`key_of` from another column of the same row."""

    def default(context: Any) -> str | None:
        return key_of(context.get_current_parameters().get(column))

    return default


class Document(Base):
    """One archived document: a name in the seeds folder, one OCFL object."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    name_key: Mapped[str] = mapped_column(String(64), unique=True, default=_key_default("name"))
    object_id: Mapped[str] = mapped_column(Text)
    object_path: Mapped[str] = mapped_column(String(255))
    head: Mapped[int] = mapped_column(Integer)
    """The store's head version number (a withdrawal has no version row of its own)."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    withdrawn: Mapped[bool] = mapped_column(Boolean, default=False)
    """The head version is a withdrawal (``withdraw``): out of default search and lists."""
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_reason: Mapped[str | None] = mapped_column(Text)

    versions: Mapped[list[Version]] = relationship(
        back_populates="document", order_by="Version.number", cascade="all, delete-orphan"
    )


class Version(Base):
    """One immutable version of a document's raw bytes."""

    __tablename__ = "versions"
    __table_args__ = (UniqueConstraint("document_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    sha512: Mapped[str] = mapped_column(String(128))
    size: Mapped[int] = mapped_column(CheckedBigInteger)
    source: Mapped[str] = mapped_column(Text)
    message: Mapped[str] = mapped_column(Text)
    user_name: Mapped[str] = mapped_column(String(255))
    user_address: Mapped[str | None] = mapped_column(String(1024))
    content_path: Mapped[str] = mapped_column(Text)
    ingested_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    """When verify last re-hashed this version's content (rolling audits)."""

    document: Mapped[Document] = relationship(back_populates="versions")
    derivations: Mapped[list[DerivationRecord]] = relationship(
        back_populates="version", order_by="DerivationRecord.number", cascade="all, delete-orphan"
    )


class DerivationRecord(Base):
    """One cleaning run over one version: which cleaner, what it produced.

    Exactly one derivation per version is ``current``; a re-clean whose output
    differs adds a new one and marks the old one superseded (never deleted)."""

    __tablename__ = "derivations"
    __table_args__ = (
        UniqueConstraint("version_id", "number"),
        Index("ix_derivations_version_current", "version_id", "current"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("versions.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    cleaner_name: Mapped[str] = mapped_column(String(64))
    cleaner_version: Mapped[str] = mapped_column(String(32))
    rules_digest: Mapped[str] = mapped_column(String(80))
    normalisation: Mapped[str] = mapped_column(Text)
    encoding: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)
    output_sha256: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    current: Mapped[bool] = mapped_column(Boolean, index=True)
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    page: Mapped[str | None] = mapped_column(Text)
    """The cleaner's verdict on whether the document is a web page (JSON), if it gave one."""
    published: Mapped[str | None] = mapped_column(String(10))
    """The publication date found in the text (ISO YYYY-MM-DD), if any."""
    environment: Mapped[str | None] = mapped_column(Text)
    """Versions of what the output depends on besides the cleaner (JSON)."""
    indexed: Mapped[str | None] = mapped_column(String(8))
    """What the search index last committed for this derivation: None (nothing),
    "current" or "old" (indexed with the current-version flag set or not)."""

    version: Mapped[Version] = relationship(back_populates="derivations")

    def page_verdict(self) -> PageVerdict | None:
        """The cleaner's verdict as recorded (:class:`CatalogValueError` if malformed)."""
        from ..cleaning.verdict import PageVerdict  # here: the catalog alone does not need it

        page = self.json_field("page")
        try:
            return PageVerdict.from_json(page) if page is not None else None
        except (KeyError, TypeError, ValueError) as exc:
            raise CatalogValueError(
                f"derivation {self.id}: its page verdict is malformed ({type(exc).__name__}: {exc})"
            ) from exc

    def json_field(self, field: str) -> dict[str, Any] | None:
        """``page`` or ``environment`` read back (None if not recorded); a text that is
        not a JSON object (a hand-edited row) is :class:`CatalogValueError`."""
        text = getattr(self, field)
        if not text:
            return None
        try:
            value = load_json(text)
        except ValueError as exc:
            value = exc
        if not isinstance(value, dict):
            raise CatalogValueError(
                f"derivation {self.id}: its {field} is not a JSON object as written "
                "(run 'provarchive verify'; 'provarchive rebuild' recreates the catalog)"
            )
        return value


class PassageRecord(Base):
    """A passage: text, digest, and its [start, end) byte span in the raw file."""

    __tablename__ = "passages"
    __table_args__ = (UniqueConstraint("derivation_id", "ordinal"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    derivation_id: Mapped[int] = mapped_column(
        ForeignKey("derivations.id", ondelete="CASCADE"), index=True
    )
    passage_id: Mapped[str] = mapped_column(Text)
    passage_key: Mapped[str] = mapped_column(
        String(64), index=True, default=_key_default("passage_id")
    )
    ordinal: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    raw_start: Mapped[int] = mapped_column(BigInteger)
    raw_end: Mapped[int] = mapped_column(BigInteger)


class RemovalRecord(Base):
    """A line the cleaner dropped: its span, text, and the rule and reason."""

    __tablename__ = "removals"
    __table_args__ = (UniqueConstraint("derivation_id", "ordinal"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    derivation_id: Mapped[int] = mapped_column(
        ForeignKey("derivations.id", ondelete="CASCADE"), index=True
    )
    ordinal: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    rule: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    raw_start: Mapped[int] = mapped_column(BigInteger)
    raw_end: Mapped[int] = mapped_column(BigInteger)


class Event(Base):
    """An entry of the PREMIS-style event log: what was done, when, by whom, with what outcome.

    Documents are referenced by name, not by key, so the log survives a catalog rebuild
    (which keeps every event's id). ``logged`` says the transparency log holds a leaf
    for the event; ``derivation_id`` ties a derivation event to its derivation row."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    event_type: Mapped[str] = mapped_column(String(64), index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    agent: Mapped[str] = mapped_column(String(255))
    document: Mapped[str | None] = mapped_column(Text)
    document_key: Mapped[str | None] = mapped_column(
        String(64), index=True, default=_key_default("document")
    )
    version: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[str] = mapped_column(Text)
    logged: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    derivation_id: Mapped[int | None] = mapped_column(Integer)


class SeedStat(Base):
    """The stat cache of the seeds folder (git index style): skip re-hashing unchanged files."""

    __tablename__ = "seed_stats"

    name_key: Mapped[str] = mapped_column(
        String(64), primary_key=True, default=_key_default("name")
    )
    name: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(BigInteger)
    mtime_ns: Mapped[int] = mapped_column(BigInteger)
    ctime_ns: Mapped[int] = mapped_column(BigInteger)
    inode: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    sha512: Mapped[str] = mapped_column(String(128))
    checked_at_ns: Mapped[int] = mapped_column(BigInteger)


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_event(
    event_type: str,
    detail: str,
    *,
    outcome: str = "success",
    document: str | None = None,
    version: int | None = None,
    when: datetime | None = None,
    derivation_id: int | None = None,
) -> Event:
    return Event(
        occurred_at=when or utcnow(),
        event_type=event_type,
        outcome=outcome,
        agent=AGENT,
        document=document,
        version=version,
        detail=detail,
        logged=False,
        derivation_id=derivation_id,
    )
