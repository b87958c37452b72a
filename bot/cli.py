"""`articlebot`: the engine from a terminal. The same replies the Discord bot posts.

Its output is a contract other tools read: `ask --json` prints one JSON object per question,
`summary --json` one object for the summary, `list --json` one object per article, and `check`
exits non-zero when nothing usable loaded.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO, TypeVar

from bot.cluster import Cluster, TokenRefused, recommended_shard_count
from bot.config import (
    Settings,
    SettingsError,
    days,
    load_settings,
    positive_int,
    shard_ids,
    shard_ids_text,
)
from bot.engine import (
    Article,
    ArticleInfo,
    Citation,
    CorpusError,
    Engine,
    EngineError,
    FollowUp,
    Reply,
)
from bot.engine.bookcase import Bookcase
from bot.engine.corpus import ArticleCache, load_corpus
from bot.engine.models import SERVER_SHELF
from bot.engine.shelf import ShelfRefused
from bot.engine.summarizer import LENGTHS

# The records database (SQLAlchemy) is imported by the commands that use it, not at start: its
# import alone takes longer than `articlebot ask` takes to answer from an indexed corpus.
if TYPE_CHECKING:
    from bot.shelves import Shelves

log = logging.getLogger(__name__)

T = TypeVar("T")

# Progress is worth showing only when loading takes a noticeable moment.
PROGRESS_MIN_FILES = 200


def citation_json(citation: Citation) -> dict[str, object]:
    """A citation as the command-line contract spells it."""
    return {
        "n": citation.n,
        "article": citation.article_id,
        "paragraph": citation.paragraph,
        "quote": citation.quote,
        "path": citation.path,
        "start": citation.start,
        "end": citation.end,
        # Where in the quote the words that answer are, or null.
        "answer": list(citation.answer) if citation.answer else None,
    }


def reply_json(question: str, reply: Reply) -> str:
    """One line of `ask --json`."""
    return json.dumps(
        {
            "question": question,
            "answered": reply.answered,
            "text": reply.text,
            "citations": [citation_json(c) for c in reply.citations],
        },
        ensure_ascii=False,
    )


def summary_json(article_id: str, reply: Reply) -> str:
    """The one object of `summary --json`."""
    return json.dumps(
        {
            "article": article_id,
            "text": reply.text,
            "citations": [citation_json(c) for c in reply.citations],
        },
        ensure_ascii=False,
    )


def article_json(info: ArticleInfo) -> str:
    """One line of `list --json`."""
    return json.dumps(
        {
            "id": info.id,
            "title": info.title,
            "published": info.published,
            "author": info.author,
            "source": info.source,
            "paragraphs": info.paragraphs,
            "sentences": info.sentences,
        },
        ensure_ascii=False,
    )


def terminal_progress(stream: TextIO) -> Callable[[int, int], None]:
    """A progress callback that redraws one line on a terminal and stays silent otherwise."""

    def report(done: int, total: int) -> None:
        if total < PROGRESS_MIN_FILES or not stream.isatty():
            return
        if done == total or done % 50 == 0:
            end = "\n" if done == total else ""
            stream.write(f"\rreading articles: {done}/{total}{end}")
            stream.flush()

    return report


def load_engine(settings: Settings) -> Engine:
    """Build the engine the settings describe, with progress on a terminal: its index and
    sentence vectors kept under DATA_DIR, as the bot keeps them, so the next command starts
    from them."""
    return Engine.load(
        settings.corpus_dir,
        settings.prompts_dir,
        ArticleCache.kept_in(settings.data_dir),
        progress=terminal_progress(sys.stderr),
    )


def open_shelves(settings: Settings) -> Shelves:
    """The servers' own shelves the settings describe (close `.storage` when done)."""
    from bot.records import storage_for
    from bot.shelves import ShelfLimits, Shelves

    limits = ShelfLimits(settings.server_article_limit, settings.article_adds_per_minute)
    cache = ArticleCache.kept_in(settings.data_dir)
    return Shelves(
        settings.data_dir,
        storage_for(settings),
        limits,
        vector_store=cache.vector_store,
        snapshot_store=cache.store,
    )


