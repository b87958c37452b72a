"""`/reload`: moderators load the corpus again without restarting the bot."""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord.cooldown import Cooldown
from bot.discord.responses import refuse_while_cooling_down, respond
from bot.discord.serving import ServingEngine
from bot.engine import EngineError

log = logging.getLogger(__name__)


def is_moderator(interaction: discord.Interaction, moderator_role_ids: frozenset[int]) -> bool:
    """Manage Server in this channel, or one of the configured moderator roles."""
    if interaction.permissions.manage_guild:
        return True
    member = interaction.user
    return isinstance(member, discord.Member) and any(
        role.id in moderator_role_ids for role in member.roles
    )


class Moderation(commands.Cog):
    """Reloading the articles, for moderators only."""

    def __init__(
        self, serving: ServingEngine, cooldown: Cooldown, moderator_role_ids: frozenset[int]
    ) -> None:
        self.serving = serving
        self.cooldown = cooldown
        self.moderator_role_ids = moderator_role_ids

    @app_commands.command(description="Load the articles again from the corpus folder")
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    async def reload(self, interaction: discord.Interaction) -> None:
        """Swap in a freshly loaded corpus; on failure the current one keeps serving."""
        engine = self.serving.current
        # default_permissions only hides the command: server admins can grant it to anyone,
        # so who may reload is decided here.
        if interaction.guild_id is None:
            await respond(interaction, engine.render("discord_guild_only"), ephemeral=True)
            return
        if not is_moderator(interaction, self.moderator_role_ids):
            await respond(interaction, engine.render("discord_not_moderator"), ephemeral=True)
            return
        if await refuse_while_cooling_down(interaction, self.cooldown, engine, "reload"):
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            report = await self.serving.reload()
        except EngineError as error:
            log.warning("reload asked by %s failed: %s", interaction.user, error)
            text = engine.render("discord_reload_failed", error=str(error))
            await respond(interaction, text, ephemeral=True)
            return
        log.info("reload asked by %s succeeded", interaction.user)
        await respond(interaction, report.text, ephemeral=True)
