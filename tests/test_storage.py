"""Storage on real SQLite files: records, votes, pseudonyms, forgetting, retention, migrations,
and what callers see when the database is read-only, locked, full, corrupt or killed mid-write."""

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
from dataclasses import replace
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy import Connection, Engine, event

import bot.storage
from bot.storage import (
    DATABASE_FILE_NAME,
    MIGRATIONS,
    CitedPassage,
    ReplyRecord,
    Storage,
    StorageError,
    StorageProblem,
    UnknownReply,
    VoteOutcome,
    VoteTally,
)

REPO = Path(__file__).resolve().parent.parent
DAY = 86_400.0
NOW = 1_750_000_000.0
ASKER_ID = 987_654_321_012_345_678  # a Discord snowflake, unlike any other number stored here
VOTER_ID = 876_543_210_987_654_321
OTHER_ID = 765_432_109_876_543_210

PASSAGE = CitedPassage(
    article_id="seed-raw",
    paragraph=3,
    start=120,
    end=181,
    quote="China opposes the meeting, saying it would raise tensions.",
)
BASE_REPLY = ReplyRecord(
    id="0" * 32,
    question="Why does China oppose the meeting?",
    answered=True,
    citations=(PASSAGE,),
    corpus_version="corpus-1",
    guild_id=111_111_111_111_111_111,
    channel_id=222_222_222_222_222_222,
    asker=None,
    at=NOW,
)


