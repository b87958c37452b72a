"""What callers see when the database fails: SQLite files read-only, locked, full, corrupt or
killed mid-write; a PostgreSQL server that refuses writes, holds a lock, is down, turns the bot
away or drops its connections. Always a StorageError saying which, never a hang or a crash, and
the same Storage works again once the database does."""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from databases import sqlite_url
from postgres_server import PostgresServer, free_port
from record_samples import ASKER_ID, NOW, VOTER_ID, make_reply
from sqlalchemy import Connection, Engine, event, make_url, text

from bot.records import (
    DATABASE_FILE_NAME,
    ShelfAction,
    ShelfChange,
    Storage,
    StorageError,
    StorageProblem,
)
from bot.records.database import Database

REPO = Path(__file__).resolve().parent.parent
GUILD = 111_111_111_111_111_111


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def database(data_dir: Path) -> Path:
    return data_dir / DATABASE_FILE_NAME


@pytest.fixture
def storage(data_dir: Path) -> Iterator[Storage]:
    opened = Storage.for_data_dir(data_dir)
    yield opened
    opened.close()


def read_only_url(path: Path) -> str:
    """The database opened as SQLite opens one on a read-only mount, without needing one."""
    return f"sqlite:///file:{path}?mode=ro&uri=true"


def query(path: Path, sql: str) -> list[Any]:
    """Run one statement on the database file with plain sqlite3, not Storage; its rows."""
    with closing(sqlite3.connect(path)) as connection:
        return connection.execute(sql).fetchall()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def problem_of(call: Callable[..., object], *args: object) -> StorageProblem:
    """The problem of the StorageError that `call(*args)` must raise."""
    with pytest.raises(StorageError) as caught:
        call(*args)
    assert caught.value.detail, "StorageError must carry the database's own words"
    return caught.value.problem


# SQLite


def test_a_read_only_database_refuses_writes_and_still_reads(
    storage: Storage, database: Path
) -> None:
    reply = make_reply(asker=storage.pseudonym(ASKER_ID))
    storage.record_reply(reply)
    storage.close()

    # A second Storage opened read-only, as SQLite opens a file on a read-only mount. This
    # works as root too, unlike chmod (see the next test).
    read_only = Storage(read_only_url(database))
    try:
        assert read_only.replies_since(0) == [reply]
        assert read_only.pseudonym(ASKER_ID) == reply.asker
        assert problem_of(read_only.record_reply, make_reply()) is StorageProblem.READ_ONLY
        assert problem_of(read_only.record_vote, reply.id, VOTER_ID, True) is (
            StorageProblem.READ_ONLY
        )
        assert problem_of(read_only.status) is StorageProblem.READ_ONLY
        assert read_only.vote_tallies(0) == []
    finally:
        read_only.close()


@pytest.mark.skipif(
    hasattr(os, "geteuid") and os.geteuid() == 0,
    reason="root writes through chmod 0o444; the read-only test above covers it through SQLite",
)
def test_a_read_only_file_and_folder_refuse_writes_and_still_read(
    storage: Storage, data_dir: Path
) -> None:
    reply = make_reply()
    storage.record_reply(reply)  # keeps a connection open, so the WAL files stay, as in the bot
    for path in data_dir.iterdir():
        path.chmod(0o444)
    data_dir.chmod(0o555)
    read_only = Storage.for_data_dir(data_dir)
    try:
        assert read_only.replies_since(0) == [reply]
        assert problem_of(read_only.record_reply, make_reply()) is StorageProblem.READ_ONLY
    finally:
        read_only.close()
        data_dir.chmod(0o755)
        for path in data_dir.iterdir():
            path.chmod(0o644)


@pytest.mark.skipif(
    hasattr(os, "geteuid") and os.geteuid() == 0,
    reason="root writes through chmod 0o555; SQLite would create the WAL files anyway",
)
def test_a_read_only_folder_with_no_wal_files_cannot_even_be_read(
    storage: Storage, data_dir: Path
) -> None:
    # SQLite needs the WAL's shared-memory file to read a WAL database, and cannot create it in
    # a read-only folder: reads fail too, and callers are told READ_ONLY, not CORRUPT.
    storage.record_reply(make_reply())
    storage.close()  # the last connection closes: SQLite removes the -wal and -shm files
    data_dir.chmod(0o555)
    read_only = Storage.for_data_dir(data_dir)
    try:
        assert problem_of(read_only.replies_since, 0) is StorageProblem.READ_ONLY
    finally:
        read_only.close()
        data_dir.chmod(0o755)


