"""Database failures as callers can act on them: one `StorageError` whose `problem` says what
kind of failure it was, whichever database (SQLite or PostgreSQL) had it."""

from __future__ import annotations

import errno
import sqlite3
from enum import StrEnum

from sqlalchemy.exc import DBAPIError, OperationalError


class StorageProblem(StrEnum):
    """The kinds of database failure a caller can act on differently."""

    LOCKED = "locked"  # another process holds what this one needs; trying again later may work
    READ_ONLY = "read_only"  # the file, its folder, the mount or the server refuses writes
    FULL = "full"  # the disk (or the database's size limit) is full
    CORRUPT = "corrupt"  # not a database, or a damaged one: restore a backup
    UNAVAILABLE = "unavailable"  # cannot be opened or reached (missing folder, server down)
    UNKNOWN = "unknown"  # anything else, including a database from a newer bot


class StorageError(Exception):
    """The database failed; `problem` says how, `detail` is the database's own words."""

    def __init__(self, problem: StorageProblem, detail: str) -> None:
        super().__init__(problem, detail)
        self.problem = problem
        self.detail = detail

    def __str__(self) -> str:
        return f"storage {self.problem}: {self.detail}"


class AlreadyRecorded(ValueError):
    """A reply with this id is recorded already (a ValueError, as any id the bot cannot use)."""

    def __init__(self, reply_id: str) -> None:
        super().__init__(reply_id)
        self.reply_id = reply_id

    def __str__(self) -> str:
        return f"reply {self.reply_id} is already recorded"


class UnknownReply(Exception):
    """A vote named a reply that was never recorded, or has since been deleted."""

    def __init__(self, reply_id: str) -> None:
        super().__init__(reply_id)
        self.reply_id = reply_id

    def __str__(self) -> str:
        return f"no reply {self.reply_id!r} is recorded"


# SQLite's result codes by kind; extended codes (SQLITE_READONLY_DIRECTORY) by their base code.
_PROBLEM_BY_SQLITE_CODE = {
    "SQLITE_BUSY": StorageProblem.LOCKED,
    "SQLITE_LOCKED": StorageProblem.LOCKED,
    "SQLITE_READONLY": StorageProblem.READ_ONLY,
    "SQLITE_FULL": StorageProblem.FULL,
    "SQLITE_CORRUPT": StorageProblem.CORRUPT,
    "SQLITE_NOTADB": StorageProblem.CORRUPT,
    "SQLITE_CANTOPEN": StorageProblem.UNAVAILABLE,
}
# The same kinds by SQLite's words, for errors that carry no code.
_PROBLEM_BY_WORDS = (
    ("database is locked", StorageProblem.LOCKED),
    ("database table is locked", StorageProblem.LOCKED),
    ("readonly database", StorageProblem.READ_ONLY),
    ("database or disk is full", StorageProblem.FULL),
    ("file is not a database", StorageProblem.CORRUPT),
    ("database disk image is malformed", StorageProblem.CORRUPT),
    ("unable to open database file", StorageProblem.UNAVAILABLE),
)
_PROBLEM_BY_ERRNO = {
    errno.EROFS: StorageProblem.READ_ONLY,
    errno.EACCES: StorageProblem.READ_ONLY,
    errno.EPERM: StorageProblem.READ_ONLY,
    errno.ENOSPC: StorageProblem.FULL,
    errno.EDQUOT: StorageProblem.FULL,
}
# PostgreSQL's SQLSTATE codes by kind: whole codes first, then their two-character class.
_PROBLEM_BY_SQLSTATE = {
    "55P03": StorageProblem.LOCKED,  # lock_not_available: lock_timeout ran out
    "40P01": StorageProblem.LOCKED,  # deadlock_detected
    "40001": StorageProblem.LOCKED,  # serialization_failure
    "57014": StorageProblem.LOCKED,  # query_canceled (a statement timeout)
    "25006": StorageProblem.READ_ONLY,  # read_only_sql_transaction (a standby, or set so)
    "42501": StorageProblem.READ_ONLY,  # insufficient_privilege
    "53100": StorageProblem.FULL,  # disk_full
    "55000": StorageProblem.UNAVAILABLE,  # the database is not accepting connections
    "3D000": StorageProblem.UNAVAILABLE,  # no such database
    "XX001": StorageProblem.CORRUPT,  # data_corrupted
    "XX002": StorageProblem.CORRUPT,  # index_corrupted
}
_PROBLEM_BY_SQLSTATE_CLASS = {
    "08": StorageProblem.UNAVAILABLE,  # connection exception
    "28": StorageProblem.UNAVAILABLE,  # invalid authorization: wrong user or password
    "57": StorageProblem.UNAVAILABLE,  # the server is shutting down or starting
    "53": StorageProblem.UNAVAILABLE,  # insufficient resources: too many connections, memory
}
# The SQLSTATE class of a transaction the server gave up so that another could go on
# (a deadlock, a serialization failure): running it again is the documented remedy.
RETRY_SQLSTATE_CLASS = "40"


def _cause(error: BaseException) -> BaseException:
    """The driver's own exception inside SQLAlchemy's wrapper, or `error` itself."""
    if isinstance(error, DBAPIError) and error.orig is not None:
        return error.orig
    return error


def sqlstate(error: BaseException) -> str | None:
    """PostgreSQL's SQLSTATE code of a failure, when the server sent one."""
    code = getattr(_cause(error), "sqlstate", None)
    return code if isinstance(code, str) else None


def diagnose(error: BaseException) -> tuple[StorageProblem, str]:
    """What kind of failure `error` is, and the database's (or the OS's) own words."""
    cause = _cause(error)
    if isinstance(cause, OSError):
        return _PROBLEM_BY_ERRNO.get(cause.errno or 0, StorageProblem.UNAVAILABLE), str(cause)
    detail = str(cause).strip()
    if isinstance(cause, sqlite3.Error):
        return _sqlite_problem(cause), detail
    code = sqlstate(error)
    if code is not None:
        problem = _PROBLEM_BY_SQLSTATE.get(code) or _PROBLEM_BY_SQLSTATE_CLASS.get(code[:2])
        return problem or StorageProblem.UNKNOWN, detail
    if isinstance(error, OperationalError):
        # PostgreSQL's driver says so when no server answered at all (refused, timed out,
        # the connection dropped): nothing to read, nothing to write.
        return StorageProblem.UNAVAILABLE, detail
    return _sqlite_problem(cause), detail


def _sqlite_problem(cause: BaseException) -> StorageProblem:
    code = getattr(cause, "sqlite_errorname", "") or ""
    base_code = "_".join(code.split("_")[:2])
    if base_code in _PROBLEM_BY_SQLITE_CODE:
        return _PROBLEM_BY_SQLITE_CODE[base_code]
    words = str(cause).lower()
    for phrase, problem in _PROBLEM_BY_WORDS:
        if phrase in words:
            return problem
    return StorageProblem.UNKNOWN
