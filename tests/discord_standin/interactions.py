"""Slash commands as Discord keeps them, and the interactions people create by using them
(running a command or one of its subcommands, typing into an autocompleted option, clicking a
button, submitting a modal).

Discord only lets a person invoke a command that the bot registered, with options that fit
the registered schema, in a place the command is available, and (unless a server admin
overrode it) only with the command's default member permissions; and only lets them click an
enabled button on a message of the bot's that they can see. `InteractionRefused` says which of
those rules a test broke, so a test cannot send the bot something Discord never would.

A command with subcommands (options of type 1) is run as one of them (`/article add`), and the
interaction's `data.options` holds that subcommand with its own options nested. An attachment
option (type 11) carries the id of a file the person uploaded with the command; the file itself
is in `data.resolved.attachments`, served from the stand-in's own HTTP server at its `url`, and
the client refuses a file over the upload limit. Subcommand groups are not emulated.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field

from .files import UPLOAD_LIMIT
from .world import ALL_PERMISSIONS, Channel, Json, User, World

APPLICATION_COMMAND = 2
MESSAGE_COMPONENT = 3
AUTOCOMPLETE = 4
MODAL_SUBMIT = 5

# Option types (https://discord.com/developers/docs/interactions/application-commands).
SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2
STRING, INTEGER, BOOLEAN, NUMBER, ATTACHMENT = 3, 4, 5, 10, 11
_PYTHON_TYPES: dict[int, tuple[type, ...]] = {
    STRING: (str,),
    INTEGER: (int,),
    BOOLEAN: (bool,),
    NUMBER: (int, float),
    ATTACHMENT: (str,),  # the id of a file in the interaction's resolved attachments
}
_NAME = re.compile(r"[-_'\w]{1,32}")
ATTACHMENT_SIZE_LIMIT = UPLOAD_LIMIT  # what interactions tell the bot it may upload


class ActionRefused(ValueError):
    """Discord's client would not let a person do this (reply, start a thread...); says why."""


class InteractionRefused(ActionRefused):
    """Discord would not let a person send this interaction; the message says why."""


@dataclass
class Interaction:
    """One interaction Discord sent the bot, and how the bot has answered it so far."""

    id: int
    token: str
    type: int  # APPLICATION_COMMAND, MESSAGE_COMPONENT, AUTOCOMPLETE or MODAL_SUBMIT
    command_name: str  # "" for a button click or a modal submission
    user: User  # who ran the command or clicked
    channel: Channel
    created_at: float  # event-loop time, for the 3-second acknowledgement deadline
    # 4 message, 5 deferred message, 6 deferred update, 7 update, 8 autocomplete result
    response_type: int | None = None
    ephemeral: bool = False
    loading: bool = False  # deferred, and neither edited nor followed up yet
    # The message the response created, or for a 6 or 7 to a click the clicked message, which
    # the interaction's webhook then edits as "@original".
    original: Json | None = None
    followups: list[Json] = field(default_factory=list)
    choices: list[Json] | None = None  # what an autocomplete response offered
    message: Json | None = None  # for a click: the message clicked, as it was then
    custom_id: str | None = (
        None  # for a click: the button's custom_id; for a submission, the modal's
    )
    modal: Json | None = None  # the modal the bot answered with (callback type 9), as stored
    modal_submitted: bool = False  # the person submitted that modal: it is closed

    @property
    def acknowledged(self) -> bool:
        """Whether the bot has already sent its one interaction callback."""
        return self.response_type is not None


