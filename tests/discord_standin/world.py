"""The small Discord world the stand-in serves: one bot, its application, users and guilds (one
at first; `add_guild` adds more, each with its own roles, members, channels and threads, and a
user may be a member of several).

Every payload builder here returns the JSON shape Discord API v10 sends, so discord.py parses
it exactly as it parses the real thing. Ids are real snowflakes, so `created_at` works too.
"""

from __future__ import annotations

import itertools
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

Json = dict[str, Any]

DISCORD_EPOCH_MS = 1_420_070_400_000

# Gateway intents the stand-in honours (https://discord.com/developers/docs/events/gateway#list-of-intents).
GUILDS = 1 << 0
GUILD_MEMBERS = 1 << 1
GUILD_PRESENCES = 1 << 8
GUILD_MESSAGES = 1 << 9
DIRECT_MESSAGES = 1 << 12
MESSAGE_CONTENT = 1 << 15
PRIVILEGED_INTENTS = GUILD_MEMBERS | GUILD_PRESENCES | MESSAGE_CONTENT

# Channel types and the flag a message gets once a thread is started from it.
GUILD_TEXT, DM, PUBLIC_THREAD = 0, 1, 11
HAS_THREAD = 1 << 5
THREAD_AUTO_ARCHIVE_MINUTES = (60, 1440, 4320, 10080)

# Permission bits the stand-in computes with.
ADMINISTRATOR = 1 << 3
MANAGE_GUILD = 1 << 5
ALL_PERMISSIONS = (1 << 53) - 1
# What a member without roles may do in a fresh server: read, write, react, use commands.
EVERYONE_PERMISSIONS = (
    (1 << 6)  # ADD_REACTIONS
    | (1 << 10)  # VIEW_CHANNEL
    | (1 << 11)  # SEND_MESSAGES
    | (1 << 14)  # EMBED_LINKS
    | (1 << 15)  # ATTACH_FILES
    | (1 << 16)  # READ_MESSAGE_HISTORY
    | (1 << 31)  # USE_APPLICATION_COMMANDS
)

_MENTION = re.compile(r"<@!?(\d+)>")
_ROLE_MENTION = re.compile(r"<@&(\d+)>")


class Snowflakes:
    """Hands out increasing Discord snowflakes stamped with the current time."""

    def __init__(self) -> None:
        self._counter = itertools.count()
        self._last_ms = 0

    def next(self, *, shard: tuple[int, int] | None = None) -> int:
        """A fresh id, larger than every id handed out before; with `shard` (shard_id,
        shard_count), a guild id that Discord's formula puts on that shard."""
        ms = max(int(time.time() * 1000) - DISCORD_EPOCH_MS, self._last_ms)
        if shard is not None:
            shard_id, shard_count = shard
            if not 0 <= shard_id < shard_count:
                raise ValueError(f"no shard {shard_id} among {shard_count}")
            # The shard is the id's milliseconds modulo the count: a few milliseconds on.
            ms += (shard_id - ms) % shard_count
        self._last_ms = ms
        return (ms << 22) | (next(self._counter) & 0x3F_FFFF)


def iso_timestamp(moment: datetime | None = None) -> str:
    """Discord's ISO 8601 timestamp with microseconds and an explicit UTC offset."""
    return (moment or datetime.now(UTC)).isoformat()


@dataclass
class User:
    """A Discord account: a person or a bot."""

    id: int
    username: str
    bot: bool = False

    def payload(self) -> Json:
        """The public user object, as embedded in messages and members."""
        return {
            "id": str(self.id),
            "username": self.username,
            "discriminator": "0",
            "global_name": None if self.bot else self.username.title(),
            "avatar": None,
            "avatar_decoration_data": None,
            "banner": None,
            "accent_color": None,
            "public_flags": 0,
            "bot": self.bot,
        }

    def private_payload(self) -> Json:
        """The user object `GET /users/@me` and READY give about the account itself."""
        return {
            **self.payload(),
            "flags": 0,
            "verified": True,
            "mfa_enabled": False,
            "email": None,
            "locale": "en-US",
            "premium_type": 0,
        }


@dataclass
class Role:
    """A guild role; the @everyone role has the guild's id."""

    id: int
    name: str
    permissions: int = 0
    position: int = 0

    def payload(self) -> Json:
        """The role object inside GUILD_CREATE."""
        return {
            "id": str(self.id),
            "name": self.name,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "position": self.position,
            "permissions": str(self.permissions),
            "managed": False,
            "mentionable": False,
            "flags": 0,
        }


