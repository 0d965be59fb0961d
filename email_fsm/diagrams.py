"""State diagrams and reference tables, generated from the lifecycle table.

Theory of operation
-------------------
Everything here reads :data:`email_fsm.table.TABLE` and nothing else, so the pictures
and tables in the documentation cannot drift from what :func:`email_fsm.decide` does.

1. :func:`edges` turns the table into one intermediate form, a tuple of
   :class:`DiagramEdge`, for one of two views: ``"global"``, the phases of the email
   (Queued, Invited, Processing, ...); ``"agent"``, what one agent sees of it, the view
   states of its notifications (Invited, Processing/Composing, then Transferred,
   Completed, Revoked, Sent or Canceled), derived from the rows' notices. Rows with no
   source (Arrive, Create) and the emails Reply and ReplyAll create start from the
   initial pseudo-state, :data:`START`.
2. :func:`lifecycle_machine` feeds those edges to a ``transitions`` graph machine
   (:class:`transitions.extensions.diagrams.GraphMachine`); the guards (the row's
   branch, and optionally its rules) are the transitions' conditions, the actor is
   part of the edge label.
3. The machine's own backends render it: :func:`mermaid` (``graph_engine="mermaid"``,
   no system dependency) and :func:`dot` (``graph_engine="graphviz"``, needs the
   ``graphviz`` Python package: ``pip install 'email-fsm[diagrams]'``);
   :func:`image` runs Graphviz's ``dot`` program for SVG and PNG, and raises
   :class:`MissingToolError` naming what is missing.
4. :func:`operations_table`, :func:`system_events_table`, :func:`capability_matrix`,
   :func:`notifications_table` and :func:`rules_table` render the same data as Markdown
   (or HTML) tables; the parameters come from the pydantic models that parse GWS
   request bodies.

``python -m email_fsm.diagrams --write docs/generated --readme README.md`` (``make
diagrams``) regenerates the committed copies; a test fails when they drift.

>>> text = mermaid(changes_only=True, guards=False)
>>> for line in text.splitlines():
...     if line.strip().startswith("Processing -->"):
...         print(line.strip())
Processing --> Invited: Transfer
Processing --> Queued: Transfer<br/>Complete
Processing --> Completed: Complete
"""

from __future__ import annotations

import argparse
import hashlib
import html
import importlib.util
import re
import shutil
import subprocess
import sys
import types
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal, TextIO, Union, get_args, get_origin

from pydantic import BaseModel
from transitions.extensions.diagrams import GraphMachine

from .capabilities import ADVERTISED, ALLOWED
from .decisions import StatusCode
from .requests import _Request
from .table import RULE_CODES, TABLE, Actor, Branch, Notice, Recipient, Row, Rule
from .vocabulary import (
    TERMINAL_PHASES,
    TERMINAL_VIEW_STATES,
    Operation,
    Phase,
    SystemEvent,
    Trigger,
    ViewState,
)

__all__ = [
    "FORMATS",
    "README_END",
    "README_START",
    "START",
    "DiagramEdge",
    "Engine",
    "Format",
    "MissingToolError",
    "View",
    "add_arguments",
    "capability_matrix",
    "dot",
    "dot_digest",
    "edges",
    "generated_files",
    "image",
    "lifecycle_machine",
    "main",
    "mermaid",
    "notifications_table",
    "operations_table",
    "parse_state",
    "readme_with_diagram",
    "reference",
    "rules_table",
    "run",
    "states",
    "svg_digest",
    "system_events_table",
    "write_generated",
]

View = Literal["global", "agent"]
"""``"global"``: the email's phases; ``"agent"``: the view states one agent sees."""

Engine = Literal["mermaid", "graphviz"]
"""The ``transitions`` graph backend."""

Format = Literal["mermaid", "dot", "svg", "png", "md", "html"]
"""What ``email-fsm diagram --format`` writes."""

FORMATS: Final[tuple[Format, ...]] = get_args(Format)

START: Final = "start"
"""The initial pseudo-state: the email does not exist yet (or, in the agent view, the
agent does not have it yet)."""

