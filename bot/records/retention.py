"""Deleting records: what is older than the retention period, everything of one person, a
reply that never reached anyone. Counted alike: a deleted reply takes its citations (uncounted,
they are part of it) and the votes on it (counted) with it.

The bot's processes delete one at a time (on PostgreSQL they take turns at an advisory lock;
SQLite has one write lock anyway), so two sweeps at once neither deadlock nor count a row twice.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Connection, delete, or_, select

from bot.records.schema import replies, shelf_changes, votes


def expired(cutoff: float) -> tuple[ColumnElement[bool], ...]:
    """The replies, votes and shelf changes older than `cutoff` (unix time)."""
    return replies.c.at < cutoff, votes.c.at < cutoff, shelf_changes.c.at < cutoff


def of_person(pseudonym: str) -> tuple[ColumnElement[bool], ...]:
    """The replies one person asked for, the votes they cast and the shelf changes they made."""
    return (
        replies.c.asker == pseudonym,
        votes.c.voter == pseudonym,
        shelf_changes.c.actor == pseudonym,
    )


def of_reply(reply_id: str) -> tuple[ColumnElement[bool], ...]:
    """One reply and the votes on it."""
    return replies.c.id == reply_id, votes.c.reply_id == reply_id


def delete_records(connection: Connection, chosen: tuple[ColumnElement[bool], ...]) -> int:
    """Delete the replies, votes and (when chosen) shelf changes `chosen` selects, in that
    order, and the votes on those replies; how many (the shelves' versions stay)."""
    replies_chosen, votes_chosen, *changes_chosen = chosen
    going: Any = select(replies.c.id).where(replies_chosen)
    deleted = connection.execute(
        delete(votes).where(or_(votes_chosen, votes.c.reply_id.in_(going)))
    ).rowcount
    deleted += connection.execute(delete(replies).where(replies_chosen)).rowcount
    for changes in changes_chosen:
        deleted += connection.execute(delete(shelf_changes).where(changes)).rowcount
    return int(deleted)
