"""The two loops of docs/embedding.md run, and do what the page says they do."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from email_fsm import Arrive, Offer, events_from_jsonl, replay
from examples.server_loop import Server
from examples.simulation_loop import simulate


def _server_with_an_invitation(log: Path) -> Server:
    server = Server(log)
    server.system(Arrive(email_id="E1", queue="inbound", subject="Hi", to=("s@x",)))
    server.system(Offer(email_id="E1", agent="a"))
    return server


def test_a_race_between_accept_and_reject_has_one_winner(tmp_path: Path) -> None:
    server = _server_with_an_invitation(tmp_path / "events.jsonl")

    async def race() -> list[object]:
        return list(
            await asyncio.gather(
                server.handle("a", {"operationName": "Accept"}, "E1"),
                server.handle("a", {"operationName": "Reject"}, "E1"),
            )
        )

    accepted, rejected = asyncio.run(race())
    # Both were decided on the invitation; the Accept was stored first, so the Reject
    # conflicted, was decided again on the Processing email, and refused (2).
    assert accepted == {"statusCode": 0, "referenceId": 1}
    assert isinstance(rejected, dict)
    assert rejected["statusCode"] == 2
    assert server.conflicts == 1
    assert server.store.emails["E1"].owner == "a"


def test_the_log_rebuilds_the_same_emails_after_a_restart(tmp_path: Path) -> None:
    log = tmp_path / "events.jsonl"
    server = _server_with_an_invitation(log)
    asyncio.run(server.handle("a", {"operationName": "Accept"}, "E1"))
    asyncio.run(server.handle("a", {"operationName": "Reply"}, "E1"))
    restarted = Server(log)
    assert dict(restarted.store.emails) == dict(server.store.emails)
    assert replay(events_from_jsonl(log.read_text("utf-8"))) == dict(server.store.emails)
    assert {e.id for e in server.store.emails.values()} == {"E1", "N1"}  # the reply's id


def test_notifications_wait_in_the_outboxes_as_gws_json(tmp_path: Path) -> None:
    server = _server_with_an_invitation(tmp_path / "events.jsonl")
    answer = asyncio.run(server.handle("a", {"operationName": "Accept"}, "E1"))
    assert answer == {"statusCode": 0, "referenceId": 1}
    invited, accepted = server.outboxes["a"]
    assert '"state":"Invited"' in invited
    assert '"state":"Processing"' in accepted
    assert '"referenceId":1' in accepted


def test_a_refused_request_is_answered_and_stores_nothing(tmp_path: Path) -> None:
    log = tmp_path / "events.jsonl"
    server = _server_with_an_invitation(log)
    before, logged = dict(server.store.emails), log.read_text("utf-8")
    answer = asyncio.run(server.handle("b", {"operationName": "Accept"}, "E1"))
    assert answer["statusCode"] == 3
    assert dict(server.store.emails) == before
    assert log.read_text("utf-8") == logged


def test_the_simulation_completes_every_email_and_forgets_them() -> None:
    outcome = simulate(2_000, 5, seed=7)
    assert outcome.completed == 2_000
    assert outcome.live_emails_at_the_end == 0
    assert outcome.most_live_emails <= 3  # one arrival a tick, served at once
    # every email: Arrive + Offer/Accept/SetDisposition/Complete, plus 2 per rejection
    assert outcome.commands == 2_000 * 5 + 2 * outcome.rejections
    assert 0 < outcome.rejections < 2_000


def test_the_same_seed_gives_the_same_run() -> None:
    assert simulate(500, 3, seed=3) == simulate(500, 3, seed=3)
    assert simulate(500, 3, seed=3) != simulate(500, 3, seed=4)


def test_the_page_shows_sections_of_these_examples() -> None:
    root = Path(__file__).resolve().parent.parent
    page = (root / "docs" / "embedding.md").read_text("utf-8")
    blocks = re.findall(r"^```python\n(.*?)^```", page, re.MULTILINE | re.DOTALL)
    included = [re.fullmatch(r'--8<-- "([^":]+):(\w+)"\n', block) for block in blocks]
    assert blocks
    assert all(included), blocks
    for match in included:
        assert match is not None
        text = (root / match[1]).read_text("utf-8")
        start, end = f"# --8<-- [start:{match[2]}]", f"# --8<-- [end:{match[2]}]"
        assert text.count(start) == text.count(end) == 1, match[0]
        assert text.index(start) < text.index(end)
    assert {m[1] for m in included if m} == {
        "examples/server_loop.py",
        "examples/simulation_loop.py",
    }
