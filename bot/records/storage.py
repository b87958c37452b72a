"""`Storage`: the one door to the bot's records, whichever database keeps them.

Every public method turns a database failure into `StorageError`, whose `problem` says what kind
of failure it is (locked, read-only, full, corrupt, unavailable) so callers can tell people what
to do, and whose `detail` keeps the database's own words for the log. Nobody's Discord id is
stored: people appear only as `Storage.pseudonym`, a keyed hash whose key never leaves the
database.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import URL, ColumnElement, Connection, ScalarSelect, Table, func, select
from sqlalchemy.exc import SQLAlchemyError

from bot.records import reloads, replies, retention, schema, shelf_changes
from bot.records.database import (
    DATABASE_FILE_NAME,
    DEFAULT_BUSY_TIMEOUT_SECONDS,
    DELETING_LOCK,
    SCHEMA_LOCK,
    Backend,
    Database,
)
from bot.records.errors import StorageError, StorageProblem, diagnose
from bot.records.migrations import MIGRATIONS_FOLDER
from bot.records.models import (
    BotProcess,
    ReloadOutcome,
    ReloadRequest,
    ReloadResult,
    ReplyRecord,
    SchemaUpgrade,
    ShelfChange,
    VoteOutcome,
    VoteTally,
)

if TYPE_CHECKING:
    from bot.config import Settings

log = logging.getLogger(__name__)

DEFAULT_RETENTION_DAYS = 90.0
DAY_SECONDS = 86_400.0

T = TypeVar("T")


class Storage:
    """The bot's records in one database, SQLite or PostgreSQL: record replies, votes and shelf
    changes, read them back, forget them.

    Not made for calls from several threads at once, but a Storage created in one thread may
    be used from another (the bot's storage worker, or the CLI's main thread). Any number of
    Storages, in any number of processes, may share one database.
    """

    def __init__(
        self,
        url: str | URL,
        *,
        retention_days: float = DEFAULT_RETENTION_DAYS,
        clock: Callable[[], float] = time.time,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT_SECONDS,
        migrations: Path = MIGRATIONS_FOLDER,
        folder: Path | None = None,
    ) -> None:
        """Check the settings and prepare the connection pool; the database is not touched.

        `url` is a SQLAlchemy URL: sqlite:///path, or postgresql://user:password@host/name as
        hosts hand them out. `busy_timeout` is how long to wait for what another process
        holds; `migrations` the folder of schema revision scripts; `folder` is created on
        first use (the data folder of a SQLite file). A missing, locked or damaged file, or a
        server that is down, shows only when a method is called, as StorageError, so the bot
        can start (and answer questions) whatever state its database is in.
        """
        if not (math.isfinite(retention_days) and retention_days > 0):
            raise ValueError(f"retention_days must be a positive number, got {retention_days!r}")
        if not (math.isfinite(busy_timeout) and busy_timeout >= 0):
            raise ValueError(f"busy_timeout must be zero or more seconds, got {busy_timeout!r}")
        self.retention_days = retention_days
        self._clock = clock
        self._database = Database(url, busy_timeout, folder)
        self._migrations = migrations
        self._revision: str | None = None
        self._salt = b""

    @classmethod
    def for_data_dir(
        cls,
        data_dir: Path,
        *,
        retention_days: float = DEFAULT_RETENTION_DAYS,
        clock: Callable[[], float] = time.time,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT_SECONDS,
    ) -> Storage:
        """Storage in the SQLite file `data_dir/articlebot.sqlite3`; the folder is created on
        first use, not here."""
        url = URL.create("sqlite", database=str(data_dir / DATABASE_FILE_NAME))
        return cls(
            url,
            retention_days=retention_days,
            clock=clock,
            busy_timeout=busy_timeout,
            folder=data_dir,
        )

    @property
    def backend(self) -> Backend:
        """Which database keeps the records."""
        return self._database.backend

    def migrate(self) -> SchemaUpgrade:
        """Bring the schema to the latest revision, and say what that took (nothing, when it
        is there already: then nothing is written).

        A database written by a newer bot is refused (StorageError UNKNOWN) and left untouched.
        Several processes may migrate one database at once: one upgrades, the others wait and
        find it done.
        """
        # Alembic loads only once a database is opened, not with every command that imports
        # the records (`articlebot ask` never opens them).
        from bot.records.revisions import Revisions, read_state

        with self._database_errors():
            self._database.prepare()
            revisions = Revisions.load(self._migrations)
            with self._database.transaction(write=False) as connection:
                state = read_state(connection)
            current = revisions.is_current(state)  # a newer bot's database is left as it is
            self._database.use_write_ahead_log()
            if current:
                upgrade = SchemaUpgrade(state.revision, revisions.head, ())
            else:
                upgrade = self._database.run(revisions.upgrade, write=True, lock=SCHEMA_LOCK)
            with self._database.transaction(write=False) as connection:
                state = read_state(connection)
                salt = connection.execute(select(schema.meta.c.pseudonym_salt)).scalar_one()
            revisions.is_current(state)  # another process may have upgraded it further
            self._revision, self._salt = state.revision, bytes(salt)
            return upgrade

    def pseudonym(self, user_id: int) -> str:
        """The name a person goes by in this database: HMAC-SHA256 of their id, in hex.

        The key is a random salt created with the database and kept only in it, so the same
        person has the same pseudonym across restarts, but nobody can get from a pseudonym back
        to the id without the database, nor match people across two databases.
        """
        with self._database_errors():
            self._ensure_migrated()
        return hmac.new(self._salt, str(user_id).encode("ascii"), hashlib.sha256).hexdigest()

    def record_reply(self, reply: ReplyRecord) -> None:
        """Store a reply and its citations, all or nothing.

        Raises ValueError when the id is not 32 lowercase hex digits, and AlreadyRecorded (a
        ValueError too) when it is recorded already.
        """
        replies.check_reply_id(reply.id)
        self._run(lambda connection: replies.store_reply(connection, reply), write=True)

    def record_vote(self, reply_id: str, voter_id: int, helpful: bool) -> VoteOutcome:
        """Record one person's vote on a reply; voting again replaces their earlier vote.

        The voter is stored only as their pseudonym. Raises UnknownReply when no reply with
        that id is recorded (never was, or was deleted since).
        """
        voter = self.pseudonym(voter_id)
        return self._run(
            lambda connection: replies.cast_vote(
                connection, reply_id, voter, helpful, self._clock()
            ),
            write=True,
        )

    def replies_since(self, since: float, guild_id: int | None = None) -> list[ReplyRecord]:
        """Every reply given at or after `since` (unix time), oldest first; only those given in
        one server when `guild_id` is set."""
        return self._run(
            lambda connection: replies.replies_since(connection, since, guild_id), write=False
        )

    def vote_tallies(self, since: float, guild_id: int | None = None) -> list[VoteTally]:
        """The replies voted on at or after `since`, with the votes cast since then; only
        replies given in one server when `guild_id` is set.

        Most "Not helpful" first; among equals, fewer "Helpful" first, then the older reply.
        A vote counts as cast when it was last changed.
        """
        return self._run(
            lambda connection: replies.vote_tallies(connection, since, guild_id), write=False
        )

    def record_shelf_change(self, change: ShelfChange) -> int:
        """Keep a change to a server's shelf and bump that shelf's version, in one transaction;
        the new version."""
        return self._run(
            lambda connection: shelf_changes.store_shelf_change(connection, change), write=True
        )

    def shelf_version(self, guild_id: int) -> int:
        """How many times a server's shelf has changed (0: never); one indexed read."""
        return self._run(
            lambda connection: shelf_changes.shelf_version(connection, guild_id), write=False
        )

    def shelf_changes_since(self, since: float, guild_id: int | None = None) -> list[ShelfChange]:
        """The shelf changes made at or after `since`, oldest first; one server's when
        `guild_id` is set."""
        return self._run(
            lambda connection: shelf_changes.shelf_changes_since(connection, since, guild_id),
            write=False,
        )

    def ask_reload(
        self, asked_in: str, asker_id: int | None, outcome: ReloadOutcome
    ) -> ReloadRequest:
        """Keep a reload asked in process `asked_in` by the moderator `asker_id` (None: the
        operator), for every other process to carry out, with `asked_in`'s own outcome of it
        (so it is never carried out there twice)."""
        asked_by = None if asker_id is None else self.pseudonym(asker_id)
        at = self._clock()
        reload_id = self._run(
            lambda connection: reloads.store_reload_request(
                connection, asked_in, asked_by, at, outcome
            ),
            write=True,
        )
        return ReloadRequest(reload_id, asked_by, asked_in, at)

    def reloads_to_carry_out(self, process: str, since: float) -> list[ReloadRequest]:
        """The reloads asked at or after `since` (when the process began reading its corpus)
        that `process` has not recorded an outcome of, oldest first."""
        return self._run(
            lambda connection: reloads.reloads_to_carry_out(connection, process, since),
            write=False,
        )

    def record_reload_outcome(
        self, process: str, reload_ids: list[int], outcome: ReloadOutcome
    ) -> None:
        """Keep `process`'s outcome of each of these reloads (one reload of the corpus may carry
        out several asked meanwhile); one recorded before, or a reload deleted since, is left
        as it is."""
        at = self._clock()
        self._run(
            lambda connection: reloads.store_reload_results(
                connection, process, reload_ids, outcome, at
            ),
            write=True,
        )

    def reload_results(self, reload_id: int) -> list[ReloadResult]:
        """Each process's outcome of one reload so far, by process name."""
        return self._run(
            lambda connection: reloads.reload_results(connection, reload_id), write=False
        )

    def keep_alive(self, process: BotProcess, alive_for: float) -> None:
        """Say that `process` runs and will say so again within `alive_for` seconds: until then
        a reload asked anywhere waits for its outcome."""
        now = self._clock()
        self._run(
            lambda connection: reloads.keep_alive(connection, process, now, alive_for),
            write=True,
        )

    def live_processes(self) -> list[BotProcess]:
        """The bot's processes that said they run and have not fallen silent since, by name."""
        now = self._clock()
        return self._run(lambda connection: reloads.live_processes(connection, now), write=False)

    def retire_process(self, name: str) -> None:
        """Forget a process that is stopping, so no reload waits for it."""
        self._run(lambda connection: reloads.retire_process(connection, name), write=True)

    def forget(self, user_id: int) -> int:
        """Delete every reply this person asked for, every vote they cast, every shelf change
        they made and every reload they asked for.

        Returns how many replies, votes, changes and reloads were deleted, counting the other
        people's votes on those replies, which go with them (citations go too, uncounted: they
        are part of a reply). In SQLite the deleted text is overwritten in the file, not just
        unlinked.
        """
        person = self.pseudonym(user_id)
        deleted = self._delete(retention.of_person(person))
        self._empty_write_ahead_log("forgot a person")
        return deleted

    def withdraw_reply(self, reply_id: str) -> int:
        """Delete one reply (it was never shown: sending it failed), with its citations and
        votes; how many replies and votes went (0 when it was not recorded)."""
        return self._delete(retention.of_reply(reply_id))

    def delete_expired(self) -> int:
        """Delete the replies, votes, shelf changes and reloads older than `retention_days`,
        and the rows of processes silent as long; how many (the processes uncounted).

        Counted as `forget` counts: a deleted reply takes its citations and votes with it.
        """
        cutoff = self._clock() - self.retention_days * DAY_SECONDS
        deleted = self._delete(retention.expired(cutoff))
        if deleted:
            self._empty_write_ahead_log("deleted expired records")
        return deleted

    def describe(self) -> str:
        """Where the records are and which database keeps them, for people: a file's path or
        a URL without its password, and the database's version. StorageError if unreachable."""
        with self._database_errors():
            return self._database.describe()

    def status(self) -> str:
        """Check the database end to end, for `articlebot check`; a one-line description:
        where it is, which database runs it, its schema revision and what it holds.

        Raises StorageError when it cannot be opened, migrated, integrity-checked (SQLite) or
        written (the write is a real one, in a transaction that is rolled back).
        """
        with self._database_errors():
            self._ensure_migrated()
            if self._database.is_sqlite:
                problems = [str(row[0]) for row in self._database.pragma("PRAGMA quick_check")]
                if problems != ["ok"]:
                    raise StorageError(StorageProblem.CORRUPT, "; ".join(problems[:5]))
            self._database.probe_write()
            replies_kept, answered, citations_kept, votes_kept, changes = self._database.run(
                _counts, write=False
            )
            where = self._database.describe()
        return (
            f"{where}: schema revision {self._revision}, {replies_kept} replies "
            f"({answered} answered, {replies_kept - answered} declined), {citations_kept} "
            f"citations, {votes_kept} votes, {changes} shelf changes"
        )

    def close(self) -> None:
        """Close the pooled connections. A later call would open new ones."""
        self._database.close()

    def _ensure_migrated(self) -> None:
        """Migrate once per Storage, and again after any failure (the database may have
        changed, been replaced or restarted)."""
        if self._revision is None:
            self.migrate()

    def _run(self, work: Callable[[Connection], T], *, write: bool, lock: int | None = None) -> T:
        """Run `work` in one transaction on a migrated database, failures as StorageError."""
        with self._database_errors():
            self._ensure_migrated()
            return self._database.run(work, write=write, lock=lock)

    def _delete(self, chosen: retention.Chosen) -> int:
        """Delete what `chosen` selects (see `retention`), the bot's processes one at a time."""
        return self._run(
            lambda connection: retention.delete_records(connection, chosen),
            write=True,
            lock=DELETING_LOCK,
        )

    def _empty_write_ahead_log(self, after: str) -> None:
        """SQLite: secure_delete zeroes what a transaction freed, but the pages as they were
        before stay in the write-ahead log until a checkpoint copies the new ones over them.
        (PostgreSQL keeps no such file of ours; see SECURITY.md for what it keeps.)"""
        if not self._database.is_sqlite:
            return
        with self._database_errors():
            busy = self._database.pragma("PRAGMA wal_checkpoint(TRUNCATE)")[0][0]
        if busy:
            log.warning(
                "storage: %s, but a reader kept the write-ahead log from being emptied; the "
                "deleted text stays in it until a later checkpoint",
                after,
            )

    @contextmanager
    def _database_errors(self) -> Iterator[None]:
        """Turn any database or file failure into StorageError.

        After a failure the pooled connections are dropped and the schema is checked again on
        the next call: the file may be replaced or mended meanwhile, or the server restarted,
        and a connection opened before would keep failing.
        """
        try:
            yield
        except StorageError:
            self._forget_connections()
            raise
        except (SQLAlchemyError, sqlite3.Error, OSError) as error:
            self._forget_connections()
            problem, detail = diagnose(error)
            log.debug("storage: %s (%s)", problem, detail, exc_info=True)
            raise StorageError(problem, detail) from error

    def _forget_connections(self) -> None:
        self._revision = None
        self._database.forget_connections()


def _counts(connection: Connection) -> tuple[int, int, int, int, int]:
    """How many replies (and of them answered), citations, votes and shelf changes are kept."""

    def count(table: Table, *where: ColumnElement[bool]) -> ScalarSelect[int]:
        return select(func.count()).select_from(table).where(*where).scalar_subquery()

    row = connection.execute(
        select(
            count(schema.replies),
            count(schema.replies, schema.replies.c.answered),
            count(schema.citations),
            count(schema.votes),
            count(schema.shelf_changes),
        )
    ).one()
    replies_kept, answered, citations_kept, votes_kept, changes = (int(value) for value in row)
    return replies_kept, answered, citations_kept, votes_kept, changes


def storage_for(settings: Settings) -> Storage:
    """The records database the settings name: DATABASE_URL, else a SQLite file in DATA_DIR."""
    if settings.database_url:
        return Storage(settings.database_url, retention_days=settings.retention_days)
    return Storage.for_data_dir(settings.data_dir, retention_days=settings.retention_days)
