"""Every contender, behind one small interface the suite drives.

A contender is a store of live emails with the six benchmarked steps as methods
(``arrive``, ``offer``, ``accept``, ``add_comment``, ``transfer``, ``complete``) and
``phase``. The suite never times those methods through a common wrapper: it asks the
contender for a :meth:`~Contender.runner`, the loop a user of that library would write
for a batch of steps. For the peers that loop calls the step methods; for email_fsm it
passes typed commands prepared beforehand to :func:`email_fsm.decide` and stores
``decision.emails`` in a dict (or applies prepared events with :func:`email_fsm.evolve`,
or also renders the notifications to JSON).

Two contenders build each step inside the timed loop, as a user does who makes each
command as they go: ``email_fsm_built`` (``decide(emails, AddComment(actor=...,
email_id=..., comment=...))``) and ``limit_built`` (the limit's method looked up on the
store and called with keyword arguments, ``store.add_comment(email_id=..., actor=...,
comment=...)``). The limit has no command object to prepare: its prepared loop calls the
bound methods fetched beforehand with positional arguments.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final, Protocol

from email_fsm import (
    Accept,
    Accepted,
    AddComment,
    Arrive,
    Command,
    Complete,
    Direction,
    Email,
    Event,
    Offer,
    Phase,
    Transfer,
    decide,
    evolve,
)

from .limit import FrozenLimit, MutableLimit
from .peers import StateMachinePeer, TransitionsPerModel, TransitionsShared

__all__ = [
    "CONTENDERS",
    "KINDS",
    "LIFECYCLE_STEPS",
    "Contender",
    "FsmBuilt",
    "FsmDecide",
    "FsmEvolve",
    "FsmJson",
]

QUEUE: Final = "inbound"
FIRST: Final = "a"
SECOND: Final = "b"
COMMENT: Final = "called the customer back"

KINDS: Final = ("Arrive", "Offer", "Accept", "AddComment", "Transfer", "Complete", "Lifecycle")
"""What a runner can run: one step per email, or the whole lifecycle per email."""

LIFECYCLE_STEPS: Final = 7
"""Arrive, Offer, Accept, three AddComment, Complete."""


class Steps(Protocol):
    """The six steps and the phase, as every contender offers them; a step returns
    whether it was done."""

    def phase(self, email_id: str) -> str: ...
    def arrive(self, email_id: str, queue: str) -> bool: ...
    def offer(self, email_id: str, agent: str) -> bool: ...
    def accept(self, email_id: str, actor: str) -> bool: ...
    def add_comment(self, email_id: str, actor: str, comment: str) -> bool: ...
    def transfer(self, email_id: str, actor: str, agent: str) -> bool: ...
    def complete(self, email_id: str, actor: str) -> bool: ...


class Contender(Steps, Protocol):
    """A store of live emails that the suite can fill and time."""

    key: str
    name: str

    def fill(self, email_ids: Sequence[str]) -> None:
        """Make ``email_ids`` live, Processing, owned by ``FIRST`` (not timed)."""
        ...

    def runner(self, kind: str, email_ids: Sequence[str], actor: str) -> Callable[[], None]:
        """The prepared loop running ``kind`` on each of ``email_ids`` by ``actor``."""
        ...


def method_runner(steps: Steps, kind: str, ids: Sequence[str], actor: str) -> Callable[[], None]:
    """The loop over a contender's step methods (the peers and the limit)."""
    arrive, offer, accept = steps.arrive, steps.offer, steps.accept
    add_comment, transfer, complete = steps.add_comment, steps.transfer, steps.complete
    other = SECOND if actor == FIRST else FIRST

    def run_arrive() -> None:
        for email_id in ids:
            arrive(email_id, QUEUE)

    def run_offer() -> None:
        for email_id in ids:
            offer(email_id, actor)

    def run_accept() -> None:
        for email_id in ids:
            accept(email_id, actor)

    def run_comment() -> None:
        for email_id in ids:
            add_comment(email_id, actor, COMMENT)

    def run_transfer() -> None:
        for email_id in ids:
            transfer(email_id, actor, other)

    def run_complete() -> None:
        for email_id in ids:
            complete(email_id, actor)

    def run_lifecycle() -> None:
        for email_id in ids:
            arrive(email_id, QUEUE)
            offer(email_id, actor)
            accept(email_id, actor)
            add_comment(email_id, actor, COMMENT)
            add_comment(email_id, actor, COMMENT)
            add_comment(email_id, actor, COMMENT)
            complete(email_id, actor)

    runners: dict[str, Callable[[], None]] = {
        "Arrive": run_arrive,
        "Offer": run_offer,
        "Accept": run_accept,
        "AddComment": run_comment,
        "Transfer": run_transfer,
        "Complete": run_complete,
        "Lifecycle": run_lifecycle,
    }
    return runners[kind]


