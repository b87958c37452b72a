"""Load through the Discord stand-in: a crowd asks hundreds of questions in a few seconds, replies
to answers with follow-ups and votes on them, while a moderator reloads twice, over real
sockets. Prints how every question ended, the time from question to reply (p50, p99, worst),
and the worst stall of the bot's event loop.

Run: python bench/load.py [--people 50] [--questions 500] [--seconds 10] [--cooldown 1]
                         [--reloads 2] [--no-follow-ups] [--no-votes]

The stand-in and the crowd run on a thread and event loop of their own, so the stall measured is
the bot's (though both threads share one interpreter lock, as any Python process would).

With --processes N it measures throughput instead: how many questions per second the bot
answers as one process, then as N processes (`articlebot cluster`), each time holding the same
N shards with two servers on each, the crowd spread over them. The questions come all at once
(within --seconds, default 1 here), more than the bot can answer, by mention and by /ask, with
no cooldown, follow-ups, votes or reloads (which would measure the reloads: a /reload waits
for every process to load the corpus again).
Answers per second is how many were answered over the time from the first question to the last
answer. The stand-in and the crowd run in this process, beside the bot's processes.

Run: python bench/load.py --processes 2 [--rounds 1] [--questions 500] [--people 50]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from discord_harness import (  # noqa: E402
    LIGHTHOUSE,
    LOAD_FOLLOW_UPS,
    LOAD_QUESTIONS,
    reply_kind,
    settings_for,
)
from discord_standin import DiscordStandIn, World  # noqa: E402
from discord_standin.client import running  # noqa: E402
from discord_standin.crowd import Crowd, Reckoning  # noqa: E402

from bot.discord import build_bot  # noqa: E402
from bot.engine import Engine  # noqa: E402
from bot.records import Storage  # noqa: E402

T = TypeVar("T")


class StallWatch:
    """How late the event loop wakes a task that sleeps a few milliseconds at a time."""

    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self.stalls: list[float] = []
        self._task: asyncio.Task[None] | None = None

    @property
    def worst(self) -> float:
        return max(self.stalls, default=0.0)

    async def _watch(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(self.interval)
            self.stalls.append(loop.time() - before - self.interval)

    def start(self) -> None:
        self._task = asyncio.create_task(self._watch())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()


class OtherLoop:
    """An event loop on a daemon thread, for the stand-in and the crowd."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, name="standin", daemon=True).start()

    async def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run `coroutine` there and wait for it from here."""
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coroutine, self.loop))


NAMES = {
    "answer": "answered",
    "cooldown": "refused by the cooldown",
    "reloaded": "reload reports",
    "failure": "failures",
}


def milliseconds(seconds: float) -> str:
    return f"{seconds * 1000:7.1f} ms"


def report(reckoning: Reckoning, elapsed: float, stalls: list[float]) -> None:
    print(f"{len(reckoning.replies)} asked (questions and reloads) in {elapsed:.1f} s")
    for kind, count in sorted(reckoning.count(reply_kind).items()):
        print(f"  {NAMES[kind]:<24}{count:5d}")
    print(f"  {'lost':<24}{len(reckoning.lost):5d}")
    print(f"  {'answered twice':<24}{len(reckoning.repeated):5d}")
    print("question to reply:")
    for way in ("mention", "ask", "follow-up", "vote", "reload"):
        latencies = sorted(
            got[0].at - asked.at
            for asked, got in reckoning.replies.items()
            if got and asked.way == way
        )
        if not latencies:
            continue
        p50 = statistics.median(latencies)
        p99 = (
            f"p99 {milliseconds(statistics.quantiles(latencies, n=100)[98])}"
            if len(latencies) >= 100
            else " " * 14
        )
        print(
            f"  {way:<9} n={len(latencies):4d}  p50 {milliseconds(p50)}  {p99}"
            f"  worst {milliseconds(latencies[-1])}"
        )
    every = reckoning.latencies()
    print(
        f"  {'all':<9} n={len(every):4d}  p50 {milliseconds(statistics.median(every))}"
        f"  p99 {milliseconds(statistics.quantiles(every, n=100)[98])}"
    )
    worst = sorted(stalls, reverse=True)
    print(
        f"event loop's worst stall: {milliseconds(worst[0])}; next worst"
        f" {', '.join(f'{s * 1000:.1f}' for s in worst[1:4])} ms;"
        f" {sum(s > 0.010 for s in stalls)} of {len(stalls)} wake-ups over 10 ms late"
    )


async def main(args: argparse.Namespace) -> int:
    other = OtherLoop()
    standin = DiscordStandIn()
    await other.run(standin.start())
    crowd = Crowd(standin, args.people, seed=args.seed)
    corpus = Path(tempfile.mkdtemp(prefix="articlebot-load-")) / "corpus"
    shutil.copytree(ROOT / "corpus", corpus)
    # The votes and replies go to a database of their own, beside the corpus copy.
    os.environ["DATA_DIR"] = str(corpus.parent / "data")
    lighthouse = corpus / "harbour-lighthouse.txt"

    def change_corpus(reload_number: int) -> None:
        if reload_number % 2 == 0:
            lighthouse.write_text(LIGHTHOUSE, encoding="utf-8")
        else:
            lighthouse.unlink()

    settings = settings_for(
        standin, corpus, question_cooldown_seconds=args.cooldown, reload_cooldown_seconds=0.0
    )
    engine = Engine.load(corpus, settings.prompts_dir)
    # The first question of a process loads the synonym table once: that is not load.
    engine.ask(LOAD_QUESTIONS[0])
    bot = build_bot(settings, engine, guild_ready_timeout=0.05)
    watch = StallWatch()
    try:
        async with running(bot, standin):
            watch.start()
            started = time.monotonic()
            await other.run(
                crowd.storm(
                    LOAD_QUESTIONS,
                    args.questions,
                    seconds=args.seconds,
                    reloads=args.reloads,
                    before_reload=change_corpus,
                    follow_ups=LOAD_FOLLOW_UPS if args.follow_ups else (),
                    votes=args.votes,
                )
            )
            reckoning = await other.run(crowd.reckon(timeout=120))
            elapsed = time.monotonic() - started
            watch.stop()
    finally:
        await other.run(standin.stop())
        shutil.rmtree(corpus.parent, ignore_errors=True)
    report(reckoning, elapsed, watch.stalls)
    return 1 if reckoning.lost or reckoning.repeated else 0


GUILDS_PER_SHARD = 2


def cpu_seconds_of_children(pid: int) -> list[float] | None:
    """CPU time (user and system) used so far by each process `pid` started, from /proc; None
    where there is no /proc."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        ticks = os.sysconf("SC_CLK_TCK")
        used = []
        for child in children:
            # After the command name, which may hold spaces: utime and stime are the 14th and
            # 15th fields of the whole line.
            fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
            used.append((int(fields[11]) + int(fields[12])) / ticks)
        return used
    except (OSError, ValueError, IndexError):
        return None


