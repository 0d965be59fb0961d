"""The lifecycle drawn by ``transitions``' graph machines: Mermaid and Graphviz DOT text.

:func:`lifecycle_machine` feeds the edges of :func:`~email_fsm.diagrams.edges.edges`
to a :class:`transitions.extensions.diagrams.GraphMachine`; the guards (the row's branch,
and optionally its rules) are the transitions' conditions, the actor is part of the edge
label. The machine's own backends render it: :func:`mermaid` (``graph_engine="mermaid"``)
and :func:`dot` (``graph_engine="graphviz"``, through the ``graphviz`` Python package,
which writes DOT text and needs no Graphviz program). Both are runtime dependencies of
``email-fsm``; this is the only module that imports them, and the package
:mod:`email_fsm.diagrams` imports it only when one of these functions is first used.

WARNING: this module post-processes the text ``transitions`` (and, for DOT, the
``graphviz`` package) writes: it rewrites the Mermaid front matter into a ``title:``
field, drops the lines of the initial pseudo-state and draws it as Mermaid's ``[*]``,
and splits the edge labels it finds with a regular expression (``[label="..."]``). A
``transitions`` release that changes that output format breaks the diagrams, silently
or not. The version pins in ``pyproject.toml`` and the drift test
(``tests/test_diagrams_drift.py``, which compares the committed copies under
``docs/generated`` with what this module writes now) contain that risk: check both
before widening a pin.

>>> text = mermaid(changes_only=True, guards=False)
>>> for line in text.splitlines():
...     if line.strip().startswith("Processing -->"):
...         print(line.strip())
Processing --> Invited: Transfer
Processing --> Queued: Transfer<br/>Complete
Processing --> Completed: Complete
"""

from __future__ import annotations

import re
from typing import Any, Final, Literal, Unpack

from transitions.extensions.diagrams import GraphMachine

from ..table import Branch
from .edges import (
    START,
    DiagramEdge,
    DiagramOptions,
    OptionChanges,
    View,
    edges,
    parse_state,
    resolve_options,
    states,
    terminal_states,
)

__all__ = ["Engine", "dot", "lifecycle_machine", "mermaid"]

Engine = Literal["mermaid", "graphviz"]
"""The ``transitions`` graph backend."""

_MERMAID_NODE_STYLES: Final[dict[str, str | dict[str, Any]]] = {
    "default": {"fill": "#ffffff", "stroke": "#37474f"},
    "terminal": {"fill": "#eceff1", "stroke": "#37474f", "stroke-width": "3px"},
    "active": {"fill": "#ffe082", "stroke": "#e65100", "stroke-width": "4px"},
}

_GRAPHVIZ_NODE_STYLES: Final[dict[str, str | dict[str, Any]]] = {
    "default": {
        "shape": "box",
        "style": "rounded,filled",
        "fillcolor": "white",
        "color": "#37474f",
        "fontname": "Helvetica",
        "fontsize": "14",
        "margin": "0.2,0.1",
    },
    "initial": {"shape": "point", "width": "0.25", "fillcolor": "black"},
    "terminal": {"fillcolor": "#eceff1", "peripheries": "2"},
    "active": {"fillcolor": "#ffe082", "color": "#e65100", "penwidth": "3"},
}

_GRAPHVIZ_EDGE_STYLE: Final[dict[str, str | dict[str, Any]]] = {
    "color": "#455a64",
    "fontname": "Helvetica",
    "fontsize": "11",
    "fontcolor": "#263238",
}


class _MermaidMachine(GraphMachine):
    machine_attributes = {"rankdir": "LR"}  # noqa: RUF012 -- transitions' own attribute
    style_attributes = {"node": _MERMAID_NODE_STYLES, "edge": {}, "graph": {}}  # noqa: RUF012


class _GraphvizMachine(GraphMachine):
    machine_attributes = {  # noqa: RUF012 -- transitions' own attribute
        "rankdir": "LR",
        "nodesep": "0.5",
        "ranksep": "0.9",
        "fontname": "Helvetica",
        "labelloc": "t",
        "fontsize": "16",
    }
    style_attributes = {  # noqa: RUF012
        "node": _GRAPHVIZ_NODE_STYLES,
        "edge": {"default": _GRAPHVIZ_EDGE_STYLE},
        "graph": {"default": {}},
    }


class _Model:
    """The machine's model; only its state (the highlighted one) matters."""


def _title(view: View) -> str:
    if view == "global":
        return "The phases of an email"
    return "What one agent sees of an email (notification states)"


