"""The server's HTTP surface: authentication, sessions, CSRF, the read API, and bad input.

Every refusal is checked with its answer and with the contact center's state before and
after it (``GET /sim/emails``: every email as the model stores it, and the agents in a
contact-center session): a refused request changes nothing. No input gets HTTP 500: the
tests also fail if uvicorn logs an error (an exception in the application).
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import aiohttp
import httpx
import pytest
from server_harness import serving

from email_fsm import Config, Limits, agent_emails, email_from_json, view
from email_fsm.email import Email
from email_fsm.server import Agent, Directory, ServerSettings
from email_fsm.server.service import RoutingSettings

COMETD = "/api/v2/notifications"
HANDSHAKE = {
    "channel": "/meta/handshake",
    "id": "1",
    "version": "1.0",
    "supportedConnectionTypes": ["long-polling"],
}
DENIED = {"statusCode": 20, "statusMessage": "Access denied"}
CSRF_REFUSAL = "Missing or invalid Csrf token"
NO_ROUTER = RoutingSettings(enabled=False)
LIMIT = 10.0
"""Seconds an answer may take before the test fails (a safety net, not a clock check)."""

Body = Callable[[str], Awaitable[None]]


class ServerErrors(logging.Handler):
    """What uvicorn logs at ERROR: an exception in the application (an HTTP 500)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(autouse=True)
def no_server_errors() -> Iterator[None]:
    handler = ServerErrors()
    logger = logging.getLogger("uvicorn.error")
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
    assert [r.getMessage() for r in handler.records] == []


def run(settings: ServerSettings, body: Body) -> None:
    async def main() -> None:
        async with serving(settings) as base:
            await asyncio.wait_for(body(base), 60)

    asyncio.run(main())


def basic(user: str, password: str = "") -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


async def call(
    base: str,
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    body: object = None,
    content: bytes | None = None,
) -> httpx.Response:
    """One request from a client of its own (no cookie kept from an earlier answer)."""
    async with httpx.AsyncClient(base_url=base, timeout=LIMIT) as client:
        if content is None and body is not None:
            content = json.dumps(body).encode()
        return await client.request(method, path, headers=headers, content=content)


async def state(base: str) -> dict[str, Any]:
    """Every email as the model stores it, and the agents in a contact-center session."""
    answer: dict[str, Any] = (await call(base, "GET", "/sim/emails")).json()
    return answer


async def emails(base: str) -> dict[str, Email]:
    return {e["id"]: email_from_json(json.dumps(e)) for e in (await state(base))["emails"]}


