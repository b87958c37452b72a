"""The reader: a small trained model that scores how well a sentence answers a question.

A MiniLM cross-encoder fine-tuned on SQuAD (scripts/train_reader.py, bot/engine/reader/
MODEL_CARD.md), exported to int8 ONNX and shipped in the package: it runs offline on the CPU
with ONNX Runtime, one thread, so it gives the same scores every time and on every machine.
BM25 still finds the candidates; the reader only reads the few it is given.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np

from bot.engine.decision import Decision
from bot.engine.errors import EngineError

# Question and sentence together, in word pieces: a long sentence is cut, never the question.
MAX_TOKENS = 128


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
            import onnxruntime
            from tokenizers import Tokenizer

            options = onnxruntime.SessionOptions()
            # One thread: the same arithmetic in the same order every time, and the other
            # core stays free for the bot's event loop.
            options.intra_op_num_threads = 1
            options.inter_op_num_threads = 1
            options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
            self._session = onnxruntime.InferenceSession(
                str(self.model_file), options, providers=["CPUExecutionProvider"]
            )
            tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
            tokenizer.enable_truncation(max_length=MAX_TOKENS, strategy="only_second")
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
    @cache
    def shared() -> Reader:
        """The one reader of this process, loaded on first use and kept across reloads."""
        return Reader(model_folder())

    def scores(self, question: str, sentences: Sequence[str]) -> list[float]:
        """The model's score (a logit) for each sentence answering the question."""
        found = []
        # One pair at a time: padding a batch to its longest sentence cost more than the batch
        # saved (measured on the bundled article's questions: 27 ms against 31 ms for five).
        for encoded in self._tokenizer.encode_batch([(question, s) for s in sentences]):
            feed = {
                "input_ids": np.array([encoded.ids], dtype=np.int64),
                "attention_mask": np.array([encoded.attention_mask], dtype=np.int64),
                "token_type_ids": np.array([encoded.type_ids], dtype=np.int64),
            }
            # A session may run from several threads, but one at a time keeps each run on one
            # core.
            with self._lock:
                (logits,) = self._session.run(["logits"], feed)
            found.append(float(np.asarray(logits).reshape(-1)[0]))
        return found
