"""A scenario's ``config`` object: the :class:`~email_fsm.Config` a story runs with.

Keys are the camelCase names of the ``Config`` and ``Limits`` fields; a key left out
keeps its default; a top-level ``baseUrl`` is the same as ``config.baseUrl``. An unknown
key, a value of the wrong type, or two different base URLs make the file malformed
(:class:`~email_fsm.scenario.ScenarioError`, naming where). The expectations below are
written from those rules, not from the program's output.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from email_fsm import Config, ContactCenter, Limits
from email_fsm.cli import main
from email_fsm.scenario import (
    Scenario,
    ScenarioError,
    load_scenario,
    run_scenario,
    scenario_document,
)

STORY: list[dict[str, Any]] = [
    {
        "event": "Arrive",
        "emailId": "E1",
        "queueName": "inbound",
        "email": {"from": "c@example.com", "to": ["support@example.com"], "subject": "Hi"},
    },
    {"event": "Offer", "emailId": "E1", "agent": "a"},
    {"agent": "a", "emailId": "E1", "referenceId": 2, "request": {"operationName": "Accept"}},
]
"""An email arrives, is offered to a, and a accepts it: two notifications to a."""


def load(document: dict[str, Any]) -> Scenario:
    return load_scenario(json.dumps(document))


def emails(scenario: Scenario, config: Config | None = None) -> list[dict[str, Any]]:
    """The email objects of the notifications the scenario's replay sends, in order."""
    return [
        record["message"]["data"]["email"]
        for record in run_scenario(scenario, config=config)
        if "message" in record
    ]


def responses(scenario: Scenario) -> list[dict[str, Any]]:
    return [record["response"] for record in run_scenario(scenario) if "response" in record]


# ------------------------------------------------------------------ what the file says


def test_the_keys_are_the_documented_camel_case_names() -> None:
    written = scenario_document([], config=Config())["config"]
    assert isinstance(written, dict)
    assert set(written) == {
        "baseUrl",
        "uriTemplate",
        "extendedFields",
        "strictParameters",
        "defaultQueue",
        "dispositionKey",
        "limits",
    }
    assert written["limits"] == {
        "maxUserDataKeys": 1000,
        "maxKeyLength": 256,
        "maxValueBytes": 65536,
        "maxCommentBytes": 65536,
        "maxAttachments": 100,
        "maxBodyBytes": 1048576,
        "maxUserDataBytes": 1048576,
    }


def test_the_writer_writes_every_field() -> None:
    config = Config(
        base_url="https://gws.example.com",
        uri_template="{baseUrl}/api/v2/email/{id}",
        extended_fields=True,
        strict_parameters=True,
        default_queue="drafts",
        disposition_key="Outcome",
        limits=Limits(max_attachments=3, max_body_bytes=4096),
    )
    assert scenario_document([], config=config) == {
        "config": {
            "baseUrl": "https://gws.example.com",
            "uriTemplate": "{baseUrl}/api/v2/email/{id}",
            "extendedFields": True,
            "strictParameters": True,
            "defaultQueue": "drafts",
            "dispositionKey": "Outcome",
            "limits": {
                "maxUserDataKeys": 1000,
                "maxKeyLength": 256,
                "maxValueBytes": 65536,
                "maxCommentBytes": 65536,
                "maxAttachments": 3,
                "maxBodyBytes": 4096,
                "maxUserDataBytes": 1048576,
            },
        },
        "steps": [],
    }


def test_a_file_without_config_has_none() -> None:
    scenario = load({"steps": STORY})
    assert scenario.config is None
    assert scenario.effective_config() == Config()
    assert "config" not in scenario_document(scenario.steps)


def test_left_out_keys_keep_their_defaults() -> None:
    scenario = load(
        {"config": {"extendedFields": True, "limits": {"maxAttachments": 2}}, "steps": []}
    )
    assert scenario.config == Config(extended_fields=True, limits=Limits(max_attachments=2))
    assert scenario.base_url is None


def test_an_empty_config_is_the_defaults() -> None:
    assert load({"config": {}, "steps": []}).config == Config()


def test_the_top_level_base_url_fills_in_the_config() -> None:
    scenario = load(
        {"baseUrl": "http://gws:8080", "config": {"strictParameters": True}, "steps": []}
    )
    assert scenario.base_url == "http://gws:8080"
    assert scenario.config == Config(base_url="http://gws:8080", strict_parameters=True)


