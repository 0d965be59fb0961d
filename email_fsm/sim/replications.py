"""Replications, what-if comparisons and staffing sweeps, on any
:class:`concurrent.futures.Executor`.

A single run of :func:`~email_fsm.sim.simulate` is one sample: :func:`replicate` runs a
scenario with ``reps`` seeds, :func:`compare` runs two scenarios on the *same* seeds
(common random numbers: both see the same arrivals and the same agent behaviour draws)
and estimates each KPI's difference from the paired differences, and :func:`sweep`
replicates one scenario for each value of a :class:`Vary` (the number of agents of a
group, or a queue's arrival rate). Every estimate is a mean with a 95 % Student-t
confidence interval (:class:`Estimate`).

Replications are independent: they run on an executor, a
:class:`~concurrent.futures.ProcessPoolExecutor` of ``workers`` processes by default (one
process: in this process), or the one given (a Dask cluster's
``distributed.Client(address).get_executor()``, say). The results are the same whatever
runs them.

>>> from email_fsm.sim import Scenario, compare, without_policy
>>> base = Scenario.model_validate({
...     "duration_hours": 8, "seed": 1,
...     "queues": [{"name": "q", "rate_per_hour": 20, "service_goal_hours": 0.25}],
...     "agent_groups": [{"name": "g", "count": 3, "skills": ["q"],
...                       "disposition_probability": 0.5,
...                       "handle_time": {"distribution": "exponential", "mean_minutes": 6}}],
...     "policies": ["email_fsm.policies:require_disposition"],
... })
>>> c = compare(base, without_policy(base, "require_disposition"), reps=3, workers=1)
>>> d = c.differences["service_level"]
>>> d.n, d.low <= d.mean <= d.high, c.differences["arrived"].half_width
(3, True, 0.0)
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, TypeVar

from .engine import simulate
from .kpis import QueueKpis, SimulationResult
from .scenario import Scenario, ScenarioError

__all__ = [
    "KPI_LABELS",
    "Comparison",
    "Estimate",
    "ReplicationProgress",
    "SweepPoint",
    "SweepResult",
    "Vary",
    "compare",
    "estimate",
    "kpi_values",
    "replicate",
    "replication_seeds",
    "sweep",
    "t_quantile",
    "vary",
    "without_policy",
]

_T = TypeVar("_T")

ReplicationProgress = Callable[[int, int], None]
"""A progress callback: ``(replications_done, total)``, called as each one finishes."""

KPI_LABELS: dict[str, str] = {
    "arrived": "emails arrived",
    "service_level": "answered within goal",
    "ttfh_p50_minutes": "first handling p50 (min)",
    "ttfh_p90_minutes": "first handling p90 (min)",
    "ttc_p50_minutes": "completion p50 (min)",
    "ttc_p90_minutes": "completion p90 (min)",
    "backlog_at_end": "backlog at end",
    "oldest_age_at_end_minutes": "oldest at end (min)",
    "occupancy": "occupancy",
    "handle_time_minutes": "handle time mean (min)",
    "transfers_per_email": "transfers per email",
    "rejections_per_email": "rejections per email",
    "refusals_per_email": "refusals per email",
}
"""The KPIs :func:`kpi_values` extracts (overall), by key, with their labels."""


def _minutes(seconds: float) -> float:
    return seconds / 60.0


def _queue_values(kpis: QueueKpis) -> dict[str, float]:
    return {
        "arrived": float(kpis.arrived),
        "service_level": kpis.service_level,
        "ttfh_p50_minutes": _minutes(kpis.time_to_first_handling.p50),
        "ttfh_p90_minutes": _minutes(kpis.time_to_first_handling.p90),
        "ttc_p50_minutes": _minutes(kpis.time_to_completion.p50),
        "ttc_p90_minutes": _minutes(kpis.time_to_completion.p90),
        "backlog_at_end": float(kpis.live_at_end),
        "transfers_per_email": kpis.transfers_per_email,
        "rejections_per_email": kpis.rejections_per_email,
    }


def kpi_values(result: SimulationResult, queue: str | None = None) -> dict[str, float]:
    """The KPIs of :data:`KPI_LABELS` as plain numbers: overall, or of ``queue`` (whose
    dict holds the per-queue ones only). Times are in minutes; NaN where undefined.

    ``refusals_per_email`` counts every refused command (the model's and the policies')
    per arrived email of the whole run; ``oldest_age_at_end_minutes`` is the age of the
    oldest unfinished inbound email when the run ends.
    """
    if queue is not None:
        return _queue_values(result.queues[queue])
    values = _queue_values(result.overall)
    last = result.intervals[-1] if result.intervals else None
    values["oldest_age_at_end_minutes"] = (
        _minutes(last.oldest_age_seconds) if last is not None else math.nan
    )
    values["occupancy"] = result.occupancy
    values["handle_time_minutes"] = _minutes(result.handle_time.mean)
    refusals = sum(result.refusals_by_code.values())
    values["refusals_per_email"] = refusals / result.emails if result.emails else math.nan
    return {key: values[key] for key in KPI_LABELS}


# ------------------------------------------------------------------ statistics

_T_975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip
"""Student's t, two-sided 95 % (the 0.975 quantile), 1 to 30 degrees of freedom."""
_Z_975 = 1.959964


