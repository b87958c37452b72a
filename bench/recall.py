"""How often the sentence that answers is among the candidates the reader reads: the engine's
BM25 ranking alone, the shipped sentence encoder's ranking by meaning alone, and the two fused
by reciprocal rank as the engine ranks them (retriever.py).

Measured on the held-out articles of training/news_chat and the news development sets, on
answerable questions that stand alone.

Run: python bench/recall.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import reader_data  # noqa: E402

from bot.engine.evaluation import read_cases  # noqa: E402
from bot.engine.retriever import Retriever  # noqa: E402

DEPTHS = (1, 3, 5, 8, 12)
EVAL = ROOT / "tests" / "eval"
DEV_SETS = {
    "dev_strike.jsonl": EVAL / "articles" / "strike-story.txt",
    "dev_storm.jsonl": EVAL / "articles" / "storm-story.txt",
    "dev_business.jsonl": EVAL / "articles" / "business-results.txt",
}


def main() -> int:
    import numpy as np

    hits = {method: [0] * len(DEPTHS) for method in ("bm25", "dense", "fused")}
    total = 0
    with tempfile.TemporaryDirectory(prefix="articlebot-recall-") as scratch:
        work: list[tuple[Path, list[tuple[str, tuple[str, ...]]]]] = []
        for article, items in reader_data.articles().items():
            if reader_data.is_held_out(article):
                cases = reader_data.cases(article, items)
                work.append((article, [(c.question, c.expect) for c in cases if c.answerable]))
        for name, article in DEV_SETS.items():
            cases = read_cases(EVAL / name)
            work.append((article, [(c.question, c.expect) for c in cases if c.answerable]))
        for article, questions in work:
            engine = reader_data.engine_for(article, Path(scratch))
            answerer = engine.answerer
            encoder = answerer.retriever.encoder
            assert encoder is not None
            lexical = Retriever(answerer.library, answerer.questions, encoder=None)
            texts = [s.sentence.text for s in answerer.library.sentences]
            vectors = encoder.encode(texts)
            for text, expect in questions:
                question = answerer.questions.read(text)
                if answerer.look_up(question) is not None:
                    continue
                right = {
                    i for i, t in enumerate(texts) if any(p.lower() in t.lower() for p in expect)
                }
                if not right:
                    continue
                total += 1
                bm25 = [q.document for q in lexical.retrieve(question).quotes]
                asked = encoder.encode([text])[0]
                dense = [int(i) for i in np.argsort(-(vectors @ asked), kind="stable")]
                fused = [q.document for q in answerer.retriever.retrieve(question).quotes]
                for method, ranking in (("bm25", bm25), ("dense", dense), ("fused", fused)):
                    for n, depth in enumerate(DEPTHS):
                        hits[method][n] += bool(right & set(ranking[:depth]))
    print(f"{total} answerable questions; recall at " + ", ".join(map(str, DEPTHS)))
    for method, counts in hits.items():
        print(f"{method:6} " + "  ".join(f"{c / total:6.1%}" for c in counts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
