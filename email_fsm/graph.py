"""The two searches over a graph that the table's checks, the test strategies and the
diagrams share: :func:`closure` (what is reachable) and :func:`distances` (how far to a
target). The graphs themselves are read off the table by
:func:`email_fsm.table.phase_successors` and :func:`email_fsm.table.email_graph`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Hashable, Iterable, Mapping
from typing import TypeVar

__all__ = ["closure", "distances"]

N = TypeVar("N", bound=Hashable)


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
