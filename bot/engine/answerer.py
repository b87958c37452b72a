"""From a question to ranked, verbatim quotes, or an honest "the article doesn't say".

A question is read once (question.py), then walks one way: retrieve the sentences that may
answer (retriever.py), let the reader model score the best few (reader.py), decide whether one
answers (decision.py), and choose what the answer shows (composer.py). A follow-up read with the
question before it is decided on the lexical evidence instead (decision.decide_follow_up).
Questions about the article itself, and what an acronym stands for, are looked up (lookups.py).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from bot.engine.composer import compose
from bot.engine.decision import decide, decide_follow_up
from bot.engine.library import Library
from bot.engine.lookups import definition, front_matter_lines
from bot.engine.models import Article, Sentence
from bot.engine.question import Question, QuestionReader, question_kind
from bot.engine.reader import Reader, Reading
from bot.engine.retriever import Candidates, Context, Quote, Retriever

# How many of the best-ranked sentences the reader reads: each costs about 5 ms on one core.
# Three keep a question within 20 ms; BM25's top three hold the answer nearly as often as its
# top five (96% against 96% of the development questions, 78% against 82% of the second
# article's).
READ_CANDIDATES = 3


@dataclass(frozen=True)
class Answer:
    """The engine's decision: quotes that answer, or none and maybe a related passage."""

    question: str
    answered: bool
    quotes: tuple[Quote, ...] = ()
    related: Quote | None = None
    metadata: tuple[tuple[Article, Sentence], ...] = field(default=())
    unseen_names: tuple[str, ...] = ()


class Answerer:
    """Answers questions from a Library."""

    def __init__(self, library: Library, reader: Reader | None = None) -> None:
        self.library = library
        self.reader = reader if reader is not None else Reader.shared()
        self.questions = QuestionReader(library)
        self.retriever = Retriever(library, self.questions)

    def answer(self, text: str, follows: Context | None = None) -> Answer:
        """Rank sentences for the question and decide whether the best one answers it.

        A question that leans on the one before it ("when's it happening?") is read together
        with `follows`; one that stands on its own is answered as if asked first.
        """
        library = self.library
        question = self.questions.read(text)
        looked_up = self.look_up(question)
        if looked_up is not None:
            return looked_up
        candidates = self.retriever.retrieve(question, follows)
        if not candidates.quotes and not candidates.concepts:
            # Nothing in the question is known to the corpus, and there is no context to go on.
            return Answer(text, answered=False)
        if candidates.follows is not None:
            verdict = decide_follow_up(question, candidates, library)
            answers = verdict.answers
        else:
            readings = self.read(text, candidates)
            logits = [reading.score for reading in readings]
            verdict = decide(question, candidates, logits, self.reader.decision, library)
            # The answer's first sentence carries the words in it the reader found to answer. Only
            # the first: that is where they were measured (bench/squad.py), and a further quote
            # is there to say more, not to answer again.
            found = {
                q.document: r.answer for q, r in zip(candidates.quotes, readings, strict=False)
            }
            answers = verdict.answers
            if answers:
                first = dataclasses.replace(answers[0], answer=found.get(answers[0].document))
                answers = (first, *answers[1:])
        if not verdict.answered:
            return Answer(
                text, answered=False, related=verdict.related, unseen_names=question.unseen_names
            )
        quotes = compose(answers, candidates.cited, library)
        return Answer(text, answered=True, quotes=quotes)

    def look_up(self, question: Question) -> Answer | None:
        """The answer to a question about the article itself (who wrote it) or about what an
        acronym stands for, looked up rather than read; None for any other question."""
        if question.about_article:
            lines = front_matter_lines(question, self.library)
            return Answer(question.text, answered=bool(lines), metadata=tuple(lines))
        spelled_out = definition(question, self.library)
        if spelled_out is not None:
            document, item = spelled_out
            return Answer(question.text, answered=True, quotes=(Quote(item, document, 1.0, 1.0),))
        return None

    def read(self, text: str, candidates: Candidates) -> list[Reading]:
        """The reader's readings of the best READ_CANDIDATES candidates, in their order."""
        read = candidates.quotes[:READ_CANDIDATES]
        return self.reader.read(text, [q.item.sentence.text for q in read])


__all__ = ["Answer", "Answerer", "Context", "Quote", "question_kind"]