@dataclass(frozen=True)
class Throughput:
    """How one run of the crowd against the bot's processes went."""

    answered: int
    lost: int
    repeated: int
    seconds: float  # from the first question to the last first answer
    asking: float  # from the first question to the last
    recorded: int  # replies in the database at the end, warm-up questions included
    errors: list[str]  # what the bot's processes logged at ERROR
    status: int  # the cluster's exit status
    standin_cpu: float  # CPU seconds of this process (stand-in and crowd) while answering
    bot_cpu: list[float] | None  # CPU seconds of each of the bot's processes while answering

    @property
    def rate(self) -> float:
        return self.answered / self.seconds


async def throughput(args: argparse.Namespace, shards: int, processes: int) -> Throughput:
    """The crowd's questions, all at once, answered by `processes` processes of the bot that
    hold `shards` shards between them (`articlebot cluster`)."""
    world = World.sharded(shards, per_shard=GUILDS_PER_SHARD)
    folder = Path(tempfile.mkdtemp(prefix="articlebot-throughput-"))
    corpus = Path(shutil.copytree(ROOT / "corpus", folder / "corpus"))
    (corpus / "harbour-lighthouse.txt").write_text(LIGHTHOUSE, encoding="utf-8")
    async with DiscordStandIn(world, max_concurrency=shards) as standin:
        crowd = Crowd(standin, args.people, seed=args.seed, guilds=world.guilds)
        environment = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "DISCORD_TOKEN": standin.token,
            "DISCORD_API_BASE": standin.api_base,
            "DISCORD_GATEWAY_URL": standin.gateway_url,
            "CORPUS_DIR": str(corpus),
            "DATA_DIR": str(folder / "data"),
            "QUESTION_COOLDOWN_SECONDS": "0",
            "LOG_LEVEL": "WARNING",
        }
        command = ["cluster", "--processes", str(processes), "--shard-count", str(shards)]
        with (folder / "bot.log").open("wb") as log:
            cluster = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", *command, cwd=folder, env=environment, stderr=log
            )
        try:
            await standin.wait_for_shards(shards, timeout=120)
            await standin.wait_for_request("PUT", r"/applications/\d+/commands", timeout=60)
            # Each process's first question loads its synonym table once: that is not load.
            for guild in world.guilds:
                person = next(p for p in crowd.people if crowd.home(p).guild_id == guild.id)
                warm_up = await standin.post_message(
                    person, f"<@{world.bot.id}> {LOAD_QUESTIONS[0]}", channel=crowd.home(person)
                )
                await standin.wait_for_answer(warm_up, timeout=60)
            bot_cpu = cpu_seconds_of_children(cluster.pid)
            standin_cpu = time.process_time()
            await crowd.storm(LOAD_QUESTIONS, args.questions, seconds=args.seconds)
            reckoning = await crowd.reckon(timeout=600)
            standin_cpu = time.process_time() - standin_cpu
            bot_cpu_after = cpu_seconds_of_children(cluster.pid)
        finally:
            if cluster.returncode is None:
                cluster.send_signal(signal.SIGTERM)
            status = await cluster.wait()
    bot_log = (folder / "bot.log").read_text(errors="replace")
    if status != 0:
        print(bot_log[-3000:], file=sys.stderr)
    storage = Storage.for_data_dir(folder / "data")
    try:
        recorded = len(storage.replies_since(0))
    finally:
        storage.close()
    shutil.rmtree(folder, ignore_errors=True)
    first_asked = min(asked.at for asked in reckoning.replies)
    last_answer = max(got[0].at for got in reckoning.replies.values() if got)
    return Throughput(
        answered=sum(1 for got in reckoning.replies.values() if got),
        lost=len(reckoning.lost),
        repeated=len(reckoning.repeated),
        seconds=last_answer - first_asked,
        asking=max(asked.at for asked in reckoning.replies) - first_asked,
        recorded=recorded,
        errors=[line for line in bot_log.splitlines() if " ERROR " in line],
        status=status,
        standin_cpu=standin_cpu,
        bot_cpu=None
        if bot_cpu is None or bot_cpu_after is None
        else [after - before for before, after in zip(bot_cpu, bot_cpu_after, strict=True)],
    )


