"""Property tests (hypothesis) over random histories of system events and agent requests.

After every step: the ownership invariants (docs/spec.md, Lifecycle and ownership) hold;
a refused step changed nothing; replaying the accepted events rebuilds every email;
advertised capabilities are allowed; a capability advertised to an agent is never refused
with 2 or 3 for them; every notification's email object is the full object of the email
for its recipient (docs/spec.md, Notifications); every email survives a JSON round trip.
Same inputs give the same outputs, and random request bodies never raise. Address lists
(Save, Send, Arrive) are normalized, never refused for their entries.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from builders import accepted
from hypothesis import given
from hypothesis import strategies as st
from test_core_refusals import FACTORIES

from email_fsm import (
    ALLOWED,
    Arrive,
    Config,
    ContactCenter,
    Direction,
    Email,
    Notification,
    Offer,
    Operation,
    Phase,
    Refused,
    Revoke,
    StatusCode,
    SystemCommand,
    capabilities,
    decide,
    email_from_json,
    email_to_json,
    handle_request,
    replay,
)
from email_fsm.email import normalized

AGENTS = ["a", "b", "c"]
IDS = ["E1", "E2", "D1", "D2"]
QUEUES = ["q1", "q2"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
user_data = st.dictionaries(
    st.sampled_from(["k1", "k2", "DispositionCode", "VIP"]), json_values, max_size=3
)
addresses = st.lists(st.sampled_from(["x@example.com", "y@example.com"]), max_size=2)
texts = st.text(max_size=5)


def _bodies(op: Operation) -> st.SearchStrategy[dict[str, Any]]:
    name = str(op)
    params: dict[Operation, st.SearchStrategy[dict[str, Any]]] = {
        Operation.TRANSFER: st.one_of(
            st.fixed_dictionaries(
                {"userUri": st.sampled_from(AGENTS).map(lambda a: f"http://h/api/v2/users/{a}")}
            ),
            st.fixed_dictionaries({"queueName": st.sampled_from(QUEUES)}),
        ),
        Operation.COMPLETE: st.one_of(
            st.just({}), st.fixed_dictionaries({"queueName": st.sampled_from(QUEUES)})
        ),
        Operation.REPLY: st.fixed_dictionaries(
            {}, optional={"quoteOriginal": st.booleans(), "userData": user_data}
        ),
        Operation.REPLY_ALL: st.fixed_dictionaries(
            {}, optional={"queueName": st.sampled_from(QUEUES)}
        ),
        Operation.CREATE: st.fixed_dictionaries(
            {}, optional={"queueName": st.sampled_from(QUEUES), "userData": user_data}
        ),
        Operation.SAVE: st.fixed_dictionaries(
            {
                "email": st.fixed_dictionaries(
                    {},
                    optional={
                        "to": addresses,
                        "cc": addresses,
                        "bcc": addresses,
                        "from": st.just("me@example.com"),
                        "subject": texts,
                        "body": texts,
                        "bodyAsPlainText": texts,
                        "mime": st.just("text/plain"),
                    },
                )
            }
        ),
        Operation.SEND: st.fixed_dictionaries(
            {"queueName": st.sampled_from(QUEUES)},
            optional={"email": st.fixed_dictionaries({"to": addresses})},
        ),
        Operation.ADD_ATTACHMENT: st.fixed_dictionaries(
            {"documentId": st.sampled_from(["d1", "d2"])}, optional={"size": st.integers(0, 99)}
        ),
        Operation.REMOVE_ATTACHMENT: st.fixed_dictionaries(
            {"documentId": st.sampled_from(["d1", "d2"])}
        ),
        Operation.ATTACH_USER_DATA: st.fixed_dictionaries({"userData": user_data}),
        Operation.UPDATE_USER_DATA: st.fixed_dictionaries({"userData": user_data}),
        Operation.DELETE_USER_DATA: st.fixed_dictionaries(
            {"keys": st.lists(st.sampled_from(["k1", "k2", "zz"]), max_size=2)}
        ),
        Operation.SET_DISPOSITION: st.fixed_dictionaries({"disposition": st.text(max_size=4)}),
        Operation.ADD_COMMENT: st.fixed_dictionaries({"comment": st.text(max_size=4)}),
    }
    return params.get(op, st.just({})).map(lambda p: {"operationName": name, **p})


@dataclass(frozen=True)
class AgentRequest:
    agent: str
    email_id: str | None
    new_email_id: str | None
    body: object
    reference_id: int | None


agent_requests = st.sampled_from(list(Operation)).flatmap(
    lambda op: st.builds(
        AgentRequest,
        agent=st.sampled_from(AGENTS),
        email_id=st.none() if op is Operation.CREATE else st.sampled_from(IDS),
        new_email_id=st.sampled_from(IDS)
        if op in (Operation.CREATE, Operation.REPLY, Operation.REPLY_ALL)
        else st.none(),
        body=_bodies(op),
        reference_id=st.none() | st.integers(0, 1000),
    )
)
system_events: st.SearchStrategy[SystemCommand] = st.one_of(
    st.builds(
        Arrive,
        email_id=st.sampled_from(IDS),
        queue=st.sampled_from(QUEUES),
        to=st.tuples(st.just("s@x")),
        from_=st.just("c@x"),
        cc=st.tuples() | st.tuples(st.just("cc@x")),
        subject=st.none() | texts,
        body_as_plain_text=st.none() | st.just("line one\nline two"),
        contact_id=st.none() | st.just("C1"),
        received_date=st.none() | st.just("2016-03-15 23:38:42.000+1000"),
        user_data=user_data,
    ),
    st.builds(Offer, email_id=st.sampled_from(IDS), agent=st.sampled_from(AGENTS)),
    st.builds(Revoke, email_id=st.sampled_from(IDS)),
)


def request_for(op: Operation, agent: str, email_id: str) -> st.SearchStrategy[AgentRequest]:
    """A request for ``op`` on ``email_id`` by ``agent``, with drawn parameters."""
    creates = op in (Operation.CREATE, Operation.REPLY, Operation.REPLY_ALL)
    return st.builds(
        AgentRequest,
        agent=st.just(agent),
        email_id=st.just(email_id),
        new_email_id=st.sampled_from(IDS) if creates else st.none(),
        body=_bodies(op),
        reference_id=st.none() | st.integers(0, 1000),
    )


@st.composite
def guided_step(draw: st.DrawFn, center: ContactCenter) -> Step:
    """Mostly a step the model is likely to accept (the holder doing something its
    phase allows, routing a queued email), sometimes anything at all."""
    emails = sorted(center.emails.values(), key=lambda e: e.id)
    if not emails or draw(st.integers(0, 4)) == 0:
        return draw(st.one_of(system_events, agent_requests))
    email = draw(st.sampled_from(emails))
    if email.phase is Phase.QUEUED:
        return Offer(email_id=email.id, agent=draw(st.sampled_from(AGENTS)))
    if email.holder is None:
        return draw(agent_requests)
    if email.phase is Phase.INVITED and draw(st.integers(0, 5)) == 0:
        return Revoke(email_id=email.id)
    op = draw(st.sampled_from(ALLOWED[email.phase]))
    return draw(request_for(op, email.holder, email.id))


def draw_history(data: st.DataObject, center: ContactCenter, size: int = 30) -> list[Step]:
    """Draw and run a history on ``center``; returns the steps, for re-running."""
    steps: list[Step] = []
    for _ in range(data.draw(st.integers(0, size), label="length")):
        step = data.draw(guided_step(center))
        steps.append(step)
        run(center, step)
    return steps


Step = SystemCommand | AgentRequest


def run(center: ContactCenter, step: Step) -> Any:
    if isinstance(step, AgentRequest):
        return center.request(
            step.agent,
            step.body,
            email_id=step.email_id,
            new_email_id=step.new_email_id,
            reference_id=step.reference_id,
        )
    return center.execute(step)


def check_ownership(email: Email) -> None:
    if email.phase in (Phase.PROCESSING, Phase.COMPOSING):
        assert email.owner is not None
        assert email.invitee is None
    elif email.phase is Phase.INVITED:
        assert email.invitee is not None
        assert email.owner is None
    else:
        assert email.owner is None
        assert email.invitee is None
    if email.phase is Phase.QUEUED:
        assert email.queue
    assert email.holder in (email.owner, email.invitee)


def check_advertised_are_honoured(center: ContactCenter, decision: Any) -> None:
    for notification in decision.notifications:
        email = center.emails[notification.email.id]
        assert notification.email == email
        for op in notification.capabilities:
            command = FACTORIES[op](email.id, notification.recipient)
            answer = decide(center.emails, command, config=center.config)
            if isinstance(answer, Refused):
                assert answer.code not in (StatusCode.INVALID_STATE, StatusCode.FORBIDDEN), answer


# The content fields by their GWS names (docs/spec.md, Notifications), written out here
# rather than taken from the library's own list.
GWS_CONTENT_NAMES = {
    "from_": "from",
    "to": "to",
    "cc": "cc",
    "bcc": "bcc",
    "subject": "subject",
    "body": "body",
    "body_as_plain_text": "bodyAsPlainText",
    "mime": "mime",
    "contact_id": "contactId",
    "parent_id": "parentId",
    "received_date": "receivedDate",
}
ATTACHMENT_NOTIFICATIONS = {"AttachmentAdded", "AttachmentRemoved"}
HOLDER_STATES = {
    Phase.INVITED: "Invited",
    Phase.PROCESSING: "Processing",
    Phase.COMPOSING: "Composing",
}
NOT_HOLDER_STATES = {"Completed", "Canceled", "Sent", "Revoked"}

configs = st.sampled_from(
    [
        Config(),
        Config(base_url="https://gws.example.com", uri_template="{baseUrl}/api/v2/email/{id}"),
    ]
)


def expected_email_object(notification: Notification, config: Config) -> dict[str, Any]:
    """The full email object of ``notification``'s email for its recipient, from the rules:
    id, state, capabilities, uri; each content field with a value; comment; userData when
    not empty; attachments when not empty or on Attachment* notifications; inbound emails'
    ``revelantResponseTemplateGroups: []``."""
    email = notification.email
    uri = config.uri_template.replace("{baseUrl}", config.base_url).replace("{id}", email.id)
    obj: dict[str, Any] = {
        "id": email.id,
        "state": str(notification.state),
        "capabilities": [str(op) for op in capabilities(email, notification.recipient)],
        "uri": uri,
    }
    for name, gws in GWS_CONTENT_NAMES.items():
        value = getattr(email.content, name)
        if isinstance(value, tuple):
            if value:
                obj[gws] = list(value)
        elif value is not None:
            obj[gws] = value
    if email.comment is not None:
        obj["comment"] = email.comment
    if email.user_data:
        obj["userData"] = dict(email.user_data)
    if email.attachments or str(notification.type) in ATTACHMENT_NOTIFICATIONS:
        obj["attachments"] = []
        for attachment in email.attachments:
            item: dict[str, Any] = {"id": attachment.id}
            for key in ("name", "size", "mime"):
                if getattr(attachment, key) is not None:
                    item[key] = getattr(attachment, key)
            item["uri"] = f"{uri}/attachments/{attachment.id}"
            obj["attachments"].append(item)
    if email.direction is Direction.INBOUND:
        obj["revelantResponseTemplateGroups"] = []
    return obj


def check_what_the_recipient_sees(notification: Notification) -> None:
    """The holder sees the phase; anyone else sees it gone, with nothing to do."""
    email = notification.email
    if notification.recipient == email.holder:
        assert str(notification.state) == HOLDER_STATES[email.phase]
    else:
        assert str(notification.state) in NOT_HOLDER_STATES
        assert notification.capabilities == ()


@given(st.data(), configs)
def test_every_notification_carries_the_full_object(data: st.DataObject, config: Config) -> None:
    center = ContactCenter(config=config)
    for _ in range(data.draw(st.integers(0, 30), label="length")):
        decision = run(center, data.draw(guided_step(center)))
        if isinstance(decision, Refused):
            continue
        for notification in decision.notifications:
            check_what_the_recipient_sees(notification)
            message = notification.to_dict()
            assert message["data"]["email"] == expected_email_object(notification, config)
            assert message == json.loads(notification.to_json())


@given(st.data())
def test_invariants_hold_after_every_step(data: st.DataObject) -> None:
    center = ContactCenter(record=True)
    for _ in range(data.draw(st.integers(0, 40), label="length")):
        step = data.draw(guided_step(center))
        before = dict(center.emails)
        decision = run(center, step)
        if isinstance(decision, Refused):
            assert decision.code is not StatusCode.OK
            assert dict(center.emails) == before
            assert all(center.emails[k] is v for k, v in before.items())
        else:
            assert decision.response() == {"statusCode": 0}
            changed = {k for k, v in center.emails.items() if before.get(k) is not v}
            assert changed <= {e.id for e in decision.emails}
            check_advertised_are_honoured(center, decision)
        for email in center.emails.values():
            check_ownership(email)
            for agent in AGENTS:
                assert set(capabilities(email, agent)) <= set(ALLOWED[email.phase])
        assert replay(center.history) == dict(center.emails)


@given(st.data())
def test_same_inputs_same_outputs(data: st.DataObject) -> None:
    history = draw_history(data, ContactCenter())
    first, second = ContactCenter(), ContactCenter()
    for step in history:
        one, two = run(first, step), run(second, step)
        assert one.response() == two.response()
        if not isinstance(one, Refused):
            assert [n.to_dict() for n in one.notifications] == [
                n.to_dict() for n in two.notifications
            ]
            assert one.events == two.events
    assert dict(first.emails) == dict(second.emails)


@given(st.data())
def test_emails_survive_a_json_round_trip(data: st.DataObject) -> None:
    center = ContactCenter()
    draw_history(data, center)
    for email in center.emails.values():
        assert email_from_json(email_to_json(email)) == email


@given(st.data())
def test_replaying_one_email_alone_rebuilds_it(data: st.DataObject) -> None:
    center = ContactCenter(record=True)
    draw_history(data, center)
    for email_id, email in center.emails.items():
        own = [e for e in center.history if e.email_id == email_id]
        assert replay(own) == {email_id: email}


@given(
    body=st.one_of(
        json_values,
        st.dictionaries(
            st.sampled_from(
                [
                    "operationName",
                    "userData",
                    "comment",
                    "keys",
                    "email",
                    "userUri",
                    "queueName",
                    "documentId",
                    "size",
                ]
            ),
            json_values | st.sampled_from([str(op) for op in Operation]),
        ),
    ),
    agent=st.sampled_from(AGENTS),
    email_id=st.sampled_from([*IDS, None]),
)
def test_random_request_bodies_never_raise(body: object, agent: str, email_id: str | None) -> None:
    center = ContactCenter()
    center.execute(Arrive(email_id="E1", queue="q1"))
    center.execute(Offer(email_id="E1", agent="a"))
    before = dict(center.emails)
    decision = handle_request(center.emails, body, actor=agent, email_id=email_id, new_email_id="N")
    assert decision.response()["statusCode"] in {0, 1, 2, 3, 6, 10, 18}
    assert dict(center.emails) == before


@given(st.text(max_size=50) | st.binary(max_size=50))
def test_random_text_and_bytes_never_raise(body: str | bytes) -> None:
    decision = handle_request({}, body, actor="a", new_email_id="N")
    assert isinstance(decision, Refused) or decision.response() == {"statusCode": 0}


# ------------------------------------------------------------ address lists, normalized

ADDRESSES = ["a@example.com", "b.c@example.org", "x"]
blanks = st.text(alphabet=" \t", max_size=3)


@st.composite
def padded_lists(draw: st.DrawFn) -> tuple[list[str], list[str]]:
    """A list of addresses padded with spaces, blank entries between them, and the
    addresses it means, in order."""
    meant = draw(st.lists(st.sampled_from(ADDRESSES), max_size=4))
    entries: list[str] = []
    for address in meant:
        entries.extend(draw(st.lists(blanks, max_size=2)))
        entries.append(draw(blanks) + address + draw(blanks))
    entries.extend(draw(st.lists(blanks, max_size=2)))
    return entries, meant


@given(padded_lists())
def test_normalized_keeps_the_addresses_trimmed_in_order(
    padded: tuple[list[str], list[str]],
) -> None:
    entries, meant = padded
    assert normalized(tuple(entries)) == tuple(meant)


@given(st.lists(st.text(alphabet=" \tab@.", max_size=6), max_size=5))
def test_normalized_is_idempotent(entries: list[str]) -> None:
    once = normalized(tuple(entries))
    assert normalized(once) == once
    assert all(address and address == address.strip() for address in once)


def _draft(c: ContactCenter) -> None:
    accepted(c.request("a", {"operationName": "Create"}, new_email_id="D1"))


@given(padded_lists(), padded_lists(), padded_lists())
def test_save_is_never_refused_for_its_address_lists(
    to: tuple[list[str], list[str]],
    cc: tuple[list[str], list[str]],
    bcc: tuple[list[str], list[str]],
) -> None:
    c = ContactCenter()
    _draft(c)
    body = {"operationName": "Save", "email": {"to": to[0], "cc": cc[0], "bcc": bcc[0]}}
    decision = accepted(c.request("a", body, email_id="D1"))
    content = c.emails["D1"].content
    assert (content.to, content.cc, content.bcc) == (tuple(to[1]), tuple(cc[1]), tuple(bcc[1]))
    shown = decision.notifications[0].to_dict()["data"]["email"]
    for key, (_, meant) in (("to", to), ("cc", cc), ("bcc", bcc)):
        assert shown.get(key, []) == meant


@given(padded_lists(), padded_lists(), padded_lists())
def test_send_needs_an_address_and_nothing_else_of_its_lists(
    to: tuple[list[str], list[str]],
    cc: tuple[list[str], list[str]],
    bcc: tuple[list[str], list[str]],
) -> None:
    c = ContactCenter()
    _draft(c)
    before = dict(c.emails)  # the draft has no recipient yet
    body = {
        "operationName": "Send",
        "queueName": "outbound",
        "email": {"to": to[0], "cc": cc[0], "bcc": bcc[0]},
    }
    decision = c.request("a", body, email_id="D1")
    if to[1] or cc[1] or bcc[1]:
        accepted(decision)
        assert c.emails["D1"].phase is Phase.SENT
        content = c.emails["D1"].content
        assert (content.to, content.cc, content.bcc) == (
            tuple(to[1]),
            tuple(cc[1]),
            tuple(bcc[1]),
        )
    else:
        assert isinstance(decision, Refused)
        assert decision.code is StatusCode.MISSING_PARAMETER
        assert "no recipient" in decision.message
        assert dict(c.emails) == before


@given(padded_lists(), padded_lists())
def test_arrive_is_never_refused_for_its_address_lists(
    to: tuple[list[str], list[str]], cc: tuple[list[str], list[str]]
) -> None:
    c = ContactCenter()
    accepted(c.execute(Arrive(email_id="E1", queue="q1", to=tuple(to[0]), cc=tuple(cc[0]))))
    content = c.emails["E1"].content
    assert (content.to, content.cc) == (tuple(to[1]), tuple(cc[1]))
