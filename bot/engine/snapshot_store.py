"""Where index snapshots are kept: DATA_DIR/index/<folder key>/<corpus key>.index.

One folder per corpus folder (named for a digest of its resolved path) holds the snapshots made
of it, each named for its corpus key (the code version, the glossary, every file's path and
content digest). A start on an unchanged corpus finds its snapshot by name and maps it; on a
changed one, the newest snapshot of the same folder lends its unchanged articles; the newest
KEPT_PER_FOLDER stay and older ones are deleted (a process still mapping one keeps its pages
until it lets go of them).

Every bot process of the machine may use the folder at once: a snapshot is written whole under
a temporary name and renamed into place (disk.py), so two processes starting together on one
DATA_DIR each make it and one whole file stays. A snapshot whose checksums fail, or that another
version of the code made, is made again and never read.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from bot.engine.disk import TEMPORARY_PREFIX, TEMPORARY_SUFFIX, discard_damaged, write_whole
from bot.engine.snapshot import (
    CorpusSnapshot,
    SnapshotDamaged,
    SnapshotObjects,
    read_header,
    read_snapshot,
)

log = logging.getLogger(__name__)

INDEX_FOLDER = "index"
SUFFIX = ".index"
# Snapshots kept per corpus folder: the one in use and the one before it (a process that has
# not reloaded yet may still be reading it).
KEPT_PER_FOLDER = 2
# A temporary file this old was left by a process that stopped while writing it.
LEFTOVER_SECONDS = 3600.0


class SnapshotState(StrEnum):
    """Why a corpus's snapshot was read back or made; prompts/index_snapshot.j2 says it."""

    FRESH = "fresh"  # read back: the corpus is as it was when the snapshot was made
    BUILT = "built"  # none was kept for this folder: made now
    STALE = "stale"  # the corpus changed since: made again, its unchanged files reused
    DAMAGED = "damaged"  # the one kept was damaged: made again
    OTHER_VERSION = "other_version"  # the one kept was made by another version of the code


@dataclass(frozen=True, slots=True)
class SnapshotReport:
    """How a corpus's index came to be: read back or made, and why; where it is kept."""

    state: SnapshotState
    files: int  # article files read
    parsed: int  # of them, parsed and tokenized now; the others came from a snapshot
    detail: str = ""  # for DAMAGED: what was wrong with it
    kept: str = ""  # the file it is kept in; "" when it lives in memory only
    not_kept: str = ""  # why it could not be kept, when there is a store to keep it in
    stored: bool = False  # whether there is a store (a data folder) to keep it in at all


class SnapshotStore:
    """The folder of index snapshots, shared by every process given it."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def folder_of(self, root: Path) -> Path:
        """Where the snapshots of the corpus folder `root` (resolved) are kept."""
        name = str(root).encode("utf-8", "surrogatepass")
        return self.folder / hashlib.blake2b(name, digest_size=12).hexdigest()

    def find(self, root: Path, key: str) -> tuple[CorpusSnapshot | None, str]:
        """The snapshot of `root` with this corpus key, mapped; else None and, when one was
        there but damaged (and is now deleted), what was wrong with it."""
        path = self.folder_of(root) / f"{key}{SUFFIX}"
        try:
            found = read_snapshot(path, key)
        except FileNotFoundError:
            return None, ""
        except (OSError, SnapshotDamaged) as error:
            discard_damaged(path, "the index snapshot", str(error))
            return None, str(error)
        with contextlib.suppress(OSError):  # last used, so the last to be deleted
            os.utime(path)
        return found, ""

    def previous(self, root: Path) -> tuple[CorpusSnapshot | None, SnapshotState, str]:
        """The newest snapshot kept of `root`, to take unchanged articles from, and why the
        corpus's own must be made: STALE (that one is of other files), OTHER_VERSION, DAMAGED
        (with what was wrong), or BUILT when none was kept."""
        kept = self._snapshots(self.folder_of(root))
        if not kept:
            return None, SnapshotState.BUILT, ""
        newest = kept[0]
        try:
            if not read_header(newest).current:
                return None, SnapshotState.OTHER_VERSION, ""
            found = read_snapshot(newest)
        except FileNotFoundError:  # deleted meanwhile by another process making a newer one
            return None, SnapshotState.BUILT, ""
        except (OSError, SnapshotDamaged) as error:
            discard_damaged(newest, "the index snapshot", str(error))
            return None, SnapshotState.DAMAGED, str(error)
        with contextlib.suppress(OSError):  # last used, so the last to be deleted
            os.utime(newest)
        return found, SnapshotState.STALE, ""

    def write(self, root: Path, snapshot: CorpusSnapshot) -> Path:
        """Keep a snapshot made in memory: the file it is written to, to be mapped back with
        `read` (its pages are then the file's, shared with every process reading it). Older
        snapshots of `root` beyond KEPT_PER_FOLDER are deleted. OSError if it cannot be kept."""
        folder = self.folder_of(root)
        path = folder / f"{snapshot.key}{SUFFIX}"
        # No fsync: a file a power cut damaged fails its checksums and is made again.
        write_whole(path, snapshot.write, durable=False)
        self._prune(folder, path)
        return path

    @staticmethod
    def read(path: Path, objects: SnapshotObjects) -> CorpusSnapshot:
        """The snapshot `write` kept in `path`, its arrays mapped from the file and its Python
        `objects` those it was written from; SnapshotDamaged or OSError if it is not."""
        return read_snapshot(path, objects.key, objects)

    def _snapshots(self, folder: Path) -> list[Path]:
        """The snapshots in a folder, the last used first."""
        found = []
        with contextlib.suppress(OSError):
            for path in folder.glob(f"*{SUFFIX}"):
                with contextlib.suppress(OSError):  # deleted meanwhile by another process
                    found.append((path.stat().st_mtime, path))
        return [path for _, path in sorted(found, reverse=True)]

    def _prune(self, folder: Path, kept: Path) -> None:
        """Delete the snapshots of a folder but the newest KEPT_PER_FOLDER, and at once those
        this code cannot read (another version's, damaged ones)."""
        others: list[Path] = []
        for path in self._snapshots(folder):
            if path == kept:
                continue
            try:
                readable = read_header(path).current
            except (OSError, SnapshotDamaged):
                readable = False
            if readable and len(others) < KEPT_PER_FOLDER - 1:
                others.append(path)
                continue
            with contextlib.suppress(OSError):
                path.unlink()
        too_old = time.time() - LEFTOVER_SECONDS
        for path in folder.glob(f"{TEMPORARY_PREFIX}*{TEMPORARY_SUFFIX}"):
            with contextlib.suppress(OSError):
                if path.stat().st_mtime < too_old:
                    path.unlink()