async def sim(base: str, body: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = (await call(base, "POST", "/sim/events", body=body)).json()
    assert answer["statusCode"] == 0, answer
    return answer


async def arrive(base: str, email_id: str, **fields: Any) -> None:
    await sim(
        base,
        {
            "event": "Arrive",
            "emailId": email_id,
            "queueName": "inbound",
            "email": {"from": "customer@example.com", "subject": email_id, **fields},
        },
    )


async def invite(base: str, email_id: str, agent: str) -> None:
    await arrive(base, email_id)
    await sim(base, {"event": "Offer", "emailId": email_id, "agent": agent})


async def operation(
    base: str, agent: str, email_id: str | None, body: dict[str, Any]
) -> dict[str, Any]:
    path = "/api/v2/me/emails" + (f"/{email_id}" if email_id else "")
    answer: dict[str, Any] = (
        await call(base, "POST", path, headers=basic(agent), body=body)
    ).json()
    return answer


async def bayeux(
    base: str, agent: str, *messages: dict[str, Any], status: int = 200
) -> list[dict[str, Any]]:
    response = await call(base, "POST", COMETD, headers=basic(agent), body=list(messages))
    assert response.status_code == status, response.text
    replies: list[dict[str, Any]] = response.json()
    return replies


async def cometd_session(base: str, agent: str, subscription: str = "/v2/me/*") -> str:
    """A handshake, a subscription and the first connect: a live session's clientId."""
    (shake,) = await bayeux(base, agent, HANDSHAKE)
    assert shake["successful"] is True
    client_id: str = shake["clientId"]
    replies = await bayeux(
        base,
        agent,
        {"channel": "/meta/subscribe", "clientId": client_id, "subscription": subscription},
        connect(client_id),
    )
    assert [r["successful"] for r in replies] == [True, True], replies
    return client_id


def connect(client_id: str, timeout: int | None = 0) -> dict[str, Any]:
    message: dict[str, Any] = {
        "channel": "/meta/connect",
        "clientId": client_id,
        "connectionType": "long-polling",
        "id": "c",
    }
    if timeout is not None:
        message["advice"] = {"timeout": timeout}
    return message


async def waiting(base: str, agent: str, client_id: str) -> list[dict[str, Any]]:
    """The notifications waiting for the session now (a connect answered at once)."""
    replies = await bayeux(base, agent, connect(client_id))
    assert replies[-1]["channel"] == "/meta/connect"
    assert replies[-1]["successful"] is True
    return replies[:-1]


# ---------------------------------------------------------------------------- login


AGENT_REQUESTS: list[tuple[str, str, object]] = [
    ("GET", "/api/v2/me", None),
    ("GET", "/api/v2/me/emails", None),
    ("GET", "/api/v2/me/emails/E1", None),
    ("POST", "/api/v2/me", {"operationName": "StartContactCenterSession", "channels": ["email"]}),
    ("POST", "/api/v2/me/emails", {"operationName": "Create"}),
    ("POST", "/api/v2/me/emails/E1", {"operationName": "Accept"}),
    ("POST", COMETD, [HANDSHAKE]),
]


def test_requests_without_valid_credentials_get_401_and_change_nothing() -> None:
    """No credentials, an Authorization header that is not Basic or not base64, a
    wrong password, an unknown user: every request of the agent API and of CometD is
    answered 401 with GWS's statusCode 20 and a Basic challenge, and nothing changes (the
    Accept, the Create and the session start are not made)."""
    directory = Directory([Agent("alice", "secret")])

    async def body(base: str) -> None:
        await invite(base, "E1", "alice")
        before = await state(base)
        refused_headers: list[dict[str, str]] = [
            {},
            {"Authorization": "Bearer secret"},
            {"Authorization": "Basic !!!"},
            basic("alice", "guess"),
            basic("alice", ""),
            basic("mallory", "secret"),
        ]
        for headers in refused_headers:
            for method, path, payload in AGENT_REQUESTS:
                response = await call(base, method, path, headers=headers, body=payload)
                assert response.status_code == 401, (headers, path)
                assert response.json() == DENIED
                assert response.headers["www-authenticate"].startswith("Basic ")
                assert "set-cookie" not in response.headers
        assert await state(base) == before
        me = await call(base, "GET", "/api/v2/me", headers=basic("alice", "secret"))
        assert me.status_code == 200
        assert me.json()["user"]["userName"] == "alice"

    run(ServerSettings(directory=directory, routing=NO_ROUTER), body)


def test_a_websocket_without_valid_credentials_is_refused() -> None:
    """The WebSocket upgrade needs credentials too: without them, or with a wrong
    password, the server refuses the upgrade (HTTP 403); Basic credentials, or the
    session cookie alone, open a socket on which a handshake succeeds."""
    directory = Directory([Agent("alice", "secret")])

    async def body(base: str) -> None:
        url = base.replace("http://", "ws://") + COMETD
        async with aiohttp.ClientSession() as session:
            for headers in ({}, basic("alice", "guess")):
                with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                    await session.ws_connect(url, headers=headers)
                assert refused.value.status == 403
            login = await call(base, "GET", "/api/v2/me", headers=basic("alice", "secret"))
            jar = {"Cookie": login.headers["set-cookie"].split(";")[0]}
            for headers in (basic("alice", "secret"), jar):
                async with session.ws_connect(url, headers=headers) as socket:
                    await socket.send_str(json.dumps([HANDSHAKE]))
                    (reply,) = json.loads((await socket.receive(LIMIT)).data)
                    assert reply["successful"] is True

    run(ServerSettings(directory=directory), body)


def test_the_session_cookie_authenticates_later_requests() -> None:
    """``GET /api/v2/me`` with Basic credentials sets an HttpOnly ``JSESSIONID`` cookie;
    later requests with the cookie alone are the same agent's: the profile, an Accept
    (which makes that agent the owner) and a CometD handshake. A made-up cookie is
    refused; Basic credentials of another agent beside the cookie are that agent's."""
    directory = Directory([Agent("alice", "secret"), Agent("bob", "hunter2")])

    async def body(base: str) -> None:
        await invite(base, "E1", "alice")
        login = await call(base, "GET", "/api/v2/me", headers=basic("alice", "secret"))
        cookie = login.headers["set-cookie"]
        assert cookie.startswith("JSESSIONID=")
        assert "HttpOnly" in cookie
        jar = {"Cookie": cookie.split(";")[0]}

        me = await call(base, "GET", "/api/v2/me", headers=jar)
        assert me.status_code == 200
        assert me.json()["user"]["userName"] == "alice"
        assert "set-cookie" not in me.headers  # the same session
        accepted = await call(
            base, "POST", "/api/v2/me/emails/E1", headers=jar, body={"operationName": "Accept"}
        )
        assert accepted.json() == {"statusCode": 0, "referenceId": 1}
        assert (await emails(base))["E1"].owner == "alice"
        (shake,) = (await call(base, "POST", COMETD, headers=jar, body=[HANDSHAKE])).json()
        assert shake["successful"] is True

        before = await state(base)
        made_up = {"Cookie": "JSESSIONID=made-up"}
        refused = await call(
            base,
            "POST",
            "/api/v2/me/emails/E1",
            headers=made_up,
            body={"operationName": "Complete"},
        )
        assert refused.status_code == 401
        assert refused.json() == DENIED
        wrong = await call(
            base,
            "POST",
            "/api/v2/me/emails/E1",
            headers={**jar, **basic("alice", "guess")},
            body={"operationName": "Complete"},
        )
        assert wrong.status_code == 401
        assert await state(base) == before

        as_bob = await call(base, "GET", "/api/v2/me", headers={**jar, **basic("bob", "hunter2")})
        assert as_bob.json()["user"]["userName"] == "bob"
        assert as_bob.headers["set-cookie"].startswith("JSESSIONID=")
        assert as_bob.headers["set-cookie"] != cookie

    run(ServerSettings(directory=directory, routing=NO_ROUTER), body)


def test_with_csrf_on_a_post_needs_the_sessions_token() -> None:
    """With CSRF protection on, ``GET /api/v2/me`` names the header (``X-CSRF-HEADER``)
    and gives the session's token (``X-CSRF-TOKEN``). A POST without it, with another
    token, or from a session just made by Basic credentials (whose token nobody was
    given) is refused with 403 "Missing or invalid Csrf token" and changes nothing; with
    it, the operation is accepted."""

    async def body(base: str) -> None:
        await invite(base, "E1", "alice")
        login = await call(base, "GET", "/api/v2/me", headers=basic("alice"))
        header = login.headers["X-CSRF-HEADER"]
        assert header == "X-CSRF-TOKEN"
        token = login.headers[header]
        assert token
        jar = {"Cookie": login.headers["set-cookie"].split(";")[0]}
        again = await call(base, "GET", "/api/v2/me", headers=jar)
        assert again.headers[header] == token

        accept = {"operationName": "Accept"}
        start = {"operationName": "StartContactCenterSession", "channels": ["email"]}
        before = await state(base)
        for headers in (jar, {**jar, header: "not-the-token"}, {**basic("alice"), header: token}):
            for path, payload in (("/api/v2/me/emails/E1", accept), ("/api/v2/me", start)):
                refused = await call(base, "POST", path, headers=headers, body=payload)
                assert refused.status_code == 403
                assert refused.text == CSRF_REFUSAL
        assert await state(base) == before

        accepted = await call(
            base, "POST", "/api/v2/me/emails/E1", headers={**jar, header: token}, body=accept
        )
        assert accepted.status_code == 200
        assert accepted.json()["statusCode"] == 0
        assert (await emails(base))["E1"].owner == "alice"
        started = await call(base, "POST", "/api/v2/me", headers={**jar, header: token}, body=start)
        assert started.json() == {"statusCode": 0}
        assert (await state(base))["routable"] == {"alice": ["email"]}

    run(ServerSettings(csrf=True, routing=NO_ROUTER), body)


def test_without_csrf_no_token_is_asked_for() -> None:
    """CSRF protection is off by default: no token is handed out, and a POST with the
    cookie alone is accepted."""

    async def body(base: str) -> None:
        await invite(base, "E1", "alice")
        login = await call(base, "GET", "/api/v2/me", headers=basic("alice"))
        assert "X-CSRF-HEADER" not in login.headers
        assert "X-CSRF-TOKEN" not in login.headers
        jar = {"Cookie": login.headers["set-cookie"].split(";")[0]}
        accepted = await call(
            base, "POST", "/api/v2/me/emails/E1", headers=jar, body={"operationName": "Accept"}
        )
        assert accepted.json()["statusCode"] == 0

    run(ServerSettings(routing=NO_ROUTER), body)


# ---------------------------------------------------------------------------- reading


def test_the_profile_and_its_subresources() -> None:
    """``GET /api/v2/me`` is the user; ``?subresources=`` adds the channels (those of
    the contact-center session, Ready), the devices and the settings asked for, ``*``
    all three."""
    directory = Directory([Agent("alice", "pw", "Alice", "Smith")])

    async def body(base: str) -> None:
        async def me(query: str = "") -> dict[str, Any]:
            answer = await call(base, "GET", "/api/v2/me" + query, headers=basic("alice", "pw"))
            assert answer.json()["statusCode"] == 0
            user: dict[str, Any] = answer.json()["user"]
            return user

        user = await me()
        assert (user["userName"], user["firstName"], user["lastName"]) == (
            "alice",
            "Alice",
            "Smith",
        )
        assert user["uri"].endswith("/api/v2/users/alice")
        assert not {"channels", "devices", "settings"} & set(user)
        everything = await me("?subresources=*")
        assert (everything["channels"], everything["devices"], everything["settings"]) == (
            [],
            [],
            {},
        )
        start = {"operationName": "StartContactCenterSession", "channels": ["email"]}
        started = await call(base, "POST", "/api/v2/me", headers=basic("alice", "pw"), body=start)
        assert started.json() == {"statusCode": 0}
        channels = await me("?subresources=channels")
        assert channels["channels"] == [{"channel": "email", "userState": {"state": "Ready"}}]
        assert not {"devices", "settings"} & set(channels)
        two = await me("?subresources=devices,settings")
        assert "channels" not in two
        assert (two["devices"], two["settings"]) == ([], {})

    run(ServerSettings(directory=directory), body)


def test_the_email_list_and_an_email_are_the_models_views() -> None:
    """``GET /api/v2/me/emails`` (uris), ``?fields=*`` (the objects) and
    ``GET /api/v2/me/emails/{id}`` answer what ``agent_emails`` and ``view`` say of the
    server's emails: Alice sees her invitation, the email she accepted and her draft;
    not Bob's invitation nor a Queued email (statusCode 6)."""

    async def body(base: str) -> None:
        await invite(base, "E1", "alice")
        await invite(base, "E2", "alice")
        await invite(base, "E3", "bob")
        await arrive(base, "E4")
        assert (await operation(base, "alice", "E2", {"operationName": "Accept"}))[
            "statusCode"
        ] == 0
        assert (await operation(base, "alice", None, {"operationName": "Create"}))[
            "statusCode"
        ] == 0
        model = await emails(base)
        (draft,) = set(model) - {"E1", "E2", "E3", "E4"}

        async def get(agent: str, path: str) -> dict[str, Any]:
            answer: dict[str, Any] = (await call(base, "GET", path, headers=basic(agent))).json()
            return answer

        listed = await get("alice", "/api/v2/me/emails")
        assert listed == agent_emails(model, "alice")
        assert sorted(uri.rsplit("/", 1)[1] for uri in listed["uris"]) == sorted(
            ["E1", "E2", draft]
        )
        objects = await get("alice", "/api/v2/me/emails?fields=*")
        assert objects == agent_emails(model, "alice", fields=True)
        assert {e["id"]: e["state"] for e in objects["emails"]} == {
            "E1": "Invited",
            "E2": "Processing",
            draft: "Composing",
        }
        for email_id in ("E1", "E2", draft):
            one = await get("alice", f"/api/v2/me/emails/{email_id}")
            assert one == {"statusCode": 0, "email": view(model[email_id], "alice")}
        for email_id in ("E3", "E4", "E99"):
            assert (await get("alice", f"/api/v2/me/emails/{email_id}"))["statusCode"] == 6
        assert (await get("bob", "/api/v2/me/emails")) == agent_emails(model, "bob")
        assert len((await get("bob", "/api/v2/me/emails"))["uris"]) == 1

    run(ServerSettings(routing=NO_ROUTER), body)


# ---------------------------------------------------------------------------- bad input


NOT_JSON_BODIES = [
    b"",
    b"{",
    b"\xff\xfe\x00",
    b"[" * 100_000,  # nested deeper than the parser's recursion limit
    b'{"operationName": NaN}',
]
"""Bodies no endpoint can parse."""


@pytest.mark.parametrize("payload", NOT_JSON_BODIES, ids=["empty", "cut", "binary", "deep", "nan"])
def test_bodies_that_are_not_json_are_refused_everywhere(payload: bytes) -> None:
    """A body that is not JSON (cut off, not UTF-8, nested too deep, NaN) is refused by
    every endpoint that takes one, with statusCode 10 (CometD: HTTP 400 and a Bayeux
    error), and changes nothing."""

    async def body(base: str) -> None:
        await invite(base, "E1", "alice")
        before = await state(base)
        for path in ("/api/v2/me/emails/E1", "/api/v2/me/emails", "/api/v2/me", "/sim/events"):
            response = await call(base, "POST", path, headers=basic("alice"), content=payload)
            assert response.status_code == 200, path
            assert response.json()["statusCode"] == 10, (path, response.json())
        response = await call(base, "POST", COMETD, headers=basic("alice"), content=payload)
        assert response.status_code == 400
        (error,) = response.json()
        assert error["successful"] is False
        assert error["error"].startswith("400::")
        assert await state(base) == before

    run(ServerSettings(routing=NO_ROUTER), body)


def test_bodies_that_are_json_but_not_requests_are_refused() -> None:
    """A JSON body that is not an object, an unknown operationName and a missing one
    are refused (10, 10 and 1), on an email and on ``/api/v2/me``, and change nothing;
    so is a StartContactCenterSession whose channels are not a list of names."""

    async def body(base: str) -> None:
        await invite(base, "E1", "alice")
        before = await state(base)
        cases: list[tuple[object, int]] = [
            ([], 10),
            ("Accept", 10),
            (None, 10),
            ({"operationName": "Fly"}, 10),
            ({"operationName": 5}, 10),
            ({}, 1),
        ]
        for path in ("/api/v2/me/emails/E1", "/api/v2/me"):
            for payload, code in cases:
                response = await call(base, "POST", path, headers=basic("alice"), body=payload)
                assert response.status_code == 200
                assert response.json()["statusCode"] == code, (path, payload, response.json())
        for channels in ("email", [5], {"email": True}):
            start = {"operationName": "StartContactCenterSession", "channels": channels}
            response = await call(base, "POST", "/api/v2/me", headers=basic("alice"), body=start)
            assert response.json()["statusCode"] == 10
        assert await state(base) == before

    run(ServerSettings(routing=NO_ROUTER), body)


SMALL = Config(limits=Limits(max_body_bytes=1_000))
LIMITED_PATHS = ["/api/v2/me/emails/E1", "/api/v2/me/emails", "/api/v2/me", "/sim/events", COMETD]


async def raw_answer(
    base: str, head: bytes, first: bytes
) -> tuple[int, dict[str, Any] | list[Any]]:
    """Send a request's head and the start of its body, then nothing more (the
    connection stays open): the status and JSON body of the answer that comes anyway."""
    host, port = base.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(head + first)
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), LIMIT)
        headers: dict[str, str] = {}
        while (line := await asyncio.wait_for(reader.readline(), LIMIT)) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            headers[name.strip().lower()] = value.strip()
        content = await asyncio.wait_for(reader.readexactly(int(headers["content-length"])), LIMIT)
        return int(status_line.split()[1]), json.loads(content)
    finally:
        writer.close()


