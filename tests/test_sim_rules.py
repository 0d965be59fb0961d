"""The simulator keeps the model's rules: what it does is a valid history, replayable;
business rules bind and are counted; runs are reproducible; streams are shared between
variants (common random numbers)."""

from __future__ import annotations

import json
import math
import os
import pickle
import subprocess
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from email_fsm import Command, Complete, Email, Refused, StatusCode, Transfer, replay
from email_fsm.events import EmailArrived, EmailCompleted, TransferredToAgent, TransferredToQueue
from email_fsm.sim import Scenario, SimulationResult, simulate

MAX_TRANSFERS = "email_fsm.policies:max_transfers(1)"


def busy_center(**changes: Any) -> Scenario:
    """Two queues, agents who reject, let invitations time out, reply, transfer, complete
    into another queue, with a shift and capacity two."""
    data: dict[str, Any] = {
        "duration_hours": 12,
        "seed": 11,
        "interval_minutes": 60,
        "queues": [
            {
                "name": "sales",
                "rate_per_hour": 40,
                "service_goal_hours": 0.5,
                "subjects": {"Order": 0.5, "Refund": 0.5},
                "user_data": {"Priority": {"choices": {"high": 0.2, "low": 0.8}}},
            },
            {"name": "support", "rate_per_hour": 25, "service_goal_hours": 1},
        ],
        "agent_groups": [
            {
                "name": "desk",
                "count": 6,
                "skills": ["sales", "support"],
                "capacity": 2,
                "reject_probability": 0.1,
                "timeout_probability": 0.05,
                "accept_delay_seconds": 10,
                "handle_time": {"distribution": "lognormal", "mean_minutes": 6, "sd_minutes": 4},
                "reply_probability": 0.6,
                "disposition_probability": 0.5,
                "transfer_probability": 0.3,
                "complete_to_queue_probability": 0.1,
                "complete_to_queue": "support",
            },
            {
                "name": "late",
                "count": 3,
                "skills": ["support"],
                "shift": {"start": 4, "end": 12},
                "handle_time": {"distribution": "empirical", "values_minutes": [2, 4, 9]},
                "transfer_probability": 0.2,
                "transfer_queue": "sales",
            },
        ],
        "routing": {"offer_timeout_minutes": 1},
    }
    data.update(changes)
    return Scenario.model_validate(data)


def fingerprint(result: SimulationResult) -> str:
    return json.dumps(result.to_dict(), sort_keys=True)


@pytest.fixture(scope="module")
def recorded() -> SimulationResult:
    return simulate(busy_center(), record=True)


def transfers_per_email(result: SimulationResult) -> Counter[str]:
    assert result.events is not None
    return Counter(
        e.email_id for e in result.events if isinstance(e, TransferredToAgent | TransferredToQueue)
    )


def test_every_email_ends_terminal_or_live(recorded: SimulationResult) -> None:
    assert recorded.events is not None
    assert recorded.final_emails is not None
    rebuilt = replay(recorded.events)
    arrived = {e.email_id for e in recorded.events if isinstance(e, EmailArrived)}
    assert len(arrived) == recorded.emails > 500
    assert arrived <= set(rebuilt)
    for email_id, email in rebuilt.items():
        assert email.is_terminal or email_id in recorded.final_emails, email
    live = [e for e in recorded.final_emails.values() if not e.is_terminal]
    assert live, "a 12-hour run ends with emails in progress"
    assert recorded.overall.live_at_end + recorded.overall.completed == recorded.overall.arrived


def test_the_event_log_replays_to_the_final_emails(recorded: SimulationResult) -> None:
    assert recorded.events is not None
    assert recorded.final_emails is not None
    rebuilt = replay(recorded.events)
    for email_id, email in recorded.final_emails.items():
        assert rebuilt[email_id] == email


def test_the_behaviours_all_happen(recorded: SimulationResult) -> None:
    overall = recorded.overall
    assert overall.transfers > 0
    assert overall.rejections > 0
    assert overall.timeouts > 0
    assert recorded.events is not None
    kinds = Counter(type(e).__name__ for e in recorded.events)
    for kind in ("ReplyCreated", "EmailSent", "TransferredToAgent", "TransferredToQueue"):
        assert kinds[kind] > 0, kind
    assert recorded.refusals_by_code == {}  # the simulator only asks for what is allowed
    assert 0.0 < recorded.occupancy <= 1.0


