"""Follow-ups, votes and insights through the real bot, against the Discord stand-in."""

from __future__ import annotations

import csv
import dataclasses
import io
import logging
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from corpora import ROOT
from discord_harness import mention, render, serving, settings_for, unbolded
from discord_standin import BotMessage, DiscordStandIn, InteractionRefused, User
from postgres_server import PostgresServer
from sqlalchemy import make_url

from bot.discord import ArticleBot
from bot.discord.records import RecordKeeper, new_reply_id
from bot.engine import Engine
from bot.records import ReplyRecord, Storage

pytestmark = pytest.mark.usefixtures("no_unexpected_errors")

FIRST = "What meeting does China oppose?"
FOLLOW_UP = "When will it be held?"
# A follow-up that only the answer before it explains: "that" is the claim just quoted.
CLAIM = "What did Kim Jong Un call for?"
WHEN_SAID = "when did state media say that"
WHEN_THAT = "when was that said"
KIM_QUOTE = "> North Korean leader Kim Jong Un called for"


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    return Path(shutil.copytree(ROOT / "corpus", tmp_path / "corpus"))


async def ask(
    standin: DiscordStandIn, bot: ArticleBot, person: User, question: str, **where: Any
) -> BotMessage:
    """`person` asks by mentioning the bot; the bot's reply, once the bot is done with it (as
    a person reading it would be: only then does a reply to it follow it up)."""
    message = await standin.post_message(person, mention(standin, question), **where)
    answer = await standin.wait_for_answer(message)
    await settled(bot)
    return answer


async def settled(bot: ArticleBot) -> None:
    """Until the bot has finished every question it was handling, and recorded it."""
    assert await bot.in_flight.wait_idle(5.0) == 0
    await bot.records.flush()


def vote_ids(answer: BotMessage) -> dict[str, str]:
    """The answer's vote buttons: label -> custom id."""
    return {button["label"]: button["custom_id"] for button in answer.buttons}


async def vote(standin: DiscordStandIn, person: User, answer: BotMessage, label: str) -> BotMessage:
    """`person` presses one of the answer's vote buttons; what only they are told."""
    click = await standin.click_button(person, answer, vote_ids(answer)[label])
    return await standin.wait_for_answer(click)


def tallies(data_dir: Path) -> list[tuple[str, int, int]]:
    storage = Storage.for_data_dir(data_dir)
    try:
        return [(t.reply.question, t.helpful, t.not_helpful) for t in storage.vote_tallies(0)]
    finally:
        storage.close()


# --- follow-ups -------------------------------------------------------------------------------


async def test_a_reply_to_an_answer_is_read_as_a_follow_up(
    standin: DiscordStandIn, corpus_dir: Path
) -> None:
    alice = standin.world.add_member("alice")
    async with serving(standin, settings_for(standin, corpus_dir)) as bot:
        first = await ask(standin, bot, alice, CLAIM)
        # A reply pings the bot by default: Discord shows it the text without any intent.
        follow_up = await standin.post_message(alice, WHEN_SAID, reply_to=first)
        answer = await standin.wait_for_answer(follow_up)
        said = await standin.wait_for_answer(
            await standin.post_message(alice, WHEN_THAT, reply_to=first)
        )
        # The same words as a new message, not a reply, stand alone: nothing says what "that" is.
        alone = await ask(standin, bot, alice, WHEN_THAT)
    assert answer.content.startswith(KIM_QUOTE)
    # The words that answer are in bold; the quote is the article's.
    assert "**on Monday**" in answer.content
    assert said.content.startswith(KIM_QUOTE)
    assert not alone.content.startswith(KIM_QUOTE)


async def test_a_question_that_stands_on_its_own_is_not_bent_by_the_answer_it_replies_to(
    standin: DiscordStandIn, corpus_dir: Path
) -> None:
    alice = standin.world.add_member("alice")
    async with serving(standin, settings_for(standin, corpus_dir)) as bot:
        first = await ask(standin, bot, alice, FIRST)
        reply = await standin.post_message(alice, "Who wrote this?", reply_to=first)
        answer = await standin.wait_for_answer(reply)
    assert "By Michelle Nichols" in answer.content


