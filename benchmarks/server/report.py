"""``RESULTS.md`` and ``server.png`` from ``results.json`` (pure functions of the results).

Every ratio is paired: within a repeat, one contender's figure over another's *of the
same repeat* (the contenders take turns), and the report gives the median of those
per-repeat ratios with their min and max.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .processes import CONTENDERS

__all__ = ["TARGETS", "findings", "markdown", "plot", "targets"]

Results = dict[str, Any]

TIMES = "\u00d7"
DASH = "\u2013"

TARGETS: dict[str, float] = {
    "durable": 0.5,
    "memory_vs_bare": 0.4,
    "notification_p99_ms": 50.0,
    "notification_agents": 50,
    "replay": 2.0,
}
"""Durable ops/s over in-memory ops/s, at least; in-memory over the bare endpoint, at
least; the notification p99 at 50 agents, at most; replay time over fresh, at most."""

GWS = ("memory", "sqlite_full", "sqlite_normal")


def _median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def _span(values: Sequence[float], digits: int = 2, unit: str = TIMES) -> str:
    if not values:
        return "—"
    d = digits
    return f"{_median(values):.{d}f}{unit} ({min(values):.{d}f}{DASH}{max(values):.{d}f})"


def _figures(
    results: Results, key: str, agents: str, name: str, section: str = "load"
) -> list[float]:
    entry = results.get(section, {}).get(key, {}).get(agents)
    if entry is None:
        return []
    return [float(r[name]) for r in entry["repeats"]]


def _capacity(results: Results, key: str, agents: str) -> list[float]:
    """Operations per CPU-second of the server, per repeat."""
    return [
        1e6 / v if v > 0 else 0.0 for v in _figures(results, key, agents, "server_cpu_per_op_us")
    ]


def _rate(results: Results, key: str, agents: str, section: str = "load") -> list[float]:
    """HTTP requests answered per second, of every kind, per repeat."""
    entry = results.get(section, {}).get(key, {}).get(agents)
    if entry is None:
        return []
    return [float(r.get("requests", 0)) / float(r["seconds"]) for r in entry["repeats"]]


def _paired(ours: Sequence[float], base: Sequence[float]) -> list[float]:
    return [a / b for a, b in zip(ours, base, strict=True) if b > 0]


def _agent_counts(results: Results) -> list[str]:
    counts: set[int] = set()
    for per_agents in results["load"].values():
        counts.update(int(n) for n in per_agents)
    return [str(n) for n in sorted(counts)]


def _ratio_row(
    results: Results, ours: str, base: str, floor: float, what: str
) -> tuple[str, str, str, bool] | None:
    if ours not in results["load"] or base not in results["load"]:
        return None
    parts: list[str] = []
    met = True
    for agents in _agent_counts(results):
        ratios = _paired(
            _figures(results, ours, agents, "ops_per_s"),
            _figures(results, base, agents, "ops_per_s"),
        )
        capacity = _paired(_capacity(results, ours, agents), _capacity(results, base, agents))
        if not ratios:
            continue
        met = met and _median(ratios) >= floor
        extra = f"per server CPU-second: {_span(capacity)}"
        if not CONTENDERS[base].gws:
            per_request = _paired(_rate(results, ours, agents), _rate(results, base, agents))
            extra = f"per HTTP request: {_span(per_request)}; {extra}"
        parts.append(f"{agents} agents {_span(ratios)} ({extra})")
    return (
        what,
        f"{floor:.0%} of the ops/s, or more, at every agent count",
        "; ".join(parts),
        met,
    )


def targets(results: Results) -> list[tuple[str, str, str, bool]]:
    """(item, target, measured, met) for each target."""
    rows: list[tuple[str, str, str, bool] | None] = [
        _ratio_row(
            results,
            "sqlite_full",
            "memory",
            TARGETS["durable"],
            "durable (SQLite, synchronous full) vs in-memory",
        ),
        _ratio_row(
            results,
            "sqlite_normal",
            "memory",
            TARGETS["durable"],
            "durable (SQLite, synchronous normal) vs in-memory",
        ),
        _ratio_row(
            results, "memory", "bare", TARGETS["memory_vs_bare"], "in-memory vs the bare endpoint"
        ),
    ]
    agents = str(TARGETS["notification_agents"])
    limit = TARGETS["notification_p99_ms"]
    think = results["meta"]["settings"].get("paced_think_s")
    for section, how in (
        ("load", "sending without pause (saturated)"),
        ("paced", f"each waiting about {think} s after each answer"),
    ):
        for key in GWS:
            p99 = _figures(results, key, agents, "notification_p99_ms", section)
            if not p99:
                continue
            ops = _figures(results, key, agents, "ops_per_s", section)
            rows.append(
                (
                    f"notification p99 at {agents} agents {how}, {CONTENDERS[key].label}",
                    f"{limit:.0f} ms or less",
                    f"{_span(p99, 1, ' ms')} (median of the per-repeat p99), at "
                    f"{_median(ops):,.0f} ops/s",
                    _median(p99) <= limit,
                )
            )
    if "replay" in results:
        replay = results["replay"]
        cpu = _paired(replay["replay_cpu_s"], replay["fresh_cpu_s"])
        wall = _paired(replay["replay_wall_s"], replay["fresh_wall_s"])
        rows.append(
            (
                f"restart: replay of {replay['emails']:,} emails ({replay['events']:,} events) "
                "vs deciding them fresh",
                f"{TARGETS['replay']:.0f}{TIMES} or less",
                f"{_span(cpu)} CPU time; {_span(wall)} wall clock",
                _median(cpu) <= TARGETS["replay"],
            )
        )
    return [row for row in rows if row is not None]


def _med(results: Results, key: str, agents: str, name: str, section: str = "load") -> float:
    return _median(_figures(results, key, agents, name, section))


def _limit(results: Results) -> str | None:
    """Which process is the limit: the driver's and the servers' CPU per second."""
    rows = [
        (key, agents, r)
        for key, per_agents in results["load"].items()
        for agents, entry in per_agents.items()
        for r in entry["repeats"]
        if "driver_cores" in r
    ]
    if not rows:
        return None
    driver = max(float(r["driver_cores"]) for _, _, r in rows)
    server = max(float(r["server_cores"]) for _, _, r in rows)
    gws = [r for key, _, r in rows if CONTENDERS[key].gws]
    bare = [r for key, _, r in rows if not CONTENDERS[key].gws]
    text = (
        f"**Who is the limit.** The driver used at most {driver:.2f} CPU-second per second "
        f"of a window, a server at most {server:.2f} (the machine has "
        f"{results['meta']['cores']} cores)."
    )
    if gws:
        d = _median([float(r["driver_cores"]) for r in gws])
        s = _median([float(r["server_cores"]) for r in gws])
        ratio = _median([float(r["server_cpu_s"]) / float(r["driver_cpu_s"]) for r in gws])
        text += (
            f" Against the server contenders, the median window had the driver at {d:.2f} and "
            f"the server at {s:.2f}: the server spent {ratio:.1f} times the driver's CPU, so "
            "the driver is not what limits them."
        )
    if bare:
        d = _median([float(r["driver_cores"]) for r in bare])
        s = _median([float(r["server_cores"]) for r in bare])
        text += (
            f" Against the bare endpoint, driver {d:.2f} and endpoint {s:.2f}: each answer "
            "costs the driver nearly what it costs the endpoint, so its ops/s is a limit of "
            "the two together on a shared machine, a floor for the endpoint's own."
        )
    if "server_waiting" in rows[0][2]:
        waiting = _median([float(r["server_waiting"]) for _, _, r in rows])
        busy = _median([float(r["server_cores"]) for _, _, r in rows])
        load = _median([float(r["load"]) for _, _, r in rows])
        text += (
            f" No process had a core to itself: in the median window the server ran "
            f"{busy:.2f} s per second and waited {waiting:.2f} s per second for a CPU "
            f"(runnable, the CPU taken: `/proc/<pid>/task/*/schedstat`), at a load average "
            f"of {load:.1f} on {results['meta']['cores']} cores; so the operations per "
            "server CPU-second are the fairer comparison."
        )
    return text


def _durable(results: Results, key: str, counts: Sequence[str]) -> str:
    load = results["load"]
    per = []
    for agents in counts:
        ops = _paired(
            _figures(results, key, agents, "ops_per_s"),
            _figures(results, "memory", agents, "ops_per_s"),
        )
        extra = _med(results, key, agents, "server_cpu_per_op_us") - _med(
            results, "memory", agents, "server_cpu_per_op_us"
        )
        per.append((agents, _median(ops), extra))
    worst = min(per, key=lambda row: row[1])
    met = worst[1] >= TARGETS["durable"]
    busy = ""
    if "server_cores" in load[key][worst[0]]["repeats"][0]:
        ours = _med(results, key, worst[0], "server_cores")
        theirs = _med(results, "memory", worst[0], "server_cores")
        busy = (
            f" At {worst[0]} agents its server ran {ours:.2f} CPU-second per second "
            f"against in-memory's {theirs:.2f} (its threads runnable and waiting for a "
            f"CPU {_med(results, key, worst[0], 'server_waiting'):.2f} s per second, "
            f"summed, in-memory's "
            f"{_med(results, 'memory', worst[0], 'server_waiting'):.2f})"
        )
        n = worst[0]
        if ours < 0.9 * theirs:
            busy += (
                ": not its CPU but its commits limit it, each waiting for the disk and "
                "then for a CPU to wake the requests it holds"
            )
        else:
            capacity = _paired(_capacity(results, key, n), _capacity(results, "memory", n))
            busy += (
                f": its CPU per operation limits it, {_median(capacity):.2f}{TIMES} the "
                "operations per server CPU-second. It answers "
                f"{_med(results, key, n, 'requests_per_op'):.2f} HTTP requests per operation "
                f"against in-memory's {_med(results, 'memory', n, 'requests_per_op'):.2f} "
                + (
                    "(more long-poll answers, each carrying fewer notifications), "
                    if _med(results, key, n, "requests_per_op")
                    > _med(results, "memory", n, "requests_per_op")
                    else ""
                )
                + "at "
                f"{_med(results, key, n, 'server_cpu_per_request_us'):,.0f} µs of CPU per "
                f"request against {_med(results, 'memory', n, 'server_cpu_per_request_us'):,.0f}"
            )
        fsync = results["meta"].get("fsync", {})
        if key == "sqlite_full" and fsync:
            busy += (
                "; an fsync of a 4 KiB append took p50 "
                + ", ".join(f"{v['p50_ms']:.1f}" for v in fsync.values())
                + " ms, p99 "
                + ", ".join(f"{v['p99_ms']:.1f}" for v in fsync.values())
                + f" ms in the probes ({', '.join(fsync)})"
            )
        busy += "."
    return (
        f"- **{CONTENDERS[key].label} vs in-memory: {'met' if met else 'not met'}**, the "
        f"lowest median ratio {worst[1]:.2f}{TIMES} at {worst[0]} agents (target "
        f"{TARGETS['durable']:.2f}{TIMES}). Its server CPU per operation is "
        + ", ".join(f"{extra:+,.0f} µs at {agents}" for agents, _, extra in per)
        + " agents against in-memory (the SQLite writer thread's inserts and commits, "
        "and the hand-off to it)"
        + (
            "; at synchronous full each commit also waits for the disk, batched by the "
            "writer across the requests that wait meanwhile."
            if key == "sqlite_full"
            else "."
        )
        + busy
    )


def findings(results: Results) -> list[str]:
    """Each target's verdict with the figures that explain it (from the results alone)."""
    out: list[str] = ["", "### Why, target by target", ""]
    load = results["load"]
    counts = _agent_counts(results)
    limit = _limit(results)
    if limit:
        out += [f"- {limit}"]
    for key in ("sqlite_full", "sqlite_normal"):
        if key in load and "memory" in load:
            out.append(_durable(results, key, counts))
    if "memory" in load and "bare" in load:
        out.append(_memory_vs_bare(results, counts))
    agents = str(TARGETS["notification_agents"])
    ceiling = TARGETS["notification_p99_ms"]
    for key in GWS:
        saturated = _figures(results, key, agents, "notification_p99_ms")
        if not saturated:
            continue
        rate = _med(results, key, agents, "ops_per_s")
        cycle = int(agents) / rate * 1000 if rate else float("nan")
        paced = _figures(results, key, agents, "notification_p99_ms", "paced")
        text = (
            f"- **notification p99, {CONTENDERS[key].label}, saturated: "
            f"{'met' if _median(saturated) <= ceiling else 'not met'}** "
            f"({_median(saturated):.1f} ms). Without pause each of the {agents} agents has "
            f"a request under way at all times, so at {rate:,.0f} ops/s an agent's cycle is "
            f"{agents} / {rate:,.0f} = {cycle:.1f} ms (Little's law): the answer to its "
            f"request (HTTP p50 {_med(results, key, agents, 'http_p50_ms'):.1f} ms, p99 "
            f"{_med(results, key, agents, 'http_p99_ms'):.1f} ms), the requests of the "
            "others queued ahead of it, and between lifecycles the wait for its next "
            "invitation; the notification comes through the long-poll after the decision "
            f"(p50 {_med(results, key, agents, 'notification_p50_ms'):.1f} ms). Its p99 is "
            "the tail of that queue of requests from agents that never pause."
        )
        if paced:
            pmet = _median(paced) <= ceiling
            text += (
                f" **Paced: {'met' if pmet else 'not met'}** ({_median(paced):.1f} ms; per "
                "repeat " + ", ".join(f"{v:.1f}" for v in paced) + " ms)."
            )
            if not pmet:
                text += _stall(results, key, agents)
        out.append(text)
    if "replay" in results:
        replay = results["replay"]
        cpu = _median(_paired(replay["replay_cpu_s"], replay["fresh_cpu_s"]))
        parts: dict[str, list[float]] = replay["parts"]
        total = sum(_median(v) for v in parts.values()) or 1.0
        decode = _median(parts.get("decode_s", [])) / total
        out.append(
            f"- **restart: {'met' if cpu <= TARGETS['replay'] else 'not met'}**, replay "
            f"{cpu:.2f}{TIMES} the CPU of deciding fresh (target {TARGETS['replay']:.0f}"
            f"{TIMES}); {decode:.0%} of a replay is decoding the events' JSON."
        )
    return out


