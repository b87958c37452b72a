"""Summary quality on real news: ROUGE-1 recall of short summaries against BBC headlines.

The BBC News corpus (2,225 articles, first line = headline) has no reference summaries, but a
headline is a short human summary, so the share of its words a summary contains says how much
of the gist the summary caught. Compared on three sentences: lead-3 (the first three sentences),
the engine's short summary end to end, TextRank with BM25 weights alone, and TextRank with the
lead prior (the engine's key-points ranking, and the damping that headlines favour).

Run: python bench/summary_quality.py [--bbc DIR] [--articles N] [--offset K] [--tune]
Articles are taken evenly across the sorted corpus; `--offset` picks another such slice, so
parameters tuned on one slice (`--tune --offset 2`) can be reported on another (the default 0).
"""

from __future__ import annotations

import argparse
import math
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import Stemmer

from bot.engine import Article, Engine, Sentence
from bot.engine.corpus import decode
from bot.engine.summarizer import LENGTHS, Summarizer, choose_sentences

ROOT = Path(__file__).resolve().parent.parent
BBC = ROOT.parent / "shared" / "data" / "bbc-news"
_WORD = re.compile(r"[a-z0-9]+")
_stemmer = Stemmer.Stemmer("english")

Method = Callable[[Article], Sequence[Sentence]]


def words(text: str, stem: bool) -> list[str]:
    """ROUGE's tokens: lower-case runs of letters and digits, optionally stemmed."""
    tokens = _WORD.findall(text.lower())
    return _stemmer.stemWords(tokens) if stem else tokens


def rouge1_recall(summary: str, reference: str, stem: bool = False) -> float:
    """The share of the reference's words (with their counts) that the summary contains."""
    wanted = Counter(words(reference, stem))
    if not wanted:
        return 0.0
    found = Counter(words(summary, stem))
    return sum(min(count, found[word]) for word, count in wanted.items()) / sum(wanted.values())


def headline(path: Path) -> str:
    """The file's first line, decoded as the corpus loader decodes it."""
    return (decode(path.read_bytes(), []) or "").split("\n", 1)[0].strip()


