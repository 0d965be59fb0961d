"""The email value: lifecycle fields plus content, immutable.

An :class:`Email` is a frozen, slotted value. Its content (:class:`Content`) is a
separate frozen value, so a step that only moves the email through its lifecycle shares
the content with the previous state instead of copying it. ``user_data`` is a plain
``dict`` that is never mutated: every change builds a new one.

Emails serialize to JSON and back without loss through pydantic
(:func:`email_to_json` / :func:`email_from_json`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypeAlias

from pydantic import JsonValue, TypeAdapter

from .phases import TERMINAL_PHASES, Direction, Phase

__all__ = [
    "Attachment",
    "Content",
    "Email",
    "UserData",
    "email_from_json",
    "email_to_json",
]

UserData: TypeAlias = Mapping[str, JsonValue]
"""userData pairs: string keys, JSON values kept with their JSON types."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Content:
    """What an email says. ``None`` means "no value" and is left out of notifications.

    ``from_`` is GWS's ``from`` (a Python keyword). ``received_date`` is kept verbatim
    as the contact center wrote it.
    """

    from_: str | None = None
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    bcc: tuple[str, ...] = ()
    subject: str | None = None
    body: str | None = None
    body_as_plain_text: str | None = None
    mime: str | None = None
    contact_id: str | None = None
    parent_id: str | None = None
    received_date: str | None = None


EMPTY_CONTENT = Content()


@dataclass(frozen=True, slots=True, kw_only=True)
class Attachment:
    """An attachment of a draft; its ``uri`` is derived from the email's when rendered."""

    id: str
    name: str | None = None
    size: int | None = None
    mime: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Email:
    """One email interaction, as the model knows it.

    Ownership (SPEC.md §2): Processing and Composing have an ``owner`` and no
    ``invitee``; Invited has an ``invitee`` and no ``owner``; every other phase has
    neither. ``queue`` is the last queue the email was in (where Reject and Revoke send
    it back). ``rejected_by`` records the agents who rejected it, so routing can avoid
    them; ``transfers`` and ``last_transferred_by`` give business rules its history.
    """

    id: str
    direction: Direction
    phase: Phase
    queue: str
    owner: str | None = None
    invitee: str | None = None
    content: Content = EMPTY_CONTENT
    user_data: UserData = field(default_factory=dict)
    comment: str | None = None
    attachments: tuple[Attachment, ...] = ()
    rejected_by: frozenset[str] = frozenset()
    transfers: int = 0
    last_transferred_by: str | None = None

    @property
    def holder(self) -> str | None:
        """The agent who may change the email now: its owner or its invitee."""
        return self.owner if self.owner is not None else self.invitee

    @property
    def is_terminal(self) -> bool:
        """Completed, Sent or Canceled: nobody can change it any more."""
        return self.phase in TERMINAL_PHASES

    @property
    def inbound(self) -> bool:
        """True for an email a customer wrote in."""
        return self.direction is Direction.INBOUND


_EMAIL_ADAPTER: TypeAdapter[Email] = TypeAdapter(Email)


def email_to_json(email: Email) -> str:
    """Serialize an email (state included) to JSON text."""
    return _EMAIL_ADAPTER.dump_json(email).decode()


def email_from_json(text: str | bytes) -> Email:
    """Rebuild an email from :func:`email_to_json`'s output (validated by pydantic)."""
    return _EMAIL_ADAPTER.validate_json(text)
