"""The lifecycle table: definition-time checks and what is derived from it."""

from __future__ import annotations

import pytest
from builders import COMPOSING_CAPS, PROCESSING_CAPS

from email_fsm import (
    ADVERTISED,
    ALLOWED,
    ROWS,
    TABLE,
    Accept,
    Arrive,
    Cancel,
    Command,
    Complete,
    ContactCenter,
    Notification,
    Offer,
    Operation,
    Phase,
    Reject,
    Reply,
    Revoke,
    Send,
    SystemEvent,
    Transfer,
)
from email_fsm.table import Actor, Branch, Edge, Notice, Recipient, Row, TableError, check_table
from email_fsm.vocabulary import TERMINAL_VIEW_STATES, NotificationType, ViewState


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


def test_the_table_names_a_view_only_where_the_email_leaves_the_agent() -> None:
    # The holder sees the phase; a notice names its own view state only for an agent
    # the email leaves: Completed after they complete, reject or transfer it, Revoked
    # when the system withdraws their invitation, Sent and Canceled for a draft.
    named = {
        (row.source, row.trigger, notice.recipient): notice.view
        for row in TABLE
        for notice in row.notices
        if notice.view is not None
    }
    assert named == {
        (Phase.INVITED, Operation.REJECT, Recipient.ACTOR): ViewState.COMPLETED,
        (Phase.INVITED, SystemEvent.REVOKE, Recipient.FORMER_INVITEE): ViewState.REVOKED,
        (Phase.PROCESSING, Operation.TRANSFER, Recipient.ACTOR): ViewState.COMPLETED,
        (Phase.PROCESSING, Operation.COMPLETE, Recipient.ACTOR): ViewState.COMPLETED,
        (Phase.COMPOSING, Operation.CANCEL, Recipient.ACTOR): ViewState.CANCELED,
        (Phase.COMPOSING, Operation.SEND, Recipient.ACTOR): ViewState.SENT,
        (Phase.COMPOSING, Operation.TRANSFER, Recipient.ACTOR): ViewState.COMPLETED,
    }
    assert set(named.values()) == TERMINAL_VIEW_STATES


def test_terminal_views_carry_no_capabilities_and_the_whole_email() -> None:
    center = ContactCenter()
    told: list[Notification] = []

    def run(command: Command) -> None:
        decision = center.execute(command)
        assert decision.accepted, decision
        told.extend(decision.notifications)

    run(Arrive(email_id="E1", queue="q", from_="c@x.test", to=("s@x.test",), subject="Hi"))
    for command in (
        Offer(email_id="E1", agent="a"),
        Reject(actor="a", email_id="E1"),  # a: Completed
        Offer(email_id="E1", agent="a"),
        Revoke(email_id="E1"),  # a: Revoked
        Offer(email_id="E1", agent="a"),
        Accept(actor="a", email_id="E1"),
        Transfer(actor="a", email_id="E1", agent="b"),  # a: Completed; b: Invited
        Accept(actor="b", email_id="E1"),
        Reply(actor="b", email_id="E1", new_email_id="R1"),
        Send(actor="b", email_id="R1", queue="out"),  # b: Sent
        Reply(actor="b", email_id="E1", new_email_id="R2"),
        Cancel(actor="b", email_id="R2"),  # b: Canceled
        Complete(actor="b", email_id="E1"),  # b: Completed
    ):
        run(command)
    terminal = [
        (n.recipient, n.email.id, str(n.state)) for n in told if n.state in TERMINAL_VIEW_STATES
    ]
    assert terminal == [
        ("a", "E1", "Completed"),
        ("a", "E1", "Revoked"),
        ("a", "E1", "Completed"),
        ("b", "R1", "Sent"),
        ("b", "R2", "Canceled"),
        ("b", "E1", "Completed"),
    ]
    rendered = [n.to_dict()["data"]["email"] for n in told]
    # The email's content, as the first notification about it showed it.
    content: dict[str, dict[str, object]] = {}
    for notification, email in zip(told, rendered, strict=True):
        rest = {k: v for k, v in email.items() if k not in ("state", "capabilities")}
        content.setdefault(notification.email.id, rest)
        if notification.state in TERMINAL_VIEW_STATES:
            assert notification.capabilities == ()
            assert email["capabilities"] == []
            assert rest == content[notification.email.id]
        else:
            assert notification.capabilities != ()
    assert content["E1"] == {
        "id": "E1",
        "uri": "http://localhost:8080/api/v2/me/emails/E1",
        "from": "c@x.test",
        "to": ["s@x.test"],
        "subject": "Hi",
        "revelantResponseTemplateGroups": [],
    }
    assert content["R1"]["to"] == ["c@x.test"]
    assert content["R2"]["subject"] == "Re: Hi"
