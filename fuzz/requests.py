"""GWS request bodies through ``parse_request`` and ``handle_request``.

On the emails of :func:`fuzz.common.phase_emails` (one in each phase), for a chosen
email id, agent and mode (lenient or ``strict_parameters``). The oracles: neither
function raises; every input gets a command or a refusal (``parse_request``), an
``Accepted`` or a ``Refused`` (``handle_request``), with a JSON response whose
``statusCode`` is 0 exactly when accepted; the emails passed in are unchanged; and the
decision round-trips through ``decision_to_json``/``decision_from_json``.
"""

from __future__ import annotations

import json
import sys

from email_fsm import AgentCommand, Config, Refused, StatusCode, handle_request, parse_request
from email_fsm.codec import CodecError, decision_from_json, decision_to_json
from fuzz.common import header, main, phase_emails, tagged_body

EMAILS = phase_emails()
IDS = [*sorted(EMAILS), "missing", ""]
AGENTS = ["a", "z", "b"]
CONFIGS = [Config(), Config(strict_parameters=True)]
OPERATIONS = [
    "Accept", "Reject", "Transfer", "Complete", "Reply", "ReplyAll", "Create", "Save",
    "Send", "Cancel", "AddAttachment", "RemoveAttachment", "AttachUserData",
    "UpdateUserData", "DeleteUserData", "SetDisposition", "AddComment", "SetInFocus",
]  # fmt: skip


def _body(mode: int, payload: bytes) -> object:
    return tagged_body(mode, payload, "operationName", OPERATIONS)


def test_one_input(data: bytes) -> None:
    """Input: 4 choices (email id, agent, config, the body's form), then the body."""
    choices, payload = header(data, 4)
    email_id = IDS[choices[0] % len(IDS)]
    actor = AGENTS[choices[1] % len(AGENTS)]
    config = CONFIGS[choices[2] % len(CONFIGS)]
    body = _body(choices[3] % 4, payload)

    parsed = parse_request(
        body, actor=actor, email_id=email_id, new_email_id="N1", reference_id=7, config=config
    )
    if isinstance(parsed, Refused):
        assert parsed.code in (StatusCode.MISSING_PARAMETER, StatusCode.INVALID_VALUE), parsed
        assert parsed.message
    else:
        assert isinstance(parsed, AgentCommand), parsed
        assert parsed.actor == actor

    emails = dict(EMAILS)
    decision = handle_request(
        emails, body, actor=actor, email_id=email_id, new_email_id="N1", reference_id=7,
        config=config,
    )  # fmt: skip
    assert emails == EMAILS, "handle_request changed the emails it was given"
    response = decision.response()
    json.dumps(response)
    assert (response["statusCode"] == 0) is (not isinstance(decision, Refused)), response
    if isinstance(parsed, Refused):
        assert isinstance(decision, Refused), "a body parse_request refuses was accepted"
    try:
        text = decision_to_json(decision)
    except CodecError:
        return  # text with no UTF-8 form (a lone surrogate): documented
    assert decision_from_json(text) == decision, text


if __name__ == "__main__":
    main("requests", test_one_input)
    sys.exit(0)
