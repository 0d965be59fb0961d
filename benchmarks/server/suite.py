"""The run: the load section (each agent count, the contenders interleaved), the paced
section (agents who think between requests) and the restart.

For each agent count, every contender is started fresh (a process each, with its own
SQLite file), its agents log in (the server's resident memory read before and after),
and then, repeat after repeat, the contenders take turns: a warm-up and a measured
window each, the next repeat starting with the next contender. A window's figures are
paired with the other contenders' windows *of the same repeat* by the report. The load
section's agents send without pause (the server is kept busy); the paced section's wait
about ``paced_think_s`` after each answer, so that the latencies are those of a server
that is not saturated.
"""

from __future__ import annotations

import asyncio
import datetime
import importlib.metadata
import os
import platform
import shutil
import tempfile
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .driver import CAPACITY, COMMENTS, LIFECYCLE, Fleet, percentile
from .processes import CONTENDERS, Process, native_modules, start
from .replay import measure as measure_replay

__all__ = ["Settings", "load_section", "machine", "paced_section", "run"]

Log = Callable[[str], None]
Results = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Settings:
    """How much to measure."""

    agents: tuple[int, ...] = (10, 50, 200)
    repeats: int = 5
    window_s: float = 3.0
    warmup_s: float = 1.0
    contenders: tuple[str, ...] = tuple(CONTENDERS)
    paced_agents: int = 50
    """The paced section: this many agents, each waiting about ``paced_think_s`` after
    each answer (the server contenders only)."""
    paced_think_s: float = 0.5
    paced_repeats: int = 3
    replay_emails: int = 100_000
    replay_repeats: int = 3

    @classmethod
    def quick(cls) -> Settings:
        """A reduced run (``--quick``): a few seconds per contender."""
        return cls(
            agents=(2, 5), repeats=2, window_s=1.0, warmup_s=0.3, paced_agents=5,
            paced_repeats=1, replay_emails=2_000, replay_repeats=2,
        )  # fmt: skip


def _print(message: str) -> None:
    print(message, flush=True)


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop for the driver where it is installed (asyncio's own otherwise)."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def _run(work: Coroutine[Any, Any, Results]) -> Results:
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        return runner.run(work)


def load_section(settings: Settings, log: Log = _print) -> Results:
    """The load section: per contender, per agent count, the memory and one window per
    repeat (``repeats`` lists, index r being repeat r)."""
    return _run(_load(settings, log, settings.agents, settings.contenders, settings.repeats, 0.0))


def paced_section(settings: Settings, log: Log = _print) -> Results:
    """As the load section, at ``paced_agents`` agents who think between requests, for
    the server contenders only."""
    contenders = tuple(key for key in settings.contenders if CONTENDERS[key].gws)
    return _run(
        _load(
            settings,
            log,
            (settings.paced_agents,),
            contenders,
            settings.paced_repeats,
            settings.paced_think_s,
        )
    )


async def _load(
    settings: Settings,
    log: Log,
    counts: Sequence[int],
    contenders: Sequence[str],
    repeats: int,
    think_s: float,
) -> Results:
    section: Results = {key: {} for key in contenders}
    paced = f", paced ({think_s} s)" if think_s else ""
    for agents in counts:
        workdir = Path(tempfile.mkdtemp(prefix="email-fsm-bench-"))
        processes: dict[str, Process] = {}
        fleets: dict[str, Fleet] = {}
        try:
            for key in contenders:
                processes[key] = start(CONTENDERS[key], workdir / key, capacity=CAPACITY)
            for key in contenders:
                fleet = Fleet(processes[key], agents, think_s=think_s)
                await fleet.connect()
                fleets[key] = fleet
                entry: Results = {"repeats": [], "modules": native_modules(processes[key].pid)}
                if fleet.gws:
                    grown = fleet.rss_after_kib - fleet.rss_before_kib
                    entry["memory"] = {
                        "rss_before_kib": fleet.rss_before_kib,
                        "rss_after_kib": fleet.rss_after_kib,
                        "per_agent_kib": grown / agents,
                    }
                section[key][str(agents)] = entry
            log(f"{agents} agents{paced}: {len(fleets)} contenders connected")
            keys = list(contenders)
            for repeat in range(repeats):
                turn = repeat % len(keys)
                order = keys[turn:] + keys[:turn]
                figures = []
                for key in order:
                    window = await fleets[key].window(settings.window_s, settings.warmup_s)
                    summary = window.summary()
                    section[key][str(agents)]["repeats"].append(summary)
                    figures.append(
                        f"{key} {summary['ops_per_s']:,.0f} ops/s"
                        f" p99 {summary['http_p99_ms']:.1f} ms"
                    )
                log(f"{agents} agents{paced}, repeat {repeat + 1}/{repeats}: " + "; ".join(figures))
        finally:
            for fleet in fleets.values():
                await fleet.close()
            for process in processes.values():
                process.stop()
            shutil.rmtree(workdir, ignore_errors=True)
    return section


def machine() -> Results:
    """The machine, the Python and the versions of the stack."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    versions = {}
    for name in ("email-fsm", "starlette", "uvicorn", "httptools", "uvloop", "h11", "pydantic"):
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "absent"
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gb": round(ram, 1),
        "platform": platform.platform(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "versions": versions,
        "stack": stack(),
    }


def stack() -> dict[str, str]:
    """What uvicorn's ``Config(http="auto", loop="auto")`` (the servers' settings) picks
    here, and the driver's loop and HTTP client."""
    from uvicorn.loops.auto import auto_loop_factory
    from uvicorn.protocols.http.auto import AutoHTTPProtocol

    factory = auto_loop_factory()
    loop = f"{getattr(factory, '__module__', '?')}.{getattr(factory, '__qualname__', factory)}"
    driver = _loop_factory()
    return {
        "server_http": f"{AutoHTTPProtocol.__module__}.{AutoHTTPProtocol.__qualname__}",
        "server_loop": loop,
        "driver_loop": "uvloop" if driver is not None else "asyncio",
        "driver_http": "benchmarks.server.wire.Client (HTTP/1.1 keep-alive on asyncio streams)",
    }


