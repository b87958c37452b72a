"""Settings from the environment and `.env`, read once and passed down."""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from dotenv import dotenv_values

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
# The databases DATABASE_URL may name: PostgreSQL as hosts hand its URLs out (the bot opens them
# with psycopg 3), and SQLite.
DATABASE_SCHEMES = frozenset(
    {"postgresql", "postgres", "postgresql+psycopg", "sqlite", "sqlite+pysqlite"}
)

T = TypeVar("T")


class SettingsError(ValueError):
    """A setting has a value the bot cannot use; the message names the setting."""


@dataclass(frozen=True)
class Settings:
    """Everything the bot reads from its environment. `repr` never shows the token."""

    discord_token: str | None = field(default=None, repr=False)
    corpus_dir: Path = Path("corpus")
    prompts_dir: Path = PACKAGE_ROOT / "prompts"
    guild_id: int | None = None
    answer_channel_ids: frozenset[int] = frozenset()
    moderator_role_ids: frozenset[int] = frozenset()
    question_cooldown_seconds: float = 5.0
    reload_cooldown_seconds: float = 30.0
    log_level: str = "INFO"
    api_base: str | None = None
    gateway_url: str | None = None
    data_dir: Path = Path("data")
    database_url: str | None = field(default=None, repr=False)  # may hold a password
    retention_days: float = 90.0
    server_article_limit: int = 50  # articles one server's moderators may have on its shelf
    article_adds_per_minute: int = 5  # articles one server may add (or replace) per minute
    # Gateway shards across every process of the bot (None: as many as Discord recommends), and
    # those this process holds (None: all of them).
    shard_count: int | None = None
    shard_ids: tuple[int, ...] | None = None
    # How often each process says it runs and looks for a /reload asked in another one, and how
    # long the process that got a /reload waits for the others' outcomes before it answers.
    reload_poll_seconds: float = 2.0
    reload_wait_seconds: float = 10.0


def _environment(env_file: Path | None) -> dict[str, str]:
    """The process environment over the `.env` file (the environment wins, as usual)."""
    values: dict[str, str] = {}
    path = env_file if env_file is not None else Path(".env")
    if path.is_file():
        values.update({k: v for k, v in dotenv_values(path).items() if v is not None})
    values.update(os.environ)
    return values


def _ids(name: str, raw: str) -> frozenset[int]:
    try:
        return frozenset(int(part) for part in raw.replace(",", " ").split())
    except ValueError:
        raise SettingsError(
            f"{name} must be Discord ids separated by commas, got {raw!r}"
        ) from None


def _read(name: str, raw: str, kind: Callable[[str], T], what: str) -> T:
    """`raw` read as `kind`; SettingsError names the setting and says it must be `what`."""
    try:
        return kind(raw)
    except ValueError:
        raise SettingsError(f"{name} must be {what}, got {raw!r}") from None


def _number(name: str, raw: str) -> float:
    value = _read(name, raw, float, "a number of seconds")
    if not math.isfinite(value):
        raise SettingsError(f"{name} must be a number of seconds, got {raw!r}")
    if value < 0:
        raise SettingsError(f"{name} cannot be negative, got {raw!r}")
    return value


def _positive_number(name: str, raw: str) -> float:
    value = _read(name, raw, float, "a number of seconds")
    if not (math.isfinite(value) and value > 0):
        raise SettingsError(f"{name} must be more than 0 seconds, got {raw!r}")
    return value


def positive_int(name: str, raw: str) -> int:
    """A whole number of at least 1 from a setting; SettingsError names it if not."""
    value = _read(name, raw, int, "a whole number")
    if value < 1:
        raise SettingsError(f"{name} must be at least 1, got {raw!r}")
    return value


def shard_ids(name: str, raw: str) -> tuple[int, ...]:
    """Shard ids from a setting or an option: numbers and ranges separated by commas ("0-1",
    "0,2,5-7"), in order, each once; SettingsError names it if not."""
    found: set[int] = set()
    for part in raw.replace(" ", "").split(","):
        first, dash, last = part.partition("-")
        if not (first.isdigit() and (last.isdigit() if dash else True)):
            raise SettingsError(
                f"{name} must be shard numbers or ranges separated by commas, such as 0-1 or "
                f"0,2,3, got {raw!r}"
            )
        low, high = int(first), int(last) if dash else int(first)
        if high < low:
            raise SettingsError(f"{name} has the range {part} backwards: write {high}-{low}")
        found.update(range(low, high + 1))
    return tuple(sorted(found))


def shard_ids_text(ids: tuple[int, ...] | list[int] | range) -> str:
    """Shard ids as SHARD_IDS spells them, consecutive ones as ranges: "0-1,3"."""
    spans: list[list[int]] = []
    for shard in sorted(ids):
        if spans and shard == spans[-1][1] + 1:
            spans[-1][1] = shard
        else:
            spans.append([shard, shard])
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)


