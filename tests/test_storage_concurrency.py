"""Several writers on one database at once, as several bot processes (and the CLI beside them)
are: each its own Storage with its own connections, on threads released together. SQLite and
PostgreSQL alike: the database decides, so nothing is counted twice or lost."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import TypeVar

import pytest
from databases import query
from record_samples import DAY, NOW, OTHER_ID, VOTER_ID, Clock, make_reply
from sqlalchemy.exc import IntegrityError

from bot.records import ShelfAction, ShelfChange, Storage, VoteOutcome
from bot.records.revisions import Revisions

T = TypeVar("T")

WRITERS = 4
# How many times the writers race: each time, a first write that only one of them can make.
ROUNDS = 8
GUILD = 111_111_111_111_111_111


def at_once(jobs: list[Callable[[], T]]) -> list[T]:
    """Run each job on its own thread, all released together; their results in order (the
    first failure is raised)."""
    start = threading.Barrier(len(jobs))

    def run(job: Callable[[], T]) -> T:
        start.wait()
        return job()

    with ThreadPoolExecutor(len(jobs)) as pool:
        futures = [pool.submit(run, job) for job in jobs]
        return [future.result() for future in futures]


@pytest.fixture
def writers(database_url: str) -> Iterator[list[Storage]]:
    """Storages on one database, each as another process's would be; a generous wait for
    locks, as many writers queue for SQLite's one write lock."""
    clock = Clock(NOW)
    opened = [
        Storage(database_url, busy_timeout=30, clock=clock, retention_days=30)
        for _ in range(WRITERS)
    ]
    yield opened
    for storage in opened:
        storage.close()


def test_processes_starting_together_upgrade_a_fresh_database_once(
    writers: list[Storage], database_url: str
) -> None:
    upgrades = at_once([storage.migrate for storage in writers])

    assert sorted(len(upgrade.applied) for upgrade in upgrades) == [0] * (WRITERS - 1) + [
        len(Revisions.load().history)
    ]
    assert query(database_url, "SELECT count(*) FROM meta") == [(1,)]
    assert len({storage.pseudonym(VOTER_ID) for storage in writers}) == 1  # one salt


def test_each_person_keeps_one_vote_per_reply_however_many_processes_cast_it(
    writers: list[Storage],
) -> None:
    replies = [make_reply(at=NOW + n) for n in range(ROUNDS)]
    for reply in replies:
        writers[0].record_reply(reply)

    for reply in replies:  # every process votes on the same reply at the same moment
        # Half of them one way, half the other.
        outcomes = at_once(
            [
                partial(storage.record_vote, reply.id, VOTER_ID, n % 2 == 0)
                for n, storage in enumerate(writers)
            ]
        )
        assert outcomes.count(VoteOutcome.NEW) == 1  # whoever came first; the rest changed it

    tallies = writers[0].vote_tallies(0)
    assert len(tallies) == len(replies)
    assert all(tally.helpful + tally.not_helpful == 1 for tally in tallies)


def test_the_database_itself_holds_a_person_to_one_vote_per_reply(
    writers: list[Storage], database_url: str
) -> None:
    reply = make_reply()
    writers[0].record_reply(reply)
    writers[0].record_vote(reply.id, VOTER_ID, helpful=True)
    voter = writers[0].pseudonym(VOTER_ID)

    with pytest.raises(IntegrityError):  # whatever code writes, not only the bot's
        query(
            database_url,
            "INSERT INTO votes VALUES (:reply, :voter, :helpful, :at)",
            {"reply": reply.id, "voter": voter, "helpful": False, "at": NOW},
        )
    assert [(t.helpful, t.not_helpful) for t in writers[0].vote_tallies(0)] == [(1, 0)]


def test_shelf_changes_from_several_processes_get_one_version_each(
    writers: list[Storage],
) -> None:
    for guild in range(GUILD, GUILD + ROUNDS):  # every process changes a new shelf at once
        change = ShelfChange(guild, ShelfAction.ADDED, "server/ferry", "Ferry", "ab", None, NOW)
        versions = at_once([partial(storage.record_shelf_change, change) for storage in writers])
        assert sorted(versions) == list(range(1, WRITERS + 1))
        assert writers[0].shelf_version(guild) == WRITERS


def test_retention_and_forget_run_by_several_processes_delete_each_record_once(
    writers: list[Storage],
) -> None:
    storage = writers[0]
    person = storage.pseudonym(OTHER_ID)
    expired = [make_reply(at=NOW - 40 * DAY + n) for n in range(12)]
    theirs = [make_reply(at=NOW - DAY + n, asker=person) for n in range(6)]
    kept = [make_reply(at=NOW - DAY + 100 + n) for n in range(6)]
    for reply in (*expired, *theirs, *kept):
        storage.record_reply(reply)
        storage.record_vote(reply.id, VOTER_ID, helpful=True)

    deleted = at_once(
        [
            writers[0].delete_expired,
            writers[1].delete_expired,
            lambda: writers[2].forget(OTHER_ID),
            lambda: writers[3].forget(OTHER_ID),
        ]
    )

    assert deleted[0] + deleted[1] == 2 * len(expired)  # each reply and its vote, once
    assert deleted[2] + deleted[3] == 2 * len(theirs)
    assert storage.replies_since(0) == kept
    assert len(storage.vote_tallies(0)) == len(kept)