def _memory_vs_bare(results: Results, counts: Sequence[str]) -> str:
    rows = []
    met = True
    for agents in counts:
        ops = _median(
            _paired(
                _figures(results, "memory", agents, "ops_per_s"),
                _figures(results, "bare", agents, "ops_per_s"),
            )
        )
        met = met and ops >= TARGETS["memory_vs_bare"]
        requests = _median(
            _paired(_rate(results, "memory", agents), _rate(results, "bare", agents))
        )
        cpu = _median(
            _paired(_capacity(results, "memory", agents), _capacity(results, "bare", agents))
        )
        rows.append((agents, ops, requests, cpu))
    per_request_met = any(q >= TARGETS["memory_vs_bare"] for _, _, q, _ in rows)
    runs = [r for agents in counts for r in results["load"]["memory"][agents]["repeats"]]
    if not runs or "requests" not in runs[0]:
        return f"- **in-memory vs the bare endpoint: {'met' if met else 'not met'}**."
    per_op = _median([float(r["requests_per_op"]) for r in runs])
    polls = _median(
        [
            (float(r["requests"]) - float(r["operations"]) - float(r["arrivals"]))
            / max(float(r["operations"]), 1.0)
            for r in runs
        ]
    )
    arrivals = _median([float(r["arrivals"]) / max(float(r["operations"]), 1.0) for r in runs])
    server = _median([float(r["server_cpu_per_request_us"]) for r in runs])
    bare_runs = [r for agents in counts for r in results["load"]["bare"][agents]["repeats"]]
    bare = _median([float(r["server_cpu_per_request_us"]) for r in bare_runs])
    return (
        f"- **in-memory vs the bare endpoint: {'met' if met else 'not met'}** (target "
        f"{TARGETS['memory_vs_bare']:.2f}{TIMES} of the ops/s): "
        + "; ".join(
            f"{a} agents {o:.2f}{TIMES} the ops/s, {q:.2f}{TIMES} the HTTP requests per "
            f"second, {c:.2f}{TIMES} the operations per server CPU-second"
            for a, o, q, c in rows
        )
        + f". An agent operation is {per_op:.2f} HTTP requests to the server (the operation "
        f"itself; {polls:.2f} long-poll answers, each followed by its re-connect, that bring "
        f"the notification and, shared, the invitations; {arrivals:.2f} Arrive, one per "
        "lifecycle of five operations), and one to the bare endpoint. Per request the "
        f"server spends {server:,.0f} µs of CPU (median over every window) against the bare "
        f"endpoint's {bare:,.0f} µs, the cost of uvicorn, httptools and Starlette that both "
        f"pay: {server - bare:,.0f} µs a request, {server / bare if bare else float('nan'):.1f}"
        f"{TIMES} the endpoint's, are the server's own work (the session cookie, the "
        "request's JSON, deciding, the event's JSON row, the notification, the CometD "
        "long-poll). "
        + (
            "So even per HTTP request the target is out of reach at these figures, and per "
            "operation it is further by the requests an operation takes."
            if not per_request_met
            else "Per HTTP request the ratio reaches the target at "
            + ", ".join(a for a, _, q, _ in rows if q >= TARGETS["memory_vs_bare"])
            + " agents; per operation it is missed by the requests an operation takes."
        )
    )


