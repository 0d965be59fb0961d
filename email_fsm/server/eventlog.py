"""Where the server's events live: an append-only log, read back in full on start.

The log is the truth (``docs/server.md``, "Durability"). A decision's events are
appended, as one unit, before anyone hears of the decision; on start the server replays
the log into its :class:`~email_fsm.EmailStore`.

Each row is one event with the version its email has after it. ``(email_id, version)``
is unique: two decisions made on the same version of an email cannot both be appended.
That is the compare-and-set of optimistic concurrency; the loser is told
(:data:`CONFLICT`) and decides again on the fresh email.

:class:`SQLiteLog` writes with a thread of its own and **commits in groups**: every
append that arrives while a commit is on disk goes into the next transaction, each under
a savepoint of its own (so one conflicting append fails alone), and the whole group
costs one ``fsync``. ``synchronous="full"`` (the default) survives a power loss;
``"normal"`` survives a crash of the process, and may lose the last commits on a power
loss (SQLite's ``PRAGMA synchronous``), for about twice the throughput.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sqlite3
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal, Protocol, TextIO, runtime_checkable

from ..codec import event_to_json, events_from_jsonl
from ..decisions import Accepted
from ..events import Event

__all__ = [
    "CONFLICT",
    "EventLog",
    "LogClosedError",
    "LogInUseError",
    "MemoryLog",
    "Row",
    "SQLiteLog",
    "SharedLog",
    "open_log",
    "rows_of",
]

Synchronous = Literal["full", "normal"]


@dataclass(frozen=True, slots=True)
class Row:
    """One event of the log: its email, the email's version after it, its JSON record."""

    email_id: str
    version: int
    event: str


CONFLICT: Final = False
"""What :meth:`EventLog.append` returns when a row's ``(email_id, version)`` is taken."""


class LogClosedError(RuntimeError):
    """The log was closed, or its writer failed: nothing more can be appended."""


class LogInUseError(RuntimeError):
    """Another process serves from this log file (:meth:`SQLiteLog.acquire`)."""


def rows_of(decision: Accepted) -> list[Row]:
    """The rows of an accepted decision's events, each with its email's version after it.

    Each event adds one to its email's version, and ``decision.emails`` holds each email
    as the events leave it: counting back from there gives each row's version.
    """
    current = {email.id: email.version for email in decision.emails}
    for event in decision.events:
        current[event.email_id] -= 1
    rows: list[Row] = []
    for event in decision.events:
        email_id = event.email_id
        version = current.get(email_id, 0) + 1
        current[email_id] = version
        rows.append(Row(email_id, version, event_to_json(event)))
    return rows


class EventLog(Protocol):
    """An append-only log of events (see the module's documentation)."""

    durable: bool
    """Whether the events outlive the process."""

    def load(self) -> list[Event]:
        """Every event appended so far, in order."""
        ...

    async def append(self, rows: Sequence[Row]) -> bool:
        """Append ``rows`` as one unit: True once they are stored (durably, for a durable
        log), :data:`CONFLICT` (False) if one of them has a taken ``(email_id, version)``,
        and then nothing is stored. Raises :class:`LogClosedError` once closed."""
        ...

    def close(self) -> None:
        """Finish the appends under way and close; further appends raise."""
        ...


@runtime_checkable
class SharedLog(EventLog, Protocol):
    """A log several server processes serve from at once
    (:class:`~email_fsm.server.postgres.PostgresLog`): each catches up with what the
    others stored before it decides, and the notifications, the contact-center sessions
    and the ``referenceId`` numbering are stored with it, for every process."""

    shared: bool
    is_router: bool
    """Whether this process holds the router's role now."""
    process_slot: int
    """A number that tells this process from the others sharing the log."""
    sessions_changed: bool
    """Whether a contact-center session may have changed since they were last read."""

    async def catch_up(self) -> Sequence[Row]:
        """The rows stored since the last call (by any process), each email's in order."""
        ...

    async def rows_since(self, email_id: str, version: int) -> Sequence[Row]:
        """The stored rows of ``email_id`` after ``version``, in order."""
        ...

    async def append_delivering(
        self, rows: Sequence[Row], outgoing: Sequence[tuple[str, str, str]]
    ) -> bool:
        """:meth:`EventLog.append`, storing the ``(agent, channel, JSON)`` notifications
        in the same transaction."""
        ...

    async def next_reference(self) -> int:
        """The next ``referenceId``, numbered across the processes."""
        ...

    async def save_session(self, agent: str, channels: Sequence[str] | None) -> None:
        """Store a contact-center session's channels (None: the session ended)."""
        ...

    async def sessions(self) -> dict[str, frozenset[str]]:
        """Every agent's contact-center session."""
        ...

    def start_background(
        self, *, wake: Callable[[], None], router: Callable[[bool], None] | None
    ) -> None:
        """Call ``wake`` when another process changed something; compete for the
        router's role, calling ``router`` when this process takes or loses it."""
        ...

    async def aclose(self) -> None:
        """Close, waiting for the connections to end."""
        ...


