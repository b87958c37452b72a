"""`articlebot cluster`: several `articlebot run` processes that split the gateway shards between
them, each started again when it dies, all stopped together.

Every process is a real `articlebot run --shard-count N --shard-ids A-B`, started with this
process's environment and working directory, so all of them read the same settings and `.env`
and keep their records in the same database. The supervisor itself loads no articles and never
connects to the gateway.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import logging
import os
import signal
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bot.config import Settings, shard_ids_text
from bot.shards import describe_shards, split_shards

log = logging.getLogger(__name__)

FIRST_BACKOFF_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 60.0
# A process that ran this long before it died had been working: its next restart is quick again.
STABLE_SECONDS = 60.0
# Deaths in a row, each sooner than STABLE_SECONDS after the start, before the cluster gives up:
# by then the cause is not passing (a corpus that does not load, a token Discord refuses).
MAX_QUICK_FAILURES = 5
# How long the processes get to stop after SIGTERM before they are killed. Each first finishes
# its answers in flight (up to 8 s) and the record writes already asked for.
STOP_GRACE_SECONDS = 30.0
# `articlebot run` exits with this when it refuses its settings: starting it again cannot help.
USAGE_ERROR = 2
# Linux's prctl option that has the kernel signal a process when its parent dies (linux/prctl.h).
PR_SET_PDEATHSIG = 1

DISCORD_API = "https://discord.com/api/v10"
# Discord asks every bot for a user agent of the form "DiscordBot (url, version)".
USER_AGENT = "DiscordBot (articlebot, 0.1.0)"


class TokenRefused(Exception):
    """Discord refused DISCORD_TOKEN: no process of the cluster could log in."""


def recommended_shard_count(settings: Settings, *, timeout: float = 10.0) -> int | None:
    """How many shards Discord recommends for the bot (GET /gateway/bot), or None when it cannot
    be asked just now; TokenRefused when it refuses the token."""
    base = (settings.api_base or DISCORD_API).rstrip("/")
    request = urllib.request.Request(
        f"{base}/gateway/bot",
        headers={"Authorization": f"Bot {settings.discord_token}", "User-Agent": USER_AGENT},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            shards = json.load(response)["shards"]
    except urllib.error.HTTPError as error:
        if error.code == 401:
            raise TokenRefused from None
        log.warning("could not ask Discord how many shards it recommends: %s", error)
        return None
    except (OSError, ValueError, KeyError, TypeError) as error:
        log.warning("could not ask Discord how many shards it recommends: %s", error)
        return None
    return shards if isinstance(shards, int) and shards >= 1 else None


def die_with_this_process() -> Callable[[], None] | None:
    """A `preexec_fn` after which the child is sent SIGTERM the moment this process dies, even
    by SIGKILL, and so stops as `articlebot run` stops; None where the kernel offers no such
    thing (only Linux does).

    The kernel watches the thread that started the child: here the event loop's, which lives as
    long as the supervisor. A supervisor that died before the child asked is noticed at once.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    supervisor = os.getpid()

    def arrange() -> None:
        # In the child, between fork and exec; kept across exec.
        prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != supervisor:
            os.kill(os.getpid(), signal.SIGTERM)

    return arrange


@dataclass
class Backoff:
    """Delays between restarts: `first`, then twice as long each time, never over `cap`."""

    first: float = FIRST_BACKOFF_SECONDS
    cap: float = MAX_BACKOFF_SECONDS
    _next: float = field(init=False, default=0.0)

    def __post_init__(self) -> None:
        self._next = self.first

    def delay(self) -> float:
        """The delay before the next restart; the one after is longer."""
        delay = self._next
        self._next = min(self._next * 2, self.cap)
        return delay

    def reset(self) -> None:
        """Back to `first`, after a process ran long enough to count as working."""
        self._next = self.first


@dataclass
class ShardProcess:
    """One `articlebot run` of the cluster: its number (from 1), its shards, and the process
    running them now."""

    number: int
    shards: range
    process: asyncio.subprocess.Process | None = None
    started: float = 0.0

    @property
    def alive(self) -> bool:
        """Whether its process is running."""
        return self.process is not None and self.process.returncode is None


def _ending(status: int) -> str:
    """How a process ended, in words."""
    if status < 0:
        return f"was killed by {signal.Signals(-status).name}"
    return f"exited with status {status}"


