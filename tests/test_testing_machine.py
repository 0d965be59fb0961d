"""EmailLifecycleMachine: the ready state machine runs clean on the real model, with and
without policies, and its checks have teeth: a contact center that leaks refused steps,
or forgets its policies, is caught."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import run_state_machine_as_test

from email_fsm import (
    Command,
    Complete,
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
from email_fsm.testing import (
    EDGES,
    EmailLifecycleMachine,
    StepRecord,
    UnexercisedPolicyError,
    Vocabulary,
    policy_name,
)

TestLifecycle = EmailLifecycleMachine.TestCase
TestLifecycle.settings = settings(max_examples=40, stateful_step_count=30)


class ShippedPoliciesMachine(EmailLifecycleMachine):
    """The three policies of the library, under limits small enough to be reached."""

    policies = (require_disposition(), max_transfers(2), no_transfer_back())
    config = Config(limits=Limits(max_user_data_keys=3, max_attachments=1))
    agent_names = ("alice", "bob")
    queue_names = ("inbound", "vip")


TestShippedPolicies = ShippedPoliciesMachine.TestCase
# Long enough runs for each policy to refuse something (the machine checks that they
# did): max_transfers(2) needs one email transferred three times.
TestShippedPolicies.settings = settings(max_examples=30, stateful_step_count=50, derandomize=True)


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


def test_the_machine_takes_every_row_of_the_table() -> None:
    class Counting(EmailLifecycleMachine):
        pass

    Counting.run(settings=settings(max_examples=50, derandomize=True, database=None))
    stats = Counting.statistics()
    assert stats.untaken() == []
    assert set(stats.rows) == set(EDGES)
    assert 0 < stats.examples <= stats.steps
    assert stats.refusals["NOT_FOUND"] > 0  # the stray steps about a missing email
    assert sum(stats.rows.values()) > len(EDGES) * 5


def test_edges_name_every_row_and_target_of_the_table() -> None:
    from email_fsm import TABLE

    assert len(EDGES) == len(set(EDGES)) == sum(len(row.edges) for row in TABLE)
    assert "Processing Complete -> Completed" in EDGES
    assert "Processing Complete -> Queued" in EDGES
    assert "new Arrive -> Queued" in EDGES


def test_step_records_name_the_policy_that_refused() -> None:
    seen: list[StepRecord] = []

    class Recording(EmailLifecycleMachine):
        policies = (never_transfer,)

        def teardown(self) -> None:
            seen.extend(self.steps)

    Recording.run(settings=QUICK)
    refused = [step for step in seen if step.refused_by is not None]
    assert refused
    assert all(step.refused_by is never_transfer for step in refused)
    assert all(isinstance(step.command, Transfer) and not step.accepted for step in refused)
    assert all("no transfers today" in str(step.decision) for step in refused)
    (count,) = Recording.statistics().policies
    assert count.name == "never_transfer"
    assert count.refused == len(refused) <= count.consulted


def priority_is_high(command: Command, email: Email | None) -> Refused | None:
    """A user's rule on a userData key the default vocabulary draws as an integer."""
    high = email is not None and email.user_data.get("Priority") == "high"
    if isinstance(command, Complete) and high:
        return Refused(StatusCode.INVALID_STATE, "a high-priority email needs a disposition")
    return None


QUICK = settings(max_examples=10, stateful_step_count=30, derandomize=True, database=None)


def test_a_policy_that_never_refuses_fails_the_test() -> None:
    class Vacuous(EmailLifecycleMachine):
        policies = (priority_is_high,)

    with pytest.raises(UnexercisedPolicyError) as failure:
        Vacuous.run(settings=QUICK)
    steps = Vacuous.statistics().steps
    assert str(failure.value).startswith(
        f"policy `priority_is_high` refused nothing in {steps:,} steps"
    )
    assert "its condition may never hold under these strategies" in str(failure.value)
    # The TestCase runs the same check.
    Vacuous.TestCase.settings = QUICK
    with pytest.raises(UnexercisedPolicyError):
        Vacuous.TestCase("runTest").runTest()  # type: ignore[attr-defined]


def test_an_idle_policy_said_to_be_expected_passes() -> None:
    class Expected(EmailLifecycleMachine):
        policies = (priority_is_high, never_transfer)
        idle_policies = (priority_is_high,)

    Expected.run(settings=QUICK)
    idle, busy = Expected.statistics().policies
    assert idle.refused == 0 < idle.consulted
    assert busy.refused > 0

    class AllExpected(EmailLifecycleMachine):
        policies = (priority_is_high,)
        idle_policies = True

    AllExpected.run(settings=QUICK)


def test_the_users_vocabulary_exercises_the_policy() -> None:
    class WithVocabulary(EmailLifecycleMachine):
        policies = (priority_is_high,)
        vocabulary = Vocabulary(user_data={"Priority": st.sampled_from(["high", "low"])})

    WithVocabulary.run(settings=settings(max_examples=40, derandomize=True, database=None))
    (count,) = WithVocabulary.statistics().policies
    assert count.refused > 0


def test_a_policy_never_consulted_is_reported_as_such() -> None:
    def never_asked(command: Command, email: Email | None) -> Refused | None:
        return None

    class Unasked(EmailLifecycleMachine):
        policies = (never_transfer, never_asked)

    # never_transfer refuses every Transfer first; the second policy still sees the rest.
    with pytest.raises(UnexercisedPolicyError, match="policy `never_asked` refused nothing"):
        Unasked.run(settings=QUICK)


def test_policy_names() -> None:
    assert policy_name(never_transfer) == "never_transfer"
    assert policy_name(max_transfers(2)) == "max_transfers"
    assert policy_name(require_disposition()) == "require_disposition"


def test_every_step_is_labelled_with_hypothesis_events(monkeypatch: pytest.MonkeyPatch) -> None:
    import email_fsm.testing.machine as machine_module

    labels: list[str] = []
    monkeypatch.setattr(machine_module, "event", labels.append)

    class Labelled(EmailLifecycleMachine):
        policies = (never_transfer,)

    Labelled.run(settings=QUICK)
    assert len(labels) >= Labelled.statistics().steps
    assert "row: new Arrive -> Queued" in labels
    assert "refused: 6 NOT_FOUND" in labels
    assert "policy refused: never_transfer" in labels
    assert {label.split(": ")[0] for label in labels} == {"row", "refused", "policy refused"}
