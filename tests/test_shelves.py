"""Servers' own shelves for a bot process: changes take effect for their server alone, are
recorded with who made them, are refused with a reason (the shelf unchanged), survive a crash
whole, and reach every process that shares the database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from corpora import PROMPTS, SECOND_ARTICLE, SEED_RAW, SPACE_ARTICLE
from crashes import kill_when_it_says

from bot.engine import Engine
from bot.engine.encoder import DIMENSIONS, Encoder
from bot.engine.models import SERVER_SHELF
from bot.engine.shelf import Refusal, ShelfRefused, Submission, pasted_article, read_submission
from bot.engine.snapshot_store import SnapshotState, SnapshotStore
from bot.engine.vector_store import VectorStore
from bot.records import ShelfAction, Storage
from bot.shelves import ADD_WINDOW_SECONDS, ShelfLimits, Shelves

SERVER, OTHER_SERVER = 1_001, 2_002
MODERATOR_ID = 987_654_321_012_345_678
FERRY_QUESTION = "How much of the cost did the state grant cover?"
FERRY_QUOTE = "About 60 percent of the cost was covered by a state clean-transportation grant"
SPACE_QUESTION = "Why was the launch of the lunar ice probe delayed?"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1_750_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def shared(seed_corpus: Path) -> Engine:
    return Engine.load(seed_corpus, PROMPTS)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def storage(data_dir: Path, clock: Clock) -> Iterator[Storage]:
    opened = Storage.for_data_dir(data_dir, clock=clock)
    opened.migrate()
    yield opened
    opened.close()


@pytest.fixture
def shelves(data_dir: Path, storage: Storage, clock: Clock) -> Shelves:
    return Shelves(data_dir, storage, ShelfLimits(articles=2, adds_per_minute=3), clock)


def submission(path: Path) -> Submission:
    return read_submission(path.name, path.read_bytes())


def answer_to(shelves: Shelves, shared: Engine, server: int | None, question: str) -> str:
    """The reply's text as it reads without the bold marks on the words that answer."""
    return shelves.bookcase(shared, server).ask(question).text.replace("**", "")


def test_an_added_article_answers_in_its_server_only(
    shelves: Shelves, shared: Engine, storage: Storage
) -> None:
    added = shelves.add(shared, SERVER, submission(SECOND_ARTICLE), MODERATOR_ID)
    assert added.action is ShelfAction.ADDED and added.articles == 1
    assert added.article_id.startswith(f"{SERVER_SHELF}/")
    assert FERRY_QUOTE in answer_to(shelves, shared, SERVER, FERRY_QUESTION)
    assert FERRY_QUOTE not in answer_to(shelves, shared, OTHER_SERVER, FERRY_QUESTION)
    assert FERRY_QUOTE not in answer_to(shelves, shared, None, FERRY_QUESTION)  # a DM
    (recorded,) = storage.shelf_changes_since(0, SERVER)
    assert (recorded.action, recorded.article_id) == (ShelfAction.ADDED, added.article_id)
    assert recorded.actor == storage.pseudonym(MODERATOR_ID)
    assert storage.shelf_version(SERVER) == 1 and storage.shelf_version(OTHER_SERVER) == 0


def test_each_server_answers_from_its_own_articles_not_the_others(
    shelves: Shelves, shared: Engine
) -> None:
    shelves.add(shared, SERVER, submission(SECOND_ARTICLE), MODERATOR_ID)
    shelves.add(shared, OTHER_SERVER, submission(SPACE_ARTICLE), MODERATOR_ID)
    ferry_here = shelves.bookcase(shared, SERVER).ask(FERRY_QUESTION)
    space_there = shelves.bookcase(shared, OTHER_SERVER).ask(SPACE_QUESTION)
    assert ferry_here.answered and space_there.answered
    for server, question, foreign in (
        (SERVER, SPACE_QUESTION, "space-mission"),
        (OTHER_SERVER, FERRY_QUESTION, "ferry"),
    ):
        reply = shelves.bookcase(shared, server).ask(question)
        assert not any(foreign in c.article_id for c in reply.citations)
        assert {c.shelf for c in reply.citations if c.shelf == SERVER_SHELF} <= {SERVER_SHELF}
    own_ids = {a.id for a in shelves.bookcase(shared, SERVER).own_articles()}
    assert own_ids == {ferry_here.citations[0].article_id}


