"""The schema's history as Alembic revision scripts (`versions/`), one file per change, the same
for SQLite and PostgreSQL; `bot.records.revisions` runs them from the package, no alembic.ini.

To add a change: copy the latest file in `versions/` to the next number, set `revision` and
`down_revision`, write `upgrade()` and `downgrade()` with Alembic's `op` (in batch mode, which
SQLite's ALTER TABLE needs), and update `bot/records/schema.py` to match; the tests compare the
two on both databases. Never edit a released revision: add the next one.
"""

from pathlib import Path

MIGRATIONS_FOLDER = Path(__file__).resolve().parent