def _too_big(path: str, status: int, answer: dict[str, Any] | list[Any]) -> None:
    assert status == 413, (path, answer)
    if path == COMETD:
        assert isinstance(answer, list)
        assert answer[0]["successful"] is False
        assert answer[0]["error"].startswith("413::")
    else:
        assert isinstance(answer, dict)
        assert answer["statusCode"] == 10


@pytest.mark.parametrize("path", LIMITED_PATHS)
def test_a_body_over_the_limit_is_refused_before_it_is_read(path: str) -> None:
    """A body over ``max_body_bytes`` is refused with 413 (statusCode 10, or a Bayeux
    error) and changes nothing: sent whole; announced by a Content-Length far over the
    limit and never sent (the answer comes although the body does not); and streamed in
    chunks past the limit by a client that then sends nothing more."""
    auth = "Authorization: {}\r\n".format(basic("alice")["Authorization"]).encode()

    async def body(base: str) -> None:
        await invite(base, "E1", "alice")
        before = await state(base)
        whole = await call(base, "POST", path, headers=basic("alice"), content=b" " * 1_001)
        _too_big(path, whole.status_code, whole.json())

        announced = (
            f"POST {path} HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
            "Content-Length: 1000000000\r\n"
        ).encode()
        status, answer = await raw_answer(base, announced + auth + b"\r\n", b'{"operationName"')
        _too_big(path, status, answer)

        chunked = (
            f"POST {path} HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\n"
        ).encode()
        chunks = b"".join(b"258\r\n" + b" " * 600 + b"\r\n" for _ in range(2))  # 1,200 bytes
        status, answer = await raw_answer(base, chunked + auth + b"\r\n", chunks)
        _too_big(path, status, answer)
        assert await state(base) == before

    run(ServerSettings(config=SMALL, routing=NO_ROUTER), body)