def test_a_listing_says_when_each_article_was_added(shelves: Shelves, shared: Engine) -> None:
    added = shelves.add(shared, SERVER, submission(SECOND_ARTICLE), MODERATOR_ID)
    (listed,) = shelves.listing(shared, SERVER)
    assert listed.info.id == added.article_id and listed.added_at is not None
    assert shelves.listing(shared, OTHER_SERVER) == []
    assert shelves.guild_ids() == [SERVER]


def refused(call: object, *args: object) -> ShelfRefused:
    with pytest.raises(ShelfRefused) as caught:
        call(*args)  # type: ignore[operator]
    return caught.value


def test_the_same_text_again_is_refused_whichever_shelf_holds_it(
    shelves: Shelves, shared: Engine
) -> None:
    added = shelves.add(shared, SERVER, submission(SECOND_ARTICLE), MODERATOR_ID)
    retitled = read_submission(
        "copy.md", SECOND_ARTICLE.read_bytes().replace(b"title: Port", b"title: Again, Port")
    )
    duplicate = refused(shelves.add, shared, SERVER, retitled, MODERATOR_ID)
    assert (duplicate.reason, duplicate.detail) == (Refusal.DUPLICATE, added.article_id)
    shared_copy = refused(shelves.add, shared, SERVER, submission(SEED_RAW), MODERATOR_ID)
    assert shared_copy.detail == "reuters-china-un-north-korea-rights"
    assert len(shelves.listing(shared, SERVER)) == 1


def test_a_full_shelf_refuses_a_new_article_but_takes_a_new_version(
    shelves: Shelves, shared: Engine, clock: Clock
) -> None:
    shelves.add(shared, SERVER, submission(SECOND_ARTICLE), MODERATOR_ID)
    shelves.add(shared, SERVER, submission(SPACE_ARTICLE), MODERATOR_ID)
    third = read_submission("note.md", pasted_article("Town fair", "The town fair opens today."))
    full = refused(shelves.add, shared, SERVER, third, MODERATOR_ID)
    assert (full.reason, full.limit) == (Refusal.SHELF_FULL, 2)
    corrected = read_submission(
        "ferry.md", SECOND_ARTICLE.read_bytes().replace(b"60 percent", b"65 percent")
    )
    replaced = shelves.add(shared, SERVER, corrected, MODERATOR_ID)
    assert replaced.action is ShelfAction.REPLACED and replaced.articles == 2
    text = answer_to(shelves, shared, SERVER, FERRY_QUESTION)
    assert "65 percent" in text and "60 percent" not in text


def test_too_many_adds_in_a_minute_are_refused_until_it_has_passed(
    shelves: Shelves, shared: Engine, clock: Clock
) -> None:
    notes = [
        read_submission(f"n{n}.md", pasted_article(f"Notice {n}", f"Notice number {n} is out."))
        for n in range(4)
    ]
    shelves.add(shared, SERVER, notes[0], MODERATOR_ID)
    shelves.remove(shared, SERVER, notes[0].article_id, MODERATOR_ID)  # removals do not count
    shelves.add(shared, SERVER, notes[1], MODERATOR_ID)
    clock.now += 1
    shelves.remove(shared, SERVER, notes[1].article_id, MODERATOR_ID)
    shelves.add(shared, SERVER, notes[2], MODERATOR_ID)
    busy = refused(shelves.add, shared, SERVER, notes[3], MODERATOR_ID)
    assert (busy.reason, busy.limit) == (Refusal.TOO_MANY_ADDS, 3)
    assert shelves.add(shared, OTHER_SERVER, notes[3], MODERATOR_ID)  # another server's minute
    clock.now += ADD_WINDOW_SECONDS
    assert shelves.add(shared, SERVER, notes[3], MODERATOR_ID).action is ShelfAction.ADDED


