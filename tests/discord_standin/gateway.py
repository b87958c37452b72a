"""The gateway half of the stand-in: a websocket that speaks Discord's gateway v10.

It does what a discord.py 2.7 client meets on the real gateway: HELLO, IDENTIFY -> READY and a
GUILD_CREATE for each guild, heartbeats, RESUME with replay of what the client missed,
RECONNECT, zlib-stream compression, and the close codes Discord uses to refuse a session. Events
are filtered by the session's intents the way Discord filters them, message content included.

Sessions are sharded as Discord shards them: an IDENTIFY may carry `shard: [shard_id,
shard_count]` (none means shard 0 of 1), a guild belongs to shard `(guild_id >> 22) %
shard_count`, and its GUILD_CREATE and every event in it go only to the sessions of that shard;
direct messages go to shard 0. One session per shard is live at a time: a new IDENTIFY for the
same shard replaces the one before, as a restarted bot process does.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import zlib
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import WSMsgType, web

from .recording import Record
from .world import (
    DIRECT_MESSAGES,
    GUILD_MEMBERS,
    GUILD_MESSAGES,
    GUILDS,
    MESSAGE_CONTENT,
    PRIVILEGED_INTENTS,
    Guild,
    Json,
    World,
)

log = logging.getLogger(__name__)

HEARTBEAT_INTERVAL_MS = 41_250

# Close codes (https://discord.com/developers/docs/topics/opcodes-and-status-codes#gateway-close-event-codes).
UNKNOWN_OPCODE = 4001
DECODE_ERROR = 4002
NOT_AUTHENTICATED = 4003
AUTHENTICATION_FAILED = 4004
ALREADY_AUTHENTICATED = 4005
INVALID_SEQ = 4007
INVALID_SHARD = 4010
SHARDING_REQUIRED = 4011
INVALID_API_VERSION = 4012
INVALID_INTENTS = 4013
DISALLOWED_INTENTS = 4014


@dataclass(frozen=True)
class Frame:
    """One gateway payload, as sent to or received from the client."""

    direction: Literal["sent", "received"]
    connection: int  # 1-based number of the websocket connection it travelled on
    op: int
    t: str | None = None
    s: int | None = None
    d: Any = None

    def __repr__(self) -> str:
        label = f" {self.t} s={self.s}" if self.t else ""
        return f"<Frame {self.direction} #{self.connection} op={self.op}{label}>"


@dataclass(frozen=True)
class Connection:
    """A websocket the client opened: where, and how it asked to be spoken to."""

    number: int
    path: str
    query: dict[str, str]


@dataclass(frozen=True)
class Closure:
    """A websocket that ended, and the close code it ended with (None: the connection broke)."""

    connection: int
    code: int | None


@dataclass(frozen=True)
class Identified:
    """A session a client started with IDENTIFY: on which connection, and for which shard."""

    connection: int
    session_id: str
    shard: tuple[int, int]  # (shard_id, shard_count)


@dataclass
class Session:
    """A gateway session: its intents, its shard, every dispatch sent in it (for RESUME
    replay), and the socket it is on now (None while the client is away)."""

    id: str
    intents: int
    shard: tuple[int, int] = (0, 1)  # (shard_id, shard_count)
    dispatched: list[Json] = field(default_factory=list)  # dispatched[i] has s == i + 1
    resumable: bool = True
    socket: _Socket | None = None

    def receives(self, guild_id: int | None) -> bool:
        """Whether Discord sends this session the events of `guild_id` (None: a DM)."""
        shard_id, shard_count = self.shard
        if guild_id is None:
            return shard_id == 0
        return shard_of(guild_id, shard_count) == shard_id

    @property
    def sequence(self) -> int:
        """The sequence number of the last dispatch (0 before READY)."""
        return len(self.dispatched)


def shard_of(guild_id: int, shard_count: int) -> int:
    """The shard a guild belongs to, by Discord's formula."""
    return (guild_id >> 22) % shard_count


class _Socket:
    """One open websocket, with the shared zlib stream the client asked for."""

    def __init__(
        self, number: int, ws: web.WebSocketResponse, request: web.Request, *, compress: bool
    ):
        self.number = number
        self.ws = ws
        self.request = request
        self.session: Session | None = None
        self._compressor = zlib.compressobj() if compress else None
        self._lock = asyncio.Lock()  # a compressed stream must leave in the order it was built

    async def send(self, payload: Json) -> bool:
        """Send one payload; False when the socket is already gone."""
        text = json.dumps(payload)
        async with self._lock:
            if self.ws.closed:
                return False
            try:
                if self._compressor is None:
                    await self.ws.send_str(text)
                else:
                    data = self._compressor.compress(text.encode()) + self._compressor.flush(
                        zlib.Z_SYNC_FLUSH
                    )
                    await self.ws.send_bytes(data)
            except ConnectionError:
                return False
        return True


