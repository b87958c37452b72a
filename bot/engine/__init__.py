"""The answer engine: pure Python, no Discord. Front doors (CLI, Discord) call `Engine`."""

from bot.engine.engine import Engine
from bot.engine.errors import CorpusError, EngineError, TemplateProblem, UnknownArticle
from bot.engine.models import (
    Article,
    ArticleInfo,
    Citation,
    FollowUp,
    LoadWarning,
    ReloadReport,
    Reply,
    Sentence,
)

__all__ = [
    "Article",
    "ArticleInfo",
    "Citation",
    "CorpusError",
    "Engine",
    "EngineError",
    "FollowUp",
    "LoadWarning",
    "ReloadReport",
    "Reply",
    "Sentence",
    "TemplateProblem",
    "UnknownArticle",
]
