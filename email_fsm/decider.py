"""decide: every rule of the lifecycle, applied to one command.

Theory of operation
-------------------
``decide(emails, command)`` runs the steps of :data:`CHECKS`, in that order, and the
first failure decides the refusal:

1. ``EXISTS``: the email exists (6), or, for a command that creates it, does not yet (18);
2. ``NEW_ID``: the id of an email the command creates beside its own (Reply) is free (18);
3. ``SHAPE``: missing or empty values (1), contradictory or invalid values and values
   over the configured limits (10) (:mod:`email_fsm.shape`);
4. ``HOLDER``: the actor is who the table row says may act (its ``actor``: the owner, the
   invitee, any agent); with no row, the holder (3);
5. ``PHASE``: the lifecycle table has a row for ``(phase, operation)`` (2);
6. ``RULES``: the row's operation-specific rules, checked by the command's handler
   (:mod:`email_fsm.handlers`), each with the code its :class:`~email_fsm.table.Rule`
   names;
7. ``POLICIES``: the caller's policies, in order.

When everything passes, the decision is :class:`~email_fsm.Accepted`: the domain event,
the email as it is after it (:func:`email_fsm.evolve`), and the notifications the row's
notices send (:func:`email_fsm.notifications.notify`). Otherwise it is
:class:`~email_fsm.Refused`. ``decide`` never raises on a command, and never changes
``emails``.

Rules of this module:

- what a command type *is* (it creates its email, it is a system event, it creates a
  second email) is read from the table's rows for its trigger, not written here;
- the order of the steps is :data:`CHECKS` and nothing else;
- the rules a handler checks are exactly the rules its rows name: :func:`check_handlers`
  runs when the package is imported, and fails naming the row that disagrees.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeAlias

from .commands import Command
from .config import DEFAULT_CONFIG, Config
from .decisions import Accepted, Decision, Refused, StatusCode
from .email import Email
from .evolution import EVOLVERS, evolve, is_terminal, replay
from .handlers import HANDLERS, Handler
from .notifications import notify
from .policies import Policy
from .shape import SHAPES, ShapeCheck
from .table import ROWS as _ROWS
from .table import TABLE, Actor, Row, TableError
from .vocabulary import Trigger

__all__ = [
    "CHECKS",
    "Check",
    "CheckStep",
    "check_handlers",
    "decide",
    "evolve",
    "is_terminal",
    "replay",
]


class CheckStep(StrEnum):
    """The steps of :func:`decide`, named; :data:`CHECKS` orders them."""

    EXISTS = "the email exists"
    NEW_ID = "a new email id is free"
    SHAPE = "the command's shape"
    HOLDER = "the actor may act on the email"
    PHASE = "the phase allows the operation"
    RULES = "the row's operation-specific rules"
    POLICIES = "the caller's policies, in order"


@dataclass(frozen=True, slots=True)
class Check:
    """One step of :func:`decide`: what it checks and the codes it refuses with."""

    step: CheckStep
    codes: tuple[StatusCode, ...]
    """The codes this step can refuse with (rules and policies: the ones they name)."""


CHECKS: tuple[Check, ...] = (
    Check(CheckStep.EXISTS, (StatusCode.NOT_FOUND, StatusCode.ALREADY_EXISTS)),
    Check(CheckStep.NEW_ID, (StatusCode.ALREADY_EXISTS,)),
    Check(CheckStep.SHAPE, (StatusCode.MISSING_PARAMETER, StatusCode.INVALID_VALUE)),
    Check(CheckStep.HOLDER, (StatusCode.FORBIDDEN,)),
    Check(CheckStep.PHASE, (StatusCode.INVALID_STATE,)),
    Check(CheckStep.RULES, ()),
    Check(CheckStep.POLICIES, ()),
)
"""The order in which :func:`decide` checks a command; the first failure decides.

