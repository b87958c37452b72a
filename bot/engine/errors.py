"""Errors whose message is safe to show to the person who caused them."""


class EngineError(Exception):
    """A problem a user or moderator can fix; str(error) says what to do next."""


class CorpusError(EngineError):
    """The corpus folder holds nothing the bot can serve."""


class UnknownArticle(EngineError):
    """A command named an article the corpus does not have."""

    def __init__(self, name: str, known: list[str], message: str | None = None) -> None:
        self.name = name
        self.known = known
        # The engine passes the message its template rendered, escaped for Discord.
        super().__init__(message or f"There is no article called {name!r}.")


class TemplateProblem(EngineError):
    """A template in the prompts folder is missing or broken."""
