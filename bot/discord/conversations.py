"""Follow-ups: the last exchange of each conversation, kept briefly and in bounded memory."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from bot.engine import FollowUp

# A follow-up comes within minutes; after this long a reply to an old answer is a new question.
CONVERSATION_SECONDS = 15 * 60.0
# The most conversations remembered at once, whatever the traffic: the oldest are forgotten.
MAX_CONVERSATIONS = 10_000


class Conversations:
    """The exchange a follow-up follows, by the id it is reached from: the bot's answer
    message (a reply to it) or the thread started from that answer (a message in it)."""

    def __init__(
        self,
        seconds: float = CONVERSATION_SECONDS,
        capacity: int = MAX_CONVERSATIONS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if seconds <= 0:
            raise ValueError(f"conversations must last some time, got {seconds!r} seconds")
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity!r}")
        self.seconds = seconds
        self.capacity = capacity
        self._clock = clock
        self._exchanges: OrderedDict[int, tuple[float, FollowUp]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._exchanges)

    def remember(self, key: int, exchange: FollowUp) -> None:
        """Keep `exchange` as what a follow-up reached through `key` follows."""
        self._exchanges[key] = (self._clock() + self.seconds, exchange)
        self._exchanges.move_to_end(key)
        while len(self._exchanges) > self.capacity:
            self._exchanges.popitem(last=False)

    def recall(self, key: int) -> FollowUp | None:
        """The exchange reached through `key`, unless it expired or was never kept."""
        found = self._exchanges.get(key)
        if found is None:
            return None
        expires, exchange = found
        if expires <= self._clock():
            del self._exchanges[key]
            return None
        return exchange
