"""The email value: lifecycle fields plus content, immutable.

An :class:`Email` is a frozen, slotted value. Its content (:class:`Content`) is a
separate frozen value, so a step that only moves the email through its lifecycle shares
the content with the previous state instead of copying it. ``user_data`` is a plain
``dict`` that is never mutated: every change builds a new one.

Emails serialize to JSON and back without loss through pydantic
(:func:`email_to_json` / :func:`email_from_json`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from enum import Enum
from functools import cache
from typing import TYPE_CHECKING, Final, TypeAlias

from ._frozen import unfrozen
from .vocabulary import TERMINAL_PHASES, Direction, Phase

__all__ = [
    "CONTENT_FIELDS",
    "Attachment",
    "Content",
    "Email",
    "UserData",
    "email_from_json",
    "email_to_json",
    "gws_attribute",
    "gws_name",
    "normalized",
    "user_data_bytes",
]

if TYPE_CHECKING:
    from pydantic import JsonValue, TypeAdapter

# pydantic's JsonValue is named, not imported, so that `import email_fsm` does not load
# pydantic (most of the import time); _adapter() binds it before pydantic reads it.
UserData: TypeAlias = Mapping[str, "JsonValue"]
"""userData pairs: string keys, JSON values kept with their JSON types."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Content:
    """What an email says. ``None`` means "no value" and is left out of notifications.

    ``from_`` is GWS's ``from`` (a Python keyword). ``received_date`` is kept verbatim
    as the contact center wrote it.
    """

    from_: str | None = None
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    bcc: tuple[str, ...] = ()
    subject: str | None = None
    body: str | None = None
    body_as_plain_text: str | None = None
    mime: str | None = None
    contact_id: str | None = None
    parent_id: str | None = None
    received_date: str | None = None


EMPTY_CONTENT = Content()


def normalized(addresses: tuple[str, ...]) -> tuple[str, ...]:
    """An address list as GWS clients mean it: each entry trimmed, the empty ones dropped.

    Genesys' own clients send what their text fields hold, split at commas, so
    ``[""]`` means "none" and ``[" b@y"]`` means ``b@y``.

    >>> normalized(("a@x", " b@y ", "", "  "))
    ('a@x', 'b@y')
    """
    if not addresses:  # most lists are empty (cc, bcc): no generator to build
        return addresses
    return tuple(stripped for address in addresses if (stripped := address.strip()))


def user_data_bytes(user_data: UserData) -> int:
    """The size of ``user_data`` as compact JSON, in bytes (the total limit counts this).

    >>> user_data_bytes({"Priority": 1, "Name": "Zoë"})  # ë is two bytes in UTF-8
    28
    """
    from pydantic_core import to_json  # first use only: `import email_fsm` stays light

    return len(to_json(user_data))


def gws_name(name: str) -> str:
    """The GWS (camelCase) name of a field: ``body_as_plain_text`` → ``bodyAsPlainText``.

    >>> gws_name("from_"), gws_name("contact_id"), gws_name("to")
    ('from', 'contactId', 'to')
    """
    head, *rest = name.rstrip("_").split("_")
    return head + "".join(word.capitalize() for word in rest)


def gws_attribute(name: str) -> str:
    """The attribute of a GWS pydantic model holding field ``name``: its GWS name, but
    ``from_`` stays ``from_`` (``from`` is a Python keyword; the model aliases it).

    >>> gws_attribute("from_"), gws_attribute("contact_id")
    ('from_', 'contactId')
    """
    return name if name == "from_" else gws_name(name)


CONTENT_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Content))
"""The content fields, in the order GWS prints them: the one list the renderers,
the scenario codec and the request models follow (a test checks the models agree)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Attachment:
    """An attachment of a draft; its ``uri`` is derived from the email's when rendered."""

    id: str
    name: str | None = None
    size: int | None = None
    mime: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Email:
    """One email interaction, as the model knows it.

    Ownership (``docs/spec.md``, "Lifecycle and ownership"): Processing and Composing have
    an ``owner`` and no ``invitee``; Invited has an ``invitee`` and no ``owner``; every
    other phase has neither. ``queue`` is the last queue the email was in (where Reject
    and Revoke send it back). ``rejected_by`` records the agents who rejected it, so
    routing can avoid them; ``transfers`` and ``last_transferred_by`` give business rules
    its history.
    """

    id: str
    direction: Direction
    phase: Phase
    queue: str
    owner: str | None = None
    invitee: str | None = None
    content: Content = EMPTY_CONTENT
    user_data: UserData = field(default_factory=dict)
    comment: str | None = None
    attachments: tuple[Attachment, ...] = ()
    rejected_by: frozenset[str] = frozenset()
    transfers: int = 0
    last_transferred_by: str | None = None
    version: int = 0
    """How many events made the email what it is: 1 when it is created, one more per event
    (an email built by hand starts at 0). A store that saves a decision only while the
    email still has the version it was decided on (:attr:`Accepted.decided_on`) never
    loses a concurrent change."""

    @property
    def holder(self) -> str | None:
        """The agent who may change the email now: its owner or its invitee."""
        return self.owner if self.owner is not None else self.invitee

    @property
    def is_terminal(self) -> bool:
        """Completed, Sent or Canceled: nobody can change it any more."""
        return self.phase in TERMINAL_PHASES

    @property
    def inbound(self) -> bool:
        """True for an email a customer wrote in."""
        return self.direction is Direction.INBOUND


