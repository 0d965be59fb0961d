"""The JSON forms of the domain's values: events, logs of events, decisions.

Every record is a JSON object tagged with its ``"type"`` (the class's name) and the
``"schema"`` version of its form (:data:`SCHEMA_VERSION`), then the value's fields by
their Python names. Values are plain JSON: :class:`~email_fsm.Content`, attachments,
emails and configs as objects, tuples as arrays, enums as their strings (a
:class:`~email_fsm.StatusCode` as its number), userData values with their JSON types
(infinities and NaN as Python's :mod:`json` writes them: ``Infinity``, ``NaN``).
An email is written in the form :func:`~email_fsm.email_to_json` writes.

Decoding is strict: a record must be exactly what the encoder writes, or
:class:`CodecError` names what is wrong (an unknown type or schema version, a missing or
unknown field, a value of the wrong type); nothing is coerced and no field is defaulted.
So a stored history replays to the emails it was written from:

>>> from email_fsm import Arrive, Offer, decide, replay
>>> first = decide({}, Arrive(email_id="E1", queue="support", subject="Hi"))
>>> second = decide({e.id: e for e in first.emails}, Offer(email_id="E1", agent="alice"))
>>> log = events_to_jsonl([*first.events, *second.events])
>>> replay(events_from_jsonl(log)) == replay([*first.events, *second.events])
True
>>> print(event_to_json(second.events[0]))
{"type":"EmailOffered","schema":1,"email_id":"E1","phase":"Invited","agent":"alice"}

The tag is what keeps two events with the same fields apart: ``EmailOffered`` and
``InvitationAccepted`` both carry ``email_id``, ``phase`` and ``agent``, and an untagged
union of them would read one as the other.
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Annotated, Any, Final, Literal, Union, get_args, get_type_hints

import msgspec
import pydantic_core
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    TypeAdapter,
    ValidationError,
    create_model,
)

from .decisions import Accepted, Decision, Refused
from .email import Email
from .events import Event
from .notifications import Notification

__all__ = [
    "SCHEMA_VERSION",
    "CodecError",
    "decision_from_json",
    "decision_to_json",
    "event_from_json",
    "event_to_json",
    "events_from_jsonl",
    "events_to_jsonl",
]

SCHEMA_VERSION: Final = 1
"""The version of the records' form, written in each one's ``"schema"``. A record of
another version is refused rather than read as this one."""


class CodecError(ValueError):
    """A text that is not a record of this codec, or a value that has no JSON record
    (text that is not Unicode); the message says what is wrong."""


# JSON leaves these unescaped, but str.splitlines() and many line readers break on them
# (the other line breaks are control characters, which JSON always escapes): escaped,
# every record stays on one line whatever its text.
_LINE_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})

_STRICT = ConfigDict(strict=True, extra="forbid")
"""No coercion (``"1"`` is not ``1``, ``1.0`` not ``1``), no unknown field."""

_EVENT_CLASSES: tuple[type[Event], ...] = get_args(Event)
_DECISION_CLASSES: tuple[type[Decision], ...] = (Accepted, Refused)
_RECORDS: frozenset[type] = frozenset({*_EVENT_CLASSES, *_DECISION_CLASSES})
"""The classes written as tagged records."""


def _is_value_class(hint: Any) -> bool:
    """A dataclass or a msgspec Struct: a class whose fields the codec writes."""
    return dataclasses.is_dataclass(hint) or (
        isinstance(hint, type) and issubclass(hint, msgspec.Struct)
    )


@cache
def _field_names(cls: Any) -> tuple[str, ...]:
    if issubclass(cls, msgspec.Struct):
        names: tuple[str, ...] = cls.__struct_fields__
        return names
    return tuple(f.name for f in dataclasses.fields(cls))


_NOTIFICATION_FIELDS: tuple[str, ...] = Notification.__struct_fields__

_EVENT_FIELDS: Mapping[type, tuple[str, ...]] = {
    cls: tuple(f.name for f in dataclasses.fields(cls)) for cls in _EVENT_CLASSES
}


# Decoding: each dataclass has a strict pydantic mirror, derived from its fields, in
# which every field is required (the dataclasses' defaults are not the codec's: a record
# without a field is refused, not completed). A decoded mirror is turned back into the
# dataclass by _value.

_NAMES: Mapping[str, Any] = {
    "JsonValue": JsonValue,  # in UserData, named, not imported (see email_fsm.email)
    "Email": Email,  # imported by email_fsm.decisions for the type checker only
    "Event": Event,
    "Notification": Notification,
}

_ORIGINALS: dict[type[BaseModel], type] = {}
"""The dataclass of each mirror model."""


@cache
def _mirror(cls: type, overrides: tuple[tuple[str, Any], ...] = ()) -> type[BaseModel]:
    """The strict model of dataclass ``cls``: its fields, all required, with their types
    mirrored (``overrides`` replaces some), or, for an event or a decision, its record."""
    hints = get_type_hints(cls, localns=_NAMES)
    replaced = dict(overrides)
    definitions: dict[str, Any] = {}
    if cls in _RECORDS:
        definitions["type"] = (Literal[cls.__name__], ...)
        definitions["schema_"] = (Literal[SCHEMA_VERSION], Field(alias="schema"))
    for name in _field_names(cls):
        definitions[name] = (replaced.get(name) or _mirrored(hints[name]), ...)
    model: type[BaseModel] = create_model(cls.__name__, __config__=_STRICT, **definitions)
    _ORIGINALS[model] = cls
    return model


def _mirrored(hint: Any) -> Any:
    """``hint`` with each dataclass in it replaced by its mirror model."""
    if _is_value_class(hint):
        return _mirror(hint)
    args = get_args(hint)
    if not any(_holds_dataclass(arg) for arg in args):
        return hint
    if isinstance(hint, types.GenericAlias) and hint.__origin__ is tuple and args[1:] == (...,):
        return tuple[_mirrored(args[0]), ...]  # type: ignore[misc]  # built at run time
    raise TypeError(f"no JSON form for {hint!r}")  # a new kind of field: give it one here


def _holds_dataclass(hint: Any) -> bool:
    return _is_value_class(hint) or any(_holds_dataclass(a) for a in get_args(hint))


def _value(value: Any) -> Any:
    """A decoded value with each mirror model turned back into its dataclass."""
    if isinstance(value, BaseModel):
        cls = _ORIGINALS[type(value)]
        return cls(**{name: _value(getattr(value, name)) for name in _field_names(cls)})
    if isinstance(value, tuple) and value and isinstance(value[0], BaseModel):
        return tuple(_value(item) for item in value)
    return value


def _tagged(classes: Iterable[type], overrides: tuple[tuple[str, Any], ...] = ()) -> Any:
    """The union of the records of ``classes``, told apart by their ``"type"``."""
    models = tuple(_mirror(cls, overrides) for cls in classes)
    return Annotated[Union[models], Field(discriminator="type")]  # noqa: UP007  # built at run time


_EVENT_RECORD: Any = _tagged(_EVENT_CLASSES)
_EVENTS: TypeAdapter[Any] = TypeAdapter(_EVENT_RECORD)
_DECISIONS: TypeAdapter[Any] = TypeAdapter(
    _tagged(_DECISION_CLASSES, (("events", tuple[_EVENT_RECORD, ...]),))
)


# Errors: pydantic's, said in the codec's words.


def _where(loc: tuple[int | str, ...]) -> str:
    """A location in a record: ``EmailSaved.content.to[0]``."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _problem(error: pydantic_core.ErrorDetails, kind: str) -> str:
    loc, kind_of_error, found = error["loc"], error["type"], error.get("input")
    if loc:  # inside a decision: the records there are its events
        kind = "event"
    if kind_of_error == "json_invalid":
        return f"not JSON: {error['ctx']['error']}" if "ctx" in error else "not JSON"
    if kind_of_error in ("dict_type", "model_type"):
        where = f" at {_where(loc)}" if loc else ""
        return f"not a JSON object{where}: {_short(found)}"
    if kind_of_error == "union_tag_not_found":
        where = f" at {_where(loc)}" if loc else ""
        return f'no "type"{where}: each {kind} record names its type'
    if kind_of_error == "union_tag_invalid":
        tag = error.get("ctx", {}).get("tag")
        where = f" at {_where(loc)}" if loc else ""
        expected = error.get("ctx", {}).get("expected_tags", "")
        return f"unknown {kind} type {tag!r}{where} (known: {expected})"
    if kind_of_error == "literal_error" and loc[-1:] == ("schema",):
        return (
            f"unknown schema version {_short(found)} of {_where(loc[:-1])}"
            f" (this version of email_fsm reads {SCHEMA_VERSION})"
        )
    parent, leaf = _where(loc[:-1]), str(loc[-1])
    if kind_of_error == "missing":
        return f"missing field {leaf!r} in {parent}"
    if kind_of_error == "extra_forbidden":
        return f"unknown field {leaf!r} in {parent}"
    return f"wrong value for {_where(loc)}: {error['msg']}, got {_short(found)}"


