"""An append-only record that tests can wait on, for requests and gateway frames alike."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class Record(Generic[T]):
    """Items in arrival order; `wait_for` returns the first one that matches, past or future."""

    def __init__(self) -> None:
        self._items: list[T] = []
        self._changed = asyncio.Condition()

    def __iter__(self) -> Iterator[T]:
        return iter(list(self._items))

    def __len__(self) -> int:
        return len(self._items)

    async def append(self, item: T) -> None:
        """Add `item` and wake everyone waiting."""
        async with self._changed:
            self._items.append(item)
            self._changed.notify_all()

    def matching(self, predicate: Callable[[T], bool]) -> list[T]:
        """Every item so far for which `predicate` holds."""
        return [item for item in self._items if predicate(item)]

    async def wait_for(
        self,
        predicate: Callable[[T], bool],
        *,
        timeout: float = 5.0,
        after: int = 0,
    ) -> T:
        """The first item at index >= `after` matching `predicate`; a timeout lists what came."""

        def first_match() -> T | None:
            return next((item for item in self._items[after:] if predicate(item)), None)

        try:
            async with asyncio.timeout(timeout):
                async with self._changed:
                    await self._changed.wait_for(lambda: first_match() is not None)
        except TimeoutError:
            seen = "\n  ".join(repr(item) for item in self._items[after:]) or "(nothing)"
            raise TimeoutError(f"nothing matched within {timeout}s; seen:\n  {seen}") from None
        found = first_match()
        assert found is not None
        return found

    async def wait_until(
        self, condition: Callable[[list[T]], bool], *, timeout: float = 5.0
    ) -> None:
        """Until `condition` holds for the items so far (it sees them all, in order)."""
        try:
            async with asyncio.timeout(timeout):
                async with self._changed:
                    await self._changed.wait_for(lambda: condition(self._items))
        except TimeoutError:
            raise TimeoutError(f"not reached within {timeout}s, {len(self)} items") from None
