"""Insights: unanswered questions grouped when they ask the same thing, unhelpful answers,
counts per article; the same from `/insights` and `articlebot insights`."""

from __future__ import annotations

import csv
import io
import time
from dataclasses import replace
from pathlib import Path

import pytest
from corpora import PROMPTS
from postgres_server import free_port

from bot.cli import main
from bot.engine import Article, Engine
from bot.engine.markup import DISCORD_MESSAGE_LIMIT
from bot.engine.shelf import Shelf, read_submission
from bot.engine.templates import Prompts
from bot.insights import (
    CurrentArticle,
    gather_insights,
    group_questions,
    insights_csv,
    render_insights,
)
from bot.records import CitedPassage, ReplyRecord, ShelfAction, ShelfChange, Storage, VoteTally
from bot.records.revisions import Revisions

NOW = 1_790_000_000.0
SEED = "reuters-china-un-north-korea-rights"
PASSAGE = CitedPassage(
    SEED, 2, 350, 440, "The United States, Albania and Japan requested the meeting"
)


def reply(
    n: int, question: str, *, answered: bool = False, at: float = NOW, cited: bool = True
) -> ReplyRecord:
    return ReplyRecord(
        id=f"{n:032x}",
        question=question,
        answered=answered,
        citations=(PASSAGE,) if cited else (),
        corpus_version="v1",
        guild_id=1,
        channel_id=2,
        asker=None,
        at=at,
    )


def test_questions_asking_the_same_in_other_words_are_grouped() -> None:
    declined = [
        reply(1, "What does the meeting cost?"),
        reply(2, "what's the price of the meeting"),
        reply(3, "Who asked for the vote?"),
        reply(4, "What does the meeting cost?"),
        reply(5, "who requested the vote"),
        reply(6, "What is the weather on Mars?"),
        reply(7, "WHAT DOES THE MEETING COST"),
    ]
    groups = group_questions(declined)
    assert [(g.question, g.count) for g in groups] == [
        ("What does the meeting cost?", 4),
        ("Who asked for the vote?", 2),
        ("What is the weather on Mars?", 1),
    ]
    assert groups[0].wordings == ("what's the price of the meeting",)
    assert groups[1].wordings == ("who requested the vote",)
    assert groups[0].related == PASSAGE


def test_insights_count_questions_votes_and_articles() -> None:
    replies = [
        reply(1, "Who requested the meeting?", answered=True),
        reply(2, "What is the weather on Mars?", cited=False),
        reply(3, "How many votes are needed?"),
    ]
    insights = gather_insights(replies, [], NOW - 7 * 86_400, NOW)
    assert (insights.questions, insights.answered, insights.declined) == (3, 1, 2)
    assert insights.days == 7
    (article,) = insights.articles
    assert (article.article_id, article.answered, article.related) == (SEED, 1, 1)


def test_the_summary_fits_a_discord_message_and_the_csv_holds_every_row(
    seed_engine: Engine,
) -> None:
    declined = [reply(n, f"Is zq{n:03d}x in the article?") for n in range(300)]
    insights = gather_insights(declined, [], NOW - 86_400, NOW)
    assert len(insights.unanswered) == 300
    text = render_insights(seed_engine, insights)
    assert len(text) <= DISCORD_MESSAGE_LIMIT
    assert "Is zq000x in the article?" in text
    assert "more in the attached list" in text
    rows = list(csv.DictReader(io.StringIO(insights_csv(insights))))
    assert sum(row["list"] == "unanswered" for row in rows) == 300


