"""The records as the rest of the bot sees them: small frozen dataclasses, whatever the database."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class CitedPassage:
    """One citation of a reply: a verbatim quote and where it stands in its article."""

    article_id: str
    paragraph: int
    start: int  # character offsets into the article file's decoded text
    end: int
    quote: str
    version: str = ""  # the article's content hash when quoted; "" when recorded before it was


@dataclass(frozen=True, slots=True)
class ReplyRecord:
    """One reply the bot gave to a question, answered or declined."""

    id: str  # 32 hex digits chosen by the caller: the vote buttons carry it
    question: str
    answered: bool  # False: the article does not say (a decline)
    citations: tuple[CitedPassage, ...]  # for a decline: the "maybe related" passage, if any
    corpus_version: str  # which corpus answered
    guild_id: int | None
    channel_id: int | None
    asker: str | None  # Storage.pseudonym of the asker, never the raw id
    at: float  # unix time, seconds


@dataclass(frozen=True, slots=True)
class VoteTally:
    """A reply and the votes on it: only the votes cast in the period asked about."""

    reply: ReplyRecord
    helpful: int
    not_helpful: int


class VoteOutcome(StrEnum):
    """What a vote did: a first vote, a changed mind, or a click that changed nothing."""

    NEW = "new"
    CHANGED = "changed"
    SAME = "same"


class ShelfAction(StrEnum):
    """What a change did to a server's shelf."""

    ADDED = "added"
    REPLACED = "replaced"  # an article of the same name, with other text, was there before
    REMOVED = "removed"


@dataclass(frozen=True, slots=True)
class ShelfChange:
    """One article added to, replaced on or removed from a server's own shelf, and by whom."""

    guild_id: int
    action: ShelfAction
    article_id: str
    title: str
    version: str  # the content hash of the text added, replaced or removed
    actor: str | None  # Storage.pseudonym of the moderator; None when the operator did it
    at: float  # unix time, seconds


@dataclass(frozen=True, slots=True)
class Revision:
    """One step of the schema's history: its id ("0002") and what it brought."""

    id: str
    description: str


@dataclass(frozen=True, slots=True)
class SchemaUpgrade:
    """What bringing a database's schema up to date did (`Storage.migrate`).

    `before` is the revision the database was at, None when it had no tables. `legacy_version`
    is set when the database was numbered by the bot's own schema versions (before it used
    Alembic): it was then marked as the revision that version is, `before`, and upgraded on.
    """

    before: str | None
    after: str
    applied: tuple[Revision, ...]
    legacy_version: int | None = None

    @property
    def changed(self) -> bool:
        """Whether anything was written: revisions applied, or an older database adopted."""
        return bool(self.applied) or self.legacy_version is not None


@dataclass(frozen=True, slots=True)
class BotProcess:
    """One running process of the bot, as the others know it."""

    name: str  # its host, pid and shards in words: "web1 pid 4242 (shards 0-1 of 4)"
    host: str
    pid: int
    shards: str  # "shards 0-1 of 4"
    started_at: float  # unix time, seconds


@dataclass(frozen=True, slots=True)
class ReloadRequest:
    """A /reload asked in one process, for every process of the bot to carry out."""

    id: int
    asked_by: str | None  # Storage.pseudonym of the moderator; None for the operator
    asked_in: str  # the name of the process that got it
    at: float  # unix time, seconds


@dataclass(frozen=True, slots=True)
class ReloadOutcome:
    """What one process made of a reload: how many articles it serves now and their
    fingerprint, or why it failed (as a moderator reads it) and kept its old ones."""

    succeeded: bool
    articles: int | None = None
    corpus_version: str | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class ReloadResult:
    """One process's outcome of one reload, and when it was recorded."""

    reload_id: int
    process: str
    outcome: ReloadOutcome
    at: float
