"""The engine the bot answers from, replaced whole when a reload succeeds."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import threading
from collections.abc import Callable
from typing import TypeVar

from bot.engine import Engine, ReloadReport

log = logging.getLogger(__name__)

T = TypeVar("T")

# A reload reads a few thousand small files in a second or two; one still going after this long
# is stuck on a file that never answers (a named pipe, a network drive that went away).
RELOAD_TIMEOUT_SECONDS = 120.0
# Making one article's vectors takes well under a second; closing waits at most this long.
CLOSE_TIMEOUT_SECONDS = 10.0


class ReloadTimedOut(Exception):
    """A reload did not finish within its time limit; the current engine keeps serving."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"the reload did not finish within {seconds:g} s")
        self.seconds = seconds


class ServingEngine:
    """Holds the current engine; `reload` builds the next one without stopping the answers.

    Questions read `current` once and keep that engine for the whole answer, so a reload that
    finishes meanwhile never mixes two corpora in one reply.
    """

    def __init__(self, engine: Engine, reload_timeout: float = RELOAD_TIMEOUT_SECONDS) -> None:
        if reload_timeout <= 0:
            raise ValueError(f"reload_timeout must be positive, got {reload_timeout!r}")
        self.current = engine
        self.reload_timeout = reload_timeout
        self._reloading = asyncio.Lock()
        self._closing = threading.Event()
        self._preparing: list[threading.Thread] = []
        self._prepare_vectors(engine)

    def _prepare_vectors(self, engine: Engine) -> None:
        """Make the engine's sentence vectors in a background thread while it serves, so on a
        large corpus no question waits for an article's first encoding; the thread stops when
        a reload replaces the engine (the next one goes on where it left, by content hash)."""
        thread = threading.Thread(
            target=engine.prepare_vectors,
            args=(lambda: self._closing.is_set() or self.current is not engine,),
            name="sentence-vectors",
            daemon=True,
        )
        self._preparing = [t for t in self._preparing if t.is_alive()] + [thread]
        thread.start()

    def close(self, timeout: float = CLOSE_TIMEOUT_SECONDS) -> None:
        """Stop making vectors ahead and wait for the article being encoded: ONNX Runtime must
        not be in the middle of a run when the process exits (it aborts)."""
        self._closing.set()
        for thread in self._preparing:
            thread.join(timeout)

    def _build(self) -> tuple[Engine, ReloadReport]:
        fresh, report = self.current.reloaded()
        keep_out_of_garbage_collection()
        return fresh, report

    async def reload(self) -> ReloadReport:
        """Load the corpus again in a worker thread and switch to it; one reload at a time.

        Raises the engine's error (CorpusError, TemplateProblem) when the new corpus is unusable,
        ReloadTimedOut when loading takes longer than `reload_timeout`, and whatever else went
        wrong; in every case the current engine stays in place.
        """
        async with self._reloading:
            # Loading is blocking and CPU-bound: in a thread, the event loop keeps answering.
            try:
                async with asyncio.timeout(self.reload_timeout):
                    fresh, report = await _in_own_thread(self._build)
            except TimeoutError:
                raise ReloadTimedOut(self.reload_timeout) from None
            self.current = fresh
            self._prepare_vectors(fresh)
            log.info(
                "reloaded: %d articles, %d sentences in %.2f s",
                report.articles,
                report.sentences,
                report.seconds,
            )
            return report


def keep_out_of_garbage_collection() -> None:
    """Exclude the objects alive now (a freshly built index) from future collection passes.

    A full pass holds the GIL while it walks every live object, and a loaded corpus has
    hundreds of thousands of them: at eight times the BBC News corpus, unfrozen, a one-file
    reload stalled the event loop for up to 311 ms; frozen (and with the reload building few
    objects of its own), 19-25 ms (bench/scale.py). Index objects hold no reference cycles, so
    reference counting still frees them when a reload replaces them.
    """
    gc.freeze()


def _in_own_thread(function: Callable[[], T]) -> asyncio.Future[T]:
    """Run `function` in a daemon thread of its own.

    Unlike asyncio.to_thread, a thread stuck in a read can be abandoned: it holds no executor
    slot, and the process can still exit while it waits.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(result: T | None, error: Exception | None) -> None:
        if future.done():  # abandoned after a timeout
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)  # type: ignore[arg-type]

    def work() -> None:
        try:
            outcome: tuple[T | None, Exception | None] = (function(), None)
        except Exception as error:
            outcome = (None, error)
        with contextlib.suppress(RuntimeError):  # the loop closed while this thread was stuck
            loop.call_soon_threadsafe(settle, *outcome)

    threading.Thread(target=work, name="corpus-reload", daemon=True).start()
    return future
