"""Concurrent requests on one email, through HTTP, on the SQLite log (so that every
append really waits for the disk while others are decided): exactly one of two
incompatible requests wins, compatible ones are both kept, and a restart replays to the
state the live server had."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from server_harness import serving_app

from email_fsm import Email, Phase
from email_fsm.email import email_from_json
from email_fsm.server import RoutingSettings, ServerSettings, SQLiteLog
from email_fsm.server.service import ContactCenterService
from email_fsm.testing.machine import check_ownership

ROUNDS = 25


def _settings(path: Path) -> ServerSettings:
    return ServerSettings(
        log=SQLiteLog(path), routing=RoutingSettings(enabled=False, offer_timeout=None)
    )


class _Desk:
    """HTTP clients for the agents and the contact center of one server."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.sim = httpx.AsyncClient(base_url=url, timeout=20)
        self.agents: dict[str, httpx.AsyncClient] = {}

    def agent(self, name: str) -> httpx.AsyncClient:
        if name not in self.agents:
            self.agents[name] = httpx.AsyncClient(base_url=self.url, auth=(name, "x"), timeout=20)
        return self.agents[name]

    async def event(self, body: dict[str, Any]) -> dict[str, Any]:
        answer: dict[str, Any] = (await self.sim.post("/sim/events", json=body)).json()
        return answer

    async def request(
        self, agent: str, email_id: str | None, body: dict[str, Any]
    ) -> dict[str, Any]:
        path = "/api/v2/me/emails" + ("" if email_id is None else f"/{email_id}")
        answer: dict[str, Any] = (await self.agent(agent).post(path, json=body)).json()
        return answer

    async def emails(self) -> dict[str, Email]:
        listing = (await self.sim.get("/sim/emails")).json()
        return {e["id"]: email_from_json(json.dumps(e)) for e in listing["emails"]}

    async def invited(self, agent: str) -> str:
        """A new email, offered to ``agent``."""
        arrived = await self.event({"event": "Arrive", "queueName": "q"})
        email_id: str = arrived["emailId"]
        offered = await self.event({"event": "Offer", "emailId": email_id, "agent": agent})
        assert offered["statusCode"] == 0, offered
        return email_id

    async def owned(self, agent: str) -> str:
        """A new email, accepted by ``agent``."""
        email_id = await self.invited(agent)
        assert (await self.request(agent, email_id, {"operationName": "Accept"}))["statusCode"] == 0
        return email_id

    async def close(self) -> None:
        await self.sim.aclose()
        for client in self.agents.values():
            await client.aclose()


async def _replayed(path: Path) -> dict[str, Email]:
    """The emails a server restarted on the log at ``path`` has."""
    async with serving_app(_settings(path)) as (url, _):
        desk = _Desk(url)
        try:
            return await desk.emails()
        finally:
            await desk.close()


def _exactly_one_wins(
    tmp_path: Path,
    setup: Callable[[_Desk], Any],
    first: Callable[[_Desk, str], Any],
    second: Callable[[_Desk, str], Any],
    *,
    first_wins: Callable[[Email], bool],
    second_wins: Callable[[Email], bool],
    first_loses_with: int,
    second_loses_with: int,
) -> None:
    """Race ``first`` against ``second`` on a fresh email ROUNDS times. Every round:
    exactly one answer is 0, the other the model's code, and the email is as the winner
    left it; the restarted server has the same emails. The requests overlapped (a loser
    was decided again after a conflict) at least once."""
    path = tmp_path / "events.sqlite"
    conflicts = 0

    async def main() -> dict[str, Email]:
        nonlocal conflicts
        async with serving_app(_settings(path)) as (url, app):
            service = app.state.service
            assert isinstance(service, ContactCenterService)
            desk = _Desk(url)
            try:
                for _ in range(ROUNDS):
                    email_id = await setup(desk)
                    a, b = await asyncio.gather(first(desk, email_id), second(desk, email_id))
                    email = (await desk.emails())[email_id]
                    check_ownership(email)
                    codes = (a["statusCode"], b["statusCode"])
                    if codes == (0, second_loses_with):
                        assert first_wins(email), (email, a, b)
                    else:
                        assert codes == (first_loses_with, 0), (a, b)
                        assert second_wins(email), (email, a, b)
                conflicts = service.conflicts
                return await desk.emails()
            finally:
                await desk.close()

    live = asyncio.run(main())
    assert conflicts > 0, "the two requests never overlapped"
    assert asyncio.run(_replayed(path)) == live