@dataclass
class CommandStore:
    """The commands the bot registered, globally and per guild, with Discord's stable ids."""

    world: World
    by_scope: dict[int | None, list[Json]] = field(default_factory=dict)  # None = global
    _ids: dict[tuple[int | None, str], int] = field(default_factory=dict)

    def replace(self, scope: int | None, commands: list[Json]) -> list[Json]:
        """Bulk overwrite, as `PUT .../commands` does; returns the stored commands."""
        stored = []
        for command in commands:
            key = (scope, command["name"])
            command_id = self._ids.setdefault(key, self.world.snowflakes.next())
            permissions = command.get("default_member_permissions")
            stored.append(
                {
                    "type": 1,
                    "description": "",
                    "options": [],
                    "nsfw": False,
                    **command,
                    "id": str(command_id),
                    "application_id": str(self.world.application_id),
                    "version": str(self.world.snowflakes.next()),
                    "default_member_permissions": None if permissions is None else str(permissions),
                    **({"guild_id": str(scope)} if scope is not None else {}),
                }
            )
        self.by_scope[scope] = stored
        return stored

    def find(self, name: str, channel: Channel) -> Json:
        """The command a person in `channel` gets when typing `/name`."""
        scopes = [None] if channel.is_dm else [channel.guild_id, None]  # guild commands win
        for scope in scopes:
            for command in self.by_scope.get(scope, []):
                if command["name"] == name and command.get("type", 1) == 1:
                    return command
        raise InteractionRefused(f"/{name} is not registered where {channel.name or 'the DM'} is")


def command_problems(commands: object) -> dict[str, object]:
    """Discord's `errors` tree for a bulk command overwrite that breaks its rules, or {}."""
    if not isinstance(commands, list):
        return {"_errors": [_error("BASE_TYPE_ARRAY", "Must be an array.")]}
    if len(commands) > 100:
        return {"_errors": [_error("BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length.")]}
    errors: dict[str, object] = {}
    names = [c.get("name") for c in commands if isinstance(c, dict)]
    for index, command in enumerate(commands):
        problems = _command_problems(command)
        if names.count(command.get("name")) > 1:
            problems["name"] = {
                "_errors": [_error("APPLICATION_COMMANDS_DUPLICATE_NAME", "Duplicate name")]
            }
        if problems:
            errors[str(index)] = problems
    return errors


def _command_problems(command: Json) -> dict[str, object]:
    problems: dict[str, object] = {}
    if not _valid_name(command.get("name")):
        problems["name"] = {"_errors": [_error("APPLICATION_COMMAND_INVALID_NAME", "Invalid name")]}
    if command.get("type", 1) == 1 and not 1 <= len(command.get("description") or "") <= 100:
        problems["description"] = {
            "_errors": [_error("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")]
        }
    problems.update(_options_problems(command.get("options") or []))
    return problems


def _options_problems(options: list[Json]) -> dict[str, object]:
    """The `options` part of the errors tree for a command's (or subcommand's) options."""
    if len(options) > 25:
        return {
            "options": {
                "_errors": [_error("BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")]
            }
        }
    kinds = {option.get("type") for option in options}
    if SUB_COMMAND in kinds and kinds != {SUB_COMMAND}:
        return {
            "options": {
                "_errors": [
                    _error(
                        "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
                        "Sub-command and sub-command group option types are mutually exclusive "
                        "to all other types",
                    )
                ]
            }
        }
    option_errors: dict[str, object] = {}
    seen_optional = False
    for index, option in enumerate(options):
        problem: dict[str, object] = {}
        if not _valid_name(option.get("name")):
            problem["name"] = {
                "_errors": [_error("APPLICATION_COMMAND_INVALID_NAME", "Invalid name")]
            }
        if not 1 <= len(option.get("description") or "") <= 100:
            problem["description"] = {
                "_errors": [_error("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")]
            }
        if option.get("type") == SUB_COMMAND:
            problem.update(_options_problems(option.get("options") or []))
        if option.get("required") and seen_optional:
            problem["required"] = {
                "_errors": [
                    _error(
                        "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                        "Required options must be placed before non-required options",
                    )
                ]
            }
        seen_optional = seen_optional or not option.get("required")
        choices = option.get("choices") or []
        if choices and option.get("autocomplete"):
            problem["autocomplete"] = {
                "_errors": [
                    _error(
                        "AUTOCOMPLETE_CHOICES_MUTUALLY_EXCLUSIVE",
                        "Autocomplete and choices are mutually exclusive",
                    )
                ]
            }
        if len(choices) > 25:
            problem["choices"] = {
                "_errors": [_error("BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")]
            }
        if problem:
            option_errors[str(index)] = problem
    return {"options": option_errors} if option_errors else {}


