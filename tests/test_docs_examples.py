"""The examples in the documentation pages run, like the docstrings' doctests.

A page's Python examples are ``pycon`` doctests (``>>>`` prompts and the output they
print). Every page of ``docs/`` with a Python example is run here, except the pages whose
examples are copies of files that other tests run and check the copies of.
"""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"

PAGES = [
    "index.md",
    "lifecycle.md",
    "notifications.md",
    "persistence.md",
    "policies.md",
    "quickstart.md",
    "server.md",
    "simulation.md",
    "store.md",
]
NEEDS_DOT = {"lifecycle.md"}  # draws an image with Graphviz
RUN_ELSEWHERE = {
    # Its examples are regions of email_fsm/testing/examples.py and of tests/ files:
    # tests/test_example_vip.py runs them and checks the page against them.
    "testing.md",
    # Its examples are sections of examples/ files that tests/test_example_loops.py runs,
    # and checks the page includes.
    "embedding.md",
}

FENCE = re.compile(r"^[ \t]*```(\w*)\n(.*?)^[ \t]*```", re.MULTILINE | re.DOTALL)
PYTHON = {"python", "py", "pycon", "python3"}


@pytest.mark.parametrize(
    "page",
    [pytest.param(p, marks=pytest.mark.needs("dot")) if p in NEEDS_DOT else p for p in PAGES],
)
def test_page_examples(page: str) -> None:
    result = doctest.testfile(str(DOCS / page), module_relative=False, verbose=False)
    assert result.attempted > 0
    assert result.failed == 0


def test_every_python_example_of_a_page_is_run() -> None:
    for path in sorted(DOCS.glob("*.md")):
        blocks = [
            code for language, code in FENCE.findall(path.read_text("utf-8")) if language in PYTHON
        ]
        if not blocks or path.name in RUN_ELSEWHERE:
            continue
        assert path.name in PAGES, f"docs/{path.name} has Python examples no test runs"
        for code in blocks:
            # doctest runs only what follows a prompt: a plain block would never run.
            assert code.lstrip().startswith(">>> "), f"docs/{path.name}: not a doctest:\n{code}"
