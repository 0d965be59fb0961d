"""Notifications: what an agent is told, shaped exactly like GWS CometD messages.

:func:`email_fsm.decide` addresses each :class:`Notification` to one agent. Rendering to
the GWS shape (``docs/spec.md``, "Notifications") happens on demand: :meth:`Notification.to_json`
builds the JSON text, :meth:`Notification.to_model` the typed pydantic models of
:mod:`email_fsm.messages`, both from the email object :func:`email_object` renders (the
one renderer, which :mod:`email_fsm.views` uses too):

- ``{"channel": "/v2/me/emails", "data": {"messageType": "EmailStateChangeMessage",
  "notificationType": ..., "referenceId": ..., "email": {...}}}``;
- ``referenceId`` only when the notification answers the recipient's own request and
  that request carried one;
- the whole email object, whatever the state: ``id``, ``state``, ``capabilities``,
  ``uri``, then every content field that has a value, ``comment``, ``userData`` when not
  empty, ``attachments`` when not empty (always on AttachmentAdded/AttachmentRemoved),
  and ``revelantResponseTemplateGroups: []`` (GWS's spelling) on inbound emails; an email
  without content shows only the first four;
- with :attr:`~email_fsm.Config.extended_fields`, what later GWS releases add:
  ``emailType``, ``assignedTo`` (the owner, once there is one), ``suggestedQueueUris: []``, and
  ``userData: {}`` when empty.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec

from .capabilities import ADVERTISED
from .config import DEFAULT_CONFIG, Config
from .email import CONTENT_FIELDS, Attachment, Email, gws_attribute, gws_name
from .table import Branch, Recipient, Row
from .vocabulary import (
    CHANNEL,
    HOLDER_VIEWS,
    Direction,
    NotificationType,
    Operation,
    ViewState,
)

if TYPE_CHECKING:
    from .messages import GwsEmail, GwsMessage

__all__ = ["CHANNEL", "Notification", "email_object", "notify"]


class Notification(msgspec.Struct, frozen=True, kw_only=True):
    """One notification, addressed to ``recipient``.

    ``email`` is the email after the step; ``state`` what the recipient sees of it;
    ``capabilities`` what the recipient may do next; ``config`` how it renders (the uri
    template, the fields of later GWS releases). The rendered email object carries every
    content field that has a value, whatever the state.
    """

    recipient: str
    type: NotificationType
    state: ViewState
    email: Email
    capabilities: tuple[Operation, ...]
    reference_id: int | None
    config: Config = DEFAULT_CONFIG

    def to_model(self) -> GwsMessage:
        """The notification as a typed GWS message (:mod:`email_fsm.messages`)."""
        from .messages import GwsMessage, GwsNotificationData

        data: dict[str, Any] = {"notificationType": self.type, "email": self._email_model()}
        if self.reference_id is not None:
            data["referenceId"] = self.reference_id
        return GwsMessage.model_construct(
            channel=CHANNEL,
            data=GwsNotificationData.model_construct(messageType="EmailStateChangeMessage", **data),
        )

    def to_dict(self) -> dict[str, Any]:
        """The notification as the JSON object GWS sends (``channel`` and ``data``)."""
        return self.to_model().model_dump(mode="json", by_alias=True, exclude_unset=True)

    def to_json(self) -> str:
        """The notification as JSON text."""
        # Built from plain values rather than through the models: the same text as
        # to_model().model_dump_json(by_alias=True, exclude_unset=True) (a test compares
        # them), in a fraction of the time, as servers render every notification.
        data: dict[str, Any] = {
            "messageType": "EmailStateChangeMessage",
            "notificationType": str(self.type),
        }
        if self.reference_id is not None:
            data["referenceId"] = self.reference_id
        kind = self.type
        data["email"] = email_object(
            self.email,
            state=self.state,
            capabilities=self.capabilities,
            config=self.config,
            show_attachments=kind is _ADDED or kind is _REMOVED,
        )
        from pydantic_core import to_json  # imported on first use, not with the package

        return to_json({"channel": CHANNEL, "data": data}).decode()

    def _email_model(self) -> GwsEmail:
        from .messages import GwsAttachment, GwsEmail

        kind = self.type
        fields = email_object(
            self.email,
            state=self.state,
            capabilities=self.capabilities,
            config=self.config,
            show_attachments=kind is _ADDED or kind is _REMOVED,
            plain=False,
        )
        if "attachments" in fields:
            fields["attachments"] = [
                GwsAttachment.model_construct(_fields_set=set(a), **a)
                for a in fields["attachments"]
            ]
        return GwsEmail.model_construct(**fields)


def email_object(
    email: Email,
    *,
    state: ViewState,
    capabilities: tuple[Operation, ...],
    config: Config = DEFAULT_CONFIG,
    show_attachments: bool = False,
    plain: bool = True,
) -> dict[str, Any]:
    """The GWS email object of ``email``, seen in ``state`` with ``capabilities``.

    The one renderer of the email object, for notifications and for
    :mod:`email_fsm.views`: ``id``, ``state``, ``capabilities``, ``uri`` (from
    ``config.uri_template``), every content field that has a value, ``comment``,
    ``userData`` when not empty, ``attachments`` when not empty or ``show_attachments``
    (AttachmentAdded and AttachmentRemoved notifications show it, possibly ``[]``),
    ``revelantResponseTemplateGroups: []`` on inbound emails, and what
    ``config.extended_fields`` adds. The fields come in GwsEmail's order.

    ``plain`` (the default) gives JSON values: ``from`` by its GWS name, the enums as
    their strings (pydantic's serializer takes the slow path for an enum). ``plain=False``
    gives the values for ``GwsEmail.model_construct``: ``from_``, the enum members.

    >>> from email_fsm import Content, Direction, Email, Phase, ViewState, capabilities
    >>> e = Email(id="E1", direction=Direction.INBOUND, phase=Phase.INVITED, queue="q",
    ...           invitee="a", content=Content(subject="Hello"))
    >>> obj = email_object(e, state=ViewState.INVITED, capabilities=capabilities(e, "a"))
    >>> list(obj)
    ['id', 'state', 'capabilities', 'uri', 'subject', 'revelantResponseTemplateGroups']
    >>> obj["state"], obj["capabilities"], obj["uri"]
    ('Invited', ['Accept', 'Reject'], 'http://localhost:8080/api/v2/me/emails/E1')
    """
    uri = config.uri_template.format(baseUrl=config.base_url, id=email.id)
    fields: dict[str, Any] = {
        "id": email.id,
        "state": str(state) if plain else state,
        "capabilities": [str(op) for op in capabilities] if plain else list(capabilities),
        "uri": uri,
    }
    content = email.content
    for name, plain_key, model_key in _CONTENT_KEYS:
        value = getattr(content, name)
        if value is not None and value != ():  # no value, or no address: not shown
            fields[plain_key if plain else model_key] = (
                list(value) if isinstance(value, tuple) else value
            )
    if email.comment is not None:
        fields["comment"] = email.comment
    if email.user_data or config.extended_fields:
        fields["userData"] = dict(email.user_data)
    if email.attachments or show_attachments:
        fields["attachments"] = [
            _attachment(a, f"{uri}/attachments/{a.id}") for a in email.attachments
        ]
    if email.direction is Direction.INBOUND:
        fields["revelantResponseTemplateGroups"] = []
    if config.extended_fields:
        fields["emailType"] = str(email.direction) if plain else email.direction
        if email.owner is not None:
            fields["assignedTo"] = email.owner
        fields["suggestedQueueUris"] = []
    return fields


_CONTENT_KEYS = tuple((name, gws_name(name), gws_attribute(name)) for name in CONTENT_FIELDS)
"""Each content field, its GWS name, and its GwsEmail attribute (``from`` is ``from_``)."""


def _attachment(attachment: Attachment, uri: str) -> dict[str, Any]:
    """An attachment's set fields, in GwsAttachment's order."""
    fields: dict[str, Any] = {"id": attachment.id}
    for name in ("name", "size", "mime"):
        value = getattr(attachment, name)
        if value is not None:
            fields[name] = value
    fields["uri"] = uri
    return fields


new_notification = Notification
"""``Notification(...)``, fast: :func:`notify` builds one per notice."""


def notify(
    row: Row,
    branch: Branch,
    command: Any,
    before: Email | None,
    after: Email,
    config: Config,
) -> tuple[Notification, ...]:
    """The notifications of an accepted step: one per notice of ``row`` sent on ``branch``.

    ``before`` is the command's email before the step (``None`` when it creates one),
    ``after`` the email the step's event produced: the command's own email, or the new
    one when the row creates an email (Reply), which only the notices
    ``about_new_email`` show. Each notice's recipient is the actor (with the command's
    ``reference_id``), the command's target agent, or the email's former invitee; the
    state is the notice's view, or what the holder sees (:data:`HOLDER_VIEWS`); the
    capabilities are the recipient's (:func:`email_fsm.capabilities`).
    """
    own = after if before is None or after.id == before.id else before
    notifications = []
    for notice in row.notices:
        if notice.branch is not _ALWAYS and notice.branch is not branch:
            continue
        subject = after if notice.about_new_email else own
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
        phase = subject.phase
        state = HOLDER_VIEWS[phase] if notice.view is None else notice.view
        # capabilities(subject, recipient), spelled out: every notification reads it.
        holder = subject.owner if subject.owner is not None else subject.invitee
        notifications.append(
            new_notification(
                recipient=recipient,
                type=notice.type,
                state=state,
                email=subject,
                capabilities=ADVERTISED[phase] if recipient == holder else _NO_CAPABILITIES,
                reference_id=reference_id,
                config=config,
            )
        )
    return tuple(notifications)


# Module names for the enum members notify reads on every step (see email_fsm.handlers).
_ALWAYS = Branch.ALWAYS
_NO_CAPABILITIES: tuple[Operation, ...] = ()
_ACTOR = Recipient.ACTOR
_TARGET = Recipient.TARGET

_ADDED = NotificationType.ATTACHMENT_ADDED
_REMOVED = NotificationType.ATTACHMENT_REMOVED
"""The notifications whose email object always shows ``attachments``, possibly ``[]``."""
