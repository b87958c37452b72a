"""One place decides what a person sees when something goes wrong."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, cast

import discord
from discord import app_commands

from bot.discord.responses import respond_privately
from bot.engine import Engine, EngineError

if TYPE_CHECKING:
    from bot.discord.client import ArticleBot

log = logging.getLogger(__name__)


def explain(error: BaseException, engine: Engine) -> str:
    """What to tell the person: an engine error's own safe message, else a short apology.

    Anything that is not an EngineError is a bug; its traceback goes to the log, not to Discord.
    """
    if isinstance(error, EngineError):
        return str(error)
    log.error("unexpected error while answering", exc_info=error)
    return engine.render("discord_apology")


class ArticleTree(app_commands.CommandTree):
    """The command tree whose error handler answers every failed slash command privately."""

    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        """Turn a failed command into a private message for the person who ran it."""
        cause = error.original if isinstance(error, app_commands.CommandInvokeError) else error
        bot = cast("ArticleBot", self.client)
        text = explain(cause, bot.serving.current)
        try:
            await respond_privately(interaction, text)
        except discord.HTTPException:
            # The interaction may have expired or Discord may be down: nothing left to tell.
            log.exception("could not tell %s about a failed command", interaction.user)
