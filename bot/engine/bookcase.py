"""What one server's questions are answered from: the shared shelf (the corpus folder) and, when
its moderators added some, the server's own articles.

Neither index is copied nor rebuilt for the other: each shelf is an engine of its own, a
question is decided by both, and the answer the decision is surer of is given, cited to its
shelf. Every quote stays verbatim from one article, and the same question gets the same answer.
"""

from __future__ import annotations

import dataclasses
from functools import cached_property
from typing import Any

from bot.engine.answerer import Answer
from bot.engine.engine import MAX_QUESTION_CHARS, Engine, find_article_in
from bot.engine.library import newest_first
from bot.engine.models import Article, ArticleInfo, FollowUp, Reply
from bot.engine.templates import Prompts
from bot.engine.tokenizer import QUESTION_FRAMING, base_terms


class Bookcase:
    """The shared engine and, optionally, one server's own: answers, summaries and the article
    list over both. With no own articles it answers exactly as the shared engine does."""

    def __init__(self, shared: Engine, own: Engine | None = None) -> None:
        if own is not None and own.shelf == shared.shelf:
            raise ValueError(f"both engines are on the {shared.shelf!r} shelf")
        self.shared = shared
        # One voice: the server's articles speak with the templates the shared engine has now.
        self.own = own.with_prompts(shared.prompts) if own is not None else None
        self.engines: tuple[Engine, ...] = (shared,) if self.own is None else (shared, self.own)

    @property
    def prompts(self) -> Prompts:
        """The templates every reply is rendered with."""
        return self.shared.prompts

    @property
    def loaded_at(self) -> float:
        """When the shared shelf was last loaded."""
        return self.shared.loaded_at

    def render(self, template: str, **context: Any) -> str:
        """A prompts/ template within Discord's limit, as `Engine.render`."""
        return self.shared.render(template, **context)

    @cached_property
    def corpus_version(self) -> str:
        """Which articles answered: the shared shelf's fingerprint, and the server's after it."""
        return "+".join(engine.corpus_version for engine in self.engines)

    @property
    def multi_article(self) -> bool:
        """Whether citations must name their article."""
        return sum(len(engine.library.articles) for engine in self.engines) > 1

    def articles(self) -> list[ArticleInfo]:
        """Every article on both shelves, newest first."""
        if self.own is None:
            return self.shared.articles()
        return newest_first([info for engine in self.engines for info in engine.articles()])

    def own_articles(self) -> list[ArticleInfo]:
        """The server's own articles, newest first."""
        return self.own.articles() if self.own is not None else []

    def article(self, article_id: str) -> Article | None:
        """The article with exactly this id on either shelf, if there is one."""
        for engine in self.engines:
            found = engine.library.by_id.get(article_id)
            if found is not None:
                return found
        return None

    def holding(self, fingerprint: str) -> str | None:
        """The id of the article on either shelf whose text has this fingerprint, if any."""
        for engine in self.engines:
            found = engine.fingerprints.get(fingerprint)
            if found is not None:
                return found
        return None

    def ask(self, question: str, follows: FollowUp | None = None) -> Reply:
        """`Engine.ask` over both shelves: each decides, the surer answer is given (on a tie,
        the shared shelf's); a decline only when both decline."""
        if self.own is None:
            return self.shared.ask(question, follows)
        question = question[:MAX_QUESTION_CHARS]
        if not question.strip():
            return self.shared.empty_question()
        decided = [(engine, engine.answer(question, follows)) for engine in self.engines]
        engine, answer = _surer(question, decided)
        return self.shared.reply(
            question, answer, shelf=engine.shelf, multi_article=self.multi_article
        )

    def summarize(
        self, article: str | None = None, length: str = "short", topic: str | None = None
    ) -> Reply:
        """`Engine.summarize` of an article on either shelf (by default the newest)."""
        if self.own is None:
            return self.shared.summarize(article, length, topic)
        if article is None or not article.strip():
            article = self.articles()[0].id
        engine, chosen = find_article_in(self.engines, article)
        return engine.summarize(chosen.id, length, topic)

    def choose_article(self, name: str | None = None) -> Article:
        """The article `name` picks on either shelf, or the newest one when it picks none."""
        if name is None or not name.strip():
            name = self.articles()[0].id
        return find_article_in(self.engines, name)[1]


def _surer(question: str, decided: list[tuple[Engine, Answer]]) -> tuple[Engine, Answer]:
    """The answer to give among the shelves' decisions: the answered one the decision is surest
    of (between lines looked up, which are sure alike, the one from the article whose title
    the question names); when all decline, the decline offering a related passage, surest
    first, naming only what no shelf mentions."""
    answered = [pair for pair in decided if pair[1].answered]
    if answered:
        wanted = frozenset(base_terms(question)) - QUESTION_FRAMING
        # The first of equals is the shared shelf's.
        return max(answered, key=lambda pair: (pair[1].chance, _title_fit(wanted, pair[1])))
    engine, answer = max(decided, key=lambda pair: (pair[1].related is not None, pair[1].chance))
    unseen = [
        name
        for name in answer.unseen_names
        if all(name in other.never_mentioned for _, other in decided)
    ]
    return engine, dataclasses.replace(answer, unseen_names=tuple(unseen))


def _title_fit(wanted: frozenset[str], answer: Answer) -> int:
    """How many of the question's words the title of an article a looked-up line comes from
    has: a shelf of one article answers "who wrote the ferry story?" from it whatever it is."""
    return max(
        (len(wanted & frozenset(base_terms(a.title))) for a, _ in answer.metadata), default=0
    )
