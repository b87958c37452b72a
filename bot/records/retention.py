"""Deleting: what is older than the retention period, everything of one person, a reply that
never reached anyone. Counted alike: a deleted reply takes its citations (uncounted, they are
part of it) and the votes on it (counted) with it, and a deleted reload request takes the
processes' outcomes of it (uncounted).

The bot's processes delete one at a time (on PostgreSQL they take turns at an advisory lock;
SQLite has one write lock anyway), so two sweeps at once neither deadlock nor count a row twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, delete, or_, select

from bot.records.schema import bot_processes, corpus_reloads, replies, shelf_changes, votes


@dataclass(frozen=True)
class Chosen:
    """What one deletion takes: replies and votes, and shelf changes, reload requests and
    processes' rows when set."""

    replies: ColumnElement[bool]
    votes: ColumnElement[bool]
    shelf_changes: ColumnElement[bool] | None = None
    reloads: ColumnElement[bool] | None = None
    processes: ColumnElement[bool] | None = None  # not counted: they are about no one


def expired(cutoff: float) -> Chosen:
    """The records older than `cutoff` (unix time), and the processes silent since then."""
    return Chosen(
        replies.c.at < cutoff,
        votes.c.at < cutoff,
        shelf_changes.c.at < cutoff,
        corpus_reloads.c.at < cutoff,
        bot_processes.c.alive_until < cutoff,
    )


def of_person(pseudonym: str) -> Chosen:
    """The replies one person asked for, the votes they cast, the shelf changes they made and
    the reloads they asked for."""
    return Chosen(
        replies.c.asker == pseudonym,
        votes.c.voter == pseudonym,
        shelf_changes.c.actor == pseudonym,
        corpus_reloads.c.asked_by == pseudonym,
    )


def of_reply(reply_id: str) -> Chosen:
    """One reply and the votes on it."""
    return Chosen(replies.c.id == reply_id, votes.c.reply_id == reply_id)


def delete_records(connection: Connection, chosen: Chosen) -> int:
    """Delete the votes, replies and whatever else `chosen` selects, in that order, and the
    votes on those replies; how many (the shelves' versions stay)."""
    going: Any = select(replies.c.id).where(chosen.replies)
    deleted = connection.execute(
        delete(votes).where(or_(chosen.votes, votes.c.reply_id.in_(going)))
    ).rowcount
    deleted += connection.execute(delete(replies).where(chosen.replies)).rowcount
    counted: list[tuple[Table, ColumnElement[bool] | None]] = [
        (shelf_changes, chosen.shelf_changes),
        (corpus_reloads, chosen.reloads),
    ]
    for table, where in counted:
        if where is not None:
            deleted += connection.execute(delete(table).where(where)).rowcount
    if chosen.processes is not None:
        connection.execute(delete(bot_processes).where(chosen.processes))
    return int(deleted)
