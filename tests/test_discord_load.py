"""A crowd at once, with reloads in the middle: every question is accounted for exactly once.

Only the accounting is asserted; bench/load.py runs the same crowd over ten seconds and
reports how long answers took and how long the event loop stalled.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from discord_harness import (
    LIGHTHOUSE,
    LOAD_FOLLOW_UPS,
    LOAD_QUESTIONS,
    fresh_corpus,
    render,
    reply_kind,
    serving,
    settings_for,
)
from discord_standin import DiscordStandIn
from discord_standin.crowd import Crowd

# Fail a test in which the bot logged an error it did not expect.
pytestmark = pytest.mark.usefixtures("no_unexpected_errors")


# Enough for every person to ask several times, follow up and vote while both reloads run.
QUESTIONS_ASKED = 300


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    """The shipped seed article, in a folder free to change."""
    return fresh_corpus(tmp_path, lighthouse=False)


async def test_fifty_people_asking_following_up_and_voting_through_two_reloads_lose_nothing(
    standin: DiscordStandIn, corpus_dir: Path
) -> None:
    crowd = Crowd(standin, 50, seed=1)
    lighthouse = corpus_dir / "harbour-lighthouse.txt"

    def change_corpus(reload_number: int) -> None:
        if reload_number == 0:
            lighthouse.write_text(LIGHTHOUSE, encoding="utf-8")
        else:
            lighthouse.unlink()

    # A short cooldown, so that some of the crowd asks too soon and is told so.
    settings = settings_for(standin, corpus_dir, question_cooldown_seconds=0.1)
    async with serving(standin, settings):
        await crowd.storm(
            LOAD_QUESTIONS,
            QUESTIONS_ASKED,
            seconds=2.0,
            reloads=2,
            before_reload=change_corpus,
            follow_ups=LOAD_FOLLOW_UPS,
            votes=True,
        )
        reckoning = await crowd.reckon(timeout=60)
    assert len(reckoning.replies) == QUESTIONS_ASKED + 2
    assert not reckoning.lost, f"{len(reckoning.lost)} lost, e.g. {reckoning.lost[:3]}"
    assert not reckoning.repeated, f"{len(reckoning.repeated)} answered twice"
    kinds = reckoning.count(reply_kind)
    assert kinds["reloaded"] == 2 and kinds["failure"] == 0
    assert kinds["answer"] + kinds["cooldown"] == QUESTIONS_ASKED
    ways = Counter(asked.way for asked in reckoning.replies)
    # Every fourth is a follow-up and every fourth a vote, however slowly the answers come.
    assert ways["follow-up"] == ways["vote"] == QUESTIONS_ASKED // 4
    thanks = {
        render("discord_vote_thanks", helpful=helpful, outcome=outcome)
        for helpful in (True, False)
        for outcome in ("new", "changed", "same")
    }
    votes = [got[0] for asked, got in reckoning.replies.items() if asked.way == "vote"]
    assert all(reply.ephemeral and reply.content in thanks for reply in votes)
