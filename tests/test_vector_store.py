"""Sentence vectors kept on disk: made once for an article's text, read back by a later engine
(a restart), made again when the text changed or the file is damaged, and made ahead of
questions by `Engine.prepare_vectors`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from corpora import PROMPTS
from test_encoder import FUNDING, STARTUP

from bot.engine import Engine, library
from bot.engine.corpus import ArticleCache
from bot.engine.encoder import DIMENSIONS, Encoder
from bot.engine.vector_store import VectorStore, sentences_digest

FUNDING_QUESTION = "how much funding did Fernbrook secure?"


def load(corpus: Path, store: Path) -> Engine:
    """An engine as a fresh process would load it: nothing in memory, the store on disk."""
    return Engine.load(corpus, PROMPTS, ArticleCache(vector_store=VectorStore(store)))


def stored_files(store: Path) -> list[Path]:
    return sorted(store.rglob("*.npy"))


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "fernbrook.txt").write_text(STARTUP, encoding="utf-8")
    return folder


def sentence_texts(engine: Engine) -> list[str]:
    return [s.text for s in engine.library.articles[0].sentences]


def test_a_restart_reads_the_vectors_back_instead_of_making_them(
    corpus: Path, tmp_path: Path
) -> None:
    store = tmp_path / "vectors"
    first = load(corpus, store)
    made = first.library.vectors(0, Encoder.shared())
    (kept,) = stored_files(store)
    assert made.dtype == np.float16 and made.shape == (len(sentence_texts(first)), DIMENSIONS)
    # Rows swapped on disk, still unit length: a later engine that serves them read the file.
    swapped = np.load(kept)[::-1].copy()
    np.save(kept, swapped)
    again = load(corpus, store)
    assert np.array_equal(again.library.vectors(0, Encoder.shared()), swapped)


def test_answers_are_the_same_with_vectors_read_back(corpus: Path, tmp_path: Path) -> None:
    store = tmp_path / "vectors"
    fresh = load(corpus, store).ask(FUNDING_QUESTION)
    read_back = load(corpus, store).ask(FUNDING_QUESTION)
    assert fresh.text == read_back.text
    assert fresh.citations[0].quote == FUNDING


@pytest.mark.parametrize(
    "damage",
    [
        lambda path: path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2]),
        lambda path: path.write_bytes(b"not an array at all"),
        lambda path: np.save(path, np.load(path)[:-1]),
        lambda path: np.save(path, np.load(path).astype(np.float32)),
        lambda path: np.save(path, np.load(path) * np.float16(2)),
    ],
    ids=["truncated", "garbage", "a row short", "wrong type", "not unit length"],
)
def test_a_damaged_file_is_made_again_never_used(
    corpus: Path, tmp_path: Path, damage: object
) -> None:
    store = tmp_path / "vectors"
    made = load(corpus, store).library.vectors(0, Encoder.shared())
    (kept,) = stored_files(store)
    damage(kept)  # type: ignore[operator]
    again = load(corpus, store).library.vectors(0, Encoder.shared())
    assert np.array_equal(again, made)
    assert np.array_equal(np.load(kept), made)  # and written again whole


def test_a_changed_article_gets_vectors_of_its_new_text(corpus: Path, tmp_path: Path) -> None:
    store = tmp_path / "vectors"
    load(corpus, store).library.vectors(0, Encoder.shared())
    article = corpus / "fernbrook.txt"
    article.write_text(STARTUP.replace("34 people", "41 people"), encoding="utf-8")
    changed = load(corpus, store)
    vectors = changed.library.vectors(0, Encoder.shared())
    texts = sentence_texts(changed)
    assert len(stored_files(store)) == 2
    expected = Encoder.shared().encode(texts).astype(np.float16)
    assert np.array_equal(vectors, expected)
    name = sentences_digest(texts) + ".npy"
    assert name in [path.name for path in stored_files(store)]


def test_a_store_that_cannot_be_written_still_answers(corpus: Path, tmp_path: Path) -> None:
    in_the_way = tmp_path / "vectors"
    in_the_way.write_text("a file where the folder should be", encoding="utf-8")
    reply = load(corpus, in_the_way).ask(FUNDING_QUESTION)
    assert reply.citations[0].quote == FUNDING


def three_articles(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for n in range(3):
        text = STARTUP.replace("Leeds", f"Leeds {n}").replace("Fernbrook", f"Fernbrook{n}")
        (corpus / f"office-{n}.txt").write_text(text, encoding="utf-8")
    return corpus


def test_vectors_are_made_ahead_of_questions_and_stop_when_told(tmp_path: Path) -> None:
    store = tmp_path / "vectors"
    engine = load(three_articles(tmp_path), store)
    asked: list[int] = []

    def after_two() -> bool:
        asked.append(1)
        return len(asked) > 2

    assert engine.prepare_vectors(after_two) == 2
    assert len(stored_files(store)) == 2
    assert engine.prepare_vectors() == 3
    assert len(stored_files(store)) == 3
    # Made into the store, not memory: memory is for the articles questions reach.
    cache = engine.library.corpus.cache
    assert cache is not None and not cache.vectors


def test_without_a_store_vectors_made_ahead_stay_in_memory(tmp_path: Path) -> None:
    engine = Engine.load(three_articles(tmp_path), PROMPTS)
    assert engine.prepare_vectors() == 3
    cache = engine.library.corpus.cache
    assert cache is not None and len(cache.vectors) == 3


def test_with_a_store_memory_keeps_only_the_articles_asked_about_last(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(library, "KEPT_IN_MEMORY", 2)
    engine = load(three_articles(tmp_path), tmp_path / "vectors")
    made = [engine.library.vectors(n, Encoder.shared()) for n in (0, 1, 2)]
    cache = engine.library.corpus.cache
    assert cache is not None
    assert [path for path, _ in cache.vectors] == ["office-1.txt", "office-2.txt"]
    # The one let go is read back from disk, the same vectors.
    assert np.array_equal(engine.library.vectors(0, Encoder.shared()), made[0])
    assert [path for path, _ in cache.vectors] == ["office-2.txt", "office-0.txt"]
