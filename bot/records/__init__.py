"""What the bot remembers: the replies it gave, what they cited, the votes people cast on them,
the changes moderators made to their servers' shelves, and the reloads every process of the bot
carries out.

The rest of the bot talks to the database only through `Storage` (`storage_for` picks the one
the settings name), and records come and go as the frozen dataclasses of `models`. The
database is SQLite by default (one file in the data folder) or PostgreSQL, shared by any number
of bot processes; one schema, one history of Alembic revisions, serves both.

    models.py        the records as dataclasses
    errors.py        StorageError and what kind of failure each database error is
    schema.py        the tables as the latest revision leaves them
    revisions.py     which revision a database is at, and upgrading it (migrations/versions/)
    database.py      connecting to SQLite or PostgreSQL, transactions, locks
    replies.py       replies, citations and votes
    shelf_changes.py servers' shelf versions and who changed what
    reloads.py       reloads asked in one process, each process's outcome, which processes run
    retention.py     deleting: expired records, one person's, an unsent reply
    storage.py       Storage, the one door to all of it
"""

from bot.records.database import DATABASE_FILE_NAME, Backend
from bot.records.errors import AlreadyRecorded, StorageError, StorageProblem, UnknownReply
from bot.records.models import (
    BotProcess,
    CitedPassage,
    ReloadOutcome,
    ReloadRequest,
    ReloadResult,
    ReplyRecord,
    Revision,
    SchemaUpgrade,
    ShelfAction,
    ShelfChange,
    VoteOutcome,
    VoteTally,
)
from bot.records.storage import DAY_SECONDS, DEFAULT_RETENTION_DAYS, Storage, storage_for

__all__ = [
    "DATABASE_FILE_NAME",
    "DAY_SECONDS",
    "DEFAULT_RETENTION_DAYS",
    "AlreadyRecorded",
    "Backend",
    "BotProcess",
    "CitedPassage",
    "ReloadOutcome",
    "ReloadRequest",
    "ReloadResult",
    "ReplyRecord",
    "Revision",
    "SchemaUpgrade",
    "ShelfAction",
    "ShelfChange",
    "Storage",
    "StorageError",
    "StorageProblem",
    "UnknownReply",
    "VoteOutcome",
    "VoteTally",
    "storage_for",
]
