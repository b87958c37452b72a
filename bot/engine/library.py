"""The indexed corpus: every article's sentences, their terms and the BM25 index over them.

All of it comes from an index snapshot (snapshot.py): mapped from a file under DATA_DIR/index
when the bot keeps one, or made in memory. Articles are made from the snapshot when asked for,
so a large corpus's text stays in the file's pages, shared by the bot's processes, rather than
in each process's own memory.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import overload

import numpy as np

from bot.engine.corpus import Corpus
from bot.engine.encoder import DIMENSIONS, Encoder
from bot.engine.index import BM25Index
from bot.engine.models import Article, ArticleInfo, LoadWarning, Sentence
from bot.engine.snapshot import (
    ArticleParts,
    ArticleRecord,
    CorpusSnapshot,
    FileEntry,
    SnapshotArticles,
    build_snapshot,
)
from bot.engine.tokenizer import Tokenizer, parse_glossary

# How many sentence (or paragraph) term sets are kept once made: a question's candidates.
RECENT_SETS = 4096
# With a vector store on disk, how many articles' sentence vectors memory keeps (those asked
# about last; about 15 KB each): a large corpus's vectors live on disk, not all in memory.
KEPT_IN_MEMORY = 2000


@dataclass(frozen=True, slots=True)
class IndexedSentence:
    """A sentence and the article it belongs to."""

    sentence: Sentence
    article: Article


class IndexedSentences(Sequence[IndexedSentence]):
    """Every body sentence of every article in one flat sequence: the index's documents.

    Each IndexedSentence is made when asked, from the article (made from the snapshot and kept
    a while): stored, they would be one more object per sentence, in every process, for the
    garbage collector to walk on every full collection (which holds the interpreter lock while
    the event loop waits).
    """

    def __init__(self, articles: SnapshotArticles, first_sentences: np.ndarray) -> None:
        self._articles = articles
        # array.array: compact like numpy, but indexing it gives plain ints, fast.
        self._first = array("q", first_sentences.astype(np.int64).tobytes())
        counts = np.diff(first_sentences)
        owners = np.repeat(np.arange(len(counts), dtype=np.int32), counts)
        self._article_of = array("i", owners.tobytes())

    def __len__(self) -> int:
        return len(self._article_of)

    def article_number(self, position: int) -> int:
        """Which article (its place in the sequence given) a sentence belongs to."""
        return self._article_of[position]

    @overload
    def __getitem__(self, position: int) -> IndexedSentence: ...

    @overload
    def __getitem__(self, position: slice) -> list[IndexedSentence]: ...

    def __getitem__(self, position: int | slice) -> IndexedSentence | list[IndexedSentence]:
        if isinstance(position, slice):
            return [self[i] for i in range(len(self))[position]]
        number = self._article_of[position]  # IndexError and negative positions as a list
        if position < 0:
            position += len(self)
        article, sentences = self._articles.with_sentences(number)
        return IndexedSentence(sentences[position - self._first[number]], article)

    def __iter__(self) -> Iterator[IndexedSentence]:
        return (self[i] for i in range(len(self)))


class ArticlesById(Mapping[str, Article]):
    """The articles by id, each made from the snapshot when asked for."""

    def __init__(self, articles: SnapshotArticles, records: Sequence[ArticleRecord]) -> None:
        self._articles = articles
        self._numbers = {record.id: number for number, record in enumerate(records)}

    def number(self, article_id: str) -> int | None:
        """The article's place in the library, if it is there."""
        return self._numbers.get(article_id)

    def __getitem__(self, article_id: str) -> Article:
        return self._articles[self._numbers[article_id]]

    def __contains__(self, article_id: object) -> bool:
        return article_id in self._numbers

    def __iter__(self) -> Iterator[str]:
        return iter(self._numbers)

    def __len__(self) -> int:
        return len(self._numbers)


