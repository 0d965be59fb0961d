"""Turn the suite's results into ``RESULTS.md`` and the plot of cost vs live emails.

:func:`markdown` is a pure function of the results, so the committed ``RESULTS.md`` is
checked against the committed ``results.json`` by the tests.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .importtime import ratios

__all__ = ["CONTRACT", "contract", "markdown", "plot"]

Results = dict[str, Any]
Row = tuple[str, ...]

TIMES = "\u00d7"  # the multiplication sign of "2.0x"
DASH = "\u2013"  # the en dash of "min-max"

STEP_COLUMNS = ("Arrive", "Offer", "Accept", "AddComment", "Transfer", "Complete")
CONTRACT_KINDS = ("Accept", "AddComment", "Transfer", "Complete", "Lifecycle")
BASE = "email_fsm"
LIMIT = "limit"

CONTRACT: dict[str, float] = {
    "limit": 2.0,
    "transitions": 4.0,
    "transitions_shared": 4.0,
    "statemachine": 40.0,
    "flat": 1.5,
    "lifecycles_per_s": 50_000.0,
    "memory_fraction": 1 / 3,
    "import": 1.5,
}
"""The performance contract. ``flat``: the cost at the largest size over the cost at the
smallest, beyond what the hand-written limit itself shows. ``import``: ``import email_fsm``
over ``import pydantic``, the interpreter's start-up excluded."""


def _median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def _ns(values: Sequence[float]) -> str:
    return f"{_median(values):,.0f} ({min(values):,.0f}{DASH}{max(values):,.0f})"


def _per_step(results: Results, key: str, kind: str) -> list[float]:
    values: list[float] = results["steps"][key][kind]
    if kind == "Lifecycle":
        steps: int = results["meta"]["lifecycle_steps"]
        return [v / steps for v in values]
    return values


def _ratio(results: Results, key: str, kind: str) -> float:
    """How many times email_fsm's median the contender's median is (> 1: slower)."""
    return _median(_per_step(results, key, kind)) / _median(_per_step(results, BASE, kind))


def _growth(results: Results, key: str, what: str) -> tuple[int, int, float] | None:
    """(smallest size, largest size reached, median cost there / median cost at the smallest)."""
    points = results["scale"][key]["points"]
    sizes = sorted(int(s) for s in points)
    if len(sizes) < 2:
        return None
    first, last = points[str(sizes[0])][what], points[str(sizes[-1])][what]
    return sizes[0], sizes[-1], _median(last) / _median(first)


def contract(results: Results) -> list[tuple[str, str, str, bool]]:
    """(item, target, measured, met) for each item of the performance contract."""
    rows = [_versus_limit(results)]
    labels = {
        "transitions": "transitions, a Machine per email",
        "transitions_shared": "transitions, one shared Machine",
        "statemachine": "python-statemachine",
    }
    for key, label in labels.items():
        worst = min(_ratio(results, key, kind) for kind in CONTRACT_KINDS)
        rows.append(
            (
                f"faster than {label}",
                f"{CONTRACT[key]:.0f}{TIMES} faster per step, or more",
                f"{worst:.1f}{TIMES} at least",
                worst >= CONTRACT[key],
            )
        )
    rows.append(_flat(results))
    per_s = 1e9 / _median(results["steps"][BASE]["Lifecycle"])
    rows.append(
        (
            "full lifecycles per second, one core",
            f"{CONTRACT['lifecycles_per_s']:,.0f} or more",
            f"{per_s:,.0f} (the frozen limit: "
            f"{1e9 / _median(results['steps'][LIMIT]['Lifecycle']):,.0f})",
            per_s >= CONTRACT["lifecycles_per_s"],
        )
    )
    memory = results["memory"]
    fraction = memory[BASE] / memory["transitions_shared"]
    rows.append(
        (
            "memory of a live email vs a model in a shared transitions Machine",
            "1/3 or less",
            f"{memory[BASE]:,.0f} B vs {memory['transitions_shared']:,.0f} B "
            f"= 1/{1 / fraction:.0f}",
            fraction <= CONTRACT["memory_fraction"],
        )
    )
    rows.append(_import(results))
    return rows


def _span(values: Sequence[float]) -> str:
    return f"{_median(values):.2f}{TIMES} ({min(values):.2f}{DASH}{max(values):.2f})"


def _import(results: Results) -> tuple[str, str, str, bool]:
    item = "import email_fsm vs import pydantic, in a fresh interpreter"
    target = f"{CONTRACT['import']}{TIMES} or less, the start-up excluded"
    if "import" not in results:
        return (item, target, "not measured", False)
    excluded = ratios(results["import"])
    included = ratios(results["import"], startup=True)
    return (
        item,
        target,
        f"{_span(excluded)}; {_span(included)} with the start-up (CPU time, median of the "
        f"per-repeat ratios, min{DASH}max)",
        _median(excluded) <= CONTRACT["import"],
    )


