"""The REST half of the stand-in: the HTTP API v10 routes a discord.py 2.7 bot calls.

Every request is recorded. Responses are exactly what discord.py parses: JSON bodies with a
bare `application/json` content type, and Discord's own error codes where Discord refuses
(a second interaction callback, a follow-up before the callback, a message over 2000
characters, a reply to a message that does not exist, a request without the bot token, a
button without a custom_id, a file over the upload limit, a second thread from one message, a
modal that breaks modals.py's rules or answers an interaction that cannot take one).
Message bodies may come as JSON or, with files, as multipart/form-data (see files.py); either
way the request is recorded with its JSON. Tests can make the next requests on a route fail, be
rate limited or wait (see faults.py). Successful responses carry no X-RateLimit headers, so
discord.py keeps to one request at a time per route and channel, where Discord would let it
send a few at once.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from aiohttp import web

from .components import BUTTON, component_problems, stored_components, walk
from .errors import (
    DiscordError,
    Path,
    form_error,
    invalid_form,
    json_response,
)
from .faults import Faults
from .files import MAX_ATTACHMENTS, Attachment, Body, Upload, detected_type, read_body
from .gateway import Gateway
from .interactions import (
    AUTOCOMPLETE,
    MESSAGE_COMPONENT,
    MODAL_SUBMIT,
    CommandStore,
    Interaction,
    command_problems,
)
from .modals import modal_problems, stored_modal
from .recording import Record
from .world import (
    HAS_THREAD,
    THREAD_AUTO_ARCHIVE_MINUTES,
    Channel,
    Json,
    Thread,
    User,
    World,
    iso_timestamp,
)

log = logging.getLogger(__name__)

API_PREFIX = "/api/v10"
CDN_PREFIX = "/attachments"  # where the stand-in serves uploaded files, as cdn.discordapp.com
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

Via = Literal["channel", "callback", "followup", "edit"]


@dataclass(frozen=True)
class Request:
    """One HTTP request the bot made, with what the stand-in answered."""

    method: str
    path: str  # below the API base, e.g. "/channels/1/messages"
    query: dict[str, str]
    json: Any  # the JSON body; for a multipart body, its payload_json
    status: int
    response: Any
    files: tuple[str, ...] = ()  # names of the files a multipart body uploaded, in field order

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.path} -> {self.status}>"


@dataclass(frozen=True)
class BotMessage:
    """A message the bot made appear, whichever way it sent or edited it."""

    payload: Json  # the message as Discord returns it
    via: Via
    ephemeral: bool
    interaction_id: int | None  # the interaction it answers, or whose click edited it
    reply_to: int | None  # id of the message it replies to (or whose button it answers)
    pinged_users: frozenset[int]
    pinged_roles: frozenset[int]
    pinged_everyone: bool
    allowed_mentions: Json | None  # what the bot asked for, as sent
    at: float  # time.monotonic() when it appeared, to measure how long an answer took
    attachments: tuple[Attachment, ...] = ()  # its files, with the bytes the bot uploaded

    @property
    def content(self) -> str:
        """The text people see."""
        return str(self.payload["content"])

    @property
    def pinged_anyone(self) -> bool:
        """Whether anyone got a notification from it."""
        return bool(self.pinged_users or self.pinged_roles or self.pinged_everyone)

    @property
    def components(self) -> list[Json]:
        """Its action rows, as Discord stored them."""
        return list(self.payload.get("components") or [])

    @property
    def buttons(self) -> list[Json]:
        """Every button on it, row by row."""
        return [c for c in walk(self.components) if c.get("type") == BUTTON]

    def __repr__(self) -> str:
        return f"<BotMessage via={self.via} content={self.content[:60]!r}>"


UNKNOWN_INTERACTION = DiscordError(404, 10062, "Unknown interaction")
ALREADY_ACKNOWLEDGED = DiscordError(400, 40060, "Interaction has already been acknowledged.")
UNKNOWN_WEBHOOK = DiscordError(404, 10015, "Unknown Webhook")
UNKNOWN_MESSAGE = DiscordError(404, 10008, "Unknown Message")
UNKNOWN_CHANNEL = DiscordError(404, 10003, "Unknown Channel")
EMPTY_MESSAGE = DiscordError(400, 50006, "Cannot send an empty message")
NOT_THE_AUTHOR = DiscordError(403, 50005, "Cannot edit a message authored by another user")
WRONG_CHANNEL_TYPE = DiscordError(400, 50024, "Cannot execute action on this channel type")
THREAD_EXISTS = DiscordError(400, 160004, "A thread has already been created for this message")
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
        # Every message in the world, as it is now (edits replace it), for replies and clicks.
        self.known_messages: dict[int, Json] = {}
        self.files: dict[int, Attachment] = {}  # every uploaded attachment, by its id
        self.cdn_base = ""  # http://host:port the stand-in serves attachments from
        self.faults = Faults()
        self._bodies: dict[int, Body] = {}  # by id() of the request being handled

    def add_routes(self, app: web.Application) -> None:
        """Mount every route under /api/v10 on `app`, and the attachments' CDN beside them."""
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
            ("PATCH", "/channels/{channel}/messages/{message}", self._edit_channel_message),
            ("POST", "/channels/{channel}/messages/{message}/threads", self._post_thread),
            ("POST", "/channels/{channel}/typing", self._typing),
        ]
        for method, path, handler in routes:
            app.router.add_route(method, API_PREFIX + path, handler)
        app.router.add_get(CDN_PREFIX + "/{channel}/{attachment}/{filename}", self._get_file)

    # --- recording and authentication ---------------------------------------------------------

    @web.middleware
    async def _middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if not request.path.startswith(API_PREFIX):
            return await handler(request)  # the gateway websocket, the attachments' CDN
        path = request.path.removeprefix(API_PREFIX)
        body, unreadable = Body(None, {}), None
        try:
            body = await read_body(request)
        except DiscordError as refusal:  # a file over the upload limit
            unreadable = refusal
        self._bodies[id(request)] = body  # for the handler, as the body can be read only once
        try:
            if (
                not _TOKEN_ROUTES.match(path)
                and request.headers.get("Authorization") != f"Bot {self.world.token}"
            ):
                raise UNAUTHORIZED
            if unreadable is not None:
                raise unreadable
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
        finally:
            del self._bodies[id(request)]
        body_sent = response.body if isinstance(response, web.Response) else None
        answer = json.loads(body_sent) if isinstance(body_sent, bytes) and body_sent else None
        files = tuple(upload.filename for _, upload in sorted(body.uploads.items()))
        await self.requests.append(
            Request(
                request.method, path, dict(request.query), body.json, response.status, answer, files
            )
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
        limit = {
            "total": 1000,
            "remaining": 999,
            "reset_after": 86_400_000,
            "max_concurrency": self.gateway.max_concurrency,
        }
        shards = self.gateway.recommended_shards
        return json_response({"url": url, "shards": shards, "session_start_limit": limit})

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
        if guild is not None and int(guild) not in {g.id for g in self.world.guilds}:
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
        body = self._body(request)
        payload = body.json or {}
        kind, data = payload.get("type"), payload.get("data") or {}
        if kind not in _allowed_responses(interaction):
            raise invalid_form(
                "type",
                "INTERACTION_RESPONSE_TYPE_INVALID",
                f"Response type {kind} is not allowed here",
            )
        if kind == 8:
            interaction.choices = _checked_choices(data.get("choices"))
        elif kind == 9:
            problems = modal_problems(data)
            if problems:
                raise DiscordError(400, 50035, "Invalid Form Body", problems)
            interaction.modal = stored_modal(data)
        elif kind in (4, 5):
            await self._respond_with_message(interaction, kind, data, body.uploads)
        else:
            await self._update_clicked_message(interaction, kind, data, body.uploads)
        interaction.response_type = kind
        if request.query.get("with_response") not in ("1", "true", "True"):
            return web.Response(status=204)
        return json_response(_callback_payload(interaction))

    async def _respond_with_message(
        self, interaction: Interaction, kind: int, data: Json, uploads: Mapping[int, Upload]
    ) -> None:
        """Callback type 4 (a message) or 5 (a "thinking..." message to edit later)."""
        ephemeral = bool((data.get("flags") or 0) & EPHEMERAL)
        if kind == 4:
            _check_message(data, uploads, where=("data",))
            message = self._interaction_message(interaction, data, ephemeral=ephemeral)
            message = self._compose(message, data, uploads, where=("data",), fresh=True)
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
            await self.gateway.dispatch("MESSAGE_CREATE", message)  # the "is thinking..." message

    async def _update_clicked_message(
        self, interaction: Interaction, kind: int, data: Json, uploads: Mapping[int, Upload]
    ) -> None:
        """Callback type 6 (acknowledge, edit later) or 7 (edit now) to a click: both make the
        clicked message the one the interaction's webhook edits as "@original"."""
        assert interaction.message is not None
        clicked = self.known_messages.get(int(interaction.message["id"]))
        if clicked is None:
            raise UNKNOWN_MESSAGE  # deleted since the click
        interaction.ephemeral = bool(clicked["flags"] & EPHEMERAL)
        interaction.loading, interaction.original = False, clicked
        if kind == 7:
            _check_message(data, uploads, where=("data",), edit=True)
            edited = self._compose(clicked, data, uploads, where=("data",), fresh=False)
            edited["edited_timestamp"] = iso_timestamp()
            if _is_empty(edited):
                raise EMPTY_MESSAGE
            interaction.original = edited
            await self._publish(edited, "edit", data, interaction=interaction, update=True)

    async def _post_followup(self, request: web.Request) -> web.Response:
        interaction = self._webhook_interaction(request)
        body = self._body(request)
        payload = body.json or {}
        _check_message(payload, body.uploads)
        if interaction.loading:
            # The first follow-up after a defer resolves the loading message and keeps its
            # visibility, whatever flags it carries.
            assert interaction.original is not None
            resolved = self._compose(
                {**interaction.original, "flags": _flags(interaction.ephemeral)},
                payload,
                body.uploads,
                fresh=True,
            )
            interaction.original, interaction.loading = resolved, False
            await self._publish(resolved, "followup", payload, interaction=interaction, update=True)
            return json_response(resolved)
        ephemeral = bool((payload.get("flags") or 0) & EPHEMERAL)
        message = self._interaction_message(
            interaction, payload, ephemeral=ephemeral, followup=True
        )
        message = self._compose(message, payload, body.uploads, fresh=True)
        interaction.followups.append(message)
        await self._publish(message, "followup", payload, interaction=interaction)
        return json_response(message)

    async def _get_webhook_message(self, request: web.Request) -> web.Response:
        interaction = self._webhook_interaction(request)
        return json_response(self._find_message(interaction, request.match_info["message"]))

    async def _edit_webhook_message(self, request: web.Request) -> web.Response:
        interaction = self._webhook_interaction(request)
        target = self._find_message(interaction, request.match_info["message"])
        body = self._body(request)
        payload = body.json or {}
        is_original = (
            interaction.original is not None and target["id"] == interaction.original["id"]
        )
        was_loading = is_original and interaction.loading
        _check_message(payload, body.uploads, edit=True)
        ephemeral = interaction.ephemeral if was_loading else bool(target["flags"] & EPHEMERAL)
        edited = self._compose(
            {**target, "flags": (target["flags"] & ~(EPHEMERAL | LOADING)) | _flags(ephemeral)},
            payload,
            body.uploads,
            fresh=False,
        )
        if not was_loading:
            edited["edited_timestamp"] = iso_timestamp()
        if _is_empty(edited):
            raise EMPTY_MESSAGE
        if is_original:
            interaction.original, interaction.loading = edited, False
        else:
            interaction.followups = [
                edited if m["id"] == edited["id"] else m for m in interaction.followups
            ]
        await self._publish(edited, "edit", payload, interaction=interaction, update=True)
        return json_response(edited)

    async def _delete_webhook_message(self, request: web.Request) -> web.Response:
        interaction = self._webhook_interaction(request)
        target = self._find_message(interaction, request.match_info["message"])
        if interaction.original is not None and target["id"] == interaction.original["id"]:
            interaction.original, interaction.loading = None, False
        else:
            interaction.followups = [m for m in interaction.followups if m["id"] != target["id"]]
        await self._forget(target)
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

    def _find_message(self, interaction: Interaction, message_id: str) -> Json:
        """The interaction's original response or one of its follow-ups, as it is now."""
        if message_id == "@original":
            found = interaction.original
        else:
            found = next((m for m in interaction.followups if m["id"] == message_id), None)
        if found is None:
            raise UNKNOWN_MESSAGE
        # The message may have changed since through another path (a click's update).
        return self.known_messages.get(int(found["id"]), found)

    def _interaction_message(
        self, interaction: Interaction, body: Json, *, ephemeral: bool, followup: bool = False
    ) -> Json:
        """A new message made by an interaction response or follow-up, before its parts."""
        flags = (body.get("flags") or 0) & LOADING
        metadata: Json = {
            "id": str(interaction.id),
            "type": interaction.type,
            "user": interaction.user.payload(),
            "authorizing_integration_owners": {
                "0": "0" if interaction.channel.is_dm else str(interaction.channel.guild_id)
            },
        }
        extra: Json = {}
        message_type = DEFAULT_MESSAGE if followup else CHAT_INPUT_COMMAND_MESSAGE
        if interaction.type == MESSAGE_COMPONENT:
            assert interaction.message is not None
            metadata["interacted_message_id"] = interaction.message["id"]
            if not followup:
                # A response to a click shows as a reply to the message that was clicked.
                clicked = self.known_messages.get(
                    int(interaction.message["id"]), interaction.message
                )
                extra, message_type = reference_to(clicked), REPLY_MESSAGE
        else:
            metadata |= {"name": interaction.command_name, "command_type": 1}
        if followup and interaction.original is not None:
            metadata["original_response_message_id"] = interaction.original["id"]
        return self.world.message_payload(
            author=self.world.bot,
            channel=interaction.channel,
            content=body.get("content") or "",
            message_type=message_type,
            extra={
                **extra,
                "flags": flags | _flags(ephemeral),
                "webhook_id": str(self.world.application_id),
                "application_id": str(self.world.application_id),
                "interaction_metadata": metadata,
            },
        )

    # --- channels -----------------------------------------------------------------------------

    async def _get_channel(self, request: web.Request) -> web.Response:
        return json_response(self._channel(request).payload())

    async def _post_channel_message(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        body = self._body(request)
        payload = body.json or {}
        _check_message(payload, body.uploads)
        extra: Json = {}
        reference = payload.get("message_reference")
        if reference:
            referenced = self.known_messages.get(int(reference.get("message_id", 0)))
            if referenced is None or int(referenced["channel_id"]) != channel.id:
                if reference.get("fail_if_not_exists", True):
                    raise invalid_form(
                        "message_reference", "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "Unknown message"
                    )
                reference = None
            else:
                extra = reference_to(referenced)
        message = self.world.message_payload(
            author=self.world.bot,
            channel=channel,
            content=payload.get("content") or "",
            message_type=REPLY_MESSAGE if reference else DEFAULT_MESSAGE,
            extra=extra,
        )
        message = self._compose(message, payload, body.uploads, fresh=True)
        return json_response(await self._publish(message, "channel", payload))

    async def _edit_channel_message(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        target = self.known_messages.get(int(request.match_info["message"]))
        if (
            target is None
            or int(target["channel_id"]) != channel.id
            or target["flags"] & EPHEMERAL  # only the interaction's webhook reaches those
        ):
            raise UNKNOWN_MESSAGE
        if int(target["author"]["id"]) != self.world.bot.id:
            raise NOT_THE_AUTHOR
        body = self._body(request)
        payload = body.json or {}
        _check_message(payload, body.uploads, edit=True)
        edited = self._compose(target, payload, body.uploads, fresh=False)
        edited["edited_timestamp"] = iso_timestamp()
        if _is_empty(edited):
            raise EMPTY_MESSAGE
        return json_response(await self._publish(edited, "edit", payload, update=True))

    async def _post_thread(self, request: web.Request) -> web.Response:
        """POST /channels/{channel}/messages/{message}/threads: the bot starts a thread."""
        channel = self._channel(request)
        starter = self.known_messages.get(int(request.match_info["message"]))
        if starter is None or int(starter["channel_id"]) != channel.id:
            raise UNKNOWN_MESSAGE
        body = self._body(request).json or {}
        name = body.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= 100:
            raise invalid_form(
                "name", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
            )
        minutes = body.get("auto_archive_duration") or 1440
        if minutes not in THREAD_AUTO_ARCHIVE_MINUTES:
            raise invalid_form(
                "auto_archive_duration",
                "BASE_TYPE_CHOICES",
                f"Value must be one of {set(THREAD_AUTO_ARCHIVE_MINUTES)}.",
            )
        refusal = self.thread_refusal(starter)
        if refusal is not None:
            raise refusal
        thread = await self.open_thread(self.world.bot, starter, name, auto_archive=minutes)
        return json_response(thread.payload(), status=201)

    async def _typing(self, request: web.Request) -> web.Response:
        self._channel(request)
        return web.Response(status=204)

    def _channel(self, request: web.Request) -> Channel:
        try:
            return self.world.channel(int(request.match_info["channel"]))
        except KeyError:
            raise UNKNOWN_CHANNEL from None

    # --- threads ------------------------------------------------------------------------------

    def thread_refusal(self, starter: Json) -> DiscordError | None:
        """Why Discord would not start a thread from `starter`, or None when it would."""
        if starter["flags"] & EPHEMERAL:
            return UNKNOWN_MESSAGE
        parent = self.world.channel(int(starter["channel_id"]))
        if parent.is_dm or isinstance(parent, Thread):
            return WRONG_CHANNEL_TYPE
        if any(thread.id == int(starter["id"]) for thread in self.world.guild_of(parent).threads):
            return THREAD_EXISTS
        return None

    async def open_thread(
        self, owner: User, starter: Json, name: str, *, auto_archive: int = 1440
    ) -> Thread:
        """Start a public thread from `starter` as `owner` (thread_refusal said it may): the
        thread takes the message's id, and the message gets HAS_THREAD and the thread."""
        parent = self.world.channel(int(starter["channel_id"]))
        thread = Thread(
            id=int(starter["id"]),
            name=name,
            guild_id=parent.guild_id,
            parent_id=parent.id,
            owner_id=owner.id,
            auto_archive_duration=auto_archive,
            member_ids={owner.id},
        )
        self.world.guild_of(parent).threads.append(thread)
        await self.gateway.dispatch("THREAD_CREATE", {**thread.payload(), "newly_created": True})
        updated = {**starter, "flags": starter["flags"] | HAS_THREAD, "thread": thread.payload()}
        self.known_messages[thread.id] = updated
        await self.gateway.dispatch("MESSAGE_UPDATE", updated)
        return thread

    # --- attachments --------------------------------------------------------------------------

    async def _get_file(self, request: web.Request) -> web.Response:
        """The bytes of an attachment, where its `url` points."""
        found = self.files.get(int(request.match_info["attachment"]))
        if found is None or found.filename != request.match_info["filename"]:
            return web.Response(status=404, text="Not Found")
        content_type = found.content_type or "application/octet-stream"
        return web.Response(body=found.data, headers={"Content-Type": content_type})

    def _attachments(
        self,
        message: Json,
        kept: list[Json],
        body: Json,
        uploads: Mapping[int, Upload],
        where: Path,
    ) -> list[Json]:
        """The attachments a message has after a create or edit request.

        Without an `attachments` array the message keeps `kept` and gains every uploaded file.
        With one (as discord.py always sends with files), it has exactly what the array lists:
        kept attachments by their id, uploaded files by their `files[n]` index.
        """
        entries = body.get("attachments")
        chosen: list[Json | tuple[Upload, Json]]
        if entries is None:
            chosen = [*kept, *((uploads[i], {}) for i in sorted(uploads))]
        else:
            existing = {a["id"]: a for a in kept}
            chosen = []
            for position, entry in enumerate(entries):
                ident = str(entry.get("id"))
                if ident in existing:
                    chosen.append(existing[ident])
                elif ident.isdigit() and int(ident) in uploads:
                    chosen.append((uploads[int(ident)], entry))
                else:
                    raise form_error(
                        (*where, "attachments", position, "id"),
                        "ATTACHMENT_NOT_FOUND",
                        "Attachment data not found",
                    )
        if len(chosen) > MAX_ATTACHMENTS:
            raise form_error(
                (*where, "attachments"),
                "BASE_TYPE_MAX_LENGTH",
                f"Must be {MAX_ATTACHMENTS} or fewer in length.",
            )
        ephemeral = bool(message["flags"] & EPHEMERAL)
        return [
            item if isinstance(item, dict) else self._store(message, *item, ephemeral=ephemeral)
            for item in chosen
        ]

    def _store(self, message: Json, upload: Upload, entry: Json, *, ephemeral: bool) -> Json:
        """Keep a file the bot uploaded with a message and describe it as Discord does."""
        filename = entry.get("filename") or upload.filename
        described = self.keep_file(
            int(message["channel_id"]), filename, upload.data, ephemeral=ephemeral
        )
        if entry.get("description"):
            described["description"] = entry["description"]
        return described

    def keep_file(self, channel_id: int, filename: str, data: bytes, *, ephemeral: bool) -> Json:
        """Keep a file, served at its CDN url, and describe it as Discord's attachment object
        does (a file attached to a slash command, or on an ephemeral message, is ephemeral)."""
        attachment_id = self.world.snowflakes.next()
        content_type = detected_type(filename)
        url = f"{self.cdn_base}{CDN_PREFIX}/{channel_id}/{attachment_id}/{filename}"
        described: Json = {
            "id": str(attachment_id),
            "filename": filename,
            "size": len(data),
            "url": url,
            "proxy_url": url,
        }
        if content_type is not None:
            described["content_type"] = content_type
        if ephemeral:
            described["ephemeral"] = True
        self.files[attachment_id] = Attachment(filename, content_type, data, attachment_id)
        return described

    # --- publishing ---------------------------------------------------------------------------

    def _compose(
        self,
        base: Json,
        body: Json,
        uploads: Mapping[int, Upload],
        *,
        where: Path = (),
        fresh: bool,
    ) -> Json:
        """`base` with the content, components and attachments `body` gives it. A new message
        (`fresh`) has only what the body gives; an edit keeps what the body leaves out."""
        message = dict(base)
        if fresh or "content" in body:
            message["content"] = body.get("content") or ""
        if fresh or "components" in body:
            message["components"] = stored_components(body.get("components") or [])
        kept = [] if fresh else list(base.get("attachments") or [])
        message["attachments"] = self._attachments(message, kept, body, uploads, where)
        return message

    async def _publish(
        self,
        message: Json,
        via: Via,
        body: Json,
        *,
        interaction: Interaction | None = None,
        update: bool = False,
    ) -> Json:
        """Work out who gets pinged, record the message, and echo it to the bot's gateway."""
        referenced = message.get("referenced_message")
        # A channel reply may ping the replied-to author; an interaction's reply to the clicked
        # message (the bot's own) pings nobody.
        replied_author = (
            int(referenced["author"]["id"]) if referenced and interaction is None else None
        )
        users, roles, everyone = _pings(
            message["content"], body.get("allowed_mentions"), replied_author
        )
        guild = (
            None if "guild_id" not in message else self.world.guild_by_id(int(message["guild_id"]))
        )
        known_users = {m.user.id: m for m in (guild or self.world.guild).members}
        message["mentions"] = [
            {**known_users[u].user.payload(), "member": known_users[u].payload(with_user=False)}
            for u in sorted(users)
            if u in known_users
        ]
        message["mention_roles"] = [str(r) for r in sorted(roles)]
        message["mention_everyone"] = everyone
        ephemeral = bool(message["flags"] & EPHEMERAL)
        channel = self.world.channel(int(message["channel_id"]))
        if isinstance(channel, Thread) and not update and not ephemeral:
            channel.count(message)
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
                attachments=tuple(self.files[int(a["id"])] for a in message["attachments"]),
            )
        )
        if not ephemeral:  # Discord shows the bot its own messages too
            await self.gateway.dispatch("MESSAGE_UPDATE" if update else "MESSAGE_CREATE", message)
        return message

    async def _forget(self, message: Json) -> None:
        """A message was deleted: nobody can reply to or click it any more."""
        self.known_messages.pop(int(message["id"]), None)
        if not message["flags"] & EPHEMERAL:
            deleted = {"id": message["id"], "channel_id": message["channel_id"]}
            if "guild_id" in message:
                deleted["guild_id"] = message["guild_id"]
            await self.gateway.dispatch("MESSAGE_DELETE", deleted)

    def _body(self, request: web.Request) -> Body:
        """The body the middleware read from the request being handled."""
        return self._bodies[id(request)]

    def remember(self, message: Json) -> None:
        """Make a message someone else posted known, so the bot may reply to it."""
        self.known_messages[int(message["id"])] = message


def reference_to(message: Json) -> Json:
    """The fields that make a message a reply to `message` (a type 19 message's reference and
    the message it quotes, without that message's own quote)."""
    reference: Json = {
        "type": 0,
        "message_id": message["id"],
        "channel_id": message["channel_id"],
    }
    if "guild_id" in message:
        reference["guild_id"] = message["guild_id"]
    quoted = {k: v for k, v in message.items() if k != "referenced_message"}
    return {"message_reference": reference, "referenced_message": quoted}


def _check_message(
    body: Json, uploads: Mapping[int, Upload] | None = None, *, where: Path = (), edit: bool = False
) -> None:
    """Refuse a message body the way Discord does (an edit may leave every part out)."""
    content = body.get("content")
    if content is not None and not isinstance(content, str):
        raise form_error((*where, "content"), "BASE_TYPE_STRING", "Must be a string.")
    if content and len(content) > MESSAGE_CONTENT_LIMIT:
        raise form_error(
            (*where, "content"),
            "BASE_TYPE_MAX_LENGTH",
            f"Must be {MESSAGE_CONTENT_LIMIT} or fewer in length.",
        )
    if body.get("components") is not None:
        problems = component_problems(body["components"], flags=body.get("flags") or 0, where=where)
        if problems:
            raise DiscordError(400, 50035, "Invalid Form Body", problems)
    if not edit and _is_empty(body) and not uploads:
        raise EMPTY_MESSAGE
    allowed = body.get("allowed_mentions") or {}
    for kind in ("users", "roles"):
        if kind in (allowed.get("parse") or []) and allowed.get(kind):
            raise form_error(
                (*where, "allowed_mentions"),
                "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                f'parse:["{kind}"] and {kind}: [ids] are mutually exclusive.',
            )


def _is_empty(message: Json) -> bool:
    """Whether a message (or a body) has nothing to show: no text, embeds, files, components..."""
    loading = (message.get("flags") or 0) & LOADING
    return (
        not message.get("content")
        and not loading
        and not any(message.get(k) for k in _MESSAGE_PARTS)
    )


def _allowed_responses(interaction: Interaction) -> set[int]:
    """The callback types Discord takes as the first response to an interaction: choices for
    autocomplete; a message, deferred or not, for anything else; an update of the clicked
    message for a click, or for a modal a click opened; a modal only for a command or click."""
    if interaction.type == AUTOCOMPLETE:
        return {8}
    if interaction.type == MESSAGE_COMPONENT:
        return {4, 5, 6, 7, 9}
    if interaction.type == MODAL_SUBMIT:
        return {4, 5, 6, 7} if interaction.message is not None else {4, 5}
    return {4, 5, 9}


def _checked_choices(choices: object) -> list[Json]:
    if not isinstance(choices, list) or len(choices) > 25:
        raise invalid_form("data.choices", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
    for index, choice in enumerate(choices):
        name, value = choice.get("name"), choice.get("value")
        if not isinstance(name, str) or not 1 <= len(name) <= 100:
            raise form_error(
                ("data", "choices", index, "name"),
                "BASE_TYPE_BAD_LENGTH",
                "Must be between 1 and 100 in length.",
            )
        if isinstance(value, str) and len(value) > 100:
            raise form_error(
                ("data", "choices", index, "value"),
                "BASE_TYPE_MAX_LENGTH",
                "Must be 100 or fewer in length.",
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


def _callback_payload(interaction: Interaction) -> Json:
    # The `with_response=true` body: what the interaction now is, and what the response made
    # (for a click's update, the clicked message).
    described: Json = {"id": str(interaction.id), "type": interaction.type}
    resource: Json = {"type": interaction.response_type}
    if interaction.original is not None:
        described |= {
            "response_message_id": interaction.original["id"],
            "response_message_loading": interaction.loading,
            "response_message_ephemeral": interaction.ephemeral,
        }
        if interaction.response_type in (4, 7):
            resource["message"] = interaction.original
    return {"interaction": described, "resource": resource}
