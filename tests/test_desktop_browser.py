"""The agent desktop and the inspector in a real browser (Debian's Chromium, headless).

Two agents log in, each in a browser context of its own (its own cookie jar, as two
desktops); the inspector is a third. An email arrives through the contact-center API and
is offered to a; a's Accept button appears only then; a accepts it, has a transfer to
itself refused (statusCode 10, shown on the page), transfers it to b; b's page shows the
invitation, b accepts, attaches userData, replies, saves and sends the reply, and
completes the email. At each step the inspector shows the email's marker on its phase,
and a click on the marker shows its history, the refusal included.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from browser import WAIT_MS, chromium, log_in, open_inspector, operations, watch
from playwright.sync_api import Browser, Page, expect
from server_harness import ThreadedServer

from email_fsm.server import Agent, Directory, RoutingSettings, ServerSettings

pytestmark = pytest.mark.needs("chromium")

PASSWORDS = {"a": "secret-a", "b": "secret-b"}
CUSTOMER = "customer@example.com"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One Chromium for the module's tests (each test opens its own contexts)."""
    with chromium() as launched:
        yield launched


def _settings(*, csrf: bool = False, websocket: bool = True) -> ServerSettings:
    """Agents a and b; no router, so that the test decides who is offered what."""
    return ServerSettings(
        directory=Directory([Agent(name, password) for name, password in PASSWORDS.items()]),
        routing=RoutingSettings(enabled=False),
        csrf=csrf,
        websocket=websocket,
    )


