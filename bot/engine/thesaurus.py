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
def synonym_table() -> dict[str, tuple[str, ...]]:
    """Stem -> stems of words sharing one of its common senses."""
    table: dict[str, tuple[str, ...]] = {}
    data = resources.files("bot.engine").joinpath("synonyms.tsv.gz").read_bytes()
    for line in gzip.decompress(data).decode("utf-8").splitlines():
        if line and not line.startswith("#"):
            stem, _, others = line.partition("\t")
            table[stem] = tuple(others.split())
    return table


def synonyms(term: str) -> tuple[str, ...]:
    """The synonym stems of a stem, or nothing."""
    return synonym_table().get(term, ())
