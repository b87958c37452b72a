"""One bot as several processes on one Discord: two `articlebot run` of two shards each, a
/reload in one reaching the other, and `articlebot cluster` starting a killed process again,
against the stand-in over real sockets.

Four servers, one on each of four shards. Every question must be answered once, by the process
holding its server's shard, and every reply and vote must land in the one database."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from discord_harness import (
    LIGHTHOUSE,
    LIGHTHOUSE_QUESTION,
    LIGHTHOUSE_QUOTE,
    QUESTION,
    SEED_QUOTE,
    BotProcess,
    bot_process,
    fresh_corpus,
    mention,
    render,
    unbolded,
)
from discord_standin import BotMessage, DiscordStandIn, Interaction, World
from discord_standin.client import StandInFactory
from discord_standin.gateway import shard_of
from discord_standin.world import Guild, Json, User

from bot.engine.markup import escape_for_discord
from bot.records import Storage

SHARDS = 4
VOTE = re.compile(r"articlebot:vote:[01]:(?P<reply>[0-9a-f]{32})")


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    """The shipped seed article alone: the smallest corpus, as each process loads it."""
    return fresh_corpus(tmp_path, lighthouse=False)


@pytest.fixture
async def standin(start_standin: StandInFactory) -> DiscordStandIn:
    """A Discord where the bot is in four servers, one on each of four shards, and lets all four
    sessions start at once."""
    return await start_standin(world=World.sharded(SHARDS), max_concurrency=SHARDS)


def readers(standin: DiscordStandIn) -> dict[int, User]:
    """Someone in each server, by the server's shard."""
    world = standin.world
    return {
        shard_of(guild.id, SHARDS): world.add_member(f"reader{n}", guild=guild)
        for n, guild in enumerate(world.guilds)
    }


def guild_on(standin: DiscordStandIn, shard: int) -> Guild:
    """The server on `shard`."""
    return next(g for g in standin.world.guilds if shard_of(g.id, SHARDS) == shard)


def shard_of_connection(standin: DiscordStandIn) -> dict[int, int]:
    """The shard each gateway connection was identified for, by connection number."""
    return {entry.connection: entry.shard[0] for entry in standin.gateway.identified}


def reply_id(answer: BotMessage) -> str:
    """The id an answer is recorded under, which its vote buttons carry."""
    found = VOTE.fullmatch(answer.buttons[0]["custom_id"])
    assert found is not None, answer.buttons
    return found["reply"]


async def ask_everywhere(
    standin: DiscordStandIn, people: dict[int, User], shards: range
) -> dict[int, tuple[Json, Interaction]]:
    """A question by mention and one by /ask in the server of each shard."""
    asked = {}
    for shard in shards:
        general = guild_on(standin, shard).channel("general")
        by_mention = await standin.post_message(
            people[shard], mention(standin, QUESTION), channel=general
        )
        by_command = await standin.invoke_command(
            people[shard], "ask", {"question": QUESTION}, channel=general
        )
        asked[shard] = (by_mention, by_command)
    return asked


async def vote_on(standin: DiscordStandIn, person: User, answer: BotMessage) -> BotMessage:
    """`person` finds the answer helpful; the bot's thanks, sent once the vote is saved."""
    helpful = f"articlebot:vote:1:{reply_id(answer)}"
    thanks = await standin.wait_for_answer(
        await standin.click_button(person, answer, helpful), timeout=30
    )
    assert thanks.ephemeral
    return thanks


def answers_to(standin: DiscordStandIn, question: Json | Interaction) -> list[BotMessage]:
    """Every message the bot made in reply to a question."""
    if isinstance(question, Interaction):
        return standin.messages.matching(
            lambda m: m.interaction_id == question.id and bool(m.content)
        )
    return standin.messages.matching(lambda m: m.reply_to == int(question["id"]))


def sent_on_shards(standin: DiscordStandIn, question: Json | Interaction) -> list[int]:
    """The shards whose connections the question's event went out on."""
    shards = shard_of_connection(standin)
    if isinstance(question, Interaction):
        key, value = "token", question.token
    else:
        key, value = "id", question["id"]
    return [
        shards[f.connection]
        for f in standin.frames
        if f.direction == "sent"
        and f.t in ("MESSAGE_CREATE", "INTERACTION_CREATE")
        and f.d.get(key) == value
    ]


def recorded(data_dir: Path) -> tuple[set[str], dict[str, int], set[int | None]]:
    """What the one database holds: reply ids, votes per reply id, and the servers replied in."""
    storage = Storage.for_data_dir(data_dir)
    try:
        replies = storage.replies_since(0)
        tallies = storage.vote_tallies(0)
    finally:
        storage.close()
    votes = {t.reply.id: t.helpful + t.not_helpful for t in tallies}
    return {r.id for r in replies}, votes, {r.guild_id for r in replies}


