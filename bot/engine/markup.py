"""Making text from the corpus or a user safe to post on Discord: no pings, no stray markdown."""

from __future__ import annotations

import re

DISCORD_MESSAGE_LIMIT = 2000
_ZERO_WIDTH_SPACE = "\u200b"
# Characters Discord reads as markdown anywhere in a line.
_INLINE_MARKDOWN = re.compile(r"([\\*_~`|\[\]<>])")
# "@everyone", "@here", and "<@123>", "<@&123>", "<#123>", "</cmd:1>" mentions.
_AT_MENTION = re.compile(r"@(?=everyone|here|[!&]?\d)", re.IGNORECASE)
_WHITESPACE = re.compile(r"\s+")
_LINE_START_MARKUP = re.compile(r"(?:#{1,3}|-#|[-+>]|\d+\.)\s")
# Direction overrides and invisible characters can make a quote look like something else.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def escape_for_discord(text: str) -> str:
    """Show `text` literally in a Discord message: one line, markdown escaped, mentions inert."""
    text = _INVISIBLE.sub("", text)
    text = _WHITESPACE.sub(" ", text).strip()
    text = _INLINE_MARKDOWN.sub(r"\\\1", text)
    text = _AT_MENTION.sub("@" + _ZERO_WIDTH_SPACE, text)
    # "# ", "- ", "> " or "1. " would start a heading, list or quote if the value began a line.
    if _LINE_START_MARKUP.match(text):
        text = "\\" + text
    return text


# Stand-ins for the emphasis marks while the quote is escaped: private-use characters, which no
# escaping rule touches and which are taken out of the text first.
_OPEN, _CLOSE = "\ue000", "\ue001"


def escape_emphasizing(text: str, start: int, end: int, mark: str) -> str:
    """`text` as `escape_for_discord` shows it, with text[start:end] between two `mark`s (the
    template's markdown, "**" for bold). The words stay as they are; only the marks are added."""

    def plain(part: str) -> str:
        return part.replace(_OPEN, "").replace(_CLOSE, "")

    marked = plain(text[:start]) + _OPEN + plain(text[start:end]) + _CLOSE + plain(text[end:])
    return escape_for_discord(marked).replace(_OPEN, mark).replace(_CLOSE, mark)
