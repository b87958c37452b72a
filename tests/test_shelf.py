"""A server's own shelf on disk: what a moderator's file or pasted text must be to go on it (the
corpus loader's rules), and writes that a crash leaves whole or absent."""

from __future__ import annotations

from pathlib import Path

import pytest
from corpora import PROMPTS, SECOND_ARTICLE, SEED_RAW
from crashes import kill_when_it_says

from bot.engine.corpus import MAX_FILE_BYTES
from bot.engine.models import ProblemKind
from bot.engine.shelf import (
    MAX_NAME_CHARS,
    STORED_SUFFIX,
    TEMPORARY_PREFIX,
    Refusal,
    Shelf,
    ShelfRefused,
    article_name,
    pasted_article,
    read_submission,
)
from bot.engine.templates import Prompts

FERRY_NAME = "port-alders-harbor-ferry-crosses-quietly-into-the-electric"


def refusal(file_name: str, raw: bytes) -> Refusal:
    with pytest.raises(ShelfRefused) as refused:
        read_submission(file_name, raw)
    return refused.value.reason


def test_a_markdown_article_is_read_with_its_front_matter() -> None:
    submission = read_submission("upload.md", SECOND_ARTICLE.read_bytes())
    assert submission.article.title.startswith("Port Alder’s harbor ferry")
    assert submission.article.author == "Dana Whitcombe"
    assert submission.name == FERRY_NAME and len(submission.name) <= MAX_NAME_CHARS
    assert submission.article_id == f"server/{FERRY_NAME}"
    assert submission.notes == ()


def test_a_raw_scrape_loses_its_boilerplate_as_the_loader_drops_it() -> None:
    submission = read_submission("seed.txt", SEED_RAW.read_bytes())
    article = submission.article
    assert article.title == "China opposes UN Security Council meeting on North Korea rights"
    assert not any("Leave a Comment" in s.text for s in article.sentences)
    assert submission.name == "china-opposes-un-security-council-meeting-on-north-korea"


