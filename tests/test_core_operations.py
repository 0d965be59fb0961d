"""Every operation and system event on its accepted path: state, ownership,
capabilities and the exact notifications (SPEC.md §2-6, §8)."""

from __future__ import annotations

from typing import Any

import pytest
from builders import (
    COMPOSING_CAPS,
    PROCESSING_CAPS,
    accepted,
    arrive,
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
    Attachment,
    AttachUserData,
    Cancel,
    Complete,
    Config,
    ContactCenter,
    Create,
    DeleteUserData,
    Direction,
    EmailFields,
    Offer,
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
    Transfer,
    UpdateUserData,
    capabilities,
    permissions,
)
from email_fsm.events import FocusSet

INBOUND_CONTENT: dict[str, Any] = {
    "from": "customer@example.com",
    "to": ["support@example.com"],
    "subject": "Hi",
    "contactId": "C1",
    "revelantResponseTemplateGroups": [],
}


def minimal(email_id: str, state: str) -> dict[str, Any]:
    return {"id": email_id, "state": state, "capabilities": [], "uri": uri(email_id)}


def sent_to(decision: Any) -> list[tuple[str, dict[str, Any]]]:
    return [(n.recipient, n.to_dict()) for n in accepted(decision).notifications]


@pytest.fixture
def c() -> ContactCenter:
    return center()


# ----------------------------------------------------------------- system events


def test_arrive_queues_a_new_inbound_email_silently(c: ContactCenter) -> None:
    decision = accepted(c.execute(_arrive_command()))
    email = c.emails["E1"]
    assert (email.phase, email.queue, email.owner, email.invitee) == (
        Phase.QUEUED,
        "inbound",
        None,
        None,
    )
    assert email.direction is Direction.INBOUND
    assert email.content.received_date == "2016-03-15 23:38:42.000+1000"
    assert dict(email.user_data) == {"k": 1}
    assert decision.notifications == ()


def _arrive_command() -> Any:
    from email_fsm import Arrive

    return Arrive(
        email_id="E1",
        queue="inbound",
        from_="customer@example.com",
        to=("support@example.com",),
        subject="Hi",
        contact_id="C1",
        received_date="2016-03-15 23:38:42.000+1000",
        user_data={"k": 1},
    )


def test_offer_invites_the_agent(c: ContactCenter) -> None:
    arrive(c)
    decision = c.execute(Offer(email_id="E1", agent="a"))
    email = c.emails["E1"]
    assert (email.phase, email.invitee, email.owner) == (Phase.INVITED, "a", None)
    full = {"id": "E1", "state": "Invited", "capabilities": ["Accept", "Reject"], "uri": uri("E1")}
    assert sent_to(decision) == [("a", message("StatusChange", {**full, **INBOUND_CONTENT}))]


def test_revoke_returns_the_email_to_its_queue(c: ContactCenter) -> None:
    invited(c)
    decision = c.execute(Revoke(email_id="E1"))
    email = c.emails["E1"]
    assert (email.phase, email.invitee, email.queue) == (Phase.QUEUED, None, "inbound")
    assert sent_to(decision) == [("a", message("StatusChange", minimal("E1", "Revoked")))]


# ----------------------------------------------------------------- invitations


def test_accept_inbound_makes_the_invitee_owner_processing(c: ContactCenter) -> None:
    invited(c)
    decision = c.execute(Accept(actor="a", email_id="E1", reference_id=4, save_lar=True))
    email = c.emails["E1"]
    assert (email.phase, email.owner, email.invitee) == (Phase.PROCESSING, "a", None)
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
    decision = c.execute(Accept(actor="b", email_id="D1", reference_id=9))
    email = c.emails["D1"]
    assert (email.phase, email.owner, email.invitee) == (Phase.COMPOSING, "b", None)
    expected = {"id": "D1", "state": "Composing", "capabilities": COMPOSING_CAPS, "uri": uri("D1")}
    assert sent_to(decision) == [("b", message("StatusChange", expected, 9))]


