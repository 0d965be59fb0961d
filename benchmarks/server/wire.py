"""A minimal HTTP/1.1 keep-alive client on asyncio streams, for the load driver.

httpx costs the driver about a millisecond of CPU per request, several times what the
server spends on it; this client does only what the driver needs (a POST or a GET with a
body of known length, an answer with ``Content-Length`` or chunked, the cookies) and
costs a few tens of microseconds (``python -m benchmarks.server.clients`` compares them),
so that the driver is not what limits the measured throughput.

A :class:`Client` keeps its idle connections to one host and opens another when all are
busy (an agent holds a long-poll and sends its operations beside it).
"""

from __future__ import annotations

import asyncio
import base64
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

__all__ = ["Answer", "Client", "WireError"]


class WireError(RuntimeError):
    """The connection ended or the answer was not HTTP/1.1 the client understands."""


class _Closed(WireError):
    """The connection ended before any byte of the answer."""


@dataclass(slots=True)
class Answer:
    """An HTTP answer: its status, headers (names in lower case) and body."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode(errors="replace")


class _Connection:
    __slots__ = ("reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def exchange(self, head: bytes, body: bytes) -> tuple[Answer, bool]:
        """Send one request; its answer, and whether the connection may be used again."""
        self.writer.write(head + body if body else head)
        reader = self.reader
        try:
            raw = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as error:
            if error.partial:
                raise WireError("the server closed the connection mid-answer") from error
            raise _Closed("the server closed the connection") from error
        except ConnectionResetError as error:
            raise _Closed("the server reset the connection") from error
        lines = raw.decode("latin-1").split("\r\n")
        status_line = lines[0].split(" ", 2)
        if len(status_line) < 2 or not status_line[0].startswith("HTTP/1."):
            raise WireError(f"not an HTTP/1.1 answer: {lines[0]!r}")
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                name = name.strip().lower()
                value = value.strip()
                # Several Set-Cookie headers: keep them all, one per line.
                headers[name] = f"{headers[name]}\n{value}" if name in headers else value
        length = headers.get("content-length")
        if length is not None:
            content = await reader.readexactly(int(length)) if length != "0" else b""
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            content = await self._chunked()
        else:
            content = await reader.read()
            return Answer(int(status_line[1]), headers, content), False
        reusable = headers.get("connection", "").lower() != "close"
        return Answer(int(status_line[1]), headers, content), reusable

    async def _chunked(self) -> bytes:
        parts: list[bytes] = []
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";", 1)[0], 16)
            if size == 0:
                while (await self.reader.readuntil(b"\r\n")) != b"\r\n":
                    pass  # trailers
                return b"".join(parts)
            parts.append(await self.reader.readexactly(size))
            await self.reader.readexactly(2)

    def close(self) -> None:
        self.writer.close()


class Client:
    """HTTP/1.1 to one ``http://host:port``, keep-alive, with the session cookie kept."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "http" or parts.hostname is None:
            raise ValueError(f"an http:// address is needed: {base_url!r}")
        self.host = parts.hostname
        self.port = parts.port or 80
        self._host_header = f"Host: {parts.netloc}\r\n".encode()
        self._idle: list[_Connection] = []
        self._open: set[_Connection] = set()
        self.cookies: dict[str, str] = {}
        self._cookie_header = b""
        self.answered = 0
        """Answers received so far."""

    async def request(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        *,
        auth: tuple[str, str] | None = None,
        json_body: bool = True,
    ) -> Answer:
        head = [f"{method} {path} HTTP/1.1\r\n".encode(), self._host_header]
        if body or method == "POST":
            head.append(f"Content-Length: {len(body)}\r\n".encode())
            if json_body:
                head.append(b"Content-Type: application/json\r\n")
        if auth is not None:
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            head.append(f"Authorization: Basic {token}\r\n".encode())
        head.append(self._cookie_header)
        head.append(b"\r\n")
        request = b"".join(head)
        connection = self._reuse()
        try:
            if connection is None:
                connection = await self._connect()
                answer, reusable = await connection.exchange(request, body)
            else:
                try:
                    answer, reusable = await connection.exchange(request, body)
                except _Closed:
                    # Closed by the server while idle (uvicorn's keep-alive timeout), as
                    # the request went out: it was not read; sent again on a new one.
                    self._drop(connection)
                    connection = await self._connect()
                    answer, reusable = await connection.exchange(request, body)
        except BaseException:
            if connection is not None:
                self._drop(connection)
            raise
        self.answered += 1
        if reusable:
            self._idle.append(connection)
        else:
            self._drop(connection)
        cookies = answer.headers.get("set-cookie")
        if cookies is not None:
            self._keep(cookies)
        return answer

    async def post(self, path: str, body: bytes) -> Answer:
        return await self.request("POST", path, body)

    async def get(self, path: str, *, auth: tuple[str, str] | None = None) -> Answer:
        return await self.request("GET", path, auth=auth)

    def _reuse(self) -> _Connection | None:
        while self._idle:
            connection = self._idle.pop()
            if connection.reader.at_eof() or connection.writer.is_closing():
                self._drop(connection)  # closed by the server while idle
                continue
            return connection
        return None

    async def _connect(self) -> _Connection:
        reader, writer = await asyncio.open_connection(self.host, self.port, limit=2**20)
        connection = _Connection(reader, writer)
        self._open.add(connection)
        return connection

    def _drop(self, connection: _Connection) -> None:
        self._open.discard(connection)
        connection.close()

    def _keep(self, headers: str) -> None:
        for header in headers.split("\n"):
            pair = header.split(";", 1)[0]
            name, _, value = pair.partition("=")
            self.cookies[name.strip()] = value.strip()
        cookie = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        self._cookie_header = f"Cookie: {cookie}\r\n".encode()

    async def aclose(self) -> None:
        """Close every connection (a request under way fails)."""
        self._idle.clear()
        for connection in tuple(self._open):
            self._drop(connection)