@pytest.mark.parametrize(
    ("file_name", "raw", "reason"),
    [
        ("photo.png", b"\x89PNG\r\n\x1a\n", Refusal.NOT_TEXT),
        ("story.pdf", b"%PDF-1.7 A story", Refusal.NOT_TEXT),
        ("story.txt", b"", Refusal.EMPTY),
        ("story.txt", b"\xef\xbb\xbf \n\r\n\t ", Refusal.EMPTY),
        ("story.txt", b"Headline\x00\x01\x02" * 50, Refusal.BINARY),
        ("story.md", b"Just a headline\n", Refusal.NO_TEXT),
        ("story.txt", b"Leave a Comment\n\nAdvertisement\n\nRead more\n", Refusal.NO_TEXT),
        ("story.txt", b"A title\n\n" + b"word " * (MAX_FILE_BYTES // 5), Refusal.TOO_LARGE),
    ],
    ids=["image", "pdf", "empty", "blank", "binary", "headline_only", "boilerplate", "too_large"],
)
def test_what_cannot_be_an_article_is_refused_with_its_reason(
    file_name: str, raw: bytes, reason: Refusal
) -> None:
    assert refusal(file_name, raw) is reason


def test_a_file_of_exactly_the_size_limit_is_read() -> None:
    body = b"A title\n\nThe harbor ferry sailed on Monday.\n"
    padded = body + b" " * (MAX_FILE_BYTES - len(body))
    assert read_submission("story.txt", padded).article.title == "A title"


def test_windows_1252_text_is_read_with_a_note_as_the_loader_reads_it() -> None:
    raw = "Café reopens\n\nThe café on Quay Street reopened on Monday.\n".encode("cp1252")
    submission = read_submission("cafe.txt", raw)
    assert [n.kind for n in submission.notes] == [ProblemKind.NOT_UTF8]
    assert submission.article.sentences[0].text == "The café on Quay Street reopened on Monday."


def test_pasted_text_becomes_markdown_with_its_title() -> None:
    raw = pasted_article("  Ferry   goes\telectric ", "The ferry sailed.\r\n\r\nIt was quiet.")
    submission = read_submission("pasted.md", raw)
    assert submission.article.title == "Ferry goes electric"
    assert [p.sentences[0].text for p in submission.article.paragraphs] == [
        "The ferry sailed.",
        "It was quiet.",
    ]
    assert submission.name == "ferry-goes-electric"


def test_article_names_are_short_plain_and_never_empty() -> None:
    assert article_name("Port Alder’s ferry: 41 years, then — silence!") == (
        "port-alders-ferry-41-years-then-silence"
    )
    assert article_name("Ümlaut café") == "umlaut-cafe"
    long = article_name("word " * 40)
    assert len(long) <= MAX_NAME_CHARS and not long.endswith("-")
    chinese = article_name("中国反对联合国会议")
    assert chinese.startswith("article-") and chinese != article_name("另一个标题")


def stored(shelf: Shelf, path: Path) -> str:
    submission = read_submission(path.name, path.read_bytes())
    shelf.store(submission.name, submission.raw)
    return submission.article_id


def test_a_stored_article_loads_under_its_server_id(tmp_path: Path) -> None:
    shelf = Shelf(tmp_path / "shelf")
    assert shelf.load(Prompts(PROMPTS)) is None  # nothing on it yet
    article_id = stored(shelf, SECOND_ARTICLE)
    engine = shelf.load(Prompts(PROMPTS))
    assert engine is not None
    assert [a.id for a in engine.articles()] == [article_id]
    assert engine.library.articles[0].path == f"server/{FERRY_NAME}{STORED_SUFFIX}"
    assert shelf.names() == [FERRY_NAME] and shelf.leftovers() == []
    assert shelf.added_at(article_id) is not None


def test_replacing_keeps_one_file_and_removing_takes_it(tmp_path: Path) -> None:
    shelf = Shelf(tmp_path / "shelf")
    stored(shelf, SECOND_ARTICLE)
    shelf.store(FERRY_NAME, pasted_article("Ferry", "A shorter text about the ferry."))
    assert shelf.names() == [FERRY_NAME]
    engine = shelf.load(Prompts(PROMPTS))
    assert engine is not None and engine.library.articles[0].title == "Ferry"
    assert shelf.discard(f"server/{FERRY_NAME}")
    assert not shelf.discard(f"server/{FERRY_NAME}")
    assert shelf.names() == [] and shelf.load(Prompts(PROMPTS)) is None


def test_ids_that_are_not_on_the_shelf_reach_no_file(tmp_path: Path) -> None:
    shelf = Shelf(tmp_path / "shelf")
    stored(shelf, SECOND_ARTICLE)
    (tmp_path / "outside.md").write_text("---\ntitle: x\n---\n\nOutside.\n")
    for article_id in ("server/../../outside", "../outside", FERRY_NAME, "server/"):
        assert shelf.path_of(article_id) is None
        assert not shelf.discard(article_id)
    assert shelf.names() == [FERRY_NAME]


def test_a_half_written_temporary_file_is_not_an_article(tmp_path: Path) -> None:
    shelf = Shelf(tmp_path / "shelf")
    article_id = stored(shelf, SECOND_ARTICLE)
    seed = SEED_RAW.read_bytes()
    (shelf.articles_folder / f"{TEMPORARY_PREFIX}0123abcd").write_bytes(seed[: len(seed) // 2])
    engine = shelf.load(Prompts(PROMPTS))
    assert engine is not None and [a.id for a in engine.articles()] == [article_id]
    assert [p.name for p in shelf.leftovers()] == [f"{TEMPORARY_PREFIX}0123abcd"]


# A process that stores an article and stops for good just before the file is complete on disk
# (os.fsync on the temporary file): the test kills it there, as a crash would.
_STORE_AND_HANG = """
import os, sys
from pathlib import Path
from bot.engine.shelf import Shelf, read_submission

def hang(descriptor):
    print("writing", flush=True)
    sys.stdin.read()

submission = read_submission("seed.txt", Path(sys.argv[2]).read_bytes())
os.fsync = hang
Shelf(Path(sys.argv[1])).store(submission.name, submission.raw)
"""


def test_killing_a_process_in_the_middle_of_an_add_leaves_a_shelf_that_loads(
    tmp_path: Path,
) -> None:
    shelf = Shelf(tmp_path / "shelf")
    article_id = stored(shelf, SECOND_ARTICLE)
    kill_when_it_says(_STORE_AND_HANG, [shelf.folder, SEED_RAW], "writing")
    engine = shelf.load(Prompts(PROMPTS))
    assert engine is not None and [a.id for a in engine.articles()] == [article_id]
    assert len(shelf.leftovers()) == 1
    # The next add of the same article goes through.
    seed_id = stored(shelf, SEED_RAW)
    again = shelf.load(Prompts(PROMPTS))
    assert again is not None and {a.id for a in again.articles()} == {article_id, seed_id}