@contextlib.contextmanager
def no_process_left_behind(cluster: BotProcess) -> Iterator[None]:
    """Kill the cluster's processes if the test ends with them running: killing the supervisor
    only has them sent SIGTERM, and they take a moment to stop."""
    try:
        yield
    finally:
        for pid in re.findall(r"started, pid (\d+)", cluster.log):
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGKILL)


@contextlib.asynccontextmanager
async def two_processes(
    standin: DiscordStandIn, tmp_path: Path, first_corpus: Path, second_corpus: Path
) -> AsyncIterator[tuple[BotProcess, BotProcess]]:
    """`articlebot run` of shards 0-1 of four on `first_corpus`, and of shards 2-3 on
    `second_corpus`, each run in a folder of its own; once every shard is connected."""
    shards = ["--shard-count", str(SHARDS), "--shard-ids"]
    first_dir, second_dir = tmp_path / "first", tmp_path / "second"
    first_dir.mkdir(exist_ok=True), second_dir.mkdir(exist_ok=True)
    async with (
        bot_process(
            standin,
            first_corpus,
            first_dir,
            command=("run", *shards, "0-1"),
            wait_until_ready=False,
        ) as first,
        bot_process(
            standin,
            second_corpus,
            second_dir,
            command=("run", *shards, "2-3"),
            wait_until_ready=False,
        ) as second,
    ):
        await standin.wait_for_shards(SHARDS)
        yield first, second


async def test_two_processes_of_two_shards_each_answer_every_server_once_into_one_database(
    standin: DiscordStandIn, corpus_dir: Path, tmp_path: Path, records_in_tmp_path: Path
) -> None:
    people = readers(standin)
    async with two_processes(standin, tmp_path, corpus_dir, corpus_dir) as (first, second):
        await standin.wait_for_request("PUT", r"/applications/\d+/commands", timeout=30)
        asked = await ask_everywhere(standin, people, range(SHARDS))
        answers = {
            shard: [await standin.wait_for_answer(q, timeout=30) for q in questions]
            for shard, questions in asked.items()
        }
        thanks = [await vote_on(standin, people[shard], answers[shard][0]) for shard in answers]
        assert await first.stop() == 0 and await second.stop() == 0
    for shard, questions in asked.items():
        for question in questions:
            assert len(answers_to(standin, question)) == 1
            assert sent_on_shards(standin, question) == [shard]
    assert all(SEED_QUOTE in unbolded(a.content) for pair in answers.values() for a in pair)
    assert {t.content for t in thanks} == {
        render("discord_vote_thanks", helpful=True, outcome="new")
    }
    assert "gateway: shards 0-1 of 4" in first.log and "Shard ID 2 " not in first.log
    assert "gateway: shards 2-3 of 4" in second.log and "Shard ID 0 " not in second.log
    assert "registered commands" in first.log and "registered commands" not in second.log
    assert len(standin.requests.matching(lambda r: r.path.endswith("/commands"))) == 1
    replies, votes, servers = await asyncio.to_thread(recorded, records_in_tmp_path)
    assert replies == {reply_id(a) for pair in answers.values() for a in pair}
    assert votes == {reply_id(answers[shard][0]): 1 for shard in answers}
    assert servers == {guild.id for guild in standin.world.guilds}


