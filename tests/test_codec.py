"""The JSON forms of events and decisions: a stored history replays to the same emails.

The histories come from the toolkit's strategies (:func:`~email_fsm.testing.reachable`:
valid histories of system commands and GWS request bodies), run through the decider
again here to collect their decisions and events.
"""

from __future__ import annotations

import dataclasses
import json
import math
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, get_args, get_type_hints

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import JsonValue

from email_fsm import (
    Accepted,
    Arrive,
    Attachment,
    Content,
    Decision,
    Email,
    Event,
    Offer,
    Operation,
    Phase,
    Refused,
    StatusCode,
    decide,
    email_from_json,
    email_to_json,
    handle_request,
    replay,
)
from email_fsm.codec import (
    SCHEMA_VERSION,
    CodecError,
    _mirrored,
    decision_from_json,
    decision_to_json,
    event_from_json,
    event_to_json,
    events_from_jsonl,
    events_to_jsonl,
)
from email_fsm.events import (
    AttachmentAdded,
    AttachmentRemoved,
    CommentAdded,
    EmailArrived,
    EmailCanceled,
    EmailCompleted,
    EmailCreated,
    EmailOffered,
    EmailSaved,
    EmailSent,
    FocusSet,
    InvitationAccepted,
    InvitationRejected,
    InvitationRevoked,
    ReplyCreated,
    TransferredToAgent,
    TransferredToQueue,
    UserDataChanged,
)
from email_fsm.scenario import AgentStep
from email_fsm.testing import Reached, reachable, user_data

REPO = Path(__file__).resolve().parents[1]


def decisions_of(reached: Reached) -> list[Accepted]:
    """The decisions of ``reached``'s history, decided again step by step."""
    emails: dict[str, Email] = {}
    decisions: list[Accepted] = []
    for step in reached.steps:
        if isinstance(step, AgentStep):
            decision = handle_request(
                emails,
                step.request,
                actor=step.agent,
                email_id=step.email_id,
                new_email_id=step.new_email_id,
                reference_id=step.reference_id,
            )
        else:
            decision = decide(emails, step)
        assert isinstance(decision, Accepted), decision
        emails.update((email.id, email) for email in decision.emails)
        decisions.append(decision)
    assert emails == reached.emails
    return decisions


def events_of(reached: Reached) -> list[Event]:
    return [event for decision in decisions_of(reached) for event in decision.events]


