"""Deciding whether the best candidate answers the question, or the honest answer is "the
article doesn't say".

The decision never looks at raw BM25 scores: it asks whether the sentence holds the kind of
answer wanted and mentions whom the question names, how much of the question's IDF-weighted
content it contains, and whether the question names something the corpus has never seen.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.engine.library import Library
from bot.engine.question import AnswerType, Concept, Question
from bot.engine.retriever import MIN_COVERAGE, Candidates, Quote, mention
from bot.engine.tokenizer import base_terms

# Above this share of the question's weight in words the corpus has never seen, the question
# is about something else ("the tallest mountain"), however well the rest matches.
MAX_UNSEEN_SHARE = 0.5
# Below this, the best sentence is not even offered as "maybe related".
MIN_RELATED_COVERAGE = 0.3

_PROPER_NOUN = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][A-Za-z]+|\b[A-Z]{2,}\b")


@dataclass(frozen=True)
class Verdict:
    """Answer with these candidates (best first), or decline, maybe offering a related one."""

    answers: tuple[Quote, ...]
    related: Quote | None = None

    @property
    def answered(self) -> bool:
        """Whether the question is answered."""
        return bool(self.answers)


def decide(question: Question, candidates: Candidates, library: Library) -> Verdict:
    """Keep the candidates that could answer; answer if the best of them covers the question and
    the question is not about something the corpus lacks, else decline."""
    names = [c for c in candidates.concepts if c.is_name]
    fitting = [
        q
        for q in candidates.quotes
        if (not names or _mentions_all(q, names, library))
        and (
            question.answer_type is None
            or _fits_type(q.item.sentence.text, question.answer_type, question.terms)
        )
    ]
    own_weight = sum(c.weight for c in question.concepts)
    seen_weight = sum(c.weight for c in question.seen_concepts)
    unseen_share = 1 - seen_weight / own_weight if own_weight else 0.0
    if (
        not fitting
        or fitting[0].coverage < MIN_COVERAGE
        or unseen_share > MAX_UNSEEN_SHARE
        or question.unseen_names
    ):
        closest = (fitting or list(candidates.quotes))[:1]
        related = next((q for q in closest if q.coverage >= MIN_RELATED_COVERAGE), None)
        return Verdict((), related)
    return Verdict(tuple(fitting))


def _mentions_all(quote: Quote, names: list[Concept], library: Library) -> bool:
    """A question about someone is answered only by a passage that mentions them."""
    around = library.terms[quote.document] | library.paragraph_terms[quote.document]
    return all(mention(name, around) > 0 for name in names)


def _fits_type(text: str, wanted: AnswerType, question_terms: frozenset[str]) -> bool:
    """Whether a sentence holds the kind of answer wanted (a name the question does not give)."""
    if wanted.name != "name" and wanted.shows is not None:
        return bool(wanted.shows.search(text))
    return any(
        not set(base_terms(word)) <= question_terms
        for word in (m.group() for m in _PROPER_NOUN.finditer(text))
    )