class MemoryLog:
    """No log at all: the server's state lives and dies with the process.

    It still checks versions, as a durable log does, so that the server behaves the same
    on either.
    """

    durable = False

    def __init__(self) -> None:
        self._versions: dict[str, int] = {}
        self._closed = False

    def load(self) -> list[Event]:
        return []

    async def append(self, rows: Sequence[Row]) -> bool:
        if self._closed:
            raise LogClosedError("the log is closed")
        return _check_and_take(self._versions, rows)

    def close(self) -> None:
        self._closed = True


def _check_and_take(versions: dict[str, int], rows: Sequence[Row]) -> bool:
    seen: dict[str, int] = {}
    for row in rows:
        previous = seen.get(row.email_id, versions.get(row.email_id, 0))
        if row.version != previous + 1:
            return CONFLICT
        seen[row.email_id] = row.version
    versions.update(seen)
    return True


_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    position INTEGER PRIMARY KEY,
    email_id TEXT NOT NULL,
    version  INTEGER NOT NULL,
    event    TEXT NOT NULL,
    UNIQUE (email_id, version)
)
"""

_Pending = tuple[Sequence[Row], asyncio.AbstractEventLoop, "asyncio.Future[bool]"]


class SQLiteLog:
    """The events in an SQLite file, in WAL mode, committed in groups by a writer thread.

    >>> import asyncio, tempfile, pathlib
    >>> from email_fsm import Arrive, decide
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "events.sqlite"
    >>> log = SQLiteLog(path)
    >>> decision = decide({}, Arrive(email_id="E1", queue="q"))
    >>> asyncio.run(log.append(rows_of(decision)))
    True
    >>> asyncio.run(log.append(rows_of(decision)))  # version 1 of E1 is taken
    False
    >>> log.close()
    >>> [type(event).__name__ for event in SQLiteLog(path).load()]
    ['EmailArrived']
    """

    durable = True

    def __init__(self, path: str | Path, *, synchronous: Synchronous = "full") -> None:
        if synchronous not in ("full", "normal"):
            raise ValueError(f"synchronous must be 'full' or 'normal', not {synchronous!r}")
        self.path = Path(path)
        self.synchronous: Synchronous = synchronous
        self._connection = self._connect(check_same_thread=False)
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._closed = False
        self._failure: BaseException | None = None
        self._lock = threading.Lock()
        self._writer = threading.Thread(target=self._write, name="email-fsm-log", daemon=True)
        self._writer.start()
        self._lockfile: TextIO | None = None

    def acquire(self) -> None:
        """Take the file for this process alone, until :meth:`close`: a second server on
        the same file would decide on emails the first one changes behind its back.

        Raises :class:`LogInUseError` when another process holds it (an advisory lock on
        ``PATH.lock``, released by the system when the holder dies, ``kill -9``
        included; where the system has no ``fcntl``, nothing is locked).
        """
        if self._lockfile is not None:
            return
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not on POSIX
            return
        lockfile = open(f"{self.path}.lock", "w")  # noqa: SIM115 - held until close()
        try:
            fcntl.flock(lockfile, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lockfile.close()
            raise LogInUseError(
                f"{self.path} is in use by another email-fsm server; one process per file"
            ) from None
        self._lockfile = lockfile

    def _connect(self, *, check_same_thread: bool) -> sqlite3.Connection:
        connection = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=check_same_thread, timeout=30
        )
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute(f"PRAGMA synchronous={self.synchronous.upper()}")
        connection.execute(_SCHEMA)
        return connection

    def load(self) -> list[Event]:
        connection = self._connect(check_same_thread=True)
        try:
            records = connection.execute("SELECT event FROM events ORDER BY position").fetchall()
        finally:
            connection.close()
        return events_from_jsonl("\n".join(record for (record,) in records))

    def count(self) -> int:
        """How many events the file holds."""
        connection = self._connect(check_same_thread=True)
        try:
            (number,) = connection.execute("SELECT count(*) FROM events").fetchone()
        finally:
            connection.close()
        return int(number)

    async def append(self, rows: Sequence[Row]) -> bool:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bool] = loop.create_future()
        with self._lock:
            if self._closed or self._failure is not None:
                raise LogClosedError(f"the log {self.path} is closed") from self._failure
            self._queue.put((rows, loop, future))
        return await future

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._queue.put(None)
        self._writer.join()
        self._connection.close()
        if self._lockfile is not None:
            self._lockfile.close()
            self._lockfile = None

    def _write(self) -> None:
        connection = self._connection
        stop = False
        while not stop:
            first = self._queue.get()
            if first is None:
                return
            group = [first]
            while True:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                    break
                group.append(more)
            try:
                results = self._commit(connection, group)
            except BaseException as error:  # a full disk, a broken file: stop writing
                with self._lock:  # an append either sees the failure or is drained below
                    self._failure = error
                for _, loop, future in group:
                    _call(loop, _fail, future, error)
                self._fail_pending(error)
                return
            for (_, loop, future), result in zip(group, results, strict=True):
                _call(loop, _resolve, future, result)

    @staticmethod
    def _commit(connection: sqlite3.Connection, group: list[_Pending]) -> list[bool]:
        results: list[bool] = []
        connection.execute("BEGIN IMMEDIATE")
        try:
            for rows, _, _ in group:
                connection.execute("SAVEPOINT one")
                try:
                    connection.executemany(
                        "INSERT INTO events (email_id, version, event) VALUES (?, ?, ?)",
                        [(row.email_id, row.version, row.event) for row in rows],
                    )
                except sqlite3.IntegrityError:
                    connection.execute("ROLLBACK TO one")
                    results.append(CONFLICT)
                else:
                    results.append(True)
                connection.execute("RELEASE one")
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
        return results

    def _fail_pending(self, error: BaseException) -> None:
        while True:
            try:
                pending = self._queue.get_nowait()
            except queue.Empty:
                return
            if pending is not None:
                _, loop, future = pending
                _call(loop, _fail, future, error)


def _call(
    loop: asyncio.AbstractEventLoop,
    callback: Callable[[asyncio.Future[bool], Any], None],
    future: asyncio.Future[bool],
    value: Any,
) -> None:
    """Run ``callback(future, value)`` in the future's loop. A loop already closed has
    nobody waiting (its append was abandoned): the writer goes on."""
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(callback, future, value)


def _resolve(future: asyncio.Future[bool], result: bool) -> None:
    if not future.done():
        future.set_result(result)


def _fail(future: asyncio.Future[bool], error: BaseException) -> None:
    if not future.done():
        future.set_exception(LogClosedError(f"the log failed: {error}"))


def open_log(spec: str, *, synchronous: Synchronous = "full") -> EventLog:
    """The log a ``--store`` value names: ``memory``, ``sqlite:///PATH`` (as SQLAlchemy
    writes it: ``sqlite:///events.sqlite`` is ``events.sqlite`` in the working directory,
    ``sqlite:////var/lib/events.sqlite`` an absolute path), a bare path, or
    ``postgresql://…`` (:class:`~email_fsm.server.postgres.PostgresLog`, the
    ``postgres`` extra: several processes may share it).

    >>> type(open_log("memory")).__name__
    'MemoryLog'
    >>> open_log("mysql://db")
    Traceback (most recent call last):
    ...
    ValueError: unknown store 'mysql://db': give memory, sqlite:///PATH, postgresql://... or a path
    """
    if spec == "memory":
        return MemoryLog()
    if spec.startswith(("postgresql://", "postgres://")):
        from .postgres import PostgresLog

        return PostgresLog(spec)
    if spec.startswith("sqlite:///"):
        return SQLiteLog(spec.removeprefix("sqlite:///"), synchronous=synchronous)
    if "://" in spec or not spec:
        raise ValueError(
            f"unknown store {spec!r}: give memory, sqlite:///PATH, postgresql://... or a path"
        )
    return SQLiteLog(spec, synchronous=synchronous)