def t_quantile(df: int) -> float:
    """The 0.975 quantile of Student's t with ``df`` degrees of freedom (a published
    table up to 30; beyond, the Cornish-Fisher expansion, within 1e-4).

    >>> t_quantile(9), round(t_quantile(60), 3), round(t_quantile(10_000), 3)
    (2.262, 2.0, 1.96)
    """
    if df < 1:
        raise ValueError(f"df must be at least 1 (got {df})")
    if df <= len(_T_975):
        return _T_975[df - 1]
    z = _Z_975
    return (
        z
        + (z**3 + z) / (4 * df)
        + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)
        + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * df**3)
    )


@dataclass(frozen=True, slots=True)
class Estimate:
    """The mean of ``n`` samples and its 95 % confidence interval, ``low`` to ``high``
    (mean ± ``half_width``; NaN with fewer than two samples). Undefined samples (NaN,
    such as a service level with nothing answered) are left out of ``n``."""

    mean: float
    half_width: float
    n: int

    @property
    def low(self) -> float:
        return self.mean - self.half_width

    @property
    def high(self) -> float:
        return self.mean + self.half_width

    def excludes_zero(self) -> bool:
        """Whether the interval lies wholly above or below 0 (a significant difference)."""
        return self.low > 0.0 or self.high < 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (NaN becomes ``None``)."""
        return {
            k: (None if isinstance(v, float) and math.isnan(v) else v)
            for k, v in {**asdict(self), "low": self.low, "high": self.high}.items()
        }


def estimate(samples: Sequence[float]) -> Estimate:
    """The mean of ``samples`` with its 95 % Student-t interval.

    >>> e = estimate([1.0, 2.0, 3.0])
    >>> e.mean, round(e.half_width, 4), e.n
    (2.0, 2.4843, 3)
    """
    known = [s for s in samples if not math.isnan(s)]
    if not known:
        return Estimate(math.nan, math.nan, 0)
    mean = statistics.fmean(known)
    if len(known) < 2:
        return Estimate(mean, math.nan, len(known))
    half = t_quantile(len(known) - 1) * statistics.stdev(known) / math.sqrt(len(known))
    return Estimate(mean, half, len(known))


def _estimates(rows: Sequence[Mapping[str, float]]) -> dict[str, Estimate]:
    return {key: estimate([row[key] for row in rows]) for key in (rows[0] if rows else {})}


# ------------------------------------------------------------------ running


def replication_seeds(seed: int, reps: int) -> tuple[int, ...]:
    """The seeds of ``reps`` replications of a scenario seeded ``seed``: ``seed``,
    ``seed + 1``, ... Two scenarios replicated from the same seed share them (common
    random numbers)."""
    if reps < 1:
        raise ValueError(f"reps must be at least 1 (got {reps})")
    return tuple(range(seed, seed + reps))


def _simulate(scenario: Scenario, seed: int) -> SimulationResult:
    return simulate(scenario, seed=seed)


def _values(scenario: Scenario, seed: int) -> dict[str, float]:
    return kpi_values(simulate(scenario, seed=seed))


@contextmanager
def _executor(executor: Executor | None, workers: int | None) -> Iterator[Executor | None]:
    if executor is not None:
        yield executor
    elif workers == 1:
        yield None
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            yield pool


def _run_all(
    function: Callable[[Scenario, int], _T],
    tasks: Sequence[tuple[Scenario, int]],
    executor: Executor | None,
    workers: int | None,
    progress: ReplicationProgress | None,
) -> list[_T]:
    total = len(tasks)
    out: list[_T] = []
    with _executor(executor, workers) as pool:
        if pool is None:
            for scenario, seed in tasks:
                out.append(function(scenario, seed))
                if progress is not None:
                    progress(len(out), total)
            return out
        futures: list[Future[_T]] = [pool.submit(function, s, seed) for s, seed in tasks]
        for future in futures:
            out.append(future.result())
            if progress is not None:
                progress(len(out), total)
    return out


def replicate(
    scenario: Scenario,
    reps: int,
    *,
    executor: Executor | None = None,
    workers: int | None = None,
    progress: ReplicationProgress | None = None,
) -> tuple[SimulationResult, ...]:
    """``reps`` runs of ``scenario``, seeded by :func:`replication_seeds`, in order.

    They run on ``executor`` when given; otherwise on a process pool of ``workers``
    processes (default: one per core), or here when ``workers`` is 1.

    >>> from email_fsm.sim import Scenario
    >>> s = Scenario.model_validate({"duration_hours": 4, "queues": [
    ...     {"name": "q", "rate_per_hour": 10}], "agent_groups": [
    ...     {"name": "g", "count": 2, "skills": ["q"]}]})
    >>> [r.seed for r in replicate(s, 3, workers=1)]
    [0, 1, 2]
    """
    tasks = [(scenario, seed) for seed in replication_seeds(scenario.seed, reps)]
    return tuple(_run_all(_simulate, tasks, executor, workers, progress))


# ------------------------------------------------------------------ what-if


def without_policy(scenario: Scenario, name: str) -> Scenario:
    """``scenario`` without the policy called ``name``: its :attr:`PolicySpec.name
    <email_fsm.sim.PolicySpec.name>`, its path (``module:attribute``) or the attribute
    alone (``require_disposition``). Raises :class:`ScenarioError` when no policy, or
    more than one, answers to it."""
    matches = [
        i
        for i, spec in enumerate(scenario.policies)
        if name in (spec.name, spec.path, spec.path.rpartition(":")[2])
    ]
    if len(matches) != 1:
        known = ", ".join(spec.name for spec in scenario.policies) or "none"
        how = "no policy" if not matches else f"{len(matches)} policies"
        raise ScenarioError([f"policies: {how} called {name!r} (the scenario's: {known})"])
    kept = [spec for i, spec in enumerate(scenario.policies) if i != matches[0]]
    return scenario.with_changes(
        name=f"{scenario.name} without {name}", policies=[s.model_dump() for s in kept]
    )


@dataclass(frozen=True, slots=True)
class Comparison:
    """Two scenarios replicated on the same seeds: each one's KPIs (``base``, ``other``)
    and the paired differences ``other - base`` (``differences``), by the keys of
    :data:`KPI_LABELS`. ``base_results`` and ``other_results`` are the runs, seed by
    seed."""

    base_name: str
    other_name: str
    seeds: tuple[int, ...]
    base: Mapping[str, Estimate]
    other: Mapping[str, Estimate]
    differences: Mapping[str, Estimate]
    base_results: tuple[SimulationResult, ...] = field(repr=False)
    other_results: tuple[SimulationResult, ...] = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the names, the seeds and the three tables of estimates."""
        return {
            "base": self.base_name,
            "other": self.other_name,
            "seeds": list(self.seeds),
            "kpis": {
                key: {
                    "base": self.base[key].to_dict(),
                    "other": self.other[key].to_dict(),
                    "difference": self.differences[key].to_dict(),
                }
                for key in self.differences
            },
        }


