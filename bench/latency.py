"""Answer latency on the bundled article, once loaded: question in, rendered message out.

Run: python bench/latency.py
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from bot.engine import Engine, answerer
from bot.engine.evaluation import read_cases

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = 20


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--read", type=int, help="candidates the reader reads (answerer.READ_CANDIDATES)"
    )
    if (read := parser.parse_args().read) is not None:
        answerer.READ_CANDIDATES = read
    started = time.perf_counter()
    engine = Engine.load(ROOT / "corpus", ROOT / "prompts")
    load_ms = (time.perf_counter() - started) * 1000
    questions = [c.question for c in read_cases(ROOT / "tests" / "eval" / "seed_dev.jsonl")]
    # The synonym table loads, and the article's sentence vectors are made, on the first
    # question: timed apart from the steady state.
    started = time.perf_counter()
    engine.ask(questions[0])
    first_ms = (time.perf_counter() - started) * 1000
    timings = []
    for _ in range(ROUNDS):
        for question in questions:
            started = time.perf_counter()
            engine.ask(question)
            timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    p99 = timings[int(len(timings) * 0.99) - 1]
    print(
        f"bundled corpus: {len(engine.articles())} article, "
        f"{engine.library.sentence_count} sentences, loaded in {load_ms:.0f} ms, "
        f"first question {first_ms:.0f} ms"
    )
    print(
        f"{len(timings)} questions ({len(questions)} distinct x {ROUNDS}): "
        f"p50 {statistics.median(timings):.3f} ms, p99 {p99:.3f} ms, max {timings[-1]:.3f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
