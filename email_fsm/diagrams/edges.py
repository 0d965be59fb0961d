"""The intermediate form of the diagrams: the lifecycle table as edges between states.

Pure: it reads :data:`email_fsm.table.TABLE` and imports no drawing library.
:func:`edges` turns the table into a tuple of :class:`DiagramEdge` for one of two views:
``"global"``, the phases of the email (Queued, Invited, Processing, ...); ``"agent"``,
what one agent sees of it, the view states of its notifications (Invited,
Processing/Composing, then Completed, Sent, Canceled or Revoked), derived from the rows'
notices: an agent who completes, rejects or transfers an email sees it Completed; Revoked
is the system withdrawing an invitation. Rows with no source (Arrive, Create) and the
emails Reply and ReplyAll create start from the initial pseudo-state, :data:`START`.

:class:`DiagramOptions` holds what a drawing shows; the renderers take it, or the same
settings as keyword arguments.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Final, Literal, TypedDict

from ..table import TABLE, Actor, Branch, Notice, Recipient, Row, Rule
from ..vocabulary import (
    HOLDER_VIEWS,
    TERMINAL_PHASES,
    TERMINAL_VIEW_STATES,
    Phase,
    Trigger,
    ViewState,
)

__all__ = [
    "START",
    "DiagramEdge",
    "DiagramOptions",
    "OptionChanges",
    "View",
    "edges",
    "parse_state",
    "resolve_options",
    "states",
    "terminal_states",
    "view_of",
]

View = Literal["global", "agent"]
"""``"global"``: the email's phases; ``"agent"``: the view states one agent sees."""

START: Final = "start"
"""The initial pseudo-state: the email does not exist yet (or, in the agent view, the
agent does not have it yet)."""


@dataclass(frozen=True, slots=True)
class DiagramEdge:
    """One edge of a lifecycle diagram: ``trigger`` by ``actor`` moves ``source`` to
    ``dest`` when ``branch`` holds (:attr:`~email_fsm.table.Branch.ALWAYS`: always),
    subject to ``rules``."""

    source: str
    dest: str
    trigger: Trigger
    actor: Actor
    branch: Branch = Branch.ALWAYS
    rules: tuple[Rule, ...] = ()

    @property
    def changes_state(self) -> bool:
        """False for a self-loop: the operation leaves the (view) state as it is."""
        return self.source != self.dest


@dataclass(frozen=True, slots=True)
class DiagramOptions:
    """What a lifecycle drawing shows.

    ``view``: the phases, or one agent's view states; ``triggers``: only those
    operations and system events (``None``: all); ``changes_only``: leave out the
    self-loops; ``guards``: each edge's actor and branch (``Transfer (owner) [to a
    queue]``); ``rules``: add the row's operation-specific rules to the guards;
    ``highlight``: draw this phase (or, in the agent view, view state) as the current one.

    >>> from email_fsm import Operation
    >>> DiagramOptions(triggers=[Operation.ACCEPT]) == DiagramOptions(triggers={Operation.ACCEPT})
    True
    """

    view: View = "global"
    triggers: Collection[Trigger] | None = None
    changes_only: bool = False
    guards: bool = True
    rules: bool = False
    highlight: str | None = None

    def __post_init__(self) -> None:
        if self.triggers is not None and not isinstance(self.triggers, frozenset):
            object.__setattr__(self, "triggers", frozenset(self.triggers))


class OptionChanges(TypedDict, total=False):
    """The fields of :class:`DiagramOptions`, as keyword arguments of the renderers."""

    view: View
    triggers: Collection[Trigger] | None
    changes_only: bool
    guards: bool
    rules: bool
    highlight: str | None


def resolve_options(base: DiagramOptions | None, changes: OptionChanges) -> DiagramOptions:
    """``base`` (default: :class:`DiagramOptions`) with the keyword ``changes`` applied.

    >>> resolve_options(DiagramOptions(view="agent"), {"guards": False}).view
    'agent'
    """
    return dataclasses.replace(base or DiagramOptions(), **changes)


def states(view: View = "global") -> tuple[str, ...]:
    """The states of a view's diagram, :data:`START` first.

    >>> states()
    ('start', 'Queued', 'Invited', 'Processing', 'Composing', 'Completed', 'Sent', 'Canceled')
    """
    names: Iterable[str] = Phase if view == "global" else ViewState
    return (START, *(str(name) for name in names))


