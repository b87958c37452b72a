"""Sentence vectors: the meaning of a question and of each sentence, so that a sentence saying
the same thing in other words ("got the boot" for "was dismissed") is found beside BM25's.

all-MiniLM-L6-v2, unchanged from its PyPI package and exported to int8 ONNX by
scripts/export_encoder.py; it runs offline on the CPU with ONNX Runtime, one thread, and gives
the same vector every time. Each article's vectors are made the first time a question reaches
it, or ahead of questions by `Engine.prepare_vectors`, and kept across reloads under its content
hash (ArticleCache.vectors) and, where the bot has a data folder, on disk (vector_store.py), so a
large corpus never makes the bot wait at start-up and a restart does not make them again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import cached_property
from importlib import resources
from pathlib import Path

import numpy as np

from bot.engine.errors import EngineError
from bot.engine.onnx_models import SharedModel, cpu_session

# A sentence is cut after this many word pieces: news sentences are shorter.
MAX_TOKENS = 128
# Sentences encoded together, padded to the longest of them; sorted by length first, so the
# padding stays small.
BATCH = 16
DIMENSIONS = 384


class EncoderProblem(EngineError):
    """The sentence encoder shipped with the package is missing or cannot be loaded."""


def encoder_folder() -> Path:
    """Where the package keeps the encoder and its tokenizer."""
    return Path(str(resources.files("bot.engine").joinpath("encoder_model")))


class Encoder:
    """Turns texts into unit-length vectors; load it with `Encoder.shared`."""

    def __init__(self, folder: Path) -> None:
        self.model_file = folder / "encoder-int8.onnx"
        try:
            from tokenizers import Tokenizer

            self._session = cpu_session(self.model_file)
            tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
            tokenizer.enable_truncation(max_length=MAX_TOKENS)
            tokenizer.no_padding()
            self._tokenizer = tokenizer
        except Exception as error:  # a missing file, a truncated model
            raise EncoderProblem(
                f"The sentence encoder in {folder} cannot be loaded ({type(error).__name__}: "
                f"{error}). Reinstall the package to restore it."
            ) from error

    @cached_property
    def identity(self) -> str:
        """A digest of the model file: vectors kept on disk are only read back by the same model."""
        digest = hashlib.blake2b(digest_size=8)
        with self.model_file.open("rb") as model:
            for block in iter(lambda: model.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()

    @staticmethod
    def warm_up() -> None:
        """Start loading the one encoder of this process in the background (`shared` waits)."""
        _SHARED.warm_up()

    @staticmethod
    def shared() -> Encoder:
        """The one encoder of this process, loaded on first use and kept across reloads."""
        return _SHARED.get()

    @staticmethod
    def forget_shared() -> None:
        """Let go of the shared encoder: the next use loads it again from the package's files."""
        _SHARED.forget()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """One unit-length vector a text, in their order (float32, texts x DIMENSIONS)."""
        vectors = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        encoded = self._tokenizer.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda i: (len(encoded[i].ids), i))
        for start in range(0, len(order), BATCH):
            batch = order[start : start + BATCH]
            width = max(len(encoded[i].ids) for i in batch)
            ids = np.zeros((len(batch), width), dtype=np.int64)
            mask = np.zeros((len(batch), width), dtype=np.int64)
            for row, i in enumerate(batch):
                ids[row, : len(encoded[i].ids)] = encoded[i].ids
                mask[row, : len(encoded[i].ids)] = 1
            feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            # ONNX Runtime runs a session from several threads at once: a question's own
            # vector need not wait for vectors being made ahead of questions.
            (found,) = self._session.run(["embedding"], feed)
            vectors[batch] = found
        return vectors


def _loaded_encoder() -> Encoder:
    encoder = Encoder(encoder_folder())
    encoder.identity  # noqa: B018 (digested here, off the answering path)
    return encoder


_SHARED = SharedModel(_loaded_encoder, "encoder-loading")