@dataclass
class Member:
    """A user's membership of one guild, with the roles it holds (besides @everyone)."""

    user: User
    role_ids: list[int] = field(default_factory=list)
    joined_at: str = field(default_factory=iso_timestamp)

    def payload(self, *, with_user: bool = True) -> Json:
        """The guild member object; messages carry it without the nested user."""
        data: Json = {
            "nick": None,
            "avatar": None,
            "banner": None,
            "roles": [str(role_id) for role_id in self.role_ids],
            "joined_at": self.joined_at,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": None,
        }
        if with_user:
            data["user"] = self.user.payload()
        return data


@dataclass
class Channel:
    """A guild text channel (type 0) or a DM channel (type 1, `guild_id` None)."""

    id: int
    name: str
    guild_id: int | None
    position: int = 0
    recipient: User | None = None  # the other person of a DM channel

    @property
    def is_dm(self) -> bool:
        """Whether this is a direct-message channel rather than a guild channel."""
        return self.guild_id is None

    def payload(self) -> Json:
        """The channel object inside GUILD_CREATE and interactions."""
        if self.is_dm:
            recipients = [self.recipient.payload()] if self.recipient else []
            return {
                "id": str(self.id),
                "type": DM,
                "last_message_id": None,
                "recipients": recipients,
            }
        return {
            "id": str(self.id),
            "type": GUILD_TEXT,
            "guild_id": str(self.guild_id),
            "name": self.name,
            "position": self.position,
            "permission_overwrites": [],
            "topic": None,
            "nsfw": False,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "parent_id": None,
            "flags": 0,
        }


@dataclass
class Thread(Channel):
    """A public thread (type 11) started from a message: Discord gives it the message's id."""

    parent_id: int = 0
    owner_id: int = 0
    auto_archive_duration: int = 1440  # minutes without activity before Discord archives it
    created: str = field(default_factory=iso_timestamp)
    message_count: int = 0  # messages in it now (the starter message, in the parent, is not)
    total_message_sent: int = 0  # messages ever sent in it
    member_ids: set[int] = field(default_factory=set)
    last_message_id: int | None = None

    def payload(self) -> Json:
        """The thread channel object of THREAD_CREATE, GUILD_CREATE's `threads` and REST."""
        return {
            "id": str(self.id),
            "type": PUBLIC_THREAD,
            "guild_id": str(self.guild_id),
            "parent_id": str(self.parent_id),
            "owner_id": str(self.owner_id),
            "name": self.name,
            "last_message_id": None if self.last_message_id is None else str(self.last_message_id),
            "rate_limit_per_user": 0,
            "flags": 0,
            "message_count": self.message_count,
            "member_count": len(self.member_ids),
            "total_message_sent": self.total_message_sent,
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": self.auto_archive_duration,
                "archive_timestamp": self.created,  # the last change of `archived`: creation
                "locked": False,
                "create_timestamp": self.created,
            },
        }

    def count(self, message: Json) -> None:
        """Count a new message in the thread and give it its `position`, as Discord does."""
        message["position"] = self.total_message_sent
        self.message_count += 1
        self.total_message_sent += 1
        self.last_message_id = int(message["id"])
        self.member_ids.add(int(message["author"]["id"]))  # posting in a thread joins it


