"""Records the storage tests keep: a reply with a citation, people's ids, a clock set by hand."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from uuid import uuid4

from bot.records import CitedPassage, ReplyRecord

DAY = 86_400.0
NOW = 1_750_000_000.0
ASKER_ID = 987_654_321_012_345_678  # a Discord snowflake, unlike any other number stored here
VOTER_ID = 876_543_210_987_654_321
OTHER_ID = 765_432_109_876_543_210

PASSAGE = CitedPassage(
    article_id="seed-raw",
    paragraph=3,
    start=120,
    end=181,
    quote="China opposes the meeting, saying it would raise tensions.",
)
BASE_REPLY = ReplyRecord(
    id="0" * 32,
    question="Why does China oppose the meeting?",
    answered=True,
    citations=(PASSAGE,),
    corpus_version="corpus-1",
    guild_id=111_111_111_111_111_111,
    channel_id=222_222_222_222_222_222,
    asker=None,
    at=NOW,
)


def make_reply(**changes: Any) -> ReplyRecord:
    """A reply with a fresh id; keywords replace any field."""
    return replace(BASE_REPLY, **{"id": uuid4().hex, **changes})


class Clock:
    """A clock the test sets by hand."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now