def sample(engine: Engine, count: int, offset: int) -> tuple[list[tuple[Article, str]], int]:
    """Articles spread evenly over the corpus, with their headlines; and how many were left out.

    An article whose headline the loader read as its first sentence (a headline ending in "?")
    is left out: every method would quote the reference itself.
    """
    # Articles live in the topic folders; SOURCE.txt at the top is the data set's description.
    articles = sorted((a for a in engine.library.articles if "/" in a.id), key=lambda a: a.id)
    step = max(1, len(articles) // count)
    picked = articles[offset % step :: step][:count]
    kept: list[tuple[Article, str]] = []
    for article in picked:
        title = headline(engine.corpus_dir / article.path)
        if article.title == title:
            kept.append((article, title))
    return kept, len(picked) - len(kept)


def lead(size: int) -> Method:
    """The first `size` sentences, as they stand."""
    return lambda article: article.sentences[:size]


def ranked_by(summarizer: Summarizer, size: int) -> Method:
    """The top `size` of a summarizer's ranking, in article order, with no message limit."""
    return lambda article: choose_sentences(
        summarizer.rank_by_centrality(article), size, lambda _: True
    )


def engine_reply(engine: Engine, length: str) -> Method:
    """What the bot posts for a summary of `length`, end to end (ranking, template, fitting)."""

    def summarize(article: Article) -> Sequence[Sentence]:
        reply = engine.summarize(article.id, length)
        by_start = {s.start: s for s in article.sentences}
        return [by_start[c.start] for c in reply.citations]

    return summarize


def measure(
    method: Method, articles: list[tuple[Article, str]]
) -> tuple[list[float], list[float], float, float]:
    """Per-article ROUGE-1 recall (plain, stemmed), mean words per summary, ms per article."""
    plain: list[float] = []
    stemmed: list[float] = []
    lengths: list[int] = []
    started = time.perf_counter()
    chosen = [(method(article), title) for article, title in articles]
    elapsed = time.perf_counter() - started
    for sentences, title in chosen:
        text = " ".join(s.text for s in sentences)
        plain.append(rouge1_recall(text, title))
        stemmed.append(rouge1_recall(text, title, stem=True))
        lengths.append(len(words(text, stem=False)))
    return plain, stemmed, statistics.fmean(lengths), 1000 * elapsed / max(1, len(articles))


def difference(a: list[float], b: list[float]) -> str:
    """Mean paired difference a - b with a 95% interval."""
    diffs = [x - y for x, y in zip(a, b, strict=True)]
    half = 1.96 * statistics.stdev(diffs) / math.sqrt(len(diffs)) if len(diffs) > 1 else 0.0
    return f"{statistics.fmean(diffs):+.3f} ± {half:.3f}"


def report(engine: Engine, articles: list[tuple[Article, str]]) -> None:
    """The comparison table for short (three-sentence) summaries, and the engine's speed."""
    size = LENGTHS["short"]
    tokenizer = engine.library.tokenizer
    methods: dict[str, Method] = {
        "lead-3": lead(size),
        "engine short (lead-3 of candidates)": engine_reply(engine, "short"),
        "TextRank (BM25), no lead prior": ranked_by(
            Summarizer(tokenizer, damping=0.85, lead_decay=0.0), size
        ),
        "TextRank + lead prior (engine, d=0.85)": ranked_by(Summarizer(tokenizer), size),
        "TextRank + lead prior (d=0.5)": ranked_by(
            Summarizer(tokenizer, damping=0.5, lead_decay=1.0), size
        ),
    }
    results = {name: measure(method, articles) for name, method in methods.items()}
    print(f"{'method, 3 sentences':40} {'R1 recall':>9} {'stemmed':>8} {'words':>6} {'ms/art.':>8}")
    for name, (plain, stemmed, words_per, ms) in results.items():
        print(
            f"{name:40} {statistics.fmean(plain):9.3f} {statistics.fmean(stemmed):8.3f} "
            f"{words_per:6.1f} {ms:8.2f}"
        )
    base = results["lead-3"]
    print("\npaired difference to lead-3 (mean, 95% interval), plain / stemmed:")
    for name, (plain, stemmed, _, _) in results.items():
        if name != "lead-3":
            print(f"  {name:40} {difference(plain, base[0])}  /  {difference(stemmed, base[1])}")
    # A new engine per length, so each one ranks every article from scratch (no cached ranking).
    for length in ("points", "long"):
        fresh = Engine(engine.library, engine.prompts, engine.corpus_dir, engine.cache)
        _, _, words_per, ms = measure(engine_reply(fresh, length), articles)
        print(f"engine {length}, end to end: {ms:.2f} ms/article, {words_per:.0f} words")


def tune(engine: Engine, articles: list[tuple[Article, str]]) -> None:
    """ROUGE-1 recall of short summaries over a grid of damping and lead decay."""
    size = LENGTHS["short"]
    lead3 = statistics.fmean(measure(lead(size), articles)[1])
    print(f"lead-3 stemmed R1 recall: {lead3:.3f}")
    print(f"{'damping':>8} {'decay':>6} {'stemmed':>8} {'words':>6}")
    for damping in (0.3, 0.5, 0.7, 0.85, 0.95):
        for decay in (0.5, 1.0, 2.0):
            summarizer = Summarizer(engine.library.tokenizer, damping=damping, lead_decay=decay)
            _, stemmed, words_per, _ = measure(ranked_by(summarizer, size), articles)
            print(f"{damping:8.2f} {decay:6.1f} {statistics.fmean(stemmed):8.3f} {words_per:6.1f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bbc", type=Path, default=BBC, help=f"the BBC folder (default {BBC})")
    parser.add_argument("--articles", type=int, default=400, help="how many articles (400)")
    parser.add_argument("--offset", type=int, default=0, help="which evenly spaced slice (0)")
    parser.add_argument("--tune", action="store_true", help="search damping and lead decay")
    args = parser.parse_args()
    if not args.bbc.is_dir():
        print(f"skipped: the BBC News corpus is not at {args.bbc} (pass --bbc DIR)")
        return 0
    started = time.perf_counter()
    engine = Engine.load(args.bbc, ROOT / "prompts")
    print(
        f"loaded {len(engine.library.articles)} articles in {time.perf_counter() - started:.1f} s"
    )
    articles, left_out = sample(engine, args.articles, args.offset)
    print(
        f"{len(articles)} articles (slice {args.offset}); {left_out} left out whose headline "
        "the loader took for the first sentence"
    )
    (tune if args.tune else report)(engine, articles)
    return 0


if __name__ == "__main__":
    sys.exit(main())
