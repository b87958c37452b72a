"""Files other processes read while this one writes them: written whole or not at all, and
thrown away, never used, when they turn out damaged.

The sentence vectors (vector_store.py) and the index snapshots (snapshot_store.py) live under
DATA_DIR, shared by every bot process of the machine: each file is written under a temporary
name beside its final one and renamed over it in one step, so a reader sees the old file or the
new one, never half of one, and two processes writing the same file at once leave one of the two
whole.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

log = logging.getLogger(__name__)

# What a file being written is called until it is whole: hidden, and named as unfinished.
TEMPORARY_PREFIX = "."
TEMPORARY_SUFFIX = ".tmp"


def write_whole(path: Path, write: Callable[[BinaryIO], None], durable: bool = True) -> None:
    """Write `path` with `write(file)` under a temporary name, then rename it into place.

    `durable` flushes it to the disk before the rename, so a power cut leaves the old file or
    the new one; a file whose damage its reader would notice (a checksum) need not wait for that.
    Raises OSError when the folder cannot be written; no temporary file is left behind.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(
        prefix=TEMPORARY_PREFIX, suffix=TEMPORARY_SUFFIX, dir=path.parent
    )
    try:
        with os.fdopen(handle, "wb") as file:
            write(file)
            file.flush()
            if durable:
                os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def discard_damaged(path: Path, what: str, why: str) -> None:
    """Say that a kept file is damaged and delete it: it is made again, never used."""
    log.warning("%s %s is damaged (%s): making it again", what, path, why)
    with contextlib.suppress(OSError):  # made again and written over either way
        path.unlink(missing_ok=True)
