"""Gateway shards: how a cluster splits them between processes, how a process names the ones
it holds, and how fast it may start their sessions. No Discord import: the cluster supervisor
uses it too."""

from __future__ import annotations

from bot.config import shard_ids_text

# Discord lets `max_concurrency` sessions start in any window of this many seconds.
IDENTIFY_WINDOW_SECONDS = 5.0


class IdentifyPacer:
    """Spaces out the IDENTIFYs of the shards one process starts, as Discord's session start
    limit asks: shards in the same bucket (`shard_id % max_concurrency`) start at least
    IDENTIFY_WINDOW_SECONDS apart; shards in different buckets may start at once.

    discord.py's own pacing waits 5 s before every shard but the first, whatever Discord allows.
    """

    def __init__(self, max_concurrency: int = 1) -> None:
        if max_concurrency < 1:
            raise ValueError(f"max_concurrency must be at least 1, got {max_concurrency!r}")
        self.max_concurrency = max_concurrency
        self._next_start: dict[int, float] = {}  # by bucket: the earliest the next may start

    def delay(self, shard_id: int, now: float) -> float:
        """Seconds from `now` (a monotonic clock) until `shard_id` may identify; its start is
        booked, so the next shard of its bucket waits for the window after it."""
        bucket = shard_id % self.max_concurrency
        start = max(now, self._next_start.get(bucket, now))
        self._next_start[bucket] = start + IDENTIFY_WINDOW_SECONDS
        return start - now


def describe_shards(shard_ids: list[int] | tuple[int, ...] | range | None, count: int) -> str:
    """The shards a process holds, for the log: "shards 0-1 of 4", "shard 0 of 1"."""
    held = range(count) if shard_ids is None else shard_ids
    label = "shard" if len(held) == 1 else "shards"
    return f"{label} {shard_ids_text(held)} of {count}"


def split_shards(shard_count: int, processes: int) -> list[range]:
    """`shard_count` shards in `processes` contiguous ranges, in order, whose sizes differ by
    at most one: 4 shards in 2 processes are 0-1 and 2-3."""
    if not 1 <= processes <= shard_count:
        raise ValueError(f"cannot split {shard_count} shard(s) between {processes} process(es)")
    size, extra = divmod(shard_count, processes)
    ranges, start = [], 0
    for number in range(processes):
        end = start + size + (1 if number < extra else 0)
        ranges.append(range(start, end))
        start = end
    return ranges
