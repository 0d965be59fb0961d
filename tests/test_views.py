"""Views: the email object an agent is shown for GET requests, and the list of its emails.

The expectations come from the rules: the holder (owner or invitee) of an Invited,
Processing or Composing email sees that phase with their capabilities; nobody else sees
anything, nor anybody a Queued or terminal email. A view is the email object the
notifications carry (``docs/spec.md``, "The email object"), except that AttachmentAdded and
AttachmentRemoved notifications always show ``attachments``, possibly ``[]``, and a view
only when the email has some.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest
from builders import COMPOSING_CAPS, PROCESSING_CAPS
from hypothesis import given
from hypothesis import strategies as st

from email_fsm import (
    Accept,
    Accepted,
    AddAttachment,
    Arrive,
    Complete,
    Config,
    ContactCenter,
    Create,
    Decision,
    Direction,
    Email,
    Offer,
    Phase,
    RemoveAttachment,
    decide,
    handle_request,
)
from email_fsm.scenario import AgentStep, Step
from email_fsm.testing import AGENTS, reachable
from email_fsm.views import agent_emails, view

INVITED_CAPS = ["Accept", "Reject"]
"""With builders' PROCESSING_CAPS and COMPOSING_CAPS: docs/spec.md, "Capabilities"."""

HELD_PHASES = {Phase.INVITED, Phase.PROCESSING, Phase.COMPOSING}
ATTACHMENT_NOTIFICATIONS = {"AttachmentAdded", "AttachmentRemoved"}

CONFIGS = [
    Config(),
    Config(base_url="https://gws.example.com", uri_template="{baseUrl}/api/v2/email/{id}"),
    Config(extended_fields=True),
]


def uri(email_id: str, config: Config = CONFIGS[0]) -> str:
    """The uri of an email, as the spec describes the template's two fields."""
    return config.uri_template.replace("{baseUrl}", config.base_url).replace("{id}", email_id)


def accepted(decision: Decision) -> Accepted:
    assert isinstance(decision, Accepted), decision
    return decision


@pytest.fixture
def center() -> ContactCenter:
    """E1, inbound, invited to alice; E2, alice's empty draft; E3 in the queue."""
    c = ContactCenter()
    c.execute(Arrive(email_id="E1", queue="inbound", subject="Hello", user_data={"VIP": 1}))
    c.execute(Offer(email_id="E1", agent="alice"))
    c.execute(Create(actor="alice", email_id="E2", queue="outbound"))
    c.execute(Arrive(email_id="E3", queue="inbound"))
    return c


# ----------------------------------------------------------------- one email


def test_the_invitee_sees_the_invitation_with_its_capabilities(center: ContactCenter) -> None:
    assert view(center.emails["E1"], "alice") == {
        "id": "E1",
        "state": "Invited",
        "capabilities": INVITED_CAPS,
        "uri": "http://localhost:8080/api/v2/me/emails/E1",
        "subject": "Hello",
        "userData": {"VIP": 1},
        "revelantResponseTemplateGroups": [],
    }


def test_the_owner_sees_processing_and_a_draft_composing(center: ContactCenter) -> None:
    center.execute(Accept(actor="alice", email_id="E1"))
    processing = view(center.emails["E1"], "alice")
    assert processing is not None
    assert processing["state"] == "Processing"
    assert processing["capabilities"] == PROCESSING_CAPS
    # An empty draft shows the first four fields only; outbound: no template groups.
    assert view(center.emails["E2"], "alice") == {
        "id": "E2",
        "state": "Composing",
        "capabilities": COMPOSING_CAPS,
        "uri": "http://localhost:8080/api/v2/me/emails/E2",
    }


def test_nobody_else_sees_an_email(center: ContactCenter) -> None:
    assert view(center.emails["E1"], "bob") is None
    assert view(center.emails["E2"], "bob") is None
    assert view(center.emails["E3"], "alice") is None  # Queued: nobody holds it


def test_a_terminal_email_is_seen_by_nobody(center: ContactCenter) -> None:
    center.execute(Accept(actor="alice", email_id="E1"))
    center.execute(Complete(actor="alice", email_id="E1"))
    assert center.emails["E1"].phase is Phase.COMPLETED
    assert view(center.emails["E1"], "alice") is None
    # Even an email built by hand with an owner in a terminal phase.
    odd = Email(
        id="X", direction=Direction.INBOUND, phase=Phase.COMPLETED, queue="q", owner="alice"
    )
    assert view(odd, "alice") is None


def test_a_view_follows_the_config(center: ContactCenter) -> None:
    config = Config(
        base_url="https://gws.example.com",
        uri_template="{baseUrl}/api/v2/email/{id}",
        extended_fields=True,
    )
    assert view(center.emails["E2"], "alice", config=config) == {
        "id": "E2",
        "state": "Composing",
        "capabilities": COMPOSING_CAPS,
        "uri": "https://gws.example.com/api/v2/email/E2",
        "userData": {},
        "emailType": "Outbound",
        "assignedTo": "alice",
        "suggestedQueueUris": [],
    }


def test_a_view_is_json(center: ContactCenter) -> None:
    seen = view(center.emails["E1"], "alice")
    assert seen is not None
    assert json.loads(json.dumps(seen)) == seen


