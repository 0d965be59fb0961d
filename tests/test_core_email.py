"""The email value: the fast ways of building one agree with the dataclass itself.

``email_fsm.email.changed`` is ``dataclasses.replace`` written out for speed, and the
benchmark's ``FrozenEmail`` is the same value built without the library: both must keep
exactly the fields of :class:`email_fsm.Email`, or they would silently build (or time)
something else.
"""

from __future__ import annotations

import inspect
from dataclasses import MISSING, Field, fields, replace
from typing import Any

import pytest

from benchmarks.limit import FrozenEmail
from email_fsm import Attachment, Content, Direction, Email, Phase
from email_fsm.email import KEEP, changed

EMAIL_FIELDS = [f.name for f in fields(Email)]
NOT_CHANGEABLE = {"id", "direction"}  # an email keeps its identity and its direction

# An email with every field set to something other than its default, so that a field
# `changed` dropped or mixed up with another shows.
BEFORE = Email(
    id="E1",
    direction=Direction.INBOUND,
    phase=Phase.PROCESSING,
    queue="inbound",
    owner="a",
    invitee=None,
    content=Content(from_="customer@example.com", subject="Hi"),
    user_data={"k": 1},
    comment="first",
    attachments=(Attachment(id="d1"),),
    rejected_by=frozenset({"b"}),
    transfers=2,
    last_transferred_by="c",
    version=7,
)

# For each field `changed` takes, a new value of the field's type.
NEW_VALUES: dict[str, Any] = {
    "phase": Phase.INVITED,
    "queue": "second-line",
    "owner": None,
    "invitee": "b",
    "content": Content(to=("support@example.com",), body="<p>hello</p>"),
    "user_data": {"k": 2, "Lang": "en"},
    "comment": None,
    "attachments": (Attachment(id="d1"), Attachment(id="d2", name="b.pdf", size=0)),
    "rejected_by": frozenset({"b", "a"}),
    "transfers": 3,
    "last_transferred_by": "a",
    "version": 8,
}


def test_changed_takes_every_field_but_id_and_direction_in_order() -> None:
    (email, *parameters) = inspect.signature(changed).parameters.values()
    assert email.name == "email"
    assert [p.name for p in parameters] == [n for n in EMAIL_FIELDS if n not in NOT_CHANGEABLE]
    assert all(p.default is KEEP for p in parameters)
    assert list(NEW_VALUES) == [p.name for p in parameters]


@pytest.mark.parametrize("name", [n for n in EMAIL_FIELDS if n not in NOT_CHANGEABLE])
def test_changing_one_field_is_replacing_it(name: str) -> None:
    value = NEW_VALUES[name]
    assert getattr(BEFORE, name) != value  # else the test could not tell
    after = changed(BEFORE, **{name: value})
    assert after == replace(BEFORE, **{name: value})
    assert type(after) is Email
    assert getattr(after, name) is value
    for other in EMAIL_FIELDS:
        if other != name:
            assert getattr(after, other) is getattr(BEFORE, other), other


def test_changing_nothing_is_an_equal_email() -> None:
    assert changed(BEFORE) == BEFORE


def test_changing_every_field_at_once_is_replacing_them_all() -> None:
    assert changed(BEFORE, **NEW_VALUES) == replace(BEFORE, **NEW_VALUES)


def _default(f: Field[Any]) -> object:
    if f.default_factory is not MISSING:
        return f.default_factory()
    return f.default


def test_the_benchmark_frozen_email_has_the_fields_of_email_in_order() -> None:
    assert [f.name for f in fields(FrozenEmail)] == EMAIL_FIELDS
    # The same defaults, so a step that builds one positionally keeps the same values.
    assert [_default(f) for f in fields(FrozenEmail)] == [_default(f) for f in fields(Email)]
    frozen = FrozenEmail("E1", Direction.INBOUND, Phase.QUEUED, "inbound")
    email = Email(id="E1", direction=Direction.INBOUND, phase=Phase.QUEUED, queue="inbound")
    assert [getattr(frozen, n) for n in EMAIL_FIELDS] == [getattr(email, n) for n in EMAIL_FIELDS]
