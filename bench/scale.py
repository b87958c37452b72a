"""Scale: load, reload, memory and question latency on a news corpus, and at eight times its size.

Run: python bench/scale.py [--copies 1 8] [--questions 300] [--reference-questions 30]
                           [--processes 2] [--starts-only]

The corpus is the BBC News set at ../shared/data/bbc-news (relative to the project root) where
this machine has it; otherwise a synthetic corpus of the same shape is generated (2,225 articles
in five folders, headline and ~19 sentences each, seeded), so anyone can run this. Eight times
the corpus is eight copies of its folders in a temporary directory (bbc0/ .. bbc7/), so every
article has its own id and file, and loading and reloading go through the real loader.

Each size runs in a child process of its own, so its peak memory (ru_maxrss) is its alone; the
peak is taken before the rank-bm25 and bm25s comparison indexes are built in the same child.
Questions are seeded: headlines of random articles and key words of random sentences.

Starts (also on the bundled article): a fresh process loads the corpus as `articlebot run` does,
its index snapshot and sentence vectors kept in a data folder of its own, and answers one
question; the time is from launching the process to that answer. Cold: the data folder is
empty. Warm: a second process on the unchanged corpus. Then `--processes` warm processes start
at once on the same data folder; each process's memory (RSS, and PSS from
/proc/PID/smaps_rollup, which shares each page among the processes mapping it) is read while
they are all running, after each has answered START_QUESTIONS more questions.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from bot.discord.serving import keep_out_of_garbage_collection
from bot.engine import Engine, ReloadReport
from bot.engine.corpus import ArticleCache
from bot.engine.index import ReferenceBM25
from bot.engine.tokenizer import STOPWORDS

ROOT = Path(__file__).resolve().parent.parent
PROMPTS = ROOT / "prompts"
BBC = ROOT.parent / "shared" / "data" / "bbc-news"
# The BBC set's shape, for the synthetic stand-in: folders and how many articles each holds.
FOLDERS = {"business": 510, "entertainment": 386, "politics": 417, "sport": 511, "tech": 401}
SEED = 2024
WARM_UP = 20  # questions answered before timing: the synonym table and templates load lazily
START_QUESTIONS = 20  # questions a started process answers before its memory is read
TOP = 10
TICK = 0.001  # the loop-lag probe's sleep, seconds
QUESTION_GAP = 0.02  # seconds between questions arriving while a reload runs


# The corpus ---------------------------------------------------------------------------------


def synthetic_corpus(folder: Path, seed: int = SEED) -> Path:
    """Write a corpus shaped like the BBC set: titled plain-text articles in five folders."""
    rng = random.Random(seed)
    syllables = [c + v for c in "bcdfghjklmnprstvwz" for v in "aeiou"] + ["str", "ent", "ion"]
    words = sorted({"".join(rng.choices(syllables, k=rng.randint(1, 4))) for _ in range(30_000)})
    names = [w.capitalize() for w in rng.sample(words, 2_000)]
    # Zipf-like: a few words are everywhere, most are rare, as in news text.
    cumulative = list(itertools.accumulate(1 / (rank + 10) for rank in range(len(words))))
    glue = sorted(STOPWORDS)[:60]  # "a", "about", "after", ...: the words between words

    def sentence() -> str:
        out = []
        for _ in range(rng.randint(8, 30)):
            roll = rng.random()
            if roll < 0.35:
                out.append(rng.choice(glue))
            elif roll < 0.45:
                out.append(rng.choice(names))
            else:
                out.append(rng.choices(words, cum_weights=cumulative)[0])
        out[0] = out[0].capitalize()
        return " ".join(out) + rng.choice([".", ".", ".", "?", "!"])

    for name, count in FOLDERS.items():
        (folder / name).mkdir(parents=True, exist_ok=True)
        for number in range(1, count + 1):
            title = " ".join(
                rng.choices(words, cum_weights=cumulative, k=rng.randint(3, 7))
            ).capitalize()
            paragraphs = []
            left = max(3, int(rng.gauss(19, 7)))
            while left > 0:
                size = min(left, rng.randint(1, 4))
                paragraphs.append(" ".join(sentence() for _ in range(size)))
                left -= size
            text = title + "\n\n" + "\n\n".join(paragraphs) + "\n"
            (folder / name / f"{number:03d}.txt").write_text(text, encoding="utf-8")
    return folder


def replicate(source: Path, target: Path, copies: int) -> Path:
    """`copies` copies of the source's article folders side by side: bbc0/, bbc1/, ..."""
    folders = sorted(p for p in source.iterdir() if p.is_dir() and not p.name.startswith("."))
    for copy in range(copies):
        for folder in folders:
            shutil.copytree(folder, target / f"bbc{copy}" / folder.name)
    return target


