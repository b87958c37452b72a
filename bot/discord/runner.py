"""`articlebot run`: load the engine, connect, and stop cleanly on Ctrl-C or SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable

import discord

from bot.config import Settings
from bot.discord.client import ArticleBot, build_bot
from bot.discord.serving import keep_out_of_garbage_collection
from bot.discord.shutdown import DRAIN_SECONDS
from bot.engine import Engine
from bot.engine.corpus import ArticleCache

log = logging.getLogger(__name__)

# Gateway close codes that no reconnecting can get past: the shard settings must change.
INVALID_SHARD = 4010
SHARDING_REQUIRED = 4011


def run_bot(settings: Settings, progress: Callable[[int, int], None] | None = None) -> int:
    """Run the bot until it is told to stop; the process exit code.

    Raises the engine's CorpusError when the corpus is unusable, before connecting anywhere.
    `progress` hears how many corpus files the first load has read.
    """
    # The index snapshot and sentence vectors kept beside the records, so a restart reads them
    # back, and every bot process of the machine shares them.
    cache = ArticleCache.kept_in(settings.data_dir)
    engine = Engine.load(settings.corpus_dir, settings.prompts_dir, cache, progress)
    keep_out_of_garbage_collection()
    log.info("loaded %d article(s) from %s", len(engine.articles()), settings.corpus_dir)
    log.info("index: %s", engine.describe_index())
    return asyncio.run(serve(settings, engine))


async def serve(settings: Settings, engine: Engine) -> int:
    """Connect and answer until SIGINT or SIGTERM, let the answers in flight finish, then close
    the gateway session properly. A second signal stops waiting for them."""
    if not settings.discord_token:
        raise ValueError("serve() needs settings.discord_token")
    stop, hurry = asyncio.Event(), asyncio.Event()

    def on_signal() -> None:
        (hurry if stop.is_set() else stop).set()

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # Windows: Ctrl-C still ends asyncio.run
            loop.add_signal_handler(signum, on_signal)
    async with build_bot(settings, engine) as bot:
        running = asyncio.create_task(bot.start(settings.discord_token), name="discord-bot")
        stopping = asyncio.create_task(stop.wait(), name="stop-signal")
        await asyncio.wait({running, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if stop.is_set():
            await finish_answers(bot, hurry)
            log.info("stopping: closing the Discord connection")
            await bot.close()
        try:
            await running
        except discord.LoginFailure:
            log.error(
                "Discord refused DISCORD_TOKEN: copy the bot token again from the Developer Portal"
            )
            return 1
        except discord.PrivilegedIntentsRequired:
            log.error("Discord refused a privileged intent: enable it in the Developer Portal")
            return 1
        except discord.ConnectionClosed as closed:
            if closed.code == SHARDING_REQUIRED:
                log.error(
                    "Discord requires more shards for this many servers: raise SHARD_COUNT, "
                    "or leave it unset to use as many as Discord recommends"
                )
                return 1
            if closed.code == INVALID_SHARD:
                log.error(
                    "Discord refused shard %s: check SHARD_COUNT and SHARD_IDS", closed.shard_id
                )
                return 1
            raise
    return 0


async def finish_answers(bot: ArticleBot, hurry: asyncio.Event) -> None:
    """Turn new questions away and give the ones in flight up to DRAIN_SECONDS to finish."""
    bot.in_flight.stop_accepting()
    log.info("stopping: finishing %d question(s) in flight", bot.in_flight.count)
    left = await bot.in_flight.wait_idle(DRAIN_SECONDS, give_up=hurry)
    if left:
        log.warning("stopping with %d question(s) still unanswered", left)
