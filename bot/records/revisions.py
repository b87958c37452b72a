"""Which schema revision a database is at, and bringing it to the latest.

The revisions are Alembic scripts shipped in the package (`migrations/versions/`), one history
for SQLite and PostgreSQL, run from code on a connection the caller already holds in a write
transaction, so a failure leaves the database at the revision it had, and two processes
starting at once upgrade it once. A database the bot numbered itself before it used Alembic
(`meta.schema_version` 1 or 2, no `alembic_version` table) is stamped with the revision its
version is, then upgraded like any other.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, inspect, select, update

from bot.records import schema
from bot.records.errors import StorageError, StorageProblem
from bot.records.migrations import MIGRATIONS_FOLDER
from bot.records.models import Revision, SchemaUpgrade

log = logging.getLogger(__name__)

# The schema versions the bot numbered itself before it used Alembic, and the revision each
# one is, table for table.
LEGACY_VERSIONS = {1: "0001", 2: "0002"}
# Alembic hands its running context to the revision scripts through module globals (`context`,
# `op`): two threads of one process upgrading at once, even two databases, take turns.
_ALEMBIC_IN_USE = threading.Lock()


@dataclass(frozen=True, slots=True)
class SchemaState:
    """Where a database's schema stands: its revision, or the bot's own older numbering, or
    neither (no tables yet)."""

    revision: str | None
    legacy_version: int | None = None


class Revisions:
    """The revision scripts of one folder, oldest first: one straight line, no branches."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        scripts = ScriptDirectory.from_config(self.config_for(None))
        heads = scripts.get_heads()
        if len(heads) != 1:
            raise ValueError(f"the revisions in {folder} must end in one head, found {heads}")
        newest_first = list(scripts.walk_revisions())
        self.history = tuple(
            Revision(script.revision, " ".join((script.doc or "").split()))
            for script in newest_first[::-1]
        )
        self.head = self.history[-1].id
        self._place = {revision.id: n for n, revision in enumerate(self.history, start=1)}

    @classmethod
    @cache
    def load(cls, folder: Path = MIGRATIONS_FOLDER) -> Revisions:
        """The revisions in `folder`, read once per process."""
        return cls(folder)

    def number(self, revision: str) -> int:
        """The revision's place in the history: 1 for the first."""
        return self._place[revision]

    def knows(self, revision: str) -> bool:
        return revision in self._place

    def after(self, revision: str | None) -> tuple[Revision, ...]:
        """The revisions an upgrade from `revision` (None: an empty database) applies."""
        start = 0 if revision is None else self.number(revision)
        return self.history[start:]

    def is_current(self, state: SchemaState) -> bool:
        """Whether a database in `state` is at the latest revision; StorageError when it is
        at one this bot does not know (a newer bot's), which nothing here may touch."""
        self._refuse_unknown(state)
        return state.revision == self.head

    def upgrade(self, connection: Connection) -> SchemaUpgrade:
        """Bring the schema to the latest revision on `connection`, in its transaction.

        The caller holds the database's write lock, so the state is read again here: another
        process may have upgraded it since the caller last looked.
        """
        state = read_state(connection)
        self._refuse_unknown(state)
        config = self.config_for(connection)
        before = state.revision
        with _ALEMBIC_IN_USE:
            try:
                if state.legacy_version is not None:
                    before = LEGACY_VERSIONS[state.legacy_version]
                    command.stamp(config, before)
                applied = self.after(before)
                if applied:
                    command.upgrade(config, self.head)
            except CommandError as error:  # a revision script or the history is broken
                raise StorageError(StorageProblem.UNKNOWN, f"schema upgrade: {error}") from error
        # Bots older than the revision scripts read this number, and refuse a newer one.
        connection.execute(update(schema.meta).values(schema_version=self.number(self.head)))
        for revision in applied:
            log.info("storage: schema revision %s applied (%s)", revision.id, revision.description)
        return SchemaUpgrade(before, self.head, applied, state.legacy_version)

    def config_for(self, connection: Connection | None) -> Config:
        """Alembic's configuration for these revisions, run on `connection` (which
        migrations/env.py reads) by Alembic's commands."""
        config = Config()
        config.set_main_option("script_location", str(self.folder))
        config.attributes["connection"] = connection
        return config

    def _refuse_unknown(self, state: SchemaState) -> None:
        if state.revision is not None and not self.knows(state.revision):
            raise StorageError(
                StorageProblem.UNKNOWN,
                f"the database is at schema revision {state.revision}, which this bot does not "
                f"know (it knows up to {self.head}): it was left untouched; run a newer bot, "
                f"or use a fresh database",
            )
        if state.legacy_version is not None and state.legacy_version not in LEGACY_VERSIONS:
            raise StorageError(
                StorageProblem.UNKNOWN,
                f"the database has schema version {state.legacy_version}, newer than this bot "
                f"knows (up to {max(LEGACY_VERSIONS)} before revision {self.head}): it was "
                f"left untouched; run a newer bot, or use a fresh database",
            )


def read_state(connection: Connection) -> SchemaState:
    """The schema state of the database `connection` is open on; nothing is written.

    The meta table is read before the revision: where each statement sees what was committed
    before it (PostgreSQL's default), another process's upgrade may land between the two reads,
    and read the other way round they would pair its new schema number with no revision yet, a
    state no bot wrote. This way round, a revision read after an upgrade is always the newer.
    """
    tables = inspect(connection)
    version = None
    if tables.has_table(schema.meta.name):
        version = connection.execute(select(schema.meta.c.schema_version)).scalar_one_or_none()
        if version is None:
            raise StorageError(
                StorageProblem.UNKNOWN, "the meta table is empty: not the bot's data"
            )
    if tables.has_table("alembic_version"):
        revision = MigrationContext.configure(connection).get_current_revision()
        if revision is not None:
            return SchemaState(revision)
    return SchemaState(None, None if version is None else int(version))
