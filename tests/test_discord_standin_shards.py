"""The stand-in shards as Discord does: each IDENTIFY names its shard, a guild's events go only
to the connection of the shard it belongs to, and a shard Discord would refuse is closed with
its close code. Each test runs real discord.py clients against it over real sockets."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import discord
import pytest
from discord_standin import DiscordStandIn, World
from discord_standin.client import StandInFactory, running
from discord_standin.gateway import shard_of
from discord_standin.world import Guild


def sharded_client(seen: list[tuple[int | None, str]], **options: Any) -> discord.AutoShardedClient:
    """A sharded client that notes (guild id, content) of every message it receives, and
    starts its shards' sessions at once rather than 5 s apart (discord.py's default pacing, for
    Discord's identify rate limit, which the stand-in does not enforce)."""
    intents = discord.Intents.default()
    intents.message_content = True
    client = discord.AutoShardedClient(intents=intents, guild_ready_timeout=0.05, **options)

    async def identify_at_once(shard_id: int | None, *, initial: bool = False) -> None:
        pass

    client.before_identify_hook = identify_at_once  # type: ignore[method-assign]

    @client.event
    async def on_message(message: discord.Message) -> None:
        seen.append((message.guild.id if message.guild else None, message.content))

    return client


def world_with_guilds_on(shard_count: int) -> tuple[World, list[Guild]]:
    """A world whose first guild is followed by one guild on each of `shard_count` shards."""
    world = World.create()
    guilds = [world.add_guild(f"shard {n}", shard=(n, shard_count)) for n in range(shard_count)]
    return world, guilds


def connections_of(standin: DiscordStandIn) -> dict[int, tuple[int, int]]:
    """Each identified connection's shard, by connection number."""
    return {entry.connection: entry.shard for entry in standin.gateway.identified}


def sent_on(standin: DiscordStandIn, event: str, where: Callable[[Any], bool]) -> list[int]:
    """The connections an event matching `where` was sent on."""
    return [
        f.connection
        for f in standin.frames
        if f.direction == "sent" and f.t == event and where(f.d)
    ]


async def test_guild_ids_land_on_the_shard_asked_for() -> None:
    world, guilds = world_with_guilds_on(4)
    assert [shard_of(guild.id, 4) for guild in guilds] == [0, 1, 2, 3]
    ids = [guild.id for guild in world.guilds]
    assert ids == sorted(ids) and world.snowflakes.next() > ids[-1]


async def test_each_shard_gets_only_its_guilds_and_their_messages(
    start_standin: StandInFactory,
) -> None:
    world, guilds = world_with_guilds_on(2)
    standin = await start_standin(world=world)
    seen: list[tuple[int | None, str]] = []
    client = sharded_client(seen, shard_count=2)
    async with running(client, standin):
        assert {g.id for g in client.guilds} == {g.id for g in world.guilds}
        for guild in guilds:
            author = world.add_member(f"reader of {guild.name}", guild=guild)
            await standin.post_message(author, guild.name, channel=guild.channel("general"))
        async with asyncio.timeout(5):
            while len(seen) < 2:
                await asyncio.sleep(0.01)
    shards = connections_of(standin)
    assert sorted(shards.values()) == [(0, 2), (1, 2)]
    for guild in world.guilds:
        expected = [c for c, shard in shards.items() if shard[0] == shard_of(guild.id, 2)]
        assert sent_on(standin, "GUILD_CREATE", lambda d, g=guild: d["id"] == str(g.id)) == (
            expected
        )
    for guild in guilds:
        on = sent_on(standin, "MESSAGE_CREATE", lambda d, g=guild: d["content"] == g.name)
        assert [shards[c] for c in on] == [(shard_of(guild.id, 2), 2)]
    assert sorted(seen) == sorted((g.id, g.name) for g in guilds)


