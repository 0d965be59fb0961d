"""Planted bugs: wrong policies, and how fast the toolkit's state machine finds each.

Each planted bug is a policy as someone might first write it: the user's rule "a
high-priority email may not be completed without a disposition" with each of its
plausible slips, the VIP example's first draft, and mutants of the three policies that
ship with the library. Each is installed in an
:class:`~email_fsm.testing.EmailLifecycleMachine` whose invariant states the rule the
policy should enforce, the way its author would test it: no accepted command breaks the
rule, and a command the policy refused did break it.

``python -m benchmarks.planted_bugs`` runs every bug several times at the default
settings (100 examples of up to 50 steps; generation only, as a failure is found before
it is shrunk), writes ``benchmarks/planted_bugs.json`` and the markdown table
``benchmarks/planted_bugs.md`` that ``docs/testing.md`` includes between its
``planted-bugs`` markers, and refreshes that copy. ``tests/test_planted_bugs.py``
checks that each bug is found, that the right policies pass, and that the page's table
is the one the JSON gives.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import Phase as Stage
from hypothesis.stateful import invariant

from email_fsm import (
    DEFAULT_CONFIG,
    Command,
    Complete,
    Email,
    Policy,
    Refused,
    StatusCode,
    Transfer,
    max_transfers,
    no_transfer_back,
    require_disposition,
)
from email_fsm.testing import EDGES, EmailLifecycleMachine, Vocabulary
from email_fsm.testing.examples import (
    PRIORITY,
    PriorityMachine,
    VipMachine,
    first_draft,
    has_disposition,
    high_priority_needs_disposition,
    is_high_priority,
    vip_stays_with_vip,
)

ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "planted_bugs.json"
TABLE = ROOT / "planted_bugs.md"
ROWS_TABLE = ROOT / "machine_rows.md"
DOCS = ROOT.parent / "docs" / "testing.md"

_REFUSE = StatusCode.INVALID_STATE
_KEY = DEFAULT_CONFIG.disposition_key


# ------------------------------------------------------------------ the rules


@dataclass(frozen=True)
class Rule:
    """A business rule as its test states it: which commands it judges, and when such a
    command must be refused (``breaks``, on the email as it was before)."""

    name: str
    judges: type
    breaks: Callable[[Command, Email], bool]
    vocabulary: Vocabulary


def _priority_breaks(command: Command, email: Email) -> bool:
    return is_high_priority(email) and not has_disposition(email)


def _disposition_breaks(command: Command, email: Email) -> bool:
    return _KEY not in email.user_data


def _transfers_break(command: Command, email: Email) -> bool:
    return email.transfers >= 2


def _back_breaks(command: Command, email: Email) -> bool:
    assert isinstance(command, Transfer)
    return command.agent is not None and command.agent == email.last_transferred_by


PRIORITY_RULE = Rule("high priority needs a disposition", Complete, _priority_breaks, PRIORITY)
DISPOSITION_RULE = Rule("require_disposition()", Complete, _disposition_breaks, Vocabulary())
TRANSFERS_RULE = Rule("max_transfers(2)", Transfer, _transfers_break, Vocabulary())
BACK_RULE = Rule("no_transfer_back()", Transfer, _back_breaks, Vocabulary())


def rule_machine(rule: Rule, policy: Policy) -> type[EmailLifecycleMachine]:
    """A machine with ``policy`` installed and an invariant that checks ``rule``."""

    class RuleMachine(EmailLifecycleMachine):
        policies = (policy,)
        vocabulary = rule.vocabulary

        @invariant()
        def the_rule_holds(self) -> None:
            step = self.last_step
            if step is None or step.command is None or step.email is None:
                return
            if not isinstance(step.command, rule.judges):
                return
            breaks = rule.breaks(step.command, step.email)
            if step.accepted:
                assert not breaks, f"accepted, but breaks the rule: {step.command}"
            if step.refused_by is not None:
                assert breaks, f"refused, but keeps the rule: {step.command}"

    RuleMachine.__name__ = RuleMachine.__qualname__ = f"RuleMachine[{rule.name}]"
    return RuleMachine


# ------------------------------------------------------------- the planted bugs


def _priority(
    *,
    key: str = "Priority",
    value: str = "high",
    command: type = Complete,
    present: bool = False,
    disposition_key: str = _KEY,
    either: bool = False,
    to_queue_too: bool = True,
) -> Policy:
    """The Priority rule, with one of its slips."""

    def high_priority_needs_disposition(cmd: Command, email: Email | None) -> Refused | None:
        if not isinstance(cmd, command) or email is None:
            return None
        if not to_queue_too and isinstance(cmd, Complete) and cmd.queue is not None:
            return None
        high = (
            email.user_data.get(key) is not None if present else email.user_data.get(key) == value
        )
        missing = disposition_key not in email.user_data
        if (high or missing) if either else (high and missing):
            return Refused(_REFUSE, "a high-priority email needs a disposition")
        return None

    return high_priority_needs_disposition


def _require_disposition_inverted(command: Command, email: Email | None) -> Refused | None:
    if isinstance(command, Complete) and email is not None and _KEY in email.user_data:
        return Refused(_REFUSE, f"set a disposition ({_KEY}) first")
    return None


def _require_disposition_on_transfer(command: Command, email: Email | None) -> Refused | None:
    if isinstance(command, Transfer) and email is not None and _KEY not in email.user_data:
        return Refused(_REFUSE, f"set a disposition ({_KEY}) first")
    return None


def _max_transfers_off_by_one(command: Command, email: Email | None) -> Refused | None:
    if isinstance(command, Transfer) and email is not None and email.transfers > 2:
        return Refused(StatusCode.FORBIDDEN, "already transferred (limit 2)")
    return None


def _max_transfers_too_early(command: Command, email: Email | None) -> Refused | None:
    if isinstance(command, Transfer) and email is not None and email.transfers >= 1:
        return Refused(StatusCode.FORBIDDEN, "already transferred (limit 2)")
    return None


def _no_transfer_back_actor(command: Command, email: Email | None) -> Refused | None:
    # Compares the one transferring, not the target, with the last transferer.
    if (
        isinstance(command, Transfer)
        and email is not None
        and command.agent is not None
        and command.actor == email.last_transferred_by
    ):
        return Refused(StatusCode.INVALID_VALUE, f"{command.agent} just transferred it")
    return None


def _no_transfer_back_inverted(command: Command, email: Email | None) -> Refused | None:
    if (
        isinstance(command, Transfer)
        and email is not None
        and command.agent is not None
        and email.last_transferred_by is not None
        and command.agent != email.last_transferred_by
    ):
        return Refused(StatusCode.INVALID_VALUE, f"{command.agent} just transferred it")
    return None


def vip_machine(policy: Policy) -> type[EmailLifecycleMachine]:
    """The VIP example's machine (its own invariant) with ``policy`` installed."""

    class VipRuleMachine(VipMachine):
        policies = (policy,)  # type: ignore[assignment]  # any policy, not only functions

    return VipRuleMachine


