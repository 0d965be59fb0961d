"""The lifecycle table: definition-time checks and what is derived from it."""

from __future__ import annotations

import pytest
from builders import COMPOSING_CAPS, PROCESSING_CAPS

from email_fsm import ADVERTISED, ALLOWED, ROWS, TABLE, Operation, Phase, SystemEvent
from email_fsm.table import Actor, Branch, Edge, Notice, Recipient, Row, TableError, check_table
from email_fsm.vocabulary import NotificationType, ViewState


def test_capability_lists_are_gws_lists_in_gws_order() -> None:
    assert [str(op) for op in ADVERTISED[Phase.INVITED]] == ["Accept", "Reject"]
    assert [str(op) for op in ADVERTISED[Phase.PROCESSING]] == PROCESSING_CAPS
    assert [str(op) for op in ADVERTISED[Phase.COMPOSING]] == COMPOSING_CAPS
    for phase in (Phase.QUEUED, Phase.COMPLETED, Phase.SENT, Phase.CANCELED):
        assert ADVERTISED[phase] == ()


def test_allowed_adds_the_unadvertised_draft_operations() -> None:
    extra = set(ALLOWED[Phase.COMPOSING]) - set(ADVERTISED[Phase.COMPOSING])
    assert extra == {Operation.SAVE, Operation.ADD_ATTACHMENT, Operation.REMOVE_ATTACHMENT}
    assert ALLOWED[Phase.PROCESSING] == ADVERTISED[Phase.PROCESSING]
    assert ALLOWED[Phase.INVITED] == ADVERTISED[Phase.INVITED]


def test_every_operation_and_system_event_has_a_row() -> None:
    triggers = {row.trigger for row in TABLE}
    assert triggers == set(Operation) | set(SystemEvent)


def test_index_covers_every_row() -> None:
    assert len(ROWS) == len(TABLE)
    assert all(ROWS[(row.source, row.trigger)] is row for row in TABLE)


def test_phase_changes_match_spec() -> None:
    accept = ROWS[(Phase.INVITED, Operation.ACCEPT)]
    assert accept.target(Branch.INBOUND) is Phase.PROCESSING
    assert accept.target(Branch.OUTBOUND) is Phase.COMPOSING
    transfer = ROWS[(Phase.COMPOSING, Operation.TRANSFER)]
    assert transfer.target(Branch.TO_AGENT) is Phase.INVITED
    assert transfer.target(Branch.TO_QUEUE) is Phase.QUEUED
    complete = ROWS[(Phase.PROCESSING, Operation.COMPLETE)]
    assert complete.target(Branch.FINISHED) is Phase.COMPLETED
    assert complete.target(Branch.TO_QUEUE) is Phase.QUEUED
    assert ROWS[(Phase.PROCESSING, Operation.REPLY)].creates is Phase.COMPOSING
    assert ROWS[(None, Operation.CREATE)].target(Branch.ALWAYS) is Phase.COMPOSING
    assert ROWS[(None, SystemEvent.ARRIVE)].target(Branch.ALWAYS) is Phase.QUEUED


def test_target_on_a_missing_branch_is_a_table_error() -> None:
    with pytest.raises(TableError, match="no edge"):
        ROWS[(Phase.QUEUED, SystemEvent.OFFER)].target(Branch.TO_QUEUE)


def _row(source: Phase | None, trigger: Operation | SystemEvent, *targets: Phase) -> Row:
    return Row(source, trigger, Actor.OWNER, tuple(Edge(t) for t in targets))


def _minimal_table() -> list[Row]:
    return [
        Row(None, SystemEvent.ARRIVE, Actor.SYSTEM, (Edge(Phase.QUEUED),)),
        Row(Phase.QUEUED, SystemEvent.OFFER, Actor.SYSTEM, (Edge(Phase.INVITED),)),
        Row(Phase.INVITED, Operation.ACCEPT, Actor.INVITEE, (Edge(Phase.PROCESSING),)),
        Row(None, Operation.CREATE, Actor.ANY_AGENT, (Edge(Phase.COMPOSING),)),
        _row(Phase.PROCESSING, Operation.COMPLETE, Phase.COMPLETED),
        _row(Phase.COMPOSING, Operation.SEND, Phase.SENT),
        _row(Phase.COMPOSING, Operation.CANCEL, Phase.CANCELED),
    ]