def _errors(error: ValidationError, kind: str) -> CodecError:
    details = error.errors(include_url=False)
    schema = [d for d in details if d["type"] == "literal_error" and d["loc"][-1:] == ("schema",)]
    # A record of another version: its other differences say nothing more.
    chosen = schema[:1] or details
    problems = [_problem(d, kind) for d in chosen[:_MAX_PROBLEMS]]
    if len(chosen) > _MAX_PROBLEMS:
        problems.append(f"{len(chosen) - _MAX_PROBLEMS} more")
    return CodecError("; ".join(problems))


_MAX_PROBLEMS: Final = 4


def _decode(adapter: TypeAdapter[Any], text: str | bytes, kind: str) -> Any:
    try:
        record = adapter.validate_json(text)
    except ValidationError as error:
        raise _errors(error, kind) from None
    try:
        return _value(record)
    except ValueError as error:  # a dataclass's own check (Config's uri_template)
        raise CodecError(f"wrong value in the {record.type} record: {error}") from None


# Encoding: the fields as they are; pydantic writes dataclasses as objects of their
# fields, tuples and frozensets as arrays, enums as their values.


def _event_record(event: Event) -> dict[str, Any]:
    cls = type(event)
    names = _EVENT_FIELDS.get(cls)
    if names is None:
        raise TypeError(f"not an event: {event!r}")
    record: dict[str, Any] = {"type": cls.__name__, "schema": SCHEMA_VERSION}
    for name in names:
        record[name] = getattr(event, name)
    return record


