"""The simulator's Python API around a run: replications, paired comparisons, sweeps,
and the statistics they report."""

from __future__ import annotations

import json
import math
import statistics
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from email_fsm.sim import (
    KPI_LABELS,
    Scenario,
    ScenarioError,
    compare,
    erlang_c,
    estimate,
    kpi_values,
    replicate,
    replication_seeds,
    simulate,
    sweep,
    t_quantile,
    vary,
    without_policy,
)


def small(**changes: object) -> Scenario:
    data: dict[str, object] = {
        "name": "small",
        "duration_hours": 6,
        "warmup_hours": 0.5,
        "seed": 11,
        "queues": [{"name": "q", "rate_per_hour": 30, "service_goal_hours": 0.1}],
        "agent_groups": [
            {
                "name": "g",
                "count": 3,
                "skills": ["q"],
                "disposition_probability": 0.5,
                "reject_probability": 0.1,
                "handle_time": {"distribution": "exponential", "mean_minutes": 5},
            }
        ],
        "policies": [
            "email_fsm.policies:require_disposition",
            {"path": "email_fsm.policies:max_transfers", "args": [1]},
        ],
    }
    data.update(changes)
    return Scenario.model_validate(data)


def test_replications_are_the_runs_of_consecutive_seeds() -> None:
    scenario = small()
    runs = replicate(scenario, 3, workers=1)
    assert [r.seed for r in runs] == [11, 12, 13]
    assert runs == tuple(simulate(scenario, seed=s) for s in (11, 12, 13))
    assert len({r.overall.arrived for r in runs}) > 1  # different seeds, different samples


def test_any_executor_gives_the_same_replications() -> None:
    scenario = small()
    with ThreadPoolExecutor(2) as pool:
        threaded = replicate(scenario, 3, executor=pool)
    assert threaded == replicate(scenario, 3, workers=1)


def test_progress_counts_every_replication() -> None:
    seen: list[tuple[int, int]] = []
    replicate(small(), 3, workers=1, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(1, 3), (2, 3), (3, 3)]


def test_replication_seeds_refuse_no_replication() -> None:
    assert replication_seeds(5, 2) == (5, 6)
    with pytest.raises(ValueError, match="reps"):
        replication_seeds(5, 0)


def test_kpi_values_read_the_result() -> None:
    result = simulate(small())
    values = kpi_values(result)
    assert set(values) == set(KPI_LABELS)
    overall = result.overall
    assert values["arrived"] == overall.arrived
    assert values["service_level"] == overall.service_level
    assert values["ttfh_p90_minutes"] == overall.time_to_first_handling.p90 / 60
    assert values["ttc_p50_minutes"] == overall.time_to_completion.p50 / 60
    assert values["backlog_at_end"] == overall.live_at_end
    assert values["oldest_age_at_end_minutes"] == result.intervals[-1].oldest_age_seconds / 60
    assert values["occupancy"] == result.occupancy
    assert values["handle_time_minutes"] == result.handle_time.mean / 60
    assert values["refusals_per_email"] == sum(result.refusals_by_code.values()) / result.emails
    assert values["refusals_per_email"] > 0  # require_disposition refused some Completes
    assert kpi_values(result, "q")["arrived"] == result.queues["q"].arrived


def test_the_interval_is_student_t_over_the_samples() -> None:
    samples = [0.8, 0.9, 0.85, 0.7, 0.95]
    e = estimate(samples)
    assert e.mean == pytest.approx(0.84)
    half = 2.776 * statistics.stdev(samples) / math.sqrt(5)  # t(0.975, 4) = 2.776
    assert e.half_width == pytest.approx(half)
    assert (e.low, e.high) == pytest.approx((0.84 - half, 0.84 + half))
    assert e.n == 5
    assert e.excludes_zero()
    assert not estimate([-0.1, 0.2, 0.05]).excludes_zero()
    assert estimate([-1.0, -1.1, -0.9]).excludes_zero()