def describe(processes: int, shards: int, run: Throughput) -> None:
    """Print how one run went."""
    print(
        f"{processes} process(es) holding {shards} shards: {run.rate:.1f} answers/s "
        f"({run.answered} answered in {run.seconds:.1f} s, asked within {run.asking:.1f} s)"
    )
    print(
        f"  {run.lost} lost, {run.repeated} answered twice, {run.recorded} replies recorded "
        f"(warm-up included), {len(run.errors)} errors logged, exit status {run.status}"
    )
    for line in run.errors[:5]:
        print(f"  logged: {line}")
    cpu = f"  CPU while answering: stand-in and crowd {run.standin_cpu:.1f} s"
    if run.bot_cpu is not None:
        each = " + ".join(f"{seconds:.1f}" for seconds in run.bot_cpu)
        per_answer = sum(run.bot_cpu) / run.answered * 1000
        cpu += f", the bot's processes {each} s ({per_answer:.0f} ms an answer)"
    print(cpu)


async def compare_processes(args: argparse.Namespace) -> int:
    """One process, then N, `--rounds` times in turn (on a machine whose CPU others share, the
    rounds show how much the figure moves); the ratio of their median answers per second."""
    shards = args.processes
    rates: dict[int, list[float]] = {1: [], shards: []}
    for _ in range(args.rounds):
        for processes in (1, shards):
            run = await throughput(args, shards, processes)
            rates[processes].append(run.rate)
            describe(processes, shards, run)
    one, many = statistics.median(rates[1]), statistics.median(rates[shards])
    print(
        f"{shards} processes answer {many / one:.2f}x the questions per second of one "
        f"(medians of {args.rounds} round(s): {many:.1f} and {one:.1f} answers/s)"
    )
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=50)
    parser.add_argument("--questions", type=int, default=500)
    parser.add_argument(
        "--seconds", type=float, default=None, help="default 10, 1 with --processes"
    )
    parser.add_argument("--cooldown", type=float, default=1.0, help="seconds between questions")
    parser.add_argument("--reloads", type=int, default=2, help="reloads in the middle")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--no-follow-ups", dest="follow_ups", action="store_false", help="no replies to answers"
    )
    parser.add_argument("--no-votes", dest="votes", action="store_false", help="no votes")
    parser.add_argument(
        "--processes",
        type=int,
        metavar="N",
        help="measure answers per second with one process and with N (at least 2)",
    )
    parser.add_argument(
        "--rounds", type=int, default=1, help="with --processes: how many times to run both"
    )
    arguments = parser.parse_args()
    if arguments.processes is not None:
        if arguments.processes < 2:
            parser.error("--processes must be at least 2: one process is the baseline")
        arguments.seconds = 1.0 if arguments.seconds is None else arguments.seconds
        sys.exit(asyncio.run(compare_processes(arguments)))
    arguments.seconds = 10.0 if arguments.seconds is None else arguments.seconds
    sys.exit(asyncio.run(main(arguments)))
