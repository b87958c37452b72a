"""One tokenizer for article text and for questions, so both sides meet on the same terms.

Words are lowercased and Snowball-stemmed; stopwords go. Acronyms ("U.N.", "UN", "DPRK") keep
their own upper-case namespace, so Kim Jong Un's "Un" never collides with the United Nations and
the pronoun "us" never collides with the U.S. Aliases (an acronym and the phrase it stands for)
expand an acronym into its phrase's terms on both sides, so "UNSC" meets "Security Council".
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable, Mapping
from functools import lru_cache

import Stemmer

from bot.engine.models import Problem, ProblemKind

STOPWORDS = frozenset(
    """
    a about above after again against all am an and any are aren't as at be because been before
    being below between both but by can cannot could couldn't did didn't do does doesn't doing
    don't down during each few for from further had hadn't has hasn't have haven't having he
    he'd he'll he's her here here's hers herself him himself his how how's i i'd i'll i'm i've
    if in into is isn't it it's its itself let's me more most mustn't my myself no nor not of
    off on once only or other ought our ours ourselves out over own same shan't she she'd she'll
    she's should shouldn't so some such than that that's the their theirs them themselves then
    there there's these they they'd they'll they're they've this those through to too under
    until up very was wasn't we we'd we'll we're we've were weren't what what's when when's
    where where's which while who who's whom why why's with won't would wouldn't you you'd
    you'll you're you've your yours yourself yourselves also just will shall may might must
    can't us
    """.split()
)

# Words people use to frame a question rather than to say what it is about. They still help
# rank sentences, but a sentence need not contain them to answer the question.
QUESTION_FRAMING_WORDS = frozenset(
    """
    say said says tell told think thinks thought mention mentioned mentions according article
    story report reported reports explain describe describes described happen happened happens
    know known want wants give gives given way kind sort please anything something thing things
    stand stands mean means short go goes going went gone get gets getting got take takes
    taking took taken come comes coming came
    """.split()
)

# Irregular past forms meet their base verb ("met" and "meeting" both become "meet").
IRREGULAR_VERBS = {
    past: base
    for base, forms in {
        "say": "said",
        "meet": "met",
        "hold": "held",
        "tell": "told",
        "write": "wrote written",
        "make": "made",
        "take": "took taken",
        "give": "gave given",
        "come": "came",
        "go": "went gone",
        "see": "saw seen",
        "find": "found",
        "think": "thought",
        "know": "knew known",
        "leave": "left",
        "lead": "led",
        "pay": "paid",
        "win": "won",
        "lose": "lost",
        "sell": "sold",
        "buy": "bought",
        "begin": "began begun",
        "fall": "fell fallen",
        "rise": "rose risen",
        "run": "ran",
        "build": "built",
        "send": "sent",
        "spend": "spent",
        "bring": "brought",
        "keep": "kept",
        "feel": "felt",
        "stand": "stood",
        "speak": "spoke spoken",
        "choose": "chose chosen",
        "drive": "drove driven",
        "grow": "grew grown",
        "strike": "struck",
        "seek": "sought",
        "teach": "taught",
        "catch": "caught",
        "fight": "fought",
        "mean": "meant",
        "break": "broke broken",
        "show": "shown",
        "fly": "flew flown",
        "draw": "drew drawn",
        "throw": "threw thrown",
        "wear": "wore worn",
        "hide": "hid hidden",
        "eat": "ate eaten",
        "shoot": "shot",
        "sing": "sang sung",
        "swim": "swam swum",
        "forget": "forgot forgotten",
        "freeze": "froze frozen",
        "steal": "stole stolen",
        "wake": "woke woken",
        "hear": "heard",
        "sit": "sat",
        "lie": "lay lain",
        "lend": "lent",
        "bend": "bent",
        "deal": "dealt",
        "feed": "fed",
        "flee": "fled",
        "sleep": "slept",
        "sweep": "swept",
        "understand": "understood",
        "withdraw": "withdrew withdrawn",
        "rebuild": "rebuilt",
        "undertake": "undertook undertaken",
        "overtake": "overtook overtaken",
    }.items()
    for past in forms.split()
}

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"})
# Dotted acronyms first (U.N., U.S.A.), then words made of letters and digits in any script.
TOKEN = re.compile(r"(?:[A-Z]\.){2,}|[^\W_]+(?:'[^\W_]+)*")
_POSSESSIVE = re.compile(r"'s?$")

# PyStemmer objects are not thread-safe, and a reload tokenizes in a worker thread while the
# event loop answers questions: each thread gets its own stemmer.
_stemmers = threading.local()


def _stemmer() -> Stemmer.Stemmer:
    stemmer = getattr(_stemmers, "english", None)
    if stemmer is None:
        stemmer = _stemmers.english = Stemmer.Stemmer("english")
    return stemmer


QUESTION_FRAMING = frozenset(_stemmer().stemWords(sorted(QUESTION_FRAMING_WORDS)))


@lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    return _stemmer().stemWord(word)


def is_acronym(raw: str, shouting: bool) -> bool:
    if "." in raw:
        return True
    # isupper(): every cased character is upper case, and there is at least one.
    if shouting or len(raw) > 6 or len(raw) < 2 or not raw.isupper():
        return False
    return sum(c.isalpha() for c in raw) >= 2


_NOT_ASCII_UPPER = bytes(b for b in range(256) if not ord("A") <= b <= ord("Z"))
_NOT_ASCII_LOWER = bytes(b for b in range(256) if not ord("a") <= b <= ord("z"))


def is_shouting(text: str) -> bool:
    """True for shouted text ("WHY DOES CHINA OPPOSE IT"), where capitals carry no meaning."""
    if text.isascii():
        # Every sentence of a corpus passes through here: ASCII text (most news) is counted in
        # C, where "upper case" is A-Z and "lower case" a-z, as str.isupper and islower say.
        raw = text.encode("ascii")
        upper = len(raw.translate(None, _NOT_ASCII_UPPER))
        return upper > 8 and upper > 2 * len(raw.translate(None, _NOT_ASCII_LOWER))
    upper = lower = 0
    for c in text:
        if c.isupper():
            upper += 1
        elif c.islower():
            lower += 1
    return upper > 8 and upper > 2 * lower


def acronym_term(raw: str) -> str:
    """The canonical term of an acronym: upper case, no dots ("U.N." -> "UN")."""
    return raw.replace(".", "").upper()


def normalize(text: str) -> str:
    """Unicode-normalise so look-alike characters meet (curly apostrophes, full-width forms)."""
    return unicodedata.normalize("NFKC", text).translate(_APOSTROPHES)


def base_terms(text: str) -> list[str]:
    """Terms of a text before alias expansion: stems, acronym terms, no stopwords."""
    text = normalize(text)
    term_of = _shouted_term if is_shouting(text) else _term
    terms: list[str] = []
    for raw in TOKEN.findall(text):
        term = term_of(raw)
        if term is not None:
            terms.append(term)
    return terms


# A word's term depends on the word alone (and on whether its text shouts): news repeats its
# words, and every sentence of a corpus is tokenized at load, so each is worked out once.
@lru_cache(maxsize=200_000)
def _term(raw: str) -> str | None:
    return token_term(raw, False)


@lru_cache(maxsize=20_000)
def _shouted_term(raw: str) -> str | None:
    return token_term(raw, True)


def token_term(raw: str, shouting: bool) -> str | None:
    """The term of one token of normalised text, or None for a stopword."""
    if is_acronym(raw, shouting):
        return acronym_term(raw)
    lower = raw.lower()
    if lower in STOPWORDS:
        return None
    word = _POSSESSIVE.sub("", lower) if "'" in raw else lower
    if not word or word in STOPWORDS:
        return None
    return _stem(IRREGULAR_VERBS.get(word, word))


class Tokenizer:
    """Turns text into index terms, expanding known acronyms into their phrase's terms."""

    def __init__(self, aliases: Mapping[str, Iterable[str]] | None = None) -> None:
        given = {key: tuple(terms) for key, terms in (aliases or {}).items()}
        # Resolve chains once ("UNSC" -> "UN" -> "United Nations") so lookups stay one step.
        self.aliases: dict[str, tuple[str, ...]] = {
            key: _resolve(key, given, depth=0) for key in given
        }

    def expand(self, terms: Iterable[str]) -> list[str]:
        """Add the phrase terms of every acronym the aliases know."""
        out: list[str] = []
        for term in terms:
            out.append(term)
            extra = self.aliases.get(term)
            if extra:
                out.extend(extra)
        return out

    def __call__(self, text: str) -> list[str]:
        return self.expand(base_terms(text))


