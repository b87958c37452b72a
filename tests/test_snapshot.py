"""The index kept on disk (DATA_DIR/index): a start on an unchanged corpus reads it back and
answers exactly as a cold start does; a changed, added or removed file re-indexes only itself;
a snapshot that is stale, from another version or damaged is made again, never used; two
processes starting at once share one; `articlebot check` says how the index came to be."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from corpora import PROMPTS, SECOND_ARTICLE, SEED_RAW, SPACE_ARTICLE, TECH_ARTICLE, TESTS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.cli import main
from bot.engine import Engine, FollowUp
from bot.engine import snapshot as snapshot_module
from bot.engine.corpus import ArticleCache, load_corpus, parse_article
from bot.engine.library import snapshot_of
from bot.engine.snapshot import read_snapshot
from bot.engine.snapshot_store import SUFFIX, SnapshotState, SnapshotStore

SEED_NAME = "reuters-china-un-north-korea-rights.txt"
# Questions written for these articles (tests/eval), asked of each engine compared.
QUESTION_SETS = {
    "blind_seed_5.jsonl": 4,
    "blind_space.jsonl": 3,
    "blind_tech.jsonl": 3,
    "second_article.jsonl": 3,
}
MUSEUM = """Museum reopens after repairs

The city museum reopened on Saturday after two years of repairs to its roof.

Visitors queued for an hour to see the restored dinosaur hall.
"""


def questions() -> list[str]:
    found = []
    for name, count in QUESTION_SETS.items():
        rows = (json.loads(line) for line in (TESTS / "eval" / name).open(encoding="utf-8"))
        found.extend(row["q"] for _, row in zip(range(count), rows, strict=False))
    return found


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """The bundled article and three of the test articles."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    shutil.copy(SEED_RAW, folder / SEED_NAME)
    for article in (SECOND_ARTICLE, SPACE_ARTICLE, TECH_ARTICLE):
        shutil.copy(article, folder / article.name)
    return folder


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return tmp_path / "kept"


def start(corpus: Path, data: Path) -> Engine:
    """An engine as a process starting afresh loads it: nothing in memory, DATA_DIR on disk."""
    return Engine.load(corpus, PROMPTS, ArticleCache.kept_in(data))


def state_of(engine: Engine) -> SnapshotState:
    assert engine.index_report is not None
    return engine.index_report.state


def snapshots(data: Path) -> list[Path]:
    return sorted((data / "index").rglob(f"*{SUFFIX}"))


def test_a_start_on_an_unchanged_corpus_answers_as_a_cold_start_does(
    corpus: Path, data: Path
) -> None:
    cold = Engine.load(corpus, PROMPTS)  # nothing kept anywhere: parsed and indexed now
    first = start(corpus, data)
    warm = start(corpus, data)
    assert (state_of(first), state_of(warm)) == (SnapshotState.BUILT, SnapshotState.FRESH)
    assert warm.index_report is not None and warm.index_report.parsed == 0
    assert warm.library.snapshot.source == first.library.snapshot.source
    for question in questions():
        assert warm.ask(question) == cold.ask(question), question
    follows = FollowUp.after("What meeting does China oppose?", cold.ask("What meeting?"))
    assert warm.ask("when is it?", follows) == cold.ask("when is it?", follows)
    assert warm.articles() == cold.articles()
    for info in cold.articles()[:2]:
        assert warm.summarize(info.id, "points") == cold.summarize(info.id, "points")


def test_articles_made_from_a_snapshot_are_the_articles_parsed(tmp_path: Path) -> None:
    folder = shutil.copytree(TESTS / "eval" / "articles", tmp_path / "articles")
    shutil.copy(SEED_RAW, folder / SEED_NAME)
    kept = ArticleCache.kept_in(tmp_path / "kept")
    load_corpus(folder, kept)  # made and written
    again = load_corpus(folder, ArticleCache.kept_in(tmp_path / "kept"))  # read back
    assert again.report is not None and again.report.state is SnapshotState.FRESH
    for article in again.articles:
        raw = (folder / article.path).read_bytes()
        assert article == parse_article(article.path, raw, [], article.content_hash)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    paragraphs=st.lists(
        st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1),
        min_size=1,
        max_size=4,
    )
)
def test_any_article_comes_back_from_a_snapshot_as_it_was_parsed(paragraphs: list[str]) -> None:
    raw = ("Headline\n\n" + "\n\n".join(paragraphs) + "\n").encode("utf-8")
    article = parse_article("any.txt", raw, [], "digest")
    if article is None:
        return
    assert snapshot_of([article]).article(0) == article