def load_bookcase(settings: Settings, server: int | None) -> Engine | Bookcase:
    """The shared engine, or what a server's questions are answered from when one is named."""
    engine = load_engine(settings)
    return engine if server is None else server_bookcase(settings, engine, server)


def server_bookcase(settings: Settings, engine: Engine, server: int) -> Bookcase:
    """What a server's questions are answered from: `engine` and the server's own articles."""
    shelves = open_shelves(settings)
    try:
        return shelves.bookcase(engine, server)
    finally:
        shelves.storage.close()


def command_ask(settings: Settings, args: argparse.Namespace) -> int:
    engine = load_bookcase(settings, args.server)
    follows = None
    if args.follows is not None:
        follows = FollowUp.after(args.follows, engine.ask(args.follows))
    for question in args.question:
        reply = engine.ask(question, follows)
        print(reply_json(question, reply) if args.json else reply.text + "\n")
    return 0


def command_summary(settings: Settings, args: argparse.Namespace) -> int:
    engine = load_bookcase(settings, args.server)
    article = engine.choose_article(args.article)
    reply = engine.summarize(article.id, args.length, args.topic)
    print(summary_json(article.id, reply) if args.json else reply.text)
    return 0


def command_list(settings: Settings, args: argparse.Namespace) -> int:
    articles = load_bookcase(settings, args.server).articles()
    if args.json:
        for info in articles:
            print(article_json(info))
        return 0
    print_table(
        ("ID", "DATE", "PARAGRAPHS", "TITLE"),
        [(a.id, a.published or "-", str(a.paragraphs), a.title) for a in articles],
    )
    return 0


def print_table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> None:
    """Columns padded to their widest cell; numbers (the PARAGRAPHS column) to the right."""
    table = [header, *rows]
    widths = [max(len(row[n]) for row in table) for n in range(len(header) - 1)]
    for row in table:
        cells = [
            cell.rjust(width) if name == "PARAGRAPHS" else cell.ljust(width)
            for cell, width, name in zip(row, widths, header, strict=False)
        ]
        print("  ".join([*cells, row[-1]]))


def command_check(settings: Settings, args: argparse.Namespace) -> int:
    from bot.records import StorageError, storage_for

    engine = load_engine(settings)
    # Render every reply kind once on real data, so a broken template fails here, not live.
    first_sentence = engine.library.sentences[0].sentence.text
    engine.ask(first_sentence)
    engine.ask("zzzz qqqq")
    engine.summarize(length="points")
    engine.summarize(topic="zzzz qqqq")
    articles = engine.articles()
    paragraphs = sum(a.paragraphs for a in articles)
    print(f"corpus: {settings.corpus_dir}")
    print(
        f"articles: {len(articles)}  paragraphs: {paragraphs}  "
        f"sentences: {engine.library.sentence_count}"
    )
    # Machines whose corpus folders hold the same articles print the same version.
    print(f"corpus version: {engine.corpus_version}")
    print(f"index: {engine.describe_index()}")
    print(f"templates: {len(engine.prompts.names())} in {settings.prompts_dir}")
    reader = engine.answerer.reader
    megabytes = reader.model_file.stat().st_size / 1e6
    print(f"reader model: {reader.model_file} ({megabytes:.1f} MB)")
    encoder = engine.answerer.retriever.encoder
    if encoder is not None:
        megabytes = encoder.model_file.stat().st_size / 1e6
        print(f"sentence encoder: {encoder.model_file} ({megabytes:.1f} MB)")
    print(f"warnings: {len(engine.warnings)}")
    for warning in engine.warnings:
        print(f"  {engine.describe(warning)}")
    storage = storage_for(settings)
    try:
        print(f"records: {storage.status()}")
    except StorageError as error:
        # The bot answers without its records, but votes and declines would be lost.
        print(f"records: cannot be used ({error.problem}): {error.detail}")
        return 1
    finally:
        storage.close()
    check_shelves(settings, engine)
    return 0


