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

__all__ = ["TARGETS", "markdown", "plot", "targets"]

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
        parts.append(f"{agents} agents {_span(ratios)} (per server CPU-second: {_span(capacity)})")
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
    out += _load_section(results, "load")
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
            rows.append([agents, f"{a} / {b}", _span(ops), _span(cpu)])
    out += _table(("agents", "ratio", "ops/s", "ops per server CPU-second"), rows)
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
