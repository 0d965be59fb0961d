"""EmailLifecycleMachine: the ready state machine runs clean on the real model, with and
without policies, and its checks have teeth: a contact center that leaks refused steps,
or forgets its policies, is caught."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test

from email_fsm import (
    Command,
    Config,
    ContactCenter,
    Decision,
    Email,
    Limits,
    Refused,
    StatusCode,
    Transfer,
    max_transfers,
    no_transfer_back,
    require_disposition,
)
from email_fsm.testing import EmailLifecycleMachine

TestLifecycle = EmailLifecycleMachine.TestCase
TestLifecycle.settings = settings(max_examples=40, stateful_step_count=30)


class ShippedPoliciesMachine(EmailLifecycleMachine):
    """The three policies of the library, under limits small enough to be reached."""

    policies = (require_disposition(), max_transfers(2), no_transfer_back())
    config = Config(limits=Limits(max_user_data_keys=3, max_attachments=1))
    agent_names = ("alice", "bob")
    queue_names = ("inbound", "vip")


TestShippedPolicies = ShippedPoliciesMachine.TestCase
TestShippedPolicies.settings = settings(max_examples=25, stateful_step_count=30)


def failure_of(machine: type[EmailLifecycleMachine], max_examples: int = 300) -> str:
    """Run ``machine`` until it fails, deterministically and without shrinking; return
    the failure's message."""
    quick = settings(
        max_examples=max_examples,
        stateful_step_count=30,
        derandomize=True,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=[HealthCheck.too_slow],
    )
    with pytest.raises(AssertionError) as failure:
        run_state_machine_as_test(machine, settings=quick)
    return str(failure.value)


class LeakyCenter(ContactCenter):
    """Broken on purpose: a refused request still marks the email."""

    def request(
        self,
        actor: str,
        body: object,
        *,
        email_id: str | None = None,
        new_email_id: str | None = None,
        new_id: Callable[[], str] | None = None,
        reference_id: int | None = None,
        at: float | None = None,
    ) -> Decision:
        decision = super().request(
            actor,
            body,
            email_id=email_id,
            new_email_id=new_email_id,
            new_id=new_id,
            reference_id=reference_id,
            at=at,
        )
        if isinstance(decision, Refused) and email_id in self._emails:
            self._emails[email_id] = replace(self._emails[email_id], comment="refused")
        return decision


def test_a_center_leaking_refused_steps_is_caught() -> None:
    class Leaky(EmailLifecycleMachine):
        def __init__(self) -> None:
            super().__init__()
            self.center = LeakyCenter(record=True)

    assert "a refused step changed" in failure_of(Leaky)


def never_transfer(command: Command, email: Email | None) -> Refused | None:
    if isinstance(command, Transfer):
        return Refused(StatusCode.FORBIDDEN, "no transfers today")
    return None


def test_a_center_forgetting_its_policies_is_caught() -> None:
    class Forgetful(EmailLifecycleMachine):
        policies = (never_transfer,)

        def __init__(self) -> None:
            super().__init__()
            self.center = ContactCenter(record=True)  # the policies are not passed on

    assert "refuses an accepted step" in failure_of(Forgetful)


def test_a_center_not_recording_history_is_caught() -> None:
    class Amnesic(EmailLifecycleMachine):
        def __init__(self) -> None:
            super().__init__()
            self.center = ContactCenter(record=False)

    assert "history does not rebuild" in failure_of(Amnesic, max_examples=20)


def test_the_machine_visits_every_phase() -> None:
    seen: set[str] = set()

    class Watching(EmailLifecycleMachine):
        def teardown(self) -> None:
            seen.update(str(e.phase) for e in self.center.emails.values())

    run_state_machine_as_test(
        Watching, settings=settings(max_examples=15, derandomize=True, database=None)
    )
    from email_fsm import Phase as EmailPhase

    assert seen == {str(p) for p in EmailPhase}
