"""`DiscordStandIn`: the REST API and the gateway on one local port, plus the people using them."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Mapping
from types import TracebackType

from aiohttp import web

from .faults import Fault
from .gateway import Frame, Gateway
from .interactions import (
    APPLICATION_COMMAND,
    AUTOCOMPLETE,
    Interaction,
    build_options,
    check_availability,
    interaction_payload,
    new_interaction,
)
from .recording import Record
from .rest import BotMessage, Request, RestApi
from .world import PRIVILEGED_INTENTS, Channel, Json, User, World

ChannelRef = str | int | Channel


class DiscordStandIn:
    """A local Discord for one bot: point discord.py at `api_base` and `gateway_url`.

    Tests act as the people in `world` (post messages, use slash commands), steer the gateway
    (drop the connection, ask for a reconnect), make Discord fail, throttle or stall (the
    `*_next` methods) and wait for what the bot did through `requests`, `messages` and `frames`.
    """

    def __init__(
        self,
        world: World | None = None,
        *,
        allowed_privileged_intents: int = PRIVILEGED_INTENTS,
        interaction_deadline: float = 3.0,
    ):
        self.world = world or World.create()
        self.gateway = Gateway(self.world, allowed_privileged_intents=allowed_privileged_intents)
        self.rest = RestApi(self.world, self.gateway, interaction_deadline=interaction_deadline)
        self.port = 0
        self._runner: web.AppRunner | None = None

    # --- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on a free port of 127.0.0.1."""
        app = web.Application()
        self.rest.add_routes(app)
        app.router.add_get("/gateway", self.gateway.handle)
        app.router.add_get("/resume", self.gateway.handle)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        self.gateway.resume_url = f"ws://127.0.0.1:{self.port}/resume"

    async def stop(self) -> None:
        """Close every connection and stop listening."""
        if self._runner is not None:
            self.rest.faults.open_all()
            await self.gateway.close_all()
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> DiscordStandIn:
        await self.start()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def api_base(self) -> str:
        """What `discord.http.Route.BASE` must be."""
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        """What `discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY` must be."""
        return f"ws://127.0.0.1:{self.port}/gateway"

    @property
    def token(self) -> str:
        """The bot token this Discord accepts."""
        return self.world.token

    # --- what the bot did -----------------------------------------------------------------------

    @property
    def requests(self) -> Record[Request]:
        """Every REST request, in order."""
        return self.rest.requests

    @property
    def messages(self) -> Record[BotMessage]:
        """Every message the bot made appear, in order."""
        return self.rest.messages

    @property
    def frames(self) -> Record[Frame]:
        """Every gateway payload in both directions, in order."""
        return self.gateway.frames

    async def wait_for_request(
        self,
        method: str,
        path: str,
        *,
        where: Callable[[Request], bool] = lambda _: True,
        timeout: float = 5.0,
    ) -> Request:
        """The first request with `method` whose path matches the regex `path` entirely."""
        return await self.requests.wait_for(
            lambda r: r.method == method and re.fullmatch(path, r.path) is not None and where(r),
            timeout=timeout,
        )

    async def wait_for_answer(self, to: Interaction | Json, *, timeout: float = 5.0) -> BotMessage:
        """The bot's first message with text answering an interaction or replying to a message."""
        if isinstance(to, Interaction):
            interaction_id = to.id
            return await self.messages.wait_for(
                lambda m: m.interaction_id == interaction_id and bool(m.content), timeout=timeout
            )
        message_id = int(to["id"])
        return await self.messages.wait_for(lambda m: m.reply_to == message_id, timeout=timeout)

    async def wait_for_resume(self, *, timeout: float = 5.0) -> Frame:
        """The RESUMED event the gateway sent once the bot resumed its session."""
        after = len(self.frames)
        return await self.frames.wait_for(lambda f: f.t == "RESUMED", timeout=timeout, after=after)

    # --- acting as people -----------------------------------------------------------------------

    async def post_message(
        self, author: User, content: str, *, channel: ChannelRef = "general"
    ) -> Json:
        """`author` writes `content` in a channel; returns the message as Discord stored it."""
        message = self.world.message_payload(
            author=author, channel=self._channel(channel), content=content
        )
        self.rest.remember(message)
        self._require_session()
        await self.gateway.dispatch("MESSAGE_CREATE", message)
        return message

    async def invoke_command(
        self,
        user: User,
        name: str,
        options: Mapping[str, object] | None = None,
        *,
        channel: ChannelRef = "general",
        granted_by_override: bool = False,
        unchecked: bool = False,
    ) -> Interaction:
        """`user` runs `/name` with `options`; InteractionRefused if Discord would not send it.

        `granted_by_override` acts as a server admin's per-command override in Server Settings >
        Integrations, which lets a member run a command despite its default_member_permissions.
        `unchecked` sends it anyway, where Discord's own client would refuse (a DM for a server
        command, an option value beyond its length or choices), as a modified client or a proxy
        might: for testing what the bot does with input it was promised it would never get.
        """
        return await self._interact(
            APPLICATION_COMMAND,
            user,
            name,
            options or {},
            channel,
            None,
            granted_by_override,
            unchecked=unchecked,
        )

    async def request_autocomplete(
        self,
        user: User,
        name: str,
        options: Mapping[str, object],
        *,
        focused: str,
        channel: ChannelRef = "general",
    ) -> Interaction:
        """`user` is typing into option `focused` of `/name`: Discord asks the bot for choices."""
        return await self._interact(AUTOCOMPLETE, user, name, options, channel, focused, False)

    async def wait_for_choices(
        self, interaction: Interaction, *, timeout: float = 5.0
    ) -> list[Json]:
        """The choices the bot offered for an autocomplete request."""
        await self.wait_for_request(
            "POST",
            rf"/interactions/{interaction.id}/[^/]+/callback",
            where=lambda r: r.status < 300,
            timeout=timeout,
        )
        assert interaction.choices is not None
        return interaction.choices

    async def _interact(
        self,
        kind: int,
        user: User,
        name: str,
        options: Mapping[str, object],
        channel_ref: ChannelRef,
        focused: str | None,
        granted_by_override: bool,
        *,
        unchecked: bool = False,
    ) -> Interaction:
        channel = self._channel(channel_ref)
        command = self.rest.commands.find(name, channel)
        permissions = (
            0
            if channel.is_dm
            else self.world.guild.permissions_of(self.world.guild.member(user.id))
        )
        if not unchecked:
            check_availability(
                command, channel, permissions, granted_by_override=granted_by_override
            )
        built = build_options(command, options, focused=focused, check_values=not unchecked)
        interaction = new_interaction(
            self.world, kind, name, user, channel, asyncio.get_running_loop().time()
        )
        self.rest.interactions[interaction.id] = interaction
        self._require_session()
        await self.gateway.dispatch(
            "INTERACTION_CREATE", interaction_payload(self.world, interaction, command, built)
        )
        return interaction

    # --- making Discord fail --------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        path: str,
        *,
        status: int = 500,
        code: int = 0,
        message: str | None = None,
        times: int = 1,
    ) -> Fault:
        """Answer the next `times` requests matching `method` and the regex `path` with an error:
        a server error, or a refusal with Discord's JSON `code` (10015 Unknown Webhook...).

        discord.py retries a 500, 502 or 504 to the API after 1, 3, 5... seconds, and any 5xx to
        an interaction's webhook; a 503 to the API, and every 4xx, it raises at once.
        """
        if not 400 <= status < 600 or status == 429:
            raise ValueError(f"fail_next takes a 4xx or 5xx other than 429, got {status}")
        return self.rest.faults.add(
            Fault(method, path, times, status=status, code=code, message=message)
        )

    def rate_limit_next(
        self,
        method: str,
        path: str,
        *,
        retry_after: float = 0.25,
        times: int = 1,
        is_global: bool = False,
    ) -> Fault:
        """Answer the next `times` matching requests with a 429 asking to wait `retry_after`."""
        return self.rest.faults.add(
            Fault(method, path, times, status=429, retry_after=retry_after, is_global=is_global)
        )

    def hold_next(self, method: str, path: str, *, times: int = 1) -> Fault:
        """Keep the next `times` matching requests waiting until `fault.open()`, then answer them
        as usual: Discord being slow, on the test's command rather than on a clock."""
        return self.rest.faults.add(Fault(method, path, times, release=asyncio.Event()))

    # --- steering the gateway -------------------------------------------------------------------

    async def drop_connection(self, code: int | None = None) -> None:
        """Cut the bot's websocket (a network failure, or a close with `code`)."""
        await self.gateway.drop_connection(code)

    async def request_reconnect(self) -> None:
        """Send op 7 RECONNECT, as Discord does before moving a session."""
        await self.gateway.request_reconnect()

    def _channel(self, ref: ChannelRef) -> Channel:
        return ref if isinstance(ref, Channel) else self.world.channel(ref)

    def _require_session(self) -> None:
        if self.gateway.session is None:
            raise RuntimeError("the bot has not identified on the gateway yet")
