"""The bot's record keeper when its database goes away: a reply the database refuses waits in
memory and is saved once the database is back, in the order given; what is still waiting when
the bot stops, or past the backlog's limit, is counted in the log. On a real PostgreSQL server
turning the bot away, and on one nobody is listening for."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from postgres_server import PostgresServer, free_port
from record_samples import make_reply
from sqlalchemy import make_url

from bot.discord.records import RecordKeeper, new_reply_id
from bot.records import ReplyRecord, Storage, VoteOutcome

ALICE, BOB = 111_222_333_444_555_666, 222_333_444_555_666_777


@contextmanager
def turned_away(server: PostgresServer, database_url: str) -> Iterator[None]:
    """The database takes no connections (its open ones are ended), until the block ends."""
    name = make_url(database_url).database
    server.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
    server.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [name]
    )
    try:
        yield
    finally:
        server.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')


def nobody_listens(server: PostgresServer) -> str:
    """A PostgreSQL URL whose server is down: nothing listens on its port."""
    return (
        make_url(server.url("records")).set(port=free_port()).render_as_string(hide_password=False)
    )


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


def fresh_reply(question: str) -> ReplyRecord:
    return make_reply(id=new_reply_id(), question=question, at=time.time())


async def test_replies_the_database_refused_are_saved_in_order_once_it_is_back(
    postgres_server: PostgresServer, postgres_database: str, caplog: pytest.LogCaptureFixture
) -> None:
    keeper = RecordKeeper(Storage(postgres_database))
    await keeper.start()
    first, second = fresh_reply("Who voted?"), fresh_reply("When is the vote?")
    with turned_away(postgres_server, postgres_database):
        keeper.record_reply(first, ALICE)
        keeper.record_reply(second, BOB)
        await keeper.flush()
        assert keeper.unsaved == 2
        (failure,) = errors(caplog)
        assert "a reply was not saved (unavailable)" in failure
        assert "kept to try again (1 waiting)" in failure
        caplog.clear()

    await keeper.save_unsaved()
    assert keeper.unsaved == 0
    saved = keeper.storage.replies_since(0)
    assert [reply.question for reply in saved] == ["Who voted?", "When is the vote?"]
    assert saved[0].asker == keeper.storage.pseudonym(ALICE)  # worked out once it could be
    await keeper.close()


async def test_a_vote_on_a_reply_still_waiting_saves_the_reply_first(
    postgres_server: PostgresServer, postgres_database: str, caplog: pytest.LogCaptureFixture
) -> None:
    keeper = RecordKeeper(Storage(postgres_database))
    await keeper.start()
    reply = fresh_reply("Who voted?")
    with turned_away(postgres_server, postgres_database):
        keeper.record_reply(reply, ALICE)
        assert await keeper.vote(reply.id, BOB, helpful=True) is None  # said: try later
        assert any("a vote was not saved (unavailable)" in line for line in errors(caplog))
        caplog.clear()

    assert await keeper.vote(reply.id, BOB, helpful=True) is VoteOutcome.NEW
    assert [(t.reply.id, t.helpful) for t in keeper.storage.vote_tallies(0)] == [(reply.id, 1)]
    await keeper.close()


async def test_replies_unsaved_when_the_bot_stops_are_counted_as_lost(
    postgres_server: PostgresServer, caplog: pytest.LogCaptureFixture
) -> None:
    keeper = RecordKeeper(Storage(nobody_listens(postgres_server)))
    await keeper.start()  # the bot starts all the same
    assert any("the database cannot be used (unavailable)" in line for line in errors(caplog))
    withdrawn = fresh_reply("Was this ever sent?")
    for question in ("Who voted?", "When is the vote?"):
        keeper.record_reply(fresh_reply(question), ALICE)
    keeper.record_reply(withdrawn, ALICE)
    keeper.withdraw_reply(withdrawn.id)  # sending it failed: it need not wait any more
    await keeper.flush()
    assert keeper.unsaved == 2
    caplog.clear()

    await keeper.close()

    (lost,) = errors(caplog)
    assert "2 reply(ies) could not be saved before the bot stopped" in lost
    caplog.clear()


async def test_past_the_backlogs_limit_the_oldest_waiting_reply_is_given_up_and_said(
    postgres_server: PostgresServer, caplog: pytest.LogCaptureFixture
) -> None:
    keeper = RecordKeeper(Storage(nobody_listens(postgres_server)), unsaved_limit=2)
    for question in ("first?", "second?", "third?"):
        keeper.record_reply(fresh_reply(question), None)
    await keeper.flush()

    assert keeper.unsaved == 2
    assert any("more than 2 replies wait to be saved" in line for line in errors(caplog))
    caplog.clear()
    await keeper.close()
    caplog.clear()