class Cluster:
    """Keeps one `articlebot run` per range of shards running until SIGTERM or SIGINT, then
    stops them all; `run` returns the exit status."""

    def __init__(
        self,
        shard_count: int,
        processes: int,
        run_arguments: Sequence[str] = (),
        *,
        first_delay: float = FIRST_BACKOFF_SECONDS,
        max_delay: float = MAX_BACKOFF_SECONDS,
        stable_seconds: float = STABLE_SECONDS,
        max_quick_failures: int = MAX_QUICK_FAILURES,
        stop_grace_seconds: float = STOP_GRACE_SECONDS,
    ) -> None:
        """`run_arguments` go to every `articlebot run` after its shards (`--corpus DIR`); a
        process that dies is started again `first_delay` seconds later, then twice as long each
        time up to `max_delay`."""
        self.shard_count = shard_count
        self.members = [
            ShardProcess(number, shards)
            for number, shards in enumerate(split_shards(shard_count, processes), start=1)
        ]
        self.run_arguments = list(run_arguments)
        self.first_delay, self.max_delay = first_delay, max_delay
        self.stable_seconds = stable_seconds
        self.max_quick_failures = max_quick_failures
        self.stop_grace_seconds = stop_grace_seconds
        self.status = 0
        self._stopping = asyncio.Event()
        self._signals = 0
        self._grace: asyncio.Task[None] | None = None

    def command(self, member: ShardProcess) -> list[str]:
        """The `articlebot run` that holds `member`'s shards."""
        return [
            sys.executable,
            "-m",
            "bot",
            "run",
            "--shard-count",
            str(self.shard_count),
            "--shard-ids",
            shard_ids_text(member.shards),
            *self.run_arguments,
        ]

    async def run(self) -> int:
        """Start every process, keep them running, and once told to stop, wait for them all."""
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):  # Windows: no signal handlers
                loop.add_signal_handler(signum, self._on_signal, signum)
        log.info("%d process(es) for %d shard(s)", len(self.members), self.shard_count)
        try:
            await asyncio.gather(*(self._keep_running(member) for member in self.members))
        finally:
            if self._grace is not None:
                self._grace.cancel()
            # Only after a bug here is any still running: let it stop cleanly on its own.
            self._signal_all(signal.SIGTERM)
            for signum in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError):
                    loop.remove_signal_handler(signum)
        log.info("all processes stopped")
        return self.status

    def _label(self, member: ShardProcess) -> str:
        return f"process {member.number} ({describe_shards(member.shards, self.shard_count)})"

    async def _keep_running(self, member: ShardProcess) -> None:
        loop = asyncio.get_running_loop()
        backoff = Backoff(self.first_delay, self.max_delay)
        quick_failures = 0
        while not self._stopping.is_set():
            status = await self._start_and_wait(member)
            if self._stopping.is_set():
                return
            ran = loop.time() - member.started
            if status == USAGE_ERROR:
                log.error("%s refused its settings; stopping the cluster", self._label(member))
                self._give_up(USAGE_ERROR)
                return
            ending = "could not be started" if status is None else _ending(status)
            if ran >= self.stable_seconds:
                backoff.reset()
                quick_failures = 0
            quick_failures += 1
            if quick_failures > self.max_quick_failures:
                log.error(
                    "%s %s, %d times in a row within %.0f s of starting; stopping the cluster",
                    self._label(member),
                    ending,
                    quick_failures,
                    self.stable_seconds,
                )
                self._give_up(1)
                return
            delay = backoff.delay()
            log.warning(
                "%s %s after %.1f s; starting it again in %g s",
                self._label(member),
                ending,
                ran,
                delay,
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay)

    async def _start_and_wait(self, member: ShardProcess) -> int | None:
        """Start `member`'s process and wait for it to end; its exit status (negative: the
        signal that killed it), None when it could not be started."""
        member.started = asyncio.get_running_loop().time()
        try:
            # A process group of its own: Ctrl-C in a terminal reaches the supervisor only,
            # which passes each process a single SIGTERM (a second one means "stop at once").
            # Outside the supervisor's group, it must be told when the supervisor dies.
            member.process = await asyncio.create_subprocess_exec(
                *self.command(member), process_group=0, preexec_fn=die_with_this_process()
            )
        except OSError as error:
            log.error("%s could not be started: %s", self._label(member), error)
            return None
        log.info("%s started, pid %d", self._label(member), member.process.pid)
        if self._stopping.is_set():  # told to stop while it was being started
            member.process.send_signal(signal.SIGTERM)
        status = await member.process.wait()
        if self._stopping.is_set():
            # Killed by the SIGTERM itself: it was still starting, with nothing to finish yet.
            if status in (0, -signal.SIGTERM):
                log.info("%s stopped", self._label(member))
            else:
                log.error("%s %s while stopping", self._label(member), _ending(status))
                self.status = self.status or 1
        return status

    def _on_signal(self, signum: int) -> None:
        self._signals += 1
        name = signal.Signals(signum).name
        if self._signals == 1:
            log.info("%s: stopping every process", name)
            self.stop()
            return
        log.warning("%s again: telling every process to stop at once", name)
        self._signal_all(signal.SIGTERM)

    def _give_up(self, status: int) -> None:
        self.status = status
        self.stop()

    def stop(self) -> None:
        """What SIGTERM does: send each process SIGTERM, start none again, and kill any still
        running STOP_GRACE_SECONDS later; `run` returns once all have ended."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        self._signal_all(signal.SIGTERM)
        self._grace = asyncio.get_running_loop().create_task(self._kill_after_grace())

    def _signal_all(self, signum: int) -> None:
        for member in self.members:
            if member.alive and member.process is not None:
                with contextlib.suppress(ProcessLookupError):  # it ended just now
                    member.process.send_signal(signum)

    async def _kill_after_grace(self) -> None:
        await asyncio.sleep(self.stop_grace_seconds)
        for member in self.members:
            if member.alive and member.process is not None:
                log.error(
                    "%s did not stop within %.0f s; killing it",
                    self._label(member),
                    self.stop_grace_seconds,
                )
                member.process.kill()
