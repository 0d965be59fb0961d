"""The strategies of email_fsm.testing keep their promises.

Reachable emails satisfy the ownership rules and are rebuilt by their own history; the
requested phases are reached, every one of them; valid request bodies are accepted and
stay within the allowed set; scenario documents load, run and are written back unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from email_fsm import (
    ALLOWED,
    Accepted,
    Config,
    ContactCenter,
    Direction,
    Email,
    Limits,
    Operation,
    Phase,
    handle_request,
    parse_request,
    permissions,
)
from email_fsm.scenario import AgentStep, load_scenario, run_scenario, scenario_document
from email_fsm.testing import (
    AGENTS,
    QUEUES,
    Reached,
    Vocabulary,
    check_ownership,
    create_requests,
    emails,
    reachable,
    request_bodies,
    scenarios,
    user_data,
)


def rerun(reached: Reached) -> ContactCenter:
    """Run a reached email's history through a fresh contact center."""
    center = ContactCenter()
    for step in reached.steps:
        if isinstance(step, AgentStep):
            decision = center.request(
                step.agent, step.request, email_id=step.email_id, new_email_id=step.new_email_id
            )
        else:
            decision = center.execute(step)
        assert isinstance(decision, Accepted), decision
    return center


@settings(max_examples=50)
@given(reachable())
def test_reached_emails_are_rebuilt_by_their_history(reached: Reached) -> None:
    center = rerun(reached)
    assert dict(center.emails) == dict(reached.emails)
    assert center.emails[reached.email.id] == reached.email
    for email in reached.emails.values():
        check_ownership(email)


@pytest.mark.parametrize("phase", list(Phase))
@settings(max_examples=15)
@given(data=st.data())
def test_every_phase_is_reached(phase: Phase, data: st.DataObject) -> None:
    email = data.draw(emails(phases={phase}))
    assert email.phase is phase
    check_ownership(email)


@settings(max_examples=25)
@given(emails(directions={Direction.INBOUND}))
def test_inbound_emails_stay_inbound(email: Email) -> None:
    assert email.direction is Direction.INBOUND
    assert email.phase is not Phase.COMPOSING


def test_unreachable_phases_are_refused_up_front() -> None:
    with pytest.raises(ValueError, match="can reach"):
        emails(phases={Phase.SENT}, directions={Direction.INBOUND})
    with pytest.raises(ValueError, match="two agents"):
        emails(agent_names=["alone"])


@settings(max_examples=60)
@given(reachable(), st.data())
def test_requests_are_allowed_and_accepted(reached: Reached, data: st.DataObject) -> None:
    email = reached.email
    if email.holder is None:
        assert permissions(email, "alice").allowed == ()
        return
    body = data.draw(request_bodies(email, email.holder))
    command = parse_request(body, actor=email.holder, email_id=email.id, new_email_id="NEW")
    assert not isinstance(command, type(None))
    assert body["operationName"] in [str(op) for op in ALLOWED[email.phase]]
    decision = handle_request(
        reached.emails, body, actor=email.holder, email_id=email.id, new_email_id="NEW"
    )
    assert isinstance(decision, Accepted), (body, decision)
    if body["operationName"] == "Transfer" and "queueName" not in body:
        target = decision.notifications[-1].recipient
        assert target in AGENTS
        assert target != email.holder


TIGHT = Config(limits=Limits(max_user_data_keys=2, max_attachments=1))


@settings(max_examples=40)
@given(reachable(config=TIGHT, max_steps=15), st.data())
def test_requests_respect_tight_limits(reached: Reached, data: st.DataObject) -> None:
    email = reached.email
    if email.holder is None:
        return
    body = data.draw(request_bodies(email, email.holder, config=TIGHT))
    decision = handle_request(
        reached.emails,
        body,
        actor=email.holder,
        email_id=email.id,
        new_email_id="NEW",
        config=TIGHT,
    )
    assert isinstance(decision, Accepted), (body, decision)
    for after in decision.emails:
        assert len(after.user_data) <= 2
        assert len(after.attachments) <= 1


@given(create_requests(), st.sampled_from(AGENTS))
def test_create_requests_are_accepted(body: dict[str, object], agent: str) -> None:
    decision = handle_request({}, body, actor=agent, new_email_id="D1")
    assert isinstance(decision, Accepted), decision
    assert decision.emails[0].phase is Phase.COMPOSING
    assert decision.emails[0].queue in (*QUEUES, "default")


@given(user_data(min_size=1, max_size=2))
def test_user_data_sizes(data: dict[str, object]) -> None:
    assert 1 <= len(data) <= 2
    assert all(data)


@settings(max_examples=20)
@given(emails(phases={Phase.INVITED, Phase.PROCESSING, Phase.COMPOSING}))
def test_nobody_but_the_holder_gets_requests(email: Email) -> None:
    for agent in AGENTS:
        assert (request_bodies(email, agent) is st.nothing()) is (agent != email.holder)


