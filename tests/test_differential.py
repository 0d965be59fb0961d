"""Differential testing: the decider against an independent engine, ``transitions``.

A ``transitions.Machine`` is built from the lifecycle table (:func:`build_machine`): one
state per phase plus ``Absent`` (no email yet), one transition per edge of every row,
``auto_transitions=False``; the edge's branch and the row's rules become the
transition's ``conditions``, in that order, and a failing rule condition records its
status code. Who holds an email, its queue and the few facts the rules read are kept on
the oracle's models by hand-written ``after`` callbacks (:data:`EFFECTS`), written from
docs/spec.md, not from the decider. Hypothesis then runs the same random histories of
typed commands through both and checks, after every step, that they agree on
accept/refuse, on the refusal code, and on every email's phase, owner, invitee and queue.

The oracle's limits, honestly:

- It reads the same TABLE. A wrong row (a wrong target, a missing rule) is wrong in
  both and goes unnoticed here; the tests written from docs/spec.md catch those. What
  this test checks is the *interpretation* of the table: the decider's lookups, branch
  choice, rule order, holder check and effects against a second interpreter.
- The order of the checks (docs/spec.md, Refusals) lives in the adapter
  (:meth:`Oracle.decide`): the existence checks (6, 18) and the holder check (3) come
  before triggering, because a ``transitions`` machine has no notion of an email store
  or of an actor. A trigger with no transition from the current state (a
  ``MachineError``) stands for 2.
- Request shape (codes 1 and 10 for missing, empty, contradictory or oversized values)
  is not modelled: the histories only hold well-formed commands. Parsing GWS bodies is
  fuzzed and tested elsewhere.
- Content, notifications, capabilities and policies are not compared; the oracle
  tracks only the facts the rules need (attachment ids, userData keys, whether the
  email has a recipient, a sender, a contact id).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from transitions import Machine, MachineError

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
    Direction,
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
from email_fsm.table import RULE_CODES, TABLE, Branch, Rule

CONFIG = Config(limits=Limits(max_user_data_keys=2, max_attachments=2))
LIMITS = CONFIG.limits
ABSENT = "Absent"


@dataclass(eq=False)
class OracleEmail:
    """An email as the oracle knows it; ``state`` is the machine's."""

    direction: Direction = Direction.INBOUND
    owner: str | None = None
    invitee: str | None = None
    queue: str | None = None
    attachments: set[str] = field(default_factory=set)
    keys: set[str] = field(default_factory=set)
    has_to: bool = False
    has_from: bool = False
    has_contact: bool = False
    refusal: StatusCode | None = None
    state: str = ABSENT


def _command(event: Any) -> Any:
    return event.kwargs["command"]


def _branch_condition(branch: Branch) -> Callable[[Any], bool]:
    def holds(event: Any) -> bool:
        c, email = _command(event), event.model
        match branch:
            case Branch.ALWAYS:
                return True
            case Branch.INBOUND:
                return bool(email.direction is Direction.INBOUND)
            case Branch.OUTBOUND:
                return bool(email.direction is Direction.OUTBOUND)
            case Branch.TO_AGENT:
                return c.agent is not None
            case Branch.TO_QUEUE:
                return c.queue is not None
            case Branch.FINISHED:
                return c.queue is None
        raise AssertionError(branch)

    return holds


def _new_keys(c: Any, email: OracleEmail) -> set[str]:
    """The userData keys the email (or the reply it creates) would have after ``c``."""
    if isinstance(c, Reply | ReplyAll):
        return ({"ContactId"} if email.has_contact else set()) | set(c.user_data)
    if isinstance(c, AttachUserData | UpdateUserData):
        return email.keys | set(c.user_data)
    if isinstance(c, SetDisposition):
        return email.keys | {c.key or CONFIG.disposition_key}
    if isinstance(c, Arrive | Create):
        return set(c.user_data)
    return email.keys


