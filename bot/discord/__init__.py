"""The Discord adapter: parse the interaction, defer, call the engine, send; no answer logic."""

from bot.discord.client import ArticleBot, build_bot
from bot.discord.runner import run_bot

__all__ = ["ArticleBot", "build_bot", "run_bot"]
