"""The simulator's scenario files (``.json`` and ``.toml``) through
``email_fsm.sim.scenario.load_scenario``.

The oracles: only :class:`~email_fsm.sim.scenario.ScenarioError` escapes (the file is
always readable here, so ``OSError`` cannot); an accepted scenario round-trips: its JSON
dump validates to a scenario with the same dump.

A scenario names policies and a router by import path, which the loader imports and
calls: the harness lets it resolve only names in ``email_fsm.policies`` and
``email_fsm.sim`` (others are refused as an unknown module is), so that a mutated path
cannot run arbitrary code.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import email_fsm.sim.scenario as sim_scenario
from email_fsm.sim.scenario import Scenario, ScenarioError, load_scenario
from fuzz.common import assert_clear, header, main

_resolve = sim_scenario.resolve
ALLOWED = ("email_fsm.policies", "email_fsm.sim")


def _guarded_resolve(path: str) -> Any:
    module = path.partition(":")[0]
    if module not in ALLOWED:
        raise ValueError(f"cannot import {module}")
    return _resolve(path)


sim_scenario.resolve = _guarded_resolve

DIRECTORY = Path(tempfile.mkdtemp(prefix="fuzz-sim-scenario-"))
FILES = [DIRECTORY / "scenario.json", DIRECTORY / "scenario.toml"]


def test_one_input(data: bytes) -> None:
    """Input: 1 choice (a ``.json`` or a ``.toml`` file), then the file's bytes."""
    choices, payload = header(data, 1)
    path = FILES[choices[0] % len(FILES)]
    path.write_bytes(payload)
    try:
        scenario = load_scenario(path)
    except ScenarioError as error:
        assert_clear(error, prefixes=("invalid scenario:\n  ",))
        return
    dump = scenario.model_dump_json()
    again = Scenario.model_validate(json.loads(dump))
    assert again.model_dump_json() == dump, (dump, again.model_dump_json())


if __name__ == "__main__":
    main("sim_scenario", test_one_input)
    sys.exit(0)
