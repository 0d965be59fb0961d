"""The GWS request boundary as GWS clients use it: transfer targets, unknown parameters,
the body size limit, the userData total, and address lists as Genesys' clients send them.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from builders import (
    accepted,
    assert_refused,
    center,
    composing,
    composing_with_recipient,
    processing,
)
from hypothesis import given, settings
from hypothesis import strategies as st

import email_fsm.requests as requests_module
from email_fsm import (
    DEFAULT_CONFIG,
    Config,
    ContactCenter,
    Decision,
    Limits,
    Operation,
    Phase,
    Refused,
    StatusCode,
    Transfer,
    handle_request,
    parse_request,
)
from email_fsm.requests import REQUEST_MODELS, ParsedRequest, parse_request_ignoring
from email_fsm.testing import Reached, reachable, request_bodies

STRICT = Config(strict_parameters=True)
HOST = "http://gws.example.com/api/v2"


# Transfer targets ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        {"userUri": f"{HOST}/users/b"},
        {"targetUri": f"{HOST}/users/b"},
        {"targetUri": f"{HOST}/contacts/b"},
        {"userUri": f"{HOST}/contacts/b"},
        {"targetUri": "https://gws.example.com/api/v2/contacts/b/"},
    ],
    ids=["userUri users", "targetUri users", "targetUri contacts", "userUri contacts", "https/"],
)
def test_an_agent_target_by_either_name_and_collection(target: dict[str, str]) -> None:
    c = center()
    processing(c)
    decision = accepted(c.request("a", {"operationName": "Transfer", **target}, email_id="E1"))
    assert c.emails["E1"].phase is Phase.INVITED
    assert c.emails["E1"].invitee == "b"
    assert decision.ignored == ()


def test_a_queue_target() -> None:
    c = center()
    processing(c)
    accepted(c.request("a", {"operationName": "Transfer", "queueName": "vip"}, email_id="E1"))
    assert c.emails["E1"].phase is Phase.QUEUED
    assert c.emails["E1"].queue == "vip"


def test_no_target_is_missing() -> None:
    c = center()
    processing(c)
    refused = assert_refused(
        c, {"operationName": "Transfer"}, StatusCode.MISSING_PARAMETER, email_id="E1"
    )
    assert refused.message == (
        "Transfer refused for email E1: userUri, targetUri or queueName is required"
    )


@pytest.mark.parametrize(
    "targets",
    [
        {"userUri": f"{HOST}/users/b", "targetUri": f"{HOST}/users/b"},
        {"userUri": f"{HOST}/users/b", "targetUri": f"{HOST}/contacts/c"},
        {"userUri": f"{HOST}/users/b", "queueName": "vip"},
        {"targetUri": f"{HOST}/contacts/b", "queueName": "vip"},
        {"userUri": f"{HOST}/users/b", "targetUri": f"{HOST}/users/b", "queueName": "vip"},
    ],
    ids=["same user twice", "two users", "userUri and queue", "targetUri and queue", "all three"],
)
def test_two_or_three_targets_are_refused(targets: dict[str, str]) -> None:
    c = center()
    processing(c)
    refused = assert_refused(
        c, {"operationName": "Transfer", **targets}, StatusCode.INVALID_VALUE, email_id="E1"
    )
    assert refused.message == (
        "Transfer refused for email E1: give one of userUri, targetUri or queueName"
    )


@pytest.mark.parametrize(
    "uri",
    [
        f"{HOST}/queues/b",
        f"{HOST}/agents/b",
        f"{HOST}/me/emails/b",
        f"{HOST}/users",
    ],
)
@pytest.mark.parametrize("name", ["userUri", "targetUri"])
def test_an_agent_uri_in_another_collection_is_refused(name: str, uri: str) -> None:
    c = center()
    processing(c)
    refused = assert_refused(
        c, {"operationName": "Transfer", name: uri}, StatusCode.INVALID_VALUE, email_id="E1"
    )
    assert refused.message == (
        f"Transfer refused for email E1: {name} '{uri}' is not a users/ or contacts/ URI"
    )


def test_a_malformed_agent_uri_is_refused() -> None:
    c = center()
    processing(c)
    refused = assert_refused(
        c,
        {"operationName": "Transfer", "targetUri": "contacts/b"},
        StatusCode.INVALID_VALUE,
        email_id="E1",
    )
    assert (
        refused.message
        == "Transfer refused for email E1: targetUri 'contacts/b' is not a valid URI"
    )


# Unknown parameters ----------------------------------------------------------------------


def test_an_unknown_parameter_is_ignored_and_named() -> None:
    c = center()
    processing(c)
    # The misspelling completes the email for good: worth a line in the server's log.
    decision = accepted(
        c.request("a", {"operationName": "Complete", "queuename": "vip"}, email_id="E1")
    )
    assert decision.ignored == ("queuename",)
    assert c.emails["E1"].phase is Phase.COMPLETED


def test_ignored_names_come_in_body_order_with_the_email_objects_prefixed() -> None:
    c = center()
    composing(c, "D1")
    body = {
        "zz": 1,
        "operationName": "Save",
        "email": {"subject": "s", "Cc": ["x@y"], "to": ["t@x"], "attachments": []},
        "b": None,
    }
    decision = accepted(c.request("a", body, email_id="D1"))
    assert decision.ignored == ("zz", "email.Cc", "email.attachments", "b")
    assert c.emails["D1"].content.subject == "s"
    assert c.emails["D1"].content.to == ("t@x",)
    assert c.emails["D1"].content.cc == ()


def test_known_parameters_only_ignore_nothing() -> None:
    c = center()
    composing(c, "D1")
    body = {"operationName": "Send", "queueName": "out", "saveLAR": True, "email": {"to": ["t@x"]}}
    assert accepted(c.request("a", body, email_id="D1")).ignored == ()


def test_parse_request_ignoring_returns_the_command_and_the_ignored_names() -> None:
    body = {"operationName": "Transfer", "queueName": "vip", "reason": "busy", "Priority": 1}
    parsed = parse_request_ignoring(body, actor="a", email_id="E1")
    command = Transfer(actor="a", email_id="E1", queue="vip")
    assert parsed == ParsedRequest(command, ("reason", "Priority"))
    assert isinstance(parsed, ParsedRequest)
    assert parsed.command == command
    assert parsed.ignored == ("reason", "Priority")
    # parse_request keeps its signature and its return type: the command alone.
    assert parse_request(body, actor="a", email_id="E1") == command
    assert parse_request_ignoring(
        {"operationName": "Transfer", "queueName": "vip"}, actor="a", email_id="E1"
    ) == ParsedRequest(command, ())


def test_a_refused_decision_carries_no_ignored_names() -> None:
    c = center()
    processing(c)
    refused = assert_refused(
        c, {"operationName": "Accept", "extra": 1}, StatusCode.INVALID_STATE, email_id="E1"
    )
    assert "extra" not in refused.message


STRICT_REFUSALS = [
    (
        {"operationName": "Complete", "queuename": "vip"},
        "Complete refused for email E1: unknown parameter 'queuename'; did you mean 'queueName'?",
    ),
    (
        {"operationName": "Accept", "savelar": True},
        "Accept refused for email E1: unknown parameter 'savelar'; did you mean 'saveLAR'?",
    ),
    (
        {"operationName": "Transfer", "queueNmae": "vip"},
        "Transfer refused for email E1: unknown parameter 'queueNmae'; did you mean 'queueName'?",
    ),
    (
        {"operationName": "Transfer", "queueName": "vip", "xyz": 1},
        "Transfer refused for email E1: unknown parameter 'xyz'",
    ),
    (
        # The first unknown one is named; a missing required parameter comes second.
        {"operationName": "AddComment", "Comment": "x", "comentary": "y"},
        "AddComment refused for email E1: unknown parameter 'Comment'; did you mean 'comment'?",
    ),
    (
        {"operationName": "SetDisposition", "disposition": "Sold", "dispositionkey": "K"},
        "SetDisposition refused for email E1: unknown parameter 'dispositionkey'; "
        "did you mean 'dispositionKey'?",
    ),
    (
        # operationName is known: in another case it is merely close to it.
        {"operationName": "SetInFocus", "operationname": "SetInFocus"},
        "SetInFocus refused for email E1: unknown parameter 'operationname'; "
        "did you mean 'operationName'?",
    ),
]


@pytest.mark.parametrize(("body", "message"), STRICT_REFUSALS, ids=[m for _, m in STRICT_REFUSALS])
def test_strict_parameters_refuse_an_unknown_one(body: dict[str, Any], message: str) -> None:
    c = center(config=STRICT)
    processing(c)
    refused = assert_refused(c, body, StatusCode.INVALID_VALUE, email_id="E1")
    assert refused.message == message
    assert c.emails["E1"].phase is Phase.PROCESSING
    # The same through parse_request, as text and as bytes.
    for raw in (body, json.dumps(body), json.dumps(body).encode()):
        assert parse_request(raw, actor="a", email_id="E1", config=STRICT) == refused


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ({"Subject": "s"}, "unknown parameter 'email.Subject'; did you mean 'email.subject'?"),
        (
            {"to": ["t@x"], "bodyAsText": "x"},
            "unknown parameter 'email.bodyAsText'; did you mean 'email.bodyAsPlainText'?",
        ),
        ({"to": ["t@x"], "xyz": 1}, "unknown parameter 'email.xyz'"),
        (
            {"to": ["t@x"], "from_": "f@x"},
            "unknown parameter 'email.from_'; did you mean 'email.from'?",
        ),
    ],
)
@pytest.mark.parametrize("operation", ["Save", "Send"])
def test_strict_parameters_refuse_an_unknown_one_in_the_email_object(
    operation: str, email: dict[str, Any], message: str
) -> None:
    c = center(config=STRICT)
    composing(c, "D1")
    body = {"operationName": operation, "queueName": "out", "email": email}
    if operation == "Save":
        del body["queueName"]
    refused = assert_refused(c, body, StatusCode.INVALID_VALUE, email_id="D1")
    assert refused.message == f"{operation} refused for email D1: {message}"
    assert c.emails["D1"].phase is Phase.COMPOSING
    assert c.emails["D1"].content.to == ()


def test_strict_parameters_accept_known_ones() -> None:
    c = center(config=STRICT)
    composing(c, "D1")
    body = {"operationName": "Send", "queueName": "out", "saveLAR": True, "email": {"to": ["t@x"]}}
    assert accepted(c.request("a", body, email_id="D1")).ignored == ()
    assert c.emails["D1"].phase is Phase.SENT


def test_strict_parameters_leave_an_unknown_operation_to_its_own_refusal() -> None:
    refused = parse_request({"operationName": "Fly", "wings": 2}, actor="a", config=STRICT)
    assert refused == Refused(StatusCode.INVALID_VALUE, "Fly refused: unknown operationName 'Fly'")


def _known(operation: str) -> set[str]:
    model = REQUEST_MODELS[Operation(operation)]
    return {field.alias or name for name, field in model.model_fields.items()}


unknown_names = st.text(min_size=1, max_size=12)


@settings(max_examples=60)
@given(reachable(), st.data())
def test_unknown_parameters_change_nothing_but_the_ignored_names(
    reached: Reached, data: st.DataObject
) -> None:
    email = reached.email
    if email.holder is None:
        return
    body = data.draw(request_bodies(email, email.holder))
    known = _known(str(body["operationName"]))
    extras = data.draw(
        st.dictionaries(unknown_names.filter(lambda n: n not in known), st.integers(), min_size=1)
    )

    def handle(body: dict[str, Any], config: Config = DEFAULT_CONFIG) -> Decision:
        return handle_request(
            reached.emails,
            body,
            actor=email.holder or "",
            email_id=email.id,
            new_email_id="NEW",
            config=config,
        )

    plain = accepted(handle(body))
    assert plain.ignored == ()
    noisy = accepted(handle({**extras, **body}))
    assert noisy.ignored == tuple(extras)
    assert (noisy.events, noisy.emails, noisy.notifications) == (
        plain.events,
        plain.emails,
        plain.notifications,
    )
    strict = handle({**extras, **body}, STRICT)
    assert isinstance(strict, Refused)
    assert strict.code is StatusCode.INVALID_VALUE
    assert f"unknown parameter {next(iter(extras))!r}" in strict.message
    strictly = accepted(handle(body, STRICT))
    assert (strictly.events, strictly.emails, strictly.ignored) == (plain.events, plain.emails, ())


# The body size limit ---------------------------------------------------------------------

COMMENT = '{"operationName":"AddComment","comment":"'  # 41 characters, all ASCII


def _comment_body(comment: str) -> str:
    return f'{COMMENT}{comment}"}}'


def _limited(max_body_bytes: int) -> ContactCenter:
    c = center(config=Config(limits=Limits(max_body_bytes=max_body_bytes)))
    processing(c)
    return c


@pytest.mark.parametrize("kind", [str, bytes, bytearray, memoryview])
def test_a_body_at_the_limit_is_parsed_one_byte_over_is_refused(kind: type) -> None:
    text = _comment_body("x" * 59)  # 41 + 59 + 2 = 102 bytes
    raw: Any = text if kind is str else kind(text.encode())
    accepted(_limited(102).request("a", raw, email_id="E1"))
    c = _limited(101)
    refused = assert_refused(c, raw, StatusCode.INVALID_VALUE, email_id="E1")
    assert refused.message == "request refused for email E1: request body is 102 bytes (limit 101)"
    assert c.emails["E1"].comment is None


def test_a_text_body_is_measured_in_utf8_bytes() -> None:
    text = _comment_body("é" * 40)  # 83 characters; é is 2 bytes: 123 bytes
    assert len(text) == 83
    accepted(_limited(123).request("a", text, email_id="E1"))
    c = _limited(122)  # more than its characters, fewer than its bytes
    refused = assert_refused(c, text, StatusCode.INVALID_VALUE, email_id="E1")
    assert refused.message == "request refused for email E1: request body is 123 bytes (limit 122)"
    # Far over in characters too: measured all the same.
    refused = assert_refused(_limited(50), text, StatusCode.INVALID_VALUE, email_id="E1")
    assert refused.message == "request refused for email E1: request body is 123 bytes (limit 50)"


def test_a_dict_body_is_not_measured() -> None:
    c = _limited(10)
    accepted(c.request("a", {"operationName": "AddComment", "comment": "x" * 100}, email_id="E1"))
    assert c.emails["E1"].comment == "x" * 100


class _Counting:
    """Stands in for a function and counts its calls."""

    def __init__(self, wrapped: Any) -> None:
        self.wrapped = wrapped
        self.calls = 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return self.wrapped(*args, **kwargs)


class _CountingAdapter:
    def __init__(self, adapter: Any) -> None:
        self.validate_python = _Counting(adapter.validate_python)


class _CountingDecoder:
    """Stands in for the module's decoder, counting its decodes in ``parses``."""

    def __init__(self, decoder: json.JSONDecoder, parses: _Counting) -> None:
        self.decoder = decoder
        self.parses = parses

    def decode(self, text: str) -> Any:
        self.parses.calls += 1
        return self.decoder.decode(text)


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> tuple[_Counting, _Counting]:
    """Count the JSON parses and the model validations of the requests module."""
    # The module parses with its one decoder: its scanner for a bare object, else its
    # decode; either counts as a parse.
    loads = _Counting(requests_module._SCAN)
    monkeypatch.setattr(requests_module, "_SCAN", loads)
    decoder = _CountingDecoder(requests_module._DECODER, loads)
    monkeypatch.setattr(requests_module, "_DECODER", decoder)
    adapter = _CountingAdapter(requests_module._ADAPTER)
    monkeypatch.setattr(requests_module, "_ADAPTER", adapter)
    return loads, adapter.validate_python