def test_a_missing_folder_is_unavailable(tmp_path: Path) -> None:
    storage = Storage(sqlite_url(tmp_path / "missing" / DATABASE_FILE_NAME))
    try:
        assert problem_of(storage.migrate) is StorageProblem.UNAVAILABLE
        assert problem_of(storage.status) is StorageProblem.UNAVAILABLE
    finally:
        storage.close()


def test_a_locked_database_says_locked_after_the_busy_timeout_and_still_reads(
    storage: Storage, data_dir: Path, database: Path
) -> None:
    reply = make_reply()
    storage.record_reply(reply)
    impatient = Storage.for_data_dir(data_dir, busy_timeout=0.1)
    try:
        with closing(sqlite3.connect(database, isolation_level=None)) as other_process:
            other_process.execute("BEGIN IMMEDIATE")  # holds the write lock
            started = time.monotonic()
            assert problem_of(impatient.record_reply, make_reply()) is StorageProblem.LOCKED
            assert time.monotonic() - started >= 0.09  # it waited before giving up
            assert impatient.replies_since(0) == [reply]  # WAL: readers never wait for writers
            other_process.execute("ROLLBACK")

        later = make_reply(at=NOW + 1)
        impatient.record_reply(later)  # the same Storage works again once the lock is gone
        assert impatient.replies_since(0) == [reply, later]
    finally:
        impatient.close()


@contextmanager
def page_limit(database: Path, pages: int) -> Iterator[None]:
    """Every new connection to `database` may grow it to `pages` pages and no further: past
    that SQLite fails exactly as on a full disk (SQLITE_FULL)."""

    def limit(dbapi_connection: sqlite3.Connection, _: object) -> None:
        files = [row[2] for row in dbapi_connection.execute("PRAGMA database_list")]
        if str(database.resolve()) in files:
            dbapi_connection.execute(f"PRAGMA max_page_count = {pages}")

    event.listen(Engine, "connect", limit)
    try:
        yield
    finally:
        event.remove(Engine, "connect", limit)


def test_a_full_database_says_full_and_keeps_what_was_stored(
    storage: Storage, data_dir: Path, database: Path
) -> None:
    stored = [make_reply(at=NOW + n) for n in range(5)]
    for reply in stored:
        storage.record_reply(reply)
    storage.close()
    (pages,) = query(database, "PRAGMA page_count")[0]

    with page_limit(database, pages):
        full = Storage.for_data_dir(data_dir)
        try:
            too_big = make_reply(question="Why? " * 4_000, at=NOW + 10)  # needs new pages
            assert problem_of(full.record_reply, too_big) is StorageProblem.FULL
            assert full.replies_since(0) == stored
        finally:
            full.close()

    assert query(database, "PRAGMA integrity_check") == [("ok",)]
    reopened = Storage.for_data_dir(data_dir)
    try:
        assert reopened.replies_since(0) == stored  # and nothing of the failed reply
    finally:
        reopened.close()


def test_a_file_of_garbage_is_corrupt_but_constructing_storage_is_fine(tmp_path: Path) -> None:
    garbage = tmp_path / DATABASE_FILE_NAME
    garbage.write_bytes(bytes(range(256)) * 64)

    storage = Storage(sqlite_url(garbage))
    try:
        assert problem_of(storage.migrate) is StorageProblem.CORRUPT
        assert problem_of(storage.status) is StorageProblem.CORRUPT
        assert problem_of(storage.record_reply, make_reply()) is StorageProblem.CORRUPT
    finally:
        storage.close()


def test_a_database_with_its_header_overwritten_is_corrupt(
    storage: Storage, data_dir: Path, database: Path
) -> None:
    storage.record_reply(make_reply())
    storage.close()
    with database.open("r+b") as file:
        file.write(b"\xde\xad\xbe\xef" * 25)

    damaged = Storage.for_data_dir(data_dir)
    try:
        assert problem_of(damaged.migrate) is StorageProblem.CORRUPT
        assert problem_of(damaged.status) is StorageProblem.CORRUPT
    finally:
        damaged.close()


def test_a_damaged_table_fails_the_status_check_as_corrupt(
    storage: Storage, data_dir: Path, database: Path
) -> None:
    for n in range(50):
        storage.record_reply(make_reply(at=NOW + n))
    storage.close()
    (page_size,) = query(database, "PRAGMA page_size")[0]
    (root,) = query(database, "SELECT rootpage FROM sqlite_master WHERE name = 'replies'")[0]
    with database.open("r+b") as file:
        file.seek((root - 1) * page_size)
        file.write(b"\xff" * page_size)

    damaged = Storage.for_data_dir(data_dir)
    try:
        assert problem_of(damaged.status) is StorageProblem.CORRUPT
    finally:
        damaged.close()


