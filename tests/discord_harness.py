"""Running the real bot against the Discord stand-in, in this process or as `articlebot run`, and
the articles, questions and checks the Discord tests share."""

from __future__ import annotations

import asyncio
import functools
import os
import re
import shutil
import signal
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from corpora import PROMPTS, ROOT
from discord_standin import BotMessage, DiscordStandIn
from discord_standin.client import running

from bot.config import Settings
from bot.discord import ArticleBot, build_bot
from bot.engine import Engine, ReloadReport

QUESTION = "Which countries requested the meeting?"
# Words of the seed article's second paragraph: in the reply whether it answers or points to it.
SEED_QUOTE = "The United States, Albania and Japan requested the meeting"


def unbolded(content: str) -> str:
    """A message as its quotes read without the bold marks on the words that answer."""
    return content.replace("**", "")


SEED_TITLE = "China opposes UN Security Council meeting on North Korea rights"
LIGHTHOUSE = """Harbour town restores its old lighthouse

By Ingrid Berg

The lighthouse on Svanøy island was switched back on last week after a two-year restoration \
paid for by the fishermen's cooperative.

Volunteers repainted the tower red and white, and a local glazier rebuilt the lantern room.
"""
LIGHTHOUSE_TITLE = "Harbour town restores its old lighthouse"
LIGHTHOUSE_QUESTION = "Who paid for the lighthouse restoration?"
LIGHTHOUSE_QUOTE = "paid for by the fishermen's cooperative"


# What a crowd asks in the load test and bench/load.py: answered, declined, about the article.
LOAD_QUESTIONS = [
    "Which three countries requested the Security Council meeting?",
    "Why does China oppose the meeting?",
    "Who paid for the lighthouse restoration?",
    "When will the meeting be held?",
    "What did the United States accuse China of?",
    "Who wrote the article?",
    "What is the weather like on Mars?",
    "How many people fled North Korea?",
]
# What the crowd replies to the bot's answers with: follow-ups, and a question standing alone.
LOAD_FOLLOW_UPS = ["When's it happening?", "Who asked for it?", "Why?", "Who wrote this?"]


def fresh_corpus(tmp_path: Path, *, lighthouse: bool = True) -> Path:
    """The shipped seed article, and the lighthouse story unless told not, in a folder of
    `tmp_path` that a test may change."""
    folder = Path(shutil.copytree(ROOT / "corpus", tmp_path / "corpus"))
    if lighthouse:
        (folder / "harbour-lighthouse.txt").write_text(LIGHTHOUSE, encoding="utf-8")
    return folder


class HookedEngine(Engine):
    """The real engine; during its reload `on_file(done, total)` runs after each file is read,
    which is where a test can break the read or change the next file. The engine a reload
    builds is a plain one."""

    on_file: Callable[[int, int], None] | None = None

    def reloaded(
        self, progress: Callable[[int, int], None] | None = None
    ) -> tuple[Engine, ReloadReport]:
        return super().reloaded(self.on_file or progress)


def settings_for(standin: DiscordStandIn, corpus_dir: Path, **overrides: Any) -> Settings:
    """Settings that point the bot at the stand-in, without cooldowns unless asked, keeping its
    records in DATA_DIR (each test's own folder, see conftest.py)."""
    values: dict[str, Any] = {
        "data_dir": Path(os.environ["DATA_DIR"]),
        "discord_token": standin.token,
        "corpus_dir": corpus_dir,
        "prompts_dir": PROMPTS,
        "question_cooldown_seconds": 0.0,
        "reload_cooldown_seconds": 0.0,
        "api_base": standin.api_base,
        "gateway_url": standin.gateway_url,
        **overrides,
    }
    return Settings(**values)


@asynccontextmanager
async def serving(
    standin: DiscordStandIn, settings: Settings, engine: Engine | None = None
) -> AsyncIterator[ArticleBot]:
    """The bot from `build_bot`, connected to the stand-in and ready."""
    engine = engine or Engine.load(settings.corpus_dir, settings.prompts_dir)
    bot = build_bot(settings, engine, guild_ready_timeout=0.05)
    async with running(bot, standin):
        yield bot


def render(name: str, **context: Any) -> str:
    """A template as the bot renders it, to compare whole messages."""
    return Engine.load(ROOT / "corpus", PROMPTS).render(name, **context)


