"""Alembic's environment: the revision scripts run on the connection `bot.records.revisions`
hands over, inside the transaction (and the lock) it already holds."""

from __future__ import annotations

from alembic import context

from bot.records.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise SystemExit(
        "the records' revisions run through `articlebot migrate` (or at start-up), which opens "
        "the database DATABASE_URL or DATA_DIR names; `alembic revision` needs no database"
    )
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
