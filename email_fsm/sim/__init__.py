"""A contact-center simulator on top of the model: how many agents for this email
volume, and what a business rule does to the service level.

Every simulated action is a command through :class:`~email_fsm.EmailStore` with the
scenario's policies: SimPy owns simulated time, seeded randomness owns behaviour, the
model owns the rules. A :class:`Scenario` describes the queues, agent groups, routing
and policies (:func:`load_scenario` reads one from TOML or JSON); :func:`simulate` runs
it and returns a :class:`SimulationResult`; the Erlang formulas give the queueing
theory to compare with. :func:`replicate`, :func:`compare` (a what-if on common random
numbers) and :func:`sweep` (a staffing curve) run replications on any
:class:`concurrent.futures.Executor`; :mod:`email_fsm.sim.report` prints and plots them.

>>> from email_fsm.sim import Scenario, erlang_c, simulate
>>> scenario = Scenario.model_validate({
...     "duration_hours": 24, "warmup_hours": 1, "seed": 3,
...     "queues": [{"name": "support", "rate_per_hour": 200, "service_goal_hours": 0.5}],
...     "agent_groups": [{"name": "team", "count": 14, "skills": ["support"],
...                       "handle_time": {"distribution": "exponential", "mean_minutes": 3}}],
... })
>>> result = simulate(scenario)
>>> round(erlang_c(14, 10.0), 4), abs(result.call_center.p_wait - erlang_c(14, 10.0)) < 0.05
(0.1741, True)
>>> result.to_dict()["overall"]["arrived"] == result.overall.arrived
True

Requires the ``sim`` extra (SimPy).
"""

from __future__ import annotations

from .engine import Progress, simulate
from .erlang import (
    ErlangA,
    average_speed_of_answer,
    erlang_a,
    erlang_b,
    erlang_c,
    occupancy,
    service_level,
)
from .kpis import CallCenterKpis, Histogram, IntervalRow, QueueKpis, SimulationResult, Summary
from .replications import (
    KPI_LABELS,
    Comparison,
    Estimate,
    ReplicationProgress,
    SweepPoint,
    SweepResult,
    Vary,
    compare,
    estimate,
    kpi_values,
    replicate,
    replication_seeds,
    sweep,
    t_quantile,
    vary,
    without_policy,
)
from .scenario import (
    AgentGroup,
    Empirical,
    Exponential,
    HandleTime,
    Lognormal,
    PolicySpec,
    Queue,
    Router,
    Routing,
    Scenario,
    ScenarioError,
    Shift,
    UserDataChoice,
    load_scenario,
)

__all__ = [
    "KPI_LABELS",
    "AgentGroup",
    "CallCenterKpis",
    "Comparison",
    "Empirical",
    "ErlangA",
    "Estimate",
    "Exponential",
    "HandleTime",
    "Histogram",
    "IntervalRow",
    "Lognormal",
    "PolicySpec",
    "Progress",
    "Queue",
    "QueueKpis",
    "ReplicationProgress",
    "Router",
    "Routing",
    "Scenario",
    "ScenarioError",
    "Shift",
    "SimulationResult",
    "Summary",
    "SweepPoint",
    "SweepResult",
    "UserDataChoice",
    "Vary",
    "average_speed_of_answer",
    "compare",
    "erlang_a",
    "erlang_b",
    "erlang_c",
    "estimate",
    "kpi_values",
    "load_scenario",
    "occupancy",
    "replicate",
    "replication_seeds",
    "service_level",
    "simulate",
    "sweep",
    "t_quantile",
    "vary",
    "without_policy",
]
