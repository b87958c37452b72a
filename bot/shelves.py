"""Every server's own shelf, for one bot process (or one CLI command): the files under
`DATA_DIR/shelves/<server id>/`, and in the database who changed them, when, and each shelf's
version.

A change is written to disk first (whole or not at all: bot/engine/shelf.py), then recorded in
one transaction with the shelf's version bumped. When the record cannot be written the file
change is undone and the change refused, so the shelf and its record never disagree for long.
Before a server's question is answered its shelf's version is read (one indexed row): a process
holding an older one, because another process sharing the database and DATA_DIR changed the
shelf, loads that server's shelf again first. Nothing else is reloaded: not the shared index,
not other servers' shelves.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bot.engine import Engine
from bot.engine.bookcase import Bookcase
from bot.engine.corpus import ArticleCache
from bot.engine.models import Article, ArticleInfo, Problem
from bot.engine.shelf import Refusal, Shelf, ShelfRefused, Submission
from bot.engine.snapshot_store import SnapshotStore
from bot.engine.vector_store import VectorStore
from bot.records import ShelfAction, ShelfChange, Storage, StorageError

log = logging.getLogger(__name__)

SHELVES_FOLDER = "shelves"
# The window the adds-per-minute limit counts over.
ADD_WINDOW_SECONDS = 60.0


@dataclass(frozen=True)
class ShelfLimits:
    """How much one server may put on its own shelf."""

    articles: int = 50  # articles on the shelf at once
    adds_per_minute: int = 5  # adds (and replacements) within any ADD_WINDOW_SECONDS

    def __post_init__(self) -> None:
        if self.articles < 1:
            raise ValueError(f"a shelf must hold at least 1 article, got {self.articles!r}")
        if self.adds_per_minute < 1:
            raise ValueError(f"at least 1 add per minute, got {self.adds_per_minute!r}")


@dataclass(frozen=True)
class ShelfOutcome:
    """What a change did: the article, whether it replaced one of the same name, what the
    loader noted about it, and how many articles the shelf holds now."""

    action: ShelfAction
    article_id: str
    title: str
    articles: int
    notes: tuple[Problem, ...] = ()


@dataclass(frozen=True)
class ShelfArticle:
    """A server's own article as listed: its line and when it was added (or last replaced)."""

    info: ArticleInfo
    added_at: float | None


@dataclass
class _Loaded:
    """A server's shelf as this process loaded it, at a version of the database's."""

    version: int
    engine: Engine | None
    cache: ArticleCache = field(default_factory=ArticleCache)