def _stall(results: Results, key: str, agents: str) -> str:
    http = _figures(results, key, agents, "http_p99_ms", "paced")
    cpu = _med(results, key, agents, "server_cpu_per_op_us", "paced")
    text = f" Its HTTP p99 per repeat: {', '.join(f'{v:.1f}' for v in http)} ms"
    other = "sqlite_normal" if key == "sqlite_full" else None
    if other and _figures(results, other, agents, "http_p99_ms", "paced"):
        text += (
            f", against {_med(results, other, agents, 'http_p99_ms', 'paced'):.1f} ms for "
            f"{CONTENDERS[other].label}, with about the same server CPU per operation "
            f"({cpu:,.0f} µs against "
            f"{_med(results, other, agents, 'server_cpu_per_op_us', 'paced'):,.0f} µs): "
            "what differs is the wait for the disk at each commit"
        )
    fsync = results["meta"].get("fsync", {})
    if fsync:
        text += (
            "; the file system's fsync of a 4 KiB append (50 probes, p50 / p99 / max): "
            + "; ".join(
                f"{when} {v['p50_ms']:.1f} / {v['p99_ms']:.1f} / {v['max_ms']:.1f} ms"
                for when, v in fsync.items()
            )
            + ". A commit that waits that long holds every request that arrives meanwhile, "
            "and their notifications with them"
        )
    return text + "."


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return lines


