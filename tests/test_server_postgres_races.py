"""Two server processes on one PostgreSQL deciding on the same email at once, many times:
one version wins and the other request is decided again on the fresh email (a second
Accept becomes the model's refusal); two changes that both apply both land. And every
bad input still gets a GWS answer from a process on PostgreSQL, never an HTTP 500."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from postgres_harness import (  # noqa: F401 - fixtures
    postgres_server,
    postgres_url,
    serving_cluster,
)

pytestmark = pytest.mark.needs("postgres")

ROUNDS = 15


async def _post(client: httpx.AsyncClient, path: str, body: object) -> dict[str, Any]:
    response = await client.post(path, json=body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def _races(backends: list[str]) -> tuple[list[list[int]], list[int], list[dict[str, Any]]]:
    first, second = backends[:2]
    auth = ("a", "pw")
    async with (
        httpx.AsyncClient(base_url=first, auth=auth) as one,
        httpx.AsyncClient(base_url=second, auth=auth) as two,
    ):
        accepts: list[list[int]] = []
        again: list[int] = []
        emails: list[dict[str, Any]] = []
        for n in range(ROUNDS):
            email_id = f"R{n}"
            arrive = {"event": "Arrive", "emailId": email_id, "queueName": "q", "email": {}}
            assert (await _post(one, "/sim/events", arrive))["statusCode"] == 0
            offer = {"event": "Offer", "emailId": email_id, "agent": "a"}
            assert (await _post(two, "/sim/events", offer))["statusCode"] == 0
            path = f"/api/v2/me/emails/{email_id}"
            both = await asyncio.gather(
                _post(one, path, {"operationName": "Accept"}),
                _post(two, path, {"operationName": "Accept"}),
            )
            accepts.append(sorted(answer["statusCode"] for answer in both))
            again.append((await _post(two, path, {"operationName": "Accept"}))["statusCode"])
            updates = await asyncio.gather(
                _post(one, path, {"operationName": "UpdateUserData", "userData": {"k1": n}}),
                _post(two, path, {"operationName": "UpdateUserData", "userData": {"k2": n}}),
            )
            assert [answer["statusCode"] for answer in updates] == [0, 0], updates
            got = await one.get(path)
            emails.append(got.json()["email"])
    return accepts, again, emails


def test_two_processes_deciding_on_one_email_at_once(
    postgres_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    """Fifteen times, two Accepts of one invitation at once through two processes: one
    is accepted, the other gets the refusal a second Accept gets; then two
    UpdateUserData at once, each with a key of its own: both are accepted and the email
    holds both keys (no lost update). The processes decided again after conflicts."""
    arguments = ["--open", "--no-router", "--offer-timeout", "0"]
    with serving_cluster(postgres_url, arguments, cwd=tmp_path, count=2) as cluster:
        accepts, again, emails = asyncio.run(_races(cluster.backends))
        statuses = [httpx.get(f"{b}/sim/status").json() for b in cluster.backends]
        final = httpx.get(f"{cluster.backends[0]}/sim/emails").json()
    refusal = again[0]
    assert refusal != 0
    assert again == [refusal] * ROUNDS
    assert accepts == [[0, refusal]] * ROUNDS
    for n, email in enumerate(emails):
        assert email["state"] == "Processing"
        assert email["userData"] == {"k1": n, "k2": n}, email
    assert sum(status["conflicts"] for status in statuses) > 0, statuses
    stored = {e["id"]: e for e in final["emails"]}
    assert sorted(stored) == sorted(f"R{n}" for n in range(ROUNDS))
    assert all(e["owner"] == "a" and e["phase"] == "Processing" for e in stored.values())


BAD_BODIES: list[bytes] = [
    b"",
    b"not json",
    b"[]",
    b"null",
    b'{"operationName": 5}',
    b'{"operationName": "NoSuchThing"}',
    b'{"operationName": "Accept", "extra": {"deep": [1, 2, 3]}}',
    b'{"operationName": "UpdateUserData", "userData": "not an object"}',
    b'{"operationName": "AddComment", "comment": "\\ud800"}',
    b'{"operationName": "Transfer", "targetAgent": 42}',
    b"[" * 5000 + b"]" * 5000,
    b'{"operationName": "Accept"' + b" " * 2_000_000 + b"}",
    '{"operationName": "AddComment", "comment": "é"}'.encode("latin-1"),
]

BAD_COMETD: list[bytes] = [
    b"",
    b"{}",
    b"[1]",
    b'[{"channel": 5}]',
    b'[{"channel": "/meta/connect", "clientId": "nobody"}]',
    b'[{"channel": "/meta/subscribe", "clientId": "nobody", "subscription": "/v2/me/*"}]',
    b'[{"channel": "/meta/handshake"}]',
    b'[{"channel": "/meta/disconnect", "clientId": 7}]',
    b'[{"channel": "/v2/me/emails", "clientId": "nobody", "data": {}}]',
]


def test_bad_inputs_get_gws_answers_on_postgresql(
    postgres_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    """Malformed bodies to the email API, the contact-center API, /api/v2/me and the
    CometD endpoint of a process on PostgreSQL: each is answered with a GWS statusCode
    (or a Bayeux error), never an HTTP 500, and the process then serves as before."""
    arguments = ["--open", "--no-router", "--offer-timeout", "0"]
    with (
        serving_cluster(postgres_url, arguments, cwd=tmp_path, count=1) as cluster,
        httpx.Client(base_url=cluster.backends[0], auth=("a", "pw"), timeout=30) as client,
    ):
        arrive = {"event": "Arrive", "emailId": "E1", "queueName": "q"}
        arrived = client.post("/sim/events", json=arrive)
        assert arrived.json()["statusCode"] == 0
        answers: list[tuple[str, int, Any]] = []
        for body in BAD_BODIES:
            for path in ("/api/v2/me/emails/E1", "/api/v2/me/emails", "/api/v2/me", "/sim/events"):
                response = client.post(path, content=body)
                answers.append((path, response.status_code, response.json()))
        for body in BAD_COMETD:
            response = client.post("/api/v2/notifications", content=body)
            answers.append(("/api/v2/notifications", response.status_code, response.json()))
        for path in ("/api/v2/me/emails/nope", "/api/v2/me/emails?fields=*", "/sim/emails"):
            response = client.get(path)
            answers.append((path, response.status_code, response.json()))
        after = client.post("/sim/events", json={**arrive, "emailId": "E2"})
    assert after.json()["statusCode"] == 0
    for path, status, answer in answers:
        assert status in (200, 400, 413), (path, status, answer)
        if path == "/api/v2/notifications":
            messages = answer if isinstance(answer, list) else [answer]
            assert all(m["successful"] is False for m in messages), (path, answer)
        else:
            assert isinstance(answer["statusCode"], int), (path, answer)
    refused = [a for p, _, a in answers if p != "/api/v2/notifications" and a["statusCode"] != 0]
    assert len(refused) >= len(BAD_BODIES) * 3
    assert json.dumps(answers)  # every answer was JSON