def _post(agent: str, body: dict[str, Any]) -> Callable[[_Desk, str], Any]:
    return lambda desk, email_id: desk.request(agent, email_id, body)


def test_accept_against_reject(tmp_path: Path) -> None:
    """The invitee's Accept and Reject at once: one wins. A lost Reject is 2 (the email
    is Processing now), a lost Accept is 3 (the email went back to its queue, the agent
    no longer holds it)."""
    _exactly_one_wins(
        tmp_path,
        lambda desk: desk.invited("a"),
        _post("a", {"operationName": "Accept"}),
        _post("a", {"operationName": "Reject"}),
        first_wins=lambda e: e.phase is Phase.PROCESSING and e.owner == "a",
        second_wins=lambda e: e.phase is Phase.QUEUED and "a" in e.rejected_by,
        first_loses_with=3,
        second_loses_with=2,
    )


def test_accept_against_revoke(tmp_path: Path) -> None:
    """The invitee's Accept and the contact center's Revoke at once: a lost Revoke is 2
    (Revoke is not valid in Processing), a lost Accept 3."""
    _exactly_one_wins(
        tmp_path,
        lambda desk: desk.invited("a"),
        _post("a", {"operationName": "Accept"}),
        lambda desk, email_id: desk.event({"event": "Revoke", "emailId": email_id}),
        first_wins=lambda e: e.phase is Phase.PROCESSING and e.owner == "a",
        second_wins=lambda e: e.phase is Phase.QUEUED and e.invitee is None,
        first_loses_with=3,
        second_loses_with=2,
    )


def test_complete_against_transfer(tmp_path: Path) -> None:
    """The owner's Complete and Transfer to b at once: whichever loses is 3 (a no longer
    holds the email), and the email is Completed or Invited to b, never both."""
    _exactly_one_wins(
        tmp_path,
        lambda desk: desk.owned("a"),
        _post("a", {"operationName": "Complete"}),
        _post("a", {"operationName": "Transfer", "userUri": "http://h/api/v2/users/b"}),
        first_wins=lambda e: e.phase is Phase.COMPLETED and e.transfers == 0,
        second_wins=lambda e: e.phase is Phase.INVITED and e.invitee == "b" and e.transfers == 1,
        first_loses_with=3,
        second_loses_with=3,
    )


def test_one_agents_concurrent_changes_are_all_kept(tmp_path: Path) -> None:
    """Two UpdateUserData with different keys, and two AddAttachment on a draft, at once,
    many times: both changes of each pair are there after (none is lost to the other),
    and the conflict path (decide again on the fresh email) was taken."""
    path = tmp_path / "events.sqlite"

    async def main() -> tuple[dict[str, Email], int]:
        async with serving_app(_settings(path)) as (url, app):
            service = app.state.service
            assert isinstance(service, ContactCenterService)
            desk = _Desk(url)
            try:
                email_id = await desk.owned("a")
                created = await desk.request("a", None, {"operationName": "Create"})
                assert created["statusCode"] == 0
                (draft,) = [e.id for e in (await desk.emails()).values() if e.id.startswith("D")]
                for n in range(ROUNDS):
                    answers = await asyncio.gather(
                        desk.request(
                            "a",
                            email_id,
                            {"operationName": "UpdateUserData", "userData": {f"x{n}": n}},
                        ),
                        desk.request(
                            "a",
                            email_id,
                            {"operationName": "UpdateUserData", "userData": {f"y{n}": n}},
                        ),
                        desk.request(
                            "a", draft, {"operationName": "AddAttachment", "documentId": f"p{n}"}
                        ),
                        desk.request(
                            "a", draft, {"operationName": "AddAttachment", "documentId": f"q{n}"}
                        ),
                    )
                    assert [a["statusCode"] for a in answers] == [0, 0, 0, 0], answers
                emails = await desk.emails()
                user_data = emails[email_id].user_data
                for n in range(ROUNDS):
                    assert user_data[f"x{n}"] == n
                    assert user_data[f"y{n}"] == n
                ids = {attachment.id for attachment in emails[draft].attachments}
                assert ids == {f"{c}{n}" for c in "pq" for n in range(ROUNDS)}
                return emails, service.conflicts
            finally:
                await desk.close()

    live, conflicts = asyncio.run(main())
    assert conflicts > 0, "no request was decided again: the races never overlapped"
    assert asyncio.run(_replayed(path)) == live