def test_attachments_show_when_there_are_some_unlike_the_attachment_notifications(
    center: ContactCenter,
) -> None:
    added = accepted(
        center.execute(
            AddAttachment(actor="alice", email_id="E2", document_id="DOC1", name="a.txt")
        )
    )
    attachment = {"id": "DOC1", "name": "a.txt", "uri": uri("E2") + "/attachments/DOC1"}
    seen = view(center.emails["E2"], "alice")
    assert seen is not None
    assert seen["attachments"] == [attachment]
    assert seen == added.notifications[0].to_dict()["data"]["email"]
    removed = accepted(
        center.execute(RemoveAttachment(actor="alice", email_id="E2", document_id="DOC1"))
    )
    told = removed.notifications[0].to_dict()["data"]["email"]
    assert told["attachments"] == []
    seen = view(center.emails["E2"], "alice")
    assert seen is not None
    assert "attachments" not in seen
    assert seen == {key: value for key, value in told.items() if key != "attachments"}


# ----------------------------------------------------------------- the list


def test_the_list_gives_the_uris_of_what_the_agent_holds_by_id(center: ContactCenter) -> None:
    center.execute(Arrive(email_id="E0", queue="inbound"))
    center.execute(Offer(email_id="E0", agent="alice"))
    assert agent_emails(center.emails, "alice") == {
        "statusCode": 0,
        "uris": [uri("E0"), uri("E1"), uri("E2")],
    }
    assert agent_emails(center.emails, "bob") == {"statusCode": 0, "uris": []}


def test_the_list_with_fields_gives_the_views(center: ContactCenter) -> None:
    body = agent_emails(center.emails, "alice", fields=True)
    assert list(body) == ["statusCode", "emails"]
    assert body["statusCode"] == 0
    assert [(e["id"], e["state"]) for e in body["emails"]] == [
        ("E1", "Invited"),
        ("E2", "Composing"),
    ]
    assert body["emails"][0] == view(center.emails["E1"], "alice")
    assert agent_emails(center.emails, "bob", fields=True) == {"statusCode": 0, "emails": []}


def test_the_ids_order_as_strings() -> None:
    emails = {
        email_id: Email(
            id=email_id, direction=Direction.OUTBOUND, phase=Phase.COMPOSING, queue="q", owner="a"
        )
        for email_id in ("E2", "E10", "E1")
    }
    assert agent_emails(emails, "a")["uris"] == [uri("E1"), uri("E10"), uri("E2")]


def test_the_list_follows_the_uri_template(center: ContactCenter) -> None:
    config = Config(base_url="https://gws.example.com", uri_template="{baseUrl}/api/v2/email/{id}")
    assert agent_emails(center.emails, "alice", config=config)["uris"] == [
        "https://gws.example.com/api/v2/email/E1",
        "https://gws.example.com/api/v2/email/E2",
    ]


# ----------------------------------------------------------------- properties


def run(emails: Mapping[str, Email], step: Step, config: Config) -> Decision:
    """One step of a history, as :func:`email_fsm.testing.reachable` ran it."""
    if isinstance(step, AgentStep):
        return handle_request(
            emails,
            step.request,
            actor=step.agent,
            email_id=step.email_id,
            new_email_id=step.new_email_id,
            reference_id=step.reference_id,
            config=config,
        )
    return decide(emails, step, config=config)


def expected_view(told: dict[str, Any], notification_type: str) -> dict[str, Any]:
    """A notification's email object as a view shows it: without the ``[]`` of
    attachments that an AttachmentAdded or AttachmentRemoved notification always shows."""
    if notification_type in ATTACHMENT_NOTIFICATIONS and told["attachments"] == []:
        return {key: value for key, value in told.items() if key != "attachments"}
    return told


def held_by(emails: Mapping[str, Email], agent: str) -> list[str]:
    """The ids of the emails ``agent`` holds, by a scan, in the order of the ids."""
    return sorted(
        e.id for e in emails.values() if e.phase in HELD_PHASES and agent in (e.owner, e.invitee)
    )


@pytest.mark.parametrize("config", CONFIGS)
@given(data=st.data())
def test_a_view_is_what_each_notification_shows_its_holder(
    config: Config, data: st.DataObject
) -> None:
    reached = data.draw(reachable(config=config), label="history")
    emails: dict[str, Email] = {}
    for step in reached.steps:
        decision = run(emails, step, config)
        assert isinstance(decision, Accepted)
        emails.update((e.id, e) for e in decision.emails)
        for notification in decision.notifications:
            now = emails[notification.email.id]
            seen = view(now, notification.recipient, config=config)
            if now.phase in HELD_PHASES and notification.recipient == now.holder:
                message = notification.to_dict()["data"]
                expected = expected_view(message["email"], message["notificationType"])
                assert seen == expected
            else:
                assert seen is None
    assert emails == reached.emails


@pytest.mark.parametrize("config", CONFIGS)
@given(data=st.data())
def test_the_list_is_every_email_the_agent_holds(config: Config, data: st.DataObject) -> None:
    reached = data.draw(reachable(config=config), label="history")
    emails: dict[str, Email] = {}
    for step in reached.steps:
        decision = run(emails, step, config)
        assert isinstance(decision, Accepted)
        emails.update((e.id, e) for e in decision.emails)
        listed: list[str] = []
        for agent in (*AGENTS, "nobody"):
            ids = held_by(emails, agent)
            assert agent_emails(emails, agent, config=config) == {
                "statusCode": 0,
                "uris": [uri(email_id, config) for email_id in ids],
            }
            objects = agent_emails(emails, agent, config=config, fields=True)["emails"]
            assert [o["id"] for o in objects] == ids
            assert objects == [view(emails[email_id], agent, config=config) for email_id in ids]
            listed += ids
        # Each email with a holder is listed once, for its holder; the others nowhere.
        assert sorted(listed) == sorted(e.id for e in emails.values() if e.phase in HELD_PHASES)
