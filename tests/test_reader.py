"""The reader model shipped in the package: it loads, scores the same every time, and a missing
or broken model is named rather than answered around."""

from __future__ import annotations

import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bot.cli import main
from bot.engine import Engine
from bot.engine.markup import escape_emphasizing, escape_for_discord
from bot.engine.reader import ModelProblem, Reader, model_folder

QUESTIONS = [
    "Why does China oppose the meeting?",
    "Which countries requested the meeting?",
    "When will the meeting be held?",
    "How many votes are needed to move ahead?",
    "What is the weather on Mars?",
    "Who was sanctioned in 2016?",
]


SENTENCES = [
    "China sees no added value for the council to have such a meeting.",
    "The United States, Albania and Japan requested the meeting, which will be held on Thursday.",
    "Vetoes do not apply on procedural issues.",
]


def test_the_reader_scores_the_answering_sentence_above_the_others() -> None:
    readings = Reader.shared().read("When will the meeting be held?", SENTENCES)
    assert max(range(3), key=lambda k: readings[k].score) == 1


def test_the_sentence_before_says_what_a_pronoun_stands_for() -> None:
    """ "It will be held on Thursday" answers "when is the council meeting" only after the
    sentence saying what "it" is, and the words pointed at stay within the sentence itself."""
    question, sentence = "when is the council meeting", "It will be held on Thursday."
    (after_it,) = Reader.shared().read(
        question, [sentence], ["The council will meet to vote on the budget."]
    )
    (alone,) = Reader.shared().read(question, [sentence])
    (after_other,) = Reader.shared().read(
        question, [sentence], ["The mayor opened a new library on Monday."]
    )
    assert after_it.score > alone.score + 1.0
    assert after_it.score > after_other.score + 0.5
    assert after_it.answer is not None
    assert sentence[slice(*after_it.answer)] in {"Thursday", "on Thursday"}


def test_the_reader_points_at_the_words_that_answer() -> None:
    (reading,) = Reader.shared().read("When will the meeting be held?", SENTENCES[1:2])
    assert reading.answer is not None
    start, end = reading.answer
    assert "Thursday" in SENTENCES[1][start:end]
    assert "Albania" not in SENTENCES[1][start:end]


def test_the_words_pointed_at_are_whole_words_of_the_sentence() -> None:
    pointed = 0
    for question in QUESTIONS:
        readings = Reader.shared().read(question, SENTENCES)
        for sentence, reading in zip(SENTENCES, readings, strict=True):
            if reading.answer is None:
                continue  # not sure enough to point
            pointed += 1
            start, end = reading.answer
            assert 0 <= start < end <= len(sentence)
            assert start == 0 or not sentence[start - 1].isalnum()
            assert end == len(sentence) or not sentence[end].isalnum()
    assert pointed, "the reader pointed at no words at all"


def test_an_answer_bolds_the_words_that_answer_and_keeps_the_quote_verbatim(
    seed_engine: Engine,
) -> None:
    reply = seed_engine.ask("When will the meeting be held?")
    assert reply.answered
    citation = reply.citations[0]
    assert citation.answer is not None
    start, end = citation.answer
    assert "Thursday" in citation.quote[start:end]
    shown = escape_emphasizing(citation.quote, start, end, "**")
    assert f"> {shown}" in reply.text.splitlines()
    # Without the marks, the line is the quote exactly as every other quote is shown.
    assert shown.replace("**", "") == escape_for_discord(citation.quote)


def test_emphasis_marks_only_what_is_asked_and_escapes_the_rest() -> None:
    text = "Held on *Thursday*  at\u200b noon, @everyone"
    start = text.index("*Thursday*")
    shown = escape_emphasizing(text, start, start + len("*Thursday*"), "**")
    assert shown == "Held on **\\*Thursday\\*** at noon, @\u200beveryone"
    # Characters the marks stand in for while escaping cannot fake a mark.
    assert escape_emphasizing("a \ue000b\ue001 c", 0, 1, "**") == "**a** b c"


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
    Reader.forget_shared()
    try:
        assert main(["check", "--corpus", str(seed_corpus)]) == 1
    finally:
        Reader.forget_shared()
    assert "reader model" in capsys.readouterr().err


def test_the_shared_reader_is_loaded_once_however_many_threads_want_it() -> None:
    Reader.forget_shared()
    with ThreadPoolExecutor(max_workers=4) as pool:
        pool.map(lambda _: Reader.warm_up(), range(4))
        readers = list(pool.map(lambda _: Reader.shared(), range(4)))
    assert all(reader is readers[0] for reader in readers)
    assert Reader.shared() is readers[0]


def test_only_the_quote_that_answers_has_words_in_bold(seed_engine: Engine) -> None:
    why = seed_engine.ask("why is china against the meeting?").citations[0]
    assert why.answer is not None and "confrontation" in why.quote[slice(*why.answer)]
    reply = seed_engine.ask("What does China think the meeting will do?")
    first, *further = reply.citations
    assert first.answer is not None
    # Further quotes say more; the words that answer were measured on the first one only.
    assert further and all(c.answer is None for c in further)
    assert reply.text.count("**") == 2