def _rule_holds(rule: Rule, c: Any, email: OracleEmail) -> bool:
    match rule:
        case Rule.NOT_TO_SELF:
            return bool(c.agent != c.actor)
        case Rule.ATTACHMENT_IS_NEW:
            return c.document_id not in email.attachments
        case Rule.ATTACHMENT_EXISTS:
            return c.document_id in email.attachments
        case Rule.ATTACHMENT_LIMIT:
            return len(email.attachments) < LIMITS.max_attachments
        case Rule.USER_DATA_LIMIT:
            return len(_new_keys(c, email)) <= LIMITS.max_user_data_keys
        case Rule.HAS_RECIPIENT:
            to = None if c.fields is None else c.fields.to
            return bool(to) if to is not None else email.has_to
    raise AssertionError(rule)


def _rule_condition(rule: Rule) -> Callable[[Any], bool]:
    def holds(event: Any) -> bool:
        if _rule_holds(rule, _command(event), event.model):
            return True
        event.model.refusal = RULE_CODES[rule]
        return False

    return holds


def _arrive(m: OracleEmail, c: Arrive) -> None:
    m.direction, m.queue, m.keys = Direction.INBOUND, c.queue, set(c.user_data)
    m.has_to, m.has_from, m.has_contact = bool(c.to), c.from_ is not None, bool(c.contact_id)


def _create(m: OracleEmail, c: Create) -> None:
    m.direction, m.owner, m.keys = Direction.OUTBOUND, c.actor, set(c.user_data)
    m.queue = c.queue or CONFIG.default_queue


def _transfer(m: OracleEmail, c: Transfer | Complete) -> None:
    m.owner, m.invitee = None, getattr(c, "agent", None)
    m.queue = c.queue or m.queue


def _accept(m: OracleEmail, c: Accept) -> None:
    m.owner, m.invitee = c.actor, None


def _save(m: OracleEmail, c: Save | Send) -> None:
    if c.fields is not None and c.fields.to is not None:
        m.has_to = bool(c.fields.to)


def _send(m: OracleEmail, c: Send) -> None:
    _save(m, c)
    m.owner, m.queue = None, c.queue


# What each trigger does to the facts the oracle keeps, written from docs/spec.md,
# Operations and System events.
EFFECTS: Mapping[Trigger, Callable[[OracleEmail, Any], None]] = {
    SystemEvent.ARRIVE: _arrive,
    SystemEvent.OFFER: lambda m, c: setattr(m, "invitee", c.agent),
    SystemEvent.REVOKE: lambda m, c: setattr(m, "invitee", None),
    Operation.CREATE: _create,
    Operation.ACCEPT: _accept,
    Operation.REJECT: lambda m, c: setattr(m, "invitee", None),
    Operation.TRANSFER: _transfer,
    Operation.COMPLETE: _transfer,
    Operation.REPLY: lambda m, c: None,  # the new email is the adapter's business
    Operation.REPLY_ALL: lambda m, c: None,
    Operation.SAVE: _save,
    Operation.SEND: _send,
    Operation.CANCEL: lambda m, c: setattr(m, "owner", None),
    Operation.ADD_ATTACHMENT: lambda m, c: m.attachments.add(c.document_id),
    Operation.REMOVE_ATTACHMENT: lambda m, c: m.attachments.discard(c.document_id),
    Operation.ATTACH_USER_DATA: lambda m, c: m.keys.update(c.user_data),
    Operation.UPDATE_USER_DATA: lambda m, c: m.keys.update(c.user_data),
    Operation.DELETE_USER_DATA: lambda m, c: m.keys.difference_update(c.keys),
    Operation.SET_DISPOSITION: lambda m, c: m.keys.add(c.key or CONFIG.disposition_key),
    Operation.ADD_COMMENT: lambda m, c: None,
    Operation.SET_IN_FOCUS: lambda m, c: None,
}


