"""`/reload`: moderators load the corpus again without restarting the bot."""

from __future__ import annotations

import asyncio
import io
import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord.cooldown import Cooldown
from bot.discord.records import RecordKeeper
from bot.discord.reload_relay import ReloadRelay, failure_context
from bot.discord.responses import refuse_while_cooling_down, respond
from bot.discord.serving import ReloadTimedOut, ServingEngine
from bot.engine import Article, Engine, EngineError, ReloadReport
from bot.engine.templates import Trusted
from bot.insights import insights_csv, render_insights
from bot.records import StorageError
from bot.shelves import Shelves

# The longest period /insights looks back over: the records are kept 90 days by default.
MAX_INSIGHT_DAYS = 365

log = logging.getLogger(__name__)


def is_moderator(interaction: discord.Interaction, moderator_role_ids: frozenset[int]) -> bool:
    """Manage Server in this channel, or one of the configured moderator roles."""
    if interaction.permissions.manage_guild:
        return True
    member = interaction.user
    return isinstance(member, discord.Member) and any(
        role.id in moderator_role_ids for role in member.roles
    )


async def refuse_non_moderator(
    interaction: discord.Interaction,
    engine: Engine,
    moderator_role_ids: frozenset[int],
    command: str,
) -> bool:
    """Tell anyone but a moderator in a server, privately, that the command is not theirs;
    True when refused. default_permissions and guild_only only shape what Discord offers:
    server admins can grant a command to anyone, so who may use it is decided here, each time."""
    if interaction.guild_id is None:
        log.warning("%s refused to %s: not in a server", command, who(interaction))
        await respond(interaction, engine.render("discord_guild_only"), ephemeral=True)
        return True
    if not is_moderator(interaction, moderator_role_ids):
        log.warning("%s refused to %s: not a moderator", command, who(interaction))
        text = engine.render("discord_not_moderator", command=command)
        await respond(interaction, text, ephemeral=True)
        return True
    return False


def who(interaction: discord.Interaction) -> str:
    """The person and the place, for the log: names change, ids do not."""
    user = interaction.user
    place = f"server {interaction.guild_id}" if interaction.guild_id else "a direct message"
    return f"{user} ({user.id}) in {place}"


def changes(report: ReloadReport) -> str:
    """What a reload changed, for the log."""
    parts = [
        f"{label} {', '.join(ids)}"
        for label, ids in (
            ("added", report.added),
            ("removed", report.removed),
            ("changed", report.changed),
        )
        if ids
    ]
    return "; ".join(parts) or "nothing changed"


class Moderation(commands.Cog):
    """Reloading the articles in every process of the bot, and what people asked; for
    moderators only."""

    def __init__(
        self,
        serving: ServingEngine,
        cooldown: Cooldown,
        moderator_role_ids: frozenset[int],
        records: RecordKeeper,
        shelves: Shelves,
        relay: ReloadRelay,
    ) -> None:
        self.serving = serving
        self.cooldown = cooldown
        self.moderator_role_ids = moderator_role_ids
        self.records = records
        self.shelves = shelves
        self.relay = relay

    @app_commands.command(description="What people asked: unanswered questions, unhelpful answers")
    @app_commands.describe(days="How many days back to look (default 7)")
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    async def insights(
        self,
        interaction: discord.Interaction,
        days: app_commands.Range[int, 1, MAX_INSIGHT_DAYS] = 7,
    ) -> None:
        """This server's questions the articles could not answer, answers voted unhelpful and
        changes to its own articles, with the full list attached as CSV; for moderators only,
        shown only to them."""
        engine = self.serving.current
        if await refuse_non_moderator(interaction, engine, self.moderator_role_ids, "insights"):
            return
        guild_id = interaction.guild_id
        await interaction.response.defer(ephemeral=True, thinking=True)
        bookcase = await asyncio.to_thread(self.shelves.bookcase, engine, guild_id)

        def current(reply_guild_id: int | None, article_id: str) -> Article | None:
            # Only this server's replies are read, and this server's shelf is what they cited.
            return bookcase.article(article_id) if reply_guild_id == guild_id else None

        try:
            insights = await self.records.insights(days, guild_id, current)
        except StorageError as error:
            log.error("insights for %s failed (%s): %s", who(interaction), error.problem, error)
            text = engine.render("discord_insights_failed", problem=str(error.problem))
            await respond(interaction, text, ephemeral=True)
            return
        log.info("insights over %d day(s) shown to %s", days, who(interaction))
        table = discord.File(io.BytesIO(insights_csv(insights).encode()), "insights.csv")
        await respond(interaction, render_insights(engine, insights), ephemeral=True, file=table)

    @app_commands.command(description="Load the articles again from the corpus folder")
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    async def reload(self, interaction: discord.Interaction) -> None:
        """Swap in a freshly loaded corpus, then have every other process of the bot do the
        same; on failure the current one keeps serving."""
        engine = self.serving.current
        if await refuse_non_moderator(interaction, engine, self.moderator_role_ids, "reload"):
            return
        if await refuse_while_cooling_down(interaction, self.cooldown, engine, "reload"):
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        log.info("reload asked by %s", who(interaction))
        try:
            report = await self.serving.reload()
        except Exception as error:
            if isinstance(error, EngineError | ReloadTimedOut):
                log.warning("reload by %s failed: %s", who(interaction), error)
            else:  # a bug: the moderator hears the reload failed, the log why
                log.error("reload by %s failed unexpectedly", who(interaction), exc_info=error)
            text = engine.render("discord_reload_failed", **failure_context(error))
            await respond(interaction, text, ephemeral=True)
            return
        log.info(
            "reload by %s succeeded: %d article(s), %s; %d warning(s)",
            who(interaction),
            report.articles,
            changes(report),
            len(report.warnings),
        )
        # A reload that failed here is not passed on: the others read the same corpus, or a
        # copy of it, and would only fail the same way.
        spread = await self.relay.spread(report, interaction.user.id)
        text = self.serving.current.render(
            "discord_reloaded", report=Trusted(report.text), spread=spread
        )
        await respond(interaction, text, ephemeral=True)
