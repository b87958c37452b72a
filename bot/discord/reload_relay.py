"""A /reload in any process of the bot reaches every process, through the records database.

The process that got the /reload loads the corpus again first, then records the request with
its own outcome and waits a bounded time for the outcomes of the processes alive at that
moment. Every process says it runs, and looks for reloads asked elsewhere that it has yet to
carry out, every few seconds; it carries them out as its own reloads are (a failure keeps its
old index serving) and records its outcome. A process that starts later reads the corpus as it
is then, and carries out no reload asked before that. The database is the one meeting point
for processes on one machine (SQLite) and on several (PostgreSQL); when it cannot be reached
the local reload and the answers go on, and the reply says the others could not be told.

The database is only ever used from this relay's own worker thread, never on the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from bot.discord.serving import ReloadTimedOut, ServingEngine
from bot.engine import CorpusError, EngineError, ReloadReport
from bot.engine.templates import Trusted
from bot.records import BotProcess, ReloadOutcome, ReloadRequest, Storage, StorageError
from bot.shards import describe_shards

log = logging.getLogger(__name__)

T = TypeVar("T")

# While the process that got a /reload waits, it reads the others' outcomes this often.
OUTCOMES_READ_SECONDS = 0.25
# How long telling the others may take before the reply says they could not be told: a server
# that is down refuses a connection within 5 s (records/database.py).
TELL_TIMEOUT_SECONDS = 10.0
# A process counts as alive for this many of its polls after it last said so, and a few seconds
# more: a poll late (a busy machine, a slow write, a clock a little off) is not yet silence.
POLLS_ALIVE = 3
ALIVE_GRACE_SECONDS = 5.0
# How long a stopping process waits for the database to forget it.
RETIRE_TIMEOUT_SECONDS = 5.0
# The reason a process gives for a failed reload is a line or two; a corpus error can list many
# files, which the log of that process keeps.
MAX_REASON_CHARS = 1000


def this_process(shard_ids: list[int] | tuple[int, ...] | None, shard_count: int) -> BotProcess:
    """This process as the others know it: its host, its pid and the shards it holds."""
    host, pid = socket.gethostname(), os.getpid()
    shards = describe_shards(shard_ids, shard_count)
    return BotProcess(f"{host} pid {pid} ({shards})", host, pid, shards, time.time())


def failure_context(error: BaseException) -> dict[str, Any]:
    """What discord_reload_failed.j2 and discord_reload_reason.j2 need to say why a reload
    failed."""
    if isinstance(error, ReloadTimedOut):
        return {"error": None, "timed_out": error.seconds}
    if isinstance(error, CorpusError):
        # The engine words a corpus problem with its own template, escaped already.
        return {"error": Trusted(str(error))}
    if isinstance(error, EngineError):
        return {"error": str(error)}
    return {"error": None}  # a bug: the moderator hears the reload failed, the log says why


@dataclass(frozen=True)
class ProcessFailure:
    """A process that could not load the new corpus, and why, as a moderator reads it."""

    process: str
    reason: Trusted


@dataclass(frozen=True)
class ProcessArticles:
    """A process that took the new corpus, and how many articles it serves now."""

    process: str
    articles: int | None


@dataclass(frozen=True)
class AskedReload:
    """A reload this process did and told the others of: its request, its outcome here, and
    the other processes alive when it was told, whose outcomes are waited for."""

    request: ReloadRequest
    mine: ReloadOutcome
    others: frozenset[str]


@dataclass(frozen=True)
class ReloadSpread:
    """How a reload asked in this process reached the bot's other processes."""

    told: bool  # False: the database could not be reached, and no other process was told
    processes: int = 1  # this one, and every other one waited for or that answered
    took: int = 1  # of them, how many serve the new corpus (this one among them)
    failed: tuple[ProcessFailure, ...] = ()
    silent: tuple[str, ...] = ()  # waited for, with no outcome within `waited` seconds
    differing: tuple[ProcessArticles, ...] = ()  # took other articles than this process
    waited: float = 0.0