class TermSets(Sequence[frozenset[str]]):
    """Per sentence, a set of index terms, made when asked from the index's term lists: the
    sentence's own, or those of the group of sentences it belongs to (its paragraph).

    A frozenset per sentence (and per paragraph) would be the largest thing in memory on a big
    corpus, hundreds of megabytes, while a question looks at a few dozen sentences, several
    times each: the sets made last are kept for the next look.
    """

    def __init__(
        self, index: BM25Index, groups: tuple[np.ndarray, np.ndarray] | None = None
    ) -> None:
        """`groups`: each sentence's group as its first sentence and the one after its last;
        None for each sentence alone."""
        self._names = index.terms_by_id
        self._terms = index.document_terms
        # Indexed where they are: the index's offsets are mapped from its snapshot's file.
        self._offsets = index.document_offsets
        self._count = index.document_count
        if groups is not None and not len(groups[0]) == len(groups[1]) == self._count:
            raise ValueError(f"{self._count} sentences but groups of {len(groups[0])}")
        self._groups = groups
        self._recent: dict[tuple[int, int], frozenset[str]] = {}

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, position: int) -> frozenset[str]: ...

    @overload
    def __getitem__(self, position: slice) -> list[frozenset[str]]: ...

    def __getitem__(self, position: int | slice) -> frozenset[str] | list[frozenset[str]]:
        if isinstance(position, slice):
            return [self[i] for i in range(len(self))[position]]
        position = range(self._count)[position]  # IndexError and negatives as a list has them
        first, end = position, position + 1
        if self._groups is not None:
            first, end = int(self._groups[0][position]), int(self._groups[1][position])
        # Sentences of one paragraph share its span, so its set is made once.
        span = (int(self._offsets[first]), int(self._offsets[end]))
        found = self._recent.get(span)
        if found is None:
            ids = self._terms[span[0] : span[1]].tolist()
            found = frozenset(map(self._names.__getitem__, ids))
            if len(self._recent) >= RECENT_SETS:
                self._recent.clear()
            self._recent[span] = found
        return found

    def __iter__(self) -> Iterator[frozenset[str]]:
        return (self[i] for i in range(len(self)))


