"""Running a real discord.py client against the stand-in for the length of a test."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import discord

from .server import DiscordStandIn

# The `start_standin` fixture: starts a stand-in with these DiscordStandIn keywords.
StandInFactory = Callable[..., Awaitable[DiscordStandIn]]


@asynccontextmanager
async def running(
    client: discord.Client, standin: DiscordStandIn, *, timeout: float = 10.0
) -> AsyncIterator[None]:
    """Log `client` in with the stand-in's token, connect, wait for READY, close afterwards.

    This is `client.start()` in two steps, so that a client that dies before it is ready (a
    refused token or intent) raises its own exception here instead of a bare timeout.
    """
    try:
        await client.login(standin.token)
    except BaseException:
        await client.close()  # login opened an HTTP session; do not leak it
        raise
    connection = asyncio.create_task(client.connect(), name="discord-client")
    try:
        ready = asyncio.create_task(client.wait_until_ready())
        done, _ = await asyncio.wait(
            {connection, ready}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
        ready.cancel()
        if connection in done:
            connection.result()  # re-raises why the client stopped
            raise RuntimeError("the client stopped before it was ready")
        if ready not in done:
            raise TimeoutError(f"the client was not ready within {timeout}s")
        yield
    finally:
        await client.close()
        async with asyncio.timeout(timeout):
            await asyncio.gather(connection, return_exceptions=True)
