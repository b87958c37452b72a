"""`DiscordStandIn`: the REST API and the gateway on one local port, plus the people using them."""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType

from aiohttp import web

from .components import BUTTON, find_button, walk
from .faults import Fault
from .files import MAX_REQUEST_BYTES, UPLOAD_LIMIT, AttachedFile
from .gateway import Frame, Gateway, shard_of
from .interactions import (
    APPLICATION_COMMAND,
    AUTOCOMPLETE,
    MESSAGE_COMPONENT,
    MODAL_SUBMIT,
    ActionRefused,
    Interaction,
    InteractionRefused,
    build_options,
    check_availability,
    command_data,
    interaction_payload,
    new_interaction,
)
from .modals import SubmissionRefused, submission_components
from .recording import Record
from .rest import (
    DEFAULT_MESSAGE,
    EPHEMERAL,
    REPLY_MESSAGE,
    BotMessage,
    Request,
    RestApi,
    reference_to,
)
from .world import PRIVILEGED_INTENTS, Channel, Json, Thread, User, World

ChannelRef = str | int | Channel
MessageRef = Json | BotMessage


class DiscordStandIn:
    """A local Discord for one bot: point discord.py at `api_base` and `gateway_url`.

    Tests act as the people in `world` (post and reply to messages, use slash commands with
    options and files, click the bot's buttons, fill in its modals, start threads), steer the
    gateway (drop the connection, ask for a reconnect), make Discord fail, throttle or stall
    (the `*_next` methods) and wait for what the bot did through `requests`, `messages` and
    `frames`.

    The gateway shards as Discord does (see gateway.py): `recommended_shards` is what
    `GET /gateway/bot` recommends, and an IDENTIFY whose shard would hold more than
    `max_guilds_per_shard` guilds is closed with 4011, sharding required. `max_concurrency` is
    how many sessions it says may start every 5 seconds.
    """

    def __init__(
        self,
        world: World | None = None,
        *,
        allowed_privileged_intents: int = PRIVILEGED_INTENTS,
        interaction_deadline: float = 3.0,
        reaction_time: float = 0.05,
        recommended_shards: int = 1,
        max_guilds_per_shard: int = 2500,
        max_concurrency: int = 1,
    ):
        self.world = world or World.create()
        # A person clicks a button no sooner than this after the message last changed: by then
        # discord.py has read the HTTP response that made it and registered the message's view,
        # which it does only after the stand-in recorded the message.
        self.reaction_time = reaction_time
        self.gateway = Gateway(
            self.world,
            allowed_privileged_intents=allowed_privileged_intents,
            recommended_shards=recommended_shards,
            max_guilds_per_shard=max_guilds_per_shard,
            max_concurrency=max_concurrency,
        )
        self.rest = RestApi(self.world, self.gateway, interaction_deadline=interaction_deadline)
        self.port = 0
        self._runner: web.AppRunner | None = None

    # --- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on a free port of 127.0.0.1."""
        app = web.Application(client_max_size=MAX_REQUEST_BYTES)
        self.rest.add_routes(app)
        app.router.add_get("/gateway", self.gateway.handle)
        app.router.add_get("/resume", self.gateway.handle)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        self.gateway.resume_url = f"ws://127.0.0.1:{self.port}/resume"
        self.rest.cdn_base = f"http://127.0.0.1:{self.port}"

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

    async def wait_for_shards(
        self,
        shard_count: int,
        shards: Iterable[int] | None = None,
        *,
        after: int = 0,
        timeout: float = 60.0,
    ) -> None:
        """Until sessions of `shards` (by default all `shard_count` of them) were identified,
        among the IDENTIFYs after the first `after`, and each was sent its servers: events sent
        after that reach the bot after the servers they are in."""
        wanted = {
            (shard, shard_count) for shard in (range(shard_count) if shards is None else shards)
        }
        await self.gateway.identified.wait_until(
            lambda entries: wanted <= {entry.shard for entry in entries[after:]}, timeout=timeout
        )
        expected = {
            entry.connection: sum(
                shard_of(guild.id, shard_count) == entry.shard[0] for guild in self.world.guilds
            )
            for entry in list(self.gateway.identified)[after:]
            if entry.shard in wanted
        }

        def all_sent(frames: list[Frame]) -> bool:
            sent = Counter(
                f.connection for f in frames if f.direction == "sent" and f.t == "GUILD_CREATE"
            )
            return all(sent[connection] >= count for connection, count in expected.items())

        await self.frames.wait_until(all_sent, timeout=timeout)

    async def wait_for_resume(self, *, timeout: float = 5.0) -> Frame:
        """The RESUMED event the gateway sent once the bot resumed its session."""
        after = len(self.frames)
        return await self.frames.wait_for(lambda f: f.t == "RESUMED", timeout=timeout, after=after)

    # --- acting as people -----------------------------------------------------------------------

    async def post_message(
        self,
        author: User,
        content: str,
        *,
        channel: ChannelRef = "general",
        reply_to: MessageRef | None = None,
        ping_replied: bool = True,
    ) -> Json:
        """`author` writes `content` in a channel or thread; returns the message as Discord
        stored it.

        With `reply_to` it is a reply (type 19) quoting that message, which must be in the same
        channel. Like Discord's client, a reply pings the replied-to author by default (they are
        added to `mentions`); `ping_replied=False` is the client's "@ off". A reply to a
        webhook's message, such as an interaction response, can ping nobody, so it never does.
        """
        where = self._channel(channel)
        extra: Json = {}
        replied: Json | None = None
        if reply_to is not None:
            replied = self._existing(reply_to, ActionRefused)
            if int(replied["channel_id"]) != where.id:
                raise ActionRefused(
                    f"message {replied['id']} is not in {where.name or 'the DM'}: Discord only "
                    "lets people reply to a message in the channel they are writing in"
                )
            if replied["flags"] & EPHEMERAL:
                raise ActionRefused(f"message {replied['id']} is ephemeral: it takes no replies")
            extra = reference_to(replied)
        message = self.world.message_payload(
            author=author,
            channel=where,
            content=content,
            message_type=REPLY_MESSAGE if replied else DEFAULT_MESSAGE,
            extra=extra,
        )
        if replied is not None and ping_replied:
            replied_author = int(replied["author"]["id"])
            mentioned = {int(user["id"]) for user in message["mentions"]}
            pingable = "webhook_id" not in replied and replied_author != author.id
            entry = self.world.mention(replied_author)
            if pingable and replied_author not in mentioned and entry is not None:
                message["mentions"].append(entry)
        if isinstance(where, Thread):
            where.count(message)
        self.rest.remember(message)
        self._require_session()
        await self.gateway.dispatch("MESSAGE_CREATE", message)
        return message

    async def click_button(
        self,
        user: User,
        message: MessageRef,
        custom_id: str,
        *,
        channel: ChannelRef | None = None,
    ) -> Interaction:
        """`user` clicks the button `custom_id` on one of the bot's messages (in `channel`, when
        given); InteractionRefused if Discord's client would not let them.

        The message is looked up as it is now, so a click after an edit sees the edited buttons,
        and a message from before the bot reconnected or restarted can still be clicked.
        """
        current = self._existing(message, InteractionRefused)
        changed = [m.at for m in self.messages.matching(lambda m: m.payload["id"] == current["id"])]
        if changed:
            await asyncio.sleep(max(0.0, changed[-1] + self.reaction_time - time.monotonic()))
            current = self._existing(current, InteractionRefused)  # as it is after the pause
        where = self.world.channel(int(current["channel_id"]))
        label = f"message {current['id']}"
        if channel is not None and self._channel(channel).id != where.id:
            raise InteractionRefused(f"{label} is not in {self._channel(channel).name}")
        if int(current["author"]["id"]) != self.world.bot.id:
            raise InteractionRefused(f"{label} was not sent by the bot, so no click reaches it")
        if current["flags"] & EPHEMERAL:
            viewer = int(current["interaction_metadata"]["user"]["id"])
            if viewer != user.id:
                raise InteractionRefused(f"{label} is ephemeral and only {viewer} can see it")
        if where.is_dm:
            if where.recipient is None or where.recipient.id != user.id:
                raise InteractionRefused(f"{label} is in someone else's DM with the bot")
        else:
            try:
                self.world.guild_of(where).member(user.id)
            except KeyError:
                raise InteractionRefused(f"{user.username} is not in the server") from None
        button = find_button(current.get("components") or [], custom_id)
        if button is None:
            offered = [c.get("custom_id") for c in walk(current.get("components") or [])]
            raise InteractionRefused(
                f"{label} has no button {custom_id!r}; its custom_ids: {[c for c in offered if c]}"
            )
        if button.get("disabled"):
            raise InteractionRefused(f"button {custom_id!r} of {label} is disabled")
        interaction = new_interaction(
            self.world, MESSAGE_COMPONENT, "", user, where, asyncio.get_running_loop().time()
        )
        interaction.message, interaction.custom_id = current, custom_id
        self.rest.interactions[interaction.id] = interaction
        self._require_session()
        data = {"custom_id": custom_id, "component_type": BUTTON, "id": button["id"]}
        await self.gateway.dispatch(
            "INTERACTION_CREATE", interaction_payload(self.world, interaction, data)
        )
        return interaction

    async def start_thread(self, user: User, message: MessageRef, name: str) -> Thread:
        """`user` starts a public thread from `message`, as the client's "Create Thread" does.

        The thread has the message's id; people and the bot can then post in it. Discord
        dispatches THREAD_CREATE and updates the message with the thread. ActionRefused where
        Discord would not start it (a second thread from one message, a DM, a thread...).
        """
        starter = self._existing(message, ActionRefused)
        if not 1 <= len(name) <= 100:
            raise ActionRefused(f"a thread name has 1 to 100 characters, not {len(name)}")
        refusal = self.rest.thread_refusal(starter)
        if refusal is not None:
            raise ActionRefused(f"message {starter['id']}: {refusal.message}")
        return await self.rest.open_thread(user, starter, name)

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

        `name` may name a subcommand after its command ("article add"). An attachment option
        takes an `AttachedFile`: Discord keeps the file where the bot can download it.

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
        command_name, _, subcommand = name.partition(" ")
        command = self.rest.commands.find(command_name, channel)
        if channel.is_dm:
            permissions = 0
        else:
            guild = self.world.guild_of(channel)
            try:
                permissions = guild.permissions_of(guild.member(user.id))
            except KeyError:
                raise InteractionRefused(f"{user.username} is not in {guild.name}") from None
        if not unchecked:
            check_availability(
                command, channel, permissions, granted_by_override=granted_by_override
            )
        values, attachments = self._attach(channel, options)
        built = build_options(
            command,
            values,
            subcommand=subcommand or None,
            focused=focused,
            check_values=not unchecked,
            attachments=attachments,
        )
        interaction = new_interaction(
            self.world, kind, name, user, channel, asyncio.get_running_loop().time()
        )
        self.rest.interactions[interaction.id] = interaction
        self._require_session()
        resolved = {"attachments": attachments} if attachments else None
        await self.gateway.dispatch(
            "INTERACTION_CREATE",
            interaction_payload(self.world, interaction, command_data(command, built, resolved)),
        )
        return interaction

    def _attach(
        self, channel: Channel, options: Mapping[str, object]
    ) -> tuple[dict[str, object], dict[str, Json]]:
        """The option values with each attached file replaced by its attachment id, and the
        attachments as `data.resolved` holds them; InteractionRefused for a file the client
        would not upload."""
        values: dict[str, object] = {}
        attachments: dict[str, Json] = {}
        for name, value in options.items():
            if not isinstance(value, AttachedFile):
                values[name] = value
                continue
            if len(value.data) > UPLOAD_LIMIT:
                raise InteractionRefused(
                    f"{value.filename} is {len(value.data)} bytes, over the upload limit"
                )
            described = self.rest.keep_file(channel.id, value.filename, value.data, ephemeral=True)
            values[name] = described["id"]
            attachments[described["id"]] = described
        return values, attachments

    async def wait_for_modal(self, interaction: Interaction, *, timeout: float = 5.0) -> Json:
        """The modal the bot answered an interaction with (callback type 9), as Discord keeps
        it while the person fills it in."""
        await self.wait_for_request(
            "POST",
            rf"/interactions/{interaction.id}/[^/]+/callback",
            where=lambda r: r.status < 300,
            timeout=timeout,
        )
        if interaction.modal is None:
            raise AssertionError(f"interaction {interaction.id} was not answered with a modal")
        return interaction.modal

    async def submit_modal(
        self, user: User, opened_by: Interaction, values: Mapping[str, str]
    ) -> Interaction:
        """`user` fills the modal the bot showed in answer to `opened_by` with `values` (by text
        input custom_id; an input left out keeps its default) and submits it: a MODAL_SUBMIT
        interaction. InteractionRefused where the client would not let them: a modal shown to
        someone else, one already submitted, a required input left empty, a value too long."""
        modal = opened_by.modal
        if modal is None:
            raise InteractionRefused(f"interaction {opened_by.id} opened no modal")
        if opened_by.user.id != user.id:
            raise InteractionRefused(f"only {opened_by.user.username} sees that modal")
        if opened_by.modal_submitted:
            raise InteractionRefused("that modal was submitted already: it is closed")
        try:
            components = submission_components(modal, values)
        except SubmissionRefused as refusal:
            raise InteractionRefused(str(refusal)) from None
        opened_by.modal_submitted = True
        interaction = new_interaction(
            self.world, MODAL_SUBMIT, "", user, opened_by.channel, asyncio.get_running_loop().time()
        )
        interaction.message, interaction.custom_id = opened_by.message, modal["custom_id"]
        self.rest.interactions[interaction.id] = interaction
        self._require_session()
        data = {"custom_id": modal["custom_id"], "components": components}
        await self.gateway.dispatch(
            "INTERACTION_CREATE", interaction_payload(self.world, interaction, data)
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

    async def drop_connection(self, code: int | None = None, *, shard: int = 0) -> None:
        """Cut the bot's websocket of `shard` (a network failure, or a close with `code`)."""
        await self.gateway.drop_connection(code, shard=shard)

    async def request_reconnect(self, *, shard: int = 0) -> None:
        """Send op 7 RECONNECT on `shard`'s connection, as Discord does before moving a
        session."""
        await self.gateway.request_reconnect(shard=shard)

    def _channel(self, ref: ChannelRef) -> Channel:
        return ref if isinstance(ref, Channel) else self.world.channel(ref)

    def _existing(self, ref: MessageRef, refused: type[ActionRefused]) -> Json:
        """A message as it is now; `refused` when the stand-in knows of no such message."""
        payload = ref.payload if isinstance(ref, BotMessage) else ref
        current = self.rest.known_messages.get(int(payload["id"]))
        if current is None:
            raise refused(f"message {payload['id']} does not exist (or was deleted)")
        return current

    def _require_session(self) -> None:
        if self.gateway.session is None:
            raise RuntimeError("the bot has not identified on the gateway yet")