def test_undefined_samples_are_left_out() -> None:
    assert estimate([math.nan, 2.0, 4.0]).n == 2
    assert estimate([math.nan, 2.0, 4.0]).mean == 3.0
    single = estimate([math.nan, 2.0])
    assert (single.mean, single.n, math.isnan(single.half_width)) == (2.0, 1, True)
    assert estimate([math.nan]).n == 0
    assert single.to_dict()["half_width"] is None


@pytest.mark.parametrize(
    ("df", "published"),
    [(1, 12.706), (4, 2.776), (30, 2.042), (40, 2.021), (60, 2.000), (120, 1.980)],
)
def test_t_quantiles_match_the_published_table(df: int, published: float) -> None:
    assert t_quantile(df) == pytest.approx(published, abs=5e-4)


def test_without_policy_drops_that_policy_only() -> None:
    scenario = small()
    for name in (
        "require_disposition",
        "email_fsm.policies:require_disposition",
    ):
        assert [p.name for p in without_policy(scenario, name).policies] == [
            "email_fsm.policies:max_transfers(1)"
        ]
    assert [p.name for p in without_policy(scenario, "max_transfers").policies] == [
        "email_fsm.policies:require_disposition"
    ]
    with pytest.raises(ScenarioError, match="no policy called 'no_transfer_back'"):
        without_policy(scenario, "no_transfer_back")


def test_compare_pairs_the_replications_on_the_same_seeds() -> None:
    base = small()
    other = without_policy(base, "require_disposition")
    c = compare(base, other, reps=4, workers=1)
    assert c.seeds == (11, 12, 13, 14)
    assert [r.seed for r in c.base_results] == [r.seed for r in c.other_results] == list(c.seeds)
    assert c.base_results == replicate(base, 4, workers=1)
    # common random numbers: a policy does not change the arrivals
    assert c.differences["arrived"].mean == 0.0
    assert c.differences["arrived"].half_width == 0.0
    for key in ("service_level", "refusals_per_email", "ttc_p90_minutes"):
        paired = [
            kpi_values(o)[key] - kpi_values(b)[key]
            for b, o in zip(c.base_results, c.other_results, strict=True)
        ]
        assert c.differences[key] == estimate(paired)
    # without the rule, no Complete is refused for the disposition: fewer refusals
    assert c.differences["refusals_per_email"].high < 0
    assert c.to_dict()["kpis"]["service_level"]["difference"]["mean"] == (
        c.differences["service_level"].mean
    )


def test_pairing_narrows_the_interval_of_a_staffing_difference() -> None:
    base = small()
    other = vary("agents=4").apply(base, 4)
    c = compare(base, other, reps=5, workers=1)
    paired = c.differences["ttfh_p90_minutes"].half_width
    independent = math.hypot(
        c.base["ttfh_p90_minutes"].half_width, c.other["ttfh_p90_minutes"].half_width
    )
    assert paired < independent
    assert c.differences["ttfh_p90_minutes"].high < 0  # a fourth agent shortens the wait