def _cell(values: Sequence[float], digits: int = 1) -> str:
    if not values:
        return "—"
    d = digits
    return f"{_median(values):,.{d}f} ({min(values):,.{d}f}{DASH}{max(values):,.{d}f})"


def markdown(results: Results) -> str:
    """RESULTS.md, from the results alone."""
    meta = results["meta"]
    settings = meta["settings"]
    versions = ", ".join(f"{name} {version}" for name, version in meta["versions"].items())
    out = [
        "# Server benchmark results",
        "",
        "Written by `make bench-server` (`python -m benchmarks.server`) from",
        "`benchmarks/server/results.json`; what is measured and how:",
        "`benchmarks/server/README.md`.",
        "",
        f"- date: {meta['date']}; the whole run took {meta['duration_s']} s",
        f"- machine: {meta['cpu']}, {meta['cores']} cores, {meta['ram_gb']} GB RAM; "
        f"{meta['platform']}; load average (1, 5, 15 min) {meta['load_start']} at the start, "
        f"{meta['load_end']} at the end",
        f"- {meta['python']}; {versions}",
        *_stack_lines(results),
        f"- load: {', '.join(str(n) for n in settings['agents'])} agents; "
        f"{settings['repeats']} repeats, each a {settings['warmup_s']} s warm-up and a "
        f"{settings['window_s']} s window per contender, the contenders taking turns (each "
        f"repeat starting with the next); lifecycle {', '.join(settings['lifecycle'])}; "
        f"`--capacity {settings['capacity']} --offer-timeout 0`",
        "- every figure is the median over the repeats (min" + DASH + "max); every ratio the "
        "median of the per-repeat ratios (min" + DASH + "max)",
        "",
        "## Targets",
        "",
    ]
    out += _table(
        ("item", "target", "measured", "met"),
        [(i, t, m, "yes" if ok else "**no**") for i, t, m, ok in targets(results)],
    )
    out += findings(results)
    out += _load_section(results, "load")
    out += _cpu_section(results)
    out += _ratios_section(results)
    if results.get("paced"):
        out += _load_section(results, "paced")
    if "replay" in results:
        out += _replay_section(results["replay"])
    return "\n".join(out) + "\n"


