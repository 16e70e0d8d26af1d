"""The PostgreSQL search engine holds what the Whoosh engine holds since the cleaner
landed: the rule that dropped a removed line, and the publication date found in the
document (PostgreSQL only; nothing at all elsewhere).

``search_entries.rule`` and ``search_entries.published`` are cited in hits;
``search_index.published`` is the filter column (the narrow table a search reads).
Existing rows get NULL: the next ``reindex`` fills them.

Revision ID: 0008
Revises: 0006 (0007 when that migration is merged)
Create Date: 2026-12-02
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

STATEMENTS = [
    "ALTER TABLE search_entries ADD COLUMN IF NOT EXISTS rule text",
    "ALTER TABLE search_entries ADD COLUMN IF NOT EXISTS published varchar(10)",
    "ALTER TABLE search_index ADD COLUMN IF NOT EXISTS published varchar(10)",
]


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    raise NotImplementedError("provarchive catalogs are upgraded only (rebuild recreates one)")
