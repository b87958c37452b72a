"""Extractive summaries: the article's own sentences, chosen by rank and shown in article order.

Nothing in a summary can be made up, because every line of it is a sentence of the article with
its offsets. A short summary is the lead: news puts the gist first, and on BBC News headlines no
ranking tried beat the first three sentences (bench/summary_quality.py). Medium and long ones
keep that lead and add the most central of the other sentences; key points are the most central
sentences outright. Centrality is TextRank: a graph whose nodes are the sentences and whose edge
weights are BM25 similarities between them (Barrios et al., 2016), run as a PageRank whose
random jumps favour the lead. A topic ranks sentences by BM25 against the topic's terms instead.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from bot.engine.index import BM25Index
from bot.engine.models import Article, Sentence
from bot.engine.tokenizer import Tokenizer

log = logging.getLogger(__name__)

# How many sentences each length asks for; fewer when they do not fit in one message.
LENGTHS: dict[str, int] = {"short": 3, "medium": 6, "long": 10, "points": 5}
# PageRank's damping: the share of a sentence's rank that comes from similar sentences, the rest
# from the lead prior. TextRank's usual 0.85: headlines cannot tune it (they reward the lead
# alone, see bench/summary_quality.py), and with it the first sentence still leads the key
# points of 93% of BBC News articles while the others come from the whole story.
DAMPING = 0.85
# The lead prior of the sentence at 0-based position i is proportional to 1 / (i + 1) ** this.
LEAD_DECAY = 1.0
# Fewer content terms than this is a fragment ("He said so.") that cannot stand alone.
MIN_TERMS = 3
# Only the first sentences take part in the graph: the similarity matrix grows with the square
# of its size, and a story's key points are not found after its four-hundredth sentence.
MAX_GRAPH_SENTENCES = 400
# A sentence is about the topic when it scores at least this share of the best match, so one
# word of a three-word topic does not drag in every sentence that happens to use it.
TOPIC_SHARE = 0.5
# Sentences tried after the first that did not fit: a sentence too long for the room left is
# rarely followed by enough short ones to be worth rendering the message again and again.
MAX_SKIPPED = 20
_ITERATIONS = 100
_TOLERANCE = 1e-10


@dataclass(frozen=True, slots=True)
class Summary:
    """The candidates for one summary, most summary-worthy first, and how many to show."""

    article: Article
    length: str
    topic: str | None
    ranked: tuple[Sentence, ...]  # empty when the article says nothing on the topic
    size: int


class Summarizer:
    """Ranks an article's sentences for a summary; candidates and rankings are kept per article."""

    def __init__(
        self, tokenizer: Tokenizer, damping: float = DAMPING, lead_decay: float = LEAD_DECAY
    ) -> None:
        if not 0 <= damping < 1:
            raise ValueError(f"damping must be in [0, 1), got {damping}")
        if lead_decay < 0:
            raise ValueError(f"lead_decay must be >= 0, got {lead_decay}")
        self.tokenizer = tokenizer
        self.damping = damping
        self.lead_decay = lead_decay
        # Articles never change under one summarizer (a reload builds a new engine), so an
        # article's candidates and ranking are worked out once.
        self._prepared: dict[str, tuple[list[Sentence], list[list[str]]]] = {}
        self._rankings: dict[str, tuple[Sentence, ...]] = {}

    def summarize(
        self, article: Article, length: str = "short", topic: str | None = None
    ) -> Summary:
        """Rank the article's sentences for a summary of `length`, around `topic` if given."""
        if length not in LENGTHS:
            raise ValueError(f"length must be one of {', '.join(LENGTHS)}, got {length!r}")
        if topic:
            ranked = self.rank_by_topic(article, topic)
        elif length == "short":
            ranked = self.rank_by_lead(article)
        elif length == "points":
            ranked = self.rank_by_centrality(article)
        else:
            # A longer summary keeps what the short one says, so asking for more never loses it.
            lead = self.rank_by_lead(article)[: LENGTHS["short"]]
            taken = {s.position for s in lead}
            rest = (s for s in self.rank_by_centrality(article) if s.position not in taken)
            ranked = (*lead, *rest)
        return Summary(article, length, topic, ranked, LENGTHS[length])

    def rank_by_lead(self, article: Article) -> tuple[Sentence, ...]:
        """The candidate sentences in article order: lead-3 when three are taken."""
        return tuple(self._candidates(article)[0])

    def rank_by_centrality(self, article: Article) -> tuple[Sentence, ...]:
        """All candidate sentences, best first: TextRank with BM25 weights and a lead prior."""
        cached = self._rankings.get(article.id)
        if cached is not None:
            return cached
        candidates, documents = self._candidates(article)
        graph = candidates[:MAX_GRAPH_SENTENCES]
        scores = rank_sentences(
            similarity_matrix(documents[:MAX_GRAPH_SENTENCES]),
            lead_prior(len(graph), self.lead_decay),
            self.damping,
        )
        # Stable sort: equal scores keep article order, so the lead wins a tie.
        order = sorted(range(len(graph)), key=lambda i: -scores[i])
        ranked = (*(graph[i] for i in order), *candidates[MAX_GRAPH_SENTENCES:])
        self._rankings[article.id] = ranked
        return ranked

    def rank_by_topic(self, article: Article, topic: str) -> tuple[Sentence, ...]:
        """The sentences most about `topic`, best first; empty when none mentions it."""
        candidates, documents = self._candidates(article)
        hit, scores = BM25Index(documents).score(self.tokenizer(topic))
        if len(hit) == 0:
            return ()
        best = float(scores.max())
        hits = [
            (float(score), int(document))
            for document, score in zip(hit, scores, strict=True)
            if score >= TOPIC_SHARE * best
        ]
        hits.sort(key=lambda pair: (-pair[0], pair[1]))
        return tuple(candidates[document] for _, document in hits)

    def _candidates(self, article: Article) -> tuple[list[Sentence], list[list[str]]]:
        """The sentences that can stand alone in a summary, and their terms.

        A fragment with fewer than MIN_TERMS content terms is left out, unless nothing else is
        left. Terms come from the corpus tokenizer, aliases included, as a question's do.
        """
        cached = self._prepared.get(article.id)
        if cached is not None:
            return cached
        sentences = list(article.sentences)
        documents = [self.tokenizer(s.text) for s in sentences]
        kept = [i for i, terms in enumerate(documents) if len(terms) >= MIN_TERMS]
        if kept:
            sentences = [sentences[i] for i in kept]
            documents = [documents[i] for i in kept]
        self._prepared[article.id] = (sentences, documents)
        return sentences, documents


