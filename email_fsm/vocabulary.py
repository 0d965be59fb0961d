"""The vocabulary of the lifecycle: phases, view states, directions, triggers.

A *phase* is where an email is, globally (``docs/spec.md``, "Lifecycle and ownership"). A
*view state* is what one agent sees of it in a notification (``docs/spec.md``, "View
states"): the holder sees the phase; an agent the email left sees how it left them
(Completed after they completed, rejected or transferred it; Revoked when the system withdrew
their invitation; Sent, Canceled).

The names are GWS's own spellings, so ``str(Phase.CANCELED) == "Canceled"`` and every
enum here can be written to JSON as is.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import IntEnum, StrEnum
from types import MappingProxyType
from typing import Final

__all__ = [
    "CHANNEL",
    "HOLDER_VIEWS",
    "TERMINAL_PHASES",
    "TERMINAL_VIEW_STATES",
    "Direction",
    "NotificationType",
    "Operation",
    "Phase",
    "StatusCode",
    "SystemEvent",
    "Trigger",
    "ViewState",
]


class Phase(StrEnum):
    """Where an email is in its lifecycle; exactly one at any time."""

    QUEUED = "Queued"
    INVITED = "Invited"
    PROCESSING = "Processing"
    COMPOSING = "Composing"
    COMPLETED = "Completed"
    SENT = "Sent"
    CANCELED = "Canceled"


TERMINAL_PHASES: frozenset[Phase] = frozenset({Phase.COMPLETED, Phase.SENT, Phase.CANCELED})
"""Phases an email never leaves."""


class ViewState(StrEnum):
    """The ``state`` field of a notification: the email as its recipient sees it."""

    INVITED = "Invited"
    PROCESSING = "Processing"
    COMPOSING = "Composing"
    COMPLETED = "Completed"
    CANCELED = "Canceled"
    SENT = "Sent"
    REVOKED = "Revoked"


TERMINAL_VIEW_STATES: frozenset[ViewState] = frozenset(
    {ViewState.COMPLETED, ViewState.CANCELED, ViewState.SENT, ViewState.REVOKED}
)
"""View states after which the email is gone from the recipient's desktop: they completed,
rejected or transferred it (Completed), canceled or sent it, or the system withdrew their
invitation (Revoked). Such notifications carry no capabilities."""


HOLDER_VIEWS: Mapping[Phase, ViewState] = MappingProxyType(
    {phase: ViewState(phase.value) for phase in Phase if phase.value in set(ViewState)}
)
"""What the holder of an email in a phase sees: that phase, as a view state (Queued and
the terminal phases have no holder, and Queued no view state)."""


class Direction(StrEnum):
    """Inbound: a customer wrote in. Outbound: an agent composes it."""

    INBOUND = "Inbound"
    OUTBOUND = "Outbound"


class Operation(StrEnum):
    """The agent operations of the GWS Email API v2 (the ``operationName`` values)."""

    ACCEPT = "Accept"
    REJECT = "Reject"
    TRANSFER = "Transfer"
    COMPLETE = "Complete"
    REPLY = "Reply"
    REPLY_ALL = "ReplyAll"
    CREATE = "Create"
    SAVE = "Save"
    SEND = "Send"
    CANCEL = "Cancel"
    ADD_ATTACHMENT = "AddAttachment"
    REMOVE_ATTACHMENT = "RemoveAttachment"
    ATTACH_USER_DATA = "AttachUserData"
    UPDATE_USER_DATA = "UpdateUserData"
    DELETE_USER_DATA = "DeleteUserData"
    SET_DISPOSITION = "SetDisposition"
    ADD_COMMENT = "AddComment"
    SET_IN_FOCUS = "SetInFocus"


class SystemEvent(StrEnum):
    """What the contact center does that no agent asked for (``docs/spec.md``, "System events")."""

    ARRIVE = "Arrive"
    OFFER = "Offer"
    REVOKE = "Revoke"


Trigger = Operation | SystemEvent
"""Anything that can move an email: an agent operation or a system event."""


class NotificationType(StrEnum):
    """The ``notificationType`` of a GWS email notification (``docs/spec.md``, "Notifications")."""

    STATUS_CHANGE = "StatusChange"
    PROPERTIES_UPDATED = "PropertiesUpdated"
    EMAIL_SAVED = "EmailSaved"
    ATTACHMENT_ADDED = "AttachmentAdded"
    ATTACHMENT_REMOVED = "AttachmentRemoved"


CHANNEL: Final = "/v2/me/emails"
"""The CometD channel of email notifications."""


class StatusCode(IntEnum):
    """GWS status codes used by this model; ``OK`` is the accepted response."""

    OK = 0
    MISSING_PARAMETER = 1
    INVALID_STATE = 2
    FORBIDDEN = 3
    NOT_FOUND = 6
    INVALID_VALUE = 10
    ALREADY_EXISTS = 18
