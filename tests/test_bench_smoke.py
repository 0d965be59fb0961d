"""A smoke run of the benchmarks (tiny counts, no timing checks), so that they cannot rot.

The machines must agree: every contender takes the same steps to the same phases, and
refuses the same step. Every ratio is paired: per repeat, over the base's time of the same
repeat. The committed RESULTS.md must be what the report code writes from the committed
results.json.
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import pytest

from benchmarks.__main__ import main
from benchmarks.contenders import COMMENT, CONTENDERS, FIRST, QUEUE, SECOND
from benchmarks.importtime import CLOCKS, COMMANDS, measure, ratios
from benchmarks.report import CONTRACT_KINDS, contract, markdown, paired
from benchmarks.suite import transfer_notifications

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"

# Arrive, Offer, Accept, AddComment, Transfer (to another agent), Accept (by that agent),
# Complete (the lifecycle of an inbound email); then a whole lifecycle.
EXPECTED_PHASES = [
    "Queued",
    "Invited",
    "Processing",
    "Processing",
    "Invited",
    "Processing",
    "Completed",
    "Completed",
]


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bench")
    assert main(["--quick", "--out", str(out)]) == 0
    return out


def _results(directory: Path) -> dict[str, Any]:
    results: dict[str, Any] = json.loads((directory / "results.json").read_text())
    return results


def test_every_contender_takes_the_steps_to_the_same_phases(smoke: Path) -> None:
    phases = _results(smoke)["phases"]
    assert set(phases) == {cls.key for cls in CONTENDERS}
    for key, seen in phases.items():
        assert seen == EXPECTED_PHASES, key


@pytest.mark.parametrize("cls", CONTENDERS, ids=lambda cls: cls.key)
def test_every_contender_refuses_a_step_by_someone_else(cls: type[Any]) -> None:
    contender = cls()
    assert contender.arrive("E1", QUEUE)
    assert contender.offer("E1", FIRST)
    assert not contender.accept("E1", SECOND)
    assert contender.phase("E1") == "Invited"
    assert contender.accept("E1", FIRST)
    assert not contender.add_comment("E1", SECOND, COMMENT)
    assert not contender.transfer("E1", FIRST, FIRST)  # not to oneself
    assert not contender.complete("E1", SECOND)
    assert contender.phase("E1") == "Processing"
    assert contender.complete("E1", FIRST)
    assert contender.phase("E1") == "Completed"


def test_the_smoke_run_writes_the_report_and_the_plot(smoke: Path) -> None:
    results = _results(smoke)
    text = (smoke / "RESULTS.md").read_text()
    assert text == markdown(results)
    for item, _target, _measured, _met in contract(results):
        assert item in text
    assert (smoke / "scale.png").read_bytes().startswith(b"\x89PNG")
    for scale in results["scale"].values():
        assert scale["points"]
    assert results["import"]["repeats"] == 2
    assert "## Import time" in text
    assert "`import email_fsm`" in text


def test_both_ways_of_making_commands_are_measured(smoke: Path) -> None:
    results = _results(smoke)
    for key in ("email_fsm", "email_fsm_built", "limit", "limit_built"):
        assert set(results["steps"][key]) == {*CONTRACT_KINDS, "Arrive", "Offer"}, key
    items = [item for item, _target, _measured, _met in contract(results)]
    assert any(item.endswith("commands prepared beforehand") for item in items)
    assert any(item.endswith("commands built in the loop") for item in items)


def test_the_ratios_are_paired_by_repeat(smoke: Path) -> None:
    assert paired([2.0, 10.0, 100.0], [1.0, 100.0, 10.0]) == [2.0, 0.1, 10.0]
    results = copy.deepcopy(_results(smoke))
    # Per repeat email_fsm over the limit is 2, 0.1 and 10: the median of the ratios is 2,
    # the ratio of the medians 1.
    for times in results["steps"].values():
        for kind in times:
            times[kind] = [1.0, 1.0, 1.0]
    for kind in CONTRACT_KINDS:
        results["steps"]["email_fsm"][kind] = [2.0, 10.0, 100.0]
        results["steps"]["limit"][kind] = [1.0, 100.0, 10.0]
    measured = contract(results)[0][2]
    assert measured.startswith("2.00\u00d7 at worst"), measured
    assert "(0.10\u201310.00)" in measured, measured


def test_the_boundary_is_in_the_run_and_the_report(smoke: Path) -> None:
    results = _results(smoke)
    operations = results["boundary"]["operations"]
    assert set(operations) == {"AddComment", "Transfer"}
    for entry in operations.values():
        assert entry["ratios"] == paired(entry["boundary_ns"], entry["decide_ns"])
    text = (smoke / "RESULTS.md").read_text()
    assert "## The request boundary against decide" in text


def test_the_eviction_is_in_the_run_and_the_report(smoke: Path) -> None:
    results = _results(smoke)
    runs = results["eviction"]["runs"]
    assert {(r["lifecycles"], r["evict"]) for r in runs} == {
        (n, evict) for n in (10, 100) for evict in (True, False)
    }
    assert all(r["emails_held"] == 0 for r in runs if r["evict"])
    text = (smoke / "RESULTS.md").read_text()
    assert "## Memory of a store, with and without eviction" in text


@pytest.mark.parametrize("section", ["boundary", "eviction"])
def test_an_only_run_replaces_that_section_alone(tmp_path: Path, section: str) -> None:
    committed = _results(BENCHMARKS)
    (tmp_path / "results.json").write_text(json.dumps(committed))
    assert main(["--quick", "--only", section, "--out", str(tmp_path)]) == 0
    results = _results(tmp_path)
    assert results[section] != committed.get(section)
    assert {key: value for key, value in results.items() if key != section} == {
        key: value for key, value in committed.items() if key != section
    }
    assert (tmp_path / "RESULTS.md").read_text() == markdown(results)


def test_the_import_time_is_measured_in_fresh_processes() -> None:
    logged: list[str] = []
    section = measure(2, log=logged.append)
    assert logged == ["import: repeat 1/2"]
    assert section["repeats"] == 2
    assert section["commands"] == {
        "pass": "pass",
        "pydantic": "import pydantic",
        "email_fsm": "import email_fsm",
    }
    for clock in CLOCKS:
        assert set(section[clock]) == set(COMMANDS)
        for key, values in section[clock].items():
            assert len(values) == 2, (clock, key)
            assert all(math.isfinite(value) and value > 0 for value in values), (clock, key)
        for startup in (False, True):
            found = ratios(section, clock, startup=startup)
            assert len(found) == 2
            assert all(math.isfinite(value) for value in found)
    json.dumps(section)  # JSON-able, as results.json needs


def test_the_import_ratios_are_per_repeat_with_and_without_the_start_up() -> None:
    section = {
        "cpu_ns": {"pass": [10.0, 20.0], "pydantic": [30.0, 40.0], "email_fsm": [50.0, 80.0]},
        "wall_ns": {"pass": [1.0, 1.0], "pydantic": [3.0, 5.0], "email_fsm": [4.0, 9.0]},
    }
    assert ratios(section) == [2.0, 3.0]
    assert ratios(section, startup=True) == [50 / 30, 2.0]
    assert ratios(section, "wall_ns") == [1.5, 2.0]
    assert ratios(section, "wall_ns", startup=True) == [4 / 3, 9 / 5]


def test_the_import_only_run_replaces_that_section_alone(tmp_path: Path) -> None:
    committed = _results(BENCHMARKS)
    (tmp_path / "results.json").write_text(json.dumps(committed))
    assert main(["--quick", "--import-only", "--out", str(tmp_path)]) == 0
    results = _results(tmp_path)
    assert results["import"]["repeats"] == 2
    assert {key: value for key, value in results.items() if key != "import"} == {
        key: value for key, value in committed.items() if key != "import"
    }
    assert (tmp_path / "RESULTS.md").read_text() == markdown(results)
    assert not (tmp_path / "scale.png").exists()


def test_the_committed_results_are_what_the_report_writes() -> None:
    results = _results(BENCHMARKS)
    assert (BENCHMARKS / "RESULTS.md").read_text() == markdown(results)
    assert (BENCHMARKS / "scale.png").is_file()


def test_the_rendered_notifications_are_the_models_json() -> None:
    notifications = transfer_notifications()
    assert len(notifications) == 2
    for notification in notifications:
        text = notification.to_json()
        model = notification.to_model()
        assert text == model.model_dump_json(by_alias=True, exclude_unset=True)
        assert json.loads(text) == notification.to_dict()


def test_the_peers_and_the_lifecycle_are_judged_both_ways(smoke: Path) -> None:
    results = copy.deepcopy(_results(smoke))
    for times in results["steps"].values():
        for kind in times:
            times[kind] = [1.0, 1.0, 1.0]
    steps = results["steps"]
    # Prepared: the shared transitions Machine is 5x email_fsm's time; built in the loop,
    # only 3x email_fsm_built's (building the command costs email_fsm more).
    for kind in CONTRACT_KINDS:
        steps["email_fsm_built"][kind] = [2.0, 2.0, 2.0]
        steps["transitions_shared"][kind] = [5.0, 5.0, 6.0]
    # A lifecycle: the limit takes 0.8 of email_fsm's time prepared, 0.4 of the built one.
    steps["limit"]["Lifecycle"] = [0.8, 0.8, 0.8]
    steps["limit_built"]["Lifecycle"] = [0.8, 0.8, 0.8]
    rows = {item: (measured, met) for item, _target, measured, met in contract(results)}
    shared = "faster than transitions, one shared Machine"
    assert rows[f"{shared}, commands prepared beforehand"][1] is True
    assert rows[f"{shared}, commands prepared beforehand"][0].startswith("5.0\u00d7")
    assert rows[f"{shared}, commands built in the loop"][1] is False
    assert rows[f"{shared}, commands built in the loop"][0].startswith("2.5\u00d7")
    lifecycle = "full lifecycles per second vs the hand-written frozen-dataclass limit"
    assert rows[f"{lifecycle}, commands prepared beforehand"][0].startswith("0.80\u00d7")
    assert rows[f"{lifecycle}, commands prepared beforehand"][1] is True
    assert rows[f"{lifecycle}, commands built in the loop"][0].startswith("0.40\u00d7")
    assert rows[f"{lifecycle}, commands built in the loop"][1] is False
