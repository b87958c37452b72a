"""Corpus and template hazards: the engine names the file and goes on, as for any bad file."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from corpora import PROMPTS

from bot.engine import Engine, TemplateProblem
from bot.engine.corpus import load_corpus


def test_a_symlink_loop_is_a_warning_not_a_failed_load(seed_corpus: Path) -> None:
    os.symlink("loop.txt", seed_corpus / "loop.txt")
    corpus = load_corpus(seed_corpus)
    assert any(w.path == "loop.txt" for w in corpus.warnings)


def _write_into(fifo: Path, text: bytes) -> None:
    try:
        with fifo.open("wb") as pipe:  # waits until a reader opens the other end
            pipe.write(text)
    except BrokenPipeError:  # the loader opened the pipe, saw it is no file, and closed it
        pass


def test_a_named_pipe_is_skipped_not_read(seed_corpus: Path) -> None:
    fifo = seed_corpus / "pipe.txt"
    os.mkfifo(fifo)
    # A writer that answers at once, so that reading the pipe shows up as an article instead
    # of a hang.
    writer = threading.Thread(
        target=_write_into, args=(fifo, b"Pipe story\n\nThis came through a pipe.\n"), daemon=True
    )
    writer.start()
    try:
        corpus = load_corpus(seed_corpus)
    finally:
        if writer.is_alive():  # the pipe was never opened: let the writer go
            os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))
        writer.join(5)
    assert "pipe" not in {a.id for a in corpus.articles}
    assert any(w.path == "pipe.txt" for w in corpus.warnings)


def test_a_template_edited_on_disk_changes_nothing_until_a_reload(
    seed_corpus: Path, tmp_path: Path
) -> None:
    prompts = Path(shutil.copytree(PROMPTS, tmp_path / "prompts"))
    engine = Engine.load(seed_corpus, prompts)
    before = engine.ask("Who requested the meeting?").text
    for name in ("answer.j2", "no_answer.j2"):  # whichever the reply used
        template = prompts / name
        template.write_text("{% for c in citations %")
        stat = template.stat()
        os.utime(template, (stat.st_atime + 10, stat.st_mtime + 10))  # whatever the clock's grain
    assert engine.ask("Who requested the meeting?").text == before
    with pytest.raises(TemplateProblem, match=r"answer\.j2"):
        engine.reloaded()  # the moderator's reload is what reads templates again, and refuses