# Measuring one size (in a child process) ----------------------------------------------------


def peak_mb() -> float:
    """This process's peak resident memory so far."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentiles(seconds: Sequence[float]) -> dict[str, float]:
    """p50 and p99 in milliseconds."""
    ordered = sorted(seconds)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return {"p50": statistics.median(ordered) * 1000, "p99": p99 * 1000}


def timed(call: Callable[[], Any]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def make_questions(engine: Engine, count: int, seed: int) -> list[str]:
    """Half headlines of random articles, half key words of random sentences, seeded."""
    rng = random.Random(seed)
    articles = engine.library.articles
    questions = []
    for n in range(count):
        article = articles[rng.randrange(len(articles))]
        if n % 2 == 0:
            questions.append(f"What happened: {article.title}?")
            continue
        sentence = article.sentences[rng.randrange(len(article.sentences))].text
        words = [w.strip(".,;:!?\"'()") for w in sentence.split()]
        content = [w for w in words if len(w) > 3 and w.lower() not in STOPWORDS]
        picked = sorted(content, key=len, reverse=True)[:4] or words[:4]
        rng.shuffle(picked)
        questions.append(f"What about {' '.join(picked)}?")
    return questions


def served_reload(engine: Engine) -> tuple[Engine, ReloadReport]:
    """A reload as the bot's serving engine makes it in its worker thread (ServingEngine): the
    new engine, then everything alive kept out of the garbage collector's sight."""
    fresh, report = engine.reloaded()
    keep_out_of_garbage_collection()
    return fresh, report


def change_one_file(corpus: Path, round_: int) -> None:
    """Append a paragraph to the first article, as a moderator editing a file would."""
    path = min(corpus.rglob("*.txt"))
    with path.open("a", encoding="utf-8") as handle:
        handle.write(
            f"\n\nCorrection {round_}: an earlier version of this story misspelt a name.\n"
        )


async def loop_lag_during(
    reload: Callable[[], Any], ask: Callable[[str], Any], questions: list[str]
) -> dict[str, float]:
    """How long the event loop was blocked while `reload` ran in a worker thread.

    A probe sleeps TICK and records how late it woke; meanwhile questions arrive every
    QUESTION_GAP and are answered in a thread of their own, one at a time, as the Discord
    adapter answers them. What the loop still loses is what the two threads cost it: the GIL,
    garbage collection.
    """
    gaps: list[tuple[float, float]] = []
    answering: list[float] = []
    running = True
    answerer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="answering")
    loop = asyncio.get_running_loop()

    async def probe() -> None:
        last = time.perf_counter()
        while running:
            await asyncio.sleep(TICK)
            now = time.perf_counter()
            gaps.append((last, now))
            last = now

    async def questioner() -> None:
        asked = 0
        while running:
            started = time.perf_counter()
            await loop.run_in_executor(answerer, ask, questions[asked % len(questions)])
            answering.append(time.perf_counter() - started)
            asked += 1
            await asyncio.sleep(QUESTION_GAP)

    tasks = [asyncio.create_task(probe()), asyncio.create_task(questioner())]
    await asyncio.sleep(0.05)
    started = time.perf_counter()
    await asyncio.to_thread(reload)
    seconds = time.perf_counter() - started
    running = False
    await asyncio.gather(*tasks)
    answerer.shutdown()

    lags = sorted(b - a - TICK for a, b in gaps)
    return {
        "seconds": seconds,
        "max_ms": lags[-1] * 1000,
        "p99_ms": lags[int(len(lags) * 0.99)] * 1000,
        "longest_question_ms": max(answering) * 1000,
        "questions": len(answering),
    }