def test_max_transfers_binds_and_its_refusals_are_counted(recorded: SimulationResult) -> None:
    assert max(transfers_per_email(recorded).values()) >= 2  # without the rule
    ruled = simulate(
        busy_center(policies=[{"path": "email_fsm.policies:max_transfers", "args": [1]}]),
        record=True,
    )
    assert max(transfers_per_email(ruled).values()) == 1
    hits = ruled.refusals_by_policy[MAX_TRANSFERS]
    assert hits > 0
    # every refusal of the run is the rule's (the simulator asks for nothing else refused)
    assert ruled.refusals_by_code == {int(StatusCode.FORBIDDEN): hits}


def test_the_same_seed_gives_the_same_result() -> None:
    first, second = simulate(busy_center()), simulate(busy_center())
    assert fingerprint(first) == fingerprint(second)
    assert repr(first) == repr(second)
    assert fingerprint(pickle.loads(pickle.dumps(first))) == fingerprint(first)


def test_different_seeds_give_different_results() -> None:
    base = simulate(busy_center())
    other = simulate(busy_center(), seed=12)
    assert other.seed == 12
    assert fingerprint(base) != fingerprint(other)
    assert base.overall.arrived != other.overall.arrived


def test_a_policy_changes_the_kpis_and_the_arrivals_stay_common() -> None:
    without = simulate(busy_center())
    ruled = simulate(busy_center(policies=["email_fsm.policies:require_disposition"]))
    # common random numbers: the same arrivals whatever the rules
    assert ruled.overall.arrived == without.overall.arrived
    assert ruled.queues["sales"].arrived == without.queues["sales"].arrived
    hits = ruled.refusals_by_policy["email_fsm.policies:require_disposition"]
    assert hits > 0
    assert without.refusals_by_policy == {}
    assert ruled.refusals_by_code[int(StatusCode.INVALID_STATE)] == hits
    # each refusal costs the agent rework: completion takes longer
    assert ruled.overall.time_to_completion.mean > without.overall.time_to_completion.mean


def no_transfer_of_high_priority(command: Command, email: Email | None) -> Refused | None:
    """A user's rule keyed on userData."""
    if (
        isinstance(command, Transfer)
        and email is not None
        and email.user_data.get("Priority") == "high"
    ):
        return Refused(StatusCode.FORBIDDEN, "high-priority emails stay with their agent")
    return None


def test_a_users_policy_keyed_on_user_data_fires() -> None:
    path = f"{__name__}:no_transfer_of_high_priority"
    ruled = simulate(busy_center(policies=[path]), record=True)
    hits = ruled.refusals_by_policy[path]
    assert hits > 0
    assert ruled.events is not None
    high = {
        e.email_id
        for e in ruled.events
        if isinstance(e, EmailArrived) and e.user_data.get("Priority") == "high"
    }
    assert high
    assert not high & set(transfers_per_email(ruled))


def last_candidate(email: Email, candidates: Sequence[str]) -> str | None:
    """A router that offers to the agent idle the shortest time."""
    return candidates[-1]


def test_a_router_by_import_path_is_used() -> None:
    scenario = busy_center(
        routing={"offer_timeout_minutes": 1, "router": f"{__name__}:last_candidate"}
    )
    routed = simulate(scenario)
    assert routed.overall.arrived == simulate(busy_center()).overall.arrived
    assert fingerprint(routed) != fingerprint(simulate(busy_center()))


def test_shifts_and_daily_profiles_shape_the_intervals() -> None:
    rates = [0.0] * 6 + [30.0] * 12 + [0.0] * 6
    for method in ("piecewise", "thinning"):
        scenario = Scenario.model_validate(
            {
                "duration_hours": 24,
                "queues": [{"name": "q", "hourly_rates": rates, "arrival_method": method}],
                "agent_groups": [
                    {
                        "name": "day",
                        "count": 2,
                        "skills": ["q"],
                        "shift": {"start": 9, "end": 17},
                        "handle_time": {"distribution": "exponential", "mean_minutes": 3},
                    }
                ],
            }
        )
        rows = simulate(scenario).intervals
        assert len(rows) == 24
        assert [r.start_hours for r in rows] == list(range(24))
        assert all(rows[h].arrivals == 0 for h in (*range(6), *range(18, 24))), method
        assert all(rows[h].arrivals > 5 for h in range(6, 18)), method
        # Poisson: 360 expected over the day, standard deviation 19
        assert abs(sum(r.arrivals for r in rows) - sum(rates)) < 4 * math.sqrt(sum(rates))
        # nobody works before 9: the backlog grows and nothing is completed
        assert all(rows[h].completions == 0 for h in range(9))
        assert rows[8].backlog == sum(r.arrivals for r in rows[:9]) > 0
        assert rows[8].oldest_age_seconds > 2 * 3600
        assert sum(r.completions for r in rows[9:18]) > 0
        assert rows[23].queued == rows[17].queued  # no one on shift, no one arriving


