"""Policies: your business rules, plugged into :func:`email_fsm.decide` as extra guards.

A policy is any callable ``policy(command, email) -> Refused | None``. It runs after every
rule of the model has passed (the last step of the checks, ``docs/spec.md``, "Refusals"),
in the order the policies were given, and sees the command and the email it concerns
(``None`` for Create and Arrive, which have no email yet). Returning a
:class:`~email_fsm.Refused` refuses the command with that code; its message is the
reason only, and :func:`email_fsm.decide` puts the same prefix before it as before the
model's own refusals ("Transfer refused for email E1 (Processing): <reason>").
Returning ``None`` lets the command through. Policies must be pure, like the model.

Writing one::

    from email_fsm import Command, Email, Refused, StatusCode, Transfer

    def vip_only_to_vip_queue(command: Command, email: Email | None) -> Refused | None:
        if isinstance(command, Transfer) and email is not None:
            if email.user_data.get("VIP") is True and command.queue != "vip":
                return Refused(StatusCode.FORBIDDEN, "VIP emails go to the vip queue")
        return None

Three policies ship with the library: :func:`require_disposition`,
:func:`max_transfers` and :func:`no_transfer_back`.
"""

from __future__ import annotations

from typing import Protocol

from .commands import Command, Complete, Transfer
from .decisions import Refused, StatusCode
from .email import Email

__all__ = ["Policy", "max_transfers", "no_transfer_back", "require_disposition"]


class Policy(Protocol):
    """An extra guard: refuse ``command`` on ``email``, or let it through (``None``)."""

    def __call__(self, command: Command, email: Email | None, /) -> Refused | None: ...


def require_disposition(
    key: str = "DispositionCode", code: StatusCode = StatusCode.INVALID_STATE
) -> Policy:
    """Refuse Complete until userData ``key`` is set (by SetDisposition, say).

    >>> from email_fsm import Complete, Direction, Email, Phase
    >>> e = Email(id="E1", direction=Direction.INBOUND, phase=Phase.PROCESSING,
    ...           queue="q", owner="a")
    >>> require_disposition()(Complete(actor="a", email_id="E1"), e).code
    <StatusCode.INVALID_STATE: 2>
    """

    def policy(command: Command, email: Email | None, /) -> Refused | None:
        if isinstance(command, Complete) and email is not None and key not in email.user_data:
            return Refused(code, f"set a disposition ({key}) first")
        return None

    return policy


def max_transfers(limit: int, code: StatusCode = StatusCode.FORBIDDEN) -> Policy:
    """Refuse a Transfer once an email has been transferred ``limit`` times."""
    if limit < 0:
        raise ValueError("limit must not be negative")

    def policy(command: Command, email: Email | None, /) -> Refused | None:
        if isinstance(command, Transfer) and email is not None and email.transfers >= limit:
            return Refused(code, f"already transferred {email.transfers} times (limit {limit})")
        return None

    return policy


def no_transfer_back(code: StatusCode = StatusCode.INVALID_VALUE) -> Policy:
    """Refuse transferring an email back to the agent who last transferred it."""

    def policy(command: Command, email: Email | None, /) -> Refused | None:
        if (
            isinstance(command, Transfer)
            and email is not None
            and command.agent is not None
            and command.agent == email.last_transferred_by
        ):
            return Refused(code, f"{command.agent} just transferred it")
        return None

    return policy