def similarity_matrix(documents: Sequence[Sequence[str]]) -> np.ndarray:
    """BM25 of every sentence as a query against every other, averaged both ways.

    BM25 is asymmetric (the document's length counts, the query's does not); the average makes
    the graph undirected, as TextRank's is. Lucene's IDF keeps every weight non-negative, so
    no edge pushes rank away.
    """
    count = len(documents)
    matrix = np.zeros((count, count), dtype=np.float64)
    if count == 0:
        return matrix
    index = BM25Index(documents)
    for row, terms in enumerate(documents):
        hits, scores = index.score(terms)
        matrix[row, hits] = scores
    np.fill_diagonal(matrix, 0.0)
    return (matrix + matrix.T) / 2


def lead_prior(count: int, decay: float = LEAD_DECAY) -> np.ndarray:
    """Where PageRank's random jumps land: mostly on the first sentences, summing to one."""
    if count == 0:
        return np.zeros(0, dtype=np.float64)
    weights = 1.0 / np.arange(1, count + 1, dtype=np.float64) ** decay
    return weights / weights.sum()


def rank_sentences(similarity: np.ndarray, prior: np.ndarray, damping: float) -> np.ndarray:
    """PageRank over the similarity graph with jumps to `prior`; scores sum to one."""
    count = len(prior)
    if count == 0:
        return prior.copy()
    out_weight = similarity.sum(axis=1)
    linked = out_weight > 0
    transition = np.empty_like(similarity)
    transition[linked] = similarity[linked] / out_weight[linked, None]
    # A sentence sharing no term with any other passes its rank on as a random jump would.
    transition[~linked] = prior
    rank = prior.copy()
    for _ in range(_ITERATIONS):
        updated = (1 - damping) * prior + damping * (rank @ transition)
        if np.abs(updated - rank).sum() < _TOLERANCE:
            return updated
        rank = updated
    return rank


def choose_sentences(
    ranked: Sequence[Sentence], size: int, fits: Callable[[list[Sentence]], bool]
) -> list[Sentence]:
    """Up to `size` sentences, best first, each kept only if the summary still `fits`.

    A sentence that would overflow is left out whole, never cut, and the next-ranked one is
    tried instead; the result is in article order.
    """
    chosen: list[Sentence] = []
    skipped = 0
    for sentence in ranked:
        if len(chosen) == size or skipped > MAX_SKIPPED:
            break
        trial = sorted([*chosen, sentence], key=lambda s: s.position)
        if fits(trial):
            chosen = trial
        else:
            skipped += 1
    return chosen
