"""The corpus loader: clean articles from raw scrapes and Markdown, and clear words on bad files."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from corpora import PROMPTS, SECOND_ARTICLE, SEED_RAW

from bot.engine import Engine
from bot.engine.corpus import MAX_FILE_BYTES, ArticleCache, load_corpus, parse_article
from bot.engine.errors import CorpusError
from bot.engine.models import LoadWarning, Problem, ProblemKind
from bot.engine.snapshot_store import SnapshotState
from bot.engine.templates import Prompts

CORPUS_PROBLEMS = (ProblemKind.FOLDER_MISSING, ProblemKind.NOT_A_FOLDER, ProblemKind.NOTHING_USABLE)


def seed_article():
    return parse_article("seed.txt", SEED_RAW.read_bytes())


def test_raw_scrape_keeps_headline_byline_and_credits_as_metadata() -> None:
    article = seed_article()
    assert article.title == "China opposes UN Security Council meeting on North Korea rights"
    assert article.author == "Michelle Nichols"
    assert article.editor == "Richard Chang"
    assert article.source == "Reuters"
    assert article.byline.text == "By Michelle Nichols"
    assert article.credits.text == "(Reporting by Michelle Nichols; Editing by Richard Chang)"


def test_raw_scrape_body_has_no_dateline_credits_or_leftovers() -> None:
    article = seed_article()
    first = article.sentences[0].text
    assert first.startswith("China opposes a planned United Nations Security Council meeting")
    assert article.dateline.text == "UNITED NATIONS (Reuters)"
    texts = [s.text for s in article.sentences]
    assert not any(
        "Leave a Comment" in t or "Reporting by" in t or t.startswith("By ") for t in texts
    )
    assert len(article.paragraphs) == 10
    assert article.paragraphs[-1].sentences[-1].text == (
        "The United States sanctioned Kim in 2016 for human rights abuses."
    )


def test_every_sentence_offset_points_at_its_text() -> None:
    for path in (SEED_RAW, SECOND_ARTICLE):
        article = parse_article(path.name, path.read_bytes())
        lines = [article.byline, article.credits, article.dateline]
        lines += [line for _, line in article.front_matter]
        for sentence in [*article.sentences, *(line for line in lines if line)]:
            assert article.text[sentence.start : sentence.end] == sentence.text


def test_markdown_front_matter_becomes_metadata() -> None:
    article = parse_article(SECOND_ARTICLE.name, SECOND_ARTICLE.read_bytes())
    assert article.title and not article.title.startswith("---")
    assert article.author and article.published and article.source
    assert article.field_line("author").text == article.author
    assert not any(s.text.startswith(("title:", "---")) for s in article.sentences)


def test_windows_line_ends_still_separate_paragraphs() -> None:
    raw = SEED_RAW.read_bytes().replace(b"\n", b"\r\n")
    article = parse_article("seed.txt", raw)
    assert len(article.paragraphs) == 10
    assert article.author == "Michelle Nichols"


def test_dateline_with_date_and_wire_agency_is_stripped() -> None:
    raw = (
        b"Headline here\n\nLONDON, March 3 (AP) - Markets fell sharply today. Traders were calm.\n"
    )
    article = parse_article("a.txt", raw)
    assert article.sentences[0].text == "Markets fell sharply today."
    assert article.source == "AP"


@pytest.mark.parametrize(
    ("first_paragraph", "dateline"),
    [
        ("GHENT, Belgium (AP) — The council voted.", "GHENT, Belgium (AP)"),
        ("PORTLAND, Ore., Jan. 5 (AP) - The council voted.", "PORTLAND, Ore., Jan. 5 (AP)"),
        ("WASHINGTON — The council voted.", "WASHINGTON"),
    ],
)
def test_wire_datelines_with_regions_and_dates_are_cut(first_paragraph: str, dateline: str) -> None:
    article = parse_article("a.txt", f"Headline\n\n{first_paragraph}\n".encode())
    assert article.sentences[0].text == "The council voted."
    assert article.dateline.text == dateline


def test_a_sentence_with_a_dash_is_not_a_dateline() -> None:
    article = parse_article("a.txt", "Headline\n\nUS, China agree — talks go on.\n".encode())
    assert article.sentences[0].text == "US, China agree — talks go on."
    assert article.dateline is None


def test_question_headline_is_the_title_not_a_sentence() -> None:
    article = parse_article("a.txt", b"Could Yukos be a blessing in disguise?\n\nOther things.\n")
    assert article.title == "Could Yukos be a blessing in disguise?"
    assert [s.text for s in article.sentences] == ["Other things."]


def write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.fixture
def mixed_corpus(seed_corpus: Path) -> Path:
    """The seed plus one bad file of every kind a moderator might drop in."""
    write(
        seed_corpus,
        "latin1.txt",
        "Café talks\n\nThe café served 12 ministers on Friday.\n".encode("cp1252"),
    )
    write(seed_corpus, "empty.txt", b"")
    write(seed_corpus, "leftovers.txt", b"Leave a Comment\n\nAdvertisement\n")
    write(seed_corpus, "image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64))
    write(seed_corpus, "huge.txt", b"Words and more words. " * (MAX_FILE_BYTES // 20))
    write(seed_corpus, "broken.md", b"---\ntitle: Never closed\n\nBody text here. More text.\n")
    write(seed_corpus, "notes.json", b"{}")
    return seed_corpus


def test_bad_files_become_warnings_and_the_rest_still_loads(mixed_corpus: Path) -> None:
    corpus = load_corpus(mixed_corpus)
    ids = {a.id for a in corpus.articles}
    assert "reuters-china-un-north-korea-rights" in ids
    assert "latin1" in ids and "broken" in ids
    kinds = {w.path: w.problem.kind for w in corpus.warnings}
    assert kinds == {
        "latin1.txt": ProblemKind.NOT_UTF8,
        "empty.txt": ProblemKind.NO_TEXT,
        "leftovers.txt": ProblemKind.NO_TEXT,
        "image.txt": ProblemKind.BINARY,
        "huge.txt": ProblemKind.TOO_LARGE,
        "broken.md": ProblemKind.FRONT_MATTER_UNCLOSED,
    }  # notes.json is not an article file at all: silently not read


def test_warnings_tell_the_moderator_what_to_do(mixed_corpus: Path) -> None:
    engine = Engine.load(mixed_corpus, PROMPTS)
    described = {w.path: engine.describe(w) for w in engine.warnings}
    assert described["latin1.txt"].startswith("latin1.txt: is not valid UTF-8 (byte 0xe9 at")
    assert "save it as UTF-8" in described["latin1.txt"]
    assert "no article text" in described["empty.txt"]
    assert "binary" in described["image.txt"]
    assert f"larger than {MAX_FILE_BYTES // 1_000_000} MB" in described["huge.txt"]
    assert "never closes" in described["broken.md"]


def test_every_problem_kind_has_words_in_the_templates() -> None:
    prompts = Prompts(PROMPTS)
    for kind in ProblemKind:
        warning = LoadWarning("a.txt", Problem(kind, "detail", 7))
        text = prompts.render("load_warning", warning=warning)
        # The template's fallback prints the bare kind: every file problem needs its own words.
        if kind not in CORPUS_PROBLEMS:
            assert text != f"a.txt: {kind.value}", kind
    empty = (LoadWarning("empty.txt", Problem(ProblemKind.NO_TEXT)),)
    errors = {
        prompts.render("corpus_error", error=CorpusError(kind, "corpus", empty))
        for kind in CORPUS_PROBLEMS
    }
    assert len(errors) == len(CORPUS_PROBLEMS)


def test_non_utf8_file_is_decoded_with_a_fallback(mixed_corpus: Path) -> None:
    corpus = load_corpus(mixed_corpus)
    article = next(a for a in corpus.articles if a.id == "latin1")
    assert article.sentences[0].text == "The café served 12 ministers on Friday."


def test_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CorpusError) as raised:
        load_corpus(tmp_path / "nope")
    assert raised.value.kind == ProblemKind.FOLDER_MISSING
    with pytest.raises(CorpusError, match=r"does not exist\. Create it"):
        Engine.load(tmp_path / "nope", PROMPTS)


def test_folder_without_usable_articles_is_an_error_naming_the_problems(tmp_path: Path) -> None:
    write(tmp_path, "empty.txt", b"   \n\n")
    with pytest.raises(
        CorpusError, match=r"No usable article(.|\n)*empty\.txt: has no article text"
    ):
        Engine.load(tmp_path, PROMPTS)


def test_symlink_outside_the_corpus_is_not_followed(seed_corpus: Path, tmp_path: Path) -> None:
    outside = write(tmp_path, "secret/outside.txt", b"Secret\n\nThe password is hunter2.\n")
    os.symlink(outside, seed_corpus / "link.txt")
    corpus = load_corpus(seed_corpus)
    assert "link" not in {a.id for a in corpus.articles}
    assert LoadWarning("link.txt", Problem(ProblemKind.LINK_OUTSIDE)) in corpus.warnings


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read any file")
def test_unreadable_file_is_a_warning(seed_corpus: Path) -> None:
    path = write(seed_corpus, "locked.txt", b"Title\n\nA sentence.\n")
    path.chmod(0)
    corpus = load_corpus(seed_corpus)
    assert LoadWarning("locked.txt", Problem(ProblemKind.PERMISSION_DENIED)) in corpus.warnings


def test_cache_parses_unchanged_files_once(seed_corpus: Path) -> None:
    write(seed_corpus, "other.txt", b"Other\n\nAnother sentence about something else.\n")
    cache = ArticleCache()
    first = load_corpus(seed_corpus, cache)
    second = load_corpus(seed_corpus, cache)
    assert second.snapshot is first.snapshot  # only the files' bytes were read again
    assert second.report is not None and second.report.state is SnapshotState.FRESH
    assert second.report.parsed == 0
    (seed_corpus / "reuters-china-un-north-korea-rights.txt").write_text("New\n\nChanged text.\n")
    third = load_corpus(seed_corpus, cache)
    assert third.report is not None and third.report.state is SnapshotState.STALE
    assert third.report.parsed == 1 and third.report.files == 2
    assert third.articles[1].title == "New"
    assert third.snapshot is not None and first.snapshot is not None
    assert third.snapshot.records[0] is first.snapshot.records[0]  # other.txt, reused whole
    assert cache.snapshot is third.snapshot


def test_bbc_corpus_loads_with_one_encoding_warning(bbc: Path, tmp_path: Path) -> None:
    corpus = load_corpus(bbc)
    # The folder's own SOURCE.txt (its licence note) loads as one more article.
    assert sum(1 for a in corpus.articles if "/" in a.id) == 2225
    assert [w.path for w in corpus.warnings] == ["sport/199.txt"]
    for article in corpus.articles[::97]:
        assert article.title and article.sentences
        for sentence in article.sentences:
            assert article.text[sentence.start : sentence.end] == sentence.text


def test_nested_folders_give_path_ids(seed_corpus: Path) -> None:
    shutil.copy(SECOND_ARTICLE, write(seed_corpus, "local/x.md", b"").parent / "ferry.md")
    (seed_corpus / "local" / "x.md").unlink()
    corpus = load_corpus(seed_corpus)
    assert "local/ferry" in {a.id for a in corpus.articles}