class Clock:
    """A clock the test sets by hand."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def make_reply(**changes: Any) -> ReplyRecord:
    """A reply with a fresh id; keywords replace any field."""
    return replace(BASE_REPLY, **{"id": uuid4().hex, **changes})


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def database(data_dir: Path) -> Path:
    return data_dir / DATABASE_FILE_NAME


@pytest.fixture
def storage(data_dir: Path, clock: Clock) -> Iterator[Storage]:
    opened = Storage.for_data_dir(data_dir, clock=clock)
    yield opened
    opened.close()


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def read_only_url(path: Path) -> str:
    """The database opened as SQLite opens one on a read-only mount, without needing one."""
    return f"sqlite:///file:{path}?mode=ro&uri=true"


def query(path: Path, sql: str) -> list[Any]:
    """Run one statement on the database file with plain sqlite3, not Storage; its rows."""
    with closing(sqlite3.connect(path)) as connection:
        return connection.execute(sql).fetchall()


def file_bytes(folder: Path) -> bytes:
    """Everything SQLite keeps on disk in this folder: the database, its WAL and shared memory."""
    return b"".join(p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file())


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def problem_of(call: Callable[..., object], *args: object) -> StorageProblem:
    """The problem of the StorageError that `call(*args)` must raise."""
    with pytest.raises(StorageError) as caught:
        call(*args)
    assert caught.value.detail, "StorageError must carry the database's own words"
    return caught.value.problem


# Records


def test_replies_round_trip_with_their_citations_in_order(storage: Storage) -> None:
    answered = make_reply(
        citations=(PASSAGE, replace(PASSAGE, paragraph=5, start=400, end=420, quote="a second")),
        asker=storage.pseudonym(ASKER_ID),
    )
    related = make_reply(
        question="Who won the match?", answered=False, at=NOW + 1, guild_id=None, channel_id=None
    )
    declined = make_reply(question="What is the weather?", answered=False, citations=(), at=NOW + 2)
    for reply in (declined, answered, related):  # stored out of order: read back oldest first
        storage.record_reply(reply)

    assert storage.replies_since(NOW) == [answered, related, declined]
    assert storage.replies_since(NOW + 1) == [related, declined]
    assert storage.replies_since(NOW + 3) == []


def test_records_survive_closing_and_reopening(storage: Storage, data_dir: Path) -> None:
    reply = make_reply()
    storage.record_reply(reply)
    storage.record_vote(reply.id, VOTER_ID, helpful=True)
    storage.close()

    reopened = Storage.for_data_dir(data_dir)
    try:
        assert reopened.replies_since(0) == [reply]
        assert reopened.vote_tallies(0) == [VoteTally(reply, helpful=1, not_helpful=0)]
    finally:
        reopened.close()


def test_a_reply_id_must_be_new_and_look_like_uuid4_hex(storage: Storage) -> None:
    reply = make_reply()
    storage.record_reply(reply)
    with pytest.raises(ValueError, match="already recorded"):
        storage.record_reply(replace(reply, question="something else"))
    with pytest.raises(ValueError, match="32 lowercase hex"):
        storage.record_reply(make_reply(id="not-a-uuid"))
    assert storage.replies_since(0) == [reply]


def test_for_data_dir_creates_the_folder_on_first_use_not_when_constructed(
    data_dir: Path,
) -> None:
    storage = Storage.for_data_dir(data_dir)
    assert not data_dir.exists()
    try:
        assert storage.migrate() == len(MIGRATIONS)
        assert (data_dir / DATABASE_FILE_NAME).is_file()
    finally:
        storage.close()


def test_bad_settings_are_refused_with_the_value_named(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="retention_days"):
        Storage(sqlite_url(tmp_path / "x.sqlite3"), retention_days=0)
    with pytest.raises(ValueError, match="busy_timeout"):
        Storage(sqlite_url(tmp_path / "x.sqlite3"), busy_timeout=-1)
    with pytest.raises(ValueError, match="only sqlite"):
        Storage("postgresql://bot@db.example/articlebot")
    with pytest.raises(ValueError, match="not a database URL"):
        Storage("no url at all")


def test_status_describes_the_database_and_its_records(storage: Storage, database: Path) -> None:
    storage.record_reply(make_reply())
    storage.record_reply(make_reply(answered=False, citations=()))

    status = storage.status()

    assert str(database) in status
    assert f"schema version {len(MIGRATIONS)}" in status
    assert "2 replies (1 answered, 1 declined), 1 citations, 0 votes" in status


def test_storage_created_in_one_thread_works_in_another(storage: Storage) -> None:
    storage.migrate()  # the pool now holds a connection this thread opened
    reply = make_reply()
    failures: list[BaseException] = []

    def work() -> None:
        try:
            storage.record_reply(reply)
            storage.record_vote(reply.id, VOTER_ID, helpful=False)
        except BaseException as error:  # handed back to the test's thread
            failures.append(error)

    worker = threading.Thread(target=work)
    worker.start()
    worker.join()

    assert failures == []
    assert storage.vote_tallies(0) == [VoteTally(reply, helpful=0, not_helpful=1)]


def test_an_in_memory_database_works_across_threads() -> None:
    storage = Storage("sqlite://")
    reply = make_reply()
    try:
        worker = threading.Thread(target=storage.record_reply, args=(reply,))
        worker.start()
        worker.join()
        assert storage.replies_since(0) == [reply]
    finally:
        storage.close()


# Votes


def test_vote_is_new_then_same_then_changed(storage: Storage) -> None:
    reply = make_reply()
    storage.record_reply(reply)

    assert storage.record_vote(reply.id, VOTER_ID, helpful=True) is VoteOutcome.NEW
    assert storage.record_vote(reply.id, VOTER_ID, helpful=True) is VoteOutcome.SAME
    assert storage.record_vote(reply.id, VOTER_ID, helpful=False) is VoteOutcome.CHANGED
    assert storage.vote_tallies(0) == [VoteTally(reply, helpful=0, not_helpful=1)]


def test_each_person_has_one_vote_per_reply(storage: Storage) -> None:
    first, second = make_reply(), make_reply(at=NOW + 1)
    storage.record_reply(first)
    storage.record_reply(second)
    for _ in range(3):
        storage.record_vote(first.id, VOTER_ID, helpful=True)
    storage.record_vote(first.id, OTHER_ID, helpful=True)
    storage.record_vote(second.id, VOTER_ID, helpful=True)

    assert sorted(storage.vote_tallies(0), key=lambda tally: tally.reply.at) == [
        VoteTally(first, helpful=2, not_helpful=0),
        VoteTally(second, helpful=1, not_helpful=0),
    ]


def test_a_vote_for_an_unknown_reply_raises_and_stores_nothing(storage: Storage) -> None:
    with pytest.raises(UnknownReply) as caught:
        storage.record_vote(uuid4().hex, VOTER_ID, helpful=True)
    assert caught.value.reply_id in str(caught.value)
    assert storage.vote_tallies(0) == []


def test_tallies_count_votes_cast_since_and_put_most_not_helpful_first(
    storage: Storage, clock: Clock
) -> None:
    liked, disliked, old = make_reply(), make_reply(at=NOW + 1), make_reply(at=NOW + 2)
    for reply in (liked, disliked, old):
        storage.record_reply(reply)
    clock.now = NOW + 10
    storage.record_vote(old.id, VOTER_ID, helpful=False)  # before the period asked about
    storage.record_vote(disliked.id, VOTER_ID, helpful=False)
    clock.now = NOW + 100
    storage.record_vote(liked.id, VOTER_ID, helpful=True)
    storage.record_vote(liked.id, OTHER_ID, helpful=True)
    storage.record_vote(disliked.id, OTHER_ID, helpful=False)
    storage.record_vote(disliked.id, ASKER_ID, helpful=True)

    assert storage.vote_tallies(NOW + 100) == [
        VoteTally(disliked, helpful=1, not_helpful=1),
        VoteTally(liked, helpful=2, not_helpful=0),
    ]
    assert storage.vote_tallies(0)[0] == VoteTally(disliked, helpful=1, not_helpful=2)


# Pseudonyms


def test_pseudonym_is_stable_across_reopening_and_never_the_raw_id(
    storage: Storage, data_dir: Path, tmp_path: Path
) -> None:
    pseudonym = storage.pseudonym(ASKER_ID)
    storage.close()
    reopened = Storage.for_data_dir(data_dir)
    elsewhere = Storage.for_data_dir(tmp_path / "another")
    try:
        assert reopened.pseudonym(ASKER_ID) == pseudonym
        assert len(pseudonym) == 64 and set(pseudonym) <= set("0123456789abcdef")
        assert str(ASKER_ID) not in pseudonym
        assert reopened.pseudonym(OTHER_ID) != pseudonym
        assert elsewhere.pseudonym(ASKER_ID) != pseudonym  # each database has its own salt
    finally:
        reopened.close()
        elsewhere.close()


def test_raw_user_ids_never_reach_the_database_files(storage: Storage, data_dir: Path) -> None:
    reply = make_reply(asker=storage.pseudonym(ASKER_ID))
    storage.record_reply(reply)
    storage.record_vote(reply.id, VOTER_ID, helpful=True)
    storage.record_vote(reply.id, ASKER_ID, helpful=False)

    def assert_no_raw_ids() -> None:
        stored = file_bytes(data_dir)
        assert reply.id.encode() in stored  # the files are readable: the check can see
        for user_id in (ASKER_ID, VOTER_ID):
            assert str(user_id).encode() not in stored
            assert user_id.to_bytes(8, "big") not in stored  # as SQLite stores an integer

    assert_no_raw_ids()  # the write-ahead log, before a checkpoint
    storage.close()
    assert_no_raw_ids()  # the database file, after it


# Forgetting and retention


def test_forget_removes_a_persons_replies_and_votes_and_nothing_else(storage: Storage) -> None:
    theirs = make_reply(asker=storage.pseudonym(ASKER_ID))
    others = make_reply(asker=storage.pseudonym(OTHER_ID), at=NOW + 1)
    storage.record_reply(theirs)
    storage.record_reply(others)
    storage.record_vote(others.id, ASKER_ID, helpful=False)  # their vote: goes
    storage.record_vote(theirs.id, VOTER_ID, helpful=True)  # on their reply: goes with it
    storage.record_vote(others.id, VOTER_ID, helpful=True)  # nothing of theirs: stays

    assert storage.forget(ASKER_ID) == 3

    assert storage.replies_since(0) == [others]
    assert storage.vote_tallies(0) == [VoteTally(others, helpful=1, not_helpful=0)]
    assert storage.forget(ASKER_ID) == 0


def test_forget_leaves_no_trace_of_the_question_in_the_files(
    storage: Storage, data_dir: Path
) -> None:
    secret = "Is my neighbour Ingrid Halvorsen-Quist on the list?"
    storage.record_reply(make_reply(question=secret, asker=storage.pseudonym(ASKER_ID)))
    kept = make_reply(question="What did the minister announce?")
    storage.record_reply(kept)
    assert secret.encode() in file_bytes(data_dir)

    storage.forget(ASKER_ID)

    assert secret.encode() not in file_bytes(data_dir)
    assert storage.pseudonym(ASKER_ID).encode() not in file_bytes(data_dir)
    assert storage.replies_since(0) == [kept]


def test_delete_expired_removes_only_what_is_older_than_retention(
    data_dir: Path, clock: Clock
) -> None:
    storage = Storage.for_data_dir(data_dir, retention_days=30, clock=clock)
    try:
        expired = make_reply(at=NOW - 31 * DAY)
        kept = make_reply(at=NOW - 29 * DAY)
        storage.record_reply(expired)
        storage.record_reply(kept)
        clock.now = NOW - 31 * DAY
        storage.record_vote(kept.id, VOTER_ID, helpful=True)  # an expired vote on a kept reply
        clock.now = NOW - DAY
        storage.record_vote(expired.id, VOTER_ID, helpful=True)  # goes with its reply
        storage.record_vote(kept.id, OTHER_ID, helpful=False)  # stays
        clock.now = NOW

        assert storage.delete_expired() == 3

        assert storage.replies_since(0) == [kept]
        assert storage.vote_tallies(0) == [VoteTally(kept, helpful=0, not_helpful=1)]
        assert storage.delete_expired() == 0
    finally:
        storage.close()


def test_deleting_a_reply_deletes_its_citations(storage: Storage, database: Path) -> None:
    storage.record_reply(make_reply(asker=storage.pseudonym(ASKER_ID)))
    storage.forget(ASKER_ID)
    assert query(database, "SELECT count(*) FROM citations") == [(0,)]


# Migrations


def test_a_fresh_database_gets_the_latest_schema(storage: Storage, database: Path) -> None:
    assert storage.migrate() == len(MIGRATIONS)
    assert query(database, "SELECT schema_version FROM meta") == [(len(MIGRATIONS),)]
    assert query(database, "PRAGMA journal_mode") == [("wal",)]
    tables = {row[0] for row in query(database, "SELECT name FROM sqlite_master")}
    assert {"meta", "replies", "citations", "votes"} <= tables
    assert {"replies_at", "replies_asker", "votes_voter", "votes_at"} <= tables


def test_migrating_again_changes_nothing(storage: Storage, data_dir: Path, database: Path) -> None:
    storage.record_reply(make_reply())
    storage.close()
    before = digest(database)

    again = Storage.for_data_dir(data_dir)
    try:
        assert again.migrate() == len(MIGRATIONS)
        assert again.migrate() == len(MIGRATIONS)
    finally:
        again.close()
    assert digest(database) == before


def test_a_database_copied_in_another_journal_mode_is_switched_to_wal(
    storage: Storage, data_dir: Path, database: Path
) -> None:
    reply = make_reply()
    storage.record_reply(reply)
    storage.close()
    assert query(database, "PRAGMA journal_mode = DELETE") == [("delete",)]

    read_only = Storage(read_only_url(database))  # cannot switch it, and need not to read
    try:
        assert read_only.replies_since(0) == [reply]
    finally:
        read_only.close()
    assert query(database, "PRAGMA journal_mode") == [("delete",)]

    reopened = Storage.for_data_dir(data_dir)
    try:
        reopened.migrate()
    finally:
        reopened.close()
    assert query(database, "PRAGMA journal_mode") == [("wal",)]


def test_an_older_database_is_upgraded_keeping_its_records(
    storage: Storage, data_dir: Path, database: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reply = make_reply(asker=storage.pseudonym(ASKER_ID))
    storage.record_reply(reply)
    pseudonym = storage.pseudonym(ASKER_ID)
    storage.close()

    def add_vote_reasons(connection: Connection) -> None:
        connection.exec_driver_sql("ALTER TABLE votes ADD COLUMN reason TEXT")

    monkeypatch.setattr(bot.storage, "MIGRATIONS", (*MIGRATIONS, add_vote_reasons))
    upgraded = Storage.for_data_dir(data_dir)
    try:
        assert upgraded.migrate() == len(MIGRATIONS) + 1
        assert upgraded.replies_since(0) == [reply]
        assert upgraded.pseudonym(ASKER_ID) == pseudonym  # the salt survives upgrades
    finally:
        upgraded.close()
    assert "reason" in {row[1] for row in query(database, "PRAGMA table_info(votes)")}
    assert query(database, "SELECT schema_version FROM meta") == [(len(MIGRATIONS) + 1,)]


def test_a_failed_migration_leaves_the_previous_version_whole(
    storage: Storage, data_dir: Path, database: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage.migrate()
    storage.close()

    def half_done(connection: Connection) -> None:
        connection.exec_driver_sql("CREATE TABLE reasons (reply_id TEXT)")
        connection.exec_driver_sql("INSERT INTO no_such_table VALUES (1)")

    monkeypatch.setattr(bot.storage, "MIGRATIONS", (*MIGRATIONS, half_done))
    failing = Storage.for_data_dir(data_dir)
    try:
        assert problem_of(failing.migrate) is StorageProblem.UNKNOWN
    finally:
        failing.close()
    assert query(database, "SELECT schema_version FROM meta") == [(len(MIGRATIONS),)]
    assert query(database, "SELECT name FROM sqlite_master WHERE name = 'reasons'") == []


def test_a_database_from_a_newer_bot_is_refused_and_left_untouched(
    storage: Storage, data_dir: Path, database: Path
) -> None:
    storage.record_reply(make_reply())
    storage.close()
    newer = len(MIGRATIONS) + 1
    with closing(sqlite3.connect(database)) as connection, connection:
        connection.execute("UPDATE meta SET schema_version = ?", (newer,))
    before = digest(database)

    refused = Storage.for_data_dir(data_dir)
    try:
        with pytest.raises(StorageError) as caught:
            refused.migrate()
        assert caught.value.problem is StorageProblem.UNKNOWN
        assert "newer" in caught.value.detail
        assert problem_of(refused.record_reply, make_reply()) is StorageProblem.UNKNOWN
        assert problem_of(refused.replies_since, 0) is StorageProblem.UNKNOWN
    finally:
        refused.close()
    assert digest(database) == before
    assert query(database, "SELECT schema_version FROM meta") == [(newer,)]


# Faults


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
from bot.storage import CitedPassage, ReplyRecord, Storage

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


def test_withdrawing_a_reply_deletes_it_with_its_votes_and_nothing_else(storage: Storage) -> None:
    kept, withdrawn = make_reply(), make_reply()
    storage.record_reply(kept)
    storage.record_reply(withdrawn)
    storage.record_vote(withdrawn.id, 7, helpful=True)
    assert storage.withdraw_reply(withdrawn.id) == 2
    assert [r.id for r in storage.replies_since(0)] == [kept.id]
    assert storage.vote_tallies(0) == []
    assert storage.withdraw_reply(withdrawn.id) == 0
