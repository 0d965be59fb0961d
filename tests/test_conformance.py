"""Conformance: the model reproduces the real GWS payloads of tests/fixtures/gws/.

The samples are loaded from the raw documentation text through ``gws_docs``, which
repairs the doc artifacts (docs/spec.md, GWS documentation samples). Comparisons ignore
``referenceId`` (the docs took them from unrelated sessions); the uri is normalized by
the loader.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from builders import accepted
from gws_docs import fixture, load_sample, repair, transfer_page_notification

from email_fsm import Arrive, ContactCenter, Notification, Offer
from email_fsm.cli import demo_scenario_text
from email_fsm.scenario import load_scenario


def _without_reference(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != "referenceId"}


def _data(notification: Notification) -> dict[str, Any]:
    message = notification.to_dict()
    assert message["channel"] == "/v2/me/emails"
    data: dict[str, Any] = message["data"]
    return data


def test_transfer_page_notification_is_reproduced() -> None:
    sample = transfer_page_notification()
    email = sample["email"]
    c = ContactCenter()
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
        "userUri": "http://localhost:8080/api/v2/users/e62d21e405a04274bd6bbcaf78bd8c38",
    }
    accepted(c.request("a", transfer, email_id=email["id"], reference_id=2))
    decision = accepted(
        c.request(
            "e62d21e405a04274bd6bbcaf78bd8c38",
            {"operationName": "Accept"},
            email_id=email["id"],
            reference_id=5,
        )
    )
    (notification,) = decision.notifications
    assert notification.recipient == "e62d21e405a04274bd6bbcaf78bd8c38"
    assert _data(notification) == sample  # referenceId 5 matches the sample's too


def test_create_sample_is_reproduced() -> None:
    sample = fixture("Create.json")
    c = ContactCenter()
    decision = accepted(
        c.request("a", {"operationName": "Create"}, new_email_id=sample["email"]["id"])
    )
    assert _without_reference(_data(decision.notifications[0])) == _without_reference(sample)


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


@pytest.mark.parametrize("name", ["Save.json", "Save.raw.txt"])
def test_save_sample_is_reproduced(name: str) -> None:
    sample = fixture(name)
    notification = _saved(ContactCenter(), sample["email"]["id"])
    assert _data(notification) == sample  # the sample's referenceId is 38 too


def test_add_attachment_sample_is_reproduced() -> None:
    sample = fixture("AddAttachment.json")
    email_id = sample["email"]["id"]
    c = ContactCenter()
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
        ' "n": None, "l": [None, 1], "h": "multipart/mixed;boundary="==a=="", "k": "v"'
    )
    assert load_sample(raw) == {
        "uri": "http://localhost:8080/api/v2/me/emails/X",
        "t": "Tue 15:54:13",
        "n": None,
        "l": [None, 1],
        "h": 'multipart/mixed;boundary="==a=="',
        "k": "v",
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
