"""The handlers: each command's operation-specific rules, and the event it produces.

Step ``RULES`` of :data:`email_fsm.decider.CHECKS`. A handler runs once the email, the
command's shape, the actor and the phase have passed; it gets the table row that matched
and returns the branch of the row it took with the one domain event, or a refusal by
one of its rules.

Rules of this module:

- every check that can refuse here is a :class:`~email_fsm.table.Rule`, refused through
  :func:`_rule` with the code :data:`~email_fsm.table.RULE_CODES` gives it;
- each handler declares the rules it checks (:data:`HANDLERS`), and
  :func:`email_fsm.decider.check_handlers` makes the table load fail when a row of the
  handler's trigger names other rules;
- handlers build events and nothing else: the resulting email comes from
  :func:`email_fsm.evolve`, the notifications from the row's notices.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, TypeAlias

from ._frozen import builder
from .commands import (
    Accept,
    AddAttachment,
    AddComment,
    Arrive,
    AttachUserData,
    Cancel,
    Complete,
    Create,
    DeleteUserData,
    EmailFields,
    Offer,
    Reject,
    RemoveAttachment,
    Reply,
    ReplyAll,
    Revoke,
    Save,
    Send,
    SetDisposition,
    SetInFocus,
    Transfer,
    UpdateUserData,
)
from .config import Config
from .decisions import Refused
from .email import (
    EMPTY_CONTENT,
    Attachment,
    Content,
    Email,
    UserData,
    new_content,
    normalized,
    user_data_bytes,
)
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
from .table import RULE_CODES, Branch, Row, Rule
from .vocabulary import Direction

__all__ = ["HANDLERS", "Handler", "Outcome"]

# Python 3.11's EnumType has a __getattr__ hook, which makes every ``Branch.ALWAYS`` a
# slow attribute look-up (about 0.2 µs); the hot paths read these names instead. Drop
# them when requires-python is >= 3.12, where the look-up costs a quarter of that.
_ALWAYS = Branch.ALWAYS
_INBOUND = Branch.INBOUND
_OUTBOUND = Branch.OUTBOUND
_TO_AGENT = Branch.TO_AGENT
_TO_QUEUE = Branch.TO_QUEUE
_FINISHED = Branch.FINISHED
_INBOUND_EMAIL = Direction.INBOUND

Outcome: TypeAlias = tuple[Branch, Event]
"""What a handler decided: the branch of the row it took, and the one event."""
_Outcome: TypeAlias = Outcome

_UserDataCommand: TypeAlias = AttachUserData | UpdateUserData | DeleteUserData | SetDisposition

# The events are built by fast builders with the signatures of their classes (see
# email_fsm._frozen): one per step.
_AttachmentAdded = builder(AttachmentAdded)
_AttachmentRemoved = builder(AttachmentRemoved)
_CommentAdded = builder(CommentAdded)
_EmailArrived = builder(EmailArrived)
_EmailCanceled = builder(EmailCanceled)
_EmailCompleted = builder(EmailCompleted)
_EmailCreated = builder(EmailCreated)
_EmailOffered = builder(EmailOffered)
_EmailSaved = builder(EmailSaved)
_EmailSent = builder(EmailSent)
_FocusSet = builder(FocusSet)
_InvitationAccepted = builder(InvitationAccepted)
_InvitationRejected = builder(InvitationRejected)
_InvitationRevoked = builder(InvitationRevoked)
_ReplyCreated = builder(ReplyCreated)
_TransferredToAgent = builder(TransferredToAgent)
_TransferredToQueue = builder(TransferredToQueue)
_UserDataChanged = builder(UserDataChanged)


def _rule(rule: Rule, message: str) -> Refused:
    return Refused(RULE_CODES[rule], message)


def _handle_arrive(email: Email | None, c: Arrive, row: Row, config: Config) -> _Outcome:
    # An email that arrives with no content shares the one empty Content (it is frozen):
    # no value to build, nothing to keep per email. The first field given ends the test.
    empty = (
        c.from_ is None
        and c.subject is None
        and not c.to
        and not c.cc
        and c.body is None
        and c.body_as_plain_text is None
        and c.mime is None
        and c.contact_id is None
        and c.received_date is None
    )
    content = (
        EMPTY_CONTENT
        if empty
        else new_content(
            from_=c.from_,
            to=normalized(c.to),
            cc=normalized(c.cc),
            subject=c.subject,
            body=c.body,
            body_as_plain_text=c.body_as_plain_text,
            mime=c.mime,
            contact_id=c.contact_id,
            received_date=c.received_date,
        )
    )
    return (
        _ALWAYS,
        _EmailArrived(
            email_id=c.email_id,
            phase=row.target(_ALWAYS),
            queue=c.queue,
            content=content,
            user_data=dict(c.user_data),
        ),
    )


def _handle_offer(email: Email | None, c: Offer, row: Row, config: Config) -> _Outcome:
    return (
        _ALWAYS,
        _EmailOffered(email_id=c.email_id, phase=row.target(_ALWAYS), agent=c.agent),
    )


def _handle_revoke(email: Email | None, c: Revoke, row: Row, config: Config) -> _Outcome:
    assert email is not None
    assert email.invitee is not None
    return (
        _ALWAYS,
        _InvitationRevoked(
            email_id=c.email_id,
            phase=row.target(_ALWAYS),
            agent=email.invitee,
            queue=email.queue,
        ),
    )


def _handle_accept(email: Email | None, c: Accept, row: Row, config: Config) -> _Outcome:
    assert email is not None
    branch = _INBOUND if email.direction is _INBOUND_EMAIL else _OUTBOUND
    return (
        branch,
        _InvitationAccepted(email_id=c.email_id, phase=row.target(branch), agent=c.actor),
    )


def _handle_reject(email: Email | None, c: Reject, row: Row, config: Config) -> _Outcome:
    assert email is not None
    return (
        _ALWAYS,
        _InvitationRejected(
            email_id=c.email_id, phase=row.target(_ALWAYS), agent=c.actor, queue=email.queue
        ),
    )


def _handle_transfer(
    email: Email | None, c: Transfer, row: Row, config: Config
) -> _Outcome | Refused:
    if c.agent is not None:
        if c.agent == c.actor:
            return _rule(Rule.NOT_TO_SELF, f"{c.actor} cannot transfer an email to themselves")
        return (
            _TO_AGENT,
            _TransferredToAgent(
                email_id=c.email_id, phase=row.target(_TO_AGENT), by=c.actor, agent=c.agent
            ),
        )
    assert c.queue is not None
    return (
        _TO_QUEUE,
        _TransferredToQueue(
            email_id=c.email_id, phase=row.target(_TO_QUEUE), by=c.actor, queue=c.queue
        ),
    )


def _handle_complete(email: Email | None, c: Complete, row: Row, config: Config) -> _Outcome:
    branch = _FINISHED if c.queue is None else _TO_QUEUE
    return (
        branch,
        _EmailCompleted(email_id=c.email_id, phase=row.target(branch), by=c.actor, queue=c.queue),
    )


def _merged_limit(user_data: UserData, config: Config) -> Refused | None:
    limits = config.limits
    if len(user_data) > limits.max_user_data_keys:
        return _rule(
            Rule.USER_DATA_LIMIT,
            f"userData would have {len(user_data)} keys (limit {limits.max_user_data_keys})",
        )
    size = user_data_bytes(user_data)
    if size > limits.max_user_data_bytes:
        return _rule(
            Rule.USER_DATA_LIMIT,
            f"userData would be {size} bytes as JSON (limit {limits.max_user_data_bytes})",
        )
    return None


def _quote(text: str | None, start_line: str | None, indent: str) -> str:
    lines = [] if start_line is None else [start_line]
    lines.extend(f"{indent} {line}" for line in (text or "").splitlines())
    return "\n".join(lines)


def _handle_reply(
    email: Email | None, c: Reply | ReplyAll, row: Row, config: Config
) -> _Outcome | Refused:
    assert email is not None
    assert row.creates is not None
    original = email.content
    user_data: dict[str, Any] = {}
    if original.contact_id is not None:
        user_data["ContactId"] = original.contact_id
    user_data.update(c.user_data)
    refused = _merged_limit(user_data, config)
    if refused is not None:
        return refused
    body_as_plain_text = c.body_as_plain_text
    if c.quote_original:
        plain = (
            original.body_as_plain_text
            if original.body_as_plain_text is not None
            else original.body
        )
        body_as_plain_text = _quote(plain, c.reply_to_start_line, c.indent_character or ">")
    prefix = "Re: " if c.subject_prefix is None else c.subject_prefix
    content = Content(
        from_=original.to[0] if original.to else None,
        to=(original.from_,) if original.from_ is not None else (),
        cc=original.cc if isinstance(c, ReplyAll) else (),
        subject=prefix + (original.subject or ""),
        body=c.body,
        body_as_plain_text=body_as_plain_text,
        mime=c.mime,
        contact_id=original.contact_id,
        parent_id=email.id,
    )
    return (
        _ALWAYS,
        _ReplyCreated(
            email_id=c.new_email_id,
            phase=row.creates,
            original_id=email.id,
            operation=c.operation,
            owner=c.actor,
            queue=c.queue or config.default_queue,
            content=content,
            user_data=user_data,
        ),
    )


def _handle_create(email: Email | None, c: Create, row: Row, config: Config) -> _Outcome:
    return (
        _ALWAYS,
        _EmailCreated(
            email_id=c.email_id,
            phase=row.target(_ALWAYS),
            owner=c.actor,
            queue=c.queue or config.default_queue,
            content=Content(parent_id=c.parent_id),
            user_data=dict(c.user_data),
        ),
    )


def _saved(content: Content, fields: EmailFields) -> Content:
    changes: dict[str, Any] = {}
    for name in EmailFields.__struct_fields__:
        value = getattr(fields, name)
        if value is not None:
            changes[name] = normalized(value) if isinstance(value, tuple) else value
    return replace(content, **changes)


def _handle_save(email: Email | None, c: Save, row: Row, config: Config) -> _Outcome:
    assert email is not None
    return (
        _ALWAYS,
        _EmailSaved(email_id=c.email_id, by=c.actor, content=_saved(email.content, c.fields)),
    )


def _handle_send(email: Email | None, c: Send, row: Row, config: Config) -> _Outcome | Refused:
    assert email is not None
    content = email.content if c.fields is None else _saved(email.content, c.fields)
    if not (content.to or content.cc or content.bcc):
        return _rule(Rule.HAS_RECIPIENT, "the email has no recipient (to, cc or bcc)")
    return (
        _ALWAYS,
        _EmailSent(
            email_id=c.email_id,
            phase=row.target(_ALWAYS),
            by=c.actor,
            queue=c.queue,
            content=content,
        ),
    )


def _handle_cancel(email: Email | None, c: Cancel, row: Row, config: Config) -> _Outcome:
    return (
        _ALWAYS,
        _EmailCanceled(email_id=c.email_id, phase=row.target(_ALWAYS), by=c.actor),
    )


def _handle_add_attachment(
    email: Email | None, c: AddAttachment, row: Row, config: Config
) -> _Outcome | Refused:
    assert email is not None
    if any(a.id == c.document_id for a in email.attachments):
        return _rule(Rule.ATTACHMENT_IS_NEW, f"attachment {c.document_id} is already attached")
    limit = config.limits.max_attachments
    if len(email.attachments) >= limit:
        return _rule(Rule.ATTACHMENT_LIMIT, f"the email already has {limit} attachments")
    attachment = Attachment(id=c.document_id, name=c.name, size=c.size, mime=c.mime)
    return (_ALWAYS, _AttachmentAdded(email_id=c.email_id, by=c.actor, attachment=attachment))


def _handle_remove_attachment(
    email: Email | None, c: RemoveAttachment, row: Row, config: Config
) -> _Outcome | Refused:
    assert email is not None
    if all(a.id != c.document_id for a in email.attachments):
        return _rule(Rule.ATTACHMENT_EXISTS, f"attachment {c.document_id} is not attached")
    return (
        _ALWAYS,
        _AttachmentRemoved(email_id=c.email_id, by=c.actor, document_id=c.document_id),
    )


def _user_data_changed(c: _UserDataCommand, user_data: UserData) -> _Outcome:
    return (
        _ALWAYS,
        _UserDataChanged(
            email_id=c.email_id, by=c.actor, operation=c.operation, user_data=user_data
        ),
    )


def _handle_put_user_data(
    email: Email | None, c: AttachUserData | UpdateUserData, row: Row, config: Config
) -> _Outcome | Refused:
    assert email is not None
    user_data = {**email.user_data, **c.user_data}
    return _merged_limit(user_data, config) or _user_data_changed(c, user_data)


def _handle_delete_user_data(
    email: Email | None, c: DeleteUserData, row: Row, config: Config
) -> _Outcome:
    assert email is not None
    doomed = set(c.keys)
    # Deleting keys never grows userData: no limit to check.
    return _user_data_changed(c, {k: v for k, v in email.user_data.items() if k not in doomed})


def _handle_disposition(
    email: Email | None, c: SetDisposition, row: Row, config: Config
) -> _Outcome | Refused:
    assert email is not None
    user_data = {**email.user_data, (c.key or config.disposition_key): c.disposition}
    return _merged_limit(user_data, config) or _user_data_changed(c, user_data)


def _handle_comment(email: Email | None, c: AddComment, row: Row, config: Config) -> _Outcome:
    return (_ALWAYS, _CommentAdded(email_id=c.email_id, by=c.actor, comment=c.comment))


def _handle_focus(email: Email | None, c: SetInFocus, row: Row, config: Config) -> _Outcome:
    return (_ALWAYS, _FocusSet(email_id=c.email_id, by=c.actor))


@dataclass(frozen=True, slots=True)
class Handler:
    """A command type's handler and the rules it checks."""

    handle: Callable[[Email | None, Any, Row, Config], Outcome | Refused]
    """``handle(email, command, row, config)``: the branch and event, or a rule's refusal."""
    rules: frozenset[Rule]
    """Exactly the rules ``handle`` can refuse by; the table's rows must name the same."""


