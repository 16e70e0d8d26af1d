"""The PostgreSQL search engine's tables (PostgreSQL only; nothing at all elsewhere).

``search_entries`` holds one row per indexed passage: its citation fields, the
digest recorded when it was written, and a ``tsvector`` of the archive's own
analysis (GIN-indexed). ``search_words`` holds every lexeme ever indexed, with a
trigram index, for the expansion of fuzzy and wildcard terms. ``search_meta``
records when the index was created and the analysis it was built with.
Extensions: ``pg_trgm`` (trigram index) and ``fuzzystrmatch`` (levenshtein), both
trusted, so the catalog's owner creates them without being a superuser.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-10
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

STATEMENTS = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE EXTENSION IF NOT EXISTS fuzzystrmatch",
    """
    CREATE TABLE IF NOT EXISTS search_entries (
        passage_key varchar(64) PRIMARY KEY,
        seq bigserial NOT NULL,
        passage_id text NOT NULL,
        document text NOT NULL,
        document_key varchar(64) NOT NULL,
        version integer NOT NULL,
        ordinal integer NOT NULL,
        kind varchar(16) NOT NULL,
        text text NOT NULL,
        passage_sha256 varchar(80) NOT NULL,
        raw_sha256 varchar(80) NOT NULL,
        raw_start bigint NOT NULL,
        raw_end bigint NOT NULL,
        ingested timestamptz NOT NULL,
        current boolean NOT NULL,
        entry_digest varchar(64) NOT NULL,
        tsv tsvector NOT NULL
    )
    """,
    "CREATE INDEX IF NOT EXISTS ix_search_entries_tsv ON search_entries USING gin (tsv)",
    "CREATE INDEX IF NOT EXISTS ix_search_entries_version ON search_entries (document_key, version)",
    "CREATE TABLE IF NOT EXISTS search_words (word text PRIMARY KEY)",
    "CREATE INDEX IF NOT EXISTS ix_search_words_trgm ON search_words USING gin (word gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS ix_search_words_length ON search_words (length(word))",
    "CREATE TABLE IF NOT EXISTS search_meta (key varchar(64) PRIMARY KEY, value text NOT NULL)",
]


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    raise NotImplementedError("provarchive catalogs are upgraded only (rebuild recreates one)")
