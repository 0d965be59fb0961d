"""docs/cli.md shows what the command line does: its examples run, and print what the
page shows.

Each line of a ``console`` block that starts with ``$ `` is a command, run by a shell in a
fresh folder that holds the page's example ``scenario.json``; the lines after it, up to
the next command, are what it prints (standard output, then standard error). As in a
doctest with ELLIPSIS, ``...`` stands for any text, so that the page may show the first
lines of a long output, or elide its middle. A command the page shows without output must
print nothing and succeed.
"""

from __future__ import annotations

import doctest
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from email_fsm import requests as requests_module
from email_fsm import scenario as scenario_module
from email_fsm.scenario import load_scenario

PAGE = Path(__file__).resolve().parents[1] / "docs" / "cli.md"
TEXT = PAGE.read_text("utf-8")
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
BIN = Path(sys.executable).parent
"""Where the console script of this install is."""


def blocks(language: str) -> list[str]:
    return [code for lang, code in FENCE.findall(TEXT) if lang == language]


def examples() -> list[tuple[str, str]]:
    """The page's (command, output shown) pairs, in order."""
    found: list[tuple[str, str]] = []
    for block in blocks("console"):
        for part in re.split(r"^\$ ", block, flags=re.MULTILINE)[1:]:
            command, _, output = part.partition("\n")
            found.append((command, output))
    return found


def scenario_example() -> str:
    """The page's example scenario: its first ``json`` block."""
    return blocks("json")[0]


def needs_dot(command: str) -> bool:
    return bool(re.search(r"--format (svg|png)|\| dot ", command))


EXAMPLES = examples()


@pytest.mark.parametrize(
    ("command", "shown"),
    [
        pytest.param(c, o, marks=pytest.mark.needs("dot")) if needs_dot(c) else (c, o)
        for c, o in EXAMPLES
    ],
    ids=[c for c, _ in EXAMPLES],
)
def test_example_prints_what_the_page_shows(command: str, shown: str, tmp_path: Path) -> None:
    (tmp_path / "scenario.json").write_text(scenario_example(), "utf-8")
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run(
        ["bash", "-c", command],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    printed = result.stdout + result.stderr
    if not shown:
        assert (result.returncode, printed) == (0, ""), command
    checker = doctest.OutputChecker()
    assert checker.check_output(shown, printed, doctest.ELLIPSIS), (
        f"docs/cli.md: `{command}` prints:\n{printed}\nbut the page shows:\n{shown}"
    )


def test_the_page_shows_every_command() -> None:
    commands = [command for command, _ in EXAMPLES]
    for start in (
        "email-fsm --version",
        "email-fsm demo",
        "email-fsm demo --json",
        "email-fsm replay scenario.json",
        "email-fsm replay missing.json",
        "email-fsm diagram",
        "email-fsm diagram -o missing/",
        "email-fsm frobnicate",
    ):
        assert any(command.startswith(start) for command in commands), start


def test_the_example_scenario_is_a_scenario() -> None:
    text = scenario_example()
    assert len(load_scenario(text).steps) == len(json.loads(text)["steps"])
    # The page calls it by the name the examples use.
    before = TEXT[: TEXT.index(text)]
    paragraph = before[: before.rindex("```")].rstrip().rsplit("\n\n", 1)[-1]
    assert "`scenario.json`" in paragraph


def _keys(model: type) -> set[str]:
    fields = model.model_fields  # type: ignore[attr-defined]
    return {field.alias or name for name, field in fields.items()}


def test_the_page_names_every_key_a_scenario_file_may_have() -> None:
    # The loader's own models (private to email_fsm.scenario and email_fsm.requests, which
    # shares the system steps' with the system-event parser) are the format.
    keys = {"baseUrl", "steps"}
    for model in (
        requests_module._ArriveStep,
        requests_module._ArriveEmail,
        requests_module._OfferStep,
        requests_module._RevokeStep,
        scenario_module._AgentStep,
    ):
        keys |= _keys(model)
    section = TEXT[TEXT.index("### Scenario files") : TEXT.index("### What replay prints")]
    missing = sorted(key for key in keys if f"`{key}`" not in section)
    assert missing == []
    for event in ("Arrive", "Offer", "Revoke"):
        assert f'`{{"event": "{event}", ...}}`' in section
