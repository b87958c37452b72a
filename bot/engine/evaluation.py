"""Measuring answer quality on a question set: the figures the quality floors and benchmarks use.

A question set is JSON lines: {"id", "q", "expect": [phrases], "article": its file's name}, where
an answer is right when its first citation's quote contains one of the phrases
(case-insensitive), and an empty list means the article does not answer the question, so the
right reply is a decline.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bot.engine.models import FollowUp, Reply


@dataclass(frozen=True)
class Case:
    """One question and what a right reply quotes."""

    id: str
    question: str
    expect: tuple[str, ...]
    article: str | None = None

    @property
    def answerable(self) -> bool:
        """Whether the article holds the answer."""
        return bool(self.expect)

    def is_answered_by(self, quote: str) -> bool:
        """Whether a quote holds one of the expected phrases (case-insensitive)."""
        return any(p.lower() in quote.lower() for p in self.expect)


@dataclass
class Scores:
    """Counts over a question set, and the questions that went wrong."""

    answerable: int = 0
    top1_right: int = 0
    wrongly_declined: int = 0
    unanswerable: int = 0
    declined: int = 0
    related_right: int = 0  # wrongly declined, but the "maybe related" passage holds the answer
    misses: list[str] = field(default_factory=list)

    @property
    def top1(self) -> float:
        """Share of answerable questions whose first citation holds the answer."""
        return self.top1_right / self.answerable if self.answerable else 1.0

    @property
    def shown(self) -> float:
        """Share of answerable questions whose answer the reply shows: cited, or as related."""
        shown = self.top1_right + self.related_right
        return shown / self.answerable if self.answerable else 1.0

    @property
    def declined_share(self) -> float:
        """Share of unanswerable questions declined."""
        return self.declined / self.unanswerable if self.unanswerable else 1.0

    def add(self, other: Scores) -> None:
        """Count another set's questions, and its misses, into these."""
        for name in (
            "answerable",
            "top1_right",
            "wrongly_declined",
            "unanswerable",
            "declined",
            "related_right",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.misses.extend(other.misses)

    @property
    def wrongly_declined_share(self) -> float:
        """Share of answerable questions declined."""
        return self.wrongly_declined / self.answerable if self.answerable else 0.0


def read_cases(path: Path) -> list[Case]:
    """Read a JSON-lines question set."""
    cases = []
    for line in Path(path).read_text("utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            cases.append(Case(row["id"], row["q"], tuple(row["expect"]), row.get("article")))
    return cases


def article_of(cases: list[Case]) -> str:
    """The file name of the one article a question set is on: each of its questions names it, so
    the set says itself what it is measured against."""
    names = {case.article for case in cases}
    if len(names) != 1 or None in names:
        raise ValueError(f"a question set names one article, not {sorted(map(str, names))}")
    (name,) = names
    return str(name)


def first_quote(reply: Reply) -> tuple[bool, str | None]:
    """Whether the engine answered, and the quote its reply rests on (or offers as related)."""
    return reply.answered, reply.citations[0].quote if reply.citations else None


def score(cases: Iterable[Case], reply: Callable[[str], tuple[bool, str | None]]) -> Scores:
    """Ask every question; `reply` returns (answered, first quote or None)."""
    scores = Scores()
    for case in cases:
        answered, quote = reply(case.question)
        if case.answerable:
            scores.answerable += 1
            holds_answer = quote is not None and case.is_answered_by(quote)
            if not answered:
                scores.wrongly_declined += 1
                scores.related_right += holds_answer
                scores.misses.append(f"{case.id} declined: {case.question}")
            elif holds_answer:
                scores.top1_right += 1
            else:
                scores.misses.append(f"{case.id} wrong quote: {case.question} -> {quote!r}")
        else:
            scores.unanswerable += 1
            if answered:
                scores.misses.append(f"{case.id} answered: {case.question} -> {quote!r}")
            else:
                scores.declined += 1
    return scores


@dataclass(frozen=True)
class Conversation:
    """Questions asked one after the other about one article; turns after the first may lean
    on the one before."""

    id: str
    article: str
    turns: tuple[Case, ...]


def read_conversations(path: Path) -> list[Conversation]:
    """Read a JSON-lines conversation set: {"id", "article", "turns": [{"q", "expect"}]}."""
    conversations = []
    for line in Path(path).read_text("utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            turns = tuple(
                Case(f"{row['id']}.{n}", turn["q"], tuple(turn["expect"]), row["article"])
                for n, turn in enumerate(row["turns"], start=1)
            )
            conversations.append(Conversation(row["id"], row["article"], turns))
    return conversations


def score_follow_ups(
    conversations: Iterable[Conversation],
    ask: Callable[[str, FollowUp | None], Reply],
    *,
    with_context: bool,
) -> Scores:
    """Score every turn after the first. With context, each is asked following the turn before
    it, as the bot heard and answered it; without, each is asked on its own."""
    scores = Scores()
    for conversation in conversations:
        if not with_context:
            # Asked on its own, the first turn matters to no later one: it is not asked at all.
            for turn in conversation.turns[1:]:
                scores.add(score([turn], _replying(ask(turn.question, None))))
            continue
        previous: FollowUp | None = None
        for n, turn in enumerate(conversation.turns):
            reply = ask(turn.question, previous)
            if n:
                scores.add(score([turn], _replying(reply)))
            previous = FollowUp.after(turn.question, reply)
    return scores


def _replying(reply: Reply) -> Callable[[str], tuple[bool, str | None]]:
    """A `score` callback that gives this reply, whatever the question."""
    return lambda _question: first_quote(reply)
