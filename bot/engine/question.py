"""A question, read once: its terms, the concepts it asks about, the kind of answer it wants,
and whether it asks about the article itself. Every later step works from this one object."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from bot.engine.library import Library
from bot.engine.thesaurus import synonyms
from bot.engine.tokenizer import (
    QUESTION_FRAMING,
    TOKEN,
    acronym_term,
    base_terms,
    is_acronym,
    is_shouting,
    normalize,
    token_term,
)

# Word families the stemmer leaves apart: a shared start of at least this many letters, and at
# most this many more letters on the longer word.
MIN_FAMILY_PREFIX = 4
MAX_FAMILY_SUFFIX = 4
# How many sentences are looked at to tell whether the corpus writes a word as a name.
NAME_EVIDENCE_SENTENCES = 20

_MONTHS = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_WEEKDAYS = r"(?:mon|tues|wednes|thurs|fri|satur|sun)day"
_CLOCK = r"\d{1,2}(?::\d\d)?\s*[ap]\.?m\b|\bnoon\b|\bmidnight\b|o'clock"
_DAY = (
    rf"\b{_WEEKDAYS}\b|\b(?:today|yesterday|tomorrow|tonight)\b|\b{_MONTHS} \d{{1,2}}\b"
    rf"|\b\d{{1,2}} {_MONTHS}"
)
_YEAR = r"\b(?:1[89]|20)\d\d\b"
_PERIOD = (
    r"\b(?:since|ago|until|last|next|past|earlier|later|annual(?:ly)?|week|month|year"
    r"|decade|century|spring|summer|autumn|fall|winter)s?\b"
)
_NUMBER = (
    r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen"
    r"|twenty|thirty|forty|fifty|hundreds?|thousands?|millions?|billions?|dozens?|half"
    r"|percent|single|double|twice|several|few|many)\b"
)


@dataclass(frozen=True, slots=True)
class AnswerType:
    """A kind of answer a question can want, and what a sentence holding one looks like."""

    name: str
    asks: re.Pattern[str]  # how a question asks for it
    shows: re.Pattern[str] | None  # what an answering sentence shows; None: a name it lacks


# Tried in order. A sentence without that kind of answer does not answer the question, however
# well it matches ("What time does the meeting start?" is not answered by "...on Thursday.").
ANSWER_TYPES: tuple[AnswerType, ...] = tuple(
    AnswerType(
        name,
        re.compile(question, re.IGNORECASE),
        re.compile(answer, re.IGNORECASE) if answer else None,
    )
    for name, question, answer in (
        ("clock", r"\bwhat time\b|\bat what hour\b", _CLOCK),
        ("day", r"\b(?:what|which) (?:day|date)\b|\bon what day\b", f"{_DAY}|{_MONTHS} \\d"),
        ("year", r"\b(?:what|which) years?\b", _YEAR),
        ("time", r"\bwhen\b|\bhow long ago\b", f"{_CLOCK}|{_DAY}|{_YEAR}|{_MONTHS}|{_PERIOD}"),
        (
            "number",
            r"\bhow (?:many|much|long|far|big|large|old|often|fast|quick(?:ly)?|high|heavy|tall"
            r"|wide|deep)\b|\bwhat (?:number|percentage|share|amount|price|cost)\b",
            _NUMBER,
        ),
        (
            "name",
            r"^\s*who(?:'s| is| was| are| were)?\b(?! (?:wrote|edited))|\bwhose\b"
            r"|\bwhat(?:'s| is| was) (?:the|his|her|their) names?\b"
            r"|\b(?:which|what) (?:company|companies|firm|organi[sz]ation|group|person|people"
            r"|country|countries|agency|team|official|man|woman)\b",
            None,
        ),
    )
)

_ASKS_DEFINITION = re.compile(
    r"^\s*what(?:'s| is| does| do)? (?:the )?(?P<acronym>[A-Za-z][A-Za-z.&]{1,9}?)\.? "
    r"(?:stand for|stands for|mean|short for|an acronym for|abbreviation for)\b",
    re.IGNORECASE,
)

# Questions about the article itself, answered from its byline, credits and front matter.
_ASKS_ABOUT_ARTICLE = (
    (
        "byline",
        re.compile(
            r"\b(?:who (?:wrote|writes|reported|authored|is the (?:author|reporter|"
            r"writer|journalist))|(?:author|reporter|writer|journalist|byline)s?\b"
            r"|written by|reported by)",
            re.IGNORECASE,
        ),
    ),
    ("credits", re.compile(r"\b(?:edit(?:ed|or|s|ing)?)\b", re.IGNORECASE)),
    (
        "source",
        re.compile(
            r"\b(?:(?:news )?agency|outlet|publication|publisher|newspaper|"
            r"which (?:paper|site|source)|what source|source of (?:the|this) "
            r"(?:article|story)|published (?:by|in)|who published)\b",
            re.IGNORECASE,
        ),
    ),
    (
        "dateline",
        re.compile(
            r"\bwhere(?:'s|s| is| was)? (?:this|the|it)(?: \w+)? (?:filed|reported|written|from)\b"
            r"|\bwhere (?:was|is) (?:this|the|it)(?: \w+)? (?:filed|reported|written) from\b"
            r"|\b(?:which|what) (?:city|town|place) (?:was|is) (?:this|it)(?: \w+)? "
            r"(?:filed|reported|written)\b|\bdateline\b",
            re.IGNORECASE,
        ),
    ),
    (
        "published",
        re.compile(
            r"\bwhen (?:was|is) (?:the|this|it) (?:article |story )?"
            r"(?:published|written|posted|from)\b|\bpublication date\b",
            re.IGNORECASE,
        ),
    ),
)
# Words of a question about the article itself; anything else makes it a content question.
_ARTICLE_TERMS = frozenset(
    base_terms(
        "write wrote written writer author reporter report reported journalist byline edit "
        "edited editor editing agency news outlet publication publisher published publish "
        "newspaper paper site source piece article story date posted filed city town place"
    )
)

# "Who reported that?" after an answer asks who the article says reported the claim, not who
# wrote the article; "who wrote this (story)?" asks about the article.
_POINTS_AT_WHAT_WAS_SAID = re.compile(r"\b(?:that|it|those|them)\b", re.IGNORECASE)
_NAMES_THE_ARTICLE = re.compile(
    r"\b(?:this|article|story|piece|report|byline|dateline)\b", re.IGNORECASE
)

# Words that point back at something said before ("when's *it* happening?"), and openings of
# questions that continue one ("and the rest?", "what about kids?", "why?").
_REFERS_BACK = re.compile(
    r"\b(?:it|its|it's|they|them|their|theirs|this|that|these|those|he|him|his|she|her|hers"
    r"|there|then|such|same|other|else)\b|^\s*(?:and|so|but|also|what about|how about|why"
    r"|how come)\b",
    re.IGNORECASE,
)
_ASKING_WORD = re.compile(r"\b(why|how|where|who|whom|whose|which|what|when)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Concept:
    """One thing the question asks about: a term, a name, or an acronym and its phrase."""

    label: str  # the words as the question wrote them
    own: frozenset[str]  # the question's own terms for it
    aliases: frozenset[str]  # the terms of the phrase an acronym or alias stands for
    related: frozenset[str]  # synonyms the corpus uses
    weight: float
    is_name: bool
    seen: bool  # the corpus has at least one of the terms


@dataclass(frozen=True)
class Question:
    """A question as the engine understands it, read once against one library."""

    text: str  # as asked
    terms: frozenset[str]  # its base terms
    query: tuple[str, ...]  # its terms for the index, acronyms expanded
    concepts: tuple[Concept, ...]
    answer_type: AnswerType | None
    about_article: tuple[str, ...]  # which front-matter lines it asks for ("byline"...), if any
    acronym: str | None  # the acronym it asks to have spelled out, as written
    refers_back: bool  # it points at something said before ("when's it happening?")
    # It asks about what was just said, not about the article ("who reported that?").
    about_what_was_said: bool = False

    @property
    def seen_concepts(self) -> list[Concept]:
        """The concepts the corpus has words for."""
        return [c for c in self.concepts if c.seen]

    @property
    def unseen_names(self) -> tuple[str, ...]:
        """Names the corpus has never seen: whatever else matches, it is not about them."""
        return tuple(c.label for c in self.concepts if c.is_name and not c.seen)

    @property
    def leans_on_context(self) -> bool:
        """Whether it needs the question before it to be understood: it points back at it, or
        names nothing the corpus knows by itself."""
        return self.refers_back or not any(c.seen for c in self.concepts)


class QuestionReader:
    """Reads questions against one library: which words it knows, and how it writes them."""

    def __init__(self, library: Library) -> None:
        self.library = library
        self._sorted_vocabulary: list[str] | None = None

    def read(self, text: str) -> Question:
        """Everything the later steps need to know about a question, worked out once."""
        normalized = normalize(text)
        terms = frozenset(base_terms(text))
        definition = _ASKS_DEFINITION.search(normalized)
        return Question(
            text=text,
            terms=terms,
            query=tuple(self.library.tokenizer(text)),
            concepts=tuple(self.concepts(text)),
            answer_type=answer_type(text),
            about_article=self._about_article(text, terms),
            acronym=definition.group("acronym") if definition else None,
            refers_back=bool(_REFERS_BACK.search(normalized)),
            about_what_was_said=bool(
                _POINTS_AT_WHAT_WAS_SAID.search(normalized)
                and not _NAMES_THE_ARTICLE.search(normalized)
            ),
        )

    def _about_article(self, text: str, terms: frozenset[str]) -> tuple[str, ...]:
        wants = tuple(line for line, asks in _ASKS_ABOUT_ARTICLE if asks.search(text))
        if not wants:
            return ()
        # "Who wrote the 2014 report?" asks about the story's content, not about the article:
        # any content word the corpus knows, beyond the article's title, makes it a question.
        about = terms - _ARTICLE_TERMS - QUESTION_FRAMING
        titles = self.library.title_vocabulary
        if any(self.library.index.document_frequency(t) for t in about - titles):
            return ()
        return wants

    def concepts(self, text: str) -> list[Concept]:
        """The question's content, grouped: a capitalised run is one name, an acronym one term."""
        library = self.library
        text = normalize(text)
        shouting = is_shouting(text)
        # "How far", "what time": the words that ask for a kind of answer are not its topic.
        type_spans = [m.span() for t in ANSWER_TYPES for m in t.asks.finditer(text)]
        groups: list[tuple[list[str], bool, list[str]]] = []
        vocabulary = library.index.vocabulary
        previous_was_name = False
        for position, match in enumerate(TOKEN.finditer(text)):
            raw = match.group()
            term = token_term(raw, shouting)
            if term is None:
                previous_was_name = False
                continue
            if term in QUESTION_FRAMING or any(a <= match.start() < b for a, b in type_spans):
                previous_was_name = False
                continue
            is_name = not is_acronym(raw, shouting) and (
                (not shouting and position > 0 and raw[:1].isupper())
                or (raw.islower() and self.is_proper_noun(term, raw))
            )
            if is_name and previous_was_name:
                groups[-1][0].append(term)
                groups[-1][2].append(raw)
            else:
                groups.append(([term], is_name, [raw]))
            previous_was_name = is_name
        concepts: list[Concept] = []
        index = library.index
        for terms, is_name, words in groups:
            aliases = {a for t in terms for a in library.tokenizer.aliases.get(t, ())}
            # People type acronyms in lower case ("un sanctions"): where the corpus knows the
            # acronym, either reading may be meant, so both count.
            if len(terms) == 1 and words[0].islower() and acronym_term(words[0]) in vocabulary:
                upper = acronym_term(words[0])
                aliases.update((upper, *library.tokenizer.aliases.get(upper, ())))
            aliases -= set(terms)
            known_own = [t for t in terms if index.document_frequency(t) > 0]
            known_aliases = [t for t in aliases if index.document_frequency(t) > 0]
            related: set[str] = set()
            if not is_name and len(terms) == 1 and terms[0].islower():
                related = {s for s in synonyms(terms[0]) if index.document_frequency(s) > 0}
                if not known_own:
                    related.update(self._relatives(terms[0]))
                # "whole" is a synonym of "hale", not of the ferry Marguerite Hale.
                related = {s for s in related if not self.is_proper_noun(s)}
            # An unseen word weighs the most; an acronym the corpus only spells out weighs
            # what its phrase's rarest term weighs, a word it only has synonyms for likewise.
            if known_own or not (known_aliases or related):
                weight = max(index.term_idf(t) for t in terms)
            else:
                weight = max(index.term_idf(t) for t in known_aliases or related)
            concepts.append(
                Concept(
                    " ".join(words),
                    frozenset(terms),
                    frozenset(aliases),
                    frozenset(related),
                    weight,
                    is_name,
                    bool(known_own or known_aliases or related),
                )
            )
        return concepts

    def is_proper_noun(self, term: str, word: str | None = None) -> bool:
        """Whether the corpus always capitalises this word (or stem) mid-sentence ("kim")."""
        library = self.library
        spelled = rf"{re.escape(word)}\b" if word else rf"{re.escape(term)}\w*"
        pattern = re.compile(rf"(?<!^)\b{spelled}", re.IGNORECASE)
        seen = False
        for document in library.index.postings(term)[:NAME_EVIDENCE_SENTENCES]:
            for match in pattern.finditer(library.sentences[document].sentence.text):
                if not match.group()[:1].isupper():
                    return False
                seen = True
        return seen

    def _relatives(self, stem: str) -> set[str]:
        """Corpus terms of the same word family the stemmer left apart ("sign", "signatur")."""
        if len(stem) < MIN_FAMILY_PREFIX:
            return set()
        if self._sorted_vocabulary is None:
            self._sorted_vocabulary = sorted(
                t for t in self.library.index.vocabulary if t.islower()
            )
        vocabulary = self._sorted_vocabulary
        found = set()
        at = bisect.bisect_left(vocabulary, stem)
        while at < len(vocabulary) and vocabulary[at].startswith(stem):
            if len(vocabulary[at]) - len(stem) <= MAX_FAMILY_SUFFIX:
                found.add(vocabulary[at])
            at += 1
        for end in range(max(MIN_FAMILY_PREFIX, len(stem) - MAX_FAMILY_SUFFIX), len(stem)):
            if stem[:end] in self.library.index.vocabulary:
                found.add(stem[:end])
        found.discard(stem)
        return found


def answer_type(text: str) -> AnswerType | None:
    """The kind of answer a question wants, if it asks for one in so many words."""
    for kind in ANSWER_TYPES:
        if kind.asks.search(text):
            return kind
    return None


def question_kind(text: str) -> str:
    """What kind of answer a question wants, in a word: its answer type ("time", "number",
    "name"...), else its first question word ("why", "how"...), else "yes-no"."""
    typed = answer_type(text)
    if typed is not None:
        return typed.name
    asking = _ASKING_WORD.search(normalize(text))
    return asking.group(1).lower() if asking else "yes-no"
