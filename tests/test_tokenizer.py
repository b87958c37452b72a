"""One tokenizer for both sides: acronyms, names, possessives, stems and aliases."""

from __future__ import annotations

from corpora import SEED_RAW

from bot.engine.models import Problem, ProblemKind
from bot.engine.snapshot import default_glossary
from bot.engine.tokenizer import (
    Tokenizer,
    base_terms,
    is_shouting,
    mine_aliases,
    parse_glossary,
)


def test_dotted_and_plain_acronyms_meet() -> None:
    assert base_terms("the U.N. mission") == base_terms("the UN mission") == ["UN", "mission"]
    assert base_terms("U.S. officials") == base_terms("US officials")


def test_kim_jong_un_is_not_the_united_nations() -> None:
    assert "UN" not in base_terms("Kim Jong Un")
    assert "un" in base_terms("Kim Jong Un")


def test_pronoun_us_is_a_stopword_but_the_acronym_is_not() -> None:
    assert base_terms("tell us") == ["tell"]
    assert base_terms("the US said") == ["US", "say"]


def test_possessives_curly_apostrophes_and_stems() -> None:
    assert base_terms("China’s meetings") == base_terms("China's meeting") == ["china", "meet"]


def test_irregular_past_forms_meet_their_verb() -> None:
    assert base_terms("the council met") == base_terms("the council meets")


def test_shouted_text_is_read_as_words() -> None:
    assert base_terms("WHY DOES CHINA OPPOSE THE MEETING") == base_terms(
        "why does china oppose the meeting"
    )


def test_aliases_the_article_defines_are_mined() -> None:
    aliases = mine_aliases(SEED_RAW.read_text("utf-8"))
    assert aliases["DPRK"] == ("democrat", "peopl", "republ", "korea")


def test_glossary_lines_either_way_round_and_bad_lines_reported() -> None:
    aliases, problems = parse_glossary(
        "UNSC = UN Security Council\nUnited Nations = UN\n# comment\nnonsense line\n"
    )
    assert aliases["UNSC"] == ("UN", "secur", "council")
    assert aliases["UN"] == ("unit", "nation")
    assert problems == [Problem(ProblemKind.GLOSSARY_NOT_AN_ALIAS, "nonsense line", 4)]


def test_alias_chains_expand_fully() -> None:
    tokenizer = Tokenizer({"UNSC": ("UN", "secur", "council"), "UN": ("unit", "nation")})
    assert set(tokenizer("UNSC")) == {"UNSC", "UN", "secur", "council", "unit", "nation"}


def test_shipped_glossary_parses_cleanly() -> None:
    aliases, problems = parse_glossary(default_glossary())
    assert problems == []
    assert aliases["UN"] == ("unit", "nation")


def test_shouting_is_counted_the_same_in_ascii_and_other_text() -> None:
    def by_hand(text: str) -> bool:
        upper = sum(c.isupper() for c in text)
        return upper > 8 and upper > 2 * sum(c.islower() for c in text)

    for text in (
        "WHY DOES CHINA OPPOSE THE MEETING",
        "Why does China oppose the U.N. MEETING",
        "ÉLYSÉE PALACE SAYS NON",
        "Élysée Palace says non to the NATO summit",
        "THE UN (ЮНЕСКО) AGREED",
        "",
    ):
        assert is_shouting(text) == by_hand(text), text
