"""Where discord.py sends its requests: Discord itself, or a compatible server of our choosing."""

from __future__ import annotations

import discord
import yarl
from discord.gateway import DiscordWebSocket


def use_endpoints(api_base: str | None, gateway_url: str | None) -> None:
    """Point discord.py's REST calls at `api_base` and its gateway at `gateway_url`.

    discord.py reads both from class attributes, so this affects every client in the process;
    None leaves Discord's own endpoint in place.
    """
    if api_base:
        discord.http.Route.BASE = api_base.rstrip("/")
    if gateway_url:
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)
