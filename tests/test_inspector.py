"""The inspector without a browser: the service's observer hook, the entries, the bounded
memory, ``/inspector/state``, ``/inspector/emails/{id}``, the Server-Sent Events feed,
who may open it, and the pages and files the server serves for the desktop."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from server_harness import serving_app
from starlette.requests import Request

from email_fsm import Arrive, Offer
from email_fsm.decisions import Accepted, Refused
from email_fsm.server import ContactCenterService, ServerSettings
from email_fsm.server.inspector import STATIC, Inspector, is_loopback
from email_fsm.server.service import Observation

ROOT = Path(__file__).resolve().parent.parent


def _run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def test_the_service_calls_its_observers_after_each_decision_and_refusal() -> None:
    """Each system event and agent request, accepted or refused, is observed once, with
    its agent, request, email, decision and answer; a failing observer changes nothing."""
    seen: list[Observation] = []

    def broken(_: Observation) -> None:
        raise RuntimeError("an observer's bug")

    async def main() -> tuple[dict[str, Any], dict[str, Any]]:
        service = ContactCenterService()
        service.observers += [broken, seen.append]
        service.start()
        await service.system(Arrive(email_id="E1", queue="inbound"))
        await service.system(Offer(email_id="E1", agent="a"))
        refused = await service.agent_request("b", b'{"operationName": "Accept"}', "E1")
        accepted = await service.agent_request("a", b'{"operationName": "Accept"}', "E1")
        await service.stop()
        return refused, accepted

    refused, accepted = _run(main())
    assert accepted == {"statusCode": 0, "referenceId": 2}
    assert refused["statusCode"] == 3
    assert [(o.agent, o.email_id, o.answer["statusCode"]) for o in seen] == [
        (None, "E1", 0),
        (None, "E1", 0),
        ("b", "E1", 3),
        ("a", "E1", 0),
    ]
    assert isinstance(seen[0].request, Arrive)
    assert seen[2].request == b'{"operationName": "Accept"}'
    assert isinstance(seen[2].decision, Refused)
    assert isinstance(seen[3].decision, Accepted)
    assert seen[3].answer is accepted
    assert all(o.time > 1e9 for o in seen)


def _observed(inspector: Inspector, steps: list[tuple[str | None, object, str]]) -> None:
    """Feed the inspector's service these steps: (agent or None, request, email id)."""

    async def main() -> None:
        service = inspector.service
        service.start()
        for agent, request, email_id in steps:
            if agent is None:
                assert not isinstance(request, bytes | str)
                await service.system(request)  # type: ignore[arg-type]
            else:
                await service.agent_request(agent, request, email_id)
        await service.stop()

    _run(main())


def test_entries_name_the_operation_events_phases_and_notifications() -> None:
    """An entry says who asked what of which email, the answer, the events stored, the
    emails' phases after them and the notifications sent; refusals are entries too."""
    inspector = Inspector(ContactCenterService())
    _observed(
        inspector,
        [
            (None, Arrive(email_id="E1", queue="inbound"), "E1"),
            (None, Offer(email_id="E1", agent="a"), "E1"),
            ("a", b'{"operationName": "Complete"}', "E1"),
            ("a", b"not json", "E1"),
            ("a", b'{"operationName": "Accept"}', "E1"),
        ],
    )
    arrive, offer, complete, garbage, accept = inspector.entries
    assert [e["seq"] for e in inspector.entries] == [1, 2, 3, 4, 5]
    assert arrive["operation"] == "Arrive"
    assert arrive["agent"] is None
    assert arrive["events"] == ["EmailArrived"]
    assert arrive["emails"][0]["phase"] == "Queued"
    assert offer["notifications"] == [
        {
            "agent": "a",
            "type": "StatusChange",
            "emailId": "E1",
            "state": "Invited",
            "capabilities": ["Accept", "Reject"],
            "referenceId": None,
        }
    ]
    assert complete["accepted"] is False
    assert complete["answer"]["statusCode"] == 2
    assert complete["events"] == complete["emails"] == []
    assert garbage["operation"] == "(not JSON)"
    assert accept["accepted"] is True
    assert accept["answer"] == {"statusCode": 0, "referenceId": 3}
    assert accept["emails"][0]["phase"] == "Processing"
    assert accept["emails"][0]["owner"] == "a"
    history = inspector.email_history("E1")
    assert history is not None
    assert [e["operation"] for e in history["history"]] == [
        "Arrive",
        "Offer",
        "Complete",
        "(not JSON)",
        "Accept",
    ]
    assert history["email"]["phase"] == "Processing"
    assert inspector.email_history("E9") is None
    assert [n["state"] for n in inspector.notifications["a"]] == ["Invited", "Processing"]


