"""Graph coverage: from the lifecycle table, the shortest history that takes every row
(every edge of every row, in fact) and that meets every refusal code, run as tests.

The targets are computed from :data:`email_fsm.table.TABLE` and :class:`StatusCode`, not
written down: a row added to the table without a way to reach it here makes its test
fail. The paths come from a breadth-first search over real model states, as XState's
path generation does over its machines: start from no email, try every command of a
small alphabet (:func:`alphabet`: one or two concrete commands per trigger, aimed at the
email the path is about), keep the first path that reaches each target.

Limits are set small (two userData keys, one attachment) so that the limit rules are
reachable in a few steps.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import pytest

from email_fsm import (
    Accept,
    Accepted,
    AddAttachment,
    AddComment,
    Arrive,
    AttachUserData,
    Cancel,
    Command,
    Complete,
    Config,
    Create,
    DeleteUserData,
    Email,
    EmailFields,
    Limits,
    Offer,
    Operation,
    Phase,
    Refused,
    Reject,
    RemoveAttachment,
    Reply,
    ReplyAll,
    Revoke,
    Save,
    Send,
    SetDisposition,
    SetInFocus,
    StatusCode,
    SystemEvent,
    Transfer,
    Trigger,
    UpdateUserData,
    decide,
)
from email_fsm.table import TABLE, Row, Rule

CONFIG = Config(limits=Limits(max_user_data_keys=2, max_attachments=1))
E = "E1"  # the email every path is about
OTHER = "R1"  # the id a path's Reply creates
AGENTS = ("a", "b")

Emails = Mapping[str, Email]


def _holder(emails: Emails) -> str:
    email = emails.get(E)
    return (email.holder if email is not None else None) or "a"


# One or two concrete commands per trigger. A trigger missing here is a KeyError below.
COMMANDS: Mapping[Trigger, Callable[[Emails, str], list[Command]]] = {
    SystemEvent.ARRIVE: lambda m, h: [Arrive(email_id=E, queue="inbound", to=("s@x",))],
    SystemEvent.OFFER: lambda m, h: [Offer(email_id=E, agent="a")],
    SystemEvent.REVOKE: lambda m, h: [Revoke(email_id=E)],
    Operation.CREATE: lambda m, h: [Create(actor="a", email_id=E)],
    Operation.ACCEPT: lambda m, h: [Accept(actor=h, email_id=E), Accept(actor="b", email_id=E)],
    Operation.REJECT: lambda m, h: [Reject(actor=h, email_id=E)],
    Operation.TRANSFER: lambda m, h: [
        Transfer(actor=h, email_id=E, agent="b" if h == "a" else "a"),
        Transfer(actor=h, email_id=E, queue="vip"),
        Transfer(actor=h, email_id=E, agent=h),
        Transfer(actor=h, email_id=E, agent="a", queue="vip"),
    ],
    Operation.COMPLETE: lambda m, h: [
        Complete(actor=h, email_id=E),
        Complete(actor=h, email_id=E, queue="vip"),
    ],
    Operation.REPLY: lambda m, h: [
        Reply(actor=h, email_id=E, new_email_id=OTHER),
        Reply(actor=h, email_id=E, new_email_id=OTHER, user_data={"x": 1, "y": 2}),
    ],
    Operation.REPLY_ALL: lambda m, h: [ReplyAll(actor=h, email_id=E, new_email_id=OTHER)],
    Operation.SAVE: lambda m, h: [Save(actor=h, email_id=E, fields=EmailFields(to=("c@x",)))],
    Operation.SEND: lambda m, h: [Send(actor=h, email_id=E, queue="out")],
    Operation.CANCEL: lambda m, h: [Cancel(actor=h, email_id=E)],
    Operation.ADD_ATTACHMENT: lambda m, h: [
        AddAttachment(actor=h, email_id=E, document_id="d1"),
        AddAttachment(actor=h, email_id=E, document_id="d2"),
    ],
    Operation.REMOVE_ATTACHMENT: lambda m, h: [
        RemoveAttachment(actor=h, email_id=E, document_id="d1")
    ],
    Operation.ATTACH_USER_DATA: lambda m, h: [
        AttachUserData(actor=h, email_id=E, user_data={"k1": 1}),
        AttachUserData(actor=h, email_id=E, user_data={"k2": 2}),
    ],
    Operation.UPDATE_USER_DATA: lambda m, h: [
        UpdateUserData(actor=h, email_id=E, user_data={"k3": 3}),
        UpdateUserData(actor=h, email_id=E, user_data={"": 3}),
    ],
    Operation.DELETE_USER_DATA: lambda m, h: [DeleteUserData(actor=h, email_id=E, keys=("k1",))],
    Operation.SET_DISPOSITION: lambda m, h: [
        SetDisposition(actor=h, email_id=E, disposition="Done")
    ],
    Operation.ADD_COMMENT: lambda m, h: [
        AddComment(actor=h, email_id=E, comment="note"),
        AddComment(actor=h, email_id="nowhere", comment="note"),
    ],
    Operation.SET_IN_FOCUS: lambda m, h: [SetInFocus(actor=h, email_id=E)],
}


def alphabet(emails: Emails) -> Iterator[Command]:
    """Every command tried from ``emails``, in table order (so paths are stable)."""
    holder = _holder(emails)
    seen: set[Trigger] = set()
    for row in TABLE:
        if row.trigger not in seen:
            seen.add(row.trigger)
            yield from COMMANDS[row.trigger](emails, holder)


def _key(emails: Emails) -> tuple[object, ...]:
    """What distinguishes two states for the search."""
    return tuple(
        (
            e.id,
            e.phase,
            e.direction,
            e.owner,
            e.invitee,
            len(e.user_data),
            len(e.attachments),
            bool(e.content.to),
        )
        for e in sorted(emails.values(), key=lambda e: e.id)
    )


@dataclass(frozen=True)
class Path:
    """A history: the commands, all accepted but possibly the last."""

    commands: tuple[Command, ...]


def edge_of(before: Emails, command: Command, decision: Accepted) -> tuple[Row, Phase]:
    """The table row and target phase an accepted ``command`` took."""
    source = before[command.email_id].phase if command.email_id in before else None
    after = {**before, **{e.id: e for e in decision.emails}}[command.email_id]
    row = next(r for r in TABLE if r.source is source and r.trigger is command.operation)
    return row, after.phase


def search(max_depth: int = 9) -> tuple[dict[tuple[Row, Phase], Path], dict[StatusCode, Path]]:
    """Breadth-first: the first (so shortest) path to every edge and refusal code."""
    edges: dict[tuple[Row, Phase], Path] = {}
    codes: dict[StatusCode, Path] = {}
    start: dict[str, Email] = {}
    todo: deque[tuple[dict[str, Email], tuple[Command, ...]]] = deque([(start, ())])
    seen = {_key(start)}
    while todo:
        emails, history = todo.popleft()
        if len(history) >= max_depth:
            continue
        for command in alphabet(emails):
            decision = decide(emails, command, config=CONFIG)
            path = Path((*history, command))
            if isinstance(decision, Refused):
                codes.setdefault(decision.code, path)
                continue
            edges.setdefault(edge_of(emails, command, decision), path)
            after = {**emails, **{e.id: e for e in decision.emails}}
            if _key(after) not in seen:
                seen.add(_key(after))
                todo.append((after, path.commands))
    return edges, codes


EDGES, CODES = search()
ALL_EDGES = [(row, edge.target) for row in TABLE for edge in row.edges]
ALL_CODES = [code for code in StatusCode if code is not StatusCode.OK]


def _name(row: Row, target: Phase) -> str:
    return f"{row.source or 'new'}-{row.trigger}-{target}"


def run(path: Path) -> tuple[dict[str, Email], Accepted | Refused]:
    """Replay a path; every step but the last must be accepted."""
    emails: dict[str, Email] = {}
    *prefix, last = path.commands
    for command in prefix:
        decision = decide(emails, command, config=CONFIG)
        assert isinstance(decision, Accepted), (command, decision)
        emails.update((e.id, e) for e in decision.emails)
    return emails, decide(emails, last, config=CONFIG)


# What every edge notifies (docs/spec.md, Operations and System events): (recipient,
# notificationType, state), where the recipient is the actor, the transfer target or the
# former invitee, and state None means "the phase the recipient now holds the email in".
ACTOR, TARGET, FORMER = "actor", "target", "former invitee"
NOTIFIES: Mapping[tuple[Trigger, Phase], list[tuple[str, str, str | None]]] = {
    (SystemEvent.ARRIVE, Phase.QUEUED): [],
    (Operation.CREATE, Phase.COMPOSING): [(ACTOR, "StatusChange", None)],
    (SystemEvent.OFFER, Phase.INVITED): [(TARGET, "StatusChange", None)],
    (Operation.ACCEPT, Phase.PROCESSING): [(ACTOR, "StatusChange", None)],
    (Operation.ACCEPT, Phase.COMPOSING): [(ACTOR, "StatusChange", None)],
    (Operation.REJECT, Phase.QUEUED): [(ACTOR, "StatusChange", "Completed")],
    (SystemEvent.REVOKE, Phase.QUEUED): [(FORMER, "StatusChange", "Revoked")],
    (Operation.TRANSFER, Phase.INVITED): [
        (ACTOR, "StatusChange", "Completed"),
        (TARGET, "StatusChange", None),
    ],
    (Operation.TRANSFER, Phase.QUEUED): [(ACTOR, "StatusChange", "Completed")],
    (Operation.COMPLETE, Phase.COMPLETED): [(ACTOR, "StatusChange", "Completed")],
    (Operation.COMPLETE, Phase.QUEUED): [(ACTOR, "StatusChange", "Completed")],
    (Operation.REPLY, Phase.PROCESSING): [(ACTOR, "StatusChange", "Composing")],
    (Operation.REPLY_ALL, Phase.PROCESSING): [(ACTOR, "StatusChange", "Composing")],
    (Operation.SAVE, Phase.COMPOSING): [(ACTOR, "EmailSaved", None)],
    (Operation.SEND, Phase.SENT): [(ACTOR, "StatusChange", "Sent")],
    (Operation.CANCEL, Phase.CANCELED): [(ACTOR, "StatusChange", "Canceled")],
    (Operation.ADD_ATTACHMENT, Phase.COMPOSING): [(ACTOR, "AttachmentAdded", None)],
    (Operation.REMOVE_ATTACHMENT, Phase.COMPOSING): [(ACTOR, "AttachmentRemoved", None)],
    (Operation.SET_IN_FOCUS, Phase.PROCESSING): [],
    (Operation.SET_IN_FOCUS, Phase.COMPOSING): [],
}
for _operation in (
    Operation.ADD_COMMENT,
    Operation.ATTACH_USER_DATA,
    Operation.UPDATE_USER_DATA,
    Operation.DELETE_USER_DATA,
    Operation.SET_DISPOSITION,
):
    for _phase in (Phase.PROCESSING, Phase.COMPOSING):
        NOTIFIES = {**NOTIFIES, (_operation, _phase): [(ACTOR, "PropertiesUpdated", None)]}


# Which rows name which operation-specific rules (docs/spec.md, Operations and Refusals):
# the rules are enforced in code, and the row names them so the diagrams show them.
_LIMITED = (Operation.ATTACH_USER_DATA, Operation.UPDATE_USER_DATA, Operation.SET_DISPOSITION)
RULES: Mapping[tuple[Phase | None, Trigger], tuple[Rule, ...]] = {
    (Phase.PROCESSING, Operation.REPLY): (Rule.USER_DATA_LIMIT,),
    (Phase.PROCESSING, Operation.REPLY_ALL): (Rule.USER_DATA_LIMIT,),
    (Phase.PROCESSING, Operation.TRANSFER): (Rule.NOT_TO_SELF,),
    (Phase.COMPOSING, Operation.TRANSFER): (Rule.NOT_TO_SELF,),
    (Phase.COMPOSING, Operation.SEND): (Rule.HAS_RECIPIENT,),
    (Phase.COMPOSING, Operation.ADD_ATTACHMENT): (Rule.ATTACHMENT_IS_NEW, Rule.ATTACHMENT_LIMIT),
    (Phase.COMPOSING, Operation.REMOVE_ATTACHMENT): (Rule.ATTACHMENT_EXISTS,),
    **{
        (p, o): (Rule.USER_DATA_LIMIT,)
        for p in (Phase.PROCESSING, Phase.COMPOSING)
        for o in _LIMITED
    },
}


def _recipient_role(command: Command, recipient: str, before: Emails) -> str:
    if recipient == getattr(command, "actor", None):
        return ACTOR
    if recipient == getattr(command, "agent", None):
        return TARGET
    former = before.get(command.email_id)
    assert former is not None
    assert recipient == former.invitee
    return FORMER


def test_every_path_notifies_and_advertises_as_specified() -> None:
    # Written first on purpose: it checks the whole table's behaviour in one test (a
    # mutation tool that maps code run at import time to the first test gets it here).
    from builders import COMPOSING_CAPS, PROCESSING_CAPS

    capabilities = {
        Phase.INVITED: ["Accept", "Reject"],
        Phase.PROCESSING: PROCESSING_CAPS,
        Phase.COMPOSING: COMPOSING_CAPS,
    }
    assert set(EDGES) == set(ALL_EDGES)
    assert set(CODES) == set(ALL_CODES)
    assert {(r.source, r.trigger): r.rules for r in TABLE if r.rules} == RULES
    for (row, target), path in EDGES.items():
        emails, decision = run(path)
        assert isinstance(decision, Accepted)
        command = path.commands[-1]
        got = []
        for note in decision.notifications:
            role = _recipient_role(command, note.recipient, emails)
            data = note.to_dict()["data"]
            got.append((role, data["notificationType"], data["email"]["state"]))
            held = note.recipient == note.email.holder
            expected_caps = capabilities.get(note.email.phase, []) if held else []
            assert data["email"]["capabilities"] == expected_caps, (row, note)
        expected = [
            (role, kind, state or str(target if role != ACTOR else _held_phase(decision)))
            for role, kind, state in NOTIFIES[(row.trigger, target)]
        ]
        assert got == expected, (row, target)


def _held_phase(decision: Accepted) -> Phase:
    """The phase of the email the actor's notification is about (Reply: the new one)."""
    return decision.emails[-1].phase


