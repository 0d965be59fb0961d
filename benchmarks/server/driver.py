"""The load driver: N agents, each logged in with a CometD long-poll, running lifecycles.

One :class:`Fleet` per contender, all in the driver's event loop (a process of its own,
apart from the servers; uvloop's loop where it is installed), speaking HTTP/1.1 with
keep-alive through :class:`~benchmarks.server.wire.Client` (a few tens of microseconds
of the driver's CPU per request, where httpx took over a millisecond). Against the
server, each agent

1. logs in as a GWS desktop does: ``GET /api/v2/me`` (Basic credentials; the session
   cookie afterwards), a CometD handshake at ``/api/v2/notifications``, a subscription
   to ``/v2/me/*`` with the first ``/meta/connect``, then ``StartContactCenterSession``
   on the ``email`` channel;
2. holds a ``/meta/connect`` at all times (a long-poll, sent again as soon as it is
   answered), through which the router's invitations and the notifications arrive;
3. works through its invitations one after the other: Accept, :data:`COMMENTS` times
   AddComment, Complete, each sent as soon as the previous one is answered; each
   Complete answered brings a new email through ``POST /sim/events`` (Arrive), which
   the router offers (``--capacity 2``, so that an agent's next invitation is usually
   there before it completes the current email). With ``think_s``, an agent waits about
   that long (0.5 to 1.5 times it) after each answer, as a person would; without, it
   sends at once and the server is kept busy.

Against the bare endpoint, each agent sends the same POSTs (same paths, same bodies, one
after the other) to made-up email ids, and there are no notifications.

:meth:`Fleet.window` lets the agents run for a warm-up, then counts for ``seconds``:
operations sent in the window and answered ``statusCode`` 0, their HTTP latency (sent
to answered), and the latency of their notification (sent to received by the agent's
long-poll; a notification is matched to its request by the ``referenceId`` the answer
and the notification share), with the CPU time of the server process and of the driver.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .processes import Process, cpu_seconds, rss_kib, waited_seconds
from .wire import Client

__all__ = ["CAPACITY", "COMMENTS", "LIFECYCLE", "Fleet", "Window", "percentile"]

CAPACITY = 2
"""``--capacity``: the emails the router lets an agent hold (invited or owned)."""
COMMENTS = 3
"""AddComment requests per lifecycle."""
COMETD = "/api/v2/notifications"
_DRAIN_S = 10.0


def _body(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload).encode()


LIFECYCLE: tuple[tuple[str, bytes], ...] = (
    ("Accept", _body({"operationName": "Accept"})),
    *(
        ("AddComment", _body({"operationName": "AddComment", "comment": f"note {i + 1}"}))
        for i in range(COMMENTS)
    ),
    ("Complete", _body({"operationName": "Complete"})),
)
"""What an agent sends for each email it is offered."""

_ARRIVE = _body(
    {
        "event": "Arrive",
        "queueName": "q",
        "email": {
            "from": "customer@example.com",
            "to": ["support@example.com"],
            "subject": "My order",
            "bodyAsPlainText": "Where is my order? It has been two weeks.",
        },
    }
)


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile (0.0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


@dataclass(slots=True)
class Window:
    """What one measured window counted (latencies in milliseconds)."""

    seconds: float
    operations: int
    refused: int
    http_ms: list[float]
    notification_ms: list[float]
    notifications_missing: int
    """Operations of the window answered with a referenceId whose notification never came."""
    notifications_orphan: int
    """Notifications with a referenceId no answer had (0 unless something is wrong)."""
    arrivals: int
    requests: int
    """HTTP requests of the contender's agents answered in the window, of every kind
    (operations, long-polls, Arrives)."""
    server_cpu_s: float
    driver_cpu_s: float
    server_waited_s: float
    """Time the server's threads were runnable but waited for a CPU (other processes
    had it)."""
    driver_waited_s: float
    load: float

    def summary(self) -> dict[str, Any]:
        ops = max(self.operations, 1)
        return {
            "seconds": round(self.seconds, 4),
            "operations": self.operations,
            "refused": self.refused,
            "ops_per_s": self.operations / self.seconds,
            "http_p50_ms": percentile(self.http_ms, 0.50),
            "http_p99_ms": percentile(self.http_ms, 0.99),
            "notifications": len(self.notification_ms),
            "notification_p50_ms": percentile(self.notification_ms, 0.50),
            "notification_p99_ms": percentile(self.notification_ms, 0.99),
            "notifications_missing": self.notifications_missing,
            "notifications_orphan": self.notifications_orphan,
            "arrivals": self.arrivals,
            "requests": self.requests,
            "requests_per_op": self.requests / ops,
            "server_cpu_s": self.server_cpu_s,
            "driver_cpu_s": self.driver_cpu_s,
            "server_cpu_per_op_us": self.server_cpu_s / ops * 1e6,
            "driver_cpu_per_op_us": self.driver_cpu_s / ops * 1e6,
            "server_cpu_per_request_us": self.server_cpu_s / max(self.requests, 1) * 1e6,
            "server_cores": self.server_cpu_s / self.seconds,
            "driver_cores": self.driver_cpu_s / self.seconds,
            "server_waiting": self.server_waited_s / self.seconds,
            "driver_waiting": self.driver_waited_s / self.seconds,
            "load": self.load,
        }


@dataclass(eq=False, slots=True)
class _Agent:
    name: str
    http: Client
    client_id: str = ""
    invitations: asyncio.Queue[str] = field(default_factory=asyncio.Queue)


class DriverError(RuntimeError):
    """The server answered something a GWS desktop would not expect."""


class Fleet:
    """N agents against one contender (see the module's documentation)."""

    def __init__(
        self, process: Process, agents: int, *, think_s: float = 0.0, prefix: str = "agent"
    ) -> None:
        self.process = process
        self.gws = process.contender.gws
        self.size = agents
        self.think_s = think_s
        """After each answer, an agent waits this long on average (0: not at all)."""
        self.prefix = prefix
        self._random = random.Random(agents)
        self.running = asyncio.Event()
        self.closed = False
        self.agents: list[_Agent] = []
        self.tasks: set[asyncio.Task[None]] = set()
        self.failure: BaseException | None = None
        self.rss_before_kib = 0
        self.rss_after_kib = 0
        self.in_flight = 0
        self._reset()

    def _reset(self) -> None:
        self.recording = False
        self.operations = 0
        self.refused = 0
        self.arrivals = 0
        self.http_ms: list[float] = []
        self.notification_ms: list[float] = []
        # referenceId -> (sent at, in the window): answered, the notification awaited
        self.awaiting: dict[int, tuple[float, bool]] = {}
        # referenceId -> received at: notified before the answer came
        self.early: dict[int, float] = {}

    def _client(self) -> Client:
        return Client(self.process.url)

    def _answered(self) -> int:
        return sum(agent.http.answered for agent in self.agents)

    # ------------------------------------------------------------ set-up

    async def connect(self) -> None:
        """Log every agent in (the server's memory read before and after), start the
        long-polls and the workers, and seed the queue."""
        if self.gws:
            # A first agent in and out, so that "before" has the code paths warm.
            warm = _Agent(f"{self.prefix}-warm-up", self._client())
            await self._login(warm)
            await self._post(warm, "/api/v2/me", {"operationName": "EndContactCenterSession"})
            await self._cometd(warm, [{"channel": "/meta/disconnect", "clientId": warm.client_id}])
            await warm.http.aclose()
            await asyncio.sleep(0.2)
            self.rss_before_kib = rss_kib(self.process.pid)
        self.agents = [_Agent(f"{self.prefix}{i}", self._client()) for i in range(self.size)]
        if self.gws:
            gate = asyncio.Semaphore(25)

            async def login(agent: _Agent) -> None:
                async with gate:
                    await self._login(agent)

            await asyncio.gather(*(login(agent) for agent in self.agents))
            await asyncio.sleep(0.2)
            self.rss_after_kib = rss_kib(self.process.pid)
            for agent in self.agents:
                self._spawn(self._poll(agent))
            for _ in range(self.size * (CAPACITY + 1)):
                await self._arrive(self.agents[0])
        for index, agent in enumerate(self.agents):
            self._spawn(self._work(agent) if self.gws else self._work_bare(agent, index))

    async def _login(self, agent: _Agent) -> None:
        answer = await agent.http.get("/api/v2/me", auth=(agent.name, "secret"))
        if answer.status != 200 or "JSESSIONID" not in agent.http.cookies:
            raise DriverError(f"{agent.name}: GET /api/v2/me answered {answer.status}")
        shake = await self._cometd(
            agent,
            [
                {
                    "channel": "/meta/handshake",
                    "version": "1.0",
                    "supportedConnectionTypes": ["long-polling"],
                }
            ],
        )
        agent.client_id = shake[0]["clientId"]
        await self._cometd(
            agent,
            [
                {"channel": "/meta/subscribe", "subscription": "/v2/me/*", **self._id(agent)},
                {**self._connect(agent), "advice": {"timeout": 0}},
            ],
        )
        await self._post(
            agent,
            "/api/v2/me",
            {"operationName": "StartContactCenterSession", "channels": ["email"]},
        )

    @staticmethod
    def _id(agent: _Agent) -> dict[str, str]:
        return {"clientId": agent.client_id}

    def _connect(self, agent: _Agent) -> dict[str, Any]:
        return {"channel": "/meta/connect", "connectionType": "long-polling", **self._id(agent)}

    async def _cometd(self, agent: _Agent, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        answer = await agent.http.post(COMETD, _body_list(messages))
        replies: list[dict[str, Any]] = answer.json()
        for reply in replies:
            if reply.get("channel", "").startswith("/meta/") and not reply.get("successful"):
                raise DriverError(f"{agent.name}: CometD refused: {reply}")
        return replies

    async def _post(self, agent: _Agent, path: str, payload: dict[str, Any]) -> None:
        answer = (await agent.http.post(path, _body(payload))).json()
        if answer.get("statusCode") != 0:
            raise DriverError(f"{agent.name}: {path} answered {answer}")

    def _spawn(self, work: Any) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(work)
        self.tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None and not self.closed:
            self.failure = self.failure or task.exception()

    # ------------------------------------------------------------ the agents

    async def _poll(self, agent: _Agent) -> None:
        body = _body_list([self._connect(agent)])
        while not self.closed:
            answer = await agent.http.post(COMETD, body)
            received = time.perf_counter()
            for message in answer.json():
                data = message.get("data")
                if data is None:
                    if not message.get("successful") and not self.closed:
                        raise DriverError(f"{agent.name}: connect refused: {message}")
                    continue
                reference = data.get("referenceId")
                if reference is not None:
                    self._notified(reference, received)
                elif data.get("email", {}).get("state") == "Invited":
                    agent.invitations.put_nowait(data["email"]["id"])

    async def _work(self, agent: _Agent) -> None:
        while True:
            email_id = await agent.invitations.get()
            path = f"/api/v2/me/emails/{email_id}"
            for _, body in LIFECYCLE:
                await self._operate(agent, path, body)
            self._spawn(self._arrive(agent))

    async def _work_bare(self, agent: _Agent, index: int) -> None:
        number = 0
        while True:
            number += 1
            path = f"/api/v2/me/emails/E{index}-{number}"
            for _, body in LIFECYCLE:
                await self._operate(agent, path, body)

    async def _arrive(self, agent: _Agent) -> None:
        answer = await agent.http.post("/sim/events", _ARRIVE)
        if answer.json().get("statusCode") != 0:
            raise DriverError(f"Arrive answered {answer.text}")
        if self.recording:
            self.arrivals += 1

    async def _operate(self, agent: _Agent, path: str, body: bytes) -> None:
        await self.running.wait()
        counted = self.recording
        self.in_flight += 1
        sent = time.perf_counter()
        try:
            response = await agent.http.post(path, body)
        finally:
            self.in_flight -= 1
        answered = time.perf_counter()
        answer = response.json()
        accepted = answer.get("statusCode") == 0
        if counted:
            self.http_ms.append((answered - sent) * 1000)
            if accepted:
                self.operations += 1
            else:
                self.refused += 1
        if not accepted:
            raise DriverError(f"{agent.name}: {path} answered {answer}")
        reference = answer.get("referenceId")
        if self.gws:
            if reference is None:
                raise DriverError(f"{agent.name}: {path} answered without a referenceId")
            notified = self.early.pop(reference, None)
            if notified is None:
                self.awaiting[reference] = (sent, counted)
            elif counted:
                self.notification_ms.append((notified - sent) * 1000)
        if self.think_s:
            await asyncio.sleep(self._random.uniform(0.5, 1.5) * self.think_s)

    def _notified(self, reference: int, received: float) -> None:
        pending = self.awaiting.pop(reference, None)
        if pending is None:
            self.early[reference] = received
            return
        sent, counted = pending
        if counted:
            self.notification_ms.append((received - sent) * 1000)

    # ------------------------------------------------------------ measuring

    async def window(self, seconds: float, warmup: float) -> Window:
        """Run the agents for ``warmup`` seconds, then measure ``seconds``; then pause them
        and wait for the window's notifications."""
        self._check()
        self.running.set()
        await asyncio.sleep(warmup)
        self._check()
        pids = getattr(self.process, "pids", (self.process.pid,))
        counted = self.awaiting
        self._reset()
        self.awaiting = counted  # answered before the window: still to be matched
        self.recording = True
        started = time.perf_counter()
        me = os.getpid()
        cpu, driver, answered = _sum(cpu_seconds, pids), time.process_time(), self._answered()
        waited, waited_driver = _sum(waited_seconds, pids), waited_seconds(me)
        await asyncio.sleep(seconds)
        cpu, driver = _sum(cpu_seconds, pids) - cpu, time.process_time() - driver
        answered = self._answered() - answered
        waited = _sum(waited_seconds, pids) - waited
        waited_driver = waited_seconds(me) - waited_driver
        ended = time.perf_counter()
        self.recording = False
        self.running.clear()
        deadline = time.monotonic() + _DRAIN_S
        while (self.in_flight or self._missing()) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        self._check()
        return Window(
            seconds=ended - started,
            operations=self.operations,
            refused=self.refused,
            http_ms=self.http_ms,
            notification_ms=self.notification_ms,
            notifications_missing=self._missing(),
            notifications_orphan=len(self.early),
            arrivals=self.arrivals,
            requests=answered,
            server_cpu_s=cpu,
            driver_cpu_s=driver,
            server_waited_s=waited,
            driver_waited_s=waited_driver,
            load=os.getloadavg()[0],
        )

    def _missing(self) -> int:
        return sum(1 for _, counted in self.awaiting.values() if counted)

    def _check(self) -> None:
        if self.failure is not None:
            raise DriverError(f"an agent failed: {self.failure!r}") from self.failure

    async def close(self) -> None:
        """Stop the agents and close their connections (the server keeps running)."""
        self.closed = True
        for task in tuple(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await asyncio.gather(*(agent.http.aclose() for agent in self.agents))


def _body_list(messages: list[dict[str, Any]]) -> bytes:
    return json.dumps(messages).encode()


def _sum(measure: Callable[[int], float], pids: Sequence[int]) -> float:
    """``measure`` summed over the contender's processes (one, or several on PostgreSQL)."""
    return sum(measure(pid) for pid in pids)
