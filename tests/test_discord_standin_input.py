"""The stand-in's guilds, subcommands, attachment options and modals, as a plain discord.py 2.7
bot meets them: each test runs a real `commands.Bot` against it over real sockets, and checks
that what Discord refuses is refused here too."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import discord
import pytest
from discord import app_commands
from discord.ext import commands
from discord_standin import AttachedFile, DiscordStandIn, InteractionRefused
from discord_standin.client import running
from discord_standin.files import UPLOAD_LIMIT
from discord_standin.interactions import ATTACHMENT, SUB_COMMAND


class Form(discord.ui.Modal, title="Send a story"):
    """A modal with a one-line and a paragraph text input, each in a Label."""

    headline: discord.ui.Label[Form] = discord.ui.Label(
        text="Headline", component=discord.ui.TextInput(custom_id="headline", max_length=50)
    )
    story: discord.ui.Label[Form] = discord.ui.Label(
        text="Story",
        component=discord.ui.TextInput(
            custom_id="story", style=discord.TextStyle.paragraph, required=False
        ),
    )

    async def on_submit(self, interaction: discord.Interaction) -> None:
        assert isinstance(self.headline.component, discord.ui.TextInput)
        assert isinstance(self.story.component, discord.ui.TextInput)
        if self.headline.component.value == "unanswered":
            return  # left for the test to answer by hand
        text = f"{self.headline.component.value} | {self.story.component.value or '-'}"
        await interaction.response.send_message(text, ephemeral=True)


def make_input_bot() -> commands.Bot:
    """A bot with a command group taking a file, and a command opening a modal."""
    bot = commands.Bot(
        command_prefix=commands.when_mentioned,
        intents=discord.Intents.default(),
        guild_ready_timeout=0.05,
    )
    story = app_commands.Group(name="story", description="Stories")

    @story.command(name="add", description="Add a story from a file")
    async def add(interaction: discord.Interaction, file: discord.Attachment) -> None:
        data = await file.read()
        first = data.decode().splitlines()[0]
        text = f"{file.filename} {file.size} {file.content_type} {len(data)} {first}"
        await interaction.response.send_message(text, ephemeral=True)

    @story.command(name="drop", description="Drop a story")
    async def drop(interaction: discord.Interaction, name: str) -> None:
        await interaction.response.send_message(f"dropped {name}", ephemeral=True)

    @drop.autocomplete("name")
    async def names(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        if current == "unanswered":
            await asyncio.Event().wait()  # left for the test to answer by hand
        return [app_commands.Choice(name=n, value=n) for n in ("ferry", "fair") if current in n]

    @bot.tree.command(description="Type a story in")
    async def write(interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(Form())

    @bot.tree.command(description="Answer nothing: the test answers by hand")
    async def silent(interaction: discord.Interaction) -> None:
        pass

    @bot.tree.command(description="Where this is")
    async def where(interaction: discord.Interaction) -> None:
        guild = interaction.guild
        permissions = interaction.permissions.manage_guild
        await interaction.response.send_message(f"{guild.name if guild else '-'} {permissions}")

    bot.tree.add_command(story)

    async def sync() -> None:
        await bot.tree.sync()

    bot.setup_hook = sync  # type: ignore[method-assign]
    return bot


async def test_the_bot_is_in_every_guild_and_each_keeps_its_own_people(
    standin: DiscordStandIn,
) -> None:
    second = standin.world.add_guild("Sports desk")
    first_mod = standin.world.add_member("ann", roles=("Moderator",))
    second_mod = standin.world.add_member("bo", roles=("Moderator",), guild=second)
    reader = standin.world.add_member("cy", guild=second)
    bot = make_input_bot()
    async with running(bot, standin):
        assert {g.id for g in bot.guilds} == {standin.world.guild.id, second.id}
        assert bot.get_guild(second.id) is not None
        here = await standin.invoke_command(first_mod, "where")
        there = await standin.invoke_command(second_mod, "where", channel=second.channel("general"))
        plain = await standin.invoke_command(reader, "where", channel=second.channel("general"))
        answers = [await standin.wait_for_answer(i) for i in (here, there, plain)]
        with pytest.raises(InteractionRefused, match="not in Sports desk"):
            await standin.invoke_command(first_mod, "where", channel=second.channel("general"))
    assert [a.content for a in answers] == [
        "Newsroom True",
        "Sports desk True",
        "Sports desk False",
    ]
    assert answers[1].payload["guild_id"] == str(second.id)
    assert second.channel("general").id != standin.world.channel("general").id


async def test_a_file_attached_to_a_subcommand_is_downloaded_by_the_bot(
    standin: DiscordStandIn,
) -> None:
    alice = standin.world.add_member("alice")
    story = b"Ferry goes electric\n\nThe ferry sailed quietly.\n"
    async with running(make_input_bot(), standin):
        interaction = await standin.invoke_command(
            alice, "story add", {"file": AttachedFile("ferry.md", story)}
        )
        answer = await standin.wait_for_answer(interaction)
    assert answer.content == f"ferry.md {len(story)} text/markdown; charset=utf-8 {len(story)} " + (
        "Ferry goes electric"
    )


async def test_the_interaction_carries_the_subcommand_and_the_resolved_file(
    standin: DiscordStandIn,
) -> None:
    alice = standin.world.add_member("alice")
    async with running(make_input_bot(), standin):
        registered = standin.rest.commands.find("story", standin.world.channel("general"))
        interaction = await standin.invoke_command(
            alice, "story add", {"file": AttachedFile("notes.txt", b"Notes\n\nA line.\n")}
        )
        frame = await standin.frames.wait_for(
            lambda f: f.t == "INTERACTION_CREATE" and f.d["id"] == str(interaction.id)
        )
        await standin.wait_for_answer(interaction)
    assert [(o["type"], o["name"]) for o in registered["options"]] == [
        (SUB_COMMAND, "add"),
        (SUB_COMMAND, "drop"),
    ]
    (sub,) = frame.d["data"]["options"]
    assert (sub["type"], sub["name"]) == (SUB_COMMAND, "add")
    (option,) = sub["options"]
    assert option["type"] == ATTACHMENT
    attachment = frame.d["data"]["resolved"]["attachments"][option["value"]]
    assert attachment["filename"] == "notes.txt" and attachment["ephemeral"] is True
    assert attachment["content_type"] == "text/plain; charset=utf-8"
    async with aiohttp.ClientSession() as session, session.get(attachment["url"]) as response:
        assert await response.read() == b"Notes\n\nA line.\n"


async def test_subcommands_and_files_discord_would_not_send_are_refused(
    standin: DiscordStandIn,
) -> None:
    alice = standin.world.add_member("alice")
    async with running(make_input_bot(), standin):
        with pytest.raises(InteractionRefused, match="one of its subcommands"):
            await standin.invoke_command(alice, "story")
        with pytest.raises(InteractionRefused, match="subcommands"):
            await standin.invoke_command(alice, "story remove", {"name": "x"})
        with pytest.raises(InteractionRefused, match="needs its required option 'file'"):
            await standin.invoke_command(alice, "story add")
        with pytest.raises(InteractionRefused, match="needs an uploaded file"):
            await standin.invoke_command(alice, "story add", {"file": "1234"})
        with pytest.raises(InteractionRefused, match="over the upload limit"):
            big = AttachedFile("big.txt", b"x" * (UPLOAD_LIMIT + 1))
            await standin.invoke_command(alice, "story add", {"file": big})
        with pytest.raises(InteractionRefused, match="has no subcommand"):
            await standin.invoke_command(alice, "where add")
        typing = await standin.request_autocomplete(
            alice, "story drop", {"name": "fe"}, focused="name"
        )
        choices = await standin.wait_for_choices(typing)
    assert choices == [{"name": "ferry", "value": "ferry"}]


async def test_registering_subcommands_beside_plain_options_is_refused(
    standin: DiscordStandIn,
) -> None:
    mixed = {
        "name": "mixed",
        "description": "Mixed options",
        "options": [
            {"type": SUB_COMMAND, "name": "add", "description": "Add"},
            {"type": 3, "name": "text", "description": "Text"},
        ],
    }
    nested_bad = {
        "name": "nested",
        "description": "A subcommand with a bad option",
        "options": [
            {
                "type": SUB_COMMAND,
                "name": "add",
                "description": "Add",
                "options": [{"type": 3, "name": "Bad Name", "description": "x"}],
            }
        ],
    }
    url = f"{standin.api_base}/applications/{standin.world.application_id}/commands"
    headers = {"Authorization": f"Bot {standin.token}"}
    async with aiohttp.ClientSession() as session:
        async with session.put(url, json=[mixed], headers=headers) as response:
            refused_mixed = response.status, await response.json()
        async with session.put(url, json=[nested_bad], headers=headers) as response:
            refused_nested = response.status, await response.json()
    assert refused_mixed[0] == 400 and refused_mixed[1]["code"] == 50035
    assert "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID" in str(refused_mixed[1]["errors"])
    nested = refused_nested[1]["errors"]["0"]["options"]["0"]["options"]["0"]["name"]
    assert nested["_errors"][0]["code"] == "APPLICATION_COMMAND_INVALID_NAME"


async def test_a_modal_is_shown_filled_in_and_submitted_back_to_the_bot(
    standin: DiscordStandIn,
) -> None:
    alice = standin.world.add_member("alice")
    async with running(make_input_bot(), standin):
        opened = await standin.invoke_command(alice, "write")
        modal = await standin.wait_for_modal(opened)
        submitted = await standin.submit_modal(
            alice, opened, {"headline": "Ferry goes electric", "story": "It sailed.\nQuietly."}
        )
        answer = await standin.wait_for_answer(submitted)
        frame = await standin.frames.wait_for(
            lambda f: f.t == "INTERACTION_CREATE" and f.d["id"] == str(submitted.id)
        )
    assert opened.response_type == 9 and modal["title"] == "Send a story"
    assert [c["type"] for c in modal["components"]] == [18, 18]
    assert answer.content == "Ferry goes electric | It sailed.\nQuietly." and answer.ephemeral
    data = frame.d["data"]
    assert frame.d["type"] == 5 and data["custom_id"] == modal["custom_id"]
    first = data["components"][0]
    assert first["type"] == 18 and first["component"]["custom_id"] == "headline"
    assert first["component"]["value"] == "Ferry goes electric"
    assert isinstance(first["id"], int) and isinstance(first["component"]["id"], int)


async def test_modal_submissions_the_client_would_not_send_are_refused(
    standin: DiscordStandIn,
) -> None:
    alice, bob = standin.world.add_member("alice"), standin.world.add_member("bob")
    async with running(make_input_bot(), standin):
        opened = await standin.invoke_command(alice, "write")
        await standin.wait_for_modal(opened)
        with pytest.raises(InteractionRefused, match="only alice sees"):
            await standin.submit_modal(bob, opened, {"headline": "Mine"})
        with pytest.raises(InteractionRefused, match="'headline' is required"):
            await standin.submit_modal(alice, opened, {"story": "No headline"})
        with pytest.raises(InteractionRefused, match="51 characters"):
            await standin.submit_modal(alice, opened, {"headline": "x" * 51})
        with pytest.raises(InteractionRefused, match="one line"):
            await standin.submit_modal(alice, opened, {"headline": "two\nlines"})
        with pytest.raises(InteractionRefused, match="no text input"):
            await standin.submit_modal(alice, opened, {"headline": "ok", "author": "me"})
        fine = await standin.submit_modal(alice, opened, {"headline": "Fine"})
        await standin.wait_for_answer(fine)
        with pytest.raises(InteractionRefused, match="submitted already"):
            await standin.submit_modal(alice, opened, {"headline": "Again"})
        plain = await standin.invoke_command(alice, "where")
        await standin.wait_for_answer(plain)
        with pytest.raises(InteractionRefused, match="opened no modal"):
            await standin.submit_modal(alice, plain, {"headline": "x"})


async def raw_callback(
    standin: DiscordStandIn, interaction: Any, kind: int, data: Any
) -> tuple[int, Any]:
    url = f"{standin.api_base}/interactions/{interaction.id}/{interaction.token}/callback"
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, json={"type": kind, "data": data}) as response,
    ):
        return response.status, await response.json(content_type=None)


def text_input(custom_id: str = "t", **fields: Any) -> dict[str, Any]:
    return {"type": 4, "custom_id": custom_id, "style": 1, **fields}


def label(component: dict[str, Any], text: str = "Label") -> dict[str, Any]:
    return {"type": 18, "label": text, "component": component}


def modal(*components: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"custom_id": "m", "title": "A form", "components": list(components), **fields}


@pytest.mark.parametrize(
    ("data", "path", "code"),
    [
        (modal(label(text_input()), title="x" * 46), ["data", "title"], "BASE_TYPE_BAD_LENGTH"),
        (modal(label(text_input()), custom_id=""), ["data", "custom_id"], "BASE_TYPE_BAD_LENGTH"),
        (modal(), ["data", "components"], "BASE_TYPE_BAD_LENGTH"),
        (
            modal(*(label(text_input(f"t{i}")) for i in range(6))),
            ["data", "components"],
            "BASE_TYPE_BAD_LENGTH",
        ),
        (
            modal(label(text_input(), "y" * 46)),
            ["data", "components", "0", "label"],
            "BASE_TYPE_BAD_LENGTH",
        ),
        (
            modal(label(text_input("same")), label(text_input("same"))),
            ["data", "components", "1", "component", "custom_id"],
            "COMPONENT_CUSTOM_ID_DUPLICATED",
        ),
        (
            modal(label(text_input(style=3))),
            ["data", "components", "0", "component", "style"],
            "BASE_TYPE_CHOICES",
        ),
        (
            modal(label(text_input(max_length=4001))),
            ["data", "components", "0", "component", "max_length"],
            "NUMBER_TYPE_MAX",
        ),
        (
            modal(label(text_input(min_length=10, max_length=5))),
            ["data", "components", "0", "component", "min_length"],
            "TEXT_INPUT_LENGTH_INVALID",
        ),
        (
            modal({"type": 1, "components": [text_input()]}),
            ["data", "components", "0", "components", "0", "label"],
            "BASE_TYPE_REQUIRED",
        ),
        (
            modal({"type": 2, "style": 1, "custom_id": "b", "label": "B"}),
            ["data", "components", "0", "type"],
            "UNION_TYPE_CHOICES",
        ),
    ],
    ids=[
        "long_title",
        "empty_custom_id",
        "no_components",
        "six_components",
        "long_label",
        "duplicate_custom_id",
        "bad_style",
        "too_long",
        "min_over_max",
        "row_input_without_label",
        "button",
    ],
)
async def test_modals_discord_refuses_get_50035(
    standin: DiscordStandIn, data: dict[str, Any], path: list[str], code: str
) -> None:
    alice = standin.world.add_member("alice")
    async with running(make_input_bot(), standin):
        interaction = await standin.invoke_command(alice, "silent")
        status, body = await raw_callback(standin, interaction, 9, data)
    assert status == 400 and body["code"] == 50035 and interaction.modal is None
    tree: Any = body["errors"]
    for key in path:
        tree = tree[key]
    assert tree["_errors"][0]["code"] == code


async def test_a_modal_is_no_answer_to_autocomplete_nor_to_its_own_submission(
    standin: DiscordStandIn,
) -> None:
    alice = standin.world.add_member("alice")
    good = modal(label(text_input()))
    async with running(make_input_bot(), standin):
        typing = await standin.request_autocomplete(
            alice, "story drop", {"name": "unanswered"}, focused="name"
        )
        opened = await standin.invoke_command(alice, "write")
        await standin.wait_for_modal(opened)
        submitted = await standin.submit_modal(alice, opened, {"headline": "unanswered"})
        refusals = [
            (await raw_callback(standin, typing, 9, good))[1],
            (await raw_callback(standin, submitted, 9, good))[1],
        ]
        allowed = [
            (await raw_callback(standin, typing, 8, {"choices": []}))[0],
            (await raw_callback(standin, submitted, 4, {"content": "Thanks"}))[0],
        ]
        silent = await standin.invoke_command(alice, "silent")
        await raw_callback(standin, silent, 5, {})
        after_defer = (await raw_callback(standin, silent, 9, good))[1]
    assert [r["code"] for r in refusals] == [50035, 50035]
    assert allowed == [204, 204]
    assert after_defer["code"] == 40060  # a modal must be the first and only response