def _load_section(results: Results, section: str) -> list[str]:
    if section == "paced":
        think = results["meta"]["settings"]["paced_think_s"]
        out = [
            "",
            "## Paced: agents who think between requests",
            "",
            f"As above, each agent waiting 0.5 to 1.5 times {think} s after each answer",
            "before its next request: the server is not saturated, and the latencies are",
            "its own rather than the queue's.",
            "",
        ]
    else:
        out = [
            "",
            "## Load, per contender and agent count",
            "",
            "The agents send each request as soon as the previous one is answered: the",
            "server (or the driver) is kept busy, and the latencies include the wait in",
            "the queue.",
            "",
        ]
    out += [
        "*ops/s*: agent operations sent in the window and answered `statusCode` 0, per second.",
        "*HTTP*: sent to answered. *notification*: sent to the notification of the same",
        "`referenceId` received by the agent's long-poll. *server CPU/op*: user + system time",
        "of the server process over the window (all its threads) per operation, the Arrive",
        "requests, the router's offers and the long-polls included. *driver CPU/op*: the",
        "same for the driver process. *memory/agent*: the server's resident memory with the",
        "agents logged in, less before, per agent. *matched*: notifications matched to their",
        "request, over all repeats (missing, orphaned).",
        "",
    ]
    rows: list[list[str]] = []
    for key, per_agents in results[section].items():
        for agents in sorted(per_agents, key=int):
            entry = per_agents[agents]
            runs = entry["repeats"]

            def fig(name: str, key: str = key, agents: str = agents) -> list[float]:
                return _figures(results, key, agents, name, section)

            gws = CONTENDERS[key].gws
            memory = entry.get("memory")
            matched = sum(int(r["notifications"]) for r in runs)
            missing = sum(int(r["notifications_missing"]) for r in runs)
            orphan = sum(int(r["notifications_orphan"]) for r in runs)
            rows.append(
                [
                    key,
                    agents,
                    _cell(fig("ops_per_s"), 0),
                    _cell(fig("http_p50_ms")),
                    _cell(fig("http_p99_ms")),
                    _cell(fig("notification_p50_ms")) if gws else "—",
                    _cell(fig("notification_p99_ms")) if gws else "—",
                    _cell(fig("server_cpu_per_op_us"), 0),
                    _cell(fig("driver_cpu_per_op_us"), 0),
                    f"{memory['per_agent_kib']:.1f}" if memory else "—",
                    f"{matched:,} ({missing}, {orphan})" if gws else "—",
                    _cell(fig("load"), 2),
                ]
            )
    out += _table(
        (
            "contender",
            "agents",
            "ops/s",
            "HTTP p50, ms",
            "HTTP p99, ms",
            "notification p50, ms",
            "notification p99, ms",
            "server CPU/op, µs",
            "driver CPU/op, µs",
            "memory/agent, KiB",
            "matched (missing, orphaned)",
            "load (1 min)",
        ),
        rows,
    )
    if section == "load":
        labels = ", ".join(f"`{key}`: {CONTENDERS[key].label}" for key in results["load"])
        out += ["", f"Contenders: {labels}."]
    return out


