"""The REST half of the stand-in: the HTTP API v10 routes a discord.py 2.7 bot calls.

Every request is recorded. Responses are exactly what discord.py parses: JSON bodies with a
bare `application/json` content type, and Discord's own error codes where Discord refuses
(a second interaction callback, a follow-up before the callback, a message over 2000
characters, a reply to a message that does not exist, a request without the bot token).
Tests can make the next requests on a route fail, be rate limited or wait (see faults.py).
Successful responses carry no X-RateLimit headers, so discord.py keeps to one request at a time
per route and channel, where Discord would let it send a few at once.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from aiohttp import web

from .faults import Faults
from .gateway import Gateway
from .interactions import AUTOCOMPLETE, CommandStore, Interaction, command_problems
from .recording import Record
from .world import Channel, Json, World, iso_timestamp

log = logging.getLogger(__name__)

API_PREFIX = "/api/v10"
EPHEMERAL = 1 << 6
LOADING = 1 << 7
MESSAGE_CONTENT_LIMIT = 2000
CHAT_INPUT_COMMAND_MESSAGE, REPLY_MESSAGE, DEFAULT_MESSAGE = 20, 19, 0
# Application flags that tell a bot which privileged intents it may request (unverified app).
_LIMITED_INTENT_FLAGS = {1 << 8: 1 << 13, 1 << 1: 1 << 15, 1 << 15: 1 << 19}

_MESSAGE_PARTS = ("embeds", "attachments", "components", "sticker_ids", "poll")
_USER_MENTION = re.compile(r"<@!?(\d+)>")
_ROLE_MENTION = re.compile(r"<@&(\d+)>")
# Routes that authenticate with the interaction token in the path, not the bot token.
_TOKEN_ROUTES = re.compile(r"^/(interactions/\d+/[^/]+/callback|webhooks/\d+/[^/]+)")


@dataclass(frozen=True)
class Request:
    """One HTTP request the bot made, with what the stand-in answered."""

    method: str
    path: str  # below the API base, e.g. "/channels/1/messages"
    query: dict[str, str]
    json: Any
    status: int
    response: Any

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.path} -> {self.status}>"


@dataclass(frozen=True)
class BotMessage:
    """A message the bot made appear, whichever way it sent or edited it."""

    payload: Json  # the message as Discord returns it
    via: Literal["channel", "callback", "followup", "edit"]
    ephemeral: bool
    interaction_id: int | None
    reply_to: int | None  # id of the message it replies to, for channel replies
    pinged_users: frozenset[int]
    pinged_roles: frozenset[int]
    pinged_everyone: bool
    allowed_mentions: Json | None  # what the bot asked for, as sent
    at: float  # time.monotonic() when it appeared, to measure how long an answer took

    @property
    def content(self) -> str:
        """The text people see."""
        return str(self.payload["content"])

    @property
    def pinged_anyone(self) -> bool:
        """Whether anyone got a notification from it."""
        return bool(self.pinged_users or self.pinged_roles or self.pinged_everyone)

    def __repr__(self) -> str:
        return f"<BotMessage via={self.via} content={self.content[:60]!r}>"


class DiscordError(Exception):
    """A refusal in Discord's shape: HTTP status, JSON error code, message, field errors."""

    def __init__(self, status: int, code: int, message: str, errors: Json | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.errors = status, code, message, errors

    def response(self) -> web.Response:
        """The error as the HTTP response Discord sends."""
        body: Json = {"message": self.message, "code": self.code}
        if self.errors:
            body["errors"] = self.errors
        return json_response(body, status=self.status)


def json_response(data: Any, status: int = 200) -> web.Response:
    """A JSON response whose Content-Type is exactly `application/json`, as discord.py requires."""
    return web.Response(
        status=status, body=json.dumps(data).encode(), headers={"Content-Type": "application/json"}
    )


def invalid_form(field: str, code: str, message: str) -> DiscordError:
    """Discord's 50035 Invalid Form Body for one field."""
    return DiscordError(
        400, 50035, "Invalid Form Body", {field: {"_errors": [{"code": code, "message": message}]}}
    )


UNKNOWN_INTERACTION = DiscordError(404, 10062, "Unknown interaction")
ALREADY_ACKNOWLEDGED = DiscordError(400, 40060, "Interaction has already been acknowledged.")
UNKNOWN_WEBHOOK = DiscordError(404, 10015, "Unknown Webhook")
UNKNOWN_MESSAGE = DiscordError(404, 10008, "Unknown Message")
UNKNOWN_CHANNEL = DiscordError(404, 10003, "Unknown Channel")
EMPTY_MESSAGE = DiscordError(400, 50006, "Cannot send an empty message")
UNAUTHORIZED = DiscordError(401, 0, "401: Unauthorized")


class RestApi:
    """The HTTP routes, the requests they saw, and the messages the bot posted through them."""

    def __init__(self, world: World, gateway: Gateway, *, interaction_deadline: float = 3.0):
        self.world = world
        self.gateway = gateway
        self.commands = CommandStore(world)
        self.interaction_deadline = interaction_deadline
        self.requests: Record[Request] = Record()
        self.messages: Record[BotMessage] = Record()
        self.interactions: dict[int, Interaction] = {}
        self.known_messages: dict[int, Json] = {}  # every message in the world, for replies
        self.faults = Faults()

    def add_routes(self, app: web.Application) -> None:
        """Mount every route under /api/v10 on `app`."""
        app.middlewares.append(self._middleware)
        routes: list[tuple[str, str, Callable[[web.Request], Awaitable[web.StreamResponse]]]] = [
            ("GET", "/users/@me", self._get_me),
            ("GET", "/oauth2/applications/@me", self._get_application),
            ("GET", "/gateway", self._get_gateway),
            ("GET", "/gateway/bot", self._get_gateway),
            ("PUT", "/applications/{app}/commands", self._put_commands),
            ("GET", "/applications/{app}/commands", self._get_commands),
            ("PUT", "/applications/{app}/guilds/{guild}/commands", self._put_commands),
            ("GET", "/applications/{app}/guilds/{guild}/commands", self._get_commands),
            ("POST", "/interactions/{id}/{token}/callback", self._interaction_callback),
            ("POST", "/webhooks/{app}/{token}", self._post_followup),
            ("GET", "/webhooks/{app}/{token}/messages/{message}", self._get_webhook_message),
            ("PATCH", "/webhooks/{app}/{token}/messages/{message}", self._edit_webhook_message),
            ("DELETE", "/webhooks/{app}/{token}/messages/{message}", self._delete_webhook_message),
            ("GET", "/channels/{channel}", self._get_channel),
            ("POST", "/channels/{channel}/messages", self._post_channel_message),
            ("POST", "/channels/{channel}/typing", self._typing),
        ]
        for method, path, handler in routes:
            app.router.add_route(method, API_PREFIX + path, handler)

    # --- recording and authentication ---------------------------------------------------------

    @web.middleware
    async def _middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if not request.path.startswith(API_PREFIX):
            return await handler(request)  # the gateway websocket
        path = request.path.removeprefix(API_PREFIX)
        body = (
            await request.json()
            if request.can_read_body and request.content_type == "application/json"
            else None
        )
        try:
            if (
                not _TOKEN_ROUTES.match(path)
                and request.headers.get("Authorization") != f"Bot {self.world.token}"
            ):
                raise UNAUTHORIZED
            fault = await self.faults.take(request.method, path)
            if fault is not None and fault.status is not None:
                response = fault.error_response()
            else:
                if fault is not None and fault.release is not None:
                    await fault.release.wait()
                response = await handler(request)
        except DiscordError as refusal:
            response = refusal.response()
        except web.HTTPException as missing:
            # A route the stand-in does not know: say so loudly, answer as Discord does.
            log.warning("stand-in has no route for %s %s", request.method, path)
            response = json_response(
                {"message": f"{missing.status}: {missing.reason}", "code": 0}, missing.status
            )
        body_sent = response.body if isinstance(response, web.Response) else None
        answer = json.loads(body_sent) if isinstance(body_sent, bytes) and body_sent else None
        await self.requests.append(
            Request(request.method, path, dict(request.query), body, response.status, answer)
        )
        return response

    # --- login and gateway discovery ----------------------------------------------------------

    async def _get_me(self, request: web.Request) -> web.Response:
        return json_response(self.world.bot.private_payload())

    async def _get_application(self, request: web.Request) -> web.Response:
        allowed = self.gateway.allowed_privileged_intents
        flags = sum(flag for intent, flag in _LIMITED_INTENT_FLAGS.items() if allowed & intent)
        return json_response(self.world.application_payload(flags))

    async def _get_gateway(self, request: web.Request) -> web.Response:
        url = self.gateway.resume_url.rsplit("/", 1)[0] + "/gateway"
        if not request.path.endswith("/bot"):
            return json_response({"url": url})
        limit = {"total": 1000, "remaining": 999, "reset_after": 86_400_000, "max_concurrency": 1}
        return json_response({"url": url, "shards": 1, "session_start_limit": limit})

    # --- application commands -----------------------------------------------------------------

    async def _put_commands(self, request: web.Request) -> web.Response:
        scope = self._command_scope(request)
        body = await request.json()
        problems = command_problems(body)
        if problems:
            raise DiscordError(400, 50035, "Invalid Form Body", problems)
        return json_response(self.commands.replace(scope, body))

    async def _get_commands(self, request: web.Request) -> web.Response:
        return json_response(self.commands.by_scope.get(self._command_scope(request), []))

    def _command_scope(self, request: web.Request) -> int | None:
        if int(request.match_info["app"]) != self.world.application_id:
            raise DiscordError(403, 50001, "Missing Access")
        guild = request.match_info.get("guild")
        if guild is not None and int(guild) != self.world.guild.id:
            raise DiscordError(403, 50001, "Missing Access")
        return None if guild is None else int(guild)

    # --- interaction responses ----------------------------------------------------------------

    async def _interaction_callback(self, request: web.Request) -> web.Response:
        interaction = self.interactions.get(int(request.match_info["id"]))
        if interaction is None or interaction.token != request.match_info["token"]:
            raise UNKNOWN_INTERACTION
        if interaction.acknowledged:
            raise ALREADY_ACKNOWLEDGED
        if asyncio.get_running_loop().time() - interaction.created_at > self.interaction_deadline:
            raise UNKNOWN_INTERACTION  # the token lapsed: Discord already told the user it failed
        body = await request.json()
        kind, data = body.get("type"), body.get("data") or {}
        allowed = {8} if interaction.type == AUTOCOMPLETE else {4, 5}
        if kind not in allowed:
            raise invalid_form(
                "type",
                "INTERACTION_RESPONSE_TYPE_INVALID",
                f"Response type {kind} is not allowed here",
            )
        if kind == 8:
            interaction.choices = _checked_choices(data.get("choices"))
        else:
            ephemeral = bool((data.get("flags") or 0) & EPHEMERAL)
            if kind == 4:
                _check_message(data)
                message = self._interaction_message(interaction, data, ephemeral=ephemeral)
            else:
                message = self._interaction_message(
                    interaction, {"content": "", "flags": LOADING}, ephemeral=ephemeral
                )
            interaction.ephemeral, interaction.loading, interaction.original = (
                ephemeral,
                kind == 5,
                message,
            )
            if kind == 4:
                await self._publish(message, "callback", data, interaction=interaction)
            elif not ephemeral:
                await self.gateway.dispatch(
                    "MESSAGE_CREATE", message
                )  # the "is thinking..." message
        interaction.response_type = kind
        if request.query.get("with_response") not in ("1", "true", "True"):
            return web.Response(status=204)
        return json_response(_callback_payload(interaction))

    async def _post_followup(self, request: web.Request) -> web.Response:
        interaction = self._webhook_interaction(request)
        body = await request.json()
        _check_message(body)
        if interaction.loading:
            # The first follow-up after a defer resolves the loading message and keeps its
            # visibility, whatever flags it carries.
            assert interaction.original is not None
            resolved = {
                **interaction.original,
                "content": body.get("content") or "",
                "flags": _flags(interaction.ephemeral),
            }
            interaction.original, interaction.loading = resolved, False
            await self._publish(resolved, "followup", body, interaction=interaction, update=True)
            return json_response(resolved)
        ephemeral = bool((body.get("flags") or 0) & EPHEMERAL)
        message = self._interaction_message(
            interaction, body, ephemeral=ephemeral, message_type=DEFAULT_MESSAGE
        )
        interaction.followups.append(message)
        await self._publish(message, "followup", body, interaction=interaction)
        return json_response(message)

    async def _get_webhook_message(self, request: web.Request) -> web.Response:
        interaction = self._webhook_interaction(request)
        return json_response(_find_message(interaction, request.match_info["message"]))

    async def _edit_webhook_message(self, request: web.Request) -> web.Response:
        interaction = self._webhook_interaction(request)
        target = _find_message(interaction, request.match_info["message"])
        body = await request.json()
        was_loading = target is interaction.original and interaction.loading
        content = body["content"] if "content" in body else target["content"]
        edited = {
            **target,
            "content": content or "",
            "flags": _flags(
                interaction.ephemeral if was_loading else bool(target["flags"] & EPHEMERAL)
            ),
        }
        if not was_loading:
            edited["edited_timestamp"] = iso_timestamp()
        _check_message(edited)
        if target is interaction.original:
            interaction.original, interaction.loading = edited, False
        else:
            interaction.followups = [edited if m is target else m for m in interaction.followups]
        await self._publish(edited, "edit", body, interaction=interaction, update=True)
        return json_response(edited)

    async def _delete_webhook_message(self, request: web.Request) -> web.Response:
        interaction = self._webhook_interaction(request)
        target = _find_message(interaction, request.match_info["message"])
        if target is interaction.original:
            interaction.original, interaction.loading = None, False
        else:
            interaction.followups = [m for m in interaction.followups if m is not target]
        return web.Response(status=204)

    def _webhook_interaction(self, request: web.Request) -> Interaction:
        # An interaction's webhook exists only once the interaction has been acknowledged.
        token = request.match_info["token"]
        found = next((i for i in self.interactions.values() if i.token == token), None)
        if (
            found is None
            or int(request.match_info["app"]) != self.world.application_id
            or found.type == AUTOCOMPLETE
            or not found.acknowledged
        ):
            raise UNKNOWN_WEBHOOK
        return found

    def _interaction_message(
        self,
        interaction: Interaction,
        body: Json,
        *,
        ephemeral: bool,
        message_type: int = CHAT_INPUT_COMMAND_MESSAGE,
    ) -> Json:
        flags = (body.get("flags") or 0) & LOADING
        return self.world.message_payload(
            author=self.world.bot,
            channel=interaction.channel,
            content=body.get("content") or "",
            message_type=message_type,
            extra={
                "flags": flags | _flags(ephemeral),
                "webhook_id": str(self.world.application_id),
                "application_id": str(self.world.application_id),
                "interaction_metadata": {
                    "id": str(interaction.id),
                    "type": interaction.type,
                    "name": interaction.command_name,
                    "command_type": 1,
                    "user": interaction.user.payload(),
                    "authorizing_integration_owners": {"0": str(self.world.guild.id)},
                },
            },
        )

    # --- channels -----------------------------------------------------------------------------

    async def _get_channel(self, request: web.Request) -> web.Response:
        return json_response(self._channel(request).payload())

    async def _post_channel_message(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        body = await request.json()
        _check_message(body)
        extra: Json = {}
        reference = body.get("message_reference")
        if reference:
            referenced = self.known_messages.get(int(reference.get("message_id", 0)))
            if referenced is None or int(referenced["channel_id"]) != channel.id:
                if reference.get("fail_if_not_exists", True):
                    raise invalid_form(
                        "message_reference", "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "Unknown message"
                    )
                reference = None
            else:
                extra = {
                    "message_reference": {
                        "type": 0,
                        "message_id": referenced["id"],
                        "channel_id": referenced["channel_id"],
                        **(
                            {"guild_id": referenced["guild_id"]} if "guild_id" in referenced else {}
                        ),
                    },
                    "referenced_message": referenced,
                }
        message = self.world.message_payload(
            author=self.world.bot,
            channel=channel,
            content=body.get("content") or "",
            message_type=REPLY_MESSAGE if reference else DEFAULT_MESSAGE,
            extra=extra,
        )
        return json_response(await self._publish(message, "channel", body))

    async def _typing(self, request: web.Request) -> web.Response:
        self._channel(request)
        return web.Response(status=204)

    def _channel(self, request: web.Request) -> Channel:
        try:
            return self.world.channel(int(request.match_info["channel"]))
        except KeyError:
            raise UNKNOWN_CHANNEL from None

    # --- publishing ---------------------------------------------------------------------------

    async def _publish(
        self,
        message: Json,
        via: Literal["channel", "callback", "followup", "edit"],
        body: Json,
        *,
        interaction: Interaction | None = None,
        update: bool = False,
    ) -> Json:
        """Work out who gets pinged, record the message, and echo it to the bot's gateway."""
        referenced = message.get("referenced_message")
        replied_author = int(referenced["author"]["id"]) if referenced else None
        users, roles, everyone = _pings(
            message["content"], body.get("allowed_mentions"), replied_author
        )
        known_users = {m.user.id: m for m in self.world.guild.members}
        message["mentions"] = [
            {**known_users[u].user.payload(), "member": known_users[u].payload(with_user=False)}
            for u in sorted(users)
            if u in known_users
        ]
        message["mention_roles"] = [str(r) for r in sorted(roles)]
        message["mention_everyone"] = everyone
        ephemeral = bool(message["flags"] & EPHEMERAL)
        self.known_messages[int(message["id"])] = message
        await self.messages.append(
            BotMessage(
                payload=message,
                via=via,
                ephemeral=ephemeral,
                interaction_id=interaction.id if interaction else None,
                reply_to=int(referenced["id"]) if referenced else None,
                pinged_users=frozenset(users),
                pinged_roles=frozenset(roles),
                pinged_everyone=everyone,
                allowed_mentions=body.get("allowed_mentions"),
                at=time.monotonic(),
            )
        )
        if not ephemeral:  # Discord shows the bot its own messages too
            await self.gateway.dispatch("MESSAGE_UPDATE" if update else "MESSAGE_CREATE", message)
        return message

    def remember(self, message: Json) -> None:
        """Make a message someone else posted known, so the bot may reply to it."""
        self.known_messages[int(message["id"])] = message


def _check_message(body: Json) -> None:
    """Refuse a message body the way Discord does."""
    content = body.get("content")
    if content is not None and not isinstance(content, str):
        raise invalid_form("content", "BASE_TYPE_STRING", "Must be a string.")
    if content and len(content) > MESSAGE_CONTENT_LIMIT:
        raise invalid_form(
            "content",
            "BASE_TYPE_MAX_LENGTH",
            f"Must be {MESSAGE_CONTENT_LIMIT} or fewer in length.",
        )
    has_other_parts = any(body.get(k) for k in _MESSAGE_PARTS) or (body.get("flags") or 0) & LOADING
    if not content and not has_other_parts:
        raise EMPTY_MESSAGE
    allowed = body.get("allowed_mentions") or {}
    for kind in ("users", "roles"):
        if kind in (allowed.get("parse") or []) and allowed.get(kind):
            raise invalid_form(
                "allowed_mentions",
                "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                f'parse:["{kind}"] and {kind}: [ids] are mutually exclusive.',
            )


def _checked_choices(choices: object) -> list[Json]:
    if not isinstance(choices, list) or len(choices) > 25:
        raise invalid_form("data.choices", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
    for choice in choices:
        name, value = choice.get("name"), choice.get("value")
        if not isinstance(name, str) or not 1 <= len(name) <= 100:
            raise invalid_form(
                "data.choices.name", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
            )
        if isinstance(value, str) and len(value) > 100:
            raise invalid_form(
                "data.choices.value", "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length."
            )
    return choices


def _pings(
    content: str, allowed: Json | None, replied_author: int | None
) -> tuple[set[int], set[int], bool]:
    """Who a message notifies: its mentions, filtered by allowed_mentions as Discord does."""
    users = {int(u) for u in _USER_MENTION.findall(content)}
    roles = {int(r) for r in _ROLE_MENTION.findall(content)}
    everyone = "@everyone" in content or "@here" in content
    if allowed is None:  # no allowed_mentions: everything in the text pings, and so does a reply
        return users | ({replied_author} if replied_author else set()), roles, everyone
    parse = set(allowed.get("parse") or [])
    users = users if "users" in parse else users & {int(u) for u in allowed.get("users") or []}
    roles = roles if "roles" in parse else roles & {int(r) for r in allowed.get("roles") or []}
    if replied_author and allowed.get("replied_user", False):
        users.add(replied_author)
    return users, roles, everyone and "everyone" in parse


def _flags(ephemeral: bool) -> int:
    return EPHEMERAL if ephemeral else 0


def _find_message(interaction: Interaction, message_id: str) -> Json:
    if message_id == "@original":
        if interaction.original is None:
            raise UNKNOWN_MESSAGE
        return interaction.original
    for message in interaction.followups:
        if message["id"] == message_id:
            return message
    raise UNKNOWN_MESSAGE


def _callback_payload(interaction: Interaction) -> Json:
    # The `with_response=true` body: what the interaction now is, and what the response made.
    described: Json = {"id": str(interaction.id), "type": interaction.type}
    resource: Json = {"type": interaction.response_type}
    if interaction.original is not None:
        described |= {
            "response_message_id": interaction.original["id"],
            "response_message_loading": interaction.loading,
            "response_message_ephemeral": interaction.ephemeral,
        }
        if interaction.response_type == 4:
            resource["message"] = interaction.original
    return {"interaction": described, "resource": resource}
