"""A brief run of every coverage-guided fuzzing harness (``fuzz/``), for CI.

Each target runs as ``python -m fuzz.<target> -runs=N`` from its seed corpus, into a
scratch directory: it must exit 0 (no oracle failed, no exception escaped) having
executed all ``N`` inputs, the seeds among them, and reached some coverage of the
instrumented package. Two targets run at a time; ``make fuzz-deep`` runs them long.
"""

from __future__ import annotations

import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from fuzz.deep import TARGETS

ROOT = Path(__file__).resolve().parent.parent
CORPORA = ROOT / "fuzz" / "corpus"
RUNS = 3000


@dataclass(frozen=True)
class Run:
    code: int
    log: str
    seeds: int
    artifacts: list[str]

    def stat(self, name: str) -> int:
        found = re.findall(rf"stat::{name}:\s+(\d+)", self.log)
        assert found, f"no {name} in the output:\n{self.log[-2000:]}"
        return int(found[-1])


def _run(target: str, scratch: Path) -> Run:
    work = scratch / target
    (work / "corpus").mkdir(parents=True)
    command = [
        sys.executable, "-m", f"fuzz.{target}", f"-runs={RUNS}", "-seed=1",
        "-print_final_stats=1", f"-artifact_prefix={work}/",
        str(work / "corpus"), str(CORPORA / target),
    ]  # fmt: skip
    done = subprocess.run(
        command,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    seeds = re.findall(rf"(\d+) files found in {re.escape(str(CORPORA / target))}", done.stderr)
    return Run(
        code=done.returncode,
        log=done.stderr,
        seeds=int(seeds[0]) if seeds else -1,
        artifacts=sorted(p.name for p in work.glob("crash-*")),
    )


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    scratch = tmp_path_factory.mktemp("fuzz")
    with ThreadPoolExecutor(2) as pool:
        return dict(zip(TARGETS, pool.map(lambda t: _run(t, scratch), TARGETS), strict=True))


def test_every_harness_module_has_a_seed_corpus() -> None:
    modules = {p.stem for p in (ROOT / "fuzz").glob("*.py")} - {"__init__", "common", "deep"}
    assert modules - {"seeds"} == set(TARGETS)
    for target in TARGETS:
        seeds = list((CORPORA / target).iterdir())
        assert 1 <= len(seeds) <= 40, (target, len(seeds))
        assert all(seed.stat().st_size <= 4096 for seed in seeds), target


@pytest.mark.parametrize("target", TARGETS)
def test_a_brief_run_finds_nothing(runs: dict[str, Run], target: str) -> None:
    run = runs[target]
    assert run.artifacts == [], run.log[-3000:]
    assert run.code == 0, run.log[-3000:]
    assert run.seeds == len(list((CORPORA / target).iterdir())), run.log[-3000:]
    assert run.stat("number_of_executed_units") == RUNS
    covered = re.findall(r"\bcov: (\d+)", run.log)
    assert covered, run.log[-3000:]
    assert int(covered[-1]) > 0