def test_a_body_at_the_limit_is_read() -> None:
    """The limit is the largest body accepted: an operation padded to exactly
    ``max_body_bytes`` is decided (and accepted)."""

    async def body(base: str) -> None:
        await invite(base, "E1", "alice")
        text = json.dumps({"operationName": "Accept"}).encode()
        padded = text[:-1] + b" " * (1_000 - len(text)) + b"}"
        assert len(padded) == 1_000
        response = await call(
            base, "POST", "/api/v2/me/emails/E1", headers=basic("alice"), content=padded
        )
        assert response.json()["statusCode"] == 0
        assert (await emails(base))["E1"].owner == "alice"

    run(ServerSettings(config=SMALL, routing=NO_ROUTER), body)


NOT_BAYEUX: list[object] = [[1], "x", [], {}, [{"channel": 5}], [{"id": "1"}], [HANDSHAKE, 2], None]


def test_cometd_payloads_that_are_not_messages_get_400() -> None:
    """A CometD request that is not an array of messages (objects with a string
    ``channel``) gets HTTP 400 and a Bayeux error, over HTTP and over a WebSocket (an
    error frame; the socket stays usable, and a binary frame is read as text)."""

    async def body(base: str) -> None:
        for payload in NOT_BAYEUX:
            response = await call(base, "POST", COMETD, headers=basic("alice"), body=payload)
            assert response.status_code == 400, payload
            (error,) = response.json()
            assert error["successful"] is False
            assert error["error"].startswith("400::")
        url = base.replace("http://", "ws://") + COMETD
        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(url, headers=basic("alice")) as socket,
        ):
            for text in [*(json.dumps(p) for p in NOT_BAYEUX), "not json", "[" * 100_000]:
                await socket.send_str(text)
                (error,) = json.loads((await socket.receive(LIMIT)).data)
                assert error["successful"] is False
                assert error["error"].startswith("400::")
            await socket.send_bytes(json.dumps([HANDSHAKE]).encode())
            (reply,) = json.loads((await socket.receive(LIMIT)).data)
            assert reply["channel"] == "/meta/handshake"
            assert reply["successful"] is True

    run(ServerSettings(), body)


