"""Storage on real databases, a SQLite file and a PostgreSQL server alike: records, votes,
pseudonyms, forgetting and retention. Revisions, faults and several writers at once have files
of their own."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from uuid import uuid4

import pytest
from databases import query, sqlite_url
from record_samples import ASKER_ID, DAY, NOW, OTHER_ID, PASSAGE, VOTER_ID, Clock, make_reply
from sqlalchemy import make_url

from bot.records import (
    DATABASE_FILE_NAME,
    AlreadyRecorded,
    Backend,
    Storage,
    UnknownReply,
    VoteOutcome,
    VoteTally,
)
from bot.records.database import database_url
from bot.records.revisions import Revisions

LATEST = Revisions.load().head


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def storage(database_url: str, clock: Clock) -> Iterator[Storage]:
    opened = Storage(database_url, clock=clock)
    yield opened
    opened.close()


def file_bytes(folder: Path) -> bytes:
    """Everything SQLite keeps on disk in this folder: the database, its WAL and shared memory."""
    return b"".join(p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file())


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


def test_records_survive_closing_and_reopening(storage: Storage, database_url: str) -> None:
    reply = make_reply()
    storage.record_reply(reply)
    storage.record_vote(reply.id, VOTER_ID, helpful=True)
    storage.close()

    reopened = Storage(database_url)
    try:
        assert reopened.replies_since(0) == [reply]
        assert reopened.vote_tallies(0) == [VoteTally(reply, helpful=1, not_helpful=0)]
    finally:
        reopened.close()


def test_a_reply_id_must_be_new_and_look_like_uuid4_hex(storage: Storage) -> None:
    reply = make_reply()
    storage.record_reply(reply)
    with pytest.raises(AlreadyRecorded, match="already recorded"):
        storage.record_reply(replace(reply, question="something else"))
    with pytest.raises(ValueError, match="32 lowercase hex"):
        storage.record_reply(make_reply(id="not-a-uuid"))
    assert storage.replies_since(0) == [reply]


def test_for_data_dir_creates_the_folder_on_first_use_not_when_constructed(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    storage = Storage.for_data_dir(data_dir)
    assert not data_dir.exists()
    try:
        assert storage.migrate().after == LATEST
        assert (data_dir / DATABASE_FILE_NAME).is_file()
    finally:
        storage.close()


def test_bad_settings_are_refused_with_the_value_named(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="retention_days"):
        Storage(sqlite_url(tmp_path / "x.sqlite3"), retention_days=0)
    with pytest.raises(ValueError, match="busy_timeout"):
        Storage(sqlite_url(tmp_path / "x.sqlite3"), busy_timeout=-1)
    with pytest.raises(ValueError, match="only sqlite:// and postgresql://") as refused:
        Storage("mysql://bot:hunter2@db.example/articlebot")
    assert "hunter2" not in str(refused.value)  # a URL may carry a password: never echoed
    with pytest.raises(ValueError, match="psycopg 3"):
        Storage("postgresql+psycopg2://bot@db.example/articlebot")
    with pytest.raises(ValueError, match="not a database URL"):
        Storage("no url at all")


@pytest.mark.parametrize(
    ("given", "opened"),
    [
        (
            "postgresql://bot:pw@db.example/records",
            "postgresql+psycopg://bot:pw@db.example/records",
        ),
        (
            "postgres://bot:pw@db.example:6543/rec",
            "postgresql+psycopg://bot:pw@db.example:6543/rec",
        ),
        (
            "postgresql+psycopg://bot@/records?host=/run/pg",
            "postgresql+psycopg://bot@/records?host=/run/pg",
        ),
        ("sqlite:////var/lib/articlebot/records.db", "sqlite:////var/lib/articlebot/records.db"),
    ],
    ids=["postgresql", "postgres", "postgresql+psycopg", "sqlite"],
)
def test_urls_as_hosts_hand_them_out_are_opened_with_the_bots_driver(
    given: str, opened: str
) -> None:
    assert database_url(given) == make_url(opened)
    assert Storage(given).backend is Backend(make_url(opened).get_backend_name())


def test_status_says_where_the_records_are_what_keeps_them_and_what_they_hold(
    storage: Storage, database_url: str
) -> None:
    storage.record_reply(make_reply())
    storage.record_reply(make_reply(answered=False, citations=()))

    status = storage.status()

    url = make_url(database_url)
    where = {  # a PostgreSQL URL as given, its password hidden
        Backend.SQLITE: f"{url.database} (SQLite 3.",
        Backend.POSTGRESQL: f"{url.render_as_string(hide_password=True)} (PostgreSQL ",
    }
    assert status.startswith(where[storage.backend])
    assert url.password is None or url.password not in status
    assert f"schema revision {LATEST}" in status
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


def test_an_in_memory_sqlite_database_works_across_threads() -> None:
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
    storage: Storage, database_url: str, tmp_path: Path
) -> None:
    pseudonym = storage.pseudonym(ASKER_ID)
    storage.close()
    reopened = Storage(database_url)
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


def test_raw_user_ids_never_reach_the_sqlite_files(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    storage = Storage.for_data_dir(data_dir)
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


def test_forget_leaves_no_trace_of_the_question_in_the_sqlite_files(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    storage = Storage.for_data_dir(data_dir)
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
    database_url: str, clock: Clock
) -> None:
    storage = Storage(database_url, retention_days=30, clock=clock)
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


def test_deleting_a_reply_deletes_its_citations(storage: Storage, database_url: str) -> None:
    storage.record_reply(make_reply(asker=storage.pseudonym(ASKER_ID)))
    storage.record_reply(make_reply())
    storage.forget(ASKER_ID)
    assert query(database_url, "SELECT count(*) FROM citations") == [(1,)]


def test_withdrawing_a_reply_deletes_it_with_its_votes_and_nothing_else(storage: Storage) -> None:
    kept, withdrawn = make_reply(), make_reply()
    storage.record_reply(kept)
    storage.record_reply(withdrawn)
    storage.record_vote(withdrawn.id, 7, helpful=True)
    assert storage.withdraw_reply(withdrawn.id) == 2
    assert [r.id for r in storage.replies_since(0)] == [kept.id]
    assert storage.vote_tallies(0) == []
    assert storage.withdraw_reply(withdrawn.id) == 0
