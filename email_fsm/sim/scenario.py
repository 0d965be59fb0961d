"""A simulation scenario: queues, agent groups, routing and business rules, validated.

A :class:`Scenario` is a pydantic v2 model; :func:`load_scenario` reads one from a TOML
or JSON file. Anything wrong is refused with a :class:`ScenarioError` whose message
lists every problem as ``field.path: problem``:

>>> Scenario.model_validate({"duration_hours": 1, "queues": [{"name": "q", "rate_per_hour": -1}],
...                          "agent_groups": [{"name": "g", "count": 1, "skills": ["q"]}]})
Traceback (most recent call last):
...
email_fsm.sim.scenario.ScenarioError: invalid scenario:
  queues.0.rate_per_hour: Input should be greater than or equal to 0

Times are in the units their names say (``_hours``, ``_minutes``, ``_seconds``);
probabilities are in [0, 1], and those of one choice sum to at most 1.
"""

from __future__ import annotations

import importlib
import inspect
import json
import math
import tomllib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal, TypeAlias

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from ..email import Email
from ..policies import Policy

__all__ = [
    "AgentGroup",
    "Empirical",
    "Exponential",
    "HandleTime",
    "Lognormal",
    "PolicySpec",
    "Queue",
    "Router",
    "Routing",
    "Scenario",
    "ScenarioError",
    "Shift",
    "UserDataChoice",
    "load_scenario",
    "resolve",
]

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
_SUM_SLACK = 1e-9

Router: TypeAlias = Callable[[Email, Sequence[str]], "str | None"]
"""A router: given the email to offer and the agents who may take it (logged on, with
room, who never rejected it; the longest idle first), the agent to offer it to, or
``None`` to leave it queued for now."""


