"""The reference tables, in Markdown or HTML, generated from the lifecycle table.

:func:`operations_table`, :func:`system_events_table`, :func:`capability_matrix`,
:func:`notifications_table` and :func:`rules_table` render the data the diagrams draw
as tables; :func:`reference` puts them (and the status codes) in one document. The
parameters come from the pydantic models that parse GWS request bodies
(:data:`email_fsm.requests.REQUEST_MODELS`); the refusals of each operation are listed
in the order :data:`email_fsm.decider.CHECKS` gives :func:`~email_fsm.decide`'s checks.

>>> print(rules_table().splitlines()[0])
| Rule | Refused with | Checked on |
"""

from __future__ import annotations

import html
import re
import types
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Union, assert_never, get_args, get_origin

from pydantic import BaseModel

from .. import decider
from ..capabilities import ADVERTISED, ALLOWED
from ..decider import CheckStep
from ..decisions import StatusCode
from ..requests import REQUEST_MODELS
from ..table import RULE_CODES, TABLE, Actor, Branch, Notice, Recipient, Row, Rule
from ..vocabulary import TERMINAL_VIEW_STATES, Operation, Phase, SystemEvent, Trigger, ViewState
from .edges import view_of

__all__ = [
    "capability_matrix",
    "notifications_table",
    "operations_table",
    "reference",
    "rules_table",
    "status_codes_table",
    "system_events_table",
]


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


def _parameters(trigger: Trigger) -> tuple[str, list[str]]:
    """The parameters cell of an operation, and its required parameters."""
    model = REQUEST_MODELS.get(trigger) if isinstance(trigger, Operation) else None
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
        about = ", about the new email" if new_email else ""
        lines.append(f"{who}{when}: {kind}, {'/'.join(shown)}{about}")
    return "\n".join(lines) or "none"


def _capabilities(view: str) -> str:
    """What a notification showing ``view`` advertises: nothing once the email has left
    the recipient (a terminal view state), else the holder's list for the phase."""
    return "none" if ViewState(view) in TERMINAL_VIEW_STATES else "the holder's"


def _notice_views(row: Row, notice: Notice) -> list[str]:
    if notice.about_new_email and row.creates is not None:
        return [view_of(notice, row.creates)]
    return [
        view_of(notice, edge.target)
        for edge in row.edges
        if notice.branch in (Branch.ALWAYS, edge.branch)
    ]


def _refusals(rows: Sequence[Row], required: Sequence[str]) -> str:
    """The codes a trigger can be refused with, in the order decide checks them
    (:data:`email_fsm.decider.CHECKS`, read when called)."""
    lines: list[str] = []
    for check in decider.CHECKS:
        lines.extend(_refusal_lines(check.step, rows, required))
    return "\n".join(lines)


def _refusal_lines(step: CheckStep, rows: Sequence[Row], required: Sequence[str]) -> list[str]:
    """The lines of the refusals cell one step of decide contributes for a trigger."""
    first = rows[0]
    match step:
        case CheckStep.EXISTS:
            found = any(row.source is not None for row in rows)
            return ["`6` the email is not found"] if found else []
        case CheckStep.NEW_ID:
            new = any(row.source is None or row.creates is not None for row in rows)
            return ["`18` the new email id is taken"] if new else []
        case CheckStep.SHAPE:
            return (
                ["`1` missing " + ", ".join(f"`{name}`" for name in required)] if required else []
            )
        case CheckStep.HOLDER:
            held = first.actor in (Actor.OWNER, Actor.INVITEE)
            return [f"`3` the agent is not its {first.actor}"] if held else []
        case CheckStep.PHASE:
            if not any(row.source is not None for row in rows):
                return []
            return ["`2` not in " + ", ".join(str(row.source) for row in rows)]
        case CheckStep.RULES:
            rules: list[Rule] = []
            for row in rows:
                rules.extend(rule for rule in row.rules if rule not in rules)
            return [f"`{int(RULE_CODES[rule])}` rule: {rule}" for rule in rules]
        case CheckStep.POLICIES:
            return []  # the caller's own: the table knows none
        case _:
            assert_never(step)


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
    """Every notification the table sends: trigger, source phase, recipient, type, the
    state shown and the capabilities it advertises (each carries the whole email object).

    >>> print(notifications_table().splitlines()[0])
    | Trigger | From | Recipient | Type | State | Capabilities |
    """
    rows = []
    for row in TABLE:
        for notice in row.notices:
            views = _notice_views(row, notice)
            advertised = [_capabilities(view) for view in views]
            rows.append(
                (
                    f"`{row.trigger}`",
                    _source_name(row),
                    _RECIPIENTS[notice.recipient]
                    + ("" if notice.branch is Branch.ALWAYS else f" ({notice.branch})"),
                    f"`{notice.type}`",
                    " or ".join(dict.fromkeys(views))
                    + (" (the new email)" if notice.about_new_email else ""),
                    " or ".join(dict.fromkeys(advertised)),
                )
            )
    headers = ("Trigger", "From", "Recipient", "Type", "State", "Capabilities")
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


def status_codes_table(*, as_html: bool = False) -> str:
    """The GWS status codes the model refuses with, and their names.

    >>> print(status_codes_table().splitlines()[2])
    | `0` | OK |
    """
    rows = tuple((f"`{int(code)}`", code.name) for code in StatusCode)
    return _Table(("Code", "Name"), rows).render(as_html=as_html)


def reference(*, as_html: bool = False) -> str:
    """The whole reference as one document: operations, system events, capabilities,
    notifications, rules and status codes (what ``email-fsm diagram --format md``
    prints)."""
    sections: tuple[tuple[str, Callable[..., str]], ...] = (
        ("Operations", operations_table),
        ("System events", system_events_table),
        ("Capabilities", capability_matrix),
        ("Notifications", notifications_table),
        ("Operation-specific rules", rules_table),
        ("Status codes", status_codes_table),
    )
    if as_html:
        return "".join(f"<h2>{title}</h2>\n{render(as_html=True)}" for title, render in sections)
    return "\n".join(f"## {title}\n\n{render()}" for title, render in sections)
