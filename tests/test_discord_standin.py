"""The Discord stand-in speaks the protocol a plain discord.py 2.7 bot expects, and refuses
what Discord refuses. Each test runs a real `commands.Bot` against it over real sockets."""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import discord
import pytest
from discord import app_commands
from discord.ext import commands
from discord_standin import (
    ActionRefused,
    BotMessage,
    DiscordStandIn,
    InteractionRefused,
    World,
)
from discord_standin.client import StandInFactory, running
from discord_standin.files import UPLOAD_LIMIT


@dataclass
class Observed:
    """What the test bot saw and which errors its commands ran into."""

    messages: asyncio.Queue[discord.Message] = field(default_factory=asyncio.Queue)
    errors: asyncio.Queue[discord.HTTPException] = field(default_factory=asyncio.Queue)
    threads: asyncio.Queue[discord.Thread] = field(default_factory=asyncio.Queue)


def observing_bot(observed: Observed, *, message_content: bool) -> commands.Bot:
    """A bot that reports every message it sees to `observed`."""
    intents = discord.Intents.default()
    intents.message_content = message_content
    bot = commands.Bot(
        command_prefix=commands.when_mentioned, intents=intents, guild_ready_timeout=0.05
    )

    @bot.event
    async def on_message(message: discord.Message) -> None:
        await observed.messages.put(message)

    return bot


def make_bot(
    observed: Observed, *, message_content: bool = True, sync_to_guild: int | None = None
) -> commands.Bot:
    """A minimal bot with one slash command per behaviour under test."""
    bot = observing_bot(observed, message_content=message_content)

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


# --- message components, replies, threads and files -------------------------------------------


class Poll(discord.ui.View):
    """Buttons answered in each of the ways Discord allows for a click."""

    def __init__(self, *, timeout: float | None = 30) -> None:
        super().__init__(timeout=timeout)
        self.votes = 0
        self.add_item(discord.ui.Button(label="Docs", url="https://example.com/docs"))

    @discord.ui.button(label="Yes", style=discord.ButtonStyle.success, custom_id="poll:yes")
    async def yes(self, interaction: discord.Interaction, button: discord.ui.Button[Any]) -> None:
        self.votes += 1
        await interaction.response.edit_message(content=f"yes: {self.votes}", view=self)

    @discord.ui.button(label="Private", custom_id="poll:private")
    async def private(
        self, interaction: discord.Interaction, button: discord.ui.Button[Any]
    ) -> None:
        await interaction.response.send_message(
            f"only for {interaction.user.name}", view=Poll(), ephemeral=True
        )

    @discord.ui.button(label="Later", custom_id="poll:later")
    async def later(self, interaction: discord.Interaction, button: discord.ui.Button[Any]) -> None:
        await interaction.response.defer()
        await interaction.edit_original_response(content="edited later")
        await interaction.followup.send("followed up")

    @discord.ui.button(label="Closed", custom_id="poll:closed", disabled=True)
    async def closed(
        self, interaction: discord.Interaction, button: discord.ui.Button[Any]
    ) -> None:
        await interaction.response.send_message("never")

    @discord.ui.button(label="Quiet", custom_id="poll:quiet")
    async def quiet(self, interaction: discord.Interaction, button: discord.ui.Button[Any]) -> None:
        pass  # leaves the click unanswered, for a test to answer it by hand


class Acknowledge(discord.ui.View):
    """A persistent view: no timeout and fixed custom_ids, so it survives a restart."""

    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Ack", custom_id="persist:ack")
    async def ack(self, interaction: discord.Interaction, button: discord.ui.Button[Any]) -> None:
        await interaction.response.send_message(f"acknowledged by {interaction.user.name}")


