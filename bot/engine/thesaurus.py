"""Synonyms for bridging a question's words to the article's ("asked" meets "requested").

The table is built from WordNet by scripts/build_synonyms.py and shipped with the package, so
every machine gives the same answers. A synonym is weaker evidence than the word itself: the
answerer gives it partial credit.
"""

from __future__ import annotations

import gzip
from functools import lru_cache
from importlib import resources


@lru_cache(maxsize=1)
def synonym_table() -> dict[str, str]:
    """Stem -> the stems of words sharing one of its common senses, space-separated: split
    when looked up, as a question looks up a few of 31,000 (the table is read at a process's
    first question)."""
    data = resources.files("bot.engine").joinpath("synonyms.tsv.gz").read_bytes()
    lines = gzip.decompress(data).decode("utf-8").splitlines()
    return {
        stem: others
        for stem, _, others in (line.partition("\t") for line in lines)
        if stem and not stem.startswith("#")
    }


def synonyms(term: str) -> tuple[str, ...]:
    """The synonym stems of a stem, or nothing."""
    return tuple(synonym_table().get(term, "").split())
