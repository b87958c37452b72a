"""Replies, their citations, and the votes on them: written and read back.

Each function works inside a transaction the caller holds (`Storage` runs them), and is correct
when other processes write the same database at once: the database's keys decide, never a
check made before the write.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Row, case, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from bot.records.database import conflict_insert
from bot.records.errors import AlreadyRecorded, UnknownReply
from bot.records.models import CitedPassage, ReplyRecord, VoteOutcome, VoteTally
from bot.records.schema import citations, replies, votes

_REPLY_ID = re.compile(r"[0-9a-f]{32}")


def check_reply_id(reply_id: str) -> None:
    """ValueError unless `reply_id` is 32 lowercase hex digits."""
    if not _REPLY_ID.fullmatch(reply_id):
        raise ValueError(f"a reply id is 32 lowercase hex digits got {reply_id!r}")


def store_reply(connection: Connection, reply: ReplyRecord) -> None:
    """Insert a reply and its citations; AlreadyRecorded when its id is."""
    if _reply_exists(connection, reply.id):
        raise AlreadyRecorded(reply.id)
    try:
        connection.execute(
            insert(replies).values(
                id=reply.id,
                question=reply.question,
                answered=reply.answered,
                corpus_version=reply.corpus_version,
                guild_id=reply.guild_id,
                channel_id=reply.channel_id,
                asker=reply.asker,
                at=reply.at,
            )
        )
    except IntegrityError:  # another process recorded it since we looked
        raise AlreadyRecorded(reply.id) from None
    if reply.citations:
        connection.execute(
            insert(citations),
            [
                {
                    "reply_id": reply.id,
                    "n": n,
                    "article_id": c.article_id,
                    "paragraph": c.paragraph,
                    "start": c.start,
                    "end": c.end,
                    "quote": c.quote,
                    "article_version": c.version or None,
                }
                for n, c in enumerate(reply.citations, start=1)
            ],
        )


def cast_vote(
    connection: Connection, reply_id: str, voter: str, helpful: bool, now: float
) -> VoteOutcome:
    """Record `voter`'s vote on a reply, replacing their earlier one; UnknownReply when the
    reply is not recorded (or is deleted meanwhile).

    The insert gives way when the vote is there already, cast a moment ago by another process
    maybe, and the update then changes it only if it differs: whoever writes first, each
    person keeps exactly one vote per reply, and each click is told what it did.
    """
    if not _reply_exists(connection, reply_id):
        raise UnknownReply(reply_id)
    first_vote = (
        conflict_insert(connection, votes)
        .values(reply_id=reply_id, voter=voter, helpful=helpful, at=now)
        .on_conflict_do_nothing(index_elements=[votes.c.reply_id, votes.c.voter])
        .returning(votes.c.voter)  # a row back when it was inserted (rowcount may not say)
    )
    try:
        if connection.execute(first_vote).first() is not None:
            return VoteOutcome.NEW
    except IntegrityError:  # the reply's foreign key: it was deleted since we looked
        raise UnknownReply(reply_id) from None
    this_vote = (votes.c.reply_id == reply_id) & (votes.c.voter == voter)
    differs = this_vote & (votes.c.helpful != helpful)
    changed = connection.execute(
        update(votes).where(differs).values(helpful=helpful, at=now)
    ).rowcount
    return VoteOutcome.CHANGED if changed else VoteOutcome.SAME


def replies_since(connection: Connection, since: float, guild_id: int | None) -> list[ReplyRecord]:
    """Every reply given at or after `since`, oldest first; one server's when `guild_id` is set."""
    recent = replies.c.at >= since
    if guild_id is not None:
        recent = recent & (replies.c.guild_id == guild_id)
    rows = connection.execute(
        select(replies).where(recent).order_by(replies.c.at, replies.c.id)
    ).all()
    return _reply_records(rows, _citations_of(connection, select(replies.c.id).where(recent)))


def vote_tallies(connection: Connection, since: float, guild_id: int | None) -> list[VoteTally]:
    """The replies voted on at or after `since`, with the votes cast since then; most "Not
    helpful" first, then fewer "Helpful", then the older reply."""
    recent = votes.c.at >= since
    if guild_id is not None:
        in_guild = select(replies.c.id).where(replies.c.guild_id == guild_id)
        recent = recent & votes.c.reply_id.in_(in_guild)
    helpful = func.sum(case((votes.c.helpful, 1), else_=0)).label("helpful_votes")
    not_helpful = func.sum(case((votes.c.helpful, 0), else_=1)).label("not_helpful_votes")
    rows = connection.execute(
        select(replies, helpful, not_helpful)
        .join(votes, votes.c.reply_id == replies.c.id)
        .where(recent)
        .group_by(replies.c.id)
        .order_by(not_helpful.desc(), helpful, replies.c.at, replies.c.id)
    ).all()
    voted = select(votes.c.reply_id).where(recent)
    tallied = _reply_records(rows, _citations_of(connection, voted))
    return [
        VoteTally(reply, int(row.helpful_votes), int(row.not_helpful_votes))
        for reply, row in zip(tallied, rows, strict=True)
    ]


def _reply_exists(connection: Connection, reply_id: str) -> bool:
    found = connection.execute(select(replies.c.id).where(replies.c.id == reply_id)).first()
    return found is not None


def _citations_of(connection: Connection, reply_ids: Any) -> dict[str, list[CitedPassage]]:
    """The citations of the replies `reply_ids` selects, in order, by reply id."""
    rows = connection.execute(
        select(citations)
        .where(citations.c.reply_id.in_(reply_ids))
        .order_by(citations.c.reply_id, citations.c.n)
    )
    found: dict[str, list[CitedPassage]] = {}
    for row in rows:
        found.setdefault(row.reply_id, []).append(
            CitedPassage(
                row.article_id,
                row.paragraph,
                row.start,
                row.end,
                row.quote,
                row.article_version or "",
            )
        )
    return found


def _reply_records(
    rows: Sequence[Row[Any]], cited: dict[str, list[CitedPassage]]
) -> list[ReplyRecord]:
    return [
        ReplyRecord(
            id=row.id,
            question=row.question,
            answered=bool(row.answered),
            citations=tuple(cited.get(row.id, ())),
            corpus_version=row.corpus_version,
            guild_id=row.guild_id,
            channel_id=row.channel_id,
            asker=row.asker,
            at=row.at,
        )
        for row in rows
    ]
