"""A crowd: many people asking the bot at once, by mention and by `/ask`, following up its
answers and voting on them, and the reckoning of what came back for each. Used by the load test
and by bench/load.py."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from .interactions import Interaction
from .rest import BotMessage
from .server import DiscordStandIn
from .world import Channel, Guild, User

Way = Literal["mention", "ask", "follow-up", "vote"]


@dataclass(frozen=True)
class Asked:
    """One thing someone asked the bot, and when (time.monotonic()); known by its `key`."""

    person: User = field(compare=False)
    way: Way | Literal["reload"] = field(compare=False)
    text: str = field(compare=False)
    at: float = field(compare=False)
    key: tuple[str, int]  # ("message", id) or ("interaction", id) it answers


@dataclass
class Reckoning:
    """For every question asked, the replies it got."""

    replies: dict[Asked, list[BotMessage]] = field(default_factory=dict)

    @property
    def lost(self) -> list[Asked]:
        """Questions that got no reply."""
        return [asked for asked, got in self.replies.items() if not got]

    @property
    def repeated(self) -> list[Asked]:
        """Questions that got more than one reply."""
        return [asked for asked, got in self.replies.items() if len(got) > 1]

    def latencies(self) -> list[float]:
        """Seconds from each question to its first reply."""
        return sorted(got[0].at - asked.at for asked, got in self.replies.items() if got)

    def count(self, kind: Callable[[BotMessage], str]) -> Counter[str]:
        """How many first replies fall in each `kind`."""
        return Counter(kind(got[0]) for got in self.replies.values() if got)


class Crowd:
    """`size` people who ask questions, each in the "general" channel of their server (spread
    evenly over `guilds`, by default the stand-in's first), and a moderator of the first server
    who reloads."""

    def __init__(
        self,
        standin: DiscordStandIn,
        size: int,
        *,
        seed: int = 0,
        guilds: Sequence[Guild] = (),
    ) -> None:
        self.standin = standin
        world = standin.world
        spread = list(guilds) or [world.guild]
        self.people: list[User] = []
        self._channel: dict[int, Channel] = {}  # where each person asks, by user id
        for n in range(size):
            guild = spread[n % len(spread)]
            person = world.add_member(f"reader{n}", guild=guild)
            self.people.append(person)
            self._channel[person.id] = guild.channel("general")
        self.moderator = world.add_member("editor", roles=("Moderator",), guild=spread[0])
        self._channel_of_moderator = spread[0].channel("general")
        self.asked: list[Asked] = []
        self._random = random.Random(seed)

    def home(self, person: User) -> Channel:
        """The channel where `person` asks."""
        return self._channel[person.id]

    async def ask(self, person: User, way: Way, question: str) -> Asked:
        """`person` asks `question` by mentioning the bot or with `/ask`."""
        at = time.monotonic()
        channel = self._channel[person.id]
        if way == "mention":
            content = f"<@{self.standin.world.bot.id}> {question}"
            message = await self.standin.post_message(person, content, channel=channel)
            asked = Asked(person, way, question, at, ("message", int(message["id"])))
        else:
            interaction = await self.standin.invoke_command(
                person, "ask", {"question": question}, channel=channel
            )
            asked = Asked(person, way, question, at, ("interaction", interaction.id))
        self.asked.append(asked)
        return asked

    async def follow_up(self, person: User, answer: BotMessage, question: str) -> Asked:
        """`person` replies to one of the bot's answers with a follow-up question."""
        at = time.monotonic()
        channel = self._channel[person.id]
        message = await self.standin.post_message(
            person, question, channel=channel, reply_to=answer
        )
        asked = Asked(person, "follow-up", question, at, ("message", int(message["id"])))
        self.asked.append(asked)
        return asked

    async def vote(self, person: User, answer: BotMessage) -> Asked:
        """`person` presses one of the vote buttons under one of the bot's answers."""
        at = time.monotonic()
        button = self._random.choice(answer.buttons)
        click = await self.standin.click_button(person, answer, button["custom_id"])
        asked = Asked(person, "vote", button["label"], at, ("interaction", click.id))
        self.asked.append(asked)
        return asked

    def _answers(self, person: User) -> list[BotMessage]:
        """The bot's answers so far that `person` can reply to and vote on: public replies in
        their channel, with buttons."""
        channel_id = str(self._channel[person.id].id)
        return self.standin.messages.matching(
            lambda m: (
                m.via == "channel"
                and not m.ephemeral
                and bool(m.buttons)
                and m.payload["channel_id"] == channel_id
            )
        )

    async def _answers_once_there(self, person: User, timeout: float = 30.0) -> list[BotMessage]:
        """`person`'s answers (see `_answers`), waiting up to `timeout` for the first when there
        is none yet; none if it never comes."""
        if not self._answers(person):
            with contextlib.suppress(TimeoutError):
                await self.standin.messages.wait_until(
                    lambda _: bool(self._answers(person)), timeout=timeout
                )
        return self._answers(person)

    async def reload(self) -> Asked:
        """The moderator runs `/reload`."""
        at = time.monotonic()
        interaction: Interaction = await self.standin.invoke_command(
            self.moderator, "reload", channel=self._channel_of_moderator
        )
        asked = Asked(self.moderator, "reload", "", at, ("interaction", interaction.id))
        self.asked.append(asked)
        return asked

    async def storm(
        self,
        questions: Sequence[str],
        count: int,
        *,
        seconds: float,
        reloads: int = 0,
        before_reload: Callable[[int], Awaitable[None] | None] = lambda _: None,
        follow_ups: Sequence[str] = (),
        votes: bool = False,
    ) -> None:
        """`count` questions from random people, half by mention and half by `/ask`, spread
        at random over about `seconds`; `reloads` reloads evenly in the middle of it. With
        `follow_ups` and `votes`, a quarter each of them are instead a reply to an earlier answer
        asking one of `follow_ups`, and a press of one of its vote buttons. One of those waits for
        the first answer it can go to, so how many there are does not hang on how fast the bot
        answers."""
        times = sorted(self._random.uniform(0, seconds) for _ in range(count))
        reload_after = {round(count * (n + 1) / (reloads + 1)) for n in range(reloads)}
        start = time.monotonic()
        for index, due in enumerate(times):
            if index in reload_after:
                prepared = before_reload(len([a for a in self.asked if a.way == "reload"]))
                if prepared is not None:
                    await prepared
                await self.reload()
            delay = start + due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            person = self._random.choice(self.people)
            replies_to_an_answer = (follow_ups and index % 4 == 2) or (votes and index % 4 == 3)
            answers = await self._answers_once_there(person) if replies_to_an_answer else []
            if follow_ups and answers and index % 4 == 2:
                answer = self._random.choice(answers)
                await self.follow_up(person, answer, self._random.choice(follow_ups))
            elif votes and answers and index % 4 == 3:
                await self.vote(person, self._random.choice(answers))
            else:
                way: Way = "mention" if index % 2 == 0 else "ask"
                await self.ask(person, way, self._random.choice(questions))

    async def reckon(self, *, timeout: float = 60.0) -> Reckoning:
        """Wait until every question has a reply (or `timeout` passes), then one round trip
        more, so that a second reply to anything would have arrived; then count."""
        expected = {asked.key for asked in self.asked}

        def all_answered(messages: list[BotMessage]) -> bool:
            return expected <= {_key(m) for m in messages if m.content}

        with contextlib.suppress(TimeoutError):  # the reckoning lists what was lost
            await self.standin.messages.wait_until(all_answered, timeout=timeout)
        last = await self.ask(self.people[0], "mention", "Who wrote the article?")
        self.asked.remove(last)
        await self.standin.messages.wait_for(lambda m: _key(m) == last.key, timeout=timeout)
        replies: dict[tuple[str, int], list[BotMessage]] = {key: [] for key in expected}
        for message in self.standin.messages:
            key = _key(message)
            if key in replies and message.content:
                replies[key].append(message)
        return Reckoning({asked: replies[asked.key] for asked in self.asked})


def _key(message: BotMessage) -> tuple[str, int] | None:
    if message.interaction_id is not None:
        return ("interaction", message.interaction_id)
    if message.reply_to is not None:
        return ("message", message.reply_to)
    return None
