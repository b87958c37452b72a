"""From a question to ranked, verbatim quotes, or an honest "the article doesn't say".

Ranking is BM25 over sentences, re-ranked by how much of the question a sentence covers. The
decision to answer never looks at raw BM25 scores (they mean nothing across questions and
corpora): it asks how much of the question's IDF-weighted content the best sentence contains,
and whether the question names something the corpus has never seen.
"""

from __future__ import annotations

import bisect
import dataclasses
import re
from dataclasses import dataclass, field

from bot.engine.library import IndexedSentence, Library
from bot.engine.models import Article, Sentence
from bot.engine.thesaurus import synonyms
from bot.engine.tokenizer import (
    QUESTION_FRAMING,
    STOPWORDS,
    TOKEN,
    acronym_term,
    base_terms,
    is_acronym,
    is_shouting,
    normalize,
    token_term,
)

# A sentence must hold this share of the weighted content the corpus knows to be cited as the
# answer. The decision thresholds were chosen on the development questions and the second
# article's questions together (tests/eval), never for single questions.
MIN_COVERAGE = 0.6
# Above this share of the question's weight in words the corpus has never seen, the question
# is about something else ("the tallest mountain"), however well the rest matches.
MAX_UNSEEN_SHARE = 0.5
# Credit for a concept found in the sentence's paragraph but not in the sentence itself: news
# sentences lean on their neighbours ("It will be...", "which will be held on Thursday").
CONTEXT_CREDIT = 0.5
# Among sentences that answer equally well, the news lead is the safer quote.
LEAD_PRIOR = 0.1
# Below this, the best sentence is not even offered as "maybe related".
MIN_RELATED_COVERAGE = 0.3
# Extra quotes must be nearly as good as the first one.
EXTRA_QUOTE_SCORE_SHARE = 0.8
MAX_QUOTES = 3
CANDIDATES = 40
# How much every concept counts the same, whatever its IDF: a word common in the article is
# still part of what is asked ("what did South Korea say about the *meeting*").
UNIFORM_SHARE = 0.5
# Credit for a synonym of the question's word ("asked" for "requested"): weaker evidence.
SYNONYM_CREDIT = 0.6
# Word families the stemmer leaves apart: a shared start of at least this many letters, and at
# most this many more letters on the longer word.
MIN_FAMILY_PREFIX = 4
MAX_FAMILY_SUFFIX = 4
# A follow-up question's own words say what it asks; the previous question's only say what it
# is about, so together they weigh at most this share of the question's own.
CONTEXT_WEIGHT = 0.5
# A follow-up is often answered next to the previous answer: this many paragraphs around it.
NEAR_PARAGRAPHS = 1
# How many sentences are looked at to tell whether the corpus writes a word as a name.
NAME_EVIDENCE_SENTENCES = 20
# Credit for naming someone by part of their name ("Kim" for "Kim Jong Un").
PARTIAL_NAME_CREDIT = 0.6

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

