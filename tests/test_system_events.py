"""System-event bodies (Arrive, Offer, Revoke) into typed commands, or refusals."""

from __future__ import annotations

import json
from typing import Any

import pytest
from builders import accepted, center
from hypothesis import given, settings
from hypothesis import strategies as st

from email_fsm import (
    Arrive,
    Config,
    Limits,
    Offer,
    Phase,
    Refused,
    Revoke,
    StatusCode,
    decide,
)
from email_fsm.requests import parse_system_event
from email_fsm.scenario import load_scenario

FULL_ARRIVE: dict[str, Any] = {
    "event": "Arrive",
    "emailId": "E1",
    "queueName": "inbound",
    "receivedDate": "2026-01-05T10:00:00Z",
    "email": {
        "from": "c@example.com",
        "to": ["support@example.com", "sales@example.com"],
        "cc": ["boss@example.com"],
        "subject": "Hi",
        "body": "<p>Hello</p>",
        "bodyAsPlainText": "Hello",
        "mime": "text/html",
        "contactId": "C1",
        "userData": {"k": "v", "n": [1, {"x": None}]},
    },
}

ACCEPTED: list[tuple[dict[str, Any], object]] = [
    (
        FULL_ARRIVE,
        Arrive(
            email_id="E1",
            queue="inbound",
            from_="c@example.com",
            to=("support@example.com", "sales@example.com"),
            cc=("boss@example.com",),
            subject="Hi",
            body="<p>Hello</p>",
            body_as_plain_text="Hello",
            mime="text/html",
            contact_id="C1",
            received_date="2026-01-05T10:00:00Z",
            user_data={"k": "v", "n": [1, {"x": None}]},
        ),
    ),
    ({"event": "Arrive", "emailId": "E2", "queueName": "q"}, Arrive(email_id="E2", queue="q")),
    (
        {"event": "Arrive", "emailId": "E3", "queueName": "q", "email": {"subject": "S"}},
        Arrive(email_id="E3", queue="q", subject="S"),
    ),
    ({"event": "Offer", "emailId": "E1", "agent": "a"}, Offer(email_id="E1", agent="a")),
    ({"event": "Revoke", "emailId": "E1"}, Revoke(email_id="E1")),
]


@pytest.mark.parametrize(("body", "expected"), ACCEPTED)
def test_each_event_in_every_body_form(body: dict[str, Any], expected: object) -> None:
    text = json.dumps(body)
    for form in (body, text, text.encode(), bytearray(text.encode()), memoryview(text.encode())):
        assert parse_system_event(form) == expected


def test_a_parsed_event_is_decided() -> None:
    c = center()
    arrive = parse_system_event(FULL_ARRIVE)
    assert isinstance(arrive, Arrive)
    email = accepted(decide(c.emails, arrive)).emails[0]
    assert (email.id, email.phase, email.queue) == ("E1", Phase.QUEUED, "inbound")


def test_the_scenario_files_read_the_same_events() -> None:
    bodies = [body for body, _ in ACCEPTED]
    scenario = load_scenario(json.dumps({"steps": bodies}))
    assert list(scenario.steps) == [parse_system_event(body) for body in bodies]


