"""The official CometD JavaScript client drives the server as a GWS desktop does.

``tests/node/desktop.mjs`` runs two agents, ``a`` and ``b``, each with its own client
(npm ``cometd`` with ``cometd-nodejs-client``, pinned in ``tests/node/package-lock.json``)
in one Node.js process, against a real server on loopback. Each logs in in the order of
Genesys' iOS sample client: ``GET /api/v2/me?subresources=*`` with HTTP Basic, the
CometD handshake, the subscription to ``/v2/me/*``, then StartContactCenterSession.
Then two emails arrive through the contact-center API: the first is accepted, replied
to (the reply saved and sent) and completed; the second is accepted and transferred to
the other agent, who accepts it; last, each agent disconnects. The script prints one
JSON line per step and per notification; these tests check them against the GWS rules
of ``docs/spec.md``, and the emails the server holds at the end.

It runs over the client's WebSocket transport (the server advertises it first), over
long-polling alone (the websocket transport unregistered, as a public GWS widget does),
and with CSRF protection on.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from builders import COMPOSING_CAPS, PROCESSING_CAPS
from server_harness import HOST, ThreadedServer, free_port
from starlette.applications import Starlette

from email_fsm.config import Config
from email_fsm.server import Agent, Directory, ServerSettings, SQLiteLog

NODE_DIR = Path(__file__).resolve().parent / "node"
SCRIPT = NODE_DIR / "desktop.mjs"
PASSWORDS = {"a": "secret-a", "b": "secret-b"}
CUSTOMER = "customer@example.com"
MAILBOX = "support@example.com"
FIRST_SUBJECT = "Where is my order?"
SECOND_SUBJECT = "Change my address"
REPLY_BODY = "It left the warehouse today."

# The capability lists of docs/spec.md, section 4, in GWS's order (tests/builders.py).
INVITED = ["Accept", "Reject"]
PROCESSING = PROCESSING_CAPS
COMPOSING = COMPOSING_CAPS
NONE: list[str] = []

Record = dict[str, Any]
Seen = tuple[str, str, str, list[str], int | None]
"""What one notification showed: notificationType, email id, state, capabilities,
referenceId."""

pytestmark = [pytest.mark.needs("node"), pytest.mark.needs("npm")]


def _installed_matches_lock() -> bool:
    """Whether ``tests/node/node_modules`` holds exactly the packages of the lock file
    (npm records what it installed in ``node_modules/.package-lock.json``)."""
    installed = NODE_DIR / "node_modules" / ".package-lock.json"
    if not installed.exists():
        return False
    locked = json.loads((NODE_DIR / "package-lock.json").read_text("utf-8"))["packages"]
    locked = {name: entry for name, entry in locked.items() if name}
    recorded = json.loads(installed.read_text("utf-8"))["packages"]
    return bool(recorded == locked)


@pytest.fixture(scope="session")
def node_packages() -> Path:
    """The Node packages of ``tests/node/package-lock.json``, installed with ``npm ci``
    once per session (not at all when ``node_modules`` already matches the lock)."""
    if not _installed_matches_lock():
        npm = shutil.which("npm")
        assert npm is not None
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=NODE_DIR,
            check=True,
            capture_output=True,
            timeout=300,
        )
        assert _installed_matches_lock(), "npm ci did not install what the lock file pins"
    return NODE_DIR / "node_modules"


def _run_desktop(url: str, transport: str) -> list[Record]:
    """Run the scripted desktop against ``url``; its JSON lines, once it has finished."""
    node = shutil.which("node")
    assert node is not None
    options = {"base": url, "transport": transport, "agents": PASSWORDS}
    finished = subprocess.run(
        [node, str(SCRIPT), json.dumps(options)],
        check=False,
        cwd=NODE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if finished.returncode != 0:
        pytest.fail(
            f"desktop.mjs exited with {finished.returncode}:\n{finished.stderr}\n"
            f"its output:\n{finished.stdout}"
        )
    records = [json.loads(line) for line in finished.stdout.splitlines()]
    assert records[-1] == {"event": "done"}
    return records


def _seen(records: list[Record], agent: str) -> list[Seen]:
    """The notifications ``agent`` received, in order."""
    seen: list[Seen] = []
    for record in records:
        if record["event"] == "notification" and record["agent"] == agent:
            assert record["channel"] == "/v2/me/emails"
            data = record["data"]
            assert data["messageType"] == "EmailStateChangeMessage"
            email = data["email"]
            seen.append(
                (
                    data["notificationType"],
                    email["id"],
                    email["state"],
                    email["capabilities"],
                    data.get("referenceId"),
                )
            )
    return seen


def _notification(records: list[Record], agent: str, reference: int) -> Record:
    """The email object of the notification to ``agent`` with referenceId ``reference``."""
    (email,) = [
        dict(r["data"]["email"])
        for r in records
        if r["event"] == "notification"
        and r["agent"] == agent
        and r["data"].get("referenceId") == reference
    ]
    return email


def _index(records: list[Record], **fields: Any) -> int:
    """The position of the one record with these fields."""
    (position,) = [
        i for i, r in enumerate(records) if all(r.get(k) == v for k, v in fields.items())
    ]
    return position


@pytest.mark.parametrize(
    ("transport", "csrf"),
    [("websocket", False), ("long-polling", False), ("websocket", True)],
    ids=["websocket", "long-polling", "websocket-csrf"],
)
def test_two_desktops_on_the_official_cometd_client(
    node_packages: Path, tmp_path: Path, transport: str, csrf: bool
) -> None:
    """Two agents log in as Genesys' iOS client does, over ``transport``: each receives
    exactly the notifications GWS's rules address to it, each carrying the referenceId
    of the HTTP answer to the agent's own request; the server ends with the first email
    Completed, its reply Sent to the customer, and the second email Processing with the
    agent it was transferred to; no client reports a failed CometD exchange. Over
    long-polling the CometD requests authenticate with the cookie of the login, so the
    server holds no session beyond the two logins'."""
    port = free_port()
    url = f"http://{HOST}:{port}"
    settings = ServerSettings(
        directory=Directory([Agent(name, password) for name, password in PASSWORDS.items()]),
        log=SQLiteLog(tmp_path / "events.sqlite"),
        config=Config(base_url=url),
        csrf=csrf,
    )
    threaded = ThreadedServer(settings, port=port)
    app = threaded.server.config.app
    assert isinstance(app, Starlette)
    with threaded as served:
        assert served == url
        records = _run_desktop(url, transport)
        with httpx.Client(base_url=url) as client:
            final = client.get("/sim/emails").json()
        sessions = app.state.server.sessions.all()
        session_agents = sorted(s.agent.user_name for s in sessions.values())

    logging_out = _index(records, event="disconnecting", agent="a")
    assert not [r for r in records[:logging_out] if r["event"] == "unsuccessful"]
    for agent in PASSWORDS:
        _check_login(records, agent, transport=transport, csrf=csrf)
    first, draft, second = _check_emails(records, url)
    _check_final_state(final, first=first, draft=draft, second=second)
    _check_logout(records, transport)

    # Long-polling requests carry the login's JSESSIONID cookie: no other session is
    # made. Node's WebSocket sends no cookies, so each upgrade logs in with HTTP Basic
    # and makes a session of its own.
    if transport == "long-polling":
        assert session_agents == ["a", "b"]
    else:
        assert session_agents == ["a", "a", "b", "b"]


