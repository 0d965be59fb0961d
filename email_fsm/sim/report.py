"""What a simulation, a comparison or a sweep shows: rich tables, files and plots.

The tables are :class:`rich.table.Table` objects (print them with a
:class:`rich.console.Console`); the files are JSON (the results' ``to_dict()``), CSV
(one row per KPI interval, or per sweep value) and PNG plots drawn with matplotlib's
Agg backend (no display needed). :mod:`email_fsm.sim` does not import this module:
matplotlib loads only when a plot is drawn.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.table import Table

from .kpis import IntervalRow, QueueKpis, SimulationResult
from .replications import KPI_LABELS, Comparison, Estimate, SweepResult

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "INTERVAL_COLUMNS",
    "SWEEP_COLUMNS",
    "comparison_table",
    "estimates_table",
    "kpi_table",
    "staffing_plot",
    "sweep_rows",
    "sweep_table",
    "write_comparison",
    "write_result",
    "write_sweep",
]

INTERVAL_COLUMNS = tuple(f.name for f in fields(IntervalRow))
"""The columns of ``intervals.csv``: the fields of :class:`~email_fsm.sim.IntervalRow`."""

SWEEP_COLUMNS = (
    "value",
    "reps",
    *(f"{k}_{p}" for k in KPI_LABELS for p in ("mean", "low", "high")),
)
"""The columns of ``sweep.csv``: the value, the replications, each KPI's mean and 95 %
interval."""

_DASH = "\u2013"
_PERCENT = {"service_level", "occupancy"}


def _fmt(value: float, key: str = "") -> str:
    if math.isnan(value):
        return "-"
    if key in _PERCENT:
        return f"{value:.1%}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}" if abs(value) < 1 else f"{value:.2f}"


def _minutes(seconds: float) -> str:
    return "-" if math.isnan(seconds) else f"{seconds / 60:.1f}"


def _queue_cells(k: QueueKpis) -> list[str]:
    return [
        f"{k.arrived:,}",
        f"{k.answered_within_goal:,} ({_fmt(k.service_level, 'service_level')})",
        _minutes(k.time_to_first_handling.p50),
        _minutes(k.time_to_first_handling.p90),
        _minutes(k.time_to_completion.p50),
        _minutes(k.time_to_completion.p90),
        f"{k.live_at_end:,}",
        f"{k.transfers_per_email:.3f}" if not math.isnan(k.transfers_per_email) else "-",
        f"{k.rejections_per_email:.3f}" if not math.isnan(k.rejections_per_email) else "-",
    ]


def kpi_table(result: SimulationResult) -> Table:
    """One run's KPIs: a column per queue and one overall; then the figures of the
    whole center (oldest unfinished email, occupancy, handle time) and the refusals by
    status code and by policy."""
    title = (
        f"{result.scenario}: {result.duration_hours:g} h simulated "
        f"(warm-up {result.warmup_hours:g} h), seed {result.seed}"
    )
    table = Table(title=title, title_justify="left")
    table.add_column("KPI")
    for name in result.queues:
        table.add_column(name, justify="right")
    table.add_column("overall", justify="right", style="bold")
    labels = [
        "emails arrived",
        "answered within goal",
        "first handling p50 (min)",
        "first handling p90 (min)",
        "completion p50 (min)",
        "completion p90 (min)",
        "backlog at end",
        "transfers per email",
        "rejections per email",
    ]
    columns = [_queue_cells(k) for k in (*result.queues.values(), result.overall)]
    for i, label in enumerate(labels):
        table.add_row(label, *(column[i] for column in columns))
    blank = [""] * len(result.queues)
    last = result.intervals[-1] if result.intervals else None
    oldest = _minutes(last.oldest_age_seconds) if last is not None else "-"
    table.add_section()
    table.add_row("oldest unfinished at end (min)", *blank, oldest)
    table.add_row("occupancy", *blank, _fmt(result.occupancy, "occupancy"))
    handle = result.handle_time
    table.add_row(
        "handle time mean / p90 (min)", *blank, f"{_minutes(handle.mean)} / {_minutes(handle.p90)}"
    )
    table.add_section()
    codes = ", ".join(f"{c}: {n:,}" for c, n in result.refusals_by_code.items()) or "none"
    table.add_row("refusals by status code", *blank, codes)
    for policy, hits in result.refusals_by_policy.items():
        table.add_row(f"refused by {policy}", *blank, f"{hits:,}")
    return table


def _interval(e: Estimate, key: str) -> str:
    if math.isnan(e.mean):
        return "-"
    if math.isnan(e.half_width):
        return _fmt(e.mean, key)
    return f"{_fmt(e.mean, key)} ({_fmt(e.low, key)}{_DASH}{_fmt(e.high, key)})"


def comparison_table(comparison: Comparison) -> Table:
    """A row per KPI: each scenario's mean and the paired difference with its 95 %
    interval; a difference whose interval excludes 0 is marked ``*``."""
    n = len(comparison.seeds)
    table = Table(
        title=f"{comparison.other_name} - {comparison.base_name}: {n} paired replications",
        title_justify="left",
        caption="mean (95 % interval); * : the interval of the difference excludes 0",
        caption_justify="left",
    )
    table.add_column("KPI")
    table.add_column(comparison.base_name, justify="right")
    table.add_column(comparison.other_name, justify="right")
    table.add_column("difference", justify="right", style="bold")
    for key, label in KPI_LABELS.items():
        d = comparison.differences[key]
        mark = " *" if not math.isnan(d.half_width) and d.excludes_zero() else ""
        table.add_row(
            label,
            _fmt(comparison.base[key].mean, key),
            _fmt(comparison.other[key].mean, key),
            _interval(d, key) + mark,
        )
    return table


def estimates_table(title: str, estimates: Mapping[str, Estimate]) -> Table:
    """A row per KPI of :data:`~email_fsm.sim.KPI_LABELS`: its mean and 95 % interval."""
    table = Table(
        title=title, title_justify="left", caption="mean (95 % interval)", caption_justify="left"
    )
    table.add_column("KPI")
    table.add_column("overall", justify="right")
    for key, label in KPI_LABELS.items():
        table.add_row(label, _interval(estimates[key], key))
    return table


_SWEEP_SHOWN = (
    "service_level",
    "ttfh_p90_minutes",
    "ttc_p90_minutes",
    "backlog_at_end",
    "occupancy",
)


def sweep_table(result: SweepResult, keys: Sequence[str] = _SWEEP_SHOWN) -> Table:
    """A row per value swept: the mean and 95 % interval of each KPI of ``keys``."""
    table = Table(
        title=f"{result.scenario}: {result.vary.label}, {len(result.seeds)} replications each",
        title_justify="left",
        caption="mean (95 % interval)",
        caption_justify="left",
    )
    table.add_column(result.vary.label, justify="right")
    for key in keys:
        table.add_column(KPI_LABELS[key], justify="right")
    for point in result.points:
        table.add_row(f"{point.value:g}", *(_interval(point.kpis[k], k) for k in keys))
    return table


def sweep_rows(result: SweepResult) -> list[dict[str, float]]:
    """The rows of ``sweep.csv`` (:data:`SWEEP_COLUMNS`), one per value."""
    rows = []
    for point in result.points:
        row: dict[str, float] = {"value": point.value, "reps": float(len(point.replications))}
        for key in KPI_LABELS:
            e = point.kpis[key]
            row[f"{key}_mean"], row[f"{key}_low"], row[f"{key}_high"] = e.mean, e.low, e.high
        rows.append(row)
    return rows


# ------------------------------------------------------------------ files


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, allow_nan=False) + "\n", encoding="utf-8")


def _write_csv(path: Path, columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns), lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ("" if _isnan(v) else repr(v)) for k, v in row.items()})


def _isnan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def _figure(title: str, xlabel: str, ylabel: str) -> tuple[Any, Axes]:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7.0, 3.6), layout="constrained")
    axes = figure.add_subplot()
    axes.set_title(title)
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.grid(True, alpha=0.3)
    return figure, axes


def _save(figure: Any, path: Path) -> None:
    # no software version in the file: the same data draws the same bytes
    figure.savefig(path, dpi=100, metadata={"Software": None})


def write_result(result: SimulationResult, out: Path) -> list[Path]:
    """Write ``kpis.json`` (:meth:`~email_fsm.sim.SimulationResult.to_dict`),
    ``intervals.csv`` (:data:`INTERVAL_COLUMNS`) and the plots ``backlog.png``,
    ``service_level.png`` and ``occupancy.png`` into ``out`` (made if missing);
    return their paths."""
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "kpis.json", out / "intervals.csv"]
    _write_json(written[0], result.to_dict())
    rows = [{c: getattr(row, c) for c in INTERVAL_COLUMNS} for row in result.intervals]
    _write_csv(written[1], INTERVAL_COLUMNS, rows)
    hours = [row.start_hours for row in result.intervals]
    width = result.interval_minutes / 60.0
    plots: list[tuple[str, str, list[float], str]] = [
        ("backlog", "emails", [float(r.backlog) for r in result.intervals], "backlog"),
        ("service_level", "share", [r.service_level for r in result.intervals], "service level"),
        ("occupancy", "share", [r.occupancy for r in result.intervals], "occupancy"),
    ]
    for name, ylabel, values, title in plots:
        figure, axes = _figure(f"{result.scenario}: {title} per interval", "hour", ylabel)
        ends = [h + width for h in hours]
        if name == "backlog":
            axes.plot(ends, values, color="tab:red")
            queued = [float(r.queued) for r in result.intervals]
            axes.plot(ends, queued, color="tab:blue", linestyle="--")
            axes.legend(["not completed", "queued"])
        else:
            axes.step(hours, values, where="post", color="tab:green")
            axes.set_ylim(0.0, 1.05)
        if result.warmup_hours > 0:
            axes.axvspan(0.0, result.warmup_hours, color="0.9", zorder=0)
        path = out / f"{name}.png"
        _save(figure, path)
        written.append(path)
    return written


def write_comparison(comparison: Comparison, out: Path) -> list[Path]:
    """Write ``compare.json`` (:meth:`~email_fsm.sim.Comparison.to_dict`) into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / "compare.json"
    _write_json(path, comparison.to_dict())
    return [path]


