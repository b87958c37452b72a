"""Where the test data lives: the raw seed scrape, the second article, the shipped prompts."""

from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
PROMPTS = ROOT / "prompts"
SEED_RAW = TESTS / "data" / "seed-raw.txt"
SECOND_ARTICLE = TESTS / "eval" / "articles" / "harbor-ferry-electric.md"
THIRD_ARTICLE = TESTS / "eval" / "articles" / "council-budget-wire.txt"
FOURTH_ARTICLE = TESTS / "eval" / "articles" / "hospital-sleep-study.txt"
SPORTS_ARTICLE = TESTS / "eval" / "articles" / "sports-match-report.txt"
COURT_ARTICLE = TESTS / "eval" / "articles" / "court-business-story.txt"
WILDFIRE_ARTICLE = TESTS / "eval" / "articles" / "wildfire-evacuation.txt"
OBITUARY_ARTICLE = TESTS / "eval" / "articles" / "obituary-engineer.txt"
STRIKE_ARTICLE = TESTS / "eval" / "articles" / "strike-story.txt"
STORM_ARTICLE = TESTS / "eval" / "articles" / "storm-story.txt"
BUSINESS_ARTICLE = TESTS / "eval" / "articles" / "business-results.txt"
SPACE_ARTICLE = TESTS / "eval" / "articles" / "space-mission.txt"
TECH_ARTICLE = TESTS / "eval" / "articles" / "tech-breach.txt"
EXPLAINER_ARTICLE = TESTS / "eval" / "articles" / "explainer.txt"
ARTS_ARTICLE = TESTS / "eval" / "articles" / "arts-wire.txt"
LIVE_BLOG_ARTICLE = TESTS / "eval" / "articles" / "live-blog.txt"
INTERVIEW_ARTICLE = TESTS / "eval" / "articles" / "interview.txt"
ELECTION_ARTICLE = TESTS / "eval" / "articles" / "election-results.txt"
RECALL_ARTICLE = TESTS / "eval" / "articles" / "product-recall.txt"
REVIEW_ARTICLE = TESTS / "eval" / "articles" / "review.txt"
WEATHER_ARTICLE = TESTS / "eval" / "articles" / "weather-warning.txt"
TRANSFERS_ARTICLE = TESTS / "eval" / "articles" / "transfer-roundup.txt"
PRESS_RELEASE_ARTICLE = TESTS / "eval" / "articles" / "press-release.txt"
NEWS_IN_BRIEF_ARTICLE = TESTS / "eval" / "articles" / "news-in-brief.txt"
STUDY_ARTICLE = TESTS / "eval" / "articles" / "study-report.txt"
MONEY_ARTICLE = TESTS / "eval" / "articles" / "money-explainer.txt"
PROFILE_ARTICLE = TESTS / "eval" / "articles" / "profile.txt"
PLANNING_ARTICLE = TESTS / "eval" / "articles" / "planning-decision.txt"
BREACH_ARTICLE = TESTS / "eval" / "articles" / "data-breach.txt"
TRAVEL_ARTICLE = TESTS / "eval" / "articles" / "travel-disruption.txt"
FACT_CHECK_ARTICLE = TESTS / "eval" / "articles" / "fact-check.txt"
EXAM_RESULTS_ARTICLE = TESTS / "eval" / "articles" / "exam-results.txt"
POLICE_APPEAL_ARTICLE = TESTS / "eval" / "articles" / "police-appeal.txt"
FESTIVAL_ARTICLE = TESTS / "eval" / "articles" / "festival-lineup.txt"
POLL_ARTICLE = TESTS / "eval" / "articles" / "opinion-poll.txt"
# The keys of a citation in `ask --json` and `summary --json`: a contract other tools read.
CITATION_JSON_KEYS = {"n", "article", "paragraph", "quote", "path", "start", "end", "answer"}
BBC = ROOT.parent / "shared" / "data" / "bbc-news"
