"""Many articles: citations name their article, repeats are quoted once, reloads reuse work."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from corpora import PROMPTS

from bot.engine import Engine
from bot.engine.corpus import Corpus, load_corpus
from bot.engine.library import Library
from bot.engine.pacing import paced
from bot.engine.tokenizer import base_terms

FERRY = """Harbour ferry goes electric

The city council approved an electric ferry for the harbour route on Tuesday.

The new ferry will carry 300 passengers on each crossing. It replaces two diesel boats.

Tickets will cost the same as today, the council said.
"""
# The same wire story as another outlet ran it: one sentence differs only in punctuation.
FERRY_REPRINT = FERRY.replace("Harbour ferry goes electric", "Council backs electric ferry")
FERRY_REPRINT = FERRY_REPRINT.replace(
    "300 passengers on each crossing.", "300 passengers on each crossing!"
)
MUSEUM = """Museum reopens after repairs

The city museum reopened on Saturday after two years of repairs to its roof.

Visitors queued for an hour to see the restored dinosaur hall.
"""


def write_corpus(folder: Path, articles: dict[str, str]) -> Path:
    folder.mkdir(exist_ok=True)
    for name, text in articles.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def wire_corpus(tmp_path: Path) -> Path:
    """A story, the same story in a second file, its reprint elsewhere, and another story."""
    return write_corpus(
        tmp_path / "corpus",
        {
            "ferry.txt": FERRY,
            "ferry-copy.txt": FERRY,
            "ferry-reprint.txt": FERRY_REPRINT,
            "museum.txt": MUSEUM,
        },
    )


def test_a_sentence_repeated_across_articles_is_quoted_once(wire_corpus: Path) -> None:
    engine = Engine.load(wire_corpus, PROMPTS)
    reply = engine.ask("How many passengers will the new ferry carry?")
    assert reply.answered
    quotes = [c.quote.rstrip(".!") for c in reply.citations]
    assert quotes[0] == "The new ferry will carry 300 passengers on each crossing"
    assert len(quotes) == len(set(quotes))
    assert reply.text.replace("**", "").count("300 passengers") == 1


def test_every_citation_names_its_article_when_there_are_several(wire_corpus: Path) -> None:
    engine = Engine.load(wire_corpus, PROMPTS)
    for question, title in (
        ("What did visitors queue to see?", "Museum reopens after repairs"),
        ("How many passengers will the new ferry carry?", "Harbour ferry goes electric"),
    ):
        reply = engine.ask(question)
        assert reply.answered, question
        assert reply.citations[0].article_title == title
        for citation in reply.citations:
            assert f"of “{citation.article_title}”" in reply.text


def test_a_reload_tokenizes_only_the_changed_article(wire_corpus: Path) -> None:
    engine = Engine.load(wire_corpus, PROMPTS)
    before = {record.path: record for record in engine.library.records}
    assert engine.index_report is not None and engine.index_report.parsed == 4
    (wire_corpus / "museum.txt").write_text(MUSEUM + "\nThe roof cost four million pounds.\n")
    reloaded, report = engine.reloaded()
    assert report.changed == ("museum",)
    assert reloaded.index_report is not None and reloaded.index_report.parsed == 1
    for record in reloaded.library.records:
        if record.path == "museum.txt":
            assert record is not before["museum.txt"]
        else:
            assert record is before[record.path]  # the very same record: not tokenized again
    assert reloaded.ask("How much did the roof cost?").answered


def test_a_reload_of_an_unchanged_corpus_reuses_its_index_whole(wire_corpus: Path) -> None:
    engine = Engine.load(wire_corpus, PROMPTS)
    reloaded, report = engine.reloaded()
    assert report.changed == report.added == report.removed == ()
    assert reloaded.library.snapshot is engine.library.snapshot


def test_a_reload_builds_the_same_index_as_a_cold_load(wire_corpus: Path) -> None:
    engine = Engine.load(wire_corpus, PROMPTS)
    (wire_corpus / "ferry-copy.txt").unlink()
    (wire_corpus / "extra.txt").write_text(MUSEUM.replace("Museum", "Gallery"))
    reloaded, _ = engine.reloaded()
    cold = Engine.load(wire_corpus, PROMPTS)
    warm_index, cold_index = reloaded.library.index, cold.library.index
    assert warm_index.vocabulary == cold_index.vocabulary
    for name in ("posting_documents", "weights", "document_terms", "offsets"):
        assert np.array_equal(getattr(warm_index, name), getattr(cold_index, name)), name
    assert list(reloaded.library.terms) == list(cold.library.terms)


def test_an_acronym_defined_in_a_new_article_expands_in_cached_ones(tmp_path: Path) -> None:
    corpus = write_corpus(
        tmp_path / "corpus",
        {"vaccine.txt": "Vaccine drive\n\nThe WHO praised the vaccine drive in the region.\n"},
    )
    engine = Engine.load(corpus, PROMPTS)
    assert "health" not in " ".join(engine.library.terms[0])
    write_corpus(
        corpus,
        {
            "agency.txt": "Agency profile\n\n"
            "The World Health Organization (WHO) was founded in 1948 in Geneva.\n"
        },
    )
    reloaded, _ = engine.reloaded()
    vaccine = next(i for i, s in enumerate(reloaded.library.sentences) if s.article.id == "vaccine")
    assert set(base_terms("World Health Organization")) <= reloaded.library.terms[vaccine]


def test_sentence_and_paragraph_terms_are_the_sets_of_their_index_terms(
    wire_corpus: Path,
) -> None:
    # Sentences and a paragraph of stopwords alone have no terms: empty sets, not a neighbour's.
    (wire_corpus / "quotes.txt").write_text(
        "Quotes\n\nSo it is.\n\nThe mayor smiled. And so it was.\n\nWhy not?\n\nThe end came.\n"
    )
    library = Library(load_corpus(wire_corpus))
    assert frozenset() in set(library.terms)
    expanded = [library.tokenizer(s.sentence.text) for s in library.sentences]
    for backwards in (False, True):  # in either order, whatever was asked before
        order = sorted(range(len(expanded)), reverse=backwards)
        assert [library.terms[i] for i in order] == [frozenset(expanded[i]) for i in order]
    for i, item in enumerate(library.sentences):
        paragraph = [
            j
            for j, other in enumerate(library.sentences)
            if other.article is item.article and other.sentence.paragraph == item.sentence.paragraph
        ]
        assert library.paragraph_terms[i] == frozenset().union(*(expanded[j] for j in paragraph))
    assert library.terms[-1] == library.terms[len(library.terms) - 1]
    assert library.sentences[-1].sentence is library.sentences[len(library.sentences) - 1].sentence
    with pytest.raises(IndexError):
        library.terms[len(library.terms)]


def test_title_terms_follow_the_articles(wire_corpus: Path) -> None:
    library = Library(load_corpus(wire_corpus))
    for article, terms in zip(library.articles, library.title_terms, strict=True):
        assert terms == frozenset(base_terms(article.title))
    assert library.title_vocabulary == frozenset().union(*library.title_terms)


def test_a_library_from_a_corpus_without_a_cache_still_builds(wire_corpus: Path) -> None:
    corpus = load_corpus(wire_corpus)
    bare = Corpus(corpus.root, corpus.articles, corpus.warnings)
    assert Library(bare).index.document_count == Library(corpus).index.document_count


def test_pacing_keeps_every_item_in_order() -> None:
    assert list(paced(range(100), every=0.0)) == list(range(100))
    assert list(paced([])) == []