def test_a_changed_file_re_indexes_only_itself(corpus: Path, data: Path) -> None:
    before = start(corpus, data)
    (corpus / "museum.txt").write_text(MUSEUM, encoding="utf-8")
    added = start(corpus, data)
    assert state_of(added) is SnapshotState.STALE
    assert added.index_report is not None and added.index_report.parsed == 1
    with (corpus / "museum.txt").open("a", encoding="utf-8") as file:
        file.write("\nThe roof repairs cost four million pounds.\n")
    changed = start(corpus, data)
    assert changed.index_report is not None and changed.index_report.parsed == 1
    assert "four million" in changed.ask("How much did the roof repairs cost?").text
    (corpus / "museum.txt").unlink()
    removed = start(corpus, data)
    assert removed.index_report is not None
    assert (removed.index_report.state, removed.index_report.parsed) == (SnapshotState.STALE, 0)
    assert removed.library.records == before.library.records
    assert removed.corpus_version == before.corpus_version
    assert len(snapshots(data)) == 2  # the one in use and the one before it


def test_a_snapshot_made_from_another_is_the_one_a_cold_start_makes(
    corpus: Path, data: Path, tmp_path: Path
) -> None:
    (corpus / "vaccine.txt").write_text(
        "Vaccine drive\n\nThe WHO praised the vaccine drive.\n\nThe HTA ran extra buses.\n",
        encoding="utf-8",
    )
    start(corpus, data)
    # An acronym defined in a new file expands in kept articles, and so does one the glossary
    # defines; a file goes, another changes.
    (corpus / "agency.txt").write_text(
        "Agency profile\n\nThe World Health Organization (WHO) was founded in 1948.\n",
        encoding="utf-8",
    )
    (corpus / "glossary.txt").write_text("HTA = Harbor Transit Authority\n", encoding="utf-8")
    (corpus / SPACE_ARTICLE.name).unlink()
    with (corpus / TECH_ARTICLE.name).open("a", encoding="utf-8") as file:
        file.write("\nThe WHO said nothing more.\n")
    warm = start(corpus, data)
    assert warm.index_report is not None
    assert (warm.index_report.state, warm.index_report.parsed) == (SnapshotState.STALE, 2)
    cold = start(corpus, tmp_path / "elsewhere")
    assert state_of(cold) is SnapshotState.BUILT
    made, built = warm.library.snapshot.source, cold.library.snapshot.source
    assert made is not None and built is not None
    assert made.read_bytes() == built.read_bytes()
    texts = [item.sentence.text for item in warm.library.sentences]
    praised = texts.index("The WHO praised the vaccine drive.")
    assert "health" in warm.library.terms[praised]
    assert "harbor" in warm.library.terms[praised + 1]


def test_a_changed_glossary_expands_acronyms_without_parsing_a_file(
    corpus: Path, data: Path
) -> None:
    (corpus / "transit.txt").write_text(
        "Transit news\n\nThe HTA raised fares on Monday.\n", encoding="utf-8"
    )
    before = start(corpus, data)
    (corpus / "glossary.txt").write_text("HTA = Harbor Transit Authority\n", encoding="utf-8")
    after = start(corpus, data)
    assert after.index_report is not None
    assert (after.index_report.state, after.index_report.parsed) == (SnapshotState.STALE, 0)
    fares = next(i for i, s in enumerate(after.library.sentences) if "fares" in s.sentence.text)
    assert "harbor" in after.library.terms[fares]
    assert "harbor" not in before.library.terms[fares]


def test_a_snapshot_from_another_version_is_rebuilt(
    corpus: Path, data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as patched:
        patched.setattr(snapshot_module, "code_version", lambda: "another version")
        assert state_of(start(corpus, data)) is SnapshotState.BUILT
    (older,) = snapshots(data)
    current = start(corpus, data)
    assert state_of(current) is SnapshotState.OTHER_VERSION
    assert current.index_report is not None and current.index_report.parsed == 4
    assert not older.exists()  # unreadable by this code: deleted at once
    assert state_of(start(corpus, data)) is SnapshotState.FRESH


def damage_truncated(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:-100])


def damage_one_byte_of_text(path: Path) -> None:
    # A letter of an article's text: served, a quote would not be the article's words.
    raw = bytearray(path.read_bytes())
    at = raw.index(b"Security Council")
    raw[at] = ord("s")
    path.write_bytes(bytes(raw))


def damage_garbage(path: Path) -> None:
    path.write_bytes(os.urandom(4096))


def damage_empty(path: Path) -> None:
    path.write_bytes(b"")


