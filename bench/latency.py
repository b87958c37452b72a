"""Answer latency on the bundled article, once loaded: question in, rendered message out.

Run: python bench/latency.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

from bot.engine import Engine
from bot.engine.evaluation import read_cases

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = 20


def main() -> int:
    started = time.perf_counter()
    engine = Engine.load(ROOT / "corpus", ROOT / "prompts")
    load_ms = (time.perf_counter() - started) * 1000
    questions = [c.question for c in read_cases(ROOT / "tests" / "eval" / "seed_dev.jsonl")]
    engine.ask(questions[0])  # the synonym table loads on first use; time the steady state
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
        f"{engine.library.sentence_count} sentences, loaded in {load_ms:.0f} ms"
    )
    print(
        f"{len(timings)} questions ({len(questions)} distinct x {ROUNDS}): "
        f"p50 {statistics.median(timings):.3f} ms, p99 {p99:.3f} ms, max {timings[-1]:.3f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
