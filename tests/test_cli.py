"""The command line: ``email-fsm replay`` and ``email-fsm demo``."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from builders import COMPOSING_CAPS, PROCESSING_CAPS, message
from gws_docs import transfer_page_notification

from email_fsm.cli import demo_scenario_text, main


def replay(tmp_path: Path, scenario: object) -> tuple[int, list[dict[str, Any]]]:
    path = tmp_path / "scenario.json"
    path.write_text(scenario if isinstance(scenario, str) else json.dumps(scenario))
    out = io.StringIO()
    status = main(["replay", str(path)], out=out)
    return status, [json.loads(line) for line in out.getvalue().splitlines()]


URI = "http://gws.test/api/v2/me/emails/"
SCENARIO = {
    "baseUrl": "http://gws.test",
    "steps": [
        {
            "event": "Arrive",
            "emailId": "E1",
            "queueName": "inbound",
            "receivedDate": "2026-01-05T10:00:00Z",
            "email": {"from": "c@example.com", "to": ["s@example.com"], "subject": "Hi"},
        },
        {"event": "Offer", "emailId": "E1", "agent": "a"},
        {"agent": "b", "emailId": "E1", "referenceId": 1, "request": {"operationName": "Accept"}},
        {"agent": "a", "emailId": "E1", "referenceId": 2, "request": {"operationName": "Accept"}},
        {"event": "Revoke", "emailId": "E1"},
        {
            "agent": "a",
            "newEmailId": "E2",
            "referenceId": 22,
            "request": {"operationName": "Create"},
        },
        {"agent": "a", "emailId": "E9", "request": {"operationName": "Cancel"}},
        {"agent": "a", "newEmailId": "E1", "request": {"operationName": "Create"}},
        {"event": "Arrive", "emailId": "E2", "queueName": "q"},
        {"agent": "a", "emailId": "E2", "request": "not a body"},
        {"agent": "a", "emailId": "E2", "request": {"operationName": "Cancel"}},
    ],
}
FULL_E1 = {
    "from": "c@example.com",
    "to": ["s@example.com"],
    "subject": "Hi",
    "receivedDate": "2026-01-05T10:00:00Z",
    "revelantResponseTemplateGroups": [],
}


def test_replay_prints_responses_and_notifications_in_order(tmp_path: Path) -> None:
    status, records = replay(tmp_path, SCENARIO)
    assert status == 0
    invited = {"id": "E1", "state": "Invited", "capabilities": ["Accept", "Reject"]}
    assert records == [
        {
            "step": 1,
            "to": "a",
            "message": message("StatusChange", {**invited, "uri": URI + "E1", **FULL_E1}),
        },
        {
            "step": 2,
            "agent": "b",
            "response": {
                "statusCode": 3,
                "statusMessage": "Accept refused for email E1 (Invited): "
                "b is not its holder (held by a)",
            },
        },
        {"step": 3, "agent": "a", "response": {"statusCode": 0}},
        {
            "step": 3,
            "to": "a",
            "message": message(
                "StatusChange",
                {
                    "id": "E1",
                    "state": "Processing",
                    "capabilities": PROCESSING_CAPS,
                    "uri": URI + "E1",
                    **FULL_E1,
                },
                2,
            ),
        },
        {
            "step": 4,
            "response": {
                "statusCode": 2,
                "statusMessage": "Revoke is not valid for email E1 in state Processing",
            },
        },
        {"step": 5, "agent": "a", "response": {"statusCode": 0}},
        {
            "step": 5,
            "to": "a",
            "message": message(
                "StatusChange",
                {
                    "id": "E2",
                    "state": "Composing",
                    "capabilities": COMPOSING_CAPS,
                    "uri": URI + "E2",
                },
                22,
            ),
        },
        {
            "step": 6,
            "agent": "a",
            "response": {"statusCode": 6, "statusMessage": "Cancel refused: email E9 not found"},
        },
        {
            "step": 7,
            "agent": "a",
            "response": {
                "statusCode": 18,
                "statusMessage": "Create refused: email E1 already exists",
            },
        },
        {
            "step": 8,
            "response": {
                "statusCode": 18,
                "statusMessage": "Arrive refused: email E2 already exists",
            },
        },
        {
            "step": 9,
            "agent": "a",
            "response": {
                "statusCode": 10,
                "statusMessage": "request refused for email E2: request body must be a JSON "
                "object, not str",
            },
        },
        {"step": 10, "agent": "a", "response": {"statusCode": 0}},
        {
            "step": 10,
            "to": "a",
            "message": message(
                "StatusChange",
                {"id": "E2", "state": "Canceled", "capabilities": [], "uri": URI + "E2"},
            ),
        },
    ]


def test_replay_default_base_url(tmp_path: Path) -> None:
    scenario = {
        "steps": [{"agent": "a", "newEmailId": "N", "request": {"operationName": "Create"}}]
    }
    status, records = replay(tmp_path, scenario)
    assert status == 0
    assert records[1]["message"]["data"]["email"]["uri"] == (
        "http://localhost:8080/api/v2/me/emails/N"
    )
    assert "referenceId" not in records[1]["message"]["data"]


MALFORMED: list[tuple[str, object, str]] = [
    ("not json", "{steps: []", "not JSON"),
    ("not an object", [], "must be a JSON object"),
    ("no steps", {"base": 1}, "unknown scenario keys: ['base']"),
    ("steps not a list", {"steps": {}}, "'steps' list"),
    ("base url", {"baseUrl": 3, "steps": []}, "baseUrl must be a string"),
    (
        "step not object",
        {"steps": [{"event": "Revoke", "emailId": "E"}, 7]},
        "step 1: must be an object",
    ),
    ("unknown event", {"steps": [{"event": "Explode", "emailId": "E"}]}, "step 0:"),
    ("arrive no queue", {"steps": [{"event": "Arrive", "emailId": "E"}]}, "step 0: queueName"),
    ("offer no agent", {"steps": [{"event": "Offer", "emailId": "E"}]}, "step 0: agent"),
    ("no request", {"steps": [{"agent": "a", "emailId": "E"}]}, "step 0: request"),
    ("agent not str", {"steps": [{"agent": 1, "request": {}}]}, "step 0: agent"),
    ("ref not int", {"steps": [{"agent": "a", "referenceId": "1", "request": {}}]}, "referenceId"),
    (
        "email to",
        {"steps": [{"event": "Arrive", "emailId": "E", "queueName": "q", "email": {"to": "x"}}]},
        "step 0: email.to",
    ),
    ("unknown step key", {"steps": [{"agent": "a", "request": {}, "typo": 1}]}, "step 0: typo"),
]


@pytest.mark.parametrize(("name", "content", "error"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_scenario_files_exit_2_naming_the_step(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, content: object, error: str
) -> None:
    status, records = replay(tmp_path, content)
    assert status == 2
    assert records == []
    err = capsys.readouterr().err
    assert error in err
    assert len(err.strip().splitlines()) == 1


def test_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", str(tmp_path / "absent.json")], out=io.StringIO()) == 2
    assert "cannot read" in capsys.readouterr().err


def test_demo_tells_the_seed_story() -> None:
    out = io.StringIO()
    assert main(["demo"], out=out) == 0
    text = out.getvalue()
    for expected in (
        "[0] system: email 00012a9HEEG034QM arrives in queue",
        "[3] agent a: Transfer 00012a9HEEG034QM",
        "-> to a: StatusChange email 00012a9HEEG034QM state=Transferred referenceId=3",
        "-> to b: StatusChange email 00012a9HEEG034QM state=Invited",
        "-> to b: StatusChange email 00012a9HEEG034QM state=Processing referenceId=5",
        "-> to b: StatusChange email 00012a9HEEG034QR state=Composing referenceId=6",
        "-> to b: EmailSaved email 00012a9HEEG034QR state=Composing referenceId=7",
        "-> to b: StatusChange email 00012a9HEEG034QR state=Sent referenceId=8",
        "-> to b: StatusChange email 00012a9HEEG034QM state=Completed referenceId=9",
    ):
        assert expected in text
    assert "statusCode 0" in text
    assert "statusCode 1" not in text


def test_demo_json_contains_the_seed_page_notification() -> None:
    out = io.StringIO()
    assert main(["demo", "--json"], out=out) == 0
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    sample = transfer_page_notification()
    to_b = [r for r in records if r.get("to") == "b" and r["step"] == 4]
    assert [r["message"]["data"] for r in to_b] == [sample]
    assert all(r["response"] == {"statusCode": 0} for r in records if "response" in r)


def test_demo_json_equals_replay_of_the_bundled_file(tmp_path: Path) -> None:
    out = io.StringIO()
    main(["demo", "--json"], out=out)
    status, records = replay(tmp_path, demo_scenario_text())
    assert status == 0
    assert [json.loads(line) for line in out.getvalue().splitlines()] == records


def test_console_script_reads_stdin() -> None:
    scenario = json.dumps({"steps": [{"event": "Revoke", "emailId": "E"}]})
    result = subprocess.run(
        [sys.executable, "-m", "email_fsm.cli", "replay", "-"],
        input=scenario,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0
    assert json.loads(result.stdout) == {
        "step": 0,
        "response": {"statusCode": 6, "statusMessage": "Revoke refused: email E not found"},
    }


def test_replay_keeps_each_record_on_one_line(tmp_path: Path) -> None:
    comment = "a\x85b\u2028c\u2029d\ve\x1cf é"
    scenario = {
        "steps": [
            {"agent": "a", "newEmailId": "D", "request": {"operationName": "Create"}},
            {
                "agent": "a",
                "emailId": "D",
                "request": {"operationName": "AddComment", "comment": comment},
            },
        ]
    }
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps(scenario))
    out = io.StringIO()
    assert main(["replay", str(path)], out=out) == 0
    lines = out.getvalue().splitlines()
    assert len(lines) == 4
    assert json.loads(lines[3])["message"]["data"]["email"]["comment"] == comment
    assert "é" in lines[3]
