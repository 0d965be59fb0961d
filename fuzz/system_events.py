"""System-event bodies (``Arrive``, ``Offer``, ``Revoke``) through ``parse_system_event``.

The oracles: it never raises; a refusal has code 1 or 10 and a message; a command
written back as a scenario step (``scenario_document``) parses to the same command.
"""

from __future__ import annotations

import json
import sys

from email_fsm import Refused, StatusCode
from email_fsm.requests import parse_system_event
from email_fsm.scenario import scenario_document
from fuzz.common import header, main, tagged_body

EVENTS = ["Arrive", "Offer", "Revoke"]


def _body(mode: int, payload: bytes) -> object:
    return tagged_body(mode, payload, "event", EVENTS)


def test_one_input(data: bytes) -> None:
    """Input: 1 choice (the body's form), then the body."""
    choices, payload = header(data, 1)
    body = _body(choices[0] % 4, payload)
    command = parse_system_event(body)
    if isinstance(command, Refused):
        assert command.code in (StatusCode.MISSING_PARAMETER, StatusCode.INVALID_VALUE), command
        assert command.message
        json.dumps(command.response())
        return
    steps = scenario_document([command])["steps"]
    assert isinstance(steps, list), steps
    (step,) = steps
    again = parse_system_event(json.loads(json.dumps(step)))
    assert again == command, (command, again)


if __name__ == "__main__":
    main("system_events", test_one_input)
    sys.exit(0)