@dataclass(frozen=True)
class Bug:
    """A planted bug: a wrong policy for a rule, found when the rule's machine fails
    (``rule`` ``None``: the VIP example's machine)."""

    name: str
    description: str
    policy: Policy
    rule: Rule | None

    def machine(self) -> type[EmailLifecycleMachine]:
        """A fresh machine class for this bug."""
        if self.rule is None:
            return vip_machine(self.policy)
        return rule_machine(self.rule, self.policy)


BUGS: tuple[Bug, ...] = (
    Bug(
        "priority-key-case",
        'Priority rule reads `userData["priority"]`',
        _priority(key="priority"),
        PRIORITY_RULE,
    ),
    Bug(
        "priority-value-case",
        'Priority rule compares with `"High"`',
        _priority(value="High"),
        PRIORITY_RULE,
    ),
    Bug(
        "priority-is-not-none",
        "Priority rule checks `is not None`, not the value",
        _priority(present=True),
        PRIORITY_RULE,
    ),
    Bug(
        "priority-on-transfer",
        "Priority rule judges Transfer, not Complete",
        _priority(command=Transfer),
        PRIORITY_RULE,
    ),
    Bug(
        "priority-disposition-key",
        'Priority rule looks for the disposition under `"Disposition"`',
        _priority(disposition_key="Disposition"),
        PRIORITY_RULE,
    ),
    Bug(
        "priority-or",
        "Priority rule: `high or no disposition`",
        _priority(either=True),
        PRIORITY_RULE,
    ),
    Bug(
        "priority-forgets-queue",
        "Priority rule lets a Complete with `queueName` through",
        _priority(to_queue_too=False),
        PRIORITY_RULE,
    ),
    Bug(
        "vip-first-draft",
        "VIP example's first draft: forgets Complete's `queueName`",
        first_draft,
        None,
    ),
    Bug(
        "require-disposition-inverted",
        "`require_disposition`: refuses when the disposition is set",
        _require_disposition_inverted,
        DISPOSITION_RULE,
    ),
    Bug(
        "require-disposition-on-transfer",
        "`require_disposition`: judges Transfer, not Complete",
        _require_disposition_on_transfer,
        DISPOSITION_RULE,
    ),
    Bug(
        "max-transfers-off-by-one",
        "`max_transfers(2)`: `>` for `>=` (a third transfer passes)",
        _max_transfers_off_by_one,
        TRANSFERS_RULE,
    ),
    Bug(
        "max-transfers-too-early",
        "`max_transfers(2)`: refuses the second transfer",
        _max_transfers_too_early,
        TRANSFERS_RULE,
    ),
    Bug(
        "no-transfer-back-actor",
        "`no_transfer_back`: compares the actor, not the target",
        _no_transfer_back_actor,
        BACK_RULE,
    ),
    Bug(
        "no-transfer-back-inverted",
        "`no_transfer_back`: `!=` for `==`",
        _no_transfer_back_inverted,
        BACK_RULE,
    ),
)
"""Every planted bug, in the order of the table."""

