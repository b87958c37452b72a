"""Every server its own shelf, through the real bot on the Discord stand-in: moderators add
articles by file or pasted text and remove them, each server is answered from the shared shelf
and its own only, refusals say why and change nothing, and shelves outlive the process."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import sys
from pathlib import Path

import discord_harness as harness
import pytest
from corpora import SECOND_ARTICLE, SPACE_ARTICLE
from discord_harness import bot_process, fresh_corpus, render, serving, settings_for, unbolded
from discord_standin import AttachedFile, BotMessage, Channel, DiscordStandIn, Interaction, User
from discord_standin.world import Guild

from bot.discord.shelving import not_text
from bot.engine.corpus import MAX_FILE_BYTES

pytestmark = pytest.mark.usefixtures("no_unexpected_errors")

# The story a moderator pastes in: the lighthouse the harness also uses.
LIGHTHOUSE_QUESTION = harness.LIGHTHOUSE_QUESTION
LIGHTHOUSE_QUOTE = harness.LIGHTHOUSE_QUOTE
LIGHTHOUSE_TITLE = harness.LIGHTHOUSE_TITLE

FERRY_QUESTION = "How much of the cost did the state grant cover?"
FERRY_QUOTE = "About 60 percent of the cost was covered by a state clean-transportation grant"
FERRY_ID = "server/port-alders-harbor-ferry-crosses-quietly-into-the-electric"
FERRY_TITLE = "Port Alder’s harbor ferry crosses quietly into the electric age"
LIGHTHOUSE_ID = "server/harbour-town-restores-its-old-lighthouse"
SPACE_QUESTION = "Why was the launch of the lunar ice probe delayed?"
SPACE_TITLE = "Lunar Ice Probe Cleared for Launch After Battery Swap Ends Eight-Month Delay"
SEED_QUESTION = "Which countries requested the meeting?"
SEED_QUOTE = "The United States, Albania and Japan requested the meeting"
OWN = "added by this server's moderators"
# The bot reads the reader model for two shelves on a busy machine: generous, never relied on.
WAIT = 60.0


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    """The shared shelf: the seed article alone."""
    return fresh_corpus(tmp_path, lighthouse=False)


class Newsrooms:
    """Two servers, each with a moderator and a reader; `there` is the second's channel."""

    def __init__(self, standin: DiscordStandIn) -> None:
        world = standin.world
        self.first: Guild = world.guild
        self.second: Guild = world.add_guild("Sports desk")
        self.there: Channel = self.second.channel("general")
        self.moderator = world.add_member("mod", roles=("Moderator",))
        self.reader = world.add_member("reader")
        self.other_moderator = world.add_member("mod2", roles=("Moderator",), guild=self.second)
        self.other_reader = world.add_member("reader2", guild=self.second)


@pytest.fixture
def rooms(standin: DiscordStandIn) -> Newsrooms:
    return Newsrooms(standin)


async def answer(
    standin: DiscordStandIn, interaction: Interaction, timeout: float = WAIT
) -> BotMessage:
    return await standin.wait_for_answer(interaction, timeout=timeout)


async def said(
    standin: DiscordStandIn,
    person: User,
    command: str,
    options: dict[str, object] | None = None,
    channel: Channel | str = "general",
) -> BotMessage:
    """`person` runs a slash command; the bot's answer."""
    asked = await standin.invoke_command(person, command, options, channel=channel)
    return await answer(standin, asked)


async def add_file(
    standin: DiscordStandIn,
    person: User,
    name: str,
    data: bytes,
    channel: Channel | str = "general",
) -> BotMessage:
    """`person` runs /article add with a file; what only they are told."""
    asked = await standin.invoke_command(
        person, "article add", {"file": AttachedFile(name, data)}, channel=channel
    )
    told = await answer(standin, asked)
    assert told.ephemeral
    return told


async def paste(
    standin: DiscordStandIn,
    person: User,
    headline: str,
    text: str,
    channel: Channel | str = "general",
) -> BotMessage:
    """`person` runs /article add without a file and pastes the article into the form."""
    opened = await standin.invoke_command(person, "article add", channel=channel)
    form = await standin.wait_for_modal(opened)
    assert form["title"] == render("discord_article_labels", part="form")
    submitted = await standin.submit_modal(person, opened, {"headline": headline, "text": text})
    told = await answer(standin, submitted)
    assert told.ephemeral
    return told


async def ask(
    standin: DiscordStandIn, person: User, question: str, channel: Channel | str = "general"
) -> str:
    """`person` asks with /ask; the reply as it reads without bold marks."""
    asked = await standin.invoke_command(person, "ask", {"question": question}, channel=channel)
    return unbolded((await answer(standin, asked)).content)


