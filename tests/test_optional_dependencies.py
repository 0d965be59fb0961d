"""Importing the library loads no drawing library: ``transitions`` and ``graphviz`` are
imported only when a diagram is drawn.

Each check runs in a fresh interpreter, whose ``sys.modules`` no other test has filled.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DRAWING = ("transitions", "graphviz")


def _loaded_after(code: str) -> set[str]:
    """The drawing libraries in ``sys.modules`` after running ``code`` in a fresh
    interpreter."""
    probe = (
        f"{code}\n"
        "import json, sys\n"
        f"print(json.dumps([name for name in {DRAWING!r} if name in sys.modules]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.splitlines()[-1]))


@pytest.mark.parametrize(
    "module", ["email_fsm", "email_fsm.cli", "email_fsm.diagrams", "email_fsm.diagrams.cli"]
)
def test_importing_loads_no_drawing_library(module: str) -> None:
    assert _loaded_after(f"import {module}") == set()


def test_the_reference_tables_load_no_drawing_library() -> None:
    code = (
        "import io\n"
        "from email_fsm.cli import main\n"
        "out = io.StringIO()\n"
        "assert main(['diagram', '--format', 'md'], out) == 0\n"
        "assert out.getvalue().startswith('## Operations')\n"
    )
    assert _loaded_after(code) == set()


_MAIN = "import io\nfrom email_fsm.cli import main\n"


@pytest.mark.parametrize(
    ("code", "loaded"),
    [
        ("import email_fsm.diagrams.render", {"transitions"}),
        ("from email_fsm.diagrams import mermaid", {"transitions"}),
        (_MAIN + "main(['diagram', '--format', 'mermaid'], io.StringIO())", {"transitions"}),
        (_MAIN + "main(['diagram', '--format', 'dot'], io.StringIO())", set(DRAWING)),
    ],
)
def test_drawing_loads_them(code: str, loaded: set[str]) -> None:
    # The probe sees the libraries once they are used: the checks above can fail.
    # (transitions imports graphviz, where installed, for its Mermaid backend too.)
    assert loaded <= _loaded_after(code)