def fill_by_steps(steps: Steps, ids: Sequence[str]) -> None:
    for email_id in ids:
        steps.arrive(email_id, QUEUE)
        steps.offer(email_id, FIRST)
        steps.accept(email_id, FIRST)


# ------------------------------------------------------------------ the limit, the peers


class _DrivenByMethods:
    """``fill`` and ``runner`` for a contender driven through its own step methods."""

    def fill(self: Steps, email_ids: Sequence[str]) -> None:
        fill_by_steps(self, email_ids)

    def runner(self: Steps, kind: str, email_ids: Sequence[str], actor: str) -> Callable[[], None]:
        return method_runner(self, kind, email_ids, actor)


class Frozen(_DrivenByMethods, FrozenLimit):
    key = "limit"


def keyword_runner(steps: Steps, kind: str, ids: Sequence[str], actor: str) -> Callable[[], None]:
    """The loop as a user writes it call by call: the method looked up on the store and
    called with keyword arguments, each step."""
    other = SECOND if actor == FIRST else FIRST

    def run_arrive() -> None:
        for email_id in ids:
            steps.arrive(email_id=email_id, queue=QUEUE)

    def run_offer() -> None:
        for email_id in ids:
            steps.offer(email_id=email_id, agent=actor)

    def run_accept() -> None:
        for email_id in ids:
            steps.accept(email_id=email_id, actor=actor)

    def run_comment() -> None:
        for email_id in ids:
            steps.add_comment(email_id=email_id, actor=actor, comment=COMMENT)

    def run_transfer() -> None:
        for email_id in ids:
            steps.transfer(email_id=email_id, actor=actor, agent=other)

    def run_complete() -> None:
        for email_id in ids:
            steps.complete(email_id=email_id, actor=actor)

    def run_lifecycle() -> None:
        for email_id in ids:
            steps.arrive(email_id=email_id, queue=QUEUE)
            steps.offer(email_id=email_id, agent=actor)
            steps.accept(email_id=email_id, actor=actor)
            steps.add_comment(email_id=email_id, actor=actor, comment=COMMENT)
            steps.add_comment(email_id=email_id, actor=actor, comment=COMMENT)
            steps.add_comment(email_id=email_id, actor=actor, comment=COMMENT)
            steps.complete(email_id=email_id, actor=actor)

    runners: dict[str, Callable[[], None]] = {
        "Arrive": run_arrive,
        "Offer": run_offer,
        "Accept": run_accept,
        "AddComment": run_comment,
        "Transfer": run_transfer,
        "Complete": run_complete,
        "Lifecycle": run_lifecycle,
    }
    return runners[kind]


class FrozenBuilt(Frozen):
    """The frozen limit, each call written in the loop with keyword arguments."""

    key = "limit_built"
    name = "limit (frozen), called in the loop"

    def runner(self, kind: str, email_ids: Sequence[str], actor: str) -> Callable[[], None]:
        return keyword_runner(self, kind, email_ids, actor)


class Mutable(_DrivenByMethods, MutableLimit):
    key = "limit_mutable"


class PerModel(_DrivenByMethods, TransitionsPerModel):
    key = "transitions"


class Shared(_DrivenByMethods, TransitionsShared):
    key = "transitions_shared"


class PythonStateMachine(_DrivenByMethods, StateMachinePeer):
    key = "statemachine"


# ------------------------------------------------------------------------ email_fsm