def lighthouse_parts() -> tuple[str, str]:
    """The lighthouse story as a moderator pastes it: its headline, and the rest."""
    headline, body = harness.LIGHTHOUSE.split("\n\n", 1)
    return headline, body


async def test_each_server_is_answered_from_its_own_articles_and_the_shared_ones(
    standin: DiscordStandIn, corpus_dir: Path, rooms: Newsrooms
) -> None:
    second = rooms.there
    async with serving(standin, settings_for(standin, corpus_dir)):
        by_file = await add_file(standin, rooms.moderator, "ferry.md", SECOND_ARTICLE.read_bytes())
        by_paste = await paste(standin, rooms.moderator, *lighthouse_parts())
        space = await add_file(
            standin, rooms.other_moderator, "space.txt", SPACE_ARTICLE.read_bytes(), second
        )
        ferry_here = await ask(standin, rooms.reader, FERRY_QUESTION)
        lighthouse_here = await ask(standin, rooms.reader, LIGHTHOUSE_QUESTION)
        space_here = await ask(standin, rooms.reader, SPACE_QUESTION)
        seed_here = await ask(standin, rooms.reader, SEED_QUESTION)
        ferry_there = await ask(standin, rooms.other_reader, FERRY_QUESTION, second)
        lighthouse_there = await ask(standin, rooms.other_reader, LIGHTHOUSE_QUESTION, second)
        space_there = await ask(standin, rooms.other_reader, SPACE_QUESTION, second)
        seed_there = await ask(standin, rooms.other_reader, SEED_QUESTION, second)
    assert by_file.content.startswith(f"Added “{FERRY_TITLE}” ({FERRY_ID}).")
    assert by_paste.content.startswith(f"Added “{LIGHTHOUSE_TITLE}” ({LIGHTHOUSE_ID}).")
    assert "This server has 2 of its 50 articles." in by_paste.content
    assert "This server has 1 of its 50 articles." in space.content
    # The first server: its own articles, cited as its own, and the shared one.
    assert FERRY_QUOTE in ferry_here and f"of “{FERRY_TITLE}”, {OWN}" in ferry_here
    assert LIGHTHOUSE_QUOTE in lighthouse_here and OWN in lighthouse_here
    assert SEED_QUOTE in seed_here and OWN not in seed_here
    # The second server never cites the first's articles, nor the first the second's.
    for reply in (ferry_there, lighthouse_there):
        for never in (FERRY_QUOTE, FERRY_TITLE, LIGHTHOUSE_QUOTE, LIGHTHOUSE_TITLE):
            assert never not in reply
    assert SPACE_TITLE in space_there and OWN in space_there
    assert SPACE_TITLE not in space_here
    assert SEED_QUOTE in seed_there


async def test_sources_summary_and_article_lists_see_the_servers_articles(
    standin: DiscordStandIn, corpus_dir: Path, rooms: Newsrooms
) -> None:
    second = rooms.there
    async with serving(standin, settings_for(standin, corpus_dir)):
        await add_file(standin, rooms.moderator, "ferry.md", SECOND_ARTICLE.read_bytes())
        sources = await said(standin, rooms.reader, "sources")
        other_sources = await said(standin, rooms.other_reader, "sources", channel=second)
        listing = await said(standin, rooms.reader, "articles")
        other_listing = await said(standin, rooms.other_reader, "articles", channel=second)
        typing = await standin.request_autocomplete(
            rooms.reader, "summary", {"article": "ferry"}, focused="article"
        )
        choices = await standin.wait_for_choices(typing)
        summary = await said(standin, rooms.reader, "summary", {"article": FERRY_ID})
        elsewhere = await said(
            standin, rooms.other_reader, "summary", {"article": FERRY_ID}, channel=second
        )
    assert "I answer from 2 articles" in sources.content and FERRY_TITLE in sources.content
    assert "I answer from 1 article" in other_sources.content
    assert FERRY_TITLE not in other_sources.content
    assert listing.ephemeral
    own_part, shared_part = listing.content.split("**Shared articles**")
    assert "**This server's own articles** (1 of 50)" in own_part
    assert f"`{FERRY_ID}` **{FERRY_TITLE}**, 2026-04-14 (added " in own_part
    assert "`reuters-china-un-north-korea-rights`" in shared_part
    assert "(0 of 50)" in other_listing.content and FERRY_ID not in other_listing.content
    assert choices == [{"name": FERRY_TITLE, "value": FERRY_ID}]
    assert summary.content.startswith(f"**{FERRY_TITLE}**") and OWN in summary.content
    assert "There is no article called" in elsewhere.content


