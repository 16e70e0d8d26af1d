"""What a PostgreSQL search needs to rank only the matches that can reach the top hits
(PostgreSQL only; nothing at all elsewhere).

``search_index.bound`` is an upper bound of the passage's ``ts_rank`` for queries of
plain words (``rank_bound`` in ``catalog/postgres_sql.py``): a search ranks a passage
only if its bound reaches a score that enough matching titles reach. Written with
each passage; rows written before (or by a provarchive without it) get infinity, so
they are always ranked: correct, only not faster until the next ``reindex``. (No
backfill here: an UPDATE of every row would double the table until a VACUUM FULL.)

``ix_search_index_title_tsv`` is a GIN index over the titles alone: it finds those
titles (and answers ``kind:title``) without matching the word in every passage
first. Titles are one passage in 10-30, so it is small (2.8 MB at 1 million
passages, against 153 MB for the whole index); ``kind:title that`` at 1 million
passages went from ~190 ms to 30 ms.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

STATEMENTS = [
    "ALTER TABLE search_index ADD COLUMN IF NOT EXISTS bound real NOT NULL DEFAULT 'Infinity'",
    "CREATE INDEX IF NOT EXISTS ix_search_index_title_tsv ON search_index USING gin (tsv) "
    "WHERE kind = 'title'",
]


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    raise NotImplementedError("provarchive catalogs are upgraded only (rebuild recreates one)")
