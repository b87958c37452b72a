"""A server's own shelf beside a large shared one: how soon an article a moderator adds is
answered from, and how other servers' answers fare meanwhile.

Run: python bench/shelves.py [--articles 1000] [--rounds 3]

The shared shelf is the first `--articles` files of the BBC News set at ../shared/data/bbc-news
(relative to the project root), copied to a temporary folder; without it the script says so and
stops. Questions in other servers are answered one at a time on an answering thread, as the
Discord adapter answers them, while the add runs on a thread of its own, as `/article add` does:
each answer's time includes any wait for the shelves (the add holds them while it writes,
records and loads the server's shelf). The first answer in the server after its add goes
through the same answering thread, so it waits behind the other servers' question in hand;
it also makes the added article's sentence vectors. Later answers in that server are timed
too: both shelves decide each of them.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from bot.engine import Engine
from bot.engine.shelf import read_submission
from bot.records import Storage
from bot.shelves import ShelfLimits, Shelves

ROOT = Path(__file__).resolve().parent.parent
PROMPTS = ROOT / "prompts"
BBC = ROOT.parent / "shared" / "data" / "bbc-news"
ARTICLE = ROOT / "tests" / "eval" / "articles" / "harbor-ferry-electric.md"
QUESTION = "How much of the cost did the state grant cover?"
QUOTE = "About 60 percent of the cost was covered by a state clean-transportation grant"
# Other servers' questions, about the shared articles and about nothing in them.
OTHER_QUESTIONS = [
    "What did the chancellor say about interest rates?",
    "Who won the match on Saturday?",
    "Which film won the award?",
    "Why did the shares fall?",
    "What is the weather on Mars?",
    "How many jobs will be cut?",
]
ADDING_SERVER = 1
OTHER_SERVERS = (2, 3, 4)
WARM_UP = 12  # other servers' answers before timing: the reader, synonyms and vectors load


def shared_corpus(folder: Path, count: int) -> int:
    """The first `count` BBC articles (by folder and name) copied into `folder`."""
    files = sorted(BBC.glob("*/*.txt"))[:count]
    for path in files:
        target = folder / path.parent.name / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
    return len(files)


def milliseconds(seconds: list[float]) -> str:
    """p50 and max of some timings, in milliseconds."""
    if not seconds:
        return "none"
    return f"p50 {statistics.median(seconds) * 1000:.0f} ms, max {max(seconds) * 1000:.0f} ms"


@dataclass(frozen=True)
class Round:
    """One add, timed: how long it took, how long its first answer took after it, whether
    that answer quoted the added article, and other servers' answer times meanwhile (from when
    the add began until that first answer) and outside that window."""

    add: float
    first_answer: float  # from the end of the add, waiting on the answering thread included
    answering: float  # of which the answer itself
    quoted: bool
    during: list[float]
    outside: list[float]
    later: list[float]  # the server's own answers after its first, both shelves deciding


def one_round(shared: Engine, data_dir: Path, round_: int) -> Round:
    """Add the article to a fresh server's shelf while other servers ask; the timings."""
    storage = Storage.for_data_dir(data_dir / f"round{round_}")
    storage.migrate()
    shelves = Shelves(data_dir / f"round{round_}", storage, ShelfLimits())
    answering = ThreadPoolExecutor(max_workers=1, thread_name_prefix="answering")
    timings: list[tuple[float, float]] = []  # (when it ended, how long it took)
    stop = threading.Event()

    def ask_in(server: int, question: str, into: list[float]) -> str:
        started = time.perf_counter()
        text = shelves.bookcase(shared, server).ask(question).text
        into.append(time.perf_counter() - started)
        return text

    def ask_elsewhere(n: int) -> None:
        took: list[float] = []
        server = OTHER_SERVERS[n % len(OTHER_SERVERS)]
        ask_in(server, OTHER_QUESTIONS[n % len(OTHER_QUESTIONS)], took)
        timings.append((time.perf_counter(), took[0]))

    def other_servers() -> None:
        n = 0
        while not stop.is_set():
            answering.submit(ask_elsewhere, n).result()
            n += 1

    for n in range(WARM_UP):
        answering.submit(ask_elsewhere, n).result()
    timings.clear()
    asking = threading.Thread(target=other_servers, name="other-servers")
    asking.start()
    while len(timings) < 6:  # a baseline before the add
        time.sleep(0.01)
    submission = read_submission(ARTICLE.name, ARTICLE.read_bytes())
    add_started = time.perf_counter()
    adding = threading.Thread(
        target=shelves.add, args=(shared, ADDING_SERVER, submission, 42), name="shelving"
    )
    adding.start()
    adding.join()
    added = time.perf_counter()

    first: list[float] = []
    text = answering.submit(ask_in, ADDING_SERVER, QUESTION, first).result()
    answered = time.perf_counter()
    later: list[float] = []
    for question in [QUESTION, *OTHER_QUESTIONS]:
        answering.submit(ask_in, ADDING_SERVER, question, later).result()
    after = len(timings)
    while len(timings) < after + 6:  # and a few after it
        time.sleep(0.01)
    stop.set()
    asking.join()
    answering.shutdown()
    storage.close()
    during = [took for ended, took in timings if add_started <= ended - took <= answered]
    outside = [took for ended, took in timings if not add_started <= ended - took <= answered]
    quoted = QUOTE in text.replace("**", "")
    return Round(added - add_started, answered - added, first[0], quoted, during, outside, later)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1000, help="shared articles (default 1000)")
    parser.add_argument("--rounds", type=int, default=3, help="adds timed (default 3)")
    args = parser.parse_args()
    if not BBC.is_dir():
        print(f"skipped: the BBC News set is not at {BBC} (it is not shipped with the project)")
        return 0
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        count = shared_corpus(folder / "corpus", args.articles)
        started = time.perf_counter()
        shared = Engine.load(folder / "corpus", PROMPTS)
        loaded = time.perf_counter() - started
        print(
            f"shared shelf: {count} BBC articles, {shared.library.sentence_count} sentences, "
            f"loaded in {loaded:.1f} s"
        )
        rounds = [one_round(shared, folder / "data", n) for n in range(args.rounds)]
    for n, timed in enumerate(rounds, start=1):
        print(
            f"round {n}: add {timed.add * 1000:.0f} ms, first answer from it "
            f"{timed.first_answer * 1000:.0f} ms later ({timed.answering * 1000:.0f} ms of it "
            f"answering; quoted it: {timed.quoted}); together "
            f"{(timed.add + timed.first_answer) * 1000:.0f} ms"
        )
    during = [t for timed in rounds for t in timed.during]
    outside = [t for timed in rounds for t in timed.outside]
    print(
        f"other servers' answers while an add and its first answer ran: {len(during)}, "
        f"{milliseconds(during)}"
    )
    print(f"other servers' answers before and after: {len(outside)}, {milliseconds(outside)}")
    later = [t for timed in rounds for t in timed.later]
    print(
        f"the adding server's later answers (both shelves decide): {len(later)}, "
        f"{milliseconds(later)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
