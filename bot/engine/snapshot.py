"""The indexed corpus as arrays: made once, written to disk whole, read back by mapping the file.

Loading a corpus folder parses every article, splits it into sentences, tokenizes them and
builds the BM25 index over them: most of a minute on a large corpus. A snapshot holds the result
(every article's text and metadata, its sentences' offsets and terms, the index's arrays and
terms) in one file, so a start on an unchanged corpus maps that file instead of doing the work
again, and the bot processes of one machine share its pages: the index and the article texts
stay in the file, and an `Article` is made from them when it is asked for.

A snapshot is made from the files that changed and, for the others, a previous snapshot: an
article whose file (path and content digest) is unchanged is taken from it as it is, and only
the others are parsed and tokenized. The index is then built over all of them as a cold load
builds it, so it is the same index, term for term, whichever way the snapshot was made.

The file: a magic line; a JSON header naming the format, the code version, the corpus key and
each section (its dtype, shape, offset, length and CRC-32), then the header's own CRC-32; then
the sections, each at a 64-byte boundary. Four sections are text: the metadata (JSON), the files
and the articles' records (JSON, one a line) and the index's terms (one a line); the others are
arrays. Every checksum is checked when the file is opened, so a damaged or truncated file is
refused, never used. JSON and raw arrays only: nothing in the file is ever run.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import mmap
import struct
import unicodedata
import zlib
from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, cached_property, lru_cache, partial
from importlib import metadata, resources
from pathlib import Path
from typing import Any, BinaryIO, overload

import numpy as np

from bot.engine.index import ARRAY_NAMES, BM25Index
from bot.engine.models import Article, Paragraph, Problem, ProblemKind, Sentence
from bot.engine.pacing import paced
from bot.engine.tokenizer import Tokenizer, base_terms, mine_aliases, parse_glossary
from bot.engine.vector_store import sentences_digest

# Bump when the file's layout changes; the code version below follows the code itself.
SNAPSHOT_FORMAT = 1
MAGIC = b"articlebot index snapshot\n"
ALIGNMENT = 64
# Articles taken from another snapshot are copied this many at a time, at most: each array's
# copy is then one short C call, so a reload in a worker thread gives the event loop the
# interpreter back often.
RUN_ARTICLES = 256
# How many articles made from a snapshot are kept once made (about 10 KB each): those of a
# question's candidates, asked about again and again while it is answered (on eight copies of
# the BBC News corpus a question makes 80 to 190). No more: each is a few dozen objects (its
# paragraphs and sentences) that every full garbage collection walks while the event loop
# waits, and a cache four times as large saved only a tenth of the articles made.
ARTICLES_KEPT = 256
# The files whose content decides what a snapshot holds: a change to any of them (a splitting
# rule, a stemming fix, another index layout) makes every snapshot kept another version's.
CODE_FILES = (
    "corpus.py",
    "sentences.py",
    "tokenizer.py",
    "index.py",
    "models.py",
    "snapshot.py",
    "glossary_defaults.txt",
)
# And so do these packages: the sentence splitter, the stemmer.
CODE_PACKAGES = ("blingfire", "PyStemmer")
_HEADER_LENGTH = struct.Struct("<Q")
_CHECKSUM = struct.Struct("<I")

Line = tuple[str, int, int]  # a metadata line: its text and offsets


class SnapshotDamaged(ValueError):
    """A snapshot file that cannot be trusted; the message says what is wrong with it."""


@cache
def code_version() -> str:
    """A digest of the code that makes snapshots: a snapshot made by other code is not read."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"format {SNAPSHOT_FORMAT}\0unicode {unicodedata.unidata_version}\0".encode())
    for package in CODE_PACKAGES:
        try:
            version = metadata.version(package)
        except metadata.PackageNotFoundError:
            version = "unknown"
        digest.update(f"{package} {version}\0".encode())
    folder = resources.files("bot.engine")
    for name in CODE_FILES:
        try:
            digest.update(folder.joinpath(name).read_bytes())
        except OSError:  # installed without its sources: the format number still guards
            digest.update(f"{name} missing\0".encode())
    return digest.hexdigest()