@pytest.mark.parametrize(("row", "target"), ALL_EDGES, ids=[_name(*e) for e in ALL_EDGES])
def test_every_edge_of_every_row_is_taken(row: Row, target: Phase) -> None:
    path = EDGES.get((row, target))
    assert path is not None, f"no path takes {_name(row, target)}: extend COMMANDS"
    emails, decision = run(path)
    assert isinstance(decision, Accepted)
    assert edge_of(emails, path.commands[-1], decision) == (row, target)


@pytest.mark.parametrize("code", ALL_CODES, ids=[c.name for c in ALL_CODES])
def test_every_refusal_code_is_met(code: StatusCode) -> None:
    path = CODES.get(code)
    assert path is not None, f"no path meets refusal {code!r}"
    emails, decision = run(path)
    assert isinstance(decision, Refused)
    assert decision.code is code
    again, _ = run(Path((*path.commands[:-1], SetInFocus(actor="nobody", email_id=E))))
    assert again == emails  # the refused step changed nothing


def test_coverage_is_complete_and_computed_from_the_table() -> None:
    assert set(EDGES) == set(ALL_EDGES)
    assert {(row.source, row.trigger) for row, _ in EDGES} == {(r.source, r.trigger) for r in TABLE}
    assert set(CODES) == set(ALL_CODES)


