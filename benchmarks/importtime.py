"""Import time: ``import email_fsm`` against ``import pydantic``, each in a fresh interpreter.

A package's import is paid once per process, so it is measured in fresh processes of the
interpreter running the benchmarks (``sys.executable``). Per repeat, three processes run
one after the other, each repeat starting with the next one: ``python -c "pass"`` (the
interpreter's start-up alone), ``python -c "import pydantic"`` and
``python -c "import email_fsm"``. The clock is the CPU time of the child process (user +
system, from ``getrusage(RUSAGE_CHILDREN)``), as the harness takes the CPU time of the
thread; the wall-clock time is kept too. An untimed round first writes the bytecode
caches.

:func:`ratios` gives email_fsm's time over pydantic's for each repeat, including the
start-up (the processes as they are) or excluding it (the ``pass`` process's time of the
same repeat taken off both).
"""

from __future__ import annotations

import datetime
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any, Literal

__all__ = ["CLOCKS", "COMMANDS", "Clock", "measure", "ratios"]

Results = dict[str, Any]
Clock = Literal["cpu_ns", "wall_ns"]

COMMANDS: dict[str, str] = {
    "pass": "pass",
    "pydantic": "import pydantic",
    "email_fsm": "import email_fsm",
}
"""What each child process runs (``python -c``), by key; ``pass`` is the start-up alone."""

CLOCKS: dict[Clock, str] = {
    "cpu_ns": "CPU time of the child process (user + system, getrusage(RUSAGE_CHILDREN))",
    "wall_ns": "wall-clock time from start to exit (time.perf_counter_ns)",
}

# What would change the children's imports: the profiler of imports, no bytecode caches,
# coverage started in every child (pytest-cov's subprocess support).
_UNSET = ("PYTHONPROFILEIMPORTTIME", "PYTHONDONTWRITEBYTECODE", "COVERAGE_PROCESS_START")


def _environment() -> dict[str, str]:
    return {
        name: value
        for name, value in os.environ.items()
        if name not in _UNSET and not name.startswith("COV_CORE_")
    }


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(code: str, environment: dict[str, str]) -> tuple[float, float]:
    """(CPU ns, wall-clock ns) of one fresh ``python -c code`` process."""
    cpu = _cpu_s()
    start = time.perf_counter_ns()
    subprocess.run(
        [sys.executable, "-c", code],
        check=True,
        env=environment,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
    )
    wall = time.perf_counter_ns() - start
    return (_cpu_s() - cpu) * 1e9, float(wall)


def _load() -> str:
    try:
        return " ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "unknown"


def measure(repeats: int, log: Callable[[str], None] = print) -> Results:
    """Time the three processes ``repeats`` times, taking turns; return JSON-able results."""
    environment = _environment()
    keys = list(COMMANDS)
    for key in keys:  # the untimed round: bytecode caches written, files in the page cache
        _run(COMMANDS[key], environment)
    times: dict[str, dict[str, list[float]]] = {clock: {k: [] for k in keys} for clock in CLOCKS}
    load = _load()
    for repeat in range(repeats):
        if repeat % 10 == 0:
            log(f"import: repeat {repeat + 1}/{repeats}")
        start = repeat % len(keys)
        for key in keys[start:] + keys[:start]:
            cpu, wall = _run(COMMANDS[key], environment)
            times["cpu_ns"][key].append(cpu)
            times["wall_ns"][key].append(wall)
    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "load": f"{load} at the start, {_load()} at the end",
        "repeats": repeats,
        "commands": COMMANDS,
        "clocks": CLOCKS,
        **times,
    }


def ratios(
    results: Results,
    clock: Clock = "cpu_ns",
    *,
    startup: bool = False,
) -> list[float]:
    """email_fsm's time over pydantic's, per repeat; ``startup``: with the start-up in both."""
    times = results[clock]
    out = []
    for bare, pydantic, ours in zip(
        times["pass"], times["pydantic"], times["email_fsm"], strict=True
    ):
        if startup:
            out.append(ours / pydantic)
        else:
            out.append((ours - bare) / max(pydantic - bare, 1.0))
    return out