def test_progress_is_reported_to_the_end() -> None:
    seen: list[tuple[float, float]] = []
    simulate(busy_center(duration_hours=3), progress=lambda done, total: seen.append((done, total)))
    assert seen == [(1.0, 3.0), (2.0, 3.0), (3.0, 3.0)]


def test_without_record_no_log_is_kept() -> None:
    result = simulate(busy_center(duration_hours=2))
    assert result.events is None
    assert result.final_emails is None
    data = result.to_dict()
    assert "events" not in data
    assert data["overall"]["arrived"] == result.overall.arrived
    json.dumps(data, allow_nan=False)


def staffed(agents: int) -> Scenario:
    return Scenario.model_validate(
        {
            "duration_hours": 20,
            "interval_minutes": 30,
            "queues": [{"name": "q", "rate_per_hour": 200}],
            "agent_groups": [
                {
                    "name": "team",
                    "count": agents,
                    "skills": ["q"],
                    "reply_probability": 0.5,
                    "handle_time": {"distribution": "exponential", "mean_minutes": 3},
                }
            ],
        }
    )


def test_staffing_variants_share_the_arrivals() -> None:
    twelve, sixteen = simulate(staffed(12)), simulate(staffed(16))
    assert twelve.overall.arrived == sixteen.overall.arrived
    assert [r.arrivals for r in twelve.intervals] == [r.arrivals for r in sixteen.intervals]
    # the same emails, more agents: less waiting, lower occupancy
    assert sixteen.call_center.asa_seconds < twelve.call_center.asa_seconds
    assert sixteen.occupancy < twelve.occupancy


def test_memory_stays_flat_finished_emails_are_evicted() -> None:
    result = simulate(staffed(14))
    assert result.emails > 3000
    # about A = 10 emails in handling, a few queued: nothing like the thousands simulated
    assert 0 < result.most_live_emails < 60


def high_priority_never_completes(command: Command, email: Email | None) -> Refused | None:
    """A rule no agent can satisfy, for the agents' last resort."""
    if (
        isinstance(command, Complete)
        and email is not None
        and email.user_data.get("Priority") == "high"
    ):
        return Refused(StatusCode.FORBIDDEN, "high-priority emails are never completed")
    return None


def test_an_email_no_agent_may_complete_goes_back_to_its_queue() -> None:
    path = f"{__name__}:high_priority_never_completes"
    agents = 3
    scenario = Scenario.model_validate(
        {
            "duration_hours": 4,
            "queues": [
                {
                    "name": "q",
                    "rate_per_hour": 20,
                    "user_data": {"Priority": {"choices": {"high": 0.1, "low": 0.9}}},
                }
            ],
            "agent_groups": [
                {
                    "name": "team",
                    "count": agents,
                    "skills": ["q"],
                    "handle_time": {"distribution": "exponential", "mean_minutes": 5},
                }
            ],
            "policies": [path],
        }
    )
    ruled = simulate(scenario, record=True)
    assert ruled.events is not None
    high = {
        e.email_id
        for e in ruled.events
        if isinstance(e, EmailArrived) and e.user_data.get("Priority") == "high"
    }
    completed = {
        e.email_id for e in ruled.events if isinstance(e, EmailCompleted) and e.queue is None
    }
    assert high
    assert completed
    assert not high & completed
    # three refused attempts, then back to its queue (the agents never transfer otherwise)
    back = [e for e in ruled.events if isinstance(e, TransferredToQueue)]
    assert back
    assert {e.email_id for e in back} <= high
    assert all(e.queue == "q" for e in back)
    hits = ruled.refusals_by_policy[path]
    assert 3 * len(back) <= hits < 3 * (len(back) + agents)
    assert ruled.refusals_by_code == {int(StatusCode.FORBIDDEN): hits}
    assert ruled.overall.transfers == len(back)


def test_the_same_seed_gives_the_same_result_in_another_process() -> None:
    # string hashing is randomised per process: the run must not depend on it
    code = (
        "import json, sys\n"
        "sys.path.insert(0, 'tests')\n"
        "from test_sim_rules import busy_center\n"
        "from email_fsm.sim import simulate\n"
        "print(json.dumps(simulate(busy_center(duration_hours=4)).to_dict(), sort_keys=True))\n"
    )
    root = Path(__file__).resolve().parents[1]
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            cwd=root,
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for hash_seed in ("1", "2")
    }
    assert outputs == {fingerprint(simulate(busy_center(duration_hours=4)))}