async def test_messages_in_a_thread_started_from_an_answer_follow_it_up(
    standin: DiscordStandIn, corpus_dir: Path
) -> None:
    alice = standin.world.add_member("alice")
    async with serving(standin, settings_for(standin, corpus_dir)) as bot:
        first = await ask(standin, bot, alice, FIRST)
        thread = await standin.start_thread(alice, first, "the meeting")
        answer = await ask(standin, bot, alice, FOLLOW_UP, channel=thread)
        # The thread follows its last exchange: the one just answered.
        later = await ask(standin, bot, alice, "Why is China against it?", channel=thread)
        by_slash = await standin.invoke_command(
            alice, "ask", {"question": "How many votes do they need?"}, channel=thread
        )
        slash_answer = await standin.wait_for_answer(by_slash)
        await settled(bot)
        # What the thread follows now is the exchange /ask just had.
        last = bot.conversations.recall(thread.id)
    assert last is not None and last.question == "How many votes do they need?"
    assert int(answer.payload["channel_id"]) == thread.id
    assert "held on Thursday" in answer.content.replace("**", "")
    assert "intensify confrontation" in unbolded(later.content)
    assert "minimum nine votes" in unbolded(slash_answer.content)


async def test_a_reply_to_an_answer_from_before_a_restart_is_a_new_question(
    standin: DiscordStandIn, corpus_dir: Path
) -> None:
    """Conversations live in memory for minutes; a restart starts them afresh, safely."""
    alice = standin.world.add_member("alice")
    settings = settings_for(standin, corpus_dir)
    async with serving(standin, settings) as bot:
        first = await ask(standin, bot, alice, CLAIM)
    async with serving(standin, settings) as bot:
        follow_up = await standin.post_message(alice, WHEN_THAT, reply_to=first)
        answer = await standin.wait_for_answer(follow_up)
    # Read on its own, "when was that said" does not know what "that" is.
    assert not answer.content.startswith(KIM_QUOTE)


# --- votes ------------------------------------------------------------------------------------


async def test_answers_and_declines_carry_two_vote_buttons(
    standin: DiscordStandIn, corpus_dir: Path
) -> None:
    alice = standin.world.add_member("alice")
    async with serving(standin, settings_for(standin, corpus_dir)) as bot:
        answer = await ask(standin, bot, alice, FIRST)
        decline = await ask(standin, bot, alice, "What is the weather on Mars?")
        by_slash = await standin.invoke_command(alice, "ask", {"question": FIRST})
        slash_answer = await standin.wait_for_answer(by_slash)
    for reply in (answer, decline, slash_answer):
        assert list(vote_ids(reply)) == [
            render("discord_vote_label", helpful=True),
            render("discord_vote_label", helpful=False),
        ]
    assert vote_ids(answer) != vote_ids(decline)


async def test_a_vote_is_thanked_privately_and_leaves_the_answer_as_it_was(
    standin: DiscordStandIn, corpus_dir: Path, records_in_tmp_path: Path
) -> None:
    alice, bob = standin.world.add_member("alice"), standin.world.add_member("bob")
    async with serving(standin, settings_for(standin, corpus_dir)) as bot:
        answer = await ask(standin, bot, alice, FIRST)
        thanks = await vote(standin, bob, answer, "Helpful")
    assert thanks.ephemeral
    assert thanks.content == render("discord_vote_thanks", helpful=True, outcome="new")
    edits = standin.messages.matching(lambda m: m.payload["id"] == answer.payload["id"])
    assert edits == [answer]
    assert tallies(records_in_tmp_path) == [(FIRST, 1, 0)]


