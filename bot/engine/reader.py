"""The reader: a small trained model that scores how well a sentence answers a question, and
points at the words in it that answer.

A MiniLM cross-encoder fine-tuned on SQuAD (scripts/train_reader.py, bot/engine/reader_model/
MODEL_CARD.md), exported to int8 ONNX and shipped in the package: it runs offline on the CPU
with ONNX Runtime, one thread, so it gives the same scores every time and on every machine.
BM25 still finds the candidates; the reader only reads the few it is given.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from bot.engine.decision import Decision
from bot.engine.errors import EngineError
from bot.engine.library import Library
from bot.engine.onnx_models import SharedModel, cpu_session

if TYPE_CHECKING:
    from tokenizers import Encoding

# Question and sentence together, in word pieces: a long sentence is cut before the question.
MAX_TOKENS = 128
# The longest answer the reader points at, in word pieces: SQuAD's answers are short phrases.
MAX_ANSWER_PIECES = 30
# How sure the reader must be of where the answer starts and ends (the two chances multiplied)
# to point at it. Chosen on the SQuAD articles the decision is fitted on: above it, 86% of the
# words pointed at in right answers were mostly the answer (SQuAD F1 >= 0.5), against 78% for
# all; on four held-out articles, 91% (bench/squad.py).
MIN_ANSWER_CONFIDENCE = 0.3
_OUTPUTS = ["logits", "start_logits", "end_logits"]
# The reader sees a sentence as a person does: after the sentence before it (the headline, for
# an article's first), and a follow-up after the question before it. Each goes after its own
# text, past a separator, so that a cut for length takes the context first.
CONTEXT_SEPARATOR = " [SEP] "


@dataclass(frozen=True, slots=True)
class Reading:
    """What the reader makes of one sentence: a logit for "it answers the question", and the
    words in it most likely to be the answer, as character offsets into the sentence (None when
    the reader is not sure enough of them)."""

    score: float
    answer: tuple[int, int] | None


def pair_texts(
    question: str, sentence: str, before: str = "", asked_before: str = ""
) -> tuple[str, str]:
    """The two texts the reader reads for a sentence: the question (then the one it follows),
    and the sentence (then the one before it). The sentence's own offsets stay as they are."""
    first = question + CONTEXT_SEPARATOR + asked_before if asked_before else question
    second = sentence + CONTEXT_SEPARATOR + before if before else sentence
    return first, second


def context_before(library: Library, document: int) -> str:
    """The sentence a reader sees before an indexed sentence: the one before it in its article,
    or the headline above the first."""
    indexed = library.sentences[document]
    if indexed.sentence.position == 0:
        return indexed.article.title
    return library.sentences[document - 1].sentence.text


class ModelProblem(EngineError):
    """The reader model shipped with the package is missing or cannot be loaded."""


def model_folder() -> Path:
    """Where the package keeps the reader: the model, its tokenizer, its decision weights."""
    return Path(str(resources.files("bot.engine").joinpath("reader_model")))


