"""Reloads that reach every process of the bot: a /reload asked in one process, what each
process made of it, and which processes are running to be waited for.

The database is where the processes meet, whether they share a machine (SQLite) or not
(PostgreSQL): each one keeps its row in `bot_processes` fresh, and looks for reloads asked
since it read its corpus that it has no result of yet.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, and_, delete, exists, insert, literal, select

from bot.records.database import conflict_insert
from bot.records.models import BotProcess, ReloadOutcome, ReloadRequest, ReloadResult
from bot.records.schema import bot_processes, corpus_reload_results, corpus_reloads


def store_reload_request(
    connection: Connection,
    asked_in: str,
    asked_by: str | None,
    at: float,
    outcome: ReloadOutcome,
) -> int:
    """Keep a reload asked in process `asked_in`, with that process's own outcome, so it never
    carries the reload out a second time; the reload's id."""
    reload_id = connection.execute(
        insert(corpus_reloads)
        .values(asked_by=asked_by, asked_in=asked_in, at=at)
        .returning(corpus_reloads.c.id)
    ).scalar_one()
    store_reload_results(connection, asked_in, [int(reload_id)], outcome, at)
    return int(reload_id)


def store_reload_results(
    connection: Connection,
    process: str,
    reload_ids: Iterable[int],
    outcome: ReloadOutcome,
    at: float,
) -> None:
    """Keep one process's outcome of each reload; a reload already answered by that process,
    or deleted meanwhile (retention, forget), is left alone."""
    ids = sorted(set(reload_ids))
    if not ids:
        return
    # Copied from the reloads still there, so a deleted one breaks no foreign key.
    results = corpus_reload_results.c
    still_there = select(
        corpus_reloads.c.id,
        literal(process, results.process.type),
        literal(outcome.succeeded, results.succeeded.type),
        literal(outcome.articles, results.articles.type),
        literal(outcome.corpus_version, results.corpus_version.type),
        literal(outcome.error, results.error.type),
        literal(at, results.at.type),
    ).where(corpus_reloads.c.id.in_(ids))
    connection.execute(
        conflict_insert(connection, corpus_reload_results)
        .from_select(
            [
                "reload_id",
                "process",
                "succeeded",
                "articles",
                "corpus_version",
                "error",
                "at",
            ],
            still_there,
        )
        .on_conflict_do_nothing()
    )


def reloads_to_carry_out(connection: Connection, process: str, since: float) -> list[ReloadRequest]:
    """The reloads asked at or after `since` that `process` has no outcome of, oldest first."""
    answered = exists().where(
        and_(
            corpus_reload_results.c.reload_id == corpus_reloads.c.id,
            corpus_reload_results.c.process == process,
        )
    )
    rows = connection.execute(
        select(corpus_reloads)
        .where(corpus_reloads.c.at >= since, ~answered)
        .order_by(corpus_reloads.c.id)
    ).all()
    return [ReloadRequest(row.id, row.asked_by, row.asked_in, row.at) for row in rows]


def reload_results(connection: Connection, reload_id: int) -> list[ReloadResult]:
    """Every process's outcome of one reload, by process name."""
    rows = connection.execute(
        select(corpus_reload_results)
        .where(corpus_reload_results.c.reload_id == reload_id)
        .order_by(corpus_reload_results.c.process)
    ).all()
    return [
        ReloadResult(
            row.reload_id,
            row.process,
            ReloadOutcome(row.succeeded, row.articles, row.corpus_version, row.error),
            row.at,
        )
        for row in rows
    ]


def keep_alive(connection: Connection, process: BotProcess, now: float, alive_for: float) -> None:
    """Say that `process` runs, and will say so again within `alive_for` seconds."""
    values = {"seen_at": now, "alive_until": now + alive_for}
    connection.execute(
        conflict_insert(connection, bot_processes)
        .values(
            name=process.name,
            host=process.host,
            pid=process.pid,
            shards=process.shards,
            started_at=process.started_at,
            **values,
        )
        .on_conflict_do_update(index_elements=[bot_processes.c.name], set_=values)
    )


def live_processes(connection: Connection, now: float) -> list[BotProcess]:
    """The processes whose last word says they still run at `now`, by name."""
    rows = connection.execute(
        select(bot_processes)
        .where(bot_processes.c.alive_until >= now)
        .order_by(bot_processes.c.name)
    ).all()
    return [BotProcess(row.name, row.host, row.pid, row.shards, row.started_at) for row in rows]


def retire_process(connection: Connection, name: str) -> None:
    """Forget a process that stops, so nobody waits for it."""
    connection.execute(delete(bot_processes).where(bot_processes.c.name == name))
