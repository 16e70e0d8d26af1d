"""Digest keys for long names; page verdict, publication date and environment of derivations;
verification times of versions.

Long text columns (document names, object ids, passage ids, event documents) were
unique or indexed VARCHAR(4096+), which most databases refuse as index keys. They
become TEXT, and a ``*_key`` column holding the sha256 of the text carries the
uniqueness or the index. The seeds stat cache is only a cache: it is recreated
empty (the next ingest or verify hashes each seed once more).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

import hashlib

import sqlalchemy as sa
from alembic import op

from provarchive.catalog import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# SQLite reflects the unique constraints of 0001/0002 without names; batch mode needs
# names to drop them.
NAMING = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def _key(value: str | None) -> str | None:
    if value is None:
        return None
    return hashlib.sha256(value.encode("utf-8", "surrogateescape")).hexdigest()


def _fill(table: str, source: str, target: str) -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.text(f"SELECT id, {source} FROM {table}")).all()
    stmt = sa.text(f"UPDATE {table} SET {target} = :key WHERE id = :id")
    for start in range(0, len(rows), 1000):
        chunk = rows[start : start + 1000]
        if chunk:
            bind.execute(stmt, [{"id": i, "key": _key(v)} for i, v in chunk])


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table, column in (("documents", "name_key"), ("passages", "passage_key")):
        op.add_column(table, sa.Column(column, sa.String(64), nullable=True))
    op.add_column("events", sa.Column("document_key", sa.String(64), nullable=True))
    _fill("documents", "name", "name_key")
    _fill("passages", "passage_id", "passage_key")
    _fill("events", "document", "document_key")

    with op.batch_alter_table("documents", naming_convention=NAMING) as batch:
        batch.drop_constraint(
            "uq_documents_name" if sqlite else "documents_name_key", type_="unique"
        )
        batch.drop_constraint(
            "uq_documents_object_id" if sqlite else "documents_object_id_key", type_="unique"
        )
        batch.alter_column("name", type_=sa.Text(), existing_nullable=False)
        batch.alter_column("object_id", type_=sa.Text(), existing_nullable=False)
        batch.alter_column("name_key", nullable=False, existing_type=sa.String(64))
        batch.create_unique_constraint("uq_documents_name_key", ["name_key"])
    op.drop_index("ix_passages_passage_id", table_name="passages")
    with op.batch_alter_table("passages") as batch:
        batch.alter_column("passage_id", type_=sa.Text(), existing_nullable=False)
        batch.alter_column("passage_key", nullable=False, existing_type=sa.String(64))
    op.create_index("ix_passages_passage_key", "passages", ["passage_key"])
    op.drop_index("ix_events_document", table_name="events")
    with op.batch_alter_table("events") as batch:
        batch.alter_column("document", type_=sa.Text(), existing_nullable=True)
    op.create_index("ix_events_document_key", "events", ["document_key"])

    with op.batch_alter_table("derivations") as batch:
        batch.add_column(sa.Column("page", sa.Text(), nullable=True))
        batch.add_column(sa.Column("published", sa.String(10), nullable=True))
        batch.add_column(sa.Column("environment", sa.Text(), nullable=True))
    with op.batch_alter_table("versions") as batch:
        batch.add_column(sa.Column("verified_at", UTCDateTime(), nullable=True))
    op.create_index("ix_versions_verified_at", "versions", ["verified_at"])

    op.drop_table("seed_stats")
    op.create_table(
        "seed_stats",
        sa.Column("name_key", sa.String(64), primary_key=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("mtime_ns", sa.BigInteger(), nullable=False),
        sa.Column("ctime_ns", sa.BigInteger(), nullable=False),
        sa.Column("inode", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("sha512", sa.String(128), nullable=False),
        sa.Column("checked_at_ns", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    raise NotImplementedError("provarchive catalogs are upgraded only (rebuild recreates one)")
