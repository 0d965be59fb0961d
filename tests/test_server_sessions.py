"""CometD sessions on the server: a client that stops polling is expired and costs
nothing after, an overflowing queue drops its session, handshakes that never connect
leave nothing behind, and a shutdown answers the connects it holds."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

import httpx
import pytest
from server_harness import HOST, free_port, kill, serving_app, spawn, wait_ready
from starlette.applications import Starlette

from email_fsm.server import RoutingSettings, ServerSettings
from email_fsm.server.bayeux import Hub
from email_fsm.vocabulary import CHANNEL

COMETD = "/api/v2/notifications"
HANDSHAKE = {
    "channel": "/meta/handshake",
    "version": "1.0",
    "supportedConnectionTypes": ["long-polling"],
}


def _settings(**overrides: Any) -> ServerSettings:
    return ServerSettings(routing=RoutingSettings(enabled=False), **overrides)


async def _until(condition: Callable[[], bool], what: str, timeout: float = 5) -> None:
    """Wait until ``condition()`` holds (the sweeper runs on the server's own clock)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        await asyncio.sleep(0.01)


async def _bayeux(client: httpx.AsyncClient, *messages: dict[str, Any]) -> list[dict[str, Any]]:
    response = await client.post(COMETD, json=list(messages))
    assert response.status_code == 200, response.text
    replies: list[dict[str, Any]] = response.json()
    return replies


async def _session(client: httpx.AsyncClient) -> str:
    """Handshake, subscribe to the emails' channel and make the first (immediate)
    connect: a live session's client id."""
    (shake,) = await _bayeux(client, HANDSHAKE)
    assert shake["successful"] is True, shake
    client_id: str = shake["clientId"]
    replies = await _bayeux(
        client,
        {"channel": "/meta/subscribe", "clientId": client_id, "subscription": CHANNEL},
        {
            "channel": "/meta/connect",
            "clientId": client_id,
            "connectionType": "long-polling",
            "advice": {"timeout": 0},
        },
    )
    assert [r["successful"] for r in replies] == [True, True], replies
    return client_id


def _connect(client_id: str, timeout: int | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {
        "channel": "/meta/connect",
        "clientId": client_id,
        "connectionType": "long-polling",
    }
    if timeout is not None:
        message["advice"] = {"timeout": timeout}
    return message


async def _sim(client: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = (await client.post("/sim/events", json=body)).json()
    assert answer["statusCode"] == 0, answer
    return answer


def _run(body: Callable[[str, Starlette], Awaitable[None]], settings: ServerSettings) -> None:
    async def main() -> None:
        async with serving_app(settings) as (url, app):
            await body(url, app)

    asyncio.run(main())


def test_a_client_that_stops_polling_is_expired_and_freed() -> None:
    """A session whose client stops connecting is expired after session_timeout_ms: the
    hub forgets it, a notification for its agent is queued nowhere, and its next
    connect is told 402::session_unknown with advice to handshake."""

    async def body(url: str, app: Starlette) -> None:
        hub = app.state.hub
        assert isinstance(hub, Hub)
        async with httpx.AsyncClient(base_url=url, auth=("a", "x"), timeout=10) as a:
            client_id = await _session(a)
            assert set(hub.clients) == {client_id}
            client = hub.clients[client_id]
            await _until(lambda: not hub.clients, "the session is expired")
            assert hub.expired == 1
            assert hub.sessions_of("a") == ()
            arrived = await _sim(a, {"event": "Arrive", "queueName": "q"})
            await _sim(a, {"event": "Offer", "emailId": arrived["emailId"], "agent": "a"})
            assert hub.publish("a", CHANNEL, '{"channel": "/v2/me/emails"}') == 0
            assert not hub.clients
            assert not client.queue  # the Offer's notification went nowhere
            (late,) = await _bayeux(a, _connect(client_id, 0))
            assert late["successful"] is False
            assert late["error"] == "402::session_unknown"
            assert late["advice"] == {"reconnect": "handshake", "interval": 0}

    _run(body, _settings(session_timeout_ms=200))


def test_a_session_that_keeps_polling_is_not_expired() -> None:
    """A session whose client keeps connecting outlives many session timeouts, and gets
    the notification queued for it."""

    async def body(url: str, app: Starlette) -> None:
        hub = app.state.hub
        async with httpx.AsyncClient(base_url=url, auth=("a", "x"), timeout=10) as a:
            client_id = await _session(a)
            deadline = time.monotonic() + 1.2  # three session timeouts
            while time.monotonic() < deadline:
                (reply,) = await _bayeux(a, _connect(client_id, 100))
                assert reply["successful"] is True, reply
            assert set(hub.clients) == {client_id}
            assert hub.expired == 0
            arrived = await _sim(a, {"event": "Arrive", "queueName": "q"})
            await _sim(a, {"event": "Offer", "emailId": arrived["emailId"], "agent": "a"})
            replies = await _bayeux(a, _connect(client_id))
            assert [r["channel"] for r in replies] == [CHANNEL, "/meta/connect"]
            assert replies[0]["data"]["email"]["state"] == "Invited"

    _run(body, _settings(session_timeout_ms=400))


def test_an_overflowing_queue_drops_the_session_which_can_handshake_again() -> None:
    """Past max_queue notifications waiting, the session is dropped at once (its queue
    freed); its connect gets 402::session_unknown; a new handshake gets a working
    session that receives the next notification."""

    async def body(url: str, app: Starlette) -> None:
        hub = app.state.hub
        async with httpx.AsyncClient(base_url=url, auth=("a", "x"), timeout=10) as a:
            client_id = await _session(a)
            arrived = await _sim(a, {"event": "Arrive", "queueName": "q"})
            email_id = arrived["emailId"]
            await _sim(a, {"event": "Offer", "emailId": email_id, "agent": "a"})
            path = f"/api/v2/me/emails/{email_id}"
            assert (await a.post(path, json={"operationName": "Accept"})).json()["statusCode"] == 0
            client = hub.clients[client_id]
            assert len(client.queue) == 2
            for n in range(4):
                comment = {"operationName": "AddComment", "comment": f"c{n}"}
                assert (await a.post(path, json=comment)).json()["statusCode"] == 0
            assert hub.dropped == 1
            assert not hub.clients
            assert not client.queue
            (dropped,) = await _bayeux(a, _connect(client_id, 0))
            assert dropped["error"] == "402::session_unknown"
            fresh = await _session(a)
            assert fresh != client_id
            comment = {"operationName": "AddComment", "comment": "after"}
            assert (await a.post(path, json=comment)).json()["statusCode"] == 0
            replies = await _bayeux(a, _connect(fresh))
            assert [r["channel"] for r in replies] == [CHANNEL, "/meta/connect"]
            assert replies[0]["data"]["notificationType"] == "PropertiesUpdated"

    _run(body, _settings(max_queue=5))


def test_handshakes_that_never_connect_leave_nothing_behind() -> None:
    """Two hundred handshakes, never followed by a connect, are all expired: the hub
    holds no session and no agent's index afterwards."""

    async def body(url: str, app: Starlette) -> None:
        hub = app.state.hub
        agents = [f"agent{n}" for n in range(20)]
        clients = [httpx.AsyncClient(base_url=url, auth=(a, "x"), timeout=10) for a in agents]
        try:
            for _ in range(10):
                replies = await asyncio.gather(*(_bayeux(c, HANDSHAKE) for c in clients))
                assert all(shake["successful"] for (shake,) in replies)
            assert len(hub.clients) + hub.expired == 200  # some expired already
            await _until(lambda: not hub.clients, "every session is expired")
            assert hub.expired == 200
            assert all(hub.sessions_of(a) == () for a in agents)
            assert not hub._by_agent
        finally:
            for client in clients:
                await client.aclose()

    _run(body, _settings(session_timeout_ms=200))


def _holder(url: str, agent: str, ready: asyncio.Event) -> Coroutine[Any, Any, httpx.Response]:
    """An agent's session whose second connect the server holds; ``ready`` is set once
    the session is made and that connect is being sent."""

    async def hold() -> httpx.Response:
        async with httpx.AsyncClient(base_url=url, auth=(agent, "x"), timeout=60) as client:
            client_id = await _session(client)
            ready.set()
            return await client.post(COMETD, json=[_connect(client_id)])

    return hold()


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_shutdown_answers_held_connects_at_once(tmp_path: Path, stop: signal.Signals) -> None:
    """``email-fsm serve`` holding six long-polls (30 s connect timeout) stops within
    a few seconds of SIGTERM or SIGINT, and each held connect is answered, successfully,
    with advice not to reconnect."""
    port = free_port()
    url = f"http://{HOST}:{port}"
    process = spawn(["--store", "memory", "--open"], cwd=tmp_path, port=port)
    try:
        wait_ready(url, process)

        async def main() -> tuple[list[httpx.Response], float, int]:
            ready = [asyncio.Event() for _ in range(6)]
            holds = [
                asyncio.create_task(_holder(url, f"a{n}", event)) for n, event in enumerate(ready)
            ]
            await asyncio.wait_for(asyncio.gather(*(event.wait() for event in ready)), 10)
            # A round trip sent after every held connect: the server has read them.
            async with httpx.AsyncClient(base_url=url, auth=("probe", "x"), timeout=10) as probe:
                await _session(probe)
            assert not any(hold.done() for hold in holds), "a connect was not held"
            process.send_signal(stop)
            sent = time.monotonic()
            responses = await asyncio.wait_for(asyncio.gather(*holds), 10)
            code = await asyncio.to_thread(process.wait, 10)
            return responses, time.monotonic() - sent, code

        responses, took, code = asyncio.run(main())
        assert took < 10, f"shutdown took {took:.1f} s"
        assert code in (0, -stop), process.stderr.read() if process.stderr else code
        for response in responses:
            assert response.status_code == 200
            (reply,) = response.json()
            assert reply["channel"] == "/meta/connect"
            assert reply["successful"] is True
            assert reply["advice"] == {"reconnect": "none"}
    finally:
        if process.poll() is None:
            kill(process)
