"""A server's bookcase: the shared shelf and the server's own articles, answered together
without either index being copied, every quote cited to its shelf."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from corpora import PROMPTS, SECOND_ARTICLE, SPACE_ARTICLE

from bot.engine import Engine, UnknownArticle
from bot.engine.bookcase import Bookcase
from bot.engine.models import SERVER_SHELF, SHARED_SHELF
from bot.engine.shelf import Shelf, read_submission

FERRY_QUESTION = "How much of the cost did the state grant cover?"
FERRY_QUOTE = "About 60 percent of the cost was covered by a state clean-transportation grant"
SEED_QUESTION = "Which countries requested the meeting?"


def own_shelf(folder: Path, *articles: Path) -> Engine:
    """A server's own shelf holding `articles`, stored as a moderator's adds store them."""
    shelf = Shelf(folder)
    for path in articles:
        submission = read_submission(path.name, path.read_bytes())
        shelf.store(submission.name, submission.raw)
    engine = shelf.load(Engine.load(PROMPTS.parent / "corpus", PROMPTS).prompts)
    assert engine is not None
    return engine


@pytest.fixture
def own(tmp_path: Path) -> Engine:
    return own_shelf(tmp_path / "shelf", SECOND_ARTICLE)


def test_without_own_articles_a_bookcase_answers_as_the_shared_engine(seed_engine: Engine) -> None:
    bookcase = Bookcase(seed_engine)
    for question in (SEED_QUESTION, "What is the weather on Mars?", "", "Who wrote it?"):
        assert bookcase.ask(question) == seed_engine.ask(question)
    assert bookcase.corpus_version == seed_engine.corpus_version
    assert bookcase.articles() == seed_engine.articles()


def test_a_question_about_an_own_article_is_answered_from_it_and_says_so(
    seed_engine: Engine, own: Engine
) -> None:
    reply = Bookcase(seed_engine, own).ask(FERRY_QUESTION)
    assert reply.answered
    first = reply.citations[0]
    assert FERRY_QUOTE in first.quote
    assert first.shelf == SERVER_SHELF and first.article_id.startswith(f"{SERVER_SHELF}/")
    assert first.version == own.library.by_id[first.article_id].content_hash
    assert "added by this server's moderators" in reply.text
    assert "“Port Alder’s harbor ferry crosses quietly into the electric age”" in reply.text


def test_a_question_about_the_shared_article_is_still_answered_from_it(
    seed_engine: Engine, own: Engine
) -> None:
    reply = Bookcase(seed_engine, own).ask(SEED_QUESTION)
    assert reply.answered and "Albania and Japan" in reply.citations[0].quote
    assert reply.citations[0].shelf == SHARED_SHELF
    assert "added by this server's moderators" not in reply.text
    # Two articles now: citations name theirs.
    assert f"of “{seed_engine.articles()[0].title}”" in reply.text


def test_the_shared_engine_alone_never_cites_an_own_article(
    seed_engine: Engine, own: Engine
) -> None:
    reply = seed_engine.ask(FERRY_QUESTION)
    assert all(c.shelf == SHARED_SHELF for c in reply.citations)
    assert FERRY_QUOTE not in reply.text


def test_a_decline_names_only_what_neither_shelf_mentions(seed_engine: Engine, own: Engine) -> None:
    bookcase = Bookcase(seed_engine, own)
    reply_to = "What did Zelensky say about Kessler Marine Works?"
    reply = bookcase.ask(reply_to)
    # The shared shelf never mentions the shipyard, but the server's own article does.
    assert "It never mentions Zelensky, Kessler Marine Works." in seed_engine.ask(reply_to).text
    assert not reply.answered
    assert reply.text.splitlines()[0] == "The articles don't say that. They never mention Zelensky."


def test_a_question_about_an_article_itself_is_answered_from_the_article_it_names(
    seed_engine: Engine, own: Engine
) -> None:
    bookcase = Bookcase(seed_engine, own)
    ferry = bookcase.ask("Who wrote the ferry story?")
    assert ferry.citations[0].quote == "Dana Whitcombe" and ferry.citations[0].shelf == SERVER_SHELF
    korea = bookcase.ask("Who wrote the article about North Korea?")
    assert korea.citations[0].quote == "By Michelle Nichols"
    # Naming no article: the shared shelf's, as each shelf is as sure of its own.
    assert bookcase.ask("Who wrote it?").citations[0].quote == "By Michelle Nichols"


def test_the_same_question_gets_the_same_answer(seed_engine: Engine, own: Engine) -> None:
    bookcase = Bookcase(seed_engine, own)
    first = [bookcase.ask(q) for q in (FERRY_QUESTION, SEED_QUESTION)]
    again = Bookcase(seed_engine, own)
    assert [again.ask(q) for q in (FERRY_QUESTION, SEED_QUESTION)] == first


def test_summaries_and_the_article_list_see_both_shelves(seed_engine: Engine, own: Engine) -> None:
    bookcase = Bookcase(seed_engine, own)
    listed = {a.id: a.shelf for a in bookcase.articles()}
    (ferry_id,) = [a for a, shelf in listed.items() if shelf == SERVER_SHELF]
    assert listed == {ferry_id: SERVER_SHELF, "reuters-china-un-north-korea-rights": SHARED_SHELF}
    assert [a.id for a in bookcase.own_articles()] == [ferry_id]
    summary = bookcase.summarize("harbor ferry")
    assert summary.text.startswith("**Port Alder’s harbor ferry")
    assert {c.article_id for c in summary.citations} == {ferry_id}
    assert all(c.shelf == SERVER_SHELF for c in summary.citations)
    assert bookcase.summarize("China opposes").citations[0].shelf == SHARED_SHELF
    # The newest article (the ferry has a 2026 date, the seed none) is the default.
    assert bookcase.summarize().citations[0].article_id == ferry_id
    with pytest.raises(UnknownArticle) as unknown:
        bookcase.summarize("lighthouse")
    assert ferry_id in unknown.value.known


def test_a_name_fitting_articles_on_both_shelves_is_ambiguous(
    seed_engine: Engine, tmp_path: Path
) -> None:
    shutil.copy(SPACE_ARTICLE, seed_engine.corpus_dir)
    shared = Engine.load(seed_engine.corpus_dir, PROMPTS)
    bookcase = Bookcase(shared, own_shelf(tmp_path / "shelf", SECOND_ARTICLE))
    with pytest.raises(UnknownArticle, match="fits 2 articles"):
        bookcase.choose_article("ic")  # "electric" and "Ice": the ferry and the space story


def test_the_corpus_version_names_both_shelves(seed_engine: Engine, own: Engine) -> None:
    version = Bookcase(seed_engine, own).corpus_version
    assert version == f"{seed_engine.corpus_version}+{own.corpus_version}"
    assert version != Bookcase(seed_engine).corpus_version


def test_an_article_already_on_either_shelf_is_found_by_its_text(
    seed_engine: Engine, own: Engine
) -> None:
    bookcase = Bookcase(seed_engine, own)
    ferry = read_submission("copy.md", SECOND_ARTICLE.read_bytes())
    assert bookcase.holding(ferry.fingerprint) == own.articles()[0].id
    seed_text = (seed_engine.corpus_dir / "reuters-china-un-north-korea-rights.txt").read_bytes()
    # The same story with other line ends and a front matter title is the same text.
    retyped = b"---\ntitle: Again\n---\n\n" + seed_text.split(b"\n", 1)[1].replace(b"\n", b"\r\n")
    assert bookcase.holding(read_submission("again.md", retyped).fingerprint) == (
        "reuters-china-un-north-korea-rights"
    )
    assert bookcase.article("reuters-china-un-north-korea-rights") is not None
    assert bookcase.article("server/nothing") is None


def test_both_engines_on_one_shelf_is_a_mistake(seed_engine: Engine) -> None:
    with pytest.raises(ValueError, match="shared"):
        Bookcase(seed_engine, seed_engine)
