"""Where the test data lives: the raw seed scrape, the second article, the shipped prompts."""

from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
PROMPTS = ROOT / "prompts"
SEED_RAW = TESTS / "data" / "seed-raw.txt"
BUNDLED_ARTICLE = ROOT / "corpus" / "reuters-china-un-north-korea-rights.txt"
SECOND_ARTICLE = TESTS / "eval" / "articles" / "harbor-ferry-electric.md"
SPACE_ARTICLE = TESTS / "eval" / "articles" / "space-mission.txt"
TECH_ARTICLE = TESTS / "eval" / "articles" / "tech-breach.txt"
# The keys of a citation in `ask --json` and `summary --json`: a contract other tools read.
CITATION_JSON_KEYS = {"n", "article", "paragraph", "quote", "path", "start", "end", "answer"}
BBC = ROOT.parent / "shared" / "data" / "bbc-news"
