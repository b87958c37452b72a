"""Load through the Discord stand-in: a crowd asks hundreds of questions in a few seconds, replies
to answers with follow-ups and votes on them, while a moderator reloads twice, over real
sockets. Prints how every question ended, the time from question to reply (p50, p99, worst),
and the worst stall of the bot's event loop.

Run: python bench/load.py [--people 50] [--questions 500] [--seconds 10] [--cooldown 1]
                         [--reloads 2] [--no-follow-ups] [--no-votes]

The stand-in and the crowd run on a thread and event loop of their own, so the stall measured is
the bot's (though both threads share one interpreter lock, as any Python process would).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Coroutine
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
from discord_standin import DiscordStandIn  # noqa: E402
from discord_standin.client import running  # noqa: E402
from discord_standin.crowd import Crowd, Reckoning  # noqa: E402

from bot.discord import build_bot  # noqa: E402
from bot.engine import Engine  # noqa: E402

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


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=50)
    parser.add_argument("--questions", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--cooldown", type=float, default=1.0, help="seconds between questions")
    parser.add_argument("--reloads", type=int, default=2, help="reloads in the middle")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--no-follow-ups", dest="follow_ups", action="store_false", help="no replies to answers"
    )
    parser.add_argument("--no-votes", dest="votes", action="store_false", help="no votes")
    sys.exit(asyncio.run(main(parser.parse_args())))
