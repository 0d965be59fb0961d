"""evolve and replay: events applied to emails. Dull on purpose.

``evolve(email, event)`` sets the fields the event names and nothing else: every rule
already ran in :func:`email_fsm.decide`, which computes the emails of its decision with
``evolve`` too, so deciding and replaying cannot disagree. Replaying an email's events
from ``None`` rebuilds it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .email import Email, changed, new_email
from .events import (
    AttachmentAdded,
    AttachmentRemoved,
    CommentAdded,
    EmailArrived,
    EmailCanceled,
    EmailCompleted,
    EmailCreated,
    EmailOffered,
    EmailSaved,
    EmailSent,
    Event,
    FocusSet,
    InvitationAccepted,
    InvitationRejected,
    InvitationRevoked,
    ReplyCreated,
    TransferredToAgent,
    TransferredToQueue,
    UserDataChanged,
)
from .vocabulary import Direction

__all__ = ["evolve", "is_terminal", "replay"]

_INBOUND_EMAIL = Direction.INBOUND
_OUTBOUND_EMAIL = Direction.OUTBOUND


def is_terminal(email: Email | None) -> bool:
    """True when ``email`` is Completed, Sent or Canceled (``None``: not yet created)."""
    return email is not None and email.is_terminal


def _evolve_arrived(email: Email | None, e: EmailArrived) -> Email:
    return new_email(
        id=e.email_id,
        direction=_INBOUND_EMAIL,
        phase=e.phase,
        queue=e.queue,
        owner=None,
        content=e.content,
        user_data=e.user_data,
    )


def _evolve_created(email: Email | None, e: EmailCreated | ReplyCreated) -> Email:
    return new_email(
        id=e.email_id,
        direction=_OUTBOUND_EMAIL,
        phase=e.phase,
        queue=e.queue,
        owner=e.owner,
        content=e.content,
        user_data=e.user_data,
    )


def _evolve_offered(email: Email, e: EmailOffered) -> Email:
    return changed(email, phase=e.phase, invitee=e.agent, version=email.version + 1)


def _evolve_revoked(email: Email, e: InvitationRevoked) -> Email:
    return changed(email, phase=e.phase, invitee=None, queue=e.queue, version=email.version + 1)


def _evolve_accepted(email: Email, e: InvitationAccepted) -> Email:
    return changed(email, phase=e.phase, owner=e.agent, invitee=None, version=email.version + 1)


def _evolve_rejected(email: Email, e: InvitationRejected) -> Email:
    return changed(
        email,
        phase=e.phase,
        invitee=None,
        queue=e.queue,
        rejected_by=email.rejected_by | {e.agent},
        version=email.version + 1,
    )


def _evolve_to_agent(email: Email, e: TransferredToAgent) -> Email:
    return changed(
        email,
        phase=e.phase,
        owner=None,
        invitee=e.agent,
        transfers=email.transfers + 1,
        last_transferred_by=e.by,
        version=email.version + 1,
    )


def _evolve_to_queue(email: Email, e: TransferredToQueue) -> Email:
    return changed(
        email,
        phase=e.phase,
        owner=None,
        queue=e.queue,
        transfers=email.transfers + 1,
        last_transferred_by=e.by,
        version=email.version + 1,
    )


def _evolve_completed(email: Email, e: EmailCompleted) -> Email:
    return changed(
        email, phase=e.phase, owner=None, queue=e.queue or email.queue, version=email.version + 1
    )


def _evolve_saved(email: Email, e: EmailSaved) -> Email:
    return changed(email, content=e.content, version=email.version + 1)


def _evolve_sent(email: Email, e: EmailSent) -> Email:
    return changed(
        email,
        phase=e.phase,
        owner=None,
        queue=e.queue,
        content=e.content,
        version=email.version + 1,
    )


def _evolve_canceled(email: Email, e: EmailCanceled) -> Email:
    return changed(email, phase=e.phase, owner=None, version=email.version + 1)


def _evolve_attachment_added(email: Email, e: AttachmentAdded) -> Email:
    return changed(email, attachments=(*email.attachments, e.attachment), version=email.version + 1)


def _evolve_attachment_removed(email: Email, e: AttachmentRemoved) -> Email:
    return changed(
        email,
        attachments=tuple(a for a in email.attachments if a.id != e.document_id),
        version=email.version + 1,
    )


def _evolve_user_data(email: Email, e: UserDataChanged) -> Email:
    return changed(email, user_data=e.user_data, version=email.version + 1)


def _evolve_comment(email: Email, e: CommentAdded) -> Email:
    return changed(email, comment=e.comment, version=email.version + 1)


def _evolve_focus(email: Email, e: FocusSet) -> Email:
    return changed(email, version=email.version + 1)


_CREATIONS: Mapping[type, Callable[[Email | None, Any], Email]] = {
    EmailArrived: _evolve_arrived,
    EmailCreated: _evolve_created,
    ReplyCreated: _evolve_created,
}

_CHANGES: Mapping[type, Callable[[Email, Any], Email]] = {
    EmailOffered: _evolve_offered,
    InvitationRevoked: _evolve_revoked,
    InvitationAccepted: _evolve_accepted,
    InvitationRejected: _evolve_rejected,
    TransferredToAgent: _evolve_to_agent,
    TransferredToQueue: _evolve_to_queue,
    EmailCompleted: _evolve_completed,
    EmailSaved: _evolve_saved,
    EmailSent: _evolve_sent,
    EmailCanceled: _evolve_canceled,
    AttachmentAdded: _evolve_attachment_added,
    AttachmentRemoved: _evolve_attachment_removed,
    UserDataChanged: _evolve_user_data,
    CommentAdded: _evolve_comment,
    FocusSet: _evolve_focus,
}


EVOLVERS: Mapping[type, Callable[[Any, Any], Email]] = {**_CREATIONS, **_CHANGES}
"""Each event type's evolver, ``evolver(email, event)`` (``None`` for the creations):
:func:`evolve` without its checks, for :func:`email_fsm.decide`, whose events apply."""


def evolve(email: Email | None, event: Event) -> Email:
    """Apply ``event`` to ``email`` (``None`` for the events that create an email).

    Raises ``ValueError`` for an event that cannot apply (a creation event on an
    existing email, a change to a missing one, another email's event): such a history
    was not produced by :func:`decide`.
    """
    kind = type(event)
    creation = _CREATIONS.get(kind)
    if creation is not None:
        if email is not None:
            raise ValueError(f"{kind.__name__}: email {event.email_id} already exists")
        return creation(None, event)
    if email is None or email.id != event.email_id:
        raise ValueError(f"{kind.__name__} does not apply to {email!r}")
    return _CHANGES[kind](email, event)


def replay(events: Iterable[Event], emails: Mapping[str, Email] | None = None) -> dict[str, Email]:
    """Fold :func:`evolve` over ``events``, starting from ``emails`` (default: none).

    Returns a new dict of every email, as the events left it.
    """
    result = dict(emails or {})
    for event in events:
        result[event.email_id] = evolve(result.get(event.email_id), event)
    return result
