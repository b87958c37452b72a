"""Answer quality on SQuAD 2.0 articles, each loaded as a one-article corpus, as a user would.

Every SQuAD 2.0 article the project holds (../shared/data/qa/squad2_dev_25.jsonl.gz) is written as
a plain-text article (title, then its paragraphs) and asked all its questions, half of them
written to look answerable when the article does not say. An answer is right when its first
citation's quote holds one of the question's answers. Prints top-1, unanswerable declined and
answerable wrongly declined, per article and in all, against naive rank-bm25.

Then the words in bold: for the right answers, SQuAD's exact match and F1 of the words the reply
bolds against the question's answers (normalised as SQuAD's own script does), and how many
right answers had words in bold at all; "F1 at least 50%" counts the bold words that are mostly
the answer.

Run: python bench/squad.py [--articles held-out|training|all] [--limit N]

"held-out" are the articles scripts/train_reader.py never trains on (every third, by title).
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import string
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from evaluate import naive_scores  # noqa: E402

from bot.engine import Engine, answerer  # noqa: E402
from bot.engine.evaluation import Case, Scores, first_quote, score  # noqa: E402
from bot.engine.models import Reply  # noqa: E402

QA = ROOT.parent / "shared" / "data" / "qa" / "squad2_dev_25.jsonl.gz"
HELD_OUT_EVERY = 3  # as scripts/train_reader.py holds them out


def read_articles() -> dict[str, list[dict[str, object]]]:
    """SQuAD 2.0 paragraphs by article title, in file order."""
    articles: dict[str, list[dict[str, object]]] = defaultdict(list)
    with gzip.open(QA, "rt", encoding="utf-8") as lines:
        for line in lines:
            paragraph = json.loads(line)
            articles[paragraph["title"]].append(paragraph)
    return dict(articles)


def chosen_titles(articles: dict[str, object], which: str) -> list[str]:
    titles = sorted(articles)
    held_out = set(titles[::HELD_OUT_EVERY])
    if which == "held-out":
        return [t for t in titles if t in held_out]
    if which == "training":
        return [t for t in titles if t not in held_out]
    return titles


def article_text(title: str, paragraphs: list[dict[str, object]]) -> str:
    """The article as a plain-text file: its title as the headline, then its paragraphs."""
    body = "\n\n".join(" ".join(str(p["context"]).split()) for p in paragraphs)
    return f"{title.replace('_', ' ')}\n\n{body}\n"


def cases_of(paragraphs: list[dict[str, object]]) -> list[Case]:
    cases = []
    for paragraph in paragraphs:
        for qa in paragraph["qas"]:  # type: ignore[attr-defined]
            answers = tuple(
                dict.fromkeys(" ".join(a["text"].split()) for a in qa["answers"] if a["text"])
            )
            cases.append(Case(qa["id"], qa["question"], () if qa["is_impossible"] else answers))
    return cases


def normalized(text: str) -> list[str]:
    """SQuAD's answer normalisation: lower case, no punctuation, no articles, single spaces."""
    text = "".join(c for c in text.lower() if c not in set(string.punctuation))
    return re.sub(r"\b(a|an|the)\b", " ", text).split()


def f1(found: str, expected: str) -> float:
    found_words, expected_words = normalized(found), normalized(expected)
    common = sum(min(found_words.count(w), expected_words.count(w)) for w in set(found_words))
    if not common:
        return 0.0
    precision, recall = common / len(found_words), common / len(expected_words)
    return 2 * precision * recall / (precision + recall)


class Bolding:
    """Exact match and F1 of the bolded words, over the right answers."""

    def __init__(self) -> None:
        self.right = self.bolded = self.mostly = 0
        self.exact = self.f1 = 0.0

    def add(self, case: Case, reply: Reply) -> None:
        if not (case.answerable and reply.answered and reply.citations):
            return
        citation = reply.citations[0]
        if not case.is_answered_by(citation.quote):
            return
        self.right += 1
        if citation.answer is None:
            return
        self.bolded += 1
        words = citation.quote[citation.answer[0] : citation.answer[1]]
        self.exact += max(float(normalized(words) == normalized(e)) for e in case.expect)
        best = max(f1(words, e) for e in case.expect)
        self.f1 += best
        self.mostly += best >= 0.5

    def line(self) -> str:
        if not self.bolded:
            return "words in bold: none"
        return (
            f"words in bold: {self.bolded} of {self.right} right answers; exact match "
            f"{self.exact / self.bolded:.1%}, F1 {self.f1 / self.bolded:.1%}, F1 at least 50% "
            f"{self.mostly / self.bolded:.1%}"
        )


def line(name: str, scores: Scores) -> str:
    return (
        f"{name:32} {scores.top1:7.1%} {scores.declined_share:9.1%} "
        f"{scores.wrongly_declined_share:8.1%}  {scores.answerable}+{scores.unanswerable}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", choices=("held-out", "training", "all"), default="held-out")
    parser.add_argument("--limit", type=int, default=0, help="questions per article (0: all)")
    parser.add_argument("--naive", action="store_true", help="also naive rank-bm25")
    parser.add_argument(
        "--read", type=int, help="candidates the reader reads (answerer.READ_CANDIDATES)"
    )
    args = parser.parse_args()
    if args.read:
        answerer.READ_CANDIDATES = args.read
    articles = read_articles()
    totals = {"engine": Scores(), "rank-bm25": Scores()}
    bolding = Bolding()
    print(f"{'article':32} {'top-1':>7} {'declined':>9} {'wrongly':>8}  n")
    with tempfile.TemporaryDirectory(prefix="articlebot-squad-") as scratch:
        for title in chosen_titles(articles, args.articles):
            folder = Path(scratch) / title
            folder.mkdir()
            (folder / f"{title}.txt").write_text(
                article_text(title, articles[title]), encoding="utf-8"
            )
            engine = Engine.load(folder, ROOT / "prompts")
            cases = cases_of(articles[title])
            if args.limit:
                cases = cases[: args.limit]
            replies: dict[str, Reply] = {}

            def ask(
                question: str, engine: Engine = engine, replies: dict[str, Reply] = replies
            ) -> tuple[bool, str | None]:
                replies[question] = engine.ask(question)
                return first_quote(replies[question])

            scores = score(cases, ask)
            for case in cases:
                bolding.add(case, replies[case.question])
            totals["engine"].add(scores)
            print(line(title, scores), flush=True)
            if args.naive:
                totals["rank-bm25"].add(naive_scores(cases, engine))
    print(line("all: engine", totals["engine"]))
    print(bolding.line())
    if args.naive:
        print(line("all: naive rank-bm25", totals["rank-bm25"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
