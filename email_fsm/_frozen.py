"""Building frozen values fast, for the decider's hot path.

A frozen dataclass refuses ``setattr``, so its generated ``__init__`` (and
``dataclasses.replace``) sets every field through ``object.__setattr__``, looked up
field by field: about 0.2 µs a field, and ``decide`` builds four values a step (the
email, the event, the notification, the decision). :func:`unfrozen` gives a plain class
with exactly the same slots; a builder fills an instance of it with ordinary attribute
stores, then gives it the frozen class (same slots, so the same memory layout) before
returning it. What the caller receives is an ordinary frozen instance: nobody ever sees
the value while it is being filled.
"""

from __future__ import annotations

from typing import Any

__all__ = ["unfrozen"]


def unfrozen(cls: type) -> type[Any]:
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
    slots = cls.__dict__.get("__slots__")
    if not slots:
        raise TypeError(f"{cls.__name__} has no slots of its own")
    return type(f"Unfrozen{cls.__name__}", (), {"__slots__": tuple(slots)})
