"""The boundary: GWS request bodies in, typed commands (or refusals) out.

:func:`parse_request` turns a raw GWS request body — a ``dict``, or JSON text or bytes —
into a typed :mod:`~email_fsm.commands` value, through a pydantic discriminated union on
``operationName`` with GWS's camelCase names. Malformed input of any kind is a
:class:`~email_fsm.Refused`, never an exception:

- JSON text or bytes over ``config.limits.max_body_bytes``, refused before it is parsed;
  not JSON, not an object, an unknown ``operationName``, a wrong type, a malformed URI,
  contradictory parameters (two of ``userUri``, ``targetUri`` and ``queueName``): 10;
- a missing ``operationName`` or required parameter: 1.

:func:`parse_system_event` does the same for the bodies of system events (Arrive, Offer,
Revoke), tagged by ``event``.

A parameter the model does not know is ignored and named: :func:`parse_request_ignoring`
returns it with the command, and :func:`handle_request` in the accepted decision's
``ignored``. With ``Config(strict_parameters=True)`` it is refused with 10, naming the
closest known parameter.

:func:`handle_request` is the whole synchronous path of a GWS server: existence checks,
parsing, then :func:`~email_fsm.decide`.
"""

from __future__ import annotations

import difflib
import functools
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import Annotated, Any, Literal, NamedTuple, get_args
from urllib.parse import urlsplit

import msgspec
from pydantic import BaseModel, ConfigDict, Field, JsonValue, TypeAdapter, ValidationError

from .commands import (
    Accept,
    AddAttachment,
    AddComment,
    AgentCommand,
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
    SystemCommand,
    Transfer,
    UpdateUserData,
)
from .config import DEFAULT_CONFIG, Config
from .decider import decide
from .decisions import Accepted, Decision, Refused, StatusCode
from .email import CONTENT_FIELDS, Email, gws_attribute
from .policies import Policy
from .vocabulary import Operation

__all__ = [
    "REQUEST_MODELS",
    "ParsedRequest",
    "handle_request",
    "parse_request",
    "parse_request_ignoring",
    "parse_system_event",
]


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
        for name in EmailFields.__struct_fields__:
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


# ---------------------------------------------------------------- system events
# The models of the system events' bodies: scenario files' Arrive, Offer and Revoke
# steps (email_fsm.scenario reads them with these), and parse_system_event's bodies.


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class _ArriveEmail(_Strict):
    from_: str | None = Field(default=None, alias="from")
    to: list[str] = []
    cc: list[str] = []
    subject: str | None = None
    body: str | None = None
    bodyAsPlainText: str | None = None
    mime: str | None = None
    contactId: str | None = None
    userData: dict[str, JsonValue] = {}


class _ArriveStep(_Strict):
    event: Literal["Arrive"]
    emailId: str
    queueName: str
    receivedDate: str | None = None
    email: _ArriveEmail = _ArriveEmail()


class _OfferStep(_Strict):
    event: Literal["Offer"]
    emailId: str
    agent: str


class _RevokeStep(_Strict):
    event: Literal["Revoke"]
    emailId: str


_EVENT_ADAPTER: TypeAdapter[Any] = TypeAdapter(
    Annotated[_ArriveStep | _OfferStep | _RevokeStep, Field(discriminator="event")]
)

_ARRIVE_CONTENT = tuple(
    name for name in CONTENT_FIELDS if name in Arrive.__struct_fields__ and name != "received_date"
)
"""The content fields an Arrive body carries in its ``email`` object."""


def _system_command(step: Any) -> SystemCommand:
    """The command of a validated system event model."""
    match step:
        case _ArriveStep():
            e = step.email
            content: dict[str, Any] = {}
            for name in _ARRIVE_CONTENT:
                value = getattr(e, gws_attribute(name))
                content[name] = tuple(value) if isinstance(value, list) else value
            return Arrive(
                email_id=step.emailId,
                queue=step.queueName,
                received_date=step.receivedDate,
                user_data=e.userData,
                **content,
            )
        case _OfferStep():
            return Offer(email_id=step.emailId, agent=step.agent)
    assert isinstance(step, _RevokeStep)
    return Revoke(email_id=step.emailId)


