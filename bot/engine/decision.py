"""Deciding whether the best candidate answers the question, or the honest answer is "the
article doesn't say".

One learned decision (scripts/fit_decision.py): a logistic regression over the reader's score
for a candidate and the evidence about it: how much of the question's IDF-weighted content it
holds, whether it holds the kind of answer wanted and mentions whom the question names, whether
it was ranked first, its BM25 score against the best one read, how close in meaning it is to
the question and how far it leads the other candidates read on that, and whether the question
is a follow-up. It never looks at raw BM25 scores alone: they mean nothing across questions and
corpora. One rule stays beside it: a question naming something the articles never mention is
declined.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

from bot.engine.library import Library
from bot.engine.question import AnswerType, Concept, Question
from bot.engine.retriever import Candidates, Quote, mention
from bot.engine.tokenizer import base_terms

# Below this, the best sentence is not even offered as "maybe related".
MIN_RELATED_COVERAGE = 0.3
# The evidence the decision weighs for each candidate, in the order decision.json names it.
FEATURES = (
    "logit",
    "coverage",
    "fits",
    "ranked_first",
    "score_ratio",
    "similarity",
    "similarity_lead",
    "top_similarity",
    "follow_up",
)

_PROPER_NOUN = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][A-Za-z]+|\b[A-Z]{2,}\b")


@dataclass(frozen=True, slots=True)
class Decision:
    """The learned weights over FEATURES, and the chance above which a candidate answers."""

    bias: float
    weights: tuple[float, ...]
    threshold: float

    @classmethod
    def load(cls, path: Path) -> Decision:
        """Read decision.json; KeyError or ValueError if it lacks a weight or is not JSON."""
        settings = json.loads(path.read_text("utf-8"))
        weights = settings["weights"]
        return cls(
            float(settings["bias"]),
            tuple(float(weights[name]) for name in FEATURES),
            float(settings["threshold"]),
        )

    def chance(self, evidence: tuple[float, ...]) -> float:
        """How likely a candidate with this evidence answers the question."""
        z = self.bias + sum(w * x for w, x in zip(self.weights, evidence, strict=True))
        return 1 / (1 + math.exp(-z))


@dataclass(frozen=True)
class Verdict:
    """Answer with these candidates (likeliest first), or decline, maybe offering a related one;
    `chance` is the decision's chance for the likeliest candidate (0.0 when none was weighed)."""

    answers: tuple[Quote, ...]
    related: Quote | None = None
    chance: float = 0.0

    @property
    def answered(self) -> bool:
        """Whether the question is answered."""
        return bool(self.answers)


def evidence(
    question: Question, candidates: Candidates, logits: list[float], library: Library
) -> list[tuple[float, ...]]:
    """Each read candidate's evidence, in FEATURES order."""
    quotes = candidates.quotes[: len(logits)]
    names = [c for c in candidates.concepts if c.is_name]
    # Relative to the best BM25 score read, so it stays within 0..1 whatever the ranking put first.
    top_score = max((q.score for q in quotes), default=0.0)
    similarities = [q.similarity for q in quotes]
    top_similarity = max(similarities, default=0.0)
    follow_up = float(candidates.follows is not None)
    found: list[tuple[float, ...]] = []
    for rank, (quote, logit) in enumerate(zip(quotes, logits, strict=True)):
        fits = _fits(quote, question, names, library)
        found.append(
            (
                logit,
                quote.coverage,
                float(fits),
                float(rank == 0),
                quote.score / top_score if top_score else 0.0,
                quote.similarity,
                _lead(similarities, rank),
                top_similarity,
                follow_up,
            )
        )
    return found


def _lead(values: list[float], at: int) -> float:
    """How far values[at] leads the best of the others (negative when another is higher): a
    sentence far closer in meaning than every other read is likelier the answer, while a
    question the article does not answer tends to find several sentences about as close."""
    others = values[:at] + values[at + 1 :]
    return values[at] - max(others) if others else 0.0


def decide(
    question: Question,
    candidates: Candidates,
    logits: list[float],
    decision: Decision,
    library: Library,
) -> Verdict:
    """Answer with the candidates likely enough to answer, likeliest first; else decline,
    offering the likeliest as maybe related when it covers enough of the question."""
    quotes = candidates.quotes[: len(logits)]
    if not quotes:
        return Verdict(())
    if question.unseen_names:
        # A question about someone or something the articles never mention is not answered by
        # them, however well the rest of it matches ("What did Russia say about it?"). Measured
        # on the fitting questions, the model does not make this rule redundant: as one more
        # feature it let such questions through.
        return Verdict((), _related(quotes[0]))
    chances = [decision.chance(e) for e in evidence(question, candidates, logits, library)]
    # Ties go to the better lexical rank, so the order never depends on float noise.
    order = sorted(range(len(quotes)), key=lambda k: (-chances[k], k))
    answering = [k for k in order if chances[k] >= decision.threshold]
    best = chances[order[0]]
    if answering:
        return Verdict(tuple(quotes[k] for k in answering), chance=best)
    return Verdict((), _related(quotes[order[0]]), chance=best)


def _related(quote: Quote) -> Quote | None:
    """The passage offered as "maybe related" on a decline, if it covers enough of the question."""
    return quote if quote.coverage >= MIN_RELATED_COVERAGE else None


def _fits(quote: Quote, question: Question, names: list[Concept], library: Library) -> bool:
    """Whether a sentence could answer: it mentions whom the question names, and holds the kind
    of answer wanted ("when" wants a time, "how many" a number)."""
    return (not names or _mentions_all(quote, names, library)) and (
        question.answer_type is None
        or _fits_type(quote.item.sentence.text, question.answer_type, question.terms)
    )


def _mentions_all(quote: Quote, names: list[Concept], library: Library) -> bool:
    """Whether a passage mentions everyone the question names."""
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
