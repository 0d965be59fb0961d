"""Ids for new emails from a factory: called once, and only when the request creates one."""

from __future__ import annotations

from typing import Any

import pytest
from builders import accepted, center, composing, processing

from email_fsm import (
    ContactCenter,
    Create,
    Phase,
    Refused,
    Reply,
    ReplyAll,
    StatusCode,
    handle_request,
    parse_request,
)
from email_fsm.requests import ParsedRequest, parse_request_ignoring


class Ids:
    """A factory of new ids that counts its calls: N1, N2, ..."""

    def __init__(self, *ids: str) -> None:
        self.ids = list(ids) or [f"N{n}" for n in range(1, 10)]
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        return self.ids[self.calls - 1]


def ready() -> ContactCenter:
    """The bystander X, E1 in Processing and draft D1, all owned by agent a (X by z)."""
    c = center()
    processing(c)
    composing(c)
    return c


def refused(c: ContactCenter, body: object, code: StatusCode, **request: Any) -> Refused:
    """``body`` handled: refused with ``code``, and nothing changed."""
    before = dict(c.emails)
    decision = handle_request(c.emails, body, actor="a", config=c.config, **request)
    assert isinstance(decision, Refused), decision
    assert decision.code is code, decision
    assert dict(c.emails) == before
    assert decision.response() == {"statusCode": int(code), "statusMessage": decision.message}
    return decision


NOT_CREATING: list[tuple[object, str | None]] = [
    ({"operationName": "AddComment", "comment": "hi"}, "E1"),
    ({"operationName": "Complete"}, "E1"),
    ({"operationName": "Send", "queueName": "out"}, "D1"),
    ('{"operationName": "AddComment", "comment": ', "E1"),  # not JSON
    (b"[]", "E1"),  # not an object
    ({"operationName": "Fly"}, "E1"),  # an unknown operation
    ({"comment": "hi"}, "E1"),  # no operation
    ({"operationName": "AddComment"}, "E1"),  # a missing parameter
]


@pytest.mark.parametrize(("body", "email_id"), NOT_CREATING)
def test_the_factory_is_not_called_for_a_body_that_creates_nothing(
    body: object, email_id: str | None
) -> None:
    ids = Ids()
    parse_request(body, actor="a", email_id=email_id, new_id=ids)
    parse_request_ignoring(body, actor="a", email_id=email_id, new_id=ids)
    handle_request(ready().emails, body, actor="a", email_id=email_id, new_id=ids)
    assert ids.calls == 0


def test_the_factory_is_not_called_when_the_email_is_missing_or_the_body_refused() -> None:
    ids = Ids()
    c = ready()
    message = refused(
        c, {"operationName": "Reply"}, StatusCode.NOT_FOUND, email_id="NOPE", new_id=ids
    ).message
    assert message == "Reply refused: email NOPE not found"
    both = {"operationName": "Reply", "queueName": "q", "queueUri": "http://h/api/v2/queues/q"}
    message = refused(c, both, StatusCode.INVALID_VALUE, email_id="E1", new_id=ids).message
    assert message == "Reply refused for email E1: give queueUri or queueName, not both"
    message = refused(
        c, {"operationName": "Create", "queueName": 3}, StatusCode.INVALID_VALUE, new_id=ids
    ).message
    assert message == "Create refused: queueName: Input should be a valid string"
    message = refused(
        c, {"operationName": "Reply"}, StatusCode.MISSING_PARAMETER, new_id=ids
    ).message
    assert message == "Reply refused: emailId is required"
    assert ids.calls == 0


def test_create_takes_the_factory_id_as_its_email_id() -> None:
    ids = Ids("D7")
    parsed = parse_request({"operationName": "Create", "queueName": "out"}, actor="a", new_id=ids)
    assert parsed == Create(actor="a", email_id="D7", queue="out")
    assert ids.calls == 1


@pytest.mark.parametrize("kind", [Reply, ReplyAll])
def test_a_reply_takes_the_factory_id_as_its_new_email_id(kind: type[Reply]) -> None:
    ids = Ids("R1")
    body = {"operationName": kind.__name__, "queueName": "out", "extra": 1}
    parsed = parse_request_ignoring(body, actor="a", email_id="E1", new_id=ids)
    assert parsed == ParsedRequest(
        kind(actor="a", email_id="E1", new_email_id="R1", queue="out"), ("extra",)
    )
    assert ids.calls == 1


@pytest.mark.parametrize("operation", ["Create", "Reply", "ReplyAll"])
def test_handle_request_calls_the_factory_once_and_creates_that_email(operation: str) -> None:
    ids = Ids("NEW")
    c = ready()
    email_id = None if operation == "Create" else "E1"
    body = {"operationName": operation, "queueName": "out"}
    decision = accepted(handle_request(c.emails, body, actor="a", email_id=email_id, new_id=ids))
    assert ids.calls == 1
    (new,) = (email for email in decision.emails if email.id == "NEW")
    assert (new.phase, new.owner) == (Phase.COMPOSING, "a")
    assert "NEW" not in c.emails  # handle_request stores nothing


@pytest.mark.parametrize(
    ("operation", "email_id", "taken"),
    [("Create", None, "E1"), ("Reply", "E1", "D1"), ("ReplyAll", "E1", "X")],
)
def test_a_factory_id_already_taken_is_refused(
    operation: str, email_id: str | None, taken: str
) -> None:
    ids = Ids(taken)
    c = ready()
    body = {"operationName": operation, "queueName": "out"}
    message = refused(c, body, StatusCode.ALREADY_EXISTS, email_id=email_id, new_id=ids).message
    assert message == f"{operation} refused: email {taken} already exists"
    assert ids.calls == 1


def test_new_email_id_still_works_and_both_is_a_programmer_error() -> None:
    body = {"operationName": "Create", "queueName": "out"}
    assert parse_request(body, actor="a", new_email_id="D9") == Create(
        actor="a", email_id="D9", queue="out"
    )
    ids = Ids()
    with pytest.raises(TypeError, match="new_email_id or new_id, not both"):
        parse_request(body, actor="a", new_email_id="D9", new_id=ids)
    with pytest.raises(TypeError, match="new_email_id or new_id, not both"):
        parse_request_ignoring(body, actor="a", new_email_id="D9", new_id=ids)
    c = ready()
    before = dict(c.emails)
    with pytest.raises(TypeError, match="new_email_id or new_id, not both"):
        handle_request(c.emails, body, actor="a", new_email_id="D9", new_id=ids)
    assert ids.calls == 0
    assert dict(c.emails) == before


def test_without_an_id_or_a_factory_the_new_id_is_missing() -> None:
    c = ready()
    message = refused(c, {"operationName": "Create"}, StatusCode.MISSING_PARAMETER).message
    assert message == "Create refused: newEmailId is required"
    message = refused(
        c, {"operationName": "ReplyAll"}, StatusCode.MISSING_PARAMETER, email_id="E1"
    ).message
    assert message == "ReplyAll refused for email E1: newEmailId is required"