def parse_system_event(body: object, *, config: Config = DEFAULT_CONFIG) -> SystemCommand | Refused:
    """Parse a system event's body (a ``dict``, or JSON text or bytes) into its command.

    The bodies are those of a scenario file's system steps: ``{"event": "Arrive",
    "emailId": ..., "queueName": ..., "receivedDate": ..., "email": {"from": ..., "to":
    [...], "cc": [...], "subject": ..., "body": ..., "bodyAsPlainText": ..., "mime": ...,
    "contactId": ..., "userData": {...}}}`` (``receivedDate`` and ``email`` and each of
    its keys optional), ``{"event": "Offer", "emailId": ..., "agent": ...}`` and
    ``{"event": "Revoke", "emailId": ...}``. They are refused as agent requests are,
    never with an exception: JSON text or bytes over ``config.limits.max_body_bytes``
    (before parsing), not JSON, not an object, an unknown ``event``, a wrong type, a key
    the event does not have: 10; a missing ``event`` or required value: 1.

    >>> parse_system_event('{"event": "Offer", "emailId": "E1", "agent": "a"}')
    Offer(email_id='E1', agent='a')
    >>> refused = parse_system_event({"event": "Offer", "emailId": "E1"})
    >>> refused.code, refused.message
    (<StatusCode.MISSING_PARAMETER: 1>, 'Offer refused for email E1: agent: Field required')
    """
    loaded: object = None
    try:
        loaded = _load(body, config.limits.max_body_bytes, "event body")
        if not isinstance(loaded, Mapping):
            raise _invalid(f"event body must be a JSON object, not {type(loaded).__name__}")
        try:
            step = _EVENT_ADAPTER.validate_python(loaded)
        except ValidationError as error:
            raise _refusal(error, loaded, "event") from None
    except _BadRequest as bad:
        name = _tag(loaded, "event") or "system event"
        email_id = loaded.get("emailId") if isinstance(loaded, Mapping) else None
        where = (
            f" for email {email_id}"
            if isinstance(email_id, str) and 0 < len(email_id) <= 100
            else ""
        )
        return Refused(bad.refused.code, f"{name} refused{where}: {bad.refused.message}")
    return _system_command(step)


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


def _too_big(size: int, limit: int, what: str) -> _BadRequest:
    return _invalid(f"{what} is {size} bytes (limit {limit})")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)
"""One decoder for every body: ``json.loads`` with a ``parse_constant`` would build a new
one (and its scanner) on each call."""


_SCAN: Callable[[str, int], tuple[Any, int]] = _DECODER.scan_once  # type: ignore[attr-defined]


def _json(text: str, what: str) -> object:
    if text[:1] == "{":
        # The common case, an object and nothing around it, scanned directly (what
        # decode does, without its two whitespace matches); anything else, a failure
        # included, is decoded again in full, for the same value or error.
        try:
            value, end = _SCAN(text, 0)
            if end == len(text):
                return value
        except (ValueError, RecursionError, StopIteration):
            pass
    try:
        if text.startswith("\ufeff"):  # as json.loads refuses it
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
        return _DECODER.decode(text)
    except (ValueError, RecursionError) as error:
        raise _invalid(f"{what} is not JSON: {str(error)[:200]}") from None


def _load(body: object, limit: int, what: str = "request body") -> object:
    """``body`` as a JSON value: text and bytes measured against ``limit``, then parsed."""
    if isinstance(body, str):
        # UTF-8 takes one to four bytes a character, an ASCII str one (isascii() is
        # constant time): only a long non-ASCII str is encoded to be measured.
        if len(body) * 4 > limit:
            size = len(body) if body.isascii() else len(body.encode("utf-8", "surrogatepass"))
            if size > limit:
                raise _too_big(size, limit, what)
        return _json(body, what)
    if isinstance(body, (bytes, bytearray, memoryview)):
        size = body.nbytes if isinstance(body, memoryview) else len(body)
        if size > limit:
            raise _too_big(size, limit, what)
        try:
            raw = body.tobytes() if isinstance(body, memoryview) else body
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise _invalid(f"{what} is not UTF-8: {error.reason}") from None
        return _json(text, what)
    return body