def test_a_removed_article_stops_answering_at_once(
    shelves: Shelves, shared: Engine, storage: Storage
) -> None:
    added = shelves.add(shared, SERVER, submission(SECOND_ARTICLE), MODERATOR_ID)
    removed = shelves.remove(shared, SERVER, added.article_id, None)
    assert removed.action is ShelfAction.REMOVED and removed.title == added.title
    assert removed.articles == 0
    assert FERRY_QUOTE not in answer_to(shelves, shared, SERVER, FERRY_QUESTION)
    assert storage.shelf_changes_since(0, SERVER)[-1].actor is None  # the operator
    gone = refused(shelves.remove, shared, SERVER, added.article_id, MODERATOR_ID)
    assert gone.reason is Refusal.UNKNOWN_ARTICLE
    shared_one = refused(
        shelves.remove, shared, SERVER, "reuters-china-un-north-korea-rights", MODERATOR_ID
    )
    assert shared_one.reason is Refusal.UNKNOWN_ARTICLE


def test_a_change_the_database_cannot_record_is_undone_and_refused(
    data_dir: Path, storage: Storage, shared: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    shelves = Shelves(data_dir, storage)
    added = shelves.add(shared, SERVER, submission(SECOND_ARTICLE), MODERATOR_ID)
    database = data_dir / "articlebot.sqlite3"
    read_only = Storage(f"sqlite:///file:{database}?mode=ro&uri=true")
    try:
        stuck = Shelves(data_dir, read_only)
        new = refused(stuck.add, shared, SERVER, submission(SPACE_ARTICLE), MODERATOR_ID)
        kept = refused(stuck.remove, shared, SERVER, added.article_id, MODERATOR_ID)
    finally:
        read_only.close()
    assert (new.reason, new.detail) == (Refusal.NOT_SAVED, "read_only")
    assert kept.reason is Refusal.NOT_SAVED
    assert [a.info.id for a in shelves.listing(shared, SERVER)] == [added.article_id]
    assert FERRY_QUOTE in answer_to(shelves, shared, SERVER, FERRY_QUESTION)
    assert "could not be recorded" in caplog.text


def test_a_change_the_disk_refuses_is_refused_and_not_recorded(
    data_dir: Path, shelves: Shelves, shared: Engine, storage: Storage
) -> None:
    (data_dir / "shelves").mkdir(parents=True)
    (data_dir / "shelves" / str(SERVER)).write_text("not a folder")
    failed = refused(shelves.add, shared, SERVER, submission(SECOND_ARTICLE), MODERATOR_ID)
    assert (failed.reason, failed.detail) == (Refusal.NOT_SAVED, "disk")
    assert storage.shelf_changes_since(0) == [] and storage.shelf_version(SERVER) == 0


def test_a_change_made_by_another_process_is_served_before_the_next_answer(
    data_dir: Path, shelves: Shelves, shared: Engine
) -> None:
    elsewhere_storage = Storage.for_data_dir(data_dir)
    try:
        elsewhere = Shelves(data_dir, elsewhere_storage)  # its own connections and caches
        assert FERRY_QUOTE not in answer_to(elsewhere, shared, SERVER, FERRY_QUESTION)
        added = shelves.add(shared, SERVER, submission(SECOND_ARTICLE), MODERATOR_ID)
        assert FERRY_QUOTE in answer_to(elsewhere, shared, SERVER, FERRY_QUESTION)
        elsewhere.remove(shared, SERVER, added.article_id, MODERATOR_ID)
        assert FERRY_QUOTE not in answer_to(shelves, shared, SERVER, FERRY_QUESTION)
    finally:
        elsewhere_storage.close()


# A process that adds the ferry story and stops for good once the file is in place, before
# the change is recorded: the test kills it there, as a crash would.
_ADD_AND_HANG = """
import sys
from pathlib import Path
from bot.engine import Engine
from bot.engine.shelf import read_submission
from bot.shelves import Shelves
from bot.records import Storage

def hang(change):
    print("recording", flush=True)
    sys.stdin.read()

data_dir, corpus, prompts, article = map(Path, sys.argv[1:5])
storage = Storage.for_data_dir(data_dir)
storage.record_shelf_change = hang
submission = read_submission(article.name, article.read_bytes())
Shelves(data_dir, storage).add(Engine.load(corpus, prompts), 1001, submission, 42)
"""


def test_a_crash_after_the_file_is_written_leaves_the_whole_article(
    data_dir: Path, shared: Engine, storage: Storage
) -> None:
    arguments = [data_dir, shared.corpus_dir, PROMPTS, SECOND_ARTICLE]
    kill_when_it_says(_ADD_AND_HANG, arguments, "recording")
    after_restart = Shelves(data_dir, storage)
    assert FERRY_QUOTE in answer_to(after_restart, shared, SERVER, FERRY_QUESTION)
    assert storage.shelf_changes_since(0) == []  # the record was lost with the process


def test_after_a_reload_of_the_shared_shelf_a_servers_shelf_speaks_with_its_templates(
    shelves: Shelves, shared: Engine
) -> None:
    shelves.add(shared, SERVER, submission(SECOND_ARTICLE), MODERATOR_ID)
    before = shelves.bookcase(shared, SERVER).own
    reloaded, _ = shared.reloaded()
    after = shelves.bookcase(reloaded, SERVER).own
    assert before is not None and after is not None
    assert after.prompts is reloaded.prompts and after.library is before.library  # not re-read
    assert shelves.bookcase(reloaded, SERVER).own is after  # and not wrapped again each time


def test_a_servers_article_vectors_are_kept_on_disk_with_the_shared_ones(
    data_dir: Path, storage: Storage, shared: Engine
) -> None:
    store = VectorStore(data_dir / "vectors")
    shelves = Shelves(data_dir, storage, vector_store=store)
    shelves.add(shared, SERVER, submission(SECOND_ARTICLE), MODERATOR_ID)
    own = shelves.bookcase(shared, SERVER).own
    assert own is not None and own.cache.vectors == {}  # made when a question needs them
    assert FERRY_QUOTE in answer_to(shelves, shared, SERVER, FERRY_QUESTION)
    texts = [s.text for s in own.library.articles[0].sentences]
    # Kept where a restarted bot, or another process, reads them back instead of encoding.
    assert store.load(Encoder.shared().identity, texts, DIMENSIONS) is not None


def test_an_article_added_to_a_shelf_is_the_only_one_indexed_again(
    data_dir: Path, storage: Storage, shared: Engine
) -> None:
    snapshots = SnapshotStore(data_dir / "index")
    shelves = Shelves(data_dir, storage, snapshot_store=snapshots)
    shelves.add(shared, SERVER, submission(SECOND_ARTICLE), MODERATOR_ID)
    shelves.add(shared, SERVER, submission(SPACE_ARTICLE), MODERATOR_ID)
    own = shelves.bookcase(shared, SERVER).own
    assert own is not None and own.index_report is not None
    assert (own.index_report.files, own.index_report.parsed) == (2, 1)
    # Another process sharing DATA_DIR (or a restart) reads the shelf's index back.
    elsewhere = Shelves(data_dir, storage, snapshot_store=SnapshotStore(data_dir / "index"))
    there = elsewhere.bookcase(shared, SERVER).own
    assert there is not None and there.index_report is not None
    assert there.index_report.state is SnapshotState.FRESH
    assert there.ask(SPACE_QUESTION).answered