def _check_login(records: list[Record], agent: str, *, transport: str, csrf: bool) -> None:
    """The login, in the iOS client's order: GET /api/v2/me (a session cookie; with CSRF
    on a token), the handshake on the transport asked for, the subscription, and only
    then StartContactCenterSession (with CSRF on, refused without the token)."""
    logins = [r for r in records if r["event"] == "login" and r["agent"] == agent]
    assert logins == [
        {
            "event": "login",
            "agent": agent,
            "status": 200,
            "statusCode": 0,
            "userName": agent,
            "channels": [],
            "cookie": True,
            "csrfToken": csrf,
        }
    ]
    handshakes = [r for r in records if r["event"] == "handshake" and r["agent"] == agent]
    assert handshakes == [
        {
            "event": "handshake",
            "agent": agent,
            "successful": True,
            "transport": transport,
            "supportedConnectionTypes": ["websocket", "long-polling"],
        }
    ]
    subscribed = _index(records, event="subscribed", agent=agent)
    assert records[subscribed] == {
        "event": "subscribed",
        "agent": agent,
        "successful": True,
        "subscription": "/v2/me/*",
    }
    started = _index(records, event="answer", agent=agent, operation="StartContactCenterSession")
    assert records[started]["path"] == "/api/v2/me"
    assert records[started]["body"] == {"statusCode": 0}
    logged_in = _index(records, event="login", agent=agent)
    handshaken = _index(records, event="handshake", agent=agent)
    assert logged_in < handshaken < subscribed < started
    refused = [r for r in records if r["event"] == "without-token" and r["agent"] == agent]
    if csrf:
        assert refused == [
            {
                "event": "without-token",
                "agent": agent,
                "path": "/api/v2/me",
                "status": 403,
                "text": "Missing or invalid Csrf token",
            }
        ]
        assert subscribed < _index(records, event="without-token", agent=agent) < started
    else:
        assert refused == []


def _check_logout(records: list[Record], transport: str) -> None:
    """Each agent disconnects while its client has a connect out. Over a WebSocket the
    server gets that connect first and holds it; the disconnect ends it as CometD's own
    server does, successful with the advice not to reconnect, so the client reports no
    failure. (Over long-polling the connect may reach the server second.)"""
    disconnected = [(r["agent"], r["successful"]) for r in records if r["event"] == "disconnected"]
    assert disconnected == [("a", True), ("b", True)]
    if transport != "websocket":
        return
    ended = [
        (r["agent"], r["successful"], r["advice"]) for r in records if r["event"] == "connect-ended"
    ]
    assert ended == [("a", True, {"reconnect": "none"}), ("b", True, {"reconnect": "none"})]
    assert not [r for r in records if r["event"] == "unsuccessful"]


