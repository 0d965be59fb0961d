"""Building frozen values fast, for the decider's hot path.

A frozen dataclass refuses ``setattr``, so its generated ``__init__`` (and
``dataclasses.replace``) sets every field through ``object.__setattr__``, looked up
field by field: about 0.2 µs a field, and ``decide`` builds four values a step (the
email, the event, the notification, the decision). :func:`unfrozen` gives a plain class
with exactly the same slots; a builder fills an instance of it with ordinary attribute
stores, then gives it the frozen class (same slots, so the same memory layout) before
returning it. What the caller receives is an ordinary frozen instance: nobody ever sees
the value while it is being filled.

Rules for the classes built here (checked when a builder or twin is made, so a class
that breaks them fails at import, not on the first step):

- a slotted class that inherits no slots and no dataclass fields: the twin has the
  class's own slots, and ``__class__`` assignment needs the two layouts to be the same
  (don't subclass these; CPython documents such assignment between heap types of
  compatible layout);
- no ``__post_init__``, ``InitVar`` or ``init=False`` fields: a builder only stores its
  arguments, so it would skip them silently;
- for :func:`builder`, plain defaults only (a ``default_factory`` would have to run on
  every call, as the constructor runs it).
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from dataclasses import MISSING
from typing import Any, ParamSpec, TypeVar

__all__ = ["builder", "unfrozen"]

P = ParamSpec("P")
T = TypeVar("T")


def unfrozen(cls: object) -> type[Any]:
    """A class with the slots of the slotted ``cls`` and no frozen ``__setattr__``.

    Set every slot of an instance, then assign ``instance.__class__ = cls``.

    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True, slots=True)
    ... class Point:
    ...     x: int
    ...     y: int
    >>> point = unfrozen(Point)()
    >>> point.x, point.y = 1, 2
    >>> point.__class__ = Point
    >>> point, type(point) is Point
    (Point(x=1, y=2), True)
    """
    if not isinstance(cls, type):
        raise TypeError(f"{cls!r} is not a class")
    slots = cls.__dict__.get("__slots__")
    if not slots:
        raise TypeError(f"{cls.__name__} has no slots of its own")
    for base in cls.__mro__[1:-1]:
        if base.__dict__.get("__slots__") or dataclasses.is_dataclass(base):
            raise TypeError(f"{cls.__name__} inherits from {base.__name__}: only flat classes")
    if dataclasses.is_dataclass(cls):
        if hasattr(cls, "__post_init__"):
            raise TypeError(f"{cls.__name__} has a __post_init__, which a builder would skip")
        names = [f.name for f in dataclasses.fields(cls)]
        parameters = list(inspect.signature(cls).parameters)
        if parameters != names:  # an InitVar is a parameter only, init=False a field only
            raise TypeError(f"{cls.__name__} has InitVar or init=False fields")
    return type(f"Unfrozen{cls.__name__}", (), {"__slots__": tuple(slots)})


def builder(cls: Callable[P, T]) -> Callable[P, T]:
    """A function that builds ``cls`` instances like its constructor, only faster.

    ``cls`` is a slotted dataclass without ``default_factory`` fields; the builder takes the
    same parameters, with the same defaults (keyword-only if the class is ``kw_only``) and fills an
    :func:`unfrozen` twin.

    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True, slots=True, kw_only=True)
    ... class Point:
    ...     x: int
    ...     y: int
    >>> new_point = builder(Point)
    >>> new_point(x=1, y=2) == Point(x=1, y=2)
    True
    """
    twin = unfrozen(cls)
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls!r} is not a dataclass")
    fields = dataclasses.fields(cls)
    names = [field.name for field in fields]
    if any(f.default_factory is not MISSING for f in fields):
        raise TypeError(f"{cls.__name__}: a default_factory (use a plain default)")
    keyword_only = all(f.kw_only is True for f in fields)
    defaults = {f"_default_{f.name}": f.default for f in fields if f.default is not MISSING}
    parameters = ", ".join(
        f"{name}=_default_{name}" if f"_default_{name}" in defaults else name for name in names
    )
    source = "\n".join(
        [
            f"def build({'*, ' if keyword_only else ''}{parameters}):",
            "    new = twin()",
            *(f"    new.{name} = {name}" for name in names),
            "    new.__class__ = cls",
            "    return new",
        ]
    )
    namespace: dict[str, Any] = {"twin": twin, "cls": cls, **defaults}
    exec(source, namespace)  # as dataclasses builds __init__: code made from the fields
    build: Callable[P, T] = namespace["build"]
    build.__qualname__ = build.__name__ = f"new_{cls.__name__}"
    return build