def commands(kind: str, ids: Sequence[str], actor: str) -> list[Command]:
    """The typed commands of ``kind`` for ``ids`` (prepared before timing)."""
    other = SECOND if actor == FIRST else FIRST
    if kind == "Lifecycle":
        return [
            command
            for email_id in ids
            for command in (
                Arrive(email_id=email_id, queue=QUEUE),
                Offer(email_id=email_id, agent=actor),
                Accept(actor=actor, email_id=email_id, reference_id=1),
                AddComment(actor=actor, email_id=email_id, comment=COMMENT, reference_id=2),
                AddComment(actor=actor, email_id=email_id, comment=COMMENT, reference_id=3),
                AddComment(actor=actor, email_id=email_id, comment=COMMENT, reference_id=4),
                Complete(actor=actor, email_id=email_id, reference_id=5),
            )
        ]
    make: dict[str, Callable[[str], Command]] = {
        "Arrive": lambda i: Arrive(email_id=i, queue=QUEUE),
        "Offer": lambda i: Offer(email_id=i, agent=actor),
        "Accept": lambda i: Accept(actor=actor, email_id=i, reference_id=1),
        "AddComment": lambda i: AddComment(actor=actor, email_id=i, comment=COMMENT),
        "Transfer": lambda i: Transfer(actor=actor, email_id=i, agent=other, reference_id=3),
        "Complete": lambda i: Complete(actor=actor, email_id=i, reference_id=4),
    }
    return [make[kind](email_id) for email_id in ids]


class FsmDecide:
    """email_fsm: ``decide`` on typed commands, ``decision.emails`` stored in a dict."""

    key = "email_fsm"
    name = "email_fsm decide"

    def __init__(self) -> None:
        self.emails: dict[str, Email] = {}

    def _do(self, command: Command) -> bool:
        decision = decide(self.emails, command)
        if isinstance(decision, Accepted):
            for email in decision.emails:
                self.emails[email.id] = email
            return True
        return False

    def phase(self, email_id: str) -> str:
        return self.emails[email_id].phase.value

    def arrive(self, email_id: str, queue: str) -> bool:
        return self._do(Arrive(email_id=email_id, queue=queue))

    def offer(self, email_id: str, agent: str) -> bool:
        return self._do(Offer(email_id=email_id, agent=agent))

    def accept(self, email_id: str, actor: str) -> bool:
        return self._do(Accept(actor=actor, email_id=email_id))

    def add_comment(self, email_id: str, actor: str, comment: str) -> bool:
        return self._do(AddComment(actor=actor, email_id=email_id, comment=comment))

    def transfer(self, email_id: str, actor: str, agent: str) -> bool:
        return self._do(Transfer(actor=actor, email_id=email_id, agent=agent))

    def complete(self, email_id: str, actor: str) -> bool:
        return self._do(Complete(actor=actor, email_id=email_id))

    def fill(self, email_ids: Sequence[str]) -> None:
        # Build the Processing emails directly: the same values Arrive, Offer and
        # Accept leave, without spending the set-up time on deciding them.
        emails = self.emails
        for email_id in email_ids:
            emails[email_id] = Email(
                id=email_id,
                direction=Direction.INBOUND,
                phase=Phase.PROCESSING,
                queue=QUEUE,
                owner=FIRST,
                user_data={},
            )

    def runner(self, kind: str, email_ids: Sequence[str], actor: str) -> Callable[[], None]:
        prepared = commands(kind, email_ids, actor)
        emails = self.emails

        def run() -> None:
            for command in prepared:
                decision = decide(emails, command)
                if isinstance(decision, Accepted):
                    for email in decision.emails:
                        emails[email.id] = email

        return run


