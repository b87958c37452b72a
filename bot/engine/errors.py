"""Errors whose message is safe to show to the person who caused them."""

from __future__ import annotations

from bot.engine.models import LoadWarning, ProblemKind


class EngineError(Exception):
    """A problem a user or moderator can fix; str(error) says what to do next."""


class CorpusError(EngineError):
    """The corpus folder holds nothing the bot can serve.

    The loader raises it with what went wrong (`kind`, `folder`, the files' `warnings`); the
    engine raises it again with the message prompts/corpus_error.j2 renders from them.
    """

    def __init__(
        self,
        kind: ProblemKind,
        folder: str,
        warnings: tuple[LoadWarning, ...] = (),
        message: str | None = None,
    ) -> None:
        self.kind = kind
        self.folder = folder
        self.warnings = warnings
        super().__init__(message or f"{kind}: {folder}")


class UnknownArticle(EngineError):
    """A command named an article the corpus does not have."""

    def __init__(self, name: str, known: list[str], message: str | None = None) -> None:
        self.name = name
        self.known = known
        # The engine passes the message its template rendered, escaped for Discord.
        super().__init__(message or f"There is no article called {name!r}.")


class TemplateProblem(EngineError):
    """A template in the prompts folder is missing or broken."""
