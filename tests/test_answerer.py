"""Answers: verbatim cited quotes, honest declines, and messages that are safe to post."""

from __future__ import annotations

import re
from pathlib import Path

from corpora import PROMPTS, SECOND_ARTICLE
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.engine import Engine
from bot.engine.markup import DISCORD_MESSAGE_LIMIT


def test_answer_quotes_the_article_and_cites_the_paragraph(seed_engine: Engine) -> None:
    reply = seed_engine.ask("Why does China oppose the meeting?")
    assert reply.answered
    first = reply.citations[0]
    assert "intensify confrontation and antagonism" in first.quote
    assert first.paragraph == 1
    assert first.path == "reuters-china-un-north-korea-rights.txt"
    assert "paragraph 1" in reply.text


def test_question_outside_the_article_is_declined(seed_engine: Engine) -> None:
    for question in (
        "What is the tallest mountain in the world?",
        "How do I reset my password?",
        "What did France say about the vote?",
    ):
        reply = seed_engine.ask(question)
        assert not reply.answered, question
        assert reply.text.startswith("The article doesn't say that.")


def test_decline_offers_a_related_passage_only_marked_as_such(seed_engine: Engine) -> None:
    reply = seed_engine.ask("What did France say about the vote?")
    assert "Maybe related, but not an answer" in reply.text
    assert "It never mentions France." in reply.text
    assert reply.citations and "vote" in reply.citations[0].quote


def test_questions_about_the_article_quote_its_byline_and_credits(seed_engine: Engine) -> None:
    author = seed_engine.ask("Who wrote this article?")
    assert author.answered and author.citations[0].quote == "By Michelle Nichols"
    editor = seed_engine.ask("who edited the story")
    assert "Editing by Richard Chang" in editor.citations[0].quote
    agency = seed_engine.ask("which news agency is this from")
    assert "Reuters" in agency.citations[0].quote


def test_where_the_story_was_filed_from_quotes_its_dateline(seed_engine: Engine) -> None:
    for question in ("where was this filed from", "Where is this story from?"):
        reply = seed_engine.ask(question)
        assert reply.answered, question
        assert reply.citations[0].part == "dateline"
        assert "UNITED NATIONS" in reply.citations[0].quote
    # A question about a place in the story is about its content.
    assert seed_engine.ask("where will the meeting be held?").citations[0].part == "body"


def test_content_question_with_a_metadata_word_is_answered_from_the_body(
    seed_engine: Engine,
) -> None:
    reply = seed_engine.ask("What did the 2014 report say about security chiefs?")
    assert "should face justice" in reply.citations[0].quote


def test_acronyms_and_aliases_find_their_spelled_out_forms(seed_engine: Engine) -> None:
    reply = seed_engine.ask("What is the formal name of the DPRK?")
    assert "Democratic People" in reply.citations[0].quote
    reply = seed_engine.ask("how long has north korea been under un sanctions")
    assert reply.answered and "Since 2006" in reply.citations[0].quote


def test_with_several_articles_every_citation_names_its_article(two_article_corpus: Path) -> None:
    engine = Engine.load(two_article_corpus, PROMPTS)
    reply = engine.ask("Why does China oppose the meeting?")
    assert reply.answered
    assert "China opposes UN Security Council meeting on North Korea rights" in reply.text


def test_empty_question_gets_a_prompt_to_ask(seed_engine: Engine) -> None:
    reply = seed_engine.ask("   ")
    assert not reply.answered and "Ask me a question" in reply.text


def test_mentions_in_questions_and_quotes_ping_nobody(tmp_path: Path) -> None:
    (tmp_path / "ping.txt").write_text(
        "Ping test\n\nThe group wrote @everyone and <@&123> and <@456> in the chat on Monday.\n"
    )
    engine = Engine.load(tmp_path, PROMPTS)
    reply = engine.ask("What did the group write in the chat @everyone <@&123>?")
    assert reply.answered
    assert not re.search(r"@(everyone|here)|<@[!&]?\d", reply.text)


def test_markdown_in_the_corpus_cannot_break_the_message(tmp_path: Path) -> None:
    (tmp_path / "md.txt").write_text(
        "Markdown test\n\nThe minister said ```rm -rf``` and **shouted** ||secret|| twice.\n"
    )
    engine = Engine.load(tmp_path, PROMPTS)
    reply = engine.ask("What did the minister shout twice?")
    assert reply.answered
    assert "```" not in reply.text and "**shouted**" not in reply.text
    assert "\\*\\*shouted\\*\\*" in reply.text


