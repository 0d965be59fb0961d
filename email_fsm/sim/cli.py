"""``email-fsm simulate`` and ``email-fsm sweep``: the simulator on the command line.

:mod:`email_fsm.cli` defines the options (so that ``--help`` works without the ``sim``
extra) and calls :func:`run_simulate` or :func:`run_sweep` with the parsed arguments.
Both print rich tables to ``out``, a progress bar on standard error when it is a
terminal, and return the exit status: 0, or 2 with a one-line message (two lines and
more for a scenario with several problems) when the input is wrong.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from .engine import simulate
from .replications import (
    Vary,
    compare,
    estimate,
    kpi_values,
    replicate,
    sweep,
    vary,
    without_policy,
)
from .report import (
    comparison_table,
    estimates_table,
    kpi_table,
    sweep_table,
    write_comparison,
    write_result,
    write_sweep,
)
from .scenario import Scenario, ScenarioError, load_scenario

__all__ = ["SWEEP_EXTRA", "run_simulate", "run_sweep"]

SWEEP_EXTRA = "pip install 'email-fsm[sweep]'"
"""What to install for ``email-fsm sweep --dask``."""

_WIDTH = 120
"""The tables' width when the output is not a terminal (a file, a pipe)."""


class _Refused(Exception):
    """Bad input: the message to print, exit status 2."""


def _console(out: TextIO) -> Console:
    terminal = out.isatty() if hasattr(out, "isatty") else False
    return Console(file=out, width=None if terminal else _WIDTH, highlight=False)


@contextmanager
def _progress(description: str, total: float) -> Iterator[Callable[[float], None]]:
    """A transient progress bar on standard error when it is a terminal; the callback
    sets how much is done."""
    console = Console(file=sys.stderr)
    if not console.is_terminal:
        yield lambda done: None
        return
    columns = [
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn() if total == int(total) else TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
    ]
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(description, total=total)
        yield lambda done: bar.update(task, completed=done)


def _load(path: str, command: str) -> Scenario:
    try:
        return load_scenario(path)
    except OSError as error:
        raise _Refused(f"email-fsm {command}: cannot read {path}: {error.strerror}") from None
    except ScenarioError as error:
        raise _Refused(f"email-fsm {command}: {path}: {error}") from None


def _reps(args: argparse.Namespace, default: int) -> int:
    reps = default if args.reps is None else int(args.reps)
    if reps < 1:
        raise _Refused(f"email-fsm {args.command}: --reps must be at least 1 (got {reps})")
    if args.workers is not None and args.workers < 1:
        raise _Refused(f"email-fsm {args.command}: --workers must be at least 1")
    return reps


def _out_dir(args: argparse.Namespace) -> Path | None:
    if args.out is None:
        return None
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise _Refused(f"email-fsm {args.command}: --out {out} is not a directory")
    return out


def run_simulate(args: argparse.Namespace, out: TextIO) -> int:
    """``email-fsm simulate``: one run (``--reps 1``, the default) with its KPI table and
    files; several, with each KPI's mean and interval; or a what-if (``--compare``,
    ``--without-policy``) on paired replications (10 unless ``--reps`` says)."""
    try:
        return _simulate(args, out)
    except _Refused as refused:
        print(refused, file=sys.stderr)
        return 2