def _check_emails(records: list[Record], url: str) -> tuple[str, str, str]:
    """The answers to the requests on emails and the notifications each agent received;
    the ids of the first email, of its reply and of the second email."""
    # The contact center's ids for the two emails, and the reply's from its notification.
    arrivals = [r for r in records if r["event"] == "arrived"]
    assert [r["status"] for r in arrivals] == [200, 200]
    first, second = (r["body"]["emailId"] for r in arrivals)
    for arrival, email_id in zip(arrivals, (first, second), strict=True):
        assert arrival["body"] == {
            "statusCode": 0,
            "emailId": email_id,
            "uri": f"{url}/api/v2/me/emails/{email_id}",
        }
    draft = _notification(records, "a", 2)["id"]
    assert len({first, second, draft}) == 3

    # Every request on an email is answered {"statusCode": 0, "referenceId": n}, the
    # server numbering the requests in the order it gets them (the script sends one at a
    # time). The router offers the first email to a (both agents ready, holding none,
    # neither offered one before: the tie goes by name) and the second to b (a was
    # offered one last), so b transfers it to a.
    answers = [
        (r["agent"], r["operation"], r["path"], r["body"])
        for r in records
        if r["event"] == "answer" and r["path"].startswith("/api/v2/me/emails")
    ]
    emails = "/api/v2/me/emails/"
    assert answers == [
        ("a", "Accept", emails + first, {"statusCode": 0, "referenceId": 1}),
        ("a", "Reply", emails + first, {"statusCode": 0, "referenceId": 2}),
        ("a", "Save", emails + draft, {"statusCode": 0, "referenceId": 3}),
        ("a", "Send", emails + draft, {"statusCode": 0, "referenceId": 4}),
        ("a", "Complete", emails + first, {"statusCode": 0, "referenceId": 5}),
        ("b", "Accept", emails + second, {"statusCode": 0, "referenceId": 6}),
        ("b", "Transfer", emails + second, {"statusCode": 0, "referenceId": 7}),
        ("a", "Accept", emails + second, {"statusCode": 0, "referenceId": 8}),
    ]

    # What each agent was told (docs/spec.md, sections 5, 6 and 8): an Offer and an
    # invitation by transfer carry no referenceId; Reply tells about the new email only;
    # Send, Complete and Transfer leave the actor with no capabilities.
    assert _seen(records, "a") == [
        ("StatusChange", first, "Invited", INVITED, None),
        ("StatusChange", first, "Processing", PROCESSING, 1),
        ("StatusChange", draft, "Composing", COMPOSING, 2),
        ("EmailSaved", draft, "Composing", COMPOSING, 3),
        ("StatusChange", draft, "Sent", NONE, 4),
        ("StatusChange", first, "Completed", NONE, 5),
        ("StatusChange", second, "Invited", INVITED, None),
        ("StatusChange", second, "Processing", PROCESSING, 8),
    ]
    assert _seen(records, "b") == [
        ("StatusChange", second, "Invited", INVITED, None),
        ("StatusChange", second, "Processing", PROCESSING, 6),
        ("StatusChange", second, "Completed", NONE, 7),
    ]

    # The reply (docs/spec.md, "Reply content"): to the original's sender, from the
    # mailbox the original came to, "Re: " and its subject, its parent the original; the
    # saved body stays on it when it is sent.
    for reference in (2, 3, 4):
        reply = _notification(records, "a", reference)
        assert reply["from"] == MAILBOX
        assert reply["to"] == [CUSTOMER]
        assert reply["subject"] == "Re: " + FIRST_SUBJECT
        assert reply["parentId"] == first
        assert reply["uri"] == f"{url}/api/v2/me/emails/{draft}"
    assert "body" not in _notification(records, "a", 2)
    assert _notification(records, "a", 3)["body"] == REPLY_BODY
    assert _notification(records, "a", 4)["body"] == REPLY_BODY
    transferred = _notification(records, "a", 8)
    assert (transferred["from"], transferred["subject"]) == (CUSTOMER, SECOND_SUBJECT)
    return first, draft, second


def _check_final_state(final: Record, *, first: str, draft: str, second: str) -> None:
    """The emails the server holds at the end (``GET /sim/emails``)."""
    assert final["statusCode"] == 0
    assert final["routable"] == {"a": ["email"], "b": ["email"]}
    held = {e["id"]: e for e in final["emails"]}
    assert set(held) == {first, draft, second}
    original = held[first]
    assert (original["direction"], original["phase"]) == ("Inbound", "Completed")
    assert (original["owner"], original["invitee"]) == (None, None)
    reply = held[draft]
    assert (reply["direction"], reply["phase"], reply["owner"]) == ("Outbound", "Sent", None)
    assert reply["queue"] == "outbound"
    assert reply["content"]["to"] == [CUSTOMER]
    assert reply["content"]["parent_id"] == first
    assert reply["content"]["body"] == REPLY_BODY
    moved = held[second]
    assert (moved["phase"], moved["owner"], moved["invitee"]) == ("Processing", "a", None)
    assert (moved["transfers"], moved["last_transferred_by"]) == (1, "b")
