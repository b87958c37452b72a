"""What the bot remembers: the replies it gave, what they cited, and the votes people cast on them.

The rest of the bot talks to the database only through `Storage`, so the database behind it can
change (today SQLite, one file in the data folder; later perhaps a server shared by several bot
processes) without touching a caller. Records come and go as the frozen dataclasses below.

Every public method turns a database failure into `StorageError`, whose `problem` says what kind
of failure it is (locked, read-only, full, corrupt, unavailable) so callers can tell people what
to do, and whose `detail` keeps the database's own words for the log. Nobody's Discord id is
stored: people appear only as `Storage.pseudonym`, a keyed hash whose key never leaves the
database.
"""

from __future__ import annotations

import errno
import hashlib
import hmac
import logging
import math
import re
import secrets
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import (
    URL,
    BigInteger,
    Boolean,
    Column,
    Connection,
    Engine,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Row,
    Table,
    Text,
    case,
    create_engine,
    delete,
    event,
    func,
    insert,
    inspect,
    make_url,
    or_,
    select,
    update,
)
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError
from sqlalchemy.pool import ConnectionPoolEntry, QueuePool, StaticPool

if TYPE_CHECKING:
    from bot.config import Settings

log = logging.getLogger(__name__)

DATABASE_FILE_NAME = "articlebot.sqlite3"
DEFAULT_RETENTION_DAYS = 90.0
# Long enough for another process's write to finish, short enough that a stuck lock is reported
# while the person who clicked is still waiting.
DEFAULT_BUSY_TIMEOUT_SECONDS = 2.0
DAY_SECONDS = 86_400.0

_REPLY_ID = re.compile(r"[0-9a-f]{32}")
# Execution option read by the "begin" listener: how the next transaction starts.
_BEGIN_MODE = "articlebot_begin"

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class CitedPassage:
    """One citation of a reply: a verbatim quote and where it stands in its article."""

    article_id: str
    paragraph: int
    start: int  # character offsets into the article file's decoded text
    end: int
    quote: str
    version: str = ""  # the article's content hash when quoted; "" when recorded before it was


@dataclass(frozen=True, slots=True)
class ReplyRecord:
    """One reply the bot gave to a question, answered or declined."""

    id: str  # 32 hex digits chosen by the caller: the vote buttons carry it
    question: str
    answered: bool  # False: the article does not say (a decline)
    citations: tuple[CitedPassage, ...]  # for a decline: the "maybe related" passage, if any
    corpus_version: str  # which corpus answered
    guild_id: int | None
    channel_id: int | None
    asker: str | None  # Storage.pseudonym of the asker, never the raw id
    at: float  # unix time, seconds


@dataclass(frozen=True, slots=True)
class VoteTally:
    """A reply and the votes on it: only the votes cast in the period asked about."""

    reply: ReplyRecord
    helpful: int
    not_helpful: int


class ShelfAction(StrEnum):
    """What a change did to a server's shelf."""

    ADDED = "added"
    REPLACED = "replaced"  # an article of the same name, with other text, was there before
    REMOVED = "removed"


@dataclass(frozen=True, slots=True)
class ShelfChange:
    """One article added to, replaced on or removed from a server's own shelf, and by whom."""

    guild_id: int
    action: ShelfAction
    article_id: str
    title: str
    version: str  # the content hash of the text added, replaced or removed
    actor: str | None  # Storage.pseudonym of the moderator; None when the operator did it
    at: float  # unix time, seconds


class VoteOutcome(StrEnum):
    """What a vote did: a first vote, a changed mind, or a click that changed nothing."""

    NEW = "new"
    CHANGED = "changed"
    SAME = "same"


class StorageProblem(StrEnum):
    """The kinds of database failure a caller can act on differently."""

    LOCKED = "locked"  # another process is writing; trying again later may work
    READ_ONLY = "read_only"  # the file, its folder or the mount cannot be written
    FULL = "full"  # the disk (or the database's size limit) is full
    CORRUPT = "corrupt"  # not a database, or a damaged one: restore a backup
    UNAVAILABLE = "unavailable"  # the file cannot be opened at all (missing folder, permissions)
    UNKNOWN = "unknown"  # anything else, including a database from a newer bot


