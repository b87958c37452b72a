"""Buttons that say yes or no about one thing, and keep working after a restart.

Their custom id carries both, `articlebot:<kind>:<1 or 0>:<what it is about>`, and the bot
registers each kind's pattern at start-up (discord.py's dynamic items), so a button on a message
sent before a restart still reaches the right code with what it needs.
"""

from __future__ import annotations

import re
from typing import ClassVar, Self

import discord


class FlagButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"articlebot:(?P<kind>[a-z]+):(?P<flag>[01]):(?P<subject>\S+)",
):
    """A yes (`flag`) or no button about `subject`. A kind of button subclasses it with its own
    template (naming the groups `flag` and `subject`), `kind` and the style of its yes."""

    kind: ClassVar[str]
    yes_style: ClassVar[discord.ButtonStyle]

    def __init__(self, subject: str, flag: bool, label: str) -> None:
        super().__init__(
            discord.ui.Button(
                label=label,
                style=self.yes_style if flag else discord.ButtonStyle.secondary,
                custom_id=f"articlebot:{self.kind}:{int(flag)}:{subject}",
            )
        )
        self.subject = subject
        self.flag = flag

    @classmethod
    async def from_custom_id(  # type: ignore[override]  # as discord.py's own examples
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Button[discord.ui.View],
        match: re.Match[str],
        /,
    ) -> Self:
        """The button again, from a press on any message that carries it."""
        return cls(match["subject"], match["flag"] == "1", item.label or "")
