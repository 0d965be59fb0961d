"""The lifecycle table as a graph: the walks that the table checks, the test strategies
and the diagrams share.

Two graphs are read off the rows:

- :func:`phase_successors`: phase → the phases its rows lead to (``None``, "no email
  yet", leads to the phases that Arrive, Create and Reply bring a new email into);
- :func:`email_graph`: ``(direction, phase)`` → ``(trigger, branch, next node)``, where an
  email's direction decides the Accept branch and every other branch is a choice.

:func:`closure` and :func:`distances` are the two searches over either.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Hashable, Iterable, Mapping
from typing import TYPE_CHECKING, TypeAlias, TypeVar

from .vocabulary import Direction, Phase, Trigger

if TYPE_CHECKING:
    from .table import Branch, Row

__all__ = ["EmailEdge", "EmailNode", "closure", "distances", "email_graph", "phase_successors"]

N = TypeVar("N", bound=Hashable)

EmailNode: TypeAlias = tuple[Direction, Phase]
"""A node of :func:`email_graph`: an email of this direction in this phase."""
EmailEdge: TypeAlias = "tuple[Trigger, Branch, EmailNode]"
"""An edge of :func:`email_graph`: the trigger, the branch taken, the node it leads to."""


def phase_successors(rows: Iterable[Row]) -> dict[Phase | None, set[Phase]]:
    """Each source phase's successor phases; ``None`` also leads to what rows create."""
    successors: dict[Phase | None, set[Phase]] = {}
    for row in rows:
        successors.setdefault(row.source, set()).update(edge.target for edge in row.edges)
        if row.creates is not None:
            successors.setdefault(None, set()).add(row.creates)
    return successors


def email_graph(rows: Iterable[Row]) -> dict[EmailNode, tuple[EmailEdge, ...]]:
    """The rows that move an existing email, as a graph over ``(direction, phase)``."""
    from .table import Branch  # the table imports this module

    only = {Branch.INBOUND: Direction.INBOUND, Branch.OUTBOUND: Direction.OUTBOUND}
    graph: dict[EmailNode, list[EmailEdge]] = {(d, p): [] for d in Direction for p in Phase}
    for row in rows:
        if row.source is None:
            continue
        for direction in Direction:
            for edge in row.edges:
                if only.get(edge.branch, direction) is direction:
                    graph[(direction, row.source)].append(
                        (row.trigger, edge.branch, (direction, edge.target))
                    )
    return {node: tuple(edges) for node, edges in graph.items()}


def closure(successors: Mapping[N, Iterable[N]], start: Iterable[N]) -> set[N]:
    """Every node reachable from ``start`` (``start`` included).

    >>> sorted(closure({1: [2], 2: [3], 4: [1]}, [1]))
    [1, 2, 3]
    """
    seen = set(start)
    todo = list(seen)
    while todo:
        for nxt in successors.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def distances(successors: Mapping[N, Iterable[N]], targets: Collection[N]) -> dict[N, int]:
    """Steps from each node to the nearest of ``targets``; nodes that cannot reach one
    are left out.

    >>> distances({1: [2], 2: [3], 3: [], 4: [4]}, [3])
    {3: 0, 2: 1, 1: 2}
    """
    reverse: dict[N, list[N]] = {}
    for node, nexts in successors.items():
        for nxt in nexts:
            reverse.setdefault(nxt, []).append(node)
    dist = dict.fromkeys(targets, 0)
    todo = deque(dist)
    while todo:
        node = todo.popleft()
        for prev in reverse.get(node, ()):
            if prev not in dist:
                dist[prev] = dist[node] + 1
                todo.append(prev)
    return dist
