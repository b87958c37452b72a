"""What the community asked: the questions the articles could not answer, grouped when they ask
the same thing in other words, the answers people found unhelpful, and counts per article.

Shared by `/insights` and `articlebot insights`; it reads records, never the database itself.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.engine import Article, Engine
from bot.engine.markup import DISCORD_MESSAGE_LIMIT
from bot.engine.question import question_kind
from bot.engine.thesaurus import synonyms
from bot.engine.tokenizer import QUESTION_FRAMING, base_terms, normalize
from bot.records import DAY_SECONDS, CitedPassage, ReplyRecord, ShelfChange, Storage, VoteTally

# The article a citation names as it is now, where the reply was given (its server), or None
# when it is no longer there.
CurrentArticle = Callable[[int | None, str], Article | None]

# Two questions ask the same thing when they ask for the same kind of answer and this share of
# each one's content words meet the other's, as the same word or a synonym ("who requested it"
# and "who asked for it").
SAME_QUESTION_SHARE = 0.6
# How many other wordings of a grouped question the summary shows.
WORDINGS_SHOWN = 3
# The most rows of each list a message tries before dropping rows to fit Discord's limit.
ROWS_SHOWN = 10
# Hex digits of a moderator's pseudonym shown beside a shelf change.
PSEUDONYM_SHOWN = 8


@dataclass(frozen=True, slots=True)
class QuestionGroup:
    """Unanswered questions that ask the same thing: how often, in which words."""

    question: str  # the most frequent wording
    count: int
    wordings: tuple[str, ...]  # the other wordings, most frequent first
    related: CitedPassage | None  # the passage offered as "maybe related", if any


@dataclass(frozen=True, slots=True)
class ArticleCounts:
    """How one article fared: questions it answered, declines that pointed to it, votes."""

    article_id: str
    answered: int
    related: int
    helpful: int
    not_helpful: int
    stale: int = 0  # answers quoting a sentence its current text no longer has: not counted above


@dataclass(frozen=True, slots=True)
class Insights:
    """Everything `/insights` shows, over the period from `since` to `until` (unix times)."""

    since: float
    until: float
    questions: int
    answered: int
    declined: int
    helpful: int
    not_helpful: int
    unanswered: tuple[QuestionGroup, ...]
    unhelpful: tuple[VoteTally, ...]  # answers with at least one "Not helpful", most first
    articles: tuple[ArticleCounts, ...]
    shelf_changes: tuple[ShelfChange, ...] = ()  # servers' own articles added and removed
    # The answers whose quoted sentence the article's current text no longer has (it was
    # removed or replaced since): by reply id.
    stale: frozenset[str] = frozenset()

    @property
    def days(self) -> int:
        """The period's length in whole days."""
        return max(1, round((self.until - self.since) / DAY_SECONDS))


def read_insights(
    storage: Storage,
    days: float,
    now: float,
    guild_id: int | None = None,
    current: CurrentArticle | None = None,
) -> Insights:
    """Insights over the `days` before `now` (in one server when `guild_id` is set), read from
    `storage` (StorageError if it cannot); `current` finds the articles as they are now."""
    since = now - days * DAY_SECONDS
    return gather_insights(
        storage.replies_since(since, guild_id),
        storage.vote_tallies(since, guild_id),
        since,
        now,
        storage.shelf_changes_since(since, guild_id),
        current,
    )


def gather_insights(
    replies: Sequence[ReplyRecord],
    tallies: Sequence[VoteTally],
    since: float,
    until: float,
    shelf_changes: Sequence[ShelfChange] = (),
    current: CurrentArticle | None = None,
) -> Insights:
    """Insights from the replies given, the votes cast and the shelf changes made over a
    period; with `current`, answers whose quote is gone from their article are stale."""
    stale = frozenset(r.id for r in replies if current is not None and is_stale(r, current))
    stale |= {t.reply.id for t in tallies if current is not None and is_stale(t.reply, current)}
    declined = [r for r in replies if not r.answered]
    unhelpful = sorted(
        (t for t in tallies if t.not_helpful),
        key=lambda t: (-t.not_helpful, t.helpful, t.reply.at),
    )
    return Insights(
        since=since,
        until=until,
        questions=len(replies),
        answered=len(replies) - len(declined),
        declined=len(declined),
        helpful=sum(t.helpful for t in tallies),
        not_helpful=sum(t.not_helpful for t in tallies),
        unanswered=tuple(group_questions(declined)),
        unhelpful=tuple(unhelpful),
        articles=tuple(_article_counts(replies, tallies, stale)),
        shelf_changes=tuple(shelf_changes),
        stale=stale,
    )


