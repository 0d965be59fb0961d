"""Replay scenario files through ``email_fsm.scenario.load_scenario``.

The oracles: only :class:`~email_fsm.scenario.ScenarioError` escapes, with a message on
one line; an accepted scenario round-trips: its document (``scenario_document``) loads
to the same steps and configuration, and a second round trip gives the same JSON text.
"""

from __future__ import annotations

import json
import sys

from pydantic import JsonValue

from email_fsm.scenario import Scenario, ScenarioError, load_scenario, scenario_document
from fuzz.common import assert_clear, forms, main


def test_one_input(data: bytes) -> None:
    """Input: the file's bytes, read as bytes and (when UTF-8) as text."""
    for text in forms(data):
        _one(text)


def _one(text: str | bytes) -> None:
    try:
        scenario = load_scenario(text)
    except ScenarioError as error:
        assert_clear(error)
        return
    # Loading fills in base_url from config.baseUrl (documented): one round trip
    # reaches the fixed point, which a second one must keep.
    again = load_scenario(json.dumps(_document(scenario)))
    assert again.steps == scenario.steps or _has_nan(again), (scenario, again)
    assert again.config == scenario.config, (scenario.config, again.config)
    assert again.effective_config() == scenario.effective_config()
    written = json.dumps(_document(again))
    rewritten = json.dumps(_document(load_scenario(written)))
    assert rewritten == written, (written, rewritten)


def _document(scenario: Scenario) -> dict[str, JsonValue]:
    return scenario_document(scenario.steps, base_url=scenario.base_url, config=scenario.config)


def _has_nan(scenario: Scenario) -> bool:
    """NaN is not equal to itself: steps holding one compare unequal to themselves."""
    text = json.dumps(_document(scenario))
    return "NaN" in text


if __name__ == "__main__":
    main("scenario", test_one_input)
    sys.exit(0)