OVER = 1024 * 1024 * 4  # four times the default limit


@pytest.mark.parametrize(
    ("raw", "size"),
    [
        (_comment_body("x" * OVER), 41 + OVER + 2),
        (_comment_body("x" * OVER).encode(), 41 + OVER + 2),
        (_comment_body("é" * OVER), 41 + 2 * OVER + 2),
        ("[" * OVER, OVER),
    ],
    ids=["ascii text", "bytes", "non-ascii text", "not even JSON"],
)
def test_a_body_far_over_the_limit_is_never_parsed(
    raw: str | bytes, size: int, counted: tuple[_Counting, _Counting]
) -> None:
    loads, validate = counted
    c = center()
    processing(c)
    refused = assert_refused(c, raw, StatusCode.INVALID_VALUE, email_id="E1")
    assert refused.message == (
        f"request refused for email E1: request body is {size} bytes (limit 1048576)"
    )
    # ...and not when the email is missing either: the message's operation name is not
    # worth parsing it.
    refused = assert_refused(c, raw, StatusCode.NOT_FOUND, email_id="NOPE")
    assert refused.message == "request refused: email NOPE not found"
    assert (loads.calls, validate.calls) == (0, 0)
    # The counters count: a small body is parsed once and validated once.
    accepted(c.request("a", _comment_body("hi"), email_id="E1"))
    assert (loads.calls, validate.calls) == (1, 1)


