"""BM25 over sentences, scored only where a query term occurs.

The scores are rank-bm25's BM25Okapi formula with a Lucene-style IDF, computed with the same
float64 operations in the same order, so `ReferenceBM25` (rank-bm25 itself) can check them
exactly. Each posting (a term in a document) carries its precomputed contribution, so a question
touches only the postings of its own terms instead of looping over every sentence.

The build runs in a worker thread while the bot answers questions: every step is either a
numpy call that releases the GIL or a short C call per chunk of documents, and the chunks are
paced (bot.engine.pacing), so the event loop never waits long for the interpreter.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence

import numpy as np
from rank_bm25 import BM25Okapi

from bot.engine.pacing import paced

K1 = 1.5
B = 0.75
# Documents per chunk when the index is built from a plain list of documents.
CHUNK_DOCUMENTS = 2048
# Terms per chunk when first occurrences are looked for, and documents per chunk when each
# term's document is: about a millisecond each.
CHUNK_TERMS = 1 << 18
CHUNK_OWNERS = 1 << 14
# The arrays an index is made of, as `arrays()` hands them out and `from_arrays` takes them back.
ARRAY_NAMES = (
    "document_terms",
    "document_offsets",
    "lengths",
    "posting_documents",
    "offsets",
    "idf",
    "length_norm",
    "weights",
)


def lucene_idf(document_count: int, document_frequency: int) -> float:
    """Never negative: a term in every sentence still counts a little, an absent term most."""
    return math.log(1.0 + (document_count - document_frequency + 0.5) / (document_frequency + 0.5))


def _frozen(array: np.ndarray) -> np.ndarray:
    """The array, read-only: `score` hands out views of the index, which must stay intact."""
    array.setflags(write=False)
    return array


class BM25Index:
    """An inverted index over tokenized documents (sentences) with BM25 scoring."""

    def __init__(self, documents: Sequence[Sequence[str]], k1: float = K1, b: float = B) -> None:
        self._build(_chunks_of(documents), k1, b)

    @classmethod
    def from_chunks(
        cls,
        chunks: Iterable[tuple[Sequence[str], Sequence[int]]],
        k1: float = K1,
        b: float = B,
    ) -> BM25Index:
        """Build from runs of documents, each given as their terms end to end and their lengths.

        The same index as `BM25Index(documents)`; the Library hands over each article's terms
        as one flat tuple it keeps between reloads, which saves a copy per sentence.
        """
        index = cls.__new__(cls)
        index._build(chunks, k1, b)
        return index

    @classmethod
    def from_arrays(
        cls,
        terms: list[str],
        arrays: Mapping[str, np.ndarray],
        average_length: float,
        k1: float = K1,
        b: float = B,
    ) -> BM25Index:
        """The index whose `terms_by_id`, `arrays()` and `average_length` these are (an index
        snapshot's, mapped from disk): nothing is computed again. ValueError when they do not
        fit together."""
        index = cls.__new__(cls)
        index.k1 = k1
        index.b = b
        index.terms_by_id = terms
        index.vocabulary = dict(zip(terms, range(len(terms)), strict=True))
        if len(index.vocabulary) != len(terms):
            raise ValueError("the index's terms are not all different")
        for name in ARRAY_NAMES:
            setattr(index, name, _frozen(arrays[name]))
        index.document_count = len(index.lengths)
        index.average_length = average_length
        postings = len(index.posting_documents)
        if (
            len(index.offsets) != len(terms) + 1
            or len(index.idf) != len(terms)
            or len(index.weights) != postings
            or len(index.length_norm) != index.document_count
            or len(index.document_offsets) != index.document_count + 1
            or int(index.offsets[-1]) != postings
            or int(index.document_offsets[-1]) != len(index.document_terms)
        ):
            raise ValueError("the index's arrays do not fit together")
        return index

    def arrays(self) -> dict[str, np.ndarray]:
        """The index's arrays by name: what `from_arrays` makes it again from."""
        return {name: getattr(self, name) for name in ARRAY_NAMES}

    @classmethod
    def from_term_ids(
        cls,
        term_ids: np.ndarray,
        lengths: np.ndarray,
        names: Sequence[str],
        k1: float = K1,
        b: float = B,
    ) -> tuple[BM25Index, np.ndarray]:
        """Build from every document's terms as numbers into `names` (numbered in any order),
        end to end, and each document's length: the same index as from the names themselves,
        its ids in order of first occurrence. Also each number's index id (-1 for a name no
        document has).

        Numbers rather than strings: a snapshot made from another keeps its millions of terms
        in arrays, never in a Python list the garbage collector would walk (holding the
        interpreter lock) on every full collection while the bot answers.
        """
        first = _first_occurrences(term_ids, len(names))
        present = np.flatnonzero(first < len(term_ids))
        order = present[np.argsort(first[present], kind="stable")]
        ids = np.full(len(names), -1, dtype=np.int32)
        ids[order] = np.arange(len(order), dtype=np.int32)
        terms = [names[number] for number in order.tolist()]
        index = cls.__new__(cls)
        vocabulary = dict(zip(terms, range(len(terms)), strict=True))
        if len(vocabulary) != len(terms):
            raise ValueError("the names of the term numbers are not all different")
        index._index(ids[term_ids], np.asarray(lengths, dtype=np.int64), vocabulary, k1, b)
        return index, ids

    def _build(
        self, chunks: Iterable[tuple[Sequence[str], Sequence[int]]], k1: float, b: float
    ) -> None:
        vocabulary: dict[str, int] = {}
        id_parts: list[np.ndarray] = []
        length_parts: list[np.ndarray] = []
        for terms, run_lengths in paced(chunks):
            # Ids in order of first occurrence, as a plain loop would give them; the lookups
            # run in C, one call per chunk.
            fresh = [term for term in dict.fromkeys(terms) if term not in vocabulary]
            next_id = len(vocabulary)
            vocabulary.update(zip(fresh, range(next_id, next_id + len(fresh)), strict=True))
            id_parts.append(
                np.fromiter(map(vocabulary.__getitem__, terms), dtype=np.int32, count=len(terms))
            )
            length_parts.append(np.asarray(run_lengths, dtype=np.int64))
        term_ids = np.concatenate(id_parts) if id_parts else np.empty(0, dtype=np.int32)
        lengths = np.concatenate(length_parts) if length_parts else np.empty(0, dtype=np.int64)
        self._index(term_ids, lengths, vocabulary, k1, b)

    def _index(
        self,
        term_ids: np.ndarray,
        lengths: np.ndarray,
        vocabulary: dict[str, int],
        k1: float,
        b: float,
    ) -> None:
        """The index of documents given as their term ids (`vocabulary`'s), end to end, and
        their lengths."""
        if k1 < 0 or not 0 <= b <= 1:
            raise ValueError(f"BM25 needs k1 >= 0 and 0 <= b <= 1, got k1={k1}, b={b}")
        self.k1 = k1
        self.b = b
        if int(lengths.sum()) != len(term_ids):
            raise ValueError("document lengths do not add up to the number of terms given")
        self.vocabulary = vocabulary
        self.terms_by_id: list[str] = list(vocabulary)
        count = len(lengths)
        self.document_count = count
        # Each document's terms in order, for whoever needs a sentence's terms back.
        self.document_terms = _frozen(term_ids.astype(np.int32, copy=False))
        self.document_offsets = _frozen(np.concatenate(([0], np.cumsum(lengths))))
        self.lengths = _frozen(lengths.astype(np.float64))
        total = len(term_ids)
        self.average_length = total / count if count else 0.0

        # One key per occurrence, term-major: sorted, equal neighbours are one posting and
        # their run length is the term frequency, already in term then document order.
        # In place where it can be: on a large corpus these arrays are tens of megabytes each,
        # built while the serving index is still in memory.
        keys = term_ids.astype(np.int64)
        keys *= max(count, 1)
        keys += _owners(lengths)
        keys.sort()
        boundary = np.empty(len(keys), dtype=bool)
        boundary[:1] = True
        np.not_equal(keys[1:], keys[:-1], out=boundary[1:])
        starts = np.flatnonzero(boundary)
        del boundary
        # Each posting's term frequency, straight into the array of floats the weights need.
        frequencies = np.empty(len(starts), dtype=np.float64)
        np.subtract(starts[1:], starts[:-1], out=frequencies[:-1])
        frequencies[-1:] = total - starts[-1:]
        pairs = keys[starts]
        del keys, starts
        documents = (pairs % max(count, 1)).astype(np.int32)
        pairs //= max(count, 1)
        posting_terms = pairs  # the keys' term part, in place
        del pairs
        self.posting_documents = _frozen(documents)
        self.offsets = _frozen(np.searchsorted(posting_terms, np.arange(len(vocabulary) + 1)))
        document_frequencies = np.diff(self.offsets)
        # math.log on each distinct frequency (a few hundred values) is exactly what the
        # reference computes; a vectorised log might differ in the last bit.
        distinct, which = np.unique(document_frequencies, return_inverse=True)
        idf_of = np.array([lucene_idf(count, int(df)) for df in distinct], dtype=np.float64)
        self.idf = _frozen(idf_of[which] if len(which) else np.empty(0, dtype=np.float64))
        # Per-document length normalisation, as rank-bm25 computes it for every query term.
        self.length_norm = _frozen(
            self.k1 * (1 - self.b + self.b * self.lengths / (self.average_length or 1.0))
        )
        # Each posting's share of a score: rank-bm25's expression, element by element.
        # norm + f is f + norm, bit for bit, so the in-place steps keep the reference's values.
        weights = self.length_norm[documents]
        weights += frequencies
        frequencies *= self.k1 + 1
        np.divide(frequencies, weights, out=weights)
        del frequencies
        weights *= self.idf[posting_terms]
        self.weights = _frozen(weights)

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
        """The documents that contain the term, in document order."""
        term_id = self.vocabulary.get(term)
        if term_id is None:
            return np.empty(0, dtype=np.int32)
        return self.posting_documents[self.offsets[term_id] : self.offsets[term_id + 1]]

    def document_term_ids(self, document: int) -> np.ndarray:
        """The ids of a document's terms, in order (`terms_by_id` names them)."""
        offsets = self.document_offsets
        return self.document_terms[offsets[document] : offsets[document + 1]]

    def score(self, query: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Documents containing at least one query term (in document order) and their scores."""
        spans = []
        for term in query:
            term_id = self.vocabulary.get(term)
            if term_id is not None:
                spans.append((self.offsets[term_id], self.offsets[term_id + 1]))
        if not spans:
            return np.empty(0, dtype=np.int32), np.empty(0, dtype=np.float64)
        if len(spans) == 1:
            lo, hi = spans[0]
            # 0.0 + w is w: the reference's sum for a one-term query, bit for bit.
            return self.posting_documents[lo:hi], self.weights[lo:hi]
        scores = np.zeros(self.document_count, dtype=np.float64)
        for lo, hi in spans:
            # A term's postings name each document once, so the scattered add is exact; terms
            # are added in query order, as the reference adds them.
            scores[self.posting_documents[lo:hi]] += self.weights[lo:hi]
        # Every contribution is positive (IDF > 0, frequency >= 1), so "scored" means "hit".
        documents = np.flatnonzero(scores > 0).astype(np.int32)
        return documents, scores[documents]

    def top(self, query: Sequence[str], limit: int) -> list[tuple[int, float]]:
        """The best `limit` documents, best first; ties go to the earlier document."""
        documents, scores = self.score(query)
        if len(documents) == 0 or limit <= 0:
            return []
        if len(documents) > limit:
            cut = len(scores) - limit
            threshold = np.partition(scores, cut)[cut]
            above = np.flatnonzero(scores > threshold)
            # Documents come in order, so the first tied ones are the earliest.
            tied = np.flatnonzero(scores == threshold)[: limit - len(above)]
            keep = np.concatenate((above, tied))
            documents, scores = documents[keep], scores[keep]
        order = np.lexsort((documents, -scores))
        return [(int(documents[i]), float(scores[i])) for i in order]


def _owners(lengths: np.ndarray) -> np.ndarray:
    """Which document each term belongs to, for documents of `lengths` terms end to end: made
    a chunk of documents at a time, as a repeat by an array of counts keeps the interpreter
    for the whole of its one call."""
    parts = [
        np.repeat(
            np.arange(start, min(start + CHUNK_OWNERS, len(lengths)), dtype=np.int32),
            lengths[start : start + CHUNK_OWNERS],
        )
        for start in paced(range(0, len(lengths), CHUNK_OWNERS))
    ]
    return np.concatenate(parts) if parts else np.empty(0, dtype=np.int32)


def _first_occurrences(term_ids: np.ndarray, size: int) -> np.ndarray:
    """Where each number below `size` first occurs in `term_ids` (len(term_ids) if never),
    worked out a chunk at a time so no single call keeps the interpreter long."""
    first = np.full(size, len(term_ids), dtype=np.int64)
    for start in paced(range(0, len(term_ids), CHUNK_TERMS)):
        chunk = term_ids[start : start + CHUNK_TERMS]
        np.minimum.at(first, chunk, np.arange(start, start + len(chunk), dtype=np.int64))
    return first


def _chunks_of(documents: Sequence[Sequence[str]]) -> Iterator[tuple[list[str], list[int]]]:
    """Documents as (terms end to end, lengths) runs of CHUNK_DOCUMENTS."""
    for start in range(0, len(documents), CHUNK_DOCUMENTS):
        run = documents[start : start + CHUNK_DOCUMENTS]
        yield [term for document in run for term in document], [len(d) for d in run]


class ReferenceBM25(BM25Okapi):
    """rank-bm25's BM25Okapi with the Lucene IDF: the reference the fast index must match."""

    def _calc_idf(self, nd: dict[str, int]) -> None:
        self.idf = {word: lucene_idf(self.corpus_size, freq) for word, freq in nd.items()}
        self.average_idf = 0.0