RIGHT: tuple[Bug, ...] = (
    Bug("priority", "the Priority rule", high_priority_needs_disposition, PRIORITY_RULE),
    Bug("vip", "the VIP rule", vip_stays_with_vip, None),
    Bug("require-disposition", "require_disposition()", require_disposition(), DISPOSITION_RULE),
    Bug("max-transfers", "max_transfers(2)", max_transfers(2), TRANSFERS_RULE),
    Bug("no-transfer-back", "no_transfer_back()", no_transfer_back(), BACK_RULE),
)
"""The right policies for the same rules (not bugs): their machines pass."""


# ------------------------------------------------------------------ running


def default_settings(*, derandomize: bool = False) -> settings:
    """The default settings of a state machine test (100 examples of up to 50 steps),
    generation only, no example database."""
    return settings(
        max_examples=100,
        stateful_step_count=50,
        deadline=None,
        derandomize=derandomize,
        database=None,
        phases=[Stage.explicit, Stage.generate],
        suppress_health_check=list(HealthCheck),
    )


@dataclass(frozen=True)
class Outcome:
    """One run of a planted bug's machine."""

    found: bool
    examples: int
    seconds: float
    message: str


def hunt(bug: Bug, *, derandomize: bool = False) -> Outcome:
    """Run ``bug``'s machine once at the default settings."""
    machine = bug.machine()
    start = time.perf_counter()
    try:
        machine.run(settings=default_settings(derandomize=derandomize))
    except AssertionError as failure:
        seconds = time.perf_counter() - start
        message = str(failure).splitlines()[0]
        return Outcome(True, machine.statistics().examples, seconds, message)
    return Outcome(False, machine.statistics().examples, time.perf_counter() - start, "")


def priority_runs(runs: int) -> dict[str, object]:
    """The Priority example at the default settings, ``runs`` times each way: without its
    policy (each run must fail) and with it (each must pass); the passing runs' event
    statistics (rows taken, refusal codes, the policy's verdicts)."""
    without = passed = 0
    failed_at: list[int] = []

    class WithoutPolicy(PriorityMachine):
        policies = ()  # type: ignore[assignment]

    for _ in range(runs):
        try:
            WithoutPolicy.run(settings=default_settings())
        except AssertionError:
            without += 1
            failed_at.append(WithoutPolicy.statistics().examples)
    rows: dict[str, list[float]] = {edge: [] for edge in EDGES}
    refusals: dict[str, int] = {}
    consulted = refused = steps = examples = 0
    seconds: list[float] = []
    for _ in range(runs):
        start = time.perf_counter()
        PriorityMachine.run(settings=default_settings())
        seconds.append(time.perf_counter() - start)
        passed += 1
        stats = PriorityMachine.statistics()
        for edge in EDGES:
            rows[edge].append(stats.rows[edge] / stats.examples)
        for code, number in stats.refusals.items():
            refusals[code] = refusals.get(code, 0) + number
        (verdicts,) = stats.policies
        consulted += verdicts.consulted
        refused += verdicts.refused
        steps += stats.steps
        examples += stats.examples
    return {
        "runs": runs,
        "failed_without_policy": without,
        "examples_to_fail": failed_at,
        "passed_with_policy": passed,
        "seconds_with_policy": [round(x, 2) for x in seconds],
        "steps": steps,
        "examples": examples,
        "rows": {
            edge: {
                "runs": sum(1 for share in shares if share),
                "examples_share": round(statistics.mean(shares), 3),
            }
            for edge, shares in rows.items()
        },
        "refusals": dict(sorted(refusals.items())),
        "policy": {"consulted": consulted, "refused": refused},
    }