# One event of every class, with values that exercise the JSON form: text beyond ASCII
# and line separators, content with every field, userData of every JSON type, None.
CONTENT = Content(
    from_="c@x",
    to=("a@x", "b@y"),
    cc=("zoë@x",),
    bcc=(),
    subject="Re: naïve\u2028résumé",
    body="<p>Hi</p>",
    body_as_plain_text="Hi\nthere\x85",
    mime="text/html",
    contact_id="C1",
    parent_id="E0",
    received_date="2026-01-05 10:00:00.000+0000",
)
USER_DATA: dict[str, Any] = {
    "VIP": True,
    "Priority": 3,
    "Score": 0.25,
    "Nothing": None,
    "Tags": ["a", 1, [False]],
    "Nested": {"k": {"deep": "\u2029"}},
}
EXAMPLES: dict[type, Event] = {
    EmailArrived: EmailArrived(
        email_id="E1", phase=Phase.QUEUED, queue="q", content=CONTENT, user_data=USER_DATA
    ),
    EmailCreated: EmailCreated(
        email_id="E2",
        phase=Phase.COMPOSING,
        owner="a",
        queue="q",
        content=Content(),
        user_data={},
    ),
    ReplyCreated: ReplyCreated(
        email_id="E3",
        phase=Phase.COMPOSING,
        original_id="E1",
        operation=Operation.REPLY_ALL,
        owner="a",
        queue="q",
        content=CONTENT,
        user_data=USER_DATA,
    ),
    EmailOffered: EmailOffered(email_id="E1", phase=Phase.INVITED, agent="a"),
    InvitationRevoked: InvitationRevoked(email_id="E1", phase=Phase.QUEUED, agent="a", queue="q"),
    InvitationAccepted: InvitationAccepted(email_id="E1", phase=Phase.PROCESSING, agent="a"),
    InvitationRejected: InvitationRejected(email_id="E1", phase=Phase.QUEUED, agent="a", queue="q"),
    TransferredToAgent: TransferredToAgent(email_id="E1", phase=Phase.INVITED, by="a", agent="b"),
    TransferredToQueue: TransferredToQueue(email_id="E1", phase=Phase.QUEUED, by="a", queue="q2"),
    EmailCompleted: EmailCompleted(email_id="E1", phase=Phase.COMPLETED, by="a", queue=None),
    EmailSaved: EmailSaved(email_id="E2", by="a", content=CONTENT),
    EmailSent: EmailSent(email_id="E2", phase=Phase.SENT, by="a", queue="out", content=CONTENT),
    EmailCanceled: EmailCanceled(email_id="E2", phase=Phase.CANCELED, by="a"),
    AttachmentAdded: AttachmentAdded(
        email_id="E2",
        by="a",
        attachment=Attachment(id="D1", name="a.pdf", size=2**40, mime="application/pdf"),
    ),
    AttachmentRemoved: AttachmentRemoved(email_id="E2", by="a", document_id="D1"),
    UserDataChanged: UserDataChanged(
        email_id="E1", by="a", operation=Operation.UPDATE_USER_DATA, user_data=USER_DATA
    ),
    CommentAdded: CommentAdded(email_id="E1", by="a", comment="see\u2028below"),
    FocusSet: FocusSet(email_id="E1", by="a"),
}


def test_the_examples_cover_every_event_class() -> None:
    assert set(EXAMPLES) == set(get_args(Event))
    assert all(type(event) is cls for cls, event in EXAMPLES.items())


@pytest.mark.parametrize("event", list(EXAMPLES.values()), ids=lambda e: type(e).__name__)
def test_every_event_class_round_trips(event: Event) -> None:
    text = event_to_json(event)
    decoded = event_from_json(text)
    assert type(decoded) is type(event)
    assert decoded == event
    assert event_from_json(text.encode()) == event  # bytes too
    record = json.loads(text)
    assert list(record)[:2] == ["type", "schema"]
    assert record["type"] == type(event).__name__
    assert record["schema"] == SCHEMA_VERSION == 1
    assert list(record)[2:] == [f.name for f in dataclasses.fields(event)]


def test_values_are_written_as_plain_json() -> None:
    record = json.loads(event_to_json(EXAMPLES[ReplyCreated]))
    assert record["phase"] == "Composing"
    assert record["operation"] == "ReplyAll"
    assert record["content"]["from_"] == "c@x"  # the Python name
    assert record["content"]["to"] == ["a@x", "b@y"]
    assert record["user_data"] == USER_DATA  # booleans, numbers, null, arrays, objects
    assert json.loads(event_to_json(EXAMPLES[EmailCompleted]))["queue"] is None
    size = json.loads(event_to_json(EXAMPLES[AttachmentAdded]))["attachment"]["size"]
    assert size == 2**40
    assert type(size) is int


def test_a_record_is_one_line_whatever_its_text() -> None:
    for event in EXAMPLES.values():
        text = event_to_json(event)
        assert len(text.splitlines()) == 1
        assert not {"\n", "\r", "\x85", "\u2028", "\u2029"} & set(text)
    assert "\\u2028" in event_to_json(EXAMPLES[CommentAdded])
    log = events_to_jsonl(EXAMPLES.values())
    assert len(log.splitlines()) == len(EXAMPLES)
    assert log.endswith("\n")
    assert events_from_jsonl(log) == list(EXAMPLES.values())