def test_an_unknown_or_another_agents_client_id_is_told_to_handshake() -> None:
    """A made-up clientId, and Alice's clientId used by Bob, get ``402::session_unknown``
    with the advice to handshake again, on every channel; Alice's session is untouched:
    she still receives her invitation, Bob none."""

    async def body(base: str) -> None:
        alice = await cometd_session(base, "alice")
        bob = await cometd_session(base, "bob")
        for client_id in ("made-up", alice):
            for message in (
                connect(client_id),
                {"channel": "/meta/subscribe", "clientId": client_id, "subscription": "/v2/me/*"},
                {"channel": "/meta/unsubscribe", "clientId": client_id, "subscription": "/v2/me/*"},
                {"channel": "/meta/disconnect", "clientId": client_id},
                {"channel": "/v2/me/emails", "clientId": client_id, "data": {}},
            ):
                (reply,) = await bayeux(base, "bob", {**message, "id": "7"})
                assert reply == {
                    "channel": message["channel"],
                    "id": "7",
                    "successful": False,
                    "error": "402::session_unknown",
                    "advice": {"reconnect": "handshake", "interval": 0},
                }
        await invite(base, "E1", "alice")
        (invited,) = await waiting(base, "alice", alice)
        assert invited["data"]["email"]["id"] == "E1"
        assert await waiting(base, "bob", bob) == []

    run(ServerSettings(routing=NO_ROUTER), body)


