"""CometD sessions shared through PostgreSQL, two servers in this loop on one database: a
session made on one is served by the other, its notifications come once each whichever
server answers, and a session with no connect expires on both."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import psycopg
import pytest
from postgres_harness import postgres_server, postgres_url  # noqa: F401 - fixtures
from server_harness import serving_app

from email_fsm.server import Directory, RoutingSettings, ServerSettings
from email_fsm.server.postgres import PostgresLog, SharedHub

pytestmark = pytest.mark.needs("postgres")


def _settings(url: str) -> ServerSettings:
    return ServerSettings(
        directory=Directory.open(),
        log=PostgresLog(url),
        routing=RoutingSettings(enabled=False, offer_timeout=None),
        session_timeout_ms=600,
        connect_timeout_ms=2_000,
    )


async def _bayeux(client: httpx.AsyncClient, *messages: dict[str, Any]) -> list[dict[str, Any]]:
    response = await client.post("/api/v2/notifications", json=list(messages))
    assert response.status_code == 200, response.text
    answer: list[dict[str, Any]] = response.json()
    return answer


def _connect(client_id: str, timeout_ms: int) -> dict[str, Any]:
    return {
        "channel": "/meta/connect",
        "clientId": client_id,
        "connectionType": "long-polling",
        "advice": {"timeout": timeout_ms},
    }


async def _until(condition: Any, what: str, limit: float = 10) -> None:
    deadline = time.monotonic() + limit
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {limit} s: {what}")
        await asyncio.sleep(0.05)


def test_a_session_moves_between_servers_and_expires_on_both(
    postgres_url: str,  # noqa: F811
) -> None:
    """Handshake and subscribe on server one; the offers' notifications are answered by
    connects to server two and then one, each once and in order, a connect acknowledging
    the answer before it; with no connect for the session timeout, the session is
    unknown (402, handshake again) on both servers."""

    async def main() -> None:
        async with (
            serving_app(_settings(postgres_url)) as (one_url, one_app),
            serving_app(_settings(postgres_url)) as (two_url, _),
            httpx.AsyncClient(base_url=one_url, auth=("a", "x"), timeout=10) as one,
            httpx.AsyncClient(base_url=two_url, auth=("a", "x"), timeout=10) as two,
        ):
            assert isinstance(one_app.state.hub, SharedHub)
            (shake,) = await _bayeux(
                one,
                {
                    "channel": "/meta/handshake",
                    "version": "1.0",
                    "supportedConnectionTypes": ["long-polling"],
                },
            )
            client_id = shake["clientId"]
            subscribed, first = await _bayeux(
                one,
                {"channel": "/meta/subscribe", "clientId": client_id, "subscription": "/v2/me/*"},
                _connect(client_id, 0),
            )
            assert subscribed["successful"]
            assert first["successful"]
            seen: list[str] = []
            for n, (center, poller) in enumerate(((one, two), (two, one), (one, one))):
                email_id = f"E{n}"
                arrive = {"event": "Arrive", "emailId": email_id, "queueName": "q"}
                assert (await center.post("/sim/events", json=arrive)).json()["statusCode"] == 0
                offer = {"event": "Offer", "emailId": email_id, "agent": "a"}
                assert (await center.post("/sim/events", json=offer)).json()["statusCode"] == 0
                answer = await _bayeux(poller, _connect(client_id, 2_000))
                assert answer[-1]["successful"], answer
                seen += [m["data"]["email"]["id"] for m in answer[:-1]]
            # A last connect brings nothing more: every notification came once.
            rest = await _bayeux(two, _connect(client_id, 0))
            assert rest[-1]["successful"]
            assert seen + [m["data"]["email"]["id"] for m in rest[:-1]] == ["E0", "E1", "E2"]

            async def expired() -> bool:
                async with await psycopg.AsyncConnection.connect(postgres_url) as connection:
                    cursor = await connection.execute(
                        "SELECT count(*) FROM cometd_sessions WHERE client_id = %s", (client_id,)
                    )
                    row = await cursor.fetchone()
                return row is not None and row[0] == 0

            await _until(expired, "the session is expired")
            for client in (one, two):
                (late,) = await _bayeux(client, _connect(client_id, 0))
                assert late["error"] == "402::session_unknown"
                assert late["advice"] == {"reconnect": "handshake", "interval": 0}

    asyncio.run(main())