async def test_one_vote_per_person_and_voting_again_changes_it(
    standin: DiscordStandIn, corpus_dir: Path, records_in_tmp_path: Path
) -> None:
    alice, bob = standin.world.add_member("alice"), standin.world.add_member("bob")
    async with serving(standin, settings_for(standin, corpus_dir)) as bot:
        answer = await ask(standin, bot, alice, FIRST)
        await vote(standin, alice, answer, "Helpful")
        same = await vote(standin, alice, answer, "Helpful")
        changed = await vote(standin, alice, answer, "Not helpful")
        await vote(standin, bob, answer, "Not helpful")
    assert same.content == render("discord_vote_thanks", helpful=True, outcome="same")
    assert changed.content == render("discord_vote_thanks", helpful=False, outcome="changed")
    assert tallies(records_in_tmp_path) == [(FIRST, 0, 2)]


async def test_buttons_on_an_answer_sent_before_a_restart_still_record_votes(
    standin: DiscordStandIn, corpus_dir: Path, records_in_tmp_path: Path
) -> None:
    alice = standin.world.add_member("alice")
    settings = settings_for(standin, corpus_dir)
    async with serving(standin, settings) as bot:
        answer = await ask(standin, bot, alice, "What is the weather on Mars?")
    async with serving(standin, settings) as bot:
        thanks = await vote(standin, alice, answer, "Not helpful")
    assert thanks.content == render("discord_vote_thanks", helpful=False, outcome="new")
    assert tallies(records_in_tmp_path) == [("What is the weather on Mars?", 0, 1)]


async def test_a_vote_on_a_button_the_answer_does_not_carry_is_refused_by_discord(
    standin: DiscordStandIn, corpus_dir: Path
) -> None:
    alice = standin.world.add_member("alice")
    async with serving(standin, settings_for(standin, corpus_dir)) as bot:
        answer = await ask(standin, bot, alice, FIRST)
        with pytest.raises(InteractionRefused):
            await standin.click_button(alice, answer, "articlebot:vote:1:" + "0" * 32)


async def test_what_a_vote_records_is_the_reply_not_the_person(
    standin: DiscordStandIn, corpus_dir: Path, records_in_tmp_path: Path
) -> None:
    alice = standin.world.add_member("alice")
    async with serving(standin, settings_for(standin, corpus_dir)) as bot:
        answer = await ask(standin, bot, alice, FIRST)
        await vote(standin, alice, answer, "Not helpful")
        bob = standin.world.add_member("bob")
        await ask(
            standin, bot, alice, f"What did <@{bob.id}> say in <#{answer.payload['channel_id']}>?"
        )
        version = bot.serving.current.corpus_version
    storage = Storage.for_data_dir(records_in_tmp_path)
    try:
        record, mentioning = storage.replies_since(0)
        assert mentioning.question == "What did @someone say in #channel?"
        assert record.question == FIRST and record.answered
        assert record.corpus_version == version
        assert record.guild_id == standin.world.guild.id
        assert record.channel_id == standin.world.channel("general").id
        assert record.asker == storage.pseudonym(alice.id) != str(alice.id)
        cited = record.citations[0]
        text = (corpus_dir / "reuters-china-un-north-korea-rights.txt").read_text("utf-8")
        assert text[cited.start : cited.end] == cited.quote
        assert cited.quote in unbolded(answer.content)
    finally:
        storage.close()
    files = b"".join(p.read_bytes() for p in records_in_tmp_path.iterdir())
    assert str(alice.id).encode() not in files
    assert str(bob.id).encode() not in files


# --- insights ---------------------------------------------------------------------------------


