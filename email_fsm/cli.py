"""The ``email-fsm`` command line: run scenarios through the model.

- ``email-fsm replay SCENARIO.json``: one JSON object per line (see
  :func:`email_fsm.scenario.run_scenario`); exit 0 when the scenario ran, 2 with a
  one-line error when the file is malformed.
- ``email-fsm demo [--json]``: the story of the project's seed page, told readably.
- ``email-fsm diagram --format mermaid|dot|svg|png|md|html [--view agent|global]
  [--highlight STATE] [-o FILE]``: the lifecycle diagram or the reference tables (see
  :mod:`email_fsm.diagrams`).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from importlib import resources
from typing import Any, TextIO

from . import diagrams
from .scenario import AgentStep, Scenario, ScenarioError, load_scenario, run_scenario

__all__ = ["DEMO_SCENARIO", "demo_scenario_text", "main", "main_entry"]

DEMO_SCENARIO = "seed_scenario.json"
"""The bundled scenario ``email-fsm demo`` runs (in ``email_fsm/data``)."""


def demo_scenario_text() -> str:
    """The text of the bundled demo scenario."""
    return resources.files("email_fsm").joinpath("data", DEMO_SCENARIO).read_text("utf-8")


# JSON leaves these unescaped, but str.splitlines() and many line readers break on
# them: escaped, every record stays on one line whatever its text.
_LINE_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def _print_records(records: Iterable[dict[str, Any]], out: TextIO) -> None:
    for record in records:
        out.write(json.dumps(record, ensure_ascii=False).translate(_LINE_BREAKS) + "\n")


def _describe_step(step: object) -> str:
    if isinstance(step, AgentStep):
        request = step.request
        name = request.get("operationName") if isinstance(request, dict) else None
        params = (
            {k: v for k, v in request.items() if k != "operationName"}
            if isinstance(request, dict)
            else {}
        )
        target = step.email_id or step.new_email_id or ""
        text = f"agent {step.agent}: {name} {target}".rstrip()
        if step.new_email_id and step.email_id:
            text += f" -> new email {step.new_email_id}"
        if params:
            text += " " + json.dumps(params, ensure_ascii=False)
        return text
    kind = type(step).__name__
    detail = {
        "Arrive": lambda s: f"email {s.email_id} arrives in queue {s.queue!r}: {s.subject!r}",
        "Offer": lambda s: f"routing offers email {s.email_id} to agent {s.agent}",
        "Revoke": lambda s: f"the invitation for email {s.email_id} is withdrawn",
    }[kind](step)
    return f"system: {detail}"


def _describe_notification(record: dict[str, Any]) -> list[str]:
    data = record["message"]["data"]
    email = data["email"]
    ref = f" referenceId={data['referenceId']}" if "referenceId" in data else ""
    lines = [
        f"    -> to {record['to']}: {data['notificationType']} email {email['id']} "
        f"state={email['state']}{ref}",
        f"       capabilities: {', '.join(email['capabilities']) or '(none)'}",
    ]
    content = [k for k in email if k not in ("id", "state", "capabilities", "uri")]
    if content:
        shown = []
        for key in content:
            value = email[key]
            if isinstance(value, dict):
                shown.append(f"{key} ({len(value)} keys)")
            elif isinstance(value, list) and value and isinstance(value[0], str):
                shown.append(f"{key}={','.join(value)}")
            elif isinstance(value, str) and len(value) <= 40:
                shown.append(f"{key}={value!r}")
            else:
                shown.append(key)
        lines.append(f"       full email: {'; '.join(shown)}")
    else:
        lines.append("       minimal email")
    return lines


def _print_story(scenario: Scenario, out: TextIO) -> None:
    out.write("email-fsm demo: the GWS Email API v2 Transfer page, as a story\n\n")
    described = 0

    def describe_until(index: int) -> int:
        for i in range(described, index + 1):
            out.write(f"[{i}] {_describe_step(scenario.steps[i])}\n")
        return max(described, index + 1)

    for record in run_scenario(scenario):
        described = describe_until(record["step"])
        if "response" in record:
            response = record["response"]
            status = f"statusCode {response['statusCode']}"
            if "statusMessage" in response:
                status += f": {response['statusMessage']}"
            out.write(f"    <- {status}\n")
        if "message" in record:
            out.write("\n".join(_describe_notification(record)) + "\n")
    describe_until(len(scenario.steps) - 1)
    out.write("\nRun `email-fsm demo --json` for the GWS messages themselves.\n")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="email-fsm",
        description="The GWS Email API v2 email lifecycle as a pure model.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    replay = commands.add_parser("replay", help="run a scenario file, print JSON lines")
    replay.add_argument("scenario", help="path of a scenario JSON file ('-' for stdin)")
    demo = commands.add_parser("demo", help="tell the story of the seed page")
    demo.add_argument("--json", action="store_true", help="print the replay format instead")
    diagram = commands.add_parser("diagram", help="draw the lifecycle, or print its reference")
    diagrams.add_arguments(diagram)
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run the command line; returns the exit status."""
    out = sys.stdout if out is None else out
    args = _parser().parse_args(argv)
    if args.command == "diagram":
        return diagrams.run(args, out)
    if args.command == "demo":
        scenario = load_scenario(demo_scenario_text())
        if args.json:
            _print_records(run_scenario(scenario), out)
        else:
            _print_story(scenario, out)
        return 0
    try:
        if args.scenario == "-":
            text: str | bytes = sys.stdin.buffer.read()
        else:
            with open(args.scenario, "rb") as handle:
                text = handle.read()
        scenario = load_scenario(text)
    except OSError as error:
        print(f"email-fsm: cannot read {args.scenario}: {error.strerror}", file=sys.stderr)
        return 2
    except ScenarioError as error:
        print(f"email-fsm: {args.scenario}: {error}", file=sys.stderr)
        return 2
    _print_records(run_scenario(scenario), out)
    return 0


def main_entry() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    main_entry()
