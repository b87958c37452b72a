"""The Discord stand-in speaks the protocol a plain discord.py 2.7 bot expects, and refuses
what Discord refuses. Each test runs a real `commands.Bot` against it over real sockets."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import aiohttp
import discord
import pytest
from discord import app_commands
from discord.ext import commands
from discord_standin import DiscordStandIn, InteractionRefused, World
from discord_standin.client import StandInFactory, running


@dataclass
class Observed:
    """What the test bot saw and which errors its commands ran into."""

    messages: asyncio.Queue[discord.Message] = field(default_factory=asyncio.Queue)
    errors: asyncio.Queue[discord.HTTPException] = field(default_factory=asyncio.Queue)


def make_bot(
    observed: Observed, *, message_content: bool = True, sync_to_guild: int | None = None
) -> commands.Bot:
    """A minimal bot with one slash command per behaviour under test."""
    intents = discord.Intents.default()
    intents.message_content = message_content
    bot = commands.Bot(
        command_prefix=commands.when_mentioned, intents=intents, guild_ready_timeout=0.05
    )

    @bot.event
    async def on_message(message: discord.Message) -> None:
        await observed.messages.put(message)

    @bot.tree.command(description="Say the text back")
    async def echo(interaction: discord.Interaction, text: str) -> None:
        await interaction.response.send_message(text)

    @bot.tree.command(description="Think first, answer later")
    async def slow(interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True)
        await interaction.followup.send("thought it over")

    @bot.tree.command(description="Follow up before responding, which Discord refuses")
    async def eager(interaction: discord.Interaction) -> None:
        try:
            await interaction.followup.send("too early")
        except discord.HTTPException as refused:
            await observed.errors.put(refused)
        await interaction.response.send_message("answered properly")

    @bot.tree.command(description="Answer after the token lapsed")
    async def late(interaction: discord.Interaction) -> None:
        await asyncio.sleep(0.3)
        try:
            await interaction.response.send_message("too late")
        except discord.HTTPException as refused:
            await observed.errors.put(refused)

    @bot.tree.command(description="Reply to a message, pinging nobody")
    async def quote(interaction: discord.Interaction, message_id: str) -> None:
        await interaction.response.defer(ephemeral=True)
        assert isinstance(interaction.channel, discord.TextChannel)
        target = interaction.channel.get_partial_message(int(message_id))
        await target.reply(
            f"<@{interaction.user.id}> quoted this", allowed_mentions=discord.AllowedMentions.none()
        )
        await interaction.followup.send("done", ephemeral=True)

    @bot.tree.command(description="Pick a fruit")
    async def fruit(interaction: discord.Interaction, name: str) -> None:
        await interaction.response.send_message(name)

    @fruit.autocomplete("name")
    async def fruit_names(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        fruits = ["apple", "apricot", "banana"]
        return [app_commands.Choice(name=f, value=f) for f in fruits if f.startswith(current)]

    @bot.tree.command(description="Only for server managers")
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    async def manage(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("managed", ephemeral=True)

    async def sync_commands() -> None:
        if sync_to_guild is not None:
            guild = discord.Object(sync_to_guild)
            bot.tree.copy_global_to(guild=guild)
            await bot.tree.sync(guild=guild)
        else:
            await bot.tree.sync()

    bot.setup_hook = sync_commands  # type: ignore[method-assign]
    return bot


async def next_message(observed: Observed, content: str) -> discord.Message:
    """The next message the bot saw with exactly `content`, skipping others (its own echoes)."""
    async with asyncio.timeout(5):
        while True:
            message = await observed.messages.get()
            if message.content == content:
                return message


async def test_login_identifies_with_compression_and_reaches_ready(standin: DiscordStandIn) -> None:
    bot = make_bot(Observed())
    async with running(bot, standin):
        assert bot.user is not None and bot.user.id == standin.world.bot.id
        assert bot.application_id == standin.world.application_id
        guild = bot.get_guild(standin.world.guild.id)
        assert guild is not None and {c.name for c in guild.text_channels} == {"general", "ask"}
        assert guild.me is not None
    assert [(r.method, r.path) for r in standin.requests][:2] == [
        ("GET", "/users/@me"),
        ("GET", "/oauth2/applications/@me"),
    ]
    first = await standin.gateway.connections.wait_for(lambda c: True)
    assert first.path == "/gateway"
    assert first.query == {"v": "10", "encoding": "json", "compress": "zlib-stream"}
    identify = await standin.frames.wait_for(lambda f: f.op == 2)
    assert identify.d["token"] == standin.token
    assert identify.d["intents"] == bot.intents.value


async def test_wrong_token_is_refused_at_login(standin: DiscordStandIn) -> None:
    bot = make_bot(Observed())
    try:
        with pytest.raises(discord.LoginFailure):
            await bot.login("not-the-bot-token")
    finally:
        await bot.close()
    assert standin.requests.matching(lambda r: r.path == "/users/@me")[0].status == 401


async def test_privileged_intent_not_enabled_for_the_app_closes_with_4014(
    start_standin: StandInFactory,
) -> None:
    server = await start_standin(allowed_privileged_intents=0)
    with pytest.raises(discord.PrivilegedIntentsRequired):
        async with running(make_bot(Observed(), message_content=True), server):
            pass


async def test_global_command_sync_is_recorded_and_stored(standin: DiscordStandIn) -> None:
    async with running(make_bot(Observed()), standin):
        request = await standin.wait_for_request(
            "PUT", rf"/applications/{standin.world.application_id}/commands"
        )
    assert request.status == 200
    assert {c["name"] for c in request.json} == {
        "echo",
        "slow",
        "eager",
        "late",
        "quote",
        "fruit",
        "manage",
    }
    stored = {c["name"]: c for c in standin.rest.commands.by_scope[None]}
    assert stored["manage"]["default_member_permissions"] == str(
        discord.Permissions(manage_guild=True).value
    )
    assert stored["echo"]["options"][0]["name"] == "text"


async def test_guild_command_sync_goes_to_the_guild_route(standin: DiscordStandIn) -> None:
    guild_id = standin.world.guild.id
    async with running(make_bot(Observed(), sync_to_guild=guild_id), standin):
        request = await standin.wait_for_request(
            "PUT", rf"/applications/\d+/guilds/{guild_id}/commands"
        )
    assert request.status == 200
    assert all(c["guild_id"] == str(guild_id) for c in standin.rest.commands.by_scope[guild_id])


async def test_message_create_reaches_on_message_with_its_mentions(standin: DiscordStandIn) -> None:
    observed = Observed()
    alice = standin.world.add_member("alice")
    async with running(make_bot(observed), standin):
        await standin.post_message(alice, f"<@{standin.world.bot.id}> who wrote it?", channel="ask")
        message = await next_message(observed, f"<@{standin.world.bot.id}> who wrote it?")
    assert message.author.id == alice.id
    assert message.guild is not None and message.guild.id == standin.world.guild.id
    assert isinstance(message.channel, discord.TextChannel) and message.channel.name == "ask"
    assert [user.id for user in message.mentions] == [standin.world.bot.id]


async def test_without_message_content_intent_only_mentions_carry_text(
    standin: DiscordStandIn,
) -> None:
    observed = Observed()
    alice = standin.world.add_member("alice")
    async with running(make_bot(observed, message_content=False), standin):
        await standin.post_message(alice, "just chatting")
        await standin.post_message(alice, f"<@{standin.world.bot.id}> a question")
        chatting = await observed.messages.get()
        mentioning = await observed.messages.get()
    assert chatting.content == ""
    assert mentioning.content == f"<@{standin.world.bot.id}> a question"


async def test_slash_command_is_answered_through_the_callback(standin: DiscordStandIn) -> None:
    alice = standin.world.add_member("alice")
    async with running(make_bot(Observed()), standin):
        interaction = await standin.invoke_command(alice, "echo", {"text": "hello there"})
        answer = await standin.wait_for_answer(interaction)
    assert answer.via == "callback" and answer.content == "hello there"
    callback = await standin.wait_for_request(
        "POST", rf"/interactions/{interaction.id}/.+/callback"
    )
    assert callback.json["type"] == 4 and callback.status == 200


async def test_follow_up_after_defer_resolves_the_loading_message(standin: DiscordStandIn) -> None:
    alice = standin.world.add_member("alice")
    async with running(make_bot(Observed()), standin):
        interaction = await standin.invoke_command(alice, "slow")
        answer = await standin.wait_for_answer(interaction)
    assert answer.via == "followup" and answer.content == "thought it over"
    assert interaction.response_type == 5 and not interaction.loading
    assert interaction.original is not None and interaction.original["id"] == answer.payload["id"]


async def test_second_callback_for_one_interaction_is_refused_with_40060(
    standin: DiscordStandIn,
) -> None:
    alice = standin.world.add_member("alice")
    async with running(make_bot(Observed()), standin):
        interaction = await standin.invoke_command(alice, "echo", {"text": "once"})
        await standin.wait_for_answer(interaction)
        url = f"{standin.api_base}/interactions/{interaction.id}/{interaction.token}/callback"
        again = {"type": 4, "data": {"content": "twice"}}
        async with aiohttp.ClientSession() as session, session.post(url, json=again) as second:
            assert second.status == 400
            refusal = await second.json()
    assert refusal == {"message": "Interaction has already been acknowledged.", "code": 40060}


async def test_follow_up_before_the_callback_is_refused_as_unknown_webhook(
    standin: DiscordStandIn,
) -> None:
    observed = Observed()
    alice = standin.world.add_member("alice")
    async with running(make_bot(observed), standin):
        interaction = await standin.invoke_command(alice, "eager")
        answer = await standin.wait_for_answer(interaction)
        refused = await asyncio.wait_for(observed.errors.get(), 5)
    assert isinstance(refused, discord.NotFound) and refused.code == 10015
    assert answer.content == "answered properly"


async def test_callback_after_the_three_second_window_is_refused(standin: DiscordStandIn) -> None:
    observed = Observed()
    standin.rest.interaction_deadline = 0.1  # the real window is 3 s; the command waits 0.3 s
    alice = standin.world.add_member("alice")
    async with running(make_bot(observed), standin):
        await standin.invoke_command(alice, "late")
        refused = await asyncio.wait_for(observed.errors.get(), 5)
    assert isinstance(refused, discord.NotFound) and refused.code == 10062


async def test_autocomplete_request_gets_the_bots_choices(standin: DiscordStandIn) -> None:
    alice = standin.world.add_member("alice")
    async with running(make_bot(Observed()), standin):
        interaction = await standin.request_autocomplete(
            alice, "fruit", {"name": "ap"}, focused="name"
        )
        choices = await standin.wait_for_choices(interaction)
    assert [c["value"] for c in choices] == ["apple", "apricot"]


async def test_commands_are_refused_where_discord_would_not_send_them(
    standin: DiscordStandIn,
) -> None:
    alice = standin.world.add_member("alice")
    moderator = standin.world.add_member("mod", roles=("Moderator",))
    async with running(make_bot(Observed()), standin):
        with pytest.raises(InteractionRefused, match="not registered"):
            await standin.invoke_command(alice, "unknown")
        with pytest.raises(InteractionRefused, match="required option"):
            await standin.invoke_command(alice, "echo")
        with pytest.raises(InteractionRefused, match="needs permissions"):
            await standin.invoke_command(alice, "manage")
        with pytest.raises(InteractionRefused, match="direct messages"):
            await standin.invoke_command(
                moderator, "manage", channel=standin.world.dm_channel(moderator)
            )
        allowed = await standin.invoke_command(moderator, "manage")
        overridden = await standin.invoke_command(alice, "manage", granted_by_override=True)
        for interaction in (allowed, overridden):
            answer = await standin.wait_for_answer(interaction)
            assert answer.ephemeral and answer.content == "managed"


async def test_reply_with_no_allowed_mentions_pings_nobody(standin: DiscordStandIn) -> None:
    alice = standin.world.add_member("alice")
    async with running(make_bot(Observed()), standin):
        question = await standin.post_message(alice, "quote me")
        interaction = await standin.invoke_command(alice, "quote", {"message_id": question["id"]})
        reply = await standin.wait_for_answer(question)
        done = await standin.wait_for_answer(interaction)
    assert done.ephemeral and done.content == "done"
    assert reply.content == f"<@{alice.id}> quoted this"
    assert reply.payload["message_reference"]["message_id"] == question["id"]
    assert not reply.pinged_anyone


async def test_dropped_connection_resumes_and_replays_what_was_missed(
    standin: DiscordStandIn,
) -> None:
    observed = Observed()
    alice = standin.world.add_member("alice")
    async with running(make_bot(observed), standin):
        await standin.drop_connection()
        await standin.post_message(alice, "sent while the bot was away")
        await standin.wait_for_resume()
        replayed = await next_message(observed, "sent while the bot was away")
        interaction = await standin.invoke_command(alice, "echo", {"text": "still here"})
        answer = await standin.wait_for_answer(interaction)
    assert replayed.author.id == alice.id
    assert answer.content == "still here"
    resumed_on = await standin.gateway.connections.wait_for(lambda c: c.number == 2)
    assert resumed_on.path == "/resume"
    resume = await standin.frames.wait_for(lambda f: f.op == 6)
    assert standin.gateway.session is not None
    assert resume.d["session_id"] == standin.gateway.session.id
    assert not standin.frames.matching(lambda f: f.op == 2 and f.connection == 2)


async def test_reconnect_request_moves_the_session_to_a_new_connection(
    standin: DiscordStandIn,
) -> None:
    alice = standin.world.add_member("alice")
    async with running(make_bot(Observed()), standin):
        await standin.request_reconnect()
        await standin.wait_for_resume()
        interaction = await standin.invoke_command(alice, "echo", {"text": "after reconnect"})
        assert (await standin.wait_for_answer(interaction)).content == "after reconnect"


async def test_a_new_world_starts_with_an_owner_and_a_moderator_role() -> None:
    world = World.create()
    moderator = world.add_member("mod", roles=("Moderator",))
    everyone = world.add_member("pat")
    guild = world.guild
    assert (
        guild.permissions_of(guild.member(moderator.id))
        & discord.Permissions(manage_guild=True).value
    )
    assert (
        not guild.permissions_of(guild.member(everyone.id))
        & discord.Permissions(manage_guild=True).value
    )
    assert discord.Permissions(guild.permissions_of(guild.member(world.owner.id))).administrator