def corpus_key(files: Iterable[tuple[str, str]], glossary_text: str) -> str:
    """The name a corpus's snapshot is kept under: a digest of the code version, the glossary,
    and every readable file's path and content digest, in order."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"{code_version()}\0{len(glossary_text)}\0".encode())
    digest.update(glossary_text.encode("utf-8", "surrogatepass"))
    for relpath, content in files:
        digest.update(f"\0{relpath}\0{content}".encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def default_glossary() -> str:
    """The aliases every corpus starts with (shipped with the package)."""
    return resources.files("bot.engine").joinpath("glossary_defaults.txt").read_text("utf-8")


def fingerprint(article: Article) -> str:
    """What makes two articles the same text: their body sentences, whatever the file around
    them (front matter, headline, byline, line ends, spacing, page leftovers) looks like."""
    # Every body sentence has a word (sentences.py), so this is each sentence's words joined
    # by single spaces, the sentences joined by one more: in one split rather than one a
    # sentence, as every article of a corpus passes through here.
    body = " ".join(" ".join(s.text for s in article.sentences).split())
    return hashlib.blake2b(body.encode(), digest_size=16).hexdigest()


@dataclass(frozen=True, slots=True)
class ArticleRecord:
    """What stays in memory of an article whose text stays in the snapshot: enough to list it,
    find it by name, say whether it changed and make it whole again."""

    id: str
    path: str
    title: str
    content_hash: str
    fingerprint: str  # `fingerprint(article)`: the same text under another name
    vectors_key: str  # `sentences_digest` of its sentences: its vectors' name in the store
    paragraphs: int
    sentences: int
    author: str | None
    source: str | None
    url: str | None
    published: str | None
    editor: str | None
    byline: Line | None
    credits: Line | None
    dateline: Line | None
    front_matter: tuple[tuple[str, str, int, int], ...]
    aliases: dict[str, tuple[str, ...]]  # the "Full Name (ACR)" definitions it makes
    title_terms: frozenset[str]  # the title's base terms

    def to_json(self) -> list[Any]:
        """The record as the snapshot's metadata stores it."""
        return [
            self.id,
            self.path,
            self.title,
            self.content_hash,
            self.fingerprint,
            self.vectors_key,
            self.paragraphs,
            self.sentences,
            self.author,
            self.source,
            self.url,
            self.published,
            self.editor,
            self.byline,
            self.credits,
            self.dateline,
            self.front_matter,
            self.aliases,
            sorted(self.title_terms),
        ]

    @classmethod
    def from_json(cls, row: list[Any]) -> ArticleRecord:
        """The record `to_json` gave."""
        (identifier, path, title, content_hash, printed, vectors_key, paragraphs, sentences) = row[
            :8
        ]
        author, source, url, published, editor, byline, credits, dateline = row[8:16]
        front_matter, aliases, title_terms = row[16:]
        return cls(
            identifier,
            path,
            title,
            content_hash,
            printed,
            vectors_key,
            paragraphs,
            sentences,
            author,
            source,
            url,
            published,
            editor,
            _line(byline),
            _line(credits),
            _line(dateline),
            tuple((key, text, start, end) for key, text, start, end in front_matter),
            {key: tuple(terms) for key, terms in aliases.items()},
            frozenset(title_terms),
        )


def _line(row: list[Any] | None) -> Line | None:
    return None if row is None else (row[0], row[1], row[2])


def _row(sentence: Sentence | None) -> Line | None:
    return None if sentence is None else (sentence.text, sentence.start, sentence.end)


def _metadata_sentence(line: Line | None) -> Sentence | None:
    # Metadata lines are quotable but outside the body: paragraph 0, position -1.
    return None if line is None else Sentence(line[0], line[1], line[2], 0, -1)


@dataclass(frozen=True, slots=True)
class ArticleParts:
    """One article as a snapshot is made of it: its record, its text (UTF-8), its sentences'
    offsets and paragraph numbers, and their base terms (before alias expansion, which depends
    on the other articles), end to end, with how many each sentence has."""

    record: ArticleRecord
    text: bytes
    starts: Sequence[int]
    ends: Sequence[int]
    paragraphs: Sequence[int]
    terms: Sequence[str]
    lengths: Sequence[int]

    @classmethod
    def of(cls, article: Article) -> ArticleParts:
        """Tokenize a parsed article's sentences and mine its acronym definitions."""
        sentences = article.sentences
        terms: list[str] = []
        lengths: list[int] = []
        for sentence in sentences:
            found = base_terms(sentence.text)
            terms.extend(found)
            lengths.append(len(found))
        record = ArticleRecord(
            id=article.id,
            path=article.path,
            title=article.title,
            content_hash=article.content_hash,
            fingerprint=fingerprint(article),
            vectors_key=sentences_digest([s.text for s in sentences]),
            paragraphs=len(article.paragraphs),
            sentences=len(sentences),
            author=article.author,
            source=article.source,
            url=article.url,
            published=article.published,
            editor=article.editor,
            byline=_row(article.byline),
            credits=_row(article.credits),
            dateline=_row(article.dateline),
            front_matter=tuple((key, s.text, s.start, s.end) for key, s in article.front_matter),
            aliases=mine_aliases(article.text),
            title_terms=frozenset(base_terms(article.title)),
        )
        return cls(
            record,
            article.text.encode("utf-8", "surrogatepass"),
            [s.start for s in sentences],
            [s.end for s in sentences],
            [s.paragraph for s in sentences],
            terms,
            lengths,
        )


