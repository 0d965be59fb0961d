"""``python -m benchmarks.server.postgres``: the server on PostgreSQL with one and two
processes, beside SQLite with one, in one run (about two and a half minutes).

A private PostgreSQL server (``tests/postgres_harness.py``: Debian's programs in a
temporary directory, with PostgreSQL's durable defaults: ``fsync`` and
``synchronous_commit`` on) holds one database per contender:

- ``sqlite_full``: one ``email-fsm serve --store sqlite:///...`` (synchronous full), as
  in the main run;
- ``postgres_1``: one ``email-fsm serve --store postgresql://...``;
- ``postgres_2``: two such processes on one database; agent *i* logs in and works
  through process *i* mod 2 (the router is one of them, so half of the offers and the
  connects of half of the agents cross processes through PostgreSQL).

The load is the main run's (``driver.py``: closed-loop agents, Accept, three AddComment,
Complete; the contenders interleaved within each repeat, each repeat starting with the
next). Per window: accepted operations per second, HTTP and notification latency, the
CPU of the server processes per operation, and the CPU of PostgreSQL's processes (the
postmaster and its children) per operation. It writes ``results-postgres.json`` and
``RESULTS-postgres.md`` (the ratios are paired within a repeat: median, min to max).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .driver import CAPACITY, Fleet
from .processes import CONTENDERS, Contender, Process, cpu_seconds, start
from .suite import machine
from .wire import Client

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from postgres_harness import PostgresServer, running_postgres  # noqa: E402

KEYS = ("sqlite_full", "postgres_1", "postgres_2")
POSTGRES = Contender("postgres", "server, PostgreSQL", "postgres")


@dataclass
class Group:
    """A contender of one or more server processes: ``url`` and ``pid`` are the first's
    (what :class:`~.driver.Fleet` reads), ``urls`` and ``pids`` every one's."""

    contender: Contender
    members: list[Process]
    urls: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.urls = [member.url for member in self.members]

    @property
    def url(self) -> str:
        return self.urls[0]

    @property
    def pid(self) -> int:
        return self.members[0].pid

    @property
    def pids(self) -> tuple[int, ...]:
        return tuple(member.pid for member in self.members)

    def stop(self) -> None:
        for member in self.members:
            member.stop()


class SpreadFleet(Fleet):
    """A fleet whose agent *i* talks to process *i* mod N of its group."""

    def __init__(self, group: Group, agents: int) -> None:
        super().__init__(group, agents)  # type: ignore[arg-type]
        self._turn = 0

    def _client(self) -> Client:
        urls = getattr(self.process, "urls", [self.process.url])
        url = urls[self._turn % len(urls)]
        self._turn += 1
        return Client(url)


def _postgres_cpu(server: PostgresServer) -> float:
    """The CPU time of the postmaster and its children (its backends), so far."""
    root = server.process.pid
    total = cpu_seconds(root)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2 :].split()
        if int(fields[1]) == root:
            try:
                total += cpu_seconds(int(entry.name))
            except (OSError, ValueError):
                continue
    return total


async def _measure(
    server: PostgresServer, counts: Sequence[int], repeats: int, window_s: float, warmup_s: float
) -> dict[str, Any]:
    results: dict[str, Any] = {key: {} for key in KEYS}
    for agents in counts:
        workdir = Path(tempfile.mkdtemp(prefix="email-fsm-bench-pg-"))
        groups: dict[str, Group] = {}
        fleets: dict[str, SpreadFleet] = {}
        try:
            groups["sqlite_full"] = Group(
                CONTENDERS["sqlite_full"],
                [start(CONTENDERS["sqlite_full"], workdir / "sqlite", capacity=CAPACITY)],
            )
            one = server.create_database("bench")
            groups["postgres_1"] = Group(
                POSTGRES, [start(POSTGRES, workdir / "pg1", capacity=CAPACITY, database=one)]
            )
            two = server.create_database("bench")
            groups["postgres_2"] = Group(
                POSTGRES,
                [
                    start(POSTGRES, workdir / f"pg2-{n}", capacity=CAPACITY, database=two)
                    for n in range(2)
                ],
            )
            await asyncio.sleep(2)  # the router's election settles
            for key in KEYS:
                fleet = SpreadFleet(groups[key], agents)
                await fleet.connect()
                fleets[key] = fleet
                results[key][str(agents)] = {"repeats": []}
            for repeat in range(repeats):
                order = list(KEYS[repeat % len(KEYS) :] + KEYS[: repeat % len(KEYS)])
                line = []
                for key in order:
                    before = _postgres_cpu(server)
                    window = await fleets[key].window(window_s, warmup_s)
                    summary = window.summary()
                    summary["postgres_cpu_s"] = _postgres_cpu(server) - before
                    operations = max(summary["operations"], 1)
                    summary["postgres_cpu_per_op_us"] = summary["postgres_cpu_s"] / operations * 1e6
                    results[key][str(agents)]["repeats"].append(summary)
                    line.append(
                        f"{key} {summary['ops_per_s']:,.0f} ops/s "
                        f"notif p99 {summary['notification_p99_ms']:.1f} ms"
                    )
                _log(f"{agents} agents, repeat {repeat + 1}/{repeats}: " + "; ".join(line))
        finally:
            for fleet in fleets.values():
                await fleet.close()
            for group in groups.values():
                group.stop()
            shutil.rmtree(workdir, ignore_errors=True)
    return results


