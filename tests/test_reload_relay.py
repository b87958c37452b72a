"""A reload passed between processes of the bot through the records database, without Discord:
two real serving engines, each with its own relay and its own corpus folder (as on two
machines), over one SQLite file. The other process carries a reload out once, keeps its old
index when it fails, and is named in the reply; a process started later does not reload again;
without the database the reload stays local and the reply says so."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from pathlib import Path

import pytest
from corpora import PROMPTS
from discord_harness import LIGHTHOUSE, LIGHTHOUSE_QUESTION, LIGHTHOUSE_QUOTE, fresh_corpus

from bot.discord.reload_relay import ProcessFailure, ReloadRelay, ReloadSpread
from bot.discord.serving import ServingEngine
from bot.engine import Engine, ReloadReport
from bot.engine.markup import escape_for_discord
from bot.engine.templates import Trusted
from bot.records import BotProcess, Storage

MODERATOR_ID = 987_654_321_012_345_678
# Generous: each wait ends as soon as the outcomes it waits for are in.
WAIT_SECONDS = 30.0


def process(name: str) -> BotProcess:
    return BotProcess(f"{name} pid 1 (shards 0-1 of 2)", name, 1, "shards 0-1 of 2", 0.0)


@pytest.fixture
async def relay_on(tmp_path: Path) -> AsyncIterator[Callable[..., ReloadRelay]]:
    """Makes a process: a serving engine on its own copy of the corpus, and its relay over the
    records database in tmp_path (or `storage`); all closed after the test."""
    async with AsyncExitStack() as stack:

        def make(
            name: str, *, storage: Storage | None = None, wait_seconds: float = WAIT_SECONDS
        ) -> ReloadRelay:
            corpus = fresh_corpus(tmp_path / name, lighthouse=False)
            serving = ServingEngine(Engine.load(corpus, PROMPTS))
            stack.callback(serving.close)
            relay = ReloadRelay(
                storage or Storage.for_data_dir(tmp_path / "data"),
                serving,
                process(name),
                # The test makes each process look when it should: its word that it runs
                # lasts a few polls, longer than any test.
                poll_seconds=WAIT_SECONDS,
                wait_seconds=wait_seconds,
            )
            stack.push_async_callback(relay.close)
            return relay

        yield make


def corpus_of(relay: ReloadRelay) -> Path:
    return relay.serving.current.corpus_dir


def answer_text(relay: ReloadRelay, question: str) -> str:
    return relay.serving.current.ask(question).text.replace("**", "")


async def reload_asked_in(asking: ReloadRelay, *others: ReloadRelay) -> ReloadSpread:
    """A moderator's /reload in `asking`, the `others` looking for reloads once each before
    `asking` hears back from them."""
    report = await asking.serving.reload()
    asked = await asking.tell_others(report, MODERATOR_ID)
    assert asked is not None
    for other in others:
        await other.look()
        if other.carrying is not None:
            await other.carrying
    return await asking.hear_back(asked)


def reply(relay: ReloadRelay, report: ReloadReport, spread: ReloadSpread) -> str:
    return relay.serving.current.render(
        "discord_reloaded", report=Trusted(report.text), spread=spread
    )


async def test_a_reload_asked_in_one_process_is_carried_out_by_the_other_and_counted(
    relay_on: Callable[..., ReloadRelay],
) -> None:
    asking, other = relay_on("web1"), relay_on("web2")
    await other.look()  # it says it runs: the reload waits for it
    for relay in (asking, other):
        (corpus_of(relay) / "harbour-lighthouse.txt").write_text(LIGHTHOUSE, encoding="utf-8")

    spread = await reload_asked_in(asking, other)
    await other.look()  # nothing left to carry out: it reloads once

    assert spread == ReloadSpread(told=True, processes=2, took=2, waited=WAIT_SECONDS)
    assert LIGHTHOUSE_QUOTE in answer_text(other, LIGHTHOUSE_QUESTION)
    assert other.carrying is not None and other.carrying.done()
    report = ReloadReport((), (), (), 2, 20, 0.1, text="Reloaded the corpus.")
    assert reply(asking, report, spread).endswith(
        "\n\n2 of 2 processes of the bot took the new corpus."
    )
    # A bot of one process hears the report alone, as before there were several.
    assert reply(asking, report, ReloadSpread(told=True)) == "Reloaded the corpus."


async def test_a_process_that_cannot_reload_keeps_its_index_and_is_named_with_the_silent_one(
    relay_on: Callable[..., ReloadRelay], tmp_path: Path
) -> None:
    asking, failing = relay_on("web1", wait_seconds=0.5), relay_on("web2")
    silent = process("web3")  # it said it runs, and answers nothing
    Storage.for_data_dir(tmp_path / "data").keep_alive(silent, alive_for=WAIT_SECONDS)
    await failing.look()
    (corpus_of(asking) / "harbour-lighthouse.txt").write_text(LIGHTHOUSE, encoding="utf-8")
    gone = corpus_of(failing)
    for path in gone.iterdir():
        path.unlink()
    gone.rmdir()

    spread = await reload_asked_in(asking, failing)

    reason = escape_for_discord(
        f"The corpus folder {gone} does not exist. Create it and add articles."
    )
    assert spread.failed == (ProcessFailure(failing.process.name, Trusted(reason)),)
    assert spread.silent == (silent.name,)
    assert (spread.processes, spread.took) == (3, 1)
    assert LIGHTHOUSE_QUOTE not in answer_text(failing, LIGHTHOUSE_QUESTION)
    assert "Albania and Japan" in answer_text(failing, "Which countries requested the meeting?")
    text = reply(asking, ReloadReport((), (), (), 2, 20, 0.1, text="Reloaded."), spread)
    assert text.splitlines()[2:] == [
        "1 of 3 processes of the bot took the new corpus.",
        "These could not load it, and keep answering from the articles they had:",
        f"- web2 pid 1 (shards 0-1 of 2): {reason}",
        "These did not answer within 0.5 seconds (each reloads as soon as it can; its log says "
        "how that went):",
        "- web3 pid 1 (shards 0-1 of 2)",
    ]


async def test_a_process_started_after_a_reload_does_not_carry_it_out_again(
    relay_on: Callable[..., ReloadRelay],
) -> None:
    asking = relay_on("web1")
    spread = await reload_asked_in(asking)
    later = relay_on("web2")  # it read the corpus as the reload left it

    await later.look()

    assert spread.told and later.carrying is None


async def test_without_the_database_the_reload_is_local_and_the_reply_says_others_were_not_told(
    relay_on: Callable[..., ReloadRelay], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.discord.reload_relay")
    (tmp_path / "not-a-folder").write_text("a file where the data folder should be")
    unusable = Storage.for_data_dir(tmp_path / "not-a-folder")
    asking = relay_on("web1", storage=unusable)
    (corpus_of(asking) / "harbour-lighthouse.txt").write_text(LIGHTHOUSE, encoding="utf-8")

    await asking.look()
    await asking.look()  # said once in the log, not at every look
    spread = await asking.spread(await asking.serving.reload(), MODERATOR_ID)

    assert spread == ReloadSpread(told=False)
    assert LIGHTHOUSE_QUOTE in answer_text(asking, LIGHTHOUSE_QUESTION)
    text = reply(asking, ReloadReport((), (), (), 2, 20, 0.1, text="Reloaded."), spread)
    assert "The records database could not be reached, so the bot's other processes" in text
    said = [r.getMessage() for r in caplog.records]
    assert sum("the records database cannot be used" in m for m in said) == 1
    assert any("could not be told to reload" in m for m in said)
