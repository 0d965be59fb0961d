"""The restart: replaying a log of E emails against deciding the same commands fresh.

Each email's lifecycle is :data:`STEPS` (Arrive, Offer, Accept, AddComment, Complete:
five events). The log is written once, as the server writes it (the rows of
:func:`~email_fsm.server.eventlog.rows_of`, in an SQLite file made by
:class:`~email_fsm.server.SQLiteLog`). Then, per repeat, in an order that alternates:

- *fresh*: a new :class:`~email_fsm.EmailStore` and ``execute`` of every command;
- *replay*: what :meth:`ContactCenterService.start` does, ``SQLiteLog.load()`` (read
  the rows, decode each event's JSON) and :meth:`EmailStore.from_events`.

Both are timed with the CPU time of the thread (SQLite reads in the calling thread) and
the wall clock, with the garbage collector on, as a server runs. The replay's parts are
timed apart too (reading the rows, decoding them, evolving the emails), and one replay
is run under :mod:`cProfile` to say where its time goes.
"""

from __future__ import annotations

import cProfile
import gc
import pstats
import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from email_fsm import Accept, AddComment, Arrive, Complete, Offer
from email_fsm.codec import events_from_jsonl
from email_fsm.commands import Command
from email_fsm.decisions import Accepted
from email_fsm.server import SQLiteLog
from email_fsm.server.eventlog import rows_of
from email_fsm.store import EmailStore

__all__ = ["STEPS", "commands", "measure"]

STEPS = ("Arrive", "Offer", "Accept", "AddComment", "Complete")
_AGENTS = 50

Log = Callable[[str], None]


def commands(emails: int) -> list[Command]:
    """The commands of ``emails`` lifecycles (:data:`STEPS`), one email after the other."""
    out: list[Command] = []
    for number in range(1, emails + 1):
        email_id = f"E{number}"
        agent = f"agent{number % _AGENTS}"
        out += [
            Arrive(
                email_id=email_id,
                queue="q",
                from_="customer@example.com",
                to=("support@example.com",),
                subject="My order",
                body_as_plain_text="Where is my order? It has been two weeks.",
            ),
            Offer(email_id=email_id, agent=agent),
            Accept(actor=agent, email_id=email_id),
            AddComment(actor=agent, email_id=email_id, comment="note 1"),
            Complete(actor=agent, email_id=email_id),
        ]
    return out


def _fresh(todo: list[Command]) -> EmailStore:
    store = EmailStore()
    execute = store.execute
    for command in todo:
        execute(command)
    return store


def _replay(log: SQLiteLog) -> EmailStore:
    return EmailStore.from_events(log.load())


def _write(path: Path, todo: list[Command]) -> int:
    """The log of ``todo`` decided fresh, as the server appends it; returns its events."""
    SQLiteLog(path).close()  # the server's file: its schema, WAL mode
    store = EmailStore()
    rows: list[tuple[str, int, str]] = []
    for command in todo:
        decision = store.execute(command)
        if not isinstance(decision, Accepted):
            raise RuntimeError(f"{command} refused: {decision}")
        rows.extend((row.email_id, row.version, row.event) for row in rows_of(decision))
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("BEGIN")
        connection.executemany(
            "INSERT INTO events (email_id, version, event) VALUES (?, ?, ?)", rows
        )
        connection.execute("COMMIT")
    finally:
        connection.close()
    return len(rows)


def _timed(work: Callable[[], Any]) -> tuple[float, float, Any]:
    """(CPU seconds of the thread, wall seconds, what ``work`` returned)."""
    gc.collect()
    wall, cpu = time.perf_counter(), time.thread_time()
    result = work()
    return time.thread_time() - cpu, time.perf_counter() - wall, result


def _parts(path: Path) -> dict[str, float]:
    """The replay's parts, each timed alone (CPU seconds)."""
    records: list[str] = []

    def fetch() -> str:
        connection = sqlite3.connect(path)
        try:
            rows = connection.execute("SELECT event FROM events ORDER BY position").fetchall()
        finally:
            connection.close()
        records.extend(record for (record,) in rows)
        return "\n".join(records)

    fetch_s, _, text = _timed(fetch)
    decode_s, _, events = _timed(lambda: events_from_jsonl(text))
    evolve_s, _, _ = _timed(lambda: EmailStore.from_events(events))
    return {"fetch_s": fetch_s, "decode_s": decode_s, "evolve_s": evolve_s}


def _profile(log: SQLiteLog, top: int = 10) -> list[dict[str, Any]]:
    """The functions where one replay spends the most time of its own (cProfile)."""
    profiler = cProfile.Profile()
    profiler.runcall(_replay, log)
    stats = pstats.Stats(profiler)
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    total = sum(entry[2] for entry in raw.values()) or 1.0
    rows = sorted(raw.items(), key=lambda item: item[1][2], reverse=True)[:top]
    return [
        {
            "function": f"{Path(file).name}:{line}({name})" if line else name,
            "calls": entry[1],
            "own_s": entry[2],
            "share": entry[2] / total,
        }
        for (file, line, name), entry in rows
    ]


def measure(emails: int, repeats: int, *, log: Log | None = None) -> dict[str, Any]:
    """Replay against fresh, ``repeats`` times, on ``emails`` lifecycles (see above)."""
    todo = commands(emails)
    with tempfile.TemporaryDirectory(prefix="email-fsm-replay-") as where:
        path = Path(where) / "events.sqlite"
        events = _write(path, todo)
        size = path.stat().st_size
        runs: dict[str, list[float]] = {
            "fresh_cpu_s": [],
            "fresh_wall_s": [],
            "replay_cpu_s": [],
            "replay_wall_s": [],
        }
        sqlite_log = SQLiteLog(path)
        try:
            reference: EmailStore | None = None
            for repeat in range(repeats):
                order = ("fresh", "replay") if repeat % 2 == 0 else ("replay", "fresh")
                for side in order:
                    if side == "fresh":
                        cpu, wall, store = _timed(lambda: _fresh(todo))
                    else:
                        cpu, wall, store = _timed(lambda: _replay(sqlite_log))
                    runs[f"{side}_cpu_s"].append(cpu)
                    runs[f"{side}_wall_s"].append(wall)
                    if reference is None:
                        reference = store
                    elif store.emails != reference.emails:
                        raise RuntimeError("the replayed emails differ from the fresh ones")
                    del store
                if log is not None:
                    log(
                        f"replay repeat {repeat + 1}/{repeats}: fresh "
                        f"{runs['fresh_cpu_s'][-1]:.2f} s, replay {runs['replay_cpu_s'][-1]:.2f} s"
                    )
            del reference
            parts = [_parts(path) for _ in range(max(1, min(repeats, 3)))]
            profile = _profile(sqlite_log)
        finally:
            sqlite_log.close()
    return {
        "emails": emails,
        "events": events,
        "steps": list(STEPS),
        "file_bytes": size,
        "repeats": repeats,
        "clock": "CPU time of the thread (time.thread_time); wall clock too; gc on",
        **runs,
        "parts": {key: [p[key] for p in parts] for key in parts[0]},
        "profile": profile,
    }