@dataclass
class Guild:
    """A server with its roles, members, text channels and the threads started in them."""

    id: int
    name: str
    owner_id: int
    roles: list[Role] = field(default_factory=list)
    members: list[Member] = field(default_factory=list)
    channels: list[Channel] = field(default_factory=list)
    threads: list[Thread] = field(default_factory=list)

    def channel(self, name: str) -> Channel:
        """This guild's text channel called `name`."""
        for channel in self.channels:
            if channel.name == name:
                return channel
        raise KeyError(f"guild {self.name} has no channel {name!r}")

    def role(self, name: str) -> Role:
        """This guild's role called `name`."""
        for role in self.roles:
            if role.name == name:
                return role
        raise KeyError(f"guild {self.name} has no role named {name!r}")

    def member(self, user_id: int) -> Member:
        """The membership of `user_id`; a KeyError names who is missing."""
        for member in self.members:
            if member.user.id == user_id:
                return member
        raise KeyError(f"user {user_id} is not a member of guild {self.id}")

    def permissions_of(self, member: Member) -> int:
        """Discord's computed base permissions: @everyone plus roles; owners and admins get all."""
        if member.user.id == self.owner_id:
            return ALL_PERMISSIONS
        held = {self.id, *member.role_ids}
        bits = 0
        for role in self.roles:
            if role.id in held:
                bits |= role.permissions
        return ALL_PERMISSIONS if bits & ADMINISTRATOR else bits

    def create_payload(self, *, visible_members: list[Member]) -> Json:
        """GUILD_CREATE: the whole guild, with only the members the session may see."""
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(self.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "premium_progress_bar_enabled": False,
            "preferred_locale": "en-US",
            "features": [],
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "vanity_url_code": None,
            "application_id": None,
            "max_members": 500000,
            "max_video_channel_users": 25,
            "max_stage_video_channel_users": 50,
            "roles": [role.payload() for role in self.roles],
            "emojis": [],
            "stickers": [],
            "joined_at": iso_timestamp(),
            "large": False,
            "unavailable": False,
            "lazy": True,
            "member_count": len(self.members),
            "members": [member.payload() for member in visible_members],
            "channels": [channel.payload() for channel in self.channels],
            "threads": [thread.payload() for thread in self.threads],
            "presences": [],
            "voice_states": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "incidents_data": None,
        }

    def partial_payload(self) -> Json:
        """The partial guild an interaction carries."""
        return {"id": str(self.id), "locale": "en-US", "features": []}


