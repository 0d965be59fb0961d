"""The CometD hub without a transport: handshake, subscriptions, connect, delivery, expiry."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from email_fsm.server.bayeux import BayeuxError, Hub, matches

HANDSHAKE = {
    "channel": "/meta/handshake",
    "id": "1",
    "version": "1.0",
    "minimumVersion": "1.0",
    "supportedConnectionTypes": ["long-polling"],
}


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _run(work: Any) -> Any:
    return asyncio.run(work)


async def _handshake(hub: Hub, agent: str) -> str:
    reply = await hub.handle([HANDSHAKE], agent, "long-polling")
    (answer,) = reply.messages
    assert answer["successful"] is True
    client_id: str = answer["clientId"]
    return client_id


@pytest.mark.parametrize(
    ("pattern", "channel", "expected"),
    [
        ("/v2/me/emails", "/v2/me/emails", True),
        ("/v2/me/*", "/v2/me/emails", True),
        ("/v2/me/*", "/v2/me", False),
        ("/v2/me/*", "/v2/me/emails/x", False),
        ("/v2/me/**", "/v2/me/emails/x", True),
        ("/v2/**", "/v2/me/emails", True),
        ("/**", "/v2/me/emails", True),
        ("/v2/me/calls", "/v2/me/emails", False),
        ("/v2/you/*", "/v2/me/emails", False),
    ],
)
def test_subscription_patterns(pattern: str, channel: str, expected: bool) -> None:
    """Bayeux globbing: ``*`` one segment, ``**`` any number."""
    assert matches(pattern, channel) is expected


def test_a_handshake_gives_a_client_id_of_160_random_bits_and_the_advice() -> None:
    async def scenario() -> None:
        hub = Hub(connection_types=("websocket", "long-polling"))
        reply = await hub.handle([HANDSHAKE, {"channel": "/meta/connect"}], "a", "long-polling")
        (answer,) = reply.messages  # the message beside the handshake is ignored
        assert answer["id"] == "1"
        assert answer["version"] == "1.0"
        assert answer["supportedConnectionTypes"] == ["websocket", "long-polling"]
        assert len(answer["clientId"]) == 40
        assert answer["clientId"].isalnum()
        assert answer["advice"] == {"reconnect": "retry", "interval": 0, "timeout": 30_000}
        other = await _handshake(hub, "a")
        assert other != answer["clientId"]
        assert {c.agent for c in hub.sessions_of("a")} == {"a"}
        assert len(hub.sessions_of("a")) == 2

    _run(scenario())


def test_a_handshake_with_no_common_transport_or_version_is_denied() -> None:
    async def scenario() -> None:
        hub = Hub()
        for message in (
            {**HANDSHAKE, "supportedConnectionTypes": ["callback-polling"]},
            {key: value for key, value in HANDSHAKE.items() if key != "version"},
        ):
            (answer,) = (await hub.handle([message], "a", "long-polling")).messages
            assert answer["successful"] is False
            assert answer["error"] == "403::handshake_denied"
            assert answer["advice"] == {"reconnect": "none"}
        assert hub.clients == {}

    _run(scenario())


def test_messages_reach_only_the_subscribed_sessions_of_their_agent() -> None:
    async def scenario() -> None:
        hub = Hub()
        a1, a2, b = (
            await _handshake(hub, "a"),
            await _handshake(hub, "a"),
            await _handshake(hub, "b"),
        )
        for client_id, pattern in ((a1, "/v2/me/*"), (b, "/v2/me/**")):
            (answer,) = (
                await hub.handle(
                    [
                        {
                            "channel": "/meta/subscribe",
                            "clientId": client_id,
                            "subscription": pattern,
                        }
                    ],
                    "b" if client_id == b else "a",
                    "long-polling",
                )
            ).messages
            assert answer["successful"] is True
        assert hub.publish("a", "/v2/me/emails", '{"channel":"/v2/me/emails","data":1}') == 1
        assert [len(hub.clients[c].queue) for c in (a1, a2, b)] == [1, 0, 0]
        reply = await hub.handle(
            [{"channel": "/meta/connect", "clientId": a1, "connectionType": "long-polling"}],
            "a",
            "long-polling",
        )
        assert reply.texts == ['{"channel":"/v2/me/emails","data":1}']
        assert reply.messages[-1]["successful"] is True
        assert hub.clients[a1].queue == type(hub.clients[a1].queue)()

    _run(scenario())


def test_a_held_connect_is_answered_when_a_message_arrives() -> None:
    async def scenario() -> None:
        hub = Hub(timeout_ms=10_000)
        client_id = await _handshake(hub, "a")
        await hub.handle(
            [
                {
                    "channel": "/meta/subscribe",
                    "clientId": client_id,
                    "subscription": "/v2/me/emails",
                }
            ],
            "a",
            "long-polling",
        )
        connect = {
            "channel": "/meta/connect",
            "clientId": client_id,
            "connectionType": "long-polling",
        }
        held = asyncio.create_task(hub.handle([connect], "a", "long-polling"))
        while not hub.clients[client_id].held:
            await asyncio.sleep(0)
        assert not held.done()
        hub.publish("a", "/v2/me/emails", '{"n":1}')
        reply = await asyncio.wait_for(held, 5)
        assert reply.texts == ['{"n":1}']
        assert hub.clients[client_id].held == 0

    _run(scenario())


def test_a_connect_asking_for_timeout_0_is_answered_at_once() -> None:
    async def scenario() -> None:
        hub = Hub(timeout_ms=60_000)
        client_id = await _handshake(hub, "a")
        connect = {
            "channel": "/meta/connect",
            "clientId": client_id,
            "connectionType": "long-polling",
            "advice": {"timeout": 0},
            "id": "2",
        }
        reply = await asyncio.wait_for(hub.handle([connect], "a", "long-polling"), 5)
        assert reply.messages == [
            {
                "channel": "/meta/connect",
                "id": "2",
                "successful": True,
                "advice": {"reconnect": "retry", "interval": 0, "timeout": 60_000},
            }
        ]

    _run(scenario())


def test_an_unknown_or_foreign_client_id_is_told_to_handshake() -> None:
    """Another agent's clientId is as unknown as a made-up one."""

    async def scenario() -> None:
        hub = Hub()
        b = await _handshake(hub, "b")
        for client_id in ("nope", b):
            for channel in ("/meta/connect", "/meta/subscribe", "/meta/disconnect", "/v2/x"):
                (answer,) = (
                    await hub.handle(
                        [{"channel": channel, "clientId": client_id, "subscription": "/v2/me/*"}],
                        "a",
                        "long-polling",
                    )
                ).messages
                assert answer["successful"] is False
                assert answer["error"] == "402::session_unknown"
                assert answer["advice"] == {"reconnect": "handshake", "interval": 0}
        assert hub.clients[b].subscriptions == set()

    _run(scenario())


