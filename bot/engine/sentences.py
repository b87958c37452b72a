"""Sentence splitting with character offsets, so every quote points back into its file."""

from __future__ import annotations

import re

import blingfire

# blingfire was chosen over pysbd and syntok: all three split the seed article's abbreviations
# ("U.N.", "U.S.") and closing quotes correctly, and blingfire is 6x faster than syntok and 30x
# faster than pysbd, which matters when thousands of articles load at once.
_HAS_WORD = re.compile(r"[^\W_]")
# blingfire keeps "...as well. Dr. Helen Marsh said" as one sentence: it reads the full stop as
# part of an abbreviation run. A sentence end followed by a title and a name is a boundary.
_TITLES = r"(?:Dr|Mr|Mrs|Ms|Prof|Gen|Sen|Rep|Gov|Capt|Lt|Col|Sgt|Rev|St)"
_MISSED_BOUNDARY = re.compile(rf"(?<=[a-z0-9%)][.!?])(?:[\"”’]?)\s+(?=(?:{_TITLES})\.\s+[A-Z])")
# And the other way round, it sometimes ends a sentence at a title ("... 5%. Mr." + "Smith ...").
_ENDS_WITH_TITLE = re.compile(rf"(?:^|\s){_TITLES}\.$")


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Character spans (into `text`) of the sentences in text[start:end], whitespace trimmed."""
    end = len(text) if end is None else end
    chunk = text[start:end]
    if not _HAS_WORD.search(chunk):
        return []
    _, offsets = blingfire.text_to_sentences_and_offsets(chunk)
    pieces = [piece for a, b in offsets for piece in _split_missed(chunk, a, b)]
    merged: list[tuple[int, int]] = []
    for a, b in pieces:
        a, b = trim_span(chunk, a, b)
        if a >= b:
            continue
        if merged and _ENDS_WITH_TITLE.search(chunk[merged[-1][0] : merged[-1][1]]):
            merged[-1] = (merged[-1][0], b)
        else:
            merged.append((a, b))
    return [(start + a, start + b) for a, b in merged if _HAS_WORD.search(chunk, a, b)]


def _split_missed(text: str, a: int, b: int) -> list[tuple[int, int]]:
    pieces = []
    for match in _MISSED_BOUNDARY.finditer(text, a, b):
        pieces.append((a, match.start()))
        a = match.end()
    pieces.append((a, b))
    return pieces


def trim_span(text: str, a: int, b: int) -> tuple[int, int]:
    """The span text[a:b] without its leading and trailing whitespace."""
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    return a, b
