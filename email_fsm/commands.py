"""Commands: the agent operations and system events, as typed values.

One frozen class per GWS operation (``docs/spec.md``, "Operations") and per system event
(``docs/spec.md``, "System events"). A misspelled operation is a name error and a type
error; a wrong parameter type is a type error. Everything the model must not invent
travels in the command: the actor, the email id, new ids, the reference id.

Commands built in Python are still checked by :func:`email_fsm.decide` (empty values,
contradictory parameters, configured limits), exactly like commands parsed from a GWS
request body by :func:`email_fsm.parse_request`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, ClassVar, TypeAlias

import msgspec
from msgspec import field

from .vocabulary import Operation, SystemEvent

if TYPE_CHECKING:
    from .email import UserData
else:
    # A Struct's signature evaluates its annotations (hypothesis' ``builds`` reads it);
    # :data:`email_fsm.email.UserData` names pydantic's JsonValue, which ``import
    # email_fsm`` does not load. At run time the commands' userData hint is this one;
    # the type checker sees UserData.
    UserData = Mapping[str, object]

__all__ = [
    "Accept",
    "AddAttachment",
    "AddComment",
    "AgentCommand",
    "Arrive",
    "AttachUserData",
    "Cancel",
    "Command",
    "Complete",
    "Create",
    "DeleteUserData",
    "EmailFields",
    "Offer",
    "Reject",
    "RemoveAttachment",
    "Reply",
    "ReplyAll",
    "Revoke",
    "Save",
    "Send",
    "SetDisposition",
    "SetInFocus",
    "SystemCommand",
    "Transfer",
    "UpdateUserData",
]


class EmailFields(msgspec.Struct, frozen=True, kw_only=True):
    """The content fields an agent may save on a draft; ``None`` means "not given"."""

    subject: str | None = None
    body: str | None = None
    body_as_plain_text: str | None = None
    mime: str | None = None
    to: tuple[str, ...] | None = None
    from_: str | None = None
    cc: tuple[str, ...] | None = None
    bcc: tuple[str, ...] | None = None

    def is_empty(self) -> bool:
        """True when no field is given."""
        return all(getattr(self, name) is None for name in self.__struct_fields__)


class _AgentCommand(msgspec.Struct, frozen=True, kw_only=True):
    actor: str
    """The agent performing the operation."""
    email_id: str
    """The email operated on (for Create: the id of the email it creates)."""
    reference_id: int | None = None
    """Echoed as ``referenceId`` in the notifications to the actor."""


class Accept(_AgentCommand, frozen=True, kw_only=True):
    """Accept an invitation: the invitee becomes the owner."""

    operation: ClassVar[Operation] = Operation.ACCEPT
    save_lar: bool | None = None


class Reject(_AgentCommand, frozen=True, kw_only=True):
    """Reject an invitation: the email goes back to its last queue."""

    operation: ClassVar[Operation] = Operation.REJECT


class Transfer(_AgentCommand, frozen=True, kw_only=True):
    """Transfer to an agent (``agent``) or to a queue (``queue``): exactly one."""

    operation: ClassVar[Operation] = Operation.TRANSFER
    agent: str | None = None
    queue: str | None = None


class Complete(_AgentCommand, frozen=True, kw_only=True):
    """Complete an inbound email; with ``queue``, send it there for more processing."""

    operation: ClassVar[Operation] = Operation.COMPLETE
    queue: str | None = None
    save_lar: bool | None = None


class _ReplyCommand(_AgentCommand, frozen=True, kw_only=True):
    new_email_id: str
    """The id of the reply the command creates."""
    queue: str | None = None
    body: str | None = None
    body_as_plain_text: str | None = None
    mime: str | None = None
    user_data: UserData = field(default_factory=dict)
    subject_prefix: str | None = None
    reply_to_start_line: str | None = None
    quote_original: bool = False
    indent_character: str | None = None


class Reply(_ReplyCommand, frozen=True, kw_only=True):
    """Create an outbound reply to the sender of an inbound email.

    What the reply contains: ``docs/spec.md``, "Reply content".
    """

    operation: ClassVar[Operation] = Operation.REPLY


class ReplyAll(_ReplyCommand, frozen=True, kw_only=True):
    """As :class:`Reply`, and the reply's ``cc`` is the original's ``cc``."""

    operation: ClassVar[Operation] = Operation.REPLY_ALL


class Create(_AgentCommand, frozen=True, kw_only=True):
    """Create a new outbound email, owned by the actor, with id ``email_id``."""

    operation: ClassVar[Operation] = Operation.CREATE
    queue: str | None = None
    parent_id: str | None = None
    user_data: UserData = field(default_factory=dict)


class Save(_AgentCommand, frozen=True, kw_only=True):
    """Replace the given content fields of a draft."""

    operation: ClassVar[Operation] = Operation.SAVE
    fields: EmailFields


class Send(_AgentCommand, frozen=True, kw_only=True):
    """Send a draft through ``queue``, saving ``fields`` first when given."""

    operation: ClassVar[Operation] = Operation.SEND
    queue: str
    fields: EmailFields | None = None
    save_lar: bool | None = None


class Cancel(_AgentCommand, frozen=True, kw_only=True):
    """Discard a draft."""

    operation: ClassVar[Operation] = Operation.CANCEL


class AddAttachment(_AgentCommand, frozen=True, kw_only=True):
    """Attach the document ``document_id`` to a draft."""

    operation: ClassVar[Operation] = Operation.ADD_ATTACHMENT
    document_id: str
    name: str | None = None
    size: int | None = None
    mime: str | None = None


class RemoveAttachment(_AgentCommand, frozen=True, kw_only=True):
    """Remove the attachment ``document_id`` from a draft."""

    operation: ClassVar[Operation] = Operation.REMOVE_ATTACHMENT
    document_id: str


class AttachUserData(_AgentCommand, frozen=True, kw_only=True):
    """Add userData pairs; a key already present gets the new value."""

    operation: ClassVar[Operation] = Operation.ATTACH_USER_DATA
    user_data: UserData


class UpdateUserData(_AgentCommand, frozen=True, kw_only=True):
    """Set userData values; keys not present are added."""

    operation: ClassVar[Operation] = Operation.UPDATE_USER_DATA
    user_data: UserData


class DeleteUserData(_AgentCommand, frozen=True, kw_only=True):
    """Remove userData keys; absent keys are ignored."""

    operation: ClassVar[Operation] = Operation.DELETE_USER_DATA
    keys: tuple[str, ...]


class SetDisposition(_AgentCommand, frozen=True, kw_only=True):
    """Set ``userData[key] := disposition`` (``key`` defaults to the configured one)."""

    operation: ClassVar[Operation] = Operation.SET_DISPOSITION
    disposition: str
    key: str | None = None


class AddComment(_AgentCommand, frozen=True, kw_only=True):
    """Set the email's comment."""

    operation: ClassVar[Operation] = Operation.ADD_COMMENT
    comment: str


