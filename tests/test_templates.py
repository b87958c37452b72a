"""Templates: every one renders, none can reach Python internals, none can invent a value."""

from __future__ import annotations

from pathlib import Path

import pytest
from corpora import PROMPTS

from bot.engine import Engine, ReloadReport
from bot.engine.errors import TemplateProblem
from bot.engine.models import Citation
from bot.engine.templates import Prompts

CITATION = Citation(1, "a", "A title", 2, "A quote.", "a.txt", 0, 8)
REPORT = ReloadReport(("new",), ("old",), ("changed",), 3, 40, 0.25)


def test_every_shipped_template_renders(seed_engine: Engine) -> None:
    """Each template renders with the context the engine gives it (a missing name would fail)."""
    rendered = {
        "answer": seed_engine.prompts.render(
            "answer", citations=[CITATION], question="q", multi_article=True
        ),
        "no_answer": seed_engine.prompts.render(
            "no_answer",
            question="q",
            related=CITATION,
            unseen_names=["France"],
            multi_article=False,
        ),
        "reload": seed_engine.prompts.render("reload", report=REPORT),
        "empty_question": seed_engine.prompts.render("empty_question"),
    }
    assert all(text.strip() for text in rendered.values())
    untested = set(Prompts(PROMPTS).names()) - set(rendered) - {"_source"}
    for name in untested:  # templates of other features are rendered by their own tests
        Prompts(PROMPTS).environment.get_template(f"{name}.j2")


def test_strict_undefined_refuses_a_missing_value() -> None:
    with pytest.raises(TemplateProblem, match=r"answer\.j2"):
        Prompts(PROMPTS).render("answer", question="q")


def test_sandbox_keeps_templates_away_from_python_internals(tmp_path: Path) -> None:
    (tmp_path / "evil.j2").write_text("{{ ''.__class__.__mro__[1].__subclasses__() }}")
    with pytest.raises(TemplateProblem):
        Prompts(tmp_path).render("evil")


def test_printed_values_are_escaped_but_template_markdown_is_kept(tmp_path: Path) -> None:
    (tmp_path / "t.j2").write_text("**Title:** {{ value }}")
    assert Prompts(tmp_path).render("t", value="*x* @everyone") == (
        "**Title:** \\*x\\* @\u200beveryone"
    )