# What kind of answer a question wants, tried in order: (question pattern, answer pattern).
# A sentence without that kind of answer does not answer the question, however well it matches
# ("What time does the meeting start?" is not answered by "The meeting is on Thursday.").
ANSWER_TYPES: tuple[tuple[str, re.Pattern[str], re.Pattern[str] | None], ...] = tuple(
    (
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
_PROPER_NOUN = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][A-Za-z]+|\b[A-Z]{2,}\b")
_ASKS_DEFINITION = re.compile(
    r"^\s*what(?:'s| is| does| do)? (?:the )?(?P<acronym>[A-Za-z][A-Za-z.&]{1,9}?)\.? "
    r"(?:stand for|stands for|mean|short for|an acronym for|abbreviation for)\b",
    re.IGNORECASE,
)

# Questions about the article itself, answered from its byline, credits and front matter.
_ASKS_AUTHOR = re.compile(
    r"\b(?:who (?:wrote|writes|reported|authored|is the (?:author|reporter|"
    r"writer|journalist))|(?:author|reporter|writer|journalist|byline)s?\b"
    r"|written by|reported by)",
    re.IGNORECASE,
)
_ASKS_EDITOR = re.compile(r"\b(?:edit(?:ed|or|s|ing)?)\b", re.IGNORECASE)
_ASKS_SOURCE = re.compile(
    r"\b(?:(?:news )?agency|outlet|publication|publisher|newspaper|"
    r"which (?:paper|site|source)|what source|source of (?:the|this) "
    r"(?:article|story)|published (?:by|in)|who published)\b",
    re.IGNORECASE,
)
_ASKS_PUBLISHED = re.compile(
    r"\bwhen (?:was|is) (?:the|this|it) (?:article |story )?"
    r"(?:published|written|posted|from)\b|\bpublication date\b",
    re.IGNORECASE,
)
# Words of a question about the article itself; anything else makes it a content question.
_METADATA_TERMS = frozenset(
    base_terms(
        "write wrote written writer author reporter report reported journalist byline edit "
        "edited editor editing agency news outlet publication publisher published publish "
        "newspaper paper site source piece article story date posted"
    )
)


# Words that point back at something said before ("when's *it* happening?"), and openings of
# questions that continue one ("and the rest?", "what about kids?", "why?").
_REFERS_BACK = re.compile(
    r"\b(?:it|its|it's|they|them|their|theirs|this|that|these|those|he|him|his|she|her|hers"
    r"|there|then|such|same|other|else)\b|^\s*(?:and|so|but|also|what about|how about|why"
    r"|how come)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Context:
    """What a follow-up question follows: the previous question and the sentences (index
    documents) its reply cited."""

    question: str
    documents: frozenset[int] = frozenset()


def leans_on_context(question: str, concepts: list[Concept]) -> bool:
    """Whether a question needs the one before it to be understood: it points back at it, or
    names nothing the corpus knows by itself."""
    return bool(_REFERS_BACK.search(normalize(question))) or not any(c.seen for c in concepts)


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
class Quote:
    """A ranked candidate sentence."""

    item: IndexedSentence
    document: int  # the sentence's number in the library's index
    score: float
    coverage: float


@dataclass(frozen=True)
class Answer:
    """The engine's decision: quotes that answer, or none and maybe a related passage."""

    question: str
    answered: bool
    quotes: tuple[Quote, ...] = ()
    related: Quote | None = None
    metadata: tuple[tuple[Article, Sentence], ...] = field(default=())
    unseen_names: tuple[str, ...] = ()


class Answerer:
    """Answers questions from a Library."""

    def __init__(self, library: Library) -> None:
        self.library = library
        self._sorted_vocabulary: list[str] | None = None

    def _fingerprint(self, quote: Quote) -> frozenset[str]:
        """Sentences with the same terms say the same thing, whatever their punctuation."""
        return self.library.terms[quote.document]

    def _mentions_all(self, quote: Quote, names: list[Concept]) -> bool:
        terms = self.library.terms[quote.document] | self.library.paragraph_terms[quote.document]
        return all(_mention(name, terms) > 0 for name in names)

    def _is_proper_noun(self, term: str, word: str | None = None) -> bool:
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

    def answer(self, question: str, follows: Context | None = None) -> Answer:
        """Rank sentences for the question and decide whether the best one answers it.

        A question that leans on the one before it ("when's it happening?") is read together
        with `follows`; one that stands on its own is answered as if asked first.
        """
        metadata = self._metadata_answer(question)
        if metadata is not None:
            return metadata
        definition = self._definition_answer(question)
        if definition is not None:
            return definition
        concepts = self._concepts(question)
        if follows is not None and leans_on_context(question, concepts):
            return self._decide(
                question, concepts, self._context_concepts(follows, concepts), follows
            )
        return self._decide(question, concepts, [], None)

    def _context_concepts(self, follows: Context, own: list[Concept]) -> list[Concept]:
        """What the previous question was about, as concepts a sentence need not all mention:
        context, not requirements. Together they weigh at most CONTEXT_WEIGHT of what the
        question's own words weigh, or all there is when the question has none ("why?")."""
        own_terms = {t for c in own for t in c.own}
        kept = [c for c in self._concepts(follows.question) if c.seen and not c.own & own_terms]
        own_weight = sum(c.weight for c in own if c.seen)
        total = sum(c.weight for c in kept)
        scale = min(1.0, CONTEXT_WEIGHT * own_weight / total) if own_weight and total else 1.0
        return [dataclasses.replace(c, weight=scale * c.weight, is_name=False) for c in kept]

    def _decide(
        self,
        question: str,
        concepts: list[Concept],
        context: list[Concept],
        follows: Context | None,
    ) -> Answer:
        seen = [c for c in concepts if c.seen]
        if not seen and not context:
            return Answer(question, answered=False)
        query = self.library.tokenizer(question)
        if follows is not None:
            query.extend(t for t in self.library.tokenizer(follows.question) if t not in query)
        everything = [*concepts, *context]
        query.extend(t for c in everything for t in sorted(c.aliases) if t not in query)
        synonym_query = [t for c in everything for t in sorted(c.related) if t not in query]
        cited = follows.documents if follows is not None else frozenset()
        candidates = self._rank(query, synonym_query, seen, context, cited)
        # A question about someone is answered only by a passage that mentions them, and a
        # question asking "when" or "how many" only by one that holds a time or a number.
        names = [c for c in seen if c.is_name]
        answer_type = _answer_type(question)
        question_terms = set(base_terms(question))
        fitting = [
            q
            for q in candidates
            if (not names or self._mentions_all(q, names))
            and (
                answer_type is None or _fits_type(q.item.sentence.text, answer_type, question_terms)
            )
        ]
        unseen_names = tuple(c.label for c in concepts if c.is_name and not c.seen)
        own_weight = sum(c.weight for c in concepts)
        unseen_share = 1 - sum(c.weight for c in seen) / own_weight if own_weight else 0.0
        if (
            not fitting
            or fitting[0].coverage < MIN_COVERAGE
            or unseen_share > MAX_UNSEEN_SHARE
            or unseen_names
        ):
            closest = (fitting or candidates)[:1]
            related = next((q for q in closest if q.coverage >= MIN_RELATED_COVERAGE), None)
            return Answer(question, answered=False, related=related, unseen_names=unseen_names)
        best = fitting[0]
        candidates = fitting
        quotes = [best]
        seen_texts = {self._fingerprint(best)}
        for quote in candidates[1:]:
            if len(quotes) == MAX_QUOTES:
                break
            if quote.score < EXTRA_QUOTE_SCORE_SHARE * best.score or quote.coverage < MIN_COVERAGE:
                break
            if quote.document in cited:  # the previous answer showed it already
                continue
            fingerprint = self._fingerprint(quote)
            if fingerprint in seen_texts:  # wire stories repeat sentences across articles
                continue
            seen_texts.add(fingerprint)
            quotes.append(quote)
        return Answer(question, answered=True, quotes=tuple(quotes))

    def _rank(
        self,
        query: list[str],
        related: list[str],
        concepts: list[Concept],
        context: list[Concept],
        cited: frozenset[int],
    ) -> list[Quote]:
        library = self.library
        everything = [*concepts, *context]
        total_weight = sum(c.weight for c in everything)
        quotes: list[Quote] = []
        scores = dict(library.index.top(query, CANDIDATES))
        # Synonyms find sentences too, at the credit a synonym gets.
        for document, score in library.index.top(related, CANDIDATES) if related else ():
            scores[document] = scores.get(document, 0.0) + SYNONYM_CREDIT * score
        near = self._near(cited)
        for document in near:
            scores.setdefault(document, 0.0)
        for document, score in scores.items():
            terms = library.terms[document]
            paragraph = library.paragraph_terms[document]
            mentions = [
                max(_mention(c, terms), CONTEXT_CREDIT * _mention(c, paragraph)) for c in concepts
            ]
            # Next to the previous answer, a sentence is about what that answer was about.
            floor = CONTEXT_CREDIT if document in near else 0.0
            mentions.extend(
                max(_mention(c, terms), CONTEXT_CREDIT * _mention(c, paragraph), floor)
                for c in context
            )
            weighted = sum(c.weight * m for c, m in zip(everything, mentions, strict=True))
            coverage = (1 - UNIFORM_SHARE) * weighted / total_weight + UNIFORM_SHARE * _even_share(
                mentions[: len(concepts)], mentions[len(concepts) :]
            )
            item = library.sentences[document]
            rank = score * (0.5 + 0.5 * coverage) * (1 + LEAD_PRIOR / item.sentence.paragraph)
            quotes.append(Quote(item, document, rank, coverage))
        # Rank covering sentences first: a high BM25 score on half the question is not an answer.
        # A follow-up rarely asks for the quote the previous answer already showed.
        quotes.sort(key=lambda q: (q.coverage < MIN_COVERAGE, q.document in cited, -q.score))
        return quotes

    def _near(self, cited: frozenset[int]) -> frozenset[int]:
        """The sentences of the cited sentences' paragraphs and of the paragraphs next to them."""
        near: set[int] = set()
        library = self.library
        for document in cited:
            item = library.sentences[document]
            first = document - item.sentence.position
            paragraph = item.sentence.paragraph
            for offset, sentence in enumerate(item.article.sentences):
                if abs(sentence.paragraph - paragraph) <= NEAR_PARAGRAPHS:
                    near.add(first + offset)
        return frozenset(near - cited)

    def _concepts(self, question: str) -> list[Concept]:
        """The question's content, grouped: a capitalised run is one name, an acronym one term."""
        library = self.library
        text = normalize(question)
        shouting = is_shouting(text)
        # "How far", "what time": the words that ask for a kind of answer are not its topic.
        type_spans = [m.span() for _, asks, _ in ANSWER_TYPES for m in asks.finditer(text)]
        groups: list[tuple[list[str], bool, list[str]]] = []
        vocabulary = library.index.vocabulary
        previous_was_name = False
        for position, match in enumerate(TOKEN.finditer(text)):
            raw = match.group()
            term_or_none = token_term(raw, shouting)
            terms = [] if term_or_none is None else [term_or_none]
            if not terms:
                previous_was_name = False
                continue
            term = terms[0]
            if term in QUESTION_FRAMING or any(a <= match.start() < b for a, b in type_spans):
                previous_was_name = False
                continue
            is_name = not is_acronym(raw, shouting) and (
                (not shouting and position > 0 and raw[:1].isupper())
                or (raw.islower() and self._is_proper_noun(term, raw))
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
                related = {s for s in related if not self._is_proper_noun(s)}
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

    def _definition_answer(self, question: str) -> Answer | None:
        """ "What does ABTA stand for?": the sentence where the article spells the acronym out."""
        match = _ASKS_DEFINITION.search(normalize(question))
        if match is None:
            return None
        acronym = acronym_term(match.group("acronym"))
        defined = re.compile(rf"\(\s*{re.escape(match.group('acronym'))}\s*\)", re.IGNORECASE)
        for document in self.library.index.postings(acronym):
            item = self.library.sentences[document]
            if defined.search(item.sentence.text):
                return Answer(question, answered=True, quotes=(Quote(item, document, 1.0, 1.0),))
        return None

    def _metadata_answer(self, question: str) -> Answer | None:
        wants = []
        if _ASKS_AUTHOR.search(question):
            wants.append("byline")
        if _ASKS_EDITOR.search(question):
            wants.append("credits")
        if _ASKS_SOURCE.search(question):
            wants.append("source")
        if _ASKS_PUBLISHED.search(question):
            wants.append("published")
        if not wants:
            return None
        # "Who wrote the 2014 report?" asks about the story's content, not about the article:
        # any content word the corpus knows, beyond the article's title, makes it a question.
        about = set(base_terms(question)) - _METADATA_TERMS - QUESTION_FRAMING
        titles = self.library.title_vocabulary
        if any(self.library.index.document_frequency(t) for t in about - titles):
            return None
        found: list[tuple[Article, Sentence]] = []
        for article in self._articles_meant(question):
            for want in wants:
                line = _metadata_line(article, want)
                if line is not None and line not in [s for _, s in found]:
                    found.append((article, line))
        if not found:
            return Answer(question, answered=False)
        return Answer(question, answered=True, metadata=tuple(found[:MAX_QUOTES]))

    def _articles_meant(self, question: str) -> list[Article]:
        """The article a question about "the article" means: the only one, or the best match."""
        articles = self.library.articles
        if len(articles) == 1:
            return list(articles)
        wanted = set(base_terms(question)) - QUESTION_FRAMING
        scored = []
        for article, title in zip(articles, self.library.title_terms, strict=True):
            overlap = len(wanted & title)
            if overlap:
                scored.append((overlap, article.id, article))
        scored.sort(key=lambda s: (-s[0], s[1]))
        return [s[2] for s in scored[:1]]


def _metadata_line(article: Article, want: str) -> Sentence | None:
    """The quotable line of the file that answers a question about the article itself."""
    if want == "byline":
        return article.byline or article.credits
    if want == "credits":
        return article.credits if article.editor else article.field_line("editor")
    if want == "source":
        return article.field_line("source") or (article.dateline if article.source else None)
    if want == "published":
        return article.field_line("published") or article.field_line("date")
    return None


def _even_share(own: list[float], context: list[float]) -> float:
    """How much of the question a sentence mentions, every concept counting the same; the
    previous question's concepts count as one, at CONTEXT_WEIGHT, beside the question's own."""
    if not context:
        return sum(own) / len(own)
    if not own:
        return sum(context) / len(context)
    return (sum(own) + CONTEXT_WEIGHT * sum(context) / len(context)) / (len(own) + CONTEXT_WEIGHT)


def _mention(concept: Concept, terms: frozenset[str]) -> float:
    """How fully a sentence with these terms mentions the concept, from 0 to 1."""
    hits = len(concept.own & terms)
    own = 0.0
    if hits == len(concept.own):
        own = 1.0
    elif hits:
        own = max(PARTIAL_NAME_CREDIT, hits / len(concept.own)) if concept.is_name else 0.0
    alias = len(concept.aliases & terms) / len(concept.aliases) if concept.aliases else 0.0
    related = SYNONYM_CREDIT if own < 1.0 and concept.related & terms else 0.0
    return max(own, alias, related)


_DAY_WORDS = re.compile(
    r"\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|today|yesterday|tomorrow"
    r"|tonight|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.? \d{1,2}\b"
    r"|\d{1,2} (?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*)",
    re.IGNORECASE,
)
_YEAR_WORDS = re.compile(r"\b(?:1[89]|20)\d\d\b")
_TYPE_PATTERNS = {"day": _DAY_WORDS, "year": _YEAR_WORDS}


_ASKING_WORD = re.compile(r"\b(why|how|where|who|whom|whose|which|what|when)\b", re.IGNORECASE)


def question_kind(question: str) -> str:
    """What kind of answer a question wants, in a word: its answer type ("time", "number",
    "name"...), else its first question word ("why", "how"...), else "yes-no"."""
    typed = _answer_type(question)
    if typed is not None:
        return typed[0]
    asking = _ASKING_WORD.search(normalize(question))
    return asking.group(1).lower() if asking else "yes-no"


def _answer_type(question: str) -> tuple[str, re.Pattern[str] | None] | None:
    """The kind of answer the question wants, and the pattern an answering sentence shows."""
    for name, asks, answer in ANSWER_TYPES:
        if asks.search(question):
            return name, answer
    return None


def _fits_type(
    text: str, answer_type: tuple[str, re.Pattern[str] | None], question_terms: set[str]
) -> bool:
    """Whether a sentence holds the kind of answer wanted (a name the question does not give)."""
    name, pattern = answer_type
    if name != "name" and pattern is not None:
        return bool(pattern.search(text))
    return any(
        not set(base_terms(word)) <= question_terms
        for word in (m.group() for m in _PROPER_NOUN.finditer(text))
    )


__all__ = [
    "STOPWORDS",
    "Answer",
    "Answerer",
    "Context",
    "Quote",
    "leans_on_context",
    "question_kind",
]