# The email's userData in all -------------------------------------------------------------

SMALL = Config(limits=Limits(max_user_data_bytes=200))
A150 = {"a": "x" * 150}  # {"a":"xxx…"}: 6 + 150 + 2 = 158 bytes as compact JSON


def _with_user_data() -> ContactCenter:
    c = center(config=SMALL)
    processing(c)
    accepted(c.request("a", {"operationName": "AttachUserData", "userData": A150}, email_id="E1"))
    assert c.emails["E1"].user_data == A150
    return c


@pytest.mark.parametrize("operation", ["AttachUserData", "UpdateUserData"])
def test_user_data_pushed_over_the_total_is_refused(operation: str) -> None:
    c = _with_user_data()
    # {"a":"x…150","b":"y…40"}: 1 + (5 + 150 + 1) + 1 + (5 + 40 + 1) + 1 = 205 bytes
    body = {"operationName": operation, "userData": {"b": "y" * 40}}
    refused = assert_refused(c, body, StatusCode.INVALID_VALUE, email_id="E1")
    assert refused.message == (
        f"{operation} refused for email E1 (Processing): "
        "userData would be 205 bytes as JSON (limit 200)"
    )
    assert c.emails["E1"].user_data == A150
    # 33 bytes fit: 1 + 156 + 1 + (5 + 33 + 1) + 1 = 198
    accepted(c.request("a", {**body, "userData": {"b": "y" * 33}}, email_id="E1"))


