"""Summaries: the article's own sentences, in article order, cited, within one Discord message."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from corpora import PROMPTS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.engine import Engine, EngineError, Reply, UnknownArticle
from bot.engine.corpus import ArticleCache, Corpus, parse_article
from bot.engine.library import Library
from bot.engine.markup import DISCORD_MESSAGE_LIMIT
from bot.engine.models import Article, Sentence
from bot.engine.summarizer import (
    LENGTHS,
    choose_sentences,
    lead_prior,
    rank_sentences,
    similarity_matrix,
)
from bot.engine.templates import Prompts

SEED_LEAD = (
    "China opposes a planned United Nations Security Council meeting",
    "The United States, Albania and Japan requested the meeting",
    "It will be the first formal public meeting of the 15-member council",
)
FERRY_TITLE = "Port Alder’s harbor ferry crosses quietly into the electric age"
SEED_TITLE = "China opposes UN Security Council meeting on North Korea rights"


SHIPPED_PROMPTS = Prompts(PROMPTS)


def engine_for_text(text: str, name: str = "story.txt") -> Engine:
    """An engine over one article given as text, without touching the disk."""
    article = parse_article(name, text.encode("utf-8"))
    assert article is not None
    root = Path("generated")
    return Engine(Library(Corpus(root, (article,), ())), SHIPPED_PROMPTS, root, ArticleCache())


def assert_verbatim(reply: Reply, article: Article) -> None:
    """Every quote is a whole sentence of the article, exactly where the citation says."""
    whole = {(s.start, s.end): s.text for s in article.sentences}
    for citation in reply.citations:
        assert article.text[citation.start : citation.end] == citation.quote
        assert whole.get((citation.start, citation.end)) == citation.quote


# The seed article (a raw Reuters scrape) and the Markdown ferry story.


def test_short_summary_is_the_lead_in_article_order(seed_engine: Engine) -> None:
    reply = seed_engine.summarize()
    assert reply.kind == "summary" and reply.answered
    assert [c.n for c in reply.citations] == [1, 2, 3]
    assert [c.quote[: len(lead)] for c, lead in zip(reply.citations, SEED_LEAD, strict=True)] == [
        *SEED_LEAD
    ]


@pytest.mark.parametrize("length", list(LENGTHS))
def test_every_length_quotes_whole_sentences_in_article_order(
    seed_engine: Engine, length: str
) -> None:
    reply = seed_engine.summarize(length=length)
    starts = [c.start for c in reply.citations]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    assert 1 <= len(reply.citations) <= LENGTHS[length]
    assert len(reply.text) <= DISCORD_MESSAGE_LIMIT
    assert_verbatim(reply, seed_engine.library.articles[0])


def test_longer_summaries_keep_what_the_shorter_ones_say(seed_engine: Engine) -> None:
    short, medium, long = (
        {c.start for c in seed_engine.summarize(length=n).citations}
        for n in ("short", "medium", "long")
    )
    assert len(short) == 3 and len(medium) == 6 and len(long) > len(medium)
    assert short < medium < long


def test_quotes_are_verbatim_from_the_file_on_disk(two_article_corpus: Path) -> None:
    engine = Engine.load(two_article_corpus, PROMPTS)
    for article in engine.library.articles:
        text = (two_article_corpus / article.path).read_text("utf-8")
        for length in LENGTHS:
            for citation in engine.summarize(article.id, length).citations:
                assert text[citation.start : citation.end] == citation.quote


def test_summary_never_shows_the_dateline_credits_or_page_leftovers(seed_engine: Engine) -> None:
    for length in LENGTHS:
        reply = seed_engine.summarize(length=length)
        assert "UNITED NATIONS" not in reply.text and "(Reuters)" not in reply.text
        assert "Reporting by" not in reply.text and "Editing by" not in reply.text
        assert "Leave a Comment" not in reply.text
    first = seed_engine.summarize().citations[0]
    assert first.quote.startswith("China opposes")


def test_summary_names_title_byline_and_source_on_top(seed_engine: Engine) -> None:
    lines = seed_engine.summarize().text.splitlines()
    assert lines[0] == f"**{SEED_TITLE}**"
    assert lines[1] == "-# By Michelle Nichols · Reuters"


def test_markdown_article_shows_its_front_matter_on_top(two_article_corpus: Path) -> None:
    engine = Engine.load(two_article_corpus, PROMPTS)
    lines = engine.summarize("harbor-ferry-electric").text.splitlines()
    assert lines[:2] == [
        f"**{FERRY_TITLE}**",
        "-# By Dana Whitcombe · The Alder Bay Ledger · 2026-04-14",
    ]


def test_key_points_are_a_bulleted_list_with_a_source_line_each(seed_engine: Engine) -> None:
    reply = seed_engine.summarize(length="points")
    bullets = [line for line in reply.text.splitlines() if line.startswith("- ")]
    sources = [line for line in reply.text.splitlines() if line.startswith("-# [")]
    assert len(bullets) == len(sources) == len(reply.citations) == LENGTHS["points"]
    assert "\n> " not in reply.text
    assert sources[0] == f"-# [1] paragraph {reply.citations[0].paragraph}"


def test_key_points_prefer_what_the_story_keeps_returning_to() -> None:
    engine = engine_for_text(
        "Harbor dredging plan approved\n\n"
        "The council approved the harbor dredging budget on Monday.\n\n"
        "Gulls nested on the old pier roof last spring, residents recalled.\n\n"
        "The dredging budget pays to deepen the harbor channel for cargo ships. "
        "A deeper harbor channel lets larger cargo ships dock at the harbor. "
        "Larger cargo ships pay more harbor fees, which repay the dredging budget. "
        "Harbor fees from cargo ships will cover the dredging loan within ten years. "
        "Dredging the harbor channel starts in June, the harbor master said.\n"
    )
    points = engine.summarize(length="points")
    assert not any("Gulls" in c.quote for c in points.citations)
    assert points.citations[0].quote.startswith("The council approved")


def test_topic_gives_the_sentences_about_it_in_article_order(seed_engine: Engine) -> None:
    reply = seed_engine.summarize(topic="sanctions")
    assert reply.answered and reply.kind == "summary"
    assert "“sanctions”" in reply.text
    assert [c.paragraph for c in reply.citations] == [7, 7, 10]
    assert all("sanction" in c.quote for c in reply.citations)
    assert_verbatim(reply, seed_engine.library.articles[0])


def test_topic_the_article_never_touches_is_said_so(seed_engine: Engine) -> None:
    reply = seed_engine.summarize(topic="football transfers")
    assert not reply.answered and reply.kind == "no_answer" and reply.citations == ()
    assert "football transfers" in reply.text and SEED_TITLE in reply.text


def test_topic_of_only_stopwords_has_nothing_to_find(seed_engine: Engine) -> None:
    assert not seed_engine.summarize(topic="the of and").answered


def test_blank_topic_gives_the_plain_summary(seed_engine: Engine) -> None:
    assert seed_engine.summarize(topic="  ").text == seed_engine.summarize().text


def test_unknown_length_names_the_ones_there_are(seed_engine: Engine) -> None:
    with pytest.raises(EngineError, match="short, medium, long or points"):
        seed_engine.summarize(length="huge")
    assert seed_engine.summarize(length=" Points ").citations


# Choosing the article.


def test_without_a_choice_the_newest_article_is_summarized(two_article_corpus: Path) -> None:
    engine = Engine.load(two_article_corpus, PROMPTS)
    assert engine.summarize().text.startswith(f"**{FERRY_TITLE}**")


def test_article_is_found_by_id_file_name_title_or_a_unique_part(
    two_article_corpus: Path,
) -> None:
    engine = Engine.load(two_article_corpus, PROMPTS)
    for name in (
        "harbor-ferry-electric",
        "HARBOR-FERRY-ELECTRIC",
        "harbor-ferry-electric.md",
        FERRY_TITLE.upper(),
        "Port Alder's harbor",  # a straight apostrophe finds the curly one
        "ferry",
    ):
        assert engine.find_article(name).id == "harbor-ferry-electric", name
    assert engine.find_article("north korea").id == "reuters-china-un-north-korea-rights"


def test_unknown_article_lists_the_articles_there_are(two_article_corpus: Path) -> None:
    engine = Engine.load(two_article_corpus, PROMPTS)
    with pytest.raises(UnknownArticle) as raised:
        engine.summarize(article="budget vote")
    message = str(raised.value)
    assert "“budget vote”" in message
    assert FERRY_TITLE in message and "reuters-china-un-north-korea-rights" in message
    assert raised.value.known == ["harbor-ferry-electric", "reuters-china-un-north-korea-rights"]


def test_name_that_fits_several_articles_lists_just_those(two_article_corpus: Path) -> None:
    engine = Engine.load(two_article_corpus, PROMPTS)
    with pytest.raises(UnknownArticle, match="fits 2 articles"):
        engine.find_article("or")  # "north" in one, "Port" in the other


def test_article_name_that_is_a_file_path_is_never_read(
    two_article_corpus: Path, tmp_path: Path
) -> None:
    engine = Engine.load(two_article_corpus, PROMPTS)
    outside = tmp_path / "outside.txt"
    outside.write_text("Secret plans\n\nThe plans are secret and must not be summarized.\n")
    for name in (str(outside), str(two_article_corpus / "harbor-ferry-electric.md"), "../x"):
        with pytest.raises(UnknownArticle):
            engine.summarize(article=name)


def test_unknown_article_message_cannot_ping_anyone(seed_engine: Engine) -> None:
    with pytest.raises(UnknownArticle) as raised:
        seed_engine.find_article("@everyone")
    assert "@everyone" not in str(raised.value) and "@\u200beveryone" in str(raised.value)


# The pieces, on their own.


def test_similarity_weights_are_non_negative_symmetric_and_never_self() -> None:
    # "harbor" is in every sentence: a negative IDF would make its edges push rank away.
    documents = [["harbor", "ferry"], ["harbor", "ferry", "battery"], ["harbor"], ["harbor", "x"]]
    matrix = similarity_matrix(documents)
    assert (matrix >= 0).all() and np.allclose(matrix, matrix.T)
    assert (np.diag(matrix) == 0).all() and (matrix[2][[0, 1, 3]] > 0).all()


def test_lead_prior_favours_the_first_sentences() -> None:
    prior = lead_prior(5)
    assert prior.sum() == pytest.approx(1.0) and (np.diff(prior) < 0).all()


def test_rank_sentences_returns_a_distribution_even_for_isolated_sentences() -> None:
    similarity = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    ranks = rank_sentences(similarity, lead_prior(3), damping=0.85)
    assert ranks.sum() == pytest.approx(1.0) and (ranks > 0).all()


def sentence(position: int, text: str) -> Sentence:
    return Sentence(text, position * 100, position * 100 + len(text), 1, position)


def test_choose_sentences_leaves_out_whatever_does_not_fit_whole() -> None:
    ranked = [sentence(2, "b" * 10), sentence(0, "a" * 50), sentence(1, "c" * 5)]
    chosen = choose_sentences(ranked, 3, lambda s: sum(len(x.text) for x in s) <= 20)
    assert [s.position for s in chosen] == [1, 2]  # the long one is skipped, never cut


# The 2,000-character bound on long generated articles.

# Plain words, and words that Discord would read as markdown or a ping unless escaped (escaping
# makes the message longer than the article's text).
WORDS = st.sampled_from(
    [
        *("harbor", "ferry", "council", "sanctions", "battery", "vote", "Kim", "the", "and"),
        *("**bold**", "@everyone", "<@123>", "snake_case", "|pipe|", "`tick`", "~~x~~", "#1"),
    ]
)
# Sentences start with a plain word: a paragraph starting with "#" is a Markdown heading.
OPENERS = st.sampled_from(["The", "Then", "Officials", "Kim", "Harbor"])
SENTENCES = st.tuples(OPENERS, st.lists(WORDS, min_size=2, max_size=25)).map(
    lambda pair: pair[0] + " " + " ".join(pair[1]) + "."
)
# Sentences longer than a whole message, built by repetition so generating them stays cheap.
LONG_SENTENCES = st.tuples(
    OPENERS, st.lists(WORDS, min_size=3, max_size=6), st.integers(20, 120)
).map(lambda parts: parts[0] + " " + ", ".join([" ".join(parts[1])] * parts[2]) + ".")
PARAGRAPHS = st.lists(
    st.one_of(SENTENCES, SENTENCES, SENTENCES, LONG_SENTENCES), min_size=1, max_size=6
)
ARTICLES = st.tuples(
    st.lists(WORDS, min_size=1, max_size=30).map(" ".join),
    st.lists(PARAGRAPHS.map(" ".join), min_size=1, max_size=40),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    article=ARTICLES,
    length=st.sampled_from(list(LENGTHS)),
    topic=st.one_of(st.none(), WORDS),
)
def test_summary_of_a_long_article_fits_one_message_with_whole_sentences(
    article: tuple[str, list[str]], length: str, topic: str | None
) -> None:
    title, paragraphs = article
    engine = engine_for_text(title + "\n\n" + "\n\n".join(paragraphs) + "\n")
    reply = engine.summarize(length=length, topic=topic)
    assert len(reply.text) <= DISCORD_MESSAGE_LIMIT
    assert len(reply.citations) <= LENGTHS[length]
    starts = [c.start for c in reply.citations]
    assert starts == sorted(starts)
    assert_verbatim(reply, engine.library.articles[0])