README_START: Final = "<!-- lifecycle-diagram:start -->"
README_END: Final = "<!-- lifecycle-diagram:end -->"


class MissingToolError(RuntimeError):
    """A program or package a diagram format needs is not installed."""


# --------------------------------------------------------------------- the edges


@dataclass(frozen=True, slots=True)
class DiagramEdge:
    """One edge of a lifecycle diagram: ``trigger`` by ``actor`` moves ``source`` to
    ``dest`` when ``branch`` holds (:attr:`~email_fsm.table.Branch.ALWAYS`: always),
    subject to ``rules``."""

    source: str
    dest: str
    trigger: Trigger
    actor: Actor
    branch: Branch = Branch.ALWAYS
    rules: tuple[Rule, ...] = ()

    @property
    def changes_state(self) -> bool:
        """False for a self-loop: the operation leaves the (view) state as it is."""
        return self.source != self.dest


def states(view: View = "global") -> tuple[str, ...]:
    """The states of a view's diagram, :data:`START` first.

    >>> states()
    ('start', 'Queued', 'Invited', 'Processing', 'Composing', 'Completed', 'Sent', 'Canceled')
    """
    names: Iterable[str] = Phase if view == "global" else ViewState
    return (START, *(str(name) for name in names))


def _terminal(view: View) -> frozenset[str]:
    terminal: Iterable[str] = TERMINAL_PHASES if view == "global" else TERMINAL_VIEW_STATES
    return frozenset(str(state) for state in terminal)


def edges(
    view: View = "global",
    *,
    triggers: Collection[Trigger] | None = None,
    changes_only: bool = False,
) -> tuple[DiagramEdge, ...]:
    """The edges of a view's diagram, in table order.

    ``triggers`` keeps only those operations and system events; ``changes_only`` drops
    the self-loops (operations that change properties, not the state).

    >>> [(e.source, e.dest, str(e.branch)) for e in edges(triggers={Operation.ACCEPT})]
    [('Invited', 'Processing', 'inbound email'), ('Invited', 'Composing', 'outbound email')]
    >>> [(e.source, e.dest) for e in edges("agent", triggers={Operation.REJECT})]
    [('Invited', 'Revoked')]
    """
    derive = _global_edges if view == "global" else _agent_edges
    found: list[DiagramEdge] = []
    for row in TABLE:
        if triggers is not None and row.trigger not in triggers:
            continue
        for edge in derive(row):
            if edge not in found and (edge.changes_state or not changes_only):
                found.append(edge)
    return tuple(found)


def _global_edges(row: Row) -> Iterable[DiagramEdge]:
    source = START if row.source is None else str(row.source)
    for edge in row.edges:
        yield DiagramEdge(source, str(edge.target), row.trigger, row.actor, edge.branch, row.rules)
    if row.creates is not None:
        # Reply and ReplyAll bring a new email into existence.
        yield DiagramEdge(START, str(row.creates), row.trigger, row.actor, rules=row.rules)


def _agent_edges(row: Row) -> Iterable[DiagramEdge]:
    """How each agent a row concerns sees it: the actor, a transfer target, a former
    invitee. Branches that lead to the same view collapse into one unguarded edge."""
    seen: dict[tuple[str, str], list[Branch]] = {}
    for edge in row.edges:
        for source, dest in _agent_moves(row, edge.target, edge.branch):
            seen.setdefault((source, dest), []).append(edge.branch)
    for (source, dest), branches in seen.items():
        branch = branches[0] if len(branches) < len(row.edges) else Branch.ALWAYS
        yield DiagramEdge(source, dest, row.trigger, row.actor, branch, row.rules)
    if row.creates is not None:
        new = [n for n in row.notices if n.recipient is Recipient.ACTOR and n.about_new_email]
        view = _view(new[0] if new else None, row.creates)
        yield DiagramEdge(START, view, row.trigger, row.actor, rules=row.rules)


