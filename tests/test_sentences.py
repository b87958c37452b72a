"""Sentence splitting: offsets into the text, and the abbreviation traps of news copy."""

from __future__ import annotations

import pytest

from bot.engine.sentences import split_sentences


def sentences(text: str) -> list[str]:
    return [text[a:b] for a, b in split_sentences(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "The U.S. and the U.N. met on Monday. China's U.N. mission said so.",
            ["The U.S. and the U.N. met on Monday.", "China's U.N. mission said so."],
        ),
        (
            "He said “We are ready.” The council met at 3 p.m. on Jan. 5. It was over.",
            ["He said “We are ready.”", "The council met at 3 p.m. on Jan. 5.", "It was over."],
        ),
        (
            "It was loud as well. Dr. Helen Marsh, an ecologist, said so.",
            ["It was loud as well.", "Dr. Helen Marsh, an ecologist, said so."],
        ),
        ("Prices rose 5%. Mr. Smith agreed.", ["Prices rose 5%.", "Mr. Smith agreed."]),
        ("He met Dr. Jones. Then he left.", ["He met Dr. Jones.", "Then he left."]),
    ],
)
def test_news_abbreviations_split_where_a_reader_would(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


def test_spans_are_offsets_into_the_whole_text() -> None:
    text = "Headline\n\n  First one. Second one.  "
    spans = split_sentences(text, 10, len(text))
    assert [text[a:b] for a, b in spans] == ["First one.", "Second one."]


def test_text_without_words_has_no_sentences() -> None:
    assert split_sentences("... --- !!!") == []
    assert split_sentences("") == []