class Gateway:
    """The websocket endpoint and the live sessions the bot holds on it, one per shard."""

    def __init__(
        self,
        world: World,
        *,
        allowed_privileged_intents: int = PRIVILEGED_INTENTS,
        recommended_shards: int = 1,
        max_guilds_per_shard: int = 2500,
        max_concurrency: int = 1,
    ):
        if min(recommended_shards, max_guilds_per_shard, max_concurrency) < 1:
            raise ValueError(
                "recommended_shards, max_guilds_per_shard and max_concurrency must be at least 1"
            )
        self.world = world
        self.allowed_privileged_intents = allowed_privileged_intents
        # What GET /gateway/bot recommends, and the most guilds Discord lets one shard hold
        # before it closes an IDENTIFY with 4011 (sharding required).
        self.recommended_shards = recommended_shards
        self.max_guilds_per_shard = max_guilds_per_shard
        # How many sessions GET /gateway/bot says may start every 5 s (not enforced here).
        self.max_concurrency = max_concurrency
        self.resume_url = ""  # set by the server once its port is known
        self.frames: Record[Frame] = Record()
        self.connections: Record[Connection] = Record()
        self.closures: Record[Closure] = Record()
        self.identified: Record[Identified] = Record()
        self.sessions: dict[tuple[int, int], Session] = {}  # the live session of each shard
        self._latest: Session | None = None
        self._sockets: set[_Socket] = set()

    @property
    def session(self) -> Session | None:
        """The session identified last (an unsharded bot's only one); None before IDENTIFY."""
        return self._latest

    # --- the websocket endpoint -------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """aiohttp handler for both the gateway URL and the resume URL."""
        compression = request.query.get("compress")
        if compression not in (None, "zlib-stream"):
            # discord.py picks zstd-stream when a zstd module is installed; not emulated here.
            return web.Response(status=400, text=f"compress={compression} is not emulated")
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        number = len(self.connections) + 1
        await self.connections.append(Connection(number, request.path, dict(request.query)))
        socket = _Socket(number, ws, request, compress=compression == "zlib-stream")
        self._sockets.add(socket)
        try:
            await self._serve(socket)
        finally:
            self._sockets.discard(socket)
            if socket.session is not None and socket.session.socket is socket:
                socket.session.socket = None
            if ws.close_code in (1000, 1001) and socket.session is not None:
                # A client that closes cleanly ends its session: Discord will not resume it.
                socket.session.resumable = False
            await self.closures.append(Closure(number, ws.close_code))
        return ws

    async def _serve(self, socket: _Socket) -> None:
        if socket.request.query.get("v") != "10" or socket.request.query.get("encoding") != "json":
            await self._refuse(socket, INVALID_API_VERSION, "Invalid API version")
            return
        await self._send(socket, {"op": 10, "d": {"heartbeat_interval": HEARTBEAT_INTERVAL_MS}})
        async for message in socket.ws:
            if message.type is not WSMsgType.TEXT:
                await self._refuse(socket, DECODE_ERROR, "Decode error")
                return
            try:
                payload = json.loads(message.data)
                op, data = payload["op"], payload.get("d")
            except (ValueError, KeyError, TypeError):
                await self._refuse(socket, DECODE_ERROR, "Decode error")
                return
            await self.frames.append(Frame("received", socket.number, op, d=data))
            if not await self._on_frame(socket, op, data):
                return

    async def _on_frame(self, socket: _Socket, op: int, data: Any) -> bool:
        """Act on one client payload; False once the socket has been closed."""
        if op == 1:  # HEARTBEAT
            return await self._send(socket, {"op": 11})
        if op == 2:  # IDENTIFY
            return await self._identify(socket, data)
        if op == 6:  # RESUME
            return await self._resume(socket, data)
        if socket.session is None:
            await self._refuse(socket, NOT_AUTHENTICATED, "Not authenticated")
            return False
        if op == 3:  # PRESENCE_UPDATE: nobody here looks at presences
            return True
        if op == 8:  # REQUEST_GUILD_MEMBERS
            return await self._send_members_chunk(socket, data)
        await self._refuse(socket, UNKNOWN_OPCODE, "Unknown opcode")
        return False

    async def _identify(self, socket: _Socket, data: Json) -> bool:
        if socket.session is not None:
            await self._refuse(socket, ALREADY_AUTHENTICATED, "Already authenticated")
            return False
        if data.get("token") != self.world.token:
            await self._refuse(socket, AUTHENTICATION_FAILED, "Authentication failed")
            return False
        intents = data.get("intents")
        if not isinstance(intents, int) or intents < 0:
            await self._refuse(socket, INVALID_INTENTS, "Invalid intent(s)")
            return False
        if intents & PRIVILEGED_INTENTS & ~self.allowed_privileged_intents:
            await self._refuse(socket, DISALLOWED_INTENTS, "Disallowed intent(s)")
            return False
        shard = _shard(data.get("shard", [0, 1]))
        if shard is None:
            await self._refuse(socket, INVALID_SHARD, "Invalid shard")
            return False
        session = Session(id=secrets.token_hex(16), intents=intents, shard=shard, socket=socket)
        guilds = [guild for guild in self.world.guilds if session.receives(guild.id)]
        if len(guilds) > self.max_guilds_per_shard:
            await self._refuse(socket, SHARDING_REQUIRED, "Sharding required")
            return False
        socket.session = self._latest = self.sessions[shard] = session
        await self.identified.append(Identified(socket.number, session.id, shard))
        await self._dispatch_to(session, "READY", self._ready_payload(session, guilds))
        for guild in guilds:
            payload = self._guild_create_payload(guild, intents)
            await self._dispatch_to(session, "GUILD_CREATE", payload)
        return True

    async def _resume(self, socket: _Socket, data: Json) -> bool:
        if data.get("token") != self.world.token:
            await self._refuse(socket, AUTHENTICATION_FAILED, "Authentication failed")
            return False
        session = next((s for s in self.sessions.values() if s.id == data.get("session_id")), None)
        seq = data.get("seq")
        if session is None or not session.resumable:
            # INVALID_SESSION with d=false: the client must IDENTIFY afresh.
            return await self._send(socket, {"op": 9, "d": False})
        if not isinstance(seq, int) or seq > session.sequence:
            await self._refuse(socket, INVALID_SEQ, "Invalid seq")
            return False
        if session.socket is not None and session.socket is not socket:
            # The session moves to the new socket; the old one is abandoned, as on Discord.
            await session.socket.ws.close(code=4009)
        socket.session = session
        session.socket = socket
        for missed in session.dispatched[seq:]:
            await self._send(socket, missed)
        await self._dispatch_to(session, "RESUMED", {})
        return True

    async def _send_members_chunk(self, socket: _Socket, data: Json) -> bool:
        guild = next((g for g in self.world.guilds if str(g.id) == str(data.get("guild_id"))), None)
        if guild is None or not self._intents(socket) & GUILD_MEMBERS:
            return True  # Discord answers nothing it is not allowed to answer
        chunk = {
            "guild_id": str(guild.id),
            "members": [member.payload() for member in guild.members],
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [],
            "presences": [],
        }
        if data.get("nonce"):
            chunk["nonce"] = data["nonce"]
        await self.dispatch("GUILD_MEMBERS_CHUNK", chunk)
        return True

    # --- what tests drive ---------------------------------------------------------------------

    async def dispatch(self, event: str, data: Json) -> Json | None:
        """Send an event to the session of the shard it belongs to, as Discord would, or keep
        it there for a RESUME.

        Returns the payload as the session saw it (after intent filtering), or None when its
        intents hide the event or no session holds that shard.
        """
        guild_id = data.get("guild_id")
        seen = None
        for session in list(self.sessions.values()):
            if session.receives(None if guild_id is None else int(guild_id)):
                seen = await self._dispatch_to(session, event, data) or seen
        return seen

    async def _dispatch_to(self, session: Session, event: str, data: Json) -> Json | None:
        visible = visible_to(event, data, session.intents, self.world.bot.id)
        if visible is None:
            return None
        frame = {"op": 0, "s": session.sequence + 1, "t": event, "d": visible}
        session.dispatched.append(frame)
        if session.socket is not None and session.socket.session is session:
            await self._send(session.socket, frame)
        return visible

    def _socket_of(self, shard_id: int, doing: str) -> _Socket:
        for session in self.sessions.values():
            if session.shard[0] == shard_id and session.socket is not None:
                return session.socket
        raise RuntimeError(f"the bot holds no gateway connection for shard {shard_id} to {doing}")

    async def drop_connection(self, code: int | None = None, *, shard: int = 0) -> None:
        """Cut the websocket of a shard's session (an unsharded bot's is shard 0's): abruptly
        like a network failure, or with a close `code`."""
        socket = self._socket_of(shard, "drop")
        assert socket.session is not None
        socket.session.socket = None
        if code is None:
            transport = socket.request.transport
            assert transport is not None
            transport.abort()
        else:
            await socket.ws.close(code=code)

    async def request_reconnect(self, *, shard: int = 0) -> None:
        """Send op 7 RECONNECT on a shard's connection: the client must close and RESUME on a
        new connection."""
        await self._send(self._socket_of(shard, "ask to reconnect"), {"op": 7, "d": None})

    async def close_all(self) -> None:
        """Close every websocket as the server goes down."""
        for socket in list(self._sockets):
            await socket.ws.close(code=1001)

    # --- payloads -----------------------------------------------------------------------------

    def _ready_payload(self, session: Session, guilds: list[Guild]) -> Json:
        return {
            "v": 10,
            "user": self.world.bot.private_payload(),
            "guilds": [{"id": str(guild.id), "unavailable": True} for guild in guilds],
            "session_id": session.id,
            "shard": list(session.shard),
            "session_type": "normal",
            "resume_gateway_url": self.resume_url,
            "application": {"id": str(self.world.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "user_settings": {},
            "geo_ordered_rtc_regions": [],
            "auth": {},
            "_trace": ["standin"],
        }

    def _guild_create_payload(self, guild: Guild, intents: int) -> Json:
        # Without GUILD_MEMBERS Discord sends only the bot's own member in GUILD_CREATE.
        visible = [
            m for m in guild.members if intents & GUILD_MEMBERS or m.user.id == self.world.bot.id
        ]
        return guild.create_payload(visible_members=visible)

    # --- plumbing -----------------------------------------------------------------------------

    def _intents(self, socket: _Socket) -> int:
        return socket.session.intents if socket.session else 0

    async def _send(self, socket: _Socket, payload: Json) -> bool:
        if not await socket.send(payload):
            return False
        await self.frames.append(
            Frame(
                "sent",
                socket.number,
                payload["op"],
                payload.get("t"),
                payload.get("s"),
                payload.get("d"),
            )
        )
        return True

    async def _refuse(self, socket: _Socket, code: int, reason: str) -> None:
        log.info("gateway closes connection #%d with %d %s", socket.number, code, reason)
        await socket.ws.close(code=code, message=reason.encode())


def _shard(raw: object) -> tuple[int, int] | None:
    """IDENTIFY's `shard` as (shard_id, shard_count), or None when Discord would refuse it."""
    if not isinstance(raw, list) or len(raw) != 2:
        return None
    shard_id, shard_count = raw
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in raw):
        return None
    if not 0 <= shard_id < shard_count:
        return None
    return shard_id, shard_count


def visible_to(event: str, data: Json, intents: int, bot_id: int) -> Json | None:
    """The event as a session with `intents` receives it, or None when Discord would not send it."""
    if event in ("GUILD_CREATE", "THREAD_CREATE") and not intents & GUILDS:
        return None
    if event not in ("MESSAGE_CREATE", "MESSAGE_UPDATE", "MESSAGE_DELETE"):
        return data
    needed = GUILD_MESSAGES if "guild_id" in data else DIRECT_MESSAGES
    if not intents & needed:
        return None
    if event == "MESSAGE_DELETE" or intents & MESSAGE_CONTENT:
        return data
    return _without_content(data, bot_id)


def _without_content(message: Json, bot_id: int) -> Json:
    """The message as an app without MESSAGE_CONTENT sees it: its content fields empty, unless
    it is one of the documented exceptions; a reply's quoted message is judged on its own."""
    shown = message
    if not _content_always_visible(message, bot_id):
        shown = {**message, "content": "", "embeds": [], "attachments": [], "components": []}
        shown.pop("poll", None)
    referenced = message.get("referenced_message")
    if referenced:
        shown = {**shown, "referenced_message": _without_content(referenced, bot_id)}
    return shown


def _content_always_visible(message: Json, bot_id: int) -> bool:
    # Without MESSAGE_CONTENT a bot still sees DMs, messages that mention it, and its own. A
    # reply that pings the bot lists it in `mentions`, so it counts as a mention: Discord
    # documents "replies to your app's messages" (with ping on) as an exception, too.
    if "guild_id" not in message or int(message["author"]["id"]) == bot_id:
        return True
    return any(int(user["id"]) == bot_id for user in message.get("mentions", []))