async def test_two_clients_holding_one_shard_each_see_only_their_own_guild(
    start_standin: StandInFactory,
) -> None:
    world = World.sharded(2)
    guilds = world.guilds
    standin = await start_standin(world=world)
    first_seen: list[tuple[int | None, str]] = []
    second_seen: list[tuple[int | None, str]] = []
    first = sharded_client(first_seen, shard_count=2, shard_ids=[0])
    second = sharded_client(second_seen, shard_count=2, shard_ids=[1])
    async with running(first, standin), running(second, standin):
        assert [g.id for g in first.guilds] == [guilds[0].id]
        assert [g.id for g in second.guilds] == [guilds[1].id]
        for guild in guilds:
            author = world.add_member(f"reader of {guild.name}", guild=guild)
            await standin.post_message(author, guild.name, channel=guild.channel("general"))
        async with asyncio.timeout(5):
            while len(first_seen) + len(second_seen) < 2:
                await asyncio.sleep(0.01)
    assert first_seen == [(guilds[0].id, guilds[0].name)]
    assert second_seen == [(guilds[1].id, guilds[1].name)]


async def test_direct_messages_go_to_shard_zero(start_standin: StandInFactory) -> None:
    world, guilds = world_with_guilds_on(2)
    standin = await start_standin(world=world)
    seen: list[tuple[int | None, str]] = []
    async with running(sharded_client(seen, shard_count=2), standin):
        reader = world.add_member("reader", guild=guilds[1])
        await standin.post_message(reader, "hello bot", channel=world.dm_channel(reader))
        async with asyncio.timeout(5):
            while not seen:
                await asyncio.sleep(0.01)
    shards = connections_of(standin)
    on = sent_on(standin, "MESSAGE_CREATE", lambda d: d["content"] == "hello bot")
    assert [shards[c] for c in on] == [(0, 2)]
    assert seen == [(None, "hello bot")]


async def test_bot_gateway_recommends_the_shard_count_a_sharded_client_then_uses(
    start_standin: StandInFactory,
) -> None:
    standin = await start_standin(recommended_shards=3)
    client = sharded_client([])
    async with running(client, standin):
        assert client.shard_count == 3
    gateway = standin.requests.matching(lambda r: r.path == "/gateway/bot")
    assert gateway[0].response["shards"] == 3
    assert sorted(entry.shard for entry in standin.gateway.identified) == [(0, 3), (1, 3), (2, 3)]


async def test_a_shard_beyond_the_count_is_closed_with_4010(standin: DiscordStandIn) -> None:
    client = sharded_client([], shard_count=2, shard_ids=[2])
    with pytest.raises(discord.ConnectionClosed) as closed:
        async with running(client, standin):
            pass
    assert closed.value.code == 4010
    assert not standin.gateway.identified and standin.gateway.session is None


async def test_too_many_guilds_for_one_shard_is_closed_with_4011(
    start_standin: StandInFactory,
) -> None:
    world, _ = world_with_guilds_on(2)
    standin = await start_standin(world=world, max_guilds_per_shard=2)
    with pytest.raises(discord.ConnectionClosed) as closed:
        async with running(sharded_client([], shard_count=1), standin):
            pass
    assert closed.value.code == 4011
    # Split in two, each shard holds few enough.
    async with running(sharded_client([], shard_count=2), standin):
        pass
    assert sorted(entry.shard for entry in standin.gateway.identified) == [(0, 2), (1, 2)]


async def test_one_dropped_shard_resumes_and_gets_what_it_missed(
    start_standin: StandInFactory,
) -> None:
    world, guilds = world_with_guilds_on(2)
    standin = await start_standin(world=world)
    seen: list[tuple[int | None, str]] = []
    async with running(sharded_client(seen, shard_count=2), standin):
        reader = world.add_member("reader", guild=guilds[1])
        await standin.drop_connection(shard=1)
        await standin.post_message(reader, "while away", channel=guilds[1].channel("general"))
        await standin.wait_for_resume()
        async with asyncio.timeout(5):
            while not seen:
                await asyncio.sleep(0.01)
    assert seen == [(guilds[1].id, "while away")]
    resumed = [c for c in standin.gateway.connections if c.path == "/resume"]
    assert len(resumed) == 1 and len(standin.gateway.identified) == 2
