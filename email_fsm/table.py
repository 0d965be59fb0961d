"""THE lifecycle table: the single source of truth about who may do what, where.

Theory of operation
-------------------
The lifecycle is data. Each :class:`Row` says: from this ``source`` phase (``None``: the
email does not exist yet), this ``trigger`` (an agent operation or a system event) may be
performed by this ``actor``; it leads to one of its ``edges`` (which one is chosen by a
named :class:`Branch`, such as "to an agent" or "to a queue"); it is checked by these
named operation-specific ``rules``; and it notifies these ``notices``.

Everything else is derived from :data:`TABLE`:

- :func:`email_fsm.decide` looks rows up by ``(phase, trigger)`` for its state checks
  and takes the resulting phase from the row's edge;
- the capability lists are the ``advertised`` rows of a phase, **in table order** (the
  rows of a phase are written in the order GWS prints its capabilities);
- notifications are projected from ``notices``;
- the diagrams and the reference tables of the documentation read the rows.

Definition-time checks (:func:`check_table`) run on import: no two rows for the same
``(phase, trigger)``, every phase reachable from "no email yet", every non-terminal phase
able to reach a terminal one, no row leaving a terminal phase, and every row's edges and
notices consistent with its branches.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypeAlias

from .graph import closure
from .vocabulary import (
    TERMINAL_PHASES,
    Direction,
    NotificationType,
    Operation,
    Phase,
    StatusCode,
    SystemEvent,
    Trigger,
    ViewState,
)

__all__ = [
    "ROWS",
    "RULE_CODES",
    "TABLE",
    "Actor",
    "Branch",
    "Edge",
    "EmailEdge",
    "EmailNode",
    "Notice",
    "Recipient",
    "Row",
    "Rule",
    "TableError",
    "check_table",
    "email_graph",
    "phase_successors",
]


class Actor(StrEnum):
    """Who may perform a row's trigger."""

    OWNER = "owner"
    INVITEE = "invitee"
    ANY_AGENT = "any agent"
    SYSTEM = "system"


class Branch(StrEnum):
    """The named condition that picks one of a row's edges."""

    ALWAYS = "always"
    INBOUND = "inbound email"
    OUTBOUND = "outbound email"
    TO_AGENT = "to an agent"
    TO_QUEUE = "to a queue"
    FINISHED = "no queueName"


class Recipient(StrEnum):
    """Who receives a notice."""

    ACTOR = "actor"
    TARGET = "transfer target"
    FORMER_INVITEE = "former invitee"


class Rule(StrEnum):
    """Operation-specific rules, checked after the state checks (``docs/spec.md``, "Refusals")."""

    NOT_TO_SELF = "transfer target is not the actor"
    ATTACHMENT_IS_NEW = "attachment id not yet attached"
    ATTACHMENT_EXISTS = "attachment id attached"
    HAS_RECIPIENT = "email has a recipient"
    USER_DATA_LIMIT = "userData stays within its limits (keys, total size)"
    ATTACHMENT_LIMIT = "attachments stay within the limit"


RULE_CODES: Mapping[Rule, StatusCode] = {
    Rule.NOT_TO_SELF: StatusCode.INVALID_VALUE,
    Rule.ATTACHMENT_IS_NEW: StatusCode.ALREADY_EXISTS,
    Rule.ATTACHMENT_EXISTS: StatusCode.NOT_FOUND,
    Rule.HAS_RECIPIENT: StatusCode.MISSING_PARAMETER,
    Rule.USER_DATA_LIMIT: StatusCode.INVALID_VALUE,
    Rule.ATTACHMENT_LIMIT: StatusCode.INVALID_VALUE,
}
"""The status code each rule refuses with."""


@dataclass(frozen=True, slots=True)
class Edge:
    """Where a row leads when its branch holds."""

    target: Phase
    branch: Branch = Branch.ALWAYS


@dataclass(frozen=True, slots=True)
class Notice:
    """A notification a row sends.

    ``view`` is the view state the recipient is shown; ``None`` means "the phase the
    recipient now holds the email in" (Invited, Processing or Composing). A notice with
    a ``branch`` other than ``ALWAYS`` is sent only when that branch was taken.
    ``about_new_email``: the notice is about the email the row creates (Reply).
    """

    recipient: Recipient
    type: NotificationType
    view: ViewState | None = None
    branch: Branch = Branch.ALWAYS
    about_new_email: bool = False


@dataclass(frozen=True, slots=True)
class Row:
    """One ``(source phase, trigger)`` of the lifecycle."""

    source: Phase | None
    trigger: Trigger
    actor: Actor
    edges: tuple[Edge, ...]
    notices: tuple[Notice, ...] = ()
    rules: tuple[Rule, ...] = ()
    advertised: bool = False
    creates: Phase | None = None
    _targets: dict[Branch, Phase] = field(init=False, repr=False, compare=False)
    """Each edge's target by its branch (the handlers read one on every step)."""

    def __post_init__(self) -> None:
        targets: dict[Branch, Phase] = {}
        for edge in self.edges:
            targets.setdefault(edge.branch, edge.target)
        object.__setattr__(self, "_targets", targets)

    def target(self, branch: Branch) -> Phase:
        """The phase this row leads to on ``branch``."""
        try:
            return self._targets[branch]
        except KeyError:
            raise TableError(
                f"{self.trigger} from {self.source} has no edge for {branch}"
            ) from None


