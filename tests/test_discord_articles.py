"""Which articles `/summary` offers as a person types, within Discord's choice limits."""

from __future__ import annotations

from bot.discord.articles import MAX_CHOICE_LENGTH, choice_name, matching_articles
from bot.engine import ArticleInfo


def article(article_id: str, title: str) -> ArticleInfo:
    return ArticleInfo(article_id, title, None, None, None, paragraphs=1, sentences=1)


def test_articles_match_by_title_or_id_ignoring_case() -> None:
    articles = [article("un/korea", "China opposes UN meeting"), article("harbour", "Lighthouse")]
    assert matching_articles(articles, "CHINA") == [articles[0]]
    assert matching_articles(articles, "harb") == [articles[1]]
    assert matching_articles(articles, "") == articles


def test_an_id_too_long_to_be_a_choice_value_is_not_offered() -> None:
    too_long = article("x" * (MAX_CHOICE_LENGTH + 1), "Long path")
    assert matching_articles([too_long], "") == []


def test_at_most_25_articles_are_offered() -> None:
    articles = [article(f"a{n}", f"Article {n}") for n in range(40)]
    assert len(matching_articles(articles, "article")) == 25


def test_a_long_title_is_cut_to_fit_a_choice_name() -> None:
    name = choice_name("word " * 40)
    assert len(name) <= MAX_CHOICE_LENGTH and name.endswith("…")
    assert choice_name("Short title") == "Short title"