async def test_insights_show_a_moderator_what_was_not_answered_with_the_full_list(
    standin: DiscordStandIn, corpus_dir: Path
) -> None:
    alice, bob = standin.world.add_member("alice"), standin.world.add_member("bob")
    moderator = standin.world.add_member("mod", roles=("Moderator",))
    async with serving(standin, settings_for(standin, corpus_dir)) as bot:
        await ask(standin, bot, alice, "What is the weather on Mars?")
        await ask(standin, bot, bob, "what's the weather like on mars")
        answer = await ask(standin, bot, alice, "Why does China oppose the meeting?")
        await vote(standin, bob, answer, "Not helpful")
        asked = await standin.invoke_command(moderator, "insights", {"days": 7})
        shown = await standin.wait_for_answer(asked)
    assert shown.ephemeral
    assert len(shown.content) <= 2000
    assert "What is the weather on Mars? ×2" in shown.content
    assert "Why does China oppose the meeting? (1 not helpful, 0 helpful)" in shown.content
    (table,) = shown.attachments
    assert table.filename == "insights.csv"
    rows = list(csv.DictReader(io.StringIO(table.data.decode("utf-8"))))
    assert [r["question"] for r in rows if r["list"] == "unanswered"] == [
        "What is the weather on Mars?"
    ]
    assert any(r["list"] == "not_helpful" and r["quote"] for r in rows)


async def test_insights_are_refused_to_anyone_but_a_moderator(
    standin: DiscordStandIn, corpus_dir: Path
) -> None:
    pat = standin.world.add_member("pat")
    async with serving(standin, settings_for(standin, corpus_dir)):
        asked = await standin.invoke_command(pat, "insights", {}, granted_by_override=True)
        refusal = await standin.wait_for_answer(asked)
    assert refusal.ephemeral
    assert refusal.content == render("discord_not_moderator", command="insights")
    assert not refusal.attachments


# --- a database that stops taking writes ------------------------------------------------------


async def test_a_database_made_read_only_mid_run_loses_votes_not_answers(
    standin: DiscordStandIn,
    corpus_dir: Path,
    records_in_tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Mid-run the bot's database opens read-only, as SQLite sees a file whose permissions or
    mount changed: voters hear it failed, the log says why, questions are still answered, and
    what was stored stays stored."""
    alice = standin.world.add_member("alice")
    async with serving(standin, settings_for(standin, corpus_dir)) as bot:
        before = await ask(standin, bot, alice, FIRST)
        await vote(standin, alice, before, "Helpful")
        writable = bot.records.storage
        database = next(records_in_tmp_path.glob("*.sqlite3"))
        bot.records.storage = Storage(f"sqlite:///file:{database}?mode=ro&uri=true")
        during = await ask(standin, bot, alice, "Why does China oppose the meeting?")
        refused = await vote(standin, alice, before, "Not helpful")
        failures = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
        caplog.clear()
        bot.records.storage.close()
        bot.records.storage = writable
        after = await vote(standin, alice, before, "Not helpful")
    assert "intensify confrontation" in during.content
    assert refused.content == render("discord_vote_failed", unknown=False)
    assert any("read_only" in line and "vote" in line for line in failures)
    assert any("read_only" in line and "reply" in line for line in failures)
    assert after.content == render("discord_vote_thanks", helpful=False, outcome="changed")
    assert tallies(records_in_tmp_path) == [(FIRST, 0, 1)]


async def test_a_postgresql_database_turning_the_bot_away_loses_no_answer_nor_its_record(
    standin: DiscordStandIn,
    corpus_dir: Path,
    postgres_server: PostgresServer,
    postgres_database: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Mid-run the records' PostgreSQL database closes to the bot (a failover, maintenance):
    questions are answered all along, the voter hears it failed, the log says why, and once the
    database is back the reply given meanwhile is saved, and can be voted on."""
    alice = standin.world.add_member("alice")
    name = make_url(postgres_database).database
    settings = settings_for(standin, corpus_dir, database_url=postgres_database)
    async with serving(standin, settings) as bot:
        before = await ask(standin, bot, alice, FIRST)
        postgres_server.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        postgres_server.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [name]
        )
        during = await ask(standin, bot, alice, "Why does China oppose the meeting?")
        refused = await vote(standin, alice, before, "Helpful")
        failures = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
        caplog.clear()
        postgres_server.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        after = await vote(standin, alice, during, "Not helpful")
    assert "intensify confrontation" in during.content
    assert refused.content == render("discord_vote_failed", unknown=False)
    assert any("unavailable" in line and "reply was not saved" in line for line in failures)
    assert any("unavailable" in line and "vote was not saved" in line for line in failures)
    assert after.content == render("discord_vote_thanks", helpful=False, outcome="new")
    storage = Storage(postgres_database)
    try:
        questions = [reply.question for reply in storage.replies_since(0)]
        assert questions == [FIRST, "Why does China oppose the meeting?"]
    finally:
        storage.close()