def any_event(cls: type[Event]) -> st.SearchStrategy[Event]:
    """Any event of class ``cls``: any values of its fields' types, any userData."""
    hints = get_type_hints(cls, localns={"JsonValue": JsonValue})
    fields = {
        f.name: user_data(max_size=4) if f.name == "user_data" else st.from_type(hints[f.name])
        for f in dataclasses.fields(cls)
    }
    return st.builds(cls, **fields)


def test_numbers_json_has_no_form_for_are_written_as_pythons_json_writes_them() -> None:
    # Only typed commands can carry them: the GWS request boundary refuses NaN and Infinity.
    values = {"up": math.inf, "down": -math.inf, "nan": math.nan}
    event = UserDataChanged(
        email_id="E1", by="a", operation=Operation.ATTACH_USER_DATA, user_data=values
    )
    text = event_to_json(event)
    assert '"up":Infinity,"down":-Infinity,"nan":NaN' in text
    assert json.loads(text)["user_data"]["up"] == math.inf
    decoded = event_from_json(text)
    assert isinstance(decoded, UserDataChanged)
    assert decoded.user_data["up"] == math.inf
    assert decoded.user_data["down"] == -math.inf
    nan = decoded.user_data["nan"]
    assert isinstance(nan, float)
    assert math.isnan(nan)


@settings(max_examples=300)
@given(st.sampled_from(sorted(get_args(Event), key=lambda c: c.__name__)), st.data())
def test_any_event_of_any_class_round_trips(cls: type[Event], data: st.DataObject) -> None:
    event = data.draw(any_event(cls))
    assert type(event) is cls
    text = event_to_json(event)
    assert len(text.splitlines()) == 1
    decoded = event_from_json(text)
    assert type(decoded) is cls
    assert decoded == event


@settings(max_examples=60)
@given(reachable(max_steps=12))
def test_every_event_of_a_history_round_trips(reached: Reached) -> None:
    for event in events_of(reached):
        decoded = event_from_json(event_to_json(event))
        assert type(decoded) is type(event)
        assert decoded == event


@settings(max_examples=60)
@given(reachable(max_steps=12))
def test_a_history_through_jsonl_replays_to_the_same_emails(reached: Reached) -> None:
    events = events_of(reached)
    log = events_to_jsonl(events)
    assert len(log.splitlines()) == len(events)
    decoded = events_from_jsonl(log)
    assert decoded == events
    assert [type(e) for e in decoded] == [type(e) for e in events]
    assert replay(decoded) == replay(events) == reached.emails
    assert events_from_jsonl(log.encode()) == events


def test_events_with_the_same_fields_decode_to_their_own_classes() -> None:
    # The same three fields: a union without the tag would read one as the other.
    offered = EmailOffered(email_id="E1", phase=Phase.INVITED, agent="a")
    accepted = InvitationAccepted(email_id="E1", phase=Phase.INVITED, agent="a")
    assert dataclasses.asdict(offered) == dataclasses.asdict(accepted)
    assert type(event_from_json(event_to_json(offered))) is EmailOffered
    assert type(event_from_json(event_to_json(accepted))) is InvitationAccepted
    both = events_from_jsonl(events_to_jsonl([offered, accepted]))
    assert [type(e) for e in both] == [EmailOffered, InvitationAccepted]
    # And they replay to different emails: one invites the agent, the other makes them owner.
    arrived = EmailArrived(
        email_id="E1", phase=Phase.QUEUED, queue="q", content=Content(), user_data={}
    )
    invited = replay(events_from_jsonl(events_to_jsonl([arrived, offered])))["E1"]
    owned = replay(events_from_jsonl(events_to_jsonl([arrived, accepted])))["E1"]
    assert (invited.invitee, invited.owner) == ("a", None)
    assert (owned.invitee, owned.owner) == (None, "a")


# A log written by one process replays in another.

