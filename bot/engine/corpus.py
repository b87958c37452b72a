"""Reading the corpus folder: files in, clean articles with checkable offsets out.

A raw scrape (headline, "By ..." byline, "CITY (Agency) –" dateline, "(Reporting by ...)"
credits, page leftovers) and Markdown with front matter both come out as the same `Article`.
One bad file never takes the others down: it becomes a `LoadWarning` naming the file.

Loading goes through an index snapshot (snapshot.py): every file is read and its content
digested, and when a snapshot of exactly these files is kept (in memory from the last load, or
on disk under DATA_DIR/index) it is used as it is; otherwise one is made, parsing only the files
no earlier snapshot has.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import re
import stat
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bot.engine.errors import CorpusError
from bot.engine.models import Article, LoadWarning, Paragraph, Problem, ProblemKind, Sentence
from bot.engine.pacing import paced
from bot.engine.sentences import split_sentences, trim_span
from bot.engine.snapshot import (
    ArticleParts,
    CorpusSnapshot,
    FileEntry,
    SnapshotArticles,
    SnapshotBuilder,
    SnapshotDamaged,
    corpus_key,
)
from bot.engine.snapshot_store import (
    INDEX_FOLDER,
    SnapshotReport,
    SnapshotState,
    SnapshotStore,
)
from bot.engine.vector_store import VectorStore

log = logging.getLogger(__name__)

ARTICLE_SUFFIXES = frozenset({".txt", ".md", ".markdown"})
GLOSSARY_NAME = "glossary.txt"
# A news article is a few tens of kilobytes; anything this big is a mistake (a dump, a log file)
# and would slow every answer, so it is refused with a message instead of indexed.
MAX_FILE_BYTES = 2_000_000
FRONT_MATTER_KEYS = frozenset({"title", "author", "source", "url", "published", "date", "editor"})
# Where the sentence vectors are kept under DATA_DIR (the index snapshots: INDEX_FOLDER).
VECTORS_FOLDER = "vectors"

_BLOCK = re.compile(r"\S(?:.*\S)?(?:\n[ \t]*\S.*)*", re.MULTILINE)
_BYLINE = re.compile(r"^By\s+(?P<name>[A-Z][^\n]{1,80}?)\s*$")
_CREDITS = re.compile(
    r"^\(?\s*(?:(?:Additional\s+)?Reporting|Writing|Editing|Reported|Written|Compiled|Edited)"
    r"\s+by\b[^\n]*?\)?\s*$",
    re.IGNORECASE,
)
_CREDIT_PART = re.compile(
    r"(?P<role>Reporting|Writing|Editing|Reported|Written|Edited)\s+by\s+"
    r"(?P<names>[^;()]+)",
    re.IGNORECASE,
)
# "UNITED NATIONS (Reuters) –", "LONDON, March 3 (AP) -", "GHENT, Belgium (AP) —",
# "PORTLAND, Ore., Jan. 5 (AP) —": an upper-case place, an optional region and date, an
# optional agency, then a dash.
_DATELINE = re.compile(
    r"^(?P<place>[A-Z][A-Z .'’/-]{1,60}?)"
    r"(?:,\s*[A-Z][A-Za-z.]+(?:\s+[A-Z][A-Za-z.]+){0,2}?)?"
    r"(?:,\s*[A-Z][a-z]{2,8}\.?\s+\d{1,2})?\s*"
    r"(?:\((?P<agency>[A-Za-z][A-Za-z .&-]{0,30})\)\s*)?[-–—]{1,2}\s+"
)
_LEFTOVER = re.compile(
    r"^(?:leave a (?:comment|reply)|\d*\s*comments?|share(?: this)?(?: article| story| on \w+)?"
    r"|advertisement|read more\b.*|related (?:coverage|stories|articles|content)\b.*"
    r"|our standards:.*|sign up\b.*|subscribe\b.*|click here\b.*|follow us\b.*"
    r"|all rights reserved\.?|copyright\b.*|©.*|photo:.*|image:.*|skip to (?:main )?content"
    r"|print|email|tweet|whatsapp|facebook)$",
    re.IGNORECASE,
)
# A one-line first paragraph ending in a full stop is a headline only when it is this short;
# longer, it is the story's opening sentence.
HEADLINE_MAX_WORDS_WITH_PERIOD = 8
_SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]*$")
# Control characters other than tabs, line ends and form feeds: many of them mean a binary file.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f]")


@dataclass(frozen=True)
class Corpus:
    """Every article that loaded, and what the moderator should know about the rest."""

    root: Path
    # Made from the snapshot when asked for (SnapshotArticles), or a tuple given whole.
    articles: Sequence[Article]
    warnings: tuple[LoadWarning, ...]
    glossary_text: str = ""
    # The cache the corpus was read through: the next load of the folder starts from it.
    cache: ArticleCache | None = field(default=None, compare=False, repr=False)
    # The index snapshot the articles come from, and how it came to be (read back or made).
    snapshot: CorpusSnapshot | None = field(default=None, compare=False, repr=False)
    report: SnapshotReport | None = field(default=None, compare=False)


@dataclass
class ArticleCache:
    """What one load of a corpus folder leaves for the next: its index snapshot (a reload takes
    the unchanged files' articles from it rather than parsing them again), where snapshots and
    sentence vectors are kept on disk (so a restart does the same), and the vectors made.
    """

    snapshot: CorpusSnapshot | None = None
    store: SnapshotStore | None = field(default=None, compare=False)
    # Each article's sentence vectors, made when a question first reaches it or ahead of
    # questions (library.py), and read back from `vector_store` when one is given.
    vectors: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    vector_store: VectorStore | None = field(default=None, compare=False)

    @classmethod
    def kept_in(cls, data_dir: Path) -> ArticleCache:
        """A cache whose snapshots and sentence vectors are kept under `data_dir`, where every
        process of the machine given the same folder finds them."""
        data_dir = Path(data_dir)
        return cls(
            store=SnapshotStore(data_dir / INDEX_FOLDER),
            vector_store=VectorStore(data_dir / VECTORS_FOLDER),
        )

    def keep_only(self, digests: Mapping[str, str]) -> None:
        """Forget the vectors of files that are gone (`digests`: each file's content digest by
        its path), so the cache never outgrows the corpus."""
        for key in [key for key in self.vectors if digests.get(key[0]) != key[1]]:
            del self.vectors[key]


class _Files:
    """The files of the folder as they were read, in order: each one's path in the folder, its
    path on disk, its content digest (None when it could not be read) and the warnings reading
    it gave.

    A list for each of these rather than an object for each file: a reload holds tens of
    thousands of files while it runs beside the answers, and every full garbage collection
    walks each object (holding the interpreter lock), where a list of strings costs it next to
    nothing."""

    def __init__(self, listed: list[tuple[str, str]]) -> None:
        self.relpaths = [relpath for relpath, _ in listed]
        self.paths = [path for _, path in listed]
        self.digests: list[str | None] = [None] * len(listed)
        self.warnings: dict[int, list[LoadWarning]] = {}  # by file number, for those with any

    def __len__(self) -> int:
        return len(self.relpaths)

    def read(self, number: int) -> bytes | None:
        """File `number`'s bytes, its digest noted (None, and a warning, if it cannot be read)."""
        found: list[LoadWarning] = []
        raw = _read(self.paths[number], self.relpaths[number], found)
        if found:
            self.warnings.setdefault(number, []).extend(found)
        self.digests[number] = None if raw is None else _digest(raw)
        return raw

    def readable(self) -> Iterator[tuple[str, str]]:
        """The path and content digest of every file that could be read, in order."""
        pairs = zip(self.relpaths, self.digests, strict=True)
        return ((relpath, digest) for relpath, digest in pairs if digest is not None)


@dataclass(frozen=True)
class _Previous:
    """What a load may take articles from, and why it would make a new snapshot: the last
    load's snapshot (STALE), the newest kept on disk (STALE), or none (BUILT, OTHER_VERSION,
    DAMAGED with what was wrong)."""

    snapshot: CorpusSnapshot | None
    state: SnapshotState
    detail: str = ""


def load_corpus(
    root: Path,
    cache: ArticleCache | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Corpus:
    """Read every article file under `root`; raise CorpusError when none is usable.

    `progress(done, total)` hears how many of the files are read, after each one.
    """
    root = Path(root)
    if not root.exists():
        raise CorpusError(ProblemKind.FOLDER_MISSING, str(root))
    if not root.is_dir():
        raise CorpusError(ProblemKind.NOT_A_FOLDER, str(root))
    cache = cache if cache is not None else ArticleCache()
    resolved = root.resolve()
    warnings: list[LoadWarning] = []
    listed, glossary_text = _list_files(resolved, warnings)
    files, snapshot, report = _indexed(resolved, listed, glossary_text, cache, progress)
    problems = {(e.relpath, e.digest): e.problems for e in snapshot.files if e.problems}
    for number, (relpath, digest) in enumerate(zip(files.relpaths, files.digests, strict=True)):
        warnings.extend(files.warnings.get(number, ()))
        if digest is not None:
            warnings.extend(LoadWarning(relpath, p) for p in problems.get((relpath, digest), ()))
    if not snapshot.records:
        raise CorpusError(ProblemKind.NOTHING_USABLE, str(root), tuple(warnings))
    cache.snapshot = snapshot
    cache.keep_only(dict(files.readable()))
    articles = SnapshotArticles(snapshot)
    return Corpus(root, articles, tuple(warnings), glossary_text, cache, snapshot, report)


def _previous(root: Path, cache: ArticleCache) -> _Previous:
    """What the load of `root` may take unchanged articles from."""
    if cache.snapshot is not None:
        return _Previous(cache.snapshot, SnapshotState.STALE)
    if cache.store is None:
        return _Previous(None, SnapshotState.BUILT)
    return _Previous(*cache.store.previous(root))


def _read_files(
    listed: list[tuple[str, str]],
    glossary_text: str,
    one_pass: bool,
    progress: Callable[[int, int], None] | None,
) -> tuple[_Files, CorpusSnapshot | None]:
    """Read and digest every file; in `one_pass`, parse each as it is read, and make the
    snapshot of them all."""
    files = _Files(listed)
    building = SnapshotBuilder() if one_pass else None
    # Paced: a reload reads here in a worker thread while the bot answers.
    for number in paced(range(len(files))):
        raw = files.read(number)
        digest = files.digests[number]
        if building is not None and raw is not None and digest is not None:
            building.add(*_parsed(files.relpaths[number], raw, digest))
        if progress is not None:
            progress(number + 1, len(files))
    return files, None if building is None else building.build(glossary_text)


def _indexed(
    root: Path,
    listed: list[tuple[str, str]],
    glossary_text: str,
    cache: ArticleCache,
    progress: Callable[[int, int], None] | None,
) -> tuple[_Files, CorpusSnapshot, SnapshotReport]:
    """Read the files and find their snapshot: the last load's, or one kept under their key,
    when either is of exactly these files (FRESH); else make one, from the newest snapshot
    kept of the folder and the files it lacks, and keep it. The files as read, the snapshot,
    and how it came to be."""
    store = cache.store
    previous = _previous(root, cache)
    # With nothing to take them from, every file is parsed as it is read, in one pass, as a
    # load always did; otherwise they are only digested here, and parsed below if need be.
    one_pass = previous.snapshot is None
    files, made = _read_files(listed, glossary_text, one_pass, progress)
    key = corpus_key(files.readable(), glossary_text)
    count = sum(1 for digest in files.digests if digest is not None)
    stored = store is not None
    if previous.snapshot is not None and previous.snapshot.key == key:
        kept = str(previous.snapshot.source or "")
        report = SnapshotReport(SnapshotState.FRESH, count, 0, kept=kept, stored=stored)
        return files, previous.snapshot, report
    state, detail = previous.state, previous.detail
    if store is not None:
        found, damage = store.find(root, key)
        if found is not None:
            report = SnapshotReport(SnapshotState.FRESH, count, 0, kept=str(found.source))
            return files, found, dataclasses.replace(report, stored=True)
        if damage:
            state, detail = SnapshotState.DAMAGED, damage
    parsed = count
    if made is None:
        made, parsed = _made_from(previous.snapshot, files, glossary_text)
    kept, not_kept = "", ""
    if store is not None and made.records:
        try:
            path = store.write(root, made)
        except OSError as error:
            # The bot answers from the snapshot in memory; the next start makes it again.
            not_kept = str(error)
            log.warning("the index of %s cannot be kept in %s: %s", root, store.folder, error)
        else:
            # Mapped back, its arrays' pages the file's: the arrays made in memory go first
            # (this is their only reference), so the two are never in memory together. Its
            # Python objects stay as they are: read back, they would be made again, a few for
            # each article, for the garbage collector to walk while the bot answers.
            objects = made.objects()
            del made
            try:
                made = store.read(path, objects)
                kept = str(path)
            except (OSError, SnapshotDamaged) as error:
                # Gone or damaged already (a failing disk, or another process): made again,
                # in memory only.
                not_kept = str(error)
                log.warning("the index kept in %s cannot be read back: %s", path, error)
                made, _ = _made_from(previous.snapshot, files, glossary_text)
    return files, made, SnapshotReport(state, count, parsed, detail, kept, not_kept, stored)


def _parsed(relpath: str, raw: bytes, digest: str) -> tuple[FileEntry, ArticleParts | None]:
    """A file parsed and tokenized, as a snapshot takes it in."""
    article, problems = _parse_safely(relpath, raw, digest)
    parts = ArticleParts.of(article) if article is not None else None
    return FileEntry(relpath, digest, problems), parts


def _digest(raw: bytes) -> str:
    return hashlib.blake2b(raw, digest_size=16).hexdigest()


def _made_from(
    previous: CorpusSnapshot | None, files: _Files, glossary_text: str
) -> tuple[CorpusSnapshot, int]:
    """A snapshot of the readable files, each file's article taken from `previous` when it has
    the same path and content there, else read again, parsed and tokenized; and how many were
    parsed."""
    building = SnapshotBuilder()
    parsed = 0
    # Paced: a reload parses here in a worker thread while the bot answers.
    for number in paced(range(len(files))):
        relpath, digest = files.relpaths[number], files.digests[number]
        if digest is None:
            continue
        kept = previous.reusable(relpath, digest) if previous is not None else None
        if previous is not None and kept is not None:
            building.take(previous, kept)
            continue
        # Read again, not kept from the first read: a start from a snapshot parses nothing,
        # and a large corpus's text need not sit in memory meanwhile.
        raw = files.read(number)
        digest = files.digests[number]
        if raw is None or digest is None:
            continue
        building.add(*_parsed(relpath, raw, digest))
        parsed += 1
    return building.build(glossary_text), parsed


def _list_files(root: Path, warnings: list[LoadWarning]) -> tuple[list[tuple[str, str]], str]:
    # Plain strings, not Path objects: a reload lists every file again, and on a corpus of
    # tens of thousands of files pathlib's overhead alone took half a second.
    files: list[tuple[str, str]] = []
    glossary_text = ""
    for folder, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        inner = os.path.relpath(folder, root)
        prefix = "" if inner == os.curdir else inner.replace(os.sep, "/") + "/"
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            path = os.path.join(folder, name)
            relpath = prefix + name
            if relpath == GLOSSARY_NAME:
                glossary_text = _read_glossary(path, warnings)
                continue
            if os.path.splitext(name)[1].lower() not in ARTICLE_SUFFIXES:
                continue
            if os.path.islink(path) and not _inside(Path(path), root):
                warnings.append(LoadWarning(relpath, Problem(ProblemKind.LINK_OUTSIDE)))
                continue
            files.append((relpath, path))
    return files, glossary_text


def _inside(path: Path, root: Path) -> bool:
    try:
        return path.resolve().is_relative_to(root)
    except (OSError, RuntimeError):  # a broken link, or a loop (RuntimeError before 3.13)
        return False


def _read_glossary(path: str, warnings: list[LoadWarning]) -> str:
    raw = _read(path, GLOSSARY_NAME, warnings)
    return "" if raw is None else raw.decode("utf-8", errors="replace")


def _read(path: str, relpath: str, warnings: list[LoadWarning]) -> bytes | None:
    try:
        # Non-blocking open: a named pipe called "x.txt" would otherwise wait for a writer
        # forever. Only regular files are read; the check is on what was opened, not the name.
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(descriptor, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                warnings.append(LoadWarning(relpath, Problem(ProblemKind.NOT_REGULAR_FILE)))
                return None
            raw = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        warnings.append(LoadWarning(relpath, Problem(ProblemKind.DISAPPEARED)))
        return None
    except PermissionError:
        warnings.append(LoadWarning(relpath, Problem(ProblemKind.PERMISSION_DENIED)))
        return None
    except OSError as error:
        reason = str(error.strerror or error)
        warnings.append(LoadWarning(relpath, Problem(ProblemKind.UNREADABLE, reason)))
        return None
    if len(raw) > MAX_FILE_BYTES:
        limit = Problem(ProblemKind.TOO_LARGE, position=MAX_FILE_BYTES // 1_000_000)
        warnings.append(LoadWarning(relpath, limit))
        return None
    return raw


def _parse_safely(
    relpath: str, raw: bytes, digest: str
) -> tuple[Article | None, tuple[Problem, ...]]:
    problems: list[Problem] = []
    try:
        article = parse_article(relpath, raw, problems, digest)
    except Exception:  # a parser bug must not take the other files down
        log.exception("could not parse %s", relpath)
        return None, (*problems, Problem(ProblemKind.PARSE_FAILED))
    return article, tuple(problems)


def decode(raw: bytes, problems: list[Problem]) -> str | None:
    """UTF-8 (with or without BOM); otherwise Windows-1252 with a warning; None if binary."""
    if b"\x00" in raw[:8192]:
        problems.append(Problem(ProblemKind.BINARY))
        return None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        byte = f"0x{raw[error.start]:02x}"
        problems.append(Problem(ProblemKind.NOT_UTF8, byte, error.start))
        text = raw.decode("cp1252", errors="replace")
    control = len(_CONTROL.findall(text, 0, 8192))
    if control > max(8, len(text[:8192]) // 50):
        problems.append(Problem(ProblemKind.BINARY))
        return None
    return text


def _blocks(text: str, start: int) -> list[tuple[int, int]]:
    """Spans of paragraphs: runs of non-blank lines."""
    return [(m.start(), m.end()) for m in _BLOCK.finditer(text, start)]


def parse_article(
    relpath: str, raw: bytes, problems: list[Problem] | None = None, digest: str = ""
) -> Article | None:
    """Turn one file's bytes into an Article; problems collects what the moderator should know."""
    problems = problems if problems is not None else []
    text = decode(raw, problems)
    if text is None:
        return None
    # Windows line ends would hide blank lines from the paragraph pattern; offsets must stay
    # valid, so "\r" is swapped for a space of the same length rather than removed.
    scan = text.replace("\r", " ")
    meta: dict[str, Sentence] = {}
    body_start = _front_matter(scan, meta, problems)
    blocks = _blocks(scan, body_start)
    title = meta["title"].text if "title" in meta else None
    byline = meta.get("author")
    credits: Sentence | None = None
    dateline: Sentence | None = None
    source = meta["source"].text if "source" in meta else None
    editor = meta["editor"].text if "editor" in meta else None
    author = byline.text if byline else None

    body: list[tuple[int, int]] = []
    for index, (a, b) in enumerate(blocks):
        block = scan[a:b]
        first_line_end = scan.find("\n", a, b)
        if index == 0 and title is None:
            if block.startswith("# "):
                title = block[2:].split("\n", 1)[0].strip()
                a = first_line_end + 1 if first_line_end != -1 else b
            elif _looks_like_headline(
                scan,
                a,
                b if first_line_end == -1 else first_line_end,
                more=len(blocks) > 1 or first_line_end != -1,
            ):
                title = scan[a : b if first_line_end == -1 else first_line_end].strip()
                a = first_line_end + 1 if first_line_end != -1 else b
            a, b = trim_span(scan, a, b)
            if a >= b:
                continue
            block = scan[a:b]
        if byline is None and not body and (match := _BYLINE.match(block)):
            byline = Sentence(block, a, b, 0, -1)
            author = match.group("name").strip()
            continue
        if _CREDITS.match(block) and "\n" not in block:
            credits = Sentence(block, a, b, 0, -1)
            for part in _CREDIT_PART.finditer(block):
                names = part.group("names").strip().rstrip(")").strip()
                if part.group("role").lower().startswith("edit"):
                    editor = editor or names
                else:
                    author = author or names
            continue
        if _LEFTOVER.match(block.strip()) or block.startswith(("#", "![", "---", "***")):
            continue
        if not body and (match := _DATELINE.match(block)) and _dateline_is_place(match):
            place = block[: match.end()].rstrip(" -–—")
            dateline = Sentence(place, a, a + len(place), 0, -1)
            source = source or (match.group("agency") or None)
            a += match.end()
        body.append((a, b))

    # Page leftovers after the story: short fragments that are not sentences.
    while body and _is_trailing_fragment(scan[body[-1][0] : body[-1][1]]):
        body.pop()
    paragraphs: list[Paragraph] = []
    position = 0
    for a, b in body:
        spans = split_sentences(scan, a, b)
        if not spans:
            continue
        number = len(paragraphs) + 1
        sentences = []
        for s, e in spans:
            sentences.append(Sentence(text[s:e], s, e, number, position))
            position += 1
        paragraphs.append(Paragraph(number, tuple(sentences)))
    if not paragraphs:
        problems.append(Problem(ProblemKind.NO_TEXT))
        return None
    path = Path(relpath)
    article_id = path.with_suffix("").as_posix()
    return Article(
        id=article_id,
        path=relpath,
        title=title or path.stem.replace("-", " ").replace("_", " ").strip().capitalize(),
        text=text,
        paragraphs=tuple(paragraphs),
        author=author,
        source=source,
        url=meta["url"].text if "url" in meta else None,
        published=next((meta[k].text for k in ("published", "date") if k in meta), None),
        editor=editor,
        byline=byline,
        credits=credits,
        dateline=dateline,
        content_hash=digest,
        front_matter=tuple(meta.items()),
    )


def _looks_like_headline(text: str, a: int, b: int, more: bool) -> bool:
    """A short first line before the body; headlines may ask ("Could Yukos be a blessing?")."""
    line = text[a:b].strip()
    if not more or not 0 < len(line) <= 200:
        return False
    return not line.endswith(".") or len(line.split()) <= HEADLINE_MAX_WORDS_WITH_PERIOD


def _dateline_is_place(match: re.Match[str]) -> bool:
    """An upper-case place name, not the first words of a shouted sentence."""
    place = match.group("place").strip(" ,")
    return bool(match.group("agency")) or len(place.split()) <= 4


def _is_trailing_fragment(block: str) -> bool:
    return len(block.split()) <= 4 and not _SENTENCE_END.search(block.strip())


def _front_matter(text: str, meta: dict[str, Sentence], problems: list[Problem]) -> int:
    """Parse a leading `---` block into meta (values keep their offsets); return body start."""
    lead = len(text) - len(text.lstrip())
    if not text.startswith("---", lead) or text[lead + 3 : lead + 4] not in ("\n", " ", ""):
        return 0
    first_line_end = text.find("\n", lead)
    if first_line_end == -1:
        return 0
    close = re.compile(r"^(?:---|\.\.\.)[ \t]*$", re.MULTILINE).search(text, first_line_end + 1)
    if close is None:
        problems.append(Problem(ProblemKind.FRONT_MATTER_UNCLOSED))
        return 0
    for line in re.finditer(r"^.*$", text[: close.start()], re.MULTILINE):
        if line.start() <= first_line_end:
            continue
        content = line.group().strip()
        if not content or content.startswith("#"):
            continue
        key, sep, _value = content.partition(":")
        key = key.strip().lower()
        if not sep or not key.replace("_", "").isalnum():
            problems.append(Problem(ProblemKind.FRONT_MATTER_LINE, content[:60]))
            continue
        if key not in FRONT_MATTER_KEYS:
            continue
        value_start = line.start() + line.group().index(":") + 1
        value_end = line.end()
        value_start, value_end = trim_span(text, value_start, value_end)
        if (
            value_end - value_start >= 2
            and text[value_start] in "\"'"
            and text[value_end - 1] == text[value_start]
        ):
            value_start, value_end = value_start + 1, value_end - 1
        if value_start < value_end:
            meta[key] = Sentence(text[value_start:value_end], value_start, value_end, 0, -1)
    return close.end()