def _phases() -> set[str]:
    """Every phase the table names, as a source, a target or a created phase."""
    named = {row.source for row in TABLE} | {row.creates for row in TABLE}
    named |= {edge.target for row in TABLE for edge in row.edges}
    return {str(phase) for phase in named if phase is not None}


def build_machine() -> Machine:
    """A ``transitions`` machine from TABLE: states, transitions, guards as conditions."""
    machine = Machine(
        model=None,
        states=[ABSENT, *sorted(_phases())],
        initial=ABSENT,
        auto_transitions=False,
        send_event=True,
        ignore_invalid_triggers=False,
    )
    for row in TABLE:
        for edge in row.edges:
            effect = EFFECTS[row.trigger]
            machine.add_transition(
                str(row.trigger),
                ABSENT if row.source is None else str(row.source),
                str(edge.target),
                conditions=[
                    _branch_condition(edge.branch),
                    *(_rule_condition(rule) for rule in row.rules),
                ],
                after=lambda event, effect=effect: effect(event.model, _command(event)),
            )
    # A Reply's new draft: the row says which phase it is created in.
    for row in TABLE:
        if row.creates is not None:
            machine.add_transition(f"spawn {row.trigger}", ABSENT, str(row.creates))
    return machine


class Oracle:
    """The order of checks of docs/spec.md, Refusals, around the machine."""

    def __init__(self) -> None:
        self.machine = build_machine()
        self.emails: dict[str, OracleEmail] = {}

    def decide(self, c: Command) -> StatusCode:
        """Apply ``c``; return OK or the refusal code."""
        creates = isinstance(c, Arrive | Create)
        if creates == (c.email_id in self.emails):
            return StatusCode.ALREADY_EXISTS if creates else StatusCode.NOT_FOUND
        new_id = getattr(c, "new_email_id", None)
        if new_id is not None and new_id in self.emails:
            return StatusCode.ALREADY_EXISTS
        email = self.emails.get(c.email_id) or OracleEmail()
        actor = getattr(c, "actor", None)
        if not creates and actor is not None and actor != (email.owner or email.invitee):
            return StatusCode.FORBIDDEN
        if creates:
            self.machine.add_model(email, initial=ABSENT)
        email.refusal = None
        try:
            done = email.trigger(str(c.operation), command=c)  # type: ignore[attr-defined]
        except MachineError:
            return StatusCode.INVALID_STATE
        if not done:
            if creates:
                self.machine.remove_model(email)
            assert email.refusal is not None
            return email.refusal
        self.emails[c.email_id] = email
        if isinstance(c, Reply | ReplyAll):
            self._spawn(c, email)
        return StatusCode.OK

    def _spawn(self, c: Reply | ReplyAll, original: OracleEmail) -> None:
        draft = OracleEmail(direction=Direction.OUTBOUND, owner=c.actor)
        draft.queue = c.queue or CONFIG.default_queue
        draft.has_to = original.has_from
        draft.keys = _new_keys(c, original)
        self.machine.add_model(draft, initial=ABSENT)
        assert draft.trigger(f"spawn {c.operation}")  # type: ignore[attr-defined]
        self.emails[c.new_email_id] = draft


# ------------------------------------------------------------------ histories

IDS = ("E1", "E2", "E3")
NEW_IDS = ("R1", "R2")  # what replies create: fresh more often than IDS
AGENTS = ("a", "b", "c")
QUEUES = ("q1", "q2")
KEYS = ("k1", "k2", "k3")
DOCS = ("d1", "d2", "d3")


KINDS = (
    "Arrive", "Create", "Offer", "Revoke", "Accept", "Reject", "TransferToAgent",
    "TransferToQueue", "Complete", "Reply", "ReplyAll", "Save", "Send", "Cancel",
    "AddAttachment", "RemoveAttachment", "AttachUserData", "UpdateUserData",
    "DeleteUserData", "SetDisposition", "AddComment", "SetInFocus",
)  # fmt: skip


