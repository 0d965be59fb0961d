"""The contenders as processes: the server with each store, and the bare endpoint.

Each contender is a process of its own on 127.0.0.1 (a port the system chose); the
driver reads its CPU time from ``/proc/<pid>/stat`` and its memory from
``/proc/<pid>/status``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

__all__ = [
    "CONTENDERS",
    "HOST",
    "Contender",
    "Process",
    "cpu_seconds",
    "free_port",
    "native_modules",
    "rss_kib",
    "start",
    "waited_seconds",
]

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True, slots=True)
class Contender:
    """One side of the comparison: how to start it, and whether it is the real server."""

    key: str
    label: str
    store: str | None
    """``memory``, ``full`` or ``normal`` (SQLite's synchronous), ``postgres`` (a
    database URL given to :func:`start`); None: the bare endpoint."""

    @property
    def gws(self) -> bool:
        return self.store is not None


CONTENDERS: dict[str, Contender] = {
    c.key: c
    for c in (
        Contender("memory", "server, --store memory", "memory"),
        Contender("sqlite_full", "server, SQLite --synchronous full", "full"),
        Contender("sqlite_normal", "server, SQLite --synchronous normal", "normal"),
        Contender("bare", "bare Starlette endpoint", None),
    )
}


def free_port() -> int:
    """A TCP port on loopback that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(slots=True)
class Process:
    """A running contender."""

    contender: Contender
    popen: subprocess.Popen[bytes]
    url: str

    @property
    def pid(self) -> int:
        return self.popen.pid

    def stop(self) -> None:
        """SIGINT (uvicorn's graceful shutdown), then SIGKILL after 15 s."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGINT)
            try:
                self.popen.wait(15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    self.popen.kill()
                self.popen.wait(10)


def command(
    contender: Contender, port: int, workdir: Path, capacity: int, database: str | None = None
) -> list[str]:
    """The command line that starts ``contender`` on ``port`` (``database``: the
    PostgreSQL URL of a ``postgres`` contender)."""
    if contender.store is None:
        return [sys.executable, "-m", "benchmarks.server.bare", "--host", HOST, "--port", str(port)]
    store = "memory" if contender.store == "memory" else f"sqlite:///{workdir / 'events.sqlite'}"
    if contender.store == "postgres":
        if database is None:
            raise ValueError("a postgres contender needs its database URL")
        store = database
    synchronous = "normal" if contender.store == "normal" else "full"
    return [
        sys.executable,
        "-c",
        "from email_fsm.cli import main_entry; main_entry()",
        "serve",
        "--host",
        HOST,
        "--port",
        str(port),
        "--quiet",
        "--open",
        "--store",
        store,
        "--synchronous",
        synchronous,
        "--capacity",
        str(capacity),
        "--offer-timeout",
        "0",
    ]


def start(
    contender: Contender, workdir: Path, *, capacity: int, database: str | None = None
) -> Process:
    """Start ``contender`` (its files in ``workdir``; ``database``: a ``postgres``
    contender's) and wait until it answers."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    popen = subprocess.Popen(
        command(contender, port, workdir, capacity, database),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=(workdir / "stderr.txt").open("wb"),
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    url = f"http://{HOST}:{port}"
    deadline = time.monotonic() + 30
    while True:
        if popen.poll() is not None:
            error = (workdir / "stderr.txt").read_text(errors="replace")
            raise RuntimeError(f"{contender.key} exited with {popen.returncode}: {error}")
        try:
            httpx.get(f"{url}/api/v2/me", timeout=1)
        except httpx.TransportError:
            if time.monotonic() > deadline:
                popen.kill()
                raise RuntimeError(f"{contender.key} did not answer at {url} within 30 s") from None
            time.sleep(0.05)
            continue
        return Process(contender, popen, url)


_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """The process's CPU time so far, user + system, all its threads (``/proc/<pid>/stat``)."""
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rindex(")") + 2 :].split()
    # After the command's closing parenthesis, utime and stime are the 12th and 13th fields.
    return (int(fields[11]) + int(fields[12])) / _TICKS


def rss_kib(pid: int) -> int:
    """The process's resident set (``VmRSS`` of ``/proc/<pid>/status``), in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


NATIVE = {"httptools": "/httptools/parser/", "uvloop": "/uvloop/"}
"""The compiled modules looked for in a server's memory map: uvicorn's fast HTTP parser
and event loop, which ``Config(http="auto", loop="auto")`` picks when importable."""


def native_modules(pid: int) -> dict[str, bool]:
    """Whether each of :data:`NATIVE` is loaded in the process (``/proc/<pid>/maps``)."""
    maps = Path(f"/proc/{pid}/maps").read_text()
    libraries = {line.rsplit(" ", 1)[-1] for line in maps.splitlines() if line.endswith(".so")}
    return {name: any(part in library for library in libraries) for name, part in NATIVE.items()}


def waited_seconds(pid: int) -> float:
    """The time the process's threads spent runnable but waiting for a CPU, so far
    (``/proc/<pid>/task/*/schedstat``; 0.0 where the kernel does not keep it)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            fields = (task / "schedstat").read_text().split()
        except OSError:  # the thread ended meanwhile, or no schedstat
            continue
        if len(fields) >= 2:
            total += int(fields[1])
    return total / 1e9
