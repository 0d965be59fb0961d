"""The built-in router: :class:`OldestFirstRouter` on its own, and through the service
(sessions, capacity, rejections, the invitation timeout, a restart)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
from server_harness import serving_app

from email_fsm import Accept, Arrive, Complete, Email, Offer, Phase, Reject, Transfer
from email_fsm.codec import events_from_jsonl
from email_fsm.events import EmailOffered, Event, InvitationRevoked
from email_fsm.server import (
    ContactCenterService,
    OldestFirstRouter,
    RoutingSettings,
    ServerSettings,
    SQLiteLog,
)
from email_fsm.server.eventlog import EventLog, MemoryLog, Row
from email_fsm.store import EmailStore


def _queued(*ids: str, rejected_by: dict[str, set[str]] | None = None) -> list[Email]:
    store = EmailStore()
    for email_id in ids:
        store.execute(Arrive(email_id=email_id, queue="q"))
        for agent in (rejected_by or {}).get(email_id, set()):
            store.execute(Offer(email_id=email_id, agent=agent))
            store.execute(Reject(actor=agent, email_id=email_id))
    return [store.emails[i] for i in ids]


def test_router_offers_the_oldest_first_to_the_least_loaded() -> None:
    """The oldest email goes first, to the ready agent holding the fewest; an agent at
    capacity gets nothing; no agent ready, no offer."""
    router = OldestFirstRouter(capacity=2)
    emails = _queued("E1", "E2", "E3", "E4")
    assert router(emails, {"a": 1, "b": 0}) == [("E1", "b"), ("E2", "a"), ("E3", "b")]
    assert OldestFirstRouter(capacity=2)(emails, {"a": 2, "b": 2}) == []
    assert OldestFirstRouter(capacity=2)(emails, {}) == []
    assert OldestFirstRouter(capacity=1)(emails, {"a": 0}) == [("E1", "a")]


def test_router_prefers_the_agent_who_waited_longest() -> None:
    """Among agents holding as few, the one offered an email longest ago gets the next."""
    router = OldestFirstRouter(capacity=5)
    (e1,), (e2,) = _queued("E1"), _queued("E2")
    assert router([e1], {"a": 0, "b": 0}) == [("E1", "a")]
    assert router([e2], {"a": 0, "b": 0}) == [("E2", "b")]
    assert router([e1], {"a": 0, "b": 0}) == [("E1", "a")]


def test_router_never_offers_an_email_to_an_agent_who_rejected_it() -> None:
    """An email rejected by a goes to b, or stays queued when only a is ready; the next
    email still goes to a."""
    emails = _queued("E1", "E2", rejected_by={"E1": {"a"}})
    assert "a" in emails[0].rejected_by
    assert OldestFirstRouter()(emails, {"a": 0, "b": 0}) == [("E1", "b"), ("E2", "a")]
    assert OldestFirstRouter()(emails, {"a": 0}) == [("E2", "a")]
    assert OldestFirstRouter()(emails[:1], {"a": 0}) == []


class RecordingLog:
    """A log around another that keeps the events appended, and wakes waiters on each."""

    def __init__(self, inner: EventLog | None = None) -> None:
        self.inner: EventLog = inner if inner is not None else MemoryLog()
        self.durable = self.inner.durable
        self.events: list[Event] = []
        self.appended = asyncio.Condition()

    def load(self) -> list[Event]:
        return self.inner.load()

    def close(self) -> None:
        self.inner.close()

    async def append(self, rows: Sequence[Row]) -> bool:
        stored = await self.inner.append(rows)
        if stored:
            self.events.extend(events_from_jsonl("\n".join(row.event for row in rows)))
            async with self.appended:
                self.appended.notify_all()
        return stored

    async def wait_for(self, kind: type[Any], count: int = 1, timeout: float = 5) -> None:
        def enough() -> bool:
            return sum(isinstance(e, kind) for e in self.events) >= count

        async with self.appended:
            await asyncio.wait_for(self.appended.wait_for(enough), timeout)


async def _settled(service: ContactCenterService) -> None:
    """Wait until the router (and any other background step) has nothing left to do."""
    while service._tasks:
        await asyncio.gather(*tuple(service._tasks))
        # A finished task leaves the set in a done callback, which runs only once the
        # loop gets a turn: gathering tasks that are all done does not yield on 3.13.
        await asyncio.sleep(0)


def _service(log: EventLog | None = None, **routing: Any) -> ContactCenterService:
    service = ContactCenterService(log=log or MemoryLog(), routing=RoutingSettings(**routing))
    service.start()
    return service


async def _arrive(service: ContactCenterService, count: int) -> list[str]:
    ids = []
    for _ in range(count):
        email_id = service.new_id()
        assert (await service.system(Arrive(email_id=email_id, queue="q"))).accepted
        ids.append(email_id)
    return ids


def _phases(service: ContactCenterService) -> dict[str, tuple[Phase, str | None]]:
    return {i: (e.phase, e.holder) for i, e in service.store.emails.items()}


async def _act(service: ContactCenterService, command: Any) -> None:
    decision = await service.system(command)  # a typed agent command decides the same way
    assert decision.accepted, decision


def test_offers_start_with_an_email_session_and_stop_after_it_ends() -> None:
    """No offers before an agent starts a session, nor for a session without the email
    channel; with one, the oldest email is offered; after EndContactCenterSession,
    freeing the agent's capacity brings no new offer."""

    async def main() -> None:
        service = _service(offer_timeout=None)
        e1, e2, e3 = await _arrive(service, 3)
        await _settled(service)
        assert all(phase is Phase.QUEUED for phase, _ in _phases(service).values())
        service.start_session("a", ["chat"])
        await _settled(service)
        assert all(phase is Phase.QUEUED for phase, _ in _phases(service).values())
        service.start_session("a", ["email", "chat"])
        await _settled(service)
        assert _phases(service) == {
            e1: (Phase.INVITED, "a"),
            e2: (Phase.QUEUED, None),
            e3: (Phase.QUEUED, None),
        }
        await _act(service, Accept(actor="a", email_id=e1))
        await _act(service, Complete(actor="a", email_id=e1))
        await _settled(service)
        assert _phases(service)[e2] == (Phase.INVITED, "a")
        service.end_session("a")
        await _act(service, Accept(actor="a", email_id=e2))
        await _act(service, Complete(actor="a", email_id=e2))
        await _settled(service)
        assert _phases(service)[e3] == (Phase.QUEUED, None)
        assert service.ready_agents() == {}
        await service.stop()

    asyncio.run(main())


