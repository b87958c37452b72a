"""The engine's front: load a corpus, answer, summarize, list, reload. No Discord here."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any, Self

from bot.engine.answerer import Answer, Answerer, Context, Quote
from bot.engine.corpus import ArticleCache, load_corpus
from bot.engine.encoder import Encoder
from bot.engine.errors import CorpusError, EngineError, UnknownArticle
from bot.engine.library import Library, newest_first
from bot.engine.markup import DISCORD_MESSAGE_LIMIT
from bot.engine.models import (
    SHARED_SHELF,
    Article,
    ArticleInfo,
    Citation,
    FollowUp,
    LoadWarning,
    ReloadReport,
    Reply,
    Sentence,
)
from bot.engine.reader import Reader
from bot.engine.snapshot_store import SnapshotReport
from bot.engine.summarizer import LENGTHS, Summarizer, choose_sentences
from bot.engine.templates import Prompts
from bot.engine.tokenizer import normalize

log = logging.getLogger(__name__)

# Longer questions are cut before analysis: nobody asks 2,000 characters' worth of question,
# and the cut keeps every reply fast whatever a client sends.
MAX_QUESTION_CHARS = 1000
# A topic is a few words; a longer one would crowd the summary out of its own message.
MAX_TOPIC_CHARS = 200


class Engine:
    """Answers questions about the articles in one corpus folder, with templates from another."""

    def __init__(
        self,
        library: Library,
        prompts: Prompts,
        corpus_dir: Path,
        cache: ArticleCache,
        shelf: str = SHARED_SHELF,
        reading_started_at: float | None = None,
    ) -> None:
        self.library = library
        self.prompts = prompts
        self.corpus_dir = corpus_dir
        self.cache = cache
        self.shelf = shelf  # which shelf the articles stand on: what citations of them say
        self.answerer = Answerer(library)
        self.loaded_at = time.time()
        # When the corpus folder began to be read (unix time): a file changed before then is
        # surely in this engine, one changed later may not be.
        self.reading_started_at = (
            self.loaded_at if reading_started_at is None else reading_started_at
        )

    @classmethod
    def load(
        cls,
        corpus_dir: Path,
        prompts_dir: Path | Prompts,
        cache: ArticleCache | None = None,
        progress: Callable[[int, int], None] | None = None,
        shelf: str = SHARED_SHELF,
    ) -> Self:
        """Read the corpus and templates (or use templates already read); CorpusError or
        TemplateProblem if unusable."""
        started = time.time()
        # The models load in threads of their own while the corpus and templates are read.
        Reader.warm_up()
        Encoder.warm_up()
        prompts = prompts_dir if isinstance(prompts_dir, Prompts) else Prompts(Path(prompts_dir))
        cache = cache if cache is not None else ArticleCache()
        try:
            corpus = load_corpus(Path(corpus_dir), cache, progress)
        except CorpusError as error:
            message = _within_limit(prompts.render("corpus_error", error=error))
            raise CorpusError(error.kind, error.folder, error.warnings, message) from None
        for warning in corpus.warnings:
            log.warning("corpus: %s", prompts.render("load_warning", warning=warning))
        return cls(Library(corpus), prompts, Path(corpus_dir), cache, shelf, started)

    def with_prompts(self, prompts: Prompts) -> Engine:
        """The same articles, already indexed, speaking with other templates (after a reload
        read the prompts folder again)."""
        if prompts is self.prompts:
            return self
        return Engine(
            self.library, prompts, self.corpus_dir, self.cache, self.shelf, self.reading_started_at
        )

    @cached_property
    def corpus_version(self) -> str:
        """A short fingerprint of the articles loaded, so a record says which corpus answered:
        engines over the same articles share it, and any change to one gives a new one."""
        digest = hashlib.sha256()
        for article in sorted(self.library.records, key=lambda a: a.id):
            digest.update(f"{article.id}\0{article.content_hash}\n".encode())
        return digest.hexdigest()[:12]

    @property
    def index_report(self) -> SnapshotReport | None:
        """How the index came to be at load: read back from its snapshot, or made, and why."""
        return self.library.corpus.report

    @property
    def warnings(self) -> tuple[LoadWarning, ...]:
        """What the moderator should know about the files that did not load cleanly."""
        return self.library.warnings

    def describe_index(self, report: SnapshotReport | None = None) -> str:
        """How the index (by default this engine's) came to be, in the words of
        prompts/index_snapshot.j2."""
        return self.render("index_snapshot", report=report or self.index_report)

    def describe(self, warning: LoadWarning) -> str:
        """A load warning in the words of prompts/load_warning.j2."""
        return self.render("load_warning", warning=warning)

    @property
    def multi_article(self) -> bool:
        """Whether citations must name their article."""
        return len(self.library.articles) > 1

    def articles(self) -> list[ArticleInfo]:
        """The article list, newest first."""
        infos = self.library.article_infos()
        if self.shelf == SHARED_SHELF:
            return infos
        return [dataclasses.replace(info, shelf=self.shelf) for info in infos]

    @cached_property
    def fingerprints(self) -> dict[str, str]:
        """Each article's id by the fingerprint of its text, to know an article already here."""
        return {a.fingerprint: a.id for a in self.library.records}

    def render(self, template: str, **context: Any) -> str:
        """Render a prompts/ template (help, errors, refusals) within Discord's limit."""
        return _within_limit(self.prompts.render(template, **context))

    def prepare_vectors(self, should_stop: Callable[[], bool] = lambda: False) -> int:
        """Make (or read back) every article's sentence vectors before questions need them, so
        no question of a large corpus waits for its articles' first encoding. Meant for a
        thread of its own; stops early when `should_stop()` says so. How many articles are done.
        """
        encoder = self.answerer.retriever.encoder
        if encoder is None:
            return 0
        done = 0
        for article in range(len(self.library.articles)):
            if should_stop():
                break
            self.library.prepare_vectors(article, encoder)
            done += 1
        return done

    def ask(self, question: str, follows: FollowUp | None = None) -> Reply:
        """Answer a question with cited quotes, or say the article does not.

        `follows` is the exchange just before, for a follow-up ("when's it happening?"); a
        question that stands on its own is answered the same with or without it.
        """
        question = question[:MAX_QUESTION_CHARS]
        if not question.strip():
            return self.empty_question()
        return self.reply(question, self.answer(question, follows))

    def empty_question(self) -> Reply:
        """The reply to a question with nothing in it."""
        return Reply(self.render("empty_question"), answered=False, kind="error")

    def answer(self, question: str, follows: FollowUp | None = None) -> Answer:
        """The engine's decision on a question (cut to MAX_QUESTION_CHARS by the caller), before
        any words are put to it."""
        return self.answerer.answer(question, self._context(follows))

    def reply(
        self,
        question: str,
        answer: Answer,
        *,
        shelf: str | None = None,
        multi_article: bool | None = None,
    ) -> Reply:
        """An answer (this engine's, or another shelf's) in this engine's words: its quotes
        cited to `shelf` (by default this engine's), naming their articles when
        `multi_article` (by default: when this engine has several)."""
        shelf = self.shelf if shelf is None else shelf
        multi_article = self.multi_article if multi_article is None else multi_article
        if not answer.answered:
            return self._decline(question, answer, shelf, multi_article)
        citations = _answer_citations(answer, shelf)
        fitted = self._fit("answer", citations, question=question, multi_article=multi_article)
        if fitted is None:
            # Even the best quote alone overflows a message: point to it rather than cut it.
            text = self.prompts.render(
                "answer_too_long", citation=citations[0], multi_article=multi_article
            )
            fitted = (_within_limit(text), 1)
        text, count = fitted
        return Reply(text, answered=True, citations=tuple(citations[:count]))

    def _context(self, follows: FollowUp | None) -> Context | None:
        """The previous exchange in the index's terms: its cited sentences as documents (a
        citation of an article no longer loaded, or of its byline, has none)."""
        if follows is None or not follows.question.strip():
            return None
        documents = (self.library.document_of(c.article_id, c.start) for c in follows.citations)
        return Context(
            follows.question[:MAX_QUESTION_CHARS],
            frozenset(d for d in documents if d is not None),
        )

    def _decline(self, question: str, answer: Answer, shelf: str, multi_article: bool) -> Reply:
        """Say the article does not answer, offering the closest passage if it fits."""
        related = _quote_citation(1, answer.related, shelf) if answer.related else None
        context = {
            "question": question,
            "unseen_names": list(answer.unseen_names),
            "multi_article": multi_article,
        }
        text = self.prompts.render("no_answer", related=related, **context)
        if len(text) > DISCORD_MESSAGE_LIMIT:
            related = None
            text = self.prompts.render("no_answer", related=None, **context)
        return Reply(
            _within_limit(text),
            answered=False,
            citations=(related,) if related else (),
            kind="no_answer",
        )

    def _fit(
        self, template: str, citations: Sequence[Citation], **context: Any
    ) -> tuple[str, int] | None:
        """Render with as many citations as fit in one message, dropping the lowest-ranked."""
        for count in range(len(citations), 0, -1):
            text = self.prompts.render(template, citations=list(citations[:count]), **context)
            if len(text) <= DISCORD_MESSAGE_LIMIT:
                return text, count
        return None

    def reloaded(
        self, progress: Callable[[int, int], None] | None = None
    ) -> tuple[Engine, ReloadReport]:
        """A fresh engine from the same folders (unchanged files are not parsed again)."""
        started = time.perf_counter()
        new = Engine.load(self.corpus_dir, self.prompts.folder, self.cache, progress, self.shelf)
        before = {a.id: a.content_hash for a in self.library.records}
        after = {a.id: a.content_hash for a in new.library.records}
        report = ReloadReport(
            added=tuple(sorted(after.keys() - before.keys())),
            removed=tuple(sorted(before.keys() - after.keys())),
            changed=tuple(sorted(k for k in after.keys() & before.keys() if after[k] != before[k])),
            articles=len(after),
            sentences=new.library.sentence_count,
            seconds=time.perf_counter() - started,
            warnings=new.warnings,
        )
        text = new.render("reload", report=report)
        return new, dataclasses.replace(report, text=text)

    @cached_property
    def summarizer(self) -> Summarizer:
        """Built on first use, so an engine that never summarizes pays nothing for it."""
        return Summarizer(self.library.tokenizer)

    @cached_property
    def _article_names(self) -> list[tuple[str, str, str, str]]:
        """Each article's id, and its id, file name and title as `find_article` compares them."""
        return [
            (a.id, _name_key(a.id), _name_key(a.path), _name_key(a.title))
            for a in self.library.records
        ]

    def find_article(self, name: str) -> Article:
        """The article whose id, file name or title is `name` (any case), else the only one
        whose id or title starts with it, else the only one whose id or title contains it.
        Only the loaded articles are compared: nothing typed is ever looked up on disk.
        """
        return find_article_in((self,), name)[1]

    def choose_article(self, name: str | None = None) -> Article:
        """The article `name` picks, or the newest one (the only one) when it picks none."""
        if name is None or not name.strip():
            return self.library.by_id[self.articles()[0].id]
        return self.find_article(name)

    def summarize(
        self, article: str | None = None, length: str = "short", topic: str | None = None
    ) -> Reply:
        """A summary in the article's own sentences, in article order, each one cited."""
        length = (length or "short").strip().lower()
        if length not in LENGTHS:
            raise EngineError(self.render("unknown_length", length=length, lengths=list(LENGTHS)))
        chosen = self.choose_article(article)
        topic = (topic or "").strip()[:MAX_TOPIC_CHARS] or None
        summary = self.summarizer.summarize(chosen, length, topic)
        if topic and not summary.ranked:
            text = self.render("no_topic", article=chosen, topic=topic)
            return Reply(text, answered=False, kind="no_answer")

        def cite(sentences: Sequence[Sentence]) -> list[Citation]:
            return [_citation(n, chosen, s, self.shelf) for n, s in enumerate(sentences, start=1)]

        def render(sentences: Sequence[Sentence]) -> str:
            citations = cite(sentences)
            return self.prompts.render(
                "summary",
                article=chosen,
                citations=citations,
                length=length,
                topic=topic,
                multi_article=False,
            )

        sentences = choose_sentences(
            summary.ranked, summary.size, lambda s: len(render(s)) <= DISCORD_MESSAGE_LIMIT
        )
        return Reply(
            _within_limit(render(sentences)),
            answered=bool(sentences),
            citations=tuple(cite(sentences)),
            kind="summary",
        )


def find_article_in(engines: Sequence[Engine], name: str) -> tuple[Engine, Article]:
    """`Engine.find_article` over the articles of several engines (shelves): the article `name`
    picks and the engine holding it. An exact id is looked for in the engines' order; a name
    that fits articles of several engines is ambiguous, like one that fits several of one."""
    for engine in engines:
        exact = engine.library.by_id.get(name)
        if exact is not None:
            return engine, exact
    key = _name_key(name)
    names = [(engine, *entry) for engine in engines for entry in engine._article_names]
    tests: tuple[Callable[[str, str, str], bool], ...] = (
        lambda id_, path, title: key in (id_, path),
        lambda id_, path, title: key == title,
        lambda id_, path, title: id_.startswith(key) or title.startswith(key),
        lambda id_, path, title: key in id_ or key in title,
    )
    for test in tests if key else ():
        matches = [(entry[0], entry[1]) for entry in names if test(*entry[2:])]
        if len(matches) == 1:
            engine, article_id = matches[0]
            return engine, engine.library.by_id[article_id]
        if matches:
            raise _unknown_article(engines, name, {article_id for _, article_id in matches})
    raise _unknown_article(engines, name, None)


def _unknown_article(
    engines: Sequence[Engine], name: str, matching: set[str] | None
) -> UnknownArticle:
    """The error for a name that picks no article (matching None) or several."""
    infos = newest_first([info for engine in engines for info in engine.articles()])
    offered = infos if matching is None else [i for i in infos if i.id in matching]
    message = engines[0].render(
        "unknown_article",
        asked=name[:MAX_TOPIC_CHARS],
        articles=offered,
        ambiguous=matching is not None,
    )
    return UnknownArticle(name, [i.id for i in infos], message)


def _name_key(text: str) -> str:
    """How an article name compares: any case, curly or straight quotes, spaces collapsed."""
    return " ".join(normalize(text).casefold().split())


def _within_limit(text: str) -> str:
    """Last resort for texts without quotes to drop (a template listing many articles)."""
    if len(text) <= DISCORD_MESSAGE_LIMIT:
        return text
    cut = text.rfind("\n", 0, DISCORD_MESSAGE_LIMIT - 2)
    return text[: cut if cut > 0 else DISCORD_MESSAGE_LIMIT - 2].rstrip() + "\n…"


def _part(article: Article, sentence: Sentence) -> str:
    if sentence.paragraph > 0:
        return "body"
    if sentence is article.byline:
        return "byline"
    if sentence is article.credits:
        return "credits"
    if sentence is article.dateline:
        return "dateline"
    return "front matter"


def _citation(n: int, article: Article, sentence: Sentence, shelf: str) -> Citation:
    return Citation(
        n=n,
        article_id=article.id,
        article_title=article.title,
        paragraph=sentence.paragraph,
        quote=sentence.text,
        path=article.path,
        start=sentence.start,
        end=sentence.end,
        part=_part(article, sentence),
        shelf=shelf,
        version=article.content_hash,
    )


def _answer_citations(answer: Answer, shelf: str) -> list[Citation]:
    if answer.metadata:
        return [
            _citation(n, article, sentence, shelf)
            for n, (article, sentence) in enumerate(answer.metadata, start=1)
        ]
    return [_quote_citation(n, quote, shelf) for n, quote in enumerate(answer.quotes, start=1)]


def _quote_citation(n: int, quote: Quote, shelf: str) -> Citation:
    citation = _citation(n, quote.item.article, quote.item.sentence, shelf)
    if quote.answer is None or quote.answer == (0, len(citation.quote)):
        return citation  # nothing narrower to point at
    return dataclasses.replace(citation, answer=quote.answer)
