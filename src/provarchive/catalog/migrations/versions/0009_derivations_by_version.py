"""An index on derivations (version_id, current): a version's current derivation in one
index lookup.

Without it SQLite answered "the current derivation of each of these versions" through
the index on ``current`` alone (a boolean, so every current derivation of the archive
for every version): verify's derived check on 2,000 documents spent ~1 s in that join.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_derivations_version_current", "derivations", ["version_id", "current"])


def downgrade() -> None:
    op.drop_index("ix_derivations_version_current", table_name="derivations")
