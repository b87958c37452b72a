"""Answer quality stays above the floors measured when they were set (see bench/evaluate.py).

Floors sit a little under the figures measured, so a change that makes answers worse fails
here; a change that makes them better should raise the floors in the same commit.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from corpora import (
    BUNDLED_ARTICLE,
    PROMPTS,
    TESTS,
)

from bot.engine import Engine
from bot.engine.evaluation import (
    Scores,
    article_of,
    first_quote,
    read_cases,
    read_conversations,
    score,
    score_follow_ups,
)

# Every article a question set is on, by the file name its questions give.
ARTICLES = {path.name: path for path in (*(TESTS / "eval" / "articles").iterdir(), BUNDLED_ARTICLE)}

# question set -> (top-1 floor, declined-unanswerable floor, wrongly-declined ceiling); each set
# names its article (tests/eval/articles, or the bundled one in corpus/)
# Set after the reader's stage 13 (issue 17): top-1 three points and declines four points from
# what it measured, wrongly declined four points above (bench/evaluate.py prints every figure),
# about one question, and no looser than before where it still passes those. Over the 55 blind
# sets before round 10 it measured 63.0% / 74.5% / 26.3% (stage 11: 60.2% / 75.7% / 30.6%): it
# answers more, so most top-1 floors and wrongly-declined ceilings moved up, and 25 sets'
# declined floors moved down to the rule's value (mostly one unanswerable question fewer
# declined; the diff of this table in the commit that shipped stage 13 shows each move).
FLOORS = {
    "seed_dev.jsonl": (0.79, 0.86, 0.18),
    "seed_heldout.jsonl": (0.74, 0.71, 0.18),
    "second_article.jsonl": (0.70, 0.76, 0.24),
    # Written without sight of the engine to choose between reader models on news.
    "dev_strike.jsonl": (0.63, 0.96, 0.28),
    "dev_storm.jsonl": (0.90, 0.76, 0.11),
    "dev_business.jsonl": (0.65, 0.74, 0.36),
    # Written without sight of the engine and never used to tune it: these measure, not steer.
    "blind_seed.jsonl": (0.77, 0.76, 0.19),
    "blind_third.jsonl": (0.72, 0.79, 0.22),
    "blind_seed_2.jsonl": (0.79, 0.79, 0.15),
    "blind_fourth.jsonl": (0.72, 0.96, 0.19),
    "blind_reader_seed.jsonl": (0.65, 0.69, 0.30),
    "blind_sports.jsonl": (0.51, 0.89, 0.39),
    "blind_court.jsonl": (0.75, 0.71, 0.24),
    "blind_seed_4.jsonl": (0.67, 0.60, 0.28),
    "blind_wildfire.jsonl": (0.83, 0.60, 0.14),
    "blind_obituary.jsonl": (0.55, 0.53, 0.40),
    # Written after the reader's first round on news chat, half typed messily, run once then:
    # 34.8% / 76.8% / 54.0% together; 36.9% / 76.8% / 50.3% with the second round.
    "blind_issue17_seed.jsonl": (0.49, 0.66, 0.39),
    "blind_space.jsonl": (0.49, 0.67, 0.39),
    "blind_tech.jsonl": (0.74, 0.62, 0.13),
    "blind_explainer.jsonl": (0.60, 0.86, 0.31),
    "blind_arts.jsonl": (0.35, 0.71, 0.38),
    # Written after the second round was final, in styles no set had (a live blog, a Q&A
    # interview, election results, a product recall) and the bundled article, run once:
    # 41.8% / 74.5% / 47.3% together (issue 17's floors, 70% / 70% / 20%, are not met).
    "blind_seed_5.jsonl": (0.51, 0.74, 0.42),
    "blind_live_blog.jsonl": (0.60, 0.73, 0.29),
    "blind_interview.jsonl": (0.52, 0.56, 0.43),
    "blind_election.jsonl": (0.48, 0.86, 0.35),
    "blind_recall.jsonl": (0.72, 0.59, 0.24),
    # Written after the fourth round was final, in styles no set had (a theatre review, a
    # weather warning, a transfer-deadline roundup, a company press release) and the bundled
    # article, run once: 54.7% / 69.4% / 31.1% together (issue 17's floors, 70% / 70% / 20%,
    # are not met).
    "blind_seed_6.jsonl": (0.59, 0.80, 0.34),
    "blind_review.jsonl": (0.62, 0.64, 0.31),
    "blind_weather.jsonl": (0.67, 0.81, 0.27),
    "blind_transfers.jsonl": (0.53, 0.80, 0.26),
    "blind_press_release.jsonl": (0.70, 0.71, 0.15),
    # Written after the fifth round was final, in styles no set had (a news-in-brief column, a
    # science study report, a consumer money piece, a profile feature) and the bundled article,
    # run once: 45.5% / 67.0% / 34.2% together (issue 17's floors, 70% / 70% / 20%, are not met).
    "blind_seed_7.jsonl": (0.54, 0.64, 0.41),
    "blind_news_in_brief.jsonl": (0.60, 0.71, 0.28),
    "blind_study.jsonl": (0.52, 0.66, 0.39),
    "blind_money.jsonl": (0.52, 0.81, 0.27),
    "blind_profile.jsonl": (0.44, 0.67, 0.31),
    # Written after the sixth round was final, in styles no set had (a council planning
    # decision, a data breach, a travel-strike wire report, a fact-check) and the bundled
    # article, run once with the sixth round (measured, not shipped): 53.2% / 70.7% / 29.3%
    # together; with the seventh, 54.8% / 72.7% / 29.8%.
    "blind_seed_8.jsonl": (0.65, 0.74, 0.30),
    "blind_planning.jsonl": (0.57, 0.71, 0.39),
    "blind_breach.jsonl": (0.53, 0.64, 0.29),
    "blind_travel.jsonl": (0.57, 0.76, 0.29),
    "blind_fact_check.jsonl": (0.57, 0.76, 0.31),
    # Written after the seventh round was final, in styles no set had (exam results day, a
    # police appeal, a festival line-up, an opinion poll) and the bundled article, run once:
    # 59.7% / 74.8% / 24.6% together (issue 17's floors, 70% / 70% / 20%, are not met).
    "blind_seed_9.jsonl": (0.49, 0.71, 0.49),
    "blind_exam_results.jsonl": (0.57, 0.53, 0.39),
    "blind_police_appeal.jsonl": (0.47, 0.86, 0.38),
    "blind_festival.jsonl": (0.79, 0.76, 0.17),
    "blind_poll.jsonl": (0.47, 0.68, 0.43),
    # Written while a sentence encoder trained on news was tried, in styles no set had (a
    # coroner's inquest, a parliamentary vote, a zoo birth, an awards night) and the bundled
    # article, run once with the seventh round: 58.1% / 74.7% / 27.4% together (issue 17's
    # floors, 70% / 70% / 20%, are not met); with the encoder tried, 62.9% / 65.7% / 24.2%.
    "blind_seed_10.jsonl": (0.52, 0.59, 0.38),
    "blind_inquest.jsonl": (0.61, 0.68, 0.34),
    "blind_parliament.jsonl": (0.54, 0.66, 0.36),
    "blind_zoo.jsonl": (0.68, 0.81, 0.20),
    "blind_awards.jsonl": (0.57, 0.59, 0.24),
    # Written while the decision for the trained encoder was reworked, in styles no set had (an
    # anniversary commemoration, a shareholder revolt at an AGM, a record auction sale, an
    # ombudsman's ruling) and the bundled article, run once with it: 58.0% / 70.8% / 34.3%
    # together; with the reader before (round 7, untrained encoder), 51.9% / 69.8% / 34.8%.
    "blind_seed_11.jsonl": (0.67, 0.73, 0.31),
    "blind_anniversary.jsonl": (0.66, 0.61, 0.35),
    "blind_shareholder.jsonl": (0.40, 0.46, 0.46),
    "blind_auction.jsonl": (0.55, 0.80, 0.29),
    "blind_ombudsman.jsonl": (0.74, 0.74, 0.16),
    # Written while the reader learned to compare a question's candidates (stage 11), in styles
    # no set had (a central bank's rate decision on the wire, a cave rescue told as a timeline, a
    # "five things we learned" listicle, a factory closure) and the bundled article, run once
    # with it: 66.1% / 71.6% / 28.0% together; with stage 9e, 63.4% / 64.2% / 31.7%.
    "blind_seed_12.jsonl": (0.55, 0.79, 0.34),
    "blind_rate_decision.jsonl": (0.64, 0.59, 0.29),
    "blind_cave_rescue.jsonl": (0.63, 0.71, 0.33),
    "blind_five_things.jsonl": (0.66, 0.68, 0.32),
    "blind_factory_closure.jsonl": (0.72, 0.56, 0.17),
    # Written before the reader's third comparing round (stage 13) trained, in styles no set had
    # (an archaeology find, an air-accident interim report, a drought-hit harvest in the farming
    # press, an opinion column) and the bundled article, run once with it: 71.7% / 73.3% / 19.3%
    # together; with stage 11, 71.1% / 73.3% / 22.5%.
    "blind_seed_13.jsonl": (0.63, 0.66, 0.32),
    "blind_archaeology.jsonl": (0.70, 0.71, 0.23),
    "blind_air_accident.jsonl": (0.63, 0.71, 0.25),
    "blind_harvest.jsonl": (0.77, 0.62, 0.16),
    "blind_opinion_column.jsonl": (0.68, 0.76, 0.23),
    # Written after stage 13 was final (while a fourth comparing round with forty new training
    # articles trained, not shipped), in styles no set had (a school inspection report, a
    # travel feature, a cup semi-final preview, a consumer-advice column) and the bundled
    # article, run once with stage 13: 68.2% / 74.8% / 26.8% together (issue 17's floors, 70% /
    # 70% / 20% and no set under 60% top-1, are not met); with the round not shipped, 62.1% /
    # 84.1% / 34.8%.
    "blind_seed_14.jsonl": (0.57, 0.91, 0.44),
    "blind_school_inspection.jsonl": (0.74, 0.51, 0.27),
    "blind_travel_feature.jsonl": (0.84, 0.69, 0.17),
    "blind_match_preview.jsonl": (0.56, 0.69, 0.36),
    "blind_consumer_advice.jsonl": (0.54, 0.71, 0.32),
}


def measure(question_set: str, tmp_path: Path) -> Scores:
    cases = read_cases(TESTS / "eval" / question_set)
    article = ARTICLES[article_of(cases)]
    shutil.copy(article, tmp_path / article.name)
    engine = Engine.load(tmp_path, PROMPTS)
    return score(cases, lambda question: first_quote(engine.ask(question)))


@pytest.mark.parametrize("question_set", sorted(FLOORS))
def test_quality_stays_above_measured_floors(question_set: str, tmp_path: Path) -> None:
    top1, declined, wrongly_declined = FLOORS[question_set]
    scores = measure(question_set, tmp_path)
    detail = "\n".join(scores.misses)
    assert scores.top1 >= top1, detail
    assert scores.declined_share >= declined, detail
    assert scores.wrongly_declined_share <= wrongly_declined, detail


def test_every_question_set_has_floors() -> None:
    """A set added to tests/eval without floors would never be measured by the suite."""
    sets = {path.name for path in (TESTS / "eval").glob("*.jsonl")}
    assert sets == set(FLOORS) | set(CONVERSATION_FLOORS)


@pytest.mark.parametrize("question_set", sorted(FLOORS))
def test_every_expected_phrase_is_in_its_article(question_set: str) -> None:
    """A typo in a question set would count a right answer as wrong."""
    cases = read_cases(TESTS / "eval" / question_set)
    text = ARTICLES[article_of(cases)].read_text("utf-8")
    assert len({case.id for case in cases}) == len(cases)
    for case in cases:
        for phrase in case.expect:
            assert phrase.lower() in text.lower(), (case.id, phrase)


# Follow-ups (turns after the first) of the conversation sets, read in context: floors under
# what was measured, and whether the context must find more answers than asking each turn on
# its own. The blind set, written by someone who never saw the engine, was run once when the
# follow-up method was first final: 33.3% top-1, 65.2% of unanswerable follow-ups declined,
# 41.4% of answerable ones declined. With the reader reading a follow-up after the question
# before it (issue 17): 35.6%, 80.4%, 54.0%. After the reader's second round on news: 34.5%,
# 78.3%, 54.0% in context, and 35.6% asked on their own (one question more). After the fourth
# round: 51.7%, 71.7%, 29.9% in context against 48.3% on their own, so the context finds more
# again; on the development set 68.4% against 63.2% (75.0% and 10.5% declined). After the fifth
# round: 54.0%, 69.6%, 26.4% in context against 49.4% on their own; on the development set 73.7%
# against 68.4% (75.0% and 5.3%). After the seventh: 54.0%, 71.7%, 21.8% in context against
# 48.3% on their own; on the development set 73.7% against 68.4% (75.0% and 5.3%). With the
# trained encoder and the decision fitted on unanswerable follow-ups too: 60.9%, 65.2%, 20.7% in
# context against 50.6% on their own; on the development set (19 + 4 turns) 63.2% against 68.4%
# on their own (one turn), 50.0% and 10.5%, so there the context no longer has to win. With the
# reader of stage 11: 60.9%, 67.4%, 18.4% in context against 54.0% on their own; on the
# development set 63.2% against 68.4% (50.0% and 10.5%). With stage 13: 60.9%, 71.7%, 18.4% in
# context against 56.3% on their own; on the development set 68.4% against 73.7% (one of its
# four unanswerable turns declined, 25.0%, and 5.3%).
CONVERSATION_FLOORS = {
    "conversations_dev.jsonl": (0.65, 0.21, 0.10, False),
    "conversations.jsonl": (0.57, 0.67, 0.23, True),
}


def follow_up_scores(conversation_set: str, tmp_path: Path, *, with_context: bool) -> Scores:
    """All the set's follow-ups, each article's conversations asked of an engine over it."""
    total = Scores()
    conversations = read_conversations(TESTS / "eval" / conversation_set)
    for article in sorted({c.article for c in conversations}):
        folder = tmp_path / article
        folder.mkdir(exist_ok=True)
        shutil.copy(ARTICLES[article], folder / article)
        engine = Engine.load(folder, PROMPTS)
        chosen = [c for c in conversations if c.article == article]
        total.add(score_follow_ups(chosen, engine.ask, with_context=with_context))
    return total


@pytest.mark.parametrize("conversation_set", sorted(CONVERSATION_FLOORS))
def test_follow_ups_in_context_stay_above_measured_floors(
    conversation_set: str, tmp_path: Path
) -> None:
    top1, declined, wrongly_declined, context_wins = CONVERSATION_FLOORS[conversation_set]
    in_context = follow_up_scores(conversation_set, tmp_path, with_context=True)
    detail = "\n".join(in_context.misses)
    assert in_context.top1 >= top1, detail
    assert in_context.declined_share >= declined, detail
    assert in_context.wrongly_declined_share <= wrongly_declined, detail
    if context_wins:
        # The context is what answers them: without it, fewer follow-ups find their answer.
        alone = follow_up_scores(conversation_set, tmp_path, with_context=False)
        assert in_context.top1 > alone.top1


@pytest.mark.parametrize("conversation_set", sorted(CONVERSATION_FLOORS))
def test_every_expected_phrase_of_a_conversation_is_in_its_article(conversation_set: str) -> None:
    for conversation in read_conversations(TESTS / "eval" / conversation_set):
        text = ARTICLES[conversation.article].read_text("utf-8").lower()
        for turn in conversation.turns:
            for phrase in turn.expect:
                assert phrase.lower() in text, (turn.id, phrase)
