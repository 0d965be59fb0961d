"""The table decides: editing a copy of it changes what decide does, or fails at load.

Each test builds an edited copy of :data:`email_fsm.TABLE` and runs the decider's own
derivations on it (the row index, the command specs, the handler check, the pipeline
built from CHECKS), never a parallel implementation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TypeAlias

import pytest
from builders import accepted

from email_fsm import (
    TABLE,
    Accept,
    AddComment,
    Arrive,
    Decision,
    Email,
    Offer,
    Refused,
    Reject,
    SetInFocus,
    StatusCode,
    Transfer,
    decide,
)
from email_fsm import decider as decider_module
from email_fsm.decider import CHECKS, Check, CheckStep, check_handlers
from email_fsm.table import Actor, Row, Rule, TableError, check_table
from email_fsm.vocabulary import Operation, Phase, SystemEvent


def _edit(source: Phase | None, trigger: Operation | SystemEvent, **changes: object) -> list[Row]:
    rows = list(TABLE)
    (index,) = [i for i, r in enumerate(rows) if (r.source, r.trigger) == (source, trigger)]
    rows[index] = replace(rows[index], **changes)  # type: ignore[arg-type]
    return rows


Install: TypeAlias = Callable[[list[Row]], None]


@pytest.fixture
def edited(monkeypatch: pytest.MonkeyPatch) -> Install:
    """Install an edited table into the decider, as its import would have."""

    def install(rows: list[Row]) -> None:
        monkeypatch.setattr(decider_module, "_ROWS", check_table(rows))
        monkeypatch.setattr(decider_module, "_SPECS", decider_module._specs(rows))
        check_handlers(rows)

    return install


def _run(emails: dict[str, Email], *commands: object) -> Decision:
    decision: Decision | None = None
    for command in commands:
        decision = decide(emails, command)  # type: ignore[arg-type]
        if isinstance(decision, Refused):
            return decision
        emails.update((e.id, e) for e in decision.emails)
    assert decision is not None
    return decision


def _invited(agent: str = "b") -> dict[str, Email]:
    emails: dict[str, Email] = {}
    _run(emails, Arrive(email_id="E1", queue="q"), Offer(email_id="E1", agent=agent))
    return emails


def _processing(agent: str = "a") -> dict[str, Email]:
    emails = _invited(agent)
    _run(emails, Accept(actor=agent, email_id="E1"))
    return emails


def test_the_invitee_may_reject_as_the_table_says() -> None:
    emails = _invited()
    assert accepted(decide(emails, Reject(actor="b", email_id="E1"))).emails[0].phase is (
        Phase.QUEUED
    )


def test_a_row_made_owner_only_refuses_the_invitee(edited: Install) -> None:
    edited(_edit(Phase.INVITED, Operation.REJECT, actor=Actor.OWNER))
    emails = _invited()
    before = dict(emails)
    refused = decide(emails, Reject(actor="b", email_id="E1"))
    assert isinstance(refused, Refused)
    assert refused.code is StatusCode.FORBIDDEN
    assert refused.message == (
        "Reject refused for email E1 (Invited): b is its invitee, and Reject is for its owner"
    )
    assert emails == before


def test_a_row_open_to_any_agent_lets_a_bystander_act(edited: Install) -> None:
    emails = _processing()
    refused = decide(emails, SetInFocus(actor="z", email_id="E1"))
    assert isinstance(refused, Refused)
    assert refused.code is StatusCode.FORBIDDEN

    rows = _edit(Phase.PROCESSING, Operation.SET_IN_FOCUS, actor=Actor.ANY_AGENT, advertised=False)
    edited(rows)
    decision = accepted(decide(emails, SetInFocus(actor="z", email_id="E1")))
    before = emails["E1"]
    assert decision.emails == (replace(before, version=before.version + 1),)


def test_an_operation_with_no_row_is_refused_with_2_and_its_holder_checked_first() -> None:
    emails = _processing()
    for actor, code in (("a", StatusCode.INVALID_STATE), ("z", StatusCode.FORBIDDEN)):
        refused = decide(emails, Accept(actor=actor, email_id="E1"))
        assert isinstance(refused, Refused)
        assert refused.code is code


def test_a_rule_removed_from_a_row_is_reported_at_load() -> None:
    rows = _edit(Phase.PROCESSING, Operation.TRANSFER, rules=())
    with pytest.raises(
        TableError,
        match=r"^Transfer from Processing: the table names the rules \[\], its handler "
        r"checks \['transfer target is not the actor'\]$",
    ):
        check_handlers(rows)


def test_a_rule_added_to_a_row_is_reported_at_load() -> None:
    rows = _edit(Phase.COMPOSING, Operation.CANCEL, rules=(Rule.HAS_RECIPIENT,))
    with pytest.raises(TableError, match=r"^Cancel from Composing: the table names the rules"):
        check_handlers(rows)


def test_the_table_as_shipped_agrees_with_its_handlers() -> None:
    check_handlers(TABLE)  # raises on any disagreement
    rules = {(row.source, row.trigger): set(row.rules) for row in TABLE}
    assert rules[(Phase.PROCESSING, Operation.TRANSFER)] == {Rule.NOT_TO_SELF}
    assert rules[(Phase.COMPOSING, Operation.SEND)] == {Rule.HAS_RECIPIENT}


def test_what_a_command_type_is_comes_from_its_rows() -> None:
    specs = decider_module._specs(TABLE)
    creates = {spec.trigger for spec in specs.values() if spec.creates}
    system = {spec.trigger for spec in specs.values() if spec.system}
    second = {spec.trigger for spec in specs.values() if spec.second_email}
    assert creates == {SystemEvent.ARRIVE, Operation.CREATE}
    assert system == {SystemEvent.ARRIVE, SystemEvent.OFFER, SystemEvent.REVOKE}
    assert second == {Operation.REPLY, Operation.REPLY_ALL}


def test_a_table_that_mixes_creating_and_existing_rows_for_one_trigger_fails() -> None:
    rows = [*TABLE, Row(None, Operation.ACCEPT, Actor.ANY_AGENT, (TABLE[0].edges[0],))]
    with pytest.raises(TableError, match="Accept: some rows create the email and some do not"):
        decider_module._specs(rows)


# ------------------------------------------------------------------ CHECKS decides


def _reordered(first: CheckStep, before: CheckStep) -> tuple[Check, ...]:
    steps = list(CHECKS)
    (moved,) = [c for c in steps if c.step is first]
    steps.remove(moved)
    steps.insert([c.step for c in steps].index(before), moved)
    return tuple(steps)


def test_the_shipped_order_is_the_documented_one() -> None:
    assert [c.step for c in CHECKS] == [
        CheckStep.EXISTS,
        CheckStep.NEW_ID,
        CheckStep.SHAPE,
        CheckStep.HOLDER,
        CheckStep.PHASE,
        CheckStep.RULES,
        CheckStep.POLICIES,
    ]


@pytest.mark.parametrize(
    ("command", "shipped", "first", "before", "then"),
    [
        # b is not the holder, and the comment is empty: shape (1) comes before holder (3).
        (
            AddComment(actor="b", email_id="E1", comment=""),
            StatusCode.MISSING_PARAMETER,
            CheckStep.HOLDER,
            CheckStep.SHAPE,
            StatusCode.FORBIDDEN,
        ),
        # b is not the holder, and Accept is not valid in Processing: holder (3) first.
        (
            Accept(actor="b", email_id="E1"),
            StatusCode.FORBIDDEN,
            CheckStep.PHASE,
            CheckStep.HOLDER,
            StatusCode.INVALID_STATE,
        ),
        # b, who does not hold the email, transfers it to b: holder (3) before the rule (10).
        (
            Transfer(actor="b", email_id="E1", agent="b"),
            StatusCode.FORBIDDEN,
            CheckStep.RULES,
            CheckStep.HOLDER,
            StatusCode.INVALID_VALUE,
        ),
    ],
)
def test_moving_a_check_in_checks_moves_it_in_decide(
    monkeypatch: pytest.MonkeyPatch,
    command: object,
    shipped: StatusCode,
    first: CheckStep,
    before: CheckStep,
    then: StatusCode,
) -> None:
    emails = _processing()
    snapshot = dict(emails)
    refused = decide(emails, command)  # type: ignore[arg-type]
    assert isinstance(refused, Refused)
    assert refused.code is shipped
    monkeypatch.setattr(decider_module, "_run", decider_module._pipeline(_reordered(first, before)))
    refused = decide(emails, command)  # type: ignore[arg-type]
    assert isinstance(refused, Refused)
    assert refused.code is then
    assert emails == snapshot


def test_rules_placed_before_phase_still_refuse_a_missing_row_with_2(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    order = _reordered(CheckStep.RULES, CheckStep.HOLDER)
    monkeypatch.setattr(decider_module, "_run", decider_module._pipeline(order))
    refused = decide(_processing(), Accept(actor="a", email_id="E1"))
    assert isinstance(refused, Refused)
    assert refused.code is StatusCode.INVALID_STATE


def test_checks_must_name_every_step_once() -> None:
    with pytest.raises(TableError, match="CHECKS must name every step once"):
        decider_module._pipeline(CHECKS[:-1])
    with pytest.raises(TableError, match="CHECKS must name every step once"):
        decider_module._pipeline((*CHECKS, CHECKS[0]))
