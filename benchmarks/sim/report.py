"""``RESULTS.md`` and ``sim.png`` from ``results.json``: pure functions of the results
(a test checks the committed page against the committed results).

Every ratio is paired: within a repeat, one contender's figure over the other's of the
same repeat; the page gives the median of those ratios and their min-max.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["TARGETS", "markdown", "plot", "ratios"]

DASH = "\u2013"
TIMES = "\u00d7"

TARGETS = {"throughput_ratio": 0.5, "speedup_2_workers": 1.7}
"""The targets: email_fsm's emails per second over the bare model's; the sweep's wall
time on 1 worker over 2."""


def ratios(ours: Sequence[float], base: Sequence[float]) -> list[float]:
    """``ours`` over ``base``, repeat by repeat."""
    return [a / b for a, b in zip(ours, base, strict=True)]


def _spread(values: Sequence[float], fmt: str = "{:.2f}") -> str:
    return (
        f"{fmt.format(statistics.median(values))} "
        f"({fmt.format(min(values))}{DASH}{fmt.format(max(values))})"
    )


def _met(value: float, target: float) -> str:
    return "met" if value >= target else "**not met**"


def _cores(sweep: dict[str, Any], workers: str) -> list[float]:
    return ratios(sweep["children_cpu_seconds"][workers], sweep["wall_seconds"][workers])


def markdown(results: dict[str, Any]) -> str:
    """The page."""
    meta = results["meta"]
    t = results["throughput"]
    ours, bare = t["per_second"]["email_fsm"], t["per_second"]["bare"]
    ratio = ratios(ours, bare)
    s = results["sweep"]
    speedup = ratios(s["wall_seconds"]["1"], s["wall_seconds"]["2"])
    m = results["million"]
    samples = m["samples"]
    rss = [r for _, _, r in samples]
    # the memory of the second half of the run over the first half's end: flat is 1
    half = len(rss) // 2
    growth = max(rss[half:]) / rss[half] if rss[half:] else float("nan")
    lines = [
        "# Simulator benchmarks",
        "",
        f"Measured {meta['date']} on {meta['cpus']} CPUs ({meta['machine']}), Python "
        f"{meta['python']}; load average (1, 5, 15 min) "
        f"{', '.join(f'{x:.1f}' for x in meta['load_at_start'])} at the start and "
        f"{', '.join(f'{x:.1f}' for x in meta['load_at_end'])} at the end: other jobs "
        "shared the machine. Clock: " + meta["clock"] + ". Written by "
        "`python -m benchmarks.sim` from `results.json`.",
        "",
        "| measurement | figure: median (min" + DASH + "max) | target | verdict |",
        "|---|---|---|---|",
        f"| email_fsm simulator, emails per CPU second | {_spread(ours, '{:,.0f}')} | | |",
        f"| bare SimPy model, emails per CPU second | {_spread(bare, '{:,.0f}')} | | |",
        f"| paired ratio email_fsm / bare ({len(ratio)} repeats) | {_spread(ratio)} | "
        f"{TIMES}{TARGETS['throughput_ratio']} | "
        f"{_met(statistics.median(ratio), TARGETS['throughput_ratio'])} |",
        f"| {m['emails']:,} emails on one core: CPU time | {m['cpu_seconds']:,.0f} s "
        f"({m['emails'] / m['cpu_seconds']:,.0f} emails/s; wall {m['wall_seconds']:,.0f} s) | | |",
        f"| {m['emails']:,} emails: resident memory, start {DASH} half-way {DASH} end | "
        f"{rss[0] / 2**20:,.0f} {DASH} {rss[half] / 2**20:,.0f} {DASH} {rss[-1] / 2**20:,.0f}"
        f" MiB (second half: {growth:.3f}{TIMES} the half-way figure at most; most emails "
        f"held at once: {m['most_live_emails']:,}) | flat | "
        f"{'met' if growth < 1.05 else '**not met**'} |",
        f"| sweep of {s['replications']} replications, wall time on 1 worker | "
        f"{_spread(s['wall_seconds']['1'], '{:.1f}')} s | | |",
        f"| the same on 2 workers | {_spread(s['wall_seconds']['2'], '{:.1f}')} s | | |",
        f"| speed-up on 2 workers ({len(speedup)} repeats) | {_spread(speedup)}{TIMES} | "
        f"{TARGETS['speedup_2_workers']}{TIMES} | "
        f"{_met(statistics.median(speedup), TARGETS['speedup_2_workers'])} |",
        "",
        "Cores the sweep actually got (its workers' CPU time over its wall time): "
        f"{_spread(_cores(s, '1'))} on 1 worker, {_spread(_cores(s, '2'))} on 2 workers. "
        f"In the repeat whose 2 workers got the most ({max(_cores(s, '2')):.2f} cores), the "
        f"speed-up was {speedup[_cores(s, '2').index(max(_cores(s, '2')))]:.2f}{TIMES}. "
        f"The sweep's load average was {', '.join(f'{x:.1f}' for x in s['load_before'])} "
        f"before it and {', '.join(f'{x:.1f}' for x in s['load_after'])} after it, on "
        f"{meta['cpus']} CPUs.",
        "",
        "![resident memory along the long run](sim.png)",
        "",
    ]
    return "\n".join(lines)


def plot(results: dict[str, Any], path: Path) -> None:
    """Resident memory and CPU time along the long run."""
    from matplotlib.figure import Figure

    samples = results["million"]["samples"]
    emails = [e for e, _, _ in samples]
    figure = Figure(figsize=(7.0, 3.6), layout="constrained")
    axes = figure.add_subplot()
    mib = [r / 2**20 for _, _, r in samples]
    axes.plot(emails, mib, color="tab:blue")
    axes.set_xlabel("emails simulated")
    axes.set_ylabel("resident memory (MiB)", color="tab:blue")
    axes.set_ylim(0, max(mib) * 1.5)
    axes.grid(True, alpha=0.3)
    cpu = axes.twinx()
    cpu.plot(emails, [c for _, c, _ in samples], color="tab:orange")
    cpu.set_ylabel("CPU seconds", color="tab:orange")
    cpu.set_ylim(bottom=0)
    axes.set_title("The long run: memory stays flat as finished emails are evicted")
    figure.savefig(path, dpi=100, metadata={"Software": None})
