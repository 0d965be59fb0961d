"""Queueing formulas for staffing: Erlang B, Erlang C and Erlang A (M/M/c+M).

The offered load ``a`` is in Erlangs (arrival rate * average handle time); times come
in whatever unit the average handle time ``aht`` is given in. These are the
references the simulator is validated against (``tests/test_sim_queueing.py``): with
Poisson arrivals, exponential handling, capacity one and no rejections, the simulated
contact center is an M/M/c queue.

>>> round(erlang_c(2, 1.0), 6), round(erlang_c(3, 2.0), 6)
(0.333333, 0.444444)
>>> round(service_level(14, 10.0, aht=180.0, t=20.0), 4)
0.8884
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = [
    "ErlangA",
    "average_speed_of_answer",
    "erlang_a",
    "erlang_b",
    "erlang_c",
    "occupancy",
    "service_level",
]


def _check(c: int, a: float) -> None:
    if c < 0:
        raise ValueError(f"c must not be negative (got {c})")
    if a < 0 or not math.isfinite(a):
        raise ValueError(f"the offered load must be finite and not negative (got {a})")


def erlang_b(c: int, a: float) -> float:
    """The blocking probability of ``c`` servers offered ``a`` Erlangs (M/M/c/c).

    The stable recursion B(0) = 1, B(k) = A·B(k-1) / (k + A·B(k-1)).

    >>> round(erlang_b(1, 1.0), 6), round(erlang_b(2, 1.0), 6)
    (0.5, 0.2)
    """
    _check(c, a)
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b


def erlang_c(c: int, a: float) -> float:
    """The probability that an arrival waits, with ``c`` agents and ``a`` Erlangs (M/M/c).

    C = c·B / (c - A·(1 - B)) for A < c; 1 when A ≥ c (the queue never empties).

    >>> round(erlang_c(14, 10.0), 4)
    0.1741
    """
    _check(c, a)
    if a >= c:
        return 1.0
    b = erlang_b(c, a)
    return c * b / (c - a * (1.0 - b))


def service_level(c: int, a: float, aht: float, t: float) -> float:
    """The share of arrivals answered within ``t``: 1 - C·exp(-(c - A)·t / AHT).

    ``t`` and ``aht`` in the same unit; 0 when A ≥ c.

    >>> round(service_level(11, 10.0, aht=180.0, t=20.0), 4)
    0.3896
    """
    if aht <= 0:
        raise ValueError(f"aht must be positive (got {aht})")
    if a >= c:
        return 0.0
    return 1.0 - erlang_c(c, a) * math.exp(-(c - a) * t / aht)


def average_speed_of_answer(c: int, a: float, aht: float) -> float:
    """The mean wait of all arrivals: C·AHT / (c - A), in the unit of ``aht``.

    Infinite when A ≥ c.

    >>> round(average_speed_of_answer(12, 10.0, aht=180.0), 2)
    40.44
    """
    if aht <= 0:
        raise ValueError(f"aht must be positive (got {aht})")
    if a >= c:
        return math.inf
    return erlang_c(c, a) * aht / (c - a)


def occupancy(c: int, a: float) -> float:
    """The share of the agents' time spent handling: A / c (at most 1).

    >>> occupancy(14, 10.0)
    0.7142857142857143
    """
    _check(c, a)
    if c == 0:
        raise ValueError("occupancy needs at least one agent")
    return min(a / c, 1.0)


@dataclass(frozen=True, slots=True)
class ErlangA:
    """What Erlang A predicts for an M/M/c+M queue (customers who abandon)."""

    p_wait: float
    """The probability that an arrival finds every agent busy and waits."""
    p_abandon: float
    """The probability that an arrival abandons before being answered."""
    mean_wait: float
    """The mean time in queue of all arrivals (abandoners included), in the rates' unit."""


def erlang_a(c: int, lam: float, mu: float, theta: float, *, tolerance: float = 1e-15) -> ErlangA:
    """Erlang A: ``c`` agents, arrivals at rate ``lam``, handling at rate ``mu``, each
    waiting customer abandoning at rate ``theta`` (all in the same time unit).

    Solved as a birth-death chain: birth λ, death min(n, c)·μ + max(n - c, 0)·θ, summed
    until the states' probabilities are negligible. P(wait) = P(n ≥ c) (arrivals see the
    time average), P(abandon) = θ·E[queue] / λ, mean wait = E[queue] / λ (Little).

    >>> r = erlang_a(10, lam=100 / 30, mu=1 / 3, theta=0.5)
    >>> round(r.p_wait, 4), round(r.p_abandon, 4), round(r.mean_wait * 60, 1)
    (0.4969, 0.1375, 16.5)
    """
    if c < 1:
        raise ValueError(f"c must be at least 1 (got {c})")
    if lam <= 0 or mu <= 0 or theta <= 0:
        raise ValueError("lam, mu and theta must be positive")
    # Unnormalised state probabilities, relative to p(0) = 1.
    p = 1.0
    total = 1.0
    waiting = 0.0  # P(n >= c), unnormalised
    queue = 0.0  # E[max(n - c, 0)], unnormalised
    n = 0
    while True:
        n += 1
        p *= lam / (min(n, c) * mu + max(n - c, 0) * theta)
        total += p
        if n >= c:
            waiting += p
            queue += (n - c) * p
        if n > c and p < tolerance * total:
            break
    p_wait = waiting / total
    mean_queue = queue / total
    return ErlangA(p_wait=p_wait, p_abandon=theta * mean_queue / lam, mean_wait=mean_queue / lam)
