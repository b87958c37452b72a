"""Sentence vectors kept on disk, so an article is encoded once for its text, not once per
process or restart: a bot started again on the same corpus reads its vectors back instead of
making them.

A file holds one article's vectors (float16, one unit-length row a sentence) under a digest of
the sentence texts themselves, in a folder named for the encoder that made them: a change to the
text, to how it is split into sentences, or to the encoder finds no file and makes a new one. A
file is written whole or not at all (a temporary file, then a rename), and one that is damaged
(not an array, the wrong shape, rows that are not unit length) is made again, never used.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bot.engine.disk import discard_damaged, write_whole

log = logging.getLogger(__name__)

# How far from unit length a stored row may be (float16 rounding), before the file is taken
# to be damaged.
UNIT_LENGTH_TOLERANCE = 0.01


def sentences_digest(texts: Sequence[str]) -> str:
    """The name an article's vectors are kept under: a digest of its sentence texts."""
    digest = hashlib.blake2b(digest_size=16)
    for text in texts:
        digest.update(text.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()


class VectorStore:
    """A folder of sentence vectors, one file an article, shared by every process given it."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._unwritable_logged = False

    def _path(self, encoder_id: str, digest: str) -> Path:
        return self.folder / encoder_id / f"{digest}.npy"

    def load(self, encoder_id: str, texts: Sequence[str], width: int) -> np.ndarray | None:
        """The stored vectors of these sentences, or None when there are none to trust."""
        path = self._path(encoder_id, sentences_digest(texts))
        try:
            vectors = np.load(path, allow_pickle=False)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, EOFError) as error:
            self._discard(path, f"unreadable ({error})")
            return None
        if vectors.dtype != np.float16 or vectors.shape != (len(texts), width):
            self._discard(path, f"shape {vectors.shape} {vectors.dtype}")
            return None
        norms = np.linalg.norm(vectors.astype(np.float32), axis=1)
        if len(texts) and not np.all(np.abs(norms - 1.0) <= UNIT_LENGTH_TOLERANCE):
            self._discard(path, "rows that are not unit length")
            return None
        return vectors

    def holds(self, encoder_id: str, digest: str) -> bool:
        """Whether vectors of the sentences with this `sentences_digest` are stored (not checked
        until loaded): an index snapshot keeps each article's digest, so asking needs no text."""
        return self._path(encoder_id, digest).is_file()

    def save(self, encoder_id: str, texts: Sequence[str], vectors: np.ndarray) -> None:
        """Keep these vectors; a store that cannot be written is logged once and skipped (the
        vectors are still used from memory)."""
        path = self._path(encoder_id, sentences_digest(texts))
        try:
            # Written beside its final name and renamed: another process never reads half a file.
            write_whole(
                path, lambda file: np.save(file, vectors.astype(np.float16), allow_pickle=False)
            )
        except OSError as error:
            if not self._unwritable_logged:
                log.warning("sentence vectors cannot be kept in %s: %s", self.folder, error)
                self._unwritable_logged = True

    def _discard(self, path: Path, why: str) -> None:
        discard_damaged(path, "the stored sentence vectors", why)