def _agent_moves(row: Row, target: Phase, branch: Branch) -> Iterable[tuple[str, str]]:
    notices = [
        n for n in row.notices if n.branch in (Branch.ALWAYS, branch) and not n.about_new_email
    ]
    if row.actor is not Actor.SYSTEM:
        source = START if row.source is None else str(ViewState(row.source))
        mine = [n for n in notices if n.recipient is Recipient.ACTOR]
        yield source, _view(mine[0] if mine else None, target)
    for notice in notices:
        if notice.recipient is Recipient.TARGET:
            yield START, _view(notice, target)
        elif notice.recipient is Recipient.FORMER_INVITEE and row.source is not None:
            yield str(ViewState(row.source)), _view(notice, target)


def _view(notice: Notice | None, phase: Phase) -> str:
    """The view state a notice shows: its own, or the phase the recipient holds."""
    if notice is not None and notice.view is not None:
        return str(notice.view)
    return str(ViewState(phase))


# ------------------------------------------------------------- the graph machine


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


def parse_state(name: str, view: View = "global") -> str:
    """The state called ``name`` (any case) in ``view``, or :class:`ValueError`.

    >>> parse_state("processing"), parse_state("revoked", "agent")
    ('Processing', 'Revoked')
    """
    for state in states(view)[1:]:
        if state.lower() == name.strip().lower():
            return state
    choices = ", ".join(states(view)[1:])
    raise ValueError(f"{name!r} is not a state of the {view} view (one of: {choices})")


def _title(view: View) -> str:
    if view == "global":
        return "The phases of an email"
    return "What one agent sees of an email (notification states)"


