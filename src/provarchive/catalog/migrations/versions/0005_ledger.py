"""The transparency log's bookkeeping: which events it holds, and each derivation event's row.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.add_column(
            sa.Column("logged", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("derivation_id", sa.Integer(), nullable=True))
    with op.batch_alter_table("events") as batch:
        batch.alter_column("logged", server_default=None, existing_type=sa.Boolean())
    op.create_index("ix_events_logged", "events", ["logged"])


def downgrade() -> None:
    raise NotImplementedError("provarchive catalogs are upgraded only (rebuild recreates one)")