def _ratios_section(results: Results) -> list[str]:
    pairs = [
        (a, b)
        for a, b in (("sqlite_full", "memory"), ("sqlite_normal", "memory"), ("memory", "bare"))
        if a in results["load"] and b in results["load"]
    ]
    if not pairs:
        return []
    out = [
        "",
        "## Paired ratios",
        "",
        "Ops/s of one contender over another's in the same repeat, and the same for",
        "operations per CPU-second of the server (1 / server CPU per operation), which does",
        "not depend on how fast the driver sends.",
        "",
    ]
    rows = []
    for agents in _agent_counts(results):
        for a, b in pairs:
            ops = _paired(
                _figures(results, a, agents, "ops_per_s"), _figures(results, b, agents, "ops_per_s")
            )
            cpu = _paired(_capacity(results, a, agents), _capacity(results, b, agents))
            requests = _paired(_rate(results, a, agents), _rate(results, b, agents))
            rows.append([agents, f"{a} / {b}", _span(ops), _span(requests), _span(cpu)])
    out += _table(
        ("agents", "ratio", "ops/s", "HTTP requests/s", "ops per server CPU-second"), rows
    )
    return out


def _stack_lines(results: Results) -> list[str]:
    meta = results["meta"]
    stack = meta.get("stack")
    if not stack:
        return []
    seen: dict[str, set[str]] = {}
    for section in ("load", "paced"):
        for key, per_agents in results.get(section, {}).items():
            for entry in per_agents.values():
                for name, loaded in entry.get("modules", {}).items():
                    seen.setdefault(name, set()).add(
                        "loaded" if loaded else f"**not loaded** in {key}"
                    )
    modules = "; ".join(f"{name} {', '.join(sorted(how))}" for name, how in seen.items())
    lines = [
        f'- servers and bare endpoint: uvicorn `Config(http="auto", loop="auto")` picks '
        f"`{stack['server_http']}` and `{stack['server_loop']}`",
    ]
    if modules:
        lines[0] += f"; in every server process's memory map: {modules}"
    lines.append(f"- driver: one process, {stack['driver_http']}, {stack['driver_loop']} loop")
    return lines


