"""``python -m benchmarks.server.clients``: what an HTTP client costs the driver.

Against the bare endpoint (one process, as the benchmark starts it), N concurrent
keep-alive clients each POST an AddComment body one after the other for a while, with
httpx, aiohttp (where installed) and :class:`~benchmarks.server.wire.Client`, each on
asyncio's loop and on uvloop's; printed per run: requests per second, and the CPU time
per request of the driver (this process) and of the endpoint. The driver uses the
cheapest (see ``README.md``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from .processes import CONTENDERS, cpu_seconds, start
from .wire import Client

_BODY = json.dumps({"operationName": "AddComment", "comment": "note 1"}).encode()
_PATH = "/api/v2/me/emails/E1"
_JSON = {"content-type": "application/json"}

Send = Callable[[], Awaitable[object]]
Close = Callable[[], Awaitable[None]]


async def _clients(kind: str, url: str, count: int) -> tuple[list[Send], Close]:
    if kind == "httpx":
        import httpx

        pool = [httpx.AsyncClient(base_url=url) for _ in range(count)]

        def httpx_send(client: httpx.AsyncClient) -> Send:
            async def send() -> object:
                return (await client.post(_PATH, content=_BODY, headers=_JSON)).json()

            return send

        async def httpx_close() -> None:
            await asyncio.gather(*(client.aclose() for client in pool))

        return [httpx_send(client) for client in pool], httpx_close
    if kind == "aiohttp":
        import aiohttp

        session = aiohttp.ClientSession(url, connector=aiohttp.TCPConnector(limit=0))

        async def aiohttp_send() -> object:
            async with session.post(_PATH, data=_BODY, headers=_JSON) as answer:
                return json.loads(await answer.read())

        return [aiohttp_send] * count, session.close
    wire = [Client(url) for _ in range(count)]

    def wire_send(client: Client) -> Send:
        async def send() -> object:
            return (await client.post(_PATH, _BODY)).json()

        return send

    async def wire_close() -> None:
        await asyncio.gather(*(client.aclose() for client in wire))

    return [wire_send(client) for client in wire], wire_close


async def _measure(kind: str, url: str, pid: int, count: int, seconds: float) -> dict[str, float]:
    sends, close = await _clients(kind, url, count)
    stop = False
    answered = 0

    async def loop(send: Send) -> None:
        nonlocal answered
        while not stop:
            await send()
            answered += 1

    tasks = [asyncio.ensure_future(loop(send)) for send in sends]
    await asyncio.sleep(min(0.5, seconds / 4))  # connections open, code paths warm
    before = (cpu_seconds(pid), time.process_time(), answered, time.perf_counter())
    await asyncio.sleep(seconds)
    after = (cpu_seconds(pid), time.process_time(), answered, time.perf_counter())
    stop = True
    await asyncio.gather(*tasks)
    await close()
    requests = max(after[2] - before[2], 1)
    return {
        "requests_per_s": requests / (after[3] - before[3]),
        "driver_cpu_per_request_us": (after[1] - before[1]) / requests * 1e6,
        "server_cpu_per_request_us": (after[0] - before[0]) / requests * 1e6,
    }


def _loops() -> list[tuple[str, Callable[[], asyncio.AbstractEventLoop] | None]]:
    loops: list[tuple[str, Callable[[], asyncio.AbstractEventLoop] | None]] = [("asyncio", None)]
    try:
        import uvloop
    except ImportError:
        return loops
    return [*loops, ("uvloop", uvloop.new_event_loop)]


def compare(count: int = 10, seconds: float = 3.0) -> list[dict[str, object]]:
    """One row per client and loop (see the module's documentation)."""
    kinds = ["httpx", "wire"]
    try:
        import aiohttp  # noqa: F401
    except ImportError:
        pass
    else:
        kinds.insert(1, "aiohttp")
    workdir = Path(tempfile.mkdtemp(prefix="email-fsm-clients-"))
    process = start(CONTENDERS["bare"], workdir, capacity=1)
    rows: list[dict[str, object]] = []
    try:
        for kind in kinds:
            for loop, factory in _loops():
                with asyncio.Runner(loop_factory=factory) as runner:
                    figures = runner.run(_measure(kind, process.url, process.pid, count, seconds))
                rows.append({"client": kind, "loop": loop, **figures})
    finally:
        process.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.server.clients", description=__doc__
    )
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args(argv)
    print(f"load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print("| client | loop | requests/s | driver CPU/request, µs | endpoint CPU/request, µs |")
    print("|---|---|---|---|---|")
    for row in compare(args.clients, args.seconds):
        print(
            f"| {row['client']} | {row['loop']} | {row['requests_per_s']:,.0f} "
            f"| {row['driver_cpu_per_request_us']:,.0f} | {row['server_cpu_per_request_us']:,.0f} |"
        )
    print(f"load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