@settings(max_examples=20)
@given(emails(phases={Phase.QUEUED, Phase.COMPLETED, Phase.SENT, Phase.CANCELED}))
def test_nobody_gets_requests_for_unheld_emails(email: Email) -> None:
    assert all(request_bodies(email, agent) is st.nothing() for agent in AGENTS)


@settings(max_examples=25)
@given(scenarios())
def test_scenarios_load_and_run(document: dict[str, object]) -> None:
    scenario = load_scenario(json.dumps(document))
    assert len(scenario.steps) == len(document["steps"])  # type: ignore[arg-type]
    assert scenario_document(scenario.steps) == document
    for record in run_scenario(scenario):
        assert record["step"] < len(scenario.steps)


@settings(max_examples=20)
@given(scenarios(noise=False, max_steps=12))
def test_scenarios_without_noise_are_accepted(document: dict[str, object]) -> None:
    responses = [
        r["response"]["statusCode"]
        for r in run_scenario(load_scenario(json.dumps(document)))
        if "response" in r
    ]
    assert set(responses) <= {0}


def test_the_former_names_still_import() -> None:
    import email_fsm.scenario
    import email_fsm.testing

    assert email_fsm.testing.requests is request_bodies
    assert email_fsm.testing.scenario_document is email_fsm.scenario.scenario_document
    assert {"requests", "request_bodies", "scenario_document"} <= set(email_fsm.testing.__all__)


def test_allowed_operations_are_operations() -> None:
    assert all(isinstance(op, Operation) for ops in ALLOWED.values() for op in ops)


MINE = Vocabulary(
    agents=("ann", "ben"),
    queues=("front",),
    user_data={"Priority": st.sampled_from(["high", "low"])},
    replace_user_data=True,
    other_user_data=False,
    subjects=st.just("Subject S"),
    addresses=st.just("me@example.org"),
    dispositions=st.just("Done"),
)


def _priority_values(data: object, present: Mapping[str, object]) -> bool:
    return isinstance(data, dict) and set(data) <= {
        "Priority",
        "DispositionCode",
        "Outcome",
        *present,
    }


@settings(max_examples=40)
@given(reachable(vocabulary=MINE, max_steps=12), st.data())
def test_the_users_vocabulary_flows_into_emails_and_requests(
    reached: Reached, data: st.DataObject
) -> None:
    for email in reached.emails.values():
        assert email.queue in ("front", "default")
        assert email.owner in (None, "ann", "ben")
        assert email.user_data.get("Priority", "high") in ("high", "low")
        # A reply's subject is the original's after "Re: ".
        assert (email.content.subject or "Subject S").removeprefix("Re: ") in ("", "Subject S")
    email = reached.email
    if email.holder is None:
        return
    body = data.draw(request_bodies(email, email.holder, vocabulary=MINE))
    if "queueName" in body:
        assert body["queueName"] == "front"
    if "userUri" in body or "targetUri" in body:
        target = str(body.get("userUri", body.get("targetUri")))
        assert target.rsplit("/", 1)[-1] in ("ann", "ben")
    if "userData" in body:
        # The vocabulary's keys, the disposition's, and (to delete) the email's own: a
        # draft replying to an email with a contactId has a ContactId key.
        assert _priority_values(body["userData"], email.user_data), body
    if body["operationName"] == "SetDisposition":
        assert body["disposition"] == "Done"
    decision = handle_request(
        reached.emails,
        body,
        actor=email.holder,
        email_id=email.id,
        new_email_id="NEW",
        config=MINE.config,
    )
    assert isinstance(decision, Accepted), (body, decision)


@given(user_data(vocabulary=MINE, min_size=1))
def test_user_data_draws_only_the_users_keys_when_they_replace_the_defaults(
    data: dict[str, object],
) -> None:
    assert set(data) == {"Priority"}
    assert data["Priority"] in ("high", "low")


@given(user_data(keys={"Tier": st.just("gold")}, max_size=6))
def test_user_keys_join_the_defaults(data: dict[str, object]) -> None:
    assert data.get("Tier", "gold") == "gold"
    assert data.get("VIP", True) in (True, False)


@settings(max_examples=20)
@given(create_requests(vocabulary=MINE), scenarios(vocabulary=MINE, noise=False, max_steps=10))
def test_create_requests_and_scenarios_draw_from_the_vocabulary(
    body: dict[str, object], document: dict[str, object]
) -> None:
    assert body.get("queueName", "front") == "front"
    assert _priority_values(body.get("userData", {}), {})
    text = json.dumps(document)
    assert "alice" not in text
    assert "inbound" not in text


def test_a_vocabulary_needs_two_agents_and_a_queue() -> None:
    with pytest.raises(ValueError, match="two agents"):
        Vocabulary(agents=("solo",))
    with pytest.raises(ValueError, match="two agents"):
        Vocabulary(queues=())