def reply_kind(reply: BotMessage) -> str:
    """What a reply is: "cooldown" (asked too soon), "reloaded" (a reload report), "failure"
    (an apology, a restart, a failed reload) or "answer" (quotes, or the articles not saying)."""
    for kind, openings in _openings().items():
        if reply.content.startswith(openings):
            return kind
    return "answer"


@functools.cache
def _openings() -> dict[str, tuple[str, ...]]:
    """The first words of the replies that are not answers, as the templates say them."""

    def opening(template: str, **context: Any) -> str:
        return " ".join(render(template, **context).split()[:2])

    return {
        "cooldown": (opening("discord_cooldown", seconds=2, action="question"),),
        "reloaded": ("Reloaded the corpus",),
        "failure": tuple(
            opening(name, error=None)
            for name in ("discord_apology", "discord_restarting", "discord_reload_failed")
        ),
    }


def mention(standin: DiscordStandIn, text: str) -> str:
    """`text` as a message that mentions the bot."""
    return f"<@{standin.world.bot.id}> {text}"


class BotProcess:
    """`python -m bot run` against the stand-in, its log read line by line as it comes."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[str] = []
        self._new_line = asyncio.Condition()
        self._reader = asyncio.create_task(self._read_log())

    async def _read_log(self) -> None:
        assert self.process.stderr is not None
        # Read continuously: a full pipe would block the bot mid-log.
        async for raw in self.process.stderr:
            async with self._new_line:
                self.lines.append(raw.decode(errors="replace").rstrip("\n"))
                self._new_line.notify_all()

    @property
    def log(self) -> str:
        """Everything the bot logged so far."""
        return "\n".join(self.lines)

    async def wait_for_log(self, pattern: str, *, timeout: float = 30.0) -> str:
        """The first log line matching the regex `pattern`."""

        def found() -> str | None:
            return next((line for line in self.lines if re.search(pattern, line)), None)

        try:
            async with asyncio.timeout(timeout), self._new_line:
                await self._new_line.wait_for(lambda: found() is not None)
        except TimeoutError:
            raise TimeoutError(f"no log line matched {pattern!r}; log:\n{self.log}") from None
        line = found()
        assert line is not None
        return line

    async def stop(self, *, timeout: float = 30.0) -> int:
        """SIGTERM, then the exit code once the process ended and its log was read."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        return await self.exit_code(timeout=timeout)

    async def exit_code(self, *, timeout: float = 30.0) -> int:
        """The exit code, once the process ended by itself and its log was read."""
        async with asyncio.timeout(timeout):
            code = await self.process.wait()
            await self._reader
        return code


@asynccontextmanager
async def bot_process(
    standin: DiscordStandIn,
    corpus_dir: Path,
    workdir: Path,
    *,
    token: str | None = None,
    log_level: str = "INFO",
    prefix: Sequence[str] = (),
    command: Sequence[str] = ("run",),
    wait_until_ready: bool = True,
) -> AsyncIterator[BotProcess]:
    """`articlebot run` (or another `command` with its options) on `corpus_dir`, pointed at the
    stand-in (run in `workdir`, so no developer's .env is read); killed if the test leaves it
    running. `wait_until_ready` waits for the first server to reach it."""
    environment = {
        **os.environ,
        "DISCORD_TOKEN": standin.token if token is None else token,
        "DISCORD_API_BASE": standin.api_base,
        "DISCORD_GATEWAY_URL": standin.gateway_url,
        "CORPUS_DIR": str(corpus_dir),
        "LOG_LEVEL": log_level,
        "QUESTION_COOLDOWN_SECONDS": "0",
        "RELOAD_COOLDOWN_SECONDS": "0",
    }
    process = await asyncio.create_subprocess_exec(
        *prefix,
        sys.executable,
        "-m",
        "bot",
        *command,
        cwd=workdir,
        env=environment,
        stderr=asyncio.subprocess.PIPE,
    )
    bot = BotProcess(process)
    try:
        if wait_until_ready:
            # The server arrives before discord.py's ready event, which waits two seconds
            # for more servers; events after it already reach the bot in order.
            await standin.frames.wait_for(lambda f: f.t == "GUILD_CREATE", timeout=30)
        yield bot
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        bot._reader.cancel()
