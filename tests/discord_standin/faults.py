"""Faults the stand-in can inject into the REST API: Discord failing, throttling or stalling.

A `Fault` takes the next `times` requests whose method and path match, and either answers them
with an error in Discord's own shape (a 5xx, a refusal such as 404 Unknown Webhook, or a 429
with the headers and body Discord sends with a rate limit), or holds them until the test
releases them, then answers normally. Held requests let a test catch the bot with answers in
flight (a shutdown, a slow Discord) without relying on timing.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import secrets
import time
from dataclasses import dataclass, field

from aiohttp import web

from .recording import Record

_REASONS = {
    404: "Not Found",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


@dataclass
class Fault:
    """What happens to the next `times` requests whose method and path (a regex matched against
    the whole path below the API base) match."""

    method: str
    path: str
    times: int
    status: int | None = None  # answer with this error instead of handling the request
    code: int = 0  # Discord's JSON error code for it
    message: str | None = None  # its message; by default "<status>: <reason>"
    retry_after: float = 0.0  # for a 429: seconds the bot is told to wait
    is_global: bool = False  # for a 429: the global rate limit rather than the route's
    release: asyncio.Event | None = None  # hold the request until set, then handle it
    arrived: Record[str] = field(default_factory=Record)  # paths of the requests it took

    def matches(self, method: str, path: str) -> bool:
        """Whether this fault takes a request (and still has requests left to take)."""
        return (
            len(self.arrived) < self.times
            and method == self.method
            and re.fullmatch(self.path, path) is not None
        )

    async def wait_until_taken(self, count: int | None = None, *, timeout: float = 5.0) -> None:
        """Until `count` requests (default: all `times`) have met this fault."""
        await self.arrived.wait_for(
            lambda _: True, after=(count or self.times) - 1, timeout=timeout
        )

    def open(self) -> None:
        """Let held requests (and later ones this fault takes) through."""
        if self.release is not None:
            self.release.set()

    def error_response(self) -> web.Response:
        """The response Discord sends for this fault's error status."""
        assert self.status is not None
        if self.status == 429:
            return _rate_limited(self.retry_after, is_global=self.is_global)
        reason = _REASONS.get(self.status, "Error")
        body = {"message": self.message or f"{self.status}: {reason}", "code": self.code}
        return web.Response(
            status=self.status,
            body=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )


def _rate_limited(retry_after: float, *, is_global: bool) -> web.Response:
    """A 429 as Discord sends it: the JSON body, the X-RateLimit headers, and Cloudflare's Via
    (discord.py treats a 429 without Via as a Cloudflare ban and gives up)."""
    body = {
        "message": "You are being rate limited.",
        "retry_after": retry_after,
        "global": is_global,
    }
    headers = {
        "Content-Type": "application/json",
        "Retry-After": str(math.ceil(retry_after)),
        "X-RateLimit-Limit": "5",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": f"{time.time() + retry_after:.3f}",
        "X-RateLimit-Reset-After": f"{retry_after:.3f}",
        "X-RateLimit-Bucket": secrets.token_hex(16),
        "X-RateLimit-Scope": "global" if is_global else "user",
        "Via": "1.1 google",
    }
    if is_global:
        headers["X-RateLimit-Global"] = "true"
    return web.Response(status=429, body=json.dumps(body).encode(), headers=headers)


class Faults:
    """The faults waiting for requests, in the order they were added."""

    def __init__(self) -> None:
        self._added: list[Fault] = []
        self._pending: list[Fault] = []

    def add(self, fault: Fault) -> Fault:
        """Arm `fault`; returns it, to wait on or release."""
        if fault.times < 1:
            raise ValueError(f"a fault must take at least one request, got times={fault.times}")
        self._added.append(fault)
        self._pending.append(fault)
        return fault

    def open_all(self) -> None:
        """Let every held request through and take no more (the stand-in is stopping)."""
        for fault in self._added:
            fault.open()
        self._pending.clear()

    async def take(self, method: str, path: str) -> Fault | None:
        """The first armed fault for this request, recorded as taken; None when there is none."""
        for fault in self._pending:
            if fault.matches(method, path):
                await fault.arrived.append(path)
                if len(fault.arrived) >= fault.times:
                    self._pending.remove(fault)
                return fault
        return None
