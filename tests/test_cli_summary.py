"""`articlebot summary` and `articlebot list` are part of the command-line contract."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from corpora import CITATION_JSON_KEYS

from bot.cli import main


def test_summary_json_prints_one_object_with_checkable_citations(
    two_article_corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["summary", "--corpus", str(two_article_corpus), "--article", "china", "--json"])
    assert code == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1
    summary = json.loads(lines[0])
    assert set(summary) == {"article", "text", "citations"}
    assert summary["article"] == "reuters-china-un-north-korea-rights"
    assert len(summary["citations"]) == 3
    for citation in summary["citations"]:
        assert set(citation) == CITATION_JSON_KEYS
        assert citation["answer"] is None  # a summary answers no question
        text = (two_article_corpus / citation["path"]).read_text("utf-8")
        assert text[citation["start"] : citation["end"]] == citation["quote"]
        assert citation["quote"] in summary["text"]


def test_summary_takes_length_and_topic(
    seed_corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["summary", "--corpus", str(seed_corpus), "--length", "points", "--topic", "sanctions"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "“sanctions”" in out
    assert sum(line.startswith("- ") for line in out.splitlines()) == 3


def test_summary_json_of_a_topic_the_article_lacks_has_no_citations(
    seed_corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["summary", "--corpus", str(seed_corpus), "--topic", "football", "--json"]
    assert main(args) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["citations"] == [] and "football" in summary["text"]


def test_summary_of_an_unknown_article_fails_and_lists_the_articles(
    seed_corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["summary", "--corpus", str(seed_corpus), "--article", "ferry"]) == 1
    err = capsys.readouterr().err
    assert "“ferry”" in err and "reuters-china-un-north-korea-rights" in err


def test_summary_refuses_an_unknown_length(
    seed_corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["summary", "--corpus", str(seed_corpus), "--length", "huge"])
    assert exited.value.code == 2
    assert "points" in capsys.readouterr().err


def test_list_shows_id_date_paragraphs_and_title_newest_first(
    two_article_corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["list", "--corpus", str(two_article_corpus)]) == 0
    header, ferry, seed = capsys.readouterr().out.strip().splitlines()
    assert header.split() == ["ID", "DATE", "PARAGRAPHS", "TITLE"]
    assert ferry.split()[:3] == ["harbor-ferry-electric", "2026-04-14", "13"]
    assert ferry.endswith("Port Alder’s harbor ferry crosses quietly into the electric age")
    assert seed.split()[:3] == ["reuters-china-un-north-korea-rights", "-", "10"]


def test_list_json_prints_one_object_per_article(
    two_article_corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["list", "--corpus", str(two_article_corpus), "--json"]) == 0
    articles = [json.loads(line) for line in capsys.readouterr().out.strip().splitlines()]
    assert [a["id"] for a in articles] == [
        "harbor-ferry-electric",
        "reuters-china-un-north-korea-rights",
    ]
    assert articles[0]["published"] == "2026-04-14" and articles[1]["published"] is None
    assert articles[1]["paragraphs"] == 10 and articles[1]["sentences"] == 15
