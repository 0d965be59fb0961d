"""Run every harness for many executions and write ``fuzz/results.json`` and
``fuzz/RESULTS.md`` (``make fuzz-deep``).

``python -m fuzz.deep [--runs N] [--jobs J] [--max-time S] [target ...]``: each target
runs as its own process, ``python -m fuzz.<target> -runs=N``, ``J`` at a time, from its
seed corpus (what it finds goes to a scratch directory, ``fuzz/work/<target>``, not into
the seeds); a crash's input is kept as ``fuzz/work/<target>/crash-<sha1>``. ``--max-time``
stops a target after so many seconds (libFuzzer's ``-max_total_time``), and the summary
then says how many executions it reached. The figures are libFuzzer's own final
statistics: executions, executions per second, and the coverage reached, ``cov`` (edges
of the instrumented code, Python branches of ``email_fsm`` included) and ``ft``
(features: edges with their hit counts, and comparisons).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TARGETS = (
    "requests",
    "system_events",
    "events",
    "decisions",
    "emails",
    "scenario",
    "sim_scenario",
    "bayeux",
    "http",
)
RESULTS_JSON = HERE / "results.json"
RESULTS_MD = HERE / "RESULTS.md"
WORK = HERE / "work"


@dataclass(frozen=True)
class Result:
    target: str
    runs_asked: int
    executions: int
    seconds: float
    exec_per_second: int
    cov: int
    ft: int
    corpus: int
    crashes: int
    exit_code: int


def _stat(text: str, name: str) -> int:
    found = re.findall(rf"stat::{name}:\s+(\d+)", text)
    return int(found[-1]) if found else 0


def _last(text: str, field: str) -> int:
    found = re.findall(rf"\b{field}: (\d+)", text)
    return int(found[-1]) if found else 0


def parse(target: str, runs: int, text: str, seconds: float, code: int, crashes: int) -> Result:
    """The figures of one run, from libFuzzer's output (``-print_final_stats=1``)."""
    executions = _stat(text, "number_of_executed_units")
    return Result(
        target=target,
        runs_asked=runs,
        executions=executions,
        seconds=round(seconds, 1),
        exec_per_second=_stat(text, "average_exec_per_sec"),
        cov=_last(text, "cov"),
        ft=_last(text, "ft"),
        corpus=_last(text, "corp"),
        crashes=crashes,
        exit_code=code,
    )


def run(target: str, runs: int, max_time: int | None) -> Result:
    work = WORK / target
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    command = [
        sys.executable, "-m", f"fuzz.{target}", f"-runs={runs}", "-print_final_stats=1",
        f"-artifact_prefix={work}/", str(work / "corpus"), str(HERE / "corpus" / target),
    ]  # fmt: skip
    if max_time is not None:
        command.insert(4, f"-max_total_time={max_time}")
    (work / "corpus").mkdir()
    start = time.monotonic()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    seconds = time.monotonic() - start
    (work / "log.txt").write_text(done.stderr)
    crashes = len(list(work.glob("crash-*")))
    result = parse(target, runs, done.stderr, seconds, done.returncode, crashes)
    print(
        f"{target}: {result.executions} executions in {result.seconds} s "
        f"({result.exec_per_second}/s), cov {result.cov}, ft {result.ft}, "
        f"crashes {crashes}, exit {done.returncode}",
        flush=True,
    )
    return result


def markdown(results: list[Result]) -> str:
    """``fuzz/RESULTS.md``: the table of ``results.json``."""
    lines = [
        "# Fuzzing results",
        "",
        "Written by `python -m fuzz.deep` (`make fuzz-deep`) from `fuzz/results.json`;",
        "the figures are libFuzzer's final statistics for each target (`fuzz/README.md`).",
        "`cov`: edges of the instrumented code covered; `ft`: features (edges with hit",
        "counts, comparisons). A target stopped by its time limit ran fewer executions",
        "than asked. `crashes`: in this run; the crashes found before are fixed, and",
        "kept as tests in `tests/test_fuzz_regressions.py`.",
        "",
        "| target | executions (asked) | seconds | exec/s | cov | ft | corpus | crashes |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.target} | {r.executions:,} ({r.runs_asked:,}) | {r.seconds:,.0f} "
            f"| {r.exec_per_second:,} | {r.cov:,} | {r.ft:,} | {r.corpus:,} | {r.crashes} |"
        )
    return "\n".join(lines) + "\n"


def write(results: list[Result]) -> None:
    RESULTS_JSON.write_text(json.dumps([asdict(r) for r in results], indent=2) + "\n")
    RESULTS_MD.write_text(markdown(results))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fuzz.deep")
    parser.add_argument("targets", nargs="*", default=list(TARGETS))
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--max-time", type=int, default=None)
    parser.add_argument("--markdown-only", action="store_true", help="rewrite RESULTS.md")
    args = parser.parse_args(argv)
    if args.markdown_only:
        loaded = json.loads(RESULTS_JSON.read_text())
        write([Result(**r) for r in loaded])
        return 0
    unknown = set(args.targets) - set(TARGETS)
    if unknown:
        parser.error(f"unknown targets: {sorted(unknown)}")
    with ThreadPoolExecutor(args.jobs) as pool:
        results = list(pool.map(lambda t: run(t, args.runs, args.max_time), args.targets))
    previous = {r["target"]: r for r in json.loads(RESULTS_JSON.read_text())} if (
        RESULTS_JSON.exists()
    ) else {}  # fmt: skip
    merged = {**{t: Result(**r) for t, r in previous.items()}, **{r.target: r for r in results}}
    write([merged[t] for t in TARGETS if t in merged])
    return 1 if any(r.crashes or r.exit_code for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
