"""The connection to the records database, SQLite or PostgreSQL: the URL as SQLAlchemy opens
it, an engine set up for each, and transactions that begin as the bot needs them.

SQLite is the default: one file, nothing to set up. PostgreSQL is for several bot processes (or
machines) sharing their records; everything specific to one database lives here, so the
queries in the other modules are the same for both.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import URL, Connection, Engine, Table, create_engine, event, make_url, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.pool import ConnectionPoolEntry, QueuePool, StaticPool

from bot.records.errors import RETRY_SQLSTATE_CLASS, StorageProblem, diagnose, sqlstate

log = logging.getLogger(__name__)

T = TypeVar("T")

DATABASE_FILE_NAME = "articlebot.sqlite3"
# Long enough for another process's write to finish, short enough that a stuck lock is reported
# while the person who clicked is still waiting.
DEFAULT_BUSY_TIMEOUT_SECONDS = 2.0
# PostgreSQL: how long a new connection may take before the server counts as down, and how long
# sent data may go unacknowledged before a connection counts as dead (a cut network path would
# otherwise hold the records worker for as long as the kernel keeps retrying, many minutes).
CONNECT_TIMEOUT_SECONDS = 5
TCP_USER_TIMEOUT_SECONDS = 30
# A transaction PostgreSQL gave up so that another could go on (a deadlock, a serialization
# failure) is run again, this many times in all, before its failure is reported.
TRANSACTION_ATTEMPTS = 3
# How long to wait between tries at switching a SQLite file to its write-ahead log while another
# connection holds the write lock.
WAL_SWITCH_RETRY_SECONDS = 0.01
# Execution option read by SQLite's "begin" listener: how the next transaction starts.
_BEGIN_MODE = "articlebot_begin"
# The driver every PostgreSQL URL is opened with; hosts hand out plain postgresql:// (or the
# older postgres://) URLs, which name none.
POSTGRESQL_DRIVER = "postgresql+psycopg"


class Backend(StrEnum):
    """The databases the records can live in."""

    SQLITE = "sqlite"
    POSTGRESQL = "postgresql"


# PostgreSQL advisory locks the bot's processes take in turn (SQLite's one write lock already
# does that there): any 64-bit numbers no other user of the database picks ("articl" 1, 2).
SCHEMA_LOCK = 0x6172_7469_636C_0001  # upgrading the schema
DELETING_LOCK = 0x6172_7469_636C_0002  # deleting records: retention, forget, withdraw


def database_url(url: str | URL) -> URL:
    """`url` as SQLAlchemy should open it: PostgreSQL ones through psycopg 3.

    ValueError names the URL (its password hidden) when it is not a URL, or names a database
    or driver the bot does not use.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as error:
        raise ValueError(f"not a database URL: {_shown(url)!r} ({error})") from None
    backend, _, driver = parsed.drivername.partition("+")
    if backend in ("postgresql", "postgres") and driver in ("", "psycopg"):
        return parsed.set(drivername=POSTGRESQL_DRIVER)
    if backend == "sqlite" and driver in ("", "pysqlite"):
        return parsed
    raise ValueError(
        f"only sqlite:// and postgresql:// database URLs are supported (PostgreSQL through "
        f"psycopg 3), got {_shown(parsed)!r}"
    )


def _shown(url: str | URL) -> str:
    if isinstance(url, URL):
        return url.render_as_string(hide_password=True)
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "..." if "@" in url else url  # what may hold a password is never echoed