def compare(
    base: Scenario,
    other: Scenario,
    *,
    reps: int = 20,
    executor: Executor | None = None,
    workers: int | None = None,
    progress: ReplicationProgress | None = None,
) -> Comparison:
    """Replicate ``base`` and ``other`` ``reps`` times each on the same seeds (``base``'s
    :func:`replication_seeds`) and estimate every KPI's difference, ``other - base``,
    from the per-seed differences. Pairing cancels the noise both share (the arrivals):
    its interval is much narrower than the difference of two independent estimates.

    ``executor`` and ``workers`` as for :func:`replicate`; the twice ``reps`` runs are
    interleaved, so a progress bar moves evenly.
    """
    seeds = replication_seeds(base.seed, reps)
    tasks = [(s, seed) for seed in seeds for s in (base, other)]
    runs = _run_all(_simulate, tasks, executor, workers, progress)
    base_runs, other_runs = tuple(runs[0::2]), tuple(runs[1::2])
    base_rows = [kpi_values(r) for r in base_runs]
    other_rows = [kpi_values(r) for r in other_runs]
    differences = {
        key: estimate([o[key] - b[key] for b, o in zip(base_rows, other_rows, strict=True)])
        for key in KPI_LABELS
    }
    return Comparison(
        base_name=base.name,
        other_name=other.name,
        seeds=seeds,
        base=_estimates(base_rows),
        other=_estimates(other_rows),
        differences=differences,
        base_results=base_runs,
        other_results=other_runs,
    )


