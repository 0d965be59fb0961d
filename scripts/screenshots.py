"""The screenshots of the agent desktop and the inspector in ``docs/desktop.md``.

``make screenshots`` (``python scripts/screenshots.py``) starts a server on loopback
with the demo's agents (no bots, no router: every step is this script's, so every run
shows the same thing), plays a short scene in Debian's Chromium (``/usr/bin/chromium``,
headless) and writes ``docs/images/desktop/NAME.png`` and, beside each, ``NAME.json``:
what the page showed at capture time (the emails and their states, the buttons, the
answers, the markers and their phases). ``tests/test_desktop_screenshots.py`` plays the
scene again and fails when that text differs from the committed one: regenerate the
screenshots when it does.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Browser, Page, expect, sync_playwright

from email_fsm.server import RoutingSettings, ServerSettings
from email_fsm.server.demo import DemoSettings
from email_fsm.server.run import uvicorn_server

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "images" / "desktop"
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 800}
WAIT_MS = 10_000
SHOTS = ("desktop", "desktop-reply", "inspector")
"""The screenshots, each ``NAME.png`` with ``NAME.json``."""


def settings() -> ServerSettings:
    """The scene's server: the demo's agents, no router, no demo bots or arrivals."""
    return ServerSettings(
        directory=DemoSettings().directory(), routing=RoutingSettings(enabled=False)
    )


@contextmanager
def serving(port: int = 0) -> Iterator[str]:
    """The scene's server in a thread; yields its URL."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", port))
        port = probe.getsockname()[1]
    server = uvicorn_server(settings(), host="127.0.0.1", port=port)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


# ---------------------------------------------------------------------- the scene


def _sim(url: str, event: dict[str, Any]) -> str:
    answer = httpx.post(f"{url}/sim/events", json=event, timeout=5).json()
    if answer["statusCode"] != 0:
        raise RuntimeError(f"{event}: {answer}")
    email_id: str = answer["emailId"]
    return email_id


def _log_in(page: Page, url: str, user: str) -> None:
    page.goto(f"{url}/desktop")
    page.fill("#user", user)
    page.fill("#password", user)  # the demo's passwords are the user names
    page.click("#login")
    expect(page.locator("body")).to_have_attribute("data-ready", "true", timeout=WAIT_MS)
    expect(page.locator("#connection")).to_have_attribute("data-state", "online")


def _texts(page: Page, selector: str) -> list[str]:
    found: list[str] = page.eval_on_selector_all(
        selector, "nodes => nodes.map(n => n.textContent.trim().replace(/\\s+/g, ' '))"
    )
    return found


def _attributes(page: Page, selector: str, *names: str) -> list[list[str | None]]:
    found: list[list[str | None]] = page.eval_on_selector_all(
        selector,
        "(nodes, names) => nodes.map(n => names.map(a => n.getAttribute(a)))",
        list(names),
    )
    return found


def desktop_text(page: Page) -> dict[str, Any]:
    """What a desktop shows: who, the emails and states, the invitations, the selected
    email's operations (its buttons), the last answer and the refusals."""
    return {
        "agent": page.text_content("#agent-name"),
        "emails": _attributes(page, "#emails li", "data-email-id", "data-state"),
        "invitations": _texts(page, ".invitation > span"),
        "selected": _attributes(page, "#detail", "data-email-id", "data-state"),
        "buttons": [b[0] for b in _attributes(page, "#capabilities button", "data-operation")],
        "compose": page.is_visible("#compose"),
        "answer": page.text_content("#answer"),
        "refusals": _texts(page, "#refusals li"),
    }


def inspector_text(page: Page) -> dict[str, Any]:
    """What the inspector shows: each marker's phase, the history shown (operations and
    whether accepted), the agents with a notification log."""
    return {
        "markers": sorted(_attributes(page, ".marker", "data-email-id", "data-phase")),
        "history": _attributes(page, "#history", "data-email-id", "data-phase"),
        "entries": _attributes(
            page, "#history-entries li", "data-operation", "data-accepted", "data-status-code"
        ),
        "agents": sorted(a[0] or "" for a in _attributes(page, ".agent-log", "data-agent")),
        "notifications": {
            agent: len(_texts(page, f'.agent-log[data-agent="{agent}"] li'))
            for agent in ("alice", "bob")
        },
    }


