"""The simulator's three measurements.

- **throughput**: simulated emails per CPU second of :func:`email_fsm.sim.simulate`
  against :func:`benchmarks.sim.bare.simulate_bare` (the same process in bare SimPy), the
  two taking turns within each repeat (which goes first alternates); the ratio is paired
  per repeat.
- **million**: one long run on one core, in a fresh (spawned) process: its CPU time, and
  its resident memory sampled at every KPI interval (the store evicts finished emails:
  memory must stay flat).
- **sweep**: the same replications on a process pool of 1 and of 2 workers, in turns
  within each repeat; wall time (parallelism is what is measured), with the load
  average at the start and the end.
"""

from __future__ import annotations

import os
import platform
import resource
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing import get_context
from typing import Any

from email_fsm.sim import Scenario, simulate, sweep, vary

from .bare import simulate_bare

__all__ = ["Settings", "million", "run", "sweep_scaling", "throughput"]


@dataclass(frozen=True, slots=True)
class Settings:
    throughput_hours: float = 20.0
    throughput_repeats: int = 7
    million_emails: int = 1_000_000
    sweep_reps: int = 8
    sweep_hours: float = 12.0
    sweep_repeats: int = 5

    @classmethod
    def quick(cls) -> Settings:
        return cls(
            throughput_hours=0.5,
            throughput_repeats=2,
            million_emails=3_000,
            sweep_reps=2,
            sweep_hours=0.5,
            sweep_repeats=1,
        )


RATE = 600.0  # emails per hour
AGENTS = 12  # at a mean handle time of 1 minute: 10 Erlangs on 12 agents
PROCESS: dict[str, Any] = {
    "rate_per_hour": RATE,
    "agents": AGENTS,
    "mean_minutes": 1.0,
    "reject": 0.1,
    "reply": 0.5,
    "goal_hours": 0.05,
    "seed": 3,
}


def scenario(hours: float, *, rate: float = RATE, agents: int = AGENTS) -> Scenario:
    """The benchmark's contact center: the process of :mod:`benchmarks.sim.bare`."""
    return Scenario.model_validate(
        {
            "name": "bench",
            "duration_hours": hours,
            "seed": PROCESS["seed"],
            "queues": [
                {"name": "q", "rate_per_hour": rate, "service_goal_hours": PROCESS["goal_hours"]}
            ],
            "agent_groups": [
                {
                    "name": "team",
                    "count": agents,
                    "skills": ["q"],
                    "reject_probability": PROCESS["reject"],
                    "reply_probability": PROCESS["reply"],
                    "disposition_probability": 1.0,
                    "handle_time": {"distribution": "exponential", "mean_minutes": 1.0},
                }
            ],
        }
    )


def _cpu(run: Any) -> tuple[float, Any]:
    start = time.process_time()
    out = run()
    return time.process_time() - start, out


def throughput(settings: Settings) -> dict[str, Any]:
    """Emails per CPU second, both contenders per repeat."""
    s = scenario(settings.throughput_hours)
    bare_kwargs = {**PROCESS, "hours": settings.throughput_hours}
    runs: dict[str, list[float]] = {"email_fsm": [], "bare": []}
    emails: dict[str, int] = {}
    for repeat in range(settings.throughput_repeats):
        order = ("email_fsm", "bare") if repeat % 2 == 0 else ("bare", "email_fsm")
        for who in order:
            if who == "email_fsm":
                seconds, result = _cpu(lambda: simulate(s))
                emails[who] = result.emails
            else:
                seconds, bare = _cpu(lambda: simulate_bare(**bare_kwargs))
                emails[who] = bare.arrived
            runs[who].append(emails[who] / seconds)
    return {"hours": settings.throughput_hours, "emails": emails, "per_second": runs}


def _rss_bytes() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _million_run(emails: int) -> dict[str, Any]:
    rate = 3000.0
    hours = emails / rate
    s = scenario(hours, rate=rate, agents=56).with_changes(
        interval_minutes=max(hours * 60 / 200, 1.0)
    )
    samples: list[tuple[float, float, int]] = []
    start_wall, start_cpu = time.perf_counter(), time.process_time()
    samples.append((0.0, 0.0, _rss_bytes()))

    def sample(done: float, total: float) -> None:
        samples.append((done * rate, time.process_time() - start_cpu, _rss_bytes()))

    result = simulate(s, progress=sample)
    return {
        "target": emails,
        "emails": result.emails,
        "commands": result.commands,
        "most_live_emails": result.most_live_emails,
        "cpu_seconds": time.process_time() - start_cpu,
        "wall_seconds": time.perf_counter() - start_wall,
        "samples": samples,
    }


def million(settings: Settings) -> dict[str, Any]:
    """The long run, in a spawned process (its memory is its own)."""
    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
        return pool.submit(_million_run, settings.million_emails).result()


def _children_cpu() -> float:
    """CPU seconds of the finished child processes (the pool's workers)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def sweep_scaling(settings: Settings) -> dict[str, Any]:
    """The same sweep on 1 and on 2 worker processes: wall time, and the CPU time the
    workers used (CPU over wall is how many cores the run actually got)."""
    s = scenario(settings.sweep_hours)
    varying = vary(f"agents={AGENTS}..{AGENTS + 1}")
    per_value = max(settings.sweep_reps // 2, 1)
    walls: dict[str, list[float]] = {"1": [], "2": []}
    cpus: dict[str, list[float]] = {"1": [], "2": []}
    load_before = os.getloadavg()
    for repeat in range(settings.sweep_repeats):
        order = ("1", "2") if repeat % 2 == 0 else ("2", "1")
        for workers in order:
            before = _children_cpu()
            start = time.perf_counter()
            with ProcessPoolExecutor(int(workers)) as pool:
                sweep(s, varying, reps=per_value, executor=pool)
            walls[workers].append(time.perf_counter() - start)
            cpus[workers].append(_children_cpu() - before)
    return {
        "replications": per_value * len(varying.values),
        "hours": settings.sweep_hours,
        "wall_seconds": walls,
        "children_cpu_seconds": cpus,
        "load_before": list(load_before),
        "load_after": list(os.getloadavg()),
    }


def run(settings: Settings) -> dict[str, Any]:
    """Every section, and the machine."""
    results: dict[str, Any] = {
        "meta": {
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "python": sys.version.split()[0],
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
            "load_at_start": list(os.getloadavg()),
            "clock": "CPU time of the process (time.process_time) for throughput and the "
            "long run; wall time for the sweep",
        }
    }
    results["throughput"] = throughput(settings)
    results["sweep"] = sweep_scaling(settings)
    results["million"] = million(settings)
    results["meta"]["load_at_end"] = list(os.getloadavg())
    results["meta"]["median_ratio"] = statistics.median(
        a / b
        for a, b in zip(
            results["throughput"]["per_second"]["email_fsm"],
            results["throughput"]["per_second"]["bare"],
            strict=True,
        )
    )
    return results
