"""The server's event logs, driven directly: what is stored, what is refused, group
commit, a failing writer, and the ``--store`` values.

The tests taking ``open_store`` are the store suite: each runs on SQLite and on
PostgreSQL (a private server, ``tests/postgres_harness.py``), one suite, two stores."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar

import pytest
from postgres_harness import postgres_server, postgres_url  # noqa: F401 - fixtures

from email_fsm import Accept, AddComment, Arrive, Email, Offer, decide
from email_fsm.codec import event_to_json
from email_fsm.decisions import Accepted
from email_fsm.server import ContactCenterService, RoutingSettings
from email_fsm.server.eventlog import (
    CONFLICT,
    EventLog,
    LogClosedError,
    MemoryLog,
    Row,
    SQLiteLog,
    open_log,
    rows_of,
)
from email_fsm.store import EmailStore

T = TypeVar("T")

OpenStore = Callable[[], EventLog]
"""Opens a durable log on the test's store (each call: a new log on the same store)."""


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.needs("postgres"))])
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> OpenStore:
    """The store suite's store: an SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        path = tmp_path / "events.sqlite"
        return lambda: SQLiteLog(path)
    from email_fsm.server.postgres import PostgresLog

    url = request.getfixturevalue("postgres_url")

    def open_postgres() -> EventLog:
        log = PostgresLog(url)
        log.load()  # makes the tables
        return log

    return open_postgres


async def _closing(log: EventLog, work: Awaitable[T]) -> T:
    """``work``'s result, the log closed in the same loop afterwards (a PostgreSQL log's
    connection pool lives in the loop that opened it: left to asyncio.run's teardown, its
    tasks are cancelled mid-query)."""
    try:
        return await work
    finally:
        aclose = getattr(log, "aclose", None)
        if aclose is not None:
            await aclose()
        else:
            log.close()


def _count(log: EventLog) -> int:
    count = getattr(log, "count")  # noqa: B009 - SQLiteLog and PostgresLog have it
    return int(count())


def _lifecycle() -> tuple[list[Accepted], dict[str, Email]]:
    """Arrive, Offer, Accept and two comments on E1, decided one after the other."""
    store = EmailStore()
    decisions = []
    for command in (
        Arrive(email_id="E1", queue="q", subject="Hi"),
        Offer(email_id="E1", agent="a"),
        Accept(actor="a", email_id="E1"),
        AddComment(actor="a", email_id="E1", comment="first"),
        AddComment(actor="a", email_id="E1", comment="second"),
    ):
        decisions.append(store.execute(command).unwrap())
    return decisions, dict(store.emails)


def _arrival(email_id: str) -> list[Row]:
    return rows_of(decide({}, Arrive(email_id=email_id, queue="q")).unwrap())


def test_rows_of_numbers_each_event_with_its_emails_version() -> None:
    """rows_of gives each event the version its email has after it, and its JSON record."""
    decisions, _ = _lifecycle()
    versions = [row.version for decision in decisions for row in rows_of(decision)]
    assert versions == [1, 2, 3, 4, 5]
    last = decisions[-1]
    assert rows_of(last) == [Row("E1", 5, event_to_json(last.events[0]))]


@pytest.mark.parametrize("synchronous", ["full", "normal"])
def test_sqlite_round_trip_of_real_decisions(
    tmp_path: Path, synchronous: Literal["full", "normal"]
) -> None:
    """Appended decisions load back, in order, as the events that rebuild the same emails;
    a second log on the same file sees them too."""
    decisions, emails = _lifecycle()
    log = SQLiteLog(tmp_path / "events.sqlite", synchronous=synchronous)

    async def main() -> list[bool]:
        return [await log.append(rows_of(decision)) for decision in decisions]

    assert asyncio.run(main()) == [True] * len(decisions)
    events = log.load()
    log.close()
    assert events == [event for decision in decisions for event in decision.events]
    reopened = SQLiteLog(tmp_path / "events.sqlite")
    try:
        assert reopened.count() == 5
        assert dict(EmailStore.from_events(reopened.load()).emails) == emails
    finally:
        reopened.close()


def _logs(tmp_path: Path) -> list[EventLog]:
    return [MemoryLog(), SQLiteLog(tmp_path / "events.sqlite")]


def test_a_durable_store_round_trips_real_decisions(open_store: OpenStore) -> None:
    """Appended decisions load back, in order, as the events that rebuild the same
    emails; a second log on the same store sees them too."""
    decisions, emails = _lifecycle()
    log = open_store()

    async def main() -> list[bool]:
        return [await log.append(rows_of(decision)) for decision in decisions]

    assert asyncio.run(_closing(log, main())) == [True] * len(decisions)
    reopened = open_store()
    try:
        assert _count(reopened) == 5
        events = reopened.load()
        assert events == [event for decision in decisions for event in decision.events]
        assert dict(EmailStore.from_events(events).emails) == emails
    finally:
        reopened.close()


def test_a_durable_store_refuses_a_taken_version_and_stores_none_of_it(
    open_store: OpenStore,
) -> None:
    """An append with a taken (email_id, version) is refused and none of its rows is
    stored, even those that were free; the next free version is still accepted."""
    log = open_store()
    assert asyncio.run(_closing(log, _taken_versions(log))) == [
        True,
        CONFLICT,
        CONFLICT,
        True,
        True,
    ]
    reopened = open_store()
    assert _count(reopened) == 3
    assert [e.email_id for e in reopened.load()] == ["E1", "E2", "E1"]
    reopened.close()


def test_a_durable_store_stores_one_of_twenty_decisions_on_one_version(
    open_store: OpenStore,
) -> None:
    """Twenty decisions on the same version of one email at once, and forty arrivals of
    distinct emails among them: exactly the first of the twenty is stored, the others
    are conflicts, and every arrival is stored."""
    decisions, _ = _lifecycle()
    log = open_store()
    store = EmailStore()
    for decision in decisions[:3]:
        store.commit(decision)
    racing = [
        decide(store.emails, AddComment(actor="a", email_id="E1", comment=f"c{n}")).unwrap()
        for n in range(20)
    ]

    async def main() -> tuple[list[bool], list[bool]]:
        for decision in decisions[:3]:
            assert await log.append(rows_of(decision))
        comments = [log.append(rows_of(d)) for d in racing]
        arrivals = [log.append(_arrival(f"F{n}")) for n in range(40)]
        results = await asyncio.gather(*comments, *arrivals)
        return list(results[:20]), list(results[20:])

    comments, arrivals = asyncio.run(_closing(log, main()))
    assert comments.count(True) == 1
    assert comments.count(CONFLICT) == 19
    assert arrivals == [True] * 40
    reopened = open_store()
    events = reopened.load()
    reopened.close()
    assert len(events) == 44
    winner = racing[comments.index(True)]
    assert EmailStore.from_events(events).emails["E1"].comment == winner.emails[0].comment


def test_a_closed_durable_store_raises(open_store: OpenStore) -> None:
    """After close, append raises LogClosedError; closing twice is fine."""
    log = open_store()
    log.close()
    log.close()
    with pytest.raises(LogClosedError):
        asyncio.run(log.append(_arrival("E1")))


def test_a_request_whose_events_cannot_be_stored_is_refused(open_store: OpenStore) -> None:
    """A body holding a lone surrogate that the model accepts cannot be written to the
    store: the service refuses it with 10 (it raised, an HTTP 500), as it refuses such a
    system event, stores nothing, and stores the next request."""
    log = open_store()
    service = ContactCenterService(log=log, routing=RoutingSettings(enabled=False))

    async def main() -> list[dict[str, Any]]:
        service.start()
        for command in (
            Arrive(email_id="E1", queue="q"),
            Offer(email_id="E1", agent="a"),
            Accept(actor="a", email_id="E1"),
        ):
            assert (await service.system(command)).accepted
        surrogate = await service.system(Arrive(email_id="E2", queue="q", subject="\udc00"))
        assert not surrogate.accepted
        answers = [
            await service.agent_request(
                "a", b'{"operationName": "AddComment", "comment": "\\ud800"}', "E1"
            ),
            await service.agent_request(
                "a", {"operationName": "AddComment", "comment": "ok"}, "E1"
            ),
        ]
        await service.stop()
        return answers

    refused, stored = asyncio.run(main())
    assert refused["statusCode"] == 10, refused
    assert stored["statusCode"] == 0, stored
    reopened = open_store()
    events = reopened.load()
    reopened.close()
    assert [type(e).__name__ for e in events][-1] == "CommentAdded"
    assert len(events) == 4
    assert EmailStore.from_events(events).emails["E1"].comment == "ok"


async def _taken_versions(log: EventLog) -> list[bool]:
    arrival = _arrival("E1")
    free_e2 = _arrival("E2")[0]
    return [
        await log.append(arrival),
        await log.append(arrival),  # version 1 of E1 again
        await log.append([free_e2, arrival[0]]),  # E2 free, E1 v1 taken
        await log.append([free_e2]),  # so E2 v1 is still free
        await log.append([Row("E1", 2, arrival[0].event)]),
    ]


def test_a_taken_version_is_refused_and_nothing_of_it_is_stored(tmp_path: Path) -> None:
    """Both logs refuse an append with a taken (email_id, version) and store none of its
    rows, even those that were free; the next free version is still accepted."""
    for log in _logs(tmp_path):
        assert asyncio.run(_taken_versions(log)) == [True, CONFLICT, CONFLICT, True, True]
        if isinstance(log, SQLiteLog):
            assert log.count() == 3
            assert [e.email_id for e in log.load()] == ["E1", "E2", "E1"]
        log.close()


def test_group_commit_fails_each_conflicting_append_alone(tmp_path: Path) -> None:
    """Many appends at once, every third one on a version already taken: each of those
    fails alone and every other is stored, in the order they were made, in fewer
    transactions than appends (a group commit took several at once)."""
    log = SQLiteLog(tmp_path / "events.sqlite")
    commits = 0
    original = SQLiteLog._commit

    def counting(connection: sqlite3.Connection, group: list[object]) -> list[bool]:
        nonlocal commits
        commits += 1
        return original(connection, group)  # type: ignore[arg-type]

    log._commit = counting  # type: ignore[method-assign,assignment]
    batches: list[Sequence[Row]] = []
    expected: list[bool] = []
    for number in range(1, 121):
        if number % 3 == 0:
            batches.append(_arrival(f"E{number - 1}"))  # taken by the one before it
            expected.append(CONFLICT)
        else:
            batches.append(_arrival(f"E{number}"))
            expected.append(True)

    async def main() -> list[bool]:
        return list(await asyncio.gather(*(log.append(batch) for batch in batches)))

    try:
        assert asyncio.run(main()) == expected
        stored = [e.email_id for e in log.load()]
        assert stored == [f"E{n}" for n in range(1, 121) if n % 3 != 0]
        assert commits < len(batches)
    finally:
        log.close()


def test_group_commit_of_conflicting_versions_of_one_email(tmp_path: Path) -> None:
    """Twenty decisions on the same version of one email at once: exactly the first is
    stored, the nineteen others are conflicts."""
    decisions, _ = _lifecycle()
    log = SQLiteLog(tmp_path / "events.sqlite", synchronous="normal")
    store = EmailStore()
    for decision in decisions[:3]:
        store.commit(decision)
    racing = [
        decide(store.emails, AddComment(actor="a", email_id="E1", comment=f"c{n}")).unwrap()
        for n in range(20)
    ]

    async def main() -> list[bool]:
        for decision in decisions[:3]:
            assert await log.append(rows_of(decision))
        return list(await asyncio.gather(*(log.append(rows_of(d)) for d in racing)))

    try:
        assert asyncio.run(main()) == [True] + [CONFLICT] * 19
        events = log.load()
        assert len(events) == 4
        assert EmailStore.from_events(events).emails["E1"].comment == "c0"
    finally:
        log.close()


def test_a_closed_log_raises(tmp_path: Path) -> None:
    """After close, append raises LogClosedError on both logs; closing twice is fine."""
    for log in _logs(tmp_path):
        log.close()
        log.close()
        with pytest.raises(LogClosedError):
            asyncio.run(log.append(_arrival("E1")))


def test_close_finishes_the_appends_under_way(tmp_path: Path) -> None:
    """close() while appends wait for the writer stores them and answers every one."""
    log = SQLiteLog(tmp_path / "events.sqlite")

    async def main() -> list[bool]:
        pending = [asyncio.ensure_future(log.append(_arrival(f"E{n}"))) for n in range(30)]
        await asyncio.sleep(0)  # every append has queued its rows
        log.close()
        return list(await asyncio.wait_for(asyncio.gather(*pending), 10))

    assert asyncio.run(main()) == [True] * 30
    assert SQLiteLog(tmp_path / "events.sqlite").count() == 30


def test_a_dropped_table_fails_the_pending_appends(tmp_path: Path) -> None:
    """The table dropped behind the writer's back: the appends waiting fail with
    LogClosedError (none hangs), and every later append raises it at once."""
    path = tmp_path / "events.sqlite"
    log = SQLiteLog(path)
    assert asyncio.run(log.append(_arrival("E0")))
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("DROP TABLE events")
    other.close()

    async def main() -> list[object]:
        appends = (log.append(_arrival(f"E{n}")) for n in range(1, 20))
        return list(await asyncio.wait_for(asyncio.gather(*appends, return_exceptions=True), 10))

    results = asyncio.run(main())
    assert results, "no append was made"
    assert all(isinstance(result, LogClosedError) for result in results), results
    with pytest.raises(LogClosedError):
        asyncio.run(log.append(_arrival("E99")))
    log.close()


def test_a_read_only_database_fails_the_pending_appends(tmp_path: Path) -> None:
    """A database the writer may no longer write (set read-only with PRAGMA query_only
    on its connection, as a file remounted read-only would be): pending appends fail
    with LogClosedError within seconds."""
    log = SQLiteLog(tmp_path / "events.sqlite")
    log._connection.execute("PRAGMA query_only=ON")

    async def main() -> list[object]:
        appends = (log.append(_arrival(f"E{n}")) for n in range(10))
        return list(await asyncio.wait_for(asyncio.gather(*appends, return_exceptions=True), 10))

    results = asyncio.run(main())
    assert all(isinstance(result, LogClosedError) for result in results), results
    log.close()
    assert SQLiteLog(tmp_path / "events.sqlite").count() == 0


def test_open_log_reads_the_store_values(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """memory, sqlite:///relative (the working directory), sqlite:////absolute, a bare
    path; an unknown scheme or an empty value is a ValueError, as is a bad synchronous."""
    monkeypatch.chdir(tmp_path)
    assert isinstance(open_log("memory"), MemoryLog)
    relative = open_log("sqlite:///rel.sqlite", synchronous="normal")
    absolute = open_log(f"sqlite:///{tmp_path / 'abs.sqlite'}")
    bare = open_log("bare.sqlite")
    try:
        assert isinstance(relative, SQLiteLog)
        assert isinstance(absolute, SQLiteLog)
        assert isinstance(bare, SQLiteLog)
        assert relative.path == Path("rel.sqlite")
        assert relative.synchronous == "normal"
        assert absolute.path == tmp_path / "abs.sqlite"
        assert absolute.path.is_absolute()
        assert absolute.synchronous == "full"
        assert bare.path == Path("bare.sqlite")
        assert {p.name for p in tmp_path.glob("*.sqlite")} == {
            "rel.sqlite",
            "abs.sqlite",
            "bare.sqlite",
        }
    finally:
        for log in (relative, absolute, bare):
            log.close()
    for bad in ("", "mysql://db", "sqlite://rel.sqlite", "mysql:///x"):
        with pytest.raises(ValueError, match="unknown store"):
            open_log(bad)
    with pytest.raises(ValueError, match="synchronous"):
        SQLiteLog(tmp_path / "x.sqlite", synchronous="off")  # type: ignore[arg-type]


def test_an_append_abandoned_with_its_loop_does_not_stop_the_writer(tmp_path: Path) -> None:
    """An append whose event loop ended before the writer answered it (cancelled by
    asyncio.run's teardown while another connection held the write lock) is still
    stored, and the log goes on serving appends from a later loop."""
    path = tmp_path / "events.sqlite"
    log = SQLiteLog(path)
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # the writer waits for this lock

    async def abandon() -> None:
        task = asyncio.ensure_future(log.append(_arrival("E1")))
        await asyncio.sleep(0)  # the append has queued its rows; the loop then ends
        assert not task.done()

    asyncio.run(abandon())
    blocker.execute("COMMIT")
    blocker.close()

    async def later() -> bool:
        return await asyncio.wait_for(log.append(_arrival("E2")), 10)

    try:
        assert asyncio.run(later()) is True
        assert [e.email_id for e in log.load()] == ["E1", "E2"]
    finally:
        log.close()


@pytest.mark.parametrize(("synchronous", "level"), [("full", 2), ("normal", 1)])
def test_the_writer_connection_is_in_wal_mode_with_the_synchronous_asked(
    tmp_path: Path, synchronous: Literal["full", "normal"], level: int
) -> None:
    """The writer's connection runs in WAL mode with PRAGMA synchronous FULL (2) by
    default, NORMAL (1) when asked: what the durability claims rest on."""
    log = SQLiteLog(tmp_path / "events.sqlite", synchronous=synchronous)
    try:
        assert log._connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert log._connection.execute("PRAGMA synchronous").fetchone() == (level,)
    finally:
        log.close()
    default = SQLiteLog(tmp_path / "default.sqlite")
    try:
        assert default._connection.execute("PRAGMA synchronous").fetchone() == (2,)
    finally:
        default.close()
