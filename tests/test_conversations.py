"""Conversation memory for follow-ups: short-lived and bounded whatever the traffic."""

from __future__ import annotations

import pytest

from bot.discord.conversations import Conversations
from bot.engine import FollowUp


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_exchange_is_recalled_by_the_id_it_was_kept_under() -> None:
    conversations = Conversations()
    exchange = FollowUp("What meeting does China oppose?")
    conversations.remember(42, exchange)
    assert conversations.recall(42) == exchange
    assert conversations.recall(43) is None


def test_an_exchange_expires_after_its_time() -> None:
    clock = Clock()
    conversations = Conversations(seconds=900, clock=clock)
    conversations.remember(1, FollowUp("first"))
    clock.now += 899
    assert conversations.recall(1) == FollowUp("first")
    clock.now += 2
    assert conversations.recall(1) is None
    assert len(conversations) == 0


def test_memory_stays_within_its_capacity_dropping_the_oldest() -> None:
    conversations = Conversations(capacity=100)
    for key in range(1000):
        conversations.remember(key, FollowUp(f"question {key}"))
    assert len(conversations) == 100
    assert conversations.recall(899) is None
    assert conversations.recall(999) == FollowUp("question 999")


def test_remembering_again_replaces_and_refreshes_the_exchange() -> None:
    clock = Clock()
    conversations = Conversations(seconds=10, capacity=2, clock=clock)
    conversations.remember(1, FollowUp("old"))
    conversations.remember(2, FollowUp("other"))
    clock.now += 5
    conversations.remember(1, FollowUp("new"))
    conversations.remember(3, FollowUp("third"))  # drops 2, the least recently kept
    assert conversations.recall(2) is None
    clock.now += 6
    assert conversations.recall(1) == FollowUp("new")


@pytest.mark.parametrize(("seconds", "capacity"), [(0, 10), (-1, 10), (10, 0)])
def test_nonsense_limits_are_refused(seconds: float, capacity: int) -> None:
    with pytest.raises(ValueError):
        Conversations(seconds=seconds, capacity=capacity)
