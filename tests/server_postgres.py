"""Session fixture `postgres_server`: a PostgreSQL 15 server with password login.

The server runs from a temporary directory owned by the `postgres` user, listens on
127.0.0.1 only, on a free port, and is stopped by its pid at the end of the session (also
when a test fails). `running_postgres(directory)` is the same as a context manager for
scripts (the benchmark).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import pwd
import secrets
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator

import psycopg
import pytest

BIN = "/usr/lib/postgresql/15/bin"


@dataclasses.dataclass
class PostgresServer:
    host: str
    port: int
    user: str
    dbname: str
    password: str
    password_env: str = "PGPASSWORD_LAKE"

    @property
    def env(self) -> dict[str, str]:
        """The environment a generated program needs: the password, by its name."""
        return {self.password_env: self.password}

    @property
    def config(self) -> dict:
        """The program constant POSTGRES for this server."""
        return {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "dbname": self.dbname,
            "password_env": self.password_env,
        }

    def connect(self, **options: object) -> psycopg.Connection:
        return psycopg.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            dbname=self.dbname,
            password=self.password,
            **options,
        )

    def query(self, text: str, params: list | None = None) -> list[tuple]:
        """The rows of one query (autocommit)."""
        with self.connect(autocommit=True) as connection:
            cursor = connection.execute(text, params)
            return cursor.fetchall() if cursor.description else []

    def reset(self) -> None:
        """Drop every schema but the system's, so a test starts from an empty database."""
        rows = self.query(
            "SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%'"
            " AND nspname NOT IN ('information_schema', 'public')"
        )
        with self.connect(autocommit=True) as connection:
            for (schema,) in rows:
                connection.execute(
                    psycopg.sql.SQL("DROP SCHEMA {} CASCADE").format(psycopg.sql.Identifier(schema))
                )
            connection.execute("DROP SCHEMA IF EXISTS public CASCADE")
            connection.execute("CREATE SCHEMA public")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def as_postgres(*command: str, **options) -> subprocess.CompletedProcess:
    """Run `command` as the postgres user (as is when that is who runs the tests)."""
    prefix = [] if os.geteuid() != 0 else ["runuser", "-u", "postgres", "--"]
    return subprocess.run(
        [*prefix, *command], capture_output=True, text=True, check=False, **options
    )


@contextlib.contextmanager
def running_postgres(directory: str) -> Iterator[PostgresServer]:
    """A PostgreSQL server in `directory` (made for the postgres user), stopped by pid."""
    owner = pwd.getpwnam("postgres")
    root = os.path.join(directory, "postgres")
    os.makedirs(root, exist_ok=True)
    os.chmod(directory, 0o755)
    os.chown(root, owner.pw_uid, owner.pw_gid)
    data, sockets = os.path.join(root, "data"), os.path.join(root, "sockets")
    superuser = secrets.token_hex(12)
    password = secrets.token_hex(12)
    secret_file = os.path.join(root, "pwfile")
    with open(secret_file, "w", encoding="ascii") as handle:
        handle.write(superuser + "\n")
    os.chown(secret_file, owner.pw_uid, owner.pw_gid)
    os.chmod(secret_file, 0o600)
    initdb = as_postgres(
        f"{BIN}/initdb",
        "-D",
        data,
        "-U",
        "postgres",
        "--auth-local=peer",
        "--auth-host=scram-sha-256",
        f"--pwfile={secret_file}",
        "-E",
        "UTF8",
        "--locale=C.UTF-8",
    )
    os.remove(secret_file)
    if initdb.returncode:
        raise RuntimeError(f"initdb failed: {initdb.stdout}{initdb.stderr}")
    os.makedirs(sockets)
    os.chown(sockets, owner.pw_uid, owner.pw_gid)
    with open(os.path.join(data, "pg_hba.conf"), "w", encoding="ascii") as handle:
        handle.write("local all postgres peer\nhost all all 127.0.0.1/32 scram-sha-256\n")
    port = free_port()
    log = os.path.join(root, "server.log")
    options = f"-h 127.0.0.1 -p {port} -k {sockets} -c fsync=off"
    started = as_postgres(f"{BIN}/pg_ctl", "-D", data, "-o", options, "-l", log, "-w", "start")
    if started.returncode:
        with contextlib.suppress(OSError), open(log, encoding="utf-8") as handle:
            started.stderr += handle.read()
        raise RuntimeError(f"pg_ctl start failed: {started.stdout}{started.stderr}")
    with open(os.path.join(data, "postmaster.pid"), encoding="ascii") as handle:
        pid = int(handle.readline())
    try:
        admin = psycopg.connect(
            host="127.0.0.1",
            port=port,
            user="postgres",
            password=superuser,
            dbname="postgres",
            autocommit=True,
        )
        with admin:
            sql = psycopg.sql
            admin.execute(
                sql.SQL("CREATE ROLE aorist LOGIN PASSWORD {}").format(sql.Literal(password))
            )
            admin.execute("CREATE DATABASE lake OWNER aorist")
        yield PostgresServer("127.0.0.1", port, "aorist", "lake", password)
    finally:
        stopped = as_postgres(f"{BIN}/pg_ctl", "-D", data, "-m", "fast", "-w", "stop")
        if stopped.returncode:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            time.sleep(0.5)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    with tempfile.TemporaryDirectory(prefix="aorist-pg-") as directory:
        with running_postgres(directory) as server:
            yield server
