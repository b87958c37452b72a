"""The bot's records (replies, declines, votes) written on one worker thread of their own.

The event loop never waits on the database: a reply is recorded in the background while it is
sent, and votes and `/insights` await the worker without blocking other answers. One thread
keeps the writes in order, so a vote always lands after the reply it is about. Whatever the
database does (locked, read-only, full, corrupt, a server down or turning the bot away),
answering goes on: the failure is logged, the person voting is told to try later, and a reply
that could not be saved is kept in memory and saved on a later try (before the next write, and
every minute); what is still unsaved when the bot stops, or past the backlog's limit, is
counted in the log, never dropped without a word.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
import secrets
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from bot.engine import Citation, Reply
from bot.insights import CurrentArticle, Insights, gather_insights
from bot.records import (
    DAY_SECONDS,
    AlreadyRecorded,
    CitedPassage,
    ReplyRecord,
    ShelfChange,
    Storage,
    StorageError,
    UnknownReply,
    VoteOutcome,
    VoteTally,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

# How many replies that could not be saved wait in memory for the database to come back: about
# a day of a busy server's questions, a few MB. Past that the oldest are given up, and counted.
UNSAVED_LIMIT = 10_000

# Mentions of people, roles and channels carry their Discord ids: a recorded question keeps
# only what kind of mention stood there.
_MENTIONS = (
    (re.compile(r"<@!?\d+>"), "@someone"),
    (re.compile(r"<@&\d+>"), "@role"),
    (re.compile(r"<#\d+>"), "#channel"),
)


def new_reply_id(now: float | None = None) -> str:
    """A fresh id for a reply, carried by its vote buttons: 32 hex digits, the first 8 the
    time it was made, so a vote on a reply that is not on record can tell why."""
    made = int(time.time() if now is None else now)
    return f"{made:08x}{secrets.token_hex(12)}"


def reply_age(reply_id: str, now: float | None = None) -> float:
    """Seconds since the reply with this id was made."""
    return (time.time() if now is None else now) - int(reply_id[:8], 16)


def reply_record(
    reply_id: str,
    question: str,
    reply: Reply,
    corpus_version: str,
    *,
    guild_id: int | None,
    channel_id: int | None,
) -> ReplyRecord:
    """What is kept of one reply: the question, what was cited, and where and when."""
    for mention, kind in _MENTIONS:
        question = mention.sub(kind, question)
    return ReplyRecord(
        id=reply_id,
        question=question,
        answered=reply.answered,
        citations=tuple(_passage(c) for c in reply.citations),
        corpus_version=corpus_version,
        guild_id=guild_id,
        channel_id=channel_id,
        asker=None,  # the pseudonym is worked out on the worker, which reads the salt
        at=time.time(),
    )


def _passage(citation: Citation) -> CitedPassage:
    return CitedPassage(
        article_id=citation.article_id,
        paragraph=citation.paragraph,
        start=citation.start,
        end=citation.end,
        quote=citation.quote,
        version=citation.version,
    )


class RecordKeeper:
    """Storage behind a single worker thread, with every failure logged rather than raised, and
    replies that could not be saved kept to try again."""

    def __init__(self, storage: Storage, *, unsaved_limit: int = UNSAVED_LIMIT) -> None:
        if unsaved_limit < 1:
            raise ValueError(f"unsaved_limit must be at least 1, got {unsaved_limit!r}")
        self.storage = storage
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="records")
        # Replies the database refused, oldest first, with the asker's id (their pseudonym
        # needs the database). Only the worker thread touches it.
        self._unsaved: deque[tuple[ReplyRecord, int | None]] = deque()
        self._unsaved_limit = unsaved_limit

    async def _run(self, work: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._worker, work)

    async def start(self) -> None:
        """Bring the schema up to date and delete expired records; a broken database is logged
        and the bot answers all the same (every later call tries the schema again)."""
        try:
            upgrade = await self._run(self.storage.migrate)
            deleted = await self._run(self.storage.delete_expired)
        except StorageError as error:
            log.error("records: the database cannot be used (%s): %s", error.problem, error.detail)
            return
        log.info(
            "records: %s database at schema revision %s, %d expired record(s) deleted",
            self.storage.backend,
            upgrade.after,
            deleted,
        )

    async def delete_expired(self) -> None:
        """Apply the retention period now."""
        try:
            deleted = await self._run(self.storage.delete_expired)
        except StorageError as error:
            log.error("records: could not delete expired records (%s): %s", error.problem, error)
            return
        except RuntimeError:  # closed: the bot is stopping
            return
        if deleted:
            log.info("records: %d expired record(s) deleted", deleted)

    def record_reply(self, record: ReplyRecord, asker_id: int | None) -> None:
        """Keep a reply, in the background, the asker only as a pseudonym; if the database
        fails, the reply waits in memory for a later try."""

        def write() -> None:
            self._save_unsaved()  # the older ones first, so the records keep their order
            if self._unsaved:  # the database still fails: this one waits behind them
                self._keep_unsaved(record, asker_id)
                log.warning("records: a reply waits to be saved (%d waiting)", len(self._unsaved))
                return
            try:
                self._save(record, asker_id)
            except StorageError as error:
                self._keep_unsaved(record, asker_id)
                log.error(
                    "records: a reply was not saved (%s): %s; kept to try again (%d waiting)",
                    error.problem,
                    error.detail,
                    len(self._unsaved),
                )
            except Exception:  # a bug: nobody awaits this write, so say it here
                log.exception("records: a reply was not saved")

        try:
            self._worker.submit(write)
        except RuntimeError:  # closed: the bot is stopping and this reply came too late
            log.warning("records: a reply after shutdown was not saved")

    async def save_unsaved(self) -> None:
        """Try again to save the replies the database refused before (nothing to do, and no
        database touched, when there are none)."""
        try:
            await self._run(self._save_unsaved)
        except RuntimeError:  # closed: the bot is stopping
            return

    @property
    def unsaved(self) -> int:
        """How many replies are waiting to be saved."""
        return len(self._unsaved)

    def _save(self, record: ReplyRecord, asker_id: int | None) -> None:
        kept = record
        if asker_id is not None:
            kept = dataclasses.replace(record, asker=self.storage.pseudonym(asker_id))
        try:
            self.storage.record_reply(kept)
        except AlreadyRecorded:
            # An earlier try reached the database, but its answer did not reach us (the
            # connection cut right after the commit): saved, then.
            log.info("records: reply %s was saved by an earlier try", record.id)

    def _keep_unsaved(self, record: ReplyRecord, asker_id: int | None) -> None:
        self._unsaved.append((record, asker_id))
        if len(self._unsaved) > self._unsaved_limit:
            given_up, _ = self._unsaved.popleft()
            log.error(
                "records: more than %d replies wait to be saved; the oldest, a reply given at "
                "%s, is given up",
                self._unsaved_limit,
                time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(given_up.at)),
            )

    def _save_unsaved(self) -> None:
        """On the worker: save the waiting replies, oldest first, until the database fails."""
        saved = 0
        while self._unsaved:
            record, asker_id = self._unsaved[0]
            try:
                self._save(record, asker_id)
            except StorageError as error:
                log.debug("records: still cannot save replies (%s)", error.problem)
                break
            self._unsaved.popleft()
            saved += 1
        if saved:
            log.info(
                "records: %d reply(ies) saved on a later try, %d still waiting",
                saved,
                len(self._unsaved),
            )

    def expired(self, reply_id: str) -> bool:
        """Whether a reply is older than the records are kept (so it is not on record)."""
        return reply_age(reply_id) > self.storage.retention_days * DAY_SECONDS

    def withdraw_reply(self, reply_id: str) -> None:
        """Forget a reply that was recorded but never reached anyone, in the background."""

        def withdraw() -> None:
            waiting = [unsaved for unsaved in self._unsaved if unsaved[0].id == reply_id]
            if waiting:  # never saved: it need only stop waiting
                self._unsaved.remove(waiting[0])
                return
            try:
                self.storage.withdraw_reply(reply_id)
            except StorageError as error:
                log.error(
                    "records: an unsent reply stays recorded (%s): %s", error.problem, error.detail
                )

        try:
            self._worker.submit(withdraw)
        except RuntimeError:  # closed: the bot is stopping
            log.warning("records: an unsent reply stays recorded: the bot is stopping")

    async def vote(self, reply_id: str, voter_id: int, helpful: bool) -> VoteOutcome | None:
        """Record a vote: how it changed the person's vote, or None when it could not be saved
        (raises UnknownReply for a reply that is not on record)."""

        def cast() -> VoteOutcome:
            self._save_unsaved()  # the reply voted on may be one of them
            return self.storage.record_vote(reply_id, voter_id, helpful)

        try:
            return await self._run(cast)
        except UnknownReply:
            raise
        except StorageError as error:
            log.error("records: a vote was not saved (%s): %s", error.problem, error.detail)
            return None
        except RuntimeError:  # closed: the bot is stopping
            log.warning("records: a vote during shutdown was not saved")
            return None

    async def insights(
        self, days: float, guild_id: int | None = None, current: CurrentArticle | None = None
    ) -> Insights:
        """What was asked and voted, and how the server's own articles changed, over the last
        `days` days (in one server when `guild_id` is set); answers about text `current` no
        longer has are stale. StorageError when unreadable.

        Only the reading waits in line with the writes; the grouping runs on a thread of its
        own, so votes are not held up behind it."""
        until = time.time()
        since = until - days * DAY_SECONDS

        def read() -> tuple[list[ReplyRecord], list[VoteTally], list[ShelfChange]]:
            return (
                self.storage.replies_since(since, guild_id),
                self.storage.vote_tallies(since, guild_id),
                self.storage.shelf_changes_since(since, guild_id),
            )

        replies, tallies, changes = await self._run(read)
        return await asyncio.to_thread(
            gather_insights, replies, tallies, since, until, changes, current
        )

    async def flush(self) -> None:
        """Until every write asked for so far is done (or failed and was logged)."""
        await self._run(lambda: None)

    async def close(self) -> None:
        """Finish the writes already asked for, try the unsaved replies once more, then close
        the database; the log counts any reply that is lost."""

        def finish() -> None:
            self._worker.shutdown(wait=True)
            self._save_unsaved()
            if self._unsaved:
                log.error(
                    "records: %d reply(ies) could not be saved before the bot stopped, the "
                    "database refusing them since %s; they are lost",
                    len(self._unsaved),
                    time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(self._unsaved[0][0].at)),
                )
            self.storage.close()  # the last connection checkpoints: disk work, off the loop

        await asyncio.to_thread(finish)
