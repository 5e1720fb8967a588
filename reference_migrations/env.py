"""Alembic environment of the reference database (its own schema and version table, separate
from the portal's migrations). Run through ``flask --app wsgi reference upgrade``, which
passes the connection in ``config.attributes``."""

from alembic import context

from portal.reference import VERSION_TABLE, metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    render_as_batch=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
