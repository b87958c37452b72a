"""Changes to servers' own shelves: who added, replaced or removed what, and each shelf's
version, which every process reads before answering in that server."""

from __future__ import annotations

from sqlalchemy import Connection, insert, select

from bot.records.database import conflict_insert
from bot.records.models import ShelfAction, ShelfChange
from bot.records.schema import shelf_changes, shelves


def store_shelf_change(connection: Connection, change: ShelfChange) -> int:
    """Keep a change and bump its server's shelf version; the new version.

    One statement creates the shelf's row or bumps it, so two processes changing one shelf at
    once get two versions, never the same one twice.
    """
    connection.execute(
        insert(shelf_changes).values(
            guild_id=change.guild_id,
            action=str(change.action),
            article_id=change.article_id,
            title=change.title,
            version=change.version,
            actor=change.actor,
            at=change.at,
        )
    )
    bump = (
        conflict_insert(connection, shelves)
        .values(guild_id=change.guild_id, version=1)
        .on_conflict_do_update(
            index_elements=[shelves.c.guild_id], set_={"version": shelves.c.version + 1}
        )
        .returning(shelves.c.version)
    )
    return int(connection.execute(bump).scalar_one())


def shelf_version(connection: Connection, guild_id: int) -> int:
    """How many times a server's shelf has changed (0: never); one indexed read."""
    found = connection.execute(
        select(shelves.c.version).where(shelves.c.guild_id == guild_id)
    ).scalar_one_or_none()
    return int(found or 0)


def shelf_changes_since(
    connection: Connection, since: float, guild_id: int | None
) -> list[ShelfChange]:
    """The changes made at or after `since`, oldest first; one server's when `guild_id` is set."""
    recent = shelf_changes.c.at >= since
    if guild_id is not None:
        recent = recent & (shelf_changes.c.guild_id == guild_id)
    rows = connection.execute(
        select(shelf_changes).where(recent).order_by(shelf_changes.c.id)
    ).all()
    return [
        ShelfChange(
            row.guild_id,
            ShelfAction(row.action),
            row.article_id,
            row.title,
            row.version,
            row.actor,
            row.at,
        )
        for row in rows
    ]
