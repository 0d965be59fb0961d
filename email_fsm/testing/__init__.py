"""Property-testing toolkit: hypothesis strategies and a ready state machine.

Needs `hypothesis <https://hypothesis.readthedocs.io>`_: ``pip install
"email-fsm[testing]"``. ``import email_fsm`` does not import it. Every name below is
importable from ``email_fsm.testing``; ``docs/testing.md`` walks through an example.

- :mod:`~email_fsm.testing.vocab`: :class:`Vocabulary` (your agents, queues, content and
  userData strategies, which every strategy below and the machine take),
  :func:`agents`, :func:`queues`, :func:`user_data`, :func:`json_values`, from small
  default pools (:data:`AGENTS`, :data:`QUEUES`, :data:`DEFAULT_USER_DATA`).
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
  step, labels every step with :func:`hypothesis.event`, and fails a test in which one
  of your policies refused nothing; subclass it with your policies, your vocabulary
  and ``@invariant()`` methods.
- :mod:`~email_fsm.testing.settings`: :data:`SETTINGS` and the ``email-fsm`` hypothesis
  profile, the settings the documented examples run with.
- :mod:`~email_fsm.testing.examples`: the documented example policies.

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
from .machine import (
    EDGES,
    EmailLifecycleMachine,
    MachineStatistics,
    PolicyCount,
    StepRecord,
    UnexercisedPolicyError,
    check_ownership,
    edge_label,
    policy_name,
)
from .settings import SETTINGS
from .stories import scenarios
from .vocab import (
    AGENTS,
    DEFAULT_USER_DATA,
    QUEUES,
    USER_DATA_KEYS,
    Body,
    Vocabulary,
    agents,
    json_values,
    queues,
    user_data,
)

__all__ = [
    "AGENTS",
    "DEFAULT_USER_DATA",
    "EDGES",
    "QUEUES",
    "SETTINGS",
    "USER_DATA_KEYS",
    "Body",
    "EmailLifecycleMachine",
    "MachineStatistics",
    "PolicyCount",
    "Reached",
    "StepRecord",
    "UnexercisedPolicyError",
    "Vocabulary",
    "agents",
    "arbitrary_requests",
    "check_ownership",
    "create_requests",
    "edge_label",
    "emails",
    "json_values",
    "policy_name",
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
