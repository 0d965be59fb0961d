"""A private PostgreSQL server for tests and benchmarks: in a temporary directory, on a
free loopback port, its unix socket in that directory, stopped afterwards.

- :func:`start_postgres` runs ``initdb`` and ``postgres`` (Debian's programs, found by
  :func:`programs.find_program`); as root it runs them as the ``postgres`` user, since
  PostgreSQL refuses to run as root;
- the ``postgres_server`` fixture is one server for the whole test run, and
  ``postgres_url`` a fresh database on it for each test (``CREATE DATABASE``).

Test modules import the fixtures: ``from postgres_harness import postgres_server,
postgres_url``.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
from programs import find_program
from server_harness import free_port, kill, spawn, wait_ready

HOST = "127.0.0.1"


@dataclass
class PostgresServer:
    """A running PostgreSQL server of :func:`start_postgres`."""

    directory: Path
    port: int
    process: subprocess.Popen[bytes]
    _names: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def url(self, database: str = "postgres") -> str:
        """The connection URI of ``database`` (over TCP on loopback, user postgres)."""
        return f"postgresql://postgres@{HOST}:{self.port}/{database}"

    def create_database(self, prefix: str = "test") -> str:
        """A new empty database; its URI."""
        name = f"{prefix}_{os.getpid()}_{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """End every connection to database ``name`` and drop it."""
        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        """Stop the server (a fast shutdown) and remove its directory."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        shutil.rmtree(self.directory, ignore_errors=True)


def _as_postgres() -> str | None:
    """The user to run PostgreSQL's programs as: ``postgres`` when root, else None."""
    return "postgres" if os.geteuid() == 0 else None


def start_postgres(*, durable: bool = False, max_connections: int = 400) -> PostgresServer:
    """Start a private server; ``durable=False`` turns ``fsync`` off (tests: nothing to
    keep), ``durable=True`` keeps PostgreSQL's defaults (benchmarks)."""
    initdb = find_program("initdb")
    postgres = find_program("postgres")
    if initdb is None or postgres is None:
        raise RuntimeError("PostgreSQL's initdb and postgres programs are not installed")
    directory = Path(tempfile.mkdtemp(prefix="email-fsm-pg-"))
    user = _as_postgres()
    if user:
        shutil.chown(directory, "postgres", "postgres")
    data = directory / "data"
    subprocess.run(
        [initdb, "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"],
        check=True,
        capture_output=True,
        timeout=120,
        user=user,
        group=user,
    )
    port = free_port()
    options = [
        "-D",
        str(data),
        "-p",
        str(port),
        "-k",
        str(directory),
        "-c",
        f"listen_addresses={HOST}",
        "-c",
        f"max_connections={max_connections}",
    ]
    if not durable:
        options += ["-c", "fsync=off", "-c", "synchronous_commit=off"]
        options += ["-c", "full_page_writes=off"]
    process = subprocess.Popen(
        [postgres, *options],
        stdout=subprocess.DEVNULL,
        stderr=open(directory / "server.log", "wb"),  # noqa: SIM115 - the server's
        user=user,
        group=user,
    )
    server = PostgresServer(directory, port, process)
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            log = (directory / "server.log").read_text(errors="replace")
            shutil.rmtree(directory, ignore_errors=True)
            raise RuntimeError(f"postgres exited with {process.returncode}:\n{log}")
        try:
            with psycopg.connect(server.url(), connect_timeout=2):
                break
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                server.stop()
                raise
            time.sleep(0.1)
    return server


@contextlib.contextmanager
def running_postgres(*, durable: bool = False) -> Iterator[PostgresServer]:
    """:func:`start_postgres`, stopped on leaving."""
    server = start_postgres(durable=durable)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One private PostgreSQL server for the whole run."""
    with running_postgres() as server:
        yield server


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh database on the run's server, for this test alone; afterwards every
    connection left to it is ended and it is dropped (a log closed outside its event
    loop leaves its pool's connections open: the server's connection slots are kept
    for the tests to come)."""
    url = postgres_server.create_database()
    yield url
    postgres_server.drop_database(url.rsplit("/", 1)[1])


@dataclass
class Cluster:
    """Server processes of :func:`serving_cluster`, sharing one database."""

    url: str
    """The database."""
    backends: list[str]
    """Each process's base URL."""
    processes: list[subprocess.Popen[bytes]]


@contextlib.contextmanager
def serving_cluster(
    database: str, arguments: Sequence[str], *, cwd: Path, count: int = 3
) -> Iterator[Cluster]:
    """``count`` ``email-fsm serve --store DATABASE ARGUMENTS...`` processes, each on a
    port of its own (:func:`server_harness.spawn`), killed on leaving."""
    ports = [free_port() for _ in range(count)]
    processes = [spawn(["--store", database, *arguments], cwd=cwd, port=port) for port in ports]
    backends = [f"http://{HOST}:{port}" for port in ports]
    try:
        for backend, process in zip(backends, processes, strict=True):
            wait_ready(backend, process, timeout=60)
        yield Cluster(database, backends, processes)
    finally:
        for process in processes:
            kill(process)