class SetInFocus(_AgentCommand, frozen=True, kw_only=True):
    """Bring the email into focus on the agent's desktop: recorded, changes nothing."""

    operation: ClassVar[Operation] = Operation.SET_IN_FOCUS


class Arrive(msgspec.Struct, frozen=True, kw_only=True):
    """An inbound email arrives in ``queue`` (system event)."""

    operation: ClassVar[SystemEvent] = SystemEvent.ARRIVE
    email_id: str
    queue: str
    from_: str | None = None
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    subject: str | None = None
    body: str | None = None
    body_as_plain_text: str | None = None
    mime: str | None = None
    contact_id: str | None = None
    received_date: str | None = None
    user_data: UserData = field(default_factory=dict)


class Offer(msgspec.Struct, frozen=True, kw_only=True):
    """Routing offers a queued email to ``agent`` (system event)."""

    operation: ClassVar[SystemEvent] = SystemEvent.OFFER
    email_id: str
    agent: str


class Revoke(msgspec.Struct, frozen=True, kw_only=True):
    """An invitation is withdrawn; the email goes back to its last queue (system event)."""

    operation: ClassVar[SystemEvent] = SystemEvent.REVOKE
    email_id: str


AgentCommand: TypeAlias = (
    Accept
    | Reject
    | Transfer
    | Complete
    | Reply
    | ReplyAll
    | Create
    | Save
    | Send
    | Cancel
    | AddAttachment
    | RemoveAttachment
    | AttachUserData
    | UpdateUserData
    | DeleteUserData
    | SetDisposition
    | AddComment
    | SetInFocus
)
"""Any agent operation."""

SystemCommand: TypeAlias = Arrive | Offer | Revoke
"""Any system event."""

Command: TypeAlias = AgentCommand | SystemCommand
"""Anything :func:`email_fsm.decide` accepts."""
