"""Faults around the bot: Discord failing or throttling, the gateway moving, reloads breaking,
commands raising, and a shutdown with answers in flight. Nothing may be lost or sent twice."""

from __future__ import annotations

import asyncio
import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from corpora import PROMPTS
from discord_harness import (
    LIGHTHOUSE_QUESTION,
    LIGHTHOUSE_QUOTE,
    LIGHTHOUSE_TITLE,
    QUESTION,
    SEED_QUOTE,
    SEED_TITLE,
    HookedEngine,
    bot_process,
    fresh_corpus,
    mention,
    render,
    serving,
    settings_for,
    unbolded,
)
from discord_standin import DiscordStandIn

from bot.discord.shutdown import InFlight
from bot.engine import Engine, FollowUp
from bot.records import Storage

# Fail a test in which the bot logged an error it did not expect.
pytestmark = pytest.mark.usefixtures("no_unexpected_errors")

CHANNEL_MESSAGES = r"/channels/\d+/messages"
FOLLOWUPS = r"/webhooks/\d+/[^/]+"


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    """The shipped seed article and a second, short one, in a folder free to change."""
    return fresh_corpus(tmp_path)


async def still_serving(standin: DiscordStandIn) -> tuple[str, str]:
    """The article list and the answer to the lighthouse question, asked by a new reader."""
    reader = standin.world.add_member(f"reader{len(standin.world.guild.members)}")
    sources = await standin.wait_for_answer(await standin.invoke_command(reader, "sources"))
    asked = await standin.invoke_command(reader, "ask", {"question": LIGHTHOUSE_QUESTION})
    answer = await standin.wait_for_answer(asked)
    return sources.content, answer.content


# --- Discord failing or throttling a send -----------------------------------------------------


async def test_the_stand_in_rate_limits_and_fails_the_way_discord_does(
    standin: DiscordStandIn,
) -> None:
    standin.rate_limit_next("GET", "/users/@me", retry_after=0.25)
    standin.fail_next("GET", "/users/@me", status=503)
    headers = {"Authorization": f"Bot {standin.token}"}
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{standin.api_base}/users/@me", headers=headers) as limited:
            body = await limited.json()
            assert limited.status == 429 and limited.headers["Via"] == "1.1 google"
            assert limited.headers["X-RateLimit-Remaining"] == "0"
            assert limited.headers["X-RateLimit-Reset-After"] == "0.250"
            assert limited.headers["Retry-After"] == "1"
            assert body == {
                "message": "You are being rate limited.",
                "retry_after": 0.25,
                "global": False,
            }
        async with session.get(f"{standin.api_base}/users/@me", headers=headers) as failed:
            assert failed.status == 503
            assert await failed.json() == {"message": "503: Service Unavailable", "code": 0}
        async with session.get(f"{standin.api_base}/users/@me", headers=headers) as normal:
            assert normal.status == 200


