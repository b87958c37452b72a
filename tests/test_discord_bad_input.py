"""Whatever people type reaches the real bot through the stand-in: every question gets exactly one
short reply that pings nobody and keeps its markdown to itself, and no option value opens a file.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from discord_harness import (
    QUESTION,
    fresh_corpus,
    mention,
    render,
    serving,
    settings_for,
)
from discord_standin import BotMessage, DiscordStandIn, Interaction
from discord_standin.world import Json
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.discord import ArticleBot
from bot.engine.engine import MAX_QUESTION_CHARS, MAX_TOPIC_CHARS
from bot.engine.markup import DISCORD_MESSAGE_LIMIT

# Fail a test in which the bot logged an error it did not expect.
pytestmark = pytest.mark.usefixtures("no_unexpected_errors")

# What people do type: nothing, too much, noise, invisible and direction-changing characters,
# markdown that would swallow the reply, pings, invites, other scripts.
AWKWARD_QUESTIONS = [
    "",
    "   \n\t\u3000 ",
    "x" * 10_000,
    "why " * 2_500,
    "?!?!… ;:—()[]{}<>«»",
    "😀🔥🇺🇳👍🏽🙈",
    "\u200b\u200c\u200d\u2060\ufeff",
    "\u202eWhy does China oppose the meeting?\u202c",
    "\u2067\u200f\u061f\u2069",
    "**bold** __under__ ~~strike~~ ||spoiler|| *lean*",
    "```py\nimport os; os.remove('/')\n```",
    "` unclosed code",
    "> quoted\n# Heading\n- item\n-# small",
    "@everyone @here who requested the meeting?",
    "<@&123456789012345678> <@123456789012345678> <@!42> <#99> </ask:1>",
    "discord.gg/abcdef https://discord.com/invite/xyz [link](https://evil.example)",
    "북한 인권 문제에 대해 중국은 왜 반대합니까?",
    "لماذا تعارض الصين اجتماع مجلس الأمن؟",
    "中国为什么反对安理会开会？",
    "\x00\x07\x1b[31m",
    "\\",
    QUESTION,
    QUESTION + " @everyone ```",
]
FRAGMENTS = st.sampled_from(
    [
        "@everyone",
        "<@&1>",
        "<@2>",
        "```",
        "`",
        "||",
        "**",
        "~~",
        "_",
        "> ",
        "# ",
        "\u202e",
        "\u200b",
        "Security Council",
        "North Korea",
        "China",
        "who",
        "why",
        "?",
        "😀",
        "회의",
        "اجتماع",
        "会议",
    ]
)
QUESTIONS = st.one_of(
    st.sampled_from(AWKWARD_QUESTIONS),
    st.text(max_size=300),
    st.text(st.characters(categories=["Lo", "So", "Cf", "Mn", "Po", "Zs", "Sm"]), max_size=80),
    st.lists(st.one_of(FRAGMENTS, st.text(max_size=12)), max_size=8).map(" ".join),
)
BATCH = 10  # per random example; the awkward list above is asked whole as one more
EXAMPLES = 2  # Hypothesis starts with the simplest batch; the others are drawn at random
_MENTIONS = re.compile(r"@(everyone|here)|<@[!&]?\d|<#\d|</\w", re.IGNORECASE)
_ESCAPED = re.compile(r"\\.", re.DOTALL)


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    """The shipped seed article and a second, short one, in a folder free to change."""
    return fresh_corpus(tmp_path)


@pytest.fixture
async def live_bot(standin: DiscordStandIn, corpus_dir: Path) -> AsyncIterator[ArticleBot]:
    """One bot for every example of a property test, instead of one bot per example."""
    async with serving(standin, settings_for(standin, corpus_dir)) as bot:
        yield bot


def markdown_left_open(text: str) -> list[str]:
    """The markdown markers that open something the reply never closes (escaped ones are text)."""
    plain = _ESCAPED.sub("", text)
    fences = plain.count("```")
    inline = plain.replace("```", "")
    markers = {"```": fences, "`": inline.count("`"), "||": plain.count("||")}
    markers |= {m: plain.count(m) for m in ("**", "~~", "__")}
    return [marker for marker, count in markers.items() if count % 2]


def check_reply(reply: BotMessage) -> None:
    """One reply to an awkward question: an answer or a decline that fits and pings nobody."""
    assert 0 < len(reply.content) <= DISCORD_MESSAGE_LIMIT
    assert reply.allowed_mentions is not None and reply.allowed_mentions["parse"] == []
    assert not reply.pinged_anyone
    assert not _MENTIONS.search(reply.content), reply.content
    assert not markdown_left_open(reply.content), reply.content
    assert reply.content != render("discord_apology")


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@example(AWKWARD_QUESTIONS)
@given(questions=st.lists(QUESTIONS, min_size=BATCH, max_size=BATCH))
async def test_any_question_by_mention_or_ask_gets_one_short_reply_that_pings_nobody(
    standin: DiscordStandIn, live_bot: ArticleBot, questions: list[str]
) -> None:
    asker = standin.world.add_member(f"asker{len(standin.world.guild.members)}")
    sent: list[Json | Interaction] = []
    for question in questions:
        sent.append(await standin.post_message(asker, mention(standin, question)))
        sent.append(
            await standin.invoke_command(
                asker,
                "ask",
                {"question": question},
                # Discord's client keeps /ask within its limits; a proxy need not.
                unchecked=not 1 <= len(question) <= MAX_QUESTION_CHARS,
            )
        )
    replies = [await standin.wait_for_answer(to, timeout=30) for to in sent]
    # One more round trip: a second reply to anything above would have arrived before its answer.
    await standin.wait_for_answer(await standin.post_message(asker, mention(standin, QUESTION)))
    replies_to = Counter(
        m.interaction_id if m.interaction_id is not None else m.reply_to
        for m in standin.messages
        if m.content
    )
    for to, reply in zip(sent, replies, strict=True):
        check_reply(reply)
        assert replies_to[to.id if isinstance(to, Interaction) else int(to["id"])] == 1


# --- slash-command options --------------------------------------------------------------------

_opened: list[str] | None = None
_hooked = False


def _record_opens(event: str, args: tuple[object, ...]) -> None:
    if event == "open" and _opened is not None:
        _opened.append(str(args[0]))


@pytest.fixture
def opened_files() -> Iterator[list[str]]:
    """Every file this process opens while the test runs (Python's "open" audit event)."""
    global _opened, _hooked
    if not _hooked:  # an audit hook stays for the life of the process; it idles between tests
        sys.addaudithook(_record_opens)
        _hooked = True
    _opened = []
    try:
        yield _opened
    finally:
        _opened = None


@pytest.mark.parametrize(
    "name",
    [
        "no-such-article",
        "../../etc/passwd",
        "/etc/passwd",
        "..\\..\\windows\\win.ini",
        "file:///etc/passwd",
        "~/.ssh/id_rsa",
        "%2e%2e%2fetc%2fpasswd",
        "reuters-china-un-north-korea-rights.txt/../../../etc/passwd",
        "*",
    ],
)
async def test_an_article_name_that_is_no_article_is_told_privately_and_opens_no_file(
    standin: DiscordStandIn, live_bot: ArticleBot, opened_files: list[str], name: str
) -> None:
    alice = standin.world.add_member("alice")
    asked = await standin.invoke_command(alice, "summary", {"article": name})
    reply = await standin.wait_for_answer(asked)
    assert reply.ephemeral and "There is no article called" in reply.content
    assert len(reply.content) <= DISCORD_MESSAGE_LIMIT
    assert "root:" not in reply.content  # /etc/passwd's first line
    suspicious = ("passwd", "win.ini", ".ssh", "%2e")
    assert not [path for path in opened_files if any(s in path for s in suspicious)]


async def test_option_values_beyond_discords_limits_get_clear_short_replies(
    standin: DiscordStandIn, live_bot: ArticleBot, opened_files: list[str]
) -> None:
    alice = standin.world.add_member("alice")
    huge = "../" * 3_000 + "etc/passwd"
    cases = [
        ("summary", {"article": huge}, "There is no article called"),
        ("summary", {"topic": huge}, "says nothing about"),
        ("summary", {"length": "../../etc/passwd"}, "There is no summary length"),
        ("ask", {"question": huge}, ""),
    ]
    replies = []
    for command, options, expected in cases:
        asked = await standin.invoke_command(alice, command, options, unchecked=True)
        replies.append((await standin.wait_for_answer(asked), expected))
    for reply, expected in replies:
        assert expected in reply.content and len(reply.content) <= DISCORD_MESSAGE_LIMIT
        assert reply.content != render("discord_apology")
    assert not [path for path in opened_files if "passwd" in path]


async def test_discords_client_is_told_the_option_limits(
    standin: DiscordStandIn, live_bot: ArticleBot
) -> None:
    registered = await standin.wait_for_request("PUT", r"/applications/\d+/commands")
    options = {
        (command["name"], option["name"]): option
        for command in registered.json
        for option in command.get("options", [])
    }
    assert options[("ask", "question")]["max_length"] == MAX_QUESTION_CHARS
    assert options[("summary", "topic")]["max_length"] == MAX_TOPIC_CHARS
    assert options[("summary", "article")]["max_length"] == 100
    alice = standin.world.add_member("alice")
    with pytest.raises(ValueError, match="wrong length"):
        await standin.invoke_command(alice, "ask", {"question": "x" * (MAX_QUESTION_CHARS + 1)})
