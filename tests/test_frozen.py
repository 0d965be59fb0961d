"""The fast builders refuse the classes they cannot build correctly, when they are made."""

from __future__ import annotations

import pickle
from dataclasses import FrozenInstanceError, InitVar, dataclass, field

import pytest

from email_fsm._frozen import builder, unfrozen


@dataclass(frozen=True, slots=True, kw_only=True)
class Point:
    x: int
    y: int


@dataclass(frozen=True, slots=True)
class Base:
    a: int


@dataclass(frozen=True, slots=True)
class Sub(Base):
    b: int


@dataclass(frozen=True, slots=True)
class Checked:
    n: int

    def __post_init__(self) -> None:
        if self.n < 0:
            raise ValueError("n must not be negative")


@dataclass(frozen=True, slots=True)
class Derived:
    n: int
    twice: int = field(init=False, default=0)


@dataclass(frozen=True, slots=True)
class WithInitVar:
    n: int
    scale: InitVar[int]


@dataclass(frozen=True, slots=True)
class Defaulted:
    n: int
    m: int = 0


@dataclass(frozen=True, slots=True)
class Factory:
    n: list[int] = field(default_factory=list)


class NotADataclass:
    __slots__ = ("n",)


def test_a_built_value_is_an_ordinary_frozen_instance() -> None:
    point = builder(Point)(x=1, y=2)
    assert type(point) is Point
    assert point == Point(x=1, y=2)
    assert hash(point) == hash(Point(x=1, y=2))
    assert pickle.loads(pickle.dumps(point)) == point
    with pytest.raises(FrozenInstanceError):
        point.x = 3  # type: ignore[misc]


def test_a_builder_takes_the_defaults_of_the_constructor() -> None:
    build = builder(Defaulted)
    assert build(1) == Defaulted(1) == Defaulted(1, 0)
    assert build(1, 2) == Defaulted(1, 2)
    assert build(n=1, m=3) == Defaulted(n=1, m=3)


@pytest.mark.parametrize(
    ("cls", "message"),
    [
        (Sub, "Sub inherits from Base: only flat classes"),
        (Checked, "Checked has a __post_init__, which a builder would skip"),
        (Derived, "Derived has InitVar or init=False fields"),
        (WithInitVar, "WithInitVar has InitVar or init=False fields"),
        (Factory, "Factory: a default_factory"),
        (NotADataclass, "is not a dataclass"),
        (3, "3 is not a class"),
    ],
)
def test_builder_refuses_what_it_would_build_wrong(cls: object, message: str) -> None:
    with pytest.raises(TypeError, match=message):
        builder(cls)  # type: ignore[arg-type]


def test_unfrozen_needs_slots_of_its_own() -> None:
    class Plain:
        pass

    with pytest.raises(TypeError, match="Plain has no slots of its own"):
        unfrozen(Plain)
