"""The figures and tables of docs/simulation.md, computed by the simulator.

``python scripts/simulation_figures.py`` runs the worked example's sweep and comparison
on ``examples/sim/support.toml`` and the Erlang C validation, and writes into
``docs/images/simulation/``: ``simulation.json`` (every figure), ``staffing.png`` (the
staffing plot) and the Markdown tables ``staffing-table.txt``, ``policy-table.txt`` and
``erlang-table.txt`` (included into the page, not pages themselves), which
:func:`render` writes from the JSON alone (a test checks the committed tables against
the committed JSON). ``--quick`` runs tiny sizes (for the tests), ``--out DIR`` writes
elsewhere.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

from email_fsm.sim import (
    Scenario,
    SweepResult,
    compare,
    erlang_c,
    estimate,
    load_scenario,
    replicate,
    service_level,
    sweep,
    vary,
    without_policy,
)
from email_fsm.sim.report import staffing_plot

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "sim" / "support.toml"
OUT = ROOT / "docs" / "images" / "simulation"
DASH = "\u2013"

FULL = {
    "sweep_reps": 10,
    "compare_reps": 20,
    "erlang_reps": 8,
    "erlang_hours": 40.0,
    "support_hours": None,
}
QUICK = {
    "sweep_reps": 2,
    "compare_reps": 2,
    "erlang_reps": 2,
    "erlang_hours": 1.0,
    "support_hours": 3.0,
}

ERLANG_RATE = 200.0  # per hour, at 3 minutes: 10 Erlangs
ERLANG_AHT = 180.0
ERLANG_AGENTS = (11, 12, 13, 14, 15)
THRESHOLD = 20.0
GOAL = 0.8  # the service level the worked example aims for


def erlang_scenario(agents: int, hours: float) -> Scenario:
    """The M/M/c queue the validation simulates."""
    return Scenario.model_validate(
        {
            "name": f"mmc{agents}",
            "duration_hours": hours,
            "warmup_hours": min(2.0, hours / 4),
            "seed": 1,
            "call_center_threshold_seconds": THRESHOLD,
            "queues": [{"name": "q", "rate_per_hour": ERLANG_RATE}],
            "agent_groups": [
                {
                    "name": "g",
                    "count": agents,
                    "skills": ["q"],
                    "handle_time": {"distribution": "exponential", "mean_minutes": 3},
                }
            ],
        }
    )


def _interval(e: dict[str, Any], percent: bool = False) -> str:
    def f(v: float) -> str:
        return f"{v:.1%}" if percent else f"{v:.2f}"

    if e["mean"] is None:
        return "-"
    if e["half_width"] is None:
        return f(e["mean"])
    return f"{f(e['mean'])} ({f(e['low'])}{DASH}{f(e['high'])})"


def compute(sizes: dict[str, Any], workers: int | None) -> tuple[dict[str, Any], SweepResult]:
    """Every figure, as JSON-ready data, and the staffing sweep (for its plot)."""
    support = load_scenario(EXAMPLE)
    if sizes["support_hours"] is not None:
        support = support.with_changes(duration_hours=sizes["support_hours"])
    staffing = sweep(
        support, vary("agents=6..11", "tier1"), reps=sizes["sweep_reps"], workers=workers
    )
    # the policy's cost at the staffing the sweep picks: the fewest agents that meet the goal
    chosen = next(
        (p.value for p in staffing.points if p.kpis["service_level"].mean >= GOAL),
        staffing.points[-1].value,
    )
    staffed = staffing.vary.apply(support, chosen)
    policy = compare(
        staffed,
        without_policy(staffed, "require_disposition"),
        reps=sizes["compare_reps"],
        workers=workers,
    )
    erlang = []
    load = ERLANG_RATE / 3600.0 * ERLANG_AHT
    for agents in ERLANG_AGENTS:
        runs = replicate(
            erlang_scenario(agents, sizes["erlang_hours"]), sizes["erlang_reps"], workers=workers
        )
        erlang.append(
            {
                "agents": agents,
                "p_wait_formula": erlang_c(agents, load),
                "p_wait": estimate([r.call_center.p_wait for r in runs]).to_dict(),
                "service_level_formula": service_level(agents, load, ERLANG_AHT, THRESHOLD),
                "service_level": estimate([r.call_center.service_level for r in runs]).to_dict(),
            }
        )
    data = {
        "sizes": sizes,
        "staffing": staffing.to_dict(),
        "chosen_agents": chosen,
        "policy": policy.to_dict(),
        "erlang": {"load": load, "threshold_seconds": THRESHOLD, "rows": erlang},
    }
    return data, staffing


def render(data: dict[str, Any]) -> dict[str, str]:
    """The three tables (file name -> Markdown), from :func:`compute`'s data alone."""
    staffing = data["staffing"]
    lines = [
        "| tier1 agents | answered within goal | first handling p90 (min) "
        "| completion p90 (min) | occupancy |",
        "|---:|---:|---:|---:|---:|",
    ]
    for point in staffing["points"]:
        k = point["kpis"]
        lines.append(
            f"| {point['value']:g} | {_interval(k['service_level'], True)} "
            f"| {_interval(k['ttfh_p90_minutes'])} | {_interval(k['ttc_p90_minutes'])} "
            f"| {_interval(k['occupancy'], True)} |"
        )
    tables = {"staffing-table.txt": "\n".join(lines) + "\n"}
    policy = data["policy"]
    lines = [
        f"| KPI | with the rule | without it | difference ({len(policy['seeds'])} paired "
        "replications, 95 % interval) |",
        "|---|---:|---:|---:|",
    ]
    labels = {
        "service_level": ("answered within goal", True),
        "ttfh_p90_minutes": ("first handling p90 (min)", False),
        "ttc_p90_minutes": ("completion p90 (min)", False),
        "handle_time_minutes": ("handle time mean (min)", False),
        "occupancy": ("occupancy", True),
        "refusals_per_email": ("refusals per email", False),
    }
    for key, (label, percent) in labels.items():
        row = policy["kpis"][key]
        lines.append(
            f"| {label} | {_interval({**row['base'], 'half_width': None}, percent)} "
            f"| {_interval({**row['other'], 'half_width': None}, percent)} "
            f"| {_interval(row['difference'], percent)} |"
        )
    tables["policy-table.txt"] = "\n".join(lines) + "\n"
    erlang = data["erlang"]
    lines = [
        f"| agents | P(wait), Erlang C | P(wait), simulated | SL({erlang['threshold_seconds']:g} s)"
        f", formula | SL({erlang['threshold_seconds']:g} s), simulated |",
        "|---:|---:|---:|---:|---:|",
    ]
    for row in erlang["rows"]:
        lines.append(
            f"| {row['agents']} | {row['p_wait_formula']:.1%} | {_interval(row['p_wait'], True)} "
            f"| {row['service_level_formula']:.1%} | {_interval(row['service_level'], True)} |"
        )
    tables["erlang-table.txt"] = "\n".join(lines) + "\n"
    return tables


def _plain(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes (the tests' run)")
    parser.add_argument("--out", type=Path, default=OUT, help="directory (docs/images/simulation)")
    parser.add_argument("--workers", type=int, help="processes (default: one per core)")
    args = parser.parse_args(argv)
    raw, staffing = compute(QUICK if args.quick else FULL, args.workers)
    data = _plain(raw)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "simulation.json").write_text(json.dumps(data, indent=1) + "\n", "utf-8")
    for name, text in render(data).items():
        (args.out / name).write_text(text, "utf-8")
    staffing_plot(staffing, args.out / "staffing.png", goal=GOAL)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