The generated reference (``docs/generated/operations.md``) lists each operation's
refusals in this order too.
"""


def decide(
    emails: Mapping[str, Email],
    command: Command,
    *,
    config: Config = DEFAULT_CONFIG,
    policies: Sequence[Policy] = (),
) -> Decision:
    """Decide ``command`` against the live ``emails`` (read, never changed).

    >>> from email_fsm import Arrive, Offer, Accept
    >>> d = decide({}, Arrive(email_id="E1", queue="inbound"))
    >>> emails = {e.id: e for e in d.emails}
    >>> d = decide(emails, Offer(email_id="E1", agent="a"))
    >>> emails.update((e.id, e) for e in d.emails)
    >>> d = decide(emails, Accept(actor="a", email_id="E1", reference_id=7))
    >>> d.emails[0].phase, d.emails[0].owner
    (<Phase.PROCESSING: 'Processing'>, 'a')
    >>> d.notifications[0].to_dict()["data"]["referenceId"]
    7
    >>> decide(emails, Accept(actor="b", email_id="E1")).response()["statusCode"]
    3
    """
    spec = _SPECS.get(type(command))
    if spec is None:
        raise TypeError(f"not a command: {command!r}")
    email = emails.get(command.email_id)
    row = _ROWS.get((None if email is None else email.phase, spec.trigger))
    return _run(spec, emails, command, email, row, config, policies)


_accepted = Accepted


@dataclass(frozen=True, slots=True)
class _Spec:
    """How one command type is decided, as the table and the modules give it."""

    trigger: Trigger
    shape: ShapeCheck
    handle: Callable[[Email | None, Any, Row, Config], Any]
    """The command's handler (:attr:`Handler.handle <email_fsm.handlers.Handler.handle>`)."""
    creates: bool
    """The command's own email id is new (its rows start from no email: Arrive, Create)."""
    system: bool
    """A system event: no actor to check."""
    second_email: bool
    """The command creates an email beside its own (its rows ``creates``: Reply)."""


def _about(refused: Refused, operation: str, email: Email | None) -> Refused:
    where = "" if email is None else f" for email {email.id} ({email.phase})"
    return Refused(refused.code, f"{operation} refused{where}: {refused.message}")


def _already_exists(command: Any) -> Refused:
    return Refused(
        StatusCode.ALREADY_EXISTS,
        f"{command.operation} refused: email {command.email_id} already exists",
    )


def _not_found(command: Any) -> Refused:
    return Refused(
        StatusCode.NOT_FOUND, f"{command.operation} refused: email {command.email_id} not found"
    )


def _new_id_taken(command: Any) -> Refused:
    return Refused(
        StatusCode.ALREADY_EXISTS,
        f"{command.operation} refused for email {command.email_id}: "
        f"email {command.new_email_id} already exists",
    )


_OWNER = Actor.OWNER
_INVITEE = Actor.INVITEE
_ANY_AGENT = Actor.ANY_AGENT


def _forbidden(command: Any, email: Email, row: Row | None) -> Refused:
    actor = command.actor
    holder = email.holder
    if holder is not None and actor == holder and row is not None:
        role = "owner" if email.owner is not None else "invitee"
        reason = f"{actor} is its {role}, and {command.operation} is for its {row.actor}"
    else:
        reason = f"{actor} is not its holder (held by {holder or 'nobody'})"
    return Refused(
        StatusCode.FORBIDDEN,
        f"{command.operation} refused for email {email.id} ({email.phase}): {reason}",
    )


def _invalid_state(command: Any, email: Email | None) -> Refused:
    phase = None if email is None else email.phase
    return Refused(
        StatusCode.INVALID_STATE,
        f"{command.operation} is not valid for email {command.email_id} in state {phase}",
    )


# Each step of CHECKS as a few lines of the decision function, which _pipeline puts
# together in the order CHECKS gives (as dataclasses builds __init__ from the fields).
# Calling one function per step instead costs about a fifth of a step's time. RULES
# leaves the handler's outcome in `outcome`; it runs only once a row has matched, so a
# CHECKS that puts PHASE after RULES still refuses a missing row with 2.
_SOURCES: Mapping[CheckStep, str] = {
    CheckStep.EXISTS: """
    if spec.creates:
        if email is not None:
            return _already_exists(command)
    elif email is None:
        return _not_found(command)""",
    CheckStep.NEW_ID: """
    if spec.second_email and command.new_email_id in emails:
        return _new_id_taken(command)""",
    CheckStep.SHAPE: """
    refused = spec.shape(command, config.limits)
    if refused is not None:
        return _about(refused, command.operation, email)""",
    CheckStep.HOLDER: """
    if not spec.system and email is not None:
        # The row's actor says who may act (the owner, the invitee, any agent); with no
        # row, the holder.
        if row is None:
            owner = email.owner
            allowed = command.actor == (owner if owner is not None else email.invitee)
        else:
            who = row.actor
            if who is _OWNER:
                allowed = command.actor == email.owner
            elif who is _INVITEE:
                allowed = command.actor == email.invitee
            else:
                allowed = who is _ANY_AGENT
        if not allowed:
            return _forbidden(command, email, row)""",
    CheckStep.PHASE: """
    if row is None:
        return _invalid_state(command, email)""",
    CheckStep.RULES: """
    if row is not None:
        outcome = spec.handle(email, command, row, config)
        if outcome.__class__ is Refused:
            return _about(outcome, command.operation, email)""",
    CheckStep.POLICIES: """
    if policies:
        for policy in policies:
            refused = policy(command, email)
            if refused is not None:
                return _about(refused, command.operation, email)""",
}