# ------------------------------------------------------------------ sweeps


@dataclass(frozen=True, slots=True)
class Vary:
    """What a sweep varies: ``agents`` (the ``count`` of agent group ``target``) or
    ``rate`` (the arrival rate per hour of queue ``target``), through ``values``."""

    what: Literal["agents", "rate"]
    values: tuple[float, ...]
    target: str | None = None

    def apply(self, scenario: Scenario, value: float) -> Scenario:
        """``scenario`` with the varied field set to ``value`` (validated).

        ``target`` may be left out when the scenario has one agent group (one queue).
        A queue given by ``hourly_rates`` has them scaled so that their daily mean is
        ``value``.
        """
        data = scenario.model_dump(mode="python")
        if self.what == "agents":
            index = _pick([g.name for g in scenario.agent_groups], self.target, "agent_groups")
            if value != int(value) or value < 0:
                raise ScenarioError([f"agent_groups.{index}.count: {value:g} is not a count"])
            data["agent_groups"][index]["count"] = int(value)
        else:
            index = _pick([q.name for q in scenario.queues], self.target, "queues")
            queue = data["queues"][index]
            if queue.get("hourly_rates") is not None:
                mean = statistics.fmean(queue["hourly_rates"])
                scale = value / mean if mean else math.nan
                queue["hourly_rates"] = [r * scale for r in queue["hourly_rates"]]
            else:
                queue["rate_per_hour"] = value
        return Scenario.model_validate(data)

    @property
    def label(self) -> str:
        """``agents``, ``agents (team)``, ``rate (support)``."""
        return self.what if self.target is None else f"{self.what} ({self.target})"


def _pick(names: Sequence[str], target: str | None, field_name: str) -> int:
    if target is None:
        if len(names) == 1:
            return 0
        raise ScenarioError(
            [f"{field_name}: name one of {', '.join(names)} to vary (--group/--queue)"]
        )
    if target not in names:
        raise ScenarioError([f"{field_name}: no {target!r} (there are {', '.join(names)})"])
    return names.index(target)


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{text!r} is not a finite number")
    return value


