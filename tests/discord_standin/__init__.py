"""A local stand-in for Discord's API v10, so tests run the real discord.py bot over real sockets.

Point discord.py at it with `discord.http.Route.BASE = standin.api_base` and
`discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(standin.gateway_url)`.
It refuses what Discord refuses, so a test that passes here does not lean on a lenient fake.
"""

from .faults import Fault
from .files import AttachedFile, Attachment
from .gateway import Frame
from .interactions import ActionRefused, Interaction, InteractionRefused
from .rest import BotMessage, Request
from .server import DiscordStandIn
from .world import GUILD_MEMBERS, MESSAGE_CONTENT, PRIVILEGED_INTENTS, Channel, Thread, User, World

__all__ = [
    "GUILD_MEMBERS",
    "MESSAGE_CONTENT",
    "PRIVILEGED_INTENTS",
    "ActionRefused",
    "AttachedFile",
    "Attachment",
    "BotMessage",
    "Channel",
    "DiscordStandIn",
    "Fault",
    "Frame",
    "Interaction",
    "InteractionRefused",
    "Request",
    "Thread",
    "User",
    "World",
]
