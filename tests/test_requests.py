"""The boundary: raw GWS request bodies into typed commands, or refusals."""

from __future__ import annotations

import json
from typing import Any

import pytest
from builders import accepted, assert_refused, center, composing, invited, processing
from hypothesis import given, settings
from hypothesis import strategies as st

from email_fsm import (
    Accept,
    AddAttachment,
    AddComment,
    AttachUserData,
    Cancel,
    Complete,
    Create,
    DeleteUserData,
    EmailFields,
    Phase,
    Refused,
    Reject,
    RemoveAttachment,
    Reply,
    ReplyAll,
    Save,
    Send,
    SetDisposition,
    SetInFocus,
    StatusCode,
    Transfer,
    UpdateUserData,
    handle_request,
    parse_request,
)

USER_B = "http://gws.example.com/api/v2/users/b"
CONTACT_B = "http://gws.example.com/api/v2/contacts/b"
PARSED: list[tuple[dict[str, Any], object]] = [
    ({"operationName": "Accept"}, Accept(actor="a", email_id="E1", reference_id=9)),
    (
        {"operationName": "Accept", "saveLAR": True},
        Accept(actor="a", email_id="E1", reference_id=9, save_lar=True),
    ),
    ({"operationName": "Reject"}, Reject(actor="a", email_id="E1", reference_id=9)),
    (
        {"operationName": "Transfer", "userUri": USER_B},
        Transfer(actor="a", email_id="E1", reference_id=9, agent="b"),
    ),
    (
        {"operationName": "Transfer", "targetUri": USER_B},
        Transfer(actor="a", email_id="E1", reference_id=9, agent="b"),
    ),
    (
        {"operationName": "Transfer", "targetUri": CONTACT_B},
        Transfer(actor="a", email_id="E1", reference_id=9, agent="b"),
    ),
    (
        {"operationName": "Transfer", "userUri": CONTACT_B + "/"},
        Transfer(actor="a", email_id="E1", reference_id=9, agent="b"),
    ),
    (
        {"operationName": "Transfer", "queueName": "test-queue"},
        Transfer(actor="a", email_id="E1", reference_id=9, queue="test-queue"),
    ),
    (
        {"operationName": "Complete", "queueName": "qa", "saveLAR": False},
        Complete(actor="a", email_id="E1", reference_id=9, queue="qa", save_lar=False),
    ),
    (
        {
            "operationName": "Reply",
            "queueUri": "http://h/api/v2/queues/out-q",
            "body": "<p>x</p>",
            "bodyAsPlainText": "x",
            "mime": "text/html",
            "userData": {"k": [1, {"n": None}]},
            "subjectPrefix": "RE: ",
            "replyToStartLine": "On Monday you wrote:",
            "quoteOriginal": True,
            "indentCharacter": "|",
        },
        Reply(
            actor="a",
            email_id="E1",
            reference_id=9,
            new_email_id="N1",
            queue="out-q",
            body="<p>x</p>",
            body_as_plain_text="x",
            mime="text/html",
            user_data={"k": [1, {"n": None}]},
            subject_prefix="RE: ",
            reply_to_start_line="On Monday you wrote:",
            quote_original=True,
            indent_character="|",
        ),
    ),
    (
        {"operationName": "ReplyAll", "queueName": "out"},
        ReplyAll(actor="a", email_id="E1", reference_id=9, new_email_id="N1", queue="out"),
    ),
    (
        {
            "operationName": "Save",
            "email": {"from": "f@x", "to": ["t@x"], "cc": [], "bcc": ["b@x"]},
        },
        Save(
            actor="a",
            email_id="E1",
            reference_id=9,
            fields=EmailFields(from_="f@x", to=("t@x",), cc=(), bcc=("b@x",)),
        ),
    ),
    (
        {"operationName": "Send", "queueName": "out", "email": {"subject": "s"}, "saveLAR": True},
        Send(
            actor="a",
            email_id="E1",
            reference_id=9,
            queue="out",
            fields=EmailFields(subject="s"),
            save_lar=True,
        ),
    ),
    ({"operationName": "Cancel"}, Cancel(actor="a", email_id="E1", reference_id=9)),
    (
        {"operationName": "AddAttachment", "documentId": "d", "name": "n", "size": 0, "mime": "m"},
        AddAttachment(
            actor="a", email_id="E1", reference_id=9, document_id="d", name="n", size=0, mime="m"
        ),
    ),
    (
        {"operationName": "RemoveAttachment", "documentId": "d"},
        RemoveAttachment(actor="a", email_id="E1", reference_id=9, document_id="d"),
    ),
    (
        {"operationName": "AttachUserData", "userData": {"a": 1.5}},
        AttachUserData(actor="a", email_id="E1", reference_id=9, user_data={"a": 1.5}),
    ),
    (
        {"operationName": "UpdateUserData", "userData": {"a": "b"}},
        UpdateUserData(actor="a", email_id="E1", reference_id=9, user_data={"a": "b"}),
    ),
    (
        {"operationName": "DeleteUserData", "keys": ["a", "b"]},
        DeleteUserData(actor="a", email_id="E1", reference_id=9, keys=("a", "b")),
    ),
    (
        {"operationName": "DeleteUserData", "userData": {"a": "", "c": 1}},
        DeleteUserData(actor="a", email_id="E1", reference_id=9, keys=("a", "c")),
    ),
    (
        {"operationName": "SetDisposition", "disposition": "Sold", "dispositionKey": "D"},
        SetDisposition(actor="a", email_id="E1", reference_id=9, disposition="Sold", key="D"),
    ),
    (
        {"operationName": "AddComment", "comment": "hello", "extra": "ignored"},
        AddComment(actor="a", email_id="E1", reference_id=9, comment="hello"),
    ),
    ({"operationName": "SetInFocus"}, SetInFocus(actor="a", email_id="E1", reference_id=9)),
]