@pytest.mark.parametrize(
    "channel",
    ["/v2/users/bob/emails", "/v2/users/*", "/v2/users/**", "/v2/emails", "/v2/me*", "/**/me"],
)
def test_a_subscription_outside_the_agents_own_channels_is_denied(channel: str) -> None:
    """Subscribing to another agent's channel, or to a pattern that is not one of the
    agent's own channels, is denied with ``403:<clientId>,<channel>:subscribe_denied``;
    the session then receives nothing of Bob's invitation."""

    async def body(base: str) -> None:
        (shake,) = await bayeux(base, "alice", HANDSHAKE)
        alice = shake["clientId"]
        subscribe = {"channel": "/meta/subscribe", "clientId": alice, "subscription": channel}
        (reply,) = await bayeux(base, "alice", {**subscribe, "id": "2"})
        assert reply == {
            "channel": "/meta/subscribe",
            "id": "2",
            "successful": False,
            "subscription": channel,
            "error": f"403:{alice},{channel}:subscribe_denied",
        }
        bob = await cometd_session(base, "bob")
        await invite(base, "E1", "bob")
        assert await waiting(base, "alice", alice) == []
        (invited,) = await waiting(base, "bob", bob)
        assert invited["data"]["email"]["id"] == "E1"

    run(ServerSettings(routing=NO_ROUTER), body)


