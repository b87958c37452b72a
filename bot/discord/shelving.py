"""`/article add` and `/article remove`: a server's moderators put articles on its own shelf and
take them off, from Discord. The shelf itself is bot/shelves.py's; this is the adapter: who may,
reading the file or the pasted text, asking to confirm, and saying what happened.

Every refusal is private and says why; the shelf is then unchanged.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import TYPE_CHECKING, Any, cast

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord.articles import MAX_CHOICE_LENGTH, choice_name, matching_articles
from bot.discord.buttons import FlagButton
from bot.discord.errors import explain
from bot.discord.moderation import refuse_non_moderator, who
from bot.discord.responses import DISCORD_FAILURES, respond
from bot.discord.serving import ServingEngine
from bot.engine import Engine, LoadWarning
from bot.engine.corpus import ARTICLE_SUFFIXES, MAX_FILE_BYTES
from bot.engine.shelf import (
    MAX_TITLE_CHARS,
    Refusal,
    ShelfRefused,
    pasted_article,
    read_submission,
)
from bot.shelves import ShelfOutcome, Shelves

if TYPE_CHECKING:
    from bot.discord.client import ArticleBot

log = logging.getLogger(__name__)

# The longest text Discord lets a person type into one box of a form: a longer article is
# attached as a file instead.
MAX_PASTED_CHARS = 4000
# How long a half-filled form waits for its moderator before the bot forgets it.
FORM_TIMEOUT_SECONDS = 30 * 60.0
# What a pasted article is read as: Markdown, with its headline as front matter.
PASTED_FILE_NAME = "pasted.md"
# Types that are never an article, whatever the file is called.
_MEDIA_TYPES = ("image/", "audio/", "video/")


def refusal_text(engine: Engine, refused: ShelfRefused) -> str:
    """Why a change to the shelf was refused, in prompts/discord_article_refused.j2's words."""
    return engine.render(
        "discord_article_refused",
        reason=str(refused.reason),
        detail=refused.detail,
        limit=refused.limit,
    )


def label(engine: Engine, part: str) -> str:
    """A word of the paste form or the confirmation buttons (prompts/discord_article_labels.j2)."""
    return engine.render("discord_article_labels", part=part)


def not_text(filename: str, content_type: str | None) -> bool:
    """Whether an attached file is plainly not an article, before downloading it: not named
    .txt or .md, or an image, a sound or a video by the type Discord gives. Any other type is
    left to the bytes (read_submission finds a binary file): Discord may call a text file
    application/octet-stream, or give no type at all."""
    suffix = os.path.splitext(filename)[1].lower()
    return suffix not in ARTICLE_SUFFIXES or (content_type or "").lower().startswith(_MEDIA_TYPES)


class ShelfCommands(commands.Cog):
    """Moderators add articles to their server's own shelf and remove them."""

    article = app_commands.Group(
        name="article",
        description="This server's own articles",
        guild_only=True,
        default_permissions=discord.Permissions(manage_guild=True),
    )

    def __init__(
        self, serving: ServingEngine, shelves: Shelves, moderator_role_ids: frozenset[int]
    ) -> None:
        self.serving = serving
        self.shelves = shelves
        self.moderator_role_ids = moderator_role_ids

    async def refuse_non_moderator(self, interaction: discord.Interaction, command: str) -> bool:
        """True, having told them why, when the person may not change the shelf here."""
        return await refuse_non_moderator(
            interaction, self.serving.current, self.moderator_role_ids, command
        )

    @article.command(
        name="add", description="Add an article to this server: attach it, or paste it"
    )
    @app_commands.describe(file="A .txt or .md file; leave it out to paste the text instead")
    async def add(
        self, interaction: discord.Interaction, file: discord.Attachment | None = None
    ) -> None:
        """Put an article on the server's shelf, from a file or from a form to paste it in."""
        if await self.refuse_non_moderator(interaction, "article add"):
            return
        engine = self.serving.current
        if file is None:
            await interaction.response.send_modal(PasteForm(self, engine))
            return
        # Checked before downloading: Discord says the name, type and size up front.
        early = None
        if not_text(file.filename, file.content_type):
            early = ShelfRefused(Refusal.NOT_TEXT, file.filename)
        elif file.size > MAX_FILE_BYTES:
            early = ShelfRefused(Refusal.TOO_LARGE, file.filename, MAX_FILE_BYTES)
        if early is not None:
            log.info("article add by %s refused: %s", who(interaction), early)
            await respond(interaction, refusal_text(engine, early), ephemeral=True)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            raw = await file.read()
        except DISCORD_FAILURES as error:
            log.warning(
                "article add by %s: %s could not be downloaded: %r",
                who(interaction),
                file.filename,
                error,
            )
            text = refusal_text(engine, ShelfRefused(Refusal.UNREADABLE, file.filename))
            await respond(interaction, text, ephemeral=True)
            return
        await self.put_on_shelf(interaction, engine, file.filename, raw)

    async def put_on_shelf(
        self, interaction: discord.Interaction, engine: Engine, file_name: str, raw: bytes
    ) -> None:
        """Read what the moderator gave, add it, and tell them what happened (the interaction
        already acknowledged)."""
        assert interaction.guild_id is not None
        try:
            submission = read_submission(file_name, raw)
            outcome = await asyncio.to_thread(
                self.shelves.add, engine, interaction.guild_id, submission, interaction.user.id
            )
        except ShelfRefused as refused:
            log.info("article add by %s refused: %s", who(interaction), refused)
            text = refusal_text(engine, refused)
        else:
            log.info(
                "article add by %s: %s %s", who(interaction), outcome.action, outcome.article_id
            )
            text = self.changed_text(engine, outcome, file_name)
        await respond(interaction, text, ephemeral=True)

    def changed_text(self, engine: Engine, outcome: ShelfOutcome, file_name: str = "") -> str:
        """What a moderator is told after a change went through, with what the loader noted
        about the file they gave."""
        return engine.render(
            "discord_article_changed",
            outcome=outcome,
            action=str(outcome.action),
            limit=self.shelves.limits.articles,
            notes=[LoadWarning(file_name, problem) for problem in outcome.notes],
        )

    @article.command(name="remove", description="Take one of this server's articles off")
    @app_commands.describe(article="Which of this server's articles")
    async def remove(
        self,
        interaction: discord.Interaction,
        article: app_commands.Range[str, 1, MAX_CHOICE_LENGTH],
    ) -> None:
        """Ask the moderator to confirm taking an article off the server's shelf."""
        if await self.refuse_non_moderator(interaction, "article remove"):
            return
        assert interaction.guild_id is not None
        engine = self.serving.current
        bookcase = await asyncio.to_thread(self.shelves.bookcase, engine, interaction.guild_id)
        own = bookcase.own_articles()
        chosen = next((a for a in own if a.id == article), None)
        if chosen is None:
            found = matching_articles(own, article)
            chosen = found[0] if len(found) == 1 else None
        if chosen is None:
            refused = ShelfRefused(Refusal.UNKNOWN_ARTICLE, article)
            await respond(interaction, refusal_text(engine, refused), ephemeral=True)
            return
        text = engine.render("discord_article_confirm", article=chosen)
        await respond(interaction, text, ephemeral=True, view=removal_buttons(engine, chosen.id))

    @remove.autocomplete("article")
    async def own_article_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        """Offer the server's own articles matching what has been typed so far."""
        if interaction.guild_id is None:
            return []
        engine = self.serving.current
        bookcase = await asyncio.to_thread(self.shelves.bookcase, engine, interaction.guild_id)
        found = matching_articles(bookcase.own_articles(), current)
        return [app_commands.Choice(name=choice_name(a.title), value=a.id) for a in found]


