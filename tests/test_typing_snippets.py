"""Static typing proof: mypy --strict accepts correct use of the API and rejects the
mistakes users make, at the lines and with the errors written in the snippets.

Each snippet in ``tests/typing_snippets/`` marks the lines that must fail with a
comment ``# error: [code] start of the message``. One mypy run checks them all; the
test asserts that the errors mypy reports are exactly the marked ones. The snippets are
excluded from the project's own ``mypy`` and ``ruff`` runs (pyproject.toml).
"""

from __future__ import annotations

import re
from pathlib import Path

from mypy import api

ROOT = Path(__file__).resolve().parent.parent
SNIPPETS = sorted((ROOT / "tests" / "typing_snippets").glob("*.py"))
MARK = re.compile(r"# error: \[([\w-]+)\] (.+)$")
REPORTED = re.compile(
    r"^(?P<file>[^:]+):(?P<line>\d+): error: (?P<message>.+?)  \[(?P<code>[\w-]+)\]$"
)


def expected_errors() -> set[tuple[str, int, str, str]]:
    found = set()
    for path in SNIPPETS:
        for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
            mark = MARK.search(line)
            if mark:
                found.add((path.name, number, mark.group(1), mark.group(2)))
    return found


def test_mypy_fails_exactly_the_wrong_snippets() -> None:
    stdout, stderr, status = api.run(
        [
            "--strict",
            "--config-file=",  # the project's settings exclude the snippets
            "--cache-dir",
            str(ROOT / ".mypy_cache" / "typing-snippets"),
            "--no-pretty",
            "--show-error-codes",
            "--hide-error-context",
            *map(str, SNIPPETS),
        ]
    )
    assert status == 1, stderr
    reported = [REPORTED.match(line) for line in stdout.splitlines() if ": error: " in line]
    assert all(reported), stdout
    got = {(Path(m["file"]).name, int(m["line"]), m["code"], m["message"]) for m in reported if m}
    expected = expected_errors()
    assert {(f, n, c) for f, n, c, _ in got} == {(f, n, c) for f, n, c, _ in expected}
    for file, line, code, start in expected:
        message = next(m for f, n, c, m in got if (f, n, c) == (file, line, code))
        assert message.startswith(start), (file, line, message)
    assert "correct_usage.py" not in {f for f, _, _, _ in got}
    assert {f for f, _, _, _ in expected} == {p.name for p in SNIPPETS} - {"correct_usage.py"}
