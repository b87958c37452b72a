"""The records databases the storage tests run on: a SQLite file, and a database on the test
PostgreSQL server (tests/postgres_server.py); and reading either with plain SQL."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

from record_samples import NOW, PASSAGE
from sqlalchemy import create_engine, text

from bot.records import DATABASE_FILE_NAME
from bot.records.database import database_url

SQLITE, POSTGRESQL = "sqlite", "postgresql"
# The old schemas' DDL as the bot wrote it before it used Alembic (schema versions 1 and 2),
# copied from databases it made: upgrading them must keep every row.
LEGACY_SCHEMAS = Path(__file__).resolve().parent / "data" / "records"


LEGACY_REPLY_ID = "a" * 32


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def query(url: str, sql: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
    """Run one statement on the database `url` names, not through Storage; its rows (none for
    a statement that returns none). Committed."""
    engine = create_engine(database_url(url))
    try:
        with engine.begin() as connection:
            result = connection.execute(text(sql), params or {})
            return [tuple(row) for row in result] if result.returns_rows else []
    finally:
        engine.dispose()


def legacy_database(folder: Path, version: int, salt: bytes) -> Path:
    """A SQLite file as the bot made it at schema `version`, holding one reply (as that
    version kept it) and a vote on it."""
    database = folder / DATABASE_FILE_NAME
    with closing(sqlite3.connect(database)) as connection, connection:
        connection.executescript((LEGACY_SCHEMAS / f"schema_{version}.sql").read_text())
        connection.execute("INSERT INTO meta VALUES (1, ?, ?)", (version, salt))
        connection.execute(
            "INSERT INTO replies VALUES (?, ?, 1, 'corpus-1', 11, 22, ?, ?)",
            (LEGACY_REPLY_ID, "Why does China oppose the meeting?", "asker-pseudonym", NOW),
        )
        cited = (PASSAGE.article_id, PASSAGE.paragraph, PASSAGE.start, PASSAGE.end, PASSAGE.quote)
        if version == 1:  # before citations kept the article's version
            connection.execute(
                "INSERT INTO citations VALUES (?, 1, ?, ?, ?, ?, ?)", (LEGACY_REPLY_ID, *cited)
            )
        else:
            connection.execute(
                "INSERT INTO citations VALUES (?, 1, ?, ?, ?, ?, ?, ?)",
                (LEGACY_REPLY_ID, *cited, "ab12" * 8),
            )
        connection.execute(
            "INSERT INTO votes VALUES (?, 'voter-pseudonym', 0, ?)", (LEGACY_REPLY_ID, NOW)
        )
    return database
