"""A Python Bayeux client from PyPI (aiocometd-noloop) runs two desktops against the server.

Alice logs in (``GET /api/v2/me``, HTTP Basic), handshakes, subscribes to ``/v2/me/*``
and starts a contact-center session on the ``email`` channel. The router offers her an
arriving email; she accepts it, replies, sends the reply and completes the email. A
second email is offered to her and she transfers it to Bob, who accepts it. Every
notification each of them receives is checked against the GWS rules of
``docs/spec.md`` (Operations, System events, Notifications): its type, state,
capabilities and ``referenceId`` (the one of the HTTP answer, on the actor's own
notifications only). The session runs over long-polling and over WebSocket (the client
handshakes over long-polling, then switches).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from aiocometd_noloop import (  # type: ignore[import-untyped]
    AuthExtension,
    Client,
    ConnectionType,
)
from builders import COMPOSING_CAPS, PROCESSING_CAPS
from server_harness import serving

from email_fsm import DEFAULT_CONFIG
from email_fsm.server import Directory, ServerSettings
from email_fsm.server.auth import Agent
from email_fsm.server.service import RoutingSettings

INVITED_CAPS = ["Accept", "Reject"]
RECEIVE_LIMIT = 10.0
"""Seconds a receive may take before the test fails (a safety net, not a clock check)."""

AGENTS = Directory([Agent("alice", "alice-pw"), Agent("bob", "bob-pw")])


class BasicAuth(AuthExtension):  # type: ignore[misc]
    """Sends HTTP Basic credentials with every CometD request (and the WebSocket's upgrade)."""

    def __init__(self, user: str, password: str) -> None:
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        self.header = f"Basic {token}"

    async def outgoing(self, payload: list[dict[str, Any]], headers: dict[str, str]) -> None:
        headers["Authorization"] = self.header

    async def incoming(
        self, payload: list[dict[str, Any]], headers: dict[str, str] | None = None
    ) -> None:
        return None


class LoopErrors:
    """The errors the event loop reports while the session runs (the server runs in the
    same loop), but for the client's own CancelledError when it closes: aiocometd's done
    callbacks call ``result()`` on the tasks ``close()`` cancels."""

    def __init__(self) -> None:
        self.reported: list[dict[str, Any]] = []

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if isinstance(context.get("exception"), asyncio.CancelledError):
            return
        self.reported.append(context)


class ServerErrors(logging.Handler):
    """The errors uvicorn logs (an exception in the application: an HTTP 500)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def server_errors() -> Iterator[ServerErrors]:
    handler = ServerErrors()
    logger = logging.getLogger("uvicorn.error")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


async def receive(client: Client) -> dict[str, Any]:
    """The client's next message on a subscribed channel."""
    message: dict[str, Any] = await asyncio.wait_for(client.receive(), RECEIVE_LIMIT)
    return message


def check(
    message: dict[str, Any],
    *,
    email_id: str,
    notification_type: str,
    state: str,
    capabilities: list[str],
    reference_id: int | None,
) -> dict[str, Any]:
    """``message`` is the GWS notification described; returns its email object."""
    assert message["channel"] == "/v2/me/emails"
    data = message["data"]
    assert data["messageType"] == "EmailStateChangeMessage"
    assert data["notificationType"] == notification_type
    assert data.get("referenceId") == reference_id
    email: dict[str, Any] = data["email"]
    assert email["id"] == email_id
    assert email["state"] == state
    assert email["capabilities"] == capabilities
    assert email["uri"] == DEFAULT_CONFIG.email_uri(email_id)
    return email


async def operation(http: httpx.AsyncClient, email_id: str, body: dict[str, Any]) -> int:
    """POST an operation; it must be accepted. Returns its referenceId."""
    response = await http.post(f"/api/v2/me/emails/{email_id}", json=body)
    assert response.status_code == 200
    answer = response.json()
    assert answer["statusCode"] == 0, answer
    reference: int = answer["referenceId"]
    return reference


async def arrive(http: httpx.AsyncClient, subject: str) -> str:
    response = await http.post(
        "/sim/events",
        json={
            "event": "Arrive",
            "queueName": "inbound",
            "email": {
                "from": "customer@example.com",
                "to": ["sales@example.com"],
                "subject": subject,
            },
        },
    )
    answer = response.json()
    assert answer["statusCode"] == 0, answer
    email_id: str = answer["emailId"]
    return email_id


@dataclass
class Desktop:
    """One agent's desktop: its HTTP client and its Bayeux client."""

    http: httpx.AsyncClient
    cometd: Client


async def first_email(alice: Desktop, center: httpx.AsyncClient) -> tuple[str, str]:
    """The router offers an email to Alice, the only agent ready; she accepts it, replies,
    sends the reply and completes it. Returns the email's and the reply's ids."""
    first = await arrive(center, "Where is my order?")
    # No referenceId: the system offered it.
    offered = check(
        await receive(alice.cometd),
        email_id=first,
        notification_type="StatusChange",
        state="Invited",
        capabilities=INVITED_CAPS,
        reference_id=None,
    )
    assert offered["subject"] == "Where is my order?"

    reference = await operation(alice.http, first, {"operationName": "Accept"})
    accepted = check(
        await receive(alice.cometd),
        email_id=first,
        notification_type="StatusChange",
        state="Processing",
        capabilities=PROCESSING_CAPS,
        reference_id=reference,
    )
    # What she was told is what the server says she holds now.
    now = (await alice.http.get(f"/api/v2/me/emails/{first}")).json()
    assert now == {"statusCode": 0, "email": accepted}

    # Reply: one notification, about the new draft, none about the original.
    reference = await operation(
        alice.http, first, {"operationName": "Reply", "body": "It ships today."}
    )
    message = await receive(alice.cometd)
    draft_id: str = message["data"]["email"]["id"]
    assert draft_id != first
    draft = check(
        message,
        email_id=draft_id,
        notification_type="StatusChange",
        state="Composing",
        capabilities=COMPOSING_CAPS,
        reference_id=reference,
    )
    assert draft["parentId"] == first
    assert draft["to"] == ["customer@example.com"]
    assert draft["subject"] == "Re: Where is my order?"

    reference = await operation(
        alice.http, draft_id, {"operationName": "Send", "queueName": "outbound"}
    )
    check(
        await receive(alice.cometd),
        email_id=draft_id,
        notification_type="StatusChange",
        state="Sent",
        capabilities=[],
        reference_id=reference,
    )
    reference = await operation(alice.http, first, {"operationName": "Complete"})
    check(
        await receive(alice.cometd),
        email_id=first,
        notification_type="StatusChange",
        state="Completed",
        capabilities=[],
        reference_id=reference,
    )
    return first, draft_id


async def transferred_email(
    alice: Desktop, bob: Desktop, center: httpx.AsyncClient, base: str
) -> str:
    """Alice holds nothing, so the second email is offered to her; she transfers it to
    Bob (who is in no contact-center session), and Bob accepts it. Returns its id."""
    second = await arrive(center, "Refund")
    check(
        await receive(alice.cometd),
        email_id=second,
        notification_type="StatusChange",
        state="Invited",
        capabilities=INVITED_CAPS,
        reference_id=None,
    )
    reference = await operation(alice.http, second, {"operationName": "Accept"})
    check(
        await receive(alice.cometd),
        email_id=second,
        notification_type="StatusChange",
        state="Processing",
        capabilities=PROCESSING_CAPS,
        reference_id=reference,
    )
    reference = await operation(
        alice.http,
        second,
        {"operationName": "Transfer", "userUri": f"{base}/api/v2/users/bob"},
    )
    check(
        await receive(alice.cometd),
        email_id=second,
        notification_type="StatusChange",
        state="Completed",
        capabilities=[],
        reference_id=reference,
    )
    # Bob's first message is his invitation: nothing of Alice's work reached him, and
    # the target of a transfer gets no referenceId.
    invited = check(
        await receive(bob.cometd),
        email_id=second,
        notification_type="StatusChange",
        state="Invited",
        capabilities=INVITED_CAPS,
        reference_id=None,
    )
    assert invited["subject"] == "Refund"
    reference = await operation(bob.http, second, {"operationName": "Accept"})
    check(
        await receive(bob.cometd),
        email_id=second,
        notification_type="StatusChange",
        state="Processing",
        capabilities=PROCESSING_CAPS,
        reference_id=reference,
    )
    listed = (await bob.http.get("/api/v2/me/emails")).json()
    assert listed == {"statusCode": 0, "uris": [DEFAULT_CONFIG.email_uri(second)]}
    assert (await alice.http.get("/api/v2/me/emails")).json() == {"statusCode": 0, "uris": []}
    return second


async def last_notifications(alice: Desktop, bob: Desktop, second: str) -> str:
    """One more notification each: everything before it was read, in order, so neither
    received anything the rules do not send. Returns the id of Alice's new draft."""
    reference = await operation(
        bob.http, second, {"operationName": "AddComment", "comment": "refunded"}
    )
    commented = check(
        await receive(bob.cometd),
        email_id=second,
        notification_type="PropertiesUpdated",
        state="Processing",
        capabilities=PROCESSING_CAPS,
        reference_id=reference,
    )
    assert commented["comment"] == "refunded"
    created = await alice.http.post("/api/v2/me/emails", json={"operationName": "Create"})
    reference = created.json()["referenceId"]
    message = await receive(alice.cometd)
    draft_id: str = message["data"]["email"]["id"]
    check(
        message,
        email_id=draft_id,
        notification_type="StatusChange",
        state="Composing",
        capabilities=COMPOSING_CAPS,
        reference_id=reference,
    )
    return draft_id


async def desktops(base: str, connection_type: ConnectionType) -> None:
    notifications = f"{base}/api/v2/notifications"
    alice = Desktop(
        httpx.AsyncClient(base_url=base, auth=("alice", "alice-pw")),
        Client(notifications, [connection_type], auth=BasicAuth("alice", "alice-pw")),
    )
    bob = Desktop(
        httpx.AsyncClient(base_url=base, auth=("bob", "bob-pw")),
        Client(notifications, [connection_type], auth=BasicAuth("bob", "bob-pw")),
    )
    async with alice.http, bob.http, httpx.AsyncClient(base_url=base) as center:
        me = (await alice.http.get("/api/v2/me")).json()
        assert me["statusCode"] == 0
        assert me["user"]["userName"] == "alice"
        async with contextlib.AsyncExitStack() as stack:
            for desktop in (alice, bob):
                # The server answers a session's first connect at once: opening does not
                # wait for the connect timeout (60 s here).
                await asyncio.wait_for(desktop.cometd.open(), RECEIVE_LIMIT)
                stack.push_async_callback(desktop.cometd.close)
            assert alice.cometd.connection_type is connection_type
            assert bob.cometd.connection_type is connection_type
            await alice.cometd.subscribe("/v2/me/*")
            await bob.cometd.subscribe("/v2/me/*")
            started = await alice.http.post(
                "/api/v2/me",
                json={"operationName": "StartContactCenterSession", "channels": ["email"]},
            )
            assert started.json() == {"statusCode": 0}
            first, draft_id = await first_email(alice, center)
            second = await transferred_email(alice, bob, center, base)
            created = await last_notifications(alice, bob, second)
            assert created not in (first, second, draft_id)


@pytest.mark.parametrize(
    "connection_type",
    [ConnectionType.LONG_POLLING, ConnectionType.WEBSOCKET],
    ids=["long-polling", "websocket"],
)
def test_two_desktops_with_a_python_bayeux_client(
    connection_type: ConnectionType, server_errors: ServerErrors
) -> None:
    """Over long-polling and over WebSocket, aiocometd's client logs in with Basic
    credentials, receives the offer, the notifications of Accept, Reply, Send, Complete
    and Transfer with the referenceIds of the HTTP answers, and the transfer's target
    receives the invitation and nothing of the other agent's work."""
    settings = ServerSettings(
        directory=AGENTS, routing=RoutingSettings(offer_timeout=None), connect_timeout_ms=60_000
    )
    errors = LoopErrors()

    async def main() -> None:
        asyncio.get_running_loop().set_exception_handler(errors)
        async with serving(settings) as base:
            await desktops(base, connection_type)

    asyncio.run(main())
    assert errors.reported == []
    assert server_errors.records == []