def run(
    counts: Sequence[int] = (10, 50), repeats: int = 3, window_s: float = 3.0, warmup_s: float = 1.0
) -> dict[str, Any]:
    """The whole run: the machine, the settings, and per contender and agent count one
    window per repeat."""
    started = time.monotonic()
    meta: dict[str, Any] = {
        **machine(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load_start": os.getloadavg()[0],
        "settings": {
            "agents": list(counts),
            "repeats": repeats,
            "window_s": window_s,
            "warmup_s": warmup_s,
            "capacity": CAPACITY,
        },
    }
    with running_postgres(durable=True) as server:
        version = server.url()
        load = asyncio.run(_measure(server, counts, repeats, window_s, warmup_s))
        import psycopg

        with psycopg.connect(version) as connection:
            row = connection.execute("SHOW server_version").fetchone()
            meta["postgres"] = row[0] if row else "?"
    meta["load_end"] = os.getloadavg()[0]
    meta["duration_s"] = round(time.monotonic() - started)
    return {"meta": meta, "load": load}


def _median_range(values: Sequence[float]) -> str:
    return f"{statistics.median(values):,.2f} ({min(values):,.2f} to {max(values):,.2f})"


def markdown(results: dict[str, Any]) -> str:
    """The tables of a run."""
    meta = results["meta"]
    lines = [
        "# Server benchmark on PostgreSQL",
        "",
        "Written by `python -m benchmarks.server.postgres` (`benchmarks/server/postgres.py`"
        " describes the contenders and the load).",
        "",
        f"- {meta['date']}; {meta['cpu']}, {meta['cores']} cores; {meta['python']}; "
        f"PostgreSQL {meta['postgres']} (fsync and synchronous_commit on), on the same machine",
        f"- {meta['settings']['repeats']} repeats of a {meta['settings']['window_s']} s window"
        f" after {meta['settings']['warmup_s']} s of warm-up, the contenders interleaved;"
        f" load average {meta['load_start']:.2f} at the start, {meta['load_end']:.2f} at the end;"
        f" {meta['duration_s']} s in all",
        "",
        "Medians over the repeats, with the min to max; a ratio is paired within a repeat "
        "(this window over `sqlite_full`'s window of the same repeat).",
        "",
    ]
    for agents in meta["settings"]["agents"]:
        key_agents = str(agents)
        lines += [
            f"## {agents} agents",
            "",
            "| contender | ops/s | ÷ sqlite_full | notification p50 ms | notification p99 ms"
            " | HTTP p99 ms | server CPU µs/op | PostgreSQL CPU µs/op |",
            "|---|---|---|---|---|---|---|---|",
        ]
        base = results["load"]["sqlite_full"][key_agents]["repeats"]
        for key in KEYS:
            windows = results["load"][key][key_agents]["repeats"]
            ratios = [w["ops_per_s"] / b["ops_per_s"] for w, b in zip(windows, base, strict=True)]
            lines.append(
                f"| `{key}` | {_median_range([w['ops_per_s'] for w in windows])} "
                f"| {_median_range(ratios)} "
                f"| {_median_range([w['notification_p50_ms'] for w in windows])} "
                f"| {_median_range([w['notification_p99_ms'] for w in windows])} "
                f"| {_median_range([w['http_p99_ms'] for w in windows])} "
                f"| {_median_range([w['server_cpu_per_op_us'] for w in windows])} "
                f"| {_median_range([w['postgres_cpu_per_op_us'] for w in windows])} |"
            )
        missing = sum(
            w["notifications_missing"]
            for key in KEYS
            for w in results["load"][key][key_agents]["repeats"]
        )
        lines += ["", f"Notifications not received by the end of a window's drain: {missing}.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.server.postgres", description=__doc__
    )
    parser.add_argument("--out", type=Path, default=HERE, help="directory to write to")
    parser.add_argument("--quick", action="store_true", help="a reduced run (2 agents, 1 repeat)")
    parser.add_argument("--render-only", action="store_true", help="rewrite the table only")
    args = parser.parse_args(argv)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    data = out / "results-postgres.json"
    if args.render_only:
        results = json.loads(data.read_text())
    elif args.quick:
        results = run(counts=(2,), repeats=1, window_s=1.0, warmup_s=0.3)
    else:
        results = run()
    if not args.render_only:
        data.write_text(json.dumps(results, indent=1) + "\n")
    (out / "RESULTS-postgres.md").write_text(markdown(results))
    _log(f"wrote {data} and {out / 'RESULTS-postgres.md'}")
    return 0


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