class Reader:
    """Scores (question, sentence) pairs with the shipped model; load it with `Reader.shared`."""

    def __init__(self, folder: Path) -> None:
        self.model_file = folder / "reader-int8.onnx"
        try:
            from tokenizers import Tokenizer

            self._session = cpu_session(self.model_file)
            given = {output.name for output in self._session.get_outputs()}
            if missing := [name for name in _OUTPUTS if name not in given]:
                # A model from before the reader pointed at answers: it would fail every question.
                raise ValueError(f"the model has no output {missing[0]!r}")
            tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
            # The longer text is cut first: the sentence's context, then the sentence, and the
            # question only when it alone would overflow ("why why why ..." pasted 500 times).
            tokenizer.enable_truncation(max_length=MAX_TOKENS, strategy="longest_first")
            # The shipped tokenizer pads every input to 128 pieces: three times the work for a
            # news sentence. Pairs run one at a time, so none needs padding.
            tokenizer.no_padding()
            self._tokenizer = tokenizer
            self.decision = Decision.load(folder / "decision.json")
        except Exception as error:  # a missing file, a truncated model, a broken JSON
            raise ModelProblem(
                f"The reader model in {folder} cannot be loaded ({type(error).__name__}: "
                f"{error}). Reinstall the package to restore it."
            ) from error
        self._lock = threading.Lock()

    @staticmethod
    def warm_up() -> None:
        """Start loading the one reader of this process in the background (`shared` waits)."""
        _SHARED.warm_up()

    @staticmethod
    def shared() -> Reader:
        """The one reader of this process, loaded on first use and kept across reloads."""
        return _SHARED.get()

    @staticmethod
    def forget_shared() -> None:
        """Let go of the shared reader: the next use loads it again from the package's files."""
        _SHARED.forget()

    def read(
        self,
        question: str,
        sentences: Sequence[str],
        before: Sequence[str] = (),
        asked_before: str = "",
    ) -> list[Reading]:
        """The model's reading of each sentence as an answer to the question, each sentence
        read after the one before it (`before`, in the same order) and the question after the
        one it follows (`asked_before`, for a follow-up)."""
        found = []
        befores = list(before) or [""] * len(sentences)
        # One pair at a time: padding a batch to its longest sentence cost more than the batch
        # saved (measured on the bundled article's questions: 27 ms against 31 ms for five).
        pairs = [
            pair_texts(question, s, b, asked_before)
            for s, b in zip(sentences, befores, strict=True)
        ]
        for sentence, encoded in zip(sentences, self._tokenizer.encode_batch(pairs), strict=True):
            feed = {
                "input_ids": np.array([encoded.ids], dtype=np.int64),
                "attention_mask": np.array([encoded.attention_mask], dtype=np.int64),
                "token_type_ids": np.array([encoded.type_ids], dtype=np.int64),
            }
            # A session may run from several threads, but one at a time keeps each run on one
            # core.
            with self._lock:
                logits, starts, ends = self._session.run(_OUTPUTS, feed)
            answer = _answer_words(encoded, np.asarray(starts)[0], np.asarray(ends)[0], sentence)
            found.append(Reading(float(np.asarray(logits).reshape(-1)[0]), answer))
        return found


def _answer_words(
    encoded: Encoding, starts: np.ndarray, ends: np.ndarray, sentence: str
) -> tuple[int, int] | None:
    """The sentence's likeliest answer: the pieces i <= j (at most MAX_ANSWER_PIECES apart)
    with the highest start score at i plus end score at j, widened to whole words; None when
    the reader is less than MIN_ANSWER_CONFIDENCE sure where it starts and ends. Only the
    sentence's own pieces can hold it, not the context read after it."""
    pieces = [
        token
        for token, (which, (a, b)) in enumerate(
            zip(encoded.sequence_ids, encoded.offsets, strict=True)
        )
        if which == 1 and b > a and b <= len(sentence)
    ]
    if not pieces:
        return None
    index = np.array(pieces)
    if _peak_chance(starts[index]) * _peak_chance(ends[index]) < MIN_ANSWER_CONFIDENCE:
        return None
    together = starts[index][:, None] + ends[index][None, :]
    apart = index[None, :] - index[:, None]
    together[(apart < 0) | (apart >= MAX_ANSWER_PIECES)] = -np.inf
    # argmax takes the first of equal scores: the same span every time.
    first, last = divmod(int(np.argmax(together)), len(pieces))
    begin = encoded.offsets[pieces[first]][0]
    end = encoded.offsets[pieces[last]][1]
    # A word piece ("##day") may start or end inside a word: the answer is whole words.
    while begin > 0 and sentence[begin - 1].isalnum():
        begin -= 1
    while end < len(sentence) and sentence[end].isalnum():
        end += 1
    return (begin, end)


def _peak_chance(scores: np.ndarray) -> float:
    """The chance of the likeliest piece, the scores taken as a softmax over the sentence."""
    shifted = np.exp(scores - scores.max())
    return float(1.0 / shifted.sum())


_SHARED = SharedModel(lambda: Reader(model_folder()), "reader-loading")
