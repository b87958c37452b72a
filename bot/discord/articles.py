"""The articles themselves: `/summary`, `/sources`, `/articles` and `/help`, each seeing the
shared shelf and the server's own."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord.cooldown import Cooldown
from bot.discord.responses import refuse_while_cooling_down, respond
from bot.discord.serving import ServingEngine
from bot.engine import ArticleInfo
from bot.engine.bookcase import Bookcase
from bot.engine.engine import MAX_TOPIC_CHARS
from bot.engine.markup import DISCORD_MESSAGE_LIMIT
from bot.shelves import Shelves

# Discord's limits for one autocomplete answer: 25 choices, names and values of 100 characters.
MAX_CHOICES = 25
MAX_CHOICE_LENGTH = 100


def matching_articles(articles: list[ArticleInfo], typed: str) -> list[ArticleInfo]:
    """The articles whose title or id contains what the person typed, as Discord can offer them.

    An id longer than Discord's choice limit cannot round-trip as a value, so it is left out.
    """
    needle = typed.strip().casefold()
    found = [
        a
        for a in articles
        if len(a.id) <= MAX_CHOICE_LENGTH
        and (needle in a.title.casefold() or needle in a.id.casefold())
    ]
    return found[:MAX_CHOICES]


def choice_name(title: str) -> str:
    """An article title cut to fit a choice name."""
    if len(title) <= MAX_CHOICE_LENGTH:
        return title
    return title[: MAX_CHOICE_LENGTH - 1].rstrip() + "…"


def longest_fitting(render: Callable[[int], str], most: int) -> str | None:
    """`render(rows)` with the most rows (up to `most`) that fits in one Discord message, found
    in a few renders however long the list; None when not even 0 rows fit."""
    low, high, best = 0, most, None
    while low <= high:
        middle = (low + high) // 2
        text = render(middle)
        if len(text) <= DISCORD_MESSAGE_LIMIT:
            low, best = middle + 1, text
        else:
            high = middle - 1
    return best


class Articles(commands.Cog):
    """Summaries and the article lists."""

    def __init__(
        self,
        serving: ServingEngine,
        shelves: Shelves,
        cooldown: Cooldown,
        answer_channel_ids: frozenset[int],
    ) -> None:
        self.serving = serving
        self.shelves = shelves
        self.cooldown = cooldown
        self.answer_channel_ids = answer_channel_ids

    async def bookcase(self, interaction: discord.Interaction) -> Bookcase:
        """What this server is answered from (read off the event loop: it may load a shelf)."""
        return await asyncio.to_thread(
            self.shelves.bookcase, self.serving.current, interaction.guild_id
        )

    @app_commands.command(description="Summarize an article in its own words")
    @app_commands.describe(
        length="How long the summary should be",
        topic="Only what the article says about this",
        article="Which article to summarize",
    )
    async def summary(
        self,
        interaction: discord.Interaction,
        length: Literal["short", "medium", "long", "points"] = "short",
        # Discord's client enforces these limits; the engine copes with what a proxy sends.
        topic: app_commands.Range[str, 1, MAX_TOPIC_CHARS] | None = None,
        article: app_commands.Range[str, 1, MAX_CHOICE_LENGTH] | None = None,
    ) -> None:
        """Summarize one article, optionally around a topic."""
        engine = self.serving.current
        if await refuse_while_cooling_down(interaction, self.cooldown, engine, "question"):
            return
        await interaction.response.defer(thinking=True)
        bookcase = await self.bookcase(interaction)
        # Off the event loop: summarizing a long article is seconds of other servers' answers.
        reply = await asyncio.to_thread(
            bookcase.summarize, article=article, length=length, topic=topic
        )
        await respond(interaction, reply.text)

    @summary.autocomplete("article")
    async def article_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        """Offer the articles matching what has been typed so far."""
        articles = matching_articles((await self.bookcase(interaction)).articles(), current)
        return [app_commands.Choice(name=choice_name(a.title), value=a.id) for a in articles]

    @app_commands.command(description="List the articles I answer from")
    async def sources(self, interaction: discord.Interaction) -> None:
        """Show the article list to the person who asked."""
        bookcase = await self.bookcase(interaction)
        text = bookcase.render(
            "discord_sources", articles=bookcase.articles(), loaded_at=int(bookcase.loaded_at)
        )
        await respond(interaction, text, ephemeral=True)

    @app_commands.command(description="The articles on this server's shelf and the shared one")
    async def articles(self, interaction: discord.Interaction) -> None:
        """List both shelves with ids, titles and dates, the server's own first."""
        engine = self.serving.current
        guild_id = interaction.guild_id
        if guild_id is None:
            own = []
        else:
            own = await asyncio.to_thread(self.shelves.listing, engine, guild_id)
        shared = engine.articles()
        context = {
            "own": own,
            "shared": shared,
            "in_server": guild_id is not None,
            "limit": self.shelves.limits.articles,
        }
        text = longest_fitting(
            lambda rows: engine.prompts.render("discord_articles", rows=rows, **context),
            len(shared),
        )
        text = text or engine.render("discord_articles", rows=0, **context)
        await respond(interaction, text, ephemeral=True)

    @app_commands.command(name="help", description="How to ask me about the articles")
    async def help_command(self, interaction: discord.Interaction) -> None:
        """Explain the ways to ask."""
        bookcase = await self.bookcase(interaction)
        text = bookcase.render(
            "discord_help",
            articles=bookcase.articles(),
            answer_channel_ids=sorted(self.answer_channel_ids),
            cooldown_seconds=self.cooldown.seconds,
        )
        await respond(interaction, text, ephemeral=True)