def _simulate(args: argparse.Namespace, out: TextIO) -> int:
    scenario = _load(args.scenario, "simulate")
    if args.seed is not None:
        scenario = scenario.with_changes(seed=args.seed)
    directory = _out_dir(args)
    console = _console(out)
    other: Scenario | None = None
    if args.compare is not None:
        other = _load(args.compare, "simulate")
        if args.seed is not None:
            other = other.with_changes(seed=args.seed)
    elif args.without_policy is not None:
        try:
            other = without_policy(scenario, args.without_policy)
        except ScenarioError as error:
            raise _Refused(f"email-fsm simulate: {args.scenario}: {error}") from None
    if other is not None:
        reps = _reps(args, 10)
        with _progress("replications", 2 * reps) as advance:
            comparison = compare(
                scenario,
                other,
                reps=reps,
                workers=args.workers,
                progress=lambda done, total: advance(done),
            )
        console.print(comparison_table(comparison))
        if directory is not None:
            write_comparison(comparison, directory)
            write_result(comparison.base_results[0], directory / "base")
            write_result(comparison.other_results[0], directory / "other")
        return 0
    reps = _reps(args, 1)
    if reps == 1:
        with _progress(f"{scenario.name}: hours", scenario.duration_hours) as advance:
            result = simulate(scenario, progress=lambda done, total: advance(done))
        console.print(kpi_table(result))
        if directory is not None:
            write_result(result, directory)
        return 0
    with _progress("replications", reps) as advance:
        results = replicate(
            scenario, reps, workers=args.workers, progress=lambda done, total: advance(done)
        )
    console.print(kpi_table(results[0]))
    rows = [kpi_values(r) for r in results]
    estimates = {key: estimate([row[key] for row in rows]) for key in rows[0]}
    title = f"{scenario.name}: {reps} replications (seeds {results[0].seed}..{results[-1].seed})"
    console.print(estimates_table(title, estimates))
    if directory is not None:
        write_result(results[0], directory)
    return 0


@contextmanager
def _dask(address: str, workers: int | None) -> Iterator[Executor]:
    try:
        import distributed
    except ImportError as error:
        raise _Refused(
            f"email-fsm sweep --dask needs the sweep extra ({error.name} is missing): {SWEEP_EXTRA}"
        ) from None
    if address == "local":
        with (
            distributed.LocalCluster(  # type: ignore[no-untyped-call]
                n_workers=workers or os.cpu_count() or 1,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
            ) as cluster,
            distributed.Client(cluster) as client,  # type: ignore[no-untyped-call]
        ):
            yield client.get_executor()
        return
    try:
        client = distributed.Client(address, timeout="10s")  # type: ignore[no-untyped-call]
    except OSError as error:
        raise _Refused(
            f"email-fsm sweep: cannot reach the Dask scheduler {address}: {error}"
        ) from None
    with client:
        yield client.get_executor()  # type: ignore[no-untyped-call]


def run_sweep(args: argparse.Namespace, out: TextIO) -> int:
    """``email-fsm sweep``: replications for each value of ``--vary``, on a process pool
    or a Dask cluster (``--dask``); a table of means and intervals, and with ``--out``
    ``sweep.json``, ``sweep.csv`` and ``staffing.png``."""
    try:
        return _sweep(args, out)
    except _Refused as refused:
        print(refused, file=sys.stderr)
        return 2


def _sweep(args: argparse.Namespace, out: TextIO) -> int:
    target = args.group if args.vary.strip().startswith("agents") else args.queue
    try:
        varying: Vary = vary(args.vary, target)
    except ValueError as error:
        raise _Refused(f"email-fsm sweep: --vary {error}") from None
    scenario = _load(args.scenario, "sweep")
    if args.seed is not None:
        scenario = scenario.with_changes(seed=args.seed)
    reps = _reps(args, 20)
    directory = _out_dir(args)
    try:
        for value in (varying.values[0], varying.values[-1]):
            varying.apply(scenario, value)
    except ScenarioError as error:
        raise _Refused(f"email-fsm sweep: {args.scenario}: --vary {args.vary}: {error}") from None
    total = reps * len(varying.values)
    run: dict[str, Any] = {"reps": reps, "workers": args.workers}
    with _progress("replications", total) as advance:
        run["progress"] = lambda done, total: advance(done)
        if args.dask is not None:
            with _dask(args.dask, args.workers) as executor:
                result = sweep(scenario, varying, executor=executor, **run)
        else:
            result = sweep(scenario, varying, **run)
    _console(out).print(sweep_table(result))
    if directory is not None:
        write_sweep(result, directory)
    return 0
