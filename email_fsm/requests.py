"""The boundary: GWS request bodies in, typed commands (or refusals) out.

:func:`parse_request` turns a raw GWS request body — a ``dict``, or JSON text or bytes —
into a typed :mod:`~email_fsm.commands` value, through a pydantic discriminated union on
``operationName`` with GWS's camelCase names. Malformed input of any kind is a
:class:`~email_fsm.Refused`, never an exception:

- not JSON, not an object, an unknown ``operationName``, a wrong type, a malformed URI,
  contradictory parameters (``userUri`` and ``queueName``): 10;
- a missing ``operationName`` or required parameter: 1.

:func:`handle_request` is the whole synchronous path of a GWS server: existence checks,
parsing, then :func:`~email_fsm.decide`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Annotated, Any, Literal, get_args
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, JsonValue, TypeAdapter, ValidationError

from .commands import (
    Accept,
    AddAttachment,
    AddComment,
    AgentCommand,
    AttachUserData,
    Cancel,
    Complete,
    Create,
    DeleteUserData,
    EmailFields,
    Reject,
    RemoveAttachment,
    Reply,
    ReplyAll,
    Save,
    Send,
    SetDisposition,
    SetInFocus,
    Transfer,
    UpdateUserData,
)
from .config import DEFAULT_CONFIG, Config
from .decider import decide
from .decisions import Decision, Refused, StatusCode
from .email import Email, gws_attribute
from .policies import Policy
from .vocabulary import Operation

__all__ = ["REQUEST_MODELS", "handle_request", "parse_request"]


class _Body(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


class _EmailObject(_Body):
    subject: str | None = None
    body: str | None = None
    bodyAsPlainText: str | None = None
    mime: str | None = None
    to: list[str] | None = None
    from_: str | None = Field(default=None, alias="from")
    cc: list[str] | None = None
    bcc: list[str] | None = None

    def fields(self) -> EmailFields:
        values: dict[str, Any] = {}
        for name in EmailFields.__slots__:
            value = getattr(self, gws_attribute(name))
            values[name] = tuple(value) if isinstance(value, list) else value
        return EmailFields(**values)


class _Accept(_Body):
    operationName: Literal["Accept"]
    saveLAR: bool | None = None


class _Reject(_Body):
    operationName: Literal["Reject"]


class _Transfer(_Body):
    operationName: Literal["Transfer"]
    userUri: str | None = None
    targetUri: str | None = None
    queueName: str | None = None


class _Complete(_Body):
    operationName: Literal["Complete"]
    queueName: str | None = None
    saveLAR: bool | None = None


class _ReplyBody(_Body):
    queueUri: str | None = None
    queueName: str | None = None
    body: str | None = None
    bodyAsPlainText: str | None = None
    mime: str | None = None
    userData: dict[str, JsonValue] | None = None
    subjectPrefix: str | None = None
    replyToStartLine: str | None = None
    quoteOriginal: bool | None = None
    indentCharacter: str | None = None


class _Reply(_ReplyBody):
    operationName: Literal["Reply"]


class _ReplyAll(_ReplyBody):
    operationName: Literal["ReplyAll"]


class _Create(_Body):
    operationName: Literal["Create"]
    queueUri: str | None = None
    queueName: str | None = None
    parentId: str | None = None
    userData: dict[str, JsonValue] | None = None


class _Save(_Body):
    operationName: Literal["Save"]
    email: _EmailObject


class _Send(_Body):
    operationName: Literal["Send"]
    queueName: str
    email: _EmailObject | None = None
    saveLAR: bool | None = None


class _Cancel(_Body):
    operationName: Literal["Cancel"]


class _AddAttachment(_Body):
    operationName: Literal["AddAttachment"]
    documentId: str
    name: str | None = None
    size: int | None = None
    mime: str | None = None


class _RemoveAttachment(_Body):
    operationName: Literal["RemoveAttachment"]
    documentId: str


class _AttachUserData(_Body):
    operationName: Literal["AttachUserData"]
    userData: dict[str, JsonValue]


class _UpdateUserData(_Body):
    operationName: Literal["UpdateUserData"]
    userData: dict[str, JsonValue]


class _DeleteUserData(_Body):
    operationName: Literal["DeleteUserData"]
    keys: list[str] | None = None
    userData: dict[str, JsonValue] | None = None


class _SetDisposition(_Body):
    operationName: Literal["SetDisposition"]
    disposition: str
    dispositionKey: str | None = None


class _AddComment(_Body):
    operationName: Literal["AddComment"]
    comment: str


class _SetInFocus(_Body):
    operationName: Literal["SetInFocus"]


_Request = Annotated[
    _Accept
    | _Reject
    | _Transfer
    | _Complete
    | _Reply
    | _ReplyAll
    | _Create
    | _Save
    | _Send
    | _Cancel
    | _AddAttachment
    | _RemoveAttachment
    | _AttachUserData
    | _UpdateUserData
    | _DeleteUserData
    | _SetDisposition
    | _AddComment
    | _SetInFocus,
    Field(discriminator="operationName"),
]

_ADAPTER: TypeAdapter[Any] = TypeAdapter(_Request)


class _BadRequest(Exception):
    """Raised inside this module only, turned into a refusal at its edge."""

    def __init__(self, refused: Refused) -> None:
        self.refused = refused


def _invalid(message: str) -> _BadRequest:
    return _BadRequest(Refused(StatusCode.INVALID_VALUE, message))


def _missing(message: str) -> _BadRequest:
    return _BadRequest(Refused(StatusCode.MISSING_PARAMETER, message))


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _load(body: object) -> object:
    if isinstance(body, (bytes, bytearray, memoryview)):
        try:
            body = bytes(body).decode("utf-8")
        except UnicodeDecodeError as error:
            raise _invalid(f"request body is not UTF-8: {error.reason}") from None
    if isinstance(body, str):
        try:
            return json.loads(body, parse_constant=_reject_constant)
        except (ValueError, RecursionError) as error:
            raise _invalid(f"request body is not JSON: {str(error)[:200]}") from None
    return body


def _validate(body: object) -> Any:
    if not isinstance(body, Mapping):
        raise _invalid(f"request body must be a JSON object, not {type(body).__name__}")
    try:
        return _ADAPTER.validate_python(body)
    except ValidationError as error:
        errors = error.errors(include_url=False, include_input=False)
        missing = [e for e in errors if e["type"] in ("missing", "union_tag_not_found")]
        chosen = missing[0] if missing else errors[0]
        if chosen["type"] == "union_tag_not_found":
            raise _missing("operationName is required") from None
        if chosen["type"] == "union_tag_invalid":
            raise _invalid(f"unknown operationName {body.get('operationName')!r}"[:200]) from None
        loc = [str(part) for part in chosen["loc"][1:]]
        where = ".".join(loc if len(loc) <= 6 else [*loc[:3], "...", loc[-1]])
        message = f"{where}: {chosen['msg']}"[:300]
        raise (_missing(message) if missing else _invalid(message)) from None


def _last_segment(uri: str, what: str, *, collection: str | None = None) -> str:
    parts = urlsplit(uri)
    segments = parts.path.rstrip("/").split("/")
    if (
        parts.scheme not in ("http", "https")
        or not parts.netloc
        or len(segments) < 2
        or not segments[-1]
        or (collection is not None and segments[-2] != collection)
    ):
        raise _invalid(f"{what} {uri[:200]!r} is not a valid URI")
    return segments[-1]


def _queue(queue_uri: str | None, queue_name: str | None) -> str | None:
    if queue_uri is not None and queue_name is not None:
        raise _invalid("give queueUri or queueName, not both")
    if queue_uri is not None:
        return _last_segment(queue_uri, "queueUri")
    return queue_name


def _transfer_target(request: _Transfer) -> str | None:
    agents = {
        _last_segment(uri, name, collection="users")
        for uri, name in ((request.userUri, "userUri"), (request.targetUri, "targetUri"))
        if uri is not None
    }
    if len(agents) > 1:
        raise _invalid("userUri and targetUri name different users")
    return agents.pop() if agents else None


def _need(value: str | None, name: str) -> str:
    if value is None:
        raise _missing(f"{name} is required")
    return value


def _command(
    request: Any,
    *,
    actor: str,
    email_id: str | None,
    new_email_id: str | None,
    reference_id: int | None,
) -> AgentCommand:
    if isinstance(request, _Create):
        return Create(
            actor=actor,
            email_id=_need(new_email_id, "newEmailId"),
            reference_id=reference_id,
            queue=_queue(request.queueUri, request.queueName),
            parent_id=request.parentId,
            user_data=request.userData or {},
        )
    common: dict[str, Any] = {
        "actor": actor,
        "email_id": _need(email_id, "emailId"),
        "reference_id": reference_id,
    }
    match request:
        case _Accept():
            return Accept(**common, save_lar=request.saveLAR)
        case _Reject():
            return Reject(**common)
        case _Transfer():
            return Transfer(**common, agent=_transfer_target(request), queue=request.queueName)
        case _Complete():
            return Complete(**common, queue=request.queueName, save_lar=request.saveLAR)
        case _ReplyBody():
            kind = ReplyAll if isinstance(request, _ReplyAll) else Reply
            return kind(
                **common,
                new_email_id=_need(new_email_id, "newEmailId"),
                queue=_queue(request.queueUri, request.queueName),
                body=request.body,
                body_as_plain_text=request.bodyAsPlainText,
                mime=request.mime,
                user_data=request.userData or {},
                subject_prefix=request.subjectPrefix,
                reply_to_start_line=request.replyToStartLine,
                quote_original=bool(request.quoteOriginal),
                indent_character=request.indentCharacter,
            )
        case _Save():
            return Save(**common, fields=request.email.fields())
        case _Send():
            fields = None if request.email is None else request.email.fields()
            return Send(**common, queue=request.queueName, fields=fields, save_lar=request.saveLAR)
        case _Cancel():
            return Cancel(**common)
        case _AddAttachment():
            return AddAttachment(
                **common,
                document_id=request.documentId,
                name=request.name,
                size=request.size,
                mime=request.mime,
            )
        case _RemoveAttachment():
            return RemoveAttachment(**common, document_id=request.documentId)
        case _AttachUserData():
            return AttachUserData(**common, user_data=request.userData)
        case _UpdateUserData():
            return UpdateUserData(**common, user_data=request.userData)
        case _DeleteUserData():
            if request.keys is not None and request.userData is not None:
                raise _invalid("give keys or userData, not both")
            keys = request.keys if request.keys is not None else list(request.userData or ())
            return DeleteUserData(**common, keys=tuple(keys))
        case _SetDisposition():
            return SetDisposition(
                **common, disposition=request.disposition, key=request.dispositionKey
            )
        case _AddComment():
            return AddComment(**common, comment=request.comment)
        case _SetInFocus():
            return SetInFocus(**common)
    raise AssertionError(f"unhandled request {request!r}")  # pragma: no cover


def parse_request(
    body: object,
    *,
    actor: str,
    email_id: str | None = None,
    new_email_id: str | None = None,
    reference_id: int | None = None,
) -> AgentCommand | Refused:
    """Parse a GWS request body into a typed command, or refuse it.

    ``email_id`` is the ``{id}`` of the request URL (not needed for Create);
    ``new_email_id`` the id the caller chose for an email the request creates (Create,
    Reply, ReplyAll).

    >>> parse_request({"operationName": "Transfer", "queueName": "q"},
    ...               actor="a", email_id="E1")
    Transfer(actor='a', email_id='E1', reference_id=None, agent=None, queue='q')
    >>> parse_request('{"operationName": "Fly"}', actor="a", email_id="E1").code
    <StatusCode.INVALID_VALUE: 10>
    """
    loaded: object = None
    try:
        loaded = _load(body)
        return _command(
            _validate(loaded),
            actor=actor,
            email_id=email_id,
            new_email_id=new_email_id,
            reference_id=reference_id,
        )
    except _BadRequest as bad:
        where = f" for email {email_id}" if email_id is not None else ""
        return Refused(
            bad.refused.code, f"{_operation_name(loaded)} refused{where}: {bad.refused.message}"
        )


def _operation_name(loaded: object) -> str:
    name = loaded.get("operationName") if isinstance(loaded, Mapping) else None
    return name if isinstance(name, str) and 0 < len(name) <= 40 else "request"


def _peek_operation_name(body: object) -> str:
    try:
        return _operation_name(_load(body))
    except _BadRequest:
        return "request"


def handle_request(
    emails: Mapping[str, Email],
    body: object,
    *,
    actor: str,
    email_id: str | None = None,
    new_email_id: str | None = None,
    reference_id: int | None = None,
    config: Config = DEFAULT_CONFIG,
    policies: Sequence[Policy] = (),
) -> Decision:
    """Check ids, parse ``body`` and decide it: the synchronous path of a GWS server.

    Checks run in the order of ``docs/spec.md``, "Refusals": the email exists (6), the new
    id is free (18), the request's shape (10/1), then everything :func:`~email_fsm.decide`
    checks.
    """
    if email_id is not None and email_id not in emails:
        return Refused(
            StatusCode.NOT_FOUND,
            f"{_peek_operation_name(body)} refused: email {email_id} not found",
        )
    if new_email_id is not None and new_email_id in emails:
        return Refused(
            StatusCode.ALREADY_EXISTS,
            f"{_peek_operation_name(body)} refused: email {new_email_id} already exists",
        )
    command = parse_request(
        body,
        actor=actor,
        email_id=email_id,
        new_email_id=new_email_id,
        reference_id=reference_id,
    )
    if isinstance(command, Refused):
        return command
    return decide(emails, command, config=config, policies=policies)


REQUEST_MODELS: Mapping[Operation, type[BaseModel]] = MappingProxyType(
    {
        Operation(get_args(model.model_fields["operationName"].annotation)[0]): model
        for model in get_args(get_args(_Request)[0])
    }
)
"""The pydantic model that parses each operation's request body (its fields are the
GWS parameters, by their GWS names; ``operationName`` is the discriminator)."""
