"""Sentence splitting: offsets into the text, and the abbreviation traps of news copy."""

from __future__ import annotations

import blingfire
import pytest
from corpora import TESTS

from bot.engine.sentences import _sentence_offsets, split_sentences


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


# Text the splitter meets: wire copy, curly quotes and dashes, accents, emoji, combining marks,
# zero-width and control characters, a byte-order mark.
UNUSUAL = [
    "Café owners in Zürich said “no”. The mayor — and the council — agreed.",
    "Emoji 😀 in a sentence. Another one 🚀! And a third?",
    "Combining e\u0301 marks. Zero\u200bwidth spaces. Tabs\tand\nnewlines.",
    "\ufeffA byte-order mark first. Then a sentence.",
    "ÀÉÎÕÜ Ñ ß 日本語の文。 もう一つの文。 Mixed scripts end here.",
    "x\x00y. A nul character before it.",
]


@pytest.mark.parametrize("text", UNUSUAL)
def test_sentence_offsets_are_blingfires_own(text: str) -> None:
    # The library's wrapper, mapping its offsets one byte at a time, is what ours must give.
    assert _sentence_offsets(text) == list(blingfire.text_to_sentences_and_offsets(text)[1])


def test_sentence_offsets_are_blingfires_own_on_every_test_article() -> None:
    for path in sorted((TESTS / "eval" / "articles").iterdir()):
        text = path.read_text(encoding="utf-8")
        for paragraph in [text, *text.split("\n\n")]:
            if paragraph.strip():
                expected = list(blingfire.text_to_sentences_and_offsets(paragraph)[1])
                assert _sentence_offsets(paragraph) == expected, path.name