def test_reject_requeues_and_records_the_rejection(c: ContactCenter) -> None:
    invited(c)
    decision = c.execute(Reject(actor="a", email_id="E1", reference_id=3))
    email = c.emails["E1"]
    assert (email.phase, email.invitee, email.queue) == (Phase.QUEUED, None, "inbound")
    assert email.rejected_by == frozenset({"a"})
    assert sent_to(decision) == [("a", message("StatusChange", minimal("E1", "Revoked"), 3))]
    assert type(accepted(decision).events[0]).__name__ == "InvitationRejected"


def test_reject_of_an_outbound_email_returns_it_to_its_creation_queue(c: ContactCenter) -> None:
    composing(c, "D1", "a")
    accepted(c.execute(Transfer(actor="a", email_id="D1", agent="b")))
    accepted(c.execute(Reject(actor="b", email_id="D1")))
    assert (c.emails["D1"].phase, c.emails["D1"].queue) == (Phase.QUEUED, "outbound")


# ----------------------------------------------------------------- transfer


def test_transfer_to_an_agent_invites_the_target(c: ContactCenter) -> None:
    processing(c)
    decision = c.execute(Transfer(actor="a", email_id="E1", agent="b", reference_id=5))
    email = c.emails["E1"]
    assert (email.phase, email.owner, email.invitee) == (Phase.INVITED, None, "b")
    assert (email.transfers, email.last_transferred_by) == (1, "a")
    invite = {
        "id": "E1",
        "state": "Invited",
        "capabilities": ["Accept", "Reject"],
        "uri": uri("E1"),
        **INBOUND_CONTENT,
    }
    assert sent_to(decision) == [
        ("a", message("StatusChange", minimal("E1", "Transferred"), 5)),
        ("b", message("StatusChange", invite)),
    ]


def test_transfer_to_a_queue_queues_it(c: ContactCenter) -> None:
    processing(c)
    decision = c.execute(Transfer(actor="a", email_id="E1", queue="second-line"))
    email = c.emails["E1"]
    assert (email.phase, email.owner, email.invitee, email.queue) == (
        Phase.QUEUED,
        None,
        None,
        "second-line",
    )
    assert sent_to(decision) == [("a", message("StatusChange", minimal("E1", "Transferred")))]


def test_transfer_of_a_draft(c: ContactCenter) -> None:
    composing(c, "D1", "a")
    accepted(c.execute(Transfer(actor="a", email_id="D1", queue="drafts")))
    assert (c.emails["D1"].phase, c.emails["D1"].queue) == (Phase.QUEUED, "drafts")


# ----------------------------------------------------------------- complete


def test_complete_finishes_the_email(c: ContactCenter) -> None:
    processing(c)
    decision = c.execute(Complete(actor="a", email_id="E1", reference_id=8))
    email = c.emails["E1"]
    assert (email.phase, email.owner, email.invitee) == (Phase.COMPLETED, None, None)
    assert email.is_terminal
    assert sent_to(decision) == [("a", message("StatusChange", minimal("E1", "Completed"), 8))]


def test_complete_with_queue_queues_it_for_further_processing(c: ContactCenter) -> None:
    processing(c)
    decision = c.execute(Complete(actor="a", email_id="E1", queue="qa"))
    email = c.emails["E1"]
    assert (email.phase, email.queue, email.owner) == (Phase.QUEUED, "qa", None)
    assert sent_to(decision) == [("a", message("StatusChange", minimal("E1", "Completed")))]


# ----------------------------------------------------------------- reply / create


