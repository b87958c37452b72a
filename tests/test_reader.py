"""The reader model shipped in the package: it loads, scores the same every time, and a missing
or broken model is named rather than answered around."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest

from bot.cli import main
from bot.engine import Engine
from bot.engine.reader import ModelProblem, Reader, model_folder

QUESTIONS = [
    "Why does China oppose the meeting?",
    "Which countries requested the meeting?",
    "When will the meeting be held?",
    "How many votes are needed to move ahead?",
    "What is the weather on Mars?",
    "Who was sanctioned in 2016?",
]


def test_the_reader_scores_the_answering_sentence_above_the_others() -> None:
    reader = Reader.shared()
    scores = reader.scores(
        "When will the meeting be held?",
        [
            "China sees no added value for the council to have such a meeting.",
            "The United States, Albania and Japan requested the meeting, which will be held "
            "on Thursday.",
            "Vetoes do not apply on procedural issues.",
        ],
    )
    assert max(range(3), key=lambda k: scores[k]) == 1


def test_replies_are_the_same_every_time_and_from_two_threads_at_once(
    seed_engine: Engine,
) -> None:
    first = [seed_engine.ask(q) for q in QUESTIONS]
    again = [seed_engine.ask(q) for q in QUESTIONS]
    from_threads: dict[int, list[object]] = {}

    def ask_all(n: int) -> None:
        from_threads[n] = [seed_engine.ask(q) for q in QUESTIONS]

    threads = [threading.Thread(target=ask_all, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert first == again == from_threads[0] == from_threads[1]


@pytest.mark.parametrize("damage", ["missing", "truncated", "decision"])
def test_a_missing_or_broken_model_is_named(tmp_path: Path, damage: str) -> None:
    folder = Path(shutil.copytree(model_folder(), tmp_path / "reader"))
    model = folder / "reader-int8.onnx"
    if damage == "missing":
        model.unlink()
    elif damage == "truncated":
        model.write_bytes(model.read_bytes()[:4096])
    else:
        (folder / "decision.json").write_text("{")
    with pytest.raises(ModelProblem) as raised:
        Reader(folder)
    assert str(folder) in str(raised.value)


def test_check_fails_and_names_a_broken_model(
    seed_corpus: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = Path(shutil.copytree(model_folder(), tmp_path / "reader"))
    (folder / "reader-int8.onnx").write_bytes(b"not a model")
    monkeypatch.setattr("bot.engine.reader.model_folder", lambda: folder)
    Reader.shared.cache_clear()
    try:
        assert main(["check", "--corpus", str(seed_corpus)]) == 1
    finally:
        Reader.shared.cache_clear()
    assert "reader model" in capsys.readouterr().err