def test_a_database_mended_after_a_failure_works_without_a_new_storage(tmp_path: Path) -> None:
    path = tmp_path / DATABASE_FILE_NAME
    path.write_bytes(b"not a database" * 1000)
    storage = Storage(sqlite_url(path))
    try:
        assert problem_of(storage.migrate) is StorageProblem.CORRUPT
        path.unlink()  # a moderator moves the broken file aside

        reply = make_reply()
        storage.record_reply(reply)
        assert storage.replies_since(0) == [reply]
    finally:
        storage.close()


CRASHING_WRITER = """
import sys, uuid
from pathlib import Path
from bot.records import CitedPassage, ReplyRecord, Storage

storage = Storage.for_data_dir(Path(sys.argv[1]))
asker = storage.pseudonym(1)
QUOTE = "quote " * 50
n = 0
while True:
    n += 1
    citations = tuple(CitedPassage("seed-raw", k, 10 * k, 10 * k + 9, QUOTE) for k in (1, 2, 3))
    reply = ReplyRecord(
        uuid.uuid4().hex, f"question {n}", True, citations, "corpus-1", 1, 2, asker, float(n)
    )
    storage.record_reply(reply)
    print(reply.id, flush=True)
    storage.record_vote(reply.id, n, n % 2 == 0)
"""