def test_the_inspectors_memory_is_bounded() -> None:
    """The backlog, the histories, the emails with one and the agents' logs keep only
    their newest."""
    inspector = Inspector(
        ContactCenterService(), backlog=3, email_limit=2, history=2, agent_limit=1
    )
    inspector.notification_limit = 1
    steps: list[tuple[str | None, object, str]] = []
    for number in range(1, 4):
        steps.append((None, Arrive(email_id=f"E{number}", queue="q"), f"E{number}"))
        steps.append((None, Offer(email_id=f"E{number}", agent=f"a{number}"), f"E{number}"))
    steps.append(("a3", b'{"operationName": "Accept"}', "E3"))
    _observed(inspector, steps)
    assert [e["seq"] for e in inspector.entries] == [5, 6, 7]
    assert list(inspector.histories) == ["E2", "E3"]
    assert [e["operation"] for e in inspector.histories["E3"]] == ["Offer", "Accept"]
    assert list(inspector.notifications) == ["a3"]
    assert [n["state"] for n in inspector.notifications["a3"]] == ["Processing"]
    state = inspector.state()
    assert state["seq"] == 7
    assert len(state["entries"]) == 3
    # The live emails are all drawn; the finished ones only while they have a history.
    assert sorted(e["id"] for e in state["emails"]) == ["E1", "E2", "E3"]


def test_a_feed_that_falls_behind_is_closed() -> None:
    """A reader that stops reading costs a bounded queue, then its feed ends."""

    async def main() -> tuple[list[Any], int]:
        inspector = Inspector(ContactCenterService(), feed_queue=2)
        feed = inspector.subscribe()
        inspector.service.start()
        for number in range(4):
            await inspector.service.system(Arrive(email_id=f"E{number}", queue="q"))
        items = [feed.get_nowait() for _ in range(feed.qsize())]
        await inspector.service.stop()
        return items, inspector.feeds

    items, feeds = _run(main())
    assert len(items) == 2
    assert items[-1] is None
    assert items[0] is not None
    assert items[0]["seq"] == 2  # the oldest made room for the end
    assert feeds == 0


@pytest.mark.parametrize(
    ("host", "local"),
    [("127.0.0.1", True), ("127.0.0.7", True), ("::1", True), ("192.168.1.5", False)],
)
def test_only_loopback_clients_may_open_the_inspector(host: str, local: bool) -> None:
    """The inspector shows every agent's emails without asking who looks: loopback only."""
    scope = {"type": "http", "client": (host, 5000), "headers": [], "method": "GET"}
    assert is_loopback(Request(scope)) is local


async def _sse(response: httpx.Response) -> AsyncIterator[dict[str, Any]]:
    """The ``data:`` objects of a Server-Sent Events stream."""
    async for line in response.aiter_lines():
        if line.startswith("data: "):
            yield json.loads(line[len("data: ") :])