class ScenarioError(ValueError):
    """A scenario that cannot be simulated; the message lists ``field.path: problem``."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("invalid scenario:\n" + "\n".join(f"  {p}" for p in self.problems))

    def __reduce__(self) -> tuple[Any, ...]:
        return (ScenarioError, (self.problems,))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class UserDataChoice(_Model):
    """A userData value drawn from ``choices`` (value → probability, summing to 1)."""

    choices: dict[str, Probability]

    @field_validator("choices")
    @classmethod
    def _sums_to_one(cls, choices: dict[str, float]) -> dict[str, float]:
        if not choices:
            raise ValueError("give at least one choice")
        total = sum(choices.values())
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"the probabilities sum to {total:g}, not 1")
        return choices


class Queue(_Model):
    """An inbound queue: its arrivals, its service goal and what its emails carry.

    Arrivals are Poisson: at ``rate_per_hour``, or following ``hourly_rates`` (24 rates,
    one per hour of the day, repeated daily), drawn by ``arrival_method``: ``piecewise``
    (exact, hour by hour) or ``thinning`` (at the peak rate, each kept with probability
    rate(t) / peak).
    """

    name: Annotated[str, Field(min_length=1)]
    rate_per_hour: Annotated[float, Field(ge=0.0, allow_inf_nan=False)] | None = None
    hourly_rates: list[Annotated[float, Field(ge=0.0, allow_inf_nan=False)]] | None = None
    arrival_method: Literal["piecewise", "thinning"] = "piecewise"
    service_goal_hours: Annotated[float, Field(gt=0.0)] = 24.0
    subjects: dict[str, Probability] = Field(default_factory=dict)
    """Subject → probability (summing to 1); no subject when empty."""
    user_data: dict[str, UserDataChoice] = Field(default_factory=dict)
    """userData key → the distribution of its value, so that policies keyed on it fire."""

    @field_validator("hourly_rates")
    @classmethod
    def _a_day(cls, rates: list[float] | None) -> list[float] | None:
        if rates is not None and len(rates) != 24:
            raise ValueError(f"give 24 rates, one per hour of the day (got {len(rates)})")
        return rates

    @field_validator("subjects")
    @classmethod
    def _subjects_sum(cls, subjects: dict[str, float]) -> dict[str, float]:
        total = sum(subjects.values())
        if subjects and abs(total - 1.0) > 1e-6:
            raise ValueError(f"the probabilities sum to {total:g}, not 1")
        return subjects

    @model_validator(mode="after")
    def _one_rate(self) -> Queue:
        if (self.rate_per_hour is None) == (self.hourly_rates is None):
            raise ValueError("give exactly one of rate_per_hour and hourly_rates")
        return self

    def rates(self) -> tuple[float, ...]:
        """The arrival rate (per hour) of each hour of the day."""
        if self.hourly_rates is not None:
            return tuple(self.hourly_rates)
        return (float(self.rate_per_hour or 0.0),) * 24


class Shift(_Model):
    """The hours of the day an agent group is logged on, ``start`` to ``end``, daily.

    An agent still holding emails at the end of the shift finishes them; they get no new
    ones.
    """

    start: Annotated[float, Field(ge=0.0, le=24.0)] = 0.0
    end: Annotated[float, Field(ge=0.0, le=24.0)] = 24.0

    @model_validator(mode="after")
    def _ordered(self) -> Shift:
        if self.end <= self.start:
            raise ValueError(f"the shift ends ({self.end:g}) before it starts ({self.start:g})")
        return self


class Exponential(_Model):
    """Exponential handle times with mean ``mean_minutes``."""

    distribution: Literal["exponential"] = "exponential"
    mean_minutes: Annotated[float, Field(gt=0.0, allow_inf_nan=False)]


class Lognormal(_Model):
    """Lognormal handle times with mean ``mean_minutes`` and standard deviation
    ``sd_minutes``."""

    distribution: Literal["lognormal"] = "lognormal"
    mean_minutes: Annotated[float, Field(gt=0.0, allow_inf_nan=False)]
    sd_minutes: Annotated[float, Field(gt=0.0, allow_inf_nan=False)]

    def mu_sigma(self) -> tuple[float, float]:
        """The parameters of the underlying normal distribution."""
        variance = math.log1p((self.sd_minutes / self.mean_minutes) ** 2)
        return math.log(self.mean_minutes) - variance / 2, math.sqrt(variance)


class Empirical(_Model):
    """Handle times drawn uniformly from observed ``values_minutes``."""

    distribution: Literal["empirical"] = "empirical"
    values_minutes: Annotated[
        list[Annotated[float, Field(ge=0.0, allow_inf_nan=False)]], Field(min_length=1)
    ]


HandleTime: TypeAlias = Annotated[
    Exponential | Lognormal | Empirical, Field(discriminator="distribution")
]
"""A handle-time distribution, chosen by its ``distribution`` field."""


class AgentGroup(_Model):
    """``count`` agents with the same skills, shift and behaviour.

    An invitation is rejected with ``reject_probability``, left to time out with
    ``timeout_probability``, and otherwise accepted after ``accept_delay_seconds``. An
    accepted email is handled for a time drawn from ``handle_time``; then the agent
    replies (Reply, Save, Send) with ``reply_probability``, sets a disposition with
    ``disposition_probability``, and transfers it (``transfer_probability``: to
    ``transfer_queue`` when given, otherwise to another agent who serves its queue),
    completes it into ``complete_to_queue`` (``complete_to_queue_probability``) or
    completes it. A refused command (a business rule) costs ``rework_minutes``; then the
    agent sets the disposition the rule asks for, or completes instead of transferring.
    """

    name: Annotated[str, Field(min_length=1)]
    count: Annotated[int, Field(ge=0)]
    skills: Annotated[list[str], Field(min_length=1)]
    shift: Shift = Field(default_factory=Shift)
    capacity: Annotated[int, Field(ge=1)] = 1
    reject_probability: Probability = 0.0
    timeout_probability: Probability = 0.0
    accept_delay_seconds: Annotated[float, Field(ge=0.0, allow_inf_nan=False)] = 0.0
    handle_time: HandleTime = Field(default_factory=lambda: Exponential(mean_minutes=10.0))
    reply_probability: Probability = 0.0
    disposition_probability: Probability = 0.0
    transfer_probability: Probability = 0.0
    transfer_queue: str | None = None
    complete_to_queue_probability: Probability = 0.0
    complete_to_queue: str | None = None
    rework_minutes: Annotated[float, Field(ge=0.0, allow_inf_nan=False)] = 1.0

    @model_validator(mode="after")
    def _choices(self) -> AgentGroup:
        if self.reject_probability + self.timeout_probability > 1.0 + _SUM_SLACK:
            raise ValueError(
                "reject_probability + timeout_probability sum to "
                f"{self.reject_probability + self.timeout_probability:g}, over 1"
            )
        after = self.transfer_probability + self.complete_to_queue_probability
        if after > 1.0 + _SUM_SLACK:
            raise ValueError(
                f"transfer_probability + complete_to_queue_probability sum to {after:g}, over 1"
            )
        if self.complete_to_queue_probability > 0 and self.complete_to_queue is None:
            raise ValueError("complete_to_queue_probability needs complete_to_queue")
        return self


class Routing(_Model):
    """How queued emails reach agents.

    The default router offers the oldest queued email to the longest-idle agent who has
    the skill and room, and never to one who rejected it; ``router`` names another
    (``module:function``, a :data:`Router`). An invitation not answered within
    ``offer_timeout_minutes`` is revoked.
    """

    offer_timeout_minutes: Annotated[float, Field(gt=0.0, allow_inf_nan=False)] = 2.0
    router: str | None = None

    @field_validator("router")
    @classmethod
    def _importable(cls, path: str | None) -> str | None:
        if path is not None and not callable(resolve(path)):
            raise ValueError(f"{path} is not callable")
        return path


class PolicySpec(_Model):
    """A business rule by import path: ``module:name``.

    The object named is called with ``args`` and ``kwargs`` to build the policy when
    either is given, or when it takes no required positional parameter (a factory such
    as ``email_fsm.policies:require_disposition``); otherwise it is the policy itself.
    """

    path: str
    args: list[Any] = Field(default_factory=list)
    kwargs: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, data: Any) -> Any:
        return {"path": data} if isinstance(data, str) else data

    @model_validator(mode="after")
    def _builds(self) -> PolicySpec:
        self.build()
        return self

    @property
    def name(self) -> str:
        """The name refusals are counted under: the path, with the arguments given."""
        if not self.args and not self.kwargs:
            return self.path
        given = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs.items()]
        return f"{self.path}({', '.join(given)})"

    def build(self) -> Policy:
        """The policy (raises ``ValueError`` when the path or the arguments are wrong)."""
        target = resolve(self.path)
        if not callable(target):
            raise ValueError(f"{self.path} is not callable")
        if self.args or self.kwargs or _no_required_positional(target):
            try:
                policy = target(*self.args, **self.kwargs)
            except (TypeError, ValueError) as error:
                raise ValueError(f"{self.path}: {error}") from None
            if not callable(policy):
                raise ValueError(f"{self.path}(...) did not return a policy")
            return policy  # type: ignore[no-any-return]
        return target  # type: ignore[no-any-return]


def _no_required_positional(target: Callable[..., Any]) -> bool:
    try:
        parameters = inspect.signature(target).parameters.values()
    except (TypeError, ValueError):
        return False
    return not any(
        p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        for p in parameters
    )


def resolve(path: str) -> Any:
    """The object named ``module:name`` (``module:a.b`` for an attribute's attribute).

    Raises ``ValueError`` naming what is missing.
    """
    module_name, sep, attribute = path.partition(":")
    if not sep or not module_name or not attribute:
        raise ValueError(f"{path!r} is not an import path of the form module:name")
    try:
        target: Any = importlib.import_module(module_name)
    except ImportError as error:
        raise ValueError(f"cannot import {module_name}: {error}") from None
    for part in attribute.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise ValueError(f"{module_name} has no {attribute}") from None
    return target


class Scenario(_Model):
    """A contact center to simulate, for ``duration_hours`` from midnight of day one.

    KPIs count the emails that arrive after ``warmup_hours`` (the start of the run, when
    the center is empty, is not steady); ``interval_minutes`` is the length of the
    per-interval table's rows. ``call_center_threshold_seconds`` is the ``t`` of the
    call-center service level SL(t). Replies are sent through ``outbound_queue``.

    Build one with :meth:`model_validate` (or :func:`load_scenario`), which raises
    :class:`ScenarioError`; a scenario is immutable and pickles (for process pools):
    :meth:`with_changes` makes a validated variant.
    """

    name: str = "scenario"
    duration_hours: Annotated[float, Field(gt=0.0, allow_inf_nan=False)]
    warmup_hours: Annotated[float, Field(ge=0.0, allow_inf_nan=False)] = 0.0
    seed: int = 0
    interval_minutes: Annotated[float, Field(gt=0.0, allow_inf_nan=False)] = 60.0
    call_center_threshold_seconds: Annotated[float, Field(ge=0.0)] = 20.0
    outbound_queue: Annotated[str, Field(min_length=1)] = "outbound"
    queues: Annotated[list[Queue], Field(min_length=1)]
    agent_groups: Annotated[list[AgentGroup], Field(min_length=1)]
    routing: Routing = Field(default_factory=Routing)
    policies: list[PolicySpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        problems: list[str] = []
        if self.warmup_hours >= self.duration_hours:
            problems.append("warmup_hours: the warm-up must end before the run does")
        names = [q.name for q in self.queues]
        known = set(names)
        if len(known) != len(names):
            problems.append("queues: two queues have the same name")
        groups = [g.name for g in self.agent_groups]
        if len(set(groups)) != len(groups):
            problems.append("agent_groups: two agent groups have the same name")
        served: set[str] = set()
        for i, group in enumerate(self.agent_groups):
            for skill in group.skills:
                if skill not in known:
                    problems.append(f"agent_groups.{i}.skills: unknown queue {skill!r}")
            if group.count > 0:
                served.update(group.skills)
            for field in ("transfer_queue", "complete_to_queue"):
                target = getattr(group, field)
                if target is not None and target not in known:
                    problems.append(f"agent_groups.{i}.{field}: unknown queue {target!r}")
        for i, queue in enumerate(self.queues):
            if queue.name not in served:
                problems.append(
                    f"queues.{i}: no agent group has the skill for queue {queue.name!r}"
                )
        if problems:
            # raised as such; Scenario.model_validate's caller turns it into a ScenarioError
            raise ValueError("; ".join(problems))
        return self

    @classmethod
    def model_validate(cls, obj: Any, **kwargs: Any) -> Scenario:
        """Validate ``obj`` (a mapping), raising :class:`ScenarioError` when it is wrong."""
        try:
            return super().model_validate(obj, **kwargs)
        except ValidationError as error:
            raise ScenarioError(_problems(error)) from None

    def with_changes(self, **changes: Any) -> Scenario:
        """A copy with top-level fields replaced, validated again (for sweeps).

        >>> s = Scenario.model_validate({"duration_hours": 2, "queues": [
        ...     {"name": "q", "rate_per_hour": 5}], "agent_groups": [
        ...     {"name": "g", "count": 1, "skills": ["q"]}]})
        >>> s.with_changes(seed=7).seed
        7
        """
        data = self.model_dump(mode="python")
        data.update(changes)
        return Scenario.model_validate(data)

    def queue(self, name: str) -> Queue:
        """The queue called ``name`` (``KeyError`` when there is none)."""
        for queue in self.queues:
            if queue.name == name:
                return queue
        raise KeyError(name)


def _problems(error: ValidationError) -> list[str]:
    problems: list[str] = []
    for item in error.errors(include_url=False):
        path = ".".join(str(part) for part in item["loc"])
        message = str(item["msg"]).removeprefix("Value error, ")
        if not path:
            problems.extend(message.split("; "))
        else:
            problems.append(f"{path}: {message}")
    return problems


def load_scenario(path: str | Path) -> Scenario:
    """Read a scenario from a ``.toml`` or ``.json`` file.

    Raises :class:`ScenarioError` for a file that is not valid TOML or JSON (not UTF-8
    text included), or whose scenario is wrong; ``OSError`` when it cannot be read.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise ScenarioError([f"{path.name}: not UTF-8 text: {error}"]) from None
    data: Mapping[str, Any]
    if path.suffix.lower() == ".toml":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            raise ScenarioError([f"{path.name}: not valid TOML: {error}"]) from None
    elif path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise ScenarioError([f"{path.name}: not valid JSON: {error}"]) from None
    else:
        raise ScenarioError([f"{path.name}: a scenario is a .toml or a .json file"])
    return Scenario.model_validate(data)