def test_paths_are_shortest_and_short() -> None:
    # Breadth-first order makes each path a shortest one within the alphabet; none is long.
    assert max(len(p.commands) for p in EDGES.values()) <= 7
    lengths = {_name(*edge): len(EDGES[edge].commands) for edge in ALL_EDGES}
    assert lengths[_name(TABLE[0], Phase.QUEUED)] == 1  # Arrive
    assert all(lengths[name] >= 2 for name in lengths if not name.startswith("new"))


RULE_REFUSALS: dict[Rule, Command] = {
    Rule.NOT_TO_SELF: Transfer(actor="a", email_id=E, agent="a"),
    Rule.ATTACHMENT_IS_NEW: AddAttachment(actor="a", email_id=E, document_id="d1"),
    Rule.ATTACHMENT_EXISTS: RemoveAttachment(actor="a", email_id=E, document_id="d9"),
    Rule.HAS_RECIPIENT: Send(actor="a", email_id=E, queue="out"),
}


def test_every_rule_refuses_with_its_code() -> None:
    from email_fsm.table import RULE_CODES

    draft = decide({}, Create(actor="a", email_id=E), config=CONFIG)
    assert isinstance(draft, Accepted)
    emails = {E: draft.emails[0]}
    with_doc = decide(emails, AddAttachment(actor="a", email_id=E, document_id="d1"))
    assert isinstance(with_doc, Accepted)
    emails = {E: with_doc.emails[0]}
    for rule, command in RULE_REFUSALS.items():
        decision = decide(emails, command, config=CONFIG)
        assert isinstance(decision, Refused)
        assert decision.code is RULE_CODES[rule], rule
    over_keys = AttachUserData(actor="a", email_id=E, user_data={"k1": 1, "k2": 2, "k3": 3})
    full = decide(emails, AttachUserData(actor="a", email_id=E, user_data={"k1": 1, "k2": 2}))
    assert isinstance(full, Accepted)
    refused = decide({E: full.emails[0]}, over_keys, config=CONFIG)
    assert isinstance(refused, Refused)
    assert refused.code is StatusCode.INVALID_VALUE
    more = decide(emails, AddAttachment(actor="a", email_id=E, document_id="d2"), config=CONFIG)
    assert isinstance(more, Refused)
    assert more.code is RULE_CODES[Rule.ATTACHMENT_LIMIT]
