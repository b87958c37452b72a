"""Fixtures shared by the test suite."""

from __future__ import annotations

import logging
import shutil
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import discord
import pytest
import yarl
from corpora import BBC, PROMPTS, SECOND_ARTICLE, SEED_RAW
from databases import POSTGRESQL, SQLITE, sqlite_url
from discord_standin import DiscordStandIn
from discord_standin.client import StandInFactory
from postgres_server import PostgresMissing, PostgresServer, server_programs
from record_samples import NOW, Clock

from bot.engine import Engine
from bot.records import DATABASE_FILE_NAME, Storage


@pytest.fixture(autouse=True)
def records_in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test keeps the bot's records (DATA_DIR) in its own folder, never in the checkout;
    bots and commands started by the test inherit it."""
    folder = tmp_path / "data"
    monkeypatch.setenv("DATA_DIR", str(folder))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    return folder


@pytest.fixture
async def start_standin(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[StandInFactory]:
    """Starts a Discord stand-in (keywords go to DiscordStandIn) and points discord.py at it.

    discord.py reads its endpoints from two class attributes; monkeypatch puts them back after
    the test, including when the code under test set them itself.
    """
    async with AsyncExitStack() as stack:

        async def start(**options: Any) -> DiscordStandIn:
            server = await stack.enter_async_context(DiscordStandIn(**options))
            monkeypatch.setattr(discord.http.Route, "BASE", server.api_base)
            monkeypatch.setattr(
                discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(server.gateway_url)
            )
            return server

        yield start


@pytest.fixture
async def standin(start_standin: StandInFactory) -> DiscordStandIn:
    """A running Discord stand-in that discord.py talks to for the length of one test."""
    return await start_standin()


# Engines over small real corpora in temporary folders.


@pytest.fixture
def seed_corpus(tmp_path: Path) -> Path:
    """A corpus folder holding the raw seed scrape, as a user would drop it in."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    shutil.copy(SEED_RAW, folder / "reuters-china-un-north-korea-rights.txt")
    return folder


@pytest.fixture
def seed_engine(seed_corpus: Path) -> Engine:
    """An engine over the seed article alone."""
    return Engine.load(seed_corpus, PROMPTS)


@pytest.fixture
def two_article_corpus(seed_corpus: Path) -> Path:
    """The seed article and the Markdown ferry story side by side."""
    shutil.copy(SECOND_ARTICLE, seed_corpus / SECOND_ARTICLE.name)
    return seed_corpus


@pytest.fixture
def bbc() -> Path:
    """The BBC News corpus, where this machine has it."""
    if not BBC.is_dir():
        pytest.skip(f"BBC News corpus not found at {BBC} (it is not shipped with the project)")
    return BBC


@pytest.fixture
def no_unexpected_errors(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Fail the test when anything was logged at ERROR or above during its call; a test that
    expects an error clears the log after checking it."""
    yield
    errors = [r.getMessage() for r in caplog.get_records("call") if r.levelno >= logging.ERROR]
    assert not errors, "\n".join(errors)


# Records databases: the storage tests run on SQLite and on PostgreSQL.


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server of this test process's own (each xdist worker starts one), started
    when a test first asks for it and deleted at the end; skipped where PostgreSQL's server
    programs are not installed."""
    try:
        programs = server_programs()
    except PostgresMissing as missing:
        pytest.skip(str(missing))
    server = PostgresServer(programs)
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_database_name(postgres_server: PostgresServer) -> str:
    """The database the tests of this process use on the test server, one after the other."""
    return postgres_server.create_database()


@pytest.fixture
def postgres_database(postgres_server: PostgresServer, postgres_database_name: str) -> str:
    """The URL of an empty database on the test server (emptied for each test, as fast as a
    schema is dropped, with no session, setting or table left from the one before)."""
    postgres_server.empty_database(postgres_database_name)
    return postgres_server.url(postgres_database_name)


@pytest.fixture(params=[SQLITE, POSTGRESQL])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty records database, once a SQLite file and once a PostgreSQL database."""
    if request.param == POSTGRESQL:
        return str(request.getfixturevalue("postgres_database"))
    folder = tmp_path / "records"
    folder.mkdir()
    return sqlite_url(folder / DATABASE_FILE_NAME)


@pytest.fixture
def clock() -> Clock:
    """A clock the records tests set themselves."""
    return Clock(NOW)


@pytest.fixture
def storage(database_url: str, clock: Clock) -> Iterator[Storage]:
    """Records in `database_url` on `clock`, kept 30 days (a test file may define its own)."""
    opened = Storage(database_url, clock=clock, retention_days=30)
    yield opened
    opened.close()