def measure(corpus: Path, questions_count: int, reference_count: int, full_rebuild: bool) -> dict:
    """Every number of the table for one corpus folder."""
    result: dict[str, Any] = {}
    data = Path(tempfile.mkdtemp(prefix="articlebot-data-"))
    started = time.perf_counter()
    # As `articlebot run` loads it: the index snapshot and sentence vectors kept on disk (here
    # in a temporary data folder), so a cold load includes writing the snapshot, and a reload
    # writes the new one.
    engine = Engine.load(corpus, PROMPTS, ArticleCache.kept_in(data))
    result["load_s"] = time.perf_counter() - started
    keep_out_of_garbage_collection()  # as `articlebot run` does after its first load
    library = engine.library
    result["articles"] = len(library.articles)
    result["sentences"] = library.sentence_count
    result["peak_after_load_mb"] = peak_mb()

    for question in make_questions(engine, WARM_UP, SEED + 1):
        engine.ask(question)
    # First as a bot just started answers: an article's vectors made when a question first
    # reaches it. Then as it answers once they were made ahead of questions (the bot makes them
    # in a background thread after each load), on other questions.
    first_touch = make_questions(engine, questions_count, SEED + 2)
    result["ask_first_touch"] = percentiles([timed(lambda q=q: engine.ask(q)) for q in first_touch])
    started = time.perf_counter()
    engine.prepare_vectors()
    result["vectors_s"] = time.perf_counter() - started
    result["peak_after_vectors_mb"] = peak_mb()
    questions = make_questions(engine, questions_count, SEED)
    result["ask"] = percentiles([timed(lambda q=q: engine.ask(q)) for q in questions])
    # Retrieval alone, on the tokens the engine searches with.
    queries = [library.tokenizer(q) for q in questions]
    result["index"] = percentiles([timed(lambda q=q: library.index.top(q, TOP)) for q in queries])

    change_one_file(corpus, 1)
    started = time.perf_counter()
    engine, report = served_reload(engine)
    result["reload_s"] = time.perf_counter() - started
    result["reload_changed"] = list(report.changed)

    # The reload as the bot makes it, of an engine that has been answering for a while (its
    # recently made articles and term sets kept, as a serving bot's are).
    change_one_file(corpus, 2)
    current = engine
    for question in questions:
        current.ask(question)
    result["lag_one_change"] = asyncio.run(
        loop_lag_during(lambda: served_reload(current), current.ask, questions)
    )
    result["peak_mb"] = peak_mb()
    shutil.rmtree(data)
    if full_rebuild:
        # Nothing cached: parse, split, tokenize and index everything, in the worker thread.
        cold = Engine(current.library, current.prompts, current.corpus_dir, ArticleCache())
        result["lag_full"] = asyncio.run(
            loop_lag_during(lambda: served_reload(cold), current.ask, questions)
        )

    # The same tokens for the comparison indexes: each sentence's terms as the index has them.
    index = engine.library.index
    names = index.terms_by_id
    documents = [
        [names[i] for i in index.document_term_ids(d).tolist()] for d in range(index.document_count)
    ]
    queries = [engine.library.tokenizer(q) for q in questions]

    import bm25s  # the bench extra: pip install -e '.[bench]'

    started = time.perf_counter()
    fast = bm25s.BM25(method="lucene", k1=index.k1, b=index.b)
    fast.index(documents, show_progress=False)
    result["bm25s_build_s"] = time.perf_counter() - started

    def bm25s_top(query: list[str]) -> np.ndarray:
        scores = fast.get_scores([t for t in query if t in fast.vocab_dict] or [""])
        best = np.argpartition(-scores, TOP)[:TOP]
        return best[np.argsort(-scores[best], kind="stable")]

    result["bm25s"] = percentiles([timed(lambda q=q: bm25s_top(q)) for q in queries])

    started = time.perf_counter()
    reference = ReferenceBM25(documents)
    result["rank_bm25_build_s"] = time.perf_counter() - started
    sample = queries[:reference_count]
    result["rank_bm25"] = percentiles([timed(lambda q=q: reference.get_scores(q)) for q in sample])
    result["rank_bm25_questions"] = len(sample)
    return result