FITTING: Mapping[object, tuple[str, ...]] = {
    phase: tuple(
        k for k in KINDS for row in TABLE if row.source is phase and k.startswith(row.trigger)
    )
    for phase in {row.source for row in TABLE} | set(Phase)
}
"""The kinds of command the table has a row for, by phase (``None``: no email yet)."""


@cache
def pick(options: tuple[Any, ...]) -> st.SearchStrategy[Any]:
    """``sampled_from``, built once per tuple of options (building is the slow part)."""
    return st.sampled_from(options)


KEY_LISTS = [st.lists(st.sampled_from(KEYS), min_size=n, max_size=2, unique=True) for n in (0, 1)]


@st.composite
def command_for(draw: st.DrawFn, emails: Mapping[str, Email], step: int = 0) -> Command:
    """A well-formed command about one of a few ids, by the holder two times out of
    three."""
    live = sorted(k for k, e in emails.items() if not e.is_terminal)
    pick_live = draw(st.booleans())
    email_id = draw(pick(tuple(live) if live and pick_live else IDS))
    email = emails.get(email_id)
    holder = email.holder if email is not None else None
    actor = draw(pick(AGENTS))
    if holder is not None and draw(pick((True, True, False))):
        actor = holder
    c: dict[str, Any] = {"actor": actor, "email_id": email_id}

    def user_data(min_size: int = 0) -> dict[str, Any]:
        keys: list[str] = draw(KEY_LISTS[min_size])
        return {key: draw(pick((0, 1, 2, 3))) for key in keys}

    def queue() -> str:
        chosen: str = draw(pick(QUEUES))
        return chosen

    def maybe_queue() -> str | None:
        chosen: str | None = draw(pick((None, *QUEUES)))
        return chosen

    def recipients() -> tuple[str, ...] | None:
        chosen: tuple[str, ...] | None = draw(pick((None, (), ("x@example.com",))))
        return chosen

    # Half the time, a trigger the table has a row for in the email's phase. Hypothesis
    # leans towards the first option: rotating the options with the step number spreads
    # that lean over every kind.
    phase = email.phase if email is not None else None
    kinds = FITTING[phase]
    if not kinds or draw(st.booleans()):
        kinds = KINDS
    turn = step % len(kinds)
    kinds = kinds[turn:] + kinds[:turn]
    match draw(pick(kinds)):
        case "Arrive":
            return Arrive(
                email_id=email_id,
                queue=queue(),
                from_=draw(pick((None, "c@example.com"))),
                to=draw(pick(((), ("s@example.com",)))),
                contact_id=draw(pick((None, "C1"))),
                user_data=user_data(),
            )
        case "Offer":
            return Offer(email_id=email_id, agent=draw(pick(AGENTS)))
        case "Revoke":
            return Revoke(email_id=email_id)
        case "Create":
            return Create(**c, queue=maybe_queue(), user_data=user_data())
        case "Accept":
            return Accept(**c)
        case "Reject":
            return Reject(**c)
        case "TransferToAgent":
            return Transfer(**c, agent=draw(pick(AGENTS)))
        case "TransferToQueue":
            return Transfer(**c, queue=queue())
        case "Complete":
            return Complete(**c, queue=maybe_queue())
        case "Reply" | "ReplyAll" as kind:
            reply = Reply if kind == "Reply" else ReplyAll
            new_id = draw(pick(NEW_IDS + IDS[:1]))
            return reply(**c, new_email_id=new_id, queue=maybe_queue(), user_data=user_data())
        case "Save":
            return Save(**c, fields=EmailFields(subject="s", to=recipients()))
        case "Send":
            fields = draw(st.booleans())
            return Send(**c, queue=queue(), fields=EmailFields(to=recipients()) if fields else None)
        case "Cancel":
            return Cancel(**c)
        case "AddAttachment":
            return AddAttachment(**c, document_id=draw(pick(DOCS)))
        case "RemoveAttachment":
            attached = tuple(a.id for a in email.attachments) if email is not None else ()
            return RemoveAttachment(**c, document_id=draw(pick(attached + DOCS)))
        case "AttachUserData":
            return AttachUserData(**c, user_data=user_data(1))
        case "UpdateUserData":
            return UpdateUserData(**c, user_data=user_data(1))
        case "DeleteUserData":
            return DeleteUserData(**c, keys=tuple(user_data(1)))
        case "SetDisposition":
            return SetDisposition(**c, disposition="Done", key=draw(pick((None, *KEYS))))
        case "AddComment":
            return AddComment(**c, comment="note")
    return SetInFocus(**c)


