"""CometD requests through ``Hub.messages_of`` and ``Hub.handle``, in an event loop.

Each input is one request's JSON, handled by a fresh :class:`~email_fsm.server.bayeux.Hub`
that has one session of the agent already: a ``clientId`` of ``"@"`` in the request is
replaced by that session's id, so that the fuzzer reaches subscribe, connect and
disconnect as well as the unknown-session answers. The oracles: ``messages_of`` raises
only :class:`~email_fsm.server.bayeux.BayeuxError`; ``handle`` never raises, and answers
every message (one answer each, but a handshake, which is answered alone), each with the
request's ``channel`` and ``id`` and a boolean ``successful``, all of it JSON.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from email_fsm.server.bayeux import BayeuxError, Hub
from fuzz.common import assert_clear, decoded_json, header, main

LOOP = asyncio.new_event_loop()
AGENT = "a"


def _fresh_hub() -> tuple[Hub, str]:
    hub = Hub(timeout_ms=1, max_interval_ms=10_000, max_queue=4, answer_first_connect=True)
    handshake = {"channel": "/meta/handshake", "version": "1.0",
                 "supportedConnectionTypes": ["long-polling"]}  # fmt: skip
    reply = LOOP.run_until_complete(hub.handle([handshake], AGENT, "long-polling"))
    (answer,) = reply.messages
    client_id: str = answer["clientId"]
    return hub, client_id


def _with_client(value: Any, client_id: str) -> Any:
    if isinstance(value, dict):
        return {
            k: client_id if k == "clientId" and v == "@" else _with_client(v, client_id)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_with_client(v, client_id) for v in value]
    return value


def test_one_input(data: bytes) -> None:
    """Input: 2 choices (the agent asking: the session's or another; whether a message
    waits for the session), then the request's JSON."""
    choices, body = header(data, 2)
    agent = AGENT if choices[0] % 2 == 0 else "b"
    publish = choices[1] % 2 == 1
    ok, payload = decoded_json(body)
    if not ok:
        return
    hub, client_id = _fresh_hub()
    try:
        messages = Hub.messages_of(_with_client(payload, client_id))
    except BayeuxError as error:
        assert_clear(error)
        return
    if publish:
        hub.clients[client_id].subscriptions.add("/v2/me/**")
        hub.publish(AGENT, "/v2/me/emails", '{"channel":"/v2/me/emails","data":{}}')
    reply = LOOP.run_until_complete(hub.handle(messages, agent, "long-polling"))
    handshakes = [m for m in messages if m["channel"] == "/meta/handshake"]
    if handshakes:
        assert len(reply.messages) == 1, reply.messages
        expected: list[dict[str, Any]] = handshakes[:1]
    else:
        connects = [m for m in messages if m["channel"] == "/meta/connect"][:1]
        expected = [m for m in messages if not any(m is c for c in connects)] + connects
    assert len(reply.messages) == len(expected), (messages, reply.messages)
    for asked, answer in zip(expected, reply.messages, strict=True):
        assert answer["channel"] == asked["channel"], (asked, answer)
        assert answer.get("id") == asked.get("id"), (asked, answer)
        assert isinstance(answer["successful"], bool), answer
    for text in reply.texts:
        assert isinstance(json.loads(text), dict)
    json.dumps(reply.messages)
    hub.close()


if __name__ == "__main__":
    main("bayeux", test_one_input)
    sys.exit(0)
