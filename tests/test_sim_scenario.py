"""Scenarios: a bad one is refused with a message naming the field; TOML and JSON
describe the same scenario."""

from __future__ import annotations

import copy
import json
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from email_fsm.sim import Scenario, ScenarioError, load_scenario

BASE: dict[str, Any] = {
    "duration_hours": 8,
    "queues": [{"name": "sales", "rate_per_hour": 10}],
    "agent_groups": [{"name": "desk", "count": 2, "skills": ["sales"]}],
}


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = data
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[int(last) if last.isdigit() else last] = value

    return change


BAD = {
    "negative rate": (_set("queues.0.rate_per_hour", -1), "queues.0.rate_per_hour"),
    "negative hourly rate": (
        _set("queues.0", {"name": "sales", "hourly_rates": [1.0] * 23 + [-2.0]}),
        "queues.0.hourly_rates.23",
    ),
    "23 hourly rates": (
        _set("queues.0", {"name": "sales", "hourly_rates": [1.0] * 23}),
        "queues.0.hourly_rates: give 24 rates",
    ),
    "two rates": (
        _set("queues.0.hourly_rates", [1.0] * 24),
        "queues.0: give exactly one of rate_per_hour and hourly_rates",
    ),
    "a queue nobody serves": (
        _set(
            "queues", [{"name": "sales", "rate_per_hour": 1}, {"name": "vip", "rate_per_hour": 1}]
        ),
        "queues.1: no agent group has the skill for queue 'vip'",
    ),
    "an unknown skill": (
        _set("agent_groups.0.skills", ["sales", "billing"]),
        "agent_groups.0.skills: unknown queue 'billing'",
    ),
    "a shift that ends before it starts": (
        _set("agent_groups.0.shift", {"start": 17, "end": 9}),
        "agent_groups.0.shift: the shift ends (9) before it starts (17)",
    ),
    "an unknown policy module": (
        _set("policies", ["email_fsm.nowhere:rule"]),
        "policies.0: cannot import email_fsm.nowhere",
    ),
    "an unknown policy": (
        _set("policies", [{"path": "email_fsm.policies:max_transfer", "args": [1]}]),
        "policies.0: email_fsm.policies has no max_transfer",
    ),
    "a policy path without a colon": (
        _set("policies", ["email_fsm.policies.max_transfers"]),
        "policies.0: 'email_fsm.policies.max_transfers' is not an import path",
    ),
    "bad policy arguments": (
        _set("policies", [{"path": "email_fsm.policies:max_transfers", "args": [-1]}]),
        "policies.0: email_fsm.policies:max_transfers: limit must not be negative",
    ),
    "an unknown router": (
        _set("routing", {"router": "email_fsm.sim:no_router"}),
        "routing.router: email_fsm.sim has no no_router",
    ),
    "a probability over 1": (
        _set("agent_groups.0.reject_probability", 1.5),
        "agent_groups.0.reject_probability: Input should be less than or equal to 1",
    ),
    "a negative probability": (
        _set("agent_groups.0.reply_probability", -0.1),
        "agent_groups.0.reply_probability: Input should be greater than or equal to 0",
    ),
    "invitation outcomes over 1": (
        lambda d: d["agent_groups"][0].update(reject_probability=0.7, timeout_probability=0.4),
        "agent_groups.0: reject_probability + timeout_probability sum to 1.1",
    ),
    "handling outcomes over 1": (
        lambda d: d["agent_groups"][0].update(
            transfer_probability=0.6,
            complete_to_queue_probability=0.6,
            complete_to_queue="sales",
        ),
        "agent_groups.0: transfer_probability + complete_to_queue_probability",
    ),
    "user data choices not summing to 1": (
        _set("queues.0.user_data", {"Priority": {"choices": {"high": 0.5, "low": 0.6}}}),
        "queues.0.user_data.Priority.choices: the probabilities sum to 1.1",
    ),
    "an unknown completion queue": (
        lambda d: d["agent_groups"][0].update(
            complete_to_queue_probability=0.1, complete_to_queue="nowhere"
        ),
        "agent_groups.0.complete_to_queue: unknown queue 'nowhere'",
    ),
    "an unknown handle-time distribution": (
        _set("agent_groups.0.handle_time", {"distribution": "gamma", "mean_minutes": 3}),
        "agent_groups.0.handle_time: Input tag 'gamma'",
    ),
    "zero capacity": (_set("agent_groups.0.capacity", 0), "agent_groups.0.capacity"),
    "a misspelled field": (_set("agent_groups.0.skill", ["sales"]), "agent_groups.0.skill:"),
    "no duration": (lambda d: d.pop("duration_hours"), "duration_hours: Field required"),
    "a warm-up as long as the run": (
        _set("warmup_hours", 8),
        "warmup_hours: the warm-up must end before the run does",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_scenario_is_refused_naming_the_field(case: str) -> None:
    change, expected = BAD[case]
    data = copy.deepcopy(BASE)
    change(data)
    with pytest.raises(ScenarioError) as raised:
        Scenario.model_validate(data)
    message = str(raised.value)
    assert message.startswith("invalid scenario:\n")
    assert any(p.startswith(expected) for p in raised.value.problems), message
    assert isinstance(raised.value, ValueError)


def test_the_base_scenario_is_valid() -> None:
    scenario = Scenario.model_validate(BASE)
    assert scenario.queue("sales").rates() == (10.0,) * 24
    assert pickle.loads(pickle.dumps(scenario)) == scenario
    error = pickle.loads(pickle.dumps(ScenarioError(["a: b"])))
    assert error.problems == ("a: b",)


TOML = """
duration_hours = 24
seed = 5
warmup_hours = 1

[[queues]]
name = "sales"
hourly_rates = [0, 0, 0, 0, 0, 0, 0, 0, 10, 20, 20, 20, 20, 20, 20, 20, 20, 10, 0, 0, 0, 0, 0, 0]
service_goal_hours = 4
user_data = { Priority = { choices = { high = 0.2, low = 0.8 } } }

[[agent_groups]]
name = "desk"
count = 3
skills = ["sales"]
shift = { start = 8, end = 18 }
capacity = 2
handle_time = { distribution = "lognormal", mean_minutes = 8, sd_minutes = 3 }

[routing]
offer_timeout_minutes = 3

[[policies]]
path = "email_fsm.policies:max_transfers"
args = [2]

[[policies]]
path = "email_fsm.policies:require_disposition"
"""


def test_toml_and_json_load_the_same_scenario(tmp_path: Path) -> None:
    toml_file = tmp_path / "center.toml"
    toml_file.write_text(TOML, encoding="utf-8")
    from_toml = load_scenario(toml_file)
    json_file = tmp_path / "center.json"
    json_file.write_text(json.dumps(from_toml.model_dump(mode="json")), encoding="utf-8")
    from_json = load_scenario(json_file)
    assert from_json == from_toml
    assert from_toml.queues[0].hourly_rates is not None
    assert from_toml.queues[0].hourly_rates[9] == 20
    assert [p.name for p in from_toml.policies] == [
        "email_fsm.policies:max_transfers(2)",
        "email_fsm.policies:require_disposition",
    ]
    assert from_toml.agent_groups[0].shift.end == 18


def test_a_file_that_is_not_a_scenario_is_refused(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("duration_hours = ", encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"broken\.toml: not valid TOML"):
        load_scenario(broken)
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({**BASE, "duration_hours": -1}), encoding="utf-8")
    with pytest.raises(ScenarioError, match="duration_hours: Input should be greater than 0"):
        load_scenario(wrong)
    other = tmp_path / "center.yaml"
    other.write_text("{}", encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"a \.toml or a \.json file"):
        load_scenario(other)
