"""Questions answered by looking a line up rather than by ranking sentences: who wrote or
published the article, and what an acronym it uses stands for."""

from __future__ import annotations

import re

from bot.engine.library import IndexedSentence, Library
from bot.engine.models import Article, Sentence
from bot.engine.question import Question
from bot.engine.tokenizer import QUESTION_FRAMING, acronym_term

MAX_LINES = 3


def front_matter_lines(question: Question, library: Library) -> list[tuple[Article, Sentence]]:
    """The byline, credits or front-matter lines a question about the article asks for."""
    found: list[tuple[Article, Sentence]] = []
    for article in _articles_meant(question, library):
        for want in question.about_article:
            line = _front_matter_line(article, want)
            if line is not None and line not in [s for _, s in found]:
                found.append((article, line))
    return found[:MAX_LINES]


def definition(question: Question, library: Library) -> tuple[int, IndexedSentence] | None:
    """ "What does ABTA stand for?": the sentence where the article spells the acronym out."""
    if question.acronym is None:
        return None
    acronym = acronym_term(question.acronym)
    defined = re.compile(rf"\(\s*{re.escape(question.acronym)}\s*\)", re.IGNORECASE)
    for document in library.index.postings(acronym):
        item = library.sentences[document]
        if defined.search(item.sentence.text):
            return document, item
    return None


def _articles_meant(question: Question, library: Library) -> list[Article]:
    """The article a question about "the article" means: the only one, or the best match."""
    articles = library.articles
    if len(articles) == 1:
        return [articles[0]]
    wanted = question.terms - QUESTION_FRAMING
    scored = []
    for number, (record, title) in enumerate(
        zip(library.records, library.title_terms, strict=True)
    ):
        overlap = len(wanted & title)
        if overlap:
            scored.append((overlap, record.id, number))
    scored.sort(key=lambda s: (-s[0], s[1]))
    return [articles[s[2]] for s in scored[:1]]


def _front_matter_line(article: Article, want: str) -> Sentence | None:
    """The quotable line of the file that answers a question about the article itself."""
    if want == "byline":
        return article.byline or article.credits
    if want == "credits":
        return article.credits if article.editor else article.field_line("editor")
    if want == "source":
        return article.field_line("source") or (article.dateline if article.source else None)
    if want == "dateline":
        return article.dateline
    if want == "published":
        return article.field_line("published") or article.field_line("date")
    return None
