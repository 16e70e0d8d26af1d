"""Withdraw: a document whose head version holds no file is withdrawn.

The state is derived from the store (an OCFL version with an empty state), so a
rebuild gives it back; these columns let search, list and show see it without
reading inventories.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.add_column(
            sa.Column("withdrawn", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("withdrawn_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("withdrawn_reason", sa.Text(), nullable=True))
    with op.batch_alter_table("documents") as batch:
        batch.alter_column("withdrawn", server_default=None, existing_type=sa.Boolean())


def downgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.drop_column("withdrawn_reason")
        batch.drop_column("withdrawn_at")
        batch.drop_column("withdrawn")
