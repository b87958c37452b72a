"""One server's own shelf: the articles its moderators gave the bot, as files in a folder of the
server's own, read by the corpus loader's rules and written so that a crash leaves each file
whole or absent, never half written.

The folder holds the articles under `server/`, so their ids read `server/<name>` beside the
shared shelf's. A file is written under a temporary name starting with a dot (which the loader
skips), flushed to disk, then renamed over its final name in one step.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import secrets
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from bot.engine.corpus import ARTICLE_SUFFIXES, MAX_FILE_BYTES, ArticleCache, parse_article
from bot.engine.engine import Engine
from bot.engine.errors import CorpusError
from bot.engine.models import SERVER_SHELF, Article, Problem, ProblemKind
from bot.engine.snapshot import fingerprint
from bot.engine.templates import Prompts

log = logging.getLogger(__name__)

# Every file is stored under this suffix, whatever it was sent as: the loader reads .txt and
# .md alike, and one name per article means a replaced article never stands twice.
STORED_SUFFIX = ".md"
# What a file being written is called until it is whole: hidden from the loader by the dot.
TEMPORARY_PREFIX = ".adding-"
# Article names stay short enough to be Discord choice values and button ids.
MAX_NAME_CHARS = 60
# A headline typed into the paste form; a longer one is a paragraph pasted in the wrong box.
MAX_TITLE_CHARS = 200
# Problems the loader reports that still leave a usable article: told to the moderator.
_NOTES = frozenset(
    {ProblemKind.NOT_UTF8, ProblemKind.FRONT_MATTER_UNCLOSED, ProblemKind.FRONT_MATTER_LINE}
)


class Refusal(StrEnum):
    """Why an article was not added or removed; prompts/discord_article_refused.j2 says it."""

    NOT_TEXT = "not_text"  # detail: the file name, or the type it was sent as
    TOO_LARGE = "too_large"  # limit: the most bytes a file may have
    EMPTY = "empty"
    BINARY = "binary"
    NO_TEXT = "no_text"  # only a headline, boilerplate or page leftovers
    DUPLICATE = "duplicate"  # detail: the id of the article with the same text
    SHELF_FULL = "shelf_full"  # limit: the most articles a server may add
    TOO_MANY_ADDS = "too_many_adds"  # limit: the most adds a server may make in a minute
    UNKNOWN_ARTICLE = "unknown_article"  # detail: the id asked for
    UNREADABLE = "unreadable"  # the file could not be fetched; detail: its name
    NOT_SAVED = "not_saved"  # the disk or the database failed; detail: the problem's kind


class ShelfRefused(Exception):
    """A change to a shelf that was refused; the shelf is as it was."""

    def __init__(self, reason: Refusal, detail: str = "", limit: int = 0) -> None:
        super().__init__(reason, detail, limit)
        self.reason = reason
        self.detail = detail
        self.limit = limit

    def __str__(self) -> str:
        return f"{self.reason}: {self.detail}" if self.detail else str(self.reason)


@dataclass(frozen=True)
class Submission:
    """An article a moderator gave, read and found usable: its name on the shelf, the bytes to
    store, the article the loader will make of them, and what to tell the moderator."""

    name: str  # the file name on the shelf, without suffix
    raw: bytes
    article: Article
    notes: tuple[Problem, ...]  # loader warnings that did not stop it (not UTF-8...)

    @property
    def article_id(self) -> str:
        """The id the article has on the shelf."""
        return f"{SERVER_SHELF}/{self.name}"

    @property
    def fingerprint(self) -> str:
        """What another article with the same text shares with it."""
        return fingerprint(self.article)


def read_submission(file_name: str, raw: bytes) -> Submission:
    """Read a file as the corpus loader would (encoding, size, boilerplate, front matter);
    ShelfRefused says why it cannot be an article."""
    suffix = os.path.splitext(file_name)[1].lower()
    if suffix not in ARTICLE_SUFFIXES:
        raise ShelfRefused(Refusal.NOT_TEXT, file_name)
    if len(raw) > MAX_FILE_BYTES:
        raise ShelfRefused(Refusal.TOO_LARGE, file_name, MAX_FILE_BYTES)
    if not raw.strip(b" \t\r\n\f\v\xef\xbb\xbf"):  # nothing, or only spaces and a BOM
        raise ShelfRefused(Refusal.EMPTY, file_name)
    problems: list[Problem] = []
    digest = hashlib.blake2b(raw, digest_size=16).hexdigest()
    article = parse_article(file_name, raw, problems, digest)
    kinds = {problem.kind for problem in problems}
    if ProblemKind.BINARY in kinds:
        raise ShelfRefused(Refusal.BINARY, file_name)
    if article is None:
        raise ShelfRefused(Refusal.NO_TEXT, file_name)
    notes = tuple(problem for problem in problems if problem.kind in _NOTES)
    return Submission(article_name(article.title), raw, article, notes)


def pasted_article(title: str, body: str) -> bytes:
    """What a pasted headline and text are stored as: Markdown with the title in front matter."""
    headline = " ".join(title.split())[:MAX_TITLE_CHARS]
    text = body.replace("\r\n", "\n").strip()
    return f"---\ntitle: {headline}\n---\n\n{text}\n".encode() if headline else text.encode()


def article_name(title: str) -> str:
    """A file name for an article, from its title: lower-case ASCII words joined by hyphens,
    at most MAX_NAME_CHARS; a title with no such words is named by a hash of it."""
    plain = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    name = ""
    for word in re.findall(r"[a-z0-9]+", plain.lower()):
        longer = f"{name}-{word}" if name else word
        if len(longer) > MAX_NAME_CHARS:
            break
        name = longer
    if name:
        return name
    return "article-" + hashlib.blake2b(title.encode(), digest_size=4).hexdigest()


class Shelf:
    """One server's own articles, in `folder/server/`: what is there, storing, removing, and
    loading them as an engine."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.articles_folder = self.folder / SERVER_SHELF

    def names(self) -> list[str]:
        """The articles' file names on the shelf, without suffix, sorted."""
        if not self.articles_folder.is_dir():
            return []
        return sorted(
            path.stem
            for path in self.articles_folder.iterdir()
            if path.suffix == STORED_SUFFIX and not path.name.startswith(".") and path.is_file()
        )

    def path_of(self, article_id: str) -> Path | None:
        """The file of the article with this id, if it is on the shelf."""
        prefix = f"{SERVER_SHELF}/"
        name = article_id.removeprefix(prefix)
        if not article_id.startswith(prefix) or name not in self.names():
            return None
        return self.articles_folder / f"{name}{STORED_SUFFIX}"

    def leftovers(self) -> list[Path]:
        """Temporary files an add that never finished left behind (the loader skips them)."""
        if not self.articles_folder.is_dir():
            return []
        return sorted(self.articles_folder.glob(f"{TEMPORARY_PREFIX}*"))

    def added_at(self, article_id: str) -> float | None:
        """When the article's file was last written (added or replaced), if it is there."""
        path = self.path_of(article_id)
        try:
            return path.stat().st_mtime if path is not None else None
        except OSError:
            return None

    def store(self, name: str, raw: bytes) -> Path:
        """Write an article's file under `name`, replacing one of the same name, all at once:
        a crash leaves the shelf as it was or with the whole article."""
        self.articles_folder.mkdir(parents=True, exist_ok=True)
        final = self.articles_folder / f"{name}{STORED_SUFFIX}"
        temporary = self.articles_folder / f"{TEMPORARY_PREFIX}{secrets.token_hex(8)}"
        try:
            with open(temporary, "xb") as handle:
                handle.write(raw)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, final)
        except BaseException:
            with contextlib.suppress(OSError):
                temporary.unlink()
            raise
        _sync_folder(self.articles_folder)
        return final

    def discard(self, article_id: str) -> bool:
        """Delete the article with this id; False when it is not on the shelf."""
        path = self.path_of(article_id)
        if path is None:
            return False
        path.unlink()
        _sync_folder(self.articles_folder)
        return True

    def load(self, prompts: Prompts, cache: ArticleCache | None = None) -> Engine | None:
        """The shelf's articles as an engine, or None when it holds none that load."""
        if not self.names():
            return None
        try:
            return Engine.load(self.folder, prompts, cache, shelf=SERVER_SHELF)
        except CorpusError as error:  # every file on it failed to load: said in the log
            log.warning("shelf %s has no usable article: %s", self.folder, error)
            return None


def _sync_folder(folder: Path) -> None:
    """Make a rename or delete in `folder` survive a power cut, where the system allows it."""
    if not hasattr(os, "O_DIRECTORY"):  # Windows: folders cannot be opened to be synced
        return
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
