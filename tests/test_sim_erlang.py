"""The queueing formulas against published values: 100 arrivals per 30 minutes, an
average handle time of 3 minutes (A = 10 Erlangs), a service-level threshold of 20 s;
Erlang A with customers abandoning at 0.5 per minute."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest

from email_fsm.sim import (
    average_speed_of_answer,
    erlang_a,
    erlang_b,
    erlang_c,
    occupancy,
    service_level,
)

LOAD = 10.0
AHT = 180.0  # seconds
T = 20.0

# c: P(wait), SL(20 s), ASA (s)
ERLANG_C = {
    11: (0.6821, 0.3896, 122.78),
    12: (0.4494, 0.6402, 40.44),
    13: (0.2853, 0.7956, 17.12),
    14: (0.1741, 0.8884, 7.84),
    15: (0.1020, 0.9415, 3.67),
    16: (0.0573, 0.9706, 1.72),
}

# c: P(wait), P(abandon), mean wait (s); λ = 100 / 30 min, μ = 1 / 3 min, θ = 0.5 / min
ERLANG_A = {
    9: (0.6133, 0.1922, 23.1),
    10: (0.4969, 0.1375, 16.5),
    11: (0.3828, 0.0942, 11.3),
    12: (0.2798, 0.0616, 7.4),
    14: (0.1270, 0.0228, 2.7),
}


@pytest.mark.parametrize("c", sorted(ERLANG_C))
def test_erlang_c_service_level_and_asa(c: int) -> None:
    p_wait, sl, asa = ERLANG_C[c]
    assert erlang_c(c, LOAD) == pytest.approx(p_wait, abs=5e-5)
    assert service_level(c, LOAD, AHT, T) == pytest.approx(sl, abs=5e-5)
    assert average_speed_of_answer(c, LOAD, AHT) == pytest.approx(asa, abs=5e-3)


def test_closed_forms() -> None:
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3, rel=1e-12)
    assert erlang_c(3, 2.0) == pytest.approx(4 / 9, rel=1e-12)
    # Erlang B: B(1, A) = A / (1 + A), B(2, 1) = 1/5
    assert erlang_b(1, 3.0) == pytest.approx(0.75, rel=1e-12)
    assert erlang_b(2, 1.0) == pytest.approx(0.2, rel=1e-12)
    assert erlang_b(0, 5.0) == 1.0
    assert occupancy(14, LOAD) == pytest.approx(10 / 14)


def test_an_overloaded_center_always_waits() -> None:
    assert erlang_c(10, 10.0) == 1.0
    assert service_level(9, 10.0, AHT, T) == 0.0
    assert math.isinf(average_speed_of_answer(10, 10.0, AHT))
    assert occupancy(5, 10.0) == 1.0


@pytest.mark.parametrize("c", sorted(ERLANG_A))
def test_erlang_a(c: int) -> None:
    p_wait, p_abandon, mean_wait = ERLANG_A[c]
    result = erlang_a(c, lam=100 / 30, mu=1 / 3, theta=0.5)
    assert result.p_wait == pytest.approx(p_wait, abs=5e-5)
    assert result.p_abandon == pytest.approx(p_abandon, abs=5e-5)
    assert result.mean_wait * 60 == pytest.approx(mean_wait, abs=0.05)


def test_erlang_a_tends_to_erlang_c_when_nobody_abandons() -> None:
    patient = erlang_a(14, lam=100 / 30, mu=1 / 3, theta=1e-9)
    assert patient.p_wait == pytest.approx(erlang_c(14, LOAD), abs=1e-6)
    assert patient.mean_wait * 60 == pytest.approx(average_speed_of_answer(14, LOAD, AHT), rel=1e-5)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: erlang_b(-1, 1.0), "c must not be negative"),
        (lambda: erlang_c(3, -1.0), "offered load must be finite and not negative"),
        (lambda: erlang_c(3, math.inf), "offered load must be finite and not negative"),
        (lambda: service_level(3, 1.0, 0.0, 20.0), "aht must be positive"),
        (lambda: average_speed_of_answer(3, 1.0, -1.0), "aht must be positive"),
        (lambda: occupancy(0, 1.0), "at least one agent"),
        (lambda: erlang_a(0, 1.0, 1.0, 1.0), "c must be at least 1"),
        (lambda: erlang_a(3, 1.0, 0.0, 1.0), "lam, mu and theta must be positive"),
    ],
)
def test_bad_arguments_are_refused(call: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()
