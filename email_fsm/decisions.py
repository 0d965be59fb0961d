"""Decisions: what :func:`email_fsm.decide` returns. Refusing is a value, never an exception.

A decision is either :class:`Accepted` (the domain events, the emails as they are after
them, and the notifications, each addressed to one agent) or :class:`Refused` (a GWS
status code and a reason naming the operation, the email and its state). The status
codes are GWS's ``ReturnValues`` (``docs/spec.md``, "Refusals").

``accepted`` is typed ``Literal[True]`` on one and ``Literal[False]`` on the other, so
``if decision.accepted:`` narrows a :data:`Decision` under ``mypy --strict``::

    decision = decide(emails, command)
    if decision.accepted:
        store(decision.emails)          # Accepted here
    else:
        reply(decision.response())      # Refused here
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal, TypeAlias

import msgspec

from .vocabulary import StatusCode

if TYPE_CHECKING:
    from .email import Email
    from .events import Event
    from .notifications import Notification

__all__ = ["Accepted", "Decision", "Refused", "RefusedError", "StatusCode"]


class Accepted(msgspec.Struct, frozen=True):
    """An accepted command: what happened, the resulting emails, who is told what.

    ``emails`` holds each email the events touched, as it is after them: the command's
    own email, or, for Create, Reply, ReplyAll and Arrive, the new one (a Reply leaves
    the original as it was, so only the new draft is here). A server stores them; it
    need not evolve the events again.
    """

    events: tuple[Event, ...]
    emails: tuple[Email, ...]
    notifications: tuple[Notification, ...]
    ignored: tuple[str, ...] = ()
    """Parameters of the GWS request that the model does not know and ignored (see
    :class:`~email_fsm.Config`'s ``strict_parameters``): worth a line in a server's log."""
    decided_on: int = 0
    """The version of the command's email (``command.email_id``) the decision read; 0
    when the command creates that email. Store the decision only while the email still
    has this version (and, when the decision creates an email, while its id is free);
    otherwise decide again on the fresh email."""

    accepted: ClassVar[Literal[True]] = True

    def response(self) -> dict[str, int]:
        """The synchronous GWS response body: ``{"statusCode": 0}``."""
        return {"statusCode": 0}

    def unwrap(self) -> Accepted:
        """This decision: it was accepted (:meth:`Refused.unwrap` raises instead)."""
        return self


class Refused(msgspec.Struct, frozen=True):
    """A refused request: nothing changed and nobody is notified.

    >>> Refused(StatusCode.FORBIDDEN, "b may not Complete email E1").response()
    {'statusCode': 3, 'statusMessage': 'b may not Complete email E1'}
    """

    code: StatusCode
    message: str

    accepted: ClassVar[Literal[False]] = False

    def response(self) -> dict[str, int | str]:
        """The synchronous GWS response body for this refusal."""
        return {"statusCode": int(self.code), "statusMessage": self.message}

    def unwrap(self) -> Accepted:
        """Raise :class:`RefusedError`: for simulations and scripts, where a refusal is a
        bug to stop at rather than an answer to send.

        >>> Refused(StatusCode.NOT_FOUND, "Cancel refused: email E9 not found").unwrap()
        Traceback (most recent call last):
        ...
        email_fsm.decisions.RefusedError: 6: Cancel refused: email E9 not found
        """
        raise RefusedError(self)


class RefusedError(Exception):
    """A refusal raised by :meth:`Refused.unwrap` (or a strict store); ``refused`` is it."""

    def __init__(self, refused: Refused) -> None:
        super().__init__(f"{int(refused.code)}: {refused.message}")
        self.refused = refused


Decision: TypeAlias = Accepted | Refused
"""What :func:`email_fsm.decide` returns."""