def test_a_disposition_pushing_user_data_over_the_total_is_refused() -> None:
    c = _with_user_data()
    # {"a":"x…150","DispositionCode":"S…30"}: 1 + 156 + 1 + (19 + 30 + 1) + 1 = 209 bytes
    body = {"operationName": "SetDisposition", "disposition": "S" * 30}
    refused = assert_refused(c, body, StatusCode.INVALID_VALUE, email_id="E1")
    assert refused.message == (
        "SetDisposition refused for email E1 (Processing): "
        "userData would be 209 bytes as JSON (limit 200)"
    )
    assert c.emails["E1"].user_data == A150
    # "Sold": 1 + 156 + 1 + (19 + 4 + 1) + 1 = 183
    accepted(c.request("a", {**body, "disposition": "Sold"}, email_id="E1"))
    assert c.emails["E1"].user_data == {**A150, "DispositionCode": "Sold"}


def test_a_request_user_data_over_the_total_on_its_own_is_refused() -> None:
    c = center(config=SMALL)
    processing(c)
    # {"a":"x…195"}: 6 + 195 + 2 = 203 bytes
    body = {"operationName": "AttachUserData", "userData": {"a": "x" * 195}}
    refused = assert_refused(c, body, StatusCode.INVALID_VALUE, email_id="E1")
    assert refused.message == (
        "AttachUserData refused for email E1 (Processing): "
        "userData is 203 bytes as JSON (limit 200)"
    )
    assert c.emails["E1"].user_data == {}


