"""The tables as the latest schema revision leaves them, which every query is written against.

The revision scripts in `migrations/versions/` build this schema step by step, on SQLite and
PostgreSQL alike; they keep their own frozen copies of the tables, never these, so that a later
change here cannot rewrite history. A test compares a database the revisions built with these
tables on both backends.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    Text,
)

metadata = MetaData()

meta = Table(
    "meta",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),  # always 1: one row
    # The revision's place in the history (1 for 0001...), kept for bots older than the
    # revision scripts, which refuse a database whose number is beyond theirs.
    Column("schema_version", Integer, nullable=False),
    # The key of every pseudonym in this database; it never leaves it.
    Column("pseudonym_salt", LargeBinary, nullable=False),
)
replies = Table(
    "replies",
    metadata,
    Column("id", Text, primary_key=True),
    Column("question", Text, nullable=False),
    Column("answered", Boolean, nullable=False),
    Column("corpus_version", Text, nullable=False),
    Column("guild_id", BigInteger),
    Column("channel_id", BigInteger),
    Column("asker", Text),
    Column("at", Float, nullable=False),
    Index("replies_at", "at"),
    Index("replies_asker", "asker"),
)
# The primary key (reply_id, n) doubles as the index that deleting a reply needs to find its
# citations: without one, every cascaded delete would scan the whole table.
citations = Table(
    "citations",
    metadata,
    Column("reply_id", ForeignKey("replies.id", ondelete="CASCADE"), primary_key=True),
    Column("n", Integer, primary_key=True, autoincrement=False),  # 1 for the first, as JSON
    Column("article_id", Text, nullable=False),
    Column("paragraph", Integer, nullable=False),
    Column("start", Integer, nullable=False),
    Column("end", Integer, nullable=False),
    Column("quote", Text, nullable=False),
    # The cited article's content hash, so /insights can tell an answer about text that has
    # since changed. NULL for citations recorded before revision 0002.
    Column("article_version", Text),
)
# The primary key is what holds each person to one vote per reply, whichever process writes.
votes = Table(
    "votes",
    metadata,
    Column("reply_id", ForeignKey("replies.id", ondelete="CASCADE"), primary_key=True),
    Column("voter", Text, primary_key=True),
    Column("helpful", Boolean, nullable=False),
    Column("at", Float, nullable=False),  # when cast, or last changed
    Index("votes_voter", "voter"),
    Index("votes_at", "at"),
)
# Each server's shelf version, bumped by every change to its own articles: a process holding
# an older version loads that shelf again before answering there.
shelves = Table(
    "shelves",
    metadata,
    Column("guild_id", BigInteger, primary_key=True, autoincrement=False),
    Column("version", Integer, nullable=False),
)
shelf_changes = Table(
    "shelf_changes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("guild_id", BigInteger, nullable=False),
    Column("action", Text, nullable=False),
    Column("article_id", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("version", Text, nullable=False),
    Column("actor", Text),  # a pseudonym; NULL for the operator
    Column("at", Float, nullable=False),
    Index("shelf_changes_guild_at", "guild_id", "at"),
    Index("shelf_changes_actor", "actor"),
)
# Each /reload asked in one process, for every other process of the bot to carry out too.
corpus_reloads = Table(
    "corpus_reloads",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("asked_by", Text),  # a pseudonym of the moderator; NULL for the operator
    Column("asked_in", Text, nullable=False),  # the name of the process that got the /reload
    Column("at", Float, nullable=False),
    Index("corpus_reloads_at", "at"),
    Index("corpus_reloads_asked_by", "asked_by"),
)
# What each process made of a reload: the primary key is also what finds the reloads a process
# has yet to carry out.
corpus_reload_results = Table(
    "corpus_reload_results",
    metadata,
    Column("reload_id", ForeignKey("corpus_reloads.id", ondelete="CASCADE"), primary_key=True),
    Column("process", Text, primary_key=True),
    Column("succeeded", Boolean, nullable=False),
    Column("articles", Integer),  # how many the process serves now; NULL when it failed
    Column("corpus_version", Text),  # the fingerprint of those articles; NULL when it failed
    Column("error", Text),  # why it failed, as a moderator reads it; NULL when it succeeded
    Column("at", Float, nullable=False),
)
# The bot's processes, each row kept fresh while its process runs: a /reload waits only for
# those whose `alive_until` has not passed.
bot_processes = Table(
    "bot_processes",
    metadata,
    Column("name", Text, primary_key=True),  # its host, pid and shards, in words
    Column("host", Text, nullable=False),
    Column("pid", Integer, nullable=False),
    Column("shards", Text, nullable=False),
    Column("started_at", Float, nullable=False),
    Column("seen_at", Float, nullable=False),
    Column("alive_until", Float, nullable=False),
)