@pytest.mark.parametrize(
    "damage", [damage_truncated, damage_one_byte_of_text, damage_garbage, damage_empty]
)
def test_a_damaged_snapshot_is_rebuilt_never_used(
    seed_corpus: Path, data: Path, damage: Callable[[Path], None]
) -> None:
    start(seed_corpus, data)
    (kept,) = snapshots(data)
    damage(kept)
    rebuilt = start(seed_corpus, data)
    assert rebuilt.index_report is not None
    assert rebuilt.index_report.state is SnapshotState.DAMAGED
    assert rebuilt.index_report.detail
    (article,) = rebuilt.library.articles
    raw = (seed_corpus / SEED_NAME).read_bytes()
    assert article == parse_article(SEED_NAME, raw, [], article.content_hash)
    reply = rebuilt.ask("Why does China oppose the meeting?")
    assert reply.answered and reply.citations[0].quote in raw.decode("utf-8")
    assert read_snapshot(kept).key == rebuilt.library.snapshot.key  # made whole again
    assert state_of(start(seed_corpus, data)) is SnapshotState.FRESH


def test_check_says_how_the_index_came_to_be(
    corpus: Path, data: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATA_DIR", str(data))

    def index_line() -> str:
        assert main(["check", "--corpus", str(corpus)]) == 0
        (line,) = [x for x in capsys.readouterr().out.splitlines() if x.startswith("index:")]
        return line

    assert index_line().startswith("index: built now (4 file(s) indexed)")
    assert index_line().startswith("index: read back from its snapshot")
    (corpus / "museum.txt").write_text(MUSEUM, encoding="utf-8")
    assert "the corpus changed: 1 of 5 file(s) indexed again" in index_line()
    damage_truncated(newest(data))
    assert "its snapshot was damaged" in index_line()
    with monkeypatch.context() as patched:
        patched.setattr(snapshot_module, "code_version", lambda: "another version")
        assert "made by another version of articlebot" in index_line()


def newest(data: Path) -> Path:
    return max(snapshots(data), key=lambda path: path.stat().st_mtime_ns)


def test_two_processes_starting_at_once_share_one_snapshot(corpus: Path, data: Path) -> None:
    command = [sys.executable, "-m", "bot", "ask", "--json", "--corpus", str(corpus)]
    command.append("Why does China oppose the meeting?")
    environment = {**os.environ, "DATA_DIR": str(data)}
    running = [
        subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=120)[0] for process in running]
    assert [process.returncode for process in running] == [0, 0]
    assert outputs[0] == outputs[1] and json.loads(outputs[0])["answered"]
    (kept,) = snapshots(data)
    assert read_snapshot(kept).records  # whole
    assert not [p for p in (data / "index").rglob("*") if p.name.endswith(".tmp")]
    assert state_of(start(corpus, data)) is SnapshotState.FRESH


def test_a_snapshot_that_cannot_be_kept_still_answers(corpus: Path, tmp_path: Path) -> None:
    blocked = tmp_path / "a file, not a folder"
    blocked.write_text("")
    engine = Engine.load(corpus, PROMPTS, ArticleCache(store=SnapshotStore(blocked / "index")))
    assert engine.index_report is not None and engine.index_report.not_kept
    assert engine.ask("Why does China oppose the meeting?").answered
    assert "could not be kept" in engine.describe_index()


def test_a_reload_re_indexes_only_the_changed_file_and_keeps_the_result(
    corpus: Path, data: Path
) -> None:
    engine = start(corpus, data)
    shutil.copy(SEED_RAW, corpus / "copy.txt")
    reloaded, report = engine.reloaded()
    assert report.added == ("copy",)
    assert reloaded.index_report is not None and reloaded.index_report.parsed == 1
    assert state_of(start(corpus, data)) is SnapshotState.FRESH  # the next start reads it back


def test_a_reload_kept_on_disk_keeps_the_unchanged_articles_as_they_were(
    corpus: Path, data: Path
) -> None:
    # Read back from the file it wrote, a reload maps the arrays and keeps the objects it has:
    # made again, they would be more for the garbage collector to walk while the bot answers.
    engine = start(corpus, data)
    with (corpus / TECH_ARTICLE.name).open("a", encoding="utf-8") as file:
        file.write("\nThe company said nothing more.\n")
    reloaded, report = engine.reloaded()
    assert report.changed == (TECH_ARTICLE.stem,)
    assert reloaded.library.snapshot.source is not None  # mapped from its file
    before = {record.path: record for record in engine.library.records}
    for record in reloaded.library.records:
        if record.path == TECH_ARTICLE.name:
            assert record is not before[record.path]
        else:
            assert record is before[record.path]
    assert read_snapshot(reloaded.library.snapshot.source).records == reloaded.library.records


def test_a_file_left_half_written_by_a_stopped_process_is_cleaned_up(
    corpus: Path, data: Path
) -> None:
    start(corpus, data)
    folder = snapshots(data)[0].parent
    left, writing = folder / ".left.tmp", folder / ".writing.tmp"
    left.write_bytes(b"half")
    writing.write_bytes(b"half")
    an_hour_ago = time.time() - 3700
    os.utime(left, (an_hour_ago, an_hour_ago))
    (corpus / "museum.txt").write_text(MUSEUM, encoding="utf-8")
    start(corpus, data)
    assert not left.exists() and writing.exists()  # another process may be writing that one
