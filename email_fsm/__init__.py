"""email_fsm: the GWS Email API v2 email lifecycle as a pure, typed decider.

Commands in (typed values, or raw GWS request bodies through :func:`handle_request`),
decisions out: :class:`Accepted` (domain events, the resulting emails and the GWS
notifications, each addressed to its recipient) or :class:`Refused` (a GWS status code
and a reason). The model does no I/O; :class:`ContactCenter` is a thin shell that keeps
the live emails in a dict.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from .capabilities import ADVERTISED, ALLOWED, Permissions, allowed, capabilities, permissions
from .center import ContactCenter
from .commands import (
    Accept,
    AddAttachment,
    AddComment,
    AgentCommand,
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
    SystemCommand,
    Transfer,
    UpdateUserData,
)
from .config import DEFAULT_CONFIG, Config, Limits
from .decider import decide, evolve, is_terminal, replay
from .decisions import Accepted, Decision, Refused, RefusedError, StatusCode
from .email import Attachment, Content, Email, UserData, email_from_json, email_to_json
from .events import Event
from .notifications import Notification
from .policies import Policy, max_transfers, no_transfer_back, require_disposition
from .store import EmailStore
from .table import ROWS, TABLE, Row
from .views import agent_emails, view
from .vocabulary import (
    TERMINAL_PHASES,
    TERMINAL_VIEW_STATES,
    Direction,
    NotificationType,
    Operation,
    Phase,
    SystemEvent,
    Trigger,
    ViewState,
)

if TYPE_CHECKING:
    from .codec import (
        SCHEMA_VERSION,
        CodecError,
        decision_from_json,
        decision_to_json,
        event_from_json,
        event_to_json,
        events_from_jsonl,
        events_to_jsonl,
    )
    from .messages import GwsMessage
    from .requests import (
        ParsedRequest,
        handle_request,
        parse_request,
        parse_request_ignoring,
        parse_system_event,
    )

__version__ = "0.1.0"

# The pydantic boundary loads on first use, so that `import email_fsm` stays cheap
# (pydantic's models cost more to import than the rest of the package).
_LAZY = {
    "SCHEMA_VERSION": "codec",
    "CodecError": "codec",
    "decision_from_json": "codec",
    "decision_to_json": "codec",
    "event_from_json": "codec",
    "event_to_json": "codec",
    "events_from_jsonl": "codec",
    "events_to_jsonl": "codec",
    "GwsMessage": "messages",
    "handle_request": "requests",
    "parse_request": "requests",
    "ParsedRequest": "requests",
    "parse_request_ignoring": "requests",
    "parse_system_event": "requests",
}


if not TYPE_CHECKING:  # hidden from type checkers, which would then accept any name

    def __getattr__(name: str) -> object:
        module = _LAZY.get(name)
        if module is None:
            raise AttributeError(f"module 'email_fsm' has no attribute {name!r}")
        value = getattr(importlib.import_module(f".{module}", __name__), name)
        globals()[name] = value
        return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = [
    "ADVERTISED",
    "ALLOWED",
    "DEFAULT_CONFIG",
    "ROWS",
    "SCHEMA_VERSION",
    "TABLE",
    "TERMINAL_PHASES",
    "TERMINAL_VIEW_STATES",
    "Accept",
    "Accepted",
    "AddAttachment",
    "AddComment",
    "AgentCommand",
    "Arrive",
    "AttachUserData",
    "Attachment",
    "Cancel",
    "CodecError",
    "Command",
    "Complete",
    "Config",
    "ContactCenter",
    "Content",
    "Create",
    "Decision",
    "DeleteUserData",
    "Direction",
    "Email",
    "EmailFields",
    "EmailStore",
    "Event",
    "GwsMessage",
    "Limits",
    "Notification",
    "NotificationType",
    "Offer",
    "Operation",
    "ParsedRequest",
    "Permissions",
    "Phase",
    "Policy",
    "Refused",
    "RefusedError",
    "Reject",
    "RemoveAttachment",
    "Reply",
    "ReplyAll",
    "Revoke",
    "Row",
    "Save",
    "Send",
    "SetDisposition",
    "SetInFocus",
    "StatusCode",
    "SystemCommand",
    "SystemEvent",
    "Transfer",
    "Trigger",
    "UpdateUserData",
    "UserData",
    "ViewState",
    "__version__",
    "agent_emails",
    "allowed",
    "capabilities",
    "decide",
    "decision_from_json",
    "decision_to_json",
    "email_from_json",
    "email_to_json",
    "event_from_json",
    "event_to_json",
    "events_from_jsonl",
    "events_to_jsonl",
    "evolve",
    "handle_request",
    "is_terminal",
    "max_transfers",
    "no_transfer_back",
    "parse_request",
    "parse_request_ignoring",
    "parse_system_event",
    "permissions",
    "replay",
    "require_disposition",
    "view",
]