class TableError(ValueError):
    """A lifecycle table breaks a definition-time check (a programmer error)."""


_ST = NotificationType.STATUS_CHANGE
_PU = NotificationType.PROPERTIES_UPDATED


def _stay(phase: Phase) -> tuple[Edge, ...]:
    return (Edge(phase),)


def _properties(phase: Phase, operation: Operation, rules: tuple[Rule, ...] = ()) -> Row:
    """An advertised owner operation that changes properties, not the phase."""
    return Row(
        phase,
        operation,
        Actor.OWNER,
        _stay(phase),
        (Notice(Recipient.ACTOR, _PU),),
        rules,
        advertised=True,
    )


def _owner_rows(phase: Phase) -> tuple[Row, ...]:
    """The property-changing rows common to Processing and Composing, in GWS order."""
    return (
        _properties(phase, Operation.ADD_COMMENT),
        _properties(phase, Operation.ATTACH_USER_DATA, (Rule.USER_DATA_LIMIT,)),
        _properties(phase, Operation.UPDATE_USER_DATA, (Rule.USER_DATA_LIMIT,)),
        _properties(phase, Operation.DELETE_USER_DATA),
        _properties(phase, Operation.SET_DISPOSITION, (Rule.USER_DATA_LIMIT,)),
        Row(phase, Operation.SET_IN_FOCUS, Actor.OWNER, _stay(phase), advertised=True),
    )


def _transfer(phase: Phase) -> Row:
    return Row(
        phase,
        Operation.TRANSFER,
        Actor.OWNER,
        (Edge(Phase.INVITED, Branch.TO_AGENT), Edge(Phase.QUEUED, Branch.TO_QUEUE)),
        (
            Notice(Recipient.ACTOR, _ST, ViewState.COMPLETED),
            Notice(Recipient.TARGET, _ST, None, Branch.TO_AGENT),
        ),
        (Rule.NOT_TO_SELF,),
        advertised=True,
    )


def _reply(operation: Operation) -> Row:
    return Row(
        Phase.PROCESSING,
        operation,
        Actor.OWNER,
        _stay(Phase.PROCESSING),
        (Notice(Recipient.ACTOR, _ST, None, about_new_email=True),),
        (Rule.USER_DATA_LIMIT,),
        advertised=True,
        creates=Phase.COMPOSING,
    )


TABLE: tuple[Row, ...] = (
    # No email yet.
    # (The userData an Arrive or Create brings is checked against the limits as part of
    # the command's shape, step 3: no rule here.)
    Row(None, SystemEvent.ARRIVE, Actor.SYSTEM, _stay(Phase.QUEUED)),
    Row(
        None,
        Operation.CREATE,
        Actor.ANY_AGENT,
        _stay(Phase.COMPOSING),
        (Notice(Recipient.ACTOR, _ST),),
    ),
    # Queued: waiting for routing.
    Row(
        Phase.QUEUED,
        SystemEvent.OFFER,
        Actor.SYSTEM,
        _stay(Phase.INVITED),
        (Notice(Recipient.TARGET, _ST),),
    ),
    # Invited: capabilities Accept, Reject.
    Row(
        Phase.INVITED,
        Operation.ACCEPT,
        Actor.INVITEE,
        (Edge(Phase.PROCESSING, Branch.INBOUND), Edge(Phase.COMPOSING, Branch.OUTBOUND)),
        (Notice(Recipient.ACTOR, _ST),),
        advertised=True,
    ),
    Row(
        Phase.INVITED,
        Operation.REJECT,
        Actor.INVITEE,
        _stay(Phase.QUEUED),
        (Notice(Recipient.ACTOR, _ST, ViewState.COMPLETED),),
        advertised=True,
    ),
    Row(
        Phase.INVITED,
        SystemEvent.REVOKE,
        Actor.SYSTEM,
        _stay(Phase.QUEUED),
        (Notice(Recipient.FORMER_INVITEE, _ST, ViewState.REVOKED),),
    ),
    # Processing: Reply, ReplyAll, Transfer, AddComment, ..., SetInFocus, Complete.
    _reply(Operation.REPLY),
    _reply(Operation.REPLY_ALL),
    _transfer(Phase.PROCESSING),
    *_owner_rows(Phase.PROCESSING),
    Row(
        Phase.PROCESSING,
        Operation.COMPLETE,
        Actor.OWNER,
        (Edge(Phase.COMPLETED, Branch.FINISHED), Edge(Phase.QUEUED, Branch.TO_QUEUE)),
        (Notice(Recipient.ACTOR, _ST, ViewState.COMPLETED),),
        advertised=True,
    ),
    # Composing: Cancel, Send, AddComment, ..., SetInFocus, Transfer; then the
    # operations GWS performs on drafts but never advertises (``docs/spec.md``, "Capabilities").
    Row(
        Phase.COMPOSING,
        Operation.CANCEL,
        Actor.OWNER,
        _stay(Phase.CANCELED),
        (Notice(Recipient.ACTOR, _ST, ViewState.CANCELED),),
        advertised=True,
    ),
    Row(
        Phase.COMPOSING,
        Operation.SEND,
        Actor.OWNER,
        _stay(Phase.SENT),
        (Notice(Recipient.ACTOR, _ST, ViewState.SENT),),
        (Rule.HAS_RECIPIENT,),
        advertised=True,
    ),
    *_owner_rows(Phase.COMPOSING),
    _transfer(Phase.COMPOSING),
    Row(
        Phase.COMPOSING,
        Operation.SAVE,
        Actor.OWNER,
        _stay(Phase.COMPOSING),
        (Notice(Recipient.ACTOR, NotificationType.EMAIL_SAVED),),
    ),
    Row(
        Phase.COMPOSING,
        Operation.ADD_ATTACHMENT,
        Actor.OWNER,
        _stay(Phase.COMPOSING),
        (Notice(Recipient.ACTOR, NotificationType.ATTACHMENT_ADDED),),
        (Rule.ATTACHMENT_IS_NEW, Rule.ATTACHMENT_LIMIT),
    ),
    Row(
        Phase.COMPOSING,
        Operation.REMOVE_ATTACHMENT,
        Actor.OWNER,
        _stay(Phase.COMPOSING),
        (Notice(Recipient.ACTOR, NotificationType.ATTACHMENT_REMOVED),),
        (Rule.ATTACHMENT_EXISTS,),
    ),
)
"""Every row of the lifecycle. Rows of one phase are in GWS capability order."""