def lifecycle_machine(
    *,
    engine: Engine = "mermaid",
    view: View = "global",
    triggers: Collection[Trigger] | None = None,
    changes_only: bool = False,
    guards: bool = True,
    rules: bool = False,
    highlight: str | None = None,
) -> GraphMachine:
    """A ``transitions`` graph machine of the lifecycle, ready to draw.

    ``guards`` shows each edge's actor and branch (``Transfer (owner) [to a queue]``),
    ``rules`` adds the row's operation-specific rules to the guards; ``highlight`` (a
    phase, or a view state in the agent view) is drawn as the current state. See
    :func:`edges` for ``triggers`` and ``changes_only``.
    """
    current = None if highlight is None else parse_state(highlight, view)
    if engine == "graphviz" and importlib.util.find_spec("graphviz") is None:
        raise MissingToolError(
            "Graphviz output needs the 'graphviz' Python package: pip install 'email-fsm[diagrams]'"
        )
    found = edges(view, triggers=triggers, changes_only=changes_only)
    model = _Model()
    cls = _MermaidMachine if engine == "mermaid" else _GraphvizMachine
    machine = cls(
        model=model,
        states=list(states(view)),
        initial=START,
        transitions=[_transition(edge, guards=guards, rules=rules) for edge in found],
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
    for state in _terminal(view):
        graph.set_node_style(state, "terminal")
    graph.set_node_style(START, "initial")
    if current is not None:
        graph.set_node_style(current, "active")
    return machine


def _transition(edge: DiagramEdge, *, guards: bool, rules: bool) -> dict[str, Any]:
    conditions: list[str] = []
    label = str(edge.trigger)
    if guards:
        label += f" ({edge.actor})"
        if edge.branch is not Branch.ALWAYS:
            conditions.append(str(edge.branch))
    if rules:
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


def mermaid(
    *,
    view: View = "global",
    triggers: Collection[Trigger] | None = None,
    changes_only: bool = False,
    guards: bool = True,
    rules: bool = False,
    highlight: str | None = None,
) -> str:
    """The lifecycle as a Mermaid state diagram (``stateDiagram-v2``).

    Drawn by ``transitions``' Mermaid backend; the initial pseudo-state becomes
    Mermaid's own ``[*]``. Arguments as for :func:`lifecycle_machine`.

    >>> text = mermaid(highlight="Invited")
    >>> "[*] --> Queued: Arrive (system)" in text, "Class Invited s_active" in text
    (True, True)
    """
    machine = lifecycle_machine(
        engine="mermaid",
        view=view,
        triggers=triggers,
        changes_only=changes_only,
        guards=guards,
        rules=rules,
        highlight=highlight,
    )
    lines: list[str] = []
    text = _source(machine)
    # Mermaid reads the title from YAML front matter as ``title: ...``.
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


def dot(
    *,
    view: View = "global",
    triggers: Collection[Trigger] | None = None,
    changes_only: bool = False,
    guards: bool = True,
    rules: bool = False,
    highlight: str | None = None,
) -> str:
    """The lifecycle as Graphviz DOT source, drawn by ``transitions``' Graphviz backend.

    Needs the ``graphviz`` Python package (not the ``dot`` program). Operations that
    share an edge are stacked one per line. Arguments as for :func:`lifecycle_machine`.
    """
    machine = lifecycle_machine(
        engine="graphviz",
        view=view,
        triggers=triggers,
        changes_only=changes_only,
        guards=guards,
        rules=rules,
        highlight=highlight,
    )
    # transitions writes an edge's operations on one line, "op (actor) [guards] | op ...";
    # an operation per line, its guards on the next, keep the drawing narrow.
    source = _LABEL.sub(
        lambda found: found.group(0).replace(" | ", "\\n").replace(" [", "\\n["),
        _source(machine),
    )
    return source.rstrip("\n") + "\n"


_LABEL: Final = re.compile(r'(?<=\[label=)"[^"]*"')


def dot_digest(dot_source: str) -> str:
    """The SHA-256 of a DOT source: an SVG made by :func:`image` records the digest of
    the DOT it was drawn from, so a check needs no particular Graphviz version."""
    return hashlib.sha256(dot_source.encode("utf-8")).hexdigest()


_DIGEST_COMMENT: Final = "<!-- email_fsm: drawn from DOT sha256 {} -->"
_DIGEST_PATTERN: Final = re.compile(r"<!-- email_fsm: drawn from DOT sha256 ([0-9a-f]{64}) -->")


def svg_digest(svg: str) -> str | None:
    """The DOT digest an SVG made by :func:`image` records (``None``: none)."""
    found = _DIGEST_PATTERN.search(svg)
    return None if found is None else found.group(1)


def image(dot_source: str, image_format: Literal["svg", "png"] = "svg") -> bytes:
    """Render DOT source with Graphviz's ``dot`` program.

    An SVG records :func:`dot_digest` of its source in a comment. Raises
    :class:`MissingToolError` when ``dot`` is not installed.
    """
    program = shutil.which("dot")
    if program is None:
        raise MissingToolError(
            f"{image_format.upper()} output needs the Graphviz program 'dot', which is not "
            "installed (Debian/Ubuntu: apt-get install graphviz; macOS: brew install graphviz)"
        )
    extra = ["-Gdpi=144"] if image_format == "png" else []
    done = subprocess.run(
        [program, f"-T{image_format}", *extra],
        input=dot_source.encode("utf-8"),
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"dot failed: {done.stderr.decode('utf-8', 'replace').strip()}")
    if image_format == "png":
        return done.stdout
    svg = done.stdout.decode("utf-8")
    comment = _DIGEST_COMMENT.format(dot_digest(dot_source))
    at = svg.find("<svg")
    return (svg[:at] + comment + "\n" + svg[at:]).encode("utf-8")


# ------------------------------------------------------------------- the tables


@dataclass(frozen=True, slots=True)
class _Table:
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]

    def render(self, *, as_html: bool = False) -> str:
        if as_html:
            return self._html()
        lines = [
            "| " + " | ".join(self.headers) + " |",
            "|" + "|".join("---" for _ in self.headers) + "|",
        ]
        lines.extend("| " + " | ".join(_md(cell) for cell in row) + " |" for row in self.rows)
        return "\n".join(lines) + "\n"

    def _html(self) -> str:
        head = "".join(f"<th>{html.escape(h)}</th>" for h in self.headers)
        body = "".join(
            "<tr>" + "".join(f"<td>{_html_cell(cell)}</td>" for cell in row) + "</tr>\n"
            for row in self.rows
        )
        return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}</tbody>\n</table>\n"