WRITER = textwrap.dedent(
    """
    import json
    import sys
    from email_fsm import (AddAttachment, AddComment, AttachUserData, ContactCenter,
                           Arrive, Offer, email_to_json)
    from email_fsm.codec import events_to_jsonl

    center = ContactCenter(record=True)
    center.execute(Arrive(email_id="E1", queue="q", subject="Zoë\\u2028", from_="c@x",
                          user_data={"VIP": True, "Score": 0.1, "Tags": [1, None]}))
    center.execute(Offer(email_id="E1", agent="alice"))
    center.request("alice", {"operationName": "Reject"}, email_id="E1")
    center.execute(Offer(email_id="E1", agent="bob"))
    center.request("bob", {"operationName": "Accept"}, email_id="E1")
    center.request("bob", {"operationName": "AttachUserData",
                           "userData": {"Priority": 2}}, email_id="E1")
    center.request("bob", {"operationName": "AddComment", "comment": "later\\u2029"},
                   email_id="E1")
    center.request("bob", {"operationName": "Reply"}, email_id="E1", new_email_id="E2")
    center.request("bob", {"operationName": "AddAttachment", "documentId": "D1"},
                   email_id="E2")
    center.request("bob", {"operationName": "Transfer",
                           "userUri": "http://localhost:8080/api/v2/users/carol"},
                   email_id="E1")
    assert len(center.history) == 10, center.history
    with open(sys.argv[1], "w", encoding="utf-8", newline="") as log:
        log.write(events_to_jsonl(center.history))
    print(json.dumps([email_to_json(email) for email in center.emails.values()]))
    """
)

READER = textwrap.dedent(
    """
    import json
    import sys
    from email_fsm import email_to_json, replay
    from email_fsm.codec import events_from_jsonl

    with open(sys.argv[1], "rb") as log:
        emails = replay(events_from_jsonl(log.read()))
    print(json.dumps([email_to_json(email) for email in emails.values()]))
    """
)


def _run(code: str, *args: str) -> list[Email]:
    out = subprocess.run(
        [sys.executable, "-c", code, *args],
        check=True,
        capture_output=True,
        text=True,
        cwd=REPO,
    ).stdout
    return [email_from_json(text) for text in json.loads(out)]


def test_a_log_written_by_one_process_replays_in_another(tmp_path: Path) -> None:
    path = tmp_path / "emails.jsonl"
    written = _run(WRITER, str(path))
    read = _run(READER, str(path))
    assert read == written
    assert {e.id for e in read} == {"E1", "E2"}
    first = next(e for e in read if e.id == "E1")
    assert first.rejected_by == {"alice"}
    assert first.invitee == "carol"
    assert first.content.subject == "Zoë\u2028"
    assert first.comment == "later\u2029"
    assert len(path.read_text("utf-8").splitlines()) == 10
    assert replay(events_from_jsonl(path.read_bytes())) == {e.id: e for e in written}


# Decisions.


def _check_decision(decision: Decision) -> None:
    text = decision_to_json(decision)
    assert len(text.splitlines()) == 1
    decoded = decision_from_json(text)
    assert type(decoded) is type(decision)
    assert decoded == decision
    if isinstance(decision, Accepted):
        assert isinstance(decoded, Accepted)
        assert [type(e) for e in decoded.events] == [type(e) for e in decision.events]


@settings(max_examples=60)
@given(reachable(max_steps=12))
def test_every_decision_of_a_history_round_trips(reached: Reached) -> None:
    for decision in decisions_of(reached):
        _check_decision(decision)


@settings(max_examples=30)
@given(reachable(max_steps=8))
def test_emails_in_a_decision_are_written_as_email_to_json_writes_them(reached: Reached) -> None:
    for decision in decisions_of(reached):
        record = json.loads(decision_to_json(decision))
        for email, written in zip(decision.emails, record["emails"], strict=True):
            assert written == json.loads(email_to_json(email))
            assert email_from_json(json.dumps(written)) == email
        for notification, written in zip(
            decision.notifications, record["notifications"], strict=True
        ):
            assert written["email"] == json.loads(email_to_json(notification.email))
        assert record["events"] == [json.loads(event_to_json(e)) for e in decision.events]