class Database:
    """One records database: its engine, its transactions, and what only it needs.

    `folder`, when given, is created on first use (the data folder of a SQLite file).
    """

    def __init__(self, url: str | URL, busy_timeout: float, folder: Path | None = None) -> None:
        self.url = database_url(url)
        self.busy_timeout = busy_timeout
        self.backend = Backend(self.url.get_backend_name())
        self._folder = folder
        self.in_memory = self.backend is Backend.SQLITE and (
            self.url.database in (None, "", ":memory:") or self.url.query.get("mode") == "memory"
        )
        if self.backend is Backend.SQLITE:
            self.engine = _sqlite_engine(self.url, busy_timeout, in_memory=self.in_memory)
        else:
            self.engine = _postgresql_engine(self.url, busy_timeout)

    @property
    def is_sqlite(self) -> bool:
        return self.backend is Backend.SQLITE

    def prepare(self) -> None:
        """Create SQLite's folder, if it was given and is missing."""
        if self.is_sqlite and self._folder is not None:
            self._folder.mkdir(parents=True, exist_ok=True)

    def use_write_ahead_log(self) -> None:
        """Switch a SQLite file to its write-ahead log if it is not already (the mode is kept
        in the file): readers then never wait for a writer, nor the writer for readers.

        A file copied in some other journal mode that cannot be written is left as it is: it
        can still be read, and its writes fail as READ_ONLY anyway.

        The switch reads the file's header and then takes the write lock within one statement,
        and SQLite never calls the busy handler for a reader turning writer (two such waiting
        on each other would wait forever). So while another connection holds the write lock,
        as when several processes start on a fresh file together, it fails at once however
        long the busy timeout: it is tried again until that timeout has passed, and is done
        when another process has switched the file meanwhile.
        """
        if not self.is_sqlite:
            return
        deadline = time.monotonic() + self.busy_timeout
        while self.pragma("PRAGMA journal_mode")[0][0] not in ("wal", "memory"):
            try:
                self.pragma("PRAGMA journal_mode = WAL")
                return
            except sqlite3.Error as error:
                problem = diagnose(error)[0]
                if problem is StorageProblem.READ_ONLY:
                    return
                if problem is not StorageProblem.LOCKED or time.monotonic() >= deadline:
                    raise
                time.sleep(WAL_SWITCH_RETRY_SECONDS)

    def run(self, work: Callable[[Connection], T], *, write: bool, lock: int | None = None) -> T:
        """`work` in one transaction; a PostgreSQL transaction given up for another's sake
        (deadlock, serialization failure) is run again."""
        attempt = 1
        while True:
            try:
                with self.transaction(write=write, lock=lock) as connection:
                    return work(connection)
            except DBAPIError as error:
                code = sqlstate(error) or ""
                if attempt == TRANSACTION_ATTEMPTS or not code.startswith(RETRY_SQLSTATE_CLASS):
                    raise
                log.info("storage: transaction run again after %s (%s)", code, error.orig)
                attempt += 1

    @contextmanager
    def transaction(self, *, write: bool, lock: int | None = None) -> Iterator[Connection]:
        """A connection in a transaction that commits when the block ends, or rolls back.

        SQLite: a write transaction takes the write lock when it begins; in WAL mode, a reader
        that later tries to write fails at once if another write came in between, while
        waiting for the lock up front lets the busy timeout do its job. PostgreSQL: `lock`, when
        given, is taken first and held to the end, so the bot's processes take turns at it.
        """
        with self.engine.connect() as connection:
            if self.is_sqlite:
                connection.execution_options(**{_BEGIN_MODE: "IMMEDIATE" if write else "DEFERRED"})
            with connection.begin():
                if lock is not None and not self.is_sqlite:
                    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock})
                yield connection

    def probe_write(self) -> None:
        """Take the write lock and write, then roll back: whether writing works right now."""
        with self.engine.connect() as connection:
            if self.is_sqlite:
                connection.execution_options(**{_BEGIN_MODE: "IMMEDIATE"})
            probe = connection.begin()
            try:
                # Rewrites the one row with itself; on a read-only database this fails.
                connection.execute(text("UPDATE meta SET schema_version = schema_version"))
            finally:
                probe.rollback()

    def pragma(self, statement: str) -> list[Any]:
        """Rows of a SQLite PRAGMA run outside any transaction, as some must be."""
        raw = self.engine.raw_connection()
        try:
            cursor = raw.cursor()
            try:
                cursor.execute(statement)
                return list(cursor.fetchall())
            finally:
                cursor.close()
        finally:
            raw.close()

    def describe(self) -> str:
        """Where the database is and what runs it, for people: never the password."""
        if self.is_sqlite:
            files = [str(row[2]) for row in self.pragma("PRAGMA database_list") if row[1] == "main"]
            where = files[0] if files and files[0] else "in-memory database"
            return f"{where} (SQLite {sqlite3.sqlite_version})"
        with self.engine.connect() as connection:
            version = connection.execute(text("SHOW server_version")).scalar_one()
        shown = self.url.set(drivername="postgresql").render_as_string(hide_password=True)
        return f"{shown} (PostgreSQL {str(version).split()[0]})"

    def forget_connections(self) -> None:
        """Drop the pooled connections, after a failure: the file may be replaced or mended,
        or the server restarted, meanwhile."""
        if not self.in_memory:  # there, the one connection is the database
            self.engine.dispose()

    def close(self) -> None:
        """Close the pooled connections. A later call would open new ones."""
        self.engine.dispose()


def conflict_insert(connection: Connection, table: Table) -> Any:
    """An INSERT into `table` in the connection's own dialect, which knows ON CONFLICT (SQLite
    and PostgreSQL spell it alike, and SQLAlchemy builds it the same way for both)."""
    if connection.dialect.name == Backend.POSTGRESQL:
        return postgresql.insert(table)
    return sqlite.insert(table)


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


def _postgresql_engine(url: URL, busy_timeout: float) -> Engine:
    """An engine that finds out soon when the server is down, waits `busy_timeout` for a row
    another process holds, and checks a pooled connection before using it (the server may
    have restarted since)."""
    settings: dict[str, Any] = {
        "connect_timeout": CONNECT_TIMEOUT_SECONDS,
        "tcp_user_timeout": TCP_USER_TIMEOUT_SECONDS * 1000,
        "application_name": "articlebot",
        # 0 would mean waiting for ever.
        "options": f"-c lock_timeout={max(1, round(busy_timeout * 1000))}",
    }
    # What the URL says itself wins: the operator may know their network better.
    connect_args = {key: value for key, value in settings.items() if key not in url.query}
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args)
