"""Sentence splitting with character offsets, so every quote points back into its file."""

from __future__ import annotations

import re

import blingfire

# blingfire was chosen over pysbd and syntok: all three split the seed article's abbreviations
# ("U.N.", "U.S.") and closing quotes correctly, and blingfire is 6x faster than syntok and 30x
# faster than pysbd, which matters when thousands of articles load at once.
_HAS_WORD = re.compile(r"[^\W_]")


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Character spans (into `text`) of the sentences in text[start:end], whitespace trimmed."""
    end = len(text) if end is None else end
    chunk = text[start:end]
    if not _HAS_WORD.search(chunk):
        return []
    _, offsets = blingfire.text_to_sentences_and_offsets(chunk)
    spans: list[tuple[int, int]] = []
    for a, b in offsets:
        a, b = _trim(chunk, a, b)
        if a < b and _HAS_WORD.search(chunk, a, b):
            spans.append((start + a, start + b))
    return spans


def _trim(text: str, a: int, b: int) -> tuple[int, int]:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    return a, b