def staffing_plot(result: SweepResult, path: Path, *, goal: float | None = None) -> Path:
    """Draw the service level within goal against the value swept (the staffing), with
    95 % interval bars, and ``goal`` as a line when given."""
    figure, axes = _figure(
        f"{result.scenario}: service level by {result.vary.label}",
        result.vary.label,
        "answered within goal",
    )
    xs = [p.value for p in result.points]
    means = [p.kpis["service_level"].mean for p in result.points]
    halves = [
        0.0
        if math.isnan(p.kpis["service_level"].half_width)
        else p.kpis["service_level"].half_width
        for p in result.points
    ]
    axes.errorbar(xs, means, yerr=halves, marker="o", capsize=4, color="tab:blue")
    if goal is not None:
        axes.axhline(goal, color="tab:red", linestyle="--", linewidth=1)
    axes.set_ylim(0.0, 1.05)
    if result.vary.what == "agents":
        axes.set_xticks(xs)
    _save(figure, path)
    return path


def write_sweep(result: SweepResult, out: Path) -> list[Path]:
    """Write ``sweep.json`` (:meth:`~email_fsm.sim.SweepResult.to_dict`), ``sweep.csv``
    (:data:`SWEEP_COLUMNS`) and ``staffing.png`` (:func:`staffing_plot`) into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "sweep.json", out / "sweep.csv"]
    _write_json(written[0], result.to_dict())
    _write_csv(written[1], SWEEP_COLUMNS, sweep_rows(result))
    written.append(staffing_plot(result, out / "staffing.png"))
    return written
