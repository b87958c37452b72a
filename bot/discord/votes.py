""" "Helpful" and "Not helpful" under every answer and every decline.

The buttons are dynamic items: their custom id carries the vote and the reply's id, and the
bot registers the pattern at start-up, so buttons on messages sent before a restart still work.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, cast

import discord

from bot.discord.buttons import FlagButton
from bot.discord.responses import DISCORD_FAILURES, respond
from bot.engine import Engine
from bot.records import UnknownReply

if TYPE_CHECKING:
    from bot.discord.client import ArticleBot

log = logging.getLogger(__name__)


class VoteButton(FlagButton, template=r"articlebot:vote:(?P<flag>[01]):(?P<subject>[0-9a-f]{32})"):
    """One vote on one reply; anyone who sees the reply may press it, once or to change it."""

    kind = "vote"
    yes_style = discord.ButtonStyle.success

    @property
    def reply_id(self) -> str:
        """The reply voted on."""
        return self.subject

    @property
    def helpful(self) -> bool:
        """Whether the vote says it helped."""
        return self.flag

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Record the vote and thank the voter privately; the message stays as it is."""
        bot = cast("ArticleBot", interaction.client)
        engine = bot.serving.current
        async with bot.in_flight.track():
            # The database may wait on a lock for a moment: acknowledge within Discord's limit.
            await interaction.response.defer(ephemeral=True, thinking=True)
            try:
                outcome = await bot.records.vote(self.reply_id, interaction.user.id, self.helpful)
            except UnknownReply:
                # Expired, or never saved: the database failed when the answer was given.
                expired = bot.records.expired(self.reply_id)
                if not expired:
                    log.warning("a vote on reply %s, which was never saved", self.reply_id)
                text = engine.render("discord_vote_failed", unknown=expired)
            else:
                if outcome is None:
                    text = engine.render("discord_vote_failed", unknown=False)
                else:
                    text = engine.render(
                        "discord_vote_thanks", helpful=self.helpful, outcome=str(outcome)
                    )
            try:
                await respond(interaction, text, ephemeral=True)
            except DISCORD_FAILURES as error:
                log.warning("could not thank %s for a vote: %r", interaction.user, error)


def vote_buttons(engine: Engine, reply_id: str) -> discord.ui.View:
    """The two vote buttons for one reply, labelled by prompts/discord_vote_label.j2."""
    view = discord.ui.View(timeout=None)
    for helpful in (True, False):
        label = engine.render("discord_vote_label", helpful=helpful)
        view.add_item(VoteButton(reply_id, helpful, label))
    return view
