"""No CometD client of the server ever receives a message addressed to another agent.

A hypothesis property over random sessions of three agents, each with CometD sessions
that come and go: random arrivals, offers and revocations, random operations by random
agents on random emails (most of them refused), random subscriptions and
unsubscriptions (patterns that cover the emails' channel and patterns that do not),
disconnections, and agents trying another agent's clientId. The same commands run
through the model (an :class:`~email_fsm.EmailStore`, given the server's referenceIds
and new ids). Then:

- every answer of the server is the model's answer;
- each session receives exactly the notifications the model addressed to its agent
  while it was subscribed to a pattern covering ``/v2/me/emails``, in order: so every
  notification a client receives is about an email its agent holds or held;
- a clientId used by another agent is unknown (``402::session_unknown``) and takes
  nothing from its session;
- at the end, the server stores the emails the model does.

Each example runs against a fresh server in the test's event loop (a start costs a
fraction of a second), with the router off so that every offer is one of the steps.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st
from server_harness import serving

from email_fsm import Email, EmailStore, Phase, email_to_json
from email_fsm.decisions import Accepted, Decision, Refused
from email_fsm.requests import parse_system_event
from email_fsm.server import ServerSettings
from email_fsm.server.service import RoutingSettings

AGENTS = ("ann", "ben", "cat")
CHANNEL = "/v2/me/emails"
COVERS = {
    "/v2/me/*": True,
    "/v2/me/emails": True,
    "/v2/me/**": True,
    "/v2/**": True,
    "/**": True,
    "/v2/me/chats": False,
    "/v2/me/emails/new": False,
}
"""Subscription patterns an agent may use, and whether each covers ``/v2/me/emails``
(Bayeux globbing: ``*`` one segment, ``**`` any number)."""

OPERATIONS: list[dict[str, Any]] = [
    {"operationName": "Accept"},
    {"operationName": "Reject"},
    {"operationName": "Complete"},
    {"operationName": "Complete", "queueName": "later"},
    {"operationName": "Transfer"},  # to an agent: the step names which
    {"operationName": "Transfer", "queueName": "second-line"},
    {"operationName": "Reply"},
    {"operationName": "ReplyAll"},
    {"operationName": "Send", "queueName": "outbound"},
    {"operationName": "Cancel"},
    {"operationName": "AddComment", "comment": "noted"},
    {"operationName": "SetInFocus"},
    {"operationName": "AttachUserData", "userData": {"k": 1}},
    {"operationName": "Save", "email": {"to": ["someone@example.com"]}},
    {"operationName": "SetDisposition", "disposition": "done"},
]
CREATES = {"Create", "Reply", "ReplyAll"}

agents = st.sampled_from(AGENTS)
index = st.integers(min_value=0, max_value=40)
patterns = st.sampled_from(sorted(COVERS))
aims = st.sampled_from(["held", "held", "any"])
"""Mostly an email the agent holds and an operation it allows (the rest: anything)."""
steps = st.one_of(
    *[st.tuples(st.just("arrive")) for _ in range(2)],
    *[
        st.tuples(st.just("offer"), index, agents, st.sampled_from([True, True, False]))
        for _ in range(3)
    ],
    st.tuples(st.just("revoke"), index),
    *[st.tuples(st.just("request"), agents, index, index, agents, aims) for _ in range(6)],
    st.tuples(st.just("create"), agents),
    st.tuples(st.just("handshake"), agents, patterns),
    st.tuples(st.just("subscribe"), index, patterns),
    st.tuples(st.just("unsubscribe"), index, patterns),
    st.tuples(st.just("drain"), index),
    st.tuples(st.just("disconnect"), index),
    st.tuples(st.just("foreign"), index, agents),
)
"""One step of a session (its numbers pick among what exists when it runs); the
common ones appear several times, to be drawn more often."""


def basic(agent: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{agent}:pw".encode()).decode()}


@dataclass
class Session:
    """One CometD session: what it should have received, and what it did."""

    agent: str
    client_id: str
    subscriptions: set[str] = field(default_factory=set)
    alive: bool = True
    expected: list[dict[str, Any]] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)

    def covered(self) -> bool:
        return self.alive and any(COVERS[p] for p in self.subscriptions)


@dataclass
class Run:
    """One random session against a fresh server, and the model beside it."""

    base: str
    http: httpx.AsyncClient
    model: EmailStore = field(default_factory=EmailStore)
    ids: list[str] = field(default_factory=list)
    """Every email id the steps have made, in order."""
    sessions: list[Session] = field(default_factory=list)
    held: dict[str, set[str]] = field(default_factory=lambda: {a: set() for a in AGENTS})
    """The emails each agent holds or held (owner or invitee) at some step."""

    def email(self, number: int) -> str:
        return self.ids[number % len(self.ids)] if self.ids else "M-none"

    def pick(self, number: int, among: Sequence[Email]) -> str:
        """One of the emails ``among``, or when there are none one of every id."""
        return among[number % len(among)].id if among else self.email(number)

    def session(self, number: int) -> Session | None:
        return self.sessions[number % len(self.sessions)] if self.sessions else None

    async def bayeux(self, agent: str, *messages: dict[str, Any]) -> list[dict[str, Any]]:
        response = await self.http.post(
            "/api/v2/notifications", json=list(messages), headers=basic(agent)
        )
        assert response.status_code == 200, response.text
        replies: list[dict[str, Any]] = response.json()
        return replies

    def connect(self, client_id: str) -> dict[str, Any]:
        return {
            "channel": "/meta/connect",
            "clientId": client_id,
            "connectionType": "long-polling",
            "advice": {"timeout": 0},
        }

    # ------------------------------------------------------------ the model's side

    def deliver(self, decision: Decision) -> None:
        """What the server should have queued for each session, by the model."""
        if not isinstance(decision, Accepted):
            return
        for email in decision.emails:
            for agent in (email.owner, email.invitee):
                if agent is not None:
                    self.held[agent].add(email.id)
        for notification in decision.notifications:
            message = json.loads(notification.to_json())
            for session in self.sessions:
                if session.agent == notification.recipient and session.covered():
                    session.expected.append(message)

    # ------------------------------------------------------------ steps

    async def system(self, body: dict[str, Any]) -> None:
        answer = (await self.http.post("/sim/events", json=body)).json()
        command = parse_system_event(body)
        assert not isinstance(command, Refused), command
        decision = self.model.execute(command)
        if isinstance(decision, Accepted):
            assert answer["statusCode"] == 0, (body, answer)
            assert answer["emailId"] == body["emailId"]
        else:
            assert answer == decision.response(), (body, answer)
        self.deliver(decision)

    async def request(self, agent: str, body: dict[str, Any], email_id: str | None) -> None:
        path = "/api/v2/me/emails" + (f"/{email_id}" if email_id is not None else "")
        answer = (await self.http.post(path, json=body, headers=basic(agent))).json()
        new_id = "X-unused"
        if body["operationName"] in CREATES:
            stored = (await self.http.get("/sim/emails")).json()["emails"]
            made = {e["id"] for e in stored} - set(self.model.emails)
            assert len(made) <= 1
            if made:
                (new_id,) = made
                self.ids.append(new_id)
        decision = self.model.request(
            agent,
            body,
            email_id=email_id,
            new_id=lambda: new_id,
            reference_id=answer.get("referenceId"),
        )
        if isinstance(decision, Accepted):
            assert answer == {"statusCode": 0, "referenceId": answer.get("referenceId")}
            assert isinstance(answer["referenceId"], int)
        else:
            assert answer == decision.response(), (agent, body, email_id, answer)
        self.deliver(decision)

    async def handshake(self, agent: str, pattern: str) -> None:
        (shake,) = await self.bayeux(
            agent,
            {
                "channel": "/meta/handshake",
                "version": "1.0",
                "supportedConnectionTypes": ["long-polling"],
            },
        )
        assert shake["successful"] is True
        session = Session(agent, shake["clientId"])
        self.sessions.append(session)
        await self.subscription(session, "/meta/subscribe", pattern)
        await self.drain(session)  # the first connect

    async def subscription(self, session: Session, channel: str, pattern: str) -> None:
        message = {"channel": channel, "clientId": session.client_id, "subscription": pattern}
        (reply,) = await self.bayeux(session.agent, message)
        assert reply["successful"] is session.alive, reply
        if not session.alive:
            assert reply["error"] == "402::session_unknown"
        elif channel == "/meta/subscribe":
            session.subscriptions.add(pattern)
        else:
            session.subscriptions.discard(pattern)

    async def drain(self, session: Session) -> None:
        """Take what waits for the session (a connect answered at once)."""
        *messages, reply = await self.bayeux(session.agent, self.connect(session.client_id))
        assert reply["channel"] == "/meta/connect"
        if not session.alive:
            assert reply["error"] == "402::session_unknown"
            assert messages == []
            return
        assert reply["successful"] is True, reply
        session.received.extend(messages)

    async def disconnect(self, session: Session) -> None:
        if session.alive:
            await self.drain(session)  # what it had, before it goes
        message = {"channel": "/meta/disconnect", "clientId": session.client_id}
        (reply,) = await self.bayeux(session.agent, message)
        assert reply["successful"] is session.alive
        session.alive = False

    async def foreign(self, session: Session, agent: str) -> None:
        """Another agent uses the session's clientId: it is unknown to them."""
        if agent == session.agent:
            return
        for message in (
            self.connect(session.client_id),
            {"channel": "/meta/subscribe", "clientId": session.client_id, "subscription": "/**"},
            {"channel": "/meta/disconnect", "clientId": session.client_id},
        ):
            replies = await self.bayeux(agent, message)
            assert replies == [
                {
                    "channel": message["channel"],
                    "successful": False,
                    "error": "402::session_unknown",
                    "advice": {"reconnect": "handshake", "interval": 0},
                }
            ]

    async def step(self, step: tuple[Any, ...]) -> None:
        kind = step[0]
        if kind == "arrive":
            email_id = f"M{len(self.ids) + 1}"
            self.ids.append(email_id)
            await self.system(
                {
                    "event": "Arrive",
                    "emailId": email_id,
                    "queueName": "inbound",
                    "email": {"from": "customer@example.com", "subject": email_id},
                }
            )
        elif kind == "offer":
            _, number, agent, queued = step
            email_id = self.pick(number, self.model.in_phase(Phase.QUEUED) if queued else ())
            await self.system({"event": "Offer", "emailId": email_id, "agent": agent})
        elif kind == "revoke":
            email_id = self.pick(step[1], self.model.in_phase(Phase.INVITED))
            await self.system({"event": "Revoke", "emailId": email_id})
        elif kind == "request":
            _, agent, number, operation, target, aim = step
            held = self.model.held_by(agent) if aim == "held" else ()
            email_id = self.pick(number, held)
            choices = OPERATIONS
            if held:
                allowed = {str(op) for op in self.model.permissions(email_id, agent).allowed}
                choices = [o for o in OPERATIONS if o["operationName"] in allowed] or OPERATIONS
            body = dict(choices[operation % len(choices)])
            if body == {"operationName": "Transfer"}:
                body["userUri"] = f"{self.base}/api/v2/users/{target}"
            await self.request(agent, body, email_id)
        elif kind == "create":
            await self.request(step[1], {"operationName": "Create"}, None)
        elif kind == "handshake":
            await self.handshake(step[1], step[2])
        elif (session := self.session(step[1])) is None:
            return
        elif kind in ("subscribe", "unsubscribe"):
            await self.subscription(session, f"/meta/{kind}", step[2])
        elif kind == "drain":
            await self.drain(session)
        elif kind == "disconnect":
            await self.disconnect(session)
        else:
            assert kind == "foreign"
            await self.foreign(session, step[2])