def _valid_name(name: object) -> bool:
    return isinstance(name, str) and bool(_NAME.fullmatch(name)) and name == name.lower()


def _error(code: str, message: str) -> Json:
    return {"code": code, "message": message}


def build_options(
    command: Json,
    values: Mapping[str, object],
    *,
    subcommand: str | None = None,
    focused: str | None = None,
    check_values: bool = True,
    attachments: Mapping[str, Json] | None = None,
) -> list[Json]:
    """The `data.options` Discord sends for `values`, checked against the registered schema
    (`check_values` False lets through values of the wrong length or outside the choices).

    A command with subcommands is run as `subcommand`, whose options then hold `values`; an
    attachment option's value is the id of one of `attachments` (the interaction's resolved
    ones)."""
    declared = command.get("options") or []
    if any(option["type"] == SUB_COMMAND_GROUP for option in declared):
        raise NotImplementedError("subcommand groups are not emulated by the stand-in")
    subcommands = {o["name"]: o for o in declared if o["type"] == SUB_COMMAND}
    if not subcommands:
        if subcommand is not None:
            raise InteractionRefused(f"/{command['name']} has no subcommand {subcommand!r}")
        return _options(command["name"], declared, values, focused, check_values, attachments or {})
    chosen = subcommands.get(subcommand or "")
    if chosen is None:
        raise InteractionRefused(
            f"/{command['name']} is run as one of its subcommands {sorted(subcommands)}, "
            f"not {subcommand!r}"
        )
    inner = _options(
        f"{command['name']} {subcommand}",
        chosen.get("options") or [],
        values,
        focused,
        check_values,
        attachments or {},
    )
    return [{"name": subcommand, "type": SUB_COMMAND, "options": inner}]


def _options(
    command_name: str,
    declared_options: list[Json],
    values: Mapping[str, object],
    focused: str | None,
    check_values: bool,
    attachments: Mapping[str, Json],
) -> list[Json]:
    declared = {option["name"]: option for option in declared_options}
    unknown = set(values) - set(declared)
    if unknown:
        raise InteractionRefused(f"/{command_name} has no option {sorted(unknown)}")
    options = []
    for name, option in declared.items():
        kind = option["type"]
        if kind not in _PYTHON_TYPES:
            raise NotImplementedError(f"option type {kind} is not emulated by the stand-in")
        if name not in values:
            if option.get("required") and focused is None:
                raise InteractionRefused(f"/{command_name} needs its required option {name!r}")
            continue
        value = values[name]
        if name == focused:
            if not option.get("autocomplete"):
                raise InteractionRefused(f"option {name!r} of /{command_name} has no autocomplete")
            options.append({"name": name, "type": kind, "value": str(value), "focused": True})
            continue
        if kind == ATTACHMENT and value not in attachments:
            raise InteractionRefused(f"option {name!r} of /{command_name} needs an uploaded file")
        if check_values:
            _check_value(command_name, option, value)
        options.append({"name": name, "type": kind, "value": value})
    if focused is not None and focused not in values:
        raise InteractionRefused(f"the focused option {focused!r} needs the text typed so far")
    return options


