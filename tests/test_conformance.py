"""Conformance: the model reproduces the real GWS payloads of tests/fixtures/gws/.

The samples are loaded from the raw documentation text through ``gws_docs``, which
repairs the doc artifacts (docs/spec.md, GWS documentation samples). Comparisons ignore
``referenceId`` where the docs took it from unrelated requests; the uri is normalized by
the loader, or, with ``Config(uri_template=GWS_URI)``, compared exactly as GWS wrote it.

The pages of GWS's sibling APIs (fixtures/gws/siblings: Open Media, Chat) show what the
email pages cut off: the acting agent's notification after Reject and Transfer. Their
interactions are not emails, so each comparison maps what is Open Media's or Chat's own
explicitly (:func:`_as_email_notification`) and compares every field that applies to an
email.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from builders import COMPOSING_CAPS, PROCESSING_CAPS, accepted
from gws_docs import (
    GWS_URI,
    SIBLINGS,
    fixture,
    load_sample,
    repair,
    sibling,
    transfer_page_notification,
)

from email_fsm import Arrive, Config, ContactCenter, Notification, Offer, Phase
from email_fsm.cli import demo_scenario_text
from email_fsm.scenario import load_scenario

SEED_TARGET = "e62d21e405a04274bd6bbcaf78bd8c38"
"""The user the EmailTransfer page transfers to (its ``userUri``'s last segment)."""

# The model's uri template and the one GWS's samples write; the loader repairs a sample
# into the first form by default, and keeps the second with gws_path=True.
URI_FORMS = pytest.mark.parametrize(
    ("config", "gws_path"),
    [(Config(), False), (Config(uri_template=GWS_URI), True)],
    ids=["model-uri", "gws-uri"],
)


def _without_reference(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != "referenceId"}


def _data(notification: Notification) -> dict[str, Any]:
    message = notification.to_dict()
    assert message["channel"] == "/v2/me/emails"
    data: dict[str, Any] = message["data"]
    return data


def _seed_story(config: Config, email: dict[str, Any]) -> Notification:
    """The EmailTransfer page's story: the notification the transfer target receives
    once it accepts (docs/spec.md, "Reproducing the GWS samples")."""
    c = ContactCenter(config=config)
    arrive = {
        "event": "Arrive",
        "emailId": email["id"],
        "queueName": "inbound",
        "email": {k: email[k] for k in ("from", "to", "subject", "contactId", "userData")},
    }
    (arrive_command,) = load_scenario(json.dumps({"steps": [arrive]})).steps
    assert isinstance(arrive_command, Arrive)
    accepted(c.execute(arrive_command))
    accepted(c.execute(Offer(email_id=email["id"], agent="a")))
    accepted(c.request("a", {"operationName": "Accept"}, email_id=email["id"], reference_id=1))
    transfer = {
        "operationName": "Transfer",
        "userUri": f"http://localhost:8080/api/v2/users/{SEED_TARGET}",
    }
    accepted(c.request("a", transfer, email_id=email["id"], reference_id=2))
    decision = accepted(
        c.request(SEED_TARGET, {"operationName": "Accept"}, email_id=email["id"], reference_id=5)
    )
    (notification,) = decision.notifications
    assert notification.recipient == SEED_TARGET
    return notification


@URI_FORMS
def test_transfer_page_notification_is_reproduced(config: Config, gws_path: bool) -> None:
    sample = transfer_page_notification(gws_path=gws_path)
    notification = _seed_story(config, sample["email"])
    assert _data(notification) == sample  # referenceId 5 matches the sample's too


def test_gws_uri_template_gives_the_seed_uri_exactly() -> None:
    # Only the doc artifact (the spaces after the colons) is repaired.
    raw = (SIBLINGS.parent / "EmailTransfer.page.txt").read_text("utf-8")
    assert '"uri": "http: //localhost: 8080/api/v2/email/00012a9HEEG034QM"' in raw
    sample = transfer_page_notification(gws_path=True)
    assert sample["email"]["uri"] == "http://localhost:8080/api/v2/email/00012a9HEEG034QM"
    notification = _seed_story(Config(uri_template=GWS_URI), sample["email"])
    assert notification.to_dict()["data"]["email"]["uri"] == sample["email"]["uri"]


def test_seed_with_the_later_release_fields() -> None:
    # Later GWS releases add emailType, assignedTo (the agent holding the email) and
    # suggestedQueueUris to the same object (docs/spec.md, Notifications).
    sample = transfer_page_notification()
    notification = _seed_story(Config(extended_fields=True), sample["email"])
    expected = {
        **sample,
        "email": {
            **sample["email"],
            "emailType": "Inbound",
            "assignedTo": SEED_TARGET,
            "suggestedQueueUris": [],
        },
    }
    assert _data(notification) == expected


@URI_FORMS
def test_create_sample_is_reproduced(config: Config, gws_path: bool) -> None:
    sample = fixture("Create.json", gws_path=gws_path)
    c = ContactCenter(config=config)
    decision = accepted(
        c.request("a", {"operationName": "Create"}, new_email_id=sample["email"]["id"])
    )
    assert _without_reference(_data(decision.notifications[0])) == _without_reference(sample)


def test_create_sample_with_the_later_release_fields() -> None:
    # An outbound draft: emailType Outbound, its creator holds it, userData {} when empty.
    sample = fixture("Create.json")
    c = ContactCenter(config=Config(extended_fields=True))
    decision = accepted(
        c.request("a", {"operationName": "Create"}, new_email_id=sample["email"]["id"])
    )
    assert _data(decision.notifications[0])["email"] == {
        **sample["email"],
        "userData": {},
        "emailType": "Outbound",
        "assignedTo": "a",
        "suggestedQueueUris": [],
    }
    assert sample["email"]["capabilities"] == COMPOSING_CAPS


def _saved(c: ContactCenter, email_id: str) -> Notification:
    accepted(c.request("a", {"operationName": "Create"}, new_email_id=email_id))
    save = {
        "operationName": "Save",
        "email": {
            "from": "htcc@gplus-w2k3-gf80",
            "to": ["qwerty@gplus-w2k3-gf80"],
            "subject": "Thisisatest",
            "body": "HelloSave",
        },
    }
    return accepted(c.request("a", save, email_id=email_id, reference_id=38)).notifications[0]


@URI_FORMS
@pytest.mark.parametrize("name", ["Save.json", "Save.raw.txt"])
def test_save_sample_is_reproduced(name: str, config: Config, gws_path: bool) -> None:
    sample = fixture(name, gws_path=gws_path)
    notification = _saved(ContactCenter(config=config), sample["email"]["id"])
    assert _data(notification) == sample  # the sample's referenceId is 38 too


def test_save_with_padded_and_empty_addresses_is_the_same_sample() -> None:
    # What a client sends from its text fields: padded addresses, "" for an empty field.
    sample = fixture("Save.json")
    c = ContactCenter()
    email_id = sample["email"]["id"]
    accepted(c.request("a", {"operationName": "Create"}, new_email_id=email_id))
    save = {
        "operationName": "Save",
        "email": {
            "from": "htcc@gplus-w2k3-gf80",
            "to": ["  qwerty@gplus-w2k3-gf80 ", ""],
            "cc": [""],
            "bcc": [" "],
            "subject": "Thisisatest",
            "body": "HelloSave",
        },
    }
    decision = accepted(c.request("a", save, email_id=email_id, reference_id=38))
    assert _data(decision.notifications[0]) == sample


@URI_FORMS
def test_add_attachment_sample_is_reproduced(config: Config, gws_path: bool) -> None:
    sample = fixture("AddAttachment.json", gws_path=gws_path)
    email_id = sample["email"]["id"]
    c = ContactCenter(config=config)
    _saved(c, email_id)
    (attachment,) = sample["email"]["attachments"]
    request = {
        "operationName": "AddAttachment",
        "documentId": attachment["id"],
        "name": attachment["name"],
        "size": attachment["size"],
        "mime": attachment["mime"],
    }
    decision = accepted(c.request("a", request, email_id=email_id, reference_id=40))
    assert _data(decision.notifications[0]) == sample


# --------------------------------------------- the sibling APIs' Reject, Transfer, Accept

OPEN_MEDIA_URI = "{baseUrl}/api/v2/openmedia/promotions/{id}"
"""The uri of the Open Media samples' interactions, as a uri template: with it the
email's uri is the sample's, so the whole object can be compared."""

EMAIL_ONLY_CAPABILITIES = {"Reply", "ReplyAll", "AddComment", "SetDisposition"}
"""Processing capabilities an email has and an Open Media interaction does not."""


def _as_email_notification(sample: dict[str, Any]) -> dict[str, Any]:
    """An Open Media notification read as the email notification it corresponds to.

    The mapping: ``messageType`` OpenmediaStateChangeMessage is EmailStateChangeMessage;
    the object sits under ``email`` instead of ``openmedia``; ``mediaType`` and
    ``openmediaType`` are Open Media's own and dropped (``openmediaType`` is what
    ``emailType`` is to an email in later releases); an inbound email adds its own
    ``revelantResponseTemplateGroups: []``. Everything else is kept as the sample has it.
    """
    assert sample["messageType"] == "OpenmediaStateChangeMessage"
    interaction = dict(sample["openmedia"])
    assert interaction.pop("mediaType") == "promotion"
    assert interaction.pop("openmediaType") == "Inbound"
    return {
        "messageType": "EmailStateChangeMessage",
        "notificationType": sample["notificationType"],
        "referenceId": sample["referenceId"],
        "email": {**interaction, "revelantResponseTemplateGroups": []},
    }


def _arrive_like(c: ContactCenter, sample: dict[str, Any], agent: str) -> str:
    """An inbound email with the sample's id, userData and receivedDate, offered to
    ``agent``; returns its id."""
    interaction = sample["openmedia"]
    email_id: str = interaction["id"]
    arrive = Arrive(
        email_id=email_id,
        queue="inbound",
        received_date=interaction["receivedDate"],
        user_data=interaction["userData"],
    )
    accepted(c.execute(arrive))
    accepted(c.execute(Offer(email_id=email_id, agent=agent)))
    return email_id


def test_open_media_reject_sample_is_the_rejecting_agents_notification() -> None:
    sample = sibling("OpenMediaReject.notification.json")
    c = ContactCenter(config=Config(uri_template=OPEN_MEDIA_URI))
    email_id = _arrive_like(c, sample, "GWS1")
    # The page's HTTP answer is {"statusCode": 0, "referenceId": 6}: the request's number.
    decision = accepted(
        c.request("GWS1", {"operationName": "Reject"}, email_id=email_id, reference_id=6)
    )
    (notification,) = decision.notifications
    assert notification.recipient == "GWS1"
    data = _data(notification)
    expected = _as_email_notification(sample)
    assert data["notificationType"] == "StatusChange"
    assert data["referenceId"] == sample["referenceId"] == 6
    assert data["email"]["state"] == "Completed"
    assert data["email"]["capabilities"] == []
    assert data["email"]["userData"] == sample["openmedia"]["userData"]
    assert data["email"]["receivedDate"] == "2014-03-26 16:02:22.000+0200"
    assert data == expected
    # The email itself went back to its queue: Completed is only what the agent sees.
    assert c.emails[email_id].phase is Phase.QUEUED


def test_open_media_reject_with_the_default_uri_differs_only_in_the_uri() -> None:
    sample = sibling("OpenMediaReject.notification.json")
    c = ContactCenter()
    email_id = _arrive_like(c, sample, "GWS1")
    decision = accepted(
        c.request("GWS1", {"operationName": "Reject"}, email_id=email_id, reference_id=6)
    )
    expected = _as_email_notification(sample)
    expected["email"]["uri"] = f"http://localhost:8080/api/v2/me/emails/{email_id}"
    assert _data(decision.notifications[0]) == expected


def test_open_media_reject_with_the_later_release_fields() -> None:
    # openmediaType is to Open Media what emailType is to an email; nobody holds a
    # rejected email, so there is no assignedTo (the sample has no owner field either).
    sample = sibling("OpenMediaReject.notification.json")
    c = ContactCenter(config=Config(uri_template=OPEN_MEDIA_URI, extended_fields=True))
    email_id = _arrive_like(c, sample, "GWS1")
    decision = accepted(
        c.request("GWS1", {"operationName": "Reject"}, email_id=email_id, reference_id=6)
    )
    email = _data(decision.notifications[0])["email"]
    assert email["emailType"] == sample["openmedia"]["openmediaType"] == "Inbound"
    assert "assignedTo" not in email
    assert email["suggestedQueueUris"] == []
    assert {k: v for k, v in email.items() if k not in ("emailType", "suggestedQueueUris")} == (
        _as_email_notification(sample)["email"]
    )


def test_open_media_transfer_sample_is_the_transferring_agents_notification() -> None:
    sample = sibling("OpenMediaTransfer_Agent1.notification.json")
    target = "8f24c3856f0c4639acf94d279f34698d"  # the page's targetUri's last segment
    c = ContactCenter(config=Config(uri_template=OPEN_MEDIA_URI))
    email_id = _arrive_like(c, sample, "htcc1")
    accepted(c.request("htcc1", {"operationName": "Accept"}, email_id=email_id, reference_id=15))
    # The page's own request: targetUri, a contacts/ URI.
    transfer = {
        "operationName": "Transfer",
        "targetUri": f"http://localhost:8080/api/v2/contacts/{target}",
    }
    page = (SIBLINGS / "OpenMediaTransfer_HTCClatest_TRUNCATED.txt").read_text("utf-8")
    assert f'"targetUri": "{transfer["targetUri"]}"' in page
    decision = accepted(c.request("htcc1", transfer, email_id=email_id, reference_id=16))
    agent1, agent2 = decision.notifications
    assert agent1.recipient == "htcc1"
    data = _data(agent1)
    assert data["referenceId"] == sample["referenceId"] == 16
    assert data["email"]["state"] == "Completed"
    assert data["email"]["capabilities"] == []
    assert data == _as_email_notification(sample)
    # "Agent2 received invitation" (cut off on the page): Invited, no referenceId.
    assert agent2.recipient == target
    invitation = _data(agent2)
    assert "referenceId" not in invitation
    assert invitation["notificationType"] == "StatusChange"
    assert invitation["email"]["state"] == "Invited"
    assert invitation["email"]["capabilities"] == ["Accept", "Reject"]
    assert invitation["email"]["userData"] == sample["openmedia"]["userData"]


def test_open_media_accept_sample_is_the_accepting_agents_notification() -> None:
    sample = sibling("OpenMediaAccept.notification.json")
    c = ContactCenter(config=Config(uri_template=OPEN_MEDIA_URI))
    email_id = _arrive_like(c, sample, "GWS1")
    decision = accepted(
        c.request("GWS1", {"operationName": "Accept"}, email_id=email_id, reference_id=6)
    )
    data = _data(decision.notifications[0])
    expected = _as_email_notification(sample)
    # An Open Media interaction advertises its own operations; an email's Processing
    # list adds the email-only ones, in the same order around them.
    open_media_capabilities = expected["email"].pop("capabilities")
    assert data["email"].pop("capabilities") == PROCESSING_CAPS
    assert open_media_capabilities == [
        op for op in PROCESSING_CAPS if op not in EMAIL_ONLY_CAPABILITIES
    ]
    assert data["referenceId"] == 6
    assert data["email"]["state"] == "Processing"
    assert data == expected


def test_open_media_update_user_data_sample_keeps_the_types() -> None:
    # UpdateUserData "overwrites the specified keys"; a number stays a number.
    sample = sibling("OpenMediaUpdateUserData.notification.json")
    updated = {"UserData1": "DATAUPDATE-@123", "UserData2": 123456789}
    before = {k: v for k, v in sample["openmedia"]["userData"].items() if k not in updated}
    c = ContactCenter(config=Config(uri_template=OPEN_MEDIA_URI))
    email_id = _arrive_like(c, {"openmedia": {**sample["openmedia"], "userData": before}}, "GWS1")
    accepted(c.request("GWS1", {"operationName": "Accept"}, email_id=email_id))
    request = {"operationName": "UpdateUserData", "userData": updated}
    decision = accepted(c.request("GWS1", request, email_id=email_id, reference_id=7))
    data = _data(decision.notifications[0])
    assert data["notificationType"] == "PropertiesUpdated"
    assert data["referenceId"] == 7
    assert data["email"]["userData"] == sample["openmedia"]["userData"]
    assert data["email"]["userData"]["UserData2"] == 123456789


def test_chat_reject_sample_state_is_the_rejecting_agents_state() -> None:
    # A chat has participants and no capabilities field; what applies to an email is the
    # notification type, the state, the id, the uri (with the chat's template) and the
    # request's referenceId.
    sample = sibling("ChatReject.notification.json")
    chat = sample["chat"]
    assert sample["messageType"] == "ChatStateChangeMessage"
    c = ContactCenter(config=Config(uri_template="{baseUrl}/api/v2/chats/{id}"))
    accepted(c.execute(Arrive(email_id=chat["id"], queue="inbound")))
    accepted(c.execute(Offer(email_id=chat["id"], agent="a")))
    decision = accepted(
        c.request("a", {"operationName": "Reject"}, email_id=chat["id"], reference_id=5)
    )
    data = _data(decision.notifications[0])
    assert data["notificationType"] == sample["notificationType"] == "StatusChange"
    assert data["referenceId"] == sample["referenceId"] == 5
    email = data["email"]
    assert (email["id"], email["state"], email["uri"]) == (
        chat["id"],
        chat["state"],
        chat["uri"],
    )
    assert chat["state"] == "Completed"
    assert email["capabilities"] == []


@pytest.mark.parametrize(
    ("page", "cleaned", "after", "before"),
    [
        (
            "OpenMediaReject_GWS852.txt",
            "OpenMediaReject.notification.json",
            '"referenceId": 6\n}\n',
            None,
        ),
        (
            "OpenMediaAccept_GWS852.txt",
            "OpenMediaAccept.notification.json",
            '"referenceId": 6\n}\n',
            None,
        ),
        (
            "OpenMediaTransfer_HTCClatest_TRUNCATED.txt",
            "OpenMediaTransfer_Agent1.notification.json",
            "status changed to Completed\n",
            "Agent2 received invitation",
        ),
        (
            "OpenMediaUpdateUserData_GWS852.txt",
            "OpenMediaUpdateUserData.notification.json",
            '"referenceId": 7\n}\n',
            None,
        ),
        (
            "ChatReject_HTCC852.txt",
            "ChatReject.notification.json",
            "Status changed to Completed\n",
            "This page was last edited",
        ),
    ],
)
def test_cleaned_sibling_samples_are_the_pages_samples(
    page: str, cleaned: str, after: str, before: str | None
) -> None:
    text = (SIBLINGS / page).read_text("utf-8")
    start = text.index(after) + len(after)
    end = len(text) if before is None else text.index(before, start)
    assert load_sample(text[start:end]) == sibling(cleaned)


def test_demo_scenario_tells_the_seed_page() -> None:
    sample = transfer_page_notification()["email"]
    arrive = json.loads(demo_scenario_text())["steps"][0]
    assert arrive["emailId"] == sample["id"]
    for key in ("from", "to", "subject", "contactId", "userData"):
        assert arrive["email"][key] == sample[key]


# ----------------------------------------------------------------- the loader itself


def test_loader_repairs_every_doc_artifact() -> None:
    raw = (
        '{ "uri": "http: //localhost: 8080/api/v2/email/X", "t": "Tue 15: 54: 13",'
        ' "n": None, "l": [None, 1], "h": "multipart/mixed;boundary="==a=="", "k": "v",'
        ' "d": ""twice"", "e": "", "c": "http: //h: 80/api/v2/chats/C"'
    )
    assert load_sample(raw) == {
        "uri": "http://localhost:8080/api/v2/me/emails/X",
        "t": "Tue 15:54:13",
        "n": None,
        "l": [None, 1],
        "h": 'multipart/mixed;boundary="==a=="',
        "k": "v",
        "d": "twice",
        "e": "",
        "c": "http://h:80/api/v2/chats/C",
    }


def test_loader_keeps_the_gws_path_when_asked() -> None:
    raw = '{"uri": "http: //localhost: 8080/api/v2/email/X/attachments/D"}'
    assert load_sample(raw, gws_path=True) == {
        "uri": "http://localhost:8080/api/v2/email/X/attachments/D"
    }


def test_loader_leaves_valid_json_alone() -> None:
    text = json.dumps({"a": 'x"y', "None": "None", "b": [1, {"c": None}]})
    assert repair(text) == text


def test_seed_page_sample_has_the_documented_artifacts_repaired() -> None:
    user_data = transfer_page_notification()["email"]["userData"]
    assert (
        user_data["Header_Content-Type"] == 'multipart/mixed;boundary="===============1676090965=="'
    )
    assert user_data["RRequestedSkills"] is None
    assert user_data["Header_Date"] == "Tue, 11Mar201415:54:13+0200"
    assert len(user_data) == 39
