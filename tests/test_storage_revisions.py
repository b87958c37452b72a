"""The schema's revisions on real databases, SQLite and PostgreSQL: a fresh database gets them
all and exactly the tables the queries use; a database the bot made before it used Alembic is
adopted keeping every row; a later revision upgrades keeping the records; a failed one leaves
the last whole; a newer bot's database is left untouched; every revision can be undone."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import shutil
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing
from dataclasses import replace
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from databases import legacy_database, query, sqlite_url
from record_samples import ASKER_ID, PASSAGE, VOTER_ID, make_reply
from sqlalchemy import create_engine, inspect

from bot.records import DATABASE_FILE_NAME, Storage, StorageError, StorageProblem, VoteTally
from bot.records.database import database_url as opened_url
from bot.records.migrations import MIGRATIONS_FOLDER
from bot.records.revisions import LEGACY_VERSIONS, Revisions
from bot.records.schema import metadata

HISTORY = Revisions.load().history
LATEST = HISTORY[-1].id

# A revision after the shipped ones, as the next release might add it.
VOTE_REASONS = '''"""Why people voted as they did."""

import sqlalchemy as sa
from alembic import op

revision = "0099"
down_revision = "{latest}"


def upgrade():
    with op.batch_alter_table("votes") as votes:
        votes.add_column(sa.Column("reason", sa.Text))


def downgrade():
    with op.batch_alter_table("votes") as votes:
        votes.drop_column("reason")
'''
# One that fails half-way: its table must not outlive it.
HALF_DONE = '''"""Fails after creating a table."""

import sqlalchemy as sa
from alembic import op

revision = "0099"
down_revision = "{latest}"


def upgrade():
    op.create_table("reasons", sa.Column("reply_id", sa.Text))
    op.execute("INSERT INTO no_such_table VALUES (1)")


def downgrade():
    op.drop_table("reasons")
'''


@pytest.fixture
def storage(database_url: str) -> Iterator[Storage]:
    opened = Storage(database_url)
    yield opened
    opened.close()


def schema_differences(url: str) -> list[object]:
    """How the database's tables differ from those the queries are written against."""
    engine = create_engine(opened_url(url))
    try:
        with engine.connect() as connection:
            return list(compare_metadata(MigrationContext.configure(connection), metadata))
    finally:
        engine.dispose()


def tables_of(url: str) -> set[str]:
    engine = create_engine(opened_url(url))
    try:
        with engine.connect() as connection:
            return set(inspect(connection).get_table_names())
    finally:
        engine.dispose()


def with_next_revision(tmp_path: Path, script: str) -> Path:
    """A copy of the shipped revisions with one more after them."""
    folder = Path(shutil.copytree(MIGRATIONS_FOLDER, tmp_path / "migrations"))
    (folder / "versions" / "0099_next.py").write_text(script.format(latest=LATEST))
    return folder


def problem_of(call: object, *args: object) -> StorageProblem:
    with pytest.raises(StorageError) as caught:
        call(*args)  # type: ignore[operator]
    return caught.value.problem


def test_a_fresh_database_gets_every_revision_and_the_tables_the_queries_use(
    storage: Storage, database_url: str
) -> None:
    upgrade = storage.migrate()

    assert (upgrade.before, upgrade.after, upgrade.applied) == (None, LATEST, HISTORY)
    assert [revision.id for revision in HISTORY] == ["0001", "0002", "0003"]
    assert all(revision.description for revision in HISTORY)
    assert query(database_url, "SELECT version_num FROM alembic_version") == [(LATEST,)]
    # Bots from before the revisions read this number, and refuse a database beyond theirs.
    assert query(database_url, "SELECT schema_version FROM meta") == [(len(HISTORY),)]
    assert schema_differences(database_url) == []


def test_migrating_a_current_database_writes_nothing(storage: Storage, database_url: str) -> None:
    storage.migrate()
    storage.record_reply(make_reply())
    storage.close()

    again = Storage(database_url)
    try:
        upgrade = again.migrate()
        assert (upgrade.before, upgrade.after, upgrade.applied) == (LATEST, LATEST, ())
        assert not upgrade.changed
    finally:
        again.close()