# Address lists as Genesys' clients send them ---------------------------------------------

IOS_EMAIL = {"to": ["a@x", " b@y"], "cc": [""], "subject": "Hello"}


def test_save_normalizes_address_lists() -> None:
    c = center()
    composing(c, "D1")
    accepted(c.request("a", {"operationName": "Save", "email": IOS_EMAIL}, email_id="D1"))
    content = c.emails["D1"].content
    assert content.to == ("a@x", "b@y")
    assert content.cc == ()
    assert content.subject == "Hello"


def test_send_normalizes_address_lists() -> None:
    c = center()
    composing(c, "D1")
    body = {"operationName": "Send", "queueName": "out", "email": IOS_EMAIL}
    accepted(c.request("a", body, email_id="D1"))
    email = c.emails["D1"]
    assert email.phase is Phase.SENT
    assert email.content.to == ("a@x", "b@y")
    assert email.content.cc == ()


@pytest.mark.parametrize(
    "email",
    [
        {"to": [""], "cc": [" "]},
        {"to": [], "cc": [""], "bcc": ["  ", ""]},
        {"subject": "no addresses"},
    ],
)
def test_send_without_an_address_after_saving_is_missing(email: dict[str, Any]) -> None:
    c = center()
    composing(c, "D1")
    body = {"operationName": "Send", "queueName": "out", "email": email}
    refused = assert_refused(c, body, StatusCode.MISSING_PARAMETER, email_id="D1")
    assert refused.message == (
        "Send refused for email D1 (Composing): the email has no recipient (to, cc or bcc)"
    )
    assert c.emails["D1"].phase is Phase.COMPOSING