def _settle(inspector: Page, url: str) -> None:
    """Wait until the inspector has every entry the server has, and its markers have
    finished moving (a CSS transition), before a capture."""
    seq = httpx.get(f"{url}/inspector/state", timeout=5).json()["seq"]
    inspector.wait_for_function("seq => window.inspector.seq >= seq", arg=seq, timeout=WAIT_MS)
    inspector.wait_for_timeout(800)


def capture(browser: Browser, url: str, out: Path | None) -> dict[str, dict[str, Any]]:
    """Play the scene against the server at ``url``; the text of each shot (and, with
    ``out``, its PNG there)."""
    shots: dict[str, dict[str, Any]] = {}

    def new_page() -> Page:
        return browser.new_context(viewport=VIEWPORT).new_page()  # type: ignore[arg-type]

    inspector, alice, bob = new_page(), new_page(), new_page()
    inspector.goto(f"{url}/inspector")
    expect(inspector.locator("body")).to_have_attribute("data-ready", "true", timeout=WAIT_MS)
    _log_in(alice, url, "alice")
    _log_in(bob, url, "bob")
    customers = [
        ("ada@example.com", "Where is my order?"),
        ("grace@example.org", "Change my address"),
        ("linus@example.net", "Refund for a broken cup"),
        ("ken@example.org", "Invoice missing"),
    ]
    ids = [
        _sim(
            url,
            {
                "event": "Arrive",
                "queueName": "inbound",
                "email": {"from": sender, "to": ["support@example.com"], "subject": subject},
            },
        )
        for sender, subject in customers
    ]
    first, second, third, _ = ids
    # alice: the first accepted, with userData, a refused transfer; the second invited.
    _sim(url, {"event": "Offer", "emailId": first, "agent": "alice"})
    alice.click(f'.invitation[data-email-id="{first}"] button[data-operation="Accept"]')
    expect(alice.locator("#detail")).to_have_attribute("data-state", "Processing")
    alice.fill("#ud-key", "orderNumber")
    alice.fill("#ud-value", "A-1042")
    alice.click('#capabilities button[data-operation="AttachUserData"]')
    expect(alice.locator('#user-data tr[data-key="orderNumber"]')).to_be_visible()
    alice.fill("#transfer-target", "alice")
    alice.click('#capabilities button[data-operation="Transfer"]')
    expect(alice.locator("#answer")).to_have_attribute("data-status-code", "10")
    _sim(url, {"event": "Offer", "emailId": second, "agent": "alice"})
    expect(alice.locator(f'.invitation[data-email-id="{second}"]')).to_be_visible()
    # bob: the third accepted, a reply composed and saved.
    _sim(url, {"event": "Offer", "emailId": third, "agent": "bob"})
    bob.click(f'.invitation[data-email-id="{third}"] button[data-operation="Accept"]')
    expect(bob.locator("#detail")).to_have_attribute("data-state", "Processing")
    bob.click('#capabilities button[data-operation="Reply"]')
    expect(bob.locator("#detail")).to_have_attribute("data-state", "Composing")
    bob.fill("#compose-body", "We are sorry: a new cup is on its way, and here is a refund.")
    bob.click("#compose-save")
    expect(bob.locator("#answer")).to_have_attribute("data-operation", "Save")
    expect(bob.locator("#answer")).to_have_attribute("data-status-code", "0")

    alice.click(f'#emails li[data-email-id="{first}"]')
    shots["desktop"] = desktop_text(alice)
    shots["desktop-reply"] = desktop_text(bob)
    _settle(inspector, url)
    inspector.click(f'.marker[data-email-id="{first}"]')
    expect(inspector.locator("#history")).to_have_attribute("data-loaded", "true")
    shots["inspector"] = inspector_text(inspector)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        alice.screenshot(path=str(out / "desktop.png"), full_page=True)
        bob.screenshot(path=str(out / "desktop-reply.png"), full_page=True)
        inspector.screenshot(path=str(out / "inspector.png"), full_page=True)
    for page in (inspector, alice, bob):
        page.context.close()
    return shots


def sidecar(text: dict[str, Any]) -> str:
    """A shot's text as written beside its PNG."""
    return json.dumps(text, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write the screenshots and their text into ``--out`` (docs/images/desktop)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    with sync_playwright() as playwright, serving() as url:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            shots = capture(browser, url, args.out)
        finally:
            browser.close()
    for name, text in shots.items():
        (args.out / f"{name}.json").write_text(sidecar(text), "utf-8")
        print(f"wrote {args.out / name}.png and .json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