def test_migrating_a_current_sqlite_file_leaves_its_bytes_alone(tmp_path: Path) -> None:
    storage = Storage.for_data_dir(tmp_path)
    storage.record_reply(make_reply())
    storage.close()
    before = hashlib.sha256((tmp_path / DATABASE_FILE_NAME).read_bytes()).hexdigest()

    again = Storage.for_data_dir(tmp_path)
    try:
        again.migrate()
        again.migrate()
    finally:
        again.close()
    assert hashlib.sha256((tmp_path / DATABASE_FILE_NAME).read_bytes()).hexdigest() == before


def test_a_sqlite_file_copied_in_another_journal_mode_is_switched_to_wal(tmp_path: Path) -> None:
    database = tmp_path / DATABASE_FILE_NAME
    storage = Storage.for_data_dir(tmp_path)
    reply = make_reply()
    storage.record_reply(reply)
    storage.close()
    assert query(sqlite_url(database), "PRAGMA journal_mode") == [("wal",)]
    with closing(sqlite3.connect(database)) as connection:
        assert connection.execute("PRAGMA journal_mode = DELETE").fetchall() == [("delete",)]

    # Opened read-only it cannot be switched, and need not be to read.
    read_only = Storage(f"sqlite:///file:{database}?mode=ro&uri=true")
    try:
        assert read_only.replies_since(0) == [reply]
    finally:
        read_only.close()
    assert query(sqlite_url(database), "PRAGMA journal_mode") == [("delete",)]

    reopened = Storage.for_data_dir(tmp_path)
    try:
        reopened.migrate()
    finally:
        reopened.close()
    assert query(sqlite_url(database), "PRAGMA journal_mode") == [("wal",)]


def test_a_sqlite_file_another_process_is_writing_is_switched_to_wal_once_it_lets_go(
    tmp_path: Path,
) -> None:
    # SQLite fails the switch at once, not after the busy timeout, while another connection
    # holds the write lock: as when several bot processes start on a fresh file together.
    database = tmp_path / DATABASE_FILE_NAME
    with closing(sqlite3.connect(database, isolation_level=None)) as connection:
        connection.execute("CREATE TABLE other_process (x)")
    writer = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
    writer.execute("BEGIN IMMEDIATE")
    let_go = threading.Timer(0.2, lambda: writer.execute("COMMIT"))
    let_go.start()
    storage = Storage.for_data_dir(tmp_path, busy_timeout=30)
    try:
        storage.migrate()
    finally:
        storage.close()
        let_go.join()
        writer.close()
    assert query(sqlite_url(database), "PRAGMA journal_mode") == [("wal",)]


def test_a_later_revision_upgrades_the_database_keeping_its_records(
    storage: Storage, database_url: str, tmp_path: Path
) -> None:
    reply = make_reply(asker=storage.pseudonym(ASKER_ID))
    storage.record_reply(reply)
    storage.record_vote(reply.id, VOTER_ID, helpful=True)
    pseudonym = storage.pseudonym(ASKER_ID)
    storage.close()

    upgraded = Storage(database_url, migrations=with_next_revision(tmp_path, VOTE_REASONS))
    try:
        upgrade = upgraded.migrate()
        assert (upgrade.before, upgrade.after) == (LATEST, "0099")
        assert upgrade.applied[0].description == "Why people voted as they did."
        assert upgraded.replies_since(0) == [reply]
        assert upgraded.vote_tallies(0) == [VoteTally(reply, helpful=1, not_helpful=0)]
        assert upgraded.pseudonym(ASKER_ID) == pseudonym  # the salt survives upgrades
    finally:
        upgraded.close()
    assert query(database_url, "SELECT reason FROM votes") == [(None,)]
    assert query(database_url, "SELECT schema_version FROM meta") == [(len(HISTORY) + 1,)]


def test_a_failed_revision_leaves_the_previous_one_whole(
    storage: Storage, database_url: str, tmp_path: Path
) -> None:
    reply = make_reply()
    storage.record_reply(reply)
    storage.close()

    failing = Storage(database_url, migrations=with_next_revision(tmp_path, HALF_DONE))
    try:
        with pytest.raises(StorageError) as caught:
            failing.migrate()
        assert caught.value.problem is StorageProblem.UNKNOWN
        assert "no_such_table" in caught.value.detail
    finally:
        failing.close()
    assert query(database_url, "SELECT version_num FROM alembic_version") == [(LATEST,)]
    assert "reasons" not in tables_of(database_url)
    current = Storage(database_url)  # today's bot goes on using it
    try:
        assert current.replies_since(0) == [reply]
    finally:
        current.close()


