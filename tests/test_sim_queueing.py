"""The simulator against queueing theory: with Poisson arrivals, exponential handling,
capacity one and agents who accept at once, the simulated contact center is an M/M/c
queue, and its figures must match Erlang C (and ciw, another simulator of the same queue).

Each figure is the mean over independent replications (warm-up discarded), with a 95 %
Student-t interval computed from them; the published value must lie inside the
interval, and the interval must be tight enough for that to mean something.
``EMAIL_FSM_SIM_LONG=1`` runs more and longer replications.
"""

from __future__ import annotations

import math
import os
import statistics
from dataclasses import dataclass

import ciw  # type: ignore[import-untyped]
import pytest

from email_fsm.sim import (
    Scenario,
    average_speed_of_answer,
    erlang_c,
    occupancy,
    service_level,
    simulate,
)

LONG = os.environ.get("EMAIL_FSM_SIM_LONG", "") not in ("", "0")
REPLICATIONS = 20 if LONG else 8
HOURS = 200.0 if LONG else 40.0
WARMUP = 2.0
RATE_PER_HOUR = 200.0  # 100 arrivals per 30 minutes
AHT_SECONDS = 180.0  # 3 minutes: A = 200 / 60 * 3 = 10 Erlangs
THRESHOLD = 20.0
LOAD = RATE_PER_HOUR / 3600.0 * AHT_SECONDS

# Student's t, two-sided 95 % (the 0.975 quantile), by degrees of freedom: published table.
T_975 = {7: 2.365, 9: 2.262, 11: 2.201, 15: 2.131, 19: 2.093}


@dataclass(frozen=True)
class Interval:
    """The mean of replications and its 95 % confidence interval."""

    mean: float
    half_width: float

    def __contains__(self, value: float) -> bool:
        return abs(value - self.mean) <= self.half_width

    def __str__(self) -> str:
        return f"{self.mean:.4f} ± {self.half_width:.4f}"


def interval(values: list[float]) -> Interval:
    n = len(values)
    return Interval(
        statistics.fmean(values), T_975[n - 1] * statistics.stdev(values) / math.sqrt(n)
    )


@dataclass(frozen=True)
class Figures:
    p_wait: Interval
    service_level: Interval
    asa: Interval


def scenario(agents: int) -> Scenario:
    return Scenario.model_validate(
        {
            "duration_hours": HOURS + WARMUP,
            "warmup_hours": WARMUP,
            "call_center_threshold_seconds": THRESHOLD,
            "queues": [{"name": "support", "rate_per_hour": RATE_PER_HOUR}],
            "agent_groups": [
                {
                    "name": "agents",
                    "count": agents,
                    "skills": ["support"],
                    "handle_time": {
                        "distribution": "exponential",
                        "mean_minutes": AHT_SECONDS / 60,
                    },
                }
            ],
        }
    )


def replicate(agents: int) -> tuple[Figures, Interval]:
    results = [simulate(scenario(agents), seed=seed) for seed in range(REPLICATIONS)]
    return (
        Figures(
            p_wait=interval([r.call_center.p_wait for r in results]),
            service_level=interval([r.call_center.service_level for r in results]),
            asa=interval([r.call_center.asa_seconds for r in results]),
        ),
        interval([r.occupancy for r in results]),
    )


def ciw_replicate(agents: int) -> Figures:
    p_wait, within, asa = [], [], []
    for seed in range(REPLICATIONS):
        network = ciw.create_network(
            arrival_distributions=[ciw.dists.Exponential(RATE_PER_HOUR / 3600.0)],
            service_distributions=[ciw.dists.Exponential(1 / AHT_SECONDS)],
            number_of_servers=[agents],
        )
        ciw.seed(1000 + seed)
        run = ciw.Simulation(network)
        run.simulate_until_max_time((HOURS + WARMUP) * 3600.0)
        waits = [r.waiting_time for r in run.get_all_records() if r.arrival_date >= WARMUP * 3600.0]
        p_wait.append(sum(w > 0 for w in waits) / len(waits))
        within.append(sum(w <= THRESHOLD for w in waits) / len(waits))
        asa.append(statistics.fmean(waits))
    return Figures(interval(p_wait), interval(within), interval(asa))


@pytest.fixture(scope="module")
def fourteen() -> tuple[Figures, Interval]:
    return replicate(14)


@pytest.mark.parametrize("agents", [14, 12])
def test_erlang_c(agents: int, fourteen: tuple[Figures, Interval]) -> None:
    figures, busy = fourteen if agents == 14 else replicate(agents)
    expected_wait = erlang_c(agents, LOAD)
    expected_sl = service_level(agents, LOAD, AHT_SECONDS, THRESHOLD)
    expected_asa = average_speed_of_answer(agents, LOAD, AHT_SECONDS)
    assert expected_wait in figures.p_wait, (expected_wait, str(figures.p_wait))
    assert expected_sl in figures.service_level, (expected_sl, str(figures.service_level))
    assert expected_asa in figures.asa, (expected_asa, str(figures.asa))
    assert occupancy(agents, LOAD) in busy, (occupancy(agents, LOAD), str(busy))
    # tight enough that a wrong model would fall outside: a few % of the values
    assert figures.p_wait.half_width < 0.15 * expected_wait
    assert figures.service_level.half_width < 0.03
    assert figures.asa.half_width < 0.25 * expected_asa


def test_the_published_values_are_the_formulas() -> None:
    # the figures the simulation is held to, against the published table (A = 10)
    assert round(erlang_c(14, LOAD), 4) == 0.1741
    assert round(service_level(12, LOAD, AHT_SECONDS, THRESHOLD), 4) == 0.6402
    assert round(average_speed_of_answer(12, LOAD, AHT_SECONDS), 2) == 40.44


def test_the_simulator_agrees_with_ciw(fourteen: tuple[Figures, Interval]) -> None:
    ours, _ = fourteen
    theirs = ciw_replicate(14)
    for name in ("p_wait", "service_level", "asa"):
        a, b = getattr(ours, name), getattr(theirs, name)
        assert a.mean in b, (name, str(a), str(b))
        assert b.mean in a, (name, str(a), str(b))