def check_shelves(settings: Settings, engine: Engine) -> None:
    """Load every server's own shelf as the bot would, and say what each holds and what is
    wrong with it."""
    shelves = open_shelves(settings)
    try:
        guild_ids = shelves.guild_ids()
        print(f"shelves: {len(guild_ids)} server(s) with articles of their own in {shelves.folder}")
        for guild_id in guild_ids:
            shelf = shelves.shelf(guild_id)
            report = None
            try:
                corpus = load_corpus(shelf.folder, ArticleCache(store=shelves.snapshot_store))
                articles, warnings, report = len(corpus.articles), corpus.warnings, corpus.report
            except CorpusError as error:  # none of its files loads
                articles, warnings = 0, error.warnings
            print(f"  server {guild_id}: {articles} article(s), {len(warnings)} warning(s)")
            if report is not None:
                print(f"    index: {engine.describe_index(report)}")
            for warning in warnings:
                print(f"    {engine.describe(warning)}")
            for leftover in shelf.leftovers():
                print(f"    {leftover.name}: left by an add that never finished; delete it")
    finally:
        shelves.storage.close()


def command_chat(settings: Settings, args: argparse.Namespace) -> int:
    engine = load_engine(settings)
    interactive = sys.stdin.isatty()
    follows: FollowUp | None = None
    if interactive:
        print(f"Ask about {len(engine.articles())} article(s); an empty line or Ctrl-D quits.")
    while True:
        try:
            line = input("> " if interactive else "")
        except (EOFError, KeyboardInterrupt):
            break
        if not line.strip():
            if interactive:
                break
            continue
        # Each line may follow up the one before ("when's it happening?").
        reply = engine.ask(line, follows)
        follows = FollowUp.after(line, reply)
        print(reply.text + "\n", flush=True)
    return 0


def command_insights(settings: Settings, args: argparse.Namespace) -> int:
    from bot.insights import insights_csv, read_insights, render_insights
    from bot.records import StorageError, storage_for

    engine = load_engine(settings)
    current = None
    if args.server is not None:
        bookcase = server_bookcase(settings, engine, args.server)

        def current(guild_id: int | None, article_id: str) -> Article | None:
            # Only that server's replies are read: its articles are the ones they cited.
            return bookcase.article(article_id)

    storage = storage_for(settings)
    try:
        # Only reads: a read-only copy of the database, or one the bot holds busy, will do.
        insights = read_insights(storage, args.since, time.time(), args.server, current)
    except StorageError as error:
        print(
            f"articlebot: the records cannot be read ({error.problem}): {error.detail}",
            file=sys.stderr,
        )
        return 1
    finally:
        storage.close()
    print(render_insights(engine, insights))
    if args.csv is not None:
        args.csv.write_text(insights_csv(insights), encoding="utf-8")
    return 0


def command_migrate(settings: Settings, args: argparse.Namespace) -> int:
    from bot.engine.templates import Prompts, Trusted
    from bot.records import StorageError, storage_for

    prompts = Prompts(settings.prompts_dir)
    storage = storage_for(settings)
    try:
        upgrade = storage.migrate()
        where = storage.describe()
    except StorageError as error:
        print(
            f"articlebot: the records cannot be migrated ({error.problem}): {error.detail}",
            file=sys.stderr,
        )
        return 1
    finally:
        storage.close()
    # A terminal, not Discord: the path and the descriptions are printed as they are.
    print(prompts.render("cli_migrate", where=Trusted(where), upgrade=upgrade))
    return 0


def command_forget(settings: Settings, args: argparse.Namespace) -> int:
    from bot.records import StorageError, storage_for

    storage = storage_for(settings)
    try:
        deleted = storage.forget(args.user_id)
    except StorageError as error:
        print(f"articlebot: nothing was deleted ({error.problem}): {error.detail}", file=sys.stderr)
        return 1
    finally:
        storage.close()
    print(f"deleted {deleted} record(s) of user {args.user_id}")
    return 0