async def test_removing_an_article_asks_first_and_takes_effect_at_once(
    standin: DiscordStandIn, corpus_dir: Path, rooms: Newsrooms
) -> None:
    async with serving(standin, settings_for(standin, corpus_dir)):
        await add_file(standin, rooms.moderator, "ferry.md", SECOND_ARTICLE.read_bytes())
        typing = await standin.request_autocomplete(
            rooms.moderator, "article remove", {"article": "harbor"}, focused="article"
        )
        choices = await standin.wait_for_choices(typing)
        question = await said(standin, rooms.moderator, "article remove", {"article": FERRY_ID})
        buttons = {b["label"]: b["custom_id"] for b in question.buttons}
        kept = await standin.click_button(rooms.moderator, question, buttons["Keep it"])
        await standin.wait_for_request("PATCH", rf"/webhooks/\d+/{kept.token}/messages/@original")
        still = await ask(standin, rooms.reader, FERRY_QUESTION)
        again = await said(standin, rooms.moderator, "article remove", {"article": "ferry"})
        click = await standin.click_button(
            rooms.moderator, again, {b["label"]: b["custom_id"] for b in again.buttons}["Remove it"]
        )
        await standin.wait_for_request("PATCH", rf"/webhooks/\d+/{click.token}/messages/@original")
        removed = standin.rest.known_messages[int(again.payload["id"])]
        gone = await ask(standin, rooms.reader, FERRY_QUESTION)
        unknown = await said(standin, rooms.moderator, "article remove", {"article": FERRY_ID})
    assert choices == [{"name": FERRY_TITLE, "value": FERRY_ID}]
    assert question.ephemeral and FERRY_TITLE in question.content
    assert FERRY_QUOTE in still
    assert removed["content"].startswith(f"Removed “{FERRY_TITLE}” ({FERRY_ID}).")
    assert removed["components"] == []
    assert FERRY_QUOTE not in gone and OWN not in gone
    assert unknown.content.startswith("This server has no article of its own called")