def test_the_same_base_url_twice_is_fine() -> None:
    scenario = load(
        {"baseUrl": "http://gws:8080", "config": {"baseUrl": "http://gws:8080"}, "steps": []}
    )
    assert scenario.base_url == "http://gws:8080"
    assert scenario.config == Config(base_url="http://gws:8080")


def test_the_config_base_url_is_the_scenario_base_url() -> None:
    scenario = load({"config": {"baseUrl": "http://gws:8080"}, "steps": []})
    assert scenario.base_url == "http://gws:8080"


uri_templates = st.sampled_from(
    ["{baseUrl}/api/v2/me/emails/{id}", "{baseUrl}/api/v2/email/{id}", "{baseUrl}/e/{id}/x"]
)
sizes = st.integers(0, 2**40)
limits = st.builds(
    Limits,
    max_user_data_keys=sizes,
    max_key_length=sizes,
    max_value_bytes=sizes,
    max_comment_bytes=sizes,
    max_attachments=sizes,
    max_body_bytes=sizes,
    max_user_data_bytes=sizes,
)
configs = st.builds(
    Config,
    base_url=st.sampled_from(["http://localhost:8080", "https://gws.example.com", ""]),
    uri_template=uri_templates,
    extended_fields=st.booleans(),
    strict_parameters=st.booleans(),
    default_queue=st.text(max_size=8),
    disposition_key=st.text(max_size=8),
    limits=limits,
)


@given(configs, st.booleans())
def test_any_config_round_trips(config: Config, with_top_level_base_url: bool) -> None:
    base_url = config.base_url if with_top_level_base_url else None
    document = scenario_document([], base_url=base_url, config=config)
    scenario = load_scenario(json.dumps(document))
    assert scenario.config == config
    assert scenario.base_url == config.base_url  # the file names it in the config


def test_the_writer_refuses_two_different_base_urls() -> None:
    with pytest.raises(ValueError, match="differs"):
        scenario_document([], base_url="http://a", config=Config(base_url="http://b"))


# ------------------------------------------------------------------ malformed files


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("yes", "config: must be an object, not a string"),
        (None, "config: must be an object, not null"),
        (
            {"extendedField": True},
            "config: unknown key 'extendedField'; did you mean 'extendedFields'?",
        ),
        ({"base_url": "http://x"}, "config: unknown key 'base_url'; did you mean 'baseUrl'?"),
        ({"colour": "blue"}, "config: unknown key 'colour'"),
        ({"baseUrl": 8080}, "config.baseUrl: must be a string, not a number"),
        ({"uriTemplate": None}, "config.uriTemplate: must be a string, not null"),
        ({"extendedFields": "true"}, "config.extendedFields: must be true or false, not a string"),
        ({"strictParameters": 1}, "config.strictParameters: must be true or false, not a number"),
        ({"defaultQueue": ["q"]}, "config.defaultQueue: must be a string, not an array"),
        ({"dispositionKey": {}}, "config.dispositionKey: must be a string, not an object"),
        ({"limits": []}, "config.limits: must be an object, not an array"),
        (
            {"limits": {"maxBodyByte": 1}},
            "config.limits: unknown key 'maxBodyByte'; did you mean 'maxBodyBytes'?",
        ),
        (
            {"limits": {"maxAttachments": True}},
            "config.limits.maxAttachments: must be a non-negative integer, not a boolean",
        ),
        (
            {"limits": {"maxBodyBytes": 1.5}},
            "config.limits.maxBodyBytes: must be a non-negative integer, not a number",
        ),
        (
            {"limits": {"maxUserDataBytes": "1MiB"}},
            "config.limits.maxUserDataBytes: must be a non-negative integer, not a string",
        ),
        (
            {"limits": {"maxKeyLength": -1}},
            "config.limits.maxKeyLength: must be a non-negative integer, not -1",
        ),
        (
            {"uriTemplate": "{baseUrl}/emails/{emailId}"},
            "config.uriTemplate: uri_template '{baseUrl}/emails/{emailId}' may name only"
            " {baseUrl} and {id}",
        ),
    ],
)
def test_a_malformed_config_is_named(config: object, message: str) -> None:
    with pytest.raises(ScenarioError) as raised:
        load({"config": config, "steps": STORY})
    assert str(raised.value) == message


def test_two_different_base_urls_are_an_error() -> None:
    document = {"baseUrl": "http://a:8080", "config": {"baseUrl": "http://b:8080"}, "steps": []}
    with pytest.raises(ScenarioError) as raised:
        load(document)
    assert str(raised.value) == "baseUrl 'http://a:8080' and config.baseUrl 'http://b:8080' differ"


