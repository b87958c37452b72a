"""The link that adds the bot to a server, with exactly the permissions it uses."""

from __future__ import annotations

import discord

# Read the channel, answer in it and in its threads, and reply to (reference) the question.
BOT_PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    read_message_history=True,
)
SCOPES = ("bot", "applications.commands")


def invite_url(application_id: int) -> str:
    """The OAuth2 invite URL for the application with the bot's scopes and permissions."""
    return discord.utils.oauth_url(application_id, permissions=BOT_PERMISSIONS, scopes=SCOPES)
