"""The server's HTTP handlers, called in-process through ASGI (no sockets).

``POST /api/v2/me/emails/{id}`` (and ``/api/v2/me/emails``), ``POST /api/v2/me``,
``POST /api/v2/notifications`` and ``POST /sim/events`` on one application whose
lifespan is started once, seeded with emails in each phase through the service; it is
rebuilt (a fresh state) when it holds more than :data:`MAX_EMAILS` emails. Routing is
off, so that only the request itself changes the store. Each input picks a route, an
email id, credentials (agent ``a``, agent ``z``, none, or fuzzed) and a body.

The oracles: the application never raises and never answers 500; every answer is JSON:
a Bayeux array from CometD (or, without credentials, the 401 object), else an object
with an integer ``statusCode``; an answer whose ``statusCode`` is not 0 leaves the
store's emails and the event log as they were.
"""

from __future__ import annotations

import asyncio
import base64
import json
import sys
from typing import Any

from email_fsm import Arrive, Offer
from email_fsm.server import MemoryLog, ServerSettings, create_app
from email_fsm.server.service import ContactCenterService, RoutingSettings
from fuzz.common import header, main

LOOP = asyncio.new_event_loop()
MAX_EMAILS = 64
ROUTES = [
    "/api/v2/me/emails/{id}",
    "/api/v2/me/emails",
    "/api/v2/me",
    "/api/v2/notifications",
    "/sim/events",
]
IDS = ["Q1", "I1", "P1", "D1", "X", "missing", "%20", "E1"]


def _basic(user: str) -> bytes:
    return b"Basic " + base64.b64encode(f"{user}:secret".encode())


AUTHORIZATIONS = [_basic("a"), _basic("z"), None, b"Basic !!", _basic("x/y"), b"Bearer a"]


class _App:
    """One application (with an empty log of its own) with its lifespan entered, seeded."""

    def __init__(self) -> None:
        self.settings = ServerSettings(
            log=MemoryLog(),
            routing=RoutingSettings(enabled=False, offer_timeout=None),
            connect_timeout_ms=1,
            websocket=False,
        )
        self.app = create_app(self.settings)
        self.lifespan = self.app.router.lifespan_context(self.app)
        LOOP.run_until_complete(self.lifespan.__aenter__())
        self.service: ContactCenterService = self.app.state.service
        LOOP.run_until_complete(self._seed())

    async def _seed(self) -> None:
        service = self.service
        for email_id in ("Q1", "I1", "P1", "X"):
            await service.system(Arrive(email_id=email_id, queue="inbound", subject="Hi"))
        for email_id, agent in (("I1", "a"), ("P1", "a"), ("X", "z")):
            await service.system(Offer(email_id=email_id, agent=agent))
        for email_id, agent in (("P1", "a"), ("X", "z")):
            answer = await service.agent_request(agent, {"operationName": "Accept"}, email_id)
            assert answer["statusCode"] == 0, answer
        answer = await service.agent_request(
            "a", {"operationName": "Create", "queueName": "outbound"}, None
        )
        assert answer["statusCode"] == 0, answer

    def close(self) -> None:
        LOOP.run_until_complete(self.lifespan.__aexit__(None, None, None))


STATE = [_App()]


async def _call(
    app: Any, path: str, headers: list[tuple[bytes, bytes]], body: bytes
) -> tuple[int, bytes]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode("utf-8", "surrogateescape"),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    sent: list[dict[str, Any]] = []
    received = False

    async def receive() -> dict[str, Any]:
        nonlocal received
        if not received:
            received = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)  # a disconnect never comes while the answer is written
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    (start,) = [m for m in sent if m["type"] == "http.response.start"]
    content = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return int(start["status"]), content


def test_one_input(data: bytes) -> None:
    """Input: 3 choices (route, email id, credentials), then the body."""
    choices, body = header(data, 3)
    route = ROUTES[choices[0] % len(ROUTES)]
    path = route.replace("{id}", IDS[choices[1] % len(IDS)])
    headers = [(b"content-type", b"application/json")]
    authorization = AUTHORIZATIONS[choices[2] % len(AUTHORIZATIONS)]
    if authorization is not None:
        headers.append((b"authorization", authorization))

    state = STATE[0]
    if len(state.service.store.emails) > MAX_EMAILS:
        state.close()
        state = STATE[0] = _App()
    store = state.service.store
    emails, logged = dict(store.emails), len(state.settings.log.load())

    status, content = LOOP.run_until_complete(_call(state.app, path, headers, body))
    assert status != 500, (path, body, content)
    answer = json.loads(content)
    if route == "/api/v2/notifications" and status != 401:
        assert isinstance(answer, list), answer
        assert answer, answer
        assert all(isinstance(m, dict) and isinstance(m["successful"], bool) for m in answer)
        return
    assert isinstance(answer, dict), answer
    code = answer["statusCode"]
    assert isinstance(code, int), answer
    assert not isinstance(code, bool), answer
    if code != 0:
        assert dict(store.emails) == emails, (path, body, answer)
        assert len(state.settings.log.load()) == logged, (path, body, answer)


if __name__ == "__main__":
    main("http", test_one_input)
    sys.exit(0)
