"""The command's shape: missing values (1), invalid values and values over the limits (10).

Step ``SHAPE`` of :data:`email_fsm.decider.CHECKS`. These checks read the command and
the configured limits only, never an email: a command that a GWS request body would
refuse as malformed is refused the same way when it is built in Python. Every check
returns a :class:`~email_fsm.Refused` or ``None``; :data:`SHAPES` gives each command
type its check.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, TypeAlias

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
from .config import Limits
from .decisions import Refused, StatusCode
from .email import UserData, user_data_bytes

__all__ = ["SHAPES", "ShapeCheck"]

ShapeCheck: TypeAlias = Callable[[Any, Limits], Refused | None]
"""A shape check: ``check(command, limits)`` refuses (1 or 10) or passes (``None``)."""


def _missing(what: str) -> Refused:
    return Refused(StatusCode.MISSING_PARAMETER, f"{what} is required")


def _invalid(what: str) -> Refused:
    return Refused(StatusCode.INVALID_VALUE, what)


def _utf8_over(text: str, limit: int) -> bool:
    # A character takes at most 4 bytes: only long strings need encoding.
    return len(text) * 4 > limit and len(text.encode("utf-8", "surrogatepass")) > limit


def _check_user_data(user_data: UserData, limits: Limits, *, required: bool) -> Refused | None:
    if not user_data:
        return _missing("userData") if required else None
    if len(user_data) > limits.max_user_data_keys:
        return _invalid(f"userData has {len(user_data)} keys (limit {limits.max_user_data_keys})")
    for key, value in user_data.items():
        refused = _check_key(key, limits) or _check_value(value, limits, key)
        if refused is not None:
            return refused
    if user_data:
        size = user_data_bytes(user_data)
        if size > limits.max_user_data_bytes:
            return _invalid(
                f"userData is {size} bytes as JSON (limit {limits.max_user_data_bytes})"
            )
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
    # _check_actor spelled out: Complete ends every inbound lifecycle.
    if not command.actor:
        return _missing("agent")
    if not command.email_id:
        return _missing("emailId")
    if command.queue == "":
        return _invalid("queueName must not be empty")
    return None


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
    # _check_actor and _utf8_over spelled out: AddComment is the commonest step.
    if not command.actor:
        return _missing("agent")
    if not command.email_id:
        return _missing("emailId")
    comment = command.comment
    if not comment:
        return _missing("comment")
    limit = limits.max_comment_bytes
    if len(comment) * 4 > limit and len(comment.encode("utf-8", "surrogatepass")) > limit:
        return _invalid(f"comment is over {limit} bytes")
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


SHAPES: Mapping[type, ShapeCheck] = {
    Arrive: _check_arrive,
    Offer: _check_offer,
    Revoke: _check_email_id,
    Accept: _check_actor,
    Reject: _check_actor,
    Transfer: _check_transfer,
    Complete: _check_complete,
    Reply: _check_reply,
    ReplyAll: _check_reply,
    Create: _check_create,
    Save: _check_save,
    Send: _check_send,
    Cancel: _check_actor,
    AddAttachment: _check_add_attachment,
    RemoveAttachment: _check_remove_attachment,
    AttachUserData: _check_user_data_command,
    UpdateUserData: _check_user_data_command,
    DeleteUserData: _check_delete_user_data,
    SetDisposition: _check_disposition,
    AddComment: _check_comment,
    SetInFocus: _check_actor,
}
"""The shape check of each command type."""