def built_runner(
    emails: dict[str, Email], kind: str, ids: Sequence[str], actor: str
) -> Callable[[], None]:
    """The decide loop with each command built inside it: the same commands as
    :func:`commands` makes beforehand, field for field."""
    other = SECOND if actor == FIRST else FIRST

    def run_arrive() -> None:
        for email_id in ids:
            decision = decide(emails, Arrive(email_id=email_id, queue=QUEUE))
            if isinstance(decision, Accepted):
                for email in decision.emails:
                    emails[email.id] = email

    def run_offer() -> None:
        for email_id in ids:
            decision = decide(emails, Offer(email_id=email_id, agent=actor))
            if isinstance(decision, Accepted):
                for email in decision.emails:
                    emails[email.id] = email

    def run_accept() -> None:
        for email_id in ids:
            decision = decide(emails, Accept(actor=actor, email_id=email_id, reference_id=1))
            if isinstance(decision, Accepted):
                for email in decision.emails:
                    emails[email.id] = email

    def run_comment() -> None:
        for email_id in ids:
            decision = decide(emails, AddComment(actor=actor, email_id=email_id, comment=COMMENT))
            if isinstance(decision, Accepted):
                for email in decision.emails:
                    emails[email.id] = email

    def run_transfer() -> None:
        for email_id in ids:
            decision = decide(
                emails, Transfer(actor=actor, email_id=email_id, agent=other, reference_id=3)
            )
            if isinstance(decision, Accepted):
                for email in decision.emails:
                    emails[email.id] = email

    def run_complete() -> None:
        for email_id in ids:
            decision = decide(emails, Complete(actor=actor, email_id=email_id, reference_id=4))
            if isinstance(decision, Accepted):
                for email in decision.emails:
                    emails[email.id] = email

    def run_lifecycle() -> None:
        for email_id in ids:
            for command in (
                Arrive(email_id=email_id, queue=QUEUE),
                Offer(email_id=email_id, agent=actor),
                Accept(actor=actor, email_id=email_id, reference_id=1),
                AddComment(actor=actor, email_id=email_id, comment=COMMENT, reference_id=2),
                AddComment(actor=actor, email_id=email_id, comment=COMMENT, reference_id=3),
                AddComment(actor=actor, email_id=email_id, comment=COMMENT, reference_id=4),
                Complete(actor=actor, email_id=email_id, reference_id=5),
            ):
                decision = decide(emails, command)
                if isinstance(decision, Accepted):
                    for email in decision.emails:
                        emails[email.id] = email

    runners: dict[str, Callable[[], None]] = {
        "Arrive": run_arrive,
        "Offer": run_offer,
        "Accept": run_accept,
        "AddComment": run_comment,
        "Transfer": run_transfer,
        "Complete": run_complete,
        "Lifecycle": run_lifecycle,
    }
    return runners[kind]


class FsmBuilt(FsmDecide):
    """email_fsm: ``decide`` on each command built inside the timed loop."""

    key = "email_fsm_built"
    name = "email_fsm decide, commands built in the loop"

    def runner(self, kind: str, email_ids: Sequence[str], actor: str) -> Callable[[], None]:
        return built_runner(self.emails, kind, email_ids, actor)


class FsmJson(FsmDecide):
    """email_fsm: ``decide``, store, and render every notification with ``to_json()``."""

    key = "email_fsm_json"
    name = "email_fsm decide + JSON"

    def runner(self, kind: str, email_ids: Sequence[str], actor: str) -> Callable[[], None]:
        prepared = commands(kind, email_ids, actor)
        emails = self.emails
        rendered: list[str] = []
        keep = rendered.append

        def run() -> None:
            for command in prepared:
                decision = decide(emails, command)
                if isinstance(decision, Accepted):
                    for email in decision.emails:
                        emails[email.id] = email
                    for notification in decision.notifications:
                        keep(notification.to_json())
            rendered.clear()

        return run


class FsmEvolve(FsmDecide):
    """email_fsm: the evolve path alone, applying events decided beforehand."""

    key = "email_fsm_evolve"
    name = "email_fsm evolve"

    def runner(self, kind: str, email_ids: Sequence[str], actor: str) -> Callable[[], None]:
        scratch = {i: self.emails[i] for i in email_ids if i in self.emails}
        events: list[Event] = []
        for command in commands(kind, email_ids, actor):
            decision = decide(scratch, command)
            assert isinstance(decision, Accepted), decision
            events.extend(decision.events)
            for email in decision.emails:
                scratch[email.id] = email
        emails = self.emails

        def run() -> None:
            for event in events:
                emails[event.email_id] = evolve(emails.get(event.email_id), event)

        return run


CONTENDERS: Final[tuple[type[Contender], ...]] = (
    FsmDecide,
    FsmBuilt,
    FsmEvolve,
    FsmJson,
    Frozen,
    FrozenBuilt,
    Mutable,
    PerModel,
    Shared,
    PythonStateMachine,
)
"""Every contender, email_fsm first (the ratios are to it)."""