@pytest.mark.parametrize(
    ("spec", "values"),
    [
        ("agents=3..5", (3.0, 4.0, 5.0)),
        ("agents=2..8:3", (2.0, 5.0, 8.0)),
        ("agents=4,6", (4.0, 6.0)),
        ("rate=10..11:0.5", (10.0, 10.5, 11.0)),
    ],
)
def test_vary_reads_ranges_and_lists(spec: str, values: tuple[float, ...]) -> None:
    assert vary(spec).values == values


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ("staff=3..5", "give agents=A..B"),
        ("agents=5..3", "must rise"),
        ("agents=2.5..4", "whole numbers"),
        ("rate=a..b", "'a' is not a number"),
        ("rate=-1,2", "at least 0"),
    ],
)
def test_vary_refuses_what_it_cannot_read(spec: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        vary(spec)


def test_varying_names_its_target_when_there_are_several() -> None:
    two = small(
        agent_groups=[
            {"name": "a", "count": 1, "skills": ["q"]},
            {"name": "b", "count": 1, "skills": ["q"]},
        ]
    )
    with pytest.raises(ScenarioError, match="name one of a, b"):
        vary("agents=1..2").apply(two, 2)
    with pytest.raises(ScenarioError, match="no 'c'"):
        vary("agents=1..2", "c").apply(two, 2)
    changed = vary("agents=1..2", "b").apply(two, 2)
    assert [g.count for g in changed.agent_groups] == [1, 2]


def test_varying_the_rate_scales_hourly_rates_to_their_mean() -> None:
    hourly = small(queues=[{"name": "q", "hourly_rates": [10.0] * 12 + [30.0] * 12}])
    changed = vary("rate=40").apply(hourly, 40)
    assert changed.queues[0].hourly_rates == [20.0] * 12 + [60.0] * 12
    assert vary("rate=7").apply(small(), 7).queues[0].rate_per_hour == 7


def test_a_sweep_replicates_every_value_on_the_same_seeds() -> None:
    base = small()
    varying = vary("agents=2..4")
    result = sweep(base, varying, reps=2, workers=1)
    assert result.seeds == (11, 12)
    assert [p.value for p in result.points] == [2.0, 3.0, 4.0]
    for point in result.points:
        variant = varying.apply(base, point.value)
        expected = [kpi_values(simulate(variant, seed=s)) for s in result.seeds]
        assert [dict(r) for r in point.replications] == expected
        assert point.kpis["service_level"] == estimate([r["service_level"] for r in expected])
        # common random numbers: every staffing sees the same arrivals
        assert [r["arrived"] for r in point.replications] == [
            r["arrived"] for r in result.points[0].replications
        ]
    levels = [p.kpis["service_level"].mean for p in result.points]
    assert levels[0] < levels[-1]
    data = result.to_dict()
    assert data["vary"] == {"what": "agents", "target": None}
    assert [p["value"] for p in data["points"]] == [2.0, 3.0, 4.0]


def test_the_figures_script_runs_and_renders_its_tables_from_its_data(tmp_path: Path) -> None:
    from scripts import simulation_figures

    assert simulation_figures.main(["--quick", "--out", str(tmp_path), "--workers", "1"]) == 0
    data = json.loads((tmp_path / "simulation.json").read_text("utf-8"))
    assert data["sizes"] == simulation_figures.QUICK
    for name, text in simulation_figures.render(data).items():
        assert (tmp_path / name).read_text("utf-8") == text
    assert [p["value"] for p in data["staffing"]["points"]] == [6, 7, 8, 9, 10, 11]
    erlang = data["erlang"]["rows"]
    assert [row["p_wait_formula"] for row in erlang] == [
        erlang_c(c, 10.0) for c in simulation_figures.ERLANG_AGENTS
    ]
    assert (tmp_path / "staffing.png").read_bytes().startswith(b"\x89PNG")


def test_the_committed_tables_are_the_committed_figures() -> None:
    from scripts import simulation_figures

    generated = Path(__file__).resolve().parents[1] / "docs" / "images" / "simulation"
    data = json.loads((generated / "simulation.json").read_text("utf-8"))
    assert data["sizes"] == simulation_figures.FULL
    for name, text in simulation_figures.render(data).items():
        assert (generated / name).read_text("utf-8") == text, name
    # what docs/simulation.md says of them
    assert data["chosen_agents"] == 8
    eight = next(p for p in data["staffing"]["points"] if p["value"] == 8)
    assert eight["kpis"]["service_level"]["low"] > simulation_figures.GOAL
    cost = data["policy"]["kpis"]["service_level"]["difference"]
    assert cost["low"] > 0
    for row in data["erlang"]["rows"]:
        for kpi in ("p_wait", "service_level"):
            assert row[kpi]["low"] <= row[f"{kpi}_formula"] <= row[kpi]["high"], row