# Starts: fresh processes, to their first answer -------------------------------------------


def start_child(corpus: Path, data: Path) -> None:
    """One process's start, as `articlebot run` loads: say when the first answer is given, then
    answer START_QUESTIONS more, say so, and wait for standard input to close (the parent reads
    this process's memory meanwhile)."""
    started = time.perf_counter()
    engine = Engine.load(corpus, PROMPTS, ArticleCache.kept_in(data))
    loaded = time.perf_counter()
    engine.ask(make_questions(engine, 1, SEED + 3)[0])
    answered = time.perf_counter()
    report = engine.index_report
    assert report is not None
    first = {
        "load_s": loaded - started,
        "answer_s": answered - loaded,
        "state": str(report.state),
        "parsed": report.parsed,
        "peak_mb": peak_mb(),
    }
    print(json.dumps(first), flush=True)
    for question in make_questions(engine, START_QUESTIONS, SEED + 4):
        engine.ask(question)
    print(json.dumps({"peak_mb": peak_mb()}), flush=True)
    sys.stdin.read()


def memory_of(pid: int) -> dict[str, float]:
    """A live process's resident memory and its proportional share (MB), where Linux says."""
    found = {}
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as rollup:
            for line in rollup:
                name, value, *_ = line.split()
                if name in ("Rss:", "Pss:"):
                    found[name[:-1].lower() + "_mb"] = int(value) / 1024
    except OSError:
        pass
    return found


def launch(corpus: Path, data: Path) -> subprocess.Popen[str]:
    """A start child, launched now."""
    command = [sys.executable, __file__, "--start", str(corpus), "--data", str(data)]
    return subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def started(processes: list[subprocess.Popen[str]], at: float) -> list[dict[str, Any]]:
    """What each launched child says at its first answer and once its questions are done, with
    the time from `at` (their launch) to the first answer, and its memory read while all of
    them are running; then they are let go."""
    results = []
    for process in processes:
        assert process.stdout is not None
        first = json.loads(process.stdout.readline())
        first["to_first_answer_s"] = time.perf_counter() - at
        results.append(first)
    for process, result in zip(processes, results, strict=True):
        assert process.stdout is not None
        result.update(json.loads(process.stdout.readline()))
    for process, result in zip(processes, results, strict=True):
        result.update(memory_of(process.pid))
    for process in processes:
        assert process.stdin is not None
        process.stdin.close()
        process.wait(timeout=60)
    return results


def measure_starts(corpus: Path, processes: int) -> dict[str, Any]:
    """Cold start, warm start, and `processes` warm starts at once, on one data folder."""
    with tempfile.TemporaryDirectory(prefix="articlebot-data-") as data:
        (cold,) = started([launch(corpus, Path(data))], time.perf_counter())
        (warm,) = started([launch(corpus, Path(data))], time.perf_counter())
        at = time.perf_counter()
        together = started([launch(corpus, Path(data)) for _ in range(processes)], at)
    return {"cold": cold, "warm": warm, "together": together, "load": os.getloadavg()}