class ReloadRelay:
    """Carries reloads between the bot's processes through the records database: tells the
    others of a reload asked here (`spread`), and carries out theirs (from `start` to `close`).
    """

    def __init__(
        self,
        storage: Storage,
        serving: ServingEngine,
        process: BotProcess,
        *,
        poll_seconds: float,
        wait_seconds: float,
    ) -> None:
        """`storage` is the relay's own (only its worker thread uses it); `poll_seconds` how
        often this process says it runs and looks for reloads asked elsewhere; `wait_seconds`
        how long `spread` waits for the other processes' outcomes."""
        if not poll_seconds > 0:
            raise ValueError(f"poll_seconds must be positive, got {poll_seconds!r}")
        if not wait_seconds >= 0:
            raise ValueError(f"wait_seconds must be zero or more, got {wait_seconds!r}")
        self.storage = storage
        self.serving = serving
        self.process = process
        self.poll_seconds = poll_seconds
        self.wait_seconds = wait_seconds
        # Reloads asked before the corpus began to be read are in it already.
        self._since = serving.current.reading_started_at
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reloads")
        self._watching: asyncio.Task[None] | None = None
        self._carrying: asyncio.Task[None] | None = None
        # Reloads carried out here, whether or not their outcome is recorded yet: never twice.
        self._carried: set[int] = set()
        # Outcomes the database did not take yet; only the worker thread touches them.
        self._unrecorded: list[tuple[list[int], ReloadOutcome]] = []
        self._reachable: bool | None = None  # unknown until the first look

    async def _run(self, work: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._worker, work)

    def start(self) -> None:
        """Say this process runs, and carry out the reloads asked elsewhere, until `close`."""
        self._watching = asyncio.create_task(self._watch(), name="reload-relay")

    async def _watch(self) -> None:
        while True:
            try:
                await self.look()
            except Exception:  # a bug: logged, and the next look may do better
                log.exception("reloads: looking for reloads asked elsewhere failed")
            await asyncio.sleep(self.poll_seconds)

    async def look(self) -> None:
        """Once: say this process runs, record the outcomes not recorded yet, and start
        carrying out the reloads asked elsewhere (unless one is being carried out)."""
        try:
            waiting = await self._run(self._keep_alive_and_find_reloads)
        except StorageError as error:
            self._database_failed(error)
            return
        self._database_works()
        waiting = [request for request in waiting if request.id not in self._carried]
        if waiting and (self._carrying is None or self._carrying.done()):
            self._carried.update(request.id for request in waiting)
            self._carrying = asyncio.create_task(self._carry_out(waiting), name="relayed-reload")

    @property
    def carrying(self) -> asyncio.Task[None] | None:
        """The reload asked elsewhere being carried out now (or last), if any."""
        return self._carrying

    def _keep_alive_and_find_reloads(self) -> list[ReloadRequest]:
        """On the worker."""
        alive_for = POLLS_ALIVE * self.poll_seconds + ALIVE_GRACE_SECONDS
        self.storage.keep_alive(self.process, alive_for=alive_for)
        self._record_unrecorded()
        return self.storage.reloads_to_carry_out(self.process.name, self._since)

    async def _carry_out(self, requests: list[ReloadRequest]) -> None:
        """Reload as asked elsewhere (several requests waiting are one reload), and record the
        outcome; on failure the current index keeps serving, as for a /reload here."""
        asked_in = ", ".join(sorted({request.asked_in for request in requests}))
        log.info("reloads: loading the corpus again, as asked in %s", asked_in)
        try:
            report = await self.serving.reload()
        except Exception as error:
            if isinstance(error, EngineError | ReloadTimedOut):
                log.warning("reloads: the reload asked in %s failed here: %s", asked_in, error)
            else:
                log.error("reloads: the reload asked in %s failed here", asked_in, exc_info=error)
            reason = self.serving.current.render("discord_reload_reason", **failure_context(error))
            outcome = ReloadOutcome(False, error=reason[:MAX_REASON_CHARS])
        else:
            outcome = self._took(report)
        ids = [request.id for request in requests]
        with contextlib.suppress(RuntimeError):  # closed: the bot is stopping
            await self._run(lambda: self._record(ids, outcome))

    def _took(self, report: ReloadReport) -> ReloadOutcome:
        return ReloadOutcome(True, report.articles, self.serving.current.corpus_version)

    def _record(self, ids: list[int], outcome: ReloadOutcome) -> None:
        """On the worker: keep the outcome, and whatever waited before it."""
        self._unrecorded.append((ids, outcome))
        try:
            self._record_unrecorded()
        except StorageError as error:
            log.warning(
                "reloads: this process's outcome is not recorded yet (%s); trying again in %g s",
                error.problem,
                self.poll_seconds,
            )

    def _record_unrecorded(self) -> None:
        while self._unrecorded:
            ids, outcome = self._unrecorded[0]
            self.storage.record_reload_outcome(self.process.name, ids, outcome)
            self._unrecorded.pop(0)

    def _database_failed(self, error: StorageError) -> None:
        if self._reachable is not False:
            log.warning(
                "reloads: the records database cannot be used (%s): %s; a /reload in another "
                "process does not reach this one until it can",
                error.problem,
                error.detail,
            )
        self._reachable = False

    def _database_works(self) -> None:
        if self._reachable is None:
            log.info(
                "reloads: this process is %s; a /reload in any process of the bot reaches it",
                self.process.name,
            )
        elif self._reachable is False:
            log.info("reloads: the records database can be used again")
        self._reachable = True

    async def spread(self, report: ReloadReport, asker_id: int | None) -> ReloadSpread:
        """Tell the other processes to reload as this one just did (`report`), and wait up to
        `wait_seconds` for the outcomes of those alive."""
        asked = await self.tell_others(report, asker_id)
        if asked is None:
            return ReloadSpread(told=False)
        return await self.hear_back(asked)

    async def tell_others(self, report: ReloadReport, asker_id: int | None) -> AskedReload | None:
        """Record a reload this process just did (`report`) for the others to carry out, with
        which of them are alive; None when the database cannot be reached in time."""
        mine = self._took(report)

        def ask() -> AskedReload:
            request = self.storage.ask_reload(self.process.name, asker_id, mine)
            alive = {process.name for process in self.storage.live_processes()}
            return AskedReload(request, mine, frozenset(alive - {self.process.name}))

        try:
            async with asyncio.timeout(TELL_TIMEOUT_SECONDS):
                return await self._run(ask)
        except (StorageError, TimeoutError, RuntimeError) as error:
            log.warning("reloads: the other processes could not be told to reload: %s", error)
            return None

    async def hear_back(self, asked: AskedReload) -> ReloadSpread:
        """The other processes' outcomes of a reload told them, once every process alive when
        it was told has one, or `wait_seconds` after this call."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.wait_seconds
        outcomes: dict[str, ReloadOutcome] = {}
        while True:
            try:
                results = await self._run(lambda: self.storage.reload_results(asked.request.id))
                outcomes = {r.process: r.outcome for r in results if r.process != self.process.name}
            except StorageError as error:  # read again while there is time
                log.warning("reloads: the other processes' outcomes cannot be read: %s", error)
            left = deadline - loop.time()
            if asked.others <= outcomes.keys() or left <= 0:
                break
            await asyncio.sleep(min(OUTCOMES_READ_SECONDS, left))
        return self._spread(asked, outcomes)

    def _spread(self, asked: AskedReload, outcomes: dict[str, ReloadOutcome]) -> ReloadSpread:
        failed = tuple(
            ProcessFailure(name, Trusted((outcome.error or "").strip().split("\n")[0]))
            for name, outcome in sorted(outcomes.items())
            if not outcome.succeeded
        )
        differing = tuple(
            ProcessArticles(name, outcome.articles)
            for name, outcome in sorted(outcomes.items())
            if outcome.succeeded and outcome.corpus_version != asked.mine.corpus_version
        )
        silent = tuple(sorted(asked.others - outcomes.keys()))
        for name in silent:
            log.warning("reloads: %s did not answer within %g s", name, self.wait_seconds)
        for failure in failed:
            log.warning("reloads: %s could not reload: %s", failure.process, failure.reason)
        return ReloadSpread(
            told=True,
            processes=1 + len(outcomes) + len(silent),
            took=1 + sum(outcome.succeeded for outcome in outcomes.values()),
            failed=failed,
            silent=silent,
            differing=differing,
            waited=self.wait_seconds,
        )

    async def close(self) -> None:
        """Stop carrying out reloads, and tell the others this process has stopped (within a
        few seconds, or not at all: then it falls silent)."""
        for task in (self._watching, self._carrying):
            if task is not None:
                task.cancel()

        def retire() -> None:
            try:
                self.storage.retire_process(self.process.name)
            except StorageError as error:
                log.info("reloads: the database could not be told this process stops: %s", error)
            self.storage.close()

        with contextlib.suppress(TimeoutError, RuntimeError):
            await asyncio.wait_for(self._run(retire), RETIRE_TIMEOUT_SECONDS)
        self._worker.shutdown(wait=False)