async def test_only_moderators_change_a_servers_articles(
    standin: DiscordStandIn, corpus_dir: Path, rooms: Newsrooms
) -> None:
    async with serving(standin, settings_for(standin, corpus_dir)) as bot:
        ferry = AttachedFile("ferry.md", SECOND_ARTICLE.read_bytes())
        attempt = await standin.invoke_command(
            rooms.reader, "article add", {"file": ferry}, granted_by_override=True
        )
        refused = await answer(standin, attempt)
        # A moderator opens the paste form, loses the role, then submits it.
        opened = await standin.invoke_command(rooms.moderator, "article add")
        await standin.wait_for_modal(opened)
        rooms.first.member(rooms.moderator.id).role_ids.clear()
        headline, body = lighthouse_parts()
        submitted = await standin.submit_modal(
            rooms.moderator, opened, {"headline": headline, "text": body}
        )
        late = await answer(standin, submitted)
        listed = await asyncio.to_thread(bot.shelves.listing, bot.serving.current, rooms.first.id)
    expected = render("discord_not_moderator", command="article add")
    assert refused.ephemeral and refused.content == expected
    assert late.ephemeral and late.content == expected
    assert listed == []


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("photo.png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "is not a text file"),
        ("notes.txt", b"Notes\x00\x01\x02\x03" * 64, "looks like a binary file"),
        ("empty.txt", b"", "is empty"),
        ("huge.txt", b"Huge\n\n" + b"word " * (MAX_FILE_BYTES // 5), "is larger than 2 MB"),
        ("leftovers.txt", b"Leave a Comment\n\nAdvertisement\n", "I found no article text"),
    ],
    ids=["image", "binary", "empty", "oversized", "boilerplate"],
)
async def test_files_that_are_no_article_are_refused_with_their_reason(
    standin: DiscordStandIn,
    corpus_dir: Path,
    rooms: Newsrooms,
    name: str,
    data: bytes,
    reason: str,
) -> None:
    async with serving(standin, settings_for(standin, corpus_dir)) as bot:
        told = await add_file(standin, rooms.moderator, name, data)
        listed = await asyncio.to_thread(bot.shelves.listing, bot.serving.current, rooms.first.id)
    assert reason in told.content and told.content.endswith("Nothing was changed.")
    assert listed == []


async def test_duplicates_a_full_shelf_and_too_many_adds_are_refused(
    standin: DiscordStandIn, corpus_dir: Path, rooms: Newsrooms
) -> None:
    settings = settings_for(standin, corpus_dir, server_article_limit=2, article_adds_per_minute=3)
    async with serving(standin, settings):
        await add_file(standin, rooms.moderator, "ferry.md", SECOND_ARTICLE.read_bytes())
        twice = await add_file(standin, rooms.moderator, "copy.md", SECOND_ARTICLE.read_bytes())
        shared = await add_file(
            standin,
            rooms.moderator,
            "seed.txt",
            (corpus_dir / os.listdir(corpus_dir)[0]).read_bytes(),
        )
        await add_file(standin, rooms.moderator, "space.txt", SPACE_ARTICLE.read_bytes())
        full = await paste(standin, rooms.moderator, *lighthouse_parts())
        replaced = await add_file(
            standin,
            rooms.moderator,
            "ferry.md",
            SECOND_ARTICLE.read_bytes().replace(b"60 percent", b"65 percent"),
        )
        busy = await add_file(
            standin,
            rooms.moderator,
            "ferry.md",
            SECOND_ARTICLE.read_bytes().replace(b"60 percent", b"70 percent"),
        )
        other_server = await add_file(
            standin,
            rooms.other_moderator,
            "ferry.md",
            SECOND_ARTICLE.read_bytes(),
            rooms.there,
        )
        now = await ask(standin, rooms.reader, FERRY_QUESTION)
    assert twice.content.startswith(f"That text is already here, as the article {FERRY_ID}.")
    assert shared.content.startswith(
        "That text is already here, as the article reuters-china-un-north-korea-rights."
    )
    assert full.content.startswith("This server already has 2 articles of its own")
    assert replaced.content.startswith(f"Replaced “{FERRY_TITLE}” ({FERRY_ID})")
    assert busy.content.startswith("This server has added 3 articles in the last minute")
    assert other_server.content.startswith("Added")
    assert "65 percent" in now and "60 percent" not in now


async def test_insights_show_who_changed_the_articles_and_mark_answers_about_removed_text(
    standin: DiscordStandIn, corpus_dir: Path, rooms: Newsrooms
) -> None:
    async with serving(standin, settings_for(standin, corpus_dir)) as bot:
        await add_file(standin, rooms.moderator, "ferry.md", SECOND_ARTICLE.read_bytes())
        asked = await standin.invoke_command(rooms.reader, "ask", {"question": FERRY_QUESTION})
        answered = await answer(standin, asked)
        await bot.in_flight.wait_idle(WAIT)
        await bot.records.flush()
        votes = {b["label"]: b["custom_id"] for b in answered.buttons}
        await answer(
            standin, await standin.click_button(rooms.reader, answered, votes["Not helpful"])
        )
        other = await standin.invoke_command(
            rooms.other_reader,
            "ask",
            {"question": "What is the weather on Mars?"},
            channel=rooms.there,
        )
        await answer(standin, other)
        question = await said(standin, rooms.moderator, "article remove", {"article": FERRY_ID})
        click = await standin.click_button(
            rooms.moderator,
            question,
            {b["label"]: b["custom_id"] for b in question.buttons}["Remove it"],
        )
        await standin.wait_for_request("PATCH", rf"/webhooks/\d+/{click.token}/messages/@original")
        shown = await said(standin, rooms.moderator, "insights", {"days": 7})
    text = shown.content
    assert f"{FERRY_QUESTION} (1 not helpful, 0 helpful)" in text
    assert "(stale: the article no longer has that sentence)" in text
    assert f"removed “{FERRY_TITLE}” ({FERRY_ID}) by moderator " in text
    assert f"added “{FERRY_TITLE}” ({FERRY_ID}) by moderator " in text
    assert "Mars" not in text  # the other server's question is not this server's business
    assert str(rooms.moderator.id) not in text
    rows = list(csv.DictReader(io.StringIO(shown.attachments[0].data.decode())))
    assert [r["list"] for r in rows if r["list"].startswith("shelf_")] == [
        "shelf_added",
        "shelf_removed",
    ]


async def test_a_restart_keeps_both_servers_shelves(
    standin: DiscordStandIn, corpus_dir: Path, rooms: Newsrooms
) -> None:
    second = rooms.there
    settings = settings_for(standin, corpus_dir)
    async with serving(standin, settings):
        await add_file(standin, rooms.moderator, "ferry.md", SECOND_ARTICLE.read_bytes())
        await add_file(
            standin, rooms.other_moderator, "space.txt", SPACE_ARTICLE.read_bytes(), second
        )
    async with serving(standin, settings):
        ferry_here = await ask(standin, rooms.reader, FERRY_QUESTION)
        space_there = await ask(standin, rooms.other_reader, SPACE_QUESTION, second)
        ferry_there = await ask(standin, rooms.other_reader, FERRY_QUESTION, second)
    assert FERRY_QUOTE in ferry_here and OWN in ferry_here
    assert OWN in space_there and SPACE_TITLE in space_there
    assert FERRY_QUOTE not in ferry_there


# `articlebot run`, stopped for good once the file of the ferry story being added is written
# and before it is in place: the test kills it there, as a crash or a power cut would.
_STOP_MID_ADD = """
import os, sys, threading

real_fsync = os.fsync

def fsync(descriptor):
    path = os.readlink(f"/proc/self/fd/{descriptor}")
    if ".adding-" in path and b"Port Alder" in open(path, "rb").read():
        print("stopped in the middle of an add", file=sys.stderr, flush=True)
        threading.Event().wait()
    real_fsync(descriptor)

os.fsync = fsync
from bot.cli import main
sys.exit(main(sys.argv[sys.argv.index("bot") + 1 :]))
"""


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc to see the file")
async def test_killing_the_bot_in_the_middle_of_an_add_leaves_a_shelf_that_loads(
    standin: DiscordStandIn, corpus_dir: Path, rooms: Newsrooms, tmp_path: Path
) -> None:
    wrapper = tmp_path / "stop_mid_add.py"
    wrapper.write_text(_STOP_MID_ADD)
    async with bot_process(
        standin, corpus_dir, tmp_path, prefix=(sys.executable, str(wrapper))
    ) as process:
        await standin.frames.wait_for(lambda f: f.t == "READY", timeout=WAIT)
        await paste(standin, rooms.moderator, *lighthouse_parts())
        ferry = AttachedFile("ferry.md", SECOND_ARTICLE.read_bytes())
        await standin.invoke_command(rooms.moderator, "article add", {"file": ferry})
        await process.wait_for_log("stopped in the middle of an add", timeout=WAIT)
        process.process.kill()
        await process.exit_code(timeout=WAIT)
    async with serving(standin, settings_for(standin, corpus_dir)) as bot:
        ferry = await ask(standin, rooms.reader, FERRY_QUESTION)
        lighthouse = await ask(standin, rooms.reader, LIGHTHOUSE_QUESTION)
        leftovers = bot.shelves.shelf(rooms.first.id).leftovers()
        again = await add_file(standin, rooms.moderator, "ferry.md", SECOND_ARTICLE.read_bytes())
        now = await ask(standin, rooms.reader, FERRY_QUESTION)
    assert FERRY_QUOTE not in ferry  # the add never finished: as if it never started
    assert LIGHTHOUSE_QUOTE in lighthouse  # the article before it is whole
    assert len(leftovers) == 1
    assert again.content.startswith("Added") and FERRY_QUOTE in now


async def test_a_change_made_by_another_process_is_served_at_once(
    standin: DiscordStandIn, corpus_dir: Path, rooms: Newsrooms
) -> None:
    """The operator removes an article with `articlebot shelf remove` (another process, the same
    database and DATA_DIR) while the bot runs: its next answer in that server no longer cites
    it, and nothing else is loaded again."""
    async with serving(standin, settings_for(standin, corpus_dir)) as bot:
        await add_file(standin, rooms.moderator, "ferry.md", SECOND_ARTICLE.read_bytes())
        before = await ask(standin, rooms.reader, FERRY_QUESTION)
        shared = bot.serving.current
        command = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "shelf",
            "remove",
            str(rooms.first.id),
            FERRY_ID,
            "--corpus",
            str(corpus_dir),
            stdout=asyncio.subprocess.PIPE,
        )
        out, _ = await command.communicate()
        after = await ask(standin, rooms.reader, FERRY_QUESTION)
        still_shared = bot.serving.current
    assert command.returncode == 0 and out.decode().startswith(f"removed {FERRY_ID}")
    assert FERRY_QUOTE in before
    assert FERRY_QUOTE not in after and OWN not in after
    assert still_shared is shared  # the shared index was not rebuilt


@pytest.mark.parametrize(
    ("filename", "content_type", "plainly_not_text"),
    [
        ("story.txt", "text/plain; charset=utf-8", False),
        ("story.md", None, False),  # Discord gave no type: the bytes decide
        ("story.md", "application/octet-stream", False),
        ("story.TXT", "text/plain", False),
        ("story.txt", "image/png", True),  # an image, whatever it is called
        ("story.docx", "application/vnd.openxmlformats", True),
        ("story", "text/plain", True),
    ],
)
def test_a_file_is_refused_before_download_only_when_plainly_not_text(
    filename: str, content_type: str | None, plainly_not_text: bool
) -> None:
    assert not_text(filename, content_type) is plainly_not_text
