"""Every word a user reads comes from the Jinja templates in the prompts folder.

Templates run in Jinja's sandbox with StrictUndefined, and every value they print passes
through `escape_for_discord`, so text from the corpus or a question can neither ping anyone nor
break the message's markdown; only the template's own literal text carries formatting.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from bot.engine.errors import TemplateProblem
from bot.engine.markup import escape_for_discord


class Trusted(str):
    """Text already rendered by a template, printed as it is."""


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
        )

    def names(self) -> list[str]:
        """The template names the folder holds, without the .j2 suffix."""
        return sorted(p.stem for p in self.folder.glob("*.j2"))

    def render(self, name: str, **context: Any) -> str:
        """Render prompts/<name>.j2; a missing or broken template raises TemplateProblem."""
        try:
            text = self.environment.get_template(f"{name}.j2").render(**context)
        except TemplateError as error:
            raise TemplateProblem(f"The template {name}.j2 failed: {error}") from error
        return text.strip()
