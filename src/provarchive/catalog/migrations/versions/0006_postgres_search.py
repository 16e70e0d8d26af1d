"""The PostgreSQL search engine's tables (PostgreSQL only; nothing at all elsewhere).

``search_entries`` holds one row per indexed passage: its citation fields and the
digest recorded when it was written. ``search_index`` holds, per passage, only
what a search reads for every match (the ``tsvector`` of the archive's own
analysis, GIN-indexed, and the filter columns): a narrow row, its ``tsvector``
kept in the row rather than in TOAST, which made ranking frequent words 2-5x
faster than one wide table. ``search_words`` holds every lexeme ever indexed, with a
trigram index, for the expansion of fuzzy and wildcard terms. ``search_meta``
records when the index was created and the analysis it was built with.
Extensions: ``pg_trgm`` (trigram index) and ``fuzzystrmatch`` (levenshtein), both
trusted, so the catalog's owner creates them without being a superuser.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-10
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

STATEMENTS = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE EXTENSION IF NOT EXISTS fuzzystrmatch",
    """
    CREATE TABLE IF NOT EXISTS search_entries (
        seq bigserial PRIMARY KEY,
        passage_key varchar(64) NOT NULL UNIQUE,
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
        entry_digest varchar(64) NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS search_index (
        seq bigint PRIMARY KEY REFERENCES search_entries (seq) ON DELETE CASCADE,
        current boolean NOT NULL,
        kind varchar(16) NOT NULL,
        ingested timestamptz NOT NULL,
        tsv tsvector NOT NULL
    )
    """,
    "ALTER TABLE search_index ALTER COLUMN tsv SET STORAGE MAIN",
    "CREATE INDEX IF NOT EXISTS ix_search_index_tsv ON search_index USING gin (tsv)",
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
