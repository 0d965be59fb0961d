"""The worked examples of docs/testing.md run here, and the page cannot drift from them.

The examples live in ``email_fsm/testing/examples.py`` (they run wherever the package is
installed). The Priority rule's machine must fail without its policy and pass with it,
at the default settings, every time (twenty failing runs here and one passing run;
``benchmarks/planted_bugs.py`` runs it twenty times each way); the VIP machine likewise;
the VIP one-step property catches the first draft; each documented example runs 20
times, with random seeds, without failing a health check.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import Phase as Stage
from hypothesis import strategies as st

from benchmarks.planted_bugs import default_settings
from email_fsm import Accept, Accepted, Arrive, Complete, ContactCenter, Offer, Phase, Transfer
from email_fsm.testing import SETTINGS, EmailLifecycleMachine, Reached, reachable
from email_fsm.testing.examples import (
    VIP_IN_PROCESSING,
    PriorityMachine,
    VipMachine,
    check_vip_one_step,
    first_draft,
    stays_with_vip,
    vip_stays_with_vip,
)

ROOT = Path(__file__).resolve().parent.parent
SOURCES = {"email_fsm/testing/examples.py", "tests/test_testing_example.py"}

TestPriorityMachine = PriorityMachine.TestCase
TestVipMachine = VipMachine.TestCase
# Fewer and shorter runs than hypothesis' default keep `make test` quick; the default
# settings run below, without shrinking.
TestPriorityMachine.settings = settings(max_examples=30, stateful_step_count=40)
TestVipMachine.settings = settings(max_examples=30, stateful_step_count=40)


def regions(path: str) -> dict[str, str]:
    """The ``# [start:NAME]`` ... ``# [end:NAME]`` regions of a file of the project."""
    text = (ROOT / path).read_text("utf-8")
    region = re.compile(r"^# \[start:(\w+)\]\n(.*?)^# \[end:\1\]\n", re.MULTILINE | re.DOTALL)
    return {m.group(1): m.group(2).strip("\n") for m in region.finditer(text)}


def test_docs_code_blocks_are_the_tested_code() -> None:
    page = (ROOT / "docs" / "testing.md").read_text("utf-8")
    # A fenced block right after a comment naming its source: <!-- from PATH:REGION -->
    blocks = re.findall(r"<!-- from ([\w/.]+):(\w+) -->\n```python\n(.*?)```\n", page, re.DOTALL)
    assert {path for path, _, _ in blocks} == SOURCES
    # They import from the installed package, not from the repository's folders.
    assert not any("from examples" in code or "import examples" in code for *_, code in blocks)
    for path, name, code in blocks:
        assert code.strip("\n") == regions(path)[name], f"docs/testing.md drifted: {path}:{name}"
    every = {(path, name) for path in SOURCES for name in regions(path)}
    assert {(path, name) for path, name, _ in blocks} == every


class PriorityWithoutPolicy(PriorityMachine):
    policies = ()  # type: ignore[assignment]


class VipWithoutPolicy(VipMachine):
    policies = ()  # type: ignore[assignment]


@pytest.mark.parametrize("machine", [PriorityWithoutPolicy, VipWithoutPolicy])
def test_without_the_policy_the_invariant_fails_every_time(
    machine: type[EmailLifecycleMachine],
) -> None:
    for _ in range(20):
        with pytest.raises(AssertionError) as failure:
            machine.run(settings=default_settings())
        message = str(failure.value)
        assert (
            "without a disposition" in message
            or "EmailCompleted" in message
            or ("TransferredTo" in message)
        ), message


def test_with_the_policy_the_priority_machine_passes_at_the_default_settings() -> None:
    PriorityMachine.run(settings=default_settings())
    (count,) = PriorityMachine.statistics().policies
    assert count.name == "high_priority_needs_disposition"
    assert count.refused > 0


def test_the_one_step_property_catches_the_draft_and_passes_the_policy() -> None:
    def property_of(policy: object, examples: int) -> None:
        @settings(SETTINGS, max_examples=examples, database=None, phases=[Stage.generate])
        @given(VIP_IN_PROCESSING, st.data())
        def prop(reached: Reached, data: st.DataObject) -> None:
            stays_with_vip(policy, reached, data)  # type: ignore[arg-type]

        prop()

    with pytest.raises(AssertionError, match="Complete"):
        property_of(first_draft, 200)
    property_of(vip_stays_with_vip, 40)


def test_each_docs_example_runs_20_times_without_a_health_check() -> None:
    from test_testing_example import test_the_owner_may_do_what_is_allowed

    examples = [check_vip_one_step, test_the_owner_may_do_what_is_allowed]
    for example in examples:
        # The documented test with its own settings (SETTINGS), fewer examples: the
        # health checks judge the first examples of a run.
        inner = example.hypothesis.inner_test  # type: ignore[attr-defined]
        held = reachable(phases={Phase.PROCESSING, Phase.COMPOSING})
        drawn = VIP_IN_PROCESSING if example is check_vip_one_step else held
        quick = settings(SETTINGS, max_examples=15, database=None)
        for _ in range(20):
            quick(given(drawn, st.data())(inner))()


def test_the_policy_refuses_with_its_reason() -> None:
    center = ContactCenter(policies=(vip_stays_with_vip,))
    center.execute(Arrive(email_id="E1", queue="vip", user_data={"VIP": True}))
    center.execute(Offer(email_id="E1", agent="alice"))
    center.execute(Accept(actor="alice", email_id="E1"))
    for command in (
        Transfer(actor="alice", email_id="E1", queue="billing"),
        Transfer(actor="alice", email_id="E1", agent="bob"),
        Complete(actor="alice", email_id="E1", queue="billing"),
    ):
        target = command.queue if command.queue is not None else "bob"
        assert center.execute(command).response() == {
            "statusCode": 3,
            "statusMessage": f"{command.operation} refused for email E1 (Processing): "
            f"VIP email E1 cannot go to {target}",
        }
    assert center.emails["E1"].owner == "alice"
    assert isinstance(center.execute(Transfer(actor="alice", email_id="E1", queue="vip")), Accepted)


def test_under_the_default_vocabulary_the_priority_policy_is_found_idle() -> None:
    from email_fsm.testing import UnexercisedPolicyError, Vocabulary

    class DefaultVocabulary(PriorityMachine):
        vocabulary = Vocabulary()  # Priority an integer from 0 to 10

    quick = settings(max_examples=10, derandomize=True, database=None)
    with pytest.raises(UnexercisedPolicyError) as failure:
        DefaultVocabulary.run(settings=quick)
    message = str(failure.value)
    assert message.startswith("policy `high_priority_needs_disposition` refused nothing in ")
    assert "its condition may never hold under these strategies" in message


def test_the_settings_and_the_profile_switch_off_the_deadline_and_the_speed_checks() -> None:
    from email_fsm.testing.settings import PROFILE

    speed = {HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large}
    for chosen in (SETTINGS, settings.get_profile(PROFILE)):
        assert chosen.deadline is None
        assert set(chosen.suppress_health_check) == speed
    assert PROFILE == "email-fsm"
