"""The command line is a contract: other tools read its JSON and its exit codes."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from corpora import CITATION_JSON_KEYS
from databases import legacy_database
from postgres_server import free_port
from sqlalchemy import make_url

from bot.cli import main, terminal_progress
from bot.engine import Engine
from bot.records.revisions import Revisions


def test_ask_json_prints_one_object_per_question_with_checkable_citations(
    seed_corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "ask",
            "--corpus",
            str(seed_corpus),
            "--json",
            "When will the meeting be held?",
            "What is the GDP of Japan?",
        ]
    )
    assert code == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert set(first) == {"question", "answered", "text", "citations"}
    assert first["answered"] is True and second["answered"] is False
    citation = first["citations"][0]
    assert set(citation) == CITATION_JSON_KEYS
    text = (seed_corpus / citation["path"]).read_text("utf-8")
    assert text[citation["start"] : citation["end"]] == citation["quote"]
    # The words that answer are a stretch of the quote, pointed at by offsets into it.
    start, end = citation["answer"]
    assert citation["quote"][start:end] == "on Thursday"
    assert all(c["answer"] is None for c in second["citations"])  # a decline points at nothing


def test_ask_prints_the_message_the_bot_would_post(
    seed_corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ask", "--corpus", str(seed_corpus), "Who wrote it?"]) == 0
    assert "By Michelle Nichols" in capsys.readouterr().out


def test_check_reports_what_loaded(
    seed_corpus: Path, seed_engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    (seed_corpus / "empty.txt").write_text("")
    assert main(["check", "--corpus", str(seed_corpus)]) == 0
    out = capsys.readouterr().out
    assert "articles: 1  paragraphs: 10  sentences: 15" in out
    # What to compare between machines: the same articles, the same version.
    assert f"\ncorpus version: {seed_engine.corpus_version}\n" in out
    assert "empty.txt: has no article text" in out


def test_check_fails_when_nothing_usable_is_left(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "empty.txt").write_text("")
    assert main(["check", "--corpus", str(tmp_path)]) == 1
    assert "No usable article" in capsys.readouterr().err
    assert main(["check", "--corpus", str(tmp_path / "missing")]) == 1


def test_corpus_folder_comes_from_the_environment(
    seed_corpus: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CORPUS_DIR", str(seed_corpus))
    assert main(["check"]) == 0
    assert str(seed_corpus) in capsys.readouterr().out


def test_run_without_token_explains_how_to_get_one(
    seed_corpus: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)  # no .env here
    assert main(["run", "--corpus", str(seed_corpus)]) == 2
    err = capsys.readouterr().err
    assert "DISCORD_TOKEN" in err and "articlebot chat" in err


@pytest.mark.parametrize(
    ("argv", "environment", "says"),
    [
        (
            ["run", "--shard-count", "2", "--shard-ids", "1-2"],
            {},
            "names shard 2, but with SHARD_COUNT (--shard-count) 2 the shards are 0 to 1",
        ),
        (["run", "--shard-ids", "0"], {}, "SHARD_IDS (--shard-ids) needs SHARD_COUNT"),
        (
            ["cluster", "--processes", "3", "--shard-count", "2"],
            {},
            "--processes 3 is more than the 2 shard(s)",
        ),
        (
            ["cluster", "--processes", "2"],
            {"SHARD_COUNT": "4", "SHARD_IDS": "0-1"},
            "`articlebot cluster` gives each of its processes its shards: unset SHARD_IDS",
        ),
    ],
)
def test_shards_that_cannot_work_are_refused_before_anything_starts(
    argv: list[str],
    environment: dict[str, str],
    says: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env here
    monkeypatch.delenv("SHARD_COUNT", raising=False)
    monkeypatch.delenv("SHARD_IDS", raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DISCORD_TOKEN", "a-token")
    assert main(argv) == 2
    assert says in capsys.readouterr().err


def test_chat_answers_each_line_from_standard_input(seed_corpus: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "chat", "--corpus", str(seed_corpus)],
        input="Who wrote it?\nWhat is the tallest mountain in the world?\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "By Michelle Nichols" in result.stdout
    assert "The article doesn't say that." in result.stdout


def test_ask_ends_quietly_when_its_reader_has_gone(seed_corpus: Path) -> None:
    # `articlebot ask ... | head -1`: the pipe closes before the answers are written.
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        result = subprocess.run(
            [sys.executable, "-m", "bot", "ask", "--corpus", str(seed_corpus), "Who wrote it?"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    finally:
        os.close(write_end)
    assert result.stderr == ""
    assert result.returncode == 141


def test_engine_imports_no_discord() -> None:
    code = "import sys, bot.engine, bot.cli; print('discord' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "False"


def test_the_command_line_imports_the_records_database_only_when_a_command_needs_it() -> None:
    # SQLAlchemy alone takes longer to import than `articlebot ask` takes to answer.
    code = "import sys, bot.cli; print('sqlalchemy' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "False"


def test_invite_prints_the_link_with_the_bot_scopes_and_permissions(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["invite", "123456789012345678"]) == 0
    url = capsys.readouterr().out.strip()
    assert url.startswith("https://discord.com/oauth2/authorize?client_id=123456789012345678")
    assert "scope=bot+applications.commands" in url
    assert "permissions=274877975552" in url  # view, send, send in threads, read history


class Terminal(io.StringIO):
    """Text output that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_progress_shows_on_a_terminal_for_a_large_corpus_only() -> None:
    terminal, pipe, small = Terminal(), io.StringIO(), Terminal()
    for done in range(1, 301):
        terminal_progress(terminal)(done, 300)
        terminal_progress(pipe)(done, 300)
    for done in range(1, 11):
        terminal_progress(small)(done, 10)
    assert "reading articles: 300/300\n" in terminal.getvalue()
    assert "reading articles: 50/300" in terminal.getvalue()
    assert pipe.getvalue() == "" and small.getvalue() == ""


def test_migrate_brings_a_new_database_to_the_latest_revision_then_has_nothing_to_do(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    history = Revisions.load().history

    assert main(["migrate"]) == 0
    created = capsys.readouterr().out
    assert main(["migrate"]) == 0
    again = capsys.readouterr().out

    where = created.splitlines()[0]
    assert where.startswith("records: ") and ("(SQLite 3." in where or "(PostgreSQL " in where)
    password = make_url(database_url).password
    assert password is None or password not in created
    assert f"A new database: created at revision {history[-1].id}, the latest" in created
    for revision in history:
        assert f"  {revision.id}  {revision.description}" in created
    assert again.splitlines() == [
        where,
        f"At revision {history[-1].id}, the latest: nothing to do.",
    ]


def test_migrate_adopts_a_database_numbered_before_revisions(
    records_in_tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    records_in_tmp_path.mkdir()
    legacy_database(records_in_tmp_path, 1, b"salt" * 8)

    assert main(["migrate"]) == 0

    out = capsys.readouterr().out
    assert "numbered the way the bot numbered its schema before revisions, version 1" in out
    assert "marked as revision 0001" in out
    assert "Upgraded from revision 0001 to revision 0003, the latest, applying:\n  0002  " in out
    assert "\n  0003  Reloads that reach every process" in out


def test_migrate_says_why_when_the_database_cannot_be_reached(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"postgresql://bot:secret@127.0.0.1:{free_port()}/records")
    assert main(["migrate"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "articlebot: the records cannot be migrated (unavailable)" in captured.err
    assert "secret" not in captured.err
