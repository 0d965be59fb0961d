"""Driving Debian's Chromium with Playwright, for the desktop and inspector tests.

The browser is ``/usr/bin/chromium`` (never one Playwright downloads), headless, with
every network feature that would reach beyond the test server turned off. Tests that
use it are marked ``@pytest.mark.needs("chromium")``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from playwright.sync_api import Browser, Page, expect, sync_playwright

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
WAIT_MS = 10_000
"""How long an expectation waits for the page to get there."""


@contextlib.contextmanager
def chromium() -> Iterator[Browser]:
    """A headless Chromium, closed at the end."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def watch(page: Page, errors: list[str]) -> Page:
    """Collect the page's uncaught errors and console errors into ``errors``."""
    page.on("pageerror", lambda error: errors.append(f"pageerror: {error}"))
    page.on(
        "console",
        lambda message: (
            errors.append(f"console: {message.text}") if message.type == "error" else None
        ),
    )
    return page


def log_in(page: Page, url: str, user: str, password: str) -> None:
    """Open the desktop and log in; wait until the contact-center session has started."""
    page.goto(f"{url}/desktop")
    page.fill("#user", user)
    page.fill("#password", password)
    page.click("#login")
    expect(page.locator("body")).to_have_attribute("data-ready", "true", timeout=WAIT_MS)
    expect(page.locator("#connection")).to_have_attribute("data-state", "online")


def open_inspector(page: Page, url: str) -> None:
    """Open the inspector; wait until it has drawn the diagram and the state."""
    page.goto(f"{url}/inspector")
    expect(page.locator("body")).to_have_attribute("data-ready", "true", timeout=WAIT_MS)
    expect(page.locator("#feed")).to_have_attribute("data-state", "online")


def operations(page: Page, scope: str = "#capabilities") -> list[str]:
    """The operations of the buttons in ``scope``, in order."""
    found: list[str] = page.eval_on_selector_all(
        f"{scope} button[data-operation]", "buttons => buttons.map(b => b.dataset.operation)"
    )
    return found
