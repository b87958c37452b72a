"""Per-person cooldowns, so one person cannot keep the bot busy for everyone else."""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable


class Cooldown:
    """Lets each key act at most once per `seconds`."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        if seconds < 0:
            raise ValueError(f"a cooldown cannot be negative, got {seconds!r}")
        self.seconds = seconds
        self._clock = clock
        self._ready_at: dict[Hashable, float] = {}

    def try_start(self, key: Hashable) -> float:
        """Start `key`'s cooldown and return 0.0, or return the seconds it must still wait."""
        now = self._clock()
        wait = self._ready_at.get(key, now) - now
        if wait > 0:
            return wait
        self._forget_expired(now)
        self._ready_at[key] = now + self.seconds
        return 0.0

    def _forget_expired(self, now: float) -> None:
        # Keeps memory bounded by the people active in the last `seconds`, not all who ever asked.
        if len(self._ready_at) >= 1024:
            self._ready_at = {k: t for k, t in self._ready_at.items() if t > now}
