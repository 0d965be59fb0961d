"""What GWS's own pages and clients show, through the core: views, whole email objects,
address lists, recipients, the later-release fields, the uri template, the total limits.

docs/spec.md (View states, Operations, Notifications, Refusals) states each rule; the
expected values here are written from it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from builders import (
    BASE,
    accepted,
    arrive,
    assert_refused,
    center,
    composing,
    message,
    processing,
    uri,
)

from email_fsm import (
    Accept,
    Complete,
    Config,
    ContactCenter,
    Content,
    EmailFields,
    Limits,
    Offer,
    Reject,
    Save,
    Send,
    SetDisposition,
    StatusCode,
    Transfer,
    UpdateUserData,
)
from email_fsm.email import normalized, user_data_bytes


@pytest.fixture
def c() -> ContactCenter:
    return center()


def _sent_to(decision: Any) -> list[tuple[str, dict[str, Any]]]:
    return [(n.recipient, n.to_dict()) for n in accepted(decision).notifications]


INBOUND: dict[str, Any] = {
    "from": "customer@example.com",
    "to": ["support@example.com"],
    "subject": "Hi",
    "contactId": "C1",
    "revelantResponseTemplateGroups": [],
}


# ------------------------------------------------------------------- view states


def test_the_rejecting_agent_sees_completed_with_the_whole_email(c: ContactCenter) -> None:
    arrive(c, user_data={"Priority": "high"})
    accepted(c.execute(Offer(email_id="E1", agent="a")))
    decision = c.execute(Reject(actor="a", email_id="E1", reference_id=6))
    email: dict[str, Any] = {"id": "E1", "state": "Completed", "capabilities": [], "uri": uri("E1")}
    email |= {**INBOUND, "userData": {"Priority": "high"}}
    assert _sent_to(decision) == [("a", message("StatusChange", email, 6))]


def test_the_transferring_agent_sees_completed_and_the_target_is_invited(
    c: ContactCenter,
) -> None:
    processing(c)
    decision = c.execute(Transfer(actor="a", email_id="E1", agent="b", reference_id=16))
    gone = {"id": "E1", "state": "Completed", "capabilities": [], "uri": uri("E1"), **INBOUND}
    invited = {**gone, "state": "Invited", "capabilities": ["Accept", "Reject"]}
    assert _sent_to(decision) == [
        ("a", message("StatusChange", gone, 16)),
        ("b", message("StatusChange", invited)),
    ]


def test_a_disposition_set_before_complete_is_in_the_completed_notification(
    c: ContactCenter,
) -> None:
    processing(c)
    accepted(c.execute(SetDisposition(actor="a", email_id="E1", disposition="Resolved")))
    decision = c.execute(Complete(actor="a", email_id="E1", reference_id=9))
    email: dict[str, Any] = {"id": "E1", "state": "Completed", "capabilities": [], "uri": uri("E1")}
    email |= {**INBOUND, "userData": {"DispositionCode": "Resolved"}}
    assert _sent_to(decision) == [("a", message("StatusChange", email, 9))]


# ------------------------------------------------------------------ address lists


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ((), ()),
        (("",), ()),
        (("a@x", " b@y"), ("a@x", "b@y")),
        (("  ", "a@x ", "", "\tc@z\n"), ("a@x", "c@z")),
    ],
)
def test_address_lists_are_trimmed_and_blank_entries_dropped(
    given: tuple[str, ...], kept: tuple[str, ...]
) -> None:
    assert normalized(given) == kept
    assert normalized(kept) == kept


def test_save_stores_the_lists_as_the_client_meant_them(c: ContactCenter) -> None:
    before = composing(c)
    fields = EmailFields(to=("a@x", " b@y"), cc=("",), bcc=(" ",), subject="S")
    accepted(c.execute(Save(actor="a", email_id="D1", fields=fields)))
    saved = Content(to=("a@x", "b@y"), subject="S")
    assert c.emails["D1"] == replace(before, content=saved, version=before.version + 1)


def test_save_with_an_empty_list_clears_the_field(c: ContactCenter) -> None:
    composing(c)
    accepted(c.execute(Save(actor="a", email_id="D1", fields=EmailFields(cc=("c@x",)))))
    accepted(c.execute(Save(actor="a", email_id="D1", fields=EmailFields(cc=("",)))))
    assert c.emails["D1"].content.cc == ()


def test_an_arriving_email_keeps_its_addresses_trimmed(c: ContactCenter) -> None:
    email = arrive(c, to=(" support@example.com ", ""), cc=("", "x@y "))
    assert (email.content.to, email.content.cc) == (("support@example.com",), ("x@y",))


@pytest.mark.parametrize("field", ["to", "cc", "bcc"])
def test_send_needs_one_address_in_to_cc_or_bcc(c: ContactCenter, field: str) -> None:
    composing(c)
    lists: dict[str, Any] = {field: ("", " ")}
    blank = EmailFields(**lists)
    refused = assert_refused(
        c, Send(actor="a", email_id="D1", queue="out", fields=blank), StatusCode.MISSING_PARAMETER
    )
    assert refused.message == (
        "Send refused for email D1 (Composing): the email has no recipient (to, cc or bcc)"
    )
    lists[field] = (" r@x",)
    one = EmailFields(**lists)
    decision = accepted(c.execute(Send(actor="a", email_id="D1", queue="out", fields=one)))
    assert getattr(decision.emails[0].content, field) == ("r@x",)


# --------------------------------------------------- configuration of the email object


def test_the_uri_template_names_every_uri(c: ContactCenter) -> None:
    c.config = Config(uri_template="{baseUrl}/api/v2/email/{id}")
    processing(c)
    decision = c.execute(UpdateUserData(actor="a", email_id="E1", user_data={"k": 1}))
    (notification,) = accepted(decision).notifications
    assert notification.to_dict()["data"]["email"]["uri"] == f"{BASE}/api/v2/email/E1"


def test_a_uri_template_may_name_only_base_url_and_id() -> None:
    with pytest.raises(ValueError, match=r"may name only \{baseUrl\} and \{id\}"):
        Config(uri_template="{baseUrl}/api/v2/me/emails/{emailId}")


def test_later_release_fields_come_with_the_switch(c: ContactCenter) -> None:
    c.config = Config(extended_fields=True)
    processing(c)
    decision = c.execute(Transfer(actor="a", email_id="E1", agent="b"))
    gone, invited = (n.to_dict()["data"]["email"] for n in accepted(decision).notifications)
    extra = {"emailType": "Inbound", "userData": {}, "suggestedQueueUris": []}
    assert gone == {
        "id": "E1",
        "state": "Completed",
        "capabilities": [],
        "uri": uri("E1"),
        **INBOUND,
        **extra,
    }
    # an invitation is not an assignment: nobody owns the email until b accepts
    assert invited == {**gone, "state": "Invited", "capabilities": ["Accept", "Reject"]}
    accepted_by_b = accepted(c.execute(Accept(actor="b", email_id="E1")))
    owned = accepted_by_b.notifications[0].to_dict()["data"]["email"]
    assert owned["assignedTo"] == "b"
    assert owned["state"] == "Processing"


def test_without_the_switch_the_documented_samples_are_reproduced(c: ContactCenter) -> None:
    processing(c)
    decision = c.execute(Complete(actor="a", email_id="E1"))
    email = accepted(decision).notifications[0].to_dict()["data"]["email"]
    assert not {"emailType", "assignedTo", "suggestedQueueUris", "userData"} & set(email)


def test_the_json_text_and_the_model_agree_with_every_switch(c: ContactCenter) -> None:
    c.config = Config(extended_fields=True, uri_template="{baseUrl}/x/{id}")
    processing(c)
    decision = c.execute(SetDisposition(actor="a", email_id="E1", disposition="Done"))
    (notification,) = accepted(decision).notifications
    model = notification.to_model().model_dump_json(by_alias=True, exclude_unset=True)
    assert notification.to_json() == model


# ------------------------------------------------------------ userData in all


def test_user_data_bytes_counts_compact_utf8_json() -> None:
    assert user_data_bytes({}) == 2
    assert user_data_bytes({"a": "é"}) == len('{"a":"é"}'.encode())
    assert user_data_bytes({"n": [1, None, True]}) == len(b'{"n":[1,null,true]}')


def test_user_data_over_its_total_is_refused_and_nothing_changes() -> None:
    c = center(config=Config(limits=Limits(max_user_data_bytes=50)))
    processing(c)
    accepted(c.execute(UpdateUserData(actor="a", email_id="E1", user_data={"a": "x" * 10})))
    # {"a":"xxxxxxxxxx","b":"yyyyyyyyyyyyyyyyyyyy"}: 17 + 27 + 1 = 45 bytes, within the limit
    within = UpdateUserData(actor="a", email_id="E1", user_data={"b": "y" * 20})
    accepted(c.execute(within))
    over = UpdateUserData(actor="a", email_id="E1", user_data={"c": "z"})
    refused = assert_refused(c, over, StatusCode.INVALID_VALUE)
    assert refused.message == (
        "UpdateUserData refused for email E1 (Processing): "
        "userData would be 53 bytes as JSON (limit 50)"  # 45 + len(',"c":"z"')
    )


def test_a_given_user_data_over_the_total_is_refused_as_its_shape() -> None:
    c = center(config=Config(limits=Limits(max_user_data_bytes=10)))
    processing(c)
    refused = assert_refused(
        c,
        UpdateUserData(actor="a", email_id="E1", user_data={"key": "value!"}),
        StatusCode.INVALID_VALUE,
    )
    assert refused.message.endswith("userData is 16 bytes as JSON (limit 10)")