@pytest.mark.parametrize("channel", ["/v2/me/emails", "/v2/users/bob/emails", "/service/x"])
def test_clients_cannot_publish(channel: str) -> None:
    """A publish is denied with ``403:<channel>:publish_denied``, and reaches no one:
    Bob, subscribed to his own channels, receives nothing."""

    async def body(base: str) -> None:
        alice = await cometd_session(base, "alice", "/v2/**")
        bob = await cometd_session(base, "bob")
        data = {"messageType": "EmailStateChangeMessage", "email": {"id": "E1"}}
        (reply,) = await bayeux(
            base, "alice", {"channel": channel, "clientId": alice, "data": data, "id": "3"}
        )
        assert reply == {
            "channel": channel,
            "id": "3",
            "successful": False,
            "error": f"403:{channel}:publish_denied",
        }
        assert await waiting(base, "bob", bob) == []
        assert await waiting(base, "alice", alice) == []

    run(ServerSettings(routing=NO_ROUTER), body)


SIM_REFUSALS: list[tuple[object, int]] = [
    ({"event": "Fly", "emailId": "E9"}, 10),
    ({}, 1),
    ([], 10),
    ({"event": "Offer", "emailId": "E1"}, 1),
    ({"event": "Offer", "emailId": "E99", "agent": "bob"}, 6),
    ({"event": "Offer", "emailId": "E1", "agent": "bob"}, 2),  # E1 is Invited
    ({"event": "Revoke", "emailId": "E2"}, 2),  # E2 is Queued
    ({"event": "Arrive", "emailId": "E2", "queueName": "inbound"}, 18),
    ({"event": "Arrive", "emailId": "E9"}, 1),
    ({"event": "Arrive", "emailId": "E9", "queueName": 5}, 10),
    ({"event": "Arrive", "emailId": "E9", "queueName": "q", "colour": "red"}, 10),
    ({"event": "Arrive", "queueName": "q", "email": {"to": "not a list"}}, 10),
]