class Shelves:
    """The servers' own shelves under `data_dir/shelves`, their records in `storage`.

    Thread-safe: the answering thread reads shelves while a command changes one. Every call
    may block on the disk and the database; the Discord adapter calls them off the event loop.
    """

    def __init__(
        self,
        data_dir: Path,
        storage: Storage,
        limits: ShelfLimits | None = None,
        clock: Callable[[], float] = time.time,
        vector_store: VectorStore | None = None,
        snapshot_store: SnapshotStore | None = None,
    ) -> None:
        self.folder = Path(data_dir) / SHELVES_FOLDER
        self.storage = storage
        self.limits = limits if limits is not None else ShelfLimits()
        self._clock = clock
        # Where the shared engine keeps its sentence vectors and index snapshots: a server's
        # articles use them too, so a shelf changed in one process, or a restart, indexes
        # only the files that changed.
        self.vector_store = vector_store
        self.snapshot_store = snapshot_store
        self._loaded: dict[int, _Loaded] = {}
        self._lock = threading.Lock()
        self._version_unreadable = False

    def shelf(self, guild_id: int) -> Shelf:
        """The files of one server's shelf."""
        return Shelf(self.folder / str(guild_id))

    def guild_ids(self) -> list[int]:
        """The servers that have a shelf folder, in order."""
        if not self.folder.is_dir():
            return []
        return sorted(int(p.name) for p in self.folder.iterdir() if p.is_dir() and p.name.isdigit())

    def bookcase(self, shared: Engine, guild_id: int | None) -> Bookcase:
        """What a question in this server (None: a direct message) is answered from: the shared
        engine and the server's own shelf, loaded again first if it changed since."""
        if guild_id is None:
            return Bookcase(shared)
        with self._lock:
            return Bookcase(shared, self._current(guild_id, shared))

    def listing(self, shared: Engine, guild_id: int) -> list[ShelfArticle]:
        """The server's own articles, newest first, with when each was added."""
        shelf = self.shelf(guild_id)
        return [
            ShelfArticle(info, shelf.added_at(info.id))
            for info in self.bookcase(shared, guild_id).own_articles()
        ]

    def add(
        self, shared: Engine, guild_id: int, submission: Submission, moderator_id: int | None
    ) -> ShelfOutcome:
        """Put an article on a server's shelf (replacing one of the same name); ShelfRefused
        says why not, and then the shelf is as it was. `moderator_id` None: the operator."""
        with self._lock:
            bookcase = Bookcase(shared, self._current(guild_id, shared))
            same_text = bookcase.holding(submission.fingerprint)
            if same_text is not None:
                raise ShelfRefused(Refusal.DUPLICATE, same_text)
            shelf = self.shelf(guild_id)
            names = shelf.names()
            replacing = shelf.path_of(submission.article_id)
            if replacing is None and len(names) >= self.limits.articles:
                raise ShelfRefused(Refusal.SHELF_FULL, limit=self.limits.articles)
            self._refuse_too_many_adds(guild_id)
            before = replacing.read_bytes() if replacing is not None else None
            action = ShelfAction.ADDED if before is None else ShelfAction.REPLACED
            article = submission.article
            change = self._change(guild_id, action, submission.article_id, article, moderator_id)
            _on_disk(lambda: shelf.store(submission.name, submission.raw))

            def undo() -> None:
                if before is None:
                    shelf.discard(submission.article_id)
                else:
                    shelf.store(submission.name, before)

            self._record(change, shared, undo)
            return ShelfOutcome(
                action,
                submission.article_id,
                article.title,
                len(shelf.names()),
                submission.notes,
            )

    def remove(
        self, shared: Engine, guild_id: int, article_id: str, moderator_id: int | None
    ) -> ShelfOutcome:
        """Take an article off a server's shelf; ShelfRefused (UNKNOWN_ARTICLE) when it is not
        there. `moderator_id` None: the operator."""
        with self._lock:
            own = self._current(guild_id, shared)
            shelf = self.shelf(guild_id)
            path = shelf.path_of(article_id)
            if path is None:
                raise ShelfRefused(Refusal.UNKNOWN_ARTICLE, article_id)
            article = own.library.by_id.get(article_id) if own is not None else None
            before = path.read_bytes()
            change = self._change(guild_id, ShelfAction.REMOVED, article_id, article, moderator_id)
            _on_disk(lambda: shelf.discard(article_id))
            self._record(change, shared, lambda: shelf.store(path.stem, before))
            return ShelfOutcome(change.action, article_id, change.title, len(shelf.names()))

    def _refuse_too_many_adds(self, guild_id: int) -> None:
        since = self._clock() - ADD_WINDOW_SECONDS
        try:
            changes = self.storage.shelf_changes_since(since, guild_id)
        except StorageError as error:
            raise ShelfRefused(Refusal.NOT_SAVED, str(error.problem)) from error
        adds = [c for c in changes if c.action is not ShelfAction.REMOVED]
        if len(adds) >= self.limits.adds_per_minute:
            raise ShelfRefused(Refusal.TOO_MANY_ADDS, limit=self.limits.adds_per_minute)

    def _change(
        self,
        guild_id: int,
        action: ShelfAction,
        article_id: str,
        article: Article | None,
        moderator_id: int | None,
    ) -> ShelfChange:
        """The record of a change, the moderator as their pseudonym (None: the operator); a
        database that cannot give one refuses the change before anything is touched."""
        try:
            actor = self.storage.pseudonym(moderator_id) if moderator_id is not None else None
        except StorageError as error:
            raise ShelfRefused(Refusal.NOT_SAVED, str(error.problem)) from error
        title = article.title if article is not None else article_id
        version = article.content_hash if article is not None else ""
        return ShelfChange(guild_id, action, article_id, title, version, actor, self._clock())

    def _record(self, change: ShelfChange, shared: Engine, undo: Callable[[], object]) -> None:
        """Record a change already made on disk and load the shelf again; if the record cannot
        be written, `undo` the change on disk and refuse it."""
        guild_id = change.guild_id
        try:
            version = self.storage.record_shelf_change(change)
        except StorageError as error:
            log.error(
                "shelf of server %d: %s %s could not be recorded (%s), so it was undone: %s",
                guild_id,
                change.action,
                change.article_id,
                error.problem,
                error.detail,
            )
            try:
                undo()
            except OSError:  # the shelf now differs from its record: load it again next time
                log.exception("shelf of server %d: undoing failed", guild_id)
            self._loaded.pop(guild_id, None)
            raise ShelfRefused(Refusal.NOT_SAVED, str(error.problem)) from error
        log.info(
            "shelf of server %d: %s %s (version %d)",
            guild_id,
            change.action,
            change.article_id,
            version,
        )
        self._load(guild_id, version, shared)

    def _current(self, guild_id: int, shared: Engine) -> Engine | None:
        """The server's own engine as the database's version says it is now (lock held)."""
        loaded = self._loaded.get(guild_id)
        try:
            version = self.storage.shelf_version(guild_id)
            self._version_unreadable = False
        except StorageError as error:
            # Answering goes on from what is loaded; said once, not on every question.
            if not self._version_unreadable:
                log.error("shelves: versions cannot be read (%s): %s", error.problem, error.detail)
            self._version_unreadable = True
            version = loaded.version if loaded is not None else -1
        if loaded is None or loaded.version != version:
            loaded = self._load(guild_id, version, shared)
        elif loaded.engine is not None and loaded.engine.prompts is not shared.prompts:
            # The shared engine was reloaded with its templates: speak with them from now on.
            loaded.engine = loaded.engine.with_prompts(shared.prompts)
        return loaded.engine

    def _new_cache(self) -> ArticleCache:
        return ArticleCache(store=self.snapshot_store, vector_store=self.vector_store)

    def _load(self, guild_id: int, version: int, shared: Engine) -> _Loaded:
        """Read a server's shelf from disk again (its unchanged files are not parsed again)."""
        before = self._loaded.get(guild_id)
        cache = before.cache if before is not None else self._new_cache()
        try:
            engine = self.shelf(guild_id).load(shared.prompts, cache)
        except OSError as error:
            # Answering goes on from the shared shelf; the next question tries again.
            log.error("shelf of server %d cannot be read: %s", guild_id, error)
            return _Loaded(version, None, cache)
        loaded = _Loaded(version, engine, cache)
        self._loaded[guild_id] = loaded
        return loaded


def _on_disk(change: Callable[[], object]) -> None:
    """Make a change to a shelf's files; a disk failure refuses it (the shelf is unchanged:
    files are replaced whole or not at all)."""
    try:
        change()
    except OSError as error:
        log.error("a shelf change failed on disk: %s", error)
        raise ShelfRefused(Refusal.NOT_SAVED, "disk") from error