def test_a_well_formed_table_passes() -> None:
    assert len(check_table(_minimal_table())) == 7


def test_duplicate_rows_are_refused() -> None:
    rows = [*_minimal_table(), _row(Phase.COMPOSING, Operation.SEND, Phase.SENT)]
    with pytest.raises(TableError, match="two rows for Send from Composing"):
        check_table(rows)


def test_unreachable_phase_is_refused() -> None:
    rows = [r for r in _minimal_table() if r.trigger is not Operation.CANCEL]
    with pytest.raises(TableError, match=r"unreachable phases: \['Canceled'\]"):
        check_table(rows)


def test_phases_reached_only_through_creation_are_reachable() -> None:
    # Without Arrive and Create, drafts still come from Reply's `creates`, and every
    # phase is reachable from there (the reachability check ignores directions).
    no_origin = {SystemEvent.ARRIVE, Operation.CREATE}
    created_only = [row for row in TABLE if row.trigger not in no_origin]
    assert len(check_table(created_only)) == len(created_only)
    # Without any way to create an email, nothing is reachable.
    creating = [row for row in created_only if row.creates is None]
    with pytest.raises(TableError, match="unreachable phases"):
        check_table(creating)


def test_trap_phase_is_refused() -> None:
    rows = [r for r in _minimal_table() if r.trigger is not Operation.COMPLETE]
    rows.append(_row(Phase.PROCESSING, Operation.ADD_COMMENT, Phase.PROCESSING))
    rows.append(_row(Phase.COMPOSING, Operation.SAVE, Phase.COMPLETED))
    with pytest.raises(
        TableError, match=r"cannot reach a terminal phase: \['Queued', 'Invited', 'Processing'\]"
    ):
        check_table(rows)


def test_rows_leaving_a_terminal_phase_are_refused() -> None:
    rows = [*_minimal_table(), _row(Phase.SENT, Operation.CANCEL, Phase.CANCELED)]
    with pytest.raises(TableError, match="leaves terminal phase"):
        check_table(rows)


def test_row_without_edges_is_refused() -> None:
    rows = [*_minimal_table(), Row(Phase.PROCESSING, Operation.REPLY, Actor.OWNER, ())]
    with pytest.raises(TableError, match="has no edge"):
        check_table(rows)


def test_repeated_branch_is_refused() -> None:
    row = Row(
        Phase.PROCESSING,
        Operation.TRANSFER,
        Actor.OWNER,
        (Edge(Phase.QUEUED, Branch.TO_QUEUE), Edge(Phase.INVITED, Branch.TO_QUEUE)),
    )
    with pytest.raises(TableError, match="repeats a branch"):
        check_table([*_minimal_table(), row])


def test_notice_on_unknown_branch_is_refused() -> None:
    row = Row(
        Phase.PROCESSING,
        Operation.TRANSFER,
        Actor.OWNER,
        (Edge(Phase.QUEUED, Branch.TO_QUEUE),),
        (Notice(Recipient.TARGET, NotificationType.STATUS_CHANGE, None, Branch.TO_AGENT),),
    )
    with pytest.raises(TableError, match="unknown branch"):
        check_table([*_minimal_table(), row])


def test_advertised_system_row_is_refused() -> None:
    rows = _minimal_table()
    rows[1] = Row(
        Phase.QUEUED, SystemEvent.OFFER, Actor.SYSTEM, (Edge(Phase.INVITED),), advertised=True
    )
    with pytest.raises(TableError, match="only a holder's rows are advertised"):
        check_table(rows)


def test_terminal_views_are_the_ones_notified_minimal() -> None:
    views = {n.view for row in TABLE for n in row.notices if n.view is not None}
    assert views == {
        ViewState.TRANSFERRED,
        ViewState.COMPLETED,
        ViewState.CANCELED,
        ViewState.SENT,
        ViewState.REVOKED,
    }
