"""The sentence encoder's training examples (scripts/train_encoder.py) are made from the
reader's pairs as the engine ranks them: one per answering sentence, its hard negatives the
other candidates of the same question, a follow-up as the engine encodes it."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

from reader_data import Pair
from train_encoder import Example, examples

STRIKE = "The strike will begin on Monday at 6am."
ANNOUNCED = "The union announced the strike on Friday."
PAY = "Members rejected a 3% pay offer."
FLOOD = "The river burst its banks on Monday night."
WARNING = "A flood warning was issued on Sunday."


def test_each_answerable_question_gives_one_example_with_its_other_candidates() -> None:
    pairs = [
        Pair("when does it start", STRIKE, 1.0),
        Pair("when does it start", ANNOUNCED, 0.0),
        Pair("when does it start", PAY, 0.0),
        # An unanswerable question has no sentence to be close to: no example.
        Pair("how many ppl are striking", PAY, 0.0),
        Pair("how many ppl are striking", STRIKE, 0.0),
    ]
    assert examples([pairs]) == [Example("when does it start", STRIKE, (ANNOUNCED, PAY))]


def test_the_same_words_asked_of_two_articles_are_two_questions() -> None:
    strike = [Pair("when did it happen", STRIKE, 1.0), Pair("when did it happen", PAY, 0.0)]
    flood = [Pair("when did it happen", WARNING, 0.0), Pair("when did it happen", FLOOD, 1.0)]
    assert examples([strike, flood]) == [
        Example("when did it happen", STRIKE, (PAY,)),
        Example("when did it happen", FLOOD, (WARNING,)),
    ]


def test_a_follow_up_is_encoded_after_the_question_before_it() -> None:
    pairs = [
        Pair("why", PAY, 1.0, asked_before="what is the union doing"),
        Pair("why", STRIKE, 0.0, asked_before="what is the union doing"),
    ]
    assert examples([pairs]) == [Example("what is the union doing why", PAY, (STRIKE,))]
