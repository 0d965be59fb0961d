"""The command line: ``email-fsm replay``, ``demo``, its usage errors and its help."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from builders import COMPOSING_CAPS, PROCESSING_CAPS, message
from gws_docs import transfer_page_notification

import email_fsm
from email_fsm.cli import BROKEN_PIPE_STATUS, _describe_notification, demo_scenario_text, main
from email_fsm.scenario import load_scenario, run_scenario


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
    path = tmp_path / "absent.json"
    assert main(["replay", str(path)], out=io.StringIO()) == 2
    assert capsys.readouterr().err == f"email-fsm: cannot read {path}: No such file or directory\n"


def test_a_folder_is_not_a_scenario_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["replay", str(tmp_path)], out=io.StringIO()) == 2
    assert capsys.readouterr().err == f"email-fsm: cannot read {tmp_path}: Is a directory\n"


EMAIL = "00012a9HEEG034QM"
REPLY = "00012a9HEEG034QR"
# After a's Transfer to b (step 3) the email is b's: a may no longer act on it, and
# the first check a Complete fails is that its actor is the holder (status 3).
REFUSED_COMPLETE = {
    "step": 4,
    "agent": "a",
    "response": {
        "statusCode": 3,
        "statusMessage": f"Complete refused for email {EMAIL} (Invited): "
        "a is not its holder (held by b)",
    },
}


def demo_story() -> str:
    out = io.StringIO()
    assert main(["demo"], out=out) == 0
    return out.getvalue()


def test_demo_tells_the_transfer_page_story() -> None:
    text = demo_story()
    assert text.startswith(
        "email-fsm demo: the example of the GWS EmailTransfer page, told by the model\n"
    )
    story = text[text.index("[0] ") :]
    # The steps, in order, each once.
    steps = [
        f"[0] system: email {EMAIL} arrives in queue",
        f"[1] system: routing offers email {EMAIL} to agent a",
        f"[2] agent a: Accept {EMAIL}",
        f"[3] agent a: Transfer {EMAIL}",
        f"[4] agent a: Complete {EMAIL}",
        f"[5] agent b: Accept {EMAIL}",
        f"[6] agent b: Reply {EMAIL} (new email {REPLY})",
        f"[7] agent b: Save {REPLY}",
        f"[8] agent b: Send {REPLY}",
        f"[9] agent b: Complete {EMAIL}",
    ]
    positions = [story.index(step) for step in steps]
    assert positions == sorted(positions)
    assert story.count("\n[") == len(steps) - 1
    for expected in (
        f"-> to a: StatusChange email {EMAIL} state=Invited\n",
        f"-> to a: StatusChange email {EMAIL} state=Completed referenceId=3\n",
        f"-> to b: StatusChange email {EMAIL} state=Invited\n",
        f"-> to b: StatusChange email {EMAIL} state=Processing referenceId=5\n",
        f"-> to b: StatusChange email {REPLY} state=Composing referenceId=6\n",
        f"-> to b: EmailSaved email {REPLY} state=Composing referenceId=7\n",
        f"-> to b: StatusChange email {REPLY} state=Sent referenceId=8\n",
        f"-> to b: StatusChange email {EMAIL} state=Completed referenceId=9\n",
    ):
        assert story.count(expected) == 1, expected
    # Seven requests accepted; a's Complete is refused, with its code and reason,
    # and changes nothing: no notification before b's Accept.
    assert story.count("<- statusCode 0 (OK)\n") == 7
    # The Transfer is over for a: Completed, nothing left to request, the email whole.
    transfer = story[story.index(steps[3]) : story.index(f"-> to b: StatusChange email {EMAIL}")]
    to_a = transfer[transfer.index("-> to a: ") :]
    assert to_a.splitlines()[1].strip() == "capabilities: (none)"
    assert (
        to_a.splitlines()[2]
        .strip()
        .startswith("email: from='qwerty@hpe-voicevm-34-23.genesyslab.com';")
    )
    assert "Transferred" not in text
    refused = story[story.index(steps[4]) : story.index(steps[5])]
    assert " ".join(refused.split()) == (
        f"[4] agent a: Complete {EMAIL} <- statusCode 3 (FORBIDDEN): Complete refused "
        f"for email {EMAIL} (Invited): a is not its holder (held by b)"
    )
    assert text.endswith("\nRun `email-fsm demo --json` for the GWS messages themselves.\n")


def test_demo_explains_its_symbols_before_the_story() -> None:
    text = demo_story()
    legend, story = text.split("\n[0] ", 1)
    assert "How to read it:" in legend
    for symbol in (
        "[n] system:",
        "[n] agent X:",
        "<- statusCode",
        "-> to X:",
        "capabilities:",
        "email:",
    ):
        assert symbol in legend, symbol
    assert "whatever the state" in legend
    for used in (" system: ", " agent ", "<- statusCode", "-> to ", "capabilities: "):
        assert used in story, used
    # Every notification carries the whole email: each of the nine shows its content,
    # the ones with no capabilities left (Completed, Sent) too.
    assert story.count("\n       email: ") == story.count("\n    -> to ") == 9
    assert "minimal" not in text
    assert "(no content)" not in story


def test_demo_lines_fit_a_terminal() -> None:
    lines = demo_story().splitlines()
    assert max(len(line) for line in lines) <= 80
    # A long list is wrapped between its items, never inside one: every line of a
    # capabilities list but its last ends with a comma.
    blocks = []
    for i, line in enumerate(lines):
        if line.startswith("       capabilities: "):
            end = i + 1
            while lines[end].startswith("         "):
                end += 1
            blocks.append(lines[i:end])
    assert len(blocks) == 9  # one per notification
    for block in blocks:
        assert all(line.endswith(",") for line in block[:-1]), block
        assert not block[-1].endswith(",")
    wrapped = [b for b in blocks if len(b) > 1]
    assert wrapped
    processing = " ".join(" ".join(wrapped[0]).split())
    assert processing == "capabilities: " + ", ".join(PROCESSING_CAPS)
    # The six notifications of the original email (a: Invited, Processing, Completed
    # after the Transfer; b: Invited, Processing, Completed) carry its content, each on
    # whole items.
    assert sum("userData (39 keys);" in line for line in lines) == 6


def test_the_story_says_when_an_email_has_no_content() -> None:
    # A created draft has no content yet: its email object is id, state, capabilities
    # and uri, and the story says so rather than listing nothing.
    scenario = load_scenario(
        json.dumps(
            {"steps": [{"agent": "a", "newEmailId": "D", "request": {"operationName": "Create"}}]}
        )
    )
    (record,) = [r for r in run_scenario(scenario) if "message" in r]
    header, capabilities, email = _describe_notification(record)
    assert " ".join(header) == "-> to a: StatusChange email D state=Composing"
    assert capabilities[0] == "capabilities:"
    assert email == ["email:", "(no", "content)"]


def test_demo_json_carries_the_page_notification_and_the_refusal() -> None:
    out = io.StringIO()
    assert main(["demo", "--json"], out=out) == 0
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    sample = transfer_page_notification()
    to_b = [r for r in records if r.get("to") == "b" and r["step"] == 5]
    assert [r["message"]["data"] for r in to_b] == [sample]
    assert [r for r in records if r["step"] == 4] == [REFUSED_COMPLETE]
    responses = [r for r in records if "response" in r]
    assert [r["step"] for r in responses] == [2, 3, 4, 5, 6, 7, 8, 9]
    assert [r for r in responses if r["response"] != {"statusCode": 0}] == [REFUSED_COMPLETE]


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


# ------------------------------------------------- the command line as a program

SCRIPT = Path(sys.executable).with_name("email-fsm")
"""The console script installed next to this Python."""


def run_script(*argv: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), *argv], capture_output=True, text=True, check=False, cwd=cwd
    )


def test_version_is_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert email_fsm.__version__ == version("email-fsm")
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out == f"email-fsm {email_fsm.__version__}\n"
    result = run_script("--version")
    assert (result.returncode, result.stdout, result.stderr) == (
        0,
        f"email-fsm {email_fsm.__version__}\n",
        "",
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["frobnicate"], "email-fsm: error: argument COMMAND: invalid choice: 'frobnicate'"),
        ([], "email-fsm: error: the following arguments are required: COMMAND"),
        (["replay"], "email-fsm replay: error: the following arguments are required: SCENARIO"),
        (["demo", "--jsn"], "email-fsm: error: unrecognized arguments: --jsn"),
    ],
    ids=["unknown command", "no command", "replay without file", "unknown option"],
)
def test_usage_errors_exit_2_with_the_usage(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(argv, out=io.StringIO())
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: email-fsm")
    assert err.splitlines()[-1].startswith(message)


def test_help_says_what_each_command_does(capsys: pytest.CaptureFixture[str]) -> None:
    def help_of(*argv: str) -> str:
        with pytest.raises(SystemExit) as exit_:
            main([*argv, "--help"], out=io.StringIO())
        assert exit_.value.code == 0
        return capsys.readouterr().out

    top = help_of()
    for command in ("demo", "replay", "diagram"):
        (line,) = [x for x in top.splitlines() if x.strip().startswith(command + " ")]
        assert len(line.split()) > 4, line  # the command and what it does
        text = help_of(command)
        assert text.startswith(f"usage: email-fsm {command}")
        examples = text[text.index("\nexamples:\n") :]
        assert f"\n  email-fsm {command}" in examples
    assert "\n  email-fsm demo " in top[top.index("\nexamples:\n") :]
    assert "--version" in top
    for text in (top, help_of("demo"), help_of("replay"), help_of("diagram")):
        assert "seed" not in text.lower()


def test_a_closed_pipe_ends_the_program_quietly(tmp_path: Path) -> None:
    # Far more output than a pipe holds: the program is still writing when its
    # reader goes away.
    steps = [
        {"agent": "a", "newEmailId": f"N{i}", "request": {"operationName": "Create"}}
        for i in range(3000)
    ]
    path = tmp_path / "big.json"
    path.write_text(json.dumps({"steps": steps}))
    with subprocess.Popen(
        [str(SCRIPT), "replay", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdout is not None
        assert process.stderr is not None
        first = process.stdout.readline()
        process.stdout.close()
        err = process.stderr.read()
        status = process.wait()
    assert json.loads(first) == {"step": 0, "agent": "a", "response": {"statusCode": 0}}
    assert err == ""
    assert status == BROKEN_PIPE_STATUS == 141  # 128 + SIGPIPE, as a shell reports it


def test_demo_into_head_prints_no_traceback(tmp_path: Path) -> None:
    result = subprocess.run(
        f"'{SCRIPT}' demo | head -1; '{SCRIPT}' demo --json | head -1",
        shell=True,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0
    assert result.stderr == ""
    title, record = result.stdout.splitlines()
    assert title == "email-fsm demo: the example of the GWS EmailTransfer page, told by the model"
    assert json.loads(record)["step"] == 1


def test_diagram_into_a_missing_folder_exits_2_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "no-such-folder" / "lifecycle.mmd"
    result = run_script("diagram", "-o", str(target))
    assert result.returncode == 2
    expected = f"email-fsm diagram: cannot write {target}: No such file or directory\n"
    assert (result.stdout, result.stderr) == ("", expected)
    assert main(["diagram", "-o", str(target)], out=io.StringIO()) == 2
    assert capsys.readouterr().err == expected
    assert not target.parent.exists()


def test_malformed_file_is_one_line_from_the_program(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"steps": [{"event": "Offer", "emailId": "E"}]}')
    result = run_script("replay", str(path))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"email-fsm: {path}: step 0: agent")
    assert result.stderr.count("\n") == 1


def test_missing_file_from_the_program(tmp_path: Path) -> None:
    result = run_script("replay", "absent.json", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == "email-fsm: cannot read absent.json: No such file or directory\n"


def test_unknown_command_from_the_program() -> None:
    result = run_script("frobnicate")
    assert (result.returncode, result.stdout) == (2, "")
    assert "invalid choice: 'frobnicate'" in result.stderr
    assert "Traceback" not in result.stderr


def test_demo_and_replay_do_not_load_the_drawing_libraries() -> None:
    code = (
        "import io, sys\n"
        "from email_fsm.cli import main\n"
        "main(['demo'], out=io.StringIO())\n"
        "main(['diagram', '--format', 'md'], out=io.StringIO())\n"
        "print(sorted(m for m in ('transitions', 'graphviz') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "[]\n", "")