def test_reply_against_complete_keeps_log_and_state_together(tmp_path: Path) -> None:
    """The owner's Reply and Complete at once, each sent first in turn. A Reply decided
    before the Complete was stored stands (its draft is in the log: it is ordered before
    the Complete), one decided after is refused with 3 and leaves no draft; either way a
    restart on the log finds exactly the emails the live server had."""
    path = tmp_path / "events.sqlite"

    async def main() -> dict[str, Email]:
        async with serving_app(_settings(path)) as (url, _):
            desk = _Desk(url)
            try:
                for n in range(ROUNDS):
                    email_id = await desk.owned("a")
                    before = set(await desk.emails())
                    replying = desk.request("a", email_id, {"operationName": "Reply"})
                    completing = desk.request("a", email_id, {"operationName": "Complete"})
                    if n % 2:  # the Complete sent first
                        complete, reply = await asyncio.gather(completing, replying)
                    else:
                        reply, complete = await asyncio.gather(replying, completing)
                    assert complete["statusCode"] == 0, complete
                    emails = await desk.emails()
                    drafts = [emails[i] for i in set(emails) - before]
                    assert emails[email_id].phase is Phase.COMPLETED
                    if reply["statusCode"] == 0:
                        assert [(d.content.parent_id, d.owner) for d in drafts] == [(email_id, "a")]
                    else:
                        assert reply["statusCode"] == 3, reply
                        assert drafts == []
                return await desk.emails()
            finally:
                await desk.close()

    live = asyncio.run(main())
    assert asyncio.run(_replayed(path)) == live


def test_accept_against_the_invitation_timeout(tmp_path: Path) -> None:
    """The invitee accepts around the time the server's own invitation timeout (50 ms)
    fires (after a random delay of up to 100 ms):
    the Accept answered 0 leaves the email Processing and never revoked; an Accept
    refused (3) finds it revoked, back in its queue. Both outcomes happen over the
    rounds, and the restarted server has the same emails."""
    path = tmp_path / "events.sqlite"
    settings = ServerSettings(
        log=SQLiteLog(path), routing=RoutingSettings(enabled=False, offer_timeout=0.05)
    )
    outcomes: dict[int, int] = {}

    async def main() -> dict[str, Email]:
        async with serving_app(settings) as (url, app):
            service = app.state.service
            assert isinstance(service, ContactCenterService)
            desk = _Desk(url)
            try:
                rng = random.Random(7)
                for _ in range(4 * ROUNDS):
                    email_id = await desk.invited("a")
                    await asyncio.sleep(rng.uniform(0, 0.1))  # where the Accept lands
                    answer = await desk.request("a", email_id, {"operationName": "Accept"})
                    while service._tasks:  # a revocation under way
                        await asyncio.gather(*tuple(service._tasks))
                        await asyncio.sleep(0)  # the done callbacks' turn (see the router's)
                    email = (await desk.emails())[email_id]
                    check_ownership(email)
                    code = answer["statusCode"]
                    outcomes[code] = outcomes.get(code, 0) + 1
                    if code == 0:
                        assert (email.phase, email.owner) == (Phase.PROCESSING, "a")
                    else:
                        assert code == 3, answer
                        assert (email.phase, email.invitee) == (Phase.QUEUED, None)
                    if set(outcomes) == {0, 3}:
                        break
                return await desk.emails()
            finally:
                await desk.close()

    live = asyncio.run(main())
    assert set(outcomes) == {0, 3}, outcomes
    assert asyncio.run(_replayed(path)) == live


def test_an_arrival_the_server_names_against_one_naming_the_same_id(tmp_path: Path) -> None:
    """An Arrive without emailId (the server chooses E<n>) and one naming that very id,
    at once: both arrive, each under its own id. (The server's choice used to be kept
    when the other took the id first, and the Arrive was refused with 18.)"""
    path = tmp_path / "events.sqlite"

    async def main() -> None:
        async with serving_app(_settings(path)) as (url, _):
            desk = _Desk(url)
            try:
                last = 0
                for _ in range(ROUNDS):
                    named = f"E{last + 1}"  # the id the server chooses next
                    explicit, chosen = await asyncio.gather(
                        desk.event({"event": "Arrive", "emailId": named, "queueName": "q"}),
                        desk.event({"event": "Arrive", "queueName": "q"}),
                    )
                    assert explicit["statusCode"] == 0, explicit
                    assert chosen["statusCode"] == 0, chosen
                    assert explicit["emailId"] == named
                    assert chosen["emailId"] != named
                    last = max(int(named[1:]), int(chosen["emailId"][1:]))
                emails = await desk.emails()
                assert len(emails) == 2 * ROUNDS
                assert all(e.phase is Phase.QUEUED for e in emails.values())
            finally:
                await desk.close()

    asyncio.run(main())
