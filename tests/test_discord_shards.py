"""The bot in one process holds every shard Discord recommends, or the shards it is told to,
and says plainly when Discord wants more of them. The real bot against the stand-in."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from discord_harness import QUESTION, SEED_QUOTE, fresh_corpus, serving, settings_for, unbolded
from discord_standin import World
from discord_standin.client import StandInFactory
from discord_standin.gateway import shard_of

from bot.cluster import TokenRefused, recommended_shard_count
from bot.discord.runner import serve
from bot.engine import Engine


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    """The shipped seed article alone."""
    return fresh_corpus(tmp_path, lighthouse=False)


async def test_one_process_holds_every_shard_discord_recommends_and_answers_on_each(
    start_standin: StandInFactory, corpus_dir: Path
) -> None:
    world = World.sharded(2)
    standin = await start_standin(world=world, recommended_shards=2, max_concurrency=2)
    async with serving(standin, settings_for(standin, corpus_dir)) as bot:
        assert bot.shard_count == 2 and sorted(bot.shards) == [0, 1]
        answers = []
        for guild in world.guilds:
            reader = world.add_member(f"reader in {guild.name}", guild=guild)
            question = await standin.post_message(
                reader, f"<@{world.bot.id}> {QUESTION}", channel=guild.channel("general")
            )
            answers.append(await standin.wait_for_answer(question))
    assert all(SEED_QUOTE in unbolded(answer.content) for answer in answers)
    assert sorted(entry.shard for entry in standin.gateway.identified) == [(0, 2), (1, 2)]
    assert sorted(shard_of(guild.id, 2) for guild in world.guilds) == [0, 1]


async def test_too_few_shards_for_discord_stop_the_bot_saying_to_raise_shard_count(
    start_standin: StandInFactory, corpus_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    standin = await start_standin(world=World.sharded(2), max_guilds_per_shard=1)
    settings = settings_for(standin, corpus_dir, shard_count=1)
    engine = Engine.load(corpus_dir, settings.prompts_dir)
    assert await serve(settings, engine) == 1
    refusal = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert refusal[-1].startswith("Discord requires more shards for this many servers: raise")


async def test_the_cluster_asks_discord_how_many_shards_it_recommends(
    start_standin: StandInFactory, corpus_dir: Path
) -> None:
    standin = await start_standin(recommended_shards=3)
    settings = settings_for(standin, corpus_dir)
    assert await asyncio.to_thread(recommended_shard_count, settings) == 3
    with pytest.raises(TokenRefused):
        wrong = settings_for(standin, corpus_dir, discord_token="not-the-token")
        await asyncio.to_thread(recommended_shard_count, wrong)
