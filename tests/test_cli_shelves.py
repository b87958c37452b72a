"""The operator's side of servers' own shelves: `articlebot shelf list|export|remove`, `check`
validating every shelf, and `ask`, `list` and `insights` as a server sees them."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from corpora import PROMPTS, SECOND_ARTICLE, SPACE_ARTICLE

from bot.cli import main
from bot.engine import Engine
from bot.engine.shelf import TEMPORARY_PREFIX, read_submission
from bot.records import ShelfAction, Storage
from bot.shelves import Shelves

SERVER, OTHER_SERVER = 1_001, 2_002
MODERATOR_ID = 987_654_321_012_345_678
FERRY_ID = "server/port-alders-harbor-ferry-crosses-quietly-into-the-electric"
SPACE_ID = "server/lunar-ice-probe-cleared-for-launch-after-battery-swap-ends"
FERRY_QUESTION = "How much of the cost did the state grant cover?"


@pytest.fixture
def data_dir(records_in_tmp_path: Path) -> Path:
    """DATA_DIR, as the environment gives it to every command (conftest.py)."""
    return records_in_tmp_path


@pytest.fixture
def storage(data_dir: Path) -> Iterator[Storage]:
    opened = Storage.for_data_dir(data_dir)
    yield opened
    opened.close()


@pytest.fixture
def shelved(seed_corpus: Path, data_dir: Path, storage: Storage) -> Path:
    """The ferry story on one server's shelf and the space story on another's, added by a
    moderator; the shared corpus folder."""
    shared = Engine.load(seed_corpus, PROMPTS)
    shelves = Shelves(data_dir, storage)
    for server, path in ((SERVER, SECOND_ARTICLE), (OTHER_SERVER, SPACE_ARTICLE)):
        submission = read_submission(path.name, path.read_bytes())
        shelves.add(shared, server, submission, MODERATOR_ID)
    return seed_corpus


def run(capsys: pytest.CaptureFixture[str], *arguments: str) -> tuple[int, str, str]:
    code = main(list(arguments))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_shelf_list_names_the_servers_and_then_one_servers_articles(
    shelved: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "shelf", "list", "--corpus", str(shelved))
    assert code == 0
    assert out.splitlines() == ["SERVER  ARTICLES", f"{SERVER}    1", f"{OTHER_SERVER}    1"]
    code, out, _ = run(capsys, "shelf", "list", str(SERVER), "--corpus", str(shelved))
    header, row = out.splitlines()
    assert header.split() == ["ID", "ADDED", "DATE", "TITLE"]
    assert row.startswith(FERRY_ID) and "2026-04-14" in row and "Port Alder" in row
    code, out, _ = run(capsys, "shelf", "list", str(SERVER), "--json", "--corpus", str(shelved))
    assert json.loads(out)["id"] == FERRY_ID


def test_an_exported_shelf_is_a_corpus_folder_with_the_same_articles(
    shelved: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "export"
    code, out, _ = run(
        capsys, "shelf", "export", str(SERVER), str(target), "--corpus", str(shelved)
    )
    assert code == 0 and f"exported 1 article(s) of server {SERVER}" in out
    exported = Engine.load(target, PROMPTS)
    assert [a.title for a in exported.articles()] == [
        "Port Alder’s harbor ferry crosses quietly into the electric age"
    ]
    code, _, err = run(capsys, "shelf", "export", "3003", str(target), "--corpus", str(shelved))
    assert code == 1 and "server 3003 has no articles of its own" in err


def test_the_operator_removes_articles_and_the_removal_is_on_record(
    shelved: Path, storage: Storage, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "shelf", "remove", str(SERVER), FERRY_ID, "--corpus", str(shelved))
    assert code == 0 and out.startswith(f"removed {FERRY_ID} (Port Alder")
    code, _, err = run(capsys, "shelf", "remove", str(SERVER), FERRY_ID, "--corpus", str(shelved))
    assert code == 1 and f"{FERRY_ID} not removed: unknown_article" in err
    code, out, _ = run(
        capsys, "shelf", "remove", str(OTHER_SERVER), "--all", "--corpus", str(shelved)
    )
    assert code == 0 and SPACE_ID in out
    code, _, err = run(capsys, "shelf", "remove", str(SERVER), "--corpus", str(shelved))
    assert code == 2 and "--all" in err
    removals = [c for c in storage.shelf_changes_since(0) if c.action is ShelfAction.REMOVED]
    assert [(c.guild_id, c.actor) for c in removals] == [(SERVER, None), (OTHER_SERVER, None)]
    _, out, _ = run(capsys, "shelf", "list", "--corpus", str(shelved))
    assert out.splitlines()[1:] == [f"{SERVER}    0", f"{OTHER_SERVER}    0"]


def test_ask_and_list_answer_as_a_server_when_told_which(
    shelved: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, here, _ = run(
        capsys, "ask", "--corpus", str(shelved), "--server", str(SERVER), "--json", FERRY_QUESTION
    )
    _, there, _ = run(
        capsys,
        "ask",
        "--corpus",
        str(shelved),
        "--server",
        str(OTHER_SERVER),
        "--json",
        FERRY_QUESTION,
    )
    _, shared, _ = run(capsys, "ask", "--corpus", str(shelved), "--json", FERRY_QUESTION)
    assert json.loads(here)["citations"][0]["article"] == FERRY_ID
    for reply in (there, shared):
        assert all(c["article"] != FERRY_ID for c in json.loads(reply)["citations"])
    _, listed, _ = run(capsys, "list", "--corpus", str(shelved), "--server", str(SERVER))
    assert FERRY_ID in listed and "reuters-china-un-north-korea-rights" in listed
    _, summary, _ = run(
        capsys, "summary", "--corpus", str(shelved), "--server", str(SERVER), "--article", "ferry"
    )
    assert summary.startswith("**Port Alder’s harbor ferry")


def test_insights_for_one_server_show_its_shelf_changes_only(
    shelved: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, _ = run(capsys, "insights", "--corpus", str(shelved), "--server", str(SERVER))
    assert (
        f"added “Port Alder’s harbor ferry crosses quietly into the electric age” ({FERRY_ID})"
        in out
    )
    assert SPACE_ID not in out
    _, everywhere, _ = run(capsys, "insights", "--corpus", str(shelved))
    assert FERRY_ID in everywhere and SPACE_ID in everywhere


def test_check_validates_every_shelf(
    shelved: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = data_dir / "shelves" / str(SERVER) / "server"
    (folder / "broken.md").write_bytes(b"\x00\x01binary" * 100)
    (folder / f"{TEMPORARY_PREFIX}0123abcd").write_bytes(b"half an arti")
    code, out, _ = run(capsys, "check", "--corpus", str(shelved))
    assert code == 0
    assert "shelves: 2 server(s) with articles of their own" in out
    assert f"server {SERVER}: 1 article(s), 1 warning(s)" in out
    assert "server/broken.md: looks like a binary file, not text; skipped" in out
    assert f"{TEMPORARY_PREFIX}0123abcd: left by an add that never finished; delete it" in out
    assert f"server {OTHER_SERVER}: 1 article(s), 0 warning(s)" in out


def test_without_shelves_check_says_so(
    seed_corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert os.environ["DATA_DIR"]  # each test's own, empty
    code, out, _ = run(capsys, "check", "--corpus", str(seed_corpus))
    assert code == 0 and "shelves: 0 server(s)" in out
