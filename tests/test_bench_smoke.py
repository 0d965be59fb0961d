"""A smoke run of the benchmarks (tiny counts, no timing checks), so that they cannot rot.

The machines must agree: every contender takes the same steps to the same phases, and
refuses the same step. The committed RESULTS.md must be what the report code writes
from the committed results.json.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from benchmarks.__main__ import main
from benchmarks.contenders import COMMENT, CONTENDERS, FIRST, QUEUE, SECOND
from benchmarks.report import contract, markdown
from benchmarks.suite import transfer_notifications

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"

# Arrive, Offer, Accept, AddComment, Transfer (to another agent), Accept (by that agent),
# Complete (SPEC.md: the lifecycle of an inbound email); then a whole lifecycle.
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
