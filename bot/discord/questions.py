"""Questions: `/ask`, an @mention of the bot, or any message in an answer channel."""

from __future__ import annotations

import logging
import re

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord.cooldown import Cooldown
from bot.discord.errors import explain
from bot.discord.responses import (
    DISCORD_FAILURES,
    NO_PINGS,
    cooldown_text,
    refuse_while_cooling_down,
    respond,
)
from bot.discord.serving import ServingEngine
from bot.discord.shutdown import InFlight
from bot.engine import Engine
from bot.engine.engine import MAX_QUESTION_CHARS

log = logging.getLogger(__name__)

# Only what people write themselves; joins, pins and the like are not questions.
_PEOPLES_MESSAGES = (discord.MessageType.default, discord.MessageType.reply)


class Questions(commands.Cog):
    """Answers each question with the engine's cited reply, one question per cooldown."""

    def __init__(
        self,
        bot: commands.Bot,
        serving: ServingEngine,
        cooldown: Cooldown,
        answer_channel_ids: frozenset[int],
        in_flight: InFlight,
    ) -> None:
        self.bot = bot
        self.serving = serving
        self.cooldown = cooldown
        self.answer_channel_ids = answer_channel_ids
        self.in_flight = in_flight

    @app_commands.command(description="Ask a question about the articles")
    @app_commands.describe(question="What you want to know, in your own words")
    async def ask(
        self,
        interaction: discord.Interaction,
        # Discord's client enforces the limit; the engine cuts what a proxy sends beyond it.
        question: app_commands.Range[str, 1, MAX_QUESTION_CHARS],
    ) -> None:
        """Answer `question` with quotes from the articles."""
        engine = self.serving.current
        if await refuse_while_cooling_down(interaction, self.cooldown, engine, "question"):
            return
        await interaction.response.defer(thinking=True)
        await respond(interaction, engine.ask(question).text)

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """Reply to a message that asks the bot something."""
        question = self.question_in(message)
        if question is None:
            return
        async with self.in_flight.track():
            engine = self.serving.current
            try:
                text = self.reply_to(engine, question, message.author.id)
            except Exception as error:  # the tree's handler does not see events; same rules here
                text = explain(error, engine)
            try:
                await message.reply(text, mention_author=False, allowed_mentions=NO_PINGS)
            except DISCORD_FAILURES as error:
                # Discord failed or refused it (the question deleted meanwhile, an outage):
                # nothing to tell anyone, and the next question must still work.
                log.warning(
                    "could not answer message %d of %s in channel %d: %r",
                    message.id,
                    message.author,
                    message.channel.id,
                    error,
                )

    def reply_to(self, engine: Engine, question: str, author_id: int) -> str:
        """The reply to a question in a message: the answer, or why there is none yet."""
        if not self.in_flight.accepting:
            return engine.render("discord_restarting")
        wait = self.cooldown.try_start(author_id)
        return cooldown_text(engine, wait, "question") if wait else engine.ask(question).text

    def question_in(self, message: discord.Message) -> str | None:
        """The question a message asks the bot, or None when it is not talking to the bot."""
        me = self.bot.user
        if me is None or message.author.bot or message.type not in _PEOPLES_MESSAGES:
            return None  # bots include this one: it must never answer its own replies
        if me in message.mentions:
            return re.sub(rf"<@!?{me.id}>", "", message.content).strip()
        if message.channel.id in self.answer_channel_ids and message.content.strip():
            # Empty content there means the message content intent is missing: nothing to answer.
            return message.content.strip()
        return None
