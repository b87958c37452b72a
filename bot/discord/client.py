"""The bot itself: intents, the command tree, the cogs, and command registration."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import discord
from discord.ext import commands

from bot.config import Settings
from bot.discord.articles import Articles
from bot.discord.conversations import Conversations
from bot.discord.cooldown import Cooldown
from bot.discord.endpoints import use_endpoints
from bot.discord.errors import ArticleTree
from bot.discord.moderation import Moderation
from bot.discord.questions import Questions
from bot.discord.records import RecordKeeper
from bot.discord.reload_relay import ReloadRelay, this_process
from bot.discord.responses import NO_PINGS
from bot.discord.serving import ServingEngine
from bot.discord.shelving import RemovalButton, ShelfCommands
from bot.discord.shutdown import InFlight
from bot.discord.votes import VoteButton
from bot.engine import Engine
from bot.records import Storage, storage_for
from bot.shards import IdentifyPacer, describe_shards
from bot.shelves import ShelfLimits, Shelves

# How often expired records are deleted while the bot runs (also once at start-up).
RETENTION_SWEEP_SECONDS = 24 * 3600.0
# How often replies the database refused are tried again (also before every later write).
UNSAVED_RETRY_SECONDS = 60.0

log = logging.getLogger(__name__)


def intents_for(settings: Settings) -> discord.Intents:
    """The least the bot needs: servers and their messages, and message content only when
    answer channels are set.

    Mentions of the bot carry their text without the privileged message content intent, and
    slash commands need no intent at all.
    """
    intents = discord.Intents.none()
    intents.guilds = True
    intents.guild_messages = True
    intents.message_content = bool(settings.answer_channel_ids)
    return intents


class ArticleBot(commands.AutoShardedBot):
    """A Discord bot that answers from one `ServingEngine`, on the gateway shards the settings
    name (by default all of them, as many as Discord recommends).

    Each guild belongs to one shard, so whatever the bot keeps in memory about a guild (its
    conversations, its cooldowns) lives in the one process that holds it; what several
    processes share (records, servers' shelves) is in the database.
    """

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        storage: Storage | None = None,
        **options: Any,
    ) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,  # unused: the bot has slash commands only
            help_command=None,
            intents=intents_for(settings),
            allowed_mentions=NO_PINGS,
            tree_cls=ArticleTree,
            shard_count=settings.shard_count,
            shard_ids=None if settings.shard_ids is None else list(settings.shard_ids),
            **options,
        )
        self.settings = settings
        self.identify_pacer = IdentifyPacer()
        self.serving = ServingEngine(engine)
        self.question_cooldown = Cooldown(settings.question_cooldown_seconds)
        self.reload_cooldown = Cooldown(settings.reload_cooldown_seconds)
        self.in_flight = InFlight()
        self.records = RecordKeeper(storage if storage is not None else storage_for(settings))
        # The shelves have their own connections to the same database: they are read on the
        # answering thread, while the records worker writes.
        self.shelves = Shelves(
            settings.data_dir,
            storage_for(settings),
            ShelfLimits(settings.server_article_limit, settings.article_adds_per_minute),
            vector_store=engine.cache.vector_store,
            snapshot_store=engine.cache.store,
        )
        self.conversations = Conversations()
        self.relay: ReloadRelay | None = None  # once the shards are known: they name the process
        self._sweeping: asyncio.Task[None] | None = None
        self._retrying: asyncio.Task[None] | None = None

    async def setup_hook(self) -> None:
        """After login, before the gateway: check access, open the records, add the cogs and
        the vote buttons (old messages' too), register the commands."""
        self._drop_message_content_if_not_granted()
        settings = self.settings
        await self._plan_shards()
        await self.records.start()
        self.relay = ReloadRelay(
            storage_for(settings),
            self.serving,
            this_process(self.shard_ids, self.shard_count or 1),
            poll_seconds=settings.reload_poll_seconds,
            wait_seconds=settings.reload_wait_seconds,
        )
        self.relay.start()
        self._sweeping = asyncio.create_task(self._sweep_expired(), name="records-retention")
        self._retrying = asyncio.create_task(self._retry_unsaved(), name="records-retry")
        self.add_dynamic_items(VoteButton, RemovalButton)
        await self.add_cog(
            Questions(
                self,
                self.serving,
                self.question_cooldown,
                settings.answer_channel_ids,
                self.in_flight,
                self.records,
                self.conversations,
                self.shelves,
            )
        )
        await self.add_cog(
            Articles(
                self.serving, self.shelves, self.question_cooldown, settings.answer_channel_ids
            )
        )
        await self.add_cog(
            Moderation(
                self.serving,
                self.reload_cooldown,
                settings.moderator_role_ids,
                self.records,
                self.shelves,
                self.relay,
            )
        )
        await self.add_cog(ShelfCommands(self.serving, self.shelves, settings.moderator_role_ids))
        if self.shard_ids is not None and 0 not in self.shard_ids:
            # Commands belong to the application, not to a shard: one process registers them,
            # so a cluster starting up does not send Discord the same list once per process.
            log.info("commands are registered by the process that holds shard 0")
            return
        if settings.guild_id is not None:
            # Guild commands show up at once: handy while trying the bot on one server.
            guild = discord.Object(settings.guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
        else:
            synced = await self.tree.sync()
        log.info("registered commands: %s", ", ".join(f"/{c.name}" for c in synced))

    async def _plan_shards(self) -> None:
        """Ask Discord how many shards it recommends and how many sessions may start at once.

        With the count known before connecting, discord.py connects to the configured gateway
        (DISCORD_GATEWAY_URL) rather than to the one this answer names.
        """
        recommended, _, limits = await self.http.get_bot_gateway()
        if self.shard_count is None:
            self.shard_count = recommended
        self.identify_pacer = IdentifyPacer(max(1, limits["max_concurrency"]))
        log.info("gateway: %s", describe_shards(self.shard_ids, self.shard_count))

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """Start each shard's session as soon as Discord's session start limit allows."""
        await asyncio.sleep(self.identify_pacer.delay(shard_id or 0, time.monotonic()))

    async def _sweep_expired(self) -> None:
        while True:
            await asyncio.sleep(RETENTION_SWEEP_SECONDS)
            await self.records.delete_expired()

    async def _retry_unsaved(self) -> None:
        while True:
            await asyncio.sleep(UNSAVED_RETRY_SECONDS)
            await self.records.save_unsaved()

    async def close(self) -> None:
        """Disconnect, stop carrying out reloads asked elsewhere and making sentence vectors ahead,
        then finish the record writes already asked for and close the database."""
        await super().close()
        for task in (self._sweeping, self._retrying):
            if task is not None:
                task.cancel()
        if self.relay is not None:
            await self.relay.close()
        await asyncio.to_thread(self.serving.close)
        await self.records.close()
        await asyncio.to_thread(self.shelves.storage.close)

    async def on_ready(self) -> None:
        """Log who the bot is and what it serves."""
        articles = len(self.serving.current.articles())
        log.info(
            "connected as %s in %d server(s) on %s, serving %d article(s)",
            self.user,
            len(self.guilds),
            describe_shards(self.shard_ids, self.shard_count or 1),
            articles,
        )

    async def on_shard_ready(self, shard_id: int) -> None:
        """Log each shard of a sharded bot as it comes up, with its servers."""
        if (self.shard_count or 1) > 1:
            servers = sum(1 for guild in self.guilds if guild.shard_id == shard_id)
            log.info("shard %d of %d ready: %d server(s)", shard_id, self.shard_count, servers)

    async def on_message(self, message: discord.Message, /) -> None:
        """Nothing: questions are handled by the Questions cog, and there are no prefix commands.

        commands.Bot would otherwise parse every @mention as a prefix command and log a
        CommandNotFound error for each question.
        """

    def _drop_message_content_if_not_granted(self) -> None:
        # Asking Discord for a privileged intent the application was not granted closes the
        # gateway with 4014; without it, answer channels go quiet but everything else works.
        if not self.intents.message_content:
            return
        flags = self.application_flags
        if flags.gateway_message_content or flags.gateway_message_content_limited:
            return
        log.warning(
            "ANSWER_CHANNEL_IDS is set, but the Message Content intent is not enabled for this "
            "application (Developer Portal > Bot > Privileged Gateway Intents). Only @mentions "
            "and slash commands will be answered until it is enabled."
        )
        self._connection._intents.message_content = False  # no public API after construction


def build_bot(
    settings: Settings, engine: Engine, storage: Storage | None = None, **options: Any
) -> ArticleBot:
    """The bot for `settings`, answering from `engine` and keeping records in `storage` (by
    default the database the settings name); `options` go to discord.py's Client."""
    use_endpoints(settings.api_base, settings.gateway_url)
    return ArticleBot(settings, engine, storage, **options)
