"""Settings the toolkit's tests run well with: no deadline, no health check about speed.

A test built from :func:`~email_fsm.testing.reachable` draws a whole valid history per
example, and a state machine step runs the model and checks every invariant: on a busy
machine, either can take longer than hypothesis' 200 ms deadline, and its first examples
longer than its ``too_slow`` health check allows, although nothing is wrong. The
strategies use no filter that rejects much; the settings here switch off what remains.

Two ways to use them:

- decorate a test: ``@SETTINGS`` (before or after ``@given``), or
  ``@settings(SETTINGS, max_examples=500)`` to change a value;
- load the profile for a whole test suite, in ``conftest.py``::

      from hypothesis import settings
      import email_fsm.testing  # registers the profile

      settings.load_profile("email-fsm")

``EmailLifecycleMachine.TestCase`` needs none of them: like hypothesis' own state
machine test cases, it runs with no deadline and no health check.
"""

from __future__ import annotations

from hypothesis import HealthCheck
from hypothesis import settings as _settings

__all__ = ["PROFILE", "SETTINGS"]

PROFILE = "email-fsm"
"""The name of the hypothesis profile registered when :mod:`email_fsm.testing` is
imported."""

_HEALTH = [HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large]

SETTINGS = _settings(deadline=None, suppress_health_check=_HEALTH)
"""The settings of the profile loaded when :mod:`email_fsm.testing` was first imported,
without a deadline and without the health checks about the speed and size of the
generated data (``too_slow``, ``filter_too_much``, ``data_too_large``)."""

_settings.register_profile(PROFILE, deadline=None, suppress_health_check=_HEALTH)
