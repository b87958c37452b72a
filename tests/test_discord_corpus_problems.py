"""What moderators drop in the corpus folder, through `/reload`: each problem file is named in the
message the moderator sees, and the rest of the corpus keeps being served."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from corpora import PROMPTS, ROOT
from discord_harness import (
    LIGHTHOUSE_QUESTION,
    LIGHTHOUSE_QUOTE,
    LIGHTHOUSE_TITLE,
    SEED_TITLE,
    HookedEngine,
    bot_process,
    fresh_corpus,
    render,
    serving,
    settings_for,
    unbolded,
)
from discord_standin import DiscordStandIn

from bot.engine.corpus import MAX_FILE_BYTES
from bot.engine.markup import escape_for_discord

# Fail a test in which the bot logged an error it did not expect.
pytestmark = pytest.mark.usefixtures("no_unexpected_errors")


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    """The shipped seed article and a second, short one, in a folder free to change."""
    return fresh_corpus(tmp_path)


def write(folder: Path, name: str, data: bytes) -> None:
    (folder / name).write_bytes(data)


# Each case: what the moderator drops in, the file's name, what the message says about it, and
# whether the file still becomes an article (read with a warning) or is skipped.
CASES: dict[str, tuple[Callable[[Path], None], str, str, bool]] = {
    "not_utf8": (
        lambda d: write(
            d, "cafe.txt", "Café talks\n\nThe café served 12 ministers.\n".encode("cp1252")
        ),
        "cafe.txt",
        "is not valid UTF-8 (byte 0xe9 at offset 3)",
        True,
    ),
    "empty": (lambda d: write(d, "empty.txt", b""), "empty.txt", "has no article text", False),
    "boilerplate_only": (
        lambda d: write(d, "leftovers.txt", b"Leave a Comment\n\nAdvertisement\n\nShare this\n"),
        "leftovers.txt",
        "has no article text",
        False,
    ),
    "binary_named_txt": (
        lambda d: write(d, "scan.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64)),
        "scan.txt",
        "looks like a binary file, not text; skipped",
        False,
    ),
    "huge": (
        lambda d: write(d, "dump.txt", b"Words and more words. " * (MAX_FILE_BYTES // 20)),
        "dump.txt",
        f"is larger than {MAX_FILE_BYTES // 1_000_000} MB; split it or trim it",
        False,
    ),
    "front_matter_never_closes": (
        lambda d: write(d, "unclosed.md", b"---\ntitle: Never closed\n\nBody text. More text.\n"),
        "unclosed.md",
        "front matter starts with '---' but never closes",
        True,
    ),
    "front_matter_line_without_key": (
        lambda d: write(d, "odd.md", b"---\ntitle: Odd one\njust words\n---\n\nBody text here.\n"),
        "odd.md",
        "front matter line “just words” is not 'key: value'; ignored",
        True,
    ),
    "link_outside_the_folder": (
        lambda d: os.symlink(ROOT / "README.md", d / "readme.md"),
        "readme.md",
        "is a link outside the corpus folder, or a broken one; skipped",
        False,
    ),
}


@pytest.mark.parametrize("case", CASES)
async def test_a_problem_file_is_named_to_the_moderator_and_the_rest_keeps_serving(
    standin: DiscordStandIn, corpus_dir: Path, case: str
) -> None:
    drop_in, name, message, becomes_article = CASES[case]
    moderator = standin.world.add_member("mod", roles=("Moderator",))
    reader = standin.world.add_member("reader")
    async with serving(standin, settings_for(standin, corpus_dir)):
        drop_in(corpus_dir)
        report = await standin.wait_for_answer(await standin.invoke_command(moderator, "reload"))
        sources = await standin.wait_for_answer(await standin.invoke_command(reader, "sources"))
        asked = await standin.invoke_command(reader, "ask", {"question": LIGHTHOUSE_QUESTION})
        answer = await standin.wait_for_answer(asked)
    assert report.ephemeral and report.content.startswith("Reloaded the corpus")
    assert f"Warnings:\n- {name}: {message}" in report.content
    article_id = name.rsplit(".", 1)[0]
    assert (f"Added: {article_id}" in report.content) is becomes_article
    assert SEED_TITLE in sources.content and LIGHTHOUSE_TITLE in sources.content
    assert LIGHTHOUSE_QUOTE in unbolded(answer.content)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (Path.unlink, "disappeared while the corpus was being read"),
        (lambda path: path.write_bytes(b""), "has no article text"),
    ],
    ids=["deleted", "truncated"],
)
async def test_a_file_deleted_or_truncated_during_the_reload_is_named_and_skipped(
    standin: DiscordStandIn,
    corpus_dir: Path,
    change: Callable[[Path], object],
    message: str,
) -> None:
    # Files are read in name order: "a-first" is read, then "b-second" changes before its turn.
    write(corpus_dir, "a-first.txt", b"First story\n\nThe first story has one sentence.\n")
    second = corpus_dir / "b-second.txt"
    write(corpus_dir, "b-second.txt", b"Second story\n\nThe second story has one sentence.\n")
    moderator = standin.world.add_member("mod", roles=("Moderator",))
    engine = HookedEngine.load(corpus_dir, PROMPTS)
    async with serving(standin, settings_for(standin, corpus_dir), engine):
        engine.on_file = lambda done, total: change(second) if done == 1 else None
        report = await standin.wait_for_answer(await standin.invoke_command(moderator, "reload"))
        sources = await standin.wait_for_answer(await standin.invoke_command(moderator, "sources"))
    assert f"Warnings:\n- b-second.txt: {message}" in report.content
    assert "Removed: b-second" in report.content
    assert "First story" in sources.content and "Second story" not in sources.content
    assert SEED_TITLE in sources.content and LIGHTHOUSE_TITLE in sources.content


async def test_a_symlink_loop_never_takes_the_corpus_down(
    standin: DiscordStandIn, corpus_dir: Path
) -> None:
    moderator = standin.world.add_member("mod", roles=("Moderator",))
    async with serving(standin, settings_for(standin, corpus_dir)):
        os.symlink("loop.txt", corpus_dir / "loop.txt")
        report = await standin.wait_for_answer(await standin.invoke_command(moderator, "reload"))
        sources = await standin.wait_for_answer(await standin.invoke_command(moderator, "sources"))
    assert SEED_TITLE in sources.content and LIGHTHOUSE_TITLE in sources.content
    assert "- loop.txt: is a link outside the corpus folder, or a broken one" in report.content


async def test_a_folder_without_usable_articles_keeps_the_old_index(
    standin: DiscordStandIn, corpus_dir: Path
) -> None:
    moderator = standin.world.add_member("mod", roles=("Moderator",))
    async with serving(standin, settings_for(standin, corpus_dir)):
        for path in corpus_dir.iterdir():
            path.unlink()
        write(corpus_dir, "empty.txt", b"")
        write(corpus_dir, "leftovers.txt", b"Advertisement\n")
        report = await standin.wait_for_answer(await standin.invoke_command(moderator, "reload"))
        sources = await standin.wait_for_answer(await standin.invoke_command(moderator, "sources"))
    lines = report.content.splitlines()
    assert lines[0] == render("discord_reload_failed", error=None).splitlines()[0]
    assert lines[1].startswith("No usable article in")
    # Each file's problem on its own line, under the error.
    assert lines[2].startswith("- empty.txt: has no article text")
    assert lines[3].startswith("- leftovers.txt: has no article text")
    assert SEED_TITLE in sources.content and LIGHTHOUSE_TITLE in sources.content


async def test_a_missing_folder_keeps_the_old_index(
    standin: DiscordStandIn, corpus_dir: Path
) -> None:
    moderator = standin.world.add_member("mod", roles=("Moderator",))
    async with serving(standin, settings_for(standin, corpus_dir)):
        shutil.rmtree(corpus_dir)
        report = await standin.wait_for_answer(await standin.invoke_command(moderator, "reload"))
        sources = await standin.wait_for_answer(await standin.invoke_command(moderator, "sources"))
    assert report.content.splitlines()[1] == escape_for_discord(
        f"The corpus folder {corpus_dir} does not exist. Create it and add articles."
    )
    assert SEED_TITLE in sources.content and LIGHTHOUSE_TITLE in sources.content


def without_file_permission_override() -> list[str]:
    """A command prefix that runs the bot subject to file permissions, even as root."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: chmod 000 would not stop the bot reading")
    # Root reads any file through these two capabilities; without them, mode bits apply.
    return [setpriv, "--bounding-set=-dac_override,-dac_read_search"]


async def test_an_unreadable_file_is_named_and_the_rest_keeps_serving(
    standin: DiscordStandIn, corpus_dir: Path, tmp_path: Path
) -> None:
    prefix = without_file_permission_override()
    moderator = standin.world.add_member("mod", roles=("Moderator",))
    async with bot_process(standin, corpus_dir, tmp_path, prefix=prefix) as bot:
        locked = corpus_dir / "locked.txt"
        write(corpus_dir, "locked.txt", b"Locked story\n\nNobody can read this sentence.\n")
        locked.chmod(0)
        report = await standin.wait_for_answer(
            await standin.invoke_command(moderator, "reload"), timeout=15
        )
        sources = await standin.wait_for_answer(await standin.invoke_command(moderator, "sources"))
        code = await bot.stop()
    assert code == 0, bot.log
    assert "Warnings:\n- locked.txt: cannot be read (permission denied)" in report.content
    assert SEED_TITLE in sources.content and LIGHTHOUSE_TITLE in sources.content