EmailNode: TypeAlias = tuple[Direction, Phase]
"""A node of :func:`email_graph`: an email of this direction in this phase."""
EmailEdge: TypeAlias = tuple[Trigger, Branch, EmailNode]
"""An edge of :func:`email_graph`: the trigger, the branch taken, the node it leads to."""


def phase_successors(rows: Iterable[Row]) -> dict[Phase | None, set[Phase]]:
    """Each source phase's successor phases; ``None`` also leads to what rows create."""
    successors: dict[Phase | None, set[Phase]] = {}
    for row in rows:
        successors.setdefault(row.source, set()).update(edge.target for edge in row.edges)
        if row.creates is not None:
            successors.setdefault(None, set()).add(row.creates)
    return successors


def email_graph(rows: Iterable[Row]) -> dict[EmailNode, tuple[EmailEdge, ...]]:
    """The rows that move an existing email, as a graph over ``(direction, phase)``."""
    only = {Branch.INBOUND: Direction.INBOUND, Branch.OUTBOUND: Direction.OUTBOUND}
    graph: dict[EmailNode, list[EmailEdge]] = {(d, p): [] for d in Direction for p in Phase}
    for row in rows:
        if row.source is None:
            continue
        for direction in Direction:
            for edge in row.edges:
                if only.get(edge.branch, direction) is direction:
                    graph[(direction, row.source)].append(
                        (row.trigger, edge.branch, (direction, edge.target))
                    )
    return {node: tuple(edges) for node, edges in graph.items()}


def check_table(rows: Iterable[Row]) -> dict[tuple[Phase | None, Trigger], Row]:
    """Check a lifecycle table and index it by ``(source, trigger)``.

    Raises :class:`TableError` naming the first broken check.
    """
    index: dict[tuple[Phase | None, Trigger], Row] = {}
    for row in rows:
        key = (row.source, row.trigger)
        if key in index:
            raise TableError(f"two rows for {row.trigger} from {row.source}")
        if not row.edges:
            raise TableError(f"{row.trigger} from {row.source} has no edge")
        if row.source in TERMINAL_PHASES:
            raise TableError(f"{row.trigger} leaves terminal phase {row.source}")
        branches = [edge.branch for edge in row.edges]
        if len(set(branches)) != len(branches):
            raise TableError(f"{row.trigger} from {row.source} repeats a branch")
        for notice in row.notices:
            if notice.branch is not Branch.ALWAYS and notice.branch not in branches:
                raise TableError(
                    f"{row.trigger} from {row.source} notifies on unknown branch {notice.branch}"
                )
        if row.advertised and row.actor in (Actor.SYSTEM, Actor.ANY_AGENT):
            raise TableError(
                f"{row.trigger} from {row.source}: only a holder's rows are advertised"
            )
        index[key] = row

    successors = phase_successors(index.values())
    reachable = closure(successors, {None})
    unreachable = set(Phase) - reachable
    if unreachable:
        raise TableError(f"unreachable phases: {[str(p) for p in Phase if p in unreachable]}")
    traps = [
        str(phase)
        for phase in Phase
        if phase not in TERMINAL_PHASES and not closure(successors, {phase}) & TERMINAL_PHASES
    ]
    if traps:
        raise TableError(f"phases that cannot reach a terminal phase: {traps}")
    return index


ROWS: Mapping[tuple[Phase | None, Trigger], Row] = check_table(TABLE)
"""The table indexed by ``(source phase, trigger)``."""