def fsync_probe(count: int = 50, pause_s: float = 0.01) -> Results:
    """How long the temporary directory's file system takes to make a small append
    durable: ``count`` times a 4 KiB write and ``os.fsync``, ``pause_s`` apart (what
    SQLite's synchronous full waits for at each commit), in milliseconds."""
    times: list[float] = []
    with (
        tempfile.TemporaryDirectory(prefix="email-fsm-fsync-") as directory,
        open(Path(directory) / "probe", "wb") as file,
    ):
        for _ in range(count):
            file.write(b"x" * 4096)
            file.flush()
            started = time.perf_counter()
            os.fsync(file.fileno())
            times.append((time.perf_counter() - started) * 1000)
            time.sleep(pause_s)
    return {
        "count": count,
        "p50_ms": percentile(times, 0.5),
        "p99_ms": percentile(times, 0.99),
        "max_ms": max(times),
    }


def _load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def run(
    settings: Settings, log: Log = _print, *, sections: Sequence[str] = ("load", "paced", "replay")
) -> Results:
    """Every section of the benchmark, with the machine, the settings and the load."""
    started = time.monotonic()
    meta: Results = {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        **machine(),
        "load_start": _load_average(),
        "settings": {
            **asdict(settings),
            "capacity": CAPACITY,
            "comments": COMMENTS,
            "lifecycle": [name for name, _ in LIFECYCLE],
        },
    }
    log(f"load average {meta['load_start']}")
    results: Results = {"meta": meta}
    fsync = meta["fsync"] = {"start": fsync_probe()}
    if "load" in sections:
        results["load"] = load_section(settings, log)
    if "paced" in sections:
        fsync["before paced"] = fsync_probe()
        results["paced"] = paced_section(settings, log)
    fsync["end"] = fsync_probe()
    probes = (
        f"{key} {v['p50_ms']:.1f} {v['p99_ms']:.1f} {v['max_ms']:.1f}" for key, v in fsync.items()
    )
    log("fsync of 4 KiB, ms (p50, p99, max): " + "; ".join(probes))
    if "replay" in sections:
        log(f"replay: {settings.replay_emails:,} emails, {settings.replay_repeats} repeats")
        results["replay"] = measure_replay(settings.replay_emails, settings.replay_repeats, log=log)
    meta["load_end"] = _load_average()
    meta["duration_s"] = round(time.monotonic() - started)
    log(f"load average {meta['load_end']}; {meta['duration_s']} s")
    return results
