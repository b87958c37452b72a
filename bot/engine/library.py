"""The indexed corpus: every article's sentences, their terms and the BM25 index over them."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

from bot.engine.corpus import Corpus
from bot.engine.index import BM25Index
from bot.engine.models import Article, ArticleInfo, LoadWarning, Sentence
from bot.engine.tokenizer import Tokenizer, base_terms, mine_aliases, parse_glossary


def default_glossary() -> str:
    """The aliases every corpus starts with (shipped with the package)."""
    return resources.files("bot.engine").joinpath("glossary_defaults.txt").read_text("utf-8")


@dataclass(frozen=True)
class IndexedSentence:
    """A sentence and the article it belongs to."""

    sentence: Sentence
    article: Article


class Library:
    """Articles, their sentences in one flat list, and a BM25 index whose documents are them."""

    def __init__(self, corpus: Corpus) -> None:
        self.corpus = corpus
        self.articles: tuple[Article, ...] = corpus.articles
        warnings = list(corpus.warnings)
        aliases, problems = parse_glossary(default_glossary())
        for article in self.articles:
            aliases.update(mine_aliases(article.text))
        moderator_aliases, problems = parse_glossary(corpus.glossary_text)
        warnings.extend(LoadWarning("glossary.txt", p) for p in problems)
        aliases.update(moderator_aliases)
        self.warnings: tuple[LoadWarning, ...] = tuple(warnings)
        self.tokenizer = Tokenizer(aliases)
        self.sentences: list[IndexedSentence] = [
            IndexedSentence(sentence, article)
            for article in self.articles
            for sentence in article.sentences
        ]
        self.base_terms: list[list[str]] = [base_terms(s.sentence.text) for s in self.sentences]
        self.terms: list[frozenset[str]] = []
        documents: list[list[str]] = []
        for terms in self.base_terms:
            expanded = self.tokenizer.expand(terms)
            documents.append(expanded)
            self.terms.append(frozenset(expanded))
        self.index = BM25Index(documents)
        # Each sentence's paragraph, as terms: the context a sentence leans on.
        self.paragraph_terms: list[frozenset[str]] = []
        start = 0
        while start < len(self.sentences):
            first = self.sentences[start]
            end = start
            while (
                end < len(self.sentences)
                and self.sentences[end].article is first.article
                and self.sentences[end].sentence.paragraph == first.sentence.paragraph
            ):
                end += 1
            paragraph = frozenset().union(*self.terms[start:end])
            self.paragraph_terms.extend([paragraph] * (end - start))
            start = end
        self.by_id = {article.id: article for article in self.articles}

    @property
    def sentence_count(self) -> int:
        """How many sentences are indexed."""
        return len(self.sentences)

    def article_infos(self) -> list[ArticleInfo]:
        """The article list, newest first (articles without a date last, by id)."""
        infos = [
            ArticleInfo(
                a.id, a.title, a.published, a.author, a.source, len(a.paragraphs), len(a.sentences)
            )
            for a in self.articles
        ]
        return sorted(infos, key=lambda i: (i.published is None, _negated(i.published), i.id))


def _negated(date: str | None) -> tuple[int, ...]:
    """Sort key that puts later ISO dates first."""
    return tuple(-ord(c) for c in (date or ""))