def test_capacity_bounds_what_an_agent_holds() -> None:
    """With capacity 2 an agent is offered two emails, holds two after accepting one, and
    gets the third only when one is completed. Twelve emails and four agents arriving
    at once never give anyone more than two."""

    async def main() -> None:
        service = _service(capacity=2, offer_timeout=None)
        e1, e2, e3 = await _arrive(service, 3)
        service.start_session("a", ["email"])
        await _settled(service)
        assert _phases(service) == {
            e1: (Phase.INVITED, "a"),
            e2: (Phase.INVITED, "a"),
            e3: (Phase.QUEUED, None),
        }
        await _act(service, Accept(actor="a", email_id=e1))
        await _settled(service)
        assert _phases(service)[e3] == (Phase.QUEUED, None)
        await _act(service, Complete(actor="a", email_id=e1))
        await _settled(service)
        assert _phases(service)[e3] == (Phase.INVITED, "a")

        for agent in "bcde":
            service.start_session(agent, ["email"])
        await asyncio.gather(*(_arrive(service, 3) for _ in range(4)))
        await _settled(service)
        held = {agent: len(service.store.held_by(agent)) for agent in "abcde"}
        assert held == {"a": 2, "b": 2, "c": 2, "d": 2, "e": 2}
        await service.stop()

    asyncio.run(main())


def test_a_rejected_email_goes_to_another_agent() -> None:
    """a rejects an email: the router offers a the next one instead, and the rejected one
    only to b once b starts a session."""

    async def main() -> None:
        service = _service(offer_timeout=None)
        e1, e2 = await _arrive(service, 2)
        service.start_session("a", ["email"])
        await _settled(service)
        await _act(service, Reject(actor="a", email_id=e1))
        await _settled(service)
        assert _phases(service) == {e1: (Phase.QUEUED, None), e2: (Phase.INVITED, "a")}
        await _act(service, Reject(actor="a", email_id=e2))
        await _settled(service)
        assert _phases(service) == {e1: (Phase.QUEUED, None), e2: (Phase.QUEUED, None)}
        service.start_session("b", ["email"])
        await _settled(service)
        assert _phases(service) == {e1: (Phase.INVITED, "b"), e2: (Phase.QUEUED, None)}
        await service.stop()

    asyncio.run(main())


