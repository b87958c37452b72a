"""The engine the bot answers from, replaced whole when a reload succeeds."""

from __future__ import annotations

import asyncio
import logging

from bot.engine import Engine, ReloadReport

log = logging.getLogger(__name__)


class ServingEngine:
    """Holds the current engine; `reload` builds the next one without stopping the answers.

    Questions read `current` once and keep that engine for the whole answer, so a reload that
    finishes meanwhile never mixes two corpora in one reply.
    """

    def __init__(self, engine: Engine) -> None:
        self.current = engine
        self._reloading = asyncio.Lock()

    async def reload(self) -> ReloadReport:
        """Load the corpus again in a worker thread and switch to it; one reload at a time.

        Raises the engine's error (CorpusError, TemplateProblem) when the new corpus is unusable;
        the current engine then stays in place.
        """
        async with self._reloading:
            # Loading is blocking and CPU-bound: in a thread, the event loop keeps answering.
            fresh, report = await asyncio.to_thread(self.current.reloaded)
            self.current = fresh
            log.info(
                "reloaded: %d articles, %d sentences in %.2f s",
                report.articles,
                report.sentences,
                report.seconds,
            )
            return report