def starts_table(runs: dict[str, dict[str, Any]], processes: int) -> str:
    """A row per measure, a column per corpus."""
    names = list(runs)

    def start(run: dict[str, Any], key: str) -> str:
        found = run[key]
        return f"{found['to_first_answer_s']:.2f} ({found['state']}, {found['parsed']} parsed)"

    def memory(found: dict[str, Any]) -> str:
        return f"{found.get('rss_mb', 0):.0f} / {found.get('pss_mb', 0):.0f}"

    def together(run: dict[str, Any]) -> str:
        rss = sum(r.get("rss_mb", 0) for r in run["together"])
        pss = sum(r.get("pss_mb", 0) for r in run["together"])
        alone = run["warm"].get("pss_mb", 0) or 1
        return f"{rss:.0f} / {pss:.0f} ({pss / alone:.2f}x one)"

    rows: list[tuple[str, Callable[[dict[str, Any]], str], str]] = [
        ("cold start to first answer, s (index)", lambda r: start(r, "cold"), "not slower"),
        ("warm start to first answer, s (index)", lambda r: start(r, "warm"), "<= 5 (x8), 1"),
        ("cold start peak memory (ru_maxrss), MB", lambda r: f"{r['cold']['peak_mb']:.0f}", ""),
        ("one warm process: RSS / PSS, MB", lambda r: memory(r["warm"]), ""),
        (
            f"{processes} warm processes at once: RSS / PSS summed, MB",
            together,
            "PSS well under 2x",
        ),
        (
            f"{processes} at once: each to first answer, s",
            lambda r: " ".join(f"{x['to_first_answer_s']:.2f}" for x in r["together"]),
            "",
        ),
        (
            "load average (1, 5, 15 min) after",
            lambda r: " ".join(f"{x:.1f}" for x in r["load"]),
            "",
        ),
    ]
    return rendered(names, rows, [runs[name] for name in names])


# The table ----------------------------------------------------------------------------------


def table(name: str, runs: dict[int, dict]) -> str:
    """One table: a row per measure, a column per corpus size, and the target."""
    sizes = sorted(runs)
    head = [f"{name} x{n}" for n in sizes]

    def pair(run: dict, key: str) -> str:
        return f"{run[key]['p50']:.3f} / {run[key]['p99']:.2f}"

    def lag(run: dict, key: str) -> str:
        if key not in run:
            return "-"
        value = run[key]
        return (
            f"{value['max_ms']:.0f} / {value['p99_ms']:.0f}"
            f" / {value['longest_question_ms']:.0f} ({value['seconds']:.1f} s)"
        )

    rows: list[tuple[str, Callable[[dict], str], str]] = [
        ("articles / sentences", lambda r: f"{r['articles']:,} / {r['sentences']:,}", ""),
        (
            "cold load (parse, split, tokenize, index, keep), s",
            lambda r: f"{r['load_s']:.2f}",
            "<= 10 (x1)",
        ),
        ("reload after one file changed, s", lambda r: f"{r['reload_s']:.2f}", "<= 1 (x1)"),
        ("peak memory (ru_maxrss), MB", lambda r: f"{r['peak_mb']:.0f}", "<= 1024 (x8)"),
        (
            "Engine.ask p50 / p99, ms, vectors made on first need",
            lambda r: pair(r, "ask_first_touch"),
            "",
        ),
        (
            "sentence vectors made ahead (prepare_vectors), s",
            lambda r: f"{r['vectors_s']:.0f}",
            "",
        ),
        (
            "Engine.ask p50 / p99, ms, vectors made ahead",
            lambda r: pair(r, "ask"),
            "p50 <= 80 (x8)",
        ),
        (f"index top-{TOP} p50 / p99, ms", lambda r: pair(r, "index"), ""),
        (f"bm25s get_scores + top-{TOP} p50 / p99, ms", lambda r: pair(r, "bm25s"), ""),
        ("rank-bm25 get_scores p50 / p99, ms", lambda r: pair(r, "rank_bm25"), ""),
        (
            "index p50 / bm25s p50",
            lambda r: f"{r['index']['p50'] / r['bm25s']['p50']:.2f}x",
            "<= 2x (x8)",
        ),
        (
            "rank-bm25 p50 / index p50",
            lambda r: f"{r['rank_bm25']['p50'] / r['index']['p50']:.0f}x",
            ">= 50x (x8)",
        ),
        ("loop lag, one-change reload", lambda r: lag(r, "lag_one_change"), "max <= 50"),
        ("loop lag, full rebuild", lambda r: lag(r, "lag_full"), "max <= 50"),
    ]
    return rendered(head, rows, [runs[n] for n in sizes])


