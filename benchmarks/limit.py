"""The limit: a hand-written table machine, the fastest honest way to do the same steps.

Two variants keep exactly the fields of :class:`email_fsm.Email`:

- :class:`FrozenEmail`, a frozen slotted dataclass: every step builds a new value with
  one positional constructor call (the floor for an immutable model);
- :class:`MutableEmail`, a plain slotted object changed in place (for reference: the
  floor for any model at all).

The table is a literal dict of ``(phase, trigger) -> target`` for the rows the benchmark
steps use, and every step makes the checks the model makes for it: the email exists, the
actor holds it, the table has the row, and the rule of the row (Transfer: not to self).
A step returns whether it was done (refused: nothing changed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from email_fsm import Content, Direction, Phase

__all__ = ["FrozenEmail", "FrozenLimit", "MutableEmail", "MutableLimit"]

_IN: Final = Direction.INBOUND
_OUT: Final = Direction.OUTBOUND
_EMPTY: Final = Content()
_NOBODY: Final[frozenset[str]] = frozenset()

# (phase, trigger) -> (target on an inbound email, target on an outbound one);
# Transfer: (to an agent, to a queue); Complete: (finished, to a queue).
_TABLE: Final[dict[tuple[Phase | None, str], tuple[Phase, Phase]]] = {
    (None, "Arrive"): (Phase.QUEUED, Phase.QUEUED),
    (Phase.QUEUED, "Offer"): (Phase.INVITED, Phase.INVITED),
    (Phase.INVITED, "Accept"): (Phase.PROCESSING, Phase.COMPOSING),
    (Phase.PROCESSING, "AddComment"): (Phase.PROCESSING, Phase.PROCESSING),
    (Phase.COMPOSING, "AddComment"): (Phase.COMPOSING, Phase.COMPOSING),
    (Phase.PROCESSING, "Transfer"): (Phase.INVITED, Phase.QUEUED),
    (Phase.COMPOSING, "Transfer"): (Phase.INVITED, Phase.QUEUED),
    (Phase.PROCESSING, "Complete"): (Phase.COMPLETED, Phase.QUEUED),
}


@dataclass(frozen=True, slots=True)
class FrozenEmail:
    """The fields of :class:`email_fsm.Email`, frozen and slotted."""

    id: str
    direction: Direction
    phase: Phase
    queue: str
    owner: str | None = None
    invitee: str | None = None
    content: Content = _EMPTY
    user_data: dict[str, object] = field(default_factory=dict)
    comment: str | None = None
    attachments: tuple[object, ...] = ()
    rejected_by: frozenset[str] = _NOBODY
    transfers: int = 0
    last_transferred_by: str | None = None
    version: int = 0


class FrozenLimit:
    """The frozen-dataclass limit: ``emails`` maps ids to immutable values."""

    name = "limit (frozen dataclass)"

    def __init__(self) -> None:
        self.emails: dict[str, FrozenEmail] = {}

    def phase(self, email_id: str) -> Phase:
        return self.emails[email_id].phase

    def arrive(self, email_id: str, queue: str) -> bool:
        emails = self.emails
        if email_id in emails:
            return False
        emails[email_id] = FrozenEmail(
            email_id,
            _IN,
            _TABLE[None, "Arrive"][0],
            queue,
            None,
            None,
            _EMPTY,
            {},
            None,
            (),
            _NOBODY,
            0,
            None,
            1,
        )
        return True

    def offer(self, email_id: str, agent: str) -> bool:
        e = self.emails.get(email_id)
        if e is None:
            return False
        row = _TABLE.get((e.phase, "Offer"))
        if row is None:
            return False
        self.emails[email_id] = FrozenEmail(
            e.id,
            e.direction,
            row[0],
            e.queue,
            e.owner,
            agent,
            e.content,
            e.user_data,
            e.comment,
            e.attachments,
            e.rejected_by,
            e.transfers,
            e.last_transferred_by,
            e.version + 1,
        )
        return True

    def accept(self, email_id: str, actor: str) -> bool:
        e = self.emails.get(email_id)
        if e is None:
            return False
        if actor != (e.owner if e.owner is not None else e.invitee):
            return False
        row = _TABLE.get((e.phase, "Accept"))
        if row is None:
            return False
        self.emails[email_id] = FrozenEmail(
            e.id,
            e.direction,
            row[0] if e.direction is _IN else row[1],
            e.queue,
            actor,
            None,
            e.content,
            e.user_data,
            e.comment,
            e.attachments,
            e.rejected_by,
            e.transfers,
            e.last_transferred_by,
            e.version + 1,
        )
        return True

    def add_comment(self, email_id: str, actor: str, comment: str) -> bool:
        e = self.emails.get(email_id)
        if e is None:
            return False
        if actor != (e.owner if e.owner is not None else e.invitee):
            return False
        row = _TABLE.get((e.phase, "AddComment"))
        if row is None:
            return False
        self.emails[email_id] = FrozenEmail(
            e.id,
            e.direction,
            row[0],
            e.queue,
            e.owner,
            e.invitee,
            e.content,
            e.user_data,
            comment,
            e.attachments,
            e.rejected_by,
            e.transfers,
            e.last_transferred_by,
            e.version + 1,
        )
        return True

    def transfer(self, email_id: str, actor: str, agent: str) -> bool:
        e = self.emails.get(email_id)
        if e is None:
            return False
        if actor != (e.owner if e.owner is not None else e.invitee):
            return False
        row = _TABLE.get((e.phase, "Transfer"))
        if row is None:
            return False
        if agent == actor:
            return False
        self.emails[email_id] = FrozenEmail(
            e.id,
            e.direction,
            row[0],
            e.queue,
            None,
            agent,
            e.content,
            e.user_data,
            e.comment,
            e.attachments,
            e.rejected_by,
            e.transfers + 1,
            actor,
            e.version + 1,
        )
        return True

    def complete(self, email_id: str, actor: str) -> bool:
        e = self.emails.get(email_id)
        if e is None:
            return False
        if actor != (e.owner if e.owner is not None else e.invitee):
            return False
        row = _TABLE.get((e.phase, "Complete"))
        if row is None:
            return False
        self.emails[email_id] = FrozenEmail(
            e.id,
            e.direction,
            row[0],
            e.queue,
            None,
            e.invitee,
            e.content,
            e.user_data,
            e.comment,
            e.attachments,
            e.rejected_by,
            e.transfers,
            e.last_transferred_by,
            e.version + 1,
        )
        return True


class MutableEmail:
    """The same fields in a slotted object that steps change in place."""

    __slots__ = (
        "attachments",
        "comment",
        "content",
        "direction",
        "id",
        "invitee",
        "last_transferred_by",
        "owner",
        "phase",
        "queue",
        "rejected_by",
        "transfers",
        "user_data",
        "version",
    )

    def __init__(self, email_id: str, direction: Direction, phase: Phase, queue: str) -> None:
        self.id = email_id
        self.direction = direction
        self.phase = phase
        self.queue = queue
        self.owner: str | None = None
        self.invitee: str | None = None
        self.content = _EMPTY
        self.user_data: dict[str, object] = {}
        self.comment: str | None = None
        self.attachments: tuple[object, ...] = ()
        self.rejected_by = _NOBODY
        self.transfers = 0
        self.last_transferred_by: str | None = None
        self.version = 1


class MutableLimit:
    """The mutable limit: the same checks, the email changed in place."""

    name = "limit (mutable object)"

    def __init__(self) -> None:
        self.emails: dict[str, MutableEmail] = {}

    def phase(self, email_id: str) -> Phase:
        return self.emails[email_id].phase

    def arrive(self, email_id: str, queue: str) -> bool:
        emails = self.emails
        if email_id in emails:
            return False
        emails[email_id] = MutableEmail(email_id, _IN, _TABLE[None, "Arrive"][0], queue)
        return True

    def offer(self, email_id: str, agent: str) -> bool:
        e = self.emails.get(email_id)
        if e is None:
            return False
        row = _TABLE.get((e.phase, "Offer"))
        if row is None:
            return False
        e.phase = row[0]
        e.invitee = agent
        e.version += 1
        return True

    def accept(self, email_id: str, actor: str) -> bool:
        e = self.emails.get(email_id)
        if e is None:
            return False
        if actor != (e.owner if e.owner is not None else e.invitee):
            return False
        row = _TABLE.get((e.phase, "Accept"))
        if row is None:
            return False
        e.phase = row[0] if e.direction is _IN else row[1]
        e.owner = actor
        e.invitee = None
        e.version += 1
        return True

    def add_comment(self, email_id: str, actor: str, comment: str) -> bool:
        e = self.emails.get(email_id)
        if e is None:
            return False
        if actor != (e.owner if e.owner is not None else e.invitee):
            return False
        row = _TABLE.get((e.phase, "AddComment"))
        if row is None:
            return False
        e.comment = comment
        e.version += 1
        return True

    def transfer(self, email_id: str, actor: str, agent: str) -> bool:
        e = self.emails.get(email_id)
        if e is None:
            return False
        if actor != (e.owner if e.owner is not None else e.invitee):
            return False
        row = _TABLE.get((e.phase, "Transfer"))
        if row is None:
            return False
        if agent == actor:
            return False
        e.phase = row[0]
        e.owner = None
        e.invitee = agent
        e.transfers += 1
        e.last_transferred_by = actor
        e.version += 1
        return True

    def complete(self, email_id: str, actor: str) -> bool:
        e = self.emails.get(email_id)
        if e is None:
            return False
        if actor != (e.owner if e.owner is not None else e.invitee):
            return False
        row = _TABLE.get((e.phase, "Complete"))
        if row is None:
            return False
        e.phase = row[0]
        e.owner = None
        e.version += 1
        return True