def _cpu_section(results: Results, section: str = "load") -> list[str]:
    out = [
        "",
        "## Driver and server CPU",
        "",
        "Who is the limit: the CPU each process spent in the window, per agent operation,",
        "per HTTP request of the server, and per second of the window (1.00: one core",
        "busy all the time; the machine has "
        f"{results['meta']['cores']}). *HTTP requests/op*: every request the",
        "contender answered in the window (operations, long-polls, Arrives) per operation,",
        "split into the operation itself (1), the long-poll answers (each followed by its",
        "re-connect) and the Arrive requests.",
        "",
    ]
    rows: list[list[str]] = []
    for key, per_agents in results[section].items():
        for agents in sorted(per_agents, key=int):
            runs = per_agents[agents]["repeats"]
            if not runs or "requests" not in runs[0]:
                continue

            def fig(name: str, key: str = key, agents: str = agents) -> list[float]:
                return _figures(results, key, agents, name, section)

            ops = [max(float(r["operations"]), 1.0) for r in runs]
            polls = [
                (float(r["requests"]) - float(r["operations"]) - float(r["arrivals"])) / n
                for r, n in zip(runs, ops, strict=True)
            ]
            arrivals = [float(r["arrivals"]) / n for r, n in zip(runs, ops, strict=True)]
            driver_per_request = [
                float(r["driver_cpu_s"]) / max(float(r["requests"]), 1.0) * 1e6 for r in runs
            ]
            rows.append(
                [
                    key,
                    agents,
                    _cell(fig("requests_per_op"), 2),
                    f"{_median(polls):.2f}" if CONTENDERS[key].gws else "—",
                    f"{_median(arrivals):.2f}" if CONTENDERS[key].gws else "—",
                    _cell(fig("server_cpu_per_op_us"), 0),
                    _cell(fig("server_cpu_per_request_us"), 0),
                    _cell(fig("driver_cpu_per_op_us"), 0),
                    f"{_median(driver_per_request):,.0f}",
                    _cell(fig("server_cores"), 2),
                    _cell(fig("driver_cores"), 2),
                ]
            )
    if not rows:
        return []
    out += _table(
        (
            "contender",
            "agents",
            "HTTP requests/op",
            "of which long-poll answers",
            "of which Arrives",
            "server CPU/op, µs",
            "server CPU/request, µs",
            "driver CPU/op, µs",
            "driver CPU/request, µs",
            "server CPU-s per s",
            "driver CPU-s per s",
        ),
        rows,
    )
    return out


