"""Domain events: what happened to one email, as small frozen values.

:func:`email_fsm.decide` produces one per accepted command, after every rule has passed;
:func:`email_fsm.evolve` applies it by setting fields, nothing more. Each event concerns
exactly one email (``email_id``): a Reply's event, :class:`ReplyCreated`, is about the
new draft, and names the original in ``original_id``. Events carry resulting values (the
merged content, the new queue) rather than instructions, so that replaying them needs no
rule and no configuration.

Three words that sound alike: a *trigger* (:data:`~email_fsm.vocabulary.Trigger`) is an
agent operation or a system event, a name in the lifecycle table; a *command*
(:mod:`email_fsm.commands`) is one request to perform a trigger, with its parameters; an
*event* (this module) is what an accepted command made happen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from .email import Attachment, Content, UserData
from .vocabulary import Operation, Phase

__all__ = [
    "AttachmentAdded",
    "AttachmentRemoved",
    "CommentAdded",
    "EmailArrived",
    "EmailCanceled",
    "EmailCompleted",
    "EmailCreated",
    "EmailOffered",
    "EmailSaved",
    "EmailSent",
    "Event",
    "FocusSet",
    "InvitationAccepted",
    "InvitationRejected",
    "InvitationRevoked",
    "ReplyCreated",
    "TransferredToAgent",
    "TransferredToQueue",
    "UserDataChanged",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class EmailArrived:
    """A new inbound email is queued in ``queue``."""

    email_id: str
    phase: Phase
    queue: str
    content: Content
    user_data: UserData


@dataclass(frozen=True, slots=True, kw_only=True)
class EmailCreated:
    """An agent created a new outbound draft (Create), owned by ``owner``."""

    email_id: str
    phase: Phase
    owner: str
    queue: str
    content: Content
    user_data: UserData


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplyCreated:
    """Reply or ReplyAll on ``original_id`` created the draft ``email_id``."""

    email_id: str
    phase: Phase
    original_id: str
    operation: Operation
    owner: str
    queue: str
    content: Content
    user_data: UserData


@dataclass(frozen=True, slots=True, kw_only=True)
class EmailOffered:
    """Routing offered the email to ``agent``."""

    email_id: str
    phase: Phase
    agent: str


@dataclass(frozen=True, slots=True, kw_only=True)
class InvitationRevoked:
    """The invitation of ``agent`` was withdrawn; the email is back in ``queue``."""

    email_id: str
    phase: Phase
    agent: str
    queue: str


@dataclass(frozen=True, slots=True, kw_only=True)
class InvitationAccepted:
    """``agent`` accepted; the email is now theirs, Processing or Composing."""

    email_id: str
    phase: Phase
    agent: str


@dataclass(frozen=True, slots=True, kw_only=True)
class InvitationRejected:
    """``agent`` rejected; the email is back in ``queue`` and the rejection recorded."""

    email_id: str
    phase: Phase
    agent: str
    queue: str


@dataclass(frozen=True, slots=True, kw_only=True)
class TransferredToAgent:
    """``by`` transferred the email to ``agent``, who is now invited."""

    email_id: str
    phase: Phase
    by: str
    agent: str


@dataclass(frozen=True, slots=True, kw_only=True)
class TransferredToQueue:
    """``by`` transferred the email to ``queue``."""

    email_id: str
    phase: Phase
    by: str
    queue: str


@dataclass(frozen=True, slots=True, kw_only=True)
class EmailCompleted:
    """``by`` completed the email; with ``queue`` it is queued there, else finished."""

    email_id: str
    phase: Phase
    by: str
    queue: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class EmailSaved:
    """``by`` saved the draft; ``content`` is the content after the save."""

    email_id: str
    by: str
    content: Content


@dataclass(frozen=True, slots=True, kw_only=True)
class EmailSent:
    """``by`` sent the draft through ``queue`` with ``content``."""

    email_id: str
    phase: Phase
    by: str
    queue: str
    content: Content


@dataclass(frozen=True, slots=True, kw_only=True)
class EmailCanceled:
    """``by`` discarded the draft."""

    email_id: str
    phase: Phase
    by: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AttachmentAdded:
    """``by`` attached ``attachment`` to the draft."""

    email_id: str
    by: str
    attachment: Attachment


@dataclass(frozen=True, slots=True, kw_only=True)
class AttachmentRemoved:
    """``by`` removed the attachment ``document_id`` from the draft."""

    email_id: str
    by: str
    document_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class UserDataChanged:
    """``by`` changed userData with ``operation``; ``user_data`` is the result."""

    email_id: str
    by: str
    operation: Operation
    user_data: UserData


@dataclass(frozen=True, slots=True, kw_only=True)
class CommentAdded:
    """``by`` set the email's comment."""

    email_id: str
    by: str
    comment: str


@dataclass(frozen=True, slots=True, kw_only=True)
class FocusSet:
    """``by`` brought the email into focus; the email does not change."""

    email_id: str
    by: str


Event: TypeAlias = (
    EmailArrived
    | EmailCreated
    | ReplyCreated
    | EmailOffered
    | InvitationRevoked
    | InvitationAccepted
    | InvitationRejected
    | TransferredToAgent
    | TransferredToQueue
    | EmailCompleted
    | EmailSaved
    | EmailSent
    | EmailCanceled
    | AttachmentAdded
    | AttachmentRemoved
    | UserDataChanged
    | CommentAdded
    | FocusSet
)
"""Any domain event."""
