"""The records of servers' own shelves on SQLite and PostgreSQL: each shelf's version, who
changed what and when, which article version a citation quoted, one server's records apart from
another's, and the revision that added them to a database the bot made before them."""

from __future__ import annotations

import secrets
from dataclasses import replace
from pathlib import Path
from uuid import uuid4

from databases import legacy_database, query, sqlite_url
from record_samples import Clock

from bot.records import (
    CitedPassage,
    ReplyRecord,
    ShelfAction,
    ShelfChange,
    Storage,
    VoteTally,
)

NOW = 1_750_000_000.0
DAY = 86_400.0
GUILD, OTHER_GUILD = 111_111_111_111_111_111, 222_222_222_222_222_222
MODERATOR_ID, OTHER_ID = 987_654_321_012_345_678, 876_543_210_987_654_321
PASSAGE = CitedPassage("server/ferry", 3, 120, 150, "The ferry sailed on Monday.", "ab12" * 8)


def reply(guild_id: int | None = GUILD, **changes: object) -> ReplyRecord:
    values: dict[str, object] = {
        "id": uuid4().hex,
        "question": "When did the ferry sail?",
        "answered": True,
        "citations": (PASSAGE,),
        "corpus_version": "shared+own",
        "guild_id": guild_id,
        "channel_id": 333,
        "asker": None,
        "at": NOW,
    }
    return ReplyRecord(**{**values, **changes})  # type: ignore[arg-type]


def change(
    storage: Storage,
    action: ShelfAction = ShelfAction.ADDED,
    *,
    guild_id: int = GUILD,
    by: int | None = MODERATOR_ID,
    at: float = NOW,
) -> ShelfChange:
    actor = storage.pseudonym(by) if by is not None else None
    return ShelfChange(
        guild_id, action, "server/ferry", "Ferry goes electric", "ab12" * 8, actor, at
    )


def test_every_change_bumps_only_its_servers_shelf_version(storage: Storage) -> None:
    assert storage.shelf_version(GUILD) == 0
    assert storage.record_shelf_change(change(storage)) == 1
    assert storage.record_shelf_change(change(storage, ShelfAction.REMOVED)) == 2
    assert storage.record_shelf_change(change(storage, guild_id=OTHER_GUILD, by=None)) == 1
    assert (storage.shelf_version(GUILD), storage.shelf_version(OTHER_GUILD)) == (2, 1)


def test_changes_come_back_by_server_and_period_oldest_first(storage: Storage) -> None:
    first = change(storage, at=NOW - 10)
    second = change(storage, ShelfAction.REPLACED, at=NOW)
    elsewhere = change(storage, guild_id=OTHER_GUILD, by=None, at=NOW)
    for made in (first, second, elsewhere):
        storage.record_shelf_change(made)
    assert storage.shelf_changes_since(0, GUILD) == [first, second]
    assert storage.shelf_changes_since(NOW - 5, GUILD) == [second]
    assert storage.shelf_changes_since(0) == [first, second, elsewhere]
    assert elsewhere.actor is None  # the operator
    assert str(MODERATOR_ID) not in repr(storage.shelf_changes_since(0))


def test_replies_and_votes_are_read_for_one_server(storage: Storage) -> None:
    here, there, direct = reply(), reply(OTHER_GUILD, at=NOW + 1), reply(None, at=NOW + 2)
    for made in (here, there, direct):
        storage.record_reply(made)
        storage.record_vote(made.id, OTHER_ID, helpful=False)
    assert storage.replies_since(0, GUILD) == [here]
    assert storage.replies_since(0) == [here, there, direct]
    assert storage.vote_tallies(0, OTHER_GUILD) == [VoteTally(there, 0, 1)]
    assert len(storage.vote_tallies(0)) == 3


def test_a_citation_keeps_the_version_of_the_article_it_quoted(storage: Storage) -> None:
    unknown = replace(PASSAGE, version="")  # as replies recorded before versions were
    made = reply(citations=(PASSAGE, unknown))
    storage.record_reply(made)
    assert storage.replies_since(0)[0].citations == (PASSAGE, unknown)


def test_forget_deletes_a_moderators_changes_and_keeps_the_versions(storage: Storage) -> None:
    storage.record_shelf_change(change(storage))
    storage.record_shelf_change(change(storage, by=OTHER_ID))
    assert storage.forget(MODERATOR_ID) == 1
    assert [c.actor for c in storage.shelf_changes_since(0)] == [storage.pseudonym(OTHER_ID)]
    assert storage.shelf_version(GUILD) == 2


def test_changes_older_than_the_retention_period_expire(storage: Storage, clock: Clock) -> None:
    old = change(storage, at=NOW - 31 * DAY)
    kept = change(storage, ShelfAction.REMOVED, at=NOW - 29 * DAY)
    storage.record_shelf_change(old)
    storage.record_shelf_change(kept)
    assert storage.delete_expired() == 1
    assert storage.shelf_changes_since(0) == [kept]
    assert storage.shelf_version(GUILD) == 2


def test_status_counts_the_shelf_changes(storage: Storage) -> None:
    storage.record_shelf_change(change(storage))
    assert storage.status().endswith("0 votes, 1 shelf changes")


def test_a_database_from_before_shelves_gets_them_keeping_its_records(tmp_path: Path) -> None:
    database = legacy_database(tmp_path, 1, secrets.token_bytes(32))
    assert "article_version" not in {
        row[1] for row in query(sqlite_url(database), "PRAGMA table_info(citations)")
    }

    upgraded = Storage.for_data_dir(tmp_path)
    try:
        assert upgraded.migrate().legacy_version == 1
        (old_reply,) = upgraded.replies_since(0)
        assert old_reply.citations[0].version == ""  # quoted before versions were kept
        assert upgraded.record_shelf_change(change(upgraded)) == 1
        assert upgraded.shelf_changes_since(0) == [change(upgraded)]
    finally:
        upgraded.close()
    tables = {row[0] for row in query(sqlite_url(database), "SELECT name FROM sqlite_master")}
    assert {"shelves", "shelf_changes", "shelf_changes_guild_at"} <= tables