async def test_a_reload_in_one_process_reaches_the_other_which_keeps_its_index_when_it_fails(
    standin: DiscordStandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each process reads a corpus folder of its own, as on two machines.
    first_corpus = fresh_corpus(tmp_path / "first", lighthouse=False)
    second_corpus = fresh_corpus(tmp_path / "second", lighthouse=False)
    # Each process looks for reloads often; the reply waits for them as long as it takes.
    monkeypatch.setenv("RELOAD_POLL_SECONDS", "0.2")
    monkeypatch.setenv("RELOAD_WAIT_SECONDS", "30")
    moderator = standin.world.add_member("mod", roles=("Moderator",), guild=guild_on(standin, 0))
    reader = standin.world.add_member("reader", guild=guild_on(standin, 2))

    async def reload() -> str:
        asked = await standin.invoke_command(
            moderator, "reload", channel=guild_on(standin, 0).channel("general")
        )
        return (await standin.wait_for_answer(asked, timeout=60)).content

    async def ask_the_second() -> str:
        asked = await standin.invoke_command(
            reader,
            "ask",
            {"question": LIGHTHOUSE_QUESTION},
            channel=guild_on(standin, 2).channel("general"),
        )
        return unbolded((await standin.wait_for_answer(asked, timeout=30)).content)

    async with two_processes(standin, tmp_path, first_corpus, second_corpus) as (first, second):
        for process in (first, second):
            await process.wait_for_log("reloads: this process is ")
        for corpus in (first_corpus, second_corpus):
            (corpus / "harbour-lighthouse.txt").write_text(LIGHTHOUSE, encoding="utf-8")
        both_took = await reload()
        answered_from_the_new_text = await ask_the_second()
        shutil.rmtree(second_corpus)
        second_failed = await reload()
        answered_from_the_old_index = await ask_the_second()
        assert await first.stop() == 0 and await second.stop() == 0
    assert both_took.startswith("Reloaded the corpus")
    assert "Added: harbour-lighthouse" in both_took
    assert both_took.endswith("\n\n2 of 2 processes of the bot took the new corpus.")
    assert LIGHTHOUSE_QUOTE in answered_from_the_new_text
    assert "1 of 2 processes of the bot took the new corpus." in second_failed
    second_name = f"pid {second.process.pid} (shards 2-3 of 4)"
    reason = escape_for_discord(f"The corpus folder {second_corpus} does not exist.")
    assert f"{second_name}: {reason}" in second_failed
    assert LIGHTHOUSE_QUOTE in answered_from_the_old_index
    assert f"reloads: the reload asked in {name_of(first)} failed here" in second.log


def name_of(process: BotProcess) -> str:
    """How a bot process names itself to the others, as its log says."""
    line = next(line for line in process.lines if "reloads: this process is " in line)
    return line.split("reloads: this process is ", 1)[1].split(";", 1)[0]


async def test_cluster_starts_a_killed_process_again_and_loses_no_recorded_reply_or_vote(
    standin: DiscordStandIn, corpus_dir: Path, tmp_path: Path, records_in_tmp_path: Path
) -> None:
    people = readers(standin)
    cluster_command = ("cluster", "--processes", "2", "--shard-count", str(SHARDS))
    async with bot_process(
        standin, corpus_dir, tmp_path, command=cluster_command, wait_until_ready=False
    ) as cluster:
        with no_process_left_behind(cluster):
            await standin.wait_for_shards(SHARDS)
            started = await cluster.wait_for_log(r"process 1 \(shards 0-1 of 4\) started, pid")
            await cluster.wait_for_log(r"process 2 \(shards 2-3 of 4\) started, pid")
            await standin.wait_for_request("PUT", r"/applications/\d+/commands", timeout=30)
            # Before: a question in every server, answered and voted on. A vote is saved after
            # the reply it is about, on the same worker, so once thanked both are on disk.
            before = await ask_everywhere(standin, people, range(SHARDS))
            answered_before = {
                shard: await standin.wait_for_answer(questions[0], timeout=30)
                for shard, questions in before.items()
            }
            for shard, answer in answered_before.items():
                await vote_on(standin, people[shard], answer)
            # Under load: questions everywhere, and the process of shards 0-1 killed at once.
            identified = len(standin.gateway.identified)
            during: dict[int, list[Json | Interaction]] = {s: [] for s in range(SHARDS)}
            for _ in range(3):
                for shard, questions in (await ask_everywhere(standin, people, range(4))).items():
                    during[shard].extend(questions)
            os.kill(int(started.rsplit(" ", 1)[1]), signal.SIGKILL)
            await cluster.wait_for_log(
                r"process 1 \(shards 0-1 of 4\) was killed by SIGKILL after .* starting it again"
            )
            await standin.wait_for_shards(SHARDS, range(2), after=identified)
            # After: the servers of the restarted process are answered and their votes saved.
            after = await ask_everywhere(standin, people, range(2))
            answered_after = {
                shard: await standin.wait_for_answer(questions[1], timeout=30)
                for shard, questions in after.items()
            }
            for shard, answer in answered_after.items():
                await vote_on(standin, people[shard], answer)
            for shard in range(2, SHARDS):  # the other process went on answering
                for question in during[shard]:
                    await standin.wait_for_answer(question, timeout=30)
            assert await cluster.stop() == 0
    assert re.search(r"process 1 \(shards 0-1 of 4\) started, pid", cluster.log.split("SIGKILL")[1])
    assert re.search(r"process 1 \(shards 0-1 of 4\) stopped", cluster.log)
    assert re.search(r"process 2 \(shards 2-3 of 4\) stopped", cluster.log)
    assert "all processes stopped" in cluster.log
    for pid in re.findall(r"started, pid (\d+)", cluster.log):
        with pytest.raises(ProcessLookupError):
            os.kill(int(pid), 0)
    for question in [q for pair in [*before.values(), *during.values()] for q in pair]:
        assert len(answers_to(standin, question)) <= 1  # never twice, even across the restart
    replies, votes, _ = await asyncio.to_thread(recorded, records_in_tmp_path)
    voted = {reply_id(a) for a in [*answered_before.values(), *answered_after.values()]}
    assert voted <= replies
    assert votes == dict.fromkeys(voted, 1)
    # Everything the surviving process answered was recorded, and shutdown lost none of it.
    survivors = [answers_to(standin, q)[0] for shard in range(2, SHARDS) for q in during[shard]]
    assert {reply_id(a) for a in survivors} <= replies