def rows_markdown(results: dict[str, Any]) -> str:
    """The table of the rows the Priority machine took (as :func:`main` writes it)."""
    prio = results["priority"]
    runs = prio["runs"]
    failed_at = sorted(prio["examples_to_fail"])
    lines = [
        f"Without its policy, {prio['failed_without_policy']} of {runs} runs of the machine "
        f"failed (after {failed_at[0]} to {failed_at[-1]} examples, median "
        f"{statistics.median(failed_at):g}); with it, {prio['passed_with_policy']} of {runs} "
        f"passed, in {prio['steps']:,} steps, and its policy refused "
        f"{prio['policy']['refused']:,} of the {prio['policy']['consulted']:,} commands it "
        "was consulted on.",
        "",
        f"| row of the lifecycle table | runs that took it (of {runs}) "
        "| share of examples that took it |",
        "|---|---|---|",
    ]
    for edge, row in prio["rows"].items():
        lines.append(f"| {edge} | {row['runs']} | {row['examples_share']:.0%} |")
    return "\n".join(lines) + "\n"


def markdown(results: dict[str, Any]) -> str:
    """The table of ``results`` (as :func:`main` writes them)."""
    runs = results["runs"]
    lines = [
        "| planted bug | found | examples (median, max) | seconds (median, max) |",
        "|---|---|---|---|",
    ]
    for row in results["bugs"]:
        lines.append(
            f"| {row['description']} | {row['found']}/{runs} "
            f"| {row['examples_median']:g}, {row['examples_max']} "
            f"| {row['seconds_median']:.2f}, {row['seconds_max']:.2f} |"
        )
    return "\n".join(lines) + "\n"


def _markers(name: str) -> re.Pattern[str]:
    return re.compile(rf"(<!-- {name}:start -->\n)(.*?)(<!-- {name}:end -->)", re.DOTALL)


def docs_table(page: str, name: str = "planted-bugs") -> str:
    """The text between the ``name`` markers of ``page`` (``planted-bugs`` or
    ``rows``)."""
    found = _markers(name).search(page)
    if found is None:
        raise ValueError(f"no {name} markers")
    return found.group(2)


def _replace(page: str, name: str, text: str) -> str:
    return _markers(name).sub(lambda m: m.group(1) + text + m.group(3), page)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs of each bug (default 5)")
    parser.add_argument(
        "--priority-runs", type=int, default=20, help="runs of the Priority example each way"
    )
    parser.add_argument(
        "--tables", action="store_true", help="only rewrite the tables from the JSON"
    )
    args = parser.parse_args(argv)
    if args.tables:
        write_tables(json.loads(RESULTS.read_text("utf-8")))
        return
    rows = []
    for bug in BUGS:
        outcomes = [hunt(bug) for _ in range(args.runs)]
        found = [o for o in outcomes if o.found]
        examples = [o.examples for o in found] or [0]
        seconds = [o.seconds for o in found] or [0.0]
        rows.append(
            {
                "name": bug.name,
                "description": bug.description,
                "found": len(found),
                "examples": [o.examples for o in outcomes],
                "seconds": [round(o.seconds, 3) for o in outcomes],
                "examples_median": statistics.median(examples),
                "examples_max": max(examples),
                "seconds_median": round(statistics.median(seconds), 3),
                "seconds_max": round(max(seconds), 3),
                "message": found[0].message if found else "",
            }
        )
        print(f"{bug.name}: found {len(found)}/{args.runs}, examples {examples}")
    priority = priority_runs(args.priority_runs)
    print(f"priority: {priority['failed_without_policy']} failed without the policy")
    results = {
        "runs": args.runs,
        "settings": "100 examples, up to 50 steps each, generation only (no shrinking)",
        "python": platform.python_version(),
        "machine": platform.machine(),
        "bugs": rows,
        "priority": priority,
    }
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", "utf-8")
    write_tables(results)


def write_tables(results: dict[str, Any]) -> None:
    """Write the two markdown tables of ``results`` and their copies in the page."""
    table = markdown(results)
    TABLE.write_text(table, "utf-8")
    rows_table = rows_markdown(results)
    ROWS_TABLE.write_text(rows_table, "utf-8")
    page = DOCS.read_text("utf-8")
    page = _replace(_replace(page, "planted-bugs", table), "rows", rows_table)
    DOCS.write_text(page, "utf-8")
    print(table)
    print(rows_table)


if __name__ == "__main__":
    main()
