"""The planted-bug benchmark's claims hold: each planted bug is found at the default
settings, the right policies pass the same machines, and docs/testing.md shows the
tables the benchmark wrote (benchmarks/planted_bugs.json)."""

from __future__ import annotations

import json

import pytest
from hypothesis import settings

from benchmarks.planted_bugs import (
    BUGS,
    DOCS,
    RESULTS,
    RIGHT,
    Bug,
    default_settings,
    docs_table,
    hunt,
    markdown,
    rows_markdown,
)
from email_fsm.testing import EDGES


@pytest.mark.parametrize("bug", BUGS, ids=[bug.name for bug in BUGS])
def test_each_planted_bug_is_found_at_the_default_settings(bug: Bug) -> None:
    outcome = hunt(bug, derandomize=True)
    assert outcome.found, f"{bug.name} survived {outcome.examples} examples"
    # The rule's invariant found it, not an invariant of the library.
    assert outcome.message.startswith(("accepted, but", "refused, but", "EmailCompleted")), (
        outcome.message
    )


@pytest.mark.parametrize("right", RIGHT, ids=[right.name for right in RIGHT])
def test_the_right_policies_pass_the_same_machines(right: Bug) -> None:
    machine = right.machine()
    machine.run(settings=settings(default_settings(derandomize=True), max_examples=25))
    (count,) = machine.statistics().policies
    assert count.refused > 0


def test_there_are_at_least_ten_planted_bugs() -> None:
    assert len(BUGS) >= 10
    assert len({bug.name for bug in BUGS}) == len(BUGS)
    assert len({id(bug.policy) for bug in BUGS}) == len(BUGS)


def test_the_docs_show_the_benchmarks_tables() -> None:
    results = json.loads(RESULTS.read_text("utf-8"))
    page = DOCS.read_text("utf-8")
    assert docs_table(page, "planted-bugs") == markdown(results)
    assert docs_table(page, "rows") == rows_markdown(results)
    assert [row["name"] for row in results["bugs"]] == [bug.name for bug in BUGS]
    assert list(results["priority"]["rows"]) == list(EDGES)


def test_the_recorded_results_keep_the_claims() -> None:
    results = json.loads(RESULTS.read_text("utf-8"))
    runs = results["runs"]
    for row in results["bugs"]:
        assert row["found"] == runs, row
    priority = results["priority"]
    assert priority["failed_without_policy"] == priority["runs"] >= 20
    assert priority["passed_with_policy"] == priority["runs"]
    assert all(row["runs"] > priority["runs"] // 2 for row in priority["rows"].values())
