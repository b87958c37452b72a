"""Stopping without dropping questions: finish the ones being answered, turn new ones away."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

# How long a shutdown waits for answers in flight before closing anyway. Answers take
# milliseconds; this is for a slow Discord, and stays within the grace period service managers
# give before they kill (docker stop: 10 s, systemd: 90 s).
DRAIN_SECONDS = 8.0


class InFlight:
    """Counts the questions and commands being handled, so a shutdown can wait for them."""

    def __init__(self) -> None:
        self._count = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self.accepting = True

    @property
    def count(self) -> int:
        """How many are being handled right now."""
        return self._count

    @asynccontextmanager
    async def track(self) -> AsyncIterator[None]:
        """Count the handling of one question or command, however it ends."""
        self._count += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._count -= 1
            if self._count == 0:
                self._idle.set()

    def stop_accepting(self) -> None:
        """From now on new questions get a "restarting" reply instead of an answer."""
        self.accepting = False

    async def wait_idle(self, timeout: float, give_up: asyncio.Event | None = None) -> int:
        """Wait until nothing is in flight, `timeout` passes or `give_up` is set; the number
        still in flight (0 when all finished)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self._count and not (give_up is not None and give_up.is_set()):
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            waiters = {asyncio.ensure_future(self._idle.wait())}
            if give_up is not None:
                waiters.add(asyncio.ensure_future(give_up.wait()))
            try:
                await asyncio.wait(waiters, timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in waiters:
                    waiter.cancel()
        return self._count