def test_reply_never_exceeds_discord_limit_even_with_huge_sentences(tmp_path: Path) -> None:
    long_sentence = "The harbor ferry " + " ".join(["carried passengers"] * 400) + "."
    (tmp_path / "long.txt").write_text(f"Long\n\n{long_sentence}\n\n{long_sentence} Again.\n")
    engine = Engine.load(tmp_path, PROMPTS)
    reply = engine.ask("What did the harbor ferry carry?")
    assert len(reply.text) <= DISCORD_MESSAGE_LIMIT
    for citation in reply.citations:
        assert citation.quote in engine.library.by_id[citation.article_id].text


@settings(
    max_examples=75, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    question=st.text(max_size=300)
    | st.sampled_from(
        [
            "Why does China oppose the meeting?",
            "who wrote it",
            "U.N. DPRK sanctions 2016",
            "@everyone <@&1> ```",
            "한국 북한 유엔",
            "لماذا",
            "\u202eevil\u200b",
        ]
    )
)
def test_every_reply_is_verbatim_bounded_and_pings_nobody(
    seed_engine: Engine, question: str
) -> None:
    reply = seed_engine.ask(question)
    assert 0 < len(reply.text) <= DISCORD_MESSAGE_LIMIT
    assert not re.search(r"@(everyone|here)|<@[!&]?\d", reply.text, re.IGNORECASE)
    for citation in reply.citations:
        text = seed_engine.library.by_id[citation.article_id].text
        assert text[citation.start : citation.end] == citation.quote


def test_answer_too_long_to_quote_points_to_its_paragraph(tmp_path: Path) -> None:
    stops = ", ".join(f"{n} of them from stop number {n}" for n in range(1, 160))
    sentence = f"The harbor ferry carried 412 passengers on Monday, {stops}."
    (tmp_path / "long.txt").write_text(f"Long\n\nShort opener here.\n\n{sentence}\n")
    engine = Engine.load(tmp_path, PROMPTS)
    reply = engine.ask("How many passengers did the harbor ferry carry on Monday?")
    assert reply.answered
    assert "paragraph 2" in reply.text and "too long to quote" in reply.text
    assert len(reply.text) <= DISCORD_MESSAGE_LIMIT
    assert reply.citations[0].quote == sentence


def test_glossary_in_the_corpus_folder_adds_aliases(seed_corpus: Path) -> None:
    question = "What did KJU call for?"
    without = Engine.load(seed_corpus, PROMPTS).answerer.questions.read(question)
    (seed_corpus / "glossary.txt").write_text("# aliases\nKJU = Kim Jong Un\n")
    engine = Engine.load(seed_corpus, PROMPTS)
    assert "glossary" not in {a.id for a in engine.library.articles}
    (kju,) = [c for c in engine.answerer.questions.read(question).concepts if c.label == "KJU"]
    assert kju.seen and {"kim", "jong"} <= kju.aliases
    assert not next(c for c in without.concepts if c.label == "KJU").seen
    read = engine.answerer.questions.read(question)
    assert not read.unseen_names
    best = engine.answerer.retriever.retrieve(read).quotes[0]
    assert "increase in missile production" in best.item.sentence.text
    # The reader reads the question as typed ("KJU"), so whether it answers is the decision's
    # call; the sentence it weighs is the right one.
    assert "increase in missile production" in engine.ask(question).citations[0].quote


def test_publication_date_is_quoted_from_front_matter(tmp_path: Path) -> None:
    (tmp_path / SECOND_ARTICLE.name).write_bytes(SECOND_ARTICLE.read_bytes())
    reply = Engine.load(tmp_path, PROMPTS).ask("When was this article published?")
    assert reply.answered
    assert reply.citations[0].quote == "2026-04-14"
    assert "article details" in reply.text


def test_metadata_question_names_the_article_it_means(two_article_corpus: Path) -> None:
    engine = Engine.load(two_article_corpus, PROMPTS)
    reply = engine.ask("Who wrote the ferry story?")
    assert reply.answered
    assert reply.citations[0].article_id == "harbor-ferry-electric"
    assert "Dana Whitcombe" in reply.citations[0].quote