def _versus_limit(results: Results) -> tuple[str, str, str, bool]:
    versus = {kind: 1 / _ratio(results, LIMIT, kind) for kind in CONTRACT_KINDS}
    worst = max(versus.values())
    detail = ", ".join(f"{kind} {value:.2f}{TIMES}" for kind, value in versus.items())
    return (
        "decide + evolve vs the hand-written frozen-dataclass limit",
        f"{CONTRACT['limit']:.0f}{TIMES} the limit, or less",
        f"{worst:.2f}{TIMES} at worst ({detail})",
        worst <= CONTRACT["limit"],
    )


def _flat(results: Results) -> tuple[str, str, str, bool]:
    parts = []
    met = True
    for what, label in (("op", "AddComment"), ("create", "creation")):
        ours, limit = _growth(results, BASE, what), _growth(results, LIMIT, what)
        if ours is None or limit is None:
            return ("flat cost with the number of live emails", "", "not measured", False)
        first, last, growth = ours
        parts.append(
            f"{label} {growth:.2f}{TIMES} from {first:,} to {last:,} "
            f"(the limit {limit[2]:.2f}{TIMES})"
        )
        met = met and growth <= CONTRACT["flat"] * max(limit[2], 1.0)
    return (
        "flat cost per step with the number of live emails",
        f"grows at most {CONTRACT['flat']}{TIMES} more than the hand-written limit does",
        "; ".join(parts),
        met,
    )


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return lines


def markdown(results: Results) -> str:
    """RESULTS.md, from the results alone."""
    meta = results["meta"]
    settings = meta["settings"]
    versions = ", ".join(f"{name} {version}" for name, version in meta["versions"].items())
    out = [
        "# Benchmark results",
        "",
        "Written by `make bench` (`python -m benchmarks`) from `benchmarks/results.json`;",
        "what is measured and how: `benchmarks/README.md`.",
        "",
        f"- date: {meta['date']}; the whole run took {meta['duration_s']} s",
        f"- machine: {meta['cpu']}, {meta['cores']} cores, {meta['ram_gb']} GB RAM; "
        f"{meta['platform']}; load average {meta['load']}",
        f"- {meta['python']}; {versions}",
        f"- timing: {meta['clock']}; {settings['repeats']} repeats of a batch per step and "
        f"contender, the contenders taking turns (each repeat starting with the next); "
        f"garbage collector {meta['gc']}",
        "",
        "## The performance contract",
        "",
    ]
    out += _table(
        ("item", "target", "measured", "met"),
        [
            (item, target, value, "yes" if met else "**no**")
            for item, target, value, met in contract(results)
        ],
    )
    out += _steps_section(results)
    out += _scale_section(results)
    out += _memory_section(results)
    out += _render_section(results)
    out += _import_section(results)
    return "\n".join(out) + "\n"


def _steps_section(results: Results) -> list[str]:
    names: dict[str, str] = results["meta"]["names"]
    batch: dict[str, int] = results["meta"]["settings"]["batch"]
    keys = list(results["steps"])
    kinds = (*STEP_COLUMNS, "Lifecycle")
    out = [
        "",
        "## Cost per step",
        "",
        f"Nanoseconds per step: median ({'min' + DASH + 'max'}) over the repeats. *lifecycle*",
        "is the whole lifecycle of one email divided by its 7 steps. *batch*: emails per timed",
        "batch.",
        "",
    ]
    rows: list[Row] = []
    for key in keys:
        cells = tuple(_ns(_per_step(results, key, kind)) for kind in kinds)
        rows.append((names[key], str(batch.get(key)), *cells))
    out += _table(("contender", "batch", *STEP_COLUMNS, "lifecycle"), rows)
    out += ["", "Each median over email_fsm decide's (more than 1: slower than email_fsm).", ""]
    rows = []
    for key in keys:
        rows.append((names[key], *(f"{_ratio(results, key, kind):.2f}{TIMES}" for kind in kinds)))
    out += _table(("contender", *STEP_COLUMNS, "lifecycle"), rows)
    out += ["", "## Full lifecycles per second, one core", ""]
    base = _median(results["steps"][BASE]["Lifecycle"])
    rows = []
    for key in keys:
        lifecycle = _median(results["steps"][key]["Lifecycle"])
        rows.append(
            (
                names[key],
                f"{lifecycle / 1000:,.1f}",
                f"{1e9 / lifecycle:,.0f}",
                f"{lifecycle / base:.2f}{TIMES}",
            )
        )
    out += _table(("contender", "µs per lifecycle", "lifecycles per second", "vs email_fsm"), rows)
    return out


