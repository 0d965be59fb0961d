"""Regenerate the diagrams and tables committed under ``docs/generated`` and the
README's lifecycle diagram (``make diagrams``).

``python scripts/generate_docs.py --write docs/generated --readme README.md [--no-svg]``

The SVGs need Graphviz (its ``dot`` program, or ``pip install 'email-fsm[diagrams]'``);
``tests/test_diagrams_drift.py`` fails when a committed copy is not what this writes now.
The generator lives outside the package: a library user has no use for it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Final

from email_fsm.diagrams import (
    MissingToolError,
    capability_matrix,
    dot,
    image,
    mermaid,
    notifications_table,
    operations_table,
    rules_table,
    status_codes_table,
    system_events_table,
)

__all__ = [
    "README_END",
    "README_START",
    "generated_files",
    "main",
    "readme_with_diagram",
    "write_generated",
]

README_START: Final = "<!-- lifecycle-diagram:start -->"
README_END: Final = "<!-- lifecycle-diagram:end -->"

_HEADER: Final = "Generated from email_fsm.table by `make diagrams`; do not edit."


def generated_files() -> dict[str, str]:
    """The text of every generated file under ``docs/generated``, by file name.

    The SVGs are drawn from the ``.dot`` files by :func:`write_generated` and are
    checked through :func:`email_fsm.diagrams.svg_digest`.
    """
    files: dict[str, str] = {
        "lifecycle.mmd": mermaid(changes_only=True),
        "lifecycle.dot": dot(changes_only=True),
        "agent-view.mmd": mermaid(view="agent", changes_only=True),
        "agent-view.dot": dot(view="agent", changes_only=True),
        # Every operation: Graphviz lays the self-loops out readably, Mermaid does not.
        "lifecycle-all.dot": dot(),
    }
    tables: tuple[tuple[str, Callable[..., str]], ...] = (
        ("operations.md", operations_table),
        ("system-events.md", system_events_table),
        ("capabilities.md", capability_matrix),
        ("notifications.md", notifications_table),
        ("rules.md", rules_table),
        ("status-codes.md", status_codes_table),
    )
    for name, render in tables:
        files[name] = f"<!-- {_HEADER} -->\n\n{render()}"
    return files


def readme_with_diagram(readme: str) -> str:
    """``readme`` with the Mermaid lifecycle between :data:`README_START` and
    :data:`README_END` (:class:`ValueError` when the markers are missing)."""
    start = readme.find(README_START)
    end = readme.find(README_END)
    if start < 0 or end < start:
        raise ValueError(f"the README has no {README_START} ... {README_END} region")
    block = f"```mermaid\n{mermaid(changes_only=True)}```\n"
    return readme[: start + len(README_START)] + "\n" + block + readme[end:]


def write_generated(directory: Path, *, readme: Path | None = None, svg: bool = True) -> list[Path]:
    """Write :func:`generated_files` (and, with ``svg``, an SVG per ``.dot``) into
    ``directory``; fill the diagram region of ``readme``. Returns the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in generated_files().items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
        if svg and name.endswith(".dot"):
            svg_path = path.with_suffix(".svg")
            svg_path.write_bytes(image(text, "svg"))
            written.append(svg_path)
    if readme is not None:
        readme.write_text(readme_with_diagram(readme.read_text("utf-8")), encoding="utf-8")
        written.append(readme)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """``scripts/generate_docs.py --write DIR [--readme README.md] [--no-svg]``:
    regenerate the committed diagrams and tables."""
    parser = argparse.ArgumentParser(prog="generate_docs.py", description=main.__doc__)
    parser.add_argument("--write", metavar="DIR", required=True, type=Path)
    parser.add_argument("--readme", metavar="FILE", type=Path)
    parser.add_argument("--no-svg", action="store_true", help="draw no SVG")
    args = parser.parse_args(argv)
    try:
        written = write_generated(args.write, readme=args.readme, svg=not args.no_svg)
    except (ValueError, MissingToolError) as error:
        print(f"{parser.prog}: {error}", file=sys.stderr)
        return 2
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