def _resolve(key: str, aliases: Mapping[str, tuple[str, ...]], depth: int) -> tuple[str, ...]:
    out: list[str] = []
    for term in aliases.get(key, ()):
        out.append(term)
        if depth < 3 and term != key and term in aliases:
            out.extend(t for t in _resolve(term, aliases, depth + 1) if t != key)
    return tuple(dict.fromkeys(out))


# Definitions an article makes itself: "Democratic People's Republic of Korea (DPRK)".
_DEFINITION = re.compile(
    r"((?:[A-Z][\w'’.-]*\s+(?:(?:of|the|and|for|on|de)\s+)*){1,8})\(([A-Z][A-Za-z.&]{1,9})\)"
)


def mine_aliases(text: str) -> dict[str, tuple[str, ...]]:
    """Find "Full Name (ACR)" definitions whose initials fit the acronym."""
    found: dict[str, tuple[str, ...]] = {}
    for match in _DEFINITION.finditer(text):
        acronym = acronym_term(match.group(2))
        words = match.group(1).split()
        # Keep the shortest tail of the capitalised run whose initials spell the acronym.
        for start in range(len(words)):
            candidate = words[start:]
            initials = "".join(w[0] for w in candidate if w[0].isupper())
            if initials.upper() == acronym or _initials_fit(candidate, acronym):
                terms = tuple(t for t in base_terms(" ".join(candidate)) if t != acronym)
                if terms:
                    found[acronym] = terms
                break
    return found


