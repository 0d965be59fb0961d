"""Fuzzing the boundary: whatever comes in, a decision or a clean exit 2, never a crash.

Arbitrary JSON values (NaN and huge numbers included), arbitrary text and bytes, and
GWS-shaped bodies with wrong, missing and unknown parameters go to :func:`parse_request`
and :func:`handle_request`, leniently and with ``strict_parameters``; arbitrary files go
to the scenario loader and to ``email-fsm replay``. ``make test`` runs these at the
default profile's example count; ``make fuzz`` at the ``fuzz`` profile's
(``HYPOTHESIS_PROFILE=fuzz``).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
from collections.abc import Iterator

from hypothesis import given, settings
from hypothesis import strategies as st

from email_fsm import (
    Accepted,
    AgentCommand,
    Config,
    Refused,
    StatusCode,
    handle_request,
    parse_request,
)
from email_fsm.cli import main
from email_fsm.requests import ParsedRequest, parse_request_ignoring
from email_fsm.scenario import Scenario, ScenarioError, load_scenario
from email_fsm.testing import AGENTS, Reached, arbitrary_requests, json_values, reachable, scenarios

# The slow strategies (whole histories) run a tenth as many examples as the profile says.
SLOW = settings(max_examples=max(10, settings().max_examples // 10))

# Python values no JSON parser produces, but a caller passing a dict could.
python_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text()
    | st.binary(max_size=8)
    | st.just(object()),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=8) | st.integers(), inner, max_size=3)
        | st.tuples(inner)
    ),
    max_leaves=10,
)
bodies = arbitrary_requests() | python_values | json_values().map(lambda v: {"operationName": v})
ids = st.none() | st.sampled_from(["E1", "E0", "missing", ""]) | st.text(max_size=5)


@given(bodies, st.sampled_from(AGENTS) | st.text(max_size=4), ids, ids)
def test_parse_request_never_raises(
    body: object, actor: str, email_id: str | None, new_email_id: str | None
) -> None:
    result = parse_request(body, actor=actor, email_id=email_id, new_email_id=new_email_id)
    if isinstance(result, Refused):
        assert result.code in (StatusCode.MISSING_PARAMETER, StatusCode.INVALID_VALUE)
        assert result.message
        json.dumps(result.response())
    else:
        assert isinstance(result, AgentCommand)
        assert result.actor == actor


STRICT = Config(strict_parameters=True)


@given(bodies)
def test_strict_parameters_refuse_exactly_what_is_ignored(body: object) -> None:
    lenient = parse_request_ignoring(body, actor="a", email_id="E1", new_email_id="N1")
    strict = parse_request(body, actor="a", email_id="E1", new_email_id="N1", config=STRICT)
    if isinstance(lenient, Refused):
        assert isinstance(strict, Refused)
        return
    assert isinstance(lenient, ParsedRequest)
    loaded = json.loads(body) if isinstance(body, str | bytes) else body  # accepted: JSON
    assert isinstance(loaded, dict)
    email = loaded.get("email")
    inner = [f"email.{key}" for key in email] if isinstance(email, dict) else []
    assert set(lenient.ignored) <= {str(key) for key in loaded} | set(inner)
    if lenient.ignored:
        assert isinstance(strict, Refused)
        assert strict.code is StatusCode.INVALID_VALUE
        assert f"unknown parameter {lenient.ignored[0][:100]!r}" in strict.message
    else:
        assert strict == lenient.command


@SLOW
@given(reachable(), bodies, st.sampled_from(AGENTS), ids, ids)
def test_handle_request_never_raises(
    reached: Reached, body: object, actor: str, email_id: str | None, new_email_id: str | None
) -> None:
    emails = dict(reached.emails)
    decision = handle_request(
        emails, body, actor=actor, email_id=email_id, new_email_id=new_email_id, reference_id=1
    )
    assert isinstance(decision, Accepted | Refused)
    assert emails == reached.emails  # decide never changes its input
    response = decision.response()
    assert (response["statusCode"] == 0) is isinstance(decision, Accepted)
    json.dumps(response)
    if isinstance(decision, Accepted):
        for note in decision.notifications:
            json.dumps(note.to_dict())


def _scenario_texts() -> st.SearchStrategy[str | bytes]:
    steps = st.lists(
        json_values(max_leaves=6)
        | st.fixed_dictionaries({"event": st.sampled_from(["Arrive", "Offer", "Revoke", "Fly"])})
        | st.fixed_dictionaries(
            {"agent": st.text(max_size=3), "request": json_values(max_leaves=4)},
            optional={"emailId": json_values(max_leaves=1), "referenceId": json_values(1)},
        ),
        max_size=4,
    )
    documents = st.fixed_dictionaries(
        {"steps": steps | json_values(max_leaves=2)},
        optional={"baseUrl": json_values(max_leaves=1), "extra": st.none()},
    )
    return (
        documents.map(json.dumps)
        | json_values().map(json.dumps)
        | st.text(max_size=60)
        | st.binary(max_size=60)
        | documents.map(lambda d: json.dumps(d).encode("utf-16"))
    )


@given(_scenario_texts())
def test_scenario_loader_raises_only_scenario_errors(text: str | bytes) -> None:
    try:
        scenario = load_scenario(text)
    except ScenarioError as error:
        message = str(error)
    else:
        assert isinstance(scenario, Scenario)
        return
    assert message
    assert "\n" not in message


@contextlib.contextmanager
def _file(content: bytes) -> Iterator[str]:
    handle, path = tempfile.mkstemp(suffix=".json")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(content)
        yield path
    finally:
        os.unlink(path)


def _replay(content: bytes) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with _file(content) as path, contextlib.redirect_stderr(err):
        status = main(["replay", path], out=out)
    return status, out.getvalue(), err.getvalue()


@given(_scenario_texts())
def test_replay_exits_0_or_cleanly_2(text: str | bytes) -> None:
    status, out, err = _replay(
        text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    )
    assert status in (0, 2)
    if status == 2:
        assert out == ""
        assert err.startswith("email-fsm: ")
        assert err.count("\n") == 1
    else:
        assert err == ""
        # JSON Lines: "\n" ends a record; str.splitlines would also split inside strings
        # holding U+0085 or U+2028, which the output keeps unescaped.
        assert out.endswith("\n") or out == ""
        for line in out.split("\n")[:-1]:
            assert isinstance(json.loads(line), dict)


@SLOW
@given(scenarios())
def test_replay_runs_every_generated_scenario(document: dict[str, object]) -> None:
    status, out, err = _replay(json.dumps(document).encode())
    assert (status, err) == (0, "")
    steps = [json.loads(line)["step"] for line in out.split("\n")[:-1]]
    assert steps == sorted(steps)