# Cells are plain text with two conventions: "\n" separates lines, `x` is code.
def _md(cell: str) -> str:
    return cell.replace("|", "\\|").replace("\n", "<br>") or " "


def _html_cell(cell: str) -> str:
    escaped = html.escape(cell).replace("\n", "<br>")
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", escaped)


def _rows_of(trigger: Trigger) -> list[Row]:
    return [row for row in TABLE if row.trigger is trigger]


def _triggers_in_table_order(kind: type[Operation] | type[SystemEvent]) -> list[Trigger]:
    seen: list[Trigger] = []
    for row in TABLE:
        if isinstance(row.trigger, kind) and row.trigger not in seen:
            seen.append(row.trigger)
    return seen


def _request_models() -> dict[str, type[BaseModel]]:
    """The pydantic model that parses each operation's request body."""
    union = get_args(_Request)[0]
    models: dict[str, type[BaseModel]] = {}
    for model in get_args(union):
        (name,) = get_args(model.model_fields["operationName"].annotation)
        models[name] = model
    return models


def _type_name(annotation: Any) -> str:
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        return " or ".join(_type_name(a) for a in get_args(annotation) if a is not type(None))
    if origin is list:
        return f"list of {_type_name(get_args(annotation)[0])}s"
    if origin is dict:
        return "object"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "object: " + ", ".join(_field_names(annotation))
    names = {str: "string", bool: "boolean", int: "integer"}
    return names.get(annotation, "value")


def _field_names(model: type[BaseModel]) -> list[str]:
    return [f"`{info.alias or name}`" for name, info in model.model_fields.items()]


def _parameters(operation: Trigger) -> tuple[str, list[str]]:
    """The parameters cell of an operation, and its required parameters."""
    model = _request_models().get(str(operation))
    if model is None:
        return "", []
    lines: list[str] = []
    required: list[str] = []
    for name, info in model.model_fields.items():
        if name == "operationName":
            continue
        shown = info.alias or name
        if info.is_required():
            required.append(shown)
        need = "required" if info.is_required() else "optional"
        lines.append(f"`{shown}` {_type_name(info.annotation)}, {need}")
    return "\n".join(lines) or "none", required


def _source_name(row: Row) -> str:
    return "no email yet" if row.source is None else str(row.source)


def _outcome(row: Row) -> str:
    parts = []
    for edge in row.edges:
        where = "unchanged" if edge.target is row.source else str(edge.target)
        parts.append(where if edge.branch is Branch.ALWAYS else f"{where} ({edge.branch})")
    if row.creates is not None:
        parts.append(f"and a new {row.creates} email")
    return "\n".join(parts)


def _per_source(rows: Sequence[Row], cell: Callable[[Row], str]) -> str:
    """One cell for all rows of a trigger; per source phase only where they differ."""
    texts = [cell(row) for row in rows]
    if len(set(texts)) == 1:
        return texts[0]
    return "\n".join(f"{_source_name(row)}: {text}" for row, text in zip(rows, texts, strict=True))


_RECIPIENTS: Final[Mapping[Recipient, str]] = {
    Recipient.ACTOR: "the agent",
    Recipient.TARGET: "the target agent",
    Recipient.FORMER_INVITEE: "the former invitee",
}
"""How the tables name a notice's recipient (an Offer's target is not transferred to)."""


def _notification_lines(rows: Sequence[Row]) -> str:
    """Notices of all rows of a trigger, with the view states they can show."""
    views: dict[tuple[Recipient, str, Branch, bool], list[str]] = {}
    for row in rows:
        for notice in row.notices:
            key = (notice.recipient, str(notice.type), notice.branch, notice.about_new_email)
            shown = views.setdefault(key, [])
            for view in _notice_views(row, notice):
                if view not in shown:
                    shown.append(view)
    lines = []
    for (recipient, kind, branch, new_email), shown in views.items():
        who = _RECIPIENTS[recipient]
        when = "" if branch is Branch.ALWAYS else f" ({branch})"
        size = " or ".join(
            sorted({"minimal" if ViewState(v) in TERMINAL_VIEW_STATES else "full" for v in shown})
        )
        about = ", about the new email" if new_email else ""
        lines.append(f"{who}{when}: {kind}, {'/'.join(shown)}, {size}{about}")
    return "\n".join(lines) or "none"


