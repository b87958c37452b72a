"""Per-person cooldowns, on a clock the test moves by hand."""

from __future__ import annotations

import pytest

from bot.discord.cooldown import Cooldown


class Clock:
    """A monotonic clock that only moves when told."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_second_use_within_the_cooldown_waits_for_the_rest() -> None:
    clock = Clock()
    cooldown = Cooldown(5.0, clock)
    assert cooldown.try_start("alice") == 0.0
    clock.now += 2.0
    assert cooldown.try_start("alice") == pytest.approx(3.0)
    clock.now += 3.0
    assert cooldown.try_start("alice") == 0.0


def test_a_refused_use_does_not_extend_the_wait() -> None:
    clock = Clock()
    cooldown = Cooldown(5.0, clock)
    cooldown.try_start("alice")
    clock.now += 4.0
    cooldown.try_start("alice")
    clock.now += 1.0
    assert cooldown.try_start("alice") == 0.0


def test_each_person_has_their_own_cooldown() -> None:
    cooldown = Cooldown(5.0, Clock())
    assert cooldown.try_start("alice") == 0.0
    assert cooldown.try_start("bob") == 0.0


def test_zero_seconds_never_makes_anyone_wait() -> None:
    cooldown = Cooldown(0.0, Clock())
    assert [cooldown.try_start("alice") for _ in range(3)] == [0.0, 0.0, 0.0]


def test_many_people_do_not_change_anyones_wait() -> None:
    clock = Clock()
    cooldown = Cooldown(5.0, clock)
    cooldown.try_start("alice")
    for person in range(2000):
        clock.now += 0.001
        cooldown.try_start(person)
    assert cooldown.try_start("alice") == pytest.approx(5.0 - 2.0)


def test_a_negative_cooldown_is_refused() -> None:
    with pytest.raises(ValueError, match="-1"):
        Cooldown(-1.0)
