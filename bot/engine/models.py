"""The small frozen dataclasses that flow from the engine to the templates and front doors."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

# The shelves an article can stand on: the corpus folder every server sees, or one server's own
# (articles its moderators added from Discord).
SHARED_SHELF = "shared"
SERVER_SHELF = "server"


@dataclass(frozen=True, slots=True)
class Sentence:
    """One sentence of an article, with where it sits in the file's decoded text."""

    text: str
    start: int
    end: int
    paragraph: int  # 1-based paragraph number within the article body
    position: int  # 0-based index of the sentence within the whole article


@dataclass(frozen=True, slots=True)
class Paragraph:
    """A block of text between blank lines, split into sentences."""

    number: int
    sentences: tuple[Sentence, ...]


@dataclass(frozen=True, slots=True)
class Article:
    """A cleaned article: body paragraphs plus the metadata its file carried."""

    id: str  # path relative to the corpus folder, without extension, "/"-separated
    path: str  # path relative to the corpus folder, as it is on disk
    title: str
    text: str  # the file's whole decoded text: every offset points into it
    paragraphs: tuple[Paragraph, ...]
    author: str | None = None
    source: str | None = None
    url: str | None = None
    published: str | None = None
    editor: str | None = None
    byline: Sentence | None = None  # the "By ..." line, quotable for "who wrote it"
    credits: Sentence | None = None  # the "(Reporting by ...; Editing by ...)" line
    dateline: Sentence | None = None  # "UNITED NATIONS (Reuters)", cut from the first sentence
    front_matter: tuple[tuple[str, Sentence], ...] = ()  # Markdown "key: value" lines, quotable
    content_hash: str = ""

    def field_line(self, key: str) -> Sentence | None:
        """The front-matter value for `key`, with its offsets, if the file has one."""
        return next((line for name, line in self.front_matter if name == key), None)

    @property
    def sentences(self) -> tuple[Sentence, ...]:
        """Every body sentence in article order."""
        return tuple(s for p in self.paragraphs for s in p.sentences)


class ProblemKind(StrEnum):
    """What can be wrong with the corpus; prompts/load_warning.j2 and corpus_error.j2 say it."""

    NOT_REGULAR_FILE = "not_regular_file"
    DISAPPEARED = "disappeared"
    PERMISSION_DENIED = "permission_denied"
    UNREADABLE = "unreadable"  # detail: the system's reason
    TOO_LARGE = "too_large"  # position: the limit in MB
    LINK_OUTSIDE = "link_outside"
    BINARY = "binary"
    NOT_UTF8 = "not_utf8"  # detail: the first bad byte; position: its offset
    NO_TEXT = "no_text"
    FRONT_MATTER_UNCLOSED = "front_matter_unclosed"
    FRONT_MATTER_LINE = "front_matter_line"  # detail: the line
    PARSE_FAILED = "parse_failed"
    GLOSSARY_NOT_AN_ALIAS = "glossary_not_an_alias"  # detail: the line; position: its number
    GLOSSARY_LONG_SIDES = "glossary_long_sides"  # position: the line number
    GLOSSARY_NOTHING_TO_MATCH = "glossary_nothing_to_match"  # detail: the line; position
    FOLDER_MISSING = "folder_missing"
    NOT_A_FOLDER = "not_a_folder"
    NOTHING_USABLE = "nothing_usable"


@dataclass(frozen=True, slots=True)
class Problem:
    """What is wrong, by kind, with the one value its message shows."""

    kind: ProblemKind
    detail: str = ""
    position: int = 0


@dataclass(frozen=True, slots=True)
class LoadWarning:
    """Something a moderator should know about one file; never fatal for the others."""

    path: str
    problem: Problem


@dataclass(frozen=True, slots=True)
class Citation:
    """A verbatim quote and exactly where it comes from."""

    n: int
    article_id: str
    article_title: str
    paragraph: int
    quote: str
    path: str
    start: int
    end: int
    part: str = "body"  # "body", "byline", "credits", "dateline" or "front matter"
    # The words of the quote that answer the question, as offsets into `quote`, when the reader
    # pointed at some narrower than the whole quote.
    answer: tuple[int, int] | None = None
    shelf: str = SHARED_SHELF  # or SERVER_SHELF: a server's own article
    version: str = ""  # the article's content hash: which text of it was quoted


@dataclass(frozen=True, slots=True)
class Reply:
    """What the bot says: the final rendered message and the citations it rests on."""

    text: str
    answered: bool
    citations: tuple[Citation, ...] = ()
    kind: str = "answer"  # "answer", "no_answer", "summary", "error"


@dataclass(frozen=True, slots=True)
class FollowUp:
    """The exchange a follow-up question follows: the question asked just before, and the
    citations the reply to it gave (none when it was declined)."""

    question: str
    citations: tuple[Citation, ...] = ()

    @classmethod
    def after(cls, question: str, reply: Reply) -> FollowUp:
        """What a question asked after `question` (answered with `reply`) follows."""
        return cls(question, reply.citations if reply.answered else ())


@dataclass(frozen=True, slots=True)
class ArticleInfo:
    """A line of the article list, for `/sources`, `articlebot list` and autocomplete."""

    id: str
    title: str
    published: str | None
    author: str | None
    source: str | None
    paragraphs: int
    sentences: int
    shelf: str = SHARED_SHELF  # or SERVER_SHELF: a server's own article


@dataclass(frozen=True, slots=True)
class ReloadReport:
    """What changed between two loads of the corpus."""

    added: tuple[str, ...]
    removed: tuple[str, ...]
    changed: tuple[str, ...]
    articles: int
    sentences: int
    seconds: float
    warnings: tuple[LoadWarning, ...] = field(default=())
    text: str = ""