def test_a_database_from_a_newer_bot_is_refused_and_left_untouched(
    storage: Storage, database_url: str
) -> None:
    storage.record_reply(make_reply())
    storage.close()
    query(database_url, "UPDATE alembic_version SET version_num = '0100'")

    refused = Storage(database_url)
    try:
        with pytest.raises(StorageError) as caught:
            refused.migrate()
        assert caught.value.problem is StorageProblem.UNKNOWN
        assert "revision 0100, which this bot does not know" in caught.value.detail
        assert "left untouched" in caught.value.detail
        assert problem_of(refused.record_reply, make_reply()) is StorageProblem.UNKNOWN
        assert problem_of(refused.replies_since, 0) is StorageProblem.UNKNOWN
    finally:
        refused.close()
    assert query(database_url, "SELECT version_num FROM alembic_version") == [("0100",)]
    assert query(database_url, "SELECT count(*) FROM replies") == [(1,)]


def test_every_revision_can_be_undone_and_done_again(storage: Storage, database_url: str) -> None:
    storage.migrate()
    storage.close()
    revisions = Revisions.load()
    engine = create_engine(opened_url(database_url))
    try:
        with engine.begin() as connection:
            config = revisions.config_for(connection)
            command.downgrade(config, "base")
            assert inspect(connection).get_table_names() == ["alembic_version"]
            command.upgrade(config, "head")
    finally:
        engine.dispose()
    assert schema_differences(database_url) == []


# Databases the bot made before its schema had revisions: SQLite files numbered 1 or 2.


@pytest.mark.parametrize("version", sorted(LEGACY_VERSIONS))
def test_a_sqlite_database_of_the_bots_own_numbering_is_adopted_keeping_every_row(
    tmp_path: Path, version: int
) -> None:
    salt = secrets.token_bytes(32)
    database = legacy_database(tmp_path, version, salt)

    storage = Storage.for_data_dir(tmp_path)
    try:
        upgrade = storage.migrate()
        (reply,) = storage.replies_since(0)
        tallies = storage.vote_tallies(0)
        pseudonym = storage.pseudonym(ASKER_ID)
    finally:
        storage.close()

    adopted_as = LEGACY_VERSIONS[version]
    assert (upgrade.legacy_version, upgrade.before, upgrade.after) == (version, adopted_as, LATEST)
    assert upgrade.applied == Revisions.load().after(adopted_as) and upgrade.changed
    assert (reply.id, reply.question, reply.asker, reply.guild_id) == (
        "a" * 32,
        "Why does China oppose the meeting?",
        "asker-pseudonym",
        11,
    )
    assert reply.citations == (PASSAGE if version == 1 else replace(PASSAGE, version="ab12" * 8),)
    assert tallies == [VoteTally(reply, helpful=0, not_helpful=1)]
    # The salt, and so everyone's pseudonym, is the one the database was made with.
    assert pseudonym == hmac.new(salt, str(ASKER_ID).encode(), hashlib.sha256).hexdigest()
    assert schema_differences(sqlite_url(database)) == []
    assert query(sqlite_url(database), "SELECT version_num FROM alembic_version") == [(LATEST,)]


def test_a_sqlite_database_numbered_beyond_the_bots_own_versions_is_refused_untouched(
    tmp_path: Path,
) -> None:
    database = legacy_database(tmp_path, 2, secrets.token_bytes(32))
    with closing(sqlite3.connect(database)) as connection, connection:
        connection.execute("UPDATE meta SET schema_version = 3")
    before = database.read_bytes()

    storage = Storage.for_data_dir(tmp_path)
    try:
        with pytest.raises(StorageError) as caught:
            storage.migrate()
    finally:
        storage.close()
    assert caught.value.problem is StorageProblem.UNKNOWN
    assert "schema version 3, newer than this bot knows" in caught.value.detail
    assert database.read_bytes() == before
