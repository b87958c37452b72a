"""`articlebot`: the engine from a terminal. The same replies the Discord bot posts.

Its output is a contract other tools read: `ask --json` prints one JSON object per question,
`summary --json` one object for the summary, `list --json` one object per article, and `check`
exits non-zero when nothing usable loaded.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from bot.config import Settings, SettingsError, days, load_settings
from bot.engine import ArticleInfo, Citation, Engine, EngineError, FollowUp, Reply
from bot.engine.summarizer import LENGTHS
from bot.insights import insights_csv, read_insights, render_insights
from bot.storage import StorageError, storage_for

log = logging.getLogger(__name__)

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
    """Build the engine the settings describe, with progress on a terminal."""
    return Engine.load(
        settings.corpus_dir, settings.prompts_dir, progress=terminal_progress(sys.stderr)
    )


def command_ask(settings: Settings, args: argparse.Namespace) -> int:
    engine = load_engine(settings)
    follows = None
    if args.follows is not None:
        follows = FollowUp.after(args.follows, engine.ask(args.follows))
    for question in args.question:
        reply = engine.ask(question, follows)
        print(reply_json(question, reply) if args.json else reply.text + "\n")
    return 0


def command_summary(settings: Settings, args: argparse.Namespace) -> int:
    engine = load_engine(settings)
    article = engine.choose_article(args.article)
    reply = engine.summarize(article.id, args.length, args.topic)
    print(summary_json(article.id, reply) if args.json else reply.text)
    return 0


def command_list(settings: Settings, args: argparse.Namespace) -> int:
    engine = load_engine(settings)
    articles = engine.articles()
    if args.json:
        for info in articles:
            print(article_json(info))
        return 0
    rows = [("ID", "DATE", "PARAGRAPHS", "TITLE")] + [
        (a.id, a.published or "-", str(a.paragraphs), a.title) for a in articles
    ]
    id_width = max(len(row[0]) for row in rows)
    date_width = max(len(row[1]) for row in rows)
    for id_, date, paragraphs, title in rows:
        print(f"{id_:{id_width}}  {date:{date_width}}  {paragraphs:>10}  {title}")
    return 0


def command_check(settings: Settings, args: argparse.Namespace) -> int:
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
    return 0


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
    engine = load_engine(settings)
    storage = storage_for(settings)
    try:
        # Only reads: a read-only copy of the database, or one the bot holds busy, will do.
        insights = read_insights(storage, args.since, time.time())
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


def command_forget(settings: Settings, args: argparse.Namespace) -> int:
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


def command_run(settings: Settings, args: argparse.Namespace) -> int:
    if not settings.discord_token:
        print(
            "DISCORD_TOKEN is not set.\n"
            "Create a bot application at https://discord.com/developers/applications, add a bot,\n"
            "copy its token and put it in a .env file next to where you run the bot:\n"
            "    DISCORD_TOKEN=your-token-here\n"
            "(see .env.example and the README). To try the answers without Discord, run\n"
            "    articlebot chat",
            file=sys.stderr,
        )
        return 2
    from bot.discord.runner import run_bot  # imported here: the engine commands need no Discord

    return run_bot(settings, progress=terminal_progress(sys.stderr))


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
    "forget": command_forget,
    "run": command_run,
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
        type=_period,
        default=7.0,
        metavar="DAYS",
        help="days to look back (default 7)",
    )
    insights.add_argument("--csv", type=Path, metavar="FILE", help="also write the full lists")
    forget = sub.add_parser("forget", help="delete every record of one person (their request)")
    forget.add_argument("user_id", type=int, help="the person's Discord user id")
    sub.add_parser("run", parents=[corpus], help="run the Discord bot")
    invite = sub.add_parser("invite", help="print the link that adds the bot to a server")
    invite.add_argument(
        "application_id", type=int, help="the application id (Developer Portal > General)"
    )
    return parser


def _period(raw: str) -> float:
    try:
        return days("--since", raw)
    except SettingsError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `articlebot` command."""
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(corpus_dir=getattr(args, "corpus", None))
    except SettingsError as error:
        print(f"articlebot: {error}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.log_level if args.command == "run" else "ERROR",
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
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
