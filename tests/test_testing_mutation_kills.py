"""Tests written for mutants of the decision core that the other tests let survive
(``make mutation``): each pins a behaviour no other test looked at closely enough."""

from __future__ import annotations

from typing import Any

import pytest

from email_fsm import (
    Accept,
    Accepted,
    Arrive,
    Command,
    ContactCenter,
    Create,
    Decision,
    EmailFields,
    Offer,
    Operation,
    Refused,
    Reply,
    Send,
    StatusCode,
    SystemEvent,
    Transfer,
)
from email_fsm.table import TABLE, TableError, check_table


def accepted(decision: Decision) -> Accepted:
    assert isinstance(decision, Accepted), decision
    return decision


def processing(center: ContactCenter) -> None:
    arrive = Arrive(email_id="E1", queue="inbound", from_="c@x.com", to=("s@x.com",))
    accepted(center.execute(arrive))
    accepted(center.execute(Offer(email_id="E1", agent="a")))
    accepted(center.execute(Accept(actor="a", email_id="E1")))


def test_phases_reached_only_through_creation_are_reachable() -> None:
    # Without Arrive and Create, drafts still come from Reply's `creates`, and every
    # phase is reachable from there (the reachability check ignores directions).
    no_origin = {SystemEvent.ARRIVE, Operation.CREATE}
    created_only = [row for row in TABLE if row.trigger not in no_origin]
    assert len(check_table(created_only)) == len(created_only)
    # Without any way to create an email, nothing is reachable.
    creating = [row for row in created_only if row.creates is None]
    with pytest.raises(TableError, match="unreachable phases"):
        check_table(creating)


def test_quoting_an_email_without_body_gives_the_start_line_only() -> None:
    center = ContactCenter()
    processing(center)
    reply = Reply(
        actor="a",
        email_id="E1",
        new_email_id="R1",
        quote_original=True,
        reply_to_start_line="You wrote:",
    )
    accepted(center.execute(reply))
    assert center.emails["R1"].content.body_as_plain_text == "You wrote:"


def test_a_sent_email_is_in_the_queue_it_was_sent_through() -> None:
    center = ContactCenter()
    accepted(center.execute(Create(actor="a", email_id="D1", queue="drafts")))
    send = Send(actor="a", email_id="D1", queue="outbound", fields=None)
    refused = center.execute(send)
    assert isinstance(refused, Refused)
    assert refused.code is StatusCode.MISSING_PARAMETER

    accepted(
        center.execute(
            Send(
                actor="a",
                email_id="D1",
                queue="outbound",
                fields=EmailFields(to=("x@example.com",)),
            )
        )
    )
    assert center.emails["D1"].queue == "outbound"


def test_an_invalid_value_says_what_is_invalid() -> None:
    center = ContactCenter()
    processing(center)
    refused = center.execute(Transfer(actor="a", email_id="E1", agent="b", queue="q"))
    assert isinstance(refused, Refused)
    assert refused.code is StatusCode.INVALID_VALUE
    assert refused.message.endswith("give userUri or queueName, not both")


def test_refusals_give_their_reason() -> None:
    from email_fsm import AddAttachment, DeleteUserData, RemoveAttachment

    center = ContactCenter()
    processing(center)
    reasons: dict[Command, str] = {
        Transfer(actor="a", email_id="E1", agent="a"): "a cannot transfer an email to themselves",
        DeleteUserData(actor="a", email_id="E1", keys=()): "keys is required",
    }
    accepted(center.execute(Create(actor="a", email_id="D1")))
    accepted(center.execute(AddAttachment(actor="a", email_id="D1", document_id="d1")))
    reasons[AddAttachment(actor="a", email_id="D1", document_id="d1")] = (
        "attachment d1 is already attached"
    )
    reasons[RemoveAttachment(actor="a", email_id="D1", document_id="d2")] = (
        "attachment d2 is not attached"
    )
    for command, reason in reasons.items():
        refused = center.execute(command)
        assert isinstance(refused, Refused)
        assert refused.message.endswith(reason), refused.message


def test_a_reply_to_an_email_without_subject_is_just_the_prefix() -> None:
    center = ContactCenter()
    processing(center)
    accepted(center.execute(Reply(actor="a", email_id="E1", new_email_id="R1")))
    assert center.emails["R1"].content.subject == "Re: "


