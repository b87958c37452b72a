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
    # The rest belong to other features and are rendered by their tests; all of them compiled
    # when the engine loaded.
    assert set(rendered) <= set(seed_engine.prompts.names())


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


def test_a_broken_template_fails_the_load_and_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "fine.j2").write_text("Hello {{ name }}")
    (tmp_path / "broken.j2").write_text("{% for x in y %}no end")
    with pytest.raises(TemplateProblem, match=r"broken\.j2"):
        Prompts(tmp_path)
