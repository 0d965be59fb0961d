"""GWS CometD email messages as typed pydantic models, for reading and validating them.

:meth:`email_fsm.Notification.to_model` builds a :class:`GwsMessage`; a client can
validate what a GWS server sent with ``GwsMessage.model_validate_json(text)``. The
fields are GWS's, with GWS's spellings (``revelantResponseTemplateGroups`` included).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from .vocabulary import CHANNEL, Direction, NotificationType, Operation, ViewState

__all__ = ["GwsAttachment", "GwsEmail", "GwsMessage", "GwsNotificationData"]


class GwsAttachment(BaseModel):
    """An attachment as GWS shows it."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str | None = None
    size: int | None = None
    mime: str | None = None
    uri: str


class GwsEmail(BaseModel):
    """The ``email`` object of a notification; unset fields are left out."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    id: str
    state: ViewState
    capabilities: list[Operation]
    uri: str
    from_: str | None = Field(default=None, alias="from")
    to: list[str] | None = None
    cc: list[str] | None = None
    bcc: list[str] | None = None
    subject: str | None = None
    body: str | None = None
    bodyAsPlainText: str | None = None
    mime: str | None = None
    contactId: str | None = None
    parentId: str | None = None
    receivedDate: str | None = None
    comment: str | None = None
    userData: dict[str, JsonValue] | None = None
    attachments: list[GwsAttachment] | None = None
    revelantResponseTemplateGroups: list[JsonValue] | None = None
    emailType: Direction | None = None
    assignedTo: str | None = None
    suggestedQueueUris: list[str] | None = None


class GwsNotificationData(BaseModel):
    """The ``data`` of a notification message."""

    model_config = ConfigDict(frozen=True)

    messageType: Literal["EmailStateChangeMessage"] = "EmailStateChangeMessage"
    notificationType: NotificationType
    referenceId: int | None = None
    email: GwsEmail


class GwsMessage(BaseModel):
    """A whole CometD message as an agent's client receives it."""

    model_config = ConfigDict(frozen=True)

    channel: Literal["/v2/me/emails"] = CHANNEL
    data: GwsNotificationData
