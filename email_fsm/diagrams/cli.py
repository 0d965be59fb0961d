"""``email-fsm diagram``: its options (:func:`add_arguments`) and what it does
(:func:`run`).

Importing this module imports neither ``transitions`` nor ``graphviz``: :func:`run`
imports the renderers when a diagram is asked for.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Final, Literal, TextIO, get_args

from ..vocabulary import Operation, SystemEvent, Trigger
from .edges import DiagramOptions, View
from .image import MissingToolError, image

__all__ = ["FORMATS", "Format", "add_arguments", "options_from", "run"]

Format = Literal["mermaid", "dot", "svg", "png", "md", "html"]
"""What ``email-fsm diagram --format`` writes."""

FORMATS: Final[tuple[Format, ...]] = get_args(Format)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``email-fsm diagram``."""
    parser.add_argument("--format", choices=FORMATS, default="mermaid", help="output format")
    parser.add_argument(
        "--view", choices=get_args(View), default="global", help="phases, or one agent's view"
    )
    parser.add_argument("--highlight", metavar="STATE", help="draw STATE as the current one")
    parser.add_argument(
        "--changes-only", action="store_true", help="leave out operations that keep the state"
    )
    parser.add_argument(
        "--only",
        metavar="OPS",
        help="comma-separated operations or system events to draw (default: all)",
    )
    parser.add_argument("--no-guards", action="store_true", help="no actors, no branches")
    parser.add_argument("--rules", action="store_true", help="add operation-specific rules")
    parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE (default: stdout)")


def _triggers(text: str | None) -> frozenset[Trigger] | None:
    if text is None:
        return None
    names = {str(t).lower(): t for t in (*Operation, *SystemEvent)}
    found: set[Trigger] = set()
    for name in filter(None, (part.strip() for part in text.split(","))):
        if name.lower() not in names:
            raise ValueError(f"unknown operation or system event {name!r}")
        found.add(names[name.lower()])
    return frozenset(found)


def options_from(args: argparse.Namespace) -> DiagramOptions:
    """The drawing the parsed options of ``email-fsm diagram`` ask for
    (:class:`ValueError` for an unknown name in ``--only``).

    >>> parser = argparse.ArgumentParser()
    >>> add_arguments(parser)
    >>> chosen = options_from(parser.parse_args(["--view", "agent", "--no-guards"]))
    >>> chosen.view, chosen.guards, chosen.triggers
    ('agent', False, None)
    """
    return DiagramOptions(
        view=args.view,
        triggers=_triggers(args.only),
        changes_only=args.changes_only,
        guards=not args.no_guards,
        rules=args.rules,
        highlight=args.highlight,
    )


def _draw(args: argparse.Namespace) -> str | bytes:
    if args.format in ("md", "html"):
        from .reference import reference

        return reference(as_html=args.format == "html")
    from .render import dot, mermaid

    options = options_from(args)
    if args.format == "mermaid":
        return mermaid(options)
    if args.format == "dot":
        return dot(options)
    return image(dot(options), args.format)


def run(args: argparse.Namespace, out: TextIO) -> int:
    """Run ``email-fsm diagram`` with parsed ``args``; returns the exit status."""
    try:
        result = _draw(args)
    except (ValueError, MissingToolError) as error:
        print(f"email-fsm diagram: {error}", file=sys.stderr)
        return 2
    if args.output is not None:
        data = result.encode("utf-8") if isinstance(result, str) else result
        Path(args.output).write_bytes(data)
    elif isinstance(result, str):
        out.write(result)
    else:
        buffer = getattr(out, "buffer", None)
        if buffer is None:
            print("email-fsm diagram: give -o FILE for a binary format", file=sys.stderr)
            return 2
        buffer.write(result)
    return 0
