"""Every operation and system event on its accepted path: state, ownership,
capabilities and the exact notifications (docs/spec.md: Lifecycle and ownership, View
states, Capabilities, Operations, System events, Notifications).

Each test compares whole emails: the expected email is the one before, with exactly the
fields the operation changes replaced, so a field changed by mistake fails the test."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from builders import (
    COMPOSING_CAPS,
    PROCESSING_CAPS,
    accepted,
    arrive,
    assert_refused,
    center,
    composing,
    composing_with_recipient,
    invited,
    message,
    processing,
    uri,
)

from email_fsm import (
    Accept,
    AddAttachment,
    AddComment,
    Arrive,
    Attachment,
    AttachUserData,
    Cancel,
    Command,
    Complete,
    Config,
    ContactCenter,
    Content,
    Create,
    DeleteUserData,
    Direction,
    Email,
    EmailFields,
    Offer,
    Operation,
    Phase,
    Reject,
    RemoveAttachment,
    Reply,
    ReplyAll,
    Revoke,
    Save,
    Send,
    SetDisposition,
    SetInFocus,
    StatusCode,
    Transfer,
    UpdateUserData,
    capabilities,
    permissions,
)
from email_fsm.events import FocusSet, InvitationRevoked, ReplyCreated

INBOUND_CONTENT: dict[str, Any] = {
    "from": "customer@example.com",
    "to": ["support@example.com"],
    "subject": "Hi",
    "contactId": "C1",
    "revelantResponseTemplateGroups": [],
}

# The content of the reply to an email that builders.arrive() made: to its sender,
# from the address it was sent to, in the same contact, pointing back at it.
REPLY_CONTENT = Content(
    from_="support@example.com",
    to=("customer@example.com",),
    subject="Re: Hi",
    contact_id="C1",
    parent_id="E1",
)


def gone(email_id: str, state: str, content: dict[str, Any]) -> dict[str, Any]:
    """The email object of a notification telling an agent the email left them: the whole
    email, with no capabilities (docs/spec.md, Notifications)."""
    return {"id": email_id, "state": state, "capabilities": [], "uri": uri(email_id), **content}


def sent_to(decision: Any) -> list[tuple[str, dict[str, Any]]]:
    return [(n.recipient, n.to_dict()) for n in accepted(decision).notifications]


def stepped(before: Email, steps: int = 1, **changes: Any) -> Email:
    """``before`` as ``steps`` more events leave it: with ``changes``, one more version each."""
    return replace(before, version=before.version + steps, **changes)


def new_draft(email_id: str, queue: str, **fields: Any) -> Email:
    """A new outbound draft owned by agent "a": one event (its creation) made it."""
    return Email(
        id=email_id,
        direction=Direction.OUTBOUND,
        phase=Phase.COMPOSING,
        queue=queue,
        owner="a",
        version=1,
        **fields,
    )


@pytest.fixture
def c() -> ContactCenter:
    return center()


# ----------------------------------------------------------------- system events


def test_arrive_queues_a_new_inbound_email_silently(c: ContactCenter) -> None:
    decision = accepted(
        c.execute(
            Arrive(
                email_id="E1",
                queue="inbound",
                from_="customer@example.com",
                to=("support@example.com",),
                subject="Hi",
                contact_id="C1",
                received_date="2016-03-15 23:38:42.000+1000",
                user_data={"k": 1},
            )
        )
    )
    email = c.emails["E1"]
    assert email == Email(
        id="E1",
        direction=Direction.INBOUND,
        phase=Phase.QUEUED,
        queue="inbound",
        version=1,
        content=Content(
            from_="customer@example.com",
            to=("support@example.com",),
            subject="Hi",
            contact_id="C1",
            received_date="2016-03-15 23:38:42.000+1000",
        ),
        user_data={"k": 1},
    )
    assert email.direction is Direction.INBOUND
    assert decision.notifications == ()


def test_offer_invites_the_agent(c: ContactCenter) -> None:
    before = arrive(c)
    decision = c.execute(Offer(email_id="E1", agent="a"))
    assert c.emails["E1"] == stepped(before, phase=Phase.INVITED, invitee="a")
    full = {"id": "E1", "state": "Invited", "capabilities": ["Accept", "Reject"], "uri": uri("E1")}
    assert sent_to(decision) == [("a", message("StatusChange", {**full, **INBOUND_CONTENT}))]


def test_revoke_returns_the_email_to_its_queue(c: ContactCenter) -> None:
    before = invited(c)
    decision = c.execute(Revoke(email_id="E1"))
    assert c.emails["E1"] == stepped(before, phase=Phase.QUEUED, invitee=None, queue="inbound")
    assert sent_to(decision) == [
        ("a", message("StatusChange", gone("E1", "Revoked", INBOUND_CONTENT)))
    ]


# ----------------------------------------------------------------- invitations


def test_accept_inbound_makes_the_invitee_owner_processing(c: ContactCenter) -> None:
    before = invited(c)
    decision = c.execute(Accept(actor="a", email_id="E1", reference_id=4, save_lar=True))
    assert c.emails["E1"] == stepped(before, phase=Phase.PROCESSING, owner="a", invitee=None)
    expected = {
        "id": "E1",
        "state": "Processing",
        "capabilities": PROCESSING_CAPS,
        "uri": uri("E1"),
        **INBOUND_CONTENT,
    }
    assert sent_to(decision) == [("a", message("StatusChange", expected, 4))]


def test_accept_outbound_makes_the_invitee_owner_composing(c: ContactCenter) -> None:
    composing(c, "D1", "a")
    accepted(c.execute(Transfer(actor="a", email_id="D1", agent="b")))
    before = c.emails["D1"]
    decision = c.execute(Accept(actor="b", email_id="D1", reference_id=9))
    assert c.emails["D1"] == stepped(before, phase=Phase.COMPOSING, owner="b", invitee=None)
    expected = {"id": "D1", "state": "Composing", "capabilities": COMPOSING_CAPS, "uri": uri("D1")}
    assert sent_to(decision) == [("b", message("StatusChange", expected, 9))]


def test_reject_requeues_and_records_the_rejection(c: ContactCenter) -> None:
    before = invited(c)
    decision = c.execute(Reject(actor="a", email_id="E1", reference_id=3))
    assert c.emails["E1"] == stepped(
        before, phase=Phase.QUEUED, invitee=None, queue="inbound", rejected_by=frozenset({"a"})
    )
    assert sent_to(decision) == [
        ("a", message("StatusChange", gone("E1", "Completed", INBOUND_CONTENT), 3))
    ]
    assert type(accepted(decision).events[0]).__name__ == "InvitationRejected"


def test_reject_of_an_outbound_email_returns_it_to_its_creation_queue(c: ContactCenter) -> None:
    composing(c, "D1", "a")
    accepted(c.execute(Transfer(actor="a", email_id="D1", agent="b")))
    before = c.emails["D1"]
    accepted(c.execute(Reject(actor="b", email_id="D1")))
    assert c.emails["D1"] == stepped(
        before, phase=Phase.QUEUED, invitee=None, queue="outbound", rejected_by=frozenset({"b"})
    )


# ----------------------------------------------------------------- transfer


def test_transfer_to_an_agent_invites_the_target(c: ContactCenter) -> None:
    before = processing(c)
    decision = c.execute(Transfer(actor="a", email_id="E1", agent="b", reference_id=5))
    assert c.emails["E1"] == stepped(
        before,
        phase=Phase.INVITED,
        owner=None,
        invitee="b",
        transfers=1,
        last_transferred_by="a",
    )
    invite = {
        "id": "E1",
        "state": "Invited",
        "capabilities": ["Accept", "Reject"],
        "uri": uri("E1"),
        **INBOUND_CONTENT,
    }
    assert sent_to(decision) == [
        ("a", message("StatusChange", gone("E1", "Completed", INBOUND_CONTENT), 5)),
        ("b", message("StatusChange", invite)),
    ]


def test_transfer_to_a_queue_queues_it(c: ContactCenter) -> None:
    before = processing(c)
    decision = c.execute(Transfer(actor="a", email_id="E1", queue="second-line"))
    assert c.emails["E1"] == stepped(
        before,
        phase=Phase.QUEUED,
        owner=None,
        invitee=None,
        queue="second-line",
        transfers=1,
        last_transferred_by="a",
    )
    assert sent_to(decision) == [
        ("a", message("StatusChange", gone("E1", "Completed", INBOUND_CONTENT)))
    ]


def test_transfer_of_a_draft(c: ContactCenter) -> None:
    before = composing(c, "D1", "a")
    accepted(c.execute(Transfer(actor="a", email_id="D1", queue="drafts")))
    assert c.emails["D1"] == stepped(
        before,
        phase=Phase.QUEUED,
        owner=None,
        queue="drafts",
        transfers=1,
        last_transferred_by="a",
    )


# ----------------------------------------------------------------- complete


def test_complete_finishes_the_email(c: ContactCenter) -> None:
    before = processing(c)
    decision = c.execute(Complete(actor="a", email_id="E1", reference_id=8))
    email = c.emails["E1"]
    assert email == stepped(before, phase=Phase.COMPLETED, owner=None, invitee=None)
    assert email.is_terminal
    assert sent_to(decision) == [
        ("a", message("StatusChange", gone("E1", "Completed", INBOUND_CONTENT), 8))
    ]


def test_complete_with_queue_queues_it_for_further_processing(c: ContactCenter) -> None:
    before = processing(c)
    decision = c.execute(Complete(actor="a", email_id="E1", queue="qa"))
    assert c.emails["E1"] == stepped(before, phase=Phase.QUEUED, queue="qa", owner=None)
    assert sent_to(decision) == [
        ("a", message("StatusChange", gone("E1", "Completed", INBOUND_CONTENT)))
    ]


# ----------------------------------------------------------------- reply / create


def test_reply_creates_a_draft_to_the_sender(c: ContactCenter) -> None:
    before = processing(
        c,
        cc=("boss@example.com",),
        body_as_plain_text="line one\nline two",
    )
    decision = c.execute(
        Reply(
            actor="a",
            email_id="E1",
            new_email_id="R1",
            reference_id=6,
            queue="outbound",
            user_data={"Lang": "en"},
            quote_original=True,
            reply_to_start_line="You wrote:",
        )
    )
    assert c.emails["E1"] == before
    assert c.emails["R1"] == new_draft(
        "R1",
        "outbound",
        content=replace(REPLY_CONTENT, body_as_plain_text="You wrote:\n> line one\n> line two"),
        user_data={"ContactId": "C1", "Lang": "en"},
    )
    expected = {
        "id": "R1",
        "state": "Composing",
        "capabilities": COMPOSING_CAPS,
        "uri": uri("R1"),
        "from": "support@example.com",
        "to": ["customer@example.com"],
        "subject": "Re: Hi",
        "bodyAsPlainText": "You wrote:\n> line one\n> line two",
        "contactId": "C1",
        "parentId": "E1",
        "userData": {"ContactId": "C1", "Lang": "en"},
    }
    assert sent_to(decision) == [("a", message("StatusChange", expected, 6))]


def test_reply_defaults_and_custom_prefix_and_indent(c: ContactCenter) -> None:
    processing(c, body="only html-less body")
    accepted(
        c.execute(
            Reply(
                actor="a",
                email_id="E1",
                new_email_id="R1",
                subject_prefix="AW: ",
                quote_original=True,
                indent_character="|",
                body="<p>thanks</p>",
            )
        )
    )
    assert c.emails["R1"] == new_draft(
        "R1",
        "default",
        content=replace(
            REPLY_CONTENT,
            subject="AW: Hi",
            body="<p>thanks</p>",
            body_as_plain_text="| only html-less body",
            cc=(),
        ),
        user_data={"ContactId": "C1"},
    )


def test_quoting_an_email_without_body_gives_the_start_line_only(c: ContactCenter) -> None:
    processing(c)
    reply = Reply(
        actor="a",
        email_id="E1",
        new_email_id="R1",
        quote_original=True,
        reply_to_start_line="You wrote:",
    )
    accepted(c.execute(reply))
    assert c.emails["R1"].content.body_as_plain_text == "You wrote:"
    assert c.emails["R1"] == new_draft(
        "R1",
        "default",
        content=replace(REPLY_CONTENT, body_as_plain_text="You wrote:"),
        user_data={"ContactId": "C1"},
    )


def test_a_reply_to_an_email_without_subject_is_just_the_prefix(c: ContactCenter) -> None:
    processing(c, subject=None)
    accepted(c.execute(Reply(actor="a", email_id="E1", new_email_id="R1")))
    assert c.emails["R1"].content.subject == "Re: "
    assert c.emails["R1"] == new_draft(
        "R1",
        "default",
        content=replace(REPLY_CONTENT, subject="Re: "),
        user_data={"ContactId": "C1"},
    )


def test_reply_all_copies_cc(c: ContactCenter) -> None:
    processing(c, cc=("boss@example.com", "team@example.com"))
    decision = accepted(c.execute(ReplyAll(actor="a", email_id="E1", new_email_id="R1")))
    assert c.emails["R1"] == new_draft(
        "R1",
        "default",
        content=replace(REPLY_CONTENT, cc=("boss@example.com", "team@example.com")),
        user_data={"ContactId": "C1"},
    )
    assert decision.notifications[0].to_dict()["data"]["email"]["cc"] == [
        "boss@example.com",
        "team@example.com",
    ]
    expected = {
        "id": "R1",
        "state": "Composing",
        "capabilities": COMPOSING_CAPS,
        "uri": uri("R1"),
        "from": "support@example.com",
        "to": ["customer@example.com"],
        "cc": ["boss@example.com", "team@example.com"],
        "subject": "Re: Hi",
        "contactId": "C1",
        "parentId": "E1",
        "userData": {"ContactId": "C1"},
    }
    assert sent_to(decision) == [("a", message("StatusChange", expected))]


def test_reply_without_quote_keeps_given_bodies(c: ContactCenter) -> None:
    processing(c, body_as_plain_text="original")
    accepted(
        c.execute(
            Reply(
                actor="a",
                email_id="E1",
                new_email_id="R1",
                body_as_plain_text="mine",
                mime="text/plain",
            )
        )
    )
    assert c.emails["R1"] == new_draft(
        "R1",
        "default",
        content=replace(REPLY_CONTENT, body_as_plain_text="mine", mime="text/plain"),
        user_data={"ContactId": "C1"},
    )


def test_create_makes_an_owned_draft(c: ContactCenter) -> None:
    decision = c.execute(Create(actor="a", email_id="D1", reference_id=22))
    assert c.emails["D1"] == new_draft("D1", "default")
    expected = {"id": "D1", "state": "Composing", "capabilities": COMPOSING_CAPS, "uri": uri("D1")}
    assert sent_to(decision) == [("a", message("StatusChange", expected, 22))]


def test_create_with_parameters(c: ContactCenter) -> None:
    accepted(
        c.execute(
            Create(actor="a", email_id="D1", queue="q9", parent_id="E0", user_data={"x": [1]})
        )
    )
    assert c.emails["D1"] == new_draft(
        "D1", "q9", content=Content(parent_id="E0"), user_data={"x": [1]}
    )


def test_default_queue_is_configurable() -> None:
    c = ContactCenter(config=Config(default_queue="drafts"))
    accepted(c.execute(Create(actor="a", email_id="D1")))
    assert c.emails["D1"] == new_draft("D1", "drafts")


# ----------------------------------------------------------------- drafts


def test_save_replaces_the_given_fields(c: ContactCenter) -> None:
    before = composing(c)
    fields = EmailFields(
        subject="S", body="B", to=("t@example.com",), from_="f@example.com", bcc=("x@y",)
    )
    decision = c.execute(Save(actor="a", email_id="D1", fields=fields, reference_id=38))
    saved = Content(
        subject="S", body="B", to=("t@example.com",), from_="f@example.com", bcc=("x@y",)
    )
    assert c.emails["D1"] == stepped(before, content=saved)
    expected = {
        "id": "D1",
        "state": "Composing",
        "capabilities": COMPOSING_CAPS,
        "uri": uri("D1"),
        "from": "f@example.com",
        "to": ["t@example.com"],
        "bcc": ["x@y"],
        "subject": "S",
        "body": "B",
    }
    assert sent_to(decision) == [("a", message("EmailSaved", expected, 38))]
    accepted(c.execute(Save(actor="a", email_id="D1", fields=EmailFields(subject="S2"))))
    assert c.emails["D1"] == stepped(before, 2, content=replace(saved, subject="S2"))


# What builders.composing_with_recipient saved on the draft, as GWS names it.
SENT_CONTENT = {"to": ["customer@example.com"], "subject": "Hello", "body": "Hi"}


def test_send_hands_the_draft_over(c: ContactCenter) -> None:
    before = composing_with_recipient(c)
    decision = c.execute(Send(actor="a", email_id="D1", queue="outbound", reference_id=2))
    assert c.emails["D1"] == stepped(before, phase=Phase.SENT, owner=None, queue="outbound")
    assert sent_to(decision) == [
        ("a", message("StatusChange", gone("D1", "Sent", SENT_CONTENT), 2))
    ]


def test_send_saves_the_given_email_first(c: ContactCenter) -> None:
    before = composing(c)
    fields = EmailFields(to=("late@example.com",), subject="Late")
    accepted(c.execute(Send(actor="a", email_id="D1", queue="out", fields=fields)))
    assert c.emails["D1"] == stepped(
        before,
        phase=Phase.SENT,
        owner=None,
        queue="out",
        content=Content(to=("late@example.com",), subject="Late"),
    )


def test_a_sent_email_is_in_the_queue_it_was_sent_through(c: ContactCenter) -> None:
    accepted(c.execute(Create(actor="a", email_id="D1", queue="drafts")))
    before = c.emails["D1"]
    send = Send(actor="a", email_id="D1", queue="outbound", fields=None)
    assert_refused(c, send, StatusCode.MISSING_PARAMETER)

    fields = EmailFields(to=("x@example.com",))
    accepted(c.execute(Send(actor="a", email_id="D1", queue="outbound", fields=fields)))
    assert c.emails["D1"].queue == "outbound"
    assert c.emails["D1"] == stepped(
        before,
        phase=Phase.SENT,
        owner=None,
        queue="outbound",
        content=Content(to=("x@example.com",)),
    )


def test_cancel_discards_the_draft(c: ContactCenter) -> None:
    before = composing(c)
    decision = c.execute(Cancel(actor="a", email_id="D1", reference_id=1))
    assert c.emails["D1"] == stepped(before, phase=Phase.CANCELED, owner=None)
    assert sent_to(decision) == [("a", message("StatusChange", gone("D1", "Canceled", {}), 1))]


def test_add_and_remove_attachments(c: ContactCenter) -> None:
    before = composing(c)
    decision = c.execute(
        AddAttachment(
            actor="a",
            email_id="D1",
            document_id="DOC1",
            name="a.txt",
            size=3,
            mime="text/plain",
            reference_id=40,
        )
    )
    first = Attachment(id="DOC1", name="a.txt", size=3, mime="text/plain")
    assert c.emails["D1"] == stepped(before, attachments=(first,))
    attachment = {
        "id": "DOC1",
        "name": "a.txt",
        "size": 3,
        "mime": "text/plain",
        "uri": uri("D1") + "/attachments/DOC1",
    }
    base = {"id": "D1", "state": "Composing", "capabilities": COMPOSING_CAPS, "uri": uri("D1")}
    assert sent_to(decision) == [
        ("a", message("AttachmentAdded", {**base, "attachments": [attachment]}, 40))
    ]
    accepted(c.execute(AddAttachment(actor="a", email_id="D1", document_id="DOC2")))
    assert c.emails["D1"] == stepped(before, 2, attachments=(first, Attachment(id="DOC2")))
    decision = c.execute(RemoveAttachment(actor="a", email_id="D1", document_id="DOC1"))
    assert c.emails["D1"] == stepped(before, 3, attachments=(Attachment(id="DOC2"),))
    second = {"id": "DOC2", "uri": uri("D1") + "/attachments/DOC2"}
    assert sent_to(decision) == [
        ("a", message("AttachmentRemoved", {**base, "attachments": [second]}))
    ]
    decision = c.execute(RemoveAttachment(actor="a", email_id="D1", document_id="DOC2"))
    assert c.emails["D1"] == stepped(before, 4, attachments=())
    assert sent_to(decision) == [("a", message("AttachmentRemoved", {**base, "attachments": []}))]


# ----------------------------------------------------------------- properties


@pytest.mark.parametrize("draft", [False, True], ids=["processing", "composing"])
def test_user_data_operations(c: ContactCenter, draft: bool) -> None:
    eid = "D1" if draft else "E1"
    before = composing(c) if draft else processing(c)
    start = dict(before.user_data)

    steps: list[None] = []

    def now(**user_data: Any) -> Email:
        """The email as it must be now: ``before`` with this userData."""
        steps.append(None)  # one more operation, one more version
        return stepped(before, len(steps), user_data={**start, **user_data})

    decision = c.execute(AttachUserData(actor="a", email_id=eid, user_data={"a": 1, "b": "x"}))
    assert c.emails[eid] == now(a=1, b="x")
    data = sent_to(decision)[0][1]["data"]
    assert data["notificationType"] == "PropertiesUpdated"
    assert data["email"]["userData"] == {**start, "a": 1, "b": "x"}
    assert data["email"]["capabilities"] == (COMPOSING_CAPS if draft else PROCESSING_CAPS)
    if draft:
        full = {"id": eid, "state": "Composing", "capabilities": COMPOSING_CAPS, "uri": uri(eid)}
    else:
        full = {
            "id": eid,
            "state": "Processing",
            "capabilities": PROCESSING_CAPS,
            "uri": uri(eid),
            **INBOUND_CONTENT,
        }
    assert sent_to(decision) == [
        ("a", message("PropertiesUpdated", {**full, "userData": {**start, "a": 1, "b": "x"}}))
    ]
    accepted(c.execute(AttachUserData(actor="a", email_id=eid, user_data={"a": 2})))
    assert c.emails[eid] == now(a=2, b="x")
    accepted(c.execute(UpdateUserData(actor="a", email_id=eid, user_data={"b": "y", "c": None})))
    assert c.emails[eid] == now(a=2, b="y", c=None)
    accepted(c.execute(DeleteUserData(actor="a", email_id=eid, keys=("a", "absent"))))
    assert c.emails[eid] == now(b="y", c=None)
    accepted(c.execute(SetDisposition(actor="a", email_id=eid, disposition="Sold")))
    assert c.emails[eid] == now(b="y", c=None, DispositionCode="Sold")
    accepted(c.execute(SetDisposition(actor="a", email_id=eid, disposition="X", key="Disp")))
    assert c.emails[eid] == now(b="y", c=None, DispositionCode="Sold", Disp="X")
    decision = c.execute(AddComment(actor="a", email_id=eid, comment="called back", reference_id=7))
    assert c.emails[eid] == replace(
        now(b="y", c=None, DispositionCode="Sold", Disp="X"), comment="called back"
    )  # the seventh operation
    data = sent_to(decision)[0][1]["data"]
    assert (data["notificationType"], data["referenceId"], data["email"]["comment"]) == (
        "PropertiesUpdated",
        7,
        "called back",
    )
    user_data = {**start, "b": "y", "c": None, "DispositionCode": "Sold", "Disp": "X"}
    commented = {**full, "userData": user_data, "comment": "called back"}
    assert sent_to(decision) == [("a", message("PropertiesUpdated", commented, 7))]
    assert c.emails[eid].phase is (Phase.COMPOSING if draft else Phase.PROCESSING)


def test_disposition_key_is_configurable() -> None:
    c = ContactCenter(config=Config(disposition_key="Outcome"))
    before = processing(c)
    accepted(c.execute(SetDisposition(actor="a", email_id="E1", disposition="Done")))
    assert c.emails["E1"] == stepped(before, user_data={**before.user_data, "Outcome": "Done"})


def test_set_in_focus_changes_nothing_and_notifies_nobody(c: ContactCenter) -> None:
    before = processing(c)
    decision = accepted(c.execute(SetInFocus(actor="a", email_id="E1")))
    assert c.emails["E1"] == stepped(before)  # only the version counts the event
    assert decision.events == (FocusSet(email_id="E1", by="a"),)
    assert decision.notifications == ()


# ----------------------------------------------------------------- events


def test_events_say_who_did_what(c: ContactCenter) -> None:
    processing(c)
    reply = accepted(c.execute(ReplyAll(actor="a", email_id="E1", new_email_id="R1")))
    created = reply.events[0]
    assert isinstance(created, ReplyCreated)
    assert (created.original_id, created.operation) == ("E1", Operation.REPLY_ALL)
    assert created == ReplyCreated(
        email_id="R1",
        phase=Phase.COMPOSING,
        original_id="E1",
        operation=Operation.REPLY_ALL,
        owner="a",
        queue="default",
        content=REPLY_CONTENT,
        user_data={"ContactId": "C1"},
    )
    commands: tuple[Command, ...] = (
        AddComment(actor="a", email_id="E1", comment="note"),
        AddAttachment(actor="a", email_id="R1", document_id="d1"),
        RemoveAttachment(actor="a", email_id="R1", document_id="d1"),
        Transfer(actor="a", email_id="E1", queue="q"),
    )
    for command in commands:
        (event,) = accepted(c.execute(command)).events
        assert getattr(event, "by", None) == "a", event
    assert c.emails["E1"].last_transferred_by == "a"
    accepted(c.execute(Offer(email_id="E1", agent="b")))
    (revoked,) = accepted(c.execute(Revoke(email_id="E1"))).events
    assert isinstance(revoked, InvitationRevoked)
    assert revoked.agent == "b"
    # Back to the queue it was transferred to.
    assert revoked == InvitationRevoked(email_id="E1", phase=Phase.QUEUED, agent="b", queue="q")


# ----------------------------------------------------------------- introspection


def test_capabilities_and_permissions_follow_the_holder(c: ContactCenter) -> None:
    email = invited(c)
    assert [str(o) for o in capabilities(email, "a")] == ["Accept", "Reject"]
    assert capabilities(email, "b") == ()
    draft = composing(c, "D1", "b")
    p = permissions(draft, "b")
    assert [str(o) for o in p.advertised] == COMPOSING_CAPS
    assert [str(o) for o in p.unadvertised] == ["Save", "AddAttachment", "RemoveAttachment"]
    assert permissions(draft, "a").allowed == ()
    assert c.permissions("D1", "b") == p


def test_base_url_is_configurable() -> None:
    c = ContactCenter(config=Config(base_url="https://gws.example.com"))
    decision = accepted(c.execute(Create(actor="a", email_id="D1")))
    assert decision.notifications[0].to_dict()["data"]["email"]["uri"] == (
        "https://gws.example.com/api/v2/me/emails/D1"
    )