@dataclass(frozen=True, slots=True)
class FileEntry:
    """A corpus file the snapshot was made from: what parsing it said, and which article it
    gave (its place among the snapshot's articles; -1 for none)."""

    relpath: str
    digest: str
    problems: tuple[Problem, ...] = ()
    article: int = -1


class SnapshotBuilder:
    """Makes a snapshot in memory from files added one at a time, in order: each article's text,
    offsets and terms go straight into flat buffers, so a large corpus's parsed articles never
    all sit in memory at once.

    Terms are kept as numbers (into `_vocabulary`), not strings: a corpus has millions of them,
    and a list of millions of strings is walked by every full garbage collection, which holds
    the interpreter lock while a reload runs beside the answers. An article taken from another
    snapshot is copied from its arrays, never turned back into Python objects.
    """

    def __init__(self) -> None:
        self._entries: list[FileEntry] = []
        self._records: list[ArticleRecord] = []
        self._text = bytearray()
        self._text_bounds = array("q", [0])
        self._sentence_bounds = array("q", [0])
        self._starts = array("i")
        self._ends = array("i")
        self._paragraphs = array("i")
        self._vocabulary: dict[str, int] = {}  # every base term met, numbered as first met
        self._terms = array("i")  # every sentence's base terms as those numbers, end to end
        self._lengths = array("i")  # how many each sentence has
        # Per snapshot taken from (by id, with the snapshot, so the id stays its own): each of
        # its index terms' number here.
        self._numbers: dict[int, tuple[CorpusSnapshot, np.ndarray]] = {}
        # Articles taken from a snapshot, one after another, not yet copied: (snapshot, first,
        # end); copied together, in one short call per array.
        self._run: tuple[CorpusSnapshot, int, int] | None = None

    def add(self, entry: FileEntry, parts: ArticleParts | None) -> None:
        """The next file, parsed now: what parsing it said, and the article it gave, if any."""
        self._copy_run()
        if parts is None:
            self._entries.append(_numbered(entry, -1))
            return
        self._entries.append(_numbered(entry, len(self._records)))
        self._records.append(parts.record)
        self._text += parts.text
        self._text_bounds.append(len(self._text))
        self._starts.extend(parts.starts)
        self._ends.extend(parts.ends)
        self._paragraphs.extend(parts.paragraphs)
        self._sentence_bounds.append(len(self._starts))
        _number_new(self._vocabulary, parts.terms)
        self._terms.extend(map(self._vocabulary.__getitem__, parts.terms))
        self._lengths.extend(parts.lengths)

    def take(self, snapshot: CorpusSnapshot, entry: FileEntry) -> None:
        """The next file, as `snapshot` has it (`entry` is its own, from `reusable`): its
        article, if any, is taken over as it is."""
        if entry.article < 0:
            self._entries.append(entry)
            return
        self._entries.append(_numbered(entry, len(self._records)))
        self._records.append(snapshot.records[entry.article])
        run = self._run
        if (
            run is not None
            and run[0] is snapshot
            and run[2] == entry.article
            and run[2] - run[1] < RUN_ARTICLES
        ):
            self._run = (snapshot, run[1], run[2] + 1)
            return
        self._copy_run()
        self._run = (snapshot, entry.article, entry.article + 1)

    def _copy_run(self) -> None:
        """Copy the articles taken from a snapshot and not yet copied."""
        if self._run is None:
            return
        snapshot, first, end = self._run
        self._run = None
        arrays = snapshot._arrays
        text_bounds = snapshot._text_bounds
        text_shift = len(self._text) - text_bounds[first]
        self._text += arrays["text"][text_bounds[first] : text_bounds[end]].data
        _extend(self._text_bounds, np.asarray(text_bounds[first + 1 : end + 1]) + text_shift)
        sentences = snapshot._sentence_bounds
        low, high = sentences[first], sentences[end]
        sentence_shift = len(self._starts) - low
        sentence_bounds = snapshot.sentence_bounds[first + 1 : end + 1]
        _extend(self._sentence_bounds, sentence_bounds + sentence_shift)
        _extend(self._starts, arrays["starts"][low:high])
        _extend(self._ends, arrays["ends"][low:high])
        _extend(self._paragraphs, arrays["paragraphs"][low:high])
        bounds = arrays["base_bounds"][low : high + 1]
        terms = arrays["base_terms"][int(bounds[0]) : int(bounds[-1])]
        _extend(self._terms, self._numbers_of(snapshot)[terms])
        _extend(self._lengths, np.diff(bounds))

    def _numbers_of(self, snapshot: CorpusSnapshot) -> np.ndarray:
        """Each of the snapshot's index terms' number here (numbering those new here)."""
        known = self._numbers.get(id(snapshot))
        if known is not None:
            return known[1]
        names = snapshot.index.terms_by_id
        _number_new(self._vocabulary, names)
        numbers = np.fromiter(
            map(self._vocabulary.__getitem__, names), dtype=np.intc, count=len(names)
        )
        self._numbers[id(snapshot)] = (snapshot, numbers)
        return numbers

    def build(self, glossary_text: str) -> CorpusSnapshot:
        """The snapshot of the files added, with the aliases of `glossary_text` (a moderator's
        glossary.txt) beside the shipped ones and those the articles define."""
        self._copy_run()
        self._numbers.clear()
        aliases, _ = parse_glossary(default_glossary())  # a test keeps the shipped one clean
        for record in self._records:
            aliases.update(record.aliases)
        moderator_aliases, _ = parse_glossary(glossary_text)  # its problems: Library's warnings
        aliases.update(moderator_aliases)
        base = np.array(self._terms, dtype=np.int32)
        lengths = np.array(self._lengths, dtype=np.int64)
        self._terms = array("i")  # copied: let go of the buffer
        terms, term_lengths = self._expanded(Tokenizer(aliases), base, lengths)
        index, ids = BM25Index.from_term_ids(terms, term_lengths, list(self._vocabulary))
        del terms
        arrays: dict[str, np.ndarray] = {
            "text": np.frombuffer(self._text, dtype=np.uint8),  # no copy: it is complete
            "text_bounds": np.array(self._text_bounds, dtype=np.int64),
            "sentence_bounds": np.array(self._sentence_bounds, dtype=np.int64),
            "starts": np.array(self._starts, dtype=np.int32),
            "ends": np.array(self._ends, dtype=np.int32),
            "paragraphs": np.array(self._paragraphs, dtype=np.int32),
            # Every base term is an index term: expansion only adds.
            "base_terms": ids[base],
            "base_bounds": np.concatenate((np.zeros(1, dtype=np.int64), np.cumsum(lengths))),
            **index.arrays(),
        }
        entries = tuple(self._entries)
        key = corpus_key(((e.relpath, e.digest) for e in entries), glossary_text)
        return CorpusSnapshot(key, entries, tuple(self._records), aliases, index, arrays)

    def _expanded(
        self, tokenizer: Tokenizer, base: np.ndarray, lengths: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Every sentence's index terms (`tokenizer.expand` of its base terms: each acronym
        the aliases know followed by its phrase's terms), as numbers end to end, and how many
        each sentence has."""
        vocabulary = self._vocabulary
        phrases = {
            vocabulary[acronym]: phrase
            for acronym, phrase in tokenizer.aliases.items()
            if phrase and acronym in vocabulary
        }
        if not phrases:
            return base, lengths
        for phrase in phrases.values():
            _number_new(vocabulary, phrase)
        acronyms = np.fromiter(phrases, dtype=np.int64, count=len(phrases))
        is_acronym = np.zeros(len(vocabulary), dtype=bool)
        is_acronym[acronyms] = True
        found = np.flatnonzero(is_acronym[base])  # where an acronym stands
        if len(found) == 0:
            return base, lengths
        # Each acronym's phrase numbers end to end, where each starts and how many it has.
        sizes = np.zeros(len(vocabulary), dtype=np.int64)
        sizes[acronyms] = [len(phrases[a]) for a in acronyms.tolist()]
        starts = np.zeros(len(vocabulary), dtype=np.int64)
        starts[acronyms] = np.cumsum(sizes[acronyms]) - sizes[acronyms]
        flat = np.fromiter(
            (vocabulary[t] for a in acronyms.tolist() for t in phrases[a]),
            dtype=np.int32,
            count=int(sizes.sum()),
        )
        # Each found acronym's phrase goes in right after it, in order.
        added = sizes[base[found]]
        within = np.arange(int(added.sum())) - np.repeat(np.cumsum(added) - added, added)
        inserted = flat[np.repeat(starts[base[found]], added) + within]
        expanded = np.insert(base, np.repeat(found + 1, added), inserted)
        sentence_of = np.searchsorted(np.cumsum(lengths), found, side="right")
        expanded_lengths = lengths.copy()
        np.add.at(expanded_lengths, sentence_of, added)
        return expanded, expanded_lengths


def _number_new(vocabulary: dict[str, int], terms: Iterable[str]) -> None:
    """Number the terms `vocabulary` lacks, next in the order they come."""
    fresh = [term for term in dict.fromkeys(terms) if term not in vocabulary]
    first = len(vocabulary)
    vocabulary.update(zip(fresh, range(first, first + len(fresh)), strict=True))


def _numbered(entry: FileEntry, article: int) -> FileEntry:
    """The entry, naming article `article` (itself when it already does)."""
    return entry if entry.article == article else dataclasses.replace(entry, article=article)


def _extend(buffer: array[int], values: np.ndarray) -> None:
    """Append an array's values to a buffer of the same kind of integer, in one copy."""
    kind = np.int64 if buffer.typecode == "q" else np.intc
    buffer.frombytes(np.ascontiguousarray(values, dtype=kind).tobytes())


def build_snapshot(
    files: Iterable[tuple[FileEntry, ArticleParts | None]], glossary_text: str
) -> CorpusSnapshot:
    """A snapshot (in memory) of these files, in order, each with the article it gave, if any."""
    builder = SnapshotBuilder()
    for entry, parts in files:
        builder.add(entry, parts)
    return builder.build(glossary_text)


@dataclass(frozen=True, slots=True)
class SnapshotObjects:
    """What a snapshot holds as Python objects rather than arrays: its key, files, articles'
    records, aliases and index terms."""

    key: str
    files: tuple[FileEntry, ...]
    records: tuple[ArticleRecord, ...]
    aliases: dict[str, tuple[str, ...]]
    terms: list[str]


class CorpusSnapshot:
    """Every article of a corpus, its sentences and their terms, and the BM25 index over them,
    as arrays: in memory when just made, or mapped from a file."""

    def __init__(
        self,
        key: str,
        files: tuple[FileEntry, ...],
        records: tuple[ArticleRecord, ...],
        aliases: dict[str, tuple[str, ...]],
        index: BM25Index,
        arrays: Mapping[str, np.ndarray],
        source: Path | None = None,
    ) -> None:
        self.key = key
        self.files = files
        self.records = records
        self.aliases = aliases  # as the Tokenizer is given them
        self.index = index
        self.source = source  # the file it was read from; None when only in memory
        self._arrays = arrays
        # Plain lists of ints where each look-up would otherwise make a numpy scalar.
        self.sentence_bounds: np.ndarray = arrays["sentence_bounds"]
        self._text_bounds = arrays["text_bounds"].tolist()
        self._sentence_bounds = self.sentence_bounds.tolist()
        self._check()

    def _check(self) -> None:
        articles, arrays = len(self.records), self._arrays
        sentences = self._sentence_bounds[-1]
        if (
            len(self._text_bounds) != articles + 1
            or len(self._sentence_bounds) != articles + 1
            or self._text_bounds[-1] != len(arrays["text"])
            or any(len(arrays[n]) != sentences for n in ("starts", "ends", "paragraphs"))
            or len(arrays["base_bounds"]) != sentences + 1
            or int(arrays["base_bounds"][-1]) != len(arrays["base_terms"])
            or self.index.document_count != sentences
            or [r.sentences for r in self.records] != np.diff(self.sentence_bounds).tolist()
            or any(not -1 <= f.article < articles for f in self.files)
        ):
            raise SnapshotDamaged("its parts do not fit together")

    def objects(self) -> SnapshotObjects:
        """Its Python objects, to map it back from its file without making them again."""
        return SnapshotObjects(
            self.key, self.files, self.records, self.aliases, self.index.terms_by_id
        )

    @property
    def paragraph_numbers(self) -> np.ndarray:
        """Each body sentence's paragraph number (1 for its article's first paragraph)."""
        return self._arrays["paragraphs"]

    @property
    def sentence_count(self) -> int:
        """How many body sentences (index documents) the articles have."""
        return int(self._sentence_bounds[-1])

    def article(self, number: int) -> Article:
        """Article `number` (its place in `records`), made whole from the snapshot."""
        record = self.records[number]
        arrays = self._arrays
        text = (
            arrays["text"][self._text_bounds[number] : self._text_bounds[number + 1]]
            .tobytes()
            .decode("utf-8", "surrogatepass")
        )
        first, last = self._sentence_bounds[number], self._sentence_bounds[number + 1]
        paragraphs: list[Paragraph] = []
        sentences: list[Sentence] = []
        spans = zip(
            arrays["starts"][first:last].tolist(),
            arrays["ends"][first:last].tolist(),
            arrays["paragraphs"][first:last].tolist(),
            strict=True,
        )
        for position, (start, end, paragraph) in enumerate(spans):
            if sentences and paragraph != sentences[-1].paragraph:
                paragraphs.append(Paragraph(sentences[-1].paragraph, tuple(sentences)))
                sentences = []
            sentences.append(Sentence(text[start:end], start, end, paragraph, position))
        if sentences:
            paragraphs.append(Paragraph(sentences[-1].paragraph, tuple(sentences)))
        return Article(
            id=record.id,
            path=record.path,
            title=record.title,
            text=text,
            paragraphs=tuple(paragraphs),
            author=record.author,
            source=record.source,
            url=record.url,
            published=record.published,
            editor=record.editor,
            byline=_metadata_sentence(record.byline),
            credits=_metadata_sentence(record.credits),
            dateline=_metadata_sentence(record.dateline),
            front_matter=tuple(
                (key, Sentence(text, start, end, 0, -1))
                for key, text, start, end in record.front_matter
            ),
            content_hash=record.content_hash,
        )

    def reusable(self, relpath: str, digest: str) -> FileEntry | None:
        """What this snapshot made of the file `relpath` with content `digest` (its article,
        if any, for `SnapshotBuilder.take`); None when it did not have that file's content."""
        number = self._file_numbers.get((relpath, digest))
        return None if number is None else self.files[number]

    @cached_property
    def _file_numbers(self) -> dict[tuple[str, str], int]:
        """Each file's place in `files` by path and content digest (made when a snapshot is
        first made from this one, not on every start)."""
        return {(f.relpath, f.digest): n for n, f in enumerate(self.files)}

    # The file ---------------------------------------------------------------------------------

    def write(self, file: BinaryIO) -> None:
        """Write the snapshot in its file format (see the module's docstring)."""
        index = self.index
        meta = {"aliases": self.aliases, "average_length": index.average_length}
        meta.update(k1=index.k1, b=index.b)
        texts = {
            "meta": json.dumps(meta),
            # One line a file, an article, a term: written and read a line at a time, never in
            # one long call that would keep the interpreter from the event loop during a reload.
            "files": _lines([f.relpath, f.digest, _problems(f), f.article] for f in self.files),
            "articles": _lines(r.to_json() for r in self.records),
            "terms": "\n".join(index.terms_by_id),  # terms are words: never a line break
        }
        sections = [
            (name, np.frombuffer(text.encode("utf-8", "surrogatepass"), dtype=np.uint8))
            for name, text in texts.items()
        ]
        sections.extend((name, np.ascontiguousarray(a)) for name, a in self._arrays.items())
        table: list[list[Any]] = []
        offsets: list[int] = []
        offset = 0
        for name, section in sections:
            offset = _aligned(offset)
            offsets.append(offset)
            shape, checksum = list(section.shape), zlib.crc32(section.data.cast("B"))
            table.append([name, section.dtype.str, shape, offset, section.nbytes, checksum])
            offset += section.nbytes
        header = json.dumps(
            {"format": SNAPSHOT_FORMAT, "code": code_version(), "key": self.key, "sections": table}
        ).encode()
        lead = (
            MAGIC + _HEADER_LENGTH.pack(len(header)) + header + _CHECKSUM.pack(zlib.crc32(header))
        )
        file.write(lead)
        start = _aligned(len(lead))
        written = len(lead)
        for (_, section), at in zip(sections, offsets, strict=True):
            file.write(b"\0" * (start + at - written))
            file.write(section.data.cast("B"))
            written = start + at + section.nbytes


def _lines(rows: Iterable[Any]) -> str:
    return "\n".join(json.dumps(row) for row in paced(rows))


def _rows(section: np.ndarray) -> Iterator[Any]:
    text = section.tobytes()
    return (json.loads(line) for line in paced(text.split(b"\n")) if line)


def _problems(entry: FileEntry) -> list[list[Any]]:
    return [[problem.kind, problem.detail, problem.position] for problem in entry.problems]


def _aligned(offset: int) -> int:
    return -(-offset // ALIGNMENT) * ALIGNMENT


@dataclass(frozen=True, slots=True)
class SnapshotHeader:
    """What a snapshot file says of itself: which format and code made it, of which corpus."""

    format: int
    code: str
    key: str

    @property
    def current(self) -> bool:
        """Whether this version of the code made it and can read it."""
        return self.format == SNAPSHOT_FORMAT and self.code == code_version()


def read_header(path: Path) -> SnapshotHeader:
    """The header of a snapshot file (its sections unchecked); SnapshotDamaged if unreadable,
    OSError if the file cannot be opened."""
    with path.open("rb") as file:
        head = file.read(len(MAGIC) + _HEADER_LENGTH.size)
        header = _header(head, lambda size: file.read(size))
    return SnapshotHeader(header["format"], header["code"], header["key"])


def _header(head: bytes, read: Any) -> dict[str, Any]:
    if head[: len(MAGIC)] != MAGIC or len(head) < len(MAGIC) + _HEADER_LENGTH.size:
        raise SnapshotDamaged("not an index snapshot")
    (size,) = _HEADER_LENGTH.unpack_from(head, len(MAGIC))
    if size > 1 << 24:
        raise SnapshotDamaged("its header is too long")
    body = read(size + _CHECKSUM.size)
    if len(body) != size + _CHECKSUM.size:
        raise SnapshotDamaged("it ends inside its header")
    header, (checksum,) = body[:size], _CHECKSUM.unpack_from(body, size)
    if zlib.crc32(header) != checksum:
        raise SnapshotDamaged("its header's checksum is wrong")
    try:
        found = json.loads(header)
    except ValueError as error:
        raise SnapshotDamaged(f"its header is not readable ({error})") from None
    if not isinstance(found, dict) or not {"format", "code", "key", "sections"} <= found.keys():
        raise SnapshotDamaged("its header is not readable")
    return found


def read_snapshot(
    path: Path, key: str | None = None, objects: SnapshotObjects | None = None
) -> CorpusSnapshot:
    """The snapshot in `path`, mapped into memory, every checksum checked first.

    `objects`: those of the snapshot just written to `path`, taken as they are rather than
    read back from the file as new ones (only the arrays are mapped).

    SnapshotDamaged when it is not one this code wrote whole (or not of the corpus `key`);
    OSError when it cannot be opened at all.
    """
    with path.open("rb") as file:
        try:
            mapped = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
        except ValueError:  # an empty file
            raise SnapshotDamaged("it is empty") from None
    view = memoryview(mapped)
    try:
        head_size = len(MAGIC) + _HEADER_LENGTH.size
        at = head_size

        def read(size: int) -> bytes:
            return bytes(view[at : at + size])

        header = _header(bytes(view[:head_size]), read)
        if header["format"] != SNAPSHOT_FORMAT or header["code"] != code_version():
            raise SnapshotDamaged("it was made by another version")
        if key is not None and header["key"] != key:
            raise SnapshotDamaged("it is another corpus's")
        size = _HEADER_LENGTH.unpack_from(view, len(MAGIC))[0]
        start = _aligned(head_size + size + _CHECKSUM.size)
        arrays: dict[str, np.ndarray] = {}
        for name, dtype, shape, offset, length, checksum in header["sections"]:
            begin = start + offset
            if begin + length > len(mapped):
                raise SnapshotDamaged(f"it ends inside its {name} (truncated)")
            if zlib.crc32(view[begin : begin + length]) != checksum:
                raise SnapshotDamaged(f"its {name} checksum is wrong")
            _let_go(mapped, begin, length)
            kind = np.dtype(dtype)
            if kind.hasobject or length != kind.itemsize * int(np.prod(shape)):
                raise SnapshotDamaged(f"its {name} has the wrong size")
            array = np.frombuffer(mapped, dtype=kind, count=length // kind.itemsize, offset=begin)
            arrays[name] = array.reshape(shape)
        meta = json.loads(arrays.pop("meta").tobytes())
        texts = (arrays.pop("terms"), arrays.pop("files"), arrays.pop("articles"))
        if objects is None:
            objects = _objects(header["key"], meta, *texts)
        elif objects.key != header["key"]:
            raise SnapshotDamaged("it is another corpus's")
        index = BM25Index.from_arrays(
            objects.terms,
            {name: arrays[name] for name in ARRAY_NAMES},
            meta["average_length"],
            meta["k1"],
            meta["b"],
        )
        return CorpusSnapshot(
            objects.key, objects.files, objects.records, objects.aliases, index, arrays, path
        )
    except SnapshotDamaged:
        raise
    except (ValueError, KeyError, TypeError, IndexError, struct.error) as error:
        raise SnapshotDamaged(f"it is not readable ({type(error).__name__}: {error})") from None
    finally:
        view.release()


def _let_go(mapped: mmap.mmap, begin: int, length: int) -> None:
    """Drop this process's hold on the pages of a section just checked: they stay in the page
    cache, shared, and come back when used. Checked, every page of the file would otherwise
    count in this process's memory, beside those of the snapshot still serving while a reload
    reads the next one."""
    advice = getattr(mmap, "MADV_DONTNEED", None)
    first = -(-begin // mmap.PAGESIZE) * mmap.PAGESIZE  # whole pages of this section only
    end = (begin + length) // mmap.PAGESIZE * mmap.PAGESIZE
    if advice is not None and end > first:
        mapped.madvise(advice, first, end - first)


def _objects(
    key: str, meta: dict[str, Any], terms: np.ndarray, files: np.ndarray, articles: np.ndarray
) -> SnapshotObjects:
    """A snapshot file's Python objects, from its header's key and its text sections."""
    text = terms.tobytes().decode("utf-8", "surrogatepass")
    return SnapshotObjects(
        key=key,
        files=tuple(
            FileEntry(relpath, digest, tuple(Problem(ProblemKind(k), d, p) for k, d, p in found), n)
            for relpath, digest, found, n in _rows(files)
        ),
        records=tuple(ArticleRecord.from_json(row) for row in _rows(articles)),
        aliases={acronym: tuple(phrase) for acronym, phrase in meta["aliases"].items()},
        terms=text.split("\n") if text else [],
    )


class SnapshotArticles(Sequence[Article]):
    """A snapshot's articles, each made from it when asked for; the ARTICLES_KEPT asked for
    last are kept, with their sentences, so a question's candidates are made once."""

    def __init__(self, snapshot: CorpusSnapshot) -> None:
        self.snapshot = snapshot
        # No reference back to this object: the library frozen out of the garbage collector's
        # sight (gc.freeze) must be freed by reference counting alone when a reload replaces it.
        self._made = lru_cache(maxsize=ARTICLES_KEPT)(partial(_made_from, snapshot))

    def __len__(self) -> int:
        return len(self.snapshot.records)

    @overload
    def __getitem__(self, number: int) -> Article: ...

    @overload
    def __getitem__(self, number: slice) -> list[Article]: ...

    def __getitem__(self, number: int | slice) -> Article | list[Article]:
        if isinstance(number, slice):
            return [self[i] for i in range(len(self))[number]]
        return self._made(_position(number, len(self)))[0]

    def with_sentences(self, number: int) -> tuple[Article, tuple[Sentence, ...]]:
        """Article `number` and its body sentences, made together (`Article.sentences` makes
        its tuple on every call)."""
        return self._made(_position(number, len(self)))

    def __iter__(self) -> Iterator[Article]:
        return (self[i] for i in range(len(self)))


def _made_from(snapshot: CorpusSnapshot, number: int) -> tuple[Article, tuple[Sentence, ...]]:
    article = snapshot.article(number)
    return article, article.sentences


def _position(number: int, length: int) -> int:
    """A sequence position as a list takes it: negative from the end, IndexError outside."""
    if not -length <= number < length:
        raise IndexError("article number out of range")
    return number + length if number < 0 else number
