"""The reader's news data: the project's own articles and the questions chat users ask about them
(training/news_chat, its DATASHEET.md), as the engine shows them to the reader.

Every question is read by the engine itself: its retriever ranks the article's sentences, and the
reader is trained on the candidates it would be given, with the sentence before each and, for a
follow-up, the question before it. Writers cut their own sentences; each answer is mapped to the
engine's sentence that holds it. Questions the engine answers by lookup (who wrote this) never
reach the reader and are left out.

One article in ten (by a hash of its file name, so the split stays put as data is added) is held
out: never trained on, kept to fit the decision and to choose between models.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.engine import Engine  # noqa: E402
from bot.engine.evaluation import Case  # noqa: E402
from bot.engine.library import Library  # noqa: E402
from bot.engine.reader import context_before  # noqa: E402
from bot.engine.retriever import Context  # noqa: E402

NEWS = ROOT / "training" / "news_chat"
HELD_OUT_EVERY = 10
# An answer this long is taken to be found only where the writer found it.
DISTINCT_ANSWER_CHARS = 12


@dataclass(frozen=True)
class Pair:
    """One question beside one sentence, whether the sentence answers it, and where in the
    sentence the answer's words are (character offsets; -1 when it does not answer). `before` is
    the sentence before it in the article; `asked_before` the question a follow-up follows."""

    question: str
    sentence: str
    label: float
    answer_start: int = -1
    answer_end: int = -1
    before: str = ""
    asked_before: str = ""


@dataclass(frozen=True)
class NewsQuestion:
    """One line of a qa.jsonl."""

    q: str
    answerable: bool
    sentence: str = ""
    answer: str = ""
    kind: str = ""
    chain: str = ""
    turn: int = 0
    near: str = ""


def articles(folder: Path = NEWS) -> dict[Path, list[NewsQuestion]]:
    """Every article under the folder with its questions, in file order."""
    found: dict[Path, list[NewsQuestion]] = {}
    for qa in sorted(folder.glob("*/qa.jsonl")):
        for line in qa.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            article = qa.parent / row["article"]
            found.setdefault(article, []).append(
                NewsQuestion(
                    q=row["q"],
                    answerable=bool(row["answerable"]),
                    sentence=row.get("sentence") or "",
                    answer=row.get("answer") or "",
                    kind=row.get("kind") or "",
                    chain=row.get("chain") or "",
                    turn=int(row.get("turn") or 0),
                    near=row.get("near") or "",
                )
            )
    return found


def is_held_out(article: Path) -> bool:
    """Whether an article is kept out of training (one in HELD_OUT_EVERY, by name)."""
    digest = hashlib.sha1(article.name.encode("utf-8")).digest()
    return digest[0] % HELD_OUT_EVERY == 0


def engine_for(article: Path, scratch: Path) -> Engine:
    """An engine over a corpus of this one article, as a moderator would load it."""
    folder = scratch / article.parent.name / article.stem
    folder.mkdir(parents=True)
    shutil.copy(article, folder / article.name)
    return Engine.load(folder, ROOT / "prompts")


def answer_document(library: Library, item: NewsQuestion) -> tuple[int, int, int] | None:
    """The engine's sentence holding the answer, and the answer's offsets in it; None when no
    one sentence holds it (it crosses sentences, or is in the byline or credits) and for a
    question the article does not answer."""
    if not item.answerable:
        return None
    best: tuple[int, int, int, int] | None = None
    for document, indexed in enumerate(library.sentences):
        text = indexed.sentence.text
        at = text.find(item.answer)
        if at < 0:
            continue
        overlap = len(set(text.split()) & set(item.sentence.split()))
        if best is None or overlap > best[0]:
            best = (overlap, document, at, at + len(item.answer))
    return None if best is None else best[1:]


def expected(item: NewsQuestion) -> tuple[str, ...]:
    """What a right answer's first quote holds: the answer's words, with a few words around them
    from the writer's sentence when they are short enough to stand in another sentence too
    ("yes", "$5")."""
    if not item.answerable:
        return ()
    if len(item.answer) >= DISTINCT_ANSWER_CHARS:
        return (item.answer,)
    at = item.sentence.find(item.answer)
    if at < 0:
        return (item.sentence,)
    # Up to three words either side, cut from the writer's sentence as it is (punctuation and
    # spacing kept), so the phrase is found in a quote of the same sentence.
    start = re.search(r"(?:\S+\s+){0,3}$", item.sentence[:at])
    end = re.match(r"(?:\s*\S+){0,3}", item.sentence[at + len(item.answer) :])
    assert start is not None and end is not None  # both patterns match the empty string
    return (item.sentence[start.start() : at + len(item.answer) + end.end()].strip(),)


def cases(article: Path, questions: list[NewsQuestion]) -> list[Case]:
    """The article's questions that stand alone, as an evaluation set."""
    return [
        Case(f"{article.stem}-{n}", item.q, expected(item), article.name)
        for n, item in enumerate(questions)
        if item.kind != "followup"
    ]


