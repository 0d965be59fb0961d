"""decide / evolve: the pure core (DESIGN.md §1).

Theory of operation
-------------------
``decide(emails, command)`` runs every check of SPEC.md §7, in this order, and the first
failure decides the refusal:

1. the email exists (6) and a new id is free (18);
2. the command's shape: missing or empty values (1), contradictory or invalid values and
   values over the configured limits (10);
3. the actor holds the email: its owner or its invitee (3);
4. the lifecycle table has a row for ``(phase, operation)`` (2);
5. the row's operation-specific rules (the code each :class:`~email_fsm.table.Rule`
   names);
6. the caller's policies, in order.

When everything passes, the decision is :class:`Accepted`: the domain events, the
emails as they are after the events, and the notifications the table row sends.
Otherwise it is :class:`~email_fsm.Refused`. ``decide`` never raises on a command, and
never changes ``emails``.

``evolve(email, event)`` applies one event to one email by setting fields. Replaying an
email's events from ``None`` rebuilds it: ``decide`` computes its resulting emails with
``evolve`` too, so the two cannot disagree.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, TypeAlias, TypeVar

from ._frozen import builder
from .capabilities import ADVERTISED
from .commands import (
    Accept,
    AddAttachment,
    AddComment,
    Arrive,
    AttachUserData,
    Cancel,
    Command,
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
from .config import DEFAULT_CONFIG, Config, Limits
from .decisions import Accepted, Decision, Refused, StatusCode
from .email import (
    Attachment,
    Content,
    Email,
    UserData,
    changed,
    new_content,
    new_email,
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
from .notifications import Notification, new_notification
from .policies import Policy
from .table import ROWS, RULE_CODES, Branch, Recipient, Row, Rule
from .vocabulary import TERMINAL_VIEW_STATES, Direction, Phase, ViewState

__all__ = ["CHECKS", "Check", "CheckStep", "decide", "evolve", "is_terminal", "replay"]

# Python 3.11's EnumType has a __getattr__ hook, which makes every ``Branch.ALWAYS`` a
# slow attribute look-up (about 0.2 µs); the hot paths read these names instead.
_ALWAYS = Branch.ALWAYS
_INBOUND = Branch.INBOUND
_OUTBOUND = Branch.OUTBOUND
_TO_AGENT = Branch.TO_AGENT
_TO_QUEUE = Branch.TO_QUEUE
_FINISHED = Branch.FINISHED
_ACTOR = Recipient.ACTOR
_TARGET = Recipient.TARGET
_INBOUND_EMAIL = Direction.INBOUND
_OUTBOUND_EMAIL = Direction.OUTBOUND

_C = TypeVar("_C")


class CheckStep(StrEnum):
    """The steps of :func:`decide`, named; :data:`CHECKS` orders them."""

    EXISTS = "the email exists"
    NEW_ID = "a new email id is free"
    SHAPE = "the command's shape"
    HOLDER = "the actor may act on the email"
    PHASE = "the phase allows the operation"
    RULES = "the row's operation-specific rules"
    POLICIES = "the caller's policies, in order"


@dataclass(frozen=True, slots=True)
class Check:
    """One step of :func:`decide`: what it checks and the codes it refuses with."""

    step: CheckStep
    codes: tuple[StatusCode, ...]
    """The codes this step can refuse with (rules and policies: the ones they name)."""


CHECKS: tuple[Check, ...] = (
    Check(CheckStep.EXISTS, (StatusCode.NOT_FOUND, StatusCode.ALREADY_EXISTS)),
    Check(CheckStep.NEW_ID, (StatusCode.ALREADY_EXISTS,)),
    Check(CheckStep.SHAPE, (StatusCode.MISSING_PARAMETER, StatusCode.INVALID_VALUE)),
    Check(CheckStep.HOLDER, (StatusCode.FORBIDDEN,)),
    Check(CheckStep.PHASE, (StatusCode.INVALID_STATE,)),
    Check(CheckStep.RULES, ()),
    Check(CheckStep.POLICIES, ()),
)
"""The order in which :func:`decide` checks a command; the first failure decides.

