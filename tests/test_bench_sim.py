"""The simulator's benchmarks run (a smoke run at tiny sizes, no timing checked), the
bare SimPy model simulates the same process as the simulator, and the committed
RESULTS.md is what the report writes from the committed results.json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.sim.__main__ import main
from benchmarks.sim.bare import simulate_bare
from benchmarks.sim.report import markdown
from benchmarks.sim.suite import PROCESS, scenario
from email_fsm.sim import simulate

HERE = Path(__file__).resolve().parents[1] / "benchmarks" / "sim"


def test_the_quick_run_writes_every_section(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--quick", "--emails", "2000", "--out", str(tmp_path)]) == 0
    results = json.loads((tmp_path / "results.json").read_text("utf-8"))
    throughput = results["throughput"]["per_second"]
    assert len(throughput["email_fsm"]) == len(throughput["bare"]) == 2
    assert all(v > 0 for v in throughput["email_fsm"] + throughput["bare"])
    long_run = results["million"]
    assert long_run["target"] == 2000  # --emails sets the long run's size
    assert long_run["emails"] >= 0.9 * long_run["target"]
    assert len(long_run["samples"]) > 10
    assert [e for e, _, _ in long_run["samples"]] == sorted(e for e, _, _ in long_run["samples"])
    sweep = results["sweep"]
    assert len(sweep["wall_seconds"]["1"]) == len(sweep["wall_seconds"]["2"]) == 1
    assert all(c > 0 for c in sweep["children_cpu_seconds"]["2"])
    page = (tmp_path / "RESULTS.md").read_text("utf-8")
    assert page == markdown(results)
    assert page in capsys.readouterr().out
    assert (tmp_path / "sim.png").read_bytes().startswith(b"\x89PNG")


def test_the_bare_model_simulates_the_same_process() -> None:
    hours = 4.0
    bare = simulate_bare(**{**PROCESS, "hours": hours})
    ours = simulate(scenario(hours)).overall
    # the same Poisson rate over the same hours: 2,400 emails expected, sd about 49
    assert abs(bare.arrived - 2400) < 200
    assert abs(ours.arrived - 2400) < 200
    assert abs(bare.arrived - ours.arrived) < 200
    # 10 Erlangs on 12 agents: both answer nearly all within the 3-minute goal
    assert bare.within / bare.answered == pytest.approx(ours.service_level, abs=0.05)
    assert bare.completed / bare.arrived == pytest.approx(ours.completed / ours.arrived, abs=0.02)


def test_the_committed_page_is_the_committed_results() -> None:
    results = json.loads((HERE / "results.json").read_text("utf-8"))
    assert (HERE / "RESULTS.md").read_text("utf-8") == markdown(results)
