"""Sharing the interpreter with the event loop while a reload runs in a worker thread.

A thread waiting for the GIL asks the holder to let go after 5 ms, but the request is dropped
whenever the holder releases the GIL for a moment on its own (file reads, hashing, numpy calls,
the sentence splitter) and takes it straight back: a loop of such calls kept the event loop
waiting for a hundred milliseconds and more. A real yield, `time.sleep(0)`, does hand it over.
It costs about 75 microseconds (the kernel's timer slack), so it is made once a millisecond
rather than at every step: a few percent on a reload.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

# Longest stretch between yields. The event loop, and a question being answered in the
# adapter's answering thread, let go of the GIL in their own calls (numpy, the reader model)
# and may wait this long each time to get it back, so it is kept short.
YIELD_EVERY = 0.001

T = TypeVar("T")


def paced(items: Iterable[T], every: float = YIELD_EVERY) -> Iterator[T]:
    """The items, in order, with a yield of the GIL whenever `every` seconds have passed."""
    last = time.perf_counter()
    for item in items:
        yield item
        now = time.perf_counter()
        if now - last >= every:
            time.sleep(0)
            last = time.perf_counter()