def test_events_say_who_did_what() -> None:
    from email_fsm import AddAttachment, AddComment, RemoveAttachment, ReplyAll, Revoke
    from email_fsm.events import InvitationRevoked, ReplyCreated

    center = ContactCenter()
    processing(center)
    reply = accepted(center.execute(ReplyAll(actor="a", email_id="E1", new_email_id="R1")))
    created = reply.events[0]
    assert isinstance(created, ReplyCreated)
    assert (created.original_id, created.operation) == ("E1", Operation.REPLY_ALL)
    commands: tuple[Command, ...] = (
        AddComment(actor="a", email_id="E1", comment="note"),
        AddAttachment(actor="a", email_id="R1", document_id="d1"),
        RemoveAttachment(actor="a", email_id="R1", document_id="d1"),
        Transfer(actor="a", email_id="E1", queue="q"),
    )
    for command in commands:
        (event,) = accepted(center.execute(command)).events
        assert getattr(event, "by", None) == "a", event
    assert center.emails["E1"].last_transferred_by == "a"
    accepted(center.execute(Offer(email_id="E1", agent="b")))
    (revoked,) = accepted(center.execute(Revoke(email_id="E1"))).events
    assert isinstance(revoked, InvitationRevoked)
    assert revoked.agent == "b"


def _every_operation(actor: str, email_id: str) -> list[Command]:
    from email_fsm import (
        AddAttachment,
        AddComment,
        AttachUserData,
        Cancel,
        Complete,
        DeleteUserData,
        Reject,
        RemoveAttachment,
        ReplyAll,
        Save,
        SetDisposition,
        SetInFocus,
        UpdateUserData,
    )

    who: dict[str, Any] = {"actor": actor, "email_id": email_id}
    return [
        Accept(**who),
        Reject(**who),
        Transfer(**who, queue="q"),
        Complete(**who),
        Reply(**who, new_email_id="R9"),
        ReplyAll(**who, new_email_id="R9"),
        Save(**who, fields=EmailFields(subject="s")),
        Send(**who, queue="q"),
        Cancel(**who),
        AddAttachment(**who, document_id="d1"),
        RemoveAttachment(**who, document_id="d1"),
        AttachUserData(**who, user_data={"k": 1}),
        UpdateUserData(**who, user_data={"k": 1}),
        DeleteUserData(**who, keys=("k",)),
        SetDisposition(**who, disposition="Done"),
        AddComment(**who, comment="note"),
        SetInFocus(**who),
    ]


def test_an_empty_actor_is_a_missing_parameter_for_every_operation() -> None:
    center = ContactCenter()
    processing(center)
    for command in _every_operation("", "E1"):
        refused = center.execute(command)
        assert isinstance(refused, Refused), command
        assert refused.code is StatusCode.MISSING_PARAMETER, command
        assert refused.message.endswith("agent is required"), refused.message


def test_empty_targets_are_invalid_values() -> None:
    from email_fsm import Complete

    center = ContactCenter()
    processing(center)
    for command, reason in (
        (Transfer(actor="a", email_id="E1", agent=""), "userUri must not be empty"),
        (Transfer(actor="a", email_id="E1", queue=""), "queueName must not be empty"),
        (Complete(actor="a", email_id="E1", queue=""), "queueName must not be empty"),
    ):
        refused = center.execute(command)
        assert isinstance(refused, Refused), command
        assert refused.code is StatusCode.INVALID_VALUE
        assert refused.message.endswith(reason), refused.message


def test_an_empty_attachment_is_allowed_a_negative_size_is_not() -> None:
    from email_fsm import AddAttachment

    center = ContactCenter()
    accepted(center.execute(Create(actor="a", email_id="D1")))
    accepted(center.execute(AddAttachment(actor="a", email_id="D1", document_id="d0", size=0)))
    refused = center.execute(AddAttachment(actor="a", email_id="D1", document_id="d1", size=-1))
    assert isinstance(refused, Refused)
    assert refused.code is StatusCode.INVALID_VALUE
    assert refused.message.endswith("size must not be negative")