def test_a_crash_mid_write_keeps_every_reply_already_recorded(
    tmp_path: Path, data_dir: Path, database: Path
) -> None:
    script = tmp_path / "crashing_writer.py"
    script.write_text(CRASHING_WRITER)
    search_path = [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(search_path)}
    writer = subprocess.Popen(
        [sys.executable, str(script), str(data_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
    )
    assert writer.stdout is not None
    try:
        printed = [writer.stdout.readline().strip() for _ in range(100)]
        assert all(printed), writer.stderr.read() if writer.stderr else "the writer stopped"
    finally:
        writer.send_signal(signal.SIGKILL)  # wherever it is: it does little but write
        rest, _ = writer.communicate(timeout=30)
    printed += rest.split()  # printed before the kill, so recorded before it too

    assert query(database, "PRAGMA integrity_check") == [("ok",)]
    stored = {row[0] for row in query(database, "SELECT id FROM replies")}
    assert set(printed) <= stored
    citation_counts = query(
        database,
        "SELECT count(*) FROM replies r JOIN citations c ON c.reply_id = r.id GROUP BY r.id",
    )
    assert {count for (count,) in citation_counts} == {3}  # no reply half-written


# PostgreSQL


@contextmanager
def session_of(server: PostgresServer, database_url: str) -> Iterator[psycopg.Connection[Any]]:
    """Another client of the database, as another process would be."""
    name = make_url(database_url).database
    with psycopg.connect(server.url(str(name))) as connection:
        yield connection


def throw_out_connections(server: PostgresServer, database_url: str) -> None:
    """End every session on the database, as a restart or a failover does."""
    server.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = %s AND pid <> pg_backend_pid()",
        [make_url(database_url).database],
    )


def test_a_postgresql_database_that_refuses_writes_still_reads(
    postgres_server: PostgresServer, postgres_database: str
) -> None:
    writer = Storage(postgres_database)
    reply = make_reply(asker=writer.pseudonym(ASKER_ID))
    writer.record_reply(reply)
    writer.close()
    # As a hot standby, or a role or database set read-only, answers.
    name = make_url(postgres_database).database
    postgres_server.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')

    read_only = Storage(postgres_database)
    try:
        assert read_only.replies_since(0) == [reply]
        assert read_only.pseudonym(ASKER_ID) == reply.asker
        assert problem_of(read_only.record_reply, make_reply()) is StorageProblem.READ_ONLY
        assert problem_of(read_only.record_vote, reply.id, VOTER_ID, True) is (
            StorageProblem.READ_ONLY
        )
        assert problem_of(read_only.status) is StorageProblem.READ_ONLY
    finally:
        read_only.close()


def test_a_postgresql_lock_held_elsewhere_says_locked_after_the_busy_timeout_and_still_reads(
    postgres_server: PostgresServer, postgres_database: str
) -> None:
    impatient = Storage(postgres_database, busy_timeout=0.1)
    reply = make_reply()
    impatient.record_reply(reply)
    try:
        with session_of(postgres_server, postgres_database) as other_process:
            other_process.execute("LOCK TABLE replies IN EXCLUSIVE MODE")  # held until commit
            assert problem_of(impatient.record_reply, make_reply()) is StorageProblem.LOCKED
            assert impatient.replies_since(0) == [reply]  # readers never wait for writers
        later = make_reply(at=NOW + 1)
        impatient.record_reply(later)  # the same Storage works again once the lock is gone
        assert impatient.replies_since(0) == [reply, later]
    finally:
        impatient.close()


def test_a_postgresql_server_that_is_down_is_unavailable_at_once(
    postgres_server: PostgresServer,
) -> None:
    nobody_listens = make_url(postgres_server.url("records")).set(port=free_port())
    down = Storage(nobody_listens)
    try:
        assert problem_of(down.migrate) is StorageProblem.UNAVAILABLE
        assert problem_of(down.status) is StorageProblem.UNAVAILABLE
        assert problem_of(down.record_reply, make_reply()) is StorageProblem.UNAVAILABLE
        assert problem_of(down.pseudonym, ASKER_ID) is StorageProblem.UNAVAILABLE
    finally:
        down.close()


@pytest.mark.parametrize(
    ("mistake", "words"),
    [("password", "password authentication failed"), ("database", "does not exist")],
)
def test_a_postgresql_server_that_turns_the_bot_away_is_unavailable_and_says_why(
    postgres_server: PostgresServer, postgres_database: str, mistake: str, words: str
) -> None:
    url = make_url(postgres_database)
    wrong = (
        url.set(password="not-the-password")
        if mistake == "password"
        else url.set(database="nowhere")
    )
    turned_away = Storage(wrong)
    try:
        with pytest.raises(StorageError) as caught:
            turned_away.record_reply(make_reply())
    finally:
        turned_away.close()
    assert caught.value.problem is StorageProblem.UNAVAILABLE
    assert words in caught.value.detail
    assert "not-the-password" not in caught.value.detail


def test_a_postgresql_database_closed_to_connections_and_opened_again_needs_no_new_storage(
    postgres_server: PostgresServer, postgres_database: str
) -> None:
    storage = Storage(postgres_database)
    first = make_reply()
    storage.record_reply(first)
    name = make_url(postgres_database).database
    try:
        postgres_server.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        throw_out_connections(postgres_server, postgres_database)
        assert problem_of(storage.record_reply, make_reply()) is StorageProblem.UNAVAILABLE
        assert problem_of(storage.replies_since, 0) is StorageProblem.UNAVAILABLE

        postgres_server.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        later = make_reply(at=NOW + 1)
        storage.record_reply(later)
        assert storage.replies_since(0) == [first, later]
    finally:
        storage.close()


def test_postgresql_connections_dropped_between_calls_are_replaced_unnoticed(
    postgres_server: PostgresServer, postgres_database: str
) -> None:
    storage = Storage(postgres_database)
    try:
        first = make_reply()
        storage.record_reply(first)
        throw_out_connections(postgres_server, postgres_database)  # a restart, a failover
        later = make_reply(at=NOW + 1)
        storage.record_reply(later)
        assert storage.replies_since(0) == [first, later]
    finally:
        storage.close()


def test_a_transaction_postgresql_gives_up_to_end_a_deadlock_is_run_again(
    postgres_server: PostgresServer, postgres_database: str
) -> None:
    storage = Storage(postgres_database)
    change = ShelfChange(GUILD, ShelfAction.ADDED, "server/ferry", "Ferry", "ab", None, NOW)
    storage.record_shelf_change(change)
    storage.close()
    database = Database(postgres_database, busy_timeout=60)
    attempts: list[int] = []

    with session_of(postgres_server, postgres_database) as other_process:
        other_process.execute("UPDATE shelves SET version = version")  # holds the shelf's row
        other_pid = other_process.info.backend_pid
        blocked = threading.Thread(
            target=lambda: (
                other_process.execute("UPDATE meta SET schema_version = schema_version"),
                other_process.commit(),
            )
        )

        def work(connection: Connection) -> int:
            attempts.append(len(attempts) + 1)
            if len(attempts) > 1:  # run again: once the other process is through
                blocked.join()
            # This transaction, not the other, is the one PostgreSQL gives up.
            connection.execute(text("SET LOCAL deadlock_timeout = '10ms'"))
            connection.execute(text("UPDATE meta SET schema_version = schema_version"))
            if len(attempts) == 1:  # the other process now waits for us, as we will for it
                blocked.start()
                wait_until_waiting(postgres_server, other_pid)
            connection.execute(text("UPDATE shelves SET version = version"))
            return len(attempts)

        assert database.run(work, write=True) == 2  # given up once, then run again
    database.close()


def wait_until_waiting(server: PostgresServer, pid: int) -> None:
    """Until the session `pid` waits for a lock (polled, for at most a minute)."""
    for _ in range(600):
        with psycopg.connect(server.url("postgres")) as watcher:
            waiting = watcher.execute(
                "SELECT count(*) FROM pg_locks WHERE pid = %s AND NOT granted", [pid]
            ).fetchone()
        if waiting and waiting[0]:
            return
        time.sleep(0.1)
    raise AssertionError(f"session {pid} never waited for a lock")