def _notice_views(row: Row, notice: Notice) -> list[str]:
    if notice.about_new_email and row.creates is not None:
        return [_view(notice, row.creates)]
    return [
        _view(notice, edge.target)
        for edge in row.edges
        if notice.branch in (Branch.ALWAYS, edge.branch)
    ]


def _refusals(rows: Sequence[Row], required: Sequence[str]) -> str:
    """The codes a trigger can be refused with, in the order decide checks them."""
    lines = []
    first = rows[0]
    if any(row.source is not None for row in rows):
        lines.append("`6` the email is not found")
    if any(row.source is None or row.creates is not None for row in rows):
        lines.append("`18` the new email id is taken")
    if required:
        lines.append("`1` missing " + ", ".join(f"`{name}`" for name in required))
    if first.actor in (Actor.OWNER, Actor.INVITEE):
        lines.append(f"`3` the agent is not its {first.actor}")
    if any(row.source is not None for row in rows):
        phases = ", ".join(str(row.source) for row in rows)
        lines.append(f"`2` not in {phases}")
    rules: list[Rule] = []
    for row in rows:
        rules.extend(rule for rule in row.rules if rule not in rules)
    lines.extend(f"`{int(RULE_CODES[rule])}` rule: {rule}" for rule in rules)
    return "\n".join(lines)


def operations_table(*, as_html: bool = False) -> str:
    """The operations reference: one row per agent operation, in table order.

    >>> print(operations_table().splitlines()[0])
    | Operation | Parameters | Allowed in | Actor | Leads to | Notifications | Refusals |
    """
    rows = []
    for operation in _triggers_in_table_order(Operation):
        found = _rows_of(operation)
        parameters, required = _parameters(operation)
        rows.append(
            (
                f"`{operation}`",
                parameters,
                ", ".join(_source_name(row) for row in found),
                str(found[0].actor),
                _per_source(found, _outcome),
                _notification_lines(found),
                _refusals(found, required),
            )
        )
    headers = (
        "Operation",
        "Parameters",
        "Allowed in",
        "Actor",
        "Leads to",
        "Notifications",
        "Refusals",
    )
    return _Table(headers, tuple(rows)).render(as_html=as_html)


def system_events_table(*, as_html: bool = False) -> str:
    """The system events: what the contact center does that no agent asked for."""
    rows = []
    for event in _triggers_in_table_order(SystemEvent):
        found = _rows_of(event)
        rows.append(
            (
                f"`{event}`",
                ", ".join(_source_name(row) for row in found),
                _per_source(found, _outcome),
                _notification_lines(found),
                _refusals(found, ()),
            )
        )
    headers = ("Event", "Allowed in", "Leads to", "Notifications", "Refusals")
    return _Table(headers, tuple(rows)).render(as_html=as_html)


def capability_matrix(*, as_html: bool = False) -> str:
    """Which operation the holder of an email may perform in which phase.

    ``n`` is its position in the capability list GWS advertises; ``allowed`` means
    allowed but never advertised; ``-`` means refused.
    """
    operations: list[Operation] = []
    for phase in Phase:
        operations.extend(op for op in ALLOWED[phase] if op not in operations)
    rows = []
    for operation in operations:
        cells = []
        for phase in Phase:
            if operation in ADVERTISED[phase]:
                cells.append(str(ADVERTISED[phase].index(operation) + 1))
            elif operation in ALLOWED[phase]:
                cells.append("allowed")
            else:
                cells.append("-")
        rows.append((f"`{operation}`", *cells))
    headers = ("Operation", *(str(phase) for phase in Phase))
    return _Table(headers, tuple(rows)).render(as_html=as_html)


