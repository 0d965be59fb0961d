"""A small timing harness: prepared batches, timed one by one, medians over repeats.

Like :mod:`timeit`, a batch runs with the garbage collector off (after a collection), so
a timing does not depend on when a collection happens to start; unlike ``timeit``, each
repeat gets a freshly prepared batch, because the steps measured here change the state
they run on (an email is accepted once). The clock is the CPU time of the thread
(:func:`time.thread_time_ns`): on a shared machine, the time the process waits for a
core is not the cost of the step. Memory is measured with :mod:`tracemalloc`.
"""

from __future__ import annotations

import gc
import statistics
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["CLOCK", "Timing", "time_batch", "traced_bytes"]

CLOCK = "CPU time of the thread (time.thread_time_ns)"


@dataclass(frozen=True, slots=True)
class Timing:
    """Nanoseconds per operation, one figure per repeat."""

    ns: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.ns)

    @property
    def low(self) -> float:
        return min(self.ns)

    @property
    def high(self) -> float:
        return max(self.ns)

    def merged(self, other: Timing) -> Timing:
        return Timing(self.ns + other.ns)


def time_batch(run: Callable[[], object], operations: int) -> float:
    """Run one prepared batch of ``operations`` and return nanoseconds per operation."""
    gc.collect()
    gc.disable()
    try:
        start = time.thread_time_ns()
        run()
        elapsed = time.thread_time_ns() - start
    finally:
        gc.enable()
    return elapsed / max(operations, 1)


def traced_bytes(build: Callable[[], object]) -> tuple[int, object]:
    """Bytes allocated by ``build()`` and still alive, and what it built (kept alive)."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        built = build()
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    return after - before, built
