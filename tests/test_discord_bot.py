"""The real bot, built by `build_bot` on a real engine, against the Discord stand-in."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from corpora import PROMPTS, ROOT
from discord_harness import (
    LIGHTHOUSE,
    LIGHTHOUSE_QUESTION,
    QUESTION,
    render,
    serving,
    settings_for,
    unbolded,
)
from discord_standin import DiscordStandIn, Interaction
from discord_standin.client import StandInFactory

from bot.engine import Engine, FollowUp, ReloadReport, Reply

# Fail a test in which the bot logged an error it did not expect.
pytestmark = pytest.mark.usefixtures("no_unexpected_errors")


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    """A private copy of the shipped corpus, free to change."""
    return Path(shutil.copytree(ROOT / "corpus", tmp_path / "corpus"))


async def test_mention_is_answered_with_a_cited_quote_that_pings_nobody(
    standin: DiscordStandIn, corpus_dir: Path
) -> None:
    alice = standin.world.add_member("alice")
    async with serving(standin, settings_for(standin, corpus_dir)):
        question = await standin.post_message(alice, f"<@{standin.world.bot.id}> {QUESTION}")
        answer = await standin.wait_for_answer(question)
    assert unbolded(answer.content).startswith(
        "> The United States, Albania and Japan requested the meeting"
    )  # cited as the answer, not offered as "maybe related"
    assert "-# [1] paragraph 2" in answer.content
    assert answer.via == "channel" and answer.reply_to == int(question["id"])
    assert not answer.pinged_anyone
    sent = await standin.wait_for_request("POST", r"/channels/\d+/messages")
    assert sent.json["allowed_mentions"] == {"parse": [], "replied_user": False}


async def test_every_message_in_an_answer_channel_is_a_question(
    standin: DiscordStandIn, corpus_dir: Path
) -> None:
    alice = standin.world.add_member("alice")
    ask = standin.world.channel("ask")
    settings = settings_for(standin, corpus_dir, answer_channel_ids=frozenset({ask.id}))
    async with serving(standin, settings):
        question = await standin.post_message(alice, QUESTION, channel="ask")
        answer = await standin.wait_for_answer(question)
    assert "Albania and Japan" in unbolded(answer.content)


async def test_other_bots_and_its_own_replies_are_never_answered(
    standin: DiscordStandIn, corpus_dir: Path
) -> None:
    alice = standin.world.add_member("alice")
    other_bot = standin.world.add_member("newsfeed", bot=True)
    ask = standin.world.channel("ask")
    settings = settings_for(standin, corpus_dir, answer_channel_ids=frozenset({ask.id}))
    async with serving(standin, settings):
        await standin.post_message(other_bot, QUESTION, channel="ask")
        question = await standin.post_message(alice, QUESTION, channel="ask")
        await standin.wait_for_answer(question)
        # The answer came back to the bot as a MESSAGE_CREATE too; a second question from
        # alice proves that echo was handled (and ignored) before we count.
        follow_up = await standin.post_message(alice, QUESTION, channel="ask")
        await standin.wait_for_answer(follow_up)
    assert [m.reply_to for m in standin.messages] == [int(question["id"]), int(follow_up["id"])]


async def test_without_message_content_access_mentions_still_work(
    start_standin: StandInFactory, corpus_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    standin = await start_standin(allowed_privileged_intents=0)
    alice = standin.world.add_member("alice")
    ask = standin.world.channel("ask")
    settings = settings_for(standin, corpus_dir, answer_channel_ids=frozenset({ask.id}))
    async with serving(standin, settings):
        await standin.post_message(alice, QUESTION, channel="ask")  # arrives without its text
        mention = await standin.post_message(
            alice, f"<@{standin.world.bot.id}> {QUESTION}", channel="ask"
        )
        answer = await standin.wait_for_answer(mention)
    assert "Albania and Japan" in unbolded(answer.content)
    assert [m.reply_to for m in standin.messages] == [int(mention["id"])]
    assert any("Message Content intent is not enabled" in r.getMessage() for r in caplog.records)


async def test_slash_ask_defers_then_answers_in_public(
    standin: DiscordStandIn, corpus_dir: Path
) -> None:
    alice = standin.world.add_member("alice")
    async with serving(standin, settings_for(standin, corpus_dir)):
        interaction = await standin.invoke_command(alice, "ask", {"question": QUESTION})
        answer = await standin.wait_for_answer(interaction)
    assert interaction.response_type == 5
    assert answer.via == "followup" and not answer.ephemeral
    assert "Albania and Japan" in unbolded(answer.content) and not answer.pinged_anyone
    followup = await standin.wait_for_request("POST", r"/webhooks/\d+/[^/]+")
    assert followup.json["allowed_mentions"] == {"parse": []}


def cooldown_refusals(action: str) -> set[str]:
    """What a 60-second cooldown tells someone who tries again within it: however long the
    machine took between the two tries (a loaded one takes seconds), most of it is left."""
    return {render("discord_cooldown", seconds=left, action=action) for left in range(30, 61)}


async def test_question_cooldown_is_shared_by_mentions_and_slash_commands(
    standin: DiscordStandIn, corpus_dir: Path
) -> None:
    alice = standin.world.add_member("alice")
    bob = standin.world.add_member("bob")
    settings = settings_for(standin, corpus_dir, question_cooldown_seconds=60.0)
    async with serving(standin, settings):
        mention = await standin.post_message(alice, f"<@{standin.world.bot.id}> {QUESTION}")
        await standin.wait_for_answer(mention)
        too_soon = await standin.invoke_command(alice, "ask", {"question": QUESTION})
        refusal = await standin.wait_for_answer(too_soon)
        other_person = await standin.invoke_command(bob, "ask", {"question": QUESTION})
        answer = await standin.wait_for_answer(other_person)
    assert refusal.ephemeral
    assert refusal.content in cooldown_refusals("question")
    assert "Albania and Japan" in unbolded(answer.content)


async def test_summary_answers_in_public_after_deferring(
    standin: DiscordStandIn, corpus_dir: Path
) -> None:
    alice = standin.world.add_member("alice")
    async with serving(standin, settings_for(standin, corpus_dir)) as bot:
        interaction = await standin.invoke_command(alice, "summary", {"length": "points"})
        answer = await standin.wait_for_answer(interaction)
        expected = bot.serving.current.summarize(length="points").text
    assert answer.content == expected and not answer.ephemeral


async def test_summary_of_an_unknown_article_is_told_only_to_the_asker(
    standin: DiscordStandIn, corpus_dir: Path
) -> None:
    alice = standin.world.add_member("alice")
    async with serving(standin, settings_for(standin, corpus_dir)):
        interaction = await standin.invoke_command(alice, "summary", {"article": "no-such-article"})
        answer = await standin.wait_for_answer(interaction)
    assert answer.ephemeral and "no-such-article" in answer.content
    # The public "thinking…" message was removed, so nothing public is left behind.
    assert interaction.original is None


async def test_summary_article_autocomplete_offers_matching_articles(
    standin: DiscordStandIn, corpus_dir: Path
) -> None:
    (corpus_dir / "harbour-lighthouse.txt").write_text(LIGHTHOUSE, encoding="utf-8")
    alice = standin.world.add_member("alice")
    async with serving(standin, settings_for(standin, corpus_dir)):
        typing = await standin.request_autocomplete(
            alice, "summary", {"article": "LIGHT"}, focused="article"
        )
        choices = await standin.wait_for_choices(typing)
    assert choices == [
        {"name": "Harbour town restores its old lighthouse", "value": "harbour-lighthouse"}
    ]


async def test_sources_and_help_are_shown_only_to_the_asker(
    standin: DiscordStandIn, corpus_dir: Path
) -> None:
    alice = standin.world.add_member("alice")
    async with serving(standin, settings_for(standin, corpus_dir)) as bot:
        sources = await standin.wait_for_answer(await standin.invoke_command(alice, "sources"))
        help_text = await standin.wait_for_answer(await standin.invoke_command(alice, "help"))
        engine = bot.serving.current
    assert sources.ephemeral and help_text.ephemeral
    loaded_at = int(engine.loaded_at)
    assert sources.content == engine.render(
        "discord_sources", articles=engine.articles(), loaded_at=loaded_at
    )
    assert "China opposes UN Security Council meeting on North Korea rights" in sources.content
    assert f"Last loaded <t:{loaded_at}:f>" in sources.content  # Discord shows it in local time
    assert "/ask" in help_text.content


async def test_reload_is_refused_to_a_member_without_manage_server(
    standin: DiscordStandIn, corpus_dir: Path
) -> None:
    alice = standin.world.add_member("alice")
    async with serving(standin, settings_for(standin, corpus_dir)):
        (corpus_dir / "harbour-lighthouse.txt").write_text(LIGHTHOUSE, encoding="utf-8")
        # A server admin granted /reload to everyone, so Discord delivers alice's interaction.
        attempt = await standin.invoke_command(alice, "reload", granted_by_override=True)
        refusal = await standin.wait_for_answer(attempt)
        asked = await standin.invoke_command(alice, "ask", {"question": LIGHTHOUSE_QUESTION})
        answer = await standin.wait_for_answer(asked)
    assert refusal.ephemeral and refusal.content == render(
        "discord_not_moderator", command="reload"
    )
    assert "Svanøy" not in answer.content  # still the old corpus


async def test_moderator_reload_picks_up_a_corpus_change(
    standin: DiscordStandIn, corpus_dir: Path
) -> None:
    moderator = standin.world.add_member("mod", roles=("Moderator",))
    async with serving(standin, settings_for(standin, corpus_dir)):
        before = await standin.invoke_command(moderator, "ask", {"question": LIGHTHOUSE_QUESTION})
        unanswered = await standin.wait_for_answer(before)
        (corpus_dir / "harbour-lighthouse.txt").write_text(LIGHTHOUSE, encoding="utf-8")
        report = await standin.wait_for_answer(await standin.invoke_command(moderator, "reload"))
        after = await standin.invoke_command(moderator, "ask", {"question": LIGHTHOUSE_QUESTION})
        answered = await standin.wait_for_answer(after)
    assert "Svanøy" not in unanswered.content
    assert report.ephemeral and "Added: harbour-lighthouse" in report.content
    assert "paid for by the fishermen's cooperative" in unbolded(answered.content)


async def test_a_moderator_role_from_settings_may_reload(
    standin: DiscordStandIn, corpus_dir: Path
) -> None:
    editors = standin.world.add_role("Editors")  # no Manage Server permission
    editor = standin.world.add_member("editor", roles=("Editors",))
    settings = settings_for(standin, corpus_dir, moderator_role_ids=frozenset({editors.id}))
    async with serving(standin, settings):
        attempt = await standin.invoke_command(editor, "reload", granted_by_override=True)
        report = await standin.wait_for_answer(attempt)
    assert report.content.startswith("Reloaded the corpus")


async def test_reload_cooldown_is_per_moderator(standin: DiscordStandIn, corpus_dir: Path) -> None:
    moderator = standin.world.add_member("mod", roles=("Moderator",))
    settings = settings_for(standin, corpus_dir, reload_cooldown_seconds=60.0)
    async with serving(standin, settings):
        await standin.wait_for_answer(await standin.invoke_command(moderator, "reload"))
        again = await standin.wait_for_answer(await standin.invoke_command(moderator, "reload"))
        by_owner = await standin.invoke_command(standin.world.owner, "reload")
        owner_report = await standin.wait_for_answer(by_owner)
    assert again.content in cooldown_refusals("reload")
    assert owner_report.content.startswith("Reloaded the corpus")


async def test_broken_corpus_keeps_the_old_answers(
    standin: DiscordStandIn, corpus_dir: Path
) -> None:
    moderator = standin.world.add_member("mod", roles=("Moderator",))
    async with serving(standin, settings_for(standin, corpus_dir)):
        for article in corpus_dir.iterdir():
            article.unlink()
        (corpus_dir / "scan.txt").write_bytes(b"\x00\x01\x02 not text")
        failure = await standin.wait_for_answer(await standin.invoke_command(moderator, "reload"))
        asked = await standin.invoke_command(moderator, "ask", {"question": QUESTION})
        answer = await standin.wait_for_answer(asked)
    assert failure.ephemeral
    first_line = render("discord_reload_failed", error="No usable article").splitlines()[0]
    assert failure.content.splitlines()[0] == first_line
    assert "No usable article" in failure.content
    assert "Albania and Japan" in unbolded(answer.content)


class GatedEngine(Engine):
    """The real engine, except that a reload waits at a gate until the test opens it."""

    entered: threading.Event
    gate: threading.Event

    def reloaded(
        self, progress: Callable[[int, int], None] | None = None
    ) -> tuple[Engine, ReloadReport]:
        self.entered.set()
        if not self.gate.wait(timeout=10):
            raise TimeoutError("the test never opened the reload gate")
        return super().reloaded(progress)


async def test_questions_during_a_reload_are_all_answered_by_the_old_corpus(
    standin: DiscordStandIn, corpus_dir: Path
) -> None:
    moderator = standin.world.add_member("mod", roles=("Moderator",))
    askers = [standin.world.add_member(f"reader{n}") for n in range(5)]
    settings = settings_for(standin, corpus_dir)
    engine = GatedEngine.load(corpus_dir, PROMPTS)
    assert isinstance(engine, GatedEngine)  # Engine.load builds the class it is called on
    engine.entered, engine.gate = threading.Event(), threading.Event()
    async with serving(standin, settings, engine):
        (corpus_dir / "harbour-lighthouse.txt").write_text(LIGHTHOUSE, encoding="utf-8")
        reload = await standin.invoke_command(moderator, "reload")
        assert await asyncio.to_thread(engine.entered.wait, 5)
        mention = f"<@{standin.world.bot.id}> "
        questions = [
            await standin.post_message(asker, mention + text)
            for asker in askers
            for text in (QUESTION, LIGHTHOUSE_QUESTION)
        ]
        answers = [await standin.wait_for_answer(q) for q in questions]
        reload_answers_before_the_gate = [m for m in standin.messages if m.interaction_id]
        engine.gate.set()
        report = await standin.wait_for_answer(reload)
        asked = await standin.invoke_command(moderator, "ask", {"question": LIGHTHOUSE_QUESTION})
        after = await standin.wait_for_answer(asked)
    assert reload_answers_before_the_gate == []
    assert all("Albania and Japan" in unbolded(a.content) for a in answers[0::2])
    assert all("Svanøy" not in a.content for a in answers[1::2])  # the old corpus answered
    assert report.content.startswith("Reloaded the corpus")
    assert "fishermen's cooperative" in unbolded(after.content)


class SlowAnsweringEngine(Engine):
    """The real engine, except that answering a question waits at a gate until the test opens
    it: a question that takes long to answer."""

    entered: threading.Event
    gate: threading.Event

    def ask(self, question: str, follows: FollowUp | None = None) -> Reply:
        self.entered.set()
        if not self.gate.wait(timeout=10):
            raise TimeoutError("the test never opened the answer gate")
        return super().ask(question, follows)


async def test_the_bot_keeps_serving_while_a_question_is_being_answered(
    standin: DiscordStandIn, corpus_dir: Path
) -> None:
    alice, bob = standin.world.add_member("alice"), standin.world.add_member("bob")
    engine = SlowAnsweringEngine.load(corpus_dir, PROMPTS)
    engine.entered, engine.gate = threading.Event(), threading.Event()
    async with serving(standin, settings_for(standin, corpus_dir), engine):
        question = await standin.post_message(alice, f"<@{standin.world.bot.id}> {QUESTION}")
        assert await asyncio.to_thread(engine.entered.wait, 5)
        # Answering happens off the event loop: other commands are served meanwhile.
        sources = await standin.wait_for_answer(await standin.invoke_command(bob, "sources"))
        answered_before_the_gate = standin.messages.matching(
            lambda m: m.reply_to == int(question["id"])
        )
        engine.gate.set()
        answer = await standin.wait_for_answer(question)
    assert "China opposes UN Security Council meeting" in sources.content
    assert answered_before_the_gate == []
    assert "Albania and Japan" in unbolded(answer.content)


async def test_gateway_drop_then_resume_keeps_answering(
    standin: DiscordStandIn, corpus_dir: Path
) -> None:
    alice = standin.world.add_member("alice")
    async with serving(standin, settings_for(standin, corpus_dir)):
        await standin.drop_connection()
        missed = await standin.post_message(alice, f"<@{standin.world.bot.id}> {QUESTION}")
        await standin.wait_for_resume()
        answer = await standin.wait_for_answer(missed)
        asked = await standin.invoke_command(alice, "ask", {"question": QUESTION})
        after = await standin.wait_for_answer(asked)
    assert "Albania and Japan" in unbolded(answer.content) and "Albania and Japan" in unbolded(
        after.content
    )
    assert [c.path for c in standin.gateway.connections] == ["/gateway", "/resume"]


class FailingEngine(Engine):
    """The real engine with a bug in `ask`, as a stand-in for any unexpected failure."""

    def ask(self, question: str, follows: FollowUp | None = None) -> Any:
        raise RuntimeError("the index is corrupted")


async def test_unexpected_error_gets_a_private_apology_and_a_logged_traceback(
    standin: DiscordStandIn, corpus_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    alice = standin.world.add_member("alice")
    engine = FailingEngine.load(corpus_dir, PROMPTS)
    async with serving(standin, settings_for(standin, corpus_dir), engine):
        interaction: Interaction = await standin.invoke_command(
            alice, "ask", {"question": QUESTION}
        )
        apology = await standin.wait_for_answer(interaction)
        mention = await standin.post_message(alice, f"<@{standin.world.bot.id}> {QUESTION}")
        mention_apology = await standin.wait_for_answer(mention)
    assert apology.ephemeral and apology.content == render("discord_apology")
    assert mention_apology.content == render("discord_apology")
    logged = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(logged) == 2
    assert all(r.exc_info and "the index is corrupted" in str(r.exc_info[1]) for r in logged)
    caplog.clear()


async def test_articlebot_run_connects_and_stops_cleanly_on_sigterm(
    standin: DiscordStandIn, corpus_dir: Path, tmp_path: Path
) -> None:
    environment = {
        **os.environ,
        "DISCORD_TOKEN": standin.token,
        "DISCORD_API_BASE": standin.api_base,
        "DISCORD_GATEWAY_URL": standin.gateway_url,
        "CORPUS_DIR": str(corpus_dir),
        "LOG_LEVEL": "INFO",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=tmp_path,  # no developer's .env gets read
        env=environment,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await standin.wait_for_request("PUT", r"/applications/\d+/commands", timeout=30)
        await standin.frames.wait_for(lambda f: f.t == "GUILD_CREATE", timeout=30)
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(15):
            _, stderr = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, stderr.decode()
    assert b"stopping" in stderr
    closure = await standin.gateway.closures.wait_for(lambda c: c.connection == 1)
    # A clean close: each shard stops reading, then closes with 1000, which ends its session.
    assert closure.code == 1000