@dataclass
class World:
    """Everything the stand-in knows: the bot, its application, people and the guilds the bot
    is in (`guild` is the first)."""

    snowflakes: Snowflakes
    token: str
    bot: User
    owner: User
    application_id: int
    guilds: list[Guild]
    dm_channels: dict[int, Channel] = field(default_factory=dict)  # by recipient user id

    @classmethod
    def create(cls, token: str = "standin-bot-token") -> World:
        """A guild with @everyone, a Moderator role (Manage Server), the bot and its owner."""
        ids = Snowflakes()
        bot = User(ids.next(), "articlebot", bot=True)
        owner = User(ids.next(), "owner")
        world = cls(
            snowflakes=ids, token=token, bot=bot, owner=owner, application_id=bot.id, guilds=[]
        )
        world.add_guild("Newsroom")
        return world

    @classmethod
    def sharded(cls, shard_count: int, *, per_shard: int = 1) -> World:
        """A world whose bot is in `per_shard` servers on each of `shard_count` shards, and in
        no other: "Newsroom 0", "Newsroom 1"... in shard order, each shaped as `add_guild`
        makes them."""
        world = cls.create()
        world.guilds.remove(world.guild)
        for shard in range(shard_count):
            for n in range(per_shard):
                name = f"Newsroom {shard}" if per_shard == 1 else f"Newsroom {shard}.{n}"
                world.add_guild(name, shard=(shard, shard_count))
        return world

    @property
    def guild(self) -> Guild:
        """The first guild, where people, roles and channels go unless told otherwise."""
        return self.guilds[0]

    def add_guild(self, name: str, *, shard: tuple[int, int] | None = None) -> Guild:
        """Another guild with the bot in it, shaped like the first: @everyone, a Moderator role
        (Manage Server), the owner, and channels "general" and "ask"; with `shard` (shard_id,
        shard_count), one whose id puts it on that shard. Add it before the bot connects: it
        arrives with the other guilds' GUILD_CREATE."""
        ids = self.snowflakes
        guild_id = ids.next(shard=shard)
        guild = Guild(
            id=guild_id,
            name=name,
            owner_id=self.owner.id,
            roles=[
                Role(guild_id, "@everyone", EVERYONE_PERMISSIONS, position=0),
                Role(ids.next(), "Moderator", EVERYONE_PERMISSIONS | MANAGE_GUILD, position=1),
            ],
            members=[Member(self.bot), Member(self.owner)],
            channels=[
                Channel(ids.next(), "general", guild_id),
                Channel(ids.next(), "ask", guild_id, 1),
            ],
        )
        self.guilds.append(guild)
        return guild

    def add_member(
        self,
        username: str,
        *,
        roles: tuple[str, ...] = (),
        bot: bool = False,
        guild: Guild | None = None,
    ) -> User:
        """A new person (or another bot) in a guild (the first by default) holding the named
        roles of that guild."""
        guild = guild or self.guild
        role_ids = [guild.role(name).id for name in roles]
        user = User(self.snowflakes.next(), username, bot=bot)
        guild.members.append(Member(user, role_ids))
        return user

    def add_role(
        self, name: str, permissions: int = EVERYONE_PERMISSIONS, *, guild: Guild | None = None
    ) -> Role:
        """A new guild role; add it before the bot connects, as no GUILD_ROLE_CREATE is sent."""
        guild = guild or self.guild
        role = Role(self.snowflakes.next(), name, permissions, position=len(guild.roles))
        guild.roles.append(role)
        return role

    def role(self, name: str) -> Role:
        """The first guild's role called `name`."""
        return self.guild.role(name)

    def channel(self, name_or_id: str | int) -> Channel:
        """A guild channel or thread by id, or by name (the first guild's first), or a DM
        channel by id."""
        everywhere = [c for g in self.guilds for c in [*g.channels, *g.threads]]
        for channel in [*everywhere, *self.dm_channels.values()]:
            if name_or_id in (channel.name, channel.id):
                return channel
        raise KeyError(f"no channel {name_or_id!r}")

    def guild_of(self, channel: Channel) -> Guild:
        """The guild a guild channel or thread is in."""
        return self.guild_by_id(channel.guild_id)

    def guild_by_id(self, guild_id: int | None) -> Guild:
        """The guild with this id; KeyError when the bot is in no such guild."""
        for guild in self.guilds:
            if guild.id == guild_id:
                return guild
        raise KeyError(f"the bot is in no guild {guild_id!r}")

    def dm_channel(self, user: User) -> Channel:
        """The direct-message channel between `user` and the bot, opened on first use."""
        if user.id not in self.dm_channels:
            self.dm_channels[user.id] = Channel(self.snowflakes.next(), "", None, recipient=user)
        return self.dm_channels[user.id]

    def user(self, user_id: int) -> User:
        """A known user by id, a member of any guild."""
        for guild in self.guilds:
            try:
                return guild.member(user_id).user
            except KeyError:
                continue
        raise KeyError(f"user {user_id} is in no guild")

    def application_payload(self, flags: int) -> Json:
        """`GET /oauth2/applications/@me`: the bot's application, owned by `owner`."""
        return {
            "id": str(self.application_id),
            "name": self.bot.username,
            "icon": None,
            "description": "",
            "summary": "",
            "type": None,
            "hook": True,
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "owner": self.owner.payload(),
            "team": None,
            "flags": flags,
            "bot": self.bot.payload(),
            "rpc_origins": [],
            "redirect_uris": [],
            "tags": [],
            "interactions_endpoint_url": None,
            "role_connections_verification_url": None,
            "integration_types_config": {"0": {}},
            "approximate_guild_count": 1,
            "is_monetized": False,
        }

    def message_payload(
        self,
        *,
        author: User,
        channel: Channel,
        content: str,
        message_type: int = 0,
        extra: Json | None = None,
    ) -> Json:
        """A message as MESSAGE_CREATE and REST return it, mentions parsed from the content."""
        guild = None if channel.is_dm else self.guild_of(channel)
        mentioned = [self.mention(int(uid), guild) for uid in _MENTION.findall(content)]
        data: Json = {
            "id": str(self.snowflakes.next()),
            "channel_id": str(channel.id),
            "author": author.payload(),
            "content": content,
            "timestamp": iso_timestamp(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,  # people in this world may not ping @everyone
            "mentions": [m for m in mentioned if m is not None],
            "mention_roles": _ROLE_MENTION.findall(content),
            "attachments": [],
            "embeds": [],
            "pinned": False,
            "type": message_type,
            "flags": 0,
            "components": [],
        }
        if guild is not None:
            data["guild_id"] = str(guild.id)
            data["member"] = guild.member(author.id).payload(with_user=False)
        data.update(extra or {})
        return data

    def mention(self, user_id: int, guild: Guild | None = None) -> Json | None:
        """A user as a message's `mentions` lists them, with their member of `guild` (the first
        by default); None for a user Discord cannot resolve there, which it leaves out."""
        try:
            member = (guild or self.guild).member(user_id)
        except KeyError:
            return None
        return {**member.user.payload(), "member": member.payload(with_user=False)}