def test_reply_creates_a_draft_to_the_sender(c: ContactCenter) -> None:
    processing(
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
    original, reply = c.emails["E1"], c.emails["R1"]
    assert (original.phase, original.owner) == (Phase.PROCESSING, "a")
    assert (reply.phase, reply.owner, reply.direction, reply.queue) == (
        Phase.COMPOSING,
        "a",
        Direction.OUTBOUND,
        "outbound",
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
    reply = c.emails["R1"]
    assert reply.queue == "default"
    assert reply.content.subject == "AW: Hi"
    assert reply.content.body == "<p>thanks</p>"
    assert reply.content.body_as_plain_text == "| only html-less body"
    assert reply.content.cc == ()


def test_reply_all_copies_cc(c: ContactCenter) -> None:
    processing(c, cc=("boss@example.com", "team@example.com"))
    decision = accepted(c.execute(ReplyAll(actor="a", email_id="E1", new_email_id="R1")))
    assert c.emails["R1"].content.cc == ("boss@example.com", "team@example.com")
    assert decision.notifications[0].to_dict()["data"]["email"]["cc"] == [
        "boss@example.com",
        "team@example.com",
    ]


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
    assert c.emails["R1"].content.body_as_plain_text == "mine"
    assert c.emails["R1"].content.mime == "text/plain"


def test_create_makes_an_owned_draft(c: ContactCenter) -> None:
    decision = c.execute(Create(actor="a", email_id="D1", reference_id=22))
    email = c.emails["D1"]
    assert (email.phase, email.owner, email.direction, email.queue) == (
        Phase.COMPOSING,
        "a",
        Direction.OUTBOUND,
        "default",
    )
    expected = {"id": "D1", "state": "Composing", "capabilities": COMPOSING_CAPS, "uri": uri("D1")}
    assert sent_to(decision) == [("a", message("StatusChange", expected, 22))]


def test_create_with_parameters(c: ContactCenter) -> None:
    accepted(
        c.execute(
            Create(actor="a", email_id="D1", queue="q9", parent_id="E0", user_data={"x": [1]})
        )
    )
    email = c.emails["D1"]
    assert (email.queue, email.content.parent_id, dict(email.user_data)) == (
        "q9",
        "E0",
        {"x": [1]},
    )


def test_default_queue_is_configurable() -> None:
    c = ContactCenter(config=Config(default_queue="drafts"))
    accepted(c.execute(Create(actor="a", email_id="D1")))
    assert c.emails["D1"].queue == "drafts"


# ----------------------------------------------------------------- drafts


def test_save_replaces_the_given_fields(c: ContactCenter) -> None:
    composing(c)
    fields = EmailFields(
        subject="S", body="B", to=("t@example.com",), from_="f@example.com", bcc=("x@y",)
    )
    decision = c.execute(Save(actor="a", email_id="D1", fields=fields, reference_id=38))
    content = c.emails["D1"].content
    assert (content.subject, content.body, content.to, content.from_, content.bcc) == (
        "S",
        "B",
        ("t@example.com",),
        "f@example.com",
        ("x@y",),
    )
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
    assert (c.emails["D1"].content.subject, c.emails["D1"].content.body) == ("S2", "B")


def test_send_hands_the_draft_over(c: ContactCenter) -> None:
    composing_with_recipient(c)
    decision = c.execute(Send(actor="a", email_id="D1", queue="outbound", reference_id=2))
    email = c.emails["D1"]
    assert (email.phase, email.owner, email.queue) == (Phase.SENT, None, "outbound")
    assert sent_to(decision) == [("a", message("StatusChange", minimal("D1", "Sent"), 2))]


def test_send_saves_the_given_email_first(c: ContactCenter) -> None:
    composing(c)
    fields = EmailFields(to=("late@example.com",), subject="Late")
    accepted(c.execute(Send(actor="a", email_id="D1", queue="out", fields=fields)))
    assert c.emails["D1"].content.to == ("late@example.com",)
    assert c.emails["D1"].content.subject == "Late"


def test_cancel_discards_the_draft(c: ContactCenter) -> None:
    composing(c)
    decision = c.execute(Cancel(actor="a", email_id="D1", reference_id=1))
    assert (c.emails["D1"].phase, c.emails["D1"].owner) == (Phase.CANCELED, None)
    assert sent_to(decision) == [("a", message("StatusChange", minimal("D1", "Canceled"), 1))]


def test_add_and_remove_attachments(c: ContactCenter) -> None:
    composing(c)
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
    assert c.emails["D1"].attachments == (
        Attachment(id="DOC1", name="a.txt", size=3, mime="text/plain"),
    )
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
    assert [a.id for a in c.emails["D1"].attachments] == ["DOC1", "DOC2"]
    decision = c.execute(RemoveAttachment(actor="a", email_id="D1", document_id="DOC1"))
    second = {"id": "DOC2", "uri": uri("D1") + "/attachments/DOC2"}
    assert sent_to(decision) == [
        ("a", message("AttachmentRemoved", {**base, "attachments": [second]}))
    ]
    decision = c.execute(RemoveAttachment(actor="a", email_id="D1", document_id="DOC2"))
    assert len(c.emails["D1"].attachments) == 0
    assert sent_to(decision) == [("a", message("AttachmentRemoved", {**base, "attachments": []}))]


# ----------------------------------------------------------------- properties


@pytest.mark.parametrize("draft", [False, True], ids=["processing", "composing"])
def test_user_data_operations(c: ContactCenter, draft: bool) -> None:
    eid = "D1" if draft else "E1"
    if draft:
        composing(c)
    else:
        processing(c)
    start = dict(c.emails[eid].user_data)
    decision = c.execute(AttachUserData(actor="a", email_id=eid, user_data={"a": 1, "b": "x"}))
    assert dict(c.emails[eid].user_data) == {**start, "a": 1, "b": "x"}
    data = sent_to(decision)[0][1]["data"]
    assert data["notificationType"] == "PropertiesUpdated"
    assert data["email"]["userData"] == {**start, "a": 1, "b": "x"}
    assert data["email"]["capabilities"] == (COMPOSING_CAPS if draft else PROCESSING_CAPS)
    accepted(c.execute(AttachUserData(actor="a", email_id=eid, user_data={"a": 2})))
    assert c.emails[eid].user_data["a"] == 2
    accepted(c.execute(UpdateUserData(actor="a", email_id=eid, user_data={"b": "y", "c": None})))
    assert dict(c.emails[eid].user_data) == {**start, "a": 2, "b": "y", "c": None}
    accepted(c.execute(DeleteUserData(actor="a", email_id=eid, keys=("a", "absent"))))
    assert dict(c.emails[eid].user_data) == {**start, "b": "y", "c": None}
    accepted(c.execute(SetDisposition(actor="a", email_id=eid, disposition="Sold")))
    assert c.emails[eid].user_data["DispositionCode"] == "Sold"
    accepted(c.execute(SetDisposition(actor="a", email_id=eid, disposition="X", key="Disp")))
    assert c.emails[eid].user_data["Disp"] == "X"
    decision = c.execute(AddComment(actor="a", email_id=eid, comment="called back", reference_id=7))
    assert c.emails[eid].comment == "called back"
    data = sent_to(decision)[0][1]["data"]
    assert (data["notificationType"], data["referenceId"], data["email"]["comment"]) == (
        "PropertiesUpdated",
        7,
        "called back",
    )
    assert c.emails[eid].phase is (Phase.COMPOSING if draft else Phase.PROCESSING)


def test_disposition_key_is_configurable() -> None:
    c = ContactCenter(config=Config(disposition_key="Outcome"))
    processing(c)
    accepted(c.execute(SetDisposition(actor="a", email_id="E1", disposition="Done")))
    assert c.emails["E1"].user_data["Outcome"] == "Done"


def test_set_in_focus_changes_nothing_and_notifies_nobody(c: ContactCenter) -> None:
    before = processing(c)
    decision = accepted(c.execute(SetInFocus(actor="a", email_id="E1")))
    assert c.emails["E1"] == before
    assert decision.events == (FocusSet(email_id="E1", by="a"),)
    assert decision.notifications == ()


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
