"""BM25 over sentences, scored only where a query term occurs.

The scores are rank-bm25's BM25Okapi formula with a Lucene-style IDF, computed term by term in
the same order and the same float64 arithmetic, so `ReferenceBM25` (rank-bm25 itself) can check
them exactly. Postings are numpy arrays: a question touches only the sentences that share a term
with it instead of looping over every sentence.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from rank_bm25 import BM25Okapi

K1 = 1.5
B = 0.75


def lucene_idf(document_count: int, document_frequency: int) -> float:
    """Never negative: a term in every sentence still counts a little, an absent term most."""
    return math.log(1.0 + (document_count - document_frequency + 0.5) / (document_frequency + 0.5))


class BM25Index:
    """An inverted index over tokenized documents (sentences) with BM25 scoring."""

    def __init__(self, documents: Sequence[Sequence[str]], k1: float = K1, b: float = B) -> None:
        if k1 < 0 or not 0 <= b <= 1:
            raise ValueError(f"BM25 needs k1 >= 0 and 0 <= b <= 1, got k1={k1}, b={b}")
        self.k1 = k1
        self.b = b
        self.document_count = len(documents)
        vocabulary: dict[str, int] = {}
        term_ids: list[int] = []
        lengths = np.fromiter((len(d) for d in documents), dtype=np.int64, count=len(documents))
        for document in documents:
            for term in document:
                term_ids.append(vocabulary.setdefault(term, len(vocabulary)))
        self.vocabulary = vocabulary
        self.lengths = lengths.astype(np.float64)
        total = int(lengths.sum())
        self.average_length = total / self.document_count if self.document_count else 0.0
        doc_of_token = np.repeat(np.arange(self.document_count, dtype=np.int64), lengths)
        terms = np.asarray(term_ids, dtype=np.int64)
        # One (term, document) pair per occurrence; unique pairs and their counts are the
        # postings with term frequencies, already sorted by term then document.
        pairs, frequencies = np.unique(
            terms * max(self.document_count, 1) + doc_of_token, return_counts=True
        )
        posting_terms = pairs // max(self.document_count, 1)
        self.posting_documents = (pairs % max(self.document_count, 1)).astype(np.int32)
        self.posting_frequencies = frequencies.astype(np.float64)
        self.offsets = np.searchsorted(posting_terms, np.arange(len(vocabulary) + 1))
        document_frequencies = np.diff(self.offsets)
        self.idf = np.array(
            [lucene_idf(self.document_count, int(df)) for df in document_frequencies],
            dtype=np.float64,
        )
        # Per-document length normalisation, as rank-bm25 computes it for every query term.
        self.length_norm = self.k1 * (
            1 - self.b + self.b * self.lengths / (self.average_length or 1.0)
        )

    def document_frequency(self, term: str) -> int:
        """How many documents contain the term."""
        term_id = self.vocabulary.get(term)
        return 0 if term_id is None else int(self.offsets[term_id + 1] - self.offsets[term_id])

    def term_idf(self, term: str) -> float:
        """The term's IDF, or what a term in no document would get."""
        term_id = self.vocabulary.get(term)
        if term_id is None:
            return lucene_idf(self.document_count, 0)
        return float(self.idf[term_id])

    def postings(self, term: str) -> np.ndarray:
        """The documents that contain the term."""
        term_id = self.vocabulary.get(term)
        if term_id is None:
            return np.empty(0, dtype=np.int32)
        return self.posting_documents[self.offsets[term_id] : self.offsets[term_id + 1]]

    def score(self, query: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Documents containing at least one query term, and their BM25 scores."""
        hits: list[tuple[int, int]] = []
        for term in query:
            term_id = self.vocabulary.get(term)
            if term_id is not None:
                hits.append((term_id, len(hits)))
        if not hits:
            return np.empty(0, dtype=np.int32), np.empty(0, dtype=np.float64)
        documents = np.unique(
            np.concatenate(
                [self.posting_documents[self.offsets[t] : self.offsets[t + 1]] for t, _ in hits]
            )
        )
        scores = np.zeros(len(documents), dtype=np.float64)
        norm = self.length_norm[documents]
        k1_plus_1 = self.k1 + 1
        for term_id, _ in hits:
            lo, hi = self.offsets[term_id], self.offsets[term_id + 1]
            where = np.searchsorted(documents, self.posting_documents[lo:hi])
            frequency = np.zeros(len(documents), dtype=np.float64)
            frequency[where] = self.posting_frequencies[lo:hi]
            # Same operations, same order as rank-bm25, so the sums agree to the last bit.
            scores += self.idf[term_id] * (frequency * k1_plus_1 / (frequency + norm))
        return documents, scores

    def top(self, query: Sequence[str], limit: int) -> list[tuple[int, float]]:
        """The best `limit` documents, best first; ties keep document order."""
        documents, scores = self.score(query)
        if len(documents) == 0:
            return []
        if len(documents) > limit:
            keep = np.argpartition(-scores, limit - 1)[:limit]
            documents, scores = documents[keep], scores[keep]
        order = np.lexsort((documents, -scores))
        return [(int(documents[i]), float(scores[i])) for i in order]


class ReferenceBM25(BM25Okapi):
    """rank-bm25's BM25Okapi with the Lucene IDF: the reference the fast index must match."""

    def _calc_idf(self, nd: dict[str, int]) -> None:
        self.idf = {word: lucene_idf(self.corpus_size, freq) for word, freq in nd.items()}
        self.average_idf = 0.0
