"""Capabilities and "what may this agent do now?", derived from the lifecycle table.

GWS advertises a ``capabilities`` list in every notification (``docs/spec.md``,
"Capabilities"). Here it is the list of the *advertised* rows of the email's phase, in
table order, for the holder of the email; anybody else gets an empty list. The *allowed*
set adds the rows GWS performs but never advertises (Save, AddAttachment, RemoveAttachment
on a draft).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .email import Email
from .table import TABLE, Actor
from .vocabulary import Operation, Phase

__all__ = ["ADVERTISED", "ALLOWED", "Permissions", "allowed", "capabilities", "permissions"]


def _operations(phase: Phase, *, advertised_only: bool) -> tuple[Operation, ...]:
    return tuple(
        row.trigger
        for row in TABLE
        if row.source is phase
        and isinstance(row.trigger, Operation)
        and row.actor in (Actor.OWNER, Actor.INVITEE)
        and (row.advertised or not advertised_only)
    )


ADVERTISED: Mapping[Phase, tuple[Operation, ...]] = {
    phase: _operations(phase, advertised_only=True) for phase in Phase
}
"""The capability list GWS prints for the holder of an email in each phase."""

ALLOWED: Mapping[Phase, tuple[Operation, ...]] = {
    phase: _operations(phase, advertised_only=False) for phase in Phase
}
"""Every operation the holder of an email in each phase may perform."""

_NONE: tuple[Operation, ...] = ()


def capabilities(email: Email, agent: str) -> tuple[Operation, ...]:
    """The capabilities GWS advertises to ``agent`` for ``email``, in GWS order.

    >>> from email_fsm import Direction, Email, Phase
    >>> e = Email(id="E1", direction=Direction.INBOUND, phase=Phase.INVITED,
    ...           queue="q", invitee="a")
    >>> [str(op) for op in capabilities(e, "a")], capabilities(e, "b")
    (['Accept', 'Reject'], ())
    """
    if agent != email.holder:
        return _NONE
    return ADVERTISED[email.phase]


def allowed(email: Email, agent: str) -> tuple[Operation, ...]:
    """Every operation ``agent`` may perform on ``email`` now (advertised or not)."""
    if agent != email.holder:
        return _NONE
    return ALLOWED[email.phase]


@dataclass(frozen=True, slots=True)
class Permissions:
    """The answer to "what may this agent do with this email now?"."""

    advertised: tuple[Operation, ...]
    """What GWS lists as ``capabilities``, in GWS order."""
    allowed: tuple[Operation, ...]
    """Everything the agent may perform, advertised or not."""

    @property
    def unadvertised(self) -> tuple[Operation, ...]:
        """Allowed, but never listed as a capability by GWS."""
        return tuple(op for op in self.allowed if op not in self.advertised)


def permissions(email: Email, agent: str) -> Permissions:
    """What ``agent`` may do with ``email`` now: advertised, allowed, unadvertised.

    >>> from email_fsm import Direction, Email, Phase
    >>> draft = Email(id="E2", direction=Direction.OUTBOUND, phase=Phase.COMPOSING,
    ...               queue="q", owner="a")
    >>> [str(op) for op in permissions(draft, "a").unadvertised]
    ['Save', 'AddAttachment', 'RemoveAttachment']
    """
    return Permissions(capabilities(email, agent), allowed(email, agent))
