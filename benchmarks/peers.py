"""The peers: the same lifecycle in ``transitions`` and in ``python-statemachine``.

Both machines are built from :data:`email_fsm.TABLE` (every row, so they are the whole
machine, not just the benchmarked steps), the way a user of those libraries would write
it: one state per phase plus ``New`` (no email yet), one transition per edge, the
checks as guards (conditions) and the field changes as transition callbacks.

The guards are the ones the limit makes: the actor holds the email, the branch of the
edge (inbound/outbound, to an agent/to a queue, finished), and Transfer's "not to
self". The field changes are those of the benchmarked steps; the other rows only move
the phase (they are never taken here).

- :class:`TransitionsPerModel`: one ``transitions.Machine`` per email (the library's
  default use: ``Machine(model=email, ...)``);
- :class:`TransitionsShared`: one ``Machine`` for every email, each email added with
  ``add_model``;
- :class:`StateMachinePeer`: a ``python-statemachine`` ``StateMachine`` subclass, one
  instance per email, holding the email's fields.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Final, cast

from statemachine import State, StateMachine
from statemachine.exceptions import TransitionNotAllowed
from transitions import Machine

from email_fsm import TABLE, Direction, Phase
from email_fsm.table import Actor, Branch, Rule

__all__ = ["STATE_NAMES", "StateMachinePeer", "TransitionsPerModel", "TransitionsShared"]

NEW: Final = "New"
"""The state of an email that does not exist yet (the table's ``None`` source)."""

STATE_NAMES: Final[tuple[str, ...]] = (NEW, *(phase.value for phase in Phase))

_BRANCH_GUARDS: Final[dict[Branch, str | None]] = {
    Branch.ALWAYS: None,
    Branch.INBOUND: "is_inbound",
    Branch.OUTBOUND: "is_outbound",
    Branch.TO_AGENT: "to_agent",
    Branch.TO_QUEUE: "to_queue",
    Branch.FINISHED: "finished",
}

# The field changes of the benchmarked steps, by (trigger, branch).
_EFFECTS: Final[dict[tuple[str, Branch], str]] = {
    ("Arrive", Branch.ALWAYS): "on_arrive",
    ("Offer", Branch.ALWAYS): "on_offer",
    ("Accept", Branch.INBOUND): "on_accept",
    ("Accept", Branch.OUTBOUND): "on_accept",
    ("AddComment", Branch.ALWAYS): "on_comment",
    ("Transfer", Branch.TO_AGENT): "on_transfer_to_agent",
    ("Transfer", Branch.TO_QUEUE): "on_transfer_to_queue",
    ("Complete", Branch.FINISHED): "on_complete",
    ("Complete", Branch.TO_QUEUE): "on_complete",
}


def _guards(actor: Actor, rules: tuple[Rule, ...], branch: Branch) -> list[str]:
    guards = ["is_holder"] if actor in (Actor.OWNER, Actor.INVITEE) else []
    branch_guard = _BRANCH_GUARDS[branch]
    if branch_guard is not None:
        guards.append(branch_guard)
    if Rule.NOT_TO_SELF in rules:
        guards.append("not_to_self")
    return guards


def _edges() -> list[tuple[str, str, str, list[str], str | None]]:
    """(trigger, source, dest, guards, effect) for every edge of every row."""
    edges = []
    for row in TABLE:
        source = NEW if row.source is None else row.source.value
        for edge in row.edges:
            effect = _EFFECTS.get((row.trigger.value, edge.branch))
            guards = _guards(row.actor, row.rules, edge.branch)
            edges.append((row.trigger.value, source, edge.target.value, guards, effect))
    return edges


class _Fields:
    """The fields of :class:`email_fsm.Email` and the guards and effects over them."""

    def _init_fields(self, email_id: str) -> None:
        self.id = email_id
        self.direction = Direction.INBOUND
        self.queue: str | None = None
        self.owner: str | None = None
        self.invitee: str | None = None
        self.content: object = None
        self.user_data: dict[str, object] = {}
        self.comment: str | None = None
        self.attachments: tuple[object, ...] = ()
        self.rejected_by: frozenset[str] = frozenset()
        self.transfers = 0
        self.last_transferred_by: str | None = None

    # guards
    def is_holder(self, actor: str | None = None, **_: Any) -> bool:
        return actor == (self.owner if self.owner is not None else self.invitee)

    def is_inbound(self, **_: Any) -> bool:
        return self.direction is Direction.INBOUND

    def is_outbound(self, **_: Any) -> bool:
        return self.direction is Direction.OUTBOUND

    def to_agent(self, agent: str | None = None, **_: Any) -> bool:
        return agent is not None

    def to_queue(self, queue: str | None = None, **_: Any) -> bool:
        return queue is not None

    def finished(self, queue: str | None = None, **_: Any) -> bool:
        return queue is None

    def not_to_self(self, actor: str | None = None, agent: str | None = None, **_: Any) -> bool:
        return agent != actor

    # effects
    def on_arrive(self, queue: str | None = None, **_: Any) -> None:
        self.queue = queue

    def on_offer(self, agent: str | None = None, **_: Any) -> None:
        self.invitee = agent

    def on_accept(self, actor: str | None = None, **_: Any) -> None:
        self.owner = actor
        self.invitee = None

    def on_comment(self, comment: str | None = None, **_: Any) -> None:
        self.comment = comment

    def on_transfer_to_agent(
        self, actor: str | None = None, agent: str | None = None, **_: Any
    ) -> None:
        self.owner = None
        self.invitee = agent
        self.transfers += 1
        self.last_transferred_by = actor

    def on_transfer_to_queue(
        self, actor: str | None = None, queue: str | None = None, **_: Any
    ) -> None:
        self.owner = None
        self.queue = queue
        self.transfers += 1
        self.last_transferred_by = actor

    def on_complete(self, queue: str | None = None, **_: Any) -> None:
        self.owner = None
        if queue is not None:
            self.queue = queue


# ------------------------------------------------------------------------ transitions


class TransitionsEmail(_Fields):
    """An email as a ``transitions`` model: the machine adds ``state`` and the triggers."""

    state: str
    Arrive: Callable[..., bool]
    Offer: Callable[..., bool]
    Accept: Callable[..., bool]
    AddComment: Callable[..., bool]
    Transfer: Callable[..., bool]
    Complete: Callable[..., bool]

    def __init__(self, email_id: str) -> None:
        self._init_fields(email_id)


_TRANSITIONS: Final[list[dict[str, Any]]] = [
    {"trigger": t, "source": s, "dest": d, "conditions": g, "after": e}
    for t, s, d, g, e in _edges()
]


def _machine(model: object) -> Machine:
    return Machine(
        model=model,
        states=list(STATE_NAMES),
        transitions=_TRANSITIONS,
        initial=NEW,
        auto_transitions=False,
    )


class _TransitionsSteps:
    """The steps, as a ``transitions`` user writes them: triggers on the model."""

    name: str
    models: dict[str, TransitionsEmail]

    def _add(self, email: TransitionsEmail) -> None:
        raise NotImplementedError

    def phase(self, email_id: str) -> str:
        return self.models[email_id].state

    def arrive(self, email_id: str, queue: str) -> bool:
        email = TransitionsEmail(email_id)
        self._add(email)
        self.models[email_id] = email
        return email.Arrive(queue=queue)

    def offer(self, email_id: str, agent: str) -> bool:
        return self.models[email_id].Offer(agent=agent)

    def accept(self, email_id: str, actor: str) -> bool:
        return self.models[email_id].Accept(actor=actor)

    def add_comment(self, email_id: str, actor: str, comment: str) -> bool:
        return self.models[email_id].AddComment(actor=actor, comment=comment)

    def transfer(self, email_id: str, actor: str, agent: str) -> bool:
        return self.models[email_id].Transfer(actor=actor, agent=agent)

    def complete(self, email_id: str, actor: str) -> bool:
        return self.models[email_id].Complete(actor=actor)


class TransitionsPerModel(_TransitionsSteps):
    """One ``transitions.Machine`` per email."""

    name = "transitions (Machine per email)"

    def __init__(self) -> None:
        self.models = {}
        self.machines: list[Machine] = []

    def _add(self, email: TransitionsEmail) -> None:
        self.machines.append(_machine(email))


class TransitionsShared(_TransitionsSteps):
    """One ``transitions.Machine`` shared by every email (``add_model``)."""

    name = "transitions (one shared Machine)"

    def __init__(self) -> None:
        self.models = {}
        self.machine = _machine(None)

    def _add(self, email: TransitionsEmail) -> None:
        self.machine.add_model(email)


# ---------------------------------------------------------------- python-statemachine


def _event(trigger: str) -> str:
    """The event name of a trigger: AddComment -> add_comment (Send -> send_email, as
    ``send`` is the machine's own method)."""
    name = re.sub(r"(?<!^)(?=[A-Z])", "_", trigger).lower()
    return "send_email" if name == "send" else name


def _statemachine_namespace() -> dict[str, Any]:
    states: dict[str, State] = {}
    for name in STATE_NAMES:
        phase = None if name == NEW else Phase(name)
        states[name] = State(
            name,
            value=name,
            initial=name == NEW,
            final=phase is not None and phase in (Phase.COMPLETED, Phase.SENT, Phase.CANCELED),
        )
    namespace: dict[str, Any] = {name.lower(): state for name, state in states.items()}
    for trigger, source, dest, guards, effect in _edges():
        event = _event(trigger)
        options: dict[str, Any] = {"cond": guards}
        if effect is not None:
            options["on"] = effect
        if source == dest:
            transition = cast(Any, states[source].to).itself(internal=True, **options)
        else:
            transition = states[source].to(states[dest], **options)
        namespace[event] = namespace[event] | transition if event in namespace else transition
    return namespace


EmailStateMachine: Final[type[Any]] = type(
    "EmailStateMachine", (_Fields, StateMachine), _statemachine_namespace()
)
"""The machine as a ``StateMachine`` subclass (its metaclass reads the namespace)."""


class StateMachinePeer:
    """One ``python-statemachine`` machine per email; events sent by name."""

    name = "python-statemachine"

    def __init__(self) -> None:
        self.machines: dict[str, Any] = {}

    def phase(self, email_id: str) -> str:
        return str(self.machines[email_id].current_state_value)

    def _send(self, email_id: str, event: str, **arguments: str) -> bool:
        try:
            self.machines[email_id].send(event, **arguments)
        except TransitionNotAllowed:
            return False
        return True

    def arrive(self, email_id: str, queue: str) -> bool:
        machine = EmailStateMachine()
        machine._init_fields(email_id)
        self.machines[email_id] = machine
        return self._send(email_id, "arrive", queue=queue)

    def offer(self, email_id: str, agent: str) -> bool:
        return self._send(email_id, "offer", agent=agent)

    def accept(self, email_id: str, actor: str) -> bool:
        return self._send(email_id, "accept", actor=actor)

    def add_comment(self, email_id: str, actor: str, comment: str) -> bool:
        return self._send(email_id, "add_comment", actor=actor, comment=comment)

    def transfer(self, email_id: str, actor: str, agent: str) -> bool:
        return self._send(email_id, "transfer", actor=actor, agent=agent)

    def complete(self, email_id: str, actor: str) -> bool:
        return self._send(email_id, "complete", actor=actor)