def is_stale(reply: ReplyRecord, current: CurrentArticle) -> bool:
    """Whether an answer quoted a sentence its article no longer has: the article was removed,
    or replaced by a text without that sentence. A decline is never stale."""
    if not reply.answered or not reply.citations:
        return False
    cited = reply.citations[0]  # the quote the answer rests on
    article = current(reply.guild_id, cited.article_id)
    if article is None:
        return True
    if cited.version and cited.version == article.content_hash:
        return False
    return cited.quote not in article.text


def group_questions(declined: Iterable[ReplyRecord]) -> list[QuestionGroup]:
    """Declined questions grouped when they ask the same thing, the most frequent first."""
    groups: list[tuple[frozenset[str], list[ReplyRecord]]] = []
    # Groups by the kind of answer they ask for and by the words (and synonyms) they use, so a
    # question is compared only with groups it could join, not with all of them.
    by_word: dict[tuple[str, str], list[int]] = {}
    for reply in declined:
        # "Who is the spokesperson?" and "when did the spokesperson say it?" share their words
        # but not what they ask.
        kind, words = question_kind(reply.question), _content_words(reply.question)
        keys = {(kind, w) for w in words} | {(kind, s) for w in words for s in synonyms(w)}
        candidates = sorted({g for key in keys for g in by_word.get(key, ())})
        match = next((g for g in candidates if _same_question(words, groups[g][0])), None)
        if match is not None:
            groups[match][1].append(reply)
            continue
        groups.append((words, [reply]))
        for word in words:
            by_word.setdefault((kind, word), []).append(len(groups) - 1)
    found = []
    for _, members in groups:
        wordings = Counter(_wording(r.question) for r in members)
        ranked = [w for w, _ in sorted(wordings.items(), key=lambda item: -item[1])]
        first = next(r for r in members if _wording(r.question) == ranked[0])
        found.append(
            QuestionGroup(
                question=first.question,
                count=len(members),
                wordings=tuple(
                    next(r.question for r in members if _wording(r.question) == w)
                    for w in ranked[1 : 1 + WORDINGS_SHOWN]
                ),
                related=first.citations[0] if first.citations else None,
            )
        )
    found.sort(key=lambda g: -g.count)  # stable: among equals, the one asked first
    return found


def _wording(question: str) -> str:
    """A question as people would call it the same words: case, spaces and end marks aside."""
    return " ".join(normalize(question).casefold().split()).rstrip("?!. ")


def _content_words(question: str) -> frozenset[str]:
    """What a question is about: its stems, without the words that only frame a question."""
    words = frozenset(base_terms(question)) - QUESTION_FRAMING
    return words or frozenset({_wording(question)})


def _same_question(words: frozenset[str], other: frozenset[str]) -> bool:
    """Whether two questions' content words mostly meet, as themselves or as synonyms, each
    way round (WordNet's synonyms are not always mutual)."""

    def share_met(these: frozenset[str], those: frozenset[str]) -> float:
        met = sum(w in those or any(s in those for s in synonyms(w)) for w in these)
        return met / len(these)

    return min(share_met(words, other), share_met(other, words)) >= SAME_QUESTION_SHARE


