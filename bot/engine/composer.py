"""Choosing what an answer shows: the best quote, and the few others that say more."""

from __future__ import annotations

from bot.engine.library import Library
from bot.engine.retriever import MIN_COVERAGE, Quote

# Extra quotes must be nearly as good as the first one.
EXTRA_QUOTE_SCORE_SHARE = 0.8
MAX_QUOTES = 3


def compose(
    answers: tuple[Quote, ...], cited: frozenset[int], library: Library
) -> tuple[Quote, ...]:
    """The quotes to show, best first: the best answer, then up to MAX_QUOTES - 1 more that
    score nearly as well, are not repeats, and were not shown by the answer just before."""
    best = answers[0]
    quotes = [best]
    # Sentences with the same terms say the same thing, whatever their punctuation.
    seen_texts = {library.terms[best.document]}
    for quote in answers[1:]:
        if len(quotes) == MAX_QUOTES:
            break
        if quote.score < EXTRA_QUOTE_SCORE_SHARE * best.score or quote.coverage < MIN_COVERAGE:
            break
        if quote.document in cited:  # the previous answer showed it already
            continue
        fingerprint = library.terms[quote.document]
        if fingerprint in seen_texts:  # wire stories repeat sentences across articles
            continue
        seen_texts.add(fingerprint)
        quotes.append(quote)
    return tuple(quotes)