async def test_a_damaged_database_at_start_up_does_not_stop_the_bot_answering(
    standin: DiscordStandIn,
    corpus_dir: Path,
    records_in_tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    records_in_tmp_path.mkdir()
    (records_in_tmp_path / "articlebot.sqlite3").write_bytes(b"not a database at all" * 64)
    alice = standin.world.add_member("alice")
    async with serving(standin, settings_for(standin, corpus_dir)) as bot:
        answer = await ask(standin, bot, alice, FIRST)
        refused = await vote(standin, alice, answer, "Helpful")
    assert "China opposes" in answer.content
    assert refused.content == render("discord_vote_failed", unknown=False)
    assert any("corrupt" in r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR)
    caplog.clear()


def test_the_bot_is_built_with_the_records_the_settings_name(
    corpus_dir: Path, records_in_tmp_path: Path
) -> None:
    engine = Engine.load(corpus_dir, ROOT / "prompts")
    from bot.config import load_settings

    bot = ArticleBot(load_settings(corpus_dir=corpus_dir), engine)
    try:
        assert bot.records.storage.status().startswith(str(records_in_tmp_path))
    finally:
        bot.records.storage.close()


async def test_a_vote_on_an_answer_whose_record_was_lost_says_it_could_not_be_saved(
    standin: DiscordStandIn, corpus_dir: Path, records_in_tmp_path: Path
) -> None:
    alice = standin.world.add_member("alice")
    async with serving(standin, settings_for(standin, corpus_dir)) as bot:
        answer = await ask(standin, bot, alice, FIRST)
        # The answer's record is gone, as when the database failed while it was given.
        storage = Storage.for_data_dir(records_in_tmp_path)
        assert storage.forget(alice.id) == 1
        storage.close()
        unsaved = await vote(standin, alice, answer, "Helpful")
    assert unsaved.content == render("discord_vote_failed", unknown=False)


def test_reply_ids_tell_a_reply_older_than_the_records_are_kept(records_in_tmp_path: Path) -> None:
    keeper = RecordKeeper(Storage.for_data_dir(records_in_tmp_path, retention_days=90))
    now = time.time()
    recent, old = new_reply_id(now - 89 * 86_400), new_reply_id(now - 91 * 86_400)
    assert len(recent) == 32 and recent == recent.lower()
    assert new_reply_id(now) != new_reply_id(now)
    assert not keeper.expired(recent) and keeper.expired(old)


async def test_records_older_than_the_retention_period_are_deleted_at_start_up(
    standin: DiscordStandIn, corpus_dir: Path, records_in_tmp_path: Path
) -> None:
    storage = Storage.for_data_dir(records_in_tmp_path)
    old = ReplyRecord(
        new_reply_id(time.time() - 91 * 86_400),
        "What did they say last spring?",
        False,
        (),
        "v0",
        None,
        None,
        None,
        time.time() - 91 * 86_400,
    )
    recent = dataclasses.replace(old, id=new_reply_id(), question="And now?", at=time.time())
    storage.record_reply(old)
    storage.record_reply(recent)
    storage.close()
    settings = settings_for(standin, corpus_dir, retention_days=90.0)
    async with serving(standin, settings) as bot:
        await bot.records.flush()
    storage = Storage.for_data_dir(records_in_tmp_path)
    try:
        assert [r.question for r in storage.replies_since(0)] == ["And now?"]
    finally:
        storage.close()
