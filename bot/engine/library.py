"""The indexed corpus: every article's sentences, their terms and the BM25 index over them."""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from typing import overload

import numpy as np

from bot.engine.corpus import Corpus
from bot.engine.encoder import DIMENSIONS, Encoder
from bot.engine.index import BM25Index
from bot.engine.models import Article, ArticleInfo, LoadWarning, Sentence
from bot.engine.pacing import paced
from bot.engine.tokenizer import Tokenizer, base_terms, mine_aliases, parse_glossary

# Articles per chunk handed to the index: each chunk is one short C call there, so a reload in
# a worker thread gives the event loop the interpreter back often.
CHUNK_ARTICLES = 16
# How many sentence (or paragraph) term sets are kept once made: a question's candidates.
RECENT_SETS = 4096
# With a vector store on disk, how many articles' sentence vectors memory keeps (those asked
# about last; about 15 KB each): a large corpus's vectors live on disk, not all in memory.
KEPT_IN_MEMORY = 2000


def default_glossary() -> str:
    """The aliases every corpus starts with (shipped with the package)."""
    return resources.files("bot.engine").joinpath("glossary_defaults.txt").read_text("utf-8")


@dataclass(frozen=True, slots=True)
class IndexedSentence:
    """A sentence and the article it belongs to."""

    sentence: Sentence
    article: Article


@dataclass(frozen=True, slots=True)
class ArticleTerms:
    """What tokenizing one article gives, kept in the ArticleCache so a reload skips it.

    Terms are stored before alias expansion: aliases come from every article and the glossary,
    so they may change when another file does, while these depend on this article alone.
    """

    terms: tuple[str, ...]  # every body sentence's base terms, end to end
    lengths: tuple[int, ...]  # how many of them each sentence has
    aliases: dict[str, tuple[str, ...]]  # the "Full Name (ACR)" definitions the article makes
    title: frozenset[str]  # the title's base terms

    @classmethod
    def of(cls, article: Article) -> ArticleTerms:
        """Tokenize an article's body sentences and mine its acronym definitions."""
        terms: list[str] = []
        lengths: list[int] = []
        for sentence in article.sentences:
            found = base_terms(sentence.text)
            terms.extend(found)
            lengths.append(len(found))
        return cls(
            tuple(terms),
            tuple(lengths),
            mine_aliases(article.text),
            frozenset(base_terms(article.title)),
        )


class IndexedSentences(Sequence[IndexedSentence]):
    """Every body sentence of every article in one flat sequence: the index's documents.

    Each IndexedSentence is made when asked. Stored, they would be one more object per sentence
    for the garbage collector to walk on every full collection (which holds the interpreter
    lock while the event loop waits) and to pile up again on every reload.
    """

    def __init__(self, articles: Sequence[Article]) -> None:
        self._articles = articles
        self._sentences: list[Sentence] = []
        counts = []
        for article in paced(articles):
            sentences = article.sentences
            self._sentences.extend(sentences)
            counts.append(len(sentences))
        owners = np.repeat(np.arange(len(articles), dtype=np.int32), counts)
        self._article_of = array("i", owners.tobytes())

    def __len__(self) -> int:
        return len(self._sentences)

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
        sentence = self._sentences[position]  # IndexError and negative positions as a list
        return IndexedSentence(sentence, self._articles[self._article_of[position]])

    def __iter__(self) -> Iterator[IndexedSentence]:
        articles = self._articles
        for sentence, article in zip(self._sentences, self._article_of, strict=True):
            yield IndexedSentence(sentence, articles[article])