def test_bad_contact_center_events_are_refused_and_change_nothing() -> None:
    """``POST /sim/events`` refuses an unknown event (10), a missing one (1), a missing
    or ill-typed value (1, 10), an unknown key (10), an unknown email (6), an event its
    email's phase does not allow (2) and a taken id (18); nothing changes."""

    async def body(base: str) -> None:
        await invite(base, "E1", "alice")
        await arrive(base, "E2")
        before = await state(base)
        for payload, code in SIM_REFUSALS:
            response = await call(base, "POST", "/sim/events", body=payload)
            assert response.status_code == 200
            assert response.json()["statusCode"] == code, (payload, response.json())
        assert await state(base) == before

    run(ServerSettings(routing=NO_ROUTER), body)


# ---------------------------------------------------------------------------- sessions


def test_start_and_end_contact_center_session() -> None:
    """StartContactCenterSession on the ``email`` channel makes the agent routable: the
    router offers her the next email. After EndContactCenterSession it offers her none:
    the next email goes to Bob, although he already holds one and she holds none (the
    router prefers the agent holding fewer)."""
    settings = ServerSettings(
        routing=RoutingSettings(capacity=2, offer_timeout=None), connect_timeout_ms=60_000
    )
    start = {"operationName": "StartContactCenterSession", "channels": ["email"]}

    async def body(base: str) -> None:
        alice = await cometd_session(base, "alice")
        bob = await cometd_session(base, "bob")
        assert (await operation(base, "alice", None, {}))["statusCode"] == 1
        me = await call(base, "POST", "/api/v2/me", headers=basic("alice"), body=start)
        assert me.json() == {"statusCode": 0}
        assert (await state(base))["routable"] == {"alice": ["email"]}

        await arrive(base, "E1")
        # A held connect: answered when the router's invitation arrives.
        (offered, _) = await bayeux(base, "alice", connect(alice, timeout=None))
        assert offered["data"]["email"]["id"] == "E1"
        assert offered["data"]["email"]["state"] == "Invited"
        for name in ("Accept", "Complete"):
            assert (await operation(base, "alice", "E1", {"operationName": name}))[
                "statusCode"
            ] == 0
        assert len(await waiting(base, "alice", alice)) == 2

        end = {"operationName": "EndContactCenterSession"}
        me = await call(base, "POST", "/api/v2/me", headers=basic("alice"), body=end)
        assert me.json() == {"statusCode": 0}
        assert (await state(base))["routable"] == {}
        channels = await call(
            base, "GET", "/api/v2/me?subresources=channels", headers=basic("alice")
        )
        assert channels.json()["user"]["channels"] == []

        await invite(base, "B1", "bob")  # Bob holds one email
        (told,) = await waiting(base, "bob", bob)
        assert told["data"]["email"]["id"] == "B1"
        await arrive(base, "E2")
        me = await call(base, "POST", "/api/v2/me", headers=basic("bob"), body=start)
        assert me.json() == {"statusCode": 0}
        (offered, _) = await bayeux(base, "bob", connect(bob, timeout=None))
        assert offered["data"]["email"]["id"] == "E2"
        assert (await emails(base))["E2"].invitee == "bob"
        assert await waiting(base, "alice", alice) == []

    run(settings, body)
