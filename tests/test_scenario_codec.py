"""The scenario codec: what :func:`scenario_document` writes, :func:`load_scenario` reads
back as the same steps.

The steps come from the toolkit's strategies: the valid histories of
:func:`~email_fsm.testing.reachable` (Arrive, Offer, Revoke and agents' request bodies)
and agent steps carrying any JSON value. A scenario's configuration (``baseUrl``, the
``config`` object) comes back as written too; tests/test_scenario_config.py has the
``config`` object's own rules.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import JsonValue

from email_fsm import Arrive, Config, Limits, Offer, Revoke
from email_fsm.scenario import AgentStep, Step, load_scenario, scenario_document
from email_fsm.testing import Reached, agents, json_values, reachable


def round_trip(
    steps: list[Step] | tuple[Step, ...],
    base_url: str | None = None,
    config: Config | None = None,
) -> object:
    """The steps of the file ``scenario_document`` writes for ``steps``, as loaded."""
    document = scenario_document(steps, base_url=base_url, config=config)
    scenario = load_scenario(json.dumps(document))
    assert scenario.config == config
    assert scenario.base_url == (base_url if config is None else config.base_url)
    return scenario.steps


configs = st.none() | st.builds(
    Config,
    base_url=st.sampled_from(["http://gws:8080", ""]),
    uri_template=st.sampled_from(["{baseUrl}/api/v2/email/{id}", "{baseUrl}/m/{id}"]),
    extended_fields=st.booleans(),
    strict_parameters=st.booleans(),
    limits=st.builds(Limits, max_attachments=st.integers(0, 5)),
)


@settings(max_examples=40)
@given(reachable(max_steps=12), st.none() | st.sampled_from(["http://gws:8080", ""]), configs)
def test_histories_load_back_as_the_same_steps(
    reached: Reached, base_url: str | None, config: Config | None
) -> None:
    assert reached.steps
    if config is not None and base_url is not None:
        base_url = config.base_url  # both given, they must agree
    assert round_trip(reached.steps, base_url, config) == reached.steps


# A string in the file is a string body: the loader holds it as its JSON text.
requests_as_loaded = json_values().map(lambda v: json.dumps(v) if isinstance(v, str) else v)


@given(
    st.lists(
        st.builds(
            AgentStep,
            agent=agents(),
            request=requests_as_loaded,
            email_id=st.none() | st.sampled_from(["E1", "E2"]),
            new_email_id=st.none() | st.just("E3"),
            reference_id=st.none() | st.integers(0, 2**31),
        ),
        max_size=4,
    )
)
def test_agent_steps_with_any_json_body_load_back(steps: list[Step]) -> None:
    assert round_trip(steps) == tuple(steps)


def test_a_json_text_body_is_written_as_the_value_it_encodes() -> None:
    step = AgentStep("alice", '{"operationName": "Accept"}', email_id="E1")
    assert scenario_document([step]) == {
        "steps": [{"agent": "alice", "emailId": "E1", "request": {"operationName": "Accept"}}]
    }
    assert round_trip([step]) == (AgentStep("alice", {"operationName": "Accept"}, "E1"),)


def test_a_body_that_is_not_json_cannot_be_written() -> None:
    with pytest.raises(ValueError, match="Expecting value"):
        scenario_document([AgentStep("alice", "not json", email_id="E1")])


def test_every_system_command_is_written_in_the_file_format() -> None:
    arrive = Arrive(
        email_id="E1",
        queue="inbound",
        received_date="2026-01-05T10:00:00Z",
        from_="c@example.com",
        to=("support@example.com",),
        subject="Hi",
        mime="text/plain",
        contact_id="C1",
        user_data={"VIP": True},
    )
    steps: list[Step] = [arrive, Offer(email_id="E1", agent="a"), Revoke(email_id="E1")]
    expected: dict[str, JsonValue] = {
        "baseUrl": "http://gws:8080",
        "steps": [
            {
                "event": "Arrive",
                "emailId": "E1",
                "queueName": "inbound",
                "email": {
                    "to": ["support@example.com"],
                    "cc": [],
                    "from": "c@example.com",
                    "subject": "Hi",
                    "mime": "text/plain",
                    "contactId": "C1",
                    "userData": {"VIP": True},
                },
                "receivedDate": "2026-01-05T10:00:00Z",
            },
            {"event": "Offer", "emailId": "E1", "agent": "a"},
            {"event": "Revoke", "emailId": "E1"},
        ],
    }
    assert scenario_document(steps, base_url="http://gws:8080") == expected
    assert round_trip(steps, "http://gws:8080") == tuple(steps)


def test_the_demo_story_round_trips() -> None:
    from email_fsm.cli import demo_scenario_text

    scenario = load_scenario(demo_scenario_text())
    assert len(scenario.steps) > 3
    assert round_trip(scenario.steps, scenario.base_url, scenario.config) == scenario.steps


def test_a_config_is_written_before_the_steps() -> None:
    document = scenario_document(
        [Offer(email_id="E1", agent="a")],
        base_url="http://gws:8080",
        config=Config(base_url="http://gws:8080"),
    )
    assert list(document) == ["baseUrl", "config", "steps"]
    assert round_trip(
        [Offer(email_id="E1", agent="a")], "http://gws:8080", Config(base_url="http://gws:8080")
    ) == (Offer(email_id="E1", agent="a"),)