class PasteForm(discord.ui.Modal):
    """The form a moderator pastes an article into: its headline and its text."""

    def __init__(self, cog: ShelfCommands, engine: Engine) -> None:
        super().__init__(title=label(engine, "form"), timeout=FORM_TIMEOUT_SECONDS)
        self.cog = cog
        self.headline: discord.ui.TextInput[PasteForm] = discord.ui.TextInput(
            custom_id="headline", max_length=MAX_TITLE_CHARS
        )
        self.text: discord.ui.TextInput[PasteForm] = discord.ui.TextInput(
            custom_id="text", style=discord.TextStyle.paragraph, max_length=MAX_PASTED_CHARS
        )
        self.add_item(discord.ui.Label(text=label(engine, "headline"), component=self.headline))
        self.add_item(discord.ui.Label(text=label(engine, "text"), component=self.text))

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        """Add the pasted article, if the person may still change the shelf."""
        if await self.cog.refuse_non_moderator(interaction, "article add"):
            return
        engine = self.cog.serving.current
        await interaction.response.defer(ephemeral=True, thinking=True)
        raw = pasted_article(self.headline.value, self.text.value)
        await self.cog.put_on_shelf(interaction, engine, PASTED_FILE_NAME, raw)

    async def on_error(  # type: ignore[override]  # as discord.ui.Modal's own
        self, interaction: discord.Interaction[Any], error: Exception, /
    ) -> None:
        """The tree's error handler does not see modals: the same rules here."""
        text = explain(error, self.cog.serving.current)
        try:
            await respond(interaction, text, ephemeral=True)
        except DISCORD_FAILURES as failure:
            log.warning("could not tell %s a paste failed: %r", interaction.user, failure)


class RemovalButton(FlagButton, template=r"articlebot:remove:(?P<flag>[01]):(?P<subject>\S+)"):
    """Confirms (flag 1) or calls off (0) taking one article off the server's shelf. Its custom
    id carries the article, so a confirmation shown before a restart still works after it."""

    kind = "remove"
    yes_style = discord.ButtonStyle.danger

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Remove the article, or not, and say so in place of the question."""
        bot = cast("ArticleBot", interaction.client)
        cog = bot.get_cog(ShelfCommands.__cog_name__)
        assert isinstance(cog, ShelfCommands)
        async with bot.in_flight.track():
            if await cog.refuse_non_moderator(interaction, "article remove"):
                return
            assert interaction.guild_id is not None
            engine = cog.serving.current
            await interaction.response.defer()
            if not self.flag:
                text = engine.render("discord_article_kept", article_id=self.subject)
            else:
                try:
                    outcome = await asyncio.to_thread(
                        cog.shelves.remove,
                        engine,
                        interaction.guild_id,
                        self.subject,
                        interaction.user.id,
                    )
                except ShelfRefused as refused:
                    log.info("article remove by %s refused: %s", who(interaction), refused)
                    text = refusal_text(engine, refused)
                else:
                    log.info("article remove by %s: %s", who(interaction), outcome.article_id)
                    text = cog.changed_text(engine, outcome)
            await interaction.edit_original_response(content=text, view=None)


def removal_buttons(engine: Engine, article_id: str) -> discord.ui.View:
    """ "Remove" and "Keep" under the question whether to remove an article."""
    view = discord.ui.View(timeout=None)
    view.add_item(RemovalButton(article_id, True, label(engine, "remove")))
    view.add_item(RemovalButton(article_id, False, label(engine, "keep")))
    return view