def test_an_accepted_decision_keeps_every_part() -> None:
    arrived = decide({}, Arrive(email_id="E1", queue="q", subject="Hi"))
    assert isinstance(arrived, Accepted)
    decision = handle_request(
        {e.id: e for e in arrived.emails},
        {"operationName": "Accept", "unknownThing": 1},
        actor="a",
        email_id="E1",
    )
    assert isinstance(decision, Refused)  # not offered to a yet
    offered = decide({e.id: e for e in arrived.emails}, Offer(email_id="E1", agent="a"))
    assert isinstance(offered, Accepted)
    accepted = handle_request(
        {e.id: e for e in offered.emails},
        {"operationName": "Accept", "unknownThing": 1},
        actor="a",
        email_id="E1",
        reference_id=7,
    )
    assert isinstance(accepted, Accepted)
    assert accepted.ignored == ("unknownThing",)
    assert accepted.notifications
    record = json.loads(decision_to_json(accepted))
    assert list(record) == [
        "type",
        "schema",
        "events",
        "emails",
        "notifications",
        "ignored",
        "decided_on",
    ]
    assert record["ignored"] == list(accepted.ignored)
    assert record["decided_on"] == 2  # the email had two events (Arrive, Offer) when decided
    notification = record["notifications"][0]
    assert notification["reference_id"] == 7
    assert notification["config"]["uri_template"] == "{baseUrl}/api/v2/me/emails/{id}"
    assert notification["capabilities"] == [
        str(op) for op in accepted.notifications[0].capabilities
    ]
    decoded = decision_from_json(decision_to_json(accepted))
    assert decoded == accepted
    assert isinstance(decoded, Accepted)
    assert decoded.notifications[0].to_json() == accepted.notifications[0].to_json()


@given(st.sampled_from(StatusCode), st.text())
def test_a_refusal_round_trips(code: StatusCode, message: str) -> None:
    refused = Refused(code, message)
    _check_decision(refused)
    record = json.loads(decision_to_json(refused))
    assert record == {"type": "Refused", "schema": 1, "code": int(code), "message": message}


def test_a_refusal_of_decide_round_trips() -> None:
    refused = decide({}, Offer(email_id="E9", agent="a"))
    assert isinstance(refused, Refused)
    _check_decision(refused)


def test_an_event_record_is_not_a_decision_and_back() -> None:
    with pytest.raises(CodecError, match="unknown decision type 'FocusSet'"):
        decision_from_json(event_to_json(FocusSet(email_id="E1", by="a")))
    with pytest.raises(CodecError, match="unknown event type 'Refused'"):
        event_from_json(decision_to_json(Refused(StatusCode.FORBIDDEN, "no")))


# Decoding is strict: every error names what is wrong.

OFFERED = {"type": "EmailOffered", "schema": 1, "email_id": "E1", "phase": "Invited", "agent": "a"}


def _with(**changes: Any) -> str:
    record = {**OFFERED, **changes}
    return json.dumps({k: v for k, v in record.items() if v is not DROP})


DROP = object()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (_with(type="EmailOfferd"), r"unknown event type 'EmailOfferd' \(known: 'EmailArrived'"),
        (_with(type=DROP), 'no "type": each event record names its type'),
        (_with(agent=DROP), "missing field 'agent' in EmailOffered"),
        (_with(schema=DROP), "missing field 'schema' in EmailOffered"),
        (_with(extra=1), "unknown field 'extra' in EmailOffered"),
        (
            _with(email_id=1),
            "wrong value for EmailOffered.email_id: Input should be a valid string, got 1",
        ),
        (_with(phase="invited"), "wrong value for EmailOffered.phase: Input should be 'Queued'"),
        (
            _with(schema=2),
            r"unknown schema version 2 of EmailOffered \(this version of email_fsm reads 1\)",
        ),
        (_with(schema=2, agent=DROP, more=0), r"^unknown schema version 2 of EmailOffered \(.*\)$"),
        (_with(schema="1"), "unknown schema version '1'"),
        ("not json", "not JSON: expected ident at line 1 column 2"),
        ('{"type": "EmailOffered"', "not JSON: EOF while parsing"),
        ("", "not JSON"),
        (b"\xff", "not JSON"),
        ("[1, 2]", r"not a JSON object: \[1, 2\]"),
        ('"EmailOffered"', "not a JSON object: 'EmailOffered'"),
    ],
)
def test_a_wrong_event_record_is_refused_naming_the_problem(text: str, message: str) -> None:
    with pytest.raises(CodecError, match=message):
        event_from_json(text)