def test_an_invitation_not_answered_in_time_is_revoked() -> None:
    """An invitation left unanswered for offer_timeout seconds is revoked (not sooner);
    one accepted in time has no timer left."""

    async def main() -> None:
        log = RecordingLog()
        service = _service(log, offer_timeout=0.2)
        e1, e2 = await _arrive(service, 2)
        service.start_session("a", ["email"])
        service.start_session("b", ["email"])
        await log.wait_for(EmailOffered, 2)
        offered = time.monotonic()
        await _act(service, Accept(actor="b", email_id=e2))
        assert e2 not in service._timers
        await log.wait_for(InvitationRevoked)
        assert time.monotonic() - offered >= 0.19
        (revoked,) = [e for e in log.events if isinstance(e, InvitationRevoked)]
        assert (revoked.email_id, revoked.agent) == (e1, "a")
        assert service.store.emails[e2].phase is Phase.PROCESSING
        await service.stop()

    asyncio.run(main())


def test_a_restart_rearms_the_timeouts_of_open_invitations(tmp_path: Path) -> None:
    """Invitations open when the server stopped are revoked offer_timeout after the
    restart (the restarted service's router is off, so they stay Queued)."""
    path = tmp_path / "events.sqlite"

    async def first() -> list[str]:
        service = _service(SQLiteLog(path), offer_timeout=None)
        ids = await _arrive(service, 3)
        for email_id, agent in zip(ids, "abc", strict=True):
            await _act(service, Offer(email_id=email_id, agent=agent))
        await _act(service, Accept(actor="c", email_id=ids[2]))
        await service.stop()
        return ids

    async def second(ids: list[str]) -> None:
        log = RecordingLog(SQLiteLog(path))
        service = ContactCenterService(
            log=log, routing=RoutingSettings(enabled=False, offer_timeout=0.2)
        )
        started = time.monotonic()
        service.start()
        assert set(service._timers) == set(ids[:2])
        await log.wait_for(InvitationRevoked, 2)
        assert time.monotonic() - started >= 0.19
        await _settled(service)
        assert _phases(service) == {
            ids[0]: (Phase.QUEUED, None),
            ids[1]: (Phase.QUEUED, None),
            ids[2]: (Phase.PROCESSING, "c"),
        }
        await service.stop()

    ids = asyncio.run(first())
    asyncio.run(second(ids))
    events = SQLiteLog(path).load()
    assert [e.email_id for e in events if isinstance(e, InvitationRevoked)] == ids[:2]


def test_sessions_through_http_drive_the_router() -> None:
    """POST /api/v2/me StartContactCenterSession with the email channel: the agent's
    GET /api/v2/me/emails lists the email offered; after EndContactCenterSession and a
    Complete, the next queued email is not offered."""

    async def main() -> None:
        settings = ServerSettings(routing=RoutingSettings(offer_timeout=None))
        async with serving_app(settings) as (url, app):
            service = app.state.service
            async with httpx.AsyncClient(base_url=url, auth=("a", "x"), timeout=10) as a:
                for _ in range(2):
                    arrived = await a.post(
                        "/sim/events", json={"event": "Arrive", "queueName": "q"}
                    )
                    assert arrived.json()["statusCode"] == 0
                start = {"operationName": "StartContactCenterSession", "channels": ["email"]}
                assert (await a.post("/api/v2/me", json=start)).json() == {"statusCode": 0}
                await _settled(service)
                listing = (await a.get("/api/v2/me/emails", params={"fields": "*"})).json()
                assert [(e["id"], e["state"]) for e in listing["emails"]] == [("E1", "Invited")]
                me = (await a.get("/api/v2/me", params={"subresources": "channels"})).json()
                assert [c["channel"] for c in me["user"]["channels"]] == ["email"]
                end = {"operationName": "EndContactCenterSession"}
                assert (await a.post("/api/v2/me", json=end)).json() == {"statusCode": 0}
                for operation in ("Accept", "Complete"):
                    answer = await a.post("/api/v2/me/emails/E1", json={"operationName": operation})
                    assert answer.json()["statusCode"] == 0
                await _settled(service)
                listing = (await a.get("/api/v2/me/emails", params={"fields": "*"})).json()
                assert listing["emails"] == []
                assert service.store.emails["E2"].phase is Phase.QUEUED

    asyncio.run(main())


