"""Cleaning and lineage: derivations, passages with byte spans, removed lines.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

from provarchive.catalog import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "derivations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "version_id",
            sa.Integer(),
            sa.ForeignKey("versions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("cleaner_name", sa.String(64), nullable=False),
        sa.Column("cleaner_version", sa.String(32), nullable=False),
        sa.Column("rules_digest", sa.String(80), nullable=False),
        sa.Column("normalisation", sa.Text(), nullable=False),
        sa.Column("encoding", sa.String(64), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("output_sha256", sa.String(80), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("current", sa.Boolean(), nullable=False),
        sa.Column("superseded_at", UTCDateTime(), nullable=True),
        sa.UniqueConstraint("version_id", "number"),
    )
    op.create_index("ix_derivations_version_id", "derivations", ["version_id"])
    op.create_index("ix_derivations_current", "derivations", ["current"])
    op.create_table(
        "passages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "derivation_id",
            sa.Integer(),
            sa.ForeignKey("derivations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("passage_id", sa.String(4200), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("raw_start", sa.BigInteger(), nullable=False),
        sa.Column("raw_end", sa.BigInteger(), nullable=False),
        sa.UniqueConstraint("derivation_id", "ordinal"),
    )
    op.create_index("ix_passages_derivation_id", "passages", ["derivation_id"])
    op.create_index("ix_passages_passage_id", "passages", ["passage_id"])
    op.create_table(
        "removals",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "derivation_id",
            sa.Integer(),
            sa.ForeignKey("derivations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("rule", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("raw_start", sa.BigInteger(), nullable=False),
        sa.Column("raw_end", sa.BigInteger(), nullable=False),
        sa.UniqueConstraint("derivation_id", "ordinal"),
    )
    op.create_index("ix_removals_derivation_id", "removals", ["derivation_id"])


def downgrade() -> None:
    op.drop_table("removals")
    op.drop_table("passages")
    op.drop_table("derivations")