def _attachment(**attachment: Any) -> str:
    record = json.loads(event_to_json(EXAMPLES[AttachmentAdded]))
    fields = {"id": "D1", "name": None, "size": 1, "mime": None, **attachment}
    record["attachment"] = {k: v for k, v in fields.items() if v is not DROP}
    return json.dumps(record)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # nothing is coerced
        (
            _attachment(size=1.0),
            "AttachmentAdded.attachment.size: Input should be a valid integer, got 1.0",
        ),
        (
            _attachment(size="1"),
            "AttachmentAdded.attachment.size: Input should be a valid integer, got '1'",
        ),
        (
            _attachment(size=True),
            "AttachmentAdded.attachment.size: Input should be a valid integer, got True",
        ),
        (
            _attachment(id=None),
            "AttachmentAdded.attachment.id: Input should be a valid string, got None",
        ),
        # nested values have no defaults and no unknown fields either
        (_attachment(mime=DROP), "missing field 'mime' in AttachmentAdded.attachment"),
        (_attachment(uri="u"), "unknown field 'uri' in AttachmentAdded.attachment"),
        (_attachment(extra=1, more=2, name=3, size="4", mime=5), "; 1 more$"),
    ],
)
def test_nested_values_are_as_strict(text: str, message: str) -> None:
    with pytest.raises(CodecError, match=message):
        event_from_json(text)


def test_content_must_have_every_field_and_arrays_for_addresses() -> None:
    record = json.loads(event_to_json(EXAMPLES[EmailSaved]))
    del record["content"]["received_date"]
    with pytest.raises(CodecError, match=r"missing field 'received_date' in EmailSaved\.content"):
        event_from_json(json.dumps(record))
    record = json.loads(event_to_json(EXAMPLES[EmailSaved]))
    record["content"]["to"] = "a@x"
    with pytest.raises(CodecError, match=r"EmailSaved\.content\.to: Input should be a valid array"):
        event_from_json(json.dumps(record))
    record["content"]["to"] = ["a@x", 2]
    with pytest.raises(CodecError, match=r"EmailSaved.content.to\[1\]: Input should be a valid"):
        event_from_json(json.dumps(record))


def test_a_wrong_line_of_a_log_is_named() -> None:
    log = events_to_jsonl(EXAMPLES.values()).splitlines()
    log[3] = _with(agent=DROP)
    with pytest.raises(CodecError, match=r"^line 4: missing field 'agent' in EmailOffered$"):
        events_from_jsonl("\n".join(log))
    with pytest.raises(CodecError, match=r"^not UTF-8 text: "):
        events_from_jsonl(b'{"type": "\xff"}\n')


def test_blank_lines_and_crlf_line_ends_of_a_log_are_read() -> None:
    events = list(EXAMPLES.values())[:3]
    text = events_to_jsonl(events)
    assert events_from_jsonl("\n" + text.replace("\n", "\r\n") + "\n  \n") == events
    assert events_from_jsonl("") == []


def _accepted_record() -> dict[str, Any]:
    arrived = decide({}, Arrive(email_id="E1", queue="q"))
    assert isinstance(arrived, Accepted)
    offered = decide({e.id: e for e in arrived.emails}, Offer(email_id="E1", agent="a"))
    record: dict[str, Any] = json.loads(decision_to_json(offered))
    return record


def _decision_error(record: dict[str, Any]) -> str:
    with pytest.raises(CodecError) as error:
        decision_from_json(json.dumps(record))
    return str(error.value)