def _validate(body: object) -> Any:
    if type(body) is not dict and not isinstance(body, Mapping):
        raise _invalid(f"request body must be a JSON object, not {type(body).__name__}")
    try:
        return _ADAPTER.validate_python(body)
    except ValidationError as error:
        raise _refusal(error, body, "operationName") from None


def _refusal(error: ValidationError, body: Mapping[Any, Any], tag: str) -> _BadRequest:
    """The refusal of a body that failed the validation of a union tagged by ``tag``: a
    missing value first (1), else the first error (10)."""
    errors = error.errors(include_url=False, include_input=False)
    missing = [e for e in errors if e["type"] in ("missing", "union_tag_not_found")]
    chosen = missing[0] if missing else errors[0]
    if chosen["type"] == "union_tag_not_found":
        return _missing(f"{tag} is required")
    if chosen["type"] == "union_tag_invalid":
        return _invalid(f"unknown {tag} {body.get(tag)!r}"[:200])
    loc = [str(part) for part in chosen["loc"][1:]]
    where = ".".join(loc if len(loc) <= 6 else [*loc[:3], "...", loc[-1]])
    message = f"{where}: {chosen['msg']}"[:300]
    return _missing(message) if missing else _invalid(message)


def _segments(uri: str, what: str) -> list[str]:
    """The path segments of an ``http(s)`` URI with a host and a last segment, at least
    two of them; else refused with 10 (a bracketed host that is no IP address, as in
    GWS's own sample ``http://[host]/api/v2/users/<id>``, too: ``urlsplit`` raises)."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        raise _invalid(f"{what} {uri[:200]!r} is not a valid URI") from None
    segments = parts.path.rstrip("/").split("/")
    if (
        parts.scheme not in ("http", "https")
        or not parts.netloc
        or len(segments) < 2
        or not segments[-1]
    ):
        raise _invalid(f"{what} {uri[:200]!r} is not a valid URI")
    return segments


_AGENT_COLLECTIONS = ("users", "contacts")
"""The collections an agent URI may name: GWS's email page transfers to ``users/<id>``,
its Open Media page to ``contacts/<id>``."""


@functools.lru_cache(maxsize=1024)
def _agent(uri: str, what: str) -> str:
    """The agent id of an agent URI, ``http://<host>/api/v2/users/<id>`` (or ``contacts/``).

    Cached: a contact center's agents are few, and their URIs come again and again (a
    refused URI raises, which is never cached)."""
    *_, collection, agent = _segments(uri, what)
    if collection not in _AGENT_COLLECTIONS:
        raise _invalid(f"{what} {uri[:200]!r} is not a users/ or contacts/ URI")
    return agent


def _queue(queue_uri: str | None, queue_name: str | None) -> str | None:
    if queue_uri is not None and queue_name is not None:
        raise _invalid("give queueUri or queueName, not both")
    if queue_uri is not None:
        return _segments(queue_uri, "queueUri")[-1]
    return queue_name


def _transfer(request: _Transfer, actor: str, email_id: str, reference_id: int | None) -> Transfer:
    user, target, queue = request.userUri, request.targetUri, request.queueName
    given = (user is not None) + (target is not None) + (queue is not None)
    if given != 1:
        if not given:
            raise _missing("userUri, targetUri or queueName is required")
        raise _invalid("give one of userUri, targetUri or queueName")
    if queue is not None:
        return Transfer(actor=actor, email_id=email_id, reference_id=reference_id, queue=queue)
    if user is not None:
        agent = _agent(user, "userUri")
    else:
        assert target is not None
        agent = _agent(target, "targetUri")
    return Transfer(actor=actor, email_id=email_id, reference_id=reference_id, agent=agent)


class _NewId:
    """The id of the email a request creates: the caller's ``new_email_id``, or one its
    ``new_id`` factory makes, called once, when nothing else can refuse the body."""

    __slots__ = ("factory", "given")

    def __init__(self, given: str | None, factory: Callable[[], str] | None) -> None:
        self.given = given
        self.factory = factory

    def check(self) -> None:
        """Refuse with 1 when the caller gave neither an id nor a factory."""
        if self.given is None and self.factory is None:
            raise _missing("newEmailId is required")

    def take(self) -> str:
        """The new id (the factory called, when there is one); :meth:`check` first."""
        if self.factory is not None:
            return self.factory()
        assert self.given is not None
        return self.given


_NO_NEW_ID = _NewId(None, None)
"""Neither an id nor a factory (the common case: shared, as nothing changes it)."""

_Converter = Callable[[Any, str, str, "int | None", _NewId], AgentCommand]
"""A request model's converter: ``(request, actor, email_id, reference_id, new id)`` to
its command."""


def _reply_converter(kind: type[Reply] | type[ReplyAll]) -> _Converter:
    def convert(
        request: Any, actor: str, email_id: str, reference_id: int | None, new: _NewId
    ) -> AgentCommand:
        new.check()
        queue = _queue(request.queueUri, request.queueName)
        return kind(
            actor=actor,
            email_id=email_id,
            reference_id=reference_id,
            new_email_id=new.take(),
            queue=queue,
            body=request.body,
            body_as_plain_text=request.bodyAsPlainText,
            mime=request.mime,
            user_data=request.userData or {},
            subject_prefix=request.subjectPrefix,
            reply_to_start_line=request.replyToStartLine,
            quote_original=bool(request.quoteOriginal),
            indent_character=request.indentCharacter,
        )

    return convert


def _send(
    request: Any, actor: str, email_id: str, reference_id: int | None, new: _NewId
) -> AgentCommand:
    fields = None if request.email is None else request.email.fields()
    return Send(
        actor=actor,
        email_id=email_id,
        reference_id=reference_id,
        queue=request.queueName,
        fields=fields,
        save_lar=request.saveLAR,
    )


def _delete_user_data(
    request: Any, actor: str, email_id: str, reference_id: int | None, new: _NewId
) -> AgentCommand:
    if request.keys is not None and request.userData is not None:
        raise _invalid("give keys or userData, not both")
    keys = request.keys if request.keys is not None else list(request.userData or ())
    return DeleteUserData(
        actor=actor, email_id=email_id, reference_id=reference_id, keys=tuple(keys)
    )


_CONVERTERS: Mapping[type[BaseModel], _Converter] = {
    _Accept: lambda r, a, e, ref, new: Accept(
        actor=a, email_id=e, reference_id=ref, save_lar=r.saveLAR
    ),
    _Reject: lambda r, a, e, ref, new: Reject(actor=a, email_id=e, reference_id=ref),
    _Transfer: lambda r, a, e, ref, new: _transfer(r, a, e, ref),
    _Complete: lambda r, a, e, ref, new: Complete(
        actor=a, email_id=e, reference_id=ref, queue=r.queueName, save_lar=r.saveLAR
    ),
    _Reply: _reply_converter(Reply),
    _ReplyAll: _reply_converter(ReplyAll),
    _Save: lambda r, a, e, ref, new: Save(
        actor=a, email_id=e, reference_id=ref, fields=r.email.fields()
    ),
    _Send: _send,
    _Cancel: lambda r, a, e, ref, new: Cancel(actor=a, email_id=e, reference_id=ref),
    _AddAttachment: lambda r, a, e, ref, new: AddAttachment(
        actor=a,
        email_id=e,
        reference_id=ref,
        document_id=r.documentId,
        name=r.name,
        size=r.size,
        mime=r.mime,
    ),
    _RemoveAttachment: lambda r, a, e, ref, new: RemoveAttachment(
        actor=a, email_id=e, reference_id=ref, document_id=r.documentId
    ),
    _AttachUserData: lambda r, a, e, ref, new: AttachUserData(
        actor=a, email_id=e, reference_id=ref, user_data=r.userData
    ),
    _UpdateUserData: lambda r, a, e, ref, new: UpdateUserData(
        actor=a, email_id=e, reference_id=ref, user_data=r.userData
    ),
    _DeleteUserData: _delete_user_data,
    _SetDisposition: lambda r, a, e, ref, new: SetDisposition(
        actor=a, email_id=e, reference_id=ref, disposition=r.disposition, key=r.dispositionKey
    ),
    _AddComment: lambda r, a, e, ref, new: AddComment(
        actor=a, email_id=e, reference_id=ref, comment=r.comment
    ),
    _SetInFocus: lambda r, a, e, ref, new: SetInFocus(actor=a, email_id=e, reference_id=ref),
}
"""How each request model (but Create's) becomes its command: one lookup by the
model's class."""


_CREATING: frozenset[type[BaseModel]] = frozenset({_Create, _Reply, _ReplyAll})
"""The request models whose command creates an email."""


def _command(
    request: Any,
    *,
    actor: str,
    email_id: str | None,
    new: _NewId,
    reference_id: int | None,
) -> AgentCommand:
    if type(request) is _Create:
        new.check()
        queue = _queue(request.queueUri, request.queueName)
        return Create(
            actor=actor,
            email_id=new.take(),
            reference_id=reference_id,
            queue=queue,
            parent_id=request.parentId,
            user_data=request.userData or {},
        )
    if email_id is None:
        raise _missing("emailId is required")
    return _CONVERTERS[type(request)](request, actor, email_id, reference_id, new)


def _parse(
    body: object,
    *,
    actor: str,
    email_id: str | None,
    new: _NewId,
    reference_id: int | None,
    config: Config,
) -> tuple[AgentCommand, Mapping[Any, Any], type[BaseModel]] | Refused:
    """The command, the body as loaded and the model it validated against, or a refusal."""
    loaded: Any = None  # a Mapping once _validate has passed
    try:
        loaded = _load(body, config.limits.max_body_bytes)
        if config.strict_parameters:
            _refuse_unknown(loaded)
        request = _validate(loaded)
        command = _command(
            request, actor=actor, email_id=email_id, new=new, reference_id=reference_id
        )
    except _BadRequest as bad:
        where = f" for email {email_id}" if email_id is not None else ""
        return Refused(
            bad.refused.code, f"{_operation_name(loaded)} refused{where}: {bad.refused.message}"
        )
    return command, loaded, type(request)


def _new_id(new_email_id: str | None, new_id: Callable[[], str] | None) -> _NewId:
    if new_id is None:
        return _NO_NEW_ID if new_email_id is None else _NewId(new_email_id, None)
    if new_email_id is not None:
        raise TypeError("give new_email_id or new_id, not both")
    return _NewId(None, new_id)


def parse_request(
    body: object,
    *,
    actor: str,
    email_id: str | None = None,
    new_email_id: str | None = None,
    new_id: Callable[[], str] | None = None,
    reference_id: int | None = None,
    config: Config = DEFAULT_CONFIG,
) -> AgentCommand | Refused:
    """Parse a GWS request body into a typed command, or refuse it.

    ``email_id`` is the ``{id}`` of the request URL (not needed for Create);
    ``new_email_id`` the id the caller chose for an email the request creates (Create,
    Reply, ReplyAll), or ``new_id`` a function that makes one: it is called once, and only
    when the body parses into one of those (giving both is a ``TypeError``). ``config``
    gives the body size limit and says whether an unknown parameter is refused; when it is
    not, it is dropped here, and :func:`parse_request_ignoring` names it.

    >>> parse_request({"operationName": "Transfer", "queueName": "q"},
    ...               actor="a", email_id="E1")
    Transfer(actor='a', email_id='E1', reference_id=None, agent=None, queue='q')
    >>> parse_request('{"operationName": "Fly"}', actor="a", email_id="E1").code
    <StatusCode.INVALID_VALUE: 10>
    >>> parse_request({"operationName": "Create"}, actor="a", new_id=lambda: "D1").email_id
    'D1'
    """
    parsed = _parse(
        body,
        actor=actor,
        email_id=email_id,
        new=_new_id(new_email_id, new_id),
        reference_id=reference_id,
        config=config,
    )
    return parsed if isinstance(parsed, Refused) else parsed[0]


class ParsedRequest(NamedTuple):
    """A parsed GWS request body: the command, and the parameters the model ignored."""

    command: AgentCommand
    """The typed command the body asks for."""
    ignored: tuple[str, ...] = ()
    """The body's parameters the model does not know, in the order they appear; those of
    its ``email`` object as ``email.<name>``."""


def parse_request_ignoring(
    body: object,
    *,
    actor: str,
    email_id: str | None = None,
    new_email_id: str | None = None,
    new_id: Callable[[], str] | None = None,
    reference_id: int | None = None,
    config: Config = DEFAULT_CONFIG,
) -> ParsedRequest | Refused:
    """Parse a GWS request body like :func:`parse_request`, and name what it ignored.

    >>> command, ignored = parse_request_ignoring(
    ...     {"operationName": "Complete", "queuename": "q"}, actor="a", email_id="E1")
    >>> command.queue, ignored
    (None, ('queuename',))
    >>> parse_request_ignoring({"operationName": "Complete", "queuename": "q"},
    ...                        actor="a", email_id="E1",
    ...                        config=Config(strict_parameters=True)).message
    "Complete refused for email E1: unknown parameter 'queuename'; did you mean 'queueName'?"
    """
    parsed = _parse(
        body,
        actor=actor,
        email_id=email_id,
        new=_new_id(new_email_id, new_id),
        reference_id=reference_id,
        config=config,
    )
    if isinstance(parsed, Refused):
        return parsed
    command, loaded, model = parsed
    return ParsedRequest(command, _ignored(loaded, _KNOWN[model]))


def _operation_name(loaded: object) -> str:
    return _tag(loaded, "operationName") or "request"


def _tag(loaded: object, key: str) -> str | None:
    """The body's ``key`` when it is a short enough string to name it in a message."""
    name = loaded.get(key) if isinstance(loaded, Mapping) else None
    return name if isinstance(name, str) and 0 < len(name) <= 40 else None


def _peek_operation_name(body: object, config: Config) -> str:
    try:
        return _operation_name(_load(body, config.limits.max_body_bytes))
    except _BadRequest:
        return "request"


def handle_request(
    emails: Mapping[str, Email],
    body: object,
    *,
    actor: str,
    email_id: str | None = None,
    new_email_id: str | None = None,
    new_id: Callable[[], str] | None = None,
    reference_id: int | None = None,
    config: Config = DEFAULT_CONFIG,
    policies: Sequence[Policy] = (),
) -> Decision:
    """Check ids, parse ``body`` and decide it: the synchronous path of a GWS server.

    Checks run in the order of ``docs/spec.md``, "Refusals": the email exists (6), the new
    id is free (18), the request's shape (10/1), then everything :func:`~email_fsm.decide`
    checks. An accepted decision names the parameters the model ignored in its
    ``ignored`` (unless ``config.strict_parameters`` refused them).

    The id of an email the request creates is ``new_email_id``, or what ``new_id``
    returns: it is called once, and only for a body that parses into a Create, Reply or
    ReplyAll; an id it returns that is taken is refused with 18 too (after the shape).
    """
    new = _new_id(new_email_id, new_id)
    if email_id is not None and email_id not in emails:
        return Refused(
            StatusCode.NOT_FOUND,
            f"{_peek_operation_name(body, config)} refused: email {email_id} not found",
        )
    if new_email_id is not None and new_email_id in emails:
        return Refused(
            StatusCode.ALREADY_EXISTS,
            f"{_peek_operation_name(body, config)} refused: email {new_email_id} already exists",
        )
    parsed = _parse(
        body,
        actor=actor,
        email_id=email_id,
        new=new,
        reference_id=reference_id,
        config=config,
    )
    if isinstance(parsed, Refused):
        return parsed
    command, loaded, model = parsed
    if new_id is not None and model in _CREATING:
        if isinstance(command, (Reply, ReplyAll)):
            created = command.new_email_id
        else:
            created = command.email_id
        if created in emails:
            return Refused(
                StatusCode.ALREADY_EXISTS,
                f"{_operation_name(loaded)} refused: email {created} already exists",
            )
    decision = decide(emails, command, config=config, policies=policies)
    if isinstance(decision, Accepted):
        ignored = _ignored(loaded, _KNOWN[model])
        if ignored:
            return msgspec.structs.replace(decision, ignored=ignored)
    return decision


REQUEST_MODELS: Mapping[Operation, type[BaseModel]] = MappingProxyType(
    {
        Operation(get_args(model.model_fields["operationName"].annotation)[0]): model
        for model in get_args(get_args(_Request)[0])
    }
)
"""The pydantic model that parses each operation's request body (its fields are the
GWS parameters, by their GWS names; ``operationName`` is the discriminator)."""


def _parameters(model: type[BaseModel]) -> tuple[str, ...]:
    return tuple(field.alias or name for name, field in model.model_fields.items())


_NAMES: Mapping[type[BaseModel], tuple[str, ...]] = {
    model: _parameters(model) for model in REQUEST_MODELS.values()
}
"""Each request model's parameters by their GWS names, in declaration order (the
suggestions for a misspelt one)."""
_KNOWN: Mapping[type[BaseModel], frozenset[str]] = {
    model: frozenset(names) for model, names in _NAMES.items()
}
_KNOWN_BY_OPERATION: Mapping[str, type[BaseModel]] = {
    str(operation): model for operation, model in REQUEST_MODELS.items()
}
_EMAIL_NAMES = _parameters(_EmailObject)
_EMAIL_KNOWN = frozenset(_EMAIL_NAMES)


def _ignored(loaded: Mapping[Any, Any], known: frozenset[str]) -> tuple[str, ...]:
    """The unknown parameters of a body that validated against the model of ``known``."""
    if known.issuperset(loaded):
        if "email" not in known:
            return ()  # the common case: one set check
        email = loaded.get("email")
        if email is None or not isinstance(email, Mapping) or _EMAIL_KNOWN.issuperset(email):
            return ()
    return tuple(f"email.{name}" if nested else name for name, nested in _unknown(loaded, known))


def _unknown(loaded: Mapping[Any, Any], known: frozenset[str]) -> Iterator[tuple[str, bool]]:
    """Each unknown parameter of ``loaded`` in order, and whether it is in its ``email``."""
    for key in loaded:
        if key not in known:
            yield str(key), False
        elif key == "email" and isinstance(email := loaded[key], Mapping):
            yield from ((str(inner), True) for inner in email if inner not in _EMAIL_KNOWN)


def _refuse_unknown(loaded: object) -> None:
    """Refuse the first unknown parameter of ``loaded`` (strict mode), if its operation is
    known; anything else is left to the validation."""
    if not isinstance(loaded, Mapping):
        return
    operation = loaded.get("operationName")
    model = _KNOWN_BY_OPERATION.get(operation) if isinstance(operation, str) else None
    if model is None:
        return
    for name, nested in _unknown(loaded, _KNOWN[model]):
        prefix = "email." if nested else ""
        closest = _closest(name, _EMAIL_NAMES if nested else _NAMES[model])
        hint = f"; did you mean {prefix + closest!r}?" if closest is not None else ""
        raise _invalid(f"unknown parameter {(prefix + name)[:100]!r}{hint}")


def _closest(name: str, known: Sequence[str]) -> str | None:
    """The known name closest to ``name``: one differing in case only, else difflib's."""
    folded = {candidate.casefold(): candidate for candidate in known}
    key = name.casefold()
    if key in folded:
        return folded[key]
    matches = difflib.get_close_matches(key, list(folded), n=1)
    return folded[matches[0]] if matches else None
