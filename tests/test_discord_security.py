"""Who may do what, and what never leaks: moderators alone reload (never from a DM), cooldowns
hold across every way of asking, the token stays out of logs and replies, templates stay boxed."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import discord
import pytest
from corpora import PROMPTS, ROOT
from discord_harness import (
    LIGHTHOUSE,
    QUESTION,
    SEED_QUOTE,
    bot_process,
    fresh_corpus,
    mention,
    render,
    serving,
    settings_for,
    unbolded,
)
from discord_standin import BotMessage, DiscordStandIn, InteractionRefused, User

from bot.config import Settings
from bot.discord import build_bot
from bot.engine import Engine

# Fail a test in which the bot logged an error it did not expect.
pytestmark = pytest.mark.usefixtures("no_unexpected_errors")


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    """The shipped seed article alone, in a folder free to change."""
    return fresh_corpus(tmp_path, lighthouse=False)


def add_article(corpus_dir: Path) -> None:
    (corpus_dir / "harbour-lighthouse.txt").write_text(LIGHTHOUSE, encoding="utf-8")


# --- only moderators reload, only in a server -------------------------------------------------


@pytest.mark.parametrize(
    ("role", "permissions"),
    [
        (None, 0),
        ("Editors", 0),  # a role, but not one of MODERATOR_ROLE_IDS
        ("Helpers", (1 << 13) | (1 << 4) | (1 << 28)),  # Manage Messages, Channels and Roles
    ],
    ids=["member", "other_role", "other_powers"],
)
async def test_reload_granted_by_a_server_override_is_still_refused_to_non_moderators(
    standin: DiscordStandIn,
    corpus_dir: Path,
    caplog: pytest.LogCaptureFixture,
    role: str | None,
    permissions: int,
) -> None:
    if role is not None:
        standin.world.add_role(role, permissions)
    member = standin.world.add_member("pat", roles=(role,) if role else ())
    async with serving(standin, settings_for(standin, corpus_dir)) as bot:
        add_article(corpus_dir)
        with pytest.raises(InteractionRefused):  # Discord itself does not offer it to them...
            await standin.invoke_command(member, "reload")
        # ...unless a server admin allowed it in Server Settings > Integrations.
        attempt = await standin.invoke_command(member, "reload", granted_by_override=True)
        refusal = await standin.wait_for_answer(attempt)
        articles = [a.id for a in bot.serving.current.articles()]
    assert refusal.ephemeral and refusal.content == render(
        "discord_not_moderator", command="reload"
    )
    assert articles == ["reuters-china-un-north-korea-rights"]
    assert any(
        f"reload refused to pat ({member.id}) in server" in r.getMessage() for r in caplog.records
    )


async def test_reload_is_never_done_from_a_direct_message(
    standin: DiscordStandIn, corpus_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    owner = standin.world.owner  # every permission in the server
    dm = standin.world.dm_channel(owner)
    async with serving(standin, settings_for(standin, corpus_dir)) as bot:
        add_article(corpus_dir)
        with pytest.raises(InteractionRefused, match="direct messages"):
            await standin.invoke_command(owner, "reload", channel=dm)
        # A modified client or a proxy could still send one.
        attempt = await standin.invoke_command(owner, "reload", channel=dm, unchecked=True)
        refusal = await standin.wait_for_answer(attempt)
        articles = [a.id for a in bot.serving.current.articles()]
    assert refusal.ephemeral and refusal.content == render("discord_guild_only")
    assert articles == ["reuters-china-un-north-korea-rights"]
    assert any("not in a server" in r.getMessage() for r in caplog.records)


# --- one cooldown, whichever way one asks -----------------------------------------------------

WAYS = ("mention", "answer_channel", "ask", "summary")


async def ask_by(standin: DiscordStandIn, person: User, way: str) -> BotMessage:
    """`person` asks a question (or for a summary) one way, and gets the bot's reply."""
    if way == "mention":
        return await standin.wait_for_answer(
            await standin.post_message(person, mention(standin, QUESTION))
        )
    if way == "answer_channel":
        return await standin.wait_for_answer(
            await standin.post_message(person, QUESTION, channel="ask")
        )
    options = {"question": QUESTION} if way == "ask" else {}
    return await standin.wait_for_answer(await standin.invoke_command(person, way, options))


