"""``email-fsm serve --demo``: the arrivals, the bots, the options, what it prints."""

from __future__ import annotations

import asyncio
import itertools
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from server_harness import HOST, free_port, kill, serving_app, wait_ready

from email_fsm.cli import _parser
from email_fsm.server import ContactCenterService, MemoryLog, ServerSettings
from email_fsm.server.demo import Demo, DemoSettings, demo_emails
from email_fsm.server.run import settings_from
from email_fsm.vocabulary import Phase


def test_the_demo_emails_cycle_through_customers_and_subjects() -> None:
    """The stream is fixed: the same emails every run, every field filled."""
    first = list(itertools.islice(demo_emails(), 14))
    assert first == list(itertools.islice(demo_emails(), 14))
    assert len({e["subject"] for e in first}) == 7
    assert first[0] == {
        "from": "ada@example.com",
        "subject": "Where is my order?",
        "body": "I ordered a kettle last week and it has not arrived.",
    }
    assert all(e["from"] and e["subject"] and e["body"] for e in first)


def test_arrivals_stop_while_enough_emails_wait() -> None:
    """No agent ready: the demo fills the queue to ``max_queued`` and waits."""

    async def main() -> tuple[list[str | None], int]:
        service = ContactCenterService()
        service.start()
        demo = Demo(service, DemoSettings(bots=(), max_queued=2))
        ids = [await demo.arrive() for _ in range(3)]
        queued = len(service.store.in_phase(Phase.QUEUED))
        await service.stop()
        return ids, queued

    ids, queued = asyncio.run(main())
    assert ids == ["E1", "E2", None]
    assert queued == 2


def test_the_bots_accept_reply_send_and_complete() -> None:
    """With the demo on, emails arrive and the bots work them to the end: a reply saved
    and sent for the first (the draft's own history has the Save and Send), the
    third completed without one."""
    demo = DemoSettings(arrival_seconds=0.05, step_seconds=0.01, max_queued=2, bots=("bot-1",))

    async def main() -> dict[str, Any]:
        settings = ServerSettings(demo=demo)
        async with serving_app(settings) as (url, app):
            service = app.state.service
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                phases = [e.phase for e in service.store.emails.values()]
                if phases.count(Phase.COMPLETED) >= 3:
                    break
                await asyncio.sleep(0.05)
            async with httpx.AsyncClient(base_url=url) as client:
                state = (await client.get("/inspector/state")).json()
            assert service.routable == {"bot-1": frozenset({"email"})}
            inspector = app.state.inspector
            arrived = [e["emailId"] for e in inspector.entries if e["operation"] == "Arrive"]
            first, _, third = arrived[:3]
            reply = next(e for e in inspector.histories[first] if e["operation"] == "Reply")
            draft = reply["emails"][0]["id"]
            return {
                "draft": [e["operation"] for e in inspector.histories[draft]],
                "sent": [reply["emails"][0]["parentId"], service.store.emails[draft].phase],
                "first_id": first,
                "first": [e["operation"] for e in inspector.histories[first]],
                "third": [e["operation"] for e in inspector.histories[third]],
                "agents": sorted(state["agents"]),
            }

    seen = asyncio.run(main())
    assert seen["first"] == ["Arrive", "Offer", "Accept", "Reply", "Complete"]
    assert seen["third"] == ["Arrive", "Offer", "Accept", "Complete"]
    assert seen["draft"] == ["Reply", "Save", "Send"]
    assert seen["sent"] == [seen["first_id"], Phase.SENT]
    assert seen["agents"] == ["bot-1"]


def test_demo_options_choose_the_agents_and_the_store() -> None:
    """``--demo`` alone: the demo's agents, in memory; ``--open`` or ``--store`` win."""
    settings = settings_from(_parser().parse_args(["serve", "--demo"]))
    assert settings.demo is not None
    assert isinstance(settings.log, MemoryLog)
    assert settings.directory.check("alice", "alice") is not None
    assert settings.directory.check("alice", "wrong") is None
    assert settings.inspector is True
    opened = settings_from(_parser().parse_args(["serve", "--demo", "--open"]))
    assert opened.directory.is_open
    plain = settings_from(_parser().parse_args(["serve", "--open", "--store", "memory"]))
    assert plain.demo is None
    off = settings_from(
        _parser().parse_args(["serve", "--open", "--store", "memory", "--no-inspector"])
    )
    assert off.inspector is False
    with pytest.raises(ValueError, match="--agents FILE, or --open"):
        settings_from(_parser().parse_args(["serve", "--store", "memory"]))


def test_serve_demo_prints_where_to_look_and_who_may_log_in(tmp_path: Path) -> None:
    """The command a newcomer runs: it prints the desktop's and inspector's URLs and the
    logins, serves both pages, and emails arrive."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from email_fsm.cli import main_entry; main_entry()",
            "serve",
            "--demo",
            "--quiet",
            "--host",
            HOST,
            "--port",
            str(port),
        ],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://{HOST}:{port}"
    try:
        wait_ready(url, process)
        assert httpx.get(f"{url}/desktop").status_code == 200
        assert httpx.get(f"{url}/inspector").status_code == 200
        emails = httpx.get(f"{url}/sim/emails").json()["emails"]
        assert emails
        assert emails[0]["id"] == "E1"
    finally:
        kill(process)
    assert process.stderr is not None
    printed = process.stderr.read().decode()
    assert f"the agent desktop is at {url}/desktop, the inspector at {url}/inspector" in printed
    assert "alice (password 'alice')" in printed
    assert "store: memory" in printed
    assert list(tmp_path.iterdir()) == []  # no SQLite file left behind
