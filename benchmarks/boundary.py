"""The request boundary against the core: a GWS JSON body in, JSON notifications out.

For each operation measured (AddComment, and Transfer to another agent), a repeat times
two batches, one after the other, in an order that alternates from repeat to repeat:

- **boundary**: the request body as a server reads it off the wire (UTF-8 JSON bytes)
  through :func:`email_fsm.requests.handle_request`, and each notification of the
  accepted decision rendered with :meth:`~email_fsm.Notification.to_json`;
- **decide**: :func:`email_fsm.decide` on the same command, prepared beforehand;
- and, to show where the time goes, **handle**: ``handle_request`` alone, nothing
  rendered.

All are pure, so each batch runs on the same emails (one in Processing, owned by
``a``), which nothing changes. The figure is the boundary's time over decide's, per
repeat; :func:`measure` gives the median of those ratios with their min and max. The
performance contract is a ratio of :data:`CONTRACT` or less.

``python -m benchmarks.boundary [--repeats N] [--loops N] [--json]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections.abc import Callable, Mapping
from typing import Any, Final

from email_fsm import (
    Accept,
    Accepted,
    AddComment,
    Arrive,
    Command,
    ContactCenter,
    Email,
    Offer,
    Transfer,
    decide,
)
from email_fsm.requests import handle_request

from .harness import CLOCK, time_batch

__all__ = ["CONTRACT", "OPERATIONS", "main", "measure"]

CONTRACT: Final = 3.0
"""The boundary may take this many times what decide takes, at most."""

EMAIL_ID: Final = "E1"
AGENT: Final = "a"
OTHER: Final = "b"

OPERATIONS: Final[Mapping[str, tuple[bytes, Command]]] = {
    "AddComment": (
        json.dumps({"operationName": "AddComment", "comment": "called the customer back"}).encode(),
        AddComment(actor=AGENT, email_id=EMAIL_ID, comment="called the customer back"),
    ),
    "Transfer": (
        json.dumps(
            {
                "operationName": "Transfer",
                "userUri": f"http://localhost:8080/api/v2/users/{OTHER}",
            }
        ).encode(),
        Transfer(actor=AGENT, email_id=EMAIL_ID, agent=OTHER),
    ),
}
"""Each operation measured: the GWS body the boundary gets, the command decide gets."""


def _emails() -> Mapping[str, Email]:
    """One email in Processing, owned by :data:`AGENT`."""
    center = ContactCenter()
    for command in (
        Arrive(
            email_id=EMAIL_ID,
            queue="inbound",
            subject="Where is my order?",
            from_="customer@example.com",
            to=("support@example.com",),
            user_data={"OrderId": "42", "Segment": "gold"},
        ),
        Offer(email_id=EMAIL_ID, agent=AGENT),
        Accept(actor=AGENT, email_id=EMAIL_ID),
    ):
        assert isinstance(center.execute(command), Accepted)
    return center.emails


def _runners(
    emails: Mapping[str, Email], body: bytes, command: Command, loops: int
) -> dict[str, Callable[[], None]]:
    """The batches of the boundary, of decide and of handle_request alone, each ``loops``
    operations."""

    def boundary() -> None:
        for _ in range(loops):
            decision = handle_request(emails, body, actor=AGENT, email_id=EMAIL_ID)
            for notification in decision.notifications:  # type: ignore[union-attr]
                notification.to_json()

    def core() -> None:
        for _ in range(loops):
            decide(emails, command)

    def handle() -> None:
        for _ in range(loops):
            handle_request(emails, body, actor=AGENT, email_id=EMAIL_ID)

    return {"boundary": boundary, "decide": core, "handle": handle}


def _check(emails: Mapping[str, Email], body: bytes, command: Command) -> int:
    """Both paths accept, with the same notifications; the number of notifications."""
    through = handle_request(emails, body, actor=AGENT, email_id=EMAIL_ID)
    direct = decide(emails, command)
    assert isinstance(through, Accepted), through
    assert isinstance(direct, Accepted), direct
    assert through.notifications == direct.notifications, (through, direct)
    return len(through.notifications)


def measure(
    *, repeats: int = 21, loops: int = 2000, log: Callable[[str], None] = lambda _: None
) -> dict[str, Any]:
    """Time the boundary against decide, per operation; plain JSON-able results.

    Each operation's entry has ``boundary_ns`` and ``decide_ns`` (nanoseconds per
    operation, one figure per repeat), ``ratios`` (their quotient per repeat),
    ``ratio``/``ratio_low``/``ratio_high`` (the median, min and max of the ratios),
    ``handle_ns`` and ``handle_ratio`` (handle_request alone: its times, the median of
    its ratios to decide), ``notifications`` and ``met`` (the median ratio within
    :data:`CONTRACT`).
    """
    emails = _emails()
    results: dict[str, Any] = {
        "meta": {"clock": CLOCK, "repeats": repeats, "loops": loops, "contract": CONTRACT},
        "operations": {},
    }
    for name, (body, command) in OPERATIONS.items():
        notifications = _check(emails, body, command)
        runners = _runners(emails, body, command, loops)
        kinds = list(runners)
        times: dict[str, list[float]] = {kind: [] for kind in kinds}
        for repeat in range(repeats):
            log(f"boundary: {name} repeat {repeat + 1}/{repeats}")
            # Interleaved: each repeat times every batch, starting with the next one.
            start = repeat % len(kinds)
            for kind in kinds[start:] + kinds[:start]:
                times[kind].append(time_batch(runners[kind], loops))
        ratios = [b / d for b, d in zip(times["boundary"], times["decide"], strict=True)]
        handle_ratios = [h / d for h, d in zip(times["handle"], times["decide"], strict=True)]
        ratio = statistics.median(ratios)
        results["operations"][name] = {
            "boundary_ns": times["boundary"],
            "decide_ns": times["decide"],
            "handle_ns": times["handle"],
            "ratios": ratios,
            "ratio": ratio,
            "ratio_low": min(ratios),
            "ratio_high": max(ratios),
            "handle_ratio": statistics.median(handle_ratios),
            "notifications": notifications,
            "met": ratio <= CONTRACT,
        }
    return results


def table(results: Mapping[str, Any]) -> str:
    """The results as a Markdown table."""
    lines = [
        "| operation | boundary, ns | decide, ns | ratio (min\u2013max) | contract "
        "| handle_request alone, ns | its ratio |",
        "|---|---:|---:|---:|---|---:|---:|",
    ]
    for name, entry in results["operations"].items():
        lines.append(
            f"| {name} | {statistics.median(entry['boundary_ns']):,.0f} "
            f"| {statistics.median(entry['decide_ns']):,.0f} "
            f"| {entry['ratio']:.2f}\u00d7 ({entry['ratio_low']:.2f}\u2013"
            f"{entry['ratio_high']:.2f}) "
            f"| \u2264 {results['meta']['contract']:.0f}\u00d7: "
            f"{'met' if entry['met'] else 'NOT met'} "
            f"| {statistics.median(entry['handle_ns']):,.0f} "
            f"| {entry['handle_ratio']:.2f}\u00d7 |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Measure and print the table (or the JSON results); 1 if the contract is not met."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.boundary", description=__doc__)
    parser.add_argument("--repeats", type=int, default=21)
    parser.add_argument("--loops", type=int, default=2000)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    results = measure(
        repeats=args.repeats,
        loops=args.loops,
        log=lambda message: print(message, file=sys.stderr, flush=True),
    )
    print(json.dumps(results, indent=1) if args.json else table(results))
    return 0 if all(entry["met"] for entry in results["operations"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