@pytest.fixture
def records_url(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The records database of every command the test runs (a SQLite file, then PostgreSQL):
    DATABASE_URL names it."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    return database_url


def stored(url: str) -> Storage:
    storage = Storage(url)
    now = time.time()
    storage.record_reply(reply(1, "Who requested the meeting?", answered=True, at=now))
    storage.record_reply(reply(2, "What is the weather on Mars?", at=now, cited=False))
    storage.record_reply(reply(3, "what's the weather like on mars", at=now, cited=False))
    storage.record_vote(f"{1:032x}", 1111, helpful=False)
    return storage


def test_articlebot_insights_prints_the_summary_and_writes_the_csv(
    seed_corpus: Path, records_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stored(records_url).close()
    table = tmp_path / "insights.csv"
    code = main(["insights", "--corpus", str(seed_corpus), "--since", "7", "--csv", str(table)])
    assert code == 0
    out = capsys.readouterr().out
    assert "What is the weather on Mars? ×2" in out
    assert "Who requested the meeting? (1 not helpful, 0 helpful)" in out
    rows = list(csv.DictReader(table.open(encoding="utf-8")))
    assert {row["list"] for row in rows} == {"unanswered", "not_helpful", "article"}


def test_articlebot_forget_deletes_one_persons_votes(
    records_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    storage = stored(records_url)
    storage.record_vote(f"{2:032x}", 2222, helpful=True)
    storage.close()
    assert main(["forget", "1111"]) == 0
    assert "deleted 1 record(s)" in capsys.readouterr().out
    storage = Storage(records_url)
    tallies = storage.vote_tallies(0)
    storage.close()
    assert [(t.helpful, t.not_helpful) for t in tallies] == [(1, 0)]


def test_check_says_which_database_keeps_the_records_and_at_which_revision(
    seed_corpus: Path, records_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    stored(records_url).close()
    assert main(["check", "--corpus", str(seed_corpus)]) == 0
    (line,) = [line for line in capsys.readouterr().out.splitlines() if line.startswith("records:")]
    backend = "SQLite" if records_url.startswith("sqlite") else "PostgreSQL"
    assert f"({backend} " in line
    assert f"schema revision {Revisions.load().head}, 3 replies (1 answered, 2 declined)" in line


def test_check_fails_on_a_damaged_sqlite_database(
    seed_corpus: Path, records_in_tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "--corpus", str(seed_corpus)]) == 0
    assert "records:" in capsys.readouterr().out
    database = next(records_in_tmp_path.glob("*.sqlite3"))
    database.write_bytes(b"this is not a database" * 100)
    for leftover in records_in_tmp_path.glob("*.sqlite3-*"):
        leftover.unlink()
    assert main(["check", "--corpus", str(seed_corpus)]) == 1
    assert "records: cannot be used (corrupt)" in capsys.readouterr().out


def test_check_fails_when_the_postgresql_server_is_down(
    seed_corpus: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"postgresql://bot:secret@127.0.0.1:{free_port()}/records")
    assert main(["check", "--corpus", str(seed_corpus)]) == 1
    out = capsys.readouterr().out
    assert "records: cannot be used (unavailable)" in out
    assert "secret" not in out


def test_questions_sharing_words_but_asking_different_things_stay_apart() -> None:
    declined = [
        reply(1, "What's the name of the Chinese spokesperson?"),
        reply(2, "When did the Chinese spokesperson say this?"),
        reply(3, "Did Kim say anything about making more missiles?"),
        reply(4, "Did the report say Kim himself should be held accountable?"),
    ]
    assert [g.count for g in group_questions(declined)] == [1, 1, 1, 1]


# Servers' own articles: who changed them, and answers about text that has since changed

FERRY = "server/ferry-goes-electric"
FERRY_V1 = b"---\ntitle: Ferry goes electric\n---\n\nThe ferry sailed on Monday. Nobody heard it.\n"
FERRY_V2 = (
    b"---\ntitle: Ferry goes electric\n---\n\nThe ferry sailed on Tuesday. Nobody heard it.\n"
)


def ferry_answer(n: int, quote: str, version: str, *, guild_id: int = 1) -> ReplyRecord:
    """An answer citing the ferry story (text `version`) in server `guild_id`."""
    passage = CitedPassage(FERRY, 1, 38, 38 + len(quote), quote, version)
    return replace(
        reply(n, "When did the ferry sail?", answered=True),
        citations=(passage,),
        guild_id=guild_id,
    )


def current_articles(tmp_path: Path, raw: bytes | None) -> tuple[CurrentArticle, str]:
    """How insights find the ferry story now (holding `raw`, or gone: None) in server 1, and
    the content hash of that text."""
    shelf = Shelf(tmp_path / "shelf")
    if raw is not None:
        shelf.store("ferry-goes-electric", raw)
    own = shelf.load(Prompts(PROMPTS))
    by_id = {a.id: a for a in own.library.articles} if own is not None else {}

    def current(guild_id: int | None, article_id: str) -> Article | None:
        return by_id.get(article_id) if guild_id == 1 else None

    return current, by_id[FERRY].content_hash if by_id else ""


@pytest.mark.parametrize(
    ("now_holds", "stale"),
    [(FERRY_V1, False), (FERRY_V2, True), (None, True)],
    ids=["unchanged", "replaced_without_it", "removed"],
)
def test_an_answer_whose_quote_is_gone_is_stale_and_not_counted_against_the_article(
    tmp_path: Path, now_holds: bytes | None, stale: bool
) -> None:
    first = read_submission("ferry.md", FERRY_V1).article
    answer = ferry_answer(1, "The ferry sailed on Monday.", first.content_hash)
    current, _ = current_articles(tmp_path, now_holds)
    tally = VoteTally(answer, helpful=0, not_helpful=2)
    insights = gather_insights([answer], [tally], NOW - 86_400, NOW, (), current)
    assert (answer.id in insights.stale) is stale
    (counts,) = insights.articles
    assert (counts.answered, counts.not_helpful, counts.stale) == (
        (0, 0, 1) if stale else (1, 2, 0)
    )


def test_a_replaced_article_that_still_has_the_sentence_is_not_stale(tmp_path: Path) -> None:
    answer = ferry_answer(1, "Nobody heard it.", "an-older-hash")
    current, version = current_articles(tmp_path, FERRY_V2)
    assert version != "an-older-hash"
    assert gather_insights([answer], [], NOW - 1, NOW, (), current).stale == frozenset()


def test_stale_answers_and_shelf_changes_are_shown_and_listed(
    seed_engine: Engine, tmp_path: Path
) -> None:
    answer = ferry_answer(1, "The ferry sailed on Monday.", "an-older-hash")
    current, _ = current_articles(tmp_path, FERRY_V2)
    moderator = "3f2a9c1b" + "0" * 56
    changes = [
        ShelfChange(1, ShelfAction.ADDED, FERRY, "Ferry goes electric", "h1", moderator, NOW - 60),
        ShelfChange(1, ShelfAction.REPLACED, FERRY, "Ferry goes electric", "h2", None, NOW),
    ]
    insights = gather_insights(
        [answer], [VoteTally(answer, 0, 1)], NOW - 86_400, NOW, changes, current
    )
    text = render_insights(seed_engine, insights)
    assert "(stale: the article no longer has that sentence)" in text
    assert "and 1 stale (about text it no longer has)" in text
    assert "replaced “Ferry goes electric” (server/ferry-goes-electric) by the operator" in text
    assert "added “Ferry goes electric” (server/ferry-goes-electric) by moderator 3f2a9c1b" in text
    assert text.index("replaced “Ferry") < text.index("added “Ferry")  # latest first
    assert moderator not in text  # only enough of the pseudonym to tell people apart
    rows = list(csv.DictReader(io.StringIO(insights_csv(insights))))
    assert [row["stale"] for row in rows if row["list"] == "not_helpful"] == ["yes"]
    shelf_rows = [row for row in rows if row["list"].startswith("shelf_")]
    assert [(row["list"], row["by"]) for row in shelf_rows] == [
        ("shelf_added", "3f2a9c1b"),
        ("shelf_replaced", "operator"),
    ]
    assert shelf_rows[0]["title"] == "Ferry goes electric" and shelf_rows[0]["at"]