def notifications_table(*, as_html: bool = False) -> str:
    """Every notification the table sends: trigger, source phase, recipient, type,
    the state shown and whether the email object is minimal or full."""
    rows = []
    for row in TABLE:
        for notice in row.notices:
            views = _notice_views(row, notice)
            size = ["minimal" if ViewState(v) in TERMINAL_VIEW_STATES else "full" for v in views]
            rows.append(
                (
                    f"`{row.trigger}`",
                    _source_name(row),
                    _RECIPIENTS[notice.recipient]
                    + ("" if notice.branch is Branch.ALWAYS else f" ({notice.branch})"),
                    f"`{notice.type}`",
                    " or ".join(dict.fromkeys(views))
                    + (" (the new email)" if notice.about_new_email else ""),
                    " or ".join(dict.fromkeys(size)),
                )
            )
    headers = ("Trigger", "From", "Recipient", "Type", "State", "Email object")
    return _Table(headers, tuple(rows)).render(as_html=as_html)


def rules_table(*, as_html: bool = False) -> str:
    """The operation-specific rules, the code each refuses with, and where they apply."""
    rows = []
    for rule in Rule:
        where = [f"`{row.trigger}` ({_source_name(row)})" for row in TABLE if rule in row.rules]
        rows.append(
            (str(rule), f"`{int(RULE_CODES[rule])}` {RULE_CODES[rule].name}", "\n".join(where))
        )
    return _Table(("Rule", "Refused with", "Checked on"), tuple(rows)).render(as_html=as_html)


def _status_codes_table(*, as_html: bool = False) -> str:
    rows = tuple((f"`{int(code)}`", code.name) for code in StatusCode)
    return _Table(("Code", "Name"), rows).render(as_html=as_html)


def reference(*, as_html: bool = False) -> str:
    """The whole reference as one document: operations, system events, capabilities,
    notifications, rules (what ``email-fsm diagram --format md`` prints)."""
    sections = [
        ("Operations", operations_table),
        ("System events", system_events_table),
        ("Capabilities", capability_matrix),
        ("Notifications", notifications_table),
        ("Operation-specific rules", rules_table),
        ("Status codes", _status_codes_table),
    ]
    if as_html:
        return "".join(f"<h2>{title}</h2>\n{render(as_html=True)}" for title, render in sections)
    return "\n".join(f"## {title}\n\n{render()}" for title, render in sections)


# --------------------------------------------------------- the committed copies


_HEADER: Final = "Generated from email_fsm.table by `make diagrams`; do not edit."


def generated_files() -> dict[str, str]:
    """The text of every generated file under ``docs/generated``, by file name.

    The SVGs are drawn from the ``.dot`` files by :func:`write_generated` (they need
    Graphviz's ``dot`` program) and are checked through :func:`svg_digest`.
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
        ("status-codes.md", _status_codes_table),
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


# ------------------------------------------------------------------ the commands


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


def run(args: argparse.Namespace, out: TextIO) -> int:
    """Run ``email-fsm diagram`` with parsed ``args``; returns the exit status."""
    try:
        options: Mapping[str, Any] = {
            "view": args.view,
            "triggers": _triggers(args.only),
            "changes_only": args.changes_only,
            "guards": not args.no_guards,
            "rules": args.rules,
            "highlight": args.highlight,
        }
        result: str | bytes
        if args.format == "mermaid":
            result = mermaid(**options)
        elif args.format == "md":
            result = reference()
        elif args.format == "html":
            result = reference(as_html=True)
        elif args.format == "dot":
            result = dot(**options)
        else:
            result = image(dot(**options), args.format)
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


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m email_fsm.diagrams --write DIR [--readme README.md] [--no-svg]``:
    regenerate the committed diagrams and tables."""
    parser = argparse.ArgumentParser(prog="python -m email_fsm.diagrams", description=main.__doc__)
    parser.add_argument("--write", metavar="DIR", required=True, type=Path)
    parser.add_argument("--readme", metavar="FILE", type=Path)
    parser.add_argument("--no-svg", action="store_true", help="do not run Graphviz's dot")
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