@pytest.mark.parametrize(
    ("body", "command"),
    PARSED,
    ids=[f"{b['operationName']}-{i}" for i, (b, _) in enumerate(PARSED)],
)
def test_bodies_parse_into_typed_commands(body: dict[str, Any], command: object) -> None:
    parsed = parse_request(body, actor="a", email_id="E1", new_email_id="N1", reference_id=9)
    assert parsed == command
    assert (
        parse_request(json.dumps(body), actor="a", email_id="E1", new_email_id="N1", reference_id=9)
        == command
    )
    assert (
        parse_request(
            json.dumps(body).encode(), actor="a", email_id="E1", new_email_id="N1", reference_id=9
        )
        == command
    )


def test_create_takes_the_new_id_as_its_email_id() -> None:
    parsed = parse_request(
        {"operationName": "Create", "queueName": "q", "parentId": "P", "userData": {"a": 1}},
        actor="a",
        new_email_id="N1",
    )
    assert parsed == Create(actor="a", email_id="N1", queue="q", parent_id="P", user_data={"a": 1})


MALFORMED: list[tuple[str, object, int]] = [
    ("not json", "{operationName: Accept", StatusCode.INVALID_VALUE),
    ("empty text", "", StatusCode.INVALID_VALUE),
    ("not utf-8", b"\xff\xfe{", StatusCode.INVALID_VALUE),
    ("NaN", '{"operationName": "AddAttachment", "documentId": "d", "size": NaN}', 10),
    ("array", [{"operationName": "Accept"}], StatusCode.INVALID_VALUE),
    ("json array", '["Accept"]', StatusCode.INVALID_VALUE),
    ("number", 42, StatusCode.INVALID_VALUE),
    ("null", None, StatusCode.INVALID_VALUE),
    ("unknown operation", {"operationName": "Fly"}, StatusCode.INVALID_VALUE),
    ("lowercase operation", {"operationName": "accept"}, StatusCode.INVALID_VALUE),
    ("operation not a string", {"operationName": 3}, StatusCode.INVALID_VALUE),
    ("no operation", {"comment": "x"}, StatusCode.MISSING_PARAMETER),
    ("missing comment", {"operationName": "AddComment"}, StatusCode.MISSING_PARAMETER),
    ("comment not string", {"operationName": "AddComment", "comment": 5}, 10),
    ("saveLAR not bool", {"operationName": "Accept", "saveLAR": "yes"}, 10),
    ("saveLAR int", {"operationName": "Accept", "saveLAR": 1}, 10),
    ("size bool", {"operationName": "AddAttachment", "documentId": "d", "size": True}, 10),
    ("size float", {"operationName": "AddAttachment", "documentId": "d", "size": 1.5}, 10),
    ("userData list", {"operationName": "AttachUserData", "userData": [1]}, 10),
    ("missing userData", {"operationName": "UpdateUserData"}, StatusCode.MISSING_PARAMETER),
    ("to not list", {"operationName": "Save", "email": {"to": "t@x"}}, 10),
    ("missing email", {"operationName": "Save"}, StatusCode.MISSING_PARAMETER),
    ("send missing queue", {"operationName": "Send"}, StatusCode.MISSING_PARAMETER),
    ("both targets", {"operationName": "Transfer", "userUri": USER_B, "queueName": "q"}, 10),
    ("two users", {"operationName": "Transfer", "userUri": USER_B, "targetUri": USER_B + "x"}, 10),
    ("same user twice", {"operationName": "Transfer", "userUri": USER_B, "targetUri": USER_B}, 10),
    ("target and queue", {"operationName": "Transfer", "targetUri": USER_B, "queueName": "q"}, 10),
    ("no target", {"operationName": "Transfer"}, StatusCode.MISSING_PARAMETER),
    ("user uri no scheme", {"operationName": "Transfer", "userUri": "b"}, 10),
    ("user uri not users", {"operationName": "Transfer", "userUri": "http://h/api/v2/q/b"}, 10),
    (
        "target uri a queue",
        {"operationName": "Transfer", "targetUri": "http://h/api/v2/queues/b"},
        10,
    ),
    ("user uri no host", {"operationName": "Transfer", "userUri": "http:///api/v2/users/b"}, 10),
    ("both queues", {"operationName": "Reply", "queueUri": "http://h/q/x", "queueName": "x"}, 10),
    ("bad queue uri", {"operationName": "Create", "queueUri": "ftp://h/q/x"}, 10),
    ("delete both", {"operationName": "DeleteUserData", "keys": ["a"], "userData": {"a": 1}}, 10),
    ("delete keys not strings", {"operationName": "DeleteUserData", "keys": [1]}, 10),
    ("delete nothing", {"operationName": "DeleteUserData"}, StatusCode.MISSING_PARAMETER),
    ("deep nesting", "[" * 100_000 + "]" * 100_000, StatusCode.INVALID_VALUE),
]