def _sim(url: str, event: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = httpx.post(f"{url}/sim/events", json=event, timeout=5).json()
    assert answer["statusCode"] == 0, answer
    return answer


def _capabilities(url: str, agent: str, email_id: str) -> list[str]:
    """What the server says the agent may do with the email (GET /api/v2/me/emails/{id})."""
    answer = httpx.get(
        f"{url}/api/v2/me/emails/{email_id}", auth=(agent, PASSWORDS[agent]), timeout=5
    ).json()
    assert answer["statusCode"] == 0, answer
    found: list[str] = answer["email"]["capabilities"]
    return found


def _marker(inspector: Page, email_id: str, phase: str) -> None:
    """The inspector shows the email's marker on ``phase``, and on that phase's node."""
    marker = inspector.locator(f'.marker[data-email-id="{email_id}"]')
    expect(marker).to_have_attribute("data-phase", phase, timeout=WAIT_MS)
    # The marker is drawn under the node of its phase, read from the SVG (once its
    # move, a CSS transition, is over).
    inspector.wait_for_function(
        """([id, phase]) => {
            const node = [...document.querySelectorAll("#diagram g.node")]
                .find((n) => n.dataset.phase === phase).getBoundingClientRect();
            const marker = document.querySelector(`.marker[data-email-id="${id}"]`);
            const box = marker.getBoundingClientRect();
            return box.left >= node.left - 2 && box.top >= node.bottom - 2
                && box.top - node.bottom < 120;
        }""",
        arg=[email_id, phase],
        timeout=WAIT_MS,
    )


def _select(page: Page, email_id: str) -> None:
    page.click(f'#emails li[data-email-id="{email_id}"]')
    expect(page.locator("#detail")).to_have_attribute("data-email-id", email_id)


def test_two_agents_and_the_inspector_follow_one_email(browser: Browser) -> None:
    """The issue's scenario, step by step (see the module's documentation)."""
    errors: list[str] = []
    with ThreadedServer(_settings()) as url:
        desk_a = watch(browser.new_context().new_page(), errors)
        desk_b = watch(browser.new_context().new_page(), errors)
        inspector = watch(browser.new_context().new_page(), errors)
        open_inspector(inspector, url)
        log_in(desk_a, url, "a", PASSWORDS["a"])
        log_in(desk_b, url, "b", PASSWORDS["b"])
        expect(desk_a.locator("#agent-name")).to_have_text("a")
        # The server offers CometD's websocket transport first: the client takes it.
        assert desk_a.evaluate("window.desktop.cometd.getTransport().type") == "websocket"
        email_id = _a_is_offered_and_accepts(url, desk_a, desk_b, inspector)
        _a_is_refused_then_transfers(inspector, desk_a, email_id)
        _b_accepts_replies_and_completes(url, desk_b, inspector, email_id)
        _the_history_shows_the_refusal(inspector, email_id)
    assert errors == []


def _a_is_offered_and_accepts(url: str, desk_a: Page, desk_b: Page, inspector: Page) -> str:
    """The email arrives (Queued: nothing to accept), is offered to a, a accepts."""
    email_id: str = _sim(
        url,
        {
            "event": "Arrive",
            "queueName": "inbound",
            "email": {"from": CUSTOMER, "subject": "Where is my order?"},
        },
    )["emailId"]
    _marker(inspector, email_id, "Queued")
    # Queued is no one's: a is shown nothing to accept.
    expect(desk_a.locator("#no-emails")).to_be_visible()
    assert desk_a.locator('button[data-operation="Accept"]').count() == 0

    _sim(url, {"event": "Offer", "emailId": email_id, "agent": "a"})
    invitation = desk_a.locator(f'.invitation[data-email-id="{email_id}"]')
    expect(invitation).to_contain_text("Where is my order?")
    assert operations(desk_a, f'.invitation[data-email-id="{email_id}"]') == [
        "Accept",
        "Reject",
    ]
    _marker(inspector, email_id, "Invited")
    expect(inspector.locator('.agent-log[data-agent="a"] li').first).to_contain_text(
        f"StatusChange {email_id} Invited [Accept, Reject]"
    )
    assert desk_b.locator(".invitation").count() == 0

    invitation.locator('button[data-operation="Accept"]').click()
    expect(desk_a.locator("#detail")).to_have_attribute("data-state", "Processing")
    _marker(inspector, email_id, "Processing")
    assert operations(desk_a) == _capabilities(url, "a", email_id)
    assert "Complete" in operations(desk_a)
    expect(desk_a.locator(".invitation")).to_have_count(0)
    return email_id


def _a_is_refused_then_transfers(inspector: Page, desk_a: Page, email_id: str) -> None:
    """A transfer to oneself is refused (shown on the page), one to b is not."""
    # A refusal: a transfer to oneself. The page shows GWS's answer.
    desk_a.fill("#transfer-target", "a")
    desk_a.click('#capabilities button[data-operation="Transfer"]')
    answer = desk_a.locator("#answer")
    expect(answer).to_have_attribute("data-status-code", "10")
    expect(answer).to_contain_text("Transfer: statusCode 10")
    expect(desk_a.locator("#refusals li").first).to_have_attribute("data-status-code", "10")
    expect(desk_a.locator("#detail")).to_have_attribute("data-state", "Processing")

    desk_a.fill("#transfer-target", "b")
    desk_a.click('#capabilities button[data-operation="Transfer"]')
    expect(answer).to_have_attribute("data-status-code", "0")
    _marker(inspector, email_id, "Invited")
    # a is shown it Completed (GWS: the transferring agent's view), with no operations.
    expect(desk_a.locator(f'#emails li[data-email-id="{email_id}"]')).to_have_attribute(
        "data-state", "Completed"
    )
    expect(desk_a.locator("#capabilities button")).to_have_count(0)


def _b_accepts_replies_and_completes(
    url: str, desk_b: Page, inspector: Page, email_id: str
) -> None:
    """b is invited, accepts, attaches userData, replies (saved, sent), completes."""
    invited = desk_b.locator(f'.invitation[data-email-id="{email_id}"]')
    expect(invited).to_be_visible()
    invited.locator('button[data-operation="Accept"]').click()
    expect(desk_b.locator("#detail")).to_have_attribute("data-state", "Processing")
    _marker(inspector, email_id, "Processing")
    assert operations(desk_b) == _capabilities(url, "b", email_id)

    desk_b.fill("#ud-key", "priority")
    desk_b.fill("#ud-value", "high")
    desk_b.click('#capabilities button[data-operation="AttachUserData"]')
    expect(desk_b.locator('#user-data tr[data-key="priority"]')).to_contain_text('"high"')

    desk_b.click('#capabilities button[data-operation="Reply"]')
    detail = desk_b.locator("#detail")
    expect(detail).to_have_attribute("data-state", "Composing")
    draft = detail.get_attribute("data-email-id")
    assert draft is not None
    assert draft != email_id
    _marker(inspector, draft, "Composing")
    assert operations(desk_b) == _capabilities(url, "b", draft)
    expect(desk_b.locator("#compose-to")).to_have_value(CUSTOMER)
    desk_b.fill("#compose-body", "It left the warehouse today.")
    desk_b.click("#compose-save")
    expect(answer := desk_b.locator("#answer")).to_have_attribute("data-operation", "Save")
    expect(answer).to_have_attribute("data-status-code", "0")
    desk_b.click('#capabilities button[data-operation="Send"]')
    expect(answer).to_have_attribute("data-operation", "Send")
    expect(answer).to_have_attribute("data-status-code", "0")
    _marker(inspector, draft, "Sent")
    sent = httpx.get(f"{url}/sim/emails", timeout=5).json()["emails"]
    assert [e["content"]["body"] for e in sent if e["id"] == draft] == [
        "It left the warehouse today."
    ]

    _select(desk_b, email_id)
    desk_b.click('#capabilities button[data-operation="Complete"]')
    _marker(inspector, email_id, "Completed")
    expect(desk_b.locator(f'#emails li[data-email-id="{email_id}"]')).to_have_attribute(
        "data-state", "Completed"
    )


def _the_history_shows_the_refusal(inspector: Page, email_id: str) -> None:
    """A click on the marker shows the email's history, the refusal where it happened."""
    inspector.click(f'.marker[data-email-id="{email_id}"]')
    history = inspector.locator("#history")
    expect(history).to_have_attribute("data-email-id", email_id)
    expect(history).to_have_attribute("data-phase", "Completed")
    entries = inspector.locator("#history-entries li")
    expect(entries).to_have_count(9)
    assert entries.evaluate_all("items => items.map(i => i.dataset.operation)") == [
        "Arrive",
        "Offer",
        "Accept",
        "Transfer",
        "Transfer",
        "Accept",
        "AttachUserData",
        "Reply",
        "Complete",
    ]
    refused = inspector.locator('#history-entries li[data-accepted="false"]')
    expect(refused).to_have_count(1)
    expect(refused).to_have_attribute("data-operation", "Transfer")
    expect(refused).to_contain_text(re.compile(r"refused: statusCode 10: .+"))


def test_a_refused_login_and_csrf_protected_requests(browser: Browser) -> None:
    """A wrong password is refused with GWS's 401 answer, shown on the page; with CSRF
    protection on, the desktop sends the session's token, so its operations succeed (a
    disposition, a transfer to a queue); with no WebSocket offered, the CometD client
    long-polls."""
    errors: list[str] = []
    with ThreadedServer(_settings(csrf=True, websocket=False)) as url:
        page = watch(browser.new_context().new_page(), errors)
        page.goto(f"{url}/desktop")
        page.fill("#user", "a")
        page.fill("#password", "wrong")
        page.click("#login")
        expect(page.locator("#login-error")).to_contain_text("HTTP 401, statusCode 20")
        expect(page.locator("#workspace")).to_be_hidden()

        log_in(page, url, "a", PASSWORDS["a"])
        email_id = _sim(url, {"event": "Arrive", "queueName": "inbound"})["emailId"]
        _sim(url, {"event": "Offer", "emailId": email_id, "agent": "a"})
        page.click(f'.invitation[data-email-id="{email_id}"] button[data-operation="Accept"]')
        expect(page.locator("#detail")).to_have_attribute("data-state", "Processing")
        page.fill("#disposition", "Resolved")
        page.click('#capabilities button[data-operation="SetDisposition"]')
        expect(page.locator("#answer")).to_have_attribute("data-status-code", "0")
        assert operations(page) == _capabilities(url, "a", email_id)
        transport = page.evaluate("window.desktop.cometd.getTransport().type")
        assert transport == "long-polling"
        # A transfer to a queue: the email leaves a, Queued in that queue.
        page.select_option("#transfer-kind", "queue")
        page.fill("#transfer-target", "tier2")
        page.click('#capabilities button[data-operation="Transfer"]')
        expect(page.locator(f'#emails li[data-email-id="{email_id}"]')).to_have_attribute(
            "data-state", "Completed"
        )
        held = httpx.get(f"{url}/sim/emails", timeout=5).json()["emails"]
        assert [(e["phase"], e["queue"]) for e in held if e["id"] == email_id] == [
            ("Queued", "tier2")
        ]
    # Chromium reports the refused login's 401, and the CometD client's first try of a
    # WebSocket (it tries one before long-polling, whatever the handshake offered).
    expected = ("status of 401", "WebSocket handshake: Unexpected response code: 405")
    assert [e for e in errors if not any(text in e for text in expected)] == []
