"""State diagrams and reference tables, generated from the lifecycle table.

Theory of operation
-------------------
Everything here reads :data:`email_fsm.table.TABLE` and nothing else, so the pictures
and tables in the documentation cannot drift from what :func:`email_fsm.decide` does.
The layers, one module each:

1. :mod:`~email_fsm.diagrams.edges`, the intermediate form: :func:`edges` turns the
   table into a tuple of :class:`DiagramEdge` for the ``"global"`` view (the phases of
   the email) or the ``"agent"`` view (the view states one agent's notifications show);
   :class:`DiagramOptions` says what a drawing shows. Pure.
2. :mod:`~email_fsm.diagrams.render`: :func:`lifecycle_machine` feeds those edges to a
   ``transitions`` graph machine, whose own backends write :func:`mermaid` and
   :func:`dot` text. The only module that imports ``transitions`` and ``graphviz``
   (both runtime dependencies; neither needs a program outside Python).
3. :mod:`~email_fsm.diagrams.image`: :func:`image` draws SVG and PNG with Graphviz's
   ``dot`` program (or, for SVG, Graphviz in WebAssembly: ``pip install
   'email-fsm[diagrams]'``), and raises :class:`MissingToolError` naming what is
   missing; :func:`dot_digest` and :func:`svg_digest` tie an SVG to its DOT.
4. :mod:`~email_fsm.diagrams.reference`: :func:`operations_table`,
   :func:`system_events_table`, :func:`capability_matrix`, :func:`notifications_table`,
   :func:`rules_table` and :func:`status_codes_table` render the same data as Markdown
   (or HTML) tables, :func:`reference` all of them.
5. :mod:`~email_fsm.diagrams.cli`: ``email-fsm diagram`` (:func:`add_arguments`,
   :func:`run`).

Importing this package, or :mod:`email_fsm.diagrams.cli`, does not import
``transitions`` or ``graphviz``: the names of :mod:`~email_fsm.diagrams.render` and
:mod:`~email_fsm.diagrams.cli` are looked up when first used. ``make diagrams``
regenerates the copies committed under ``docs/generated`` and the README's diagram; a
test fails when they drift.

>>> from email_fsm import Operation
>>> print(mermaid(triggers={Operation.SEND}, changes_only=True).splitlines()[-1].strip())
Composing --> Sent: Send (owner)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Final

# The names of the modules that import nothing heavy are bound now. Three of them are
# also names of modules (edges, image, reference): binding the functions after the
# modules are imported keeps ``email_fsm.diagrams.edges`` the function.
from .edges import START, DiagramEdge, DiagramOptions, View, edges, parse_state, states
from .image import MissingToolError, dot_digest, image, svg_digest
from .reference import (
    capability_matrix,
    notifications_table,
    operations_table,
    reference,
    rules_table,
    status_codes_table,
    system_events_table,
)

if TYPE_CHECKING:
    from .cli import FORMATS, Format, add_arguments, run
    from .render import Engine, dot, lifecycle_machine, mermaid

__all__ = [
    "FORMATS",
    "START",
    "DiagramEdge",
    "DiagramOptions",
    "Engine",
    "Format",
    "MissingToolError",
    "View",
    "add_arguments",
    "capability_matrix",
    "dot",
    "dot_digest",
    "edges",
    "image",
    "lifecycle_machine",
    "mermaid",
    "notifications_table",
    "operations_table",
    "parse_state",
    "reference",
    "rules_table",
    "run",
    "states",
    "status_codes_table",
    "svg_digest",
    "system_events_table",
]

_LAZY: Final = {
    "Engine": "render",
    "dot": "render",
    "lifecycle_machine": "render",
    "mermaid": "render",
    "FORMATS": "cli",
    "Format": "cli",
    "add_arguments": "cli",
    "run": "cli",
}
"""The names looked up when first used, and the module of each."""


def __getattr__(name: str) -> object:
    """The names of the rendering and command-line modules, imported when first used."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value: object = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The module's names, the lazily imported ones included."""
    return sorted({*globals(), *__all__})