@pytest.mark.parametrize(
    ("subscription", "error"),
    [
        ("/v2/users/bob/emails", "subscribe_denied"),
        ("/meta/connect", "subscribe_denied"),
        ("/service/x", "subscribe_denied"),
        ("/v2/me/emails*", "subscribe_denied"),
        ("/v2/**/emails", "subscribe_denied"),
        ("v2/me/emails", "subscribe_denied"),
        (["/v2/me/emails", "/v2/users/bob"], "subscribe_denied"),
        (None, "subscription_missing"),
        ([], "subscription_missing"),
        ([1], "subscription_missing"),
    ],
)
def test_subscriptions_outside_the_agents_own_channels_are_refused(
    subscription: object, error: str
) -> None:
    async def scenario() -> None:
        hub = Hub()
        client_id = await _handshake(hub, "a")
        message = {
            "channel": "/meta/subscribe",
            "clientId": client_id,
            "subscription": subscription,
        }
        (answer,) = (await hub.handle([message], "a", "long-polling")).messages
        assert answer["successful"] is False
        assert answer["error"].endswith(error)
        assert hub.clients[client_id].subscriptions == set()

    _run(scenario())


def test_unsubscribe_publish_and_disconnect() -> None:
    async def scenario() -> None:
        hub = Hub()
        client_id = await _handshake(hub, "a")
        base = {"clientId": client_id, "subscription": ["/v2/me/emails", "/v2/me/calls"]}
        replies = await hub.handle(
            [
                {"channel": "/meta/subscribe", **base},
                {"channel": "/meta/unsubscribe", **base, "subscription": "/v2/me/calls"},
                {"channel": "/v2/me/emails", "clientId": client_id, "data": {}},
                {"channel": "/meta/nothing", "clientId": client_id},
            ],
            "a",
            "long-polling",
        )
        assert [m.get("successful") for m in replies.messages] == [True, True, False, False]
        assert replies.messages[2]["error"] == "403:/v2/me/emails:publish_denied"
        assert replies.messages[3]["error"] == "404:/meta/nothing:unknown_channel"
        assert hub.clients[client_id].subscriptions == {"/v2/me/emails"}
        (answer,) = (
            await hub.handle(
                [{"channel": "/meta/disconnect", "clientId": client_id}], "a", "long-polling"
            )
        ).messages
        assert answer["successful"] is True
        assert hub.clients == {}
        assert hub.publish("a", "/v2/me/emails", "{}") == 0

    _run(scenario())


def test_sessions_without_connects_expire_and_overflowing_ones_are_dropped() -> None:
    async def scenario() -> None:
        clock = _Clock()
        hub = Hub(max_interval_ms=10_000, max_queue=3, clock=clock)
        quiet, busy = await _handshake(hub, "a"), await _handshake(hub, "b")
        for client_id, agent in ((quiet, "a"), (busy, "b")):
            await hub.handle(
                [{"channel": "/meta/subscribe", "clientId": client_id, "subscription": "/**"}],
                agent,
                "long-polling",
            )
        for _ in range(4):
            hub.publish("b", "/v2/me/emails", "{}")
        assert busy not in hub.clients
        assert hub.dropped == 1
        clock.now += 9
        assert hub.expire() == 0
        clock.now += 2
        assert hub.expire() == 1
        assert hub.clients == {}
        assert hub.expired == 1

    _run(scenario())


@pytest.mark.parametrize(
    "payload",
    [[], "text", 3, [1], [{"id": "1"}], [{"channel": 5}], None],
)
def test_a_payload_that_is_not_bayeux_messages_is_refused(payload: object) -> None:
    with pytest.raises(BayeuxError):
        Hub.messages_of(payload)


def test_a_single_message_object_is_accepted() -> None:
    assert Hub.messages_of({"channel": "/meta/connect"}) == [{"channel": "/meta/connect"}]


def test_closing_answers_held_connects_and_refuses_new_handshakes() -> None:
    async def scenario() -> None:
        hub = Hub(timeout_ms=60_000)
        client_id = await _handshake(hub, "a")
        connect = {
            "channel": "/meta/connect",
            "clientId": client_id,
            "connectionType": "long-polling",
        }
        held = asyncio.create_task(hub.handle([connect], "a", "long-polling"))
        while not hub.clients[client_id].held:
            await asyncio.sleep(0)
        hub.close()
        reply = await asyncio.wait_for(held, 5)
        assert reply.messages[-1]["advice"] == {"reconnect": "none"}
        (answer,) = (await hub.handle([HANDSHAKE], "a", "long-polling")).messages
        assert answer["successful"] is False

    _run(scenario())