REFUSED: list[tuple[object, StatusCode, str]] = [
    # not JSON, not UTF-8, not an object
    (
        '{"event": "Revoke",',
        StatusCode.INVALID_VALUE,
        "system event refused: event body is not JSON: "
        "Expecting property name enclosed in double quotes: line 1 column 20 (char 19)",
    ),
    (
        b'{"event": "Revoke", "emailId": NaN}',
        StatusCode.INVALID_VALUE,
        "system event refused: event body is not JSON: NaN is not JSON",
    ),
    (
        b"\xff",
        StatusCode.INVALID_VALUE,
        "system event refused: event body is not UTF-8: invalid start byte",
    ),
    (
        "[1]",
        StatusCode.INVALID_VALUE,
        "system event refused: event body must be a JSON object, not list",
    ),
    (
        "null",
        StatusCode.INVALID_VALUE,
        "system event refused: event body must be a JSON object, not NoneType",
    ),
    (
        ["Revoke"],
        StatusCode.INVALID_VALUE,
        "system event refused: event body must be a JSON object, not list",
    ),
    # the event
    (
        {"emailId": "E1"},
        StatusCode.MISSING_PARAMETER,
        "system event refused for email E1: event is required",
    ),
    (
        {"event": "Fly", "emailId": "E1"},
        StatusCode.INVALID_VALUE,
        "Fly refused for email E1: unknown event 'Fly'",
    ),
    (
        {"event": "Accept", "emailId": "E1"},
        StatusCode.INVALID_VALUE,
        "Accept refused for email E1: unknown event 'Accept'",
    ),
    (
        {"event": 3, "emailId": "E1"},
        StatusCode.INVALID_VALUE,
        "system event refused for email E1: unknown event 3",
    ),
    # a missing required value
    (
        {"event": "Offer"},
        StatusCode.MISSING_PARAMETER,
        "Offer refused: emailId: Field required",
    ),
    (
        {"event": "Offer", "emailId": "E1"},
        StatusCode.MISSING_PARAMETER,
        "Offer refused for email E1: agent: Field required",
    ),
    (
        {"event": "Arrive", "emailId": "E1"},
        StatusCode.MISSING_PARAMETER,
        "Arrive refused for email E1: queueName: Field required",
    ),
    (
        {"event": "Revoke"},
        StatusCode.MISSING_PARAMETER,
        "Revoke refused: emailId: Field required",
    ),
    # a missing value wins over a wrong one
    (
        {"event": "Offer", "emailId": 7},
        StatusCode.MISSING_PARAMETER,
        "Offer refused: agent: Field required",
    ),
    # wrong types
    (
        {"event": "Offer", "emailId": 7, "agent": "a"},
        StatusCode.INVALID_VALUE,
        "Offer refused: emailId: Input should be a valid string",
    ),
    (
        {"event": "Arrive", "emailId": "E1", "queueName": "q", "receivedDate": 5},
        StatusCode.INVALID_VALUE,
        "Arrive refused for email E1: receivedDate: Input should be a valid string",
    ),
    (
        {"event": "Arrive", "emailId": "E1", "queueName": "q", "email": {"to": "x@example.com"}},
        StatusCode.INVALID_VALUE,
        "Arrive refused for email E1: email.to: Input should be a valid list",
    ),
    (
        {"event": "Arrive", "emailId": "E1", "queueName": "q", "email": {"userData": {"k": {1}}}},
        StatusCode.INVALID_VALUE,
        "Arrive refused for email E1: email.userData.k: input was not a valid JSON value",
    ),
    # a key the event does not have
    (
        {"event": "Revoke", "emailId": "E1", "agent": "a"},
        StatusCode.INVALID_VALUE,
        "Revoke refused for email E1: agent: Extra inputs are not permitted",
    ),
    (
        {"event": "Arrive", "emailId": "E1", "queueName": "q", "email": {"Subject": "x"}},
        StatusCode.INVALID_VALUE,
        "Arrive refused for email E1: email.Subject: Extra inputs are not permitted",
    ),
]


@pytest.mark.parametrize(("body", "code", "message"), REFUSED)
def test_a_malformed_event_is_refused(body: object, code: StatusCode, message: str) -> None:
    refused = parse_system_event(body)
    assert isinstance(refused, Refused), refused
    assert (refused.code, refused.message) == (code, message)


@pytest.mark.parametrize("kind", [str, bytes])
def test_a_body_over_the_limit_is_refused_before_it_is_parsed(kind: type) -> None:
    text = '{"event": "Revoke", "emailId": "E1"}'  # 36 bytes
    config = Config(limits=Limits(max_body_bytes=36))
    body = text if kind is str else text.encode()
    assert parse_system_event(body, config=config) == Revoke(email_id="E1")
    over = Config(limits=Limits(max_body_bytes=35))
    refused = parse_system_event(body, config=over)
    assert refused == Refused(
        StatusCode.INVALID_VALUE, "system event refused: event body is 36 bytes (limit 35)"
    )
    # Not parsed: a body that is not JSON either is refused for its size alone.
    far = "[" * 100
    assert parse_system_event(far if kind is str else far.encode(), config=over) == Refused(
        StatusCode.INVALID_VALUE, "system event refused: event body is 100 bytes (limit 35)"
    )


def test_a_dict_body_is_not_measured() -> None:
    config = Config(limits=Limits(max_body_bytes=10))
    assert parse_system_event({"event": "Revoke", "emailId": "E1"}, config=config) == Revoke(
        email_id="E1"
    )


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=10,
)
KEYS = st.sampled_from(["event", "emailId", "queueName", "agent", "email", "receivedDate"])
EVENTISH = st.dictionaries(
    KEYS, JSON | st.sampled_from(["Arrive", "Offer", "Revoke", "E1"]), max_size=5
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(JSON, EVENTISH, st.binary(max_size=20), st.text(max_size=20)))
def test_any_body_is_a_command_or_a_refusal_never_an_exception(body: object) -> None:
    parsed = parse_system_event(body)
    assert isinstance(parsed, (Arrive, Offer, Revoke, Refused))
    if isinstance(parsed, Refused):
        assert parsed.code in (StatusCode.INVALID_VALUE, StatusCode.MISSING_PARAMETER)