def lifecycle_machine(
    options: DiagramOptions | None = None,
    /,
    *,
    engine: Engine = "mermaid",
    **changes: Unpack[OptionChanges],
) -> GraphMachine:
    """A ``transitions`` graph machine of the lifecycle, ready to draw.

    ``options`` (a :class:`~email_fsm.diagrams.DiagramOptions`), or its fields as
    keyword arguments (``view="agent"``, ``highlight="Processing"``, ...; they override
    ``options``), say what it shows; :class:`ValueError` when ``highlight`` is not a
    state of the view.

    >>> machine = lifecycle_machine(view="agent", changes_only=True)
    >>> machine.title, list(machine.states)[:3]
    ('What one agent sees of an email (notification states)', ['start', 'Invited', 'Processing'])
    """
    settings = resolve_options(options, changes)
    view = settings.view
    current = None if settings.highlight is None else parse_state(settings.highlight, view)
    found = edges(view, triggers=settings.triggers, changes_only=settings.changes_only)
    model = _Model()
    cls = _MermaidMachine if engine == "mermaid" else _GraphvizMachine
    machine = cls(
        model=model,
        states=list(states(view)),
        initial=START,
        transitions=[_transition(edge, settings) for edge in found],
        auto_transitions=False,
        graph_engine=engine,
        show_conditions=True,
        title=_title(view),
    )
    # Checked by eye: self-loops drawn left to right land across other edges (top to
    # bottom puts them, and their long labels, beside their node), and Graphviz keeps
    # the back edges of the phases clear of the other labels only top to bottom.
    loops = not all(edge.changes_state for edge in found)
    if engine == "mermaid" and loops:
        machine.machine_attributes = {**machine.machine_attributes, "rankdir": "TB"}
    elif engine == "graphviz" and (loops or view == "global"):
        machine.machine_attributes = {
            **machine.machine_attributes,
            "rankdir": "TB",
            "nodesep": "1.0",
        }
    graph = machine.model_graphs[id(model)]
    graph.reset_styling()
    for state in terminal_states(view):
        graph.set_node_style(state, "terminal")
    graph.set_node_style(START, "initial")
    if current is not None:
        graph.set_node_style(current, "active")
    return machine


def _transition(edge: DiagramEdge, settings: DiagramOptions) -> dict[str, Any]:
    conditions: list[str] = []
    label = str(edge.trigger)
    if settings.guards:
        label += f" ({edge.actor})"
        if edge.branch is not Branch.ALWAYS:
            conditions.append(str(edge.branch))
    if settings.rules:
        conditions.extend(str(rule) for rule in edge.rules)
    return {
        "trigger": str(edge.trigger),
        "source": edge.source,
        "dest": edge.dest,
        "label": label,
        "conditions": conditions,
    }


def _source(machine: GraphMachine) -> str:
    graph: Any = machine.get_combined_graph()
    return str(graph.source)


def mermaid(options: DiagramOptions | None = None, /, **changes: Unpack[OptionChanges]) -> str:
    """The lifecycle as a Mermaid state diagram (``stateDiagram-v2``).

    Drawn by ``transitions``' Mermaid backend; the initial pseudo-state becomes
    Mermaid's own ``[*]``. Options as for :func:`lifecycle_machine`.

    >>> text = mermaid(highlight="Invited")
    >>> "[*] --> Queued: Arrive (system)" in text, "Class Invited s_active" in text
    (True, True)
    """
    machine = lifecycle_machine(options, engine="mermaid", **changes)
    lines: list[str] = []
    text = _source(machine)
    # transitions writes the title alone between the front matter's "---" lines;
    # Mermaid reads it from a ``title:`` field.
    title = machine.title
    text = text.replace(f"---\n{title}\n---", f"---\ntitle: {title}\n---", 1)
    for line in text.splitlines():
        body = line.strip()
        if body in (f'state "{START}" as {START}', f"[*] --> {START}") or body.startswith(
            f"Class {START} "
        ):
            continue
        if body.startswith(f"{START} --> "):
            # The initial pseudo-state is Mermaid's own [*].
            body = "[*]" + body.removeprefix(START)
        lines.append((line[: len(line) - len(line.lstrip())] + body).rstrip())
    # transitions joins the operations of one edge with " | "; a line each reads better.
    return "\n".join(lines).replace(" | ", "<br/>") + "\n"


def dot(options: DiagramOptions | None = None, /, **changes: Unpack[OptionChanges]) -> str:
    """The lifecycle as Graphviz DOT source, drawn by ``transitions``' Graphviz backend.

    Needs no Graphviz program (see :func:`~email_fsm.diagrams.image` for SVG and PNG).
    Operations that share an edge are stacked one per line. Options as for
    :func:`lifecycle_machine`.

    >>> print(dot(view="agent").splitlines()[0])
    digraph "What one agent sees of an email (notification states)" {
    """
    machine = lifecycle_machine(options, engine="graphviz", **changes)
    # transitions writes an edge's operations on one line, "op (actor) [guards] | op ...";
    # an operation per line, its guards on the next, keep the drawing narrow.
    source = _LABEL.sub(
        lambda found: found.group(0).replace(" | ", "\\n").replace(" [", "\\n["),
        _source(machine),
    )
    return source.rstrip("\n") + "\n"


_LABEL: Final = re.compile(r'(?<=\[label=)"[^"]*"')