def vary(spec: str, target: str | None = None) -> Vary:
    """Parse ``agents=8..16``, ``agents=8..16:2`` (a step), ``rate=100,150,200`` (a list)
    or ``rate=100..200:25``; raises ``ValueError`` naming what is wrong.

    >>> vary("agents=8..12:2").values, vary("rate=50,75", "support").target
    ((8.0, 10.0, 12.0), 'support')
    """
    what, sep, values = spec.partition("=")
    what = what.strip()
    if not sep or what not in ("agents", "rate"):
        raise ValueError(f"{spec!r}: give agents=A..B or rate=A..B (or a list: a,b,c)")
    values = values.strip()
    if ".." in values:
        span, _, step_text = values.partition(":")
        low_text, _, high_text = span.partition("..")
        low, high = _number(low_text), _number(high_text)
        step = _number(step_text) if step_text else 1.0
        if step <= 0 or high < low:
            raise ValueError(f"{spec!r}: the range must rise, by a positive step")
        count = math.floor((high - low) / step + 1e-9) + 1
        points = tuple(low + i * step for i in range(count))
    else:
        points = tuple(_number(v) for v in values.split(","))
    if not points:
        raise ValueError(f"{spec!r}: no values")
    if what == "agents" and any(v != int(v) or v < 0 for v in points):
        raise ValueError(f"{spec!r}: agent counts are whole numbers, at least 0")
    if what == "rate" and any(v < 0 for v in points):
        raise ValueError(f"{spec!r}: rates are at least 0")
    return Vary(what, points, target)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class SweepPoint:
    """One value of a sweep: the KPIs' estimates over its replications, and each
    replication's KPIs (:func:`kpi_values`), seed by seed."""

    value: float
    kpis: Mapping[str, Estimate]
    replications: tuple[Mapping[str, float], ...] = field(repr=False)


@dataclass(frozen=True, slots=True)
class SweepResult:
    """A sweep: what varied, the seeds every value ran with, and a point per value."""

    scenario: str
    vary: Vary
    seeds: tuple[int, ...]
    points: tuple[SweepPoint, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: what varied, the seeds, and each point's estimates and runs."""
        return {
            "scenario": self.scenario,
            "vary": {"what": self.vary.what, "target": self.vary.target},
            "seeds": list(self.seeds),
            "points": [
                {
                    "value": p.value,
                    "kpis": {k: e.to_dict() for k, e in p.kpis.items()},
                    "replications": [
                        {k: (None if math.isnan(v) else v) for k, v in row.items()}
                        for row in p.replications
                    ],
                }
                for p in self.points
            ],
        }


def sweep(
    scenario: Scenario,
    varying: Vary,
    *,
    reps: int = 20,
    executor: Executor | None = None,
    workers: int | None = None,
    progress: ReplicationProgress | None = None,
) -> SweepResult:
    """Replicate ``scenario`` ``reps`` times for each value of ``varying``, every value
    on the same seeds (common random numbers: the arrivals are the same, so the curve is
    smooth), and estimate the KPIs per value.

    ``executor`` and ``workers`` as for :func:`replicate`; only the KPIs travel back
    from the workers.

    >>> from email_fsm.sim import Scenario
    >>> s = Scenario.model_validate({"duration_hours": 8, "queues": [
    ...     {"name": "q", "rate_per_hour": 20, "service_goal_hours": 0.1}], "agent_groups": [
    ...     {"name": "g", "count": 1, "skills": ["q"],
    ...      "handle_time": {"distribution": "exponential", "mean_minutes": 6}}]})
    >>> result = sweep(s, vary("agents=2..4"), reps=2, workers=1)
    >>> levels = [p.kpis["service_level"].mean for p in result.points]
    >>> levels == sorted(levels)
    True
    """
    variants = [varying.apply(scenario, value) for value in varying.values]
    seeds = replication_seeds(scenario.seed, reps)
    tasks = [(variant, seed) for variant in variants for seed in seeds]
    rows = _run_all(_values, tasks, executor, workers, progress)
    points = tuple(
        SweepPoint(
            value=value,
            kpis=_estimates(rows[i * reps : (i + 1) * reps]),
            replications=tuple(rows[i * reps : (i + 1) * reps]),
        )
        for i, value in enumerate(varying.values)
    )
    return SweepResult(scenario=scenario.name, vary=varying, seeds=seeds, points=points)