class _Keep(Enum):
    KEEP = "keep"


KEEP: Final = _Keep.KEEP
"""The default of :func:`changed`'s parameters: keep the field as it is."""

_NOBODY: frozenset[str] = frozenset()
_UnfrozenContent = unfrozen(Content)
_UnfrozenEmail = unfrozen(Email)


def new_content(
    from_: str | None,
    to: tuple[str, ...],
    cc: tuple[str, ...],
    subject: str | None,
    body: str | None,
    body_as_plain_text: str | None,
    mime: str | None,
    contact_id: str | None,
    received_date: str | None,
) -> Content:
    """``Content(...)`` of an arriving email (no bcc, no parent), fast.

    >>> new_content(None, ("to@x",), (), "Hi", None, None, None, None, None) == Content(
    ...     to=("to@x",), subject="Hi")
    True
    """
    new = _UnfrozenContent()
    new.from_ = from_
    new.to = to
    new.cc = cc
    new.bcc = ()
    new.subject = subject
    new.body = body
    new.body_as_plain_text = body_as_plain_text
    new.mime = mime
    new.contact_id = contact_id
    new.parent_id = None
    new.received_date = received_date
    new.__class__ = Content
    content: Content = new
    return content


def new_email(
    id: str,
    direction: Direction,
    phase: Phase,
    queue: str,
    owner: str | None,
    content: Content,
    user_data: UserData,
) -> Email:
    """``Email(...)`` of a new email (no invitee, comment, attachments, transfers; version 1),
    fast.

    >>> new_email("E1", Direction.INBOUND, Phase.QUEUED, "q", None, EMPTY_CONTENT, {}) == Email(
    ...     id="E1", direction=Direction.INBOUND, phase=Phase.QUEUED, queue="q", version=1)
    True
    """
    new = _UnfrozenEmail()
    new.id = id
    new.direction = direction
    new.phase = phase
    new.queue = queue
    new.owner = owner
    new.invitee = None
    new.content = content
    new.user_data = user_data
    new.comment = None
    new.attachments = ()
    new.rejected_by = _NOBODY
    new.transfers = 0
    new.last_transferred_by = None
    new.version = 1
    new.__class__ = Email
    email: Email = new
    return email


# The parameters are not keyword-only: CPython fills missing positional defaults from a
# tuple, keyword-only ones with a dict look-up each, and this runs on every step.
def changed(
    email: Email,
    phase: Phase | _Keep = KEEP,
    queue: str | _Keep = KEEP,
    owner: str | _Keep | None = KEEP,
    invitee: str | _Keep | None = KEEP,
    content: Content | _Keep = KEEP,
    user_data: UserData | _Keep = KEEP,
    comment: str | _Keep | None = KEEP,
    attachments: tuple[Attachment, ...] | _Keep = KEEP,
    rejected_by: frozenset[str] | _Keep = KEEP,
    transfers: int | _Keep = KEEP,
    last_transferred_by: str | _Keep | None = KEEP,
    version: int | _Keep = KEEP,
) -> Email:
    """``dataclasses.replace(email, ...)``, fast: the decider's hot path.

    >>> from dataclasses import replace
    >>> e = Email(id="E1", direction=Direction.INBOUND, phase=Phase.QUEUED, queue="q")
    >>> changed(e, phase=Phase.INVITED, invitee="a") == replace(
    ...     e, phase=Phase.INVITED, invitee="a")
    True
    """
    new = _UnfrozenEmail()
    new.id = email.id
    new.direction = email.direction
    new.phase = email.phase if phase is KEEP else phase
    new.queue = email.queue if queue is KEEP else queue
    new.owner = email.owner if owner is KEEP else owner
    new.invitee = email.invitee if invitee is KEEP else invitee
    new.content = email.content if content is KEEP else content
    new.user_data = email.user_data if user_data is KEEP else user_data
    new.comment = email.comment if comment is KEEP else comment
    new.attachments = email.attachments if attachments is KEEP else attachments
    new.rejected_by = email.rejected_by if rejected_by is KEEP else rejected_by
    new.transfers = email.transfers if transfers is KEEP else transfers
    new.last_transferred_by = (
        email.last_transferred_by if last_transferred_by is KEEP else last_transferred_by
    )
    new.version = email.version if version is KEEP else version
    new.__class__ = Email
    result: Email = new
    return result


@cache
def _adapter() -> TypeAdapter[Email]:
    import pydantic

    globals()["JsonValue"] = pydantic.JsonValue  # the name UserData refers to
    return pydantic.TypeAdapter(Email)


def email_to_json(email: Email) -> str:
    """Serialize an email (state included) to JSON text."""
    return _adapter().dump_json(email).decode()


def email_from_json(text: str | bytes) -> Email:
    """Rebuild an email from :func:`email_to_json`'s output (validated by pydantic)."""
    return _adapter().validate_json(text)
