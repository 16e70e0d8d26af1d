"""Alembic environment: run migrations on the connection the catalog hands us.

provarchive never runs Alembic from a command line or an ini file; the catalog
passes an open connection in ``config.attributes["connection"]``.
"""

from alembic import context

from provarchive.catalog import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
