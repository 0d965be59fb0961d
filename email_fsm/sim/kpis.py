"""What a simulation measured: :class:`SimulationResult`, and the streaming statistics
that collect it without keeping a list of emails.

Every time is in seconds of simulated time. Every KPI counts the emails that arrived
after the scenario's warm-up, except the per-interval table, which covers the whole run.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = [
    "CallCenterKpis",
    "Histogram",
    "IntervalRow",
    "QueueKpis",
    "SimulationResult",
    "Summary",
]


@dataclass(frozen=True, slots=True)
class Summary:
    """A distribution summarised: count, mean (exact), quantiles (from the histogram,
    within about 1 % of the exact value), maximum (exact). NaN when ``count`` is 0."""

    count: int
    mean: float
    p50: float
    p90: float
    p99: float
    max: float


class Histogram:
    """A streaming histogram of non-negative values with logarithmic bins.

    Memory is bounded by the number of bins used (with the default 1 % bins, about 230
    per decade of range), whatever the number of values. Values below ``floor`` share
    the first bin. The mean and the maximum are exact.

    >>> h = Histogram()
    >>> for v in range(1, 1001):
    ...     h.add(float(v))
    >>> s = h.summary()
    >>> s.count, s.mean, abs(s.p50 - 500) < 5, abs(s.p99 - 990) < 10, s.max
    (1000, 500.5, True, True, 1000.0)
    """

    __slots__ = ("_bins", "_count", "_max", "_per_log", "_sum", "floor", "ratio")

    def __init__(self, *, floor: float = 0.01, ratio: float = 1.01) -> None:
        self.floor = floor
        self.ratio = ratio
        self._per_log = 1.0 / math.log(ratio)
        self._bins: dict[int, int] = {}
        self._count = 0
        self._sum = 0.0
        self._max = -math.inf

    def __reduce__(self) -> tuple[Any, ...]:
        return (_histogram, (self.floor, self.ratio, self._bins, self._count, self._sum, self._max))

    @property
    def count(self) -> int:
        """How many values were added."""
        return self._count

    @property
    def total(self) -> float:
        """The sum of the values added."""
        return self._sum

    def add(self, value: float) -> None:
        """Count one value (negative values count as 0)."""
        self._count += 1
        self._sum += value
        self._max = max(self._max, value)
        floor = self.floor
        index = 0 if value <= floor else 1 + int(math.log(value / floor) * self._per_log)
        bins = self._bins
        bins[index] = bins.get(index, 0) + 1

    def quantile(self, q: float) -> float:
        """The ``q`` quantile (0 ≤ q ≤ 1): the geometric middle of the bin holding it,
        or 0 for the first bin; NaN when empty."""
        if self._count == 0:
            return math.nan
        rank = q * self._count
        seen = 0
        for index in sorted(self._bins):
            seen += self._bins[index]
            if seen >= rank and seen > 0:
                if index == 0:
                    return 0.0
                low = self.floor * self.ratio ** (index - 1)
                return min(low * math.sqrt(self.ratio), self._max)
        return self._max

    def summary(self) -> Summary:
        """The :class:`Summary` of the values added so far."""
        if self._count == 0:
            return Summary(0, math.nan, math.nan, math.nan, math.nan, math.nan)
        return Summary(
            count=self._count,
            mean=self._sum / self._count,
            p50=self.quantile(0.5),
            p90=self.quantile(0.9),
            p99=self.quantile(0.99),
            max=self._max,
        )


def _histogram(
    floor: float, ratio: float, bins: dict[int, int], count: int, total: float, top: float
) -> Histogram:
    h = Histogram(floor=floor, ratio=ratio)
    h._bins, h._count, h._sum, h._max = dict(bins), count, total, top
    return h


@dataclass(frozen=True, slots=True)
class QueueKpis:
    """One queue's KPIs (or all queues'), for the emails that arrived in it.

    ``service_level`` is the share of emails first accepted within the queue's service
    goal, among those whose outcome is known at the end (accepted, or still waiting past
    the goal); NaN when there are none. ``time_to_first_handling`` runs from arrival to
    the first Accept, ``time_to_completion`` from arrival to the final Complete.
    ``transfers_per_email`` and ``rejections_per_email`` are per arrived email.
    """

    arrived: int
    answered: int
    completed: int
    answered_within_goal: int
    service_level: float
    time_to_first_handling: Summary
    time_to_completion: Summary
    transfers: int
    rejections: int
    timeouts: int
    transfers_per_email: float
    rejections_per_email: float
    live_at_end: int


@dataclass(frozen=True, slots=True)
class CallCenterKpis:
    """The plain call-center figures, for comparison with Erlang C: the wait is from
    arrival to the first Accept, over the answered emails.

    ``p_wait`` is the share that waited at all, ``service_level`` the share answered
    within ``threshold_seconds``, ``asa_seconds`` the average speed of answer.
    """

    answered: int
    threshold_seconds: float
    p_wait: float
    service_level: float
    asa_seconds: float


@dataclass(frozen=True, slots=True)
class IntervalRow:
    """One interval of the run: arrivals and completions during it; backlog (inbound
    emails not yet completed), queued emails and the age of the oldest unfinished email
    at its end; the service level of the emails first accepted during it; occupancy."""

    start_hours: float
    arrivals: int
    completions: int
    backlog: int
    queued: int
    oldest_age_seconds: float
    service_level: float
    occupancy: float


@dataclass(frozen=True, slots=True)
class SimulationResult:
    """Everything a run of :func:`~email_fsm.sim.simulate` measured.

    ``overall`` and ``queues`` (by queue name) are :class:`QueueKpis`; ``call_center``
    the Erlang-C figures; ``occupancy`` is busy agent-time over available capacity-time
    (each logged-on agent offers ``capacity`` emails' worth of time; an agent finishing
    after the shift adds busy time and no capacity); ``handle_time`` the handling
    periods (Accept to Complete or Transfer). ``refusals_by_code`` counts every refused
    command by GWS status code, ``refusals_by_policy`` those a business rule refused, by
    the policy's name. ``commands`` is how many commands were decided, ``emails`` how
    many emails arrived in the whole run (warm-up included), ``most_live_emails`` the
    most the store held at an interval's end (finished emails are evicted: it stays
    near the number in progress, however long the run).

    With ``record=True``, ``events`` is the run's event log (for
    :func:`~email_fsm.replay`) and ``final_emails`` the live emails at the end; both are
    ``None`` otherwise. Results are plain data: they pickle, and :meth:`to_dict` is
    JSON-ready.
    """

    scenario: str
    seed: int
    duration_hours: float
    warmup_hours: float
    interval_minutes: float
    overall: QueueKpis
    queues: Mapping[str, QueueKpis]
    call_center: CallCenterKpis
    occupancy: float
    handle_time: Summary
    refusals_by_code: Mapping[int, int]
    refusals_by_policy: Mapping[str, int]
    intervals: tuple[IntervalRow, ...]
    commands: int
    emails: int
    most_live_emails: int
    events: tuple[Any, ...] | None = field(default=None, compare=True, repr=False)
    final_emails: Mapping[str, Any] | None = field(default=None, compare=True, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The result as JSON-ready data (NaN becomes ``None``; the event log and the
        final emails are left out)."""
        data = {
            name: getattr(self, name)
            for name in self.__dataclass_fields__
            if name not in ("events", "final_emails")
        }
        jsonable: dict[str, Any] = _jsonable(
            {
                **{
                    k: (asdict(v) if hasattr(v, "__dataclass_fields__") else v)
                    for k, v in data.items()
                },
                "queues": {k: asdict(v) for k, v in self.queues.items()},
                "intervals": [asdict(row) for row in self.intervals],
                "refusals_by_code": {str(k): v for k, v in self.refusals_by_code.items()},
            }
        )
        return jsonable


def _jsonable(value: Any) -> Any:
    if isinstance(value, float):
        return None if math.isnan(value) else (value if math.isfinite(value) else str(value))
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value