def _replay_section(replay: Results) -> list[str]:
    parts: dict[str, list[float]] = replay["parts"]
    total = sum(_median(v) for v in parts.values()) or 1.0
    names = {
        "fetch_s": "reading the rows (SQLite)",
        "decode_s": "decoding the events' JSON",
        "evolve_s": "EmailStore.from_events",
    }
    out = [
        "",
        "## Restart: replay vs deciding fresh",
        "",
        f"{replay['emails']:,} emails, {', '.join(replay['steps'])} each: {replay['events']:,} "
        f"events, an SQLite file of {replay['file_bytes'] / 2**20:,.1f} MiB. *fresh*: "
        "`EmailStore.execute` of every command; *replay*: `SQLiteLog.load()` and "
        "`EmailStore.from_events`, as `ContactCenterService.start()`. "
        f"{replay['repeats']} repeats, the order alternating; {replay['clock']}.",
        "",
    ]
    cpu = _paired(replay["replay_cpu_s"], replay["fresh_cpu_s"])
    wall = _paired(replay["replay_wall_s"], replay["fresh_wall_s"])
    per_event = 1e6 / replay["events"]
    out += _table(
        ("", "CPU, s", "wall, s", "CPU per event, µs"),
        [
            [
                "fresh",
                _cell(replay["fresh_cpu_s"], 2),
                _cell(replay["fresh_wall_s"], 2),
                f"{_median(replay['fresh_cpu_s']) * per_event:.1f}",
            ],
            [
                "replay",
                _cell(replay["replay_cpu_s"], 2),
                _cell(replay["replay_wall_s"], 2),
                f"{_median(replay['replay_cpu_s']) * per_event:.1f}",
            ],
            ["replay / fresh", _span(cpu), _span(wall), ""],
        ],
    )
    out += ["", "Where a replay's time goes (each part timed alone, CPU):", ""]
    out += _table(
        ("part", "CPU, s", "share"),
        [[names.get(k, k), _cell(v, 2), f"{_median(v) / total:.0%}"] for k, v in parts.items()],
    )
    out += ["", "One replay under cProfile, the functions with the most time of their own:", ""]
    out += _table(
        ("function", "calls", "own time, s", "share"),
        [
            [
                f"`{row['function']}`",
                f"{row['calls']:,}",
                f"{row['own_s']:.2f}",
                f"{row['share']:.0%}",
            ]
            for row in replay["profile"]
        ],
    )
    return out


def plot(results: Results, path: Path) -> None:
    """Throughput, HTTP p99 and notification p99 against agents, a line per contender."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = (
        ("ops_per_s", "operations per second"),
        ("http_p99_ms", "HTTP answer p99, ms"),
        ("notification_p99_ms", "notification p99, ms"),
    )
    figure, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    for axis, (name, title) in zip(axes, panels, strict=True):
        for key, per_agents in results["load"].items():
            if name.startswith("notification") and not CONTENDERS[key].gws:
                continue
            counts = sorted(per_agents, key=int)
            values = [_median(_figures(results, key, n, name)) for n in counts]
            axis.plot([int(n) for n in counts], values, marker="o", label=CONTENDERS[key].label)
        axis.set_xscale("log")
        axis.set_xlabel("agents")
        axis.set_title(title)
        axis.grid(True, alpha=0.3)
        if name == "notification_p99_ms":
            axis.axhline(TARGETS["notification_p99_ms"], color="grey", linestyle="--", lw=1)
    axes[0].legend(fontsize=8)
    meta = results["meta"]
    figure.suptitle(
        f"email-fsm serve under load ({meta['cores']} cores, load average {meta['load_start']}"
        f" to {meta['load_end']}; medians over {meta['settings']['repeats']} repeats)",
        fontsize=10,
    )
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