class StorageError(Exception):
    """The database failed; `problem` says how, `detail` is the database's own words."""

    def __init__(self, problem: StorageProblem, detail: str) -> None:
        super().__init__(problem, detail)
        self.problem = problem
        self.detail = detail

    def __str__(self) -> str:
        return f"storage {self.problem}: {self.detail}"


class UnknownReply(Exception):
    """A vote named a reply that was never recorded, or has since been deleted."""

    def __init__(self, reply_id: str) -> None:
        super().__init__(reply_id)
        self.reply_id = reply_id

    def __str__(self) -> str:
        return f"no reply {self.reply_id!r} is recorded"


# The latest schema, which the queries use. Migration 1 creates the tables as they were at
# version 1 (`_version_1` below): a migration that changes a table must first give version 1 its
# own frozen copy of that table (a fresh database would otherwise get the change twice, which
# the tests would catch).
_schema = MetaData()
_meta = Table(
    "meta",
    _schema,
    Column("id", Integer, primary_key=True),  # always 1: the table holds one row
    Column("schema_version", Integer, nullable=False),
    Column("pseudonym_salt", LargeBinary, nullable=False),
)
_replies = Table(
    "replies",
    _schema,
    Column("id", Text, primary_key=True),
    Column("question", Text, nullable=False),
    Column("answered", Boolean, nullable=False),
    Column("corpus_version", Text, nullable=False),
    Column("guild_id", BigInteger),
    Column("channel_id", BigInteger),
    Column("asker", Text),
    Column("at", Float, nullable=False),
    Index("replies_at", "at"),
    Index("replies_asker", "asker"),
)


def _citation_columns() -> list[Column[Any]]:
    """The citations table's columns as version 1 made them (fresh objects each call)."""
    # The primary key (reply_id, n) doubles as the index that deleting a reply needs to find
    # its citations: without one, every cascaded delete would scan the whole table.
    return [
        Column("reply_id", ForeignKey("replies.id", ondelete="CASCADE"), primary_key=True),
        Column("n", Integer, primary_key=True),  # 1 for the first citation, as JSON counts
        Column("article_id", Text, nullable=False),
        Column("paragraph", Integer, nullable=False),
        Column("start", Integer, nullable=False),
        Column("end", Integer, nullable=False),
        Column("quote", Text, nullable=False),
    ]


_citations = Table(
    "citations",
    _schema,
    *_citation_columns(),
    # Version 2: the cited article's content hash, so /insights can tell an answer about text
    # that has since changed. NULL for citations recorded before.
    Column("article_version", Text),
)
_votes = Table(
    "votes",
    _schema,
    Column("reply_id", ForeignKey("replies.id", ondelete="CASCADE"), primary_key=True),
    Column("voter", Text, primary_key=True),
    Column("helpful", Boolean, nullable=False),
    Column("at", Float, nullable=False),  # when cast, or last changed
    Index("votes_voter", "voter"),
    Index("votes_at", "at"),
)


