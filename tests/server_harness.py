"""Running the GWS-compatible server for tests: in this loop, in a thread, or as a process.

- :func:`serving` runs uvicorn in the test's own event loop (async tests, in-process:
  coverage sees the server's code);
- :class:`ThreadedServer` runs it in a thread with a loop of its own, for clients that
  block or run in another process (Node.js);
- :func:`spawn` starts ``email-fsm serve`` as a separate process (to kill it with
  SIGKILL), and :func:`wait_ready` waits until it answers;
- :class:`RandomProxy` forwards each HTTP request to a backend chosen at random (a load
  balancer with no sticky sessions), in a thread of its own.

Every server listens on 127.0.0.1, on a port the system chose.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
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


class RandomProxy:
    """A reverse proxy on loopback that sends each HTTP request to one of ``backends``
    (``http://host:port``) chosen at random, on a connection of its own, and returns
    the answer with ``Connection: close``: as a load balancer with no sticky sessions,
    every request and every CometD connect may land on any server. A backend that
    refuses the connection is skipped (the next one is tried, as a balancer's health
    check would); one that dies during a request makes it a 502.

    ``with RandomProxy(backends) as url:`` serves until the block ends; ``forwarded``
    counts the requests each backend got.
    """

    def __init__(self, backends: Sequence[str], *, port: int | None = None, seed: int = 0) -> None:
        self.backends = [b.removeprefix("http://") for b in backends]
        self.port = free_port() if port is None else port
        self.url = f"http://{HOST}:{self.port}"
        self.forwarded = dict.fromkeys(self.backends, 0)
        self._random = random.Random(seed)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None

    def __enter__(self) -> str:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._start(), self._loop)
        future.result(10)
        return self.url

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._serve, HOST, self.port)

    async def _stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in asyncio.all_tasks(self._loop):
            if task is not asyncio.current_task():
                task.cancel()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    return
                answer = await self._forward(request)
                writer.write(answer)
                await writer.drain()
                if b"\r\nconnection: close" in answer.split(b"\r\n\r\n", 1)[0].lower():
                    return
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            return
        finally:
            writer.close()

    async def _forward(self, request: bytes) -> bytes:
        candidates = list(self.backends)
        self._random.shuffle(candidates)
        for backend in candidates:
            host, _, port = backend.partition(":")
            try:
                upstream_reader, upstream_writer = await asyncio.open_connection(host, int(port))
            except OSError:
                continue  # down: try another
            self.forwarded[backend] += 1
            try:
                upstream_writer.write(request)
                await upstream_writer.drain()
                answer = await upstream_reader.read()
            except OSError:
                answer = b""
            finally:
                upstream_writer.close()
            if not answer:
                break
            return answer
        body = b'{"statusCode": 1, "statusMessage": "no backend answered"}'
        return (
            b"HTTP/1.1 502 Bad Gateway\r\ncontent-type: application/json\r\n"
            + f"content-length: {len(body)}\r\nconnection: close\r\n\r\n".encode()
            + body
        )


async def _read_request(reader: asyncio.StreamReader) -> bytes | None:
    """One HTTP/1.1 request (a body of known length), rewritten for a connection of its
    own upstream (``Connection: close``); None at the end of the stream."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    lines = head[:-4].split(b"\r\n")
    kept = [lines[0]]
    length = 0
    chunked = False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        lowered = name.strip().lower()
        if lowered == b"content-length":
            length = int(value.strip())
            continue
        if lowered == b"transfer-encoding":
            chunked = b"chunked" in value.lower()
            continue
        if lowered in (b"connection", b"keep-alive"):
            continue
        kept.append(line)
    if chunked:
        parts = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0].strip(), 16)
            if size == 0:
                await reader.readuntil(b"\r\n")  # no trailers
                break
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)
        body = b"".join(parts)
    else:
        body = await reader.readexactly(length) if length else b""
    kept.append(f"Content-Length: {len(body)}".encode())
    kept.append(b"Connection: close")
    return b"\r\n".join(kept) + b"\r\n\r\n" + body
