"""Every word a user reads comes from the Jinja templates in the prompts folder.

Templates run in Jinja's sandbox with StrictUndefined, and every value they print passes
through `escape_for_discord`, so text from the corpus or a question can neither ping anyone nor
break the message's markdown; only the template's own literal text carries formatting.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined, Template, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from bot.engine.errors import TemplateProblem
from bot.engine.markup import escape_emphasizing, escape_for_discord
from bot.engine.pacing import paced


class Trusted(str):
    """Text already rendered by a template, printed as it is."""


def _emphasize(text: str, span: tuple[int, int] | None, mark: str) -> str:
    """The `emphasize(span, mark)` filter: `text`, escaped, with text[span] between `mark`s."""
    if span is None:
        return text  # printed, and escaped, as any value
    return Trusted(escape_emphasizing(text, span[0], span[1], mark))


def _utc_time(seconds: float) -> str:
    """The `utc_time` filter: a unix time as a date and minute in UTC, the same for everyone
    (a Discord timestamp tag would read as code in a terminal)."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _finalize(value: Any) -> Any:
    if isinstance(value, Trusted):
        return value
    if isinstance(value, str):
        return escape_for_discord(value)
    return value


class Prompts:
    """Renders the prompts folder's templates with plain values."""

    def __init__(self, folder: Path) -> None:
        folder = Path(folder)
        if not folder.is_dir():
            raise TemplateProblem(f"The prompts folder {folder} does not exist.")
        self.folder = folder
        self.environment = SandboxedEnvironment(
            loader=FileSystemLoader(folder),
            undefined=StrictUndefined,
            finalize=_finalize,
            autoescape=False,
            trim_blocks=True,
            lstrip_blocks=True,
            # What the bot says changes with a reload, like what it knows: an edit on disk is
            # not picked up half-way, and a broken edit fails the reload, not the next reply.
            auto_reload=False,
            cache_size=-1,
        )
        self.environment.filters["emphasize"] = _emphasize
        self.environment.filters["utc_time"] = _utc_time
        self.templates: dict[str, Template] = {}
        # Paced: a reload reads and compiles the templates in a worker thread while the bot
        # answers, and each file read lets go of the interpreter only for a moment.
        for path in paced(sorted(folder.glob("*.j2"))):
            try:
                self.templates[path.stem] = self.environment.get_template(path.name)
            except TemplateError as error:
                raise TemplateProblem(f"The template {path.name} is broken: {error}") from error

    def names(self) -> list[str]:
        """The template names the folder holds, without the .j2 suffix."""
        return sorted(self.templates)

    def render(self, name: str, **context: Any) -> str:
        """Render prompts/<name>.j2; a missing or broken template raises TemplateProblem."""
        template = self.templates.get(name)
        if template is None:
            raise TemplateProblem(f"The template {name}.j2 is missing from {self.folder}.")
        try:
            text = template.render(**context)
        except TemplateError as error:
            raise TemplateProblem(f"The template {name}.j2 failed: {error}") from error
        return text.strip()