async def test_a_rate_limited_reply_waits_as_told_and_is_sent_once(
    standin: DiscordStandIn, corpus_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    alice = standin.world.add_member("alice")
    async with serving(standin, settings_for(standin, corpus_dir)):
        limit = standin.rate_limit_next("POST", CHANNEL_MESSAGES, retry_after=0.2)
        question = await standin.post_message(alice, mention(standin, QUESTION))
        answer = await standin.wait_for_answer(question)
        follow_up = await standin.post_message(alice, mention(standin, LIGHTHOUSE_QUESTION))
        next_answer = await standin.wait_for_answer(follow_up)
    await limit.wait_until_taken()
    sends = [r.status for r in standin.requests if r.method == "POST" and "/messages" in r.path]
    assert sends == [429, 200, 200]
    assert SEED_QUOTE in unbolded(answer.content) and LIGHTHOUSE_QUOTE in unbolded(
        next_answer.content
    )
    assert [m.reply_to for m in standin.messages] == [int(question["id"]), int(follow_up["id"])]
    assert any("rate limited" in r.getMessage() for r in caplog.records)


async def test_a_global_rate_limit_on_a_follow_up_is_waited_out(
    standin: DiscordStandIn, corpus_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    alice = standin.world.add_member("alice")
    async with serving(standin, settings_for(standin, corpus_dir)):
        standin.rate_limit_next("POST", FOLLOWUPS, retry_after=0.2, is_global=True)
        asked = await standin.invoke_command(alice, "ask", {"question": QUESTION})
        answer = await standin.wait_for_answer(asked)
        again = await standin.invoke_command(alice, "ask", {"question": LIGHTHOUSE_QUESTION})
        next_answer = await standin.wait_for_answer(again)
    assert SEED_QUOTE in unbolded(answer.content) and not answer.ephemeral
    assert LIGHTHOUSE_QUOTE in unbolded(next_answer.content)
    assert any("is rate limited" in r.getMessage() for r in caplog.records)


async def test_a_500_on_a_reply_is_retried_and_the_answer_arrives_once(
    standin: DiscordStandIn, corpus_dir: Path
) -> None:
    alice = standin.world.add_member("alice")
    async with serving(standin, settings_for(standin, corpus_dir)):
        standin.fail_next("POST", CHANNEL_MESSAGES, status=500)
        question = await standin.post_message(alice, mention(standin, QUESTION))
        # discord.py waits a second before it tries again.
        answer = await standin.wait_for_answer(question, timeout=10)
    sends = [r.status for r in standin.requests if r.method == "POST" and "/messages" in r.path]
    assert sends == [500, 200]
    assert SEED_QUOTE in unbolded(answer.content) and len(standin.messages) == 1


async def test_a_reply_discord_fails_is_logged_and_the_next_question_works(
    standin: DiscordStandIn,
    corpus_dir: Path,
    caplog: pytest.LogCaptureFixture,
    records_in_tmp_path: Path,
) -> None:
    alice = standin.world.add_member("alice")
    async with serving(standin, settings_for(standin, corpus_dir)):
        failure = standin.fail_next("POST", CHANNEL_MESSAGES, status=503)
        lost = await standin.post_message(alice, mention(standin, QUESTION))
        await failure.wait_until_taken()
        question = await standin.post_message(alice, mention(standin, LIGHTHOUSE_QUESTION))
        answer = await standin.wait_for_answer(question)
    assert LIGHTHOUSE_QUOTE in unbolded(answer.content)
    assert [m.reply_to for m in standin.messages] == [int(question["id"])]
    logged = [
        r.getMessage() for r in caplog.records if "could not answer message" in r.getMessage()
    ]
    assert len(logged) == 1 and lost["id"] in logged[0] and "503" in logged[0]
    # Only the reply people saw is recorded: the lost one would mislead /insights.
    assert recorded_questions(records_in_tmp_path) == [LIGHTHOUSE_QUESTION]


async def test_a_follow_up_discord_refuses_becomes_a_private_apology(
    standin: DiscordStandIn,
    corpus_dir: Path,
    caplog: pytest.LogCaptureFixture,
    records_in_tmp_path: Path,
) -> None:
    alice = standin.world.add_member("alice")
    async with serving(standin, settings_for(standin, corpus_dir)):
        # discord.py retries every 5xx on a webhook for 25 s; a refusal it raises at once.
        standin.fail_next("POST", FOLLOWUPS, status=404, code=10015, message="Unknown Webhook")
        asked = await standin.invoke_command(alice, "ask", {"question": QUESTION})
        apology = await standin.wait_for_answer(asked)
        again = await standin.invoke_command(alice, "ask", {"question": QUESTION})
        answer = await standin.wait_for_answer(again)
    assert apology.ephemeral and apology.content == render("discord_apology")
    assert asked.original is None  # the public "thinking…" message was taken away
    assert SEED_QUOTE in unbolded(answer.content) and not answer.ephemeral
    assert any("Discord failed a request" in r.getMessage() for r in caplog.records)
    assert recorded_questions(records_in_tmp_path) == [QUESTION]


def recorded_questions(data_dir: Path) -> list[str]:
    """The questions whose replies the bot recorded (it has stopped: its writes are done)."""
    storage = Storage.for_data_dir(data_dir)
    try:
        return [record.question for record in storage.replies_since(0)]
    finally:
        storage.close()


# --- the gateway moving under the bot ---------------------------------------------------------


async def test_a_reconnect_request_resumes_and_answers_what_came_meanwhile_once(
    standin: DiscordStandIn, corpus_dir: Path
) -> None:
    alice = standin.world.add_member("alice")
    async with serving(standin, settings_for(standin, corpus_dir)):
        await standin.request_reconnect()
        meanwhile = await standin.post_message(alice, mention(standin, QUESTION))
        await standin.wait_for_resume()
        answer = await standin.wait_for_answer(meanwhile)
        asked = await standin.invoke_command(alice, "ask", {"question": LIGHTHOUSE_QUESTION})
        after = await standin.wait_for_answer(asked)
        # A last round trip, so that a second reply to `meanwhile` would have arrived by now.
        last = await standin.post_message(alice, mention(standin, QUESTION))
        await standin.wait_for_answer(last)
    assert SEED_QUOTE in unbolded(answer.content) and LIGHTHOUSE_QUOTE in unbolded(after.content)
    assert len(standin.messages.matching(lambda m: m.reply_to == int(meanwhile["id"]))) == 1
    assert [c.path for c in standin.gateway.connections] == ["/gateway", "/resume"]


async def test_a_drop_while_a_reply_is_on_its_way_loses_nothing(
    standin: DiscordStandIn, corpus_dir: Path
) -> None:
    alice = standin.world.add_member("alice")
    async with serving(standin, settings_for(standin, corpus_dir)):
        slow = standin.hold_next("POST", CHANNEL_MESSAGES)
        first = await standin.post_message(alice, mention(standin, QUESTION))
        await slow.wait_until_taken()
        await standin.drop_connection()
        while_away = await standin.post_message(alice, mention(standin, LIGHTHOUSE_QUESTION))
        slow.open()
        await standin.wait_for_resume()
        answers = [await standin.wait_for_answer(q) for q in (first, while_away)]
        last = await standin.post_message(alice, mention(standin, QUESTION))
        await standin.wait_for_answer(last)
    assert SEED_QUOTE in unbolded(answers[0].content) and LIGHTHOUSE_QUOTE in unbolded(
        answers[1].content
    )
    assert sorted(m.reply_to or 0 for m in standin.messages) == sorted(
        int(q["id"]) for q in (first, while_away, last)
    )


# --- an unexpected exception in one command ---------------------------------------------------


class BreakableEngine(Engine):
    """The real engine, except that the method named in `broken` raises, as a stand-in for any
    bug; the fresh engine a reload builds is a plain one."""

    broken = ""

    def _fail(self, method: str) -> None:
        if method == self.broken:
            raise RuntimeError(f"{method} is broken")

    def ask(self, question: str, follows: FollowUp | None = None) -> Any:
        self._fail("ask")
        return super().ask(question, follows)

    def summarize(self, *args: Any, **kwargs: Any) -> Any:
        self._fail("summarize")
        return super().summarize(*args, **kwargs)

    def articles(self) -> Any:
        self._fail("articles")
        return super().articles()

    def reloaded(self, progress: Callable[[int, int], None] | None = None) -> Any:
        self._fail("reloaded")
        return super().reloaded(progress)


@pytest.mark.parametrize(
    ("command", "options", "broken", "expected"),
    [
        ("ask", {"question": QUESTION}, "ask", "discord_apology"),
        ("summary", {}, "summarize", "discord_apology"),
        ("sources", {}, "articles", "discord_apology"),
        ("help", {}, "articles", "discord_apology"),
        ("reload", {}, "reloaded", "discord_reload_failed"),
    ],
)
async def test_a_command_that_raises_gets_a_short_private_reply_and_the_bot_goes_on(
    standin: DiscordStandIn,
    corpus_dir: Path,
    caplog: pytest.LogCaptureFixture,
    command: str,
    options: dict[str, str],
    broken: str,
    expected: str,
) -> None:
    moderator = standin.world.add_member("mod", roles=("Moderator",))
    engine = BreakableEngine.load(corpus_dir, PROMPTS)
    async with serving(standin, settings_for(standin, corpus_dir), engine):
        engine.broken = broken
        failed = await standin.wait_for_answer(
            await standin.invoke_command(moderator, command, options)
        )
        engine.broken = ""
        sources, answer = await still_serving(standin)
    assert failed.ephemeral and failed.content == render(expected, error=None)
    assert LIGHTHOUSE_TITLE in sources and LIGHTHOUSE_QUOTE in unbolded(answer)
    logged = [
        r for r in caplog.records if r.exc_info and f"{broken} is broken" in str(r.exc_info[1])
    ]
    assert len(logged) == 1
    caplog.clear()


async def test_a_mention_that_raises_gets_an_apology_and_the_bot_goes_on(
    standin: DiscordStandIn, corpus_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    alice = standin.world.add_member("alice")
    engine = BreakableEngine.load(corpus_dir, PROMPTS)
    async with serving(standin, settings_for(standin, corpus_dir), engine):
        engine.broken = "ask"
        failed = await standin.wait_for_answer(
            await standin.post_message(alice, mention(standin, QUESTION))
        )
        engine.broken = ""
        answer = await standin.wait_for_answer(
            await standin.post_message(alice, mention(standin, QUESTION))
        )
    assert failed.content == render("discord_apology") and SEED_QUOTE in unbolded(answer.content)
    assert any(r.exc_info and "ask is broken" in str(r.exc_info[1]) for r in caplog.records)
    caplog.clear()


# --- reloads: all or nothing ------------------------------------------------------------------


def crash_halfway(done: int, total: int) -> None:
    """A failure in the middle of reading the corpus, after the first file."""
    raise RuntimeError(f"the disk went away after file {done} of {total}")


# A read that never returns (a network drive gone quiet): the hook blocks until released.
DISK_STALLED = threading.Event()


def stall_reading(done: int, total: int) -> None:
    """Block the reload's reading until the test lets it go."""
    DISK_STALLED.wait(30)


def unstall_reading() -> None:
    """Let the stalled reload thread finish, so the test leaves no thread behind."""
    DISK_STALLED.set()
    for thread in threading.enumerate():
        if thread.name == "corpus-reload":
            thread.join(10)


@pytest.mark.parametrize(
    "step",
    ["folder_gone", "nothing_usable", "template_broken", "crash_while_reading", "file_blocks"],
)
async def test_a_reload_failing_at_any_step_keeps_the_old_corpus_serving(
    standin: DiscordStandIn,
    corpus_dir: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    step: str,
) -> None:
    prompts = Path(shutil.copytree(PROMPTS, tmp_path / "prompts"))
    moderator = standin.world.add_member("mod", roles=("Moderator",))
    engine = HookedEngine.load(corpus_dir, prompts)
    settings = settings_for(standin, corpus_dir, prompts_dir=prompts)
    async with serving(standin, settings, engine) as bot:
        (corpus_dir / "new-article.txt").write_text("A new headline\n\nA new story.\n")
        if step == "folder_gone":
            shutil.rmtree(corpus_dir)
        elif step == "nothing_usable":
            for path in corpus_dir.iterdir():
                path.unlink()
            (corpus_dir / "empty.txt").write_bytes(b"")
        elif step == "template_broken":
            (prompts / "reload.j2").write_text("{{ report.articles ")
        elif step == "crash_while_reading":
            engine.on_file = crash_halfway
        else:
            DISK_STALLED.clear()
            engine.on_file = stall_reading
            bot.serving.reload_timeout = 0.5
        report = await standin.wait_for_answer(
            await standin.invoke_command(moderator, "reload"), timeout=10
        )
        if step == "file_blocks":
            await asyncio.to_thread(unstall_reading)
        sources, answer = await still_serving(standin)
    lines = report.content.splitlines()
    failed = render("discord_reload_failed", error=None).splitlines()[0]
    assert report.ephemeral and lines[0] == failed
    expected_detail = {
        "folder_gone": "does not exist",
        "nothing_usable": "No usable article",
        "template_broken": "reload.j2",
        "crash_while_reading": "Something unexpected stopped it",
        "file_blocks": "still reading after 0.5 seconds",
    }[step]
    assert expected_detail in lines[1]
    assert SEED_TITLE in sources and LIGHTHOUSE_TITLE in sources
    assert "A new headline" not in sources
    assert LIGHTHOUSE_QUOTE in unbolded(answer)
    if step == "crash_while_reading":
        assert any(
            r.exc_info and "the disk went away" in str(r.exc_info[1]) for r in caplog.records
        )
        caplog.clear()


async def test_a_reload_that_succeeds_changes_everything_at_once(
    standin: DiscordStandIn, corpus_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    moderator = standin.world.add_member("mod", roles=("Moderator",))
    engine = HookedEngine.load(corpus_dir, PROMPTS)
    async with serving(standin, settings_for(standin, corpus_dir), engine) as bot:
        # A reload that broke halfway first: what it read must not leak into the next one.
        engine.on_file = crash_halfway
        await standin.wait_for_answer(await standin.invoke_command(moderator, "reload"))
        caplog.clear()
        engine.on_file = None
        (corpus_dir / "harbour-lighthouse.txt").unlink()
        (corpus_dir / "ferry.txt").write_text(
            "Ferry goes electric\n\nThe harbour ferry now runs on batteries charged overnight.\n"
        )
        before = bot.serving.current
        report = await standin.wait_for_answer(await standin.invoke_command(moderator, "reload"))
        after = bot.serving.current
        sources, answer = await still_serving(standin)
    assert "Added: ferry" in report.content and "Removed: harbour-lighthouse" in report.content
    assert {a.id for a in before.articles()} == {
        "harbour-lighthouse",
        "reuters-china-un-north-korea-rights",
    }
    assert {a.id for a in after.articles()} == {"ferry", "reuters-china-un-north-korea-rights"}
    assert "Ferry goes electric" in sources and LIGHTHOUSE_TITLE not in sources
    assert LIGHTHOUSE_QUOTE not in unbolded(answer)


# --- shutting down with answers in flight -----------------------------------------------------


async def test_sigterm_lets_answers_in_flight_finish_and_turns_new_questions_away(
    standin: DiscordStandIn, corpus_dir: Path, tmp_path: Path
) -> None:
    alice = standin.world.add_member("alice")
    bob = standin.world.add_member("bob")
    async with bot_process(standin, corpus_dir, tmp_path) as bot:
        # Discord is slow to take the first reply in #general and the /ask follow-up; bob's
        # reply in #general waits behind the first one inside discord.py (one route, one queue).
        slow = standin.hold_next("POST", f"{CHANNEL_MESSAGES}|{FOLLOWUPS}", times=2)
        in_flight = [
            await standin.post_message(alice, mention(standin, QUESTION)),
            await standin.post_message(bob, mention(standin, LIGHTHOUSE_QUESTION)),
        ]
        asked = await standin.invoke_command(alice, "ask", {"question": LIGHTHOUSE_QUESTION})
        await slow.wait_until_taken(timeout=15)
        bot.process.terminate()
        await bot.wait_for_log(r"stopping: finishing 3 question\(s\) in flight")
        too_late = await standin.post_message(bob, mention(standin, QUESTION), channel="ask")
        turned_away = await standin.invoke_command(bob, "ask", {"question": QUESTION})
        refusals = [await standin.wait_for_answer(q) for q in (too_late, turned_away)]
        slow.open()
        answers = [await standin.wait_for_answer(q) for q in (*in_flight, asked)]
        code = await bot.exit_code()
    assert code == 0, bot.log
    assert SEED_QUOTE in unbolded(answers[0].content)
    assert all(LIGHTHOUSE_QUOTE in unbolded(a.content) for a in answers[1:])
    restarting = render("discord_restarting")
    assert [r.content for r in refusals] == [restarting, restarting] and refusals[1].ephemeral
    assert len(standin.messages) == 5  # one reply each, none twice
    assert "stopping with" not in bot.log and "Traceback" not in bot.log


async def test_a_second_sigterm_stops_without_waiting_any_longer(
    standin: DiscordStandIn, corpus_dir: Path, tmp_path: Path
) -> None:
    alice = standin.world.add_member("alice")
    async with bot_process(standin, corpus_dir, tmp_path) as bot:
        stuck = standin.hold_next("POST", CHANNEL_MESSAGES)
        await standin.post_message(alice, mention(standin, QUESTION))
        await stuck.wait_until_taken(timeout=15)
        bot.process.terminate()
        await bot.wait_for_log(r"stopping: finishing 1 question\(s\) in flight")
        bot.process.terminate()
        code = await bot.exit_code()
    assert code == 0, bot.log
    assert "stopping with 1 question(s) still unanswered" in bot.log
    assert "Traceback" not in bot.log


async def test_waiting_for_answers_gives_up_after_its_time_or_when_hurried() -> None:
    in_flight = InFlight()
    never = asyncio.Event()

    async def stuck() -> None:
        async with in_flight.track():
            await never.wait()

    task = asyncio.create_task(stuck())
    await asyncio.sleep(0)
    assert await in_flight.wait_idle(0.05) == 1
    hurry = asyncio.Event()
    hurry.set()
    assert await in_flight.wait_idle(60, give_up=hurry) == 1
    never.set()
    await task
    assert await in_flight.wait_idle(60) == 0
