"""The shipped policies, a user-written one, and the smaller public API."""

from __future__ import annotations

import json

import pytest
from builders import accepted, assert_refused, center, composing, processing

from email_fsm import (
    Accept,
    AddComment,
    Arrive,
    Command,
    Complete,
    ContactCenter,
    Content,
    Create,
    Email,
    Offer,
    Phase,
    Refused,
    SetDisposition,
    StatusCode,
    Transfer,
    email_from_json,
    email_to_json,
    evolve,
    is_terminal,
    max_transfers,
    no_transfer_back,
    replay,
    require_disposition,
)
from email_fsm.events import CommentAdded, EmailArrived


def test_require_disposition_blocks_complete_until_set() -> None:
    c = center(policies=(require_disposition(),))
    processing(c)
    refused = assert_refused(c, Complete(actor="a", email_id="E1"), StatusCode.INVALID_STATE)
    assert refused.message == (
        "Complete refused for email E1 (Processing): set a disposition (DispositionCode) first"
    )
    accepted(c.execute(SetDisposition(actor="a", email_id="E1", disposition="Done")))
    accepted(c.execute(Complete(actor="a", email_id="E1")))
    assert c.emails["E1"].phase is Phase.COMPLETED


def test_require_disposition_with_own_key_and_code() -> None:
    c = center(policies=(require_disposition("Outcome", StatusCode.MISSING_PARAMETER),))
    processing(c)
    accepted(c.execute(SetDisposition(actor="a", email_id="E1", disposition="x")))
    assert_refused(c, Complete(actor="a", email_id="E1"), StatusCode.MISSING_PARAMETER)
    accepted(c.execute(SetDisposition(actor="a", email_id="E1", disposition="x", key="Outcome")))
    accepted(c.execute(Complete(actor="a", email_id="E1")))


def test_max_transfers_counts_every_transfer() -> None:
    c = center(policies=(max_transfers(2),))
    processing(c)
    accepted(c.execute(Transfer(actor="a", email_id="E1", agent="b")))
    accepted(c.execute(_accept("b")))
    accepted(c.execute(Transfer(actor="b", email_id="E1", queue="q")))
    c.execute(_offer("c"))
    accepted(c.execute(_accept("c")))
    refused = assert_refused(c, Transfer(actor="c", email_id="E1", agent="d"), StatusCode.FORBIDDEN)
    assert "already transferred 2 times (limit 2)" in refused.message
    accepted(c.execute(Complete(actor="c", email_id="E1")))


def test_max_transfers_rejects_a_negative_limit() -> None:
    with pytest.raises(ValueError, match="negative"):
        max_transfers(-1)


def test_no_transfer_back() -> None:
    c = center(policies=(no_transfer_back(),))
    processing(c)
    accepted(c.execute(Transfer(actor="a", email_id="E1", agent="b")))
    accepted(c.execute(_accept("b")))
    refused = assert_refused(
        c, Transfer(actor="b", email_id="E1", agent="a"), StatusCode.INVALID_VALUE
    )
    assert refused.message.endswith("a just transferred it")
    accepted(c.execute(Transfer(actor="b", email_id="E1", agent="c")))


def test_a_user_policy_sees_creations_with_no_email() -> None:
    seen: list[Email | None] = []

    def only_queue_drafts(command: Command, email: Email | None, /) -> Refused | None:
        seen.append(email)
        if isinstance(command, Create) and command.queue is None:
            return Refused(StatusCode.MISSING_PARAMETER, "drafts need a queue")
        return None

    c = center(policies=(only_queue_drafts,))
    assert_refused(c, Create(actor="a", email_id="D1"), StatusCode.MISSING_PARAMETER)
    accepted(c.execute(Create(actor="a", email_id="D1", queue="out")))
    assert seen == [None, None]


def _accept(agent: str) -> Command:
    return Accept(actor=agent, email_id="E1")


def _offer(agent: str) -> Command:
    return Offer(email_id="E1", agent=agent)


# ----------------------------------------------------------------- small API


def test_history_replays_to_the_live_emails() -> None:
    c = ContactCenter(record=True)
    processing(c)
    composing(c)
    accepted(c.execute(AddComment(actor="a", email_id="D1", comment="x")))
    assert replay(c.history) == dict(c.emails)
    assert ContactCenter().history == ()


def test_evolve_refuses_histories_decide_cannot_produce() -> None:
    arrived = EmailArrived(
        email_id="E1", phase=Phase.QUEUED, queue="q", content=_content(), user_data={}
    )
    email = evolve(None, arrived)
    with pytest.raises(ValueError, match="already exists"):
        evolve(email, arrived)
    with pytest.raises(ValueError, match="does not apply"):
        evolve(None, CommentAdded(email_id="E1", by="a", comment="c"))
    with pytest.raises(ValueError, match="does not apply"):
        evolve(email, CommentAdded(email_id="E2", by="a", comment="c"))


def _content() -> Content:
    return Content(subject="s")


def test_is_terminal() -> None:
    c = ContactCenter()
    accepted(c.execute(Arrive(email_id="E1", queue="q")))
    assert not is_terminal(None)
    assert not is_terminal(c.emails["E1"])
    processing(c, "E2")
    accepted(c.execute(Complete(actor="a", email_id="E2")))
    assert is_terminal(c.emails["E2"])


def test_email_json_round_trip_keeps_types() -> None:
    c = ContactCenter()
    email = processing(c, user_data={"n": 1, "f": 1.5, "l": [True, None], "d": {"x": "y"}})
    text = email_to_json(email)
    assert json.loads(text)["phase"] == "Processing"
    assert email_from_json(text) == email
    assert email_from_json(text.encode()) == email


def test_notification_json_equals_its_dict() -> None:
    c = ContactCenter()
    decision = accepted(c.execute(Create(actor="a", email_id="D1", reference_id=3)))
    (notification,) = decision.notifications
    assert json.loads(notification.to_json()) == notification.to_dict()
    model = notification.to_model()
    assert model.data.referenceId == 3
    assert model.channel == "/v2/me/emails"
