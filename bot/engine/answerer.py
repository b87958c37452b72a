"""From a question to ranked, verbatim quotes, or an honest "the article doesn't say".

A question is read once (question.py), then walks one way: retrieve the sentences that may
answer (retriever.py), let the reader model score the best few (reader.py), decide whether one
answers (decision.py), and choose what the answer shows (composer.py). The reader reads each
candidate after the sentence before it, and a follow-up after the question before it.
Questions about the article itself, and what an acronym stands for, are looked up (lookups.py).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from bot.engine.composer import compose
from bot.engine.decision import decide
from bot.engine.encoder import Encoder
from bot.engine.library import Library
from bot.engine.lookups import definition, front_matter_lines
from bot.engine.models import Article, Sentence
from bot.engine.question import Question, QuestionReader, question_kind
from bot.engine.reader import Reader, Reading, context_before
from bot.engine.retriever import Candidates, Context, Quote, Retriever

# How many of the best-ranked sentences the reader reads. On held-out news questions the
# answering sentence is among the fused ranking's best three for 74% of them and its best five
# for 84% (BM25's alone: 62% and 69%; bench/recall.py); five, each read after the sentence before
# it, keep a question within the speed budget (p50 53 ms, p99 84 ms; bench/latency.py).
READ_CANDIDATES = 5


@dataclass(frozen=True)
class Answer:
    """The engine's decision: quotes that answer, or none and maybe a related passage."""

    question: str
    answered: bool
    quotes: tuple[Quote, ...] = ()
    related: Quote | None = None
    metadata: tuple[tuple[Article, Sentence], ...] = field(default=())
    unseen_names: tuple[str, ...] = ()  # said in the decline: "it never mentions ..."
    # The names in the question the library never mentions, said or not: another shelf's
    # decline may say only the names neither shelf mentions.
    never_mentioned: tuple[str, ...] = ()
    # How sure the decision is of the likeliest sentence (1.0 for a line looked up, 0.0 when
    # nothing was weighed): what decides between two shelves' answers to one question.
    chance: float = 0.0


class Answerer:
    """Answers questions from a Library."""

    def __init__(
        self, library: Library, reader: Reader | None = None, encoder: Encoder | None = None
    ) -> None:
        self.library = library
        self.reader = reader if reader is not None else Reader.shared()
        self.questions = QuestionReader(library)
        encoder = encoder if encoder is not None else Encoder.shared()
        self.retriever = Retriever(library, self.questions, encoder)

    def answer(self, text: str, follows: Context | None = None) -> Answer:
        """Rank sentences for the question and decide whether the best one answers it.

        A question that leans on the one before it ("when's it happening?") is read together
        with `follows`; one that stands on its own is answered as if asked first.
        """
        library = self.library
        question = self.questions.read(text)
        # After an answer, "who reported that?" asks for the source the article gives for what
        # was just quoted, not for the byline.
        follows_a_claim = follows is not None and question.about_what_was_said
        looked_up = None if follows_a_claim else self.look_up(question)
        if looked_up is not None:
            return looked_up
        candidates = self.retriever.retrieve(question, follows)
        if not candidates.quotes and not candidates.concepts:
            # Nothing in the question is known to the corpus, and there is no context to go on.
            return Answer(text, answered=False, never_mentioned=question.unseen_names)
        readings = self.read(text, candidates)
        logits = [reading.score for reading in readings]
        verdict = decide(question, candidates, logits, self.reader.decision, library)
        # The answer's first sentence carries the words in it the reader found to answer. Only
        # the first: that is where they were measured (bench/squad.py), and a further quote is
        # there to say more, not to answer again.
        found = {q.document: r.answer for q, r in zip(candidates.quotes, readings, strict=False)}
        answers = verdict.answers
        if answers:
            first = dataclasses.replace(answers[0], answer=found.get(answers[0].document))
            answers = (first, *answers[1:])
        if not verdict.answered:
            return Answer(
                text,
                answered=False,
                related=verdict.related,
                unseen_names=question.unseen_names,
                never_mentioned=question.unseen_names,
                chance=verdict.chance,
            )
        quotes = compose(answers, candidates.cited, library)
        return Answer(
            text,
            answered=True,
            quotes=quotes,
            never_mentioned=question.unseen_names,
            chance=verdict.chance,
        )

    def look_up(self, question: Question) -> Answer | None:
        """The answer to a question about the article itself (who wrote it) or about what an
        acronym stands for, looked up rather than read; None for any other question."""
        if question.about_article:
            lines = front_matter_lines(question, self.library)
            return Answer(
                question.text,
                answered=bool(lines),
                metadata=tuple(lines),
                never_mentioned=question.unseen_names,
                chance=float(bool(lines)),
            )
        spelled_out = definition(question, self.library)
        if spelled_out is not None:
            document, item = spelled_out
            quote = Quote(item, document, 1.0, 1.0)
            return Answer(
                question.text,
                answered=True,
                quotes=(quote,),
                never_mentioned=question.unseen_names,
                chance=1.0,
            )
        return None

    def read(self, text: str, candidates: Candidates) -> list[Reading]:
        """The reader's readings of the best READ_CANDIDATES candidates, in their order, each
        read after the sentence before it and, for a follow-up, after the question before."""
        read = candidates.quotes[:READ_CANDIDATES]
        return self.reader.read(
            text,
            [q.item.sentence.text for q in read],
            [context_before(self.library, q.document) for q in read],
            candidates.follows or "",
        )


__all__ = ["Answer", "Answerer", "Context", "Quote", "question_kind"]