_Run: TypeAlias = Callable[
    [_Spec, Mapping[str, Email], Any, Email | None, Row | None, Config, Sequence[Policy]],
    Decision,
]


def _pipeline(checks: Sequence[Check]) -> _Run:
    """The decision function that runs the steps of ``checks`` in their order."""
    steps = [check.step for check in checks]
    if sorted(steps) != sorted(CheckStep):
        raise TableError(f"CHECKS must name every step once, not {[str(s) for s in steps]}")
    source = "\n".join(
        [
            "def run(spec, emails, command, email, row, config, policies):",
            *(_SOURCES[step] for step in steps),
            "    branch, event = outcome",
            # evolve(), less its checks of the history, which decide's own events pass.
            "    after = _EVOLVERS[event.__class__](",
            "        email if event.email_id == command.email_id else None, event",
            "    )",
            "    notifications = notify(row, branch, command, email, after, config)",
            "    version = 0 if email is None else email.version",
            "    return _accepted((event,), (after,), notifications, (), version)",
        ]
    )
    namespace: dict[str, Any] = {
        "Refused": Refused,
        "_about": _about,
        "_accepted": _accepted,
        "_already_exists": _already_exists,
        "_forbidden": _forbidden,
        "_invalid_state": _invalid_state,
        "_new_id_taken": _new_id_taken,
        "_not_found": _not_found,
        "_OWNER": _OWNER,
        "_INVITEE": _INVITEE,
        "_ANY_AGENT": _ANY_AGENT,
        "_EVOLVERS": EVOLVERS,
        "notify": notify,
    }
    exec(source, namespace)
    run: _Run = namespace["run"]
    return run


def _specs(rows: Iterable[Row]) -> dict[type, _Spec]:
    by_trigger: dict[Trigger, list[Row]] = {}
    for row in rows:
        by_trigger.setdefault(row.trigger, []).append(row)
    specs = {}
    for kind, shape in SHAPES.items():
        trigger: Trigger = kind.operation  # type: ignore[attr-defined]
        found = by_trigger.get(trigger, [])
        if not found:
            raise TableError(f"no row for {trigger}")
        starts = {row.source is None for row in found}
        if len(starts) != 1:
            raise TableError(f"{trigger}: some rows create the email and some do not")
        specs[kind] = _Spec(
            trigger=trigger,
            shape=shape,
            handle=HANDLERS[kind].handle,
            creates=starts == {True},
            system=all(row.actor is Actor.SYSTEM for row in found),
            second_email=any(row.creates is not None for row in found),
        )
    return specs


def check_handlers(rows: Iterable[Row], handlers: Mapping[type, Handler] = HANDLERS) -> None:
    """Fail (:class:`~email_fsm.table.TableError`) where a row names other rules than the
    handler of its trigger checks.

    Runs on import with :data:`~email_fsm.table.TABLE`; call it on an edited table to
    see whether the handlers still enforce what the table says.
    """
    checked = {kind.operation: handler.rules for kind, handler in handlers.items()}  # type: ignore[attr-defined]
    for row in rows:
        rules = checked.get(row.trigger)
        if rules is None:
            raise TableError(f"{row.trigger} has no handler")
        if set(row.rules) != rules:
            named = sorted(str(rule) for rule in row.rules)
            enforced = sorted(str(rule) for rule in rules)
            raise TableError(
                f"{row.trigger} from {row.source}: the table names the rules {named}, "
                f"its handler checks {enforced}"
            )


check_handlers(TABLE)

_SPECS: Mapping[type, _Spec] = _specs(TABLE)
_run = _pipeline(CHECKS)