def command_shelf(settings: Settings, args: argparse.Namespace) -> int:
    from bot.records import StorageError

    shelves = open_shelves(settings)
    try:
        if args.shelf_command == "list" and args.server is None:
            rows = [(str(g), str(len(shelves.shelf(g).names()))) for g in shelves.guild_ids()]
            print_table(("SERVER", "ARTICLES"), rows)
            return 0
        engine = load_engine(settings)
        if args.shelf_command == "list":
            listing = shelves.listing(engine, args.server)
            if args.json:
                for entry in listing:
                    print(article_json(entry.info))
                return 0
            print_table(
                ("ID", "ADDED", "DATE", "TITLE"),
                [
                    (e.info.id, _utc_date(e.added_at), e.info.published or "-", e.info.title)
                    for e in listing
                ],
            )
            return 0
        if args.shelf_command == "export":
            return export_shelf(shelves, args.server, args.folder)
        return remove_from_shelf(shelves, engine, args.server, args.article, args.all)
    except StorageError as error:
        print(
            f"articlebot: the records cannot be used ({error.problem}): {error.detail}",
            file=sys.stderr,
        )
        return 1
    finally:
        shelves.storage.close()


def export_shelf(shelves: Shelves, server: int, folder: Path) -> int:
    """Copy a server's article files into `folder`, as a corpus folder would hold them."""
    shelf = shelves.shelf(server)
    names = shelf.names()
    if not names:
        print(f"articlebot: server {server} has no articles of its own", file=sys.stderr)
        return 1
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        source = shelf.path_of(f"{SERVER_SHELF}/{name}")
        assert source is not None
        shutil.copy2(source, folder / source.name)
    print(f"exported {len(names)} article(s) of server {server} to {folder}")
    return 0


def remove_from_shelf(
    shelves: Shelves, engine: Engine, server: int, article_ids: list[str], everything: bool
) -> int:
    """Take articles off a server's shelf as the operator, recorded as any change is."""
    if everything:
        article_ids = [info.id for info in shelves.bookcase(engine, server).own_articles()]
    if not article_ids:
        print("articlebot: name the articles to remove, or --all", file=sys.stderr)
        return 2
    status = 0
    for article_id in article_ids:
        try:
            outcome = shelves.remove(engine, server, article_id, None)
        except ShelfRefused as refused:
            print(f"articlebot: {article_id} not removed: {refused}", file=sys.stderr)
            status = 1
            continue
        print(f"removed {outcome.article_id} ({outcome.title}) from server {server}")
    return status


