"""The records through which a /reload reaches every process, on SQLite and PostgreSQL: the
request and each process's outcome of it, which reloads a process has yet to carry out, which
processes are alive to be waited for, and how they are forgotten."""

from __future__ import annotations

from databases import query
from record_samples import ASKER_ID, DAY, NOW, OTHER_ID, Clock

from bot.records import BotProcess, ReloadOutcome, ReloadRequest, Storage

ASKING = BotProcess("web1 pid 10 (shards 0-1 of 4)", "web1", 10, "shards 0-1 of 4", NOW - 60)
OTHER = BotProcess("web2 pid 20 (shards 2-3 of 4)", "web2", 20, "shards 2-3 of 4", NOW - 60)
TOOK = ReloadOutcome(True, articles=2, corpus_version="ab12cd34ef56")
FAILED = ReloadOutcome(False, error="The corpus folder /srv/corpus does not exist.")


def test_a_reload_is_carried_out_once_by_each_process_that_read_its_corpus_before_it(
    storage: Storage, clock: Clock
) -> None:
    asked = storage.ask_reload(ASKING.name, ASKER_ID, TOOK)
    started_later = NOW + 1  # a process that read its corpus after the reload has it already

    assert asked == ReloadRequest(asked.id, storage.pseudonym(ASKER_ID), ASKING.name, NOW)
    assert storage.reloads_to_carry_out(OTHER.name, since=NOW - 60) == [asked]
    assert storage.reloads_to_carry_out(ASKING.name, since=NOW - 60) == []
    assert storage.reloads_to_carry_out("web3 pid 30 (shards 0-3 of 4)", started_later) == []

    clock.now += 2
    storage.record_reload_outcome(OTHER.name, [asked.id], FAILED)
    storage.record_reload_outcome(OTHER.name, [asked.id], TOOK)  # recorded already: kept

    assert storage.reloads_to_carry_out(OTHER.name, since=NOW - 60) == []
    results = storage.reload_results(asked.id)
    assert [(r.process, r.outcome, r.at) for r in results] == [
        (ASKING.name, TOOK, NOW),
        (OTHER.name, FAILED, NOW + 2),
    ]


def test_one_reload_of_the_corpus_answers_every_request_that_waited_for_it(
    storage: Storage,
) -> None:
    first = storage.ask_reload(ASKING.name, ASKER_ID, TOOK)
    second = storage.ask_reload(ASKING.name, None, TOOK)  # None: asked by the operator

    waiting = storage.reloads_to_carry_out(OTHER.name, since=NOW)
    storage.record_reload_outcome(OTHER.name, [r.id for r in waiting], TOOK)

    assert [r.id for r in waiting] == [first.id, second.id] and second.asked_by is None
    assert [r.process for r in storage.reload_results(second.id)] == [ASKING.name, OTHER.name]


def test_a_process_is_waited_for_only_while_it_keeps_saying_it_runs(
    storage: Storage, clock: Clock
) -> None:
    storage.keep_alive(ASKING, alive_for=6)
    storage.keep_alive(OTHER, alive_for=6)
    assert storage.live_processes() == [ASKING, OTHER]

    clock.now += 5
    storage.keep_alive(OTHER, alive_for=6)
    storage.retire_process(ASKING.name)  # stopping: nobody need wait for it
    assert storage.live_processes() == [OTHER]

    clock.now += 7  # silent for longer than it promised: killed, or cut off
    assert storage.live_processes() == []


def test_forgetting_a_moderator_and_retention_delete_their_reloads_with_every_outcome(
    storage: Storage, clock: Clock, database_url: str
) -> None:
    theirs = storage.ask_reload(ASKING.name, ASKER_ID, TOOK)
    storage.record_reload_outcome(OTHER.name, [theirs.id], TOOK)
    clock.now += 20 * DAY
    others = storage.ask_reload(ASKING.name, OTHER_ID, TOOK)
    storage.keep_alive(OTHER, alive_for=6)

    assert storage.forget(ASKER_ID) == 1
    assert query(database_url, "SELECT count(*) FROM corpus_reload_results") == [(1,)]
    storage.record_reload_outcome(OTHER.name, [theirs.id], FAILED)  # gone: nothing to answer

    clock.now += 35 * DAY  # past the 30 days for the other request, and for the process
    assert storage.delete_expired() == 1
    assert storage.reload_results(others.id) == []
    assert query(database_url, "SELECT count(*) FROM corpus_reloads") == [(0,)]
    assert query(database_url, "SELECT count(*) FROM bot_processes") == [(0,)]