def _facts(email: Email) -> tuple[str, str | None, str | None, str]:
    return (str(email.phase), email.owner, email.invitee, email.queue)


def _oracle_facts(email: OracleEmail) -> tuple[str, str | None, str | None, str | None]:
    return (email.state, email.owner, email.invitee, email.queue)


# 50 histories in `make test`; the fuzz profile (`make fuzz`) runs 1 in 20 of its count.
@settings(max_examples=max(50, settings().max_examples // 20))
@given(st.data())
def test_decider_and_transitions_agree_on_every_step(data: st.DataObject) -> None:
    oracle = Oracle()
    emails: dict[str, Email] = {}
    for step in range(data.draw(st.integers(1, 40), label="steps")):
        command = data.draw(command_for(emails, step))
        decision = decide(emails, command, config=CONFIG)
        expected = oracle.decide(command)
        if isinstance(decision, Refused):
            assert decision.code is expected, (command, decision)
        else:
            assert expected is StatusCode.OK, (command, expected)
            emails.update((e.id, e) for e in decision.emails)
        assert {k: _facts(e) for k, e in emails.items()} == {
            k: _oracle_facts(e) for k, e in oracle.emails.items()
        }


def test_the_machine_has_one_transition_per_edge_and_no_auto_transitions() -> None:
    machine = build_machine()
    edges = sum(len(row.edges) for row in TABLE)
    spawns = sum(1 for row in TABLE if row.creates is not None)
    found = sum(
        len(transitions)
        for event in machine.events.values()
        for transitions in event.transitions.values()
    )
    assert found == edges + spawns
    assert not any(name.startswith("to_") for name in machine.events)


def test_the_oracle_disagrees_with_a_broken_decision() -> None:
    # The comparison has teeth: a refusal where the oracle accepts is a mismatch.
    oracle = Oracle()
    assert oracle.decide(Arrive(email_id="E1", queue="q1")) is StatusCode.OK
    assert oracle.decide(Offer(email_id="E1", agent="a")) is StatusCode.OK
    assert oracle.decide(Accept(actor="b", email_id="E1")) is StatusCode.FORBIDDEN
    assert oracle.decide(Complete(actor="a", email_id="E1")) is StatusCode.INVALID_STATE
    assert oracle.decide(Accept(actor="a", email_id="E1")) is StatusCode.OK
    assert oracle.decide(Transfer(actor="a", email_id="E1", agent="a")) is StatusCode.INVALID_VALUE
    assert _oracle_facts(oracle.emails["E1"]) == ("Processing", "a", None, "q1")


def test_histories_take_every_row_and_meet_every_status_code() -> None:
    # The agreement above means something only if the histories go everywhere.
    codes: set[StatusCode] = set()
    rows: set[tuple[object, Trigger]] = set()

    @settings(max_examples=100, database=None, derandomize=True)
    @given(st.data())
    def run(data: st.DataObject) -> None:
        oracle = Oracle()
        emails: dict[str, Email] = {}
        for step in range(30):
            command = data.draw(command_for(emails, step))
            codes.add(oracle.decide(command))
            decision = decide(emails, command, config=CONFIG)
            if isinstance(decision, Accepted):
                before = emails.get(command.email_id)
                rows.add((before.phase if before else None, command.operation))
                emails.update((e.id, e) for e in decision.emails)

    run()
    assert codes == set(StatusCode)
    assert rows == {(row.source, row.trigger) for row in TABLE}
