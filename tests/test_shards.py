"""Gateway shards: split between processes, named as the settings spell them, and their
sessions started as fast as Discord's session start limit allows."""

from __future__ import annotations

import pytest

from bot.shards import IDENTIFY_WINDOW_SECONDS, IdentifyPacer, describe_shards, split_shards


@pytest.mark.parametrize(
    ("shards", "processes", "ranges"),
    [(4, 2, ["0-1", "2-3"]), (5, 2, ["0-2", "3-4"]), (3, 3, ["0", "1", "2"]), (7, 1, ["0-6"])],
)
def test_shards_split_into_contiguous_ranges_of_nearly_equal_size(
    shards: int, processes: int, ranges: list[str]
) -> None:
    split = split_shards(shards, processes)
    assert [describe_shards(r, shards).split(" ")[1] for r in split] == ranges
    assert [shard for r in split for shard in r] == list(range(shards))


def test_more_processes_than_shards_cannot_be_split() -> None:
    with pytest.raises(ValueError, match="cannot split 2 shard"):
        split_shards(2, 3)


def test_shards_are_named_as_the_settings_spell_them() -> None:
    assert describe_shards(None, 1) == "shard 0 of 1"
    assert describe_shards((0, 1, 3), 4) == "shards 0-1,3 of 4"


def test_sessions_of_one_bucket_start_a_window_apart_and_other_buckets_at_once() -> None:
    one_at_a_time = IdentifyPacer(max_concurrency=1)
    assert [one_at_a_time.delay(shard, now=100.0) for shard in (0, 1, 2)] == [
        0.0,
        IDENTIFY_WINDOW_SECONDS,
        2 * IDENTIFY_WINDOW_SECONDS,
    ]
    two_buckets = IdentifyPacer(max_concurrency=2)
    assert [two_buckets.delay(shard, now=100.0) for shard in (0, 1, 2, 3)] == [0, 0, 5, 5]
    # A bucket's window that has passed costs nothing: a shard reconnecting later starts at once.
    assert two_buckets.delay(0, now=200.0) == 0.0
