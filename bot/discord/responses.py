"""Sending the bot's words: every message pings nobody, deferred or not."""

from __future__ import annotations

import math
from typing import Any

import aiohttp
import discord

from bot.discord.cooldown import Cooldown
from bot.engine import Engine

# Answers quote articles and questions verbatim; nothing in them may notify anyone.
NO_PINGS = discord.AllowedMentions.none()

# Discord refusing or failing a request, or the connection to it breaking: nothing in the bot to
# fix, and never a reason to stop answering the next question.
DISCORD_FAILURES = (discord.HTTPException, aiohttp.ClientError, ConnectionError)

_ANSWERED = "articlebot.answered"  # key in Interaction.extras


async def respond(
    interaction: discord.Interaction,
    text: str,
    *,
    ephemeral: bool = False,
    view: discord.ui.View | None = None,
    file: discord.File | None = None,
) -> discord.Message | None:
    """Answer an interaction through its callback, or through a follow-up once it was deferred;
    the message the follow-up made, when there was one."""
    extras: dict[str, Any] = {}
    if view is not None:
        extras["view"] = view
    if file is not None:
        extras["file"] = file
    sent: discord.Message | None = None
    if interaction.response.is_done():
        sent = await interaction.followup.send(
            text, ephemeral=ephemeral, allowed_mentions=NO_PINGS, wait=True, **extras
        )
    else:
        await interaction.response.send_message(
            text, ephemeral=ephemeral, allowed_mentions=NO_PINGS, **extras
        )
    interaction.extras[_ANSWERED] = True
    return sent


async def respond_privately(interaction: discord.Interaction, text: str) -> None:
    """Tell only the person who asked, even when a public "thinking…" message is pending.

    Discord turns that pending message into the first follow-up and keeps it public, so it is
    deleted first; the follow-up after it is then free to be ephemeral.
    """
    deferred = interaction.response.type is discord.InteractionResponseType.deferred_channel_message
    if deferred and not interaction.extras.get(_ANSWERED):
        await interaction.delete_original_response()
    await respond(interaction, text, ephemeral=True)


def cooldown_text(engine: Engine, wait: float, action: str) -> str:
    """The message for someone who must wait `wait` seconds before their next `action`."""
    return engine.render("discord_cooldown", seconds=math.ceil(wait), action=action)


async def refuse_while_cooling_down(
    interaction: discord.Interaction, cooldown: Cooldown, engine: Engine, action: str
) -> bool:
    """Start the person's cooldown; or, when it is still running, tell them privately how long
    to wait and return True."""
    wait = cooldown.try_start(interaction.user.id)
    if wait:
        await respond(interaction, cooldown_text(engine, wait, action), ephemeral=True)
    return bool(wait)
