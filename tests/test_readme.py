"""The README's Python examples run, and its commands are the Makefile's."""

from __future__ import annotations

import doctest
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_readme_examples_run() -> None:
    result = doctest.testfile(
        str(ROOT / "README.md"), module_relative=False, optionflags=doctest.ELLIPSIS
    )
    assert result.attempted >= 15
    assert result.failed == 0


def test_readme_commands_exist_in_the_makefile_and_ci() -> None:
    readme = (ROOT / "README.md").read_text()
    makefile = (ROOT / "Makefile").read_text()
    for target in ("demo", "test"):
        assert f"make {target}" in readme
        assert re.search(rf"^{target}:", makefile, re.MULTILINE)
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_ci_runs_every_test_on_python_3_11_and_3_13() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    makefile = (ROOT / "Makefile").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "set -euo pipefail" in ci
    assert "export EMAIL_FSM_NO_SKIPS=1" in ci
    assert re.search(r"^make test PYTHON=", ci, re.MULTILINE)
    assert re.search(r"^make test-3\.13\b", ci, re.MULTILINE)
    assert re.search(r"^test-3\.13\b.*:", makefile, re.MULTILINE)
    assert "make test-3.13" in readme
    assert "EMAIL_FSM_NO_SKIPS=1" in readme


def test_make_demo_installs_the_runtime_dependencies_only() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^demo: \$\(RUNTIME_STAMP\)$", makefile, re.MULTILINE)
    runtime = re.search(r"^\$\(RUNTIME_STAMP\):.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert runtime is not None
    assert "-e .\n" in runtime.group(1)
    assert "[dev]" not in runtime.group(1)