async def session_of(script: list[tuple[Any, ...]]) -> None:
    server = ServerSettings(
        routing=RoutingSettings(enabled=False),
        session_timeout_ms=600_000,
        max_queue=100_000,
    )
    async with serving(server) as base, httpx.AsyncClient(base_url=base, timeout=10) as http:
        run = Run(base, http)
        for agent in AGENTS:
            await run.handshake(agent, "/v2/me/*")
        for step in script:
            await run.step(step)
        for session in run.sessions:
            if session.alive:
                await run.drain(session)

        for session in run.sessions:
            assert session.received == session.expected, session.agent
            for message in session.received:
                assert message["channel"] == CHANNEL
                assert message["data"]["email"]["id"] in run.held[session.agent]
        stored = {e["id"]: e for e in (await http.get("/sim/emails")).json()["emails"]}
        assert stored == {
            email_id: json.loads(email_to_json(email))
            for email_id, email in run.model.emails.items()
        }


@settings(max_examples=30, deadline=None)
@given(st.lists(steps, min_size=20, max_size=60))
def test_no_client_receives_another_agents_notifications(script: list[tuple[Any, ...]]) -> None:
    """Over random sessions of several agents (arrivals, offers, revocations, random
    requests by random agents on random emails, subscriptions coming and going,
    disconnections, foreign clientIds), each CometD session receives exactly the
    notifications the model addressed to its agent while it was subscribed: every one
    about an email that agent holds or held; the answers and the stored emails are the
    model's."""
    asyncio.run(session_of(script))
