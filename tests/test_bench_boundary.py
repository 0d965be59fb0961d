"""A smoke run of benchmarks/boundary.py (tiny counts, no timing checks), so that it cannot rot."""

from __future__ import annotations

import json
import math

import pytest

from benchmarks.boundary import CONTRACT, OPERATIONS, main, measure, table


def test_the_measure_returns_a_figure_per_repeat_and_operation() -> None:
    results = measure(repeats=3, loops=2)
    assert results["meta"]["repeats"] == 3
    assert results["meta"]["loops"] == 2
    assert results["meta"]["contract"] == CONTRACT == 3.0
    operations = results["operations"]
    assert list(operations) == ["AddComment", "Transfer"] == list(OPERATIONS)
    # AddComment tells its owner; a Transfer to an agent tells the owner and the invitee.
    assert operations["AddComment"]["notifications"] == 1
    assert operations["Transfer"]["notifications"] == 2
    for entry in operations.values():
        for key in ("boundary_ns", "decide_ns", "handle_ns", "ratios"):
            assert len(entry[key]) == 3
            assert all(math.isfinite(value) and value > 0 for value in entry[key])
        assert entry["ratios"] == [
            b / d for b, d in zip(entry["boundary_ns"], entry["decide_ns"], strict=True)
        ]
        assert entry["ratio_low"] <= entry["ratio"] <= entry["ratio_high"]
        assert entry["handle_ratio"] > 0
        assert entry["met"] is (entry["ratio"] <= CONTRACT)
    rows = table(results).splitlines()
    assert len(rows) == 4
    assert rows[2].startswith("| AddComment | ")
    assert rows[3].startswith("| Transfer | ")


def test_main_prints_the_results_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--repeats", "1", "--loops", "1", "--json"])
    results = json.loads(capsys.readouterr().out)
    assert sorted(results["operations"]) == ["AddComment", "Transfer"]
    met = all(entry["met"] for entry in results["operations"].values())
    assert code == (0 if met else 1)


def test_main_prints_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    main(["--repeats", "1", "--loops", "1"])
    out = capsys.readouterr().out
    assert out.startswith("| operation | boundary, ns | decide, ns |")
    assert "| AddComment |" in out
    assert "| Transfer |" in out