def check_shards(count: int | None, ids: tuple[int, ...] | None) -> None:
    """SettingsError unless the shard ids fit the shard count (both settings and options)."""
    if ids is None:
        return
    if count is None:
        raise SettingsError(
            "SHARD_IDS (--shard-ids) needs SHARD_COUNT (--shard-count) too: the number of "
            "shards across every process of the bot"
        )
    beyond = [shard for shard in ids if shard >= count]
    if beyond:
        raise SettingsError(
            f"SHARD_IDS (--shard-ids) names shard {beyond[0]}, but with SHARD_COUNT "
            f"(--shard-count) {count} the shards are 0 to {count - 1}"
        )


def _database_url(raw: str) -> str | None:
    # The URL itself is never echoed: it may carry a password.
    if not raw:
        return None
    scheme = raw.partition(":")[0].lower()
    if scheme not in DATABASE_SCHEMES:
        raise SettingsError(
            "DATABASE_URL must be a PostgreSQL URL such as postgresql://user:password@host/name "
            "or a SQLite one such as sqlite:////var/lib/articlebot/records.db; leave it empty "
            "to use a SQLite file in DATA_DIR"
        )
    return raw


def days(name: str, raw: str) -> float:
    """A positive number of days from a setting or an option; SettingsError names it if not."""
    value = _read(name, raw, float, "a number of days")
    if not (math.isfinite(value) and value > 0):
        raise SettingsError(f"{name} must be more than 0 days, got {raw!r}")
    return value


def load_settings(env_file: Path | None = None, **overrides: object) -> Settings:
    """Read settings from the environment and `.env`; keyword overrides win (CLI flags)."""
    env = _environment(env_file)
    guild = env.get("DISCORD_GUILD_ID", "").strip()
    if guild and not guild.isdigit():
        raise SettingsError(f"DISCORD_GUILD_ID must be a server id (digits), got {guild!r}")
    shard_count = env.get("SHARD_COUNT", "").strip()
    shards_held = env.get("SHARD_IDS", "").strip()
    values: dict[str, object] = {
        "discord_token": env.get("DISCORD_TOKEN", "").strip() or None,
        "corpus_dir": Path(env.get("CORPUS_DIR", "").strip() or "corpus"),
        "prompts_dir": Path(env.get("PROMPTS_DIR", "").strip() or PACKAGE_ROOT / "prompts"),
        "guild_id": int(guild) if guild else None,
        "answer_channel_ids": _ids("ANSWER_CHANNEL_IDS", env.get("ANSWER_CHANNEL_IDS", "")),
        "moderator_role_ids": _ids("MODERATOR_ROLE_IDS", env.get("MODERATOR_ROLE_IDS", "")),
        "question_cooldown_seconds": _number(
            "QUESTION_COOLDOWN_SECONDS", env.get("QUESTION_COOLDOWN_SECONDS", "5")
        ),
        "reload_cooldown_seconds": _number(
            "RELOAD_COOLDOWN_SECONDS", env.get("RELOAD_COOLDOWN_SECONDS", "30")
        ),
        "log_level": env.get("LOG_LEVEL", "INFO").strip().upper() or "INFO",
        "api_base": env.get("DISCORD_API_BASE", "").strip() or None,
        "gateway_url": env.get("DISCORD_GATEWAY_URL", "").strip() or None,
        "data_dir": Path(env.get("DATA_DIR", "").strip() or "data"),
        "database_url": _database_url(env.get("DATABASE_URL", "").strip()),
        "retention_days": days("RETENTION_DAYS", env.get("RETENTION_DAYS", "").strip() or "90"),
        "server_article_limit": positive_int(
            "SERVER_ARTICLE_LIMIT", env.get("SERVER_ARTICLE_LIMIT", "").strip() or "50"
        ),
        "article_adds_per_minute": positive_int(
            "ARTICLE_ADDS_PER_MINUTE", env.get("ARTICLE_ADDS_PER_MINUTE", "").strip() or "5"
        ),
        "shard_count": positive_int("SHARD_COUNT", shard_count) if shard_count else None,
        "shard_ids": shard_ids("SHARD_IDS", shards_held) if shards_held else None,
        "reload_poll_seconds": _positive_number(
            "RELOAD_POLL_SECONDS", env.get("RELOAD_POLL_SECONDS", "").strip() or "2"
        ),
        "reload_wait_seconds": _number(
            "RELOAD_WAIT_SECONDS", env.get("RELOAD_WAIT_SECONDS", "").strip() or "10"
        ),
    }
    values.update({k: v for k, v in overrides.items() if v is not None})
    settings = Settings(**values)  # type: ignore[arg-type]
    check_shards(settings.shard_count, settings.shard_ids)
    return settings