The generated reference (``docs/generated/operations.md``) lists each operation's
refusals in this order too.
"""


_accepted = builder(Accepted)


def is_terminal(email: Email | None) -> bool:
    """True when ``email`` is Completed, Sent or Canceled (``None``: not yet created)."""
    return email is not None and email.is_terminal


# --------------------------------------------------------------------------- decide


def decide(
    emails: Mapping[str, Email],
    command: Command,
    *,
    config: Config = DEFAULT_CONFIG,
    policies: Sequence[Policy] = (),
) -> Decision:
    """Decide ``command`` against the live ``emails`` (read, never changed).

    >>> from email_fsm import Arrive, Offer, Accept
    >>> d = decide({}, Arrive(email_id="E1", queue="inbound"))
    >>> emails = {e.id: e for e in d.emails}
    >>> d = decide(emails, Offer(email_id="E1", agent="a"))
    >>> emails.update((e.id, e) for e in d.emails)
    >>> d = decide(emails, Accept(actor="a", email_id="E1", reference_id=7))
    >>> d.emails[0].phase, d.emails[0].owner
    (<Phase.PROCESSING: 'Processing'>, 'a')
    >>> d.notifications[0].to_dict()["data"]["referenceId"]
    7
    >>> decide(emails, Accept(actor="b", email_id="E1")).response()["statusCode"]
    3
    """
    spec = _SPECS.get(type(command))
    if spec is None:
        raise TypeError(f"not a command: {command!r}")
    return spec.decide(emails, command, config, policies)


_Outcome: TypeAlias = tuple[Branch, tuple[Event, ...]]
"""What a handler decided: the branch of the row taken, and the events."""

_Check: TypeAlias = Callable[[Any, Limits], Refused | None]
_Handler: TypeAlias = Callable[[Email | None, Any, Row, Config], _Outcome | Refused]


@dataclass(frozen=True, slots=True)
class _Spec:
    """How one command type is decided: its shape check and its handler."""

    check: _Check
    handle: _Handler
    creates: bool  # the command names a new email id (Create, Arrive)
    system: bool

    def decide(
        self,
        emails: Mapping[str, Email],
        command: Any,
        config: Config,
        policies: Sequence[Policy],
    ) -> Decision:
        operation = command.operation
        email_id = command.email_id
        email = emails.get(email_id)
        # 1. existence
        if self.creates:
            if email is not None:
                return Refused(
                    StatusCode.ALREADY_EXISTS,
                    f"{operation} refused: email {email_id} already exists",
                )
        elif email is None:
            return Refused(StatusCode.NOT_FOUND, f"{operation} refused: email {email_id} not found")
        new_id = getattr(command, "new_email_id", None)
        if new_id is not None and new_id in emails:
            return Refused(
                StatusCode.ALREADY_EXISTS,
                f"{operation} refused for email {email_id}: email {new_id} already exists",
            )
        # 2. shape
        refused = self.check(command, config.limits)
        if refused is not None:
            return _about(refused, operation, email)
        # 3. holder, 4. phase
        phase = None if email is None else email.phase
        if (
            not self.system
            and email is not None
            and command.actor != (email.owner if email.owner is not None else email.invitee)
        ):
            holder = f"held by {email.holder}" if email.holder else "held by nobody"
            return Refused(
                StatusCode.FORBIDDEN,
                f"{operation} refused for email {email_id} ({phase}): "
                f"{command.actor} is not its holder ({holder})",
            )
        row = ROWS.get((phase, operation))
        if row is None:
            return Refused(
                StatusCode.INVALID_STATE,
                f"{operation} is not valid for email {email_id} in state {phase}",
            )
        # 5. operation-specific rules
        outcome = self.handle(email, command, row, config)
        if isinstance(outcome, Refused):
            return _about(outcome, operation, email)
        # 6. policies
        for policy in policies:
            refused = policy(command, email)
            if refused is not None:
                return refused
        return _accept(emails, email, command, new_id, row, outcome[0], outcome[1], config)


def _about(refused: Refused, operation: str, email: Email | None) -> Refused:
    where = "" if email is None else f" for email {email.id} ({email.phase})"
    return Refused(refused.code, f"{operation} refused{where}: {refused.message}")


def _accept(
    emails: Mapping[str, Email],
    before: Email | None,
    command: Any,
    new_id: str | None,
    row: Row,
    branch: Branch,
    events: tuple[Event, ...],
    config: Config,
) -> Accepted:
    created = None
    if len(events) == 1 and events[0].email_id == command.email_id:
        # The common case: one event, on the command's own email.
        after = evolve(before, events[0])
        touched: tuple[Email, ...] = (after,)
    else:
        changes: dict[str, Email] = {}
        for event in events:
            eid = event.email_id
            current = changes.get(eid)
            if current is None:
                current = before if before is not None and before.id == eid else emails.get(eid)
            changes[eid] = evolve(current, event)
        found = changes.get(command.email_id, before)
        assert found is not None
        after = found
        if new_id is not None:
            created = changes.get(new_id)
        touched = tuple(changes.values())
    notifications: list[Notification] = []
    for notice in row.notices:
        if notice.branch is not _ALWAYS and notice.branch is not branch:
            continue
        subject = created if notice.about_new_email and created is not None else after
        if notice.recipient is _ACTOR:
            recipient = command.actor
            reference_id = command.reference_id
        elif notice.recipient is _TARGET:
            recipient = command.agent
            reference_id = None
        else:  # the former invitee
            assert before is not None
            assert before.invitee is not None
            recipient = before.invitee
            reference_id = None
        state = _VIEWS[subject.phase] if notice.view is None else notice.view
        notifications.append(
            new_notification(
                recipient=recipient,
                type=notice.type,
                state=state,
                email=subject,
                capabilities=ADVERTISED[subject.phase]
                if recipient == (subject.owner if subject.owner is not None else subject.invitee)
                else (),
                reference_id=reference_id,
                full=state not in TERMINAL_VIEW_STATES,
                base_url=config.base_url,
            )
        )
    return _accepted(events, touched, tuple(notifications))


_VIEWS: Mapping[Phase, ViewState] = {
    phase: ViewState(phase.value) for phase in Phase if phase.value in set(ViewState)
}
"""The view state of the holder of an email in a phase (``ViewState(phase)``, looked up)."""


# --------------------------------------------------------------- shape checks (1/10)


def _missing(what: str) -> Refused:
    return Refused(StatusCode.MISSING_PARAMETER, f"{what} is required")


def _invalid(what: str) -> Refused:
    return Refused(StatusCode.INVALID_VALUE, what)


def _utf8_over(text: str, limit: int) -> bool:
    # A character takes at most 4 bytes: only long strings need encoding.
    return len(text) * 4 > limit and len(text.encode("utf-8", "surrogatepass")) > limit


def _check_user_data(user_data: UserData, limits: Limits, *, required: bool) -> Refused | None:
    if required and not user_data:
        return _missing("userData")
    if len(user_data) > limits.max_user_data_keys:
        return _invalid(f"userData has {len(user_data)} keys (limit {limits.max_user_data_keys})")
    for key, value in user_data.items():
        refused = _check_key(key, limits) or _check_value(value, limits, key)
        if refused is not None:
            return refused
    return None


def _check_key(key: str, limits: Limits) -> Refused | None:
    if not key:
        return _invalid("userData keys must not be empty")
    if len(key) > limits.max_key_length:
        return _invalid(f"userData key {key[:40]!r}... is over {limits.max_key_length} characters")
    return None


def _check_value(value: object, limits: Limits, key: str) -> Refused | None:
    if isinstance(value, str):
        if _utf8_over(value, limits.max_value_bytes):
            return _invalid(f"userData value of {key!r} is over {limits.max_value_bytes} bytes")
    elif isinstance(value, float):
        if not math.isfinite(value):
            return _invalid(f"userData value of {key!r} is not a JSON number: {value}")
    elif isinstance(value, list):
        for item in value:
            refused = _check_value(item, limits, key)
            if refused is not None:
                return refused
    elif isinstance(value, dict):
        for item in value.values():
            refused = _check_value(item, limits, key)
            if refused is not None:
                return refused
    return None


def _check_optional(**values: str | None) -> Refused | None:
    for name, value in values.items():
        if value is not None and not value:
            return _invalid(f"{name} must not be empty")
    return None


def _check_required(**values: str | None) -> Refused | None:
    for name, value in values.items():
        if not value:
            return _missing(name)
    return None


def _check_actor(command: Any, limits: Limits) -> Refused | None:
    # _check_required(agent=..., emailId=...), spelled out: every agent command runs it.
    if not command.actor:
        return _missing("agent")
    if not command.email_id:
        return _missing("emailId")
    return None


def _check_transfer(command: Transfer, limits: Limits) -> Refused | None:
    if command.agent is not None and command.queue is not None:
        return _invalid("give userUri or queueName, not both")
    if command.agent is None and command.queue is None:
        return _missing("userUri or queueName")
    refused = _check_actor(command, limits)
    if refused is not None:
        return refused
    if command.agent == "":
        return _invalid("userUri must not be empty")
    if command.queue == "":
        return _invalid("queueName must not be empty")
    return None


def _check_complete(command: Complete, limits: Limits) -> Refused | None:
    refused = _check_actor(command, limits)
    if refused is None and command.queue == "":
        return _invalid("queueName must not be empty")
    return refused


def _check_reply(command: Reply | ReplyAll, limits: Limits) -> Refused | None:
    return (
        _check_actor(command, limits)
        or _check_required(newEmailId=command.new_email_id)
        or _check_optional(queueName=command.queue)
        or _check_user_data(command.user_data, limits, required=False)
    )


def _check_create(command: Create, limits: Limits) -> Refused | None:
    return (
        _check_actor(command, limits)
        or _check_optional(queueName=command.queue, parentId=command.parent_id)
        or _check_user_data(command.user_data, limits, required=False)
    )


def _check_save(command: Save, limits: Limits) -> Refused | None:
    if command.fields.is_empty():
        return _missing("email")
    return _check_actor(command, limits)


def _check_send(command: Send, limits: Limits) -> Refused | None:
    return _check_actor(command, limits) or _check_required(queueName=command.queue)


def _check_add_attachment(command: AddAttachment, limits: Limits) -> Refused | None:
    if command.size is not None and command.size < 0:
        return _invalid("size must not be negative")
    return _check_actor(command, limits) or _check_required(documentId=command.document_id)


def _check_remove_attachment(command: RemoveAttachment, limits: Limits) -> Refused | None:
    return _check_actor(command, limits) or _check_required(documentId=command.document_id)


def _check_user_data_command(
    command: AttachUserData | UpdateUserData, limits: Limits
) -> Refused | None:
    return _check_actor(command, limits) or _check_user_data(
        command.user_data, limits, required=True
    )


def _check_delete_user_data(command: DeleteUserData, limits: Limits) -> Refused | None:
    if not command.keys:
        return _missing("keys")
    for key in command.keys:
        refused = _check_key(key, limits)
        if refused is not None:
            return refused
    return _check_actor(command, limits)


def _check_disposition(command: SetDisposition, limits: Limits) -> Refused | None:
    refused = _check_actor(command, limits) or _check_required(disposition=command.disposition)
    if refused is not None:
        return refused
    if command.key is not None:
        refused = _check_key(command.key, limits)
    return refused or _check_value(command.disposition, limits, "disposition")


def _check_comment(command: AddComment, limits: Limits) -> Refused | None:
    refused = _check_actor(command, limits)
    if refused is not None:
        return refused
    if not command.comment:
        return _missing("comment")
    if _utf8_over(command.comment, limits.max_comment_bytes):
        return _invalid(f"comment is over {limits.max_comment_bytes} bytes")
    return None


def _check_arrive(command: Arrive, limits: Limits) -> Refused | None:
    if not command.email_id:
        return _missing("emailId")
    if not command.queue:
        return _missing("queueName")
    return _check_user_data(command.user_data, limits, required=False)


def _check_offer(command: Offer, limits: Limits) -> Refused | None:
    if not command.email_id:
        return _missing("emailId")
    if not command.agent:
        return _missing("agent")
    return None


def _check_email_id(command: Revoke, limits: Limits) -> Refused | None:
    return _check_required(emailId=command.email_id)


# ------------------------------------------------------ handlers (rules and events)

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


def _branch_outcome(branch: Branch, event: Event) -> _Outcome:
    return (branch, (event,))


def _handle_arrive(email: Email | None, c: Arrive, row: Row, config: Config) -> _Outcome:
    content = new_content(
        from_=c.from_,
        to=c.to,
        cc=c.cc,
        subject=c.subject,
        body=c.body,
        body_as_plain_text=c.body_as_plain_text,
        mime=c.mime,
        contact_id=c.contact_id,
        received_date=c.received_date,
    )
    return _branch_outcome(
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
    return _branch_outcome(
        _ALWAYS,
        _EmailOffered(email_id=c.email_id, phase=row.target(_ALWAYS), agent=c.agent),
    )


def _handle_revoke(email: Email | None, c: Revoke, row: Row, config: Config) -> _Outcome:
    assert email is not None
    assert email.invitee is not None
    return _branch_outcome(
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
    return _branch_outcome(
        branch, _InvitationAccepted(email_id=c.email_id, phase=row.target(branch), agent=c.actor)
    )


def _handle_reject(email: Email | None, c: Reject, row: Row, config: Config) -> _Outcome:
    assert email is not None
    return _branch_outcome(
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
        return _branch_outcome(
            _TO_AGENT,
            _TransferredToAgent(
                email_id=c.email_id, phase=row.target(_TO_AGENT), by=c.actor, agent=c.agent
            ),
        )
    assert c.queue is not None
    return _branch_outcome(
        _TO_QUEUE,
        _TransferredToQueue(
            email_id=c.email_id, phase=row.target(_TO_QUEUE), by=c.actor, queue=c.queue
        ),
    )


def _handle_complete(email: Email | None, c: Complete, row: Row, config: Config) -> _Outcome:
    branch = _FINISHED if c.queue is None else _TO_QUEUE
    return _branch_outcome(
        branch,
        _EmailCompleted(email_id=c.email_id, phase=row.target(branch), by=c.actor, queue=c.queue),
    )


def _merged_limit(email: Email, user_data: UserData, config: Config) -> Refused | None:
    limit = config.limits.max_user_data_keys
    if len(user_data) > limit:
        return _rule(
            Rule.USER_DATA_LIMIT,
            f"userData would have {len(user_data)} keys (limit {limit})",
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
    refused = _merged_limit(email, user_data, config)
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
        (
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
        ),
    )


def _handle_create(email: Email | None, c: Create, row: Row, config: Config) -> _Outcome:
    return _branch_outcome(
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
    changes = {
        name: getattr(fields, name)
        for name in EmailFields.__slots__
        if getattr(fields, name) is not None
    }
    return replace(content, **changes)


def _handle_save(email: Email | None, c: Save, row: Row, config: Config) -> _Outcome:
    assert email is not None
    return _branch_outcome(
        _ALWAYS,
        _EmailSaved(email_id=c.email_id, by=c.actor, content=_saved(email.content, c.fields)),
    )


def _handle_send(email: Email | None, c: Send, row: Row, config: Config) -> _Outcome | Refused:
    assert email is not None
    content = email.content if c.fields is None else _saved(email.content, c.fields)
    if not content.to:
        return _rule(Rule.HAS_RECIPIENT, "the email has no recipient (to)")
    return _branch_outcome(
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
    return _branch_outcome(
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
    return _branch_outcome(
        _ALWAYS, _AttachmentAdded(email_id=c.email_id, by=c.actor, attachment=attachment)
    )


def _handle_remove_attachment(
    email: Email | None, c: RemoveAttachment, row: Row, config: Config
) -> _Outcome | Refused:
    assert email is not None
    if all(a.id != c.document_id for a in email.attachments):
        return _rule(Rule.ATTACHMENT_EXISTS, f"attachment {c.document_id} is not attached")
    return _branch_outcome(
        _ALWAYS,
        _AttachmentRemoved(email_id=c.email_id, by=c.actor, document_id=c.document_id),
    )


def _user_data_changed(
    email: Email, c: Any, user_data: UserData, config: Config
) -> _Outcome | Refused:
    refused = _merged_limit(email, user_data, config)
    if refused is not None:
        return refused
    return _branch_outcome(
        _ALWAYS,
        _UserDataChanged(
            email_id=c.email_id, by=c.actor, operation=c.operation, user_data=user_data
        ),
    )


def _handle_put_user_data(
    email: Email | None, c: AttachUserData | UpdateUserData, row: Row, config: Config
) -> _Outcome | Refused:
    assert email is not None
    return _user_data_changed(email, c, {**email.user_data, **c.user_data}, config)


def _handle_delete_user_data(
    email: Email | None, c: DeleteUserData, row: Row, config: Config
) -> _Outcome | Refused:
    assert email is not None
    doomed = set(c.keys)
    kept = {k: v for k, v in email.user_data.items() if k not in doomed}
    return _user_data_changed(email, c, kept, config)


def _handle_disposition(
    email: Email | None, c: SetDisposition, row: Row, config: Config
) -> _Outcome | Refused:
    assert email is not None
    key = c.key or config.disposition_key
    return _user_data_changed(email, c, {**email.user_data, key: c.disposition}, config)


def _handle_comment(email: Email | None, c: AddComment, row: Row, config: Config) -> _Outcome:
    return _branch_outcome(
        _ALWAYS, _CommentAdded(email_id=c.email_id, by=c.actor, comment=c.comment)
    )


def _handle_focus(email: Email | None, c: SetInFocus, row: Row, config: Config) -> _Outcome:
    return _branch_outcome(_ALWAYS, _FocusSet(email_id=c.email_id, by=c.actor))


def _spec(
    check: Callable[[_C, Limits], Refused | None],
    handle: Callable[..., Any],
    *,
    creates: bool = False,
    system: bool = False,
) -> _Spec:
    return _Spec(check, handle, creates, system)


_SPECS: Mapping[type, _Spec] = {
    Arrive: _spec(_check_arrive, _handle_arrive, creates=True, system=True),
    Offer: _spec(_check_offer, _handle_offer, system=True),
    Revoke: _spec(_check_email_id, _handle_revoke, system=True),
    Accept: _spec(_check_actor, _handle_accept),
    Reject: _spec(_check_actor, _handle_reject),
    Transfer: _spec(_check_transfer, _handle_transfer),
    Complete: _spec(_check_complete, _handle_complete),
    Reply: _spec(_check_reply, _handle_reply),
    ReplyAll: _spec(_check_reply, _handle_reply),
    Create: _spec(_check_create, _handle_create, creates=True),
    Save: _spec(_check_save, _handle_save),
    Send: _spec(_check_send, _handle_send),
    Cancel: _spec(_check_actor, _handle_cancel),
    AddAttachment: _spec(_check_add_attachment, _handle_add_attachment),
    RemoveAttachment: _spec(_check_remove_attachment, _handle_remove_attachment),
    AttachUserData: _spec(_check_user_data_command, _handle_put_user_data),
    UpdateUserData: _spec(_check_user_data_command, _handle_put_user_data),
    DeleteUserData: _spec(_check_delete_user_data, _handle_delete_user_data),
    SetDisposition: _spec(_check_disposition, _handle_disposition),
    AddComment: _spec(_check_comment, _handle_comment),
    SetInFocus: _spec(_check_actor, _handle_focus),
}


# --------------------------------------------------------------------------- evolve


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
    return changed(email, phase=e.phase, invitee=e.agent)


def _evolve_revoked(email: Email, e: InvitationRevoked) -> Email:
    return changed(email, phase=e.phase, invitee=None, queue=e.queue)


def _evolve_accepted(email: Email, e: InvitationAccepted) -> Email:
    return changed(email, phase=e.phase, owner=e.agent, invitee=None)


def _evolve_rejected(email: Email, e: InvitationRejected) -> Email:
    return changed(
        email,
        phase=e.phase,
        invitee=None,
        queue=e.queue,
        rejected_by=email.rejected_by | {e.agent},
    )


def _evolve_to_agent(email: Email, e: TransferredToAgent) -> Email:
    return changed(
        email,
        phase=e.phase,
        owner=None,
        invitee=e.agent,
        transfers=email.transfers + 1,
        last_transferred_by=e.by,
    )


def _evolve_to_queue(email: Email, e: TransferredToQueue) -> Email:
    return changed(
        email,
        phase=e.phase,
        owner=None,
        queue=e.queue,
        transfers=email.transfers + 1,
        last_transferred_by=e.by,
    )


def _evolve_completed(email: Email, e: EmailCompleted) -> Email:
    return changed(email, phase=e.phase, owner=None, queue=e.queue or email.queue)


def _evolve_saved(email: Email, e: EmailSaved) -> Email:
    return changed(email, content=e.content)


def _evolve_sent(email: Email, e: EmailSent) -> Email:
    return changed(email, phase=e.phase, owner=None, queue=e.queue, content=e.content)


def _evolve_canceled(email: Email, e: EmailCanceled) -> Email:
    return changed(email, phase=e.phase, owner=None)


def _evolve_attachment_added(email: Email, e: AttachmentAdded) -> Email:
    return changed(email, attachments=(*email.attachments, e.attachment))


def _evolve_attachment_removed(email: Email, e: AttachmentRemoved) -> Email:
    return changed(email, attachments=tuple(a for a in email.attachments if a.id != e.document_id))


def _evolve_user_data(email: Email, e: UserDataChanged) -> Email:
    return changed(email, user_data=e.user_data)


def _evolve_comment(email: Email, e: CommentAdded) -> Email:
    return changed(email, comment=e.comment)


def _evolve_focus(email: Email, e: FocusSet) -> Email:
    return email


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
