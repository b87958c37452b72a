"""Storage: database size and write latency for replies and votes, on a fresh SQLite file or
an empty PostgreSQL database.

Run: python bench/storage.py [--records 10000] [--dir FOLDER | --database-url URL]

Writes `--records` replies (1 to 3 citations each, a quarter of them declines) and 1 to 3 votes
on about a third of them, one call at a time as the bot makes them, each its own committed
transaction. Every commit waits for the disk (SQLite's synchronous=FULL, PostgreSQL's default
synchronous_commit), so the latencies depend on the disk: `--dir` puts the temporary SQLite
database on the disk the bot would use. `--database-url` writes to a PostgreSQL database
instead (postgresql://user:password@host/name): make an empty one for it, as the records are
left there. Seeded, so runs write the same records.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text

from bot.records import DATABASE_FILE_NAME, CitedPassage, ReplyRecord, Storage
from bot.records.database import database_url

SEED = 20_260_414
ASKERS = 500
WORDS = (
    "minister council meeting security sanctions ferry harbour electric vote budget report "
    "election spokesman agency statement talks border trade health hospital vaccine season"
).split()


def sentence(rng: random.Random, words: int) -> str:
    """Article-like text of about `words` words."""
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def make_reply(rng: random.Random, n: int, asker: str, started: float) -> ReplyRecord:
    """The n-th reply: a question of 6-15 words citing 1-3 quotes of 15-45 words."""
    answered = rng.random() > 0.25
    citations = tuple(
        CitedPassage(
            article_id=f"news/article-{rng.randrange(200)}",
            paragraph=rng.randrange(1, 30),
            start=(start := rng.randrange(20_000)),
            end=start + 250,
            quote=sentence(rng, rng.randint(15, 45)),
        )
        for _ in range(rng.randint(1, 3) if answered else rng.randint(0, 1))
    )
    return ReplyRecord(
        id=uuid.UUID(int=rng.getrandbits(128), version=4).hex,
        question=sentence(rng, rng.randint(6, 15)).rstrip(".") + "?",
        answered=answered,
        citations=citations,
        corpus_version="2026-04-14T09:30:00Z/42",
        guild_id=1_100_000_000_000_000_000 + rng.randrange(5),
        channel_id=1_200_000_000_000_000_000 + rng.randrange(40),
        asker=asker,
        at=started + n,
    )


def milliseconds(timings: Sequence[float]) -> str:
    """p50 / p99 / max of timings in seconds, in milliseconds."""
    ordered = sorted(timings)
    p99 = ordered[max(0, int(len(ordered) * 0.99) - 1)]
    return (
        f"p50 {statistics.median(ordered) * 1000:.3f} ms, p99 {p99 * 1000:.3f} ms, "
        f"max {ordered[-1] * 1000:.3f} ms"
    )


@dataclass
class Measured:
    """What writing and reading back the records took."""

    where: str
    citations: int
    reply_times: list[float]
    vote_times: list[float]
    replies: int
    read_replies: float
    tallies: int
    read_tallies: float


def write_records(storage: Storage, records: int) -> Measured:
    """Write the records one call at a time, then read them all back; what it took."""
    rng = random.Random(SEED)
    storage.migrate()
    askers = [storage.pseudonym(user_id) for user_id in range(ASKERS)]
    started = time.time()
    reply_times: list[float] = []
    vote_times: list[float] = []
    citations = 0
    for n in range(records):
        reply = make_reply(rng, n, rng.choice(askers), started)
        citations += len(reply.citations)
        began = time.perf_counter()
        storage.record_reply(reply)
        reply_times.append(time.perf_counter() - began)
        if rng.random() < 1 / 3:
            for voter in rng.sample(range(ASKERS), rng.randint(1, 3)):
                began = time.perf_counter()
                storage.record_vote(reply.id, voter, helpful=rng.random() < 0.7)
                vote_times.append(time.perf_counter() - began)
    began = time.perf_counter()
    replies = storage.replies_since(0)
    read_replies = time.perf_counter() - began
    began = time.perf_counter()
    tallies = storage.vote_tallies(0)
    read_tallies = time.perf_counter() - began
    return Measured(
        storage.describe(),
        citations,
        reply_times,
        vote_times,
        len(replies),
        read_replies,
        len(tallies),
        read_tallies,
    )


def postgresql_size(url: str) -> int:
    """Bytes the records' tables take, with their indexes, in a PostgreSQL database."""
    engine = create_engine(database_url(url))
    try:
        with engine.connect() as connection:
            return int(
                connection.execute(
                    text(
                        "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c "
                        "WHERE c.relkind = 'r' AND c.relname IN "
                        "('meta', 'replies', 'citations', 'votes', 'shelves', 'shelf_changes')"
                    )
                ).scalar_one()
            )
    finally:
        engine.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000, help="replies to write")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--dir", type=Path, default=None, help="where the SQLite folder goes")
    where.add_argument(
        "--database-url", metavar="URL", help="an empty PostgreSQL database to write to instead"
    )
    options = parser.parse_args(argv)

    if options.database_url:
        storage = Storage(options.database_url)
        try:
            if storage.replies_since(0):
                parser.error("the database already holds records: give it an empty one")
            measured = write_records(storage, options.records)
        finally:
            storage.close()
        size = postgresql_size(options.database_url)
    else:
        with tempfile.TemporaryDirectory(dir=options.dir, prefix="articlebot-storage-") as folder:
            storage = Storage.for_data_dir(Path(folder))
            try:
                measured = write_records(storage, options.records)
            finally:
                storage.close()  # checkpoints the write-ahead log into the file
            size = (Path(folder) / DATABASE_FILE_NAME).stat().st_size

    per_10k = size * 10_000 / options.records
    print(
        f"{options.records} replies, {measured.citations} citations, "
        f"{len(measured.vote_times)} votes in {measured.where}"
    )
    print(f"database: {size / 1e6:.2f} MB, {per_10k / 1e6:.2f} MB per 10,000 replies")
    print(f"record_reply: {milliseconds(measured.reply_times)}")
    print(f"record_vote:  {milliseconds(measured.vote_times)}")
    print(
        f"replies_since (all {measured.replies}): {measured.read_replies * 1000:.0f} ms; "
        f"vote_tallies (all {measured.tallies}): {measured.read_tallies * 1000:.0f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