def _utc_date(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M")


def token_missing(settings: Settings) -> bool:
    """Say how to get a bot token when none is set; True when it is missing."""
    if settings.discord_token:
        return False
    print(
        "DISCORD_TOKEN is not set.\n"
        "Create a bot application at https://discord.com/developers/applications, add a bot,\n"
        "copy its token and put it in a .env file next to where you run the bot:\n"
        "    DISCORD_TOKEN=your-token-here\n"
        "(see .env.example and the README). To try the answers without Discord, run\n"
        "    articlebot chat",
        file=sys.stderr,
    )
    return True


def command_run(settings: Settings, args: argparse.Namespace) -> int:
    if token_missing(settings):
        return 2
    from bot.discord.runner import run_bot  # imported here: the engine commands need no Discord

    return run_bot(settings, progress=terminal_progress(sys.stderr))


def command_cluster(settings: Settings, args: argparse.Namespace) -> int:
    if token_missing(settings):
        return 2
    if settings.shard_ids is not None:
        print(
            "articlebot: SHARD_IDS is for one `articlebot run`; `articlebot cluster` gives each "
            "of its processes its shards: unset SHARD_IDS",
            file=sys.stderr,
        )
        return 2
    processes = args.processes
    shard_count = settings.shard_count
    if shard_count is None:
        try:
            recommended = recommended_shard_count(settings)
        except TokenRefused:
            print(
                "articlebot: Discord refused DISCORD_TOKEN: copy the bot token again from the "
                "Developer Portal",
                file=sys.stderr,
            )
            return 1
        shard_count = max(processes, recommended or 1)
    if processes > shard_count:
        print(
            f"articlebot: --processes {processes} is more than the {shard_count} shard(s), and "
            "each process needs one of its own: lower --processes or raise --shard-count",
            file=sys.stderr,
        )
        return 2
    run_arguments = [] if args.corpus is None else ["--corpus", str(args.corpus)]
    return asyncio.run(Cluster(shard_count, processes, run_arguments).run())


def command_invite(settings: Settings, args: argparse.Namespace) -> int:
    from bot.discord.invite import invite_url

    print(invite_url(args.application_id))
    return 0


# The status a command-line tool ends with when its reader closes the pipe (128 + SIGPIPE).
SIGPIPE_STATUS = 141

COMMANDS: dict[str, Callable[[Settings, argparse.Namespace], int]] = {
    "ask": command_ask,
    "summary": command_summary,
    "list": command_list,
    "check": command_check,
    "chat": command_chat,
    "insights": command_insights,
    "migrate": command_migrate,
    "forget": command_forget,
    "shelf": command_shelf,
    "run": command_run,
    "cluster": command_cluster,
    "invite": command_invite,
}


def build_parser() -> argparse.ArgumentParser:
    """The command line's grammar."""
    parser = argparse.ArgumentParser(
        prog="articlebot",
        description="Answers questions about news articles with verbatim, cited quotes.",
    )
    corpus = argparse.ArgumentParser(add_help=False)
    corpus.add_argument(
        "--corpus",
        type=Path,
        metavar="DIR",
        help="the corpus folder (default: CORPUS_DIR from the environment or .env, else ./corpus)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    ask = sub.add_parser("ask", parents=[corpus], help="answer questions and exit")
    ask.add_argument("--json", action="store_true", help="one JSON object per question per line")
    ask.add_argument(
        "--follows",
        metavar="QUESTION",
        help="ask each question as a follow-up of this one, as a reply to its answer would",
    )
    ask.add_argument("question", nargs="+", help="a question (quote it)")
    summary = sub.add_parser(
        "summary", parents=[corpus], help="summarize an article in its own sentences and exit"
    )
    summary.add_argument(
        "--article", metavar="ID", help="id or title of the article (default: the newest)"
    )
    summary.add_argument(
        "--length",
        choices=LENGTHS,
        default="short",
        help="short (about three sentences), medium, long, or points (a bulleted list)",
    )
    summary.add_argument("--topic", metavar="TEXT", help="only what the article says about this")
    summary.add_argument("--json", action="store_true", help="print one JSON object")
    listing = sub.add_parser("list", parents=[corpus], help="list the articles and exit")
    listing.add_argument("--json", action="store_true", help="one JSON object per article per line")
    for answering in (ask, summary, listing):
        answering.add_argument(
            "--server",
            type=int,
            metavar="SERVER_ID",
            help="as in this Discord server: the shared articles and the server's own",
        )
    sub.add_parser(
        "check", parents=[corpus], help="validate the corpus and templates, and say what loaded"
    )
    sub.add_parser("chat", parents=[corpus], help="ask questions in the terminal")
    insights = sub.add_parser(
        "insights",
        parents=[corpus],
        help="what people asked: unanswered questions, answers voted unhelpful, per article",
    )
    insights.add_argument(
        "--since",
        type=_option("--since", days),
        default=7.0,
        metavar="DAYS",
        help="days to look back (default 7)",
    )
    insights.add_argument("--csv", type=Path, metavar="FILE", help="also write the full lists")
    insights.add_argument(
        "--server",
        type=int,
        metavar="SERVER_ID",
        help="only one Discord server's records, its answers about since changed text as stale",
    )
    sub.add_parser(
        "migrate",
        help="bring the records database's schema to the latest revision (the bot does at start)",
    )
    forget = sub.add_parser("forget", help="delete every record of one person (their request)")
    forget.add_argument("user_id", type=int, help="the person's Discord user id")
    shelf = sub.add_parser(
        "shelf", help="servers' own articles, added by their moderators: list, export, remove"
    )
    shelf_sub = shelf.add_subparsers(dest="shelf_command", required=True, metavar="ACTION")
    shelf_list = shelf_sub.add_parser(
        "list", parents=[corpus], help="the servers with articles of their own, or one's articles"
    )
    shelf_list.add_argument("server", type=int, nargs="?", help="a server id (Discord guild id)")
    shelf_list.add_argument("--json", action="store_true", help="one JSON object per article")
    shelf_export = shelf_sub.add_parser(
        "export", parents=[corpus], help="copy a server's article files into a folder"
    )
    shelf_export.add_argument("server", type=int, help="a server id (Discord guild id)")
    shelf_export.add_argument("folder", type=Path, help="where to copy them (created if needed)")
    shelf_remove = shelf_sub.add_parser(
        "remove", parents=[corpus], help="take articles off a server's shelf, recorded as yours"
    )
    shelf_remove.add_argument("server", type=int, help="a server id (Discord guild id)")
    shelf_remove.add_argument("article", nargs="*", help="article ids (server/...)")
    shelf_remove.add_argument("--all", action="store_true", help="every article of the server")
    run = sub.add_parser("run", parents=[corpus], help="run the Discord bot")
    run.add_argument(
        "--shard-count",
        type=_option("--shard-count", positive_int),
        metavar="N",
        help="gateway shards across every process of the bot (default: SHARD_COUNT, else as "
        "many as Discord recommends)",
    )
    run.add_argument(
        "--shard-ids",
        type=_option("--shard-ids", shard_ids),
        metavar="IDS",
        help="the shards this process holds, such as 0-1 or 0,2 (default: SHARD_IDS, else all; "
        "needs --shard-count)",
    )
    cluster = sub.add_parser(
        "cluster",
        parents=[corpus],
        help="run the Discord bot as several processes that split the gateway shards",
    )
    cluster.add_argument(
        "--processes",
        type=_option("--processes", positive_int),
        required=True,
        metavar="P",
        help="how many `articlebot run` processes; one that dies is started again",
    )
    cluster.add_argument(
        "--shard-count",
        type=_option("--shard-count", positive_int),
        metavar="N",
        help="gateway shards in all, split between the processes in ranges (default: "
        "SHARD_COUNT, else as many as Discord recommends, and at least P)",
    )
    invite = sub.add_parser("invite", help="print the link that adds the bot to a server")
    invite.add_argument(
        "application_id", type=int, help="the application id (Developer Portal > General)"
    )
    return parser


def _option(name: str, read: Callable[[str, str], T]) -> Callable[[str], T]:
    """An argparse type from a setting's reader: the same checks and messages, naming the
    option."""

    def parse(raw: str) -> T:
        try:
            return read(name, raw)
        except SettingsError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    return parse


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `articlebot` command."""
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(
            corpus_dir=getattr(args, "corpus", None),
            shard_count=getattr(args, "shard_count", None),
            shard_ids=getattr(args, "shard_ids", None),
        )
    except SettingsError as error:
        print(f"articlebot: {error}", file=sys.stderr)
        return 2
    # Several processes of one bot write to one log: each line says which shards wrote it.
    held = f"[shards {shard_ids_text(settings.shard_ids)}] " if settings.shard_ids else ""
    logging.basicConfig(
        level=settings.log_level if args.command in ("run", "cluster") else "ERROR",
        format=f"%(asctime)s %(levelname)s {held}%(name)s: %(message)s",
    )
    try:
        status = COMMANDS[args.command](settings, args)
        # Flushed here, not at exit, so that a reader who has gone away is noticed below.
        sys.stdout.flush()
        return status
    except EngineError as error:
        print(f"articlebot: {error}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # Whoever read the output stopped early (`articlebot ask ... | head -2`): a normal end
        # for a command-line tool, not a crash. Python's own flush at exit would fail again on
        # the closed pipe, so standard output goes nowhere from here on.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return SIGPIPE_STATUS