def test_a_malformed_config_is_reported_by_replay(tmp_path: Path) -> None:
    path = tmp_path / "story.json"
    path.write_text(json.dumps({"config": {"extended": True}, "steps": STORY}), "utf-8")
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err):
        status = main(["replay", str(path)], out=out)
    assert status == 2
    assert out.getvalue() == ""
    assert "config: unknown key 'extended'; did you mean 'extendedFields'?" in err.getvalue()


# ------------------------------------------------------------------ what the story does


def test_extended_fields_make_the_replayed_notifications_carry_email_type() -> None:
    invited, processing = emails(load({"config": {"extendedFields": True}, "steps": STORY}))
    assert invited["state"] == "Invited"
    assert invited["emailType"] == "Inbound"
    assert invited["suggestedQueueUris"] == []
    assert invited["userData"] == {}
    assert processing["state"] == "Processing"
    assert processing["emailType"] == "Inbound"
    assert processing["assignedTo"] == "a"


def test_without_extended_fields_there_is_no_email_type() -> None:
    for email in emails(load({"steps": STORY})):
        assert "emailType" not in email
        assert "suggestedQueueUris" not in email
        assert "userData" not in email  # empty userData is left out


def test_replay_prints_the_extended_fields(tmp_path: Path) -> None:
    path = tmp_path / "story.json"
    path.write_text(json.dumps({"config": {"extendedFields": True}, "steps": STORY}), "utf-8")
    out = io.StringIO()
    assert main(["replay", str(path)], out=out) == 0
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    messages = [r["message"]["data"]["email"] for r in records if "message" in r]
    assert [m["emailType"] for m in messages] == ["Inbound", "Inbound"]


def test_the_uri_template_and_base_url_shape_the_uris() -> None:
    config = {"baseUrl": "https://gws.example.com", "uriTemplate": "{baseUrl}/api/v2/email/{id}"}
    for email in emails(load({"config": config, "steps": STORY})):
        assert email["uri"] == "https://gws.example.com/api/v2/email/E1"


def test_a_top_level_base_url_with_a_config_shapes_the_uris() -> None:
    document = {
        "baseUrl": "https://gws.example.com",
        "config": {"uriTemplate": "{baseUrl}/api/v2/email/{id}"},
        "steps": STORY,
    }
    for email in emails(load(document)):
        assert email["uri"] == "https://gws.example.com/api/v2/email/E1"


def test_strict_parameters_refuse_an_unknown_parameter() -> None:
    create = {
        "agent": "a",
        "newEmailId": "D1",
        "request": {"operationName": "Create", "queuename": "q"},
    }
    (lenient,) = responses(load({"steps": [create]}))
    assert lenient == {"statusCode": 0}
    (strict,) = responses(load({"config": {"strictParameters": True}, "steps": [create]}))
    assert strict["statusCode"] == 10
    assert "'queuename'" in strict["statusMessage"]
    assert "did you mean 'queueName'?" in strict["statusMessage"]


def test_limits_apply() -> None:
    attach = {
        "agent": "a",
        "emailId": "E1",
        "request": {"operationName": "AttachUserData", "userData": {"k1": 1, "k2": 2}},
    }
    (_, default) = responses(load({"steps": [*STORY, attach]}))
    assert default == {"statusCode": 0}
    limited = load({"config": {"limits": {"maxUserDataKeys": 1}}, "steps": [*STORY, attach]})
    (_, refused) = responses(limited)
    assert refused["statusCode"] == 10


def test_the_disposition_key_applies() -> None:
    steps = [
        {"agent": "a", "newEmailId": "D1", "request": {"operationName": "Create"}},
        {
            "agent": "a",
            "emailId": "D1",
            "request": {"operationName": "SetDisposition", "disposition": "Sold"},
        },
    ]
    _, disposed = emails(load({"config": {"dispositionKey": "Outcome"}, "steps": steps}))
    assert disposed["userData"] == {"Outcome": "Sold"}


def test_the_default_queue_is_the_drafts_queue() -> None:
    # Not shown in notifications: the queue an outbound email created without one is in.
    scenario = load({"config": {"defaultQueue": "drafts"}, "steps": []})
    center = ContactCenter(config=scenario.effective_config())
    center.request("a", {"operationName": "Create"}, new_email_id="D1")
    assert center.emails["D1"].queue == "drafts"


def test_run_scenario_config_overrides_the_files() -> None:
    scenario = load({"config": {"extendedFields": True}, "steps": STORY})
    for email in emails(scenario, config=Config()):
        assert "emailType" not in email
