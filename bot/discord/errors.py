"""One place decides what a person sees when something goes wrong."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, cast

import discord
from discord import app_commands

from bot.discord.responses import DISCORD_FAILURES, respond, respond_privately
from bot.engine import Engine, EngineError, TemplateProblem

if TYPE_CHECKING:
    from bot.discord.client import ArticleBot

log = logging.getLogger(__name__)

# Said only when the apology template itself cannot be rendered (the prompts folder broke under
# the running bot): every other word comes from the templates.
LAST_RESORT_APOLOGY = "Sorry, something went wrong on my side."


def explain(error: BaseException, engine: Engine) -> str:
    """What to tell the person: an engine error's own safe message, else a short apology.

    A broken template is the moderators' to fix, not the asker's: it is logged, like anything
    that is not an EngineError (a bug), with its traceback. Discord failing a request is logged
    without one: nothing in the bot to fix.
    """
    if isinstance(error, TemplateProblem):
        log.error("a template failed while answering: %s", error, exc_info=error)
        return apology(engine)
    if isinstance(error, EngineError):
        return str(error)
    if isinstance(error, DISCORD_FAILURES):
        log.warning("Discord failed a request while answering: %r", error)
        return apology(engine)
    log.error("unexpected error while answering", exc_info=error)
    return apology(engine)


def apology(engine: Engine) -> str:
    """The short apology for an error the asker cannot fix."""
    try:
        return engine.render("discord_apology")
    except Exception:
        log.exception("could not render discord_apology.j2")
        return LAST_RESORT_APOLOGY


class ArticleTree(app_commands.CommandTree):
    """The command tree that counts commands in flight, turns them away during a shutdown, and
    answers every failed slash command privately."""

    def _bot(self) -> ArticleBot:
        return cast("ArticleBot", self.client)

    async def _call(self, interaction: discord.Interaction) -> None:
        # discord.py has no public hook around a whole command, its error handler included; this
        # is where it runs both, so a shutdown waits for the command and for its apology alike.
        async with self._bot().in_flight.track():
            await super()._call(interaction)

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        """Let every interaction through, except commands once the bot is shutting down."""
        bot = self._bot()
        if (
            bot.in_flight.accepting
            or interaction.type is not discord.InteractionType.application_command
        ):
            return True
        try:
            text = bot.serving.current.render("discord_restarting")
            await respond(interaction, text, ephemeral=True)
        except DISCORD_FAILURES as error:
            log.warning("could not tell %s the bot is restarting: %r", interaction.user, error)
        return False

    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        """Turn a failed command into a private message for the person who ran it."""
        cause = error.original if isinstance(error, app_commands.CommandInvokeError) else error
        text = explain(cause, self._bot().serving.current)
        try:
            await respond_privately(interaction, text)
        except DISCORD_FAILURES as failure:
            # The interaction may have expired or Discord may be down: nothing left to tell.
            log.warning("could not tell %s about a failed command: %r", interaction.user, failure)
