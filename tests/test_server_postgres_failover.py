"""SIGKILL one of three server processes on one PostgreSQL while agents work through a
proxy that sends each request and each CometD connect to a random process: every
operation answered statusCode 0 is in the store, the agents carry on through the other
processes with the same CometD sessions, each session receives each of its
notifications once and in order, and the router's role moves to a surviving process."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from postgres_harness import (  # noqa: F401 - fixtures
    postgres_server,
    postgres_url,
    serving_cluster,
)
from server_harness import RandomProxy, kill

from email_fsm.events import CommentAdded, EmailCompleted, InvitationAccepted
from email_fsm.server.postgres import PostgresLog

pytestmark = pytest.mark.needs("postgres")

AGENTS = ("a1", "a2", "a3", "a4")
HOLD_MS = 1000
"""The connect timeout the agents ask for: a held connect is answered within a second."""


@dataclass
class Desk:
    """One agent's scripted desktop: a CometD session over long-polling and its work."""

    name: str
    http: httpx.AsyncClient
    client_id: str = ""
    texts: list[str] = field(default_factory=list)
    """Every notification received, as JSON text, in order."""
    invitations: asyncio.Queue[str] = field(default_factory=asyncio.Queue)
    acked: list[tuple[str, str, int, str]] = field(default_factory=list)
    """(operation, email id, referenceId, comment) of each answer with statusCode 0."""
    refused: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    """Refusals not explained by a lost answer before them: there should be none."""
    unknown_sessions: int = 0
    failed_connects: int = 0
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def cometd(self, *messages: dict[str, Any]) -> list[dict[str, Any]] | None:
        """POST messages; the answer, or None when no process answered."""
        for message in messages:
            message["id"] = str(next(self.ids))
            if self.client_id:
                message.setdefault("clientId", self.client_id)
        try:
            response = await self.http.post("/api/v2/notifications", json=list(messages))
        except httpx.TransportError:
            return None
        if response.status_code != 200:
            return None
        answer: list[dict[str, Any]] = response.json()
        return answer

    async def login(self) -> None:
        assert (await self.http.get("/api/v2/me")).json()["statusCode"] == 0
        handshake = {
            "channel": "/meta/handshake",
            "version": "1.0",
            "supportedConnectionTypes": ["long-polling"],
        }
        answer = await self.cometd(handshake)
        assert answer is not None
        assert answer[0]["successful"], answer
        self.client_id = answer[0]["clientId"]
        subscribe = {"channel": "/meta/subscribe", "subscription": "/v2/me/*"}
        connect = {"channel": "/meta/connect", "connectionType": "long-polling"}
        answer = await self.cometd(subscribe, {**connect, "advice": {"timeout": 0}})
        assert answer is not None
        assert all(m["successful"] for m in answer), answer
        started = await self.http.post(
            "/api/v2/me", json={"operationName": "StartContactCenterSession", "channels": ["email"]}
        )
        assert started.json() == {"statusCode": 0}

    async def poll(self, stop: asyncio.Event) -> None:
        """Hold a connect at all times; retry a connect no process answered."""
        while not stop.is_set():
            connect = {
                "channel": "/meta/connect",
                "connectionType": "long-polling",
                "advice": {"timeout": HOLD_MS},
            }
            answer = await self.cometd(connect)
            if answer is None:
                self.failed_connects += 1
                await asyncio.sleep(0.05)
                continue
            for message in answer:
                if message["channel"] == "/meta/connect":
                    if not message["successful"]:
                        self.unknown_sessions += 1
                    continue
                self.texts.append(json.dumps(message, sort_keys=True))
                email = message["data"]["email"]
                if email["state"] == "Invited":
                    self.invitations.put_nowait(email["id"])

    async def operation(self, email_id: str, body: dict[str, Any]) -> None:
        """Send one operation until a process answers it."""
        uncertain = False
        for _ in range(50):
            try:
                response = await self.http.post(f"/api/v2/me/emails/{email_id}", json=body)
            except httpx.TransportError:
                response = None
            if response is None or response.status_code != 200:
                uncertain = True  # the process may have stored it before it died
                await asyncio.sleep(0.05)
                continue
            answer = response.json()
            if answer["statusCode"] == 0:
                comment = str(body.get("comment", ""))
                self.acked.append((body["operationName"], email_id, answer["referenceId"], comment))
            elif not uncertain:
                self.refused.append((body["operationName"], email_id, answer))
            return
        raise AssertionError(f"{self.name}: no process answered {body} on {email_id}")

    async def work(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                email_id = await asyncio.wait_for(self.invitations.get(), 0.2)
            except TimeoutError:
                continue
            await self.operation(email_id, {"operationName": "Accept"})
            for n in (1, 2):
                comment = f"{self.name} on {email_id}, {n}"
                await self.operation(email_id, {"operationName": "AddComment", "comment": comment})
            await self.operation(email_id, {"operationName": "Complete"})


async def _arrivals(center: httpx.AsyncClient, desks: list[Desk], stop: asyncio.Event) -> int:
    """Keep about two emails waiting per agent; how many arrived."""
    arrived = 0
    while not stop.is_set():
        completed = sum(1 for d in desks for a in d.acked if a[0] == "Complete")
        if arrived - completed < 2 * len(desks):
            body = {"event": "Arrive", "queueName": "q", "email": {"subject": f"n{arrived}"}}
            with contextlib.suppress(httpx.TransportError):
                response = await center.post("/sim/events", json=body)
                if response.status_code == 200 and response.json()["statusCode"] == 0:
                    arrived += 1
                    continue
        await asyncio.sleep(0.02)
    return arrived


def _completions(desks: list[Desk]) -> int:
    return sum(1 for d in desks for a in d.acked if a[0] == "Complete")


async def _until(condition: Any, limit: float, what: str) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {limit} s: {what}")
        await asyncio.sleep(0.05)


def _router_of(backends: list[str]) -> list[str]:
    routers = []
    for backend in backends:
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{backend}/sim/status", timeout=2).json()["router"]:
                routers.append(backend)
    return routers


def test_sigkill_of_a_process_under_load(
    postgres_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    """Four agents work through three processes; the router's process is killed with
    SIGKILL midway. Afterwards: no CometD session was lost, every operation answered
    statusCode 0 is in the store, no notification was received twice, each agent's own
    notifications came in the order of its requests, one per acknowledged Accept and
    Complete, and the agents kept completing emails offered by the new router."""
    arguments = ["--open", "--offer-timeout", "0", "--capacity", "1"]
    with serving_cluster(postgres_url, arguments, cwd=tmp_path) as cluster:
        backends = cluster.backends
        (router,) = _router_of(backends)
        victim = cluster.processes[backends.index(router)]
        survivors = [b for b in backends if b != router]
        proxy = RandomProxy(backends, seed=3)

        async def main() -> tuple[list[Desk], int, int, list[str]]:
            async with contextlib.AsyncExitStack() as stack:
                desks = []
                for name in AGENTS:
                    http = httpx.AsyncClient(base_url=url, auth=(name, "pw"), timeout=30)
                    await stack.enter_async_context(http)
                    desks.append(Desk(name, http))
                center = await stack.enter_async_context(
                    httpx.AsyncClient(base_url=url, timeout=30)
                )
                for desk in desks:
                    await desk.login()
                stop_work, stop_polls = asyncio.Event(), asyncio.Event()
                polls = [asyncio.create_task(d.poll(stop_polls)) for d in desks]
                workers = [asyncio.create_task(d.work(stop_work)) for d in desks]
                feeder = asyncio.create_task(_arrivals(center, desks, stop_work))
                await _until(lambda: _completions(desks) >= 8, 30, "8 emails completed")
                kill(victim)
                before = _completions(desks)
                await _until(lambda: bool(_router_of(survivors)), 15, "a surviving process routes")
                routers = _router_of(survivors)
                await _until(
                    lambda: _completions(desks) >= before + 8, 30, "8 more emails completed"
                )
                stop_work.set()
                arrived = await feeder
                await asyncio.gather(*workers)
                await asyncio.sleep(2 * HOLD_MS / 1000)  # the last notifications arrive
                stop_polls.set()
                await asyncio.gather(*polls)
                return desks, arrived, before, routers

        with proxy as url:
            desks, arrived, before, routers = asyncio.run(main())
        events = PostgresLog(postgres_url).load()

    assert len(routers) == 1
    assert _completions(desks) >= before + 8
    assert arrived >= _completions(desks)
    assert any(desk.failed_connects > 0 for desk in desks) or victim.returncode is not None
    _check_desks(desks, events)


def _check_desks(desks: list[Desk], events: list[Any]) -> None:
    """Each acknowledged operation is stored; each session's notifications came once,
    in order, one per acknowledged Accept and Complete."""
    accepted = {(e.email_id, e.agent) for e in events if isinstance(e, InvitationAccepted)}
    comments = {(e.email_id, e.by, e.comment) for e in events if isinstance(e, CommentAdded)}
    completed = {(e.email_id, e.by) for e in events if isinstance(e, EmailCompleted)}
    for desk in desks:
        assert desk.unknown_sessions == 0, desk.name
        assert desk.refused == [], (desk.name, desk.refused)
        for operation, email_id, _, comment in desk.acked:
            if operation == "Accept":
                assert (email_id, desk.name) in accepted
            elif operation == "AddComment":
                assert (email_id, desk.name, comment) in comments
            else:
                assert (email_id, desk.name) in completed
        assert len(desk.texts) == len(set(desk.texts)), f"{desk.name} got a notification twice"
        references = [
            json.loads(t)["data"].get("referenceId")
            for t in desk.texts
            if json.loads(t)["data"].get("referenceId") is not None
        ]
        assert references == sorted(references), desk.name
        for operation, _, reference, _ in desk.acked:
            if operation in ("Accept", "Complete"):
                assert references.count(reference) == 1, (desk.name, operation, reference)