def test_send_clearing_the_saved_recipient_is_missing() -> None:
    c = center()
    composing_with_recipient(c, "D1")  # to: customer@example.com
    body = {"operationName": "Send", "queueName": "out", "email": {"to": [" "]}}
    refused = assert_refused(c, body, StatusCode.MISSING_PARAMETER, email_id="D1")
    assert refused.message.endswith("the email has no recipient (to, cc or bcc)")
    assert c.emails["D1"].content.to == ("customer@example.com",)


def test_send_with_only_a_bcc_address_is_accepted() -> None:
    c = center()
    composing(c, "D1")
    body = {"operationName": "Send", "queueName": "out", "email": {"to": [""], "bcc": [" c@z "]}}
    accepted(c.request("a", body, email_id="D1"))
    email = c.emails["D1"]
    assert email.phase is Phase.SENT
    assert (email.content.to, email.content.cc, email.content.bcc) == ((), (), ("c@z",))


def test_an_agent_uri_refused_once_is_refused_again_and_a_good_one_parsed_again() -> None:
    body = {"operationName": "Transfer", "userUri": "http://h/api/v2/queues/b"}
    for _ in range(2):
        refused = parse_request(body, actor="a", email_id="E1")
        assert refused == Refused(
            StatusCode.INVALID_VALUE,
            "Transfer refused for email E1: userUri 'http://h/api/v2/queues/b' "
            "is not a users/ or contacts/ URI",
        )
    good = {"operationName": "Transfer", "targetUri": "http://h/api/v2/users/b"}
    for _ in range(2):
        assert parse_request(good, actor="a", email_id="E1") == Transfer(
            actor="a", email_id="E1", agent="b"
        )
