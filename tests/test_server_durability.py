"""``email-fsm serve --store sqlite:///...`` killed with SIGKILL under load, and restarted
on the same file: every operation answered ``statusCode 0`` is in the state after the
restart, none refused is, and the model's ownership rules hold for every email."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from server_harness import free_port, kill, serving, spawn, wait_ready

from email_fsm import Email, Phase
from email_fsm.email import email_from_json
from email_fsm.events import (
    CommentAdded,
    EmailArrived,
    Event,
    InvitationAccepted,
    ReplyCreated,
    TransferredToAgent,
)
from email_fsm.server import RoutingSettings, ServerSettings, SQLiteLog
from email_fsm.testing.machine import check_ownership

AGENTS = tuple(f"agent{n}" for n in range(8))
STORE = ["--store", "sqlite:///events.sqlite", "--open", "--capacity", "2"]


@dataclass(frozen=True, slots=True)
class Op:
    """One answered request: who, what, on which email, its unique token, its code."""

    agent: str
    operation: str
    email_id: str
    token: str
    code: int


@dataclass
class Load:
    """What the agents were told, over every run against one file."""

    answered: list[Op] = field(default_factory=list)
    arrived: set[str] = field(default_factory=set)
    counter: int = 0

    def token(self, agent: str) -> str:
        self.counter += 1
        return f"{agent}-{self.counter}"

    def acknowledged(self, operation: str) -> Iterator[Op]:
        return (op for op in self.answered if op.operation == operation and op.code == 0)

    def refused(self, operation: str) -> Iterator[Op]:
        return (op for op in self.answered if op.operation == operation and op.code != 0)


class Server:
    """``email-fsm serve`` on the file ``events.sqlite`` of ``directory``."""

    def __init__(self, directory: Path, synchronous: str = "full") -> None:
        self.directory = directory
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        arguments = [*STORE, "--synchronous", synchronous]
        self.process = spawn(arguments, cwd=directory, port=self.port)
        wait_ready(self.url, self.process)

    def emails(self) -> dict[str, Email]:
        listing = httpx.get(f"{self.url}/sim/emails", timeout=10).json()
        return {e["id"]: email_from_json(json.dumps(e)) for e in listing["emails"]}

    def stop(self) -> None:
        """SIGTERM, and wait for the exit (uvicorn shuts down, then re-raises the signal
        it caught: -SIGTERM is its clean exit)."""
        self.process.send_signal(signal.SIGTERM)
        assert self.process.wait(15) in (0, -signal.SIGTERM)

    def finish(self) -> None:
        """SIGKILL the process unless it has exited already."""
        if self.process.poll() is None:
            kill(self.process)

    def events(self) -> list[Event]:
        log = SQLiteLog(self.directory / "events.sqlite")
        try:
            return log.load()
        finally:
            log.close()


def _body(operation: str, token: str, rng: random.Random, agent: str) -> dict[str, Any]:
    if operation == "AddComment":
        return {"operationName": operation, "comment": token}
    if operation == "UpdateUserData":
        return {"operationName": operation, "userData": {token: token}}
    if operation == "AddAttachment":
        return {"operationName": operation, "documentId": token}
    if operation == "Transfer":
        other = rng.choice([a for a in AGENTS if a != agent])
        return {"operationName": operation, "userUri": f"http://h/api/v2/users/{other}"}
    if operation == "Send":
        return {"operationName": operation, "queueName": "out", "email": {"to": ["c@x"]}}
    return {"operationName": operation}


def _choose(state: str, rng: random.Random) -> str:
    if state == "Invited":
        return rng.choices(["Accept", "Reject"], [6, 1])[0]
    if state == "Processing":
        return rng.choices(
            ["AddComment", "UpdateUserData", "Reply", "Transfer", "Complete"], [3, 3, 1, 1, 2]
        )[0]
    return rng.choices(["AddAttachment", "UpdateUserData", "Send", "Cancel"], [3, 2, 2, 1])[0]


async def _agent(url: str, agent: str, load: Load, rng: random.Random, stop: asyncio.Event) -> None:
    """Work the emails offered to ``agent`` until ``stop`` or the server goes away; now
    and then, a request on an email someone else holds (refused with 3)."""
    async with httpx.AsyncClient(base_url=url, auth=(agent, "x"), timeout=10) as client:
        try:
            started = await client.post(
                "/api/v2/me",
                json={"operationName": "StartContactCenterSession", "channels": ["email"]},
            )
            assert started.json() == {"statusCode": 0}
            while not stop.is_set():
                listing = (await client.get("/api/v2/me/emails", params={"fields": "*"})).json()
                held = listing["emails"]
                if rng.random() < 0.1 and load.arrived:
                    target = rng.choice(sorted(load.arrived))
                    operation = rng.choice(["AddComment", "UpdateUserData"])
                    if any(e["id"] == target for e in held):
                        continue
                elif held:
                    email = rng.choice(held)
                    target, operation = email["id"], _choose(email["state"], rng)
                else:
                    await asyncio.sleep(0.005)  # pacing: wait for the router's next offer
                    continue
                token = load.token(agent)
                answer = (
                    await client.post(
                        f"/api/v2/me/emails/{target}", json=_body(operation, token, rng, agent)
                    )
                ).json()
                load.answered.append(Op(agent, operation, target, token, answer["statusCode"]))
        except httpx.TransportError:
            return  # the server was killed: this request's outcome is unknown


async def _feed(url: str, load: Load, stop: asyncio.Event, count: int) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        try:
            for _ in range(count):
                if stop.is_set():
                    return
                answer = (
                    await client.post("/sim/events", json={"event": "Arrive", "queueName": "q"})
                ).json()
                assert answer["statusCode"] == 0, answer
                load.arrived.add(answer["emailId"])
        except httpx.TransportError:
            return


async def _run(server: Server, load: Load, rng: random.Random, *, kill_after: int | None) -> None:
    """Agents and arrivals against ``server``: with ``kill_after``, SIGKILL it once that
    many more requests are answered; without, stop the agents after 150."""
    stop = asyncio.Event()
    start = len(load.answered)
    target = kill_after if kill_after is not None else 150
    tasks = [asyncio.create_task(_feed(server.url, load, stop, 40))]
    tasks += [
        asyncio.create_task(_agent(server.url, a, load, random.Random(rng.random()), stop))
        for a in AGENTS
    ]
    while len(load.answered) - start < target:
        assert not all(t.done() for t in tasks[1:]), "the agents stopped early"
        await asyncio.wait(tasks, timeout=0.01, return_when=asyncio.FIRST_EXCEPTION)
        for task in tasks:
            if task.done():
                task.result()  # re-raise an agent's failure
    if kill_after is not None:
        kill(server.process)
    stop.set()
    await asyncio.wait_for(asyncio.gather(*tasks), 20)


def _check(emails: dict[str, Email], events: list[Event], load: Load) -> None:
    """Every acknowledged operation is in ``emails`` (the restarted server's) or the log,
    nothing refused is, and every email keeps the ownership rules."""
    for email in emails.values():
        check_ownership(email)
        assert email.version == sum(1 for e in events if e.email_id == email.id)
    assert load.arrived <= {e.email_id for e in events if isinstance(e, EmailArrived)}
    comments = {(e.email_id, e.comment) for e in events if isinstance(e, CommentAdded)}
    accepts = {(e.email_id, e.agent) for e in events if isinstance(e, InvitationAccepted)}
    transfers = {(e.email_id, e.by) for e in events if isinstance(e, TransferredToAgent)}
    keys = {key for email in emails.values() for key in email.user_data}
    attachments = {(e.id, a.id) for e in emails.values() for a in e.attachments}
    for op in load.acknowledged("AddComment"):
        assert (op.email_id, op.token) in comments, op
    for op in load.acknowledged("UpdateUserData"):
        assert emails[op.email_id].user_data[op.token] == op.token, op
    for op in load.acknowledged("AddAttachment"):
        assert (op.email_id, op.token) in attachments, op
    for op in load.acknowledged("Accept"):
        assert (op.email_id, op.agent) in accepts, op
    for op in load.acknowledged("Transfer"):
        assert (op.email_id, op.agent) in transfers, op
    for op in load.acknowledged("Reject"):
        assert op.agent in emails[op.email_id].rejected_by, op
    for op in load.acknowledged("Complete"):
        assert emails[op.email_id].phase is Phase.COMPLETED, op
    for op in load.acknowledged("Send"):
        assert emails[op.email_id].phase is Phase.SENT, op
    for op in load.acknowledged("Cancel"):
        assert emails[op.email_id].phase is Phase.CANCELED, op
    replies: dict[str, int] = {}
    for e in events:
        if isinstance(e, ReplyCreated):
            replies[e.original_id] = replies.get(e.original_id, 0) + 1
    for op in load.acknowledged("Reply"):
        acknowledged = sum(1 for o in load.acknowledged("Reply") if o.email_id == op.email_id)
        assert replies.get(op.email_id, 0) >= acknowledged, op
    for op in load.refused("AddComment"):
        assert all(op.token != comment for _, comment in comments), op
    for op in load.refused("UpdateUserData"):
        assert op.token not in keys, op
    for op in load.refused("AddAttachment"):
        assert all(op.token != document for _, document in attachments), op


def test_sigkill_under_load_loses_no_acknowledged_operation(tmp_path: Path) -> None:
    """Three times (the second with --synchronous normal, which survives a crash of the
    process too): run eight agents and arrivals against the server, SIGKILL it after a
    random number of answered requests, restart it on the same file. After each restart
    every operation acknowledged so far (in every run) is there, none refused is, and
    every email keeps the ownership rules; the agents go on with what they held."""
    rng = random.Random(os.environ.get("EMAIL_FSM_SEED", "kill-9"))
    load = Load()
    for synchronous in ("full", "normal", "full"):
        server = Server(tmp_path, synchronous)
        try:
            asyncio.run(_run(server, load, rng, kill_after=rng.randint(60, 200)))
        finally:
            server.finish()
        restarted = Server(tmp_path)
        try:
            _check(restarted.emails(), restarted.events(), load)
            restarted.stop()
        finally:
            restarted.finish()
    acknowledged = [op for op in load.answered if op.code == 0]
    assert len(acknowledged) >= 150, "too little load to show anything"
    assert any(op.code == 3 for op in load.answered), "no refusal was made"
    assert {op.operation for op in acknowledged} >= {
        "Accept",
        "AddComment",
        "UpdateUserData",
        "Complete",
        "Reply",
        "AddAttachment",
        "Send",
    }


def test_a_clean_restart_replays_to_the_same_state(tmp_path: Path) -> None:
    """Agents work until 150 requests are answered and stop; the server is stopped with
    SIGTERM and restarted: GET /sim/emails gives the same emails as before the stop."""
    rng = random.Random("clean")
    load = Load()
    server = Server(tmp_path)
    try:
        asyncio.run(_run(server, load, rng, kill_after=None))
        before = server.emails()
        server.stop()
    finally:
        server.finish()
    assert len(before) >= 20
    restarted = Server(tmp_path)
    try:
        assert restarted.emails() == before
        _check(before, restarted.events(), load)
        restarted.stop()
    finally:
        restarted.finish()


def test_a_failed_log_answers_503_and_stores_nothing(tmp_path: Path) -> None:
    """The log's table dropped behind the server's back: the change under way is
    answered HTTP 503 (not 0: it is not stored), so is every change after it, from an
    agent or the contact center, while reads still work."""
    path = tmp_path / "events.sqlite"
    settings = ServerSettings(log=SQLiteLog(path), routing=RoutingSettings(enabled=False))

    async def main() -> None:
        async with (
            serving(settings) as url,
            httpx.AsyncClient(base_url=url, auth=("a", "x"), timeout=10) as a,
        ):
            arrived = (
                await a.post("/sim/events", json={"event": "Arrive", "queueName": "q"})
            ).json()
            email_id = arrived["emailId"]
            offer = {"event": "Offer", "emailId": email_id, "agent": "a"}
            assert (await a.post("/sim/events", json=offer)).json()["statusCode"] == 0
            sabotage = sqlite3.connect(path, isolation_level=None)
            sabotage.execute("DROP TABLE events")
            sabotage.close()
            path_of = f"/api/v2/me/emails/{email_id}"
            for _ in range(2):
                answer = await a.post(path_of, json={"operationName": "Accept"})
                assert answer.status_code == 503
                assert answer.json()["statusCode"] == 2
            arrival = await a.post("/sim/events", json={"event": "Arrive", "queueName": "q"})
            assert arrival.status_code == 503
            listing = await a.get("/api/v2/me/emails", params={"fields": "*"})
            assert listing.status_code == 200
            assert [e["state"] for e in listing.json()["emails"]] == ["Invited"]

    asyncio.run(main())