def make_ui_bot(observed: Observed, *, message_content: bool = True) -> commands.Bot:
    """A bot whose commands send buttons and files, and which reports messages and threads."""
    bot = observing_bot(observed, message_content=message_content)

    @bot.event
    async def on_thread_create(thread: discord.Thread) -> None:
        await observed.threads.put(thread)

    @bot.tree.command(description="Ask for votes")
    async def poll(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("Vote now", view=Poll())

    @bot.tree.command(description="Post buttons in the channel, not as a response")
    async def announce(interaction: discord.Interaction) -> None:
        assert isinstance(interaction.channel, discord.TextChannel)
        await interaction.channel.send("Announcement", view=Poll())
        await interaction.response.send_message("posted", ephemeral=True)

    @bot.tree.command(description="A button whose label is too long")
    async def overlong(interaction: discord.Interaction) -> None:
        view = discord.ui.View()
        view.add_item(discord.ui.Button(label="x" * 81, custom_id="long"))
        try:
            await interaction.response.send_message("too long", view=view)
        except discord.HTTPException as refused:
            await observed.errors.put(refused)

    @bot.tree.command(description="Send a report as a file, then more files")
    async def report(interaction: discord.Interaction) -> None:
        await interaction.response.send_message(
            "the report", file=discord.File(io.BytesIO(b"line one\n"), "report.txt")
        )
        await interaction.followup.send(file=discord.File(io.BytesIO(b"\x89PNG"), "chart.png"))
        original = await interaction.original_response()
        await interaction.edit_original_response(
            attachments=[*original.attachments, discord.File(io.BytesIO(b"{}"), "data.json")]
        )

    @bot.tree.command(description="Answer nothing")
    async def silent(interaction: discord.Interaction) -> None:
        pass

    async def setup() -> None:
        bot.add_view(Acknowledge())
        await bot.tree.sync()

    bot.setup_hook = setup  # type: ignore[method-assign]
    return bot


async def raw_post(standin: DiscordStandIn, path: str, **kwargs: Any) -> tuple[int, Any]:
    """POST `path` below the API base with the bot token, as a client other than discord.py."""
    headers = {"Authorization": f"Bot {standin.token}"}
    async with (
        aiohttp.ClientSession() as session,
        session.post(standin.api_base + path, headers=headers, **kwargs) as response,
    ):
        return response.status, await response.json(content_type=None)


def button(custom_id: str | None = "b", **fields: Any) -> dict[str, Any]:
    """A button payload as a client sends it."""
    data: dict[str, Any] = {"type": 2, "style": 1, "label": "B", **fields}
    if custom_id is not None:
        data["custom_id"] = custom_id
    return data


def row(*buttons: dict[str, Any]) -> dict[str, Any]:
    """An action row payload holding `buttons`."""
    return {"type": 1, "components": list(buttons)}


async def test_buttons_are_stored_with_ids_and_a_click_updates_the_message(
    standin: DiscordStandIn,
) -> None:
    alice = standin.world.add_member("alice")
    async with running(make_ui_bot(Observed()), standin):
        command = await standin.invoke_command(alice, "poll")
        posted = await standin.wait_for_answer(command)
        click = await standin.click_button(alice, posted, "poll:yes")
        updated = await standin.messages.wait_for(
            lambda m: m.via == "edit" and m.interaction_id == click.id
        )
        again = await standin.click_button(alice, updated.payload, "poll:yes")
        await standin.messages.wait_for(lambda m: m.content == "yes: 2")
    # discord.py fills a row with the five decorated buttons and puts the link on a second row;
    # Discord numbers every component in document order.
    rows = posted.components
    assert [(r["type"], r["id"]) for r in rows] == [(1, 1), (1, 7)]
    assert [(b["id"], b.get("custom_id"), b["style"]) for b in posted.buttons] == [
        (2, "poll:yes", 3),
        (3, "poll:private", 2),
        (4, "poll:later", 2),
        (5, "poll:closed", 2),
        (6, "poll:quiet", 2),
        (8, None, 5),
    ]
    assert posted.buttons[5]["url"] == "https://example.com/docs"
    assert posted.buttons[3]["disabled"] is True
    echoed = await standin.frames.wait_for(
        lambda f: f.t == "MESSAGE_CREATE" and f.d["id"] == posted.payload["id"]
    )
    assert echoed.d["components"] == rows
    # The click carries the clicked message and the button, as Discord sends them.
    sent = await standin.frames.wait_for(
        lambda f: f.t == "INTERACTION_CREATE" and f.d["id"] == str(click.id)
    )
    assert sent.d["type"] == 3
    assert sent.d["data"] == {"custom_id": "poll:yes", "component_type": 2, "id": 2}
    assert sent.d["message"]["id"] == posted.payload["id"]
    assert sent.d["message"]["components"] == rows
    assert sent.d["member"]["user"]["id"] == str(alice.id)
    assert {"app_permissions", "channel", "guild", "token", "attachment_size_limit"} <= set(sent.d)
    assert click.user is alice and click.message is not None and click.custom_id == "poll:yes"
    # Type 7 edits the clicked message in place and tells the gateway.
    assert click.response_type == 7 and again.response_type == 7
    assert updated.payload["id"] == posted.payload["id"] and updated.content == "yes: 1"
    assert updated.payload["edited_timestamp"] is not None and not updated.ephemeral
    assert updated.components == rows
    await standin.frames.wait_for(lambda f: f.t == "MESSAGE_UPDATE" and f.d["content"] == "yes: 1")


async def test_clicks_answered_with_a_new_message_a_deferral_and_follow_ups(
    standin: DiscordStandIn,
) -> None:
    alice = standin.world.add_member("alice")
    async with running(make_ui_bot(Observed()), standin):
        announced = await standin.wait_for_answer(await standin.invoke_command(alice, "announce"))
        message = await standin.messages.wait_for(lambda m: m.content == "Announcement")
        private = await standin.click_button(alice, message, "poll:private", channel="general")
        secret = await standin.wait_for_answer(private)
        later = await standin.click_button(alice, message, "poll:later")
        edited = await standin.messages.wait_for(lambda m: m.content == "edited later")
        followed = await standin.messages.wait_for(
            lambda m: m.via == "followup" and m.interaction_id == later.id
        )
        # A button on an ephemeral message answers its one viewer.
        inner = await standin.click_button(alice, secret, "poll:yes")
        inner_edit = await standin.messages.wait_for(lambda m: m.interaction_id == inner.id)
    assert announced.ephemeral and message.via == "channel" and message.interaction_id is None
    # An ephemeral type-4 response is a new message only the clicker sees, replying to the click.
    assert private.response_type == 4
    assert secret.ephemeral and secret.via == "callback" and secret.interaction_id == private.id
    assert secret.content == "only for alice" and len(secret.buttons) == 6
    metadata = secret.payload["interaction_metadata"]
    assert metadata["type"] == 3 and metadata["user"]["id"] == str(alice.id)
    assert metadata["interacted_message_id"] == message.payload["id"]
    assert secret.payload["type"] == 19 and secret.reply_to == int(message.payload["id"])
    assert not secret.pinged_anyone
    # A deferral (type 6) makes no message; the later edit of @original edits the clicked one.
    assert later.response_type == 6
    assert edited.via == "edit" and edited.payload["id"] == message.payload["id"]
    assert edited.interaction_id == later.id
    assert followed.via == "followup" and followed.content == "followed up"
    assert followed.payload["id"] != message.payload["id"]
    assert inner.response_type == 7 and inner_edit.ephemeral
    assert inner_edit.payload["id"] == secret.payload["id"] and inner_edit.content == "yes: 1"
    assert not standin.frames.matching(
        lambda f: f.t in ("MESSAGE_CREATE", "MESSAGE_UPDATE") and f.d["id"] == secret.payload["id"]
    )


async def test_clicks_discord_would_not_send_are_refused(standin: DiscordStandIn) -> None:
    alice = standin.world.add_member("alice")
    bob = standin.world.add_member("bob")
    async with running(make_ui_bot(Observed()), standin):
        poll = await standin.wait_for_answer(await standin.invoke_command(alice, "poll"))
        secret_click = await standin.click_button(alice, poll, "poll:private")
        secret = await standin.wait_for_answer(secret_click)
        own = await standin.post_message(alice, "a person's message")
        frames_before = len(standin.frames)
        with pytest.raises(InteractionRefused, match="does not exist"):
            await standin.click_button(alice, {**poll.payload, "id": "1234"}, "poll:yes")
        with pytest.raises(InteractionRefused, match="not sent by the bot"):
            await standin.click_button(alice, own, "poll:yes")
        with pytest.raises(InteractionRefused, match="no button 'poll:maybe'"):
            await standin.click_button(alice, poll, "poll:maybe")
        with pytest.raises(InteractionRefused, match="disabled"):
            await standin.click_button(alice, poll, "poll:closed")
        with pytest.raises(InteractionRefused, match="ephemeral"):
            await standin.click_button(bob, secret, "poll:yes")
        with pytest.raises(InteractionRefused, match="not in ask"):
            await standin.click_button(alice, poll, "poll:yes", channel="ask")
        assert len(standin.frames) == frames_before  # nothing reached the bot
        # Bob may click the public message; after the bot deletes a message nobody can.
        by_bob = await standin.click_button(bob, poll, "poll:yes")
        await standin.messages.wait_for(lambda m: m.interaction_id == by_bob.id)
        url = f"{standin.api_base}/webhooks/{standin.world.application_id}/{secret_click.token}"
        async with (
            aiohttp.ClientSession() as session,
            session.delete(f"{url}/messages/@original") as deleted,
        ):
            assert deleted.status == 204
        with pytest.raises(InteractionRefused, match="does not exist"):
            await standin.click_button(alice, secret, "poll:yes")


async def test_callback_types_depend_on_the_interaction(standin: DiscordStandIn) -> None:
    alice = standin.world.add_member("alice")
    async with running(make_ui_bot(Observed()), standin):
        poll = await standin.wait_for_answer(await standin.invoke_command(alice, "poll"))
        command = await standin.invoke_command(alice, "silent")
        click = await standin.click_button(alice, poll, "poll:quiet")  # the bot leaves both

        async def callback(interaction: Any, kind: int, data: Any = None) -> tuple[int, Any]:
            url = f"/interactions/{interaction.id}/{interaction.token}/callback?with_response=1"
            return await raw_post(standin, url, json={"type": kind, "data": data or {}})

        assert (await callback(command, 7, {"content": "no"}))[1]["code"] == 50035
        assert (await callback(command, 6))[1]["code"] == 50035
        assert (await callback(click, 8, {"choices": []}))[1]["code"] == 50035
        status, answer = await callback(click, 6)
    assert status == 200 and click.response_type == 6
    assert answer["interaction"]["response_message_id"] == poll.payload["id"]
    assert "message" not in answer["resource"]
    assert command.response_type is None


@pytest.mark.parametrize(
    ("components", "path", "code"),
    [
        ([row(button(f"r{i}")) for i in range(6)], ["components"], "BASE_TYPE_MAX_LENGTH"),
        (
            [row(*(button(f"b{i}") for i in range(6)))],
            ["components", "0", "components"],
            "BASE_TYPE_BAD_LENGTH",
        ),
        ([row()], ["components", "0", "components"], "BASE_TYPE_BAD_LENGTH"),
        (
            [row(button(None))],
            ["components", "0", "components", "0", "custom_id"],
            "BUTTON_COMPONENT_CUSTOM_ID_REQUIRED",
        ),
        (
            [row(button("x" * 101))],
            ["components", "0", "components", "0", "custom_id"],
            "BASE_TYPE_BAD_LENGTH",
        ),
        (
            [row(button("same")), row(button("other"), button("same", disabled=True))],
            ["components", "1", "components", "1", "custom_id"],
            "COMPONENT_CUSTOM_ID_DUPLICATED",
        ),
        (
            [row(button(label="y" * 81))],
            ["components", "0", "components", "0", "label"],
            "BASE_TYPE_MAX_LENGTH",
        ),
        (
            [row(button(style=7))],
            ["components", "0", "components", "0", "style"],
            "BASE_TYPE_CHOICES",
        ),
        (
            [row(button("link", style=5, url="https://example.com"))],
            ["components", "0", "components", "0", "custom_id"],
            "BUTTON_COMPONENT_CUSTOM_ID_URL_MUTUALLY_EXCLUSIVE",
        ),
        (
            [row(button(None, style=5))],
            ["components", "0", "components", "0", "url"],
            "BUTTON_COMPONENT_URL_REQUIRED",
        ),
        ([button("bare")], ["components", "0", "type"], "UNION_TYPE_CHOICES"),
    ],
)
async def test_components_discord_refuses_get_50035(
    standin: DiscordStandIn, components: list[Any], path: list[str], code: str
) -> None:
    general = standin.world.channel("general")
    status, refusal = await raw_post(
        standin,
        f"/channels/{general.id}/messages",
        json={"content": "buttons", "components": components},
    )
    assert (status, refusal["code"], refusal["message"]) == (400, 50035, "Invalid Form Body")
    errors = refusal["errors"]
    for key in path:
        errors = errors[key]
    assert [e["code"] for e in errors["_errors"]] == [code]
    assert not standin.messages.matching(lambda m: True)


async def test_components_are_checked_on_every_route_discord_py_sends_them(
    standin: DiscordStandIn,
) -> None:
    observed = Observed()
    alice = standin.world.add_member("alice")
    general = standin.world.channel("general")
    async with running(make_ui_bot(observed), standin):
        await standin.invoke_command(alice, "overlong")
        refused = await asyncio.wait_for(observed.errors.get(), 5)
        fine = [row(button("ok"), {"type": 2, "style": 5, "label": "Go", "url": "https://a.b"})]
        status, message = await raw_post(
            standin, f"/channels/{general.id}/messages", json={"components": fine}
        )
    assert isinstance(refused, discord.HTTPException) and refused.code == 50035
    assert "data.components.0.components.0.label" in refused.text
    # A message with only components is not empty, and Discord numbers what it stores.
    assert status == 200 and message["content"] == ""
    assert message["components"][0]["id"] == 1
    assert [c["id"] for c in message["components"][0]["components"]] == [2, 3]


async def test_a_click_on_a_message_from_before_a_restart_reaches_the_new_bot(
    standin: DiscordStandIn,
) -> None:
    alice = standin.world.add_member("alice")
    general = standin.world.channel("general")
    first = make_ui_bot(Observed())
    async with running(first, standin):
        channel = first.get_channel(general.id)
        assert isinstance(channel, discord.TextChannel)
        await channel.send("Press when done", view=Acknowledge())
        sent = await standin.messages.wait_for(lambda m: m.content == "Press when done")
    second = make_ui_bot(Observed())
    async with running(second, standin):
        click = await standin.click_button(alice, sent.payload, "persist:ack")
        answer = await standin.wait_for_answer(click)
    assert answer.content == "acknowledged by alice" and answer.via == "callback"
    assert answer.reply_to == int(sent.payload["id"])
    assert len(standin.gateway.connections) == 2


async def seen_by_bot(observed: Observed, messages: list[dict[str, Any]]) -> list[discord.Message]:
    """How the bot saw each of `messages`, skipping everything else it saw."""
    wanted = {int(m["id"]) for m in messages}
    seen: dict[int, discord.Message] = {}
    async with asyncio.timeout(5):
        while not wanted <= set(seen):
            message = await observed.messages.get()
            seen[message.id] = message
    return [seen[int(m["id"])] for m in messages]


async def test_people_reply_to_messages_and_a_ping_shows_the_bot_the_text(
    standin: DiscordStandIn,
) -> None:
    observed = Observed()
    alice = standin.world.add_member("alice")
    bob = standin.world.add_member("bob")
    bot_id = standin.world.bot.id
    general = standin.world.channel("general")
    async with running(make_ui_bot(observed, message_content=False), standin):
        posted = await standin.wait_for_answer(await standin.invoke_command(alice, "announce"))
        announcement = await standin.messages.wait_for(lambda m: m.content == "Announcement")
        response = await standin.wait_for_answer(await standin.invoke_command(alice, "poll"))
        pinging = await standin.post_message(alice, "thanks!", reply_to=announcement)
        quiet = await standin.post_message(
            alice, "no ping", reply_to=announcement.payload, ping_replied=False
        )
        to_response = await standin.post_message(alice, "nice poll", reply_to=response)
        said = await standin.post_message(bob, "hello all")
        to_bob = await standin.post_message(alice, "hi bob", reply_to=said)
        seen = await seen_by_bot(observed, [pinging, quiet, to_response, to_bob])
        with pytest.raises(ActionRefused, match="does not exist"):
            await standin.post_message(alice, "?", reply_to={"id": "1"})
        with pytest.raises(ActionRefused, match="not in ask"):
            await standin.post_message(alice, "?", channel="ask", reply_to=said)
        with pytest.raises(ActionRefused, match="ephemeral"):
            await standin.post_message(alice, "?", reply_to=posted)
    assert pinging["type"] == 19
    assert pinging["message_reference"] == {
        "type": 0,
        "message_id": announcement.payload["id"],
        "channel_id": str(general.id),
        "guild_id": str(standin.world.guild.id),
    }
    assert pinging["referenced_message"]["content"] == "Announcement"
    # The client pings the replied-to author unless told not to; a webhook's message (an
    # interaction response) cannot be pinged at all.
    assert [int(u["id"]) for u in pinging["mentions"]] == [bot_id]
    assert quiet["mentions"] == [] and to_response["mentions"] == []
    assert [int(u["id"]) for u in to_bob["mentions"]] == [bob.id]
    # Without the message content intent the bot reads a reply only when it pings the bot;
    # the message quoted is judged on its own (the bot always reads its own).
    by_ping, by_quiet, by_response, by_bob = seen
    assert by_ping.content == "thanks!" and by_ping.type is discord.MessageType.reply
    assert [user.id for user in by_ping.mentions] == [bot_id]
    assert by_ping.reference is not None and by_ping.reference.message_id == int(
        announcement.payload["id"]
    )
    assert isinstance(by_ping.reference.resolved, discord.Message)
    assert by_ping.reference.resolved.content == "Announcement"
    assert by_quiet.content == "" and by_response.content == ""
    assert isinstance(by_quiet.reference and by_quiet.reference.resolved, discord.Message)
    assert by_bob.content == ""
    assert isinstance(by_bob.reference and by_bob.reference.resolved, discord.Message)
    assert by_bob.reference.resolved.content == ""


async def test_a_thread_started_from_a_message_is_a_channel_for_people_and_the_bot(
    standin: DiscordStandIn,
) -> None:
    observed = Observed()
    alice = standin.world.add_member("alice")
    bob = standin.world.add_member("bob")
    general = standin.world.channel("general")
    bot = make_ui_bot(observed)
    async with running(bot, standin):
        starter = await standin.post_message(alice, "Shall we talk about the article?")
        thread = await standin.start_thread(alice, starter, "Article talk")
        created = await asyncio.wait_for(observed.threads.get(), 5)
        first = await standin.post_message(bob, "first!", channel=thread)
        second = await standin.post_message(alice, "second", channel=thread.id, reply_to=first)
        seen_first, seen_second = await seen_by_bot(observed, [first, second])
        await seen_second.reply("welcome to the thread")
        answer = await standin.wait_for_answer(second)
        with pytest.raises(ActionRefused, match="already been created"):
            await standin.start_thread(bob, starter, "Again")
        with pytest.raises(ActionRefused, match="channel type"):
            await standin.start_thread(bob, first, "A thread in a thread")
        # The bot may start threads too, and Discord refuses a second one from a message.
        parent = bot.get_channel(general.id)
        assert isinstance(parent, discord.TextChannel)
        with pytest.raises(discord.HTTPException) as again:
            await parent.get_partial_message(thread.id).create_thread(name="Again")
        other = await standin.post_message(bob, "another topic")
        by_bot = await parent.get_partial_message(int(other["id"])).create_thread(name="Other")
    assert thread.id == int(starter["id"]) and standin.world.channel(thread.id) is thread
    assert isinstance(created, discord.Thread) and created.id == thread.id
    assert created.parent_id == general.id and created.owner_id == alice.id
    assert created.name == "Article talk" and not created.archived
    frame = await standin.frames.wait_for(lambda f: f.t == "THREAD_CREATE")
    assert frame.d["newly_created"] is True and frame.d["type"] == 11
    assert frame.d["thread_metadata"]["auto_archive_duration"] == 1440
    assert {"create_timestamp", "archive_timestamp", "locked"} <= set(frame.d["thread_metadata"])
    assert frame.d["member_count"] == 1 and frame.d["message_count"] == 0
    update = await standin.frames.wait_for(
        lambda f: f.t == "MESSAGE_UPDATE" and f.d["id"] == starter["id"]
    )
    assert update.d["flags"] & 32 and update.d["thread"]["id"] == str(thread.id)
    # discord.py puts the messages in the thread, and the bot's reply goes there.
    assert isinstance(seen_first.channel, discord.Thread) and seen_first.channel.id == thread.id
    assert first["position"] == 0 and second["position"] == 1 and second["type"] == 19
    assert answer.payload["channel_id"] == str(thread.id) and answer.reply_to == int(second["id"])
    assert thread.message_count == 3 and thread.member_ids == {alice.id, bob.id, bot.user.id}
    assert again.value.code == 160004 and again.value.status == 400
    assert by_bot.id == int(other["id"]) and by_bot.owner_id == standin.world.bot.id


async def test_a_bot_that_connects_later_finds_the_thread_in_guild_create(
    standin: DiscordStandIn,
) -> None:
    alice = standin.world.add_member("alice")
    async with running(make_ui_bot(Observed()), standin):
        starter = await standin.post_message(alice, "Thread starter")
    thread = await standin.start_thread(alice, starter, "Made while the bot was away")
    observed = Observed()
    later = make_ui_bot(observed)
    async with running(later, standin):
        guild = later.get_guild(standin.world.guild.id)
        assert guild is not None
        found = guild.get_thread(thread.id)
        posted = await standin.post_message(alice, "anyone here?", channel=thread)
        (seen,) = await seen_by_bot(observed, [posted])
    assert isinstance(found, discord.Thread) and found.name == "Made while the bot was away"
    assert isinstance(seen.channel, discord.Thread) and seen.channel.id == thread.id


async def test_files_are_uploaded_as_multipart_and_kept_as_attachments(
    standin: DiscordStandIn,
) -> None:
    alice = standin.world.add_member("alice")
    general = standin.world.channel("general")
    bot = make_ui_bot(Observed())
    async with running(bot, standin):
        interaction = await standin.invoke_command(alice, "report")
        first = await standin.wait_for_answer(interaction)
        followup = await standin.messages.wait_for(
            lambda m: m.via == "followup" and m.interaction_id == interaction.id
        )
        edited = await standin.messages.wait_for(
            lambda m: m.via == "edit" and m.interaction_id == interaction.id
        )
        channel = bot.get_channel(general.id)
        assert isinstance(channel, discord.TextChannel)
        sent = await channel.send(file=discord.File(io.BytesIO(b"a,b\n1,2\n"), "table.csv"))
        fetched = await sent.attachments[0].read()
    callback = await standin.wait_for_request(
        "POST", rf"/interactions/{interaction.id}/.+/callback"
    )
    assert callback.json["type"] == 4 and callback.json["data"]["content"] == "the report"
    assert callback.json["data"]["attachments"] == [{"id": 0, "filename": "report.txt"}]
    assert callback.files == ("report.txt",)
    (report,) = first.attachments
    assert (report.filename, report.content_type, report.data) == (
        "report.txt",
        "text/plain; charset=utf-8",
        b"line one\n",
    )
    described = first.payload["attachments"][0]
    assert described["id"] == str(report.id) and described["size"] == 9
    assert described["content_type"] == "text/plain; charset=utf-8"
    assert {"url", "proxy_url", "filename"} <= set(described)
    # A follow-up with only a file is not empty; an edit keeps what it lists and adds the rest.
    assert followup.content == "" and [a.filename for a in followup.attachments] == ["chart.png"]
    assert followup.attachments[0].content_type == "image/png"
    assert [a.filename for a in edited.attachments] == ["report.txt", "data.json"]
    assert edited.attachments[0] == report and edited.payload["id"] == first.payload["id"]
    message = standin.messages.matching(lambda m: m.payload["id"] == str(sent.id))[0]
    assert message.via == "channel" and message.content == ""
    assert message.attachments[0].data == b"a,b\n1,2\n" and fetched == b"a,b\n1,2\n"
    assert sent.attachments[0].filename == "table.csv" and sent.attachments[0].size == 8


async def test_files_over_the_limits_are_refused(standin: DiscordStandIn) -> None:
    general = standin.world.channel("general")
    bot = make_ui_bot(Observed())
    async with running(bot, standin):
        channel = bot.get_channel(general.id)
        assert isinstance(channel, discord.TextChannel)
        with pytest.raises(discord.HTTPException) as too_large:
            await channel.send(
                "big", file=discord.File(io.BytesIO(b"x" * (UPLOAD_LIMIT + 1)), "big.bin")
            )
        at_limit = await channel.send(file=discord.File(io.BytesIO(b"x" * UPLOAD_LIMIT), "ok.bin"))
    form = aiohttp.FormData()
    form.add_field("payload_json", '{"content": "eleven"}', content_type="application/json")
    for index in range(11):
        form.add_field(f"files[{index}]", b"1", filename=f"f{index}.txt")
    status, refusal = await raw_post(standin, f"/channels/{general.id}/messages", data=form)
    assert too_large.value.status == 413 and too_large.value.code == 40005
    assert at_limit.attachments[0].size == UPLOAD_LIMIT
    assert (status, refusal["code"]) == (400, 50035)
    assert refusal["errors"]["attachments"]["_errors"][0]["code"] == "BASE_TYPE_MAX_LENGTH"
    refused = standin.requests.matching(lambda r: r.status == 400)[0]
    assert refused.json == {"content": "eleven"} and len(refused.files) == 11


async def test_the_bot_edits_its_channel_messages_and_not_other_peoples(
    standin: DiscordStandIn,
) -> None:
    alice = standin.world.add_member("alice")
    general = standin.world.channel("general")
    bot = make_ui_bot(Observed())
    async with running(bot, standin):
        channel = bot.get_channel(general.id)
        assert isinstance(channel, discord.TextChannel)
        sent = await channel.send("with buttons", view=Poll())
        await sent.edit(content="buttons gone", view=None)
        edited = await standin.messages.wait_for(lambda m: m.content == "buttons gone")
        theirs = await standin.post_message(alice, "mine")
        with pytest.raises(discord.Forbidden) as refused:
            await channel.get_partial_message(int(theirs["id"])).edit(content="hacked")
        with pytest.raises(InteractionRefused, match="no button"):
            await standin.click_button(alice, edited, "poll:yes")
    assert edited.via == "edit" and edited.components == [] and edited.interaction_id is None
    assert refused.value.code == 50005


def test_a_bot_message_lists_its_buttons() -> None:
    message = BotMessage(
        payload={"content": "", "components": [{"type": 1, "id": 1, "components": [button()]}]},
        via="channel",
        ephemeral=False,
        interaction_id=None,
        reply_to=None,
        pinged_users=frozenset(),
        pinged_roles=frozenset(),
        pinged_everyone=False,
        allowed_mentions=None,
        at=0.0,
    )
    assert message.buttons == [button()] and message.attachments == ()
