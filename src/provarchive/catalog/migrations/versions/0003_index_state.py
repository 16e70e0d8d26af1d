"""Search: remember what the index last committed for each derivation.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("derivations") as batch:
        batch.add_column(sa.Column("indexed", sa.String(8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("derivations") as batch:
        batch.drop_column("indexed")