def test_a_wrong_decision_record_is_refused_naming_the_problem() -> None:
    record = _accepted_record()
    record["events"][0]["agent"] = 3
    assert _decision_error(record) == (
        "wrong value for Accepted.events[0].EmailOffered.agent:"
        " Input should be a valid string, got 3"
    )
    record = _accepted_record()
    del record["events"][0]["type"]
    assert _decision_error(record) == (
        'no "type" at Accepted.events[0]: each event record names its type'
    )
    record = _accepted_record()
    record["events"][0]["type"] = "Offered"
    assert _decision_error(record).startswith(
        "unknown event type 'Offered' at Accepted.events[0] (known: 'EmailArrived',"
    )
    record = _accepted_record()
    record["events"][0]["schema"] = 2
    assert _decision_error(record) == (
        "unknown schema version 2 of Accepted.events[0].EmailOffered"
        " (this version of email_fsm reads 1)"
    )
    record = _accepted_record()
    record["emails"][0]["transfers"] = "0"
    assert "Accepted.emails[0].transfers: Input should be a valid integer" in _decision_error(
        record
    )
    record = _accepted_record()
    del record["notifications"][0]["config"]["limits"]["max_attachments"]
    assert _decision_error(record) == (
        "missing field 'max_attachments' in Accepted.notifications[0].config.limits"
    )
    record = _accepted_record()
    record["notifications"][0]["config"]["uri_template"] = "{baseUrl}/{email}"
    assert _decision_error(record) == (
        "wrong value in the Accepted record: uri_template '{baseUrl}/{email}'"
        " may name only {baseUrl} and {id}"
    )
    record = _accepted_record()
    record["schema"] = 0
    assert _decision_error(record).startswith("unknown schema version 0 of Accepted")
    record = {"type": "Refused", "schema": 1, "code": 4, "message": "m"}
    assert _decision_error(record).startswith("wrong value for Refused.code: Input should be 0,")
    record = {"type": "Refused", "schema": 1, "code": 3}
    assert _decision_error(record) == "missing field 'message' in Refused"
    record = {"type": "Maybe", "schema": 1}
    assert _decision_error(record) == (
        "unknown decision type 'Maybe' (known: 'Accepted', 'Refused')"
    )


def test_a_codec_error_is_a_value_error() -> None:
    assert issubclass(CodecError, ValueError)


def test_encoding_what_is_not_an_event_or_a_decision_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="not an event: 'E1'"):
        event_to_json("E1")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="not an event"):
        events_to_jsonl([Refused(StatusCode.FORBIDDEN, "no")])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="not a decision: 'yes'"):
        decision_to_json("yes")  # type: ignore[arg-type]


def test_text_with_no_utf8_form_is_a_codec_error_when_written() -> None:
    # json.loads accepts "\ud800" in a request body: half a surrogate pair, no UTF-8 form.
    event = CommentAdded(email_id="E1", by="a", comment="x\ud800y")
    with pytest.raises(CodecError, match=r"^cannot write the CommentAdded record: .*surrogate"):
        event_to_json(event)
    with pytest.raises(CodecError, match=r"^cannot write the CommentAdded record"):
        events_to_jsonl([FocusSet(email_id="E1", by="a"), event])
    with pytest.raises(CodecError, match=r"^cannot write the Refused record"):
        decision_to_json(Refused(StatusCode.INVALID_VALUE, "\udfff"))


def test_a_field_kind_without_a_json_form_is_refused_when_the_codec_is_built() -> None:
    assert _mirrored(tuple[str, ...]) == tuple[str, ...]
    with pytest.raises(TypeError, match="no JSON form for"):
        _mirrored(dict[str, Attachment])


def test_the_core_does_not_import_the_codec() -> None:
    out = subprocess.run(
        [sys.executable, "-c", "import email_fsm, sys; print('email_fsm.codec' in sys.modules)"],
        check=True,
        capture_output=True,
        text=True,
        cwd=REPO,
    ).stdout
    assert out.strip() == "False"