def _handler(handle: Callable[..., Outcome | Refused], *rules: Rule) -> Handler:
    return Handler(handle, frozenset(rules))


HANDLERS: Mapping[type, Handler] = {
    Arrive: _handler(_handle_arrive),
    Offer: _handler(_handle_offer),
    Revoke: _handler(_handle_revoke),
    Accept: _handler(_handle_accept),
    Reject: _handler(_handle_reject),
    Transfer: _handler(_handle_transfer, Rule.NOT_TO_SELF),
    Complete: _handler(_handle_complete),
    Reply: _handler(_handle_reply, Rule.USER_DATA_LIMIT),
    ReplyAll: _handler(_handle_reply, Rule.USER_DATA_LIMIT),
    Create: _handler(_handle_create),
    Save: _handler(_handle_save),
    Send: _handler(_handle_send, Rule.HAS_RECIPIENT),
    Cancel: _handler(_handle_cancel),
    AddAttachment: _handler(_handle_add_attachment, Rule.ATTACHMENT_IS_NEW, Rule.ATTACHMENT_LIMIT),
    RemoveAttachment: _handler(_handle_remove_attachment, Rule.ATTACHMENT_EXISTS),
    AttachUserData: _handler(_handle_put_user_data, Rule.USER_DATA_LIMIT),
    UpdateUserData: _handler(_handle_put_user_data, Rule.USER_DATA_LIMIT),
    DeleteUserData: _handler(_handle_delete_user_data),
    SetDisposition: _handler(_handle_disposition, Rule.USER_DATA_LIMIT),
    AddComment: _handler(_handle_comment),
    SetInFocus: _handler(_handle_focus),
}
"""The handler of each command type."""
