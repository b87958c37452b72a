"""The BM25 index: rank-bm25's scores, to the last few ulps, from only the postings a query hits."""

from __future__ import annotations

import random
import re
from pathlib import Path

import numpy as np
import pytest

from bot.engine.index import BM25Index, ReferenceBM25, lucene_idf

# Enough sentences that scores spread over many magnitudes and ties and near-ties occur.
DOCUMENTS = 6000
TOP = 10
MAX_ULPS = 4


def generated_documents(count: int = DOCUMENTS, seed: int = 7) -> list[list[str]]:
    """Sentences of Zipf-distributed terms: a few in most sentences, most in a handful."""
    rng = random.Random(seed)
    vocabulary = [f"t{n}" for n in range(3000)]
    weights = [1 / (rank + 1) for rank in range(len(vocabulary))]
    documents = [rng.choices(vocabulary, weights, k=rng.randint(1, 35)) for _ in range(count)]
    documents[5] = []  # a sentence of stopwords only: nothing but the term below
    for document in documents:
        document.append("everywhere")  # a term in every sentence still weighs something
    return documents


def queries_for(documents: list[list[str]], count: int, seed: int = 11) -> list[list[str]]:
    """Questions made of corpus terms, repeated terms and terms the corpus never saw."""
    rng = random.Random(seed)
    queries = []
    for n in range(count):
        source = []
        while not source:
            source = documents[rng.randrange(len(documents))]
        query = rng.sample(source, min(len(source), rng.randint(1, 8)))
        if n % 4 == 0:
            query.append(query[0])  # a term asked twice counts twice, as in rank-bm25
        if n % 5 == 0:
            query.append("neverseen")
        queries.append(query)
    return queries


def reference_top(scores: np.ndarray, limit: int) -> list[int]:
    """The reference's best documents: highest score first, the earlier document on a tie."""
    hits = np.flatnonzero(scores > 0)
    order = np.lexsort((hits, -scores[hits]))
    return [int(d) for d in hits[order][:limit]]


@pytest.fixture(scope="module")
def documents() -> list[list[str]]:
    """The generated sentences, made once for this module."""
    return generated_documents()


def assert_matches_reference(documents: list[list[str]], queries: list[list[str]]) -> None:
    index = BM25Index(documents)
    reference = ReferenceBM25(documents)
    for query in queries:
        expected = reference.get_scores(query)
        hits, scores = index.score(query)
        dense = np.zeros(len(documents))
        dense[hits] = scores
        np.testing.assert_array_max_ulp(dense, expected, maxulp=MAX_ULPS)
        top = index.top(query, TOP)
        assert [d for d, _ in top] == reference_top(expected, TOP)
        np.testing.assert_array_max_ulp(
            np.array([s for _, s in top]), expected[[d for d, _ in top]], maxulp=MAX_ULPS
        )


def test_scores_and_top_ten_match_rank_bm25_on_thousands_of_sentences(
    documents: list[list[str]],
) -> None:
    assert_matches_reference(documents, queries_for(documents, 60))


def test_scores_and_top_ten_match_rank_bm25_on_bbc_news(bbc: Path) -> None:
    # Plain word tokens keep this fast; what is compared is the scoring, on real news text.
    documents = []
    for path in sorted(bbc.rglob("*.txt"))[::3]:
        text = path.read_bytes().decode("utf-8", errors="replace").lower()
        for sentence in re.split(r"(?<=[.!?])\s+|\n\s*\n", text):
            documents.append(re.findall(r"[^\W_]+", sentence))
    assert len(documents) > 10_000
    queries = queries_for(documents, 25)
    queries += [["said"], ["the", "government", "said"], ["mobile", "phone", "phone"]]
    assert_matches_reference(documents, queries)


def test_idf_is_never_negative_even_for_a_term_in_every_sentence(
    documents: list[list[str]],
) -> None:
    index = BM25Index(documents)
    assert index.document_frequency("everywhere") == index.document_count
    assert index.term_idf("everywhere") > 0
    assert (index.idf > 0).all()
    assert index.term_idf("neverseen") == lucene_idf(index.document_count, 0)
    assert index.term_idf("neverseen") > index.idf.max()


def test_sentences_lacking_every_query_term_are_never_scored(
    documents: list[list[str]],
) -> None:
    index = BM25Index(documents)
    term_sets = [set(terms) for terms in documents]
    for query in queries_for(documents, 20, seed=3):
        hits, scores = index.score(query)
        holding = [d for d, terms in enumerate(term_sets) if not terms.isdisjoint(query)]
        assert hits.tolist() == holding
        assert (scores > 0).all()
    assert len(index.score(["neverseen"])[0]) == 0
    assert index.top(["neverseen"], TOP) == []


def test_ties_at_the_cut_go_to_the_earlier_sentence() -> None:
    documents = [["other"], *(["same", "words"] for _ in range(30)), ["same"]]
    index = BM25Index(documents)
    top = index.top(["same", "words"], 5)
    assert [d for d, _ in top] == [1, 2, 3, 4, 5]
    assert len({score for _, score in top}) == 1


def test_building_from_flat_chunks_gives_the_same_index() -> None:
    documents = generated_documents(count=500)
    chunks = [
        ([t for d in documents[i : i + 37] for t in d], [len(d) for d in documents[i : i + 37]])
        for i in range(0, len(documents), 37)
    ]
    flat = BM25Index.from_chunks(chunks)
    plain = BM25Index(documents)
    assert flat.vocabulary == plain.vocabulary
    for name in ("posting_documents", "weights", "offsets", "document_terms", "idf"):
        assert np.array_equal(getattr(flat, name), getattr(plain, name)), name
    assert [flat.terms_by_id[i] for i in flat.document_term_ids(3)] == documents[3]


def test_building_from_term_numbers_gives_the_same_index() -> None:
    documents = generated_documents(count=500)
    # Numbered in an order of their own, with a name no document has.
    names = [*sorted({t for d in documents for t in d}, reverse=True), "nowhere"]
    numbers = {name: n for n, name in enumerate(names)}
    flat = np.array([numbers[t] for d in documents for t in d], dtype=np.int32)
    lengths = np.array([len(d) for d in documents])
    numbered, ids = BM25Index.from_term_ids(flat, lengths, names)
    plain = BM25Index(documents)
    assert numbered.terms_by_id == plain.terms_by_id
    assert numbered.vocabulary == plain.vocabulary
    assert numbered.average_length == plain.average_length
    for name, array in plain.arrays().items():
        assert np.array_equal(getattr(numbered, name), array), name
    assert [plain.vocabulary.get(name, -1) for name in names] == ids.tolist()


def test_lengths_that_do_not_add_up_are_refused() -> None:
    with pytest.raises(ValueError, match="lengths"):
        BM25Index.from_chunks([(["a", "b", "c"], [1, 1])])


def test_bad_parameters_are_refused_by_name() -> None:
    with pytest.raises(ValueError, match="k1"):
        BM25Index([["a"]], k1=-1)
    with pytest.raises(ValueError, match="b="):
        BM25Index([["a"]], b=1.5)


def test_an_empty_index_answers_nothing() -> None:
    for documents in ([], [[], []]):
        index = BM25Index(documents)
        assert index.top(["a"], TOP) == []
        assert len(index.score(["a"])[0]) == 0


def test_scores_handed_out_cannot_corrupt_the_index() -> None:
    index = BM25Index([["a", "b"], ["a"]])
    _, scores = index.score(["a"])
    with pytest.raises(ValueError):
        scores[0] = 0.0
