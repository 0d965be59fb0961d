"""The memory of an EmailStore over many lifecycles, with and without eviction.

Each lifecycle is an inbound email's: Arrive, Offer, Accept, three AddComment, Complete,
through :meth:`email_fsm.store.EmailStore.execute`, each step at the next time ``at``.
Without eviction the store keeps every Completed email; with it, the store calls
:meth:`~email_fsm.store.EmailStore.evict_terminal` after each lifecycle. The memory is
what :mod:`tracemalloc` counts as allocated since just before the store was made:
``current`` at the end (what the store holds, the store's garbage freed) and ``peak``.
With eviction both must stay flat as the number of lifecycles grows; without it they
grow with it.

``python -m benchmarks.eviction [--quick] [--sizes N ...] [--json]`` (the default sizes
go to 1,000,000 lifecycles: a few minutes, most of them without eviction).
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
import tracemalloc
from typing import Any, Final

from email_fsm import Accept, AddComment, Arrive, Complete, Offer
from email_fsm.store import EmailStore

SIZES: Final = (1_000, 10_000, 100_000, 1_000_000)
QUICK_SIZES: Final = (10, 100)
AGENTS: Final = tuple(f"agent{i}" for i in range(20))


def lifecycles(store: EmailStore, n: int, *, evict: bool) -> None:
    """Run ``n`` lifecycles through ``store``; evict after each one when ``evict``."""
    at = 0.0
    for i in range(n):
        email_id = f"E{i}"
        agent = AGENTS[i % len(AGENTS)]
        steps = (
            Arrive(email_id=email_id, queue="inbound", subject="Order 1234"),
            Offer(email_id=email_id, agent=agent),
            Accept(actor=agent, email_id=email_id),
            AddComment(actor=agent, email_id=email_id, comment="looked up the order"),
            AddComment(actor=agent, email_id=email_id, comment="asked the warehouse"),
            AddComment(actor=agent, email_id=email_id, comment="answered"),
            Complete(actor=agent, email_id=email_id),
        )
        for command in steps:
            at += 1.0
            if not store.execute(command, at=at).accepted:
                raise AssertionError(f"lifecycle {i}: {command!r} refused")
        if evict:
            store.evict_terminal()


def measure(n: int, *, evict: bool) -> dict[str, Any]:
    """The memory of a store after ``n`` lifecycles: bytes ``current`` and ``peak``, the
    emails it still holds, and the seconds it took (under tracemalloc, which slows it)."""
    gc.collect()
    tracemalloc.start()
    try:
        base, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        started = time.perf_counter()
        store = EmailStore()
        lifecycles(store, n, evict=evict)
        seconds = time.perf_counter() - started
        gc.collect()
        current, peak = tracemalloc.get_traced_memory()
        held = len(store.emails)
    finally:
        tracemalloc.stop()
    return {
        "lifecycles": n,
        "evict": evict,
        "current_bytes": current - base,
        "peak_bytes": peak - base,
        "emails_held": held,
        "seconds": seconds,
    }


def run(sizes: tuple[int, ...]) -> list[dict[str, Any]]:
    """Every size, with eviction and without."""
    return [measure(n, evict=evict) for n in sizes for evict in (True, False)]


def table(results: list[dict[str, Any]]) -> str:
    """The results as a Markdown table."""
    lines = [
        "| lifecycles | eviction | emails held | current | peak | per lifecycle | seconds |",
        "|---:|:---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        per = r["current_bytes"] / r["lifecycles"] if r["lifecycles"] else 0.0
        lines.append(
            f"| {r['lifecycles']:,} | {'yes' if r['evict'] else 'no'} | {r['emails_held']:,} "
            f"| {r['current_bytes'] / 1024:,.1f} KiB | {r['peak_bytes'] / 1024:,.1f} KiB "
            f"| {per:,.0f} B | {r['seconds']:.1f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Measure and print the table (or JSON); 1 if memory with eviction is not flat:
    the store holds an email, or the largest size holds over twice the smallest's."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.eviction", description=__doc__)
    parser.add_argument("--quick", action="store_true", help=f"sizes {QUICK_SIZES}: a smoke run")
    parser.add_argument("--sizes", type=int, nargs="+", help="numbers of lifecycles")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    sizes = tuple(args.sizes) if args.sizes else QUICK_SIZES if args.quick else SIZES
    results = run(sizes)
    print(json.dumps(results, indent=2) if args.json else table(results))
    evicted = [r for r in results if r["evict"]]
    flat = all(r["emails_held"] == 0 for r in evicted) and (
        evicted[-1]["current_bytes"] <= 2 * max(evicted[0]["current_bytes"], 4096)
    )
    return 0 if flat else 1


if __name__ == "__main__":
    sys.exit(main())
