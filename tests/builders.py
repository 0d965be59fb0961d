"""Test helpers: emails in each phase, built by running real histories through the model."""

from __future__ import annotations

from typing import Any

import msgspec

from email_fsm import (
    Accept,
    Accepted,
    Arrive,
    Command,
    Complete,
    Config,
    ContactCenter,
    Create,
    Decision,
    Email,
    EmailFields,
    Offer,
    Policy,
    Refused,
    Save,
    Send,
    StatusCode,
)

BASE = "http://localhost:8080"

# The capability lists exactly as docs/spec.md, Capabilities, prints them (GWS order).
PROCESSING_CAPS = [
    "Reply",
    "ReplyAll",
    "Transfer",
    "AddComment",
    "AttachUserData",
    "UpdateUserData",
    "DeleteUserData",
    "SetDisposition",
    "SetInFocus",
    "Complete",
]
COMPOSING_CAPS = [
    "Cancel",
    "Send",
    "AddComment",
    "AttachUserData",
    "UpdateUserData",
    "DeleteUserData",
    "SetDisposition",
    "SetInFocus",
    "Transfer",
]


def message(
    notification_type: str, email: dict[str, Any], reference_id: int | None = None
) -> dict[str, Any]:
    """A GWS notification message, written out by hand (docs/spec.md, Notifications)."""
    data: dict[str, Any] = {
        "messageType": "EmailStateChangeMessage",
        "notificationType": notification_type,
    }
    if reference_id is not None:
        data["referenceId"] = reference_id
    data["email"] = email
    return {"channel": "/v2/me/emails", "data": data}


def uri(email_id: str) -> str:
    return f"{BASE}/api/v2/me/emails/{email_id}"


def accepted(decision: Decision) -> Accepted:
    assert isinstance(decision, Accepted), decision
    return decision


def center(*, policies: tuple[Policy, ...] = (), config: Config | None = None) -> ContactCenter:
    """A contact center with a bystander email "X" owned by agent "z" (never touched)."""
    c = ContactCenter(config=config or Config())
    accepted(c.execute(Arrive(email_id="X", queue="other", subject="bystander")))
    accepted(c.execute(Offer(email_id="X", agent="z")))
    accepted(c.execute(Accept(actor="z", email_id="X")))
    c.policies = policies
    return c


def arrive(c: ContactCenter, email_id: str = "E1", **content: Any) -> Email:
    fields: dict[str, Any] = {
        "from_": "customer@example.com",
        "to": ("support@example.com",),
        "subject": "Hi",
        "contact_id": "C1",
    }
    fields.update(content)
    accepted(c.execute(Arrive(email_id=email_id, queue="inbound", **fields)))
    return c.emails[email_id]


def invited(c: ContactCenter, email_id: str = "E1", agent: str = "a", **content: Any) -> Email:
    arrive(c, email_id, **content)
    accepted(c.execute(Offer(email_id=email_id, agent=agent)))
    return c.emails[email_id]


def processing(c: ContactCenter, email_id: str = "E1", agent: str = "a", **content: Any) -> Email:
    invited(c, email_id, agent, **content)
    accepted(c.execute(Accept(actor=agent, email_id=email_id)))
    return c.emails[email_id]


def composing(c: ContactCenter, email_id: str = "D1", agent: str = "a") -> Email:
    accepted(c.execute(Create(actor=agent, email_id=email_id, queue="outbound")))
    return c.emails[email_id]


def composing_with_recipient(c: ContactCenter, email_id: str = "D1", agent: str = "a") -> Email:
    composing(c, email_id, agent)
    fields = EmailFields(to=("customer@example.com",), subject="Hello", body="Hi")
    accepted(c.execute(Save(actor=agent, email_id=email_id, fields=fields)))
    return c.emails[email_id]


def completed(c: ContactCenter, email_id: str = "E1", agent: str = "a") -> Email:
    processing(c, email_id, agent)
    accepted(c.execute(Complete(actor=agent, email_id=email_id)))
    return c.emails[email_id]


def sent(c: ContactCenter, email_id: str = "D1", agent: str = "a") -> Email:
    composing_with_recipient(c, email_id, agent)
    accepted(c.execute(Send(actor=agent, email_id=email_id, queue="outbound")))
    return c.emails[email_id]


def assert_refused(
    c: ContactCenter, command: Command | object, code: StatusCode, **request: Any
) -> Refused:
    """Run a typed ``command`` (or a raw GWS request body) and check it is refused with ``code`` and
    that nothing changed: every email, the bystander included."""
    before = dict(c.emails)
    if isinstance(command, msgspec.Struct):
        decision = c.execute(command)  # type: ignore[arg-type]
    else:  # a raw GWS request body
        decision = c.request(request.pop("agent", "a"), command, **request)
    assert isinstance(decision, Refused), decision
    assert decision.code == code, decision
    assert dict(c.emails) == before
    assert all(c.emails[k] is v for k, v in before.items())
    assert decision.response() == {"statusCode": int(code), "statusMessage": decision.message}
    return decision
