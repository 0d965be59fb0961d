"""``email-fsm simulate`` and ``email-fsm sweep``: the tables they print and the files
they write, checked against the Python API's own results; bad input exits 2 naming the
problem."""

from __future__ import annotations

import csv
import io
import json
import math
import sys
from pathlib import Path

import pytest

from email_fsm.cli import main
from email_fsm.sim import compare, kpi_values, load_scenario, simulate, sweep, vary, without_policy
from email_fsm.sim.report import INTERVAL_COLUMNS, SWEEP_COLUMNS

SCENARIO = """\
name = "tiny"
duration_hours = 6
warmup_hours = 0.5
seed = 4
interval_minutes = 30

[[queues]]
name = "mail"
rate_per_hour = 24
service_goal_hours = 0.1

[[queues]]
name = "vip"
rate_per_hour = 6
service_goal_hours = 0.05

[[agent_groups]]
name = "team"
count = 2
skills = ["mail", "vip"]
disposition_probability = 0.5
reject_probability = 0.1
transfer_probability = 0.1
handle_time = { distribution = "exponential", mean_minutes = 4 }

[[policies]]
path = "email_fsm.policies:require_disposition"
"""

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def scenario_file(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(SCENARIO, "utf-8")
    return path


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    status = main(list(argv), out=out)
    return status, out.getvalue()


def _number(text: str) -> float:
    return math.nan if text == "" else float(text)


def test_simulate_prints_the_kpis_and_writes_them(scenario_file: Path, tmp_path: Path) -> None:
    out_dir = tmp_path / "out"
    status, printed = run("simulate", str(scenario_file), "--seed", "9", "--out", str(out_dir))
    assert status == 0
    result = simulate(load_scenario(scenario_file), seed=9)
    for shown in (
        "mail",
        "vip",
        "overall",
        "answered within goal",
        f"{result.overall.arrived:,}",
        f"{result.overall.answered_within_goal:,} ({result.overall.service_level:.1%})",
        "refused by email_fsm.policies:require_disposition",
        f"{result.refusals_by_policy['email_fsm.policies:require_disposition']:,}",
        "seed 9",
    ):
        assert shown in printed, shown
    assert result.refusals_by_policy["email_fsm.policies:require_disposition"] > 0
    assert json.loads((out_dir / "kpis.json").read_text("utf-8")) == json.loads(
        json.dumps(result.to_dict())
    )
    with (out_dir / "intervals.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(result.intervals) == 12
    for row, interval in zip(rows, result.intervals, strict=True):
        assert tuple(row) == INTERVAL_COLUMNS
        for column in INTERVAL_COLUMNS:
            expected = float(getattr(interval, column))
            got = _number(row[column])
            assert got == expected or (math.isnan(got) and math.isnan(expected)), column
    for plot in ("backlog.png", "service_level.png", "occupancy.png"):
        data = (out_dir / plot).read_bytes()
        assert data.startswith(PNG), plot
        assert len(data) > 5_000, plot


def test_replications_print_each_kpi_with_its_interval(scenario_file: Path) -> None:
    status, printed = run("simulate", str(scenario_file), "--reps", "3", "--workers", "1")
    assert status == 0
    assert "3 replications (seeds 4..6)" in printed
    mean = sum(kpi_values(simulate(load_scenario(scenario_file), seed=s))["arrived"]
               for s in (4, 5, 6)) / 3  # fmt: skip
    assert f"{mean:.2f} (" in printed or f"{mean:,.0f} (" in printed


def test_without_policy_reports_the_paired_difference(scenario_file: Path, tmp_path: Path) -> None:
    argv = ["simulate", str(scenario_file), "--without-policy", "require_disposition"]
    status, printed = run(*argv, "--reps", "3", "--workers", "1", "--out", str(tmp_path / "c"))
    assert status == 0
    base = load_scenario(scenario_file)
    expected = compare(base, without_policy(base, "require_disposition"), reps=3, workers=1)
    written = json.loads((tmp_path / "c" / "compare.json").read_text("utf-8"))
    assert written == json.loads(json.dumps(expected.to_dict()))
    d = expected.differences["refusals_per_email"]
    assert d.high < 0  # the rule's refusals are gone
    assert f"{d.mean:.3g} ({d.low:.3g}\u2013{d.high:.3g}) *" in printed
    assert "tiny without require_disposition - tiny: 3 paired replications" in printed
    for side, runs in (("base", expected.base_results), ("other", expected.other_results)):
        kpis = json.loads((tmp_path / "c" / side / "kpis.json").read_text("utf-8"))
        assert kpis == json.loads(json.dumps(runs[0].to_dict())), side


def test_compare_takes_another_scenario_file(scenario_file: Path, tmp_path: Path) -> None:
    other = tmp_path / "more.toml"
    other.write_text(SCENARIO.replace("count = 2", "count = 3").replace("tiny", "more"), "utf-8")
    status, printed = run(
        "simulate", str(scenario_file), "--compare", str(other), "--reps", "2", "--workers", "1"
    )
    assert status == 0
    expected = compare(load_scenario(scenario_file), load_scenario(other), reps=2, workers=1)
    occupancy = expected.differences["occupancy"]
    assert occupancy.mean < 0  # a third agent is less busy
    assert f"{occupancy.mean:.1%}" in printed


def _sweep_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_sweep_on_a_process_pool(scenario_file: Path, tmp_path: Path) -> None:
    out_dir = tmp_path / "sweep"
    status, printed = run(
        "sweep", str(scenario_file), "--vary", "agents=2..3", "--reps", "2",
        "--workers", "2", "--out", str(out_dir),
    )  # fmt: skip
    assert status == 0
    expected = sweep(load_scenario(scenario_file), vary("agents=2..3"), reps=2, workers=1)
    written = json.loads((out_dir / "sweep.json").read_text("utf-8"))
    assert written == json.loads(json.dumps(expected.to_dict()))
    rows = _sweep_rows(out_dir / "sweep.csv")
    assert [tuple(r) for r in rows] == [SWEEP_COLUMNS] * 2
    for row, point in zip(rows, expected.points, strict=True):
        assert float(row["value"]) == point.value
        assert float(row["service_level_mean"]) == point.kpis["service_level"].mean
        assert float(row["service_level_low"]) == point.kpis["service_level"].low
    assert (out_dir / "staffing.png").read_bytes().startswith(PNG)
    level = expected.points[1].kpis["service_level"]
    assert f"{level.mean:.1%}" in printed
    assert "tiny: agents, 2 replications each" in printed


def test_sweep_on_a_local_dask_cluster(scenario_file: Path, tmp_path: Path) -> None:
    out_dir = tmp_path / "dask"
    status, _ = run(
        "sweep", str(scenario_file), "--vary", "rate=20,30", "--queue", "mail", "--reps", "2",
        "--dask", "local", "--workers", "1", "--out", str(out_dir),
    )  # fmt: skip
    assert status == 0
    expected = sweep(load_scenario(scenario_file), vary("rate=20,30", "mail"), reps=2, workers=1)
    written = json.loads((out_dir / "sweep.json").read_text("utf-8"))
    assert written == json.loads(json.dumps(expected.to_dict()))
    assert written["vary"] == {"what": "rate", "target": "mail"}


@pytest.mark.parametrize(
    ("argv", "problem"),
    [
        (["simulate", "missing.toml"], "email-fsm simulate: cannot read missing.toml"),
        (["sweep", "{s}", "--vary", "staff=1..2"], "--vary 'staff=1..2': give agents=A..B"),
        (["sweep", "{s}", "--vary", "agents=1..2", "--group", "nope"], "no 'nope'"),
        (["sweep", "{s}", "--vary", "rate=1..2"], "queues: name one of mail, vip"),
        (["simulate", "{s}", "--without-policy", "max_transfers"], "no policy called"),
        (["simulate", "{s}", "--reps", "0"], "--reps must be at least 1"),
        (["simulate", "{bad}"], "agent_groups.0.count: Input should be greater than"),
        (["simulate", "{s}", "--out", "{s}"], "is not a directory"),
    ],
)
def test_bad_input_exits_2_naming_the_problem(
    argv: list[str],
    problem: str,
    scenario_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    bad = tmp_path / "bad.toml"
    bad.write_text(SCENARIO.replace("count = 2", "count = -1"), "utf-8")
    args = [a.format(s=scenario_file, bad=bad) for a in argv]
    status, printed = run(*args)
    assert status == 2
    assert printed == ""
    assert problem in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "module", "extra"),
    [
        (["simulate", "x.toml"], "simpy", "pip install 'email-fsm[sim]'"),
        (["sweep", "{s}", "--vary", "agents=2", "--dask", "local"], "distributed",
         "pip install 'email-fsm[sweep]'"),
    ],
)  # fmt: skip
def test_a_missing_extra_is_named(
    argv: list[str],
    module: str,
    extra: str,
    scenario_file: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, module, None)
    if module == "simpy":
        for name in [m for m in sys.modules if m.startswith("email_fsm.sim")]:
            monkeypatch.delitem(sys.modules, name)
    status, printed = run(*(a.format(s=scenario_file) for a in argv))
    assert (status, printed) == (2, "")
    err = capsys.readouterr().err
    assert f"({module} is missing)" in err
    assert err.strip().endswith(extra)
    assert err.count("\n") == 1


def test_sweep_on_a_dask_scheduler_by_address(scenario_file: Path) -> None:
    import distributed

    with distributed.LocalCluster(  # type: ignore[no-untyped-call]
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        address = cluster.scheduler_address
        status, printed = run(
            "sweep", str(scenario_file), "--vary", "agents=3", "--reps", "2", "--dask", address
        )
        assert status == 0
        # the two replications ran on that cluster
        prefixes = cluster.scheduler.task_prefixes
        assert list(prefixes) == ["values"]  # tasks of email_fsm.sim.replications._values
        assert prefixes["values"].state_counts["memory"] == 2
    expected = sweep(load_scenario(scenario_file), vary("agents=3"), reps=2, workers=1)
    level = expected.points[0].kpis["service_level"]
    assert f"{level.mean:.1%}" in printed
