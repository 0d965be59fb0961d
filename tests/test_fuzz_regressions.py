"""Inputs the coverage-guided fuzzers (``fuzz/``) found to crash a boundary, kept as tests.

Each test names the harness that found the input and what the boundary did with it.
"""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path

import httpx
import pytest

from email_fsm import (
    Accept,
    Arrive,
    ContactCenter,
    Offer,
    Phase,
    Refused,
    StatusCode,
    handle_request,
    parse_request,
)
from email_fsm.scenario import ScenarioError as ReplayScenarioError
from email_fsm.scenario import load_scenario as load_replay_scenario
from email_fsm.server import ServerSettings, create_app
from email_fsm.sim.scenario import ScenarioError, load_scenario

EXAMPLE_SCENARIO = Path(__file__).resolve().parent.parent / "examples" / "sim" / "support.toml"

# GWS's own Transfer sample (tests/fixtures/gws/EmailTransfer.page.txt) writes the host
# as the placeholder "[host]": urlsplit reads a bracketed host as an IPv6 address and
# raised ValueError out of parse_request and handle_request (fuzz.requests, from its
# seeds), and the server answered 500 (fuzz.http).
PLACEHOLDER_HOST = {
    "operationName": "Transfer",
    "userUri": "http://[host]/api/v2/users/e62d21e405a04274bd6bbcaf78bd8c38",
}
BAD_URIS = [
    "http://[host]/api/v2/users/b",
    "http://[::1/api/v2/users/b",
    "https://[gws]:8080/api/v2/contacts/b",
]


def _processing() -> ContactCenter:
    center = ContactCenter()
    for command in (
        Arrive(email_id="E1", queue="inbound"),
        Offer(email_id="E1", agent="a"),
        Accept(actor="a", email_id="E1"),
    ):
        assert not isinstance(center.execute(command), Refused)
    return center


@pytest.mark.parametrize("uri", BAD_URIS)
@pytest.mark.parametrize("key", ["userUri", "targetUri"])
def test_a_uri_urlsplit_cannot_read_is_refused_not_raised(key: str, uri: str) -> None:
    body = {"operationName": "Transfer", key: uri}
    parsed = parse_request(body, actor="a", email_id="E1")
    assert isinstance(parsed, Refused)
    assert parsed.code is StatusCode.INVALID_VALUE
    assert parsed.message == f"Transfer refused for email E1: {key} {uri!r} is not a valid URI"


@pytest.mark.parametrize("uri", BAD_URIS)
@pytest.mark.parametrize("operation", ["Create", "Reply"])
def test_a_queue_uri_urlsplit_cannot_read_is_refused_not_raised(operation: str, uri: str) -> None:
    body = {"operationName": operation, "queueUri": uri}
    parsed = parse_request(body, actor="a", email_id="E1", new_email_id="N1")
    assert isinstance(parsed, Refused)
    assert parsed.code is StatusCode.INVALID_VALUE
    assert f"queueUri {uri!r} is not a valid URI" in parsed.message


def test_the_gws_transfer_sample_with_its_placeholder_host_is_refused() -> None:
    center = _processing()
    before = dict(center.emails)
    decision = handle_request(center.emails, PLACEHOLDER_HOST, actor="a", email_id="E1")
    assert isinstance(decision, Refused)
    assert decision.response() == {
        "statusCode": 10,
        "statusMessage": "Transfer refused for email E1: userUri "
        f"{PLACEHOLDER_HOST['userUri']!r} is not a valid URI",
    }
    assert center.emails == before


def test_the_server_answers_the_placeholder_host_with_a_refusal_not_500() -> None:
    async def main() -> tuple[int, object, Phase]:
        app = create_app(ServerSettings())
        async with app.router.lifespan_context(app):
            service = app.state.service
            await service.system(Arrive(email_id="E1", queue="inbound"))
            await service.system(Offer(email_id="E1", agent="a"))
            await service.agent_request("a", {"operationName": "Accept"}, "E1")
            transport = httpx.ASGITransport(app=app)
            credentials = base64.b64encode(b"a:secret").decode()
            async with httpx.AsyncClient(
                transport=transport,
                base_url="http://testserver",
                headers={"authorization": f"Basic {credentials}"},
            ) as client:
                response = await client.post(
                    "/api/v2/me/emails/E1", content=json.dumps(PLACEHOLDER_HOST)
                )
            return response.status_code, response.json(), service.store.emails["E1"].phase

    status, answer, phase = asyncio.run(main())
    assert status == 200
    assert isinstance(answer, dict)
    assert answer["statusCode"] == 10
    assert "is not a valid URI" in answer["statusMessage"]
    assert phase is Phase.PROCESSING


# fuzz.sim_scenario: a scenario file that is not UTF-8 raised UnicodeDecodeError out of
# load_scenario, which documents ScenarioError (and OSError); `email-fsm simulate`
# catches only those, so it ended in a traceback.
@pytest.mark.parametrize("suffix", [".toml", ".json"])
def test_a_scenario_file_that_is_not_utf8_is_a_scenario_error(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"scenario{suffix}"
    text = EXAMPLE_SCENARIO.read_bytes()
    path.write_bytes(text[:400] + b"\xff" + text[400:])
    with pytest.raises(ScenarioError) as raised:
        load_scenario(path)
    (problem,) = raised.value.problems
    assert problem.startswith(f"scenario{suffix}: not UTF-8 text: ")
    assert "0xff in position 400" in problem


# fuzz.scenario: a step's unknown key (or an event tag) holding a line break was echoed
# as it is, and the ScenarioError, which `email-fsm replay` prints as one line
# ("email-fsm: ..."), ran over two. The input the fuzzer found is kept as a file.
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "fuzz"


def test_the_fuzzers_scenario_with_a_line_break_in_a_key_is_refused_on_one_line() -> None:
    text = (FIXTURES / "scenario-key-with-line-break.json").read_bytes()
    with pytest.raises(ReplayScenarioError) as raised:
        load_replay_scenario(text)
    assert str(raised.value) == "step 4: refer\\nceId: Extra inputs are not permitted"


@pytest.mark.parametrize(
    ("step", "message"),
    [
        ({"agent": "a", "request": {}, "x\r\ny": 1}, "step 0: x\\r\\ny: Extra inputs"),
        ({"event": "Arr\nive"}, "step 0: Input tag 'Arr\\nive' found using 'event'"),
        ({"event": "Offer", "emailId": "E1", "agent": "a", "\u2028": 0}, "step 0: \\u2028: "),
    ],
)
def test_a_scenario_error_quoting_the_file_stays_on_one_line(
    step: dict[str, object], message: str
) -> None:
    with pytest.raises(ReplayScenarioError) as raised:
        load_replay_scenario(json.dumps({"steps": [step]}))
    assert str(raised.value).startswith(message)
    assert str(raised.value).isprintable()