def rendered(
    head: list[str], rows: list[tuple[str, Callable[[Any], str], str]], runs: list[Any]
) -> str:
    """A table: a row per measure (its label, how to show a run's value, its target), a column
    per run under `head`."""
    width = max(len(label) for label, _, _ in rows)
    cells = [[fmt(run) for run in runs] for _, fmt, _ in rows]
    widths = [max(len(head[i]), *(len(c[i]) for c in cells)) for i in range(len(runs))]
    lines = [
        "  ".join([f"{'':{width}}", *(f"{h:>{w}}" for h, w in zip(head, widths, strict=True))])
        + "  target"
    ]
    for (label, _, target), row in zip(rows, cells, strict=True):
        values = (f"{c:>{w}}" for c, w in zip(row, widths, strict=True))
        lines.append("  ".join([f"{label:{width}}", *values]) + f"  {target}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--questions", type=int, default=300)
    parser.add_argument("--reference-questions", type=int, default=30)
    parser.add_argument(
        "--processes", type=int, default=2, help="warm processes started at once (default 2)"
    )
    parser.add_argument(
        "--starts-only", action="store_true", help="only the starts, not the answers and reloads"
    )
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--full-rebuild", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--start", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result = measure(args.child, args.questions, args.reference_questions, args.full_rebuild)
        print(json.dumps(result))
        return 0
    if args.start:
        start_child(args.start, args.data)
        return 0

    with tempfile.TemporaryDirectory(prefix="articlebot-scale-") as temp:
        if BBC.is_dir():
            name, source = "BBC", BBC
        else:
            name = "synthetic"
            source = synthetic_corpus(Path(temp) / "source")
            print(f"BBC News not found at {BBC}: using a synthetic corpus of the same shape")
        runs = {}
        starts = {"bundled": measure_starts(ROOT / "corpus", args.processes)}
        for copies in args.copies:
            corpus = replicate(source, Path(temp) / f"x{copies}", copies)
            print(f"starting on {name} x{copies} ...", file=sys.stderr, flush=True)
            starts[f"{name} x{copies}"] = measure_starts(corpus, args.processes)
            if args.starts_only:
                shutil.rmtree(corpus)
                continue
            command = [
                sys.executable,
                __file__,
                "--child",
                str(corpus),
                "--questions",
                str(args.questions),
                "--reference-questions",
                str(args.reference_questions),
            ]
            # A full rebuild beside the serving engine doubles memory: only on the base size.
            if copies == 1:
                command.append("--full-rebuild")
            print(f"measuring {name} x{copies} ...", file=sys.stderr, flush=True)
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                print(done.stderr, file=sys.stderr)
                return done.returncode
            runs[copies] = json.loads(done.stdout.strip().splitlines()[-1])
            shutil.rmtree(corpus)
    print(starts_table(starts, args.processes))
    print(
        f"\nA start: from launching a process to its first answer, the corpus loaded as "
        "`articlebot run` loads it (index snapshot and sentence vectors in a data folder of its "
        "own; cold: empty; warm: a second start on the unchanged corpus). Memory is read while "
        f"the processes run, after {START_QUESTIONS} more questions each; PSS counts a page "
        "shared by n processes as 1/n in each. The machine's cores are shared with other work: "
        "the load average says how busy it was.\n"
    )
    if args.starts_only:
        return 0
    print(table(name, runs))
    print(
        f"\n{args.questions} questions per size after {WARM_UP} warm-up ones; rank-bm25 on the "
        f"first {args.reference_questions}. Retrieval rows use the tokens Engine.ask searches "
        "with; bm25s (lucene, float32) and rank-bm25 (ReferenceBM25) index the index's own "
        "sentence terms. Loop lag: a probe sleeping 1 ms while Engine.reloaded() runs in "
        "asyncio.to_thread and a question arrives every 20 ms, answered in a thread of its own "
        "as the Discord adapter does. Lag columns: max / p99 / longest question (asked to "
        "answered), ms (the reload's duration). As in the bot, every engine is kept out of "
        "the garbage collector's sight (gc.freeze) once loaded, and the serving engine has "
        "answered the questions before its reload. The index snapshot and the vectors made "
        "ahead are kept in a temporary data folder, as `articlebot run` keeps them under "
        "DATA_DIR (the full rebuilds keep nothing): at x8 the copies of one article share its "
        "vectors' file, so eight times as many distinct articles would take about eight times "
        "the x1 time."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