@pytest.mark.parametrize(("name", "body", "code"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_bodies_are_refusals(name: str, body: object, code: int) -> None:
    c = center()
    processing(c)
    composing(c, "E2")
    email_id = (
        "E2" if isinstance(body, dict) and body.get("operationName") in ("Save", "Send") else "E1"
    )
    before = dict(c.emails)
    decision = c.request("a", body, email_id=email_id, new_email_id="N1")
    assert isinstance(decision, Refused), decision
    assert decision.code == code, decision
    assert dict(c.emails) == before


def test_deeply_nested_user_data_is_a_refusal() -> None:
    nested: object = "leaf"
    for _ in range(5000):
        nested = {"k": nested}
    c = center()
    processing(c)
    refused = assert_refused(
        c,
        {"operationName": "AttachUserData", "userData": {"deep": nested}},
        StatusCode.INVALID_VALUE,
        email_id="E1",
    )
    assert refused.message.startswith("AttachUserData refused for email E1: userData.deep.")
    assert len(refused.message) < 200


def test_refusal_messages_name_the_operation_and_parameter() -> None:
    refused = parse_request({"operationName": "AddComment", "comment": 5}, actor="a", email_id="E1")
    assert isinstance(refused, Refused)
    assert refused.message.startswith("AddComment refused for email E1: comment:")
    refused = parse_request({"operationName": "Fly"}, actor="a", email_id="E1")
    assert isinstance(refused, Refused)
    assert refused.message == "Fly refused for email E1: unknown operationName 'Fly'"
    refused = parse_request("nope", actor="a", email_id="E1")
    assert isinstance(refused, Refused)
    assert refused.message.startswith("request refused for email E1: request body is not JSON")


def test_ids_the_caller_must_supply() -> None:
    missing_new = parse_request({"operationName": "Create"}, actor="a")
    assert isinstance(missing_new, Refused)
    assert missing_new.code is StatusCode.MISSING_PARAMETER
    missing_reply_id = parse_request({"operationName": "Reply"}, actor="a", email_id="E1")
    assert isinstance(missing_reply_id, Refused)
    assert missing_reply_id.code is StatusCode.MISSING_PARAMETER
    missing_email = parse_request({"operationName": "Accept"}, actor="a")
    assert isinstance(missing_email, Refused)
    assert missing_email.code is StatusCode.MISSING_PARAMETER


def test_handle_request_checks_existence_before_shape() -> None:
    c = center()
    processing(c)
    refused = assert_refused(c, {"operationName": "Fly"}, StatusCode.NOT_FOUND, email_id="NOPE")
    assert refused.message == "Fly refused: email NOPE not found"
    refused = assert_refused(
        c, "not json", StatusCode.ALREADY_EXISTS, email_id="E1", new_email_id="X"
    )
    assert refused.message == "request refused: email X already exists"
    assert_refused(c, {"operationName": "Create"}, StatusCode.ALREADY_EXISTS, new_email_id="E1")


def test_handle_request_runs_the_whole_path() -> None:
    c = center()
    invited(c)
    decision = handle_request(
        c.emails, b'{"operationName": "Accept"}', actor="a", email_id="E1", reference_id=1
    )
    assert accepted(decision).emails[0].phase is Phase.PROCESSING
    assert c.emails["E1"].phase is Phase.INVITED  # handle_request itself stores nothing


@pytest.mark.parametrize("kind", [str, bytes])
def test_a_body_with_a_byte_order_mark_is_not_json(kind: type) -> None:
    text = '\ufeff{"operationName": "Accept"}'
    body = text if kind is str else text.encode()
    refused = parse_request(body, actor="a", email_id="E1")
    assert isinstance(refused, Refused)
    assert refused.code is StatusCode.INVALID_VALUE
    assert refused.message == (
        "request refused for email E1: request body is not JSON: "
        "Unexpected UTF-8 BOM (decode using utf-8-sig): line 1 column 1 (char 0)"
    )


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ('{"operationName": "Accept"} x', "Extra data: line 1 column 29 (char 28)"),
        ('{"operationName": "Accept"}{}', "Extra data: line 1 column 28 (char 27)"),
        ('{"operationName": "Accept", "x": NaN}', "NaN is not JSON"),
        ('{"operationName": "Accept", "x": -Infinity}', "-Infinity is not JSON"),
        ('{"operationName": "Accept"', "Expecting ',' delimiter: line 1 column 27 (char 26)"),
        ("{", "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
    ],
)
def test_an_object_with_something_wrong_in_or_after_it_is_not_json(text: str, error: str) -> None:
    for body in (text, text.encode()):
        refused = parse_request(body, actor="a", email_id="E1")
        assert refused == Refused(
            StatusCode.INVALID_VALUE,
            f"request refused for email E1: request body is not JSON: {error}",
        )


@pytest.mark.parametrize(
    "text",
    [
        ' {"operationName": "Accept"}',
        '{"operationName": "Accept"}\n',
        '\t{"operationName": "Accept"}  ',
        '{"operationName": "Accept", "operationName": "Reject"}',
    ],
)
def test_whitespace_around_an_object_is_json_and_a_repeated_key_takes_its_last_value(
    text: str,
) -> None:
    expected = Reject if "Reject" in text else Accept
    assert parse_request(text, actor="a", email_id="E1") == expected(actor="a", email_id="E1")


def test_a_deeply_nested_object_is_refused_not_raised() -> None:
    text = '{"operationName": "Accept", "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    refused = parse_request(text, actor="a", email_id="E1")
    assert isinstance(refused, Refused)
    assert refused.code is StatusCode.INVALID_VALUE
    assert refused.message.startswith("request refused for email E1: request body is not JSON: ")


def _stdlib(text: str) -> object:
    """What the body parsed to before the module kept one decoder: json.loads's value,
    or its error's text."""

    def constant(name: str) -> object:
        raise ValueError(f"{name} is not JSON")

    try:
        return json.loads(text, parse_constant=constant)
    except (ValueError, RecursionError) as error:
        return f"request body is not JSON: {str(error)[:200]}"


_JSONISH = st.lists(
    st.sampled_from(
        [
            "{",
            "}",
            "[",
            "]",
            '"a"',
            '"operationName"',
            ":",
            ",",
            " ",
            "\n",
            "1",
            "NaN",
            "x",
            '"\\ud800"',
            "\ufeff",
            "null",
            "1e400",
        ]
    ),
    max_size=12,
).map("".join)


@settings(max_examples=500, deadline=None)
@given(st.one_of(_JSONISH, st.text(max_size=12)))
def test_bodies_parse_as_json_loads_parses_them(text: str) -> None:
    from email_fsm.requests import _BadRequest, _load

    try:
        loaded: object = _load(text, 1 << 20)
    except _BadRequest as bad:
        loaded = bad.refused.message
    assert loaded == _stdlib(text)