class Library:
    """Articles, their sentences in one flat list, and a BM25 index whose documents are them."""

    def __init__(self, corpus: Corpus) -> None:
        self.corpus = corpus
        if isinstance(corpus.articles, SnapshotArticles):  # as load_corpus gives them
            self.articles = corpus.articles
        else:  # articles given whole (parsed elsewhere): indexed as a load indexes them
            self.articles = SnapshotArticles(snapshot_of(corpus.articles, corpus.glossary_text))
        snapshot = self.snapshot = self.articles.snapshot
        self.records: tuple[ArticleRecord, ...] = snapshot.records
        warnings = list(corpus.warnings)
        _, problems = parse_glossary(corpus.glossary_text)
        warnings.extend(LoadWarning("glossary.txt", p) for p in problems)
        self.warnings: tuple[LoadWarning, ...] = tuple(warnings)
        self.tokenizer = Tokenizer(snapshot.aliases)
        self.sentences = IndexedSentences(self.articles, snapshot.sentence_bounds)
        self.index: BM25Index = snapshot.index
        self.terms: TermSets = TermSets(self.index)
        # Each sentence's paragraph, as terms: the context a sentence leans on. A paragraph
        # starts at each article's first sentence and wherever the paragraph number changes.
        numbers = snapshot.paragraph_numbers
        starts = np.zeros(len(numbers), dtype=bool)
        bounds = snapshot.sentence_bounds
        starts[bounds[:-1][np.diff(bounds) > 0]] = True
        starts[1:] |= numbers[1:] != numbers[:-1]
        first = np.flatnonzero(starts).astype(np.int32)
        sizes = np.diff(np.append(first, len(numbers)))
        self.paragraph_terms: TermSets = TermSets(
            self.index,
            (np.repeat(first, sizes), np.repeat((first + sizes).astype(np.int32), sizes)),
        )
        self.by_id = ArticlesById(self.articles, self.records)
        # Titles as base terms, for questions about an article rather than its content: made
        # once, so such a question need not tokenize every title again.
        self.title_terms: tuple[frozenset[str], ...] = tuple(r.title_terms for r in self.records)
        self.title_vocabulary: frozenset[str] = frozenset().union(*self.title_terms)
        cache = corpus.cache
        self._kept_vectors = cache.vectors if cache is not None else {}
        self._vector_store = cache.vector_store if cache is not None else None

    def document_of(self, article_id: str, start: int) -> int | None:
        """The index document of the body sentence starting at `start` in an article, if any."""
        number = self.by_id.number(article_id)
        if number is None:
            return None
        first = int(self.snapshot.sentence_bounds[number])
        for sentence in self.articles[number].sentences:
            if sentence.start == start:
                return first + sentence.position
        return None

    def article_number(self, document: int) -> int:
        """Which article (its place in `articles`) an index document belongs to."""
        return self.sentences.article_number(document)

    def article_documents(self, article: int) -> np.ndarray:
        """The index documents of one article's sentences, in order."""
        bounds = self.snapshot.sentence_bounds
        return np.arange(bounds[article], bounds[article + 1])

    def vectors(self, article: int, encoder: Encoder) -> np.ndarray:
        """One article's sentence vectors (float16), made on first need or ahead of questions
        (`prepare_vectors`) and kept under the article's content hash, so a reload encodes only
        what changed. With a vector store they are read back from disk rather than made again,
        and memory keeps only the KEPT_IN_MEMORY articles asked about last."""
        found = self.articles[article]
        key = (found.path, found.content_hash)
        kept = self._kept_vectors.pop(key, None)
        if kept is None:
            texts = [s.text for s in found.sentences]
            store = self._vector_store
            if store is not None:
                kept = store.load(encoder.identity, texts, DIMENSIONS)
            if kept is None:
                kept = encoder.encode(texts).astype(np.float16)
                if store is not None:
                    store.save(encoder.identity, texts, kept)
        if found.content_hash:
            # Put back last: the first ones are those asked about longest ago. No lock: two
            # threads wanting one article at once make its vectors twice, a rare waste that
            # never makes one wait for the other's whole article.
            self._kept_vectors[key] = kept
            if self._vector_store is not None and len(self._kept_vectors) > KEPT_IN_MEMORY:
                for oldest in list(self._kept_vectors)[: len(self._kept_vectors) - KEPT_IN_MEMORY]:
                    self._kept_vectors.pop(oldest, None)
        return kept

    def prepare_vectors(self, article: int, encoder: Encoder) -> None:
        """Make one article's vectors before a question needs them: into the vector store
        when there is one (memory is left for the articles people ask about), else into
        memory."""
        store = self._vector_store
        if store is None:
            self.vectors(article, encoder)
            return
        # Whether they are there is asked by the name the snapshot keeps: the article itself
        # is made only when its vectors must be.
        record = self.records[article]
        if (record.path, record.content_hash) in self._kept_vectors or store.holds(
            encoder.identity, record.vectors_key
        ):
            return
        texts = [s.text for s in self.articles[article].sentences]
        store.save(encoder.identity, texts, encoder.encode(texts).astype(np.float16))

    @property
    def sentence_count(self) -> int:
        """How many sentences are indexed."""
        return len(self.sentences)

    def article_infos(self) -> list[ArticleInfo]:
        """The article list, newest first (articles without a date last, by id)."""
        return newest_first(
            [
                ArticleInfo(
                    r.id, r.title, r.published, r.author, r.source, r.paragraphs, r.sentences
                )
                for r in self.records
            ]
        )


def newest_first(infos: Sequence[ArticleInfo]) -> list[ArticleInfo]:
    """Articles by date, the latest first; those without a date last, by id."""
    return sorted(infos, key=lambda i: (i.published is None, _negated(i.published), i.id))


def snapshot_of(articles: Sequence[Article], glossary_text: str = "") -> CorpusSnapshot:
    """A snapshot, in memory, of articles parsed outside `load_corpus`."""
    files = [(FileEntry(a.path, a.content_hash), ArticleParts.of(a)) for a in articles]
    return build_snapshot(files, glossary_text)


def _negated(date: str | None) -> tuple[int, ...]:
    """Sort key that puts later ISO dates first."""
    return tuple(-ord(c) for c in (date or ""))
