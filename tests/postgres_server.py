"""A throwaway PostgreSQL server for the tests: initdb'd into a temporary folder, listening on a
free port of 127.0.0.1 (and a unix socket in that folder), a fresh database for each test, and
all of it stopped and deleted at the end. Each pytest-xdist worker starts its own.

initdb refuses to run as root: as root, the server's programs run as the `postgres` user.
"""

from __future__ import annotations

import itertools
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import psycopg
from psycopg import sql

# Where Debian and Ubuntu put the server's programs, one folder per major version.
DEBIAN_SERVER_FOLDERS = "/usr/lib/postgresql/*/bin"
SERVER_USER = "postgres"
# Durability is the server's business, not the tests': nothing here must survive a power cut.
FAST_SETTINGS = ("fsync=off", "synchronous_commit=off", "full_page_writes=off")


class PostgresMissing(Exception):
    """The PostgreSQL server's programs (initdb, pg_ctl) are not installed here."""


def server_programs() -> Path:
    """The folder holding initdb and pg_ctl, newest major version first; PostgresMissing if
    there is none."""
    found = sorted(Path("/").glob(DEBIAN_SERVER_FOLDERS.lstrip("/")), key=_major, reverse=True)
    on_path = shutil.which("initdb")
    if on_path:
        found.append(Path(on_path).parent)
    for folder in found:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    raise PostgresMissing(
        f"PostgreSQL's server programs (initdb, pg_ctl) are not installed: neither in "
        f"{DEBIAN_SERVER_FOLDERS} nor on PATH (Debian: apt-get install postgresql)"
    )


def _major(folder: Path) -> int:
    version = folder.parent.name
    return int(version) if version.isdigit() else 0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PostgresServer:
    """One PostgreSQL cluster of our own, started by `start` and gone after `stop`."""

    def __init__(self, programs: Path) -> None:
        self.programs = programs
        self.password = secrets.token_hex(8)
        self.folder = Path(tempfile.mkdtemp(prefix="articlebot-pg-"))
        self.port = 0
        self._as_root = os.geteuid() == 0
        self._admin: psycopg.Connection[tuple[object, ...]] | None = None
        self._names = itertools.count(1)

    def start(self) -> None:
        """initdb and start the server; the superuser `postgres` signs in over TCP with a
        password, as a hosted database wants, and over the folder's socket without one."""
        if self._as_root:
            os.chown(self.folder, pwd.getpwnam(SERVER_USER).pw_uid, -1)
        password_file = self.folder / "password"
        password_file.write_text(self.password)
        if self._as_root:
            os.chown(password_file, pwd.getpwnam(SERVER_USER).pw_uid, -1)
        self._run(
            "initdb",
            "--pgdata",
            str(self.folder / "data"),
            "--username",
            SERVER_USER,
            "--pwfile",
            str(password_file),
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "--encoding=UTF8",
            "--no-sync",
        )
        for _ in range(5):  # another process may take the free port before the server does
            self.port = free_port()
            options = [f"-p {self.port}", f"-k {self.folder}", "-c listen_addresses=127.0.0.1"]
            options += [f"-c {setting}" for setting in FAST_SETTINGS]
            started = self._run(
                "pg_ctl",
                "--pgdata",
                str(self.folder / "data"),
                "--log",
                str(self.folder / "server.log"),
                "--wait",
                "--timeout=60",
                "-o",
                " ".join(options),
                "start",
                check=False,
            )
            if started.returncode == 0:
                break
        else:
            log = (self.folder / "server.log").read_text(errors="replace")
            raise RuntimeError(f"the test PostgreSQL server would not start:\n{log}")
        self._admin = psycopg.connect(self.url("postgres", driver="postgresql"), autocommit=True)

    def url(self, database: str, *, driver: str = "postgresql") -> str:
        """The URL of one of the server's databases, as hosts hand them out."""
        return f"{driver}://{SERVER_USER}:{self.password}@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A new, empty database; its name."""
        name = f"records_{next(self._names)}"
        self.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return name

    def empty_database(self, name: str) -> None:
        """Make a database as new again, far faster than dropping and creating it: its
        sessions ended, its settings reset, its tables gone."""
        database = sql.Identifier(name)
        self.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS true").format(database))
        self.execute(sql.SQL("ALTER DATABASE {} RESET ALL").format(database))
        self.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [name]
        )
        with psycopg.connect(self.url(name), autocommit=True) as connection:
            connection.execute("DROP SCHEMA public CASCADE")
            connection.execute("CREATE SCHEMA public")

    def execute(self, statement: sql.Composable | str, params: Sequence[object] = ()) -> None:
        """Run one statement as the superuser, outside any transaction."""
        assert self._admin is not None, "the server is not started"
        self._admin.execute(statement, params)  # type: ignore[arg-type]

    def stop(self) -> None:
        """Stop the server at once and delete everything it had."""
        if self._admin is not None:
            self._admin.close()
        if (self.folder / "data" / "postmaster.pid").exists():
            self._run("pg_ctl", "--pgdata", str(self.folder / "data"), "--mode=immediate", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)

    def _run(
        self, program: str, *arguments: str, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        command = [str(self.programs / program), *arguments]
        if self._as_root:
            command = ["runuser", "-u", SERVER_USER, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=self.folder)
        if check and done.returncode != 0:
            raise RuntimeError(f"{program} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
        return done