def _article_counts(
    replies: Sequence[ReplyRecord], tallies: Sequence[VoteTally], stale: frozenset[str]
) -> list[ArticleCounts]:
    """Per article: answers resting on it, declines offering it, votes on its answers; stale
    answers and their votes apart, as they are about text the article no longer has."""
    answered: Counter[str] = Counter()
    related: Counter[str] = Counter()
    helpful: Counter[str] = Counter()
    not_helpful: Counter[str] = Counter()
    outdated: Counter[str] = Counter()
    for reply in replies:
        if reply.citations:
            article = reply.citations[0].article_id
            if reply.id in stale:
                outdated[article] += 1
            else:
                (answered if reply.answered else related)[article] += 1
    for tally in tallies:
        if tally.reply.citations and tally.reply.id not in stale:
            article = tally.reply.citations[0].article_id
            helpful[article] += tally.helpful
            not_helpful[article] += tally.not_helpful
    ids = sorted(
        set(answered) | set(related) | set(helpful) | set(not_helpful) | set(outdated),
        key=lambda a: (-(answered[a] + related[a] + outdated[a]), a),
    )
    return [
        ArticleCounts(a, answered[a], related[a], helpful[a], not_helpful[a], outdated[a])
        for a in ids
    ]


def render_insights(engine: Engine, insights: Insights) -> str:
    """prompts/insights.j2 with as many rows as fit in one Discord message."""
    for rows in range(ROWS_SHOWN, 0, -1):
        text = engine.prompts.render(
            "insights", insights=insights, rows=rows, shown=PSEUDONYM_SHOWN
        )
        if len(text) <= DISCORD_MESSAGE_LIMIT:
            return text
    return engine.render("insights", insights=insights, rows=0, shown=PSEUDONYM_SHOWN)


CSV_COLUMNS = (
    "list",
    "count",
    "question",
    "other_wordings",
    "answered",
    "helpful",
    "not_helpful",
    "article",
    "paragraph",
    "start",
    "end",
    "quote",
    "stale",
    "title",
    "at",
    "by",
)


def insights_csv(insights: Insights) -> str:
    """The full lists as CSV: every unanswered question group, every answer voted unhelpful,
    the counts per article, and every change to the server's own shelf."""
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_COLUMNS, restval="", lineterminator="\n")
    writer.writeheader()
    for group in insights.unanswered:
        writer.writerow(
            {
                "list": "unanswered",
                "count": group.count,
                "question": group.question,
                "other_wordings": " | ".join(group.wordings),
                "answered": "no",
                **_passage_columns(group.related),
            }
        )
    for tally in insights.unhelpful:
        writer.writerow(
            {
                "list": "not_helpful",
                "count": tally.helpful + tally.not_helpful,
                "question": tally.reply.question,
                "answered": "yes" if tally.reply.answered else "no",
                "helpful": tally.helpful,
                "not_helpful": tally.not_helpful,
                **_passage_columns(tally.reply.citations[0] if tally.reply.citations else None),
                "stale": "yes" if tally.reply.id in insights.stale else "no",
            }
        )
    for counts in insights.articles:
        writer.writerow(
            {
                "list": "article",
                "count": counts.answered + counts.related,
                "answered": counts.answered,
                "helpful": counts.helpful,
                "not_helpful": counts.not_helpful,
                "article": counts.article_id,
                "stale": counts.stale,
            }
        )
    for change in insights.shelf_changes:
        writer.writerow(
            {
                "list": f"shelf_{change.action}",
                "count": 1,
                "article": change.article_id,
                "title": change.title,
                "at": datetime.fromtimestamp(change.at, UTC).isoformat(timespec="seconds"),
                "by": "operator" if change.actor is None else short_pseudonym(change.actor),
            }
        )
    return out.getvalue()


def short_pseudonym(pseudonym: str) -> str:
    """Enough of a pseudonym to tell people apart in a list."""
    return pseudonym[:PSEUDONYM_SHOWN]


def _passage_columns(passage: CitedPassage | None) -> dict[str, object]:
    if passage is None:
        return {}
    return {
        "article": passage.article_id,
        "paragraph": passage.paragraph,
        "start": passage.start,
        "end": passage.end,
        "quote": passage.quote,
    }
