"""Questions: `/ask`, an @mention of the bot, a reply to one of its answers, a message in a
thread started from one, or any message in an answer channel."""

from __future__ import annotations

import asyncio
import logging
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord.conversations import Conversations
from bot.discord.cooldown import Cooldown
from bot.discord.errors import explain
from bot.discord.records import RecordKeeper, new_reply_id, reply_record
from bot.discord.responses import (
    DISCORD_FAILURES,
    NO_PINGS,
    cooldown_text,
    refuse_while_cooling_down,
    respond,
)
from bot.discord.serving import ServingEngine
from bot.discord.shutdown import InFlight
from bot.discord.votes import vote_buttons
from bot.engine import Engine, FollowUp, Reply
from bot.engine.engine import MAX_QUESTION_CHARS
from bot.shelves import Shelves

log = logging.getLogger(__name__)

# Only what people write themselves; joins, pins and the like are not questions.
_PEOPLES_MESSAGES = (discord.MessageType.default, discord.MessageType.reply)
# Replies worth a vote: an answer, or the articles not saying (not a cooldown or an error).
_VOTED_KINDS = ("answer", "no_answer")


@dataclass(frozen=True)
class Said:
    """What the bot says to one question: the text, its vote buttons, the exchange a follow-up
    to it follows, and the id it is recorded under (None for a refusal: nothing follows it, and
    it is not recorded)."""

    text: str
    view: discord.ui.View | None = None
    exchange: FollowUp | None = None
    reply_id: str | None = None


class Questions(commands.Cog):
    """Answers each question with the engine's cited reply, one question per cooldown."""

    def __init__(
        self,
        bot: commands.Bot,
        serving: ServingEngine,
        cooldown: Cooldown,
        answer_channel_ids: frozenset[int],
        in_flight: InFlight,
        records: RecordKeeper,
        conversations: Conversations,
        shelves: Shelves,
    ) -> None:
        self.bot = bot
        self.serving = serving
        self.shelves = shelves
        self.cooldown = cooldown
        self.answer_channel_ids = answer_channel_ids
        self.in_flight = in_flight
        self.records = records
        self.conversations = conversations
        # Questions are answered here, one at a time in the order they came, so the event loop
        # stays free for heartbeats and other people's messages while the reader model runs.
        self._answering = ThreadPoolExecutor(max_workers=1, thread_name_prefix="answering")

    async def cog_unload(self) -> None:
        """Let the answering thread end once the answers in flight are given."""
        self._answering.shutdown(wait=False)

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
        # In a thread started from an answer, /ask follows the thread's last exchange.
        follows = self.conversations.recall(interaction.channel_id or 0)
        said = await self.answer(
            engine,
            question,
            follows,
            interaction.user.id,
            interaction.guild_id,
            interaction.channel_id,
        )
        try:
            sent = await respond(interaction, said.text, view=said.view)
        except DISCORD_FAILURES:
            self.withdraw(said)
            raise  # the tree's error handler tells the person, or logs why it could not
        if sent is not None and said.exchange is not None:
            self.remember(sent, interaction.channel, said.exchange)

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """Reply to a message that asks the bot something."""
        question = self.question_in(message)
        if question is None:
            return
        async with self.in_flight.track():
            engine = self.serving.current
            try:
                said = await self.reply_to(engine, question, message)
            except Exception as error:  # the tree's handler does not see events; same rules here
                said = Said(explain(error, engine))
            try:
                sent = await message.reply(
                    said.text,
                    mention_author=False,
                    allowed_mentions=NO_PINGS,
                    **({"view": said.view} if said.view is not None else {}),
                )
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
                self.withdraw(said)
                return
            if said.exchange is not None:
                self.remember(sent, message.channel, said.exchange)

    async def reply_to(self, engine: Engine, question: str, message: discord.Message) -> Said:
        """What to say to a question in a message: the answer, or why there is none yet."""
        if not self.in_flight.accepting:
            return Said(engine.render("discord_restarting"))
        wait = self.cooldown.try_start(message.author.id)
        if wait:
            return Said(cooldown_text(engine, wait, "question"))
        return await self.answer(
            engine,
            question,
            self.follows(message),
            message.author.id,
            message.guild.id if message.guild else None,
            message.channel.id,
        )

    async def answer(
        self,
        engine: Engine,
        question: str,
        follows: FollowUp | None,
        asker_id: int,
        guild_id: int | None,
        channel_id: int | None,
    ) -> Said:
        """The reply from the shared shelf and the server's own, with its vote buttons,
        recorded in the background."""

        def ask() -> tuple[str, Reply]:
            # On the answering thread: reading the server's shelf may mean loading it again.
            bookcase = self.shelves.bookcase(engine, guild_id)
            return bookcase.corpus_version, bookcase.ask(question, follows)

        loop = asyncio.get_running_loop()
        corpus_version, reply = await loop.run_in_executor(self._answering, ask)
        if reply.kind not in _VOTED_KINDS:
            return Said(reply.text)
        reply_id = new_reply_id()
        record = reply_record(
            reply_id,
            question,
            reply,
            corpus_version,
            guild_id=guild_id,
            channel_id=channel_id,
        )
        # Recorded before the reply is sent: the one records thread keeps a vote behind it.
        self.records.record_reply(record, asker_id)
        return Said(
            reply.text,
            vote_buttons(engine, reply_id),
            FollowUp.after(question, reply),
            reply_id,
        )

    def withdraw(self, said: Said) -> None:
        """Nobody saw this reply: it must not count in /insights."""
        if said.reply_id is not None:
            self.records.withdraw_reply(said.reply_id)

    def follows(self, message: discord.Message) -> FollowUp | None:
        """The exchange a message follows up: the answer it replies to, else the last one in
        the thread it is in (a thread started from an answer has that answer's id)."""
        reference = message.reference
        if reference is not None and reference.message_id is not None:
            return self.conversations.recall(reference.message_id)
        if isinstance(message.channel, discord.Thread):
            return self.conversations.recall(message.channel.id)
        return None

    def remember(self, sent: discord.Message, channel: object, exchange: FollowUp) -> None:
        """Keep what follow-ups to this answer follow: by the answer, and, when it was given in
        a thread, by the thread (whose next message follows it)."""
        self.conversations.remember(sent.id, exchange)
        if isinstance(channel, discord.Thread):
            self.conversations.remember(channel.id, exchange)

    def question_in(self, message: discord.Message) -> str | None:
        """The question a message asks the bot, or None when it is not talking to the bot."""
        me = self.bot.user
        if me is None or message.author.bot or message.type not in _PEOPLES_MESSAGES:
            return None  # bots include this one: it must never answer its own replies
        if me in message.mentions:
            return re.sub(rf"<@!?{me.id}>", "", message.content).strip()
        content = message.content.strip()
        if not content:
            # Without the message content intent Discord sends other messages empty: nothing
            # to answer, wherever they are.
            return None
        if message.channel.id in self.answer_channel_ids or self._continues(message):
            return content
        return None

    def _continues(self, message: discord.Message) -> bool:
        """Whether a message goes on with a conversation the bot is in: a reply to one of its
        answers, or a message in a thread started from one."""
        reference = message.reference
        if reference is not None and reference.message_id is not None:
            resolved = reference.resolved
            replied_to_bot = (
                isinstance(resolved, discord.Message) and resolved.author == self.bot.user
            )
            return replied_to_bot or self.conversations.recall(reference.message_id) is not None
        channel = message.channel
        return isinstance(channel, discord.Thread) and (
            self.conversations.recall(channel.id) is not None
        )
