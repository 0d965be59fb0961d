"""Running the GWS-compatible server for tests: in this loop, in a thread, or as a process.

- :func:`serving` runs uvicorn in the test's own event loop (async tests, in-process:
  coverage sees the server's code);
- :class:`ThreadedServer` runs it in a thread with a loop of its own, for clients that
  block or run in another process (Node.js);
- :func:`spawn` starts ``email-fsm serve`` as a separate process (to kill it with
  SIGKILL), and :func:`wait_ready` waits until it answers.

Every server listens on 127.0.0.1, on a port the system chose.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from types import TracebackType

import httpx
from starlette.applications import Starlette

from email_fsm.server import ServerSettings
from email_fsm.server.run import uvicorn_server

HOST = "127.0.0.1"


def free_port() -> int:
    """A TCP port on loopback that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.asynccontextmanager
async def serving_app(
    settings: ServerSettings | None = None,
) -> AsyncIterator[tuple[str, Starlette]]:
    """Serve ``settings``' server in this loop; yields its base URL (``http://host:port``)
    and its application (``app.state.service``, ``app.state.hub``)."""
    port = free_port()
    server = uvicorn_server(settings or ServerSettings(), host=HOST, port=port)
    app = server.config.app
    assert isinstance(app, Starlette)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("the server stopped before it started")
        await asyncio.sleep(0.01)
    try:
        yield f"http://{HOST}:{port}", app
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


@contextlib.asynccontextmanager
async def serving(settings: ServerSettings | None = None) -> AsyncIterator[str]:
    """Serve ``settings``' server in this loop; yields its base URL (``http://host:port``)."""
    async with serving_app(settings) as (url, _):
        yield url


class ThreadedServer:
    """Serve a server in a thread of its own: ``with ThreadedServer(settings) as url:``."""

    def __init__(self, settings: ServerSettings | None = None, *, port: int | None = None) -> None:
        self.port = free_port() if port is None else port
        self.server = uvicorn_server(settings or ServerSettings(), host=HOST, port=self.port)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.url = f"http://{HOST}:{self.port}"

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.01)
        return self.url

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def spawn(arguments: Sequence[str], *, cwd: Path, port: int) -> subprocess.Popen[bytes]:
    """Start ``email-fsm serve --port PORT ARGUMENTS...`` as a process of its own."""
    command = [
        sys.executable,
        "-c",
        "from email_fsm.cli import main_entry; main_entry()",
        "serve",
        "--host",
        HOST,
        "--port",
        str(port),
        "--quiet",
        *arguments,
    ]
    return subprocess.Popen(
        command,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def wait_ready(
    url: str, process: subprocess.Popen[bytes] | None = None, timeout: float = 20
) -> None:
    """Wait until the server at ``url`` answers ``GET /api/v2/me`` (with any status)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            stderr = process.stderr.read().decode() if process.stderr else ""
            raise RuntimeError(f"the server exited with {process.returncode}: {stderr}")
        try:
            httpx.get(f"{url}/api/v2/me", timeout=1)
        except httpx.TransportError:
            time.sleep(0.05)
            continue
        return
    raise RuntimeError(f"no server answered at {url} within {timeout} s")


def kill(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the process (unless it has ended: its pid may be another's by now) and
    reap it."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGKILL)
    process.wait(10)
