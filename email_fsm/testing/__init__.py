"""Property-testing toolkit: hypothesis strategies and a ready state machine.

Needs `hypothesis <https://hypothesis.readthedocs.io>`_: ``pip install
"email-fsm[testing]"``. ``import email_fsm`` does not import it. Every name below is
importable from ``email_fsm.testing``; ``docs/testing.md`` walks through an example.

- :mod:`~email_fsm.testing.vocab`: :func:`agents`, :func:`queues`, :func:`user_data`,
  :func:`json_values`, from small pools (:data:`AGENTS`, :data:`QUEUES`).
- :mod:`~email_fsm.testing.histories`: :func:`reachable` (a :class:`Reached`: an email in
  the phases you ask for, with the valid history that built it) and :func:`emails`.
- :mod:`~email_fsm.testing.bodies`: :func:`request_bodies` (valid GWS request bodies an
  agent may send about an email now), :func:`create_requests`, and
  :func:`arbitrary_requests` (anything a client could send, malformed included).
- :mod:`~email_fsm.testing.stories`: :func:`scenarios`, whole scenario documents for
  ``email-fsm replay`` (written by :func:`~email_fsm.scenario.scenario_document`).
- :mod:`~email_fsm.testing.machine`: :class:`EmailLifecycleMachine`, a
  ``RuleBasedStateMachine`` that runs random operations through a
  :class:`~email_fsm.ContactCenter` and checks the library's invariants after every
  step; subclass it with your policies and ``@invariant()`` methods.

>>> from hypothesis import given, settings
>>> from email_fsm import Phase
>>> @settings(max_examples=20)
... @given(emails(phases={Phase.PROCESSING}))
... def test_processing_has_an_owner(email):
...     assert email.owner is not None and email.invitee is None
>>> test_processing_has_an_owner()
"""

from __future__ import annotations

from email_fsm.scenario import scenario_document

from .bodies import arbitrary_requests, create_requests, request_bodies
from .histories import Reached, emails, reachable
from .machine import EmailLifecycleMachine, StepRecord, check_ownership
from .stories import scenarios
from .vocab import AGENTS, QUEUES, USER_DATA_KEYS, Body, agents, json_values, queues, user_data

__all__ = [
    "AGENTS",
    "QUEUES",
    "USER_DATA_KEYS",
    "Body",
    "EmailLifecycleMachine",
    "Reached",
    "StepRecord",
    "agents",
    "arbitrary_requests",
    "check_ownership",
    "create_requests",
    "emails",
    "json_values",
    "queues",
    "reachable",
    "request_bodies",
    "requests",
    "scenario_document",
    "scenarios",
    "user_data",
]

requests = request_bodies
"""The former name of :func:`request_bodies`, kept for existing tests: it reads like the
module :mod:`email_fsm.requests`, so new code should say ``request_bodies``."""