class GatedLog(MemoryLog):
    """A memory log whose appends wait while its gate is closed (a slow disk); with
    ``offers_only``, only the router's offers wait."""

    def __init__(self, *, offers_only: bool = False) -> None:
        super().__init__()
        self.offers_only = offers_only
        self.gate = asyncio.Event()
        self.gate.set()
        self.entered = asyncio.Event()
        """Set once an append waits at the closed gate."""

    async def append(self, rows: Sequence[Row]) -> bool:
        if self.offers_only and '"EmailOffered"' not in rows[0].event:
            return await super().append(rows)
        if not self.gate.is_set():
            self.entered.set()
        await self.gate.wait()
        return await super().append(rows)


def test_a_routing_pass_during_another_never_exceeds_capacity() -> None:
    """A routing pass starts (an agent's session) while another waits for the log with
    its offers half made: no agent is offered more than its capacity. (Two passes at
    once used to compute their offers from the same emails, each with the other's turns,
    and invited one agent twice.)"""

    async def main() -> None:
        log = GatedLog()
        service = _service(log, capacity=1, offer_timeout=None)
        ids = await _arrive(service, 3)
        log.gate.clear()
        service.start_session("a", ["email"])
        service.start_session("b", ["email"])
        await log.entered.wait()  # the first pass waits on its first offer
        service.start_session("c", ["email"])  # asks for a second pass
        for _ in range(5):  # give a second pass, if one started, the turns to decide
            await asyncio.sleep(0)
        log.gate.set()
        await _settled(service)
        held = {agent: len(service.store.held_by(agent)) for agent in "abc"}
        assert held == {"a": 1, "b": 1, "c": 1}, _phases(service)
        assert {service.store.emails[i].phase for i in ids} == {Phase.INVITED}
        await service.stop()

    asyncio.run(main())


def test_no_offer_after_the_session_ends_even_during_a_routing_pass() -> None:
    """An agent ends the session while a routing pass waits for the log with offers to
    them still to make: those offers are not made."""

    async def main() -> None:
        log = GatedLog()
        service = _service(log, capacity=3, offer_timeout=None)
        ids = await _arrive(service, 3)
        log.gate.clear()
        service.start_session("a", ["email"])
        await log.entered.wait()  # the pass waits on its first offer, two more to make
        service.end_session("a")
        log.gate.set()
        await _settled(service)
        assert _phases(service) == {
            ids[0]: (Phase.INVITED, "a"),
            ids[1]: (Phase.QUEUED, None),
            ids[2]: (Phase.QUEUED, None),
        }
        await service.stop()

    asyncio.run(main())


def test_a_transfer_during_a_routing_pass_counts_against_capacity() -> None:
    """b is transferred an email while a routing pass, with an offer to b still to make,
    waits for the log: that offer is not made (b holds its capacity already)."""

    async def main() -> None:
        log = GatedLog(offers_only=True)
        service = _service(log, capacity=1, offer_timeout=None)
        (mine,) = await _arrive(service, 1)
        await _act(service, Offer(email_id=mine, agent="c"))
        await _act(service, Accept(actor="c", email_id=mine))
        e1, e2 = await _arrive(service, 2)
        log.gate.clear()
        service.start_session("a", ["email"])
        service.start_session("b", ["email"])
        await log.entered.wait()  # the pass waits on its offer to a, one to b to make
        await _act(service, Transfer(actor="c", email_id=mine, agent="b"))
        log.gate.set()
        await _settled(service)
        assert _phases(service) == {
            mine: (Phase.INVITED, "b"),
            e1: (Phase.INVITED, "a"),
            e2: (Phase.QUEUED, None),
        }
        await service.stop()

    asyncio.run(main())