@pytest.mark.parametrize("first", WAYS)
async def test_the_question_cooldown_holds_whichever_way_one_asks_next(
    standin: DiscordStandIn, corpus_dir: Path, first: str
) -> None:
    alice = standin.world.add_member("alice")
    ask_channel = standin.world.channel("ask")
    settings = settings_for(
        standin,
        corpus_dir,
        question_cooldown_seconds=60.0,
        answer_channel_ids=frozenset({ask_channel.id}),
    )
    async with serving(standin, settings):
        answered = await ask_by(standin, alice, first)
        refused = [await ask_by(standin, alice, way) for way in WAYS if way != first]
    assert "Please wait" not in answered.content
    for reply in refused:
        # Most of the minute is left, however long a loaded machine took between the tries.
        wait = re.fullmatch(
            r"Please wait (\d+) more seconds before your next question\.", reply.content
        )
        assert wait and 30 <= int(wait[1]) <= 60, reply.content


# --- the token ----------------------------------------------------------------------------------


def test_settings_never_show_the_token() -> None:
    settings = Settings(discord_token="MTIz.secret-token-value")
    assert "secret-token-value" not in repr(settings) and "secret-token-value" not in str(settings)


async def test_a_refused_token_is_reported_without_the_token(
    standin: DiscordStandIn, corpus_dir: Path, tmp_path: Path
) -> None:
    wrong = "MTk4NjIy.wrong-token-that-must-not-leak"
    async with bot_process(
        standin, corpus_dir, tmp_path, token=wrong, log_level="DEBUG", wait_until_ready=False
    ) as bot:
        code = await bot.exit_code()
    refused = await standin.wait_for_request("GET", "/users/@me")
    assert refused.status == 401
    assert code == 1
    assert "Discord refused DISCORD_TOKEN" in bot.log
    assert "wrong-token-that-must-not-leak" not in bot.log and "MTk4NjIy" not in bot.log


async def test_a_refused_token_raises_without_the_token(
    standin: DiscordStandIn, corpus_dir: Path
) -> None:
    wrong = "MTk4NjIy.wrong-token-that-must-not-leak"
    settings = settings_for(standin, corpus_dir, discord_token=wrong)
    bot = build_bot(settings, Engine.load(corpus_dir, PROMPTS))
    try:
        with pytest.raises(discord.LoginFailure) as refused:
            await bot.login(wrong)
    finally:
        await bot.close()
    assert wrong not in str(refused.value) and wrong not in repr(refused.value)


async def test_a_whole_session_logged_at_debug_never_shows_the_token_and_names_who_reloaded(
    standin: DiscordStandIn, corpus_dir: Path, tmp_path: Path
) -> None:
    moderator = standin.world.add_member("mod", roles=("Moderator",))
    alice = standin.world.add_member("alice")
    async with bot_process(standin, corpus_dir, tmp_path, log_level="DEBUG") as bot:
        answer = await standin.wait_for_answer(
            await standin.post_message(alice, mention(standin, QUESTION))
        )
        add_article(corpus_dir)
        report = await standin.wait_for_answer(await standin.invoke_command(moderator, "reload"))
        code = await bot.stop()
    assert code == 0, bot.log[-3000:]
    assert SEED_QUOTE in unbolded(answer.content) and "Added: harbour-lighthouse" in report.content
    assert " DEBUG " in bot.log and standin.token not in bot.log
    reload_line = await bot.wait_for_log(r"reload by .* succeeded")
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO ", reload_line)  # when
    guild = standin.world.guild.id
    assert f"reload by mod ({moderator.id}) in server {guild} succeeded" in reload_line  # who
    assert "2 article(s), added harbour-lighthouse; 0 warning(s)" in reload_line  # what


def test_the_env_file_is_ignored_by_git() -> None:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git work tree")
    ignored = subprocess.run(["git", "check-ignore", "-q", ".env"], cwd=ROOT, check=False)
    assert ignored.returncode == 0, ".env must be listed in .gitignore"


# --- templates ----------------------------------------------------------------------------------


async def test_a_template_reaching_for_python_internals_gets_the_asker_an_apology_only(
    standin: DiscordStandIn, corpus_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    prompts = Path(shutil.copytree(PROMPTS, tmp_path / "prompts"))
    (prompts / "discord_help.j2").write_text(
        "{{ ''.__class__.__mro__[1].__subclasses__() }}{{ cycler.__init__.__globals__.os.environ }}"
    )
    alice = standin.world.add_member("alice")
    async with serving(standin, settings_for(standin, corpus_dir, prompts_dir=prompts)):
        reply = await standin.wait_for_answer(await standin.invoke_command(alice, "help"))
        sources = await standin.wait_for_answer(await standin.invoke_command(alice, "sources"))
    assert reply.ephemeral and reply.content == render("discord_apology")
    assert "class" not in reply.content and "environ" not in reply.content
    assert "China opposes" in sources.content  # the other templates still work
    logged = [r for r in caplog.records if "a template failed" in r.getMessage()]
    assert len(logged) == 1 and "unsafe" in logged[0].getMessage()
    caplog.clear()