def terminal_states(view: View = "global") -> frozenset[str]:
    """The states of a view no edge leaves.

    >>> sorted(terminal_states())
    ['Canceled', 'Completed', 'Sent']
    """
    terminal: Iterable[str] = TERMINAL_PHASES if view == "global" else TERMINAL_VIEW_STATES
    return frozenset(str(state) for state in terminal)


def parse_state(name: str, view: View = "global") -> str:
    """The state called ``name`` (any case) in ``view``, or :class:`ValueError`.

    >>> parse_state("processing"), parse_state("revoked", "agent")
    ('Processing', 'Revoked')
    """
    for state in states(view)[1:]:
        if state.lower() == name.strip().lower():
            return state
    choices = ", ".join(states(view)[1:])
    raise ValueError(f"{name!r} is not a state of the {view} view (one of: {choices})")


def edges(
    view: View = "global",
    *,
    triggers: Collection[Trigger] | None = None,
    changes_only: bool = False,
) -> tuple[DiagramEdge, ...]:
    """The edges of a view's diagram, in table order.

    ``triggers`` keeps only those operations and system events; ``changes_only`` drops
    the self-loops (operations that change properties, not the state).

    >>> from email_fsm import Operation
    >>> [(e.source, e.dest, str(e.branch)) for e in edges(triggers={Operation.ACCEPT})]
    [('Invited', 'Processing', 'inbound email'), ('Invited', 'Composing', 'outbound email')]
    >>> [(e.source, e.dest) for e in edges("agent", triggers={Operation.REJECT})]
    [('Invited', 'Completed')]
    """
    derive = _global_edges if view == "global" else _agent_edges
    found: list[DiagramEdge] = []
    for row in TABLE:
        if triggers is not None and row.trigger not in triggers:
            continue
        for edge in derive(row):
            if edge not in found and (edge.changes_state or not changes_only):
                found.append(edge)
    return tuple(found)


def _global_edges(row: Row) -> Iterable[DiagramEdge]:
    source = START if row.source is None else str(row.source)
    for edge in row.edges:
        yield DiagramEdge(source, str(edge.target), row.trigger, row.actor, edge.branch, row.rules)
    if row.creates is not None:
        # Reply and ReplyAll bring a new email into existence.
        yield DiagramEdge(START, str(row.creates), row.trigger, row.actor, rules=row.rules)


def _agent_edges(row: Row) -> Iterable[DiagramEdge]:
    """How each agent a row concerns sees it: the actor, a transfer target, a former
    invitee. Branches that lead to the same view collapse into one unguarded edge."""
    seen: dict[tuple[str, str], list[Branch]] = {}
    for edge in row.edges:
        for source, dest in _agent_moves(row, edge.target, edge.branch):
            seen.setdefault((source, dest), []).append(edge.branch)
    for (source, dest), branches in seen.items():
        branch = branches[0] if len(branches) < len(row.edges) else Branch.ALWAYS
        yield DiagramEdge(source, dest, row.trigger, row.actor, branch, row.rules)
    if row.creates is not None:
        new = [n for n in row.notices if n.recipient is Recipient.ACTOR and n.about_new_email]
        view = view_of(new[0] if new else None, row.creates)
        yield DiagramEdge(START, view, row.trigger, row.actor, rules=row.rules)


def _agent_moves(row: Row, target: Phase, branch: Branch) -> Iterable[tuple[str, str]]:
    notices = [
        n for n in row.notices if n.branch in (Branch.ALWAYS, branch) and not n.about_new_email
    ]
    if row.actor is not Actor.SYSTEM:
        source = START if row.source is None else str(HOLDER_VIEWS[row.source])
        mine = [n for n in notices if n.recipient is Recipient.ACTOR]
        yield source, view_of(mine[0] if mine else None, target)
    for notice in notices:
        if notice.recipient is Recipient.TARGET:
            yield START, view_of(notice, target)
        elif notice.recipient is Recipient.FORMER_INVITEE and row.source is not None:
            yield str(HOLDER_VIEWS[row.source]), view_of(notice, target)


def view_of(notice: Notice | None, phase: Phase) -> str:
    """The view state a notice shows: its own, or (``None``, or a notice with no view
    of its own) what the holder of an email in ``phase`` sees
    (:data:`~email_fsm.vocabulary.HOLDER_VIEWS`, as the notifications do).

    >>> view_of(None, Phase.PROCESSING)
    'Processing'
    """
    if notice is not None and notice.view is not None:
        return str(notice.view)
    return str(HOLDER_VIEWS[phase])