# Each server's shelf version, bumped by every change to its own articles: a process holding
# an older version loads that shelf again before answering there.
_shelves = Table(
    "shelves",
    _schema,
    Column("guild_id", BigInteger, primary_key=True, autoincrement=False),
    Column("version", Integer, nullable=False),
)
_shelf_changes = Table(
    "shelf_changes",
    _schema,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("guild_id", BigInteger, nullable=False),
    Column("action", Text, nullable=False),
    Column("article_id", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("version", Text, nullable=False),
    Column("actor", Text),  # a pseudonym; NULL for the operator
    Column("at", Float, nullable=False),
    Index("shelf_changes_guild_at", "guild_id", "at"),
    Index("shelf_changes_actor", "actor"),
)

# The tables as version 1 had them, for migration 1: the ones unchanged since are the latest
# schema's; citations is its frozen copy, without the column version 2 added.
_version_1 = MetaData()
for _table in (_meta, _replies, _votes):
    _table.to_metadata(_version_1)
Table("citations", _version_1, *_citation_columns())


def _create_tables(connection: Connection) -> None:
    """Migration 1: the tables, and the salt that keys every pseudonym in this database."""
    _version_1.create_all(connection)
    connection.execute(
        insert(_meta).values(id=1, schema_version=0, pseudonym_salt=secrets.token_bytes(32))
    )


def _add_shelves(connection: Connection) -> None:
    """Migration 2: which article version each citation quoted, and the servers' shelves."""
    connection.exec_driver_sql("ALTER TABLE citations ADD COLUMN article_version TEXT")
    _shelves.create(connection)
    _shelf_changes.create(connection)


# In order: migration i (counting from 1) turns a version i - 1 database into version i. Each one
# runs in the same transaction as the version bump, so a crash leaves either version, never half.
# Never edit a released migration; add the next one.
MIGRATIONS: tuple[Callable[[Connection], None], ...] = (_create_tables, _add_shelves)


class Storage:
    """The bot's records in one database: record replies and votes, read them back, forget them.

    Not made for calls from several threads at once, but a Storage created in one thread may
    be used from another (the bot's storage worker, or the CLI's main thread).
    """

    def __init__(
        self,
        url: str | URL,
        *,
        retention_days: float = DEFAULT_RETENTION_DAYS,
        clock: Callable[[], float] = time.time,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT_SECONDS,
    ) -> None:
        """Check the settings and prepare the connection pool; the database is not touched.

        A missing, locked or damaged file shows only when a method is called, as StorageError,
        so the bot can start (and answer questions) whatever state its database is in.
        """
        if not (math.isfinite(retention_days) and retention_days > 0):
            raise ValueError(f"retention_days must be a positive number, got {retention_days!r}")
        if not (math.isfinite(busy_timeout) and busy_timeout >= 0):
            raise ValueError(f"busy_timeout must be zero or more seconds, got {busy_timeout!r}")
        try:
            parsed = make_url(url)
        except ArgumentError as error:
            raise ValueError(f"not a database URL: {url!r} ({error})") from None
        if parsed.get_backend_name() != "sqlite":
            raise ValueError(f"only sqlite database URLs are supported, got {parsed!r}")
        self.retention_days = retention_days
        self._clock = clock
        self._in_memory = parsed.database in (None, "", ":memory:") or (
            parsed.query.get("mode") == "memory"
        )
        self._engine = _sqlite_engine(parsed, busy_timeout, in_memory=self._in_memory)
        self._folder_to_create: Path | None = None
        self._schema_version: int | None = None
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
        storage = cls(url, retention_days=retention_days, clock=clock, busy_timeout=busy_timeout)
        storage._folder_to_create = data_dir
        return storage

    def migrate(self) -> int:
        """Create or upgrade the schema and return its version; a no-op when it is current.

        A database written by a newer bot is refused (StorageError UNKNOWN) and left untouched.
        """
        with self._database_errors():
            if self._folder_to_create is not None:
                self._folder_to_create.mkdir(parents=True, exist_ok=True)
            known = len(MIGRATIONS)
            with self._transaction(write=False) as connection:
                version = _schema_version(connection)
            _refuse_newer(version, known)
            self._use_write_ahead_log()
            if version < known:
                for target in range(version + 1, known + 1):
                    self._apply_migration(target)
            with self._transaction(write=False) as connection:
                version = _schema_version(connection)
                salt = connection.execute(select(_meta.c.pseudonym_salt)).scalar_one()
            _refuse_newer(version, known)  # another process may have upgraded it meanwhile
            self._schema_version, self._salt = version, salt
            return version

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

        Raises ValueError when the id is not 32 lowercase hex digits or is already recorded.
        """
        if not _REPLY_ID.fullmatch(reply.id):
            raise ValueError(f"a reply id is 32 lowercase hex digits got {reply.id!r}")

        def store(connection: Connection) -> None:
            if _reply_exists(connection, reply.id):
                raise ValueError(f"reply {reply.id} is already recorded")
            connection.execute(
                insert(_replies).values(
                    id=reply.id,
                    question=reply.question,
                    answered=reply.answered,
                    corpus_version=reply.corpus_version,
                    guild_id=reply.guild_id,
                    channel_id=reply.channel_id,
                    asker=reply.asker,
                    at=reply.at,
                )
            )
            if reply.citations:
                connection.execute(
                    insert(_citations),
                    [
                        {
                            "reply_id": reply.id,
                            "n": n,
                            "article_id": c.article_id,
                            "paragraph": c.paragraph,
                            "start": c.start,
                            "end": c.end,
                            "quote": c.quote,
                            "article_version": c.version or None,
                        }
                        for n, c in enumerate(reply.citations, start=1)
                    ],
                )

        self._run(store, write=True)

    def record_vote(self, reply_id: str, voter_id: int, helpful: bool) -> VoteOutcome:
        """Record one person's vote on a reply; voting again replaces their earlier vote.

        The voter is stored only as their pseudonym. Raises UnknownReply when no reply with
        that id is recorded (never was, or was deleted since).
        """
        voter = self.pseudonym(voter_id)
        this_vote = (_votes.c.reply_id == reply_id) & (_votes.c.voter == voter)

        def vote(connection: Connection) -> VoteOutcome:
            if not _reply_exists(connection, reply_id):
                raise UnknownReply(reply_id)
            earlier = connection.execute(select(_votes.c.helpful).where(this_vote)).first()
            if earlier is None:
                connection.execute(
                    insert(_votes).values(
                        reply_id=reply_id, voter=voter, helpful=helpful, at=self._clock()
                    )
                )
                return VoteOutcome.NEW
            if earlier.helpful == helpful:
                return VoteOutcome.SAME
            connection.execute(
                update(_votes).where(this_vote).values(helpful=helpful, at=self._clock())
            )
            return VoteOutcome.CHANGED

        return self._run(vote, write=True)

    def replies_since(self, since: float, guild_id: int | None = None) -> list[ReplyRecord]:
        """Every reply given at or after `since` (unix time), oldest first; only those given in
        one server when `guild_id` is set."""
        recent = _replies.c.at >= since
        if guild_id is not None:
            recent = recent & (_replies.c.guild_id == guild_id)
        chosen = select(_replies.c.id).where(recent)

        def read(connection: Connection) -> list[ReplyRecord]:
            rows = connection.execute(
                select(_replies).where(recent).order_by(_replies.c.at, _replies.c.id)
            ).all()
            return _reply_records(rows, _citations_of(connection, chosen))

        return self._run(read, write=False)

    def vote_tallies(self, since: float, guild_id: int | None = None) -> list[VoteTally]:
        """The replies voted on at or after `since`, with the votes cast since then; only
        replies given in one server when `guild_id` is set.

        Most "Not helpful" first; among equals, fewer "Helpful" first, then the older reply.
        A vote counts as cast when it was last changed.
        """
        recent = _votes.c.at >= since
        if guild_id is not None:
            in_guild = select(_replies.c.id).where(_replies.c.guild_id == guild_id)
            recent = recent & _votes.c.reply_id.in_(in_guild)
        voted = select(_votes.c.reply_id).where(recent)
        helpful = func.sum(case((_votes.c.helpful, 1), else_=0)).label("helpful_votes")
        not_helpful = func.sum(case((_votes.c.helpful, 0), else_=1)).label("not_helpful_votes")
        query = (
            select(_replies, helpful, not_helpful)
            .join(_votes, _votes.c.reply_id == _replies.c.id)
            .where(recent)
            .group_by(_replies.c.id)
            .order_by(not_helpful.desc(), helpful, _replies.c.at, _replies.c.id)
        )

        def read(connection: Connection) -> list[VoteTally]:
            rows = connection.execute(query).all()
            replies = _reply_records(rows, _citations_of(connection, voted))
            return [
                VoteTally(reply, row.helpful_votes, row.not_helpful_votes)
                for reply, row in zip(replies, rows, strict=True)
            ]

        return self._run(read, write=False)

    def record_shelf_change(self, change: ShelfChange) -> int:
        """Keep a change to a server's shelf and bump that shelf's version, in one transaction;
        the new version."""

        def store(connection: Connection) -> int:
            connection.execute(
                insert(_shelf_changes).values(
                    guild_id=change.guild_id,
                    action=str(change.action),
                    article_id=change.article_id,
                    title=change.title,
                    version=change.version,
                    actor=change.actor,
                    at=change.at,
                )
            )
            return _bump_shelf_version(connection, change.guild_id)

        return self._run(store, write=True)

    def shelf_version(self, guild_id: int) -> int:
        """How many times a server's shelf has changed (0: never); one indexed read."""

        def read(connection: Connection) -> int:
            found = connection.execute(
                select(_shelves.c.version).where(_shelves.c.guild_id == guild_id)
            ).scalar_one_or_none()
            return int(found or 0)

        return self._run(read, write=False)

    def shelf_changes_since(self, since: float, guild_id: int | None = None) -> list[ShelfChange]:
        """The shelf changes made at or after `since`, oldest first; one server's when
        `guild_id` is set."""
        recent = _shelf_changes.c.at >= since
        if guild_id is not None:
            recent = recent & (_shelf_changes.c.guild_id == guild_id)

        def read(connection: Connection) -> list[ShelfChange]:
            rows = connection.execute(
                select(_shelf_changes).where(recent).order_by(_shelf_changes.c.id)
            ).all()
            return [
                ShelfChange(
                    row.guild_id,
                    ShelfAction(row.action),
                    row.article_id,
                    row.title,
                    row.version,
                    row.actor,
                    row.at,
                )
                for row in rows
            ]

        return self._run(read, write=False)

    def forget(self, user_id: int) -> int:
        """Delete every reply this person asked for and every vote they cast.

        Returns how many replies and votes were deleted, counting the other people's votes on
        those replies, which go with them (citations go too, uncounted: they are part of a
        reply). The deleted text is overwritten in the file, not just unlinked.
        """
        person = self.pseudonym(user_id)
        deleted = self._delete_replies_and_votes(
            _replies.c.asker == person, _votes.c.voter == person, _shelf_changes.c.actor == person
        )
        self._empty_write_ahead_log("forgot a person")
        return deleted

    def withdraw_reply(self, reply_id: str) -> int:
        """Delete one reply (it was never shown: sending it failed), with its citations and
        votes; how many replies and votes went (0 when it was not recorded)."""
        return self._delete_replies_and_votes(
            _replies.c.id == reply_id, _votes.c.reply_id == reply_id
        )

    def delete_expired(self) -> int:
        """Delete the replies and votes older than `retention_days`; returns how many.

        Counted as `forget` counts: a deleted reply takes its citations and votes with it.
        """
        cutoff = self._clock() - self.retention_days * DAY_SECONDS
        deleted = self._delete_replies_and_votes(
            _replies.c.at < cutoff, _votes.c.at < cutoff, _shelf_changes.c.at < cutoff
        )
        if deleted:
            self._empty_write_ahead_log("deleted expired records")
        return deleted

    def _empty_write_ahead_log(self, after: str) -> None:
        # secure_delete zeroes what a transaction freed, but the pages as they were before
        # stay in the write-ahead log until a checkpoint copies the new ones over them.
        with self._database_errors():
            busy = self._pragma("PRAGMA wal_checkpoint(TRUNCATE)")[0][0]
        if busy:
            log.warning(
                "storage: %s, but a reader kept the write-ahead log from being emptied; the "
                "deleted text stays in it until a later checkpoint",
                after,
            )

    def status(self) -> str:
        """Check the database end to end, for `articlebot check`; a one-line description.

        Raises StorageError when it cannot be opened, migrated, integrity-checked or written
        (the write is a real one, in a transaction that is rolled back).
        """
        with self._database_errors():
            self._ensure_migrated()
            problems = [str(row[0]) for row in self._pragma("PRAGMA quick_check")]
            if problems != ["ok"]:
                raise StorageError(StorageProblem.CORRUPT, "; ".join(problems[:5]))
            with self._engine.connect() as connection:
                connection.execution_options(**{_BEGIN_MODE: "IMMEDIATE"})
                probe = connection.begin()
                try:
                    connection.execute(update(_meta).values(schema_version=_meta.c.schema_version))
                finally:
                    probe.rollback()
            with self._transaction(write=False) as connection:
                counts = connection.execute(
                    select(
                        select(func.count()).select_from(_replies).scalar_subquery(),
                        select(func.count())
                        .select_from(_replies)
                        .where(_replies.c.answered)
                        .scalar_subquery(),
                        select(func.count()).select_from(_citations).scalar_subquery(),
                        select(func.count()).select_from(_votes).scalar_subquery(),
                        select(func.count()).select_from(_shelf_changes).scalar_subquery(),
                    )
                ).one()
            files = [
                str(row[2]) for row in self._pragma("PRAGMA database_list") if row[1] == "main"
            ]
        replies, answered, citations, votes, changes = counts
        where = files[0] if files and files[0] else "in-memory database"
        return (
            f"{where}: schema version {self._schema_version}, {replies} replies "
            f"({answered} answered, {replies - answered} declined), {citations} citations, "
            f"{votes} votes, {changes} shelf changes"
        )

    def close(self) -> None:
        """Close the pooled connections. A later call would open new ones."""
        self._engine.dispose()

    def _ensure_migrated(self) -> None:
        """Migrate once per Storage, and again after any failure (the file may have changed)."""
        if self._schema_version is None:
            self.migrate()

    def _run(self, work: Callable[[Connection], T], *, write: bool) -> T:
        """Run `work` in one transaction on a migrated database, failures as StorageError."""
        with self._database_errors():
            self._ensure_migrated()
            with self._transaction(write=write) as connection:
                return work(connection)

    @contextmanager
    def _transaction(self, *, write: bool) -> Iterator[Connection]:
        """A connection in a transaction that commits when the block ends, or rolls back.

        A write transaction takes the write lock when it begins: in WAL mode, a reader that
        later tries to write fails at once if another write came in between, while waiting
        for the lock up front lets the busy timeout do its job.
        """
        with self._engine.connect() as connection:
            connection.execution_options(**{_BEGIN_MODE: "IMMEDIATE" if write else "DEFERRED"})
            with connection.begin():
                yield connection

    def _apply_migration(self, target: int) -> None:
        """Run migration `target` and set the version to it, in one transaction."""
        with self._transaction(write=True) as connection:
            # Another process (the CLI beside the bot) may have migrated since we looked.
            if _schema_version(connection) >= target:
                return
            MIGRATIONS[target - 1](connection)
            connection.execute(update(_meta).values(schema_version=target))
        log.info("storage: database schema migrated to version %d", target)

    def _use_write_ahead_log(self) -> None:
        """Switch the file to WAL if it is not already (the mode is kept in the file): readers
        then never wait for a writer, nor the writer for readers.

        A database copied in some other mode that cannot be written is left as it is: it can
        still be read, and its writes fail as READ_ONLY anyway.
        """
        if self._pragma("PRAGMA journal_mode")[0][0] in ("wal", "memory"):
            return
        try:
            self._pragma("PRAGMA journal_mode = WAL")
        except sqlite3.Error as error:
            if _diagnose(error)[0] is not StorageProblem.READ_ONLY:
                raise

    def _pragma(self, statement: str) -> list[Any]:
        """Rows of a PRAGMA run outside any transaction, as some must be."""
        raw = self._engine.raw_connection()
        try:
            cursor = raw.cursor()
            try:
                cursor.execute(statement)
                return list(cursor.fetchall())
            finally:
                cursor.close()
        finally:
            raw.close()

    def _delete_replies_and_votes(
        self, replies_chosen: Any, votes_chosen: Any, changes_chosen: Any = None
    ) -> int:
        """Delete the replies, votes and shelf changes chosen, and the votes on those replies;
        how many (the shelves themselves stay as they are)."""

        def remove(connection: Connection) -> int:
            going = select(_replies.c.id).where(replies_chosen)
            votes = connection.execute(
                delete(_votes).where(or_(votes_chosen, _votes.c.reply_id.in_(going)))
            ).rowcount
            replies = connection.execute(delete(_replies).where(replies_chosen)).rowcount
            changes = 0
            if changes_chosen is not None:
                changes = connection.execute(delete(_shelf_changes).where(changes_chosen)).rowcount
            return int(votes) + int(replies) + int(changes)

        return self._run(remove, write=True)

    @contextmanager
    def _database_errors(self) -> Iterator[None]:
        """Turn any database or file failure into StorageError.

        After a failure the pooled connections are dropped and the schema is checked again on
        the next call: the file may be replaced or mended meanwhile, and a connection opened on
        the old one would keep failing.
        """
        try:
            yield
        except StorageError:
            self._forget_connections()
            raise
        except (SQLAlchemyError, sqlite3.Error, OSError) as error:
            self._forget_connections()
            problem, detail = _diagnose(error)
            log.debug("storage: %s (%s)", problem, detail, exc_info=True)
            raise StorageError(problem, detail) from error

    def _forget_connections(self) -> None:
        self._schema_version = None
        if not self._in_memory:  # there, the one connection is the database
            self._engine.dispose()


def _sqlite_engine(url: URL, busy_timeout: float, *, in_memory: bool) -> Engine:
    """An engine whose every connection enforces foreign keys, waits `busy_timeout` for locks,
    and lets us say how each transaction begins."""
    engine = create_engine(
        url,
        # The bot's storage worker uses connections the main thread may have opened.
        connect_args={"check_same_thread": False},
        # An in-memory database lives and dies with its one connection.
        poolclass=StaticPool if in_memory else QueuePool,
    )

    @event.listens_for(engine, "connect")
    def configure(dbapi_connection: sqlite3.Connection, _: ConnectionPoolEntry) -> None:
        # sqlite3 would begin transactions itself, late and deferred; the "begin" hook does it.
        dbapi_connection.isolation_level = None
        for statement in (
            "PRAGMA foreign_keys = ON",
            f"PRAGMA busy_timeout = {round(busy_timeout * 1000)}",
            # NORMAL in WAL mode keeps every commit through a crash of the process, but not
            # through a power cut or kernel crash: the last commits may vanish. A record the
            # bot has acknowledged (vote buttons already carry its id) must survive both, and
            # at the bot's write rate one fsync per commit costs nothing anyone notices.
            "PRAGMA synchronous = FULL",
            # Deleted rows are overwritten, so `forget` leaves no question text in the file.
            "PRAGMA secure_delete = ON",
        ):
            dbapi_connection.execute(statement)

    @event.listens_for(engine, "begin")
    def begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get(_BEGIN_MODE, "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


def _schema_version(connection: Connection) -> int:
    """The database's schema version; 0 for a database no migration has touched."""
    if not inspect(connection).has_table(_meta.name):
        return 0
    version = connection.execute(select(_meta.c.schema_version)).scalar_one_or_none()
    if version is None:
        raise StorageError(StorageProblem.UNKNOWN, "the meta table is empty: not the bot's data")
    return int(version)


def _refuse_newer(version: int, known: int) -> None:
    if version > known:
        raise StorageError(
            StorageProblem.UNKNOWN,
            f"the database has schema version {version}, newer than this bot knows "
            f"(up to {known}); it was left untouched: run a newer bot, or a fresh database",
        )


def _bump_shelf_version(connection: Connection, guild_id: int) -> int:
    """Count one more change of a server's shelf; its new version."""
    this_shelf = _shelves.c.guild_id == guild_id
    bumped = connection.execute(
        update(_shelves).where(this_shelf).values(version=_shelves.c.version + 1)
    )
    if not bumped.rowcount:
        connection.execute(insert(_shelves).values(guild_id=guild_id, version=1))
    return int(connection.execute(select(_shelves.c.version).where(this_shelf)).scalar_one())


def _reply_exists(connection: Connection, reply_id: str) -> bool:
    return (
        connection.execute(select(_replies.c.id).where(_replies.c.id == reply_id)).first()
        is not None
    )


def _citations_of(connection: Connection, reply_ids: Any) -> dict[str, list[CitedPassage]]:
    """The citations of the replies `reply_ids` selects, in order, by reply id."""
    rows = connection.execute(
        select(_citations)
        .where(_citations.c.reply_id.in_(reply_ids))
        .order_by(_citations.c.reply_id, _citations.c.n)
    )
    found: dict[str, list[CitedPassage]] = {}
    for row in rows:
        found.setdefault(row.reply_id, []).append(
            CitedPassage(
                row.article_id,
                row.paragraph,
                row.start,
                row.end,
                row.quote,
                row.article_version or "",
            )
        )
    return found


def _reply_records(
    rows: Sequence[Row[Any]], citations: dict[str, list[CitedPassage]]
) -> list[ReplyRecord]:
    return [
        ReplyRecord(
            id=row.id,
            question=row.question,
            answered=bool(row.answered),
            citations=tuple(citations.get(row.id, ())),
            corpus_version=row.corpus_version,
            guild_id=row.guild_id,
            channel_id=row.channel_id,
            asker=row.asker,
            at=row.at,
        )
        for row in rows
    ]


# SQLite's result codes by kind; extended codes (SQLITE_READONLY_DIRECTORY) by their base code.
_PROBLEM_BY_SQLITE_CODE = {
    "SQLITE_BUSY": StorageProblem.LOCKED,
    "SQLITE_LOCKED": StorageProblem.LOCKED,
    "SQLITE_READONLY": StorageProblem.READ_ONLY,
    "SQLITE_FULL": StorageProblem.FULL,
    "SQLITE_CORRUPT": StorageProblem.CORRUPT,
    "SQLITE_NOTADB": StorageProblem.CORRUPT,
    "SQLITE_CANTOPEN": StorageProblem.UNAVAILABLE,
}
# The same kinds by SQLite's words, for errors that carry no code.
_PROBLEM_BY_WORDS = (
    ("database is locked", StorageProblem.LOCKED),
    ("database table is locked", StorageProblem.LOCKED),
    ("readonly database", StorageProblem.READ_ONLY),
    ("database or disk is full", StorageProblem.FULL),
    ("file is not a database", StorageProblem.CORRUPT),
    ("database disk image is malformed", StorageProblem.CORRUPT),
    ("unable to open database file", StorageProblem.UNAVAILABLE),
)
_PROBLEM_BY_ERRNO = {
    errno.EROFS: StorageProblem.READ_ONLY,
    errno.EACCES: StorageProblem.READ_ONLY,
    errno.EPERM: StorageProblem.READ_ONLY,
    errno.ENOSPC: StorageProblem.FULL,
    errno.EDQUOT: StorageProblem.FULL,
}


def _diagnose(error: BaseException) -> tuple[StorageProblem, str]:
    """What kind of failure `error` is, and the database's (or the OS's) own words."""
    cause = error.orig if isinstance(error, DBAPIError) else error
    if isinstance(cause, OSError):
        return _PROBLEM_BY_ERRNO.get(cause.errno or 0, StorageProblem.UNAVAILABLE), str(cause)
    detail = str(cause)
    code = getattr(cause, "sqlite_errorname", "") or ""
    base_code = "_".join(code.split("_")[:2])
    if base_code in _PROBLEM_BY_SQLITE_CODE:
        return _PROBLEM_BY_SQLITE_CODE[base_code], detail
    words = detail.lower()
    for phrase, problem in _PROBLEM_BY_WORDS:
        if phrase in words:
            return problem, detail
    return StorageProblem.UNKNOWN, detail


def storage_for(settings: Settings) -> Storage:
    """The records database the settings name: DATABASE_URL, else a SQLite file in DATA_DIR."""
    if settings.database_url:
        return Storage(settings.database_url, retention_days=settings.retention_days)
    return Storage.for_data_dir(settings.data_dir, retention_days=settings.retention_days)