def _text(record: dict[str, Any]) -> str:
    try:
        text = pydantic_core.to_json(record)
    except pydantic_core.PydanticSerializationError as error:
        # A str holding half of a UTF-16 surrogate pair ("\ud800", which json.loads
        # accepts in a request body) has no UTF-8 form.
        raise CodecError(f"cannot write the {record['type']} record: {error}") from None
    return text.decode().translate(_LINE_BREAKS)


def event_to_json(event: Event) -> str:
    """The JSON record of ``event``, on one line: ``"type"``, ``"schema"``, its fields.

    Raises ``TypeError`` for a value that is not an event, :class:`CodecError` for an
    event holding text with no UTF-8 form (a lone surrogate).
    """
    return _text(_event_record(event))


def event_from_json(text: str | bytes) -> Event:
    """The event of an :func:`event_to_json` record, of its own class.

    Raises :class:`CodecError` when ``text`` is not exactly such a record.
    """
    event: Event = _decode(_EVENTS, text, "event")
    return event


def events_to_jsonl(events: Iterable[Event]) -> str:
    """A log of ``events``: one :func:`event_to_json` record a line, each line ended.

    >>> from email_fsm.events import FocusSet
    >>> print(events_to_jsonl([FocusSet(email_id="E1", by="a")]), end="")
    {"type":"FocusSet","schema":1,"email_id":"E1","by":"a"}
    """
    return "".join(_text(_event_record(event)) + "\n" for event in events)


def events_from_jsonl(text: str | bytes) -> list[Event]:
    """The events of a log :func:`events_to_jsonl` wrote, in order.

    Lines are split at ``\\n`` only; blank lines are skipped. Raises :class:`CodecError`
    naming the first line that is not an event record, and what is wrong with it.
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as error:
            raise CodecError(f"not UTF-8 text: {error}") from None
    events: list[Event] = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            events.append(_decode(_EVENTS, line, "event"))
        except CodecError as error:
            raise CodecError(f"line {number}: {error}") from None
    return events


def decision_to_json(decision: Decision) -> str:
    """The JSON record of ``decision``, on one line.

    ``Accepted``: its ``events`` (each as :func:`event_to_json` writes it), ``emails``
    (as :func:`~email_fsm.email_to_json` writes them), ``notifications`` (every field:
    recipient, type, state, the whole email, capabilities, reference_id and the config
    it renders with), ``ignored`` and ``decided_on``. ``Refused``: its ``code`` (a number) and
    ``message``.

    >>> from email_fsm import Refused, StatusCode
    >>> print(decision_to_json(Refused(StatusCode.NOT_FOUND, "no email E9")))
    {"type":"Refused","schema":1,"code":6,"message":"no email E9"}

    Raises ``TypeError`` for a value that is not a decision, :class:`CodecError` for
    one holding text with no UTF-8 form (a lone surrogate).
    """
    if isinstance(decision, Accepted):
        record: dict[str, Any] = {
            "type": "Accepted",
            "schema": SCHEMA_VERSION,
            "events": [_event_record(event) for event in decision.events],
            "emails": decision.emails,
            # A Struct is written as the object of its fields (pydantic writes the
            # dataclasses in them: the email, the config).
            "notifications": [
                {name: getattr(n, name) for name in _NOTIFICATION_FIELDS}
                for n in decision.notifications
            ],
            "ignored": decision.ignored,
            "decided_on": decision.decided_on,
        }
    elif isinstance(decision, Refused):
        record = {
            "type": "Refused",
            "schema": SCHEMA_VERSION,
            "code": int(decision.code),
            "message": decision.message,
        }
    else:
        raise TypeError(f"not a decision: {decision!r}")
    return _text(record)


def decision_from_json(text: str | bytes) -> Decision:
    """The decision of a :func:`decision_to_json` record: ``Accepted`` or ``Refused``.

    Raises :class:`CodecError` when ``text`` is not exactly such a record.
    """
    decision: Decision = _decode(_DECISIONS, text, "decision")
    return decision
