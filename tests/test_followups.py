"""Follow-up questions are read with the exchange before them; questions that stand on their
own are answered the same whatever came before."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from bot.engine import Citation, Engine, FollowUp

FIRST = "What meeting does China oppose?"
WHEN_SAID = "when did state media say that"
WHEN_HELD = "When will it be held?"


def after_first(engine: Engine) -> FollowUp:
    return FollowUp.after(FIRST, engine.ask(FIRST))


def test_a_follow_up_finds_its_answer_with_the_question_before_it(seed_engine: Engine) -> None:
    followed = seed_engine.ask(WHEN_HELD, after_first(seed_engine))
    assert followed.answered
    assert "which will be held on Thursday" in followed.citations[0].quote
    # What the previous answer showed is not shown again.
    assert not any(c.quote.startswith("China opposes") for c in followed.citations)


def test_what_a_follow_up_points_at_is_what_was_just_quoted(seed_engine: Engine) -> None:
    claim = "What did Kim Jong Un call for?"
    after_claim = FollowUp.after(claim, seed_engine.ask(claim))
    # "That" is the call just quoted, which state media reported on Monday.
    for asked in (WHEN_SAID, "when was that said"):
        first = seed_engine.ask(asked, after_claim).citations[0]
        assert first.quote.startswith("North Korean leader Kim Jong Un called for")
        assert first.answer is not None and "Monday" in first.quote[slice(*first.answer)]
    # Alone, nothing says what "that" is.
    assert not seed_engine.ask("when was that said").answered


def test_the_exchange_followed_keeps_what_its_reply_cited(seed_engine: Engine) -> None:
    exchange = after_first(seed_engine)
    assert exchange.question == FIRST
    assert exchange.citations and exchange.citations[0].quote.startswith("China opposes")
    declined = seed_engine.ask("What is the GDP of Japan?")
    assert FollowUp.after("What is the GDP of Japan?", declined).citations == ()


@pytest.mark.parametrize(
    "question",
    [
        "Who wrote this?",
        "How many votes are needed to move ahead?",
        "What did the United States accuse China of in March?",
        "What does DPRK stand for?",
    ],
)
def test_a_question_that_stands_on_its_own_is_not_bent_by_the_one_before(
    seed_engine: Engine, question: str
) -> None:
    assert seed_engine.ask(question, after_first(seed_engine)) == seed_engine.ask(question)


def test_a_follow_up_about_something_the_article_never_mentions_is_declined(
    seed_engine: Engine,
) -> None:
    reply = seed_engine.ask("What did Russia say about it?", after_first(seed_engine))
    assert not reply.answered
    assert "Russia" in reply.text


def test_a_follow_up_to_a_passage_no_longer_loaded_is_read_with_the_question_alone(
    seed_engine: Engine,
) -> None:
    gone = Citation(1, "removed-article", "Gone", 3, "It was held on Friday.", "x.txt", 0, 22)
    reply = seed_engine.ask(WHEN_HELD, FollowUp(FIRST, (gone,)))
    assert reply == seed_engine.ask(WHEN_HELD, FollowUp(FIRST))
    assert reply.answered


def test_ask_json_follows_a_question(seed_corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["ask", "--corpus", str(seed_corpus), "--json", "--follows", FIRST, WHEN_HELD])
    assert code == 0
    (line,) = capsys.readouterr().out.strip().splitlines()
    reply = json.loads(line)
    assert reply["question"] == WHEN_HELD
    assert reply["answered"] is True
    assert "held on Thursday" in reply["citations"][0]["quote"]


def test_chat_reads_each_line_as_a_follow_up_of_the_one_before(seed_corpus: Path) -> None:
    lines = f"{FIRST}\n{WHEN_HELD}\nWho wrote this?\n"
    result = subprocess.run(
        [sys.executable, "-m", "bot", "chat", "--corpus", str(seed_corpus)],
        input=lines,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    replies = result.stdout.strip().split("\n\n")
    shown = result.stdout.replace("**", "")  # the words that answer are in bold
    assert "China opposes a planned" in replies[0].replace("**", "")
    assert "held on Thursday" in shown.split("China opposes a planned", 1)[1]
    assert "By Michelle Nichols" in result.stdout
