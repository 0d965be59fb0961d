"""Shared test set-up: hypothesis profiles, and tests that need programs outside Python.

``default`` is what ``make test`` runs; ``fuzz`` (``HYPOTHESIS_PROFILE=fuzz``) is for
``make fuzz``. Select another with the ``HYPOTHESIS_PROFILE`` environment variable.

A test that needs a program pip cannot install is marked ``@pytest.mark.needs("dot")``:
it runs where the program is on ``PATH`` (or where Debian puts it: tests/programs.py)
and is reported as skipped, with the reason, where it is not. With
``EMAIL_FSM_NO_SKIPS=1`` (as CI runs the suite) every skip is a failure instead, so CI
runs every test.
"""

from __future__ import annotations

import os
from collections.abc import Generator

import pytest
from hypothesis import HealthCheck, settings
from programs import PROGRAMS, find_program

settings.register_profile(
    "default",
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "fuzz",
    max_examples=20_000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


NO_SKIPS = os.environ.get("EMAIL_FSM_NO_SKIPS", "") not in ("", "0")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "needs(program): the test needs an outside program on PATH (dot, ...)"
    )


def pytest_runtest_setup(item: pytest.Item) -> None:
    for marker in item.iter_markers("needs"):
        (program,) = marker.args
        if program not in PROGRAMS:
            raise pytest.UsageError(f"unknown program {program!r}: add it to PROGRAMS")
        if find_program(program) is None:
            pytest.skip(f"needs {PROGRAMS[program]}, which is not installed")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if NO_SKIPS and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped, and EMAIL_FSM_NO_SKIPS forbids skips: {report.longrepr}"