def chains(questions: list[NewsQuestion]) -> Iterator[list[NewsQuestion]]:
    """The article's follow-up conversations, turn by turn."""
    by_chain: dict[str, list[NewsQuestion]] = {}
    for item in questions:
        if item.kind == "followup":
            by_chain.setdefault(item.chain, []).append(item)
    for turns in by_chain.values():
        yield sorted(turns, key=lambda t: t.turn)


def pairs_of(article: Path, questions: list[NewsQuestion], scratch: Path, read: int) -> list[Pair]:
    """Training pairs from one article: each question beside the `read` candidates the engine
    ranks best for it (and the answering sentence, when they miss it)."""
    engine = engine_for(article, scratch)
    answerer = engine.answerer
    library = answerer.library
    pairs: list[Pair] = []

    def add(item: NewsQuestion, follows: Context | None) -> int | None:
        question = answerer.questions.read(item.q)
        if answerer.look_up(question) is not None:
            return None
        place = answer_document(library, item)
        if item.answerable and place is None:
            return None
        candidates = answerer.retriever.retrieve(question, follows)
        documents = [q.document for q in candidates.quotes[:read]]
        if place is not None and place[0] not in documents:
            documents.append(place[0])
        asked_before = candidates.follows or ""
        for document in documents:
            text = library.sentences[document].sentence.text
            before = context_before(library, document)
            if place is not None and document == place[0]:
                pairs.append(Pair(item.q, text, 1.0, place[1], place[2], before, asked_before))
            else:
                pairs.append(Pair(item.q, text, 0.0, before=before, asked_before=asked_before))
        return place[0] if place is not None else None

    for item in questions:
        if item.kind != "followup":
            add(item, None)
    for turns in chains(questions):
        follows = None
        for item in turns:
            cited = add(item, follows)
            follows = Context(item.q, frozenset() if cited is None else frozenset({cited}))
    return pairs


def news_pairs(read: int, held_out: bool = False) -> list[Pair]:
    """Pairs from every article of the training split (or of the held-out one)."""
    pairs: list[Pair] = []
    with tempfile.TemporaryDirectory(prefix="articlebot-news-") as scratch:
        for article, questions in articles().items():
            if is_held_out(article) == held_out:
                pairs.extend(pairs_of(article, questions, Path(scratch), read))
    return pairs


# Shortened and slang forms of chat, for the datasheet's count of questions typed messily.
CHAT_FORMS = frozenset(
    "u ur r ppl bc cuz w/ rn tbh idk im dont doesnt didnt cant wont isnt wasnt whats hows whos "
    "wheres thats gonna wanna gotta ya yeah nah pls plz tho thru wat wut hw abt smth bout kinda "
    "sorta lol omg ok wait so".split()
)


def describe() -> None:
    """Counts for the datasheet: articles, questions by kind, and how many are typed as a chat
    types (lowercase with no question mark; with chat forms or missing apostrophes)."""
    found = articles()
    items = [item for questions in found.values() for item in questions]
    casual = [q for q in items if q.q == q.q.lower() and not q.q.rstrip().endswith("?")]
    messy = [
        q
        for q in items
        if CHAT_FORMS & set(q.q.lower().replace("?", " ").split())
        or any(w in q.q.lower().split() for w in ("dont", "whats", "its", "theyre", "wont"))
    ]
    held = [a for a in found if is_held_out(a)]
    print(f"folders: {len({a.parent.name for a in found})}, articles: {len(found)}")
    print(f"questions: {len(items)}")
    alone = [q for q in items if not q.chain]
    unanswerable = [q for q in alone if not q.answerable]
    print(f"  answerable, standing alone: {len(alone) - len(unanswerable)}")
    print(f"  unanswerable, standing alone: {len(unanswerable)}")
    print(f"    with a near miss given: {sum(bool(q.near) for q in unanswerable)}")
    print(f"  follow-up turns: {len(items) - len(alone)}")
    print(f"    unanswerable: {sum(bool(q.chain) and not q.answerable for q in items)}")
    print(f"casual (lowercase, no question mark): {len(casual) / len(items):.0%}")
    print(f"with chat forms (ppl, u, bc, whats, dont ...): {len(messy) / len(items):.0%}")
    print(f"held out: {len(held)} articles, {sum(len(found[a]) for a in held)} questions")


if __name__ == "__main__":
    describe()