class TermSets(Sequence[frozenset[str]]):
    """Per sentence, a set of index terms, made when asked from the index's term lists.

    A frozenset per sentence (and per paragraph) would be the largest thing in memory on a big
    corpus, hundreds of megabytes, while a question looks at a few dozen sentences, several
    times each: the sets made last are kept for the next look.
    """

    def __init__(self, index: BM25Index, starts: np.ndarray, ends: np.ndarray) -> None:
        if len(starts) != len(ends):
            raise ValueError(f"{len(starts)} span starts but {len(ends)} span ends")
        self._names = index.terms_by_id
        self._terms = index.document_terms
        # array.array: compact like numpy, but indexing it gives plain ints, fast.
        self._starts = array("q", starts.astype(np.int64).tobytes())
        self._ends = array("q", ends.astype(np.int64).tobytes())
        self._recent: dict[tuple[int, int], frozenset[str]] = {}

    def __len__(self) -> int:
        return len(self._starts)

    @overload
    def __getitem__(self, position: int) -> frozenset[str]: ...

    @overload
    def __getitem__(self, position: slice) -> list[frozenset[str]]: ...

    def __getitem__(self, position: int | slice) -> frozenset[str] | list[frozenset[str]]:
        if isinstance(position, slice):
            return [self[i] for i in range(len(self))[position]]
        # IndexError and negative positions as a list has them. Sentences of one paragraph
        # share its span, so its set is made once.
        span = (self._starts[position], self._ends[position])
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
        self.articles: tuple[Article, ...] = corpus.articles
        # Tokenized articles survive reloads in the corpus's cache, under the same key as the
        # parsed article (path and content hash): only changed files are tokenized again.
        kept = corpus.cache.derived if corpus.cache is not None else {}
        tokenized = [_terms_of(article, kept) for article in paced(self.articles)]
        warnings = list(corpus.warnings)
        aliases, _ = parse_glossary(default_glossary())  # a test keeps the shipped one clean
        for found in tokenized:
            aliases.update(found.aliases)
        moderator_aliases, problems = parse_glossary(corpus.glossary_text)
        warnings.extend(LoadWarning("glossary.txt", p) for p in problems)
        aliases.update(moderator_aliases)
        self.warnings: tuple[LoadWarning, ...] = tuple(warnings)
        self.tokenizer = Tokenizer(aliases)
        self.sentences = IndexedSentences(self.articles)
        self.index = BM25Index.from_chunks(_expanded(tokenized, self.tokenizer))
        offsets = self.index.document_offsets
        self.terms: TermSets = TermSets(self.index, offsets[:-1], offsets[1:])
        # Each sentence's paragraph, as terms: the context a sentence leans on.
        sizes = np.fromiter(
            (len(p.sentences) for a in self.articles for p in a.paragraphs), dtype=np.int64
        )
        first = np.cumsum(sizes) - sizes
        self.paragraph_terms: TermSets = TermSets(
            self.index,
            np.repeat(offsets[first], sizes),
            np.repeat(offsets[first + sizes], sizes),
        )
        self.by_id = {article.id: article for article in self.articles}
        # Titles as base terms, for questions about an article rather than its content: made
        # once here, so such a question need not tokenize every title again.
        self.title_terms: tuple[frozenset[str], ...] = tuple(t.title for t in tokenized)
        self.title_vocabulary: frozenset[str] = frozenset().union(*self.title_terms)
        self._kept_vectors = corpus.cache.vectors if corpus.cache is not None else {}
        self._vector_store = corpus.cache.vector_store if corpus.cache is not None else None

    @cached_property
    def _first_documents(self) -> dict[str, int]:
        """Each article's first sentence's number in the index (made on first use)."""
        first, at = {}, 0
        for article in self.articles:
            first[article.id] = at
            at += len(article.sentences)
        return first

    def document_of(self, article_id: str, start: int) -> int | None:
        """The index document of the body sentence starting at `start` in an article, if any."""
        first = self._first_documents.get(article_id)
        if first is None:
            return None
        article = self.by_id[article_id]
        for sentence in article.sentences:
            if sentence.start == start:
                return first + sentence.position
        return None

    def article_number(self, document: int) -> int:
        """Which article (its place in `articles`) an index document belongs to."""
        return self.sentences.article_number(document)

    def article_documents(self, article: int) -> np.ndarray:
        """The index documents of one article's sentences, in order."""
        found = self.articles[article]
        first = self._first_documents[found.id]
        return np.arange(first, first + len(found.sentences))

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
        found = self.articles[article]
        texts = [s.text for s in found.sentences]
        if (found.path, found.content_hash) not in self._kept_vectors and not store.holds(
            encoder.identity, texts
        ):
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
                    a.id,
                    a.title,
                    a.published,
                    a.author,
                    a.source,
                    len(a.paragraphs),
                    len(a.sentences),
                )
                for a in self.articles
            ]
        )


def newest_first(infos: Sequence[ArticleInfo]) -> list[ArticleInfo]:
    """Articles by date, the latest first; those without a date last, by id."""
    return sorted(infos, key=lambda i: (i.published is None, _negated(i.published), i.id))


def _terms_of(article: Article, kept: dict[tuple[str, str], object]) -> ArticleTerms:
    """The article's terms from the cache, or tokenized now and cached."""
    key = (article.path, article.content_hash)
    found = kept.get(key)
    if isinstance(found, ArticleTerms):
        return found
    found = ArticleTerms.of(article)
    if article.content_hash:  # an article parsed outside load_corpus has no key to trust
        kept[key] = found
    return found


def _expanded(
    tokenized: Sequence[ArticleTerms], tokenizer: Tokenizer
) -> Iterator[tuple[list[str], list[int]]]:
    """Every sentence's index terms (aliases expanded), in chunks of CHUNK_ARTICLES articles."""
    keys = tokenizer.aliases.keys()
    for start in range(0, len(tokenized), CHUNK_ARTICLES):
        terms: list[str] = []
        lengths: list[int] = []
        for article in tokenized[start : start + CHUNK_ARTICLES]:
            if keys.isdisjoint(article.terms):  # no acronym to expand: take it whole
                terms.extend(article.terms)
                lengths.extend(article.lengths)
                continue
            at = 0
            for length in article.lengths:
                sentence = article.terms[at : at + length]
                at += length
                if not keys.isdisjoint(sentence):
                    sentence = tuple(tokenizer.expand(sentence))
                terms.extend(sentence)
                lengths.append(len(sentence))
        yield terms, lengths


def _negated(date: str | None) -> tuple[int, ...]:
    """Sort key that puts later ISO dates first."""
    return tuple(-ord(c) for c in (date or ""))