def test_the_state_history_and_feed_endpoints() -> None:
    """``/inspector/state`` is the picture, ``/inspector/emails/{id}`` a history, and
    ``/inspector/feed`` streams each entry as it is decided."""

    async def main() -> None:
        async with (
            serving_app(ServerSettings()) as (url, app),
            httpx.AsyncClient(base_url=url, timeout=5) as client,
        ):
            arrived = await client.post(
                "/sim/events",
                json={"event": "Arrive", "queueName": "inbound", "email": {"subject": "Hi"}},
            )
            assert arrived.json()["emailId"] == "E1"
            state = (await client.get("/inspector/state")).json()
            assert state["seq"] == 1
            assert state["phases"] == [
                "Queued",
                "Invited",
                "Processing",
                "Composing",
                "Completed",
                "Sent",
                "Canceled",
            ]
            assert state["terminal"] == ["Canceled", "Completed", "Sent"]
            assert [(e["id"], e["phase"], e["subject"]) for e in state["emails"]] == [
                ("E1", "Queued", "Hi")
            ]
            async with client.stream("GET", "/inspector/feed") as feed:
                assert feed.headers["content-type"].startswith("text/event-stream")
                entries = _sse(feed)
                await client.post(
                    "/sim/events", json={"event": "Offer", "emailId": "E1", "agent": "a"}
                )
                offered = await anext(entries)
                assert offered["seq"] == 2
                assert offered["emails"][0]["phase"] == "Invited"
                assert offered["notifications"][0]["agent"] == "a"
                await client.post(
                    "/sim/events", json={"event": "Offer", "emailId": "E1", "agent": "b"}
                )
                refused = await anext(entries)
                assert refused["accepted"] is False
                assert refused["answer"]["statusCode"] == 2  # not Queued any more
                assert refused["emailId"] == "E1"
                assert app.state.inspector.feeds == 1
            history = (await client.get("/inspector/emails/E1")).json()
            assert [e["operation"] for e in history["history"]] == ["Arrive", "Offer", "Offer"]
            assert [e["accepted"] for e in history["history"]] == [True, True, False]
            missing = await client.get("/inspector/emails/E404")
            assert missing.status_code == 404
            page = await client.get("/inspector")
            assert page.headers["content-type"] == "text/html; charset=utf-8"
            assert "inspector.js" in page.text

    _run(main())


def test_no_inspector_means_no_inspector_routes() -> None:
    """``ServerSettings(inspector=False)`` (``--no-inspector``): 404, and no observer."""

    async def main() -> None:
        async with (
            serving_app(ServerSettings(inspector=False)) as (url, app),
            httpx.AsyncClient(base_url=url, timeout=5) as client,
        ):
            assert (await client.get("/inspector")).status_code == 404
            assert (await client.get("/inspector/state")).status_code == 404
            assert app.state.inspector is None
            assert app.state.service.observers == []
            assert (await client.get("/desktop")).status_code == 200

    _run(main())


def test_the_desktop_and_its_files_are_served_with_their_types() -> None:
    """``/desktop`` is HTML; its script, style, the diagram and the vendored CometD client
    come from the package with the content types a browser needs for modules."""

    async def main() -> None:
        async with (
            serving_app(ServerSettings()) as (url, _),
            httpx.AsyncClient(base_url=url, timeout=5) as client,
        ):
            page = await client.get("/desktop")
            assert page.status_code == 200
            assert page.headers["content-type"] == "text/html; charset=utf-8"
            assert '<script type="module" src="/static/desktop.js">' in page.text
            for path, kind in [
                ("/static/desktop.js", "javascript"),
                ("/static/inspector.js", "javascript"),
                ("/static/vendor/cometd/cometd.js", "javascript"),
                ("/static/vendor/cometd/Client.js", "javascript"),
                ("/static/desktop.css", "text/css"),
                ("/static/lifecycle.svg", "image/svg+xml"),
            ]:
                response = await client.get(path)
                assert response.status_code == 200, path
                assert kind in response.headers["content-type"], path
                assert response.content == (STATIC / path.removeprefix("/static/")).read_bytes()
            assert (await client.get("/static/nothing.js")).status_code == 404

    _run(main())


def test_the_served_diagram_is_the_generated_one() -> None:
    """The inspector draws ``docs/generated/lifecycle.svg`` (``make diagrams``): the
    package's copy must be the same bytes (copy it after regenerating)."""
    generated = (ROOT / "docs" / "generated" / "lifecycle.svg").read_bytes()
    assert (STATIC / "lifecycle.svg").read_bytes() == generated
    text = generated.decode()
    for phase in ("Queued", "Invited", "Processing", "Composing", "Completed", "Sent"):
        assert f"<title>{phase}</title>" in text
