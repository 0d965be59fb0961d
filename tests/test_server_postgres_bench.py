"""A smoke run of the PostgreSQL section of benchmarks/server (tiny: 2 agents, one short
window per contender; no timing checks), and the committed table is what the report code
writes from the committed results."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from postgres_harness import postgres_server  # noqa: F401 - its module is the harness

from benchmarks.server.postgres import KEYS, markdown, run

HERE = Path(__file__).resolve().parent.parent / "benchmarks" / "server"

pytestmark = pytest.mark.needs("postgres")


def test_a_tiny_run_has_every_contender_and_loses_no_notification() -> None:
    """SQLite, PostgreSQL with one process and with two: every window has operations,
    no refusal, a notification for each one and PostgreSQL's CPU measured."""
    results: dict[str, Any] = run(counts=(2,), repeats=1, window_s=0.5, warmup_s=0.2)
    assert sorted(results["load"]) == sorted(KEYS)
    for key in KEYS:
        (window,) = results["load"][key]["2"]["repeats"]
        assert window["operations"] > 0, key
        assert window["refused"] == 0, key
        assert window["notifications"] > 0, key
        assert window["notifications_missing"] == 0, key
        assert window["postgres_cpu_s"] >= 0, key
    table = markdown(results)
    assert "| `postgres_2` |" in table
    assert "PostgreSQL" in results["meta"]["postgres"] or results["meta"]["postgres"]


def test_the_committed_table_is_the_committed_results() -> None:
    """RESULTS-postgres.md is what markdown() writes from results-postgres.json."""
    results = json.loads((HERE / "results-postgres.json").read_text("utf-8"))
    assert (HERE / "RESULTS-postgres.md").read_text("utf-8") == markdown(results)
