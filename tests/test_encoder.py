"""The sentence encoder shipped in the package, and the ranking by meaning it gives retrieval: a
sentence saying what was asked in other words is read, and the vectors are the same every time."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from corpora import PROMPTS

from bot.cli import main
from bot.engine import Engine
from bot.engine.answerer import READ_CANDIDATES
from bot.engine.encoder import Encoder, EncoderProblem, encoder_folder

STARTUP = """Fernbrook opens its first office in Leeds

By Dana Whitcombe

Fernbrook, a startup that makes software for dentists, opened its first office in Leeds on Monday.

The startup was founded in 2019 by two former dental nurses, Priya Shah and Tom Ellery. It now \
employs 34 people.

The company secured funding of $4 million from investors last spring. Most of it went on hiring \
engineers.

Shah said the new office would hold up to 60 staff. "We outgrew the kitchen table a long time \
ago," she said.

The startup plans to open a second office in Bristol next year.
"""
FUNDING = "The company secured funding of $4 million from investors last spring."


@pytest.fixture
def startup_engine(tmp_path: Path) -> Engine:
    (tmp_path / "fernbrook.txt").write_text(STARTUP, encoding="utf-8")
    return Engine.load(tmp_path, PROMPTS)


def test_vectors_are_unit_length_and_the_same_every_time() -> None:
    texts = ["how much cash did they raise", FUNDING, "The weather was fine on Tuesday."]
    first = Encoder.shared().encode(texts)
    assert first.shape == (3, 384)
    assert np.allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-3)
    assert np.array_equal(first, Encoder.shared().encode(texts))


def test_a_sentence_in_other_words_is_closer_than_one_about_something_else() -> None:
    asked, funding, weather = Encoder.shared().encode(
        ["how much cash did they raise", FUNDING, "The weather was fine on Tuesday."]
    )
    assert asked @ funding > asked @ weather + 0.2


def test_a_sentence_sharing_no_word_with_the_question_is_read(startup_engine: Engine) -> None:
    answerer = startup_engine.answerer
    for asked in ("how much cash did the startup raise", "how much money did they get"):
        candidates = answerer.retriever.retrieve(answerer.questions.read(asked))
        read = [q.item.sentence.text for q in candidates.quotes[:READ_CANDIDATES]]
        assert FUNDING in read, asked


def test_an_article_is_encoded_once_and_kept_across_reloads(startup_engine: Engine) -> None:
    startup_engine.ask("how much cash did the startup raise")
    cache = startup_engine.library.corpus.cache
    assert cache is not None and len(cache.vectors) == 1
    (kept,) = cache.vectors.values()
    reloaded, _ = startup_engine.reloaded()
    reloaded.ask("where is the new office")
    assert reloaded.library.corpus.cache is cache
    (again,) = cache.vectors.values()
    assert again is kept


@pytest.mark.parametrize("damage", ["missing", "truncated"])
def test_a_missing_or_broken_encoder_is_named(tmp_path: Path, damage: str) -> None:
    folder = Path(shutil.copytree(encoder_folder(), tmp_path / "encoder"))
    model = folder / "encoder-int8.onnx"
    if damage == "missing":
        model.unlink()
    else:
        model.write_bytes(model.read_bytes()[:4096])
    with pytest.raises(EncoderProblem) as raised:
        Encoder(folder)
    assert str(folder) in str(raised.value)


def test_check_names_the_encoder_and_fails_on_a_broken_one(
    seed_corpus: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["check", "--corpus", str(seed_corpus)]) == 0
    assert "sentence encoder:" in capsys.readouterr().out
    folder = Path(shutil.copytree(encoder_folder(), tmp_path / "encoder"))
    (folder / "encoder-int8.onnx").write_bytes(b"not a model")
    monkeypatch.setattr("bot.engine.encoder.encoder_folder", lambda: folder)
    Encoder.forget_shared()
    try:
        assert main(["check", "--corpus", str(seed_corpus)]) == 1
    finally:
        Encoder.forget_shared()
    assert "sentence encoder" in capsys.readouterr().err