def _initials_fit(words: list[str], acronym: str) -> bool:
    """Loose fit: the acronym's letters appear in order as initials of the phrase's words."""
    if not words or words[0][0].upper() != acronym[0]:
        return False
    letters = iter(w[0].upper() for w in words)
    return all(any(c == w for w in letters) for c in acronym) and len(words) <= len(acronym) + 3


def parse_glossary(text: str) -> tuple[dict[str, tuple[str, ...]], list[Problem]]:
    """Read "ACR = Full Name" lines; returns the aliases and a problem per bad line."""
    aliases: dict[str, tuple[str, ...]] = {}
    problems: list[Problem] = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        left, sep, right = line.partition("=")
        left, right = left.strip(), right.strip()
        if not sep or not left or not right:
            problems.append(Problem(ProblemKind.GLOSSARY_NOT_AN_ALIAS, line, number))
            continue
        key, phrase = (left, right) if len(left.split()) == 1 else (right, left)
        if len(key.split()) != 1:
            problems.append(Problem(ProblemKind.GLOSSARY_LONG_SIDES, position=number))
            continue
        key_terms = base_terms(key)
        phrase_terms = tuple(base_terms(phrase))
        if len(key_terms) != 1 or not phrase_terms:
            problems.append(Problem(ProblemKind.GLOSSARY_NOTHING_TO_MATCH, line, number))
            continue
        aliases[key_terms[0]] = tuple(t for t in phrase_terms if t != key_terms[0])
    return aliases, problems
