"""Reloading swaps the engine whole, or not at all."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.discord.serving import ServingEngine
from bot.engine import CorpusError, Engine

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    return Path(shutil.copytree(REPO / "corpus", tmp_path / "corpus"))


async def test_a_reload_swaps_in_the_new_corpus(corpus_dir: Path) -> None:
    serving = ServingEngine(Engine.load(corpus_dir, REPO / "prompts"))
    (corpus_dir / "extra.txt").write_text("Extra article\n\nA short paragraph about owls.\n")
    report = await serving.reload()
    assert report.added == ("extra",)
    assert len(serving.current.articles()) == 2


async def test_a_failed_reload_keeps_the_current_engine(corpus_dir: Path) -> None:
    before = Engine.load(corpus_dir, REPO / "prompts")
    serving = ServingEngine(before)
    for path in corpus_dir.iterdir():
        path.unlink()
    with pytest.raises(CorpusError):
        await serving.reload()
    assert serving.current is before