def _check_value(command_name: str, option: Json, value: object) -> None:
    name, kind = option["name"], option["type"]
    if not isinstance(value, _PYTHON_TYPES[kind]) or (kind != BOOLEAN and isinstance(value, bool)):
        raise InteractionRefused(
            f"option {name!r} of /{command_name} takes type {kind}, not {value!r}"
        )
    choices = option.get("choices")
    if choices and value not in [choice["value"] for choice in choices]:
        raise InteractionRefused(f"{value!r} is not one of the choices of option {name!r}")
    if isinstance(value, str) and not option.get("min_length", 0) <= len(value) <= option.get(
        "max_length", 6000
    ):
        raise InteractionRefused(f"{value!r} has the wrong length for option {name!r}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        low, high = option.get("min_value"), option.get("max_value")
        if (low is not None and value < low) or (high is not None and value > high):
            raise InteractionRefused(f"{value!r} is out of range for option {name!r}")


def check_availability(
    command: Json, channel: Channel, member_permissions: int, *, granted_by_override: bool
) -> None:
    """Refuse what Discord's client would not let this person invoke here."""
    contexts = command.get("contexts")
    if channel.is_dm and (
        command.get("dm_permission") is False or (contexts is not None and 1 not in contexts)
    ):
        raise InteractionRefused(f"/{command['name']} is not available in direct messages")
    required = command.get("default_member_permissions")
    if channel.is_dm or required is None or granted_by_override:
        return
    bits = int(required)
    # "0" means nobody but administrators; otherwise every listed permission is needed.
    allowed = (
        member_permissions == ALL_PERMISSIONS if bits == 0 else member_permissions & bits == bits
    )
    if not allowed:
        raise InteractionRefused(
            f"/{command['name']} needs permissions {bits:#x}; a server admin must grant it "
            "(pass granted_by_override=True to act as that override)"
        )


def command_data(command: Json, options: list[Json], resolved: Json | None = None) -> Json:
    """The `data` of a slash command or autocomplete interaction for `command` with `options`,
    and the objects its options name (`resolved`: uploaded files) when there are any."""
    data: Json = {"id": command["id"], "name": command["name"], "type": 1, "options": options}
    if "guild_id" in command:
        data["guild_id"] = command["guild_id"]
    if resolved:
        data["resolved"] = resolved
    return data


def interaction_payload(world: World, interaction: Interaction, data: Json) -> Json:
    """The INTERACTION_CREATE payload for `interaction` carrying `data`; a click carries the
    clicked message too."""
    payload: Json = {
        "id": str(interaction.id),
        "application_id": str(world.application_id),
        "type": interaction.type,
        "token": interaction.token,
        "version": 1,
        "data": data,
        "locale": "en-US",
        "entitlements": [],
        "entitlement_sku_ids": [],
        "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
    }
    if interaction.message is not None:
        payload["message"] = interaction.message
    channel = interaction.channel
    if channel.is_dm:
        return {
            **payload,
            "user": interaction.user.payload(),
            "channel_id": str(channel.id),
            "channel": channel.payload(),
            "app_permissions": str(ALL_PERMISSIONS),
            "authorizing_integration_owners": {"0": "0"},
            "context": 1,
        }
    guild = world.guild_of(channel)
    member = guild.member(interaction.user.id)
    permissions = str(guild.permissions_of(member))
    return {
        **payload,
        "guild_id": str(guild.id),
        "guild": guild.partial_payload(),
        "guild_locale": "en-US",
        "channel_id": str(channel.id),
        "channel": {**channel.payload(), "permissions": permissions},  # the invoker's, in here
        "member": {**member.payload(), "permissions": permissions},
        "app_permissions": str(guild.permissions_of(guild.member(world.bot.id))),
        "authorizing_integration_owners": {"0": str(guild.id)},
        "context": 0,
    }


def new_interaction(
    world: World, kind: int, name: str, user: User, channel: Channel, now: float
) -> Interaction:
    """A fresh interaction record with Discord-like id and token."""
    return Interaction(
        id=world.snowflakes.next(),
        token="aW50ZXJhY3Rpb246" + secrets.token_urlsafe(48),
        type=kind,
        command_name=name,
        user=user,
        channel=channel,
        created_at=now,
    )