def _scale_section(results: Results) -> list[str]:
    names: dict[str, str] = results["meta"]["names"]
    sizes: list[int] = results["meta"]["settings"]["sizes"]
    out = [
        "",
        "## Cost with the number of live emails",
        "",
        "At each number of live (Processing) emails: AddComment on a random sample of them,",
        "and creating (Arrive) new ones; ns per step, median over the repeats. Plot:",
        "`scale.png`.",
        "",
    ]
    rows: list[Row] = []
    stops = []
    for key, scale in results["scale"].items():
        points = scale["points"]
        for what, label in (("op", "AddComment"), ("create", "create")):
            cells = tuple(_point(points.get(str(size)), what) for size in sizes)
            rows.append((f"{names[key]}: {label}", *cells))
        if scale["stopped"]:
            stops.append(f"- {names[key]}: {scale['stopped']}.")
    out += _table(("contender: step", *(f"{size:,} live" for size in sizes)), rows)
    return [*out, "", *stops] if stops else out


def _point(point: Results | None, what: str) -> str:
    return "—" if point is None else f"{_median(point[what]):,.0f}"


def _memory_section(results: Results) -> list[str]:
    names: dict[str, str] = results["meta"]["names"]
    count = results["meta"]["settings"]["memory_emails"]
    memory: dict[str, float] = results["memory"]
    out = [
        "",
        "## Memory per live email",
        "",
        f"tracemalloc: {count:,} emails taken to Processing by each contender's own steps, no",
        "content, divided by their number (the shared Machine is built beforehand).",
        "",
    ]
    rows = [(names[k], f"{v:,.0f}", f"{v / memory[BASE]:.1f}{TIMES}") for k, v in memory.items()]
    return out + _table(("contender", "bytes per live email", "vs email_fsm"), rows)


def _render_section(results: Results) -> list[str]:
    out = [
        "",
        "## Rendering a notification to JSON",
        "",
        "`Notification.to_json()` of each notification of the Transfer step of the seed",
        "scenario (`email_fsm/data/seed_scenario.json`, step 3).",
        "",
    ]
    rows = [
        (who, str(r["user_data_keys"]), f"{r['bytes']:,}", _ns(r["ns"]))
        for who, r in results["render"].items()
    ]
    header = ("recipient (view state)", "userData keys", "JSON bytes", "ns per notification")
    return out + _table(header, rows)


def _import_section(results: Results) -> list[str]:
    if "import" not in results:
        return []
    section = results["import"]
    commands: dict[str, str] = section["commands"]
    out = [
        "",
        "## Import time",
        "",
        f"Fresh `python -c` processes of {section['python']} ({section['date']}; load average "
        f"{section['load']}): per repeat,",
        "one of each, taking turns (each repeat starting with the next); "
        f"{section['repeats']} repeats after an",
        "untimed round. Milliseconds per process: median (min" + DASH + "max).",
        "",
    ]
    rows: list[Row] = [
        (f"`{commands[key]}`", *(_ms(section[clock][key]) for clock in ("cpu_ns", "wall_ns")))
        for key in commands
    ]
    out += _table(("process", "CPU time (user + system)", "wall-clock"), rows)
    out += [
        "",
        "`import email_fsm` over `import pydantic`: the median of the per-repeat ratios",
        f"(min{DASH}max); *excluding the start-up*: the `pass` process's time of the same repeat",
        "taken off both.",
        "",
    ]
    rows = [
        (
            label,
            *(_span(ratios(section, clock, startup=startup)) for clock in ("cpu_ns", "wall_ns")),
        )
        for label, startup in (("excluding the start-up", False), ("including it", True))
    ]
    return out + _table(("", "CPU time", "wall-clock"), rows)


def _ms(values: Sequence[float]) -> str:
    return f"{_median(values) / 1e6:,.1f} ({min(values) / 1e6:,.1f}{DASH}{max(values) / 1e6:,.1f})"


def plot(results: Results, path: Path) -> None:
    """Cost per step and per creation vs live emails, every scaled contender (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = results["meta"]["names"]
    figure, axes = plt.subplots(1, 2, figsize=(12, 4.8))
    for key, scale in results["scale"].items():
        points = scale["points"]
        sizes = sorted(int(s) for s in points)
        for axis, what in zip(axes, ("op", "create"), strict=True):
            costs = [_median(points[str(s)][what]) / 1000 for s in sizes]
            axis.plot(sizes, costs, marker="o", label=names[key])
    titles = ("AddComment on a random live email", "creating an email (Arrive)")
    for axis, title in zip(axes, titles, strict=True):
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlabel("live emails")
        axis.set_ylabel("µs per step (median)")
        axis.set_title(title)
        axis.grid(visible=True, which="both", alpha=0.3)
    axes[0].legend(fontsize=8)
    meta = results["meta"]
    figure.suptitle(f"Cost vs live emails ({meta['python']}, {meta['date']})")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
